"""Ponding on the surface per node: depth from ponded volume, and how deep, how long, when.

A road is waterlogged when the water in one lane is deeper than 15 cm (GB 50014); the default depth
threshold is therefore 0.15 m. Depth comes from ponded volume, either through the node's ponded area
(depth = volume / area, :func:`area_table`) or through a depth-volume table of the user's.
Time axis, integration rules and NaN handling: :mod:`hydro.kernels._common`.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from hydro.kernels._common import (
    KernelArgumentError,
    finite_number,
    is_trapezoid,
    output,
    sample_times,
    series,
)
from hydro.kernels._exceedance import exceedance

LANE_DEPTH = 0.15  # m, GB 50014: deeper than this in one lane is waterlogging


class PondingStats(NamedTuple):
    """Per (scenario, node) float64 arrays; spells are stretches with depth > threshold."""

    max_depth: np.ndarray  # [m]
    time_of_max: np.ndarray  # [s] since the start of the run, first time max_depth is reached
    duration: np.ndarray  # [s] total time above threshold
    longest_spell: np.ndarray  # [s] longest continuous time above threshold
    onset: np.ndarray  # [s] start of the first spell; NaN if never above
    end: np.ndarray  # [s] end of the last spell (the last sample if still above); NaN if never


def ponding_stats(
    ponded_depth,
    dt,
    *,
    threshold: float = LANE_DEPTH,
    rule: str = "trapezoid",
    out: PondingStats | None = None,
) -> PondingStats:
    """Ponding statistics per (scenario, node).

    ponded_depth : (S, T, N) float32/float64 [m], NaN = missing sample.
    dt : scalar or (T,) [s], reporting intervals (see :func:`hydro.kernels.intervals`).
    threshold : [m] above means depth > threshold (default 0.15 m).
    rule : "trapezoid" (default: depth is linear between samples, crossings interpolated) or
        "rectangle" (each sample holds over the interval it closes).
    out : optional PondingStats of six (S, N) float64 arrays to fill.

    duration = measure of {t : h(t) > threshold}; longest_spell = the longest connected piece of
    that set; onset / end = its first start / last end. NaN samples are dropped; a node with no
    valid sample gets NaN everywhere, one never above the threshold duration 0 and NaN onset / end.
    """
    depth = series(ponded_depth, "ponded_depth")
    t = sample_times(dt, depth.shape[1])
    thr = finite_number(threshold, "ponding depth threshold", minimum=0.0)
    trap = is_trapezoid(rule)
    fields = dict(
        zip(
            PondingStats._fields,
            ("peak", "time_of_peak", "duration", "longest", "onset", "end"),
            strict=True,
        )
    )
    return PondingStats(*exceedance(depth, t, thr, trap, fields, out))


def area_table(ponded_area) -> tuple[np.ndarray, np.ndarray]:
    """Depth-volume tables for depth = volume / area: volume (N, 2) [m3] and depth (N, 2) [m].

    ponded_area : (N,) [m2]. A node without a positive area gets an empty (NaN) table, so its depth
    is NaN: SWMM does not pond there (flooded water is lost), there is no depth to speak of.
    """
    area = np.asarray(ponded_area, dtype=np.float64)
    if area.ndim != 1:
        raise KernelArgumentError(f"ponded_area must be 1-D (node,), got shape {area.shape}")
    ok = np.isfinite(area) & (area > 0)
    volume = np.full((area.size, 2), np.nan)
    depth = np.full((area.size, 2), np.nan)
    volume[ok, 0], volume[ok, 1] = 0.0, area[ok]
    depth[ok, 0], depth[ok, 1] = 0.0, 1.0
    return volume, depth


def volume_to_depth(volume, table_volume, table_depth, *, out=None) -> np.ndarray:
    """Ponded depth from ponded volume through a piecewise-linear table per node.

    volume : (S, T, N) float32/float64 [m3], NaN = missing.
    table_volume, table_depth : (N, K) [m3], [m]; row n holds node n's points in increasing volume
        (strictly) and non-decreasing depth, at least two points, unused trailing entries NaN.
        A row with fewer than two points means "no table": depth NaN.
    out : optional (S, T, N) array of volume's dtype.
    Returns depth (S, T, N), volume's dtype:
      h = d[k-1] + (V - v[k-1]) * (d[k] - d[k-1]) / (v[k] - v[k-1]) on the segment holding V;
      below the first point h = d[0]; beyond the last point the last segment is extended.
    """
    vol = series(volume, "volume")
    n_node = vol.shape[2]
    tv, td, n_pts = _check_table(table_volume, table_depth, n_node)
    result = output(out, vol.shape, vol.dtype, "depth")
    _volume_to_depth_kernel(vol, tv, td, n_pts, result)
    return result


def _check_table(table_volume, table_depth, n_node: int):
    tv = np.ascontiguousarray(table_volume, dtype=np.float64)
    td = np.ascontiguousarray(table_depth, dtype=np.float64)
    if tv.ndim != 2 or tv.shape != td.shape or tv.shape[0] != n_node:
        raise KernelArgumentError(
            f"depth-volume tables must both be ({n_node}, K), got {tv.shape} and {td.shape}"
        )
    valid = np.isfinite(tv) & np.isfinite(td)
    n_pts = valid.sum(axis=1)
    # Valid points must be the leading ones of a row: NaN only as trailing padding.
    leading = np.arange(tv.shape[1])[None, :] < n_pts[:, None]
    bad = np.flatnonzero((valid != leading).any(axis=1))
    if bad.size:
        raise KernelArgumentError(
            f"depth-volume table of node index {bad[0]}: missing values are only "
            "allowed as trailing padding"
        )
    with np.errstate(invalid="ignore"):
        rising = (np.diff(tv, axis=1) > 0) | ~leading[:, 1:]
        deeper = (np.diff(td, axis=1) >= 0) | ~leading[:, 1:]
    bad = np.flatnonzero(~(rising.all(axis=1) & deeper.all(axis=1)) & (n_pts >= 2))
    if bad.size:
        raise KernelArgumentError(
            f"depth-volume table of node index {bad[0]}: volumes must increase "
            "strictly and depths must not decrease"
        )
    n_pts = np.where(n_pts >= 2, n_pts, 0).astype(np.int64)
    return tv, td, n_pts


@numba.njit(parallel=True, cache=True)
def _volume_to_depth_kernel(volume, table_volume, table_depth, n_points, out):
    """Fill out (S, T, N) with the table depth of each volume; one parallel task per time row."""
    n_scen, n_time, n_node = volume.shape
    for row in numba.prange(n_scen * n_time):
        s = row // n_time
        i = row - s * n_time
        for n in range(n_node):
            v = np.float64(volume[s, i, n])
            k_max = n_points[n]
            if v != v or k_max == 0:
                out[s, i, n] = np.nan
                continue
            if v <= table_volume[n, 0]:
                out[s, i, n] = table_depth[n, 0]
                continue
            k = 1
            while k < k_max - 1 and v > table_volume[n, k]:
                k += 1
            v0 = table_volume[n, k - 1]
            d0 = table_depth[n, k - 1]
            out[s, i, n] = d0 + (v - v0) * (table_depth[n, k] - d0) / (table_volume[n, k] - v0)
