"""1D-2D coupling: the SWMM network and the surface, stepped together, exchanging at manholes.

Per coupled node (a junction of the drainage model standing on a cell of the DEM), the flow
between the network and the surface follows the regimes of Rubinato et al. (2017, "Experimental
calibration and validation of sewer/surface flow exchange equations in steady and unsteady flow
conditions", J. Hydrol. 552, 421-432) with their coefficients, as Itzï uses them (Courty et al.
2017): with H the node's head, eta = z + h the water level on the cell and z its ground (the
manhole's crest), A the manhole's area and W = 2 sqrt(pi A) its rim:

    H > eta                      orifice, out of the network:  Q = C_o A sqrt(2 g (H - eta))
    H < eta, H < z               free weir, into the network:  Q = 2/3 C_w W (eta - z)^1.5 sqrt(2 g)
    H < eta, H >= z, h < A/W     submerged weir:               Q = C_s W (eta - z) sqrt(2 g (eta - z))
    H < eta, H >= z, h >= A/W    orifice, into the network:    Q = C_o A sqrt(2 g (eta - H))

C_o = 0.167, C_w = 0.54, C_s = 0.056. Stabilisers (Itzï's): the new flow is blended with the last
(relaxation 0.8), halved when it changes direction (damping 0.5), and what a cell gives to the
network in one drainage step is limited to the water it holds.

Stepping: the exchange flows set at time t are SWMM's lateral inflows (with opposite sign) over its
next routing step t -> t'; once SWMM has taken that step, the same volumes Q (t' - t) are added to
or taken from the cells, the surface is advanced to t' (its steps cut to land there), and new flows
are computed from the heads and levels at t'. Coupled junctions get a large surcharge depth, so
SWMM never floods them: water above the ground leaves only through the exchange and comes back the
same way, and no water is lost at manholes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hydro.flood.kernels import G
from hydro.flood.solver import SurfaceModel

ORIFICE = 0.167
FREE_WEIR = 0.54
SUBMERGED_WEIR = 0.056
RELAXATION = 0.8
DAMPING = 0.5
MANHOLE_AREA = 1.167  # m2: SWMM's default MIN_SURFAREA (12.566 ft2), Itzï's manhole area
SURCHARGE_DEPTH = 100.0  # m: coupled junctions hold pressure instead of flooding


@dataclass(frozen=True)
class Coefficients:
    orifice: float = ORIFICE
    free_weir: float = FREE_WEIR
    submerged_weir: float = SUBMERGED_WEIR
    relaxation: float = RELAXATION
    damping: float = DAMPING
    manhole_area: float = MANHOLE_AREA


def exchange_flow(head, level, crest, *, c: Coefficients = Coefficients()) -> np.ndarray:
    """Flow from the network onto the surface [m3/s] per node (negative: into the network).

    head, level, crest (k,) [m]: node head H, water level on the cell eta, the cell's ground z.
    """
    head, level, crest = (np.asarray(a, dtype=np.float64) for a in (head, level, crest))
    area = c.manhole_area
    width = 2.0 * math.sqrt(math.pi * area)
    depth = np.maximum(level - crest, 0.0)
    g2 = 2.0 * G
    q = np.zeros_like(head)
    out = head > level
    q[out] = c.orifice * area * np.sqrt(g2 * (head[out] - level[out]))
    into = head < level
    free = into & (head < crest)
    q[free] = -2.0 / 3.0 * c.free_weir * width * depth[free] ** 1.5 * math.sqrt(g2)
    sub = into & (head >= crest) & (depth < area / width)
    q[sub] = -c.submerged_weir * width * depth[sub] * np.sqrt(g2 * depth[sub])
    ori = into & (head >= crest) & (depth >= area / width)
    q[ori] = -c.orifice * area * np.sqrt(g2 * (level[ori] - head[ori]))
    return q


class SurfaceCoupling:
    """The surface side of a coupled run: plugs into :func:`hydro.drainage.swmm.engine.run`.

    nodes: names of the coupled junctions; cells (k, 2): their cells; record_times: when to keep
    the exchange flows (the surface's output times).
    """

    def __init__(
        self,
        surface: SurfaceModel,
        nodes: list[str],
        cells: np.ndarray,
        *,
        coefficients: Coefficients = Coefficients(),
    ):
        self.surface, self.names, self.cells = surface, list(nodes), np.asarray(cells)
        self.c = coefficients
        flat = self.cells[:, 0] * surface.h.shape[1] + self.cells[:, 1]
        self.unique, self.where = np.unique(flat, return_inverse=True)
        k = len(self.names)
        self.q = np.zeros(k)  # m3/s onto the surface, set at the last step's end
        self.overflow = np.zeros(k)  # m3 put on the surface per node
        self.drained = np.zeros(k)  # m3 taken from the surface per node
        times = surface.out_times
        self.record_times = times
        self.flows = np.zeros((times.size, k))
        self.next_record = 1
        self.index: np.ndarray | None = None
        self.limited = 0  # exchange steps the drainage limiter cut
        self.dt_max = 0.0
        self.storage0 = 0.0
        self.totals: dict[str, float] = {}
        self.storage_end = 0.0

    def prepare(self, engine) -> None:
        position = {name: i for i, name in enumerate(engine.nodes)}
        self.index = np.array([position[n] for n in self.names], dtype=np.int64)
        engine.set_surcharge_depth(self.index, SURCHARGE_DEPTH)
        self.dt_max = engine.routing_step

    def step(self, engine, t0: float, t1: float) -> None:
        if t1 == 0.0:
            self.storage0 = engine.storage()
        if t1 > t0:
            volumes = self.q * (t1 - t0)
            self.surface.exchange(self.cells, volumes)
            self.overflow += np.maximum(volumes, 0.0)
            self.drained += np.maximum(-volumes, 0.0)
            with self.surface.threads():
                self.surface.advance(t1)
            while self.next_record < self.record_times.size and t1 >= self.record_times[
                self.next_record
            ] * (1 - 1e-12):
                self.flows[self.next_record] = self.q
                self.next_record += 1
        self.q = self._new_flows(engine.node_head(self.index))
        engine.set_inflow(self.index, -self.q)

    def finish(self, engine) -> None:
        """SWMM's totals and the network's storage after its last step."""
        self.totals = engine.totals()
        self.storage_end = engine.storage()

    def _new_flows(self, head: np.ndarray) -> np.ndarray:
        s = self.surface
        rows, cols = self.cells[:, 0], self.cells[:, 1]
        crest = s.z[rows, cols]
        level = crest + s.h[rows, cols]
        new = exchange_flow(head, level, crest, c=self.c)
        new = self.c.relaxation * new + (1.0 - self.c.relaxation) * self.q
        flipped = (new * self.q) < 0.0
        new[flipped] *= self.c.damping
        # A cell gives at most what it holds over the longest drainage step (shared cells too).
        take = np.bincount(self.where, weights=np.maximum(-new, 0.0) * self.dt_max)
        held = s.h.reshape(-1)[self.unique] * s.area
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(take > held, held / take, 1.0)[self.where]
        cut = (new < 0.0) & (scale < 1.0)
        if cut.any():
            self.limited += 1
            new[cut] *= scale[cut]
        return new
