"""The Shuiyang and the Wanxi as 1D channels of the drainage model.

Each river of :data:`~hydro.synth.drainage.plan.RIVER_PLANS` becomes a chain of junctions every
RIVER_REACH metres along its course (:mod:`hydro.synth.city`), joined by trapezoidal conduits
between its dykes. The Wanxi ends on the Shuiyang's node at their confluence; the Shuiyang ends
at an outfall at the Xuancheng gauge, whose stage scenarios set. Beds fall at a constant slope;
the river's upstream flow enters at its first node ([INFLOWS]). The city's outlets and the
stations' pumps and sluices discharge into the nearest node of their river, so that the river
level answers to what the city sends into it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from hydro.synth import city
from hydro.synth.drainage import plan


@dataclass(frozen=True)
class RiverChannel:
    """One modelled river: its nodes from upstream to downstream (local metres, SI)."""

    plan: plan.RiverPlan
    nodes: tuple[str, ...]  # junctions, then the Shuiyang's outfall / the confluence node
    x: np.ndarray
    y: np.ndarray
    bed: np.ndarray  # m, bed level under each node
    chainage: np.ndarray  # m along the river's polyline

    @property
    def inflow_node(self) -> str:
        return self.nodes[0]

    def nearest(self, x: float, y: float) -> int:
        """Index of the node nearest to (x, y), the last (shared or boundary) node excluded."""
        d = np.hypot(self.x[:-1] - x, self.y[:-1] - y)
        return int(np.argmin(d))


def _arclength(line: np.ndarray) -> np.ndarray:
    seg = np.hypot(*np.diff(line, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(seg)])


def _chainage_of(line: np.ndarray, x: float, y: float) -> float:
    """Chainage (m) of the point of the polyline nearest to (x, y)."""
    along = _arclength(line)
    best, best_d = 0.0, math.inf
    for k, (a, b) in enumerate(itertools.pairwise(line)):
        ab = b - a
        t = float(np.clip(((x - a[0]) * ab[0] + (y - a[1]) * ab[1]) / (ab @ ab), 0.0, 1.0))
        d = math.hypot(a[0] + t * ab[0] - x, a[1] + t * ab[1] - y)
        if d < best_d:
            best, best_d = along[k] + t * (along[k + 1] - along[k]), d
    return best


def _points(line: np.ndarray, chainage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    along = _arclength(line)
    return np.interp(chainage, along, line[:, 0]), np.interp(chainage, along, line[:, 1])


def _stations(a: float, b: float) -> np.ndarray:
    """Chainages from a to b in equal steps of about RIVER_REACH (both ends included)."""
    count = max(1, math.ceil((b - a) / plan.RIVER_REACH - 1e-9))
    return np.linspace(a, b, count + 1)


def river_channels() -> dict[str, RiverChannel]:
    """The modelled rivers by name (Shuiyang first: the Wanxi ends on one of its nodes)."""
    by_name = {p.name: p for p in plan.RIVER_PLANS}
    sy, wx = by_name["shuiyang"], by_name["wanxi"]
    sy_line = next(r for r in city.RIVERS if r.name == "shuiyang").xy()
    wx_line = next(r for r in city.RIVERS if r.name == "wanxi").xy()

    s0, s1 = _chainage_of(sy_line, *sy.start), _chainage_of(sy_line, *sy.end)
    sc = _chainage_of(sy_line, *city.CONFLUENCE)
    chain = np.concatenate([_stations(s0, sc)[:-1], _stations(sc, s1)])
    bed = plan.GAUGE_BED + sy.bed_slope * (s1 - chain)
    names = [f"SY{k + 1:02d}" for k in range(len(chain) - 1)] + ["OF_SY"]
    x, y = _points(sy_line, chain)
    shuiyang = RiverChannel(sy, tuple(names), x, y, bed, chain)
    confluence = int(np.argmin(np.abs(chain - sc)))

    w0, w1 = _chainage_of(wx_line, *wx.start), _chainage_of(wx_line, *city.CONFLUENCE)
    chain = _stations(w0, w1)
    bed = shuiyang.bed[confluence] + plan.TRIBUTARY_STEP + wx.bed_slope * (w1 - chain)
    bed[-1] = shuiyang.bed[confluence]
    x, y = _points(wx_line, chain)
    x[-1], y[-1] = shuiyang.x[confluence], shuiyang.y[confluence]
    names = [f"WX{k + 1:02d}" for k in range(len(chain) - 1)] + [shuiyang.nodes[confluence]]
    wanxi = RiverChannel(wx, tuple(names), x, y, bed, chain)
    return {"shuiyang": shuiyang, "wanxi": wanxi}


def river_tables(rivers: dict[str, RiverChannel]) -> dict[str, list[dict]]:
    """Junction, outfall, conduit and inflow rows of the rivers (SI, local metres)."""
    junctions, outfalls, conduits, inflows = [], [], [], []
    seen: set[str] = set()
    for river in rivers.values():
        p = river.plan
        for k, node in enumerate(river.nodes):
            if node in seen:
                continue
            seen.add(node)
            ground = float(city.ground_elevation(river.x[k], river.y[k]))
            rim = max(plan.DYKE_CREST, ground)
            if node.startswith("OF_"):
                outfalls.append(
                    {
                        "name": node,
                        "x": river.x[k],
                        "y": river.y[k],
                        "invert": float(river.bed[k]),
                        "river": p.name,
                    }
                )
            else:
                junctions.append(
                    {
                        "name": node,
                        "x": river.x[k],
                        "y": river.y[k],
                        "invert": float(river.bed[k]),
                        "max_depth": rim - float(river.bed[k]),
                        "river": p.name,
                    }
                )
        for k in range(len(river.nodes) - 1):
            up, down = river.nodes[k], river.nodes[k + 1]
            bed_down = river.bed[k] - p.bed_slope * (river.chainage[k + 1] - river.chainage[k])
            conduits.append(
                {
                    "name": f"R_{up}",
                    "from_node": up,
                    "to_node": down,
                    "length": float(river.chainage[k + 1] - river.chainage[k]),
                    "roughness": p.roughness,
                    "out_offset": float(bed_down - river.bed[k + 1]),
                    "height": plan.DYKE_CREST - float(river.bed[k]),
                    "width": p.bottom_width,
                    "side_slope": p.side_slope,
                    "river": p.name,
                }
            )
        inflows.append({"node": river.inflow_node, "flow": p.normal_flow, "river": p.name})
    return {"junctions": junctions, "outfalls": outfalls, "conduits": conduits, "inflows": inflows}
