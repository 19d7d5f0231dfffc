"""The surface run: the time loop around the kernel, forcing, outputs and the mass balance.

:func:`simulate` takes a :class:`Surface` (ground, roughness, the cells that hold water, the first
depths), a :class:`Forcing` (rain, infiltration, inflow hydrographs, boundaries) and
:class:`Options`, and steps :func:`hydro.flood.kernels.step` with the CFL-limited time step of
:func:`hydro.flood.kernels.time_step`, cut so that every output time and every change of the rain falls on a step's
end. It returns the depth and velocity frames, the per-cell statistics and the volumes of the
mass balance (:class:`SurfaceRun`); :mod:`hydro.flood.dataset` turns them into a Dataset.

Forcing, as the case file describes it:
- rain: a step series of intensities [m/s], each holding from its time until the next (the last
  one until the end), falling on every cell that holds water (not on blocked buildings);
- infiltration: a constant capacity rate per cell [m/s] taken from the water on the cell, up to a
  total depth per cell [m] (the soil's storage; infinite by default); never more than is there;
- inflows: hydrographs [m3/s] linear between their points, zero outside them, spread evenly over
  the cells of a point or a line;
- boundaries per side: closed, open (free outflow with a given water-surface slope) or a level.
"""

from __future__ import annotations

import contextlib
import math
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np

from hydro.flood import kernels as k
from hydro.flood.grid import Grid


@dataclass(frozen=True, eq=False)
class Surface:
    """What the ground is: level [m] (NaN outside), Manning's n per cell, active cells, h0 [m]."""

    dem: Grid
    manning: np.ndarray
    active: np.ndarray
    initial_depth: np.ndarray

    @property
    def ground(self) -> np.ndarray:
        return np.where(self.active, np.nan_to_num(self.dem.values), 0.0)


@dataclass(frozen=True, eq=False)
class Inflow:
    """A hydrograph spread over cells: times [s] and flows [m3/s], linear between points."""

    name: str
    cells: np.ndarray  # (k, 2) int64 (row, column)
    times: np.ndarray
    flows: np.ndarray

    def rate(self, t: float) -> float:
        return float(np.interp(t, self.times, self.flows, left=0.0, right=0.0))


@dataclass(frozen=True, eq=False)
class Forcing:
    rain_times: np.ndarray = field(default_factory=lambda: np.zeros(1))  # [s]
    rain_rates: np.ndarray = field(default_factory=lambda: np.zeros(1))  # [m/s]
    infiltration: np.ndarray | float = 0.0  # [m/s]
    infiltration_capacity: np.ndarray | float = math.inf  # [m]
    inflows: tuple[Inflow, ...] = ()
    boundary_kind: tuple[int, int, int, int] = (k.CLOSED,) * 4  # north, south, west, east
    boundary_value: tuple[float, float, float, float] = (0.0,) * 4

    def rain(self, t: float) -> float:
        i = int(np.searchsorted(self.rain_times, t, side="right")) - 1
        return float(self.rain_rates[i]) if i >= 0 else 0.0


@dataclass(frozen=True)
class Options:
    duration: float  # s
    output_every: float  # s
    theta: float = 0.7  # de Almeida et al. (2012): 0.7 damps without smearing fronts
    cfl: float = 0.9  # share of the linear stability limit (kernels.time_step)
    max_step: float = 5.0  # s, longest step when the surface is (nearly) dry
    min_depth: float = 0.001  # m, faces shallower than this carry no flow
    arrival_depth: float = 0.01  # m, time of arrival: first time deeper than this
    duration_depth: float = 0.15  # m, time above: GB 50014's waterlogging depth in one lane
    threads: int | None = None  # numba threads; None: 1 below PARALLEL_CELLS cells, else all


# Below this many cells a step takes microseconds and waking a second thread at every one of its
# four parallel loops costs more than it saves (on a busy machine, ~20x more: measured 10.9 s
# against 0.45 s for 1,000 cells and 2,240 steps).
PARALLEL_CELLS = 250_000


@dataclass(frozen=True, eq=False)
class SurfaceRun:
    times: np.ndarray  # (T,) s, output times
    depth: np.ndarray  # (T, ny, nx) float32 m
    velocity: np.ndarray  # (T, ny, nx) float32 m/s, magnitude at cell centres
    stats: np.ndarray  # (N_STATS, ny, nx) float64, see hydro.flood.kernels
    volumes: dict[str, float]  # mass balance terms [m3] and the relative error [1]
    steps: int
    wall_seconds: float


def simulate(
    surface: Surface,
    forcing: Forcing,
    options: Options,
    *,
    kernel=k.step,
    progress: Callable[[float], None] | None = None,
) -> SurfaceRun:
    """Run the surface for ``options.duration`` seconds; see the module's docstring.

    ``kernel`` is :func:`hydro.flood.kernels.step` or its reference twin (same contract);
    ``progress`` is called with the fraction of the duration done at every output time.
    """
    model = SurfaceModel(surface, forcing, options, kernel=kernel)
    with model.threads():
        model.advance(options.duration, progress=progress)
    return model.result()


class SurfaceModel:
    """The surface's state between steps: advance it to a time, exchange water at cells.

    ``advance(t)`` steps the kernel until ``t`` (a step never crosses an output time, a change of
    the rain or a hydrograph point, nor ``t``), recording outputs and the mass balance terms;
    ``exchange(cells, volumes)`` adds (or, negative, takes) volumes at cells at once, as the
    coupling with a drainage network does between two of its steps.
    """

    def __init__(self, surface: Surface, forcing: Forcing, options: Options, *, kernel=k.step):
        self.surface, self.forcing, self.options, self.kernel = surface, forcing, options, kernel
        self.start_clock = _time.perf_counter()
        grid = surface.dem
        ny, nx = grid.shape
        self.area = grid.dx * grid.dy
        self.active = np.ascontiguousarray(surface.active, dtype=np.bool_)
        self.z = np.ascontiguousarray(surface.ground)
        self.h = np.ascontiguousarray(
            np.where(self.active, surface.initial_depth, 0.0), dtype=np.float64
        )
        n = np.where(self.active, surface.manning, 0.0)
        self.n2 = np.ascontiguousarray(n**2)
        self.n2x, self.n2y = k.face_friction(n, self.active)
        self.qx, self.qx_new = np.zeros((ny, nx + 1)), np.zeros((ny, nx + 1))
        self.qy, self.qy_new = np.zeros((ny + 1, nx)), np.zeros((ny + 1, nx))
        self.infiltration = _per_cell(forcing.infiltration, grid.shape)
        self.capacity = _per_cell(forcing.infiltration_capacity, grid.shape)
        self.source = np.zeros((ny, nx))
        self.infiltrating = bool(np.any(self.infiltration > 0) and np.any(self.capacity > 0))
        self.stats = np.zeros((k.N_STATS, ny, nx))
        self.stats[k.MAX_DEPTH] = self.h
        self.stats[k.ARRIVAL] = np.where(self.h > options.arrival_depth, 0.0, np.nan)
        self.row_volumes = np.zeros((ny, 2))
        self.row_hmax = np.zeros(ny)
        self.factor = np.ones((ny, nx))
        self.bc_kind = np.asarray(forcing.boundary_kind, dtype=np.int64)
        self.bc_value = np.asarray(forcing.boundary_value, dtype=np.float64)
        self.level_head = _boundary_head(self.z, self.active, self.bc_kind, self.bc_value)
        self.n_active = int(self.active.sum())
        self.out_times = _output_times(options.duration, options.output_every)
        breaks = np.unique(
            np.concatenate(
                [self.out_times, forcing.rain_times, *[f.times for f in forcing.inflows]]
            )
        )
        self.breaks = breaks[(breaks > 0) & (breaks <= options.duration)]
        self.frames_h = np.zeros((self.out_times.size, ny, nx), dtype=np.float32)
        self.frames_v = np.zeros((self.out_times.size, ny, nx), dtype=np.float32)
        self.frames_h[0] = self.h
        self.volume0 = float(self.h.sum()) * self.area
        self.totals = dict.fromkeys(
            ("rain", "inflow", "boundary_out", "boundary_in", "exchange_in", "exchange_out"), 0.0
        )
        self.t, self.steps, self.next_out, self.b = 0.0, 0, 1, 0
        self.hmax = float(self.h.max(initial=0.0))

    def threads(self):
        """A context in which numba uses the number of threads that pays for this grid."""
        threads = self.options.threads or (
            1 if self.h.size < PARALLEL_CELLS else numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        )
        return _numba_threads(threads)

    def exchange(self, cells: np.ndarray, volumes: np.ndarray) -> None:
        """Add ``volumes`` [m3] (negative: take) at ``cells`` (k, 2); taking more than a cell
        holds is a bug of the caller (the coupling limits what it drains to what is there)."""
        flat = cells[:, 0] * self.h.shape[1] + cells[:, 1]
        unique, where = np.unique(flat, return_inverse=True)
        h = self.h.reshape(-1)
        depth = h[unique] + np.bincount(where, weights=volumes / self.area)
        if np.any(depth < -1e-9) or not self.active.reshape(-1)[unique].all():
            raise ValueError("an exchange took more water than a cell holds, or used a dead cell")
        h[unique] = np.maximum(depth, 0.0)
        self.totals["exchange_in"] += float(volumes[volumes > 0].sum())
        self.totals["exchange_out"] -= float(volumes[volumes < 0].sum())
        self.hmax = max(self.hmax, float(depth.max(initial=0.0)))

    def advance(self, until: float, *, progress: Callable[[float], None] | None = None) -> None:
        """Step until time ``until`` [s] (at most the duration)."""
        o = self.options
        until = min(until, o.duration)
        while self.t < until * (1 - 1e-12):
            while self.b < self.breaks.size and self.breaks[self.b] <= self.t * (1 + 1e-12):
                self.b += 1
            dt = k.time_step(
                max(self.hmax, self.level_head),
                dx=self.surface.dem.dx,
                dy=self.surface.dem.dy,
                theta=o.theta,
                cfl=o.cfl,
                max_step=o.max_step,
            )
            stop = min(until, float(self.breaks[self.b]))
            t_end = self.t + dt
            if t_end >= stop * (1 - 1e-12):  # land exactly on the next output / forcing change
                t_end = stop
                dt = t_end - self.t
            self._step(dt, t_end)
            if self.next_out < self.out_times.size and self.t >= self.out_times[self.next_out] * (
                1 - 1e-12
            ):
                self.frames_h[self.next_out] = self.h
                self.frames_v[self.next_out] = centre_speed(
                    self.h, self.qx, self.qy, min_depth=o.min_depth
                )
                self.next_out += 1
                if progress is not None:
                    progress(self.t / o.duration)

    def _step(self, dt: float, t_end: float) -> None:
        o, f, grid = self.options, self.forcing, self.surface.dem
        rain = f.rain(self.t)
        inflow_rate = _fill_sources(self.source, f.inflows, self.t + 0.5 * dt, self.area)
        vo, vi = self.kernel(
            self.z,
            self.h,
            self.qx,
            self.qy,
            self.qx_new,
            self.qy_new,
            n2x=self.n2x,
            n2y=self.n2y,
            n2=self.n2,
            active=self.active,
            sources=bool(f.inflows),
            infiltrating=self.infiltrating,
            source=self.source,
            infiltration=self.infiltration,
            capacity=self.capacity,
            stats=self.stats,
            row_volumes=self.row_volumes,
            row_hmax=self.row_hmax,
            factor=self.factor,
            bc_kind=self.bc_kind,
            bc_value=self.bc_value,
            dt=dt,
            t_end=t_end,
            dx=grid.dx,
            dy=grid.dy,
            rain=rain,
            theta=o.theta,
            min_depth=o.min_depth,
            arrival_depth=o.arrival_depth,
            duration_depth=o.duration_depth,
        )
        self.qx, self.qx_new, self.qy, self.qy_new = self.qx_new, self.qx, self.qy_new, self.qy
        self.totals["boundary_out"] += vo
        self.totals["boundary_in"] += vi
        self.totals["rain"] += rain * dt * self.area * self.n_active
        self.totals["inflow"] += inflow_rate * dt
        self.t = t_end
        self.steps += 1
        self.hmax = float(self.row_hmax.max(initial=0.0))

    def volume(self) -> float:
        """Water on the surface now [m3]."""
        return float(self.h.sum()) * self.area

    def result(self) -> SurfaceRun:
        tt = self.totals
        volumes = mass_balance(
            volume0=self.volume0,
            volume_end=self.volume(),
            rain=tt["rain"],
            inflow=tt["inflow"],
            boundary_in=tt["boundary_in"],
            boundary_out=tt["boundary_out"],
            infiltration=float(self.row_volumes[:, k.VOL_INFILTRATION].sum()),
            clipped=float(self.row_volumes[:, k.VOL_CLIPPED].sum()),
            exchange_in=tt["exchange_in"],
            exchange_out=tt["exchange_out"],
        )
        return SurfaceRun(
            self.out_times,
            self.frames_h,
            self.frames_v,
            self.stats,
            volumes,
            self.steps,
            _time.perf_counter() - self.start_clock,
        )


@contextlib.contextmanager
def _numba_threads(n: int):
    before = numba.get_num_threads()
    # numba.config sets its options at import (globals().update), unseen by a type checker
    limit = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(n, limit)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def mass_balance(
    *,
    volume0,
    volume_end,
    rain,
    inflow,
    boundary_in,
    boundary_out,
    infiltration,
    clipped,
    exchange_in=0.0,
    exchange_out=0.0,
) -> dict[str, float]:
    """Volumes [m3] and the relative error: (in - out - storage change) / (initial + in).

    ``exchange_in`` / ``exchange_out`` are what a coupled drainage network put on the surface
    (overflow at its nodes) and took from it (drainage into its inlets).

    ``clipped`` is water created when round-off took a depth below zero; it is reported, not added
    to the inputs, so that it shows up in the error.
    """
    inputs = rain + inflow + boundary_in + exchange_in
    error = volume0 + inputs - infiltration - boundary_out - exchange_out - volume_end
    scale = volume0 + inputs
    return {
        "initial_volume": volume0,
        "final_volume": volume_end,
        "rain_volume": rain,
        "inflow_volume": inflow,
        "boundary_inflow_volume": boundary_in,
        "boundary_outflow_volume": boundary_out,
        "infiltration_volume": infiltration,
        "clipped_volume": clipped,
        "overflow_volume": exchange_in,
        "drained_volume": exchange_out,
        "mass_balance_error": error / scale if scale > 0 else 0.0,
    }


def centre_speed(h, qx, qy, *, min_depth: float) -> np.ndarray:
    """Speed [m/s] at cell centres from the mean discharge of opposite faces; 0 below min_depth."""
    qxc = 0.5 * (qx[:, :-1] + qx[:, 1:])
    qyc = 0.5 * (qy[:-1, :] + qy[1:, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(h > min_depth, np.hypot(qxc, qyc) / h, 0.0)


def _output_times(duration: float, every: float) -> np.ndarray:
    n = math.floor(duration / every + 1e-9)
    times = every * np.arange(n + 1, dtype=np.float64)
    if times[-1] < duration:
        times = np.append(times, duration)
    return times


def _per_cell(value, shape) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    return np.ascontiguousarray(np.broadcast_to(arr, shape))


def _fill_sources(source: np.ndarray, inflows, t: float, area: float) -> float:
    """External inflow per cell [m/s] at time t; returns the total inflow [m3/s]."""
    if not inflows:
        return 0.0
    total = 0.0
    for inflow in inflows:
        source[inflow.cells[:, 0], inflow.cells[:, 1]] = 0.0
    for inflow in inflows:
        rate = inflow.rate(t)
        total += rate
        np.add.at(
            source, (inflow.cells[:, 0], inflow.cells[:, 1]), rate / (len(inflow.cells) * area)
        )
    return total


def _boundary_head(z, active, kind, value) -> float:
    """Deepest water a fixed-level side could put on its edge cells (for the CFL step)."""
    edges = ((0, slice(None)), (-1, slice(None)), (slice(None), 0), (slice(None), -1))
    head = 0.0
    for side, cells in enumerate(edges):
        if kind[side] == k.LEVEL and active[cells].any():
            head = max(head, float(value[side] - z[cells][active[cells]].min()))
    return head
