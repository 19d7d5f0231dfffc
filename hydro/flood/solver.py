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
    threads = options.threads or (
        1 if surface.dem.values.size < PARALLEL_CELLS else numba.config.NUMBA_NUM_THREADS
    )
    with _numba_threads(threads):
        return _simulate(surface, forcing, options, kernel, progress)


@contextlib.contextmanager
def _numba_threads(n: int):
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _simulate(surface, forcing, options, kernel, progress) -> SurfaceRun:
    start_clock = _time.perf_counter()
    grid = surface.dem
    ny, nx = grid.shape
    dx, dy = grid.dx, grid.dy
    area = dx * dy
    active = np.ascontiguousarray(surface.active, dtype=np.bool_)
    z = np.ascontiguousarray(surface.ground)
    h = np.ascontiguousarray(np.where(active, surface.initial_depth, 0.0), dtype=np.float64)
    n = np.where(active, surface.manning, 0.0)
    n2 = np.ascontiguousarray(n**2)
    n2x, n2y = k.face_friction(n, active)
    qx, qx_new = np.zeros((ny, nx + 1)), np.zeros((ny, nx + 1))
    qy, qy_new = np.zeros((ny + 1, nx)), np.zeros((ny + 1, nx))
    infiltration = _per_cell(forcing.infiltration, grid.shape)
    capacity = _per_cell(forcing.infiltration_capacity, grid.shape)
    source = np.zeros((ny, nx))
    infiltrating = bool(np.any(infiltration > 0) and np.any(capacity > 0))
    stats = np.zeros((k.N_STATS, ny, nx))
    stats[k.MAX_DEPTH] = h
    stats[k.ARRIVAL] = np.where(h > options.arrival_depth, 0.0, np.nan)
    row_volumes = np.zeros((ny, 2))
    row_hmax = np.zeros(ny)
    factor = np.ones((ny, nx))
    bc_kind = np.asarray(forcing.boundary_kind, dtype=np.int64)
    bc_value = np.asarray(forcing.boundary_value, dtype=np.float64)
    level_head = _boundary_head(z, active, bc_kind, bc_value)
    n_active = int(active.sum())

    out_times = _output_times(options.duration, options.output_every)
    breaks = np.unique(
        np.concatenate([out_times, forcing.rain_times, *[f.times for f in forcing.inflows]])
    )
    breaks = breaks[(breaks > 0) & (breaks <= options.duration)]
    frames_h = np.zeros((out_times.size, ny, nx), dtype=np.float32)
    frames_v = np.zeros((out_times.size, ny, nx), dtype=np.float32)
    frames_h[0] = h
    volume0 = float(h.sum()) * area
    rain_volume = inflow_volume = out_volume = in_volume = 0.0
    t, steps, next_out, b = 0.0, 0, 1, 0
    hmax = float(h.max(initial=0.0))
    while next_out < out_times.size:
        while b < breaks.size and breaks[b] <= t * (1 + 1e-12):
            b += 1
        dt = k.time_step(
            max(hmax, level_head),
            dx=dx,
            dy=dy,
            theta=options.theta,
            cfl=options.cfl,
            max_step=options.max_step,
        )
        t_end = t + dt
        if t_end >= breaks[b] * (1 - 1e-12):  # land exactly on the next output / forcing change
            t_end = float(breaks[b])
            dt = t_end - t
        rain = forcing.rain(t)
        inflow_rate = _fill_sources(source, forcing.inflows, t + 0.5 * dt, area)
        vo, vi = kernel(
            z,
            h,
            qx,
            qy,
            qx_new,
            qy_new,
            n2x=n2x,
            n2y=n2y,
            n2=n2,
            active=active,
            sources=bool(forcing.inflows),
            infiltrating=infiltrating,
            source=source,
            infiltration=infiltration,
            capacity=capacity,
            stats=stats,
            row_volumes=row_volumes,
            row_hmax=row_hmax,
            factor=factor,
            bc_kind=bc_kind,
            bc_value=bc_value,
            dt=dt,
            t_end=t_end,
            dx=dx,
            dy=dy,
            rain=rain,
            theta=options.theta,
            min_depth=options.min_depth,
            arrival_depth=options.arrival_depth,
            duration_depth=options.duration_depth,
        )
        qx, qx_new, qy, qy_new = qx_new, qx, qy_new, qy
        out_volume += vo
        in_volume += vi
        rain_volume += rain * dt * area * n_active
        inflow_volume += inflow_rate * dt
        t = t_end
        steps += 1
        hmax = float(row_hmax.max(initial=0.0))
        if t >= out_times[next_out] * (1 - 1e-12):
            frames_h[next_out] = h
            frames_v[next_out] = centre_speed(h, qx, qy, min_depth=options.min_depth)
            next_out += 1
            if progress is not None:
                progress(t / options.duration)
    volumes = mass_balance(
        volume0=volume0,
        volume_end=float(h.sum()) * area,
        rain=rain_volume,
        inflow=inflow_volume,
        boundary_in=in_volume,
        boundary_out=out_volume,
        infiltration=float(row_volumes[:, k.VOL_INFILTRATION].sum()),
        clipped=float(row_volumes[:, k.VOL_CLIPPED].sum()),
    )
    return SurfaceRun(
        out_times, frames_h, frames_v, stats, volumes, steps, _time.perf_counter() - start_clock
    )


def mass_balance(
    *, volume0, volume_end, rain, inflow, boundary_in, boundary_out, infiltration, clipped
) -> dict[str, float]:
    """Volumes [m3] and the relative error: (in - out - storage change) / (initial + in).

    ``clipped`` is water created when round-off took a depth below zero; it is reported, not added
    to the inputs, so that it shows up in the error.
    """
    inputs = rain + inflow + boundary_in
    error = volume0 + inputs - infiltration - boundary_out - volume_end
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
        "mass_balance_error": error / scale if scale > 0 else 0.0,
    }


def centre_speed(h, qx, qy, *, min_depth: float) -> np.ndarray:
    """Speed [m/s] at cell centres from the mean discharge of opposite faces; 0 below min_depth."""
    qxc = 0.5 * (qx[:, :-1] + qx[:, 1:])
    qyc = 0.5 * (qy[:-1, :] + qy[1:, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(h > min_depth, np.hypot(qxc, qyc) / h, 0.0)


def _output_times(duration: float, every: float) -> np.ndarray:
    n = int(math.floor(duration / every + 1e-9))
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
