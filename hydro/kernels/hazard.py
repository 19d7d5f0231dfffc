"""Hazard classes of waterlogging points (depth x duration matrix), a score and a ranking.

Default matrix (GB 50014: a lane is waterlogged when deeper than 0.15 m; this city counts ponding
of 30 minutes or more). Depth bins are open below and closed above (a depth equal to an edge stays
in the lower bin: "deeper than"); duration bins are closed below (a duration equal to an edge
moves up: "30 minutes or more"): depth bin = number of depth edges strictly below the depth,
duration bin = number of duration edges at or below the duration.

    depth \\ time above threshold   <30 min  30-60 min  60-120 min  >=120 min
    <= 0.15 m                           0         0          0          0
    0.15-0.30 m                         0         1          2          3
    0.30-0.50 m                         0         2          3          4
    > 0.50 m                            0         3          4          4

Class 0: not waterlogged; 1 low; 2 moderate; 3 high; 4 severe. Class -1: unknown (NaN input).
Score: ``weights[class] * volume`` (default weights 0, 1, 2, 4, 8: each class counts double the one
below, so volume ranks points within a class and the class decides between very different points).
"""

from __future__ import annotations

import numba
import numpy as np

from hydro.kernels._common import KernelArgumentError, output

DEPTH_EDGES = (0.15, 0.30, 0.50)  # m
DURATION_EDGES = (1800.0, 3600.0, 7200.0)  # s: 30, 60, 120 minutes
CLASSES = ((0, 0, 0, 0), (0, 1, 2, 3), (0, 2, 3, 4), (0, 3, 4, 4))
CLASS_NAMES = ("none", "low", "moderate", "high", "severe")
CLASS_WEIGHTS = (0.0, 1.0, 2.0, 4.0, 8.0)


def hazard_class(
    max_depth,
    duration,
    *,
    depth_edges=DEPTH_EDGES,
    duration_edges=DURATION_EDGES,
    classes=CLASSES,
    out=None,
) -> np.ndarray:
    """Hazard class per element from its maximum depth and its time above the depth threshold.

    max_depth : (...) [m]; duration : same shape [s] (e.g. PondingStats.max_depth, .duration).
    depth_edges : (D,) increasing [m]; duration_edges : (E,) increasing [s].
    classes : (D + 1, E + 1) integers 0..127; row = depth bin, column = duration bin.
    out : optional int8 array of the same shape.
    Returns int8, classes[depth_bin, duration_bin], with
      depth_bin = #{edges < depth}, duration_bin = #{edges <= duration}; -1 where an input is NaN.
    """
    depth = np.asarray(max_depth, dtype=np.float64)
    dur = np.asarray(duration, dtype=np.float64)
    if depth.shape != dur.shape:
        raise KernelArgumentError(
            f"max_depth {depth.shape} and duration {dur.shape} must have one shape"
        )
    d_edges, t_edges, matrix = check_matrix(depth_edges, duration_edges, classes)
    result = output(out, depth.shape, np.int8, "hazard class")
    _hazard_class_kernel(
        np.ascontiguousarray(depth).reshape(-1),
        np.ascontiguousarray(dur).reshape(-1),
        d_edges,
        t_edges,
        matrix,
        result.reshape(-1),
    )
    return result


def hazard_score(classes, volume, *, weights=CLASS_WEIGHTS, out=None) -> np.ndarray:
    """Score per element: ``weights[class] * volume``, float64; NaN for class -1 or NaN volume.

    classes : (...) int, from :func:`hazard_class`; volume : same shape [m3] (e.g. flood volume).
    weights : one non-negative weight per class (default 0, 1, 2, 4, 8).
    """
    cls = np.asarray(classes)
    vol = np.asarray(volume, dtype=np.float64)
    if cls.shape != vol.shape:
        raise KernelArgumentError(f"classes {cls.shape} and volume {vol.shape} must have one shape")
    w = check_weights(weights)
    if cls.size and cls.max() >= w.size:
        raise KernelArgumentError(f"class {cls.max()} has no weight: {w.size} weights given")
    result = output(out, vol.shape, np.float64, "hazard score")
    _hazard_score_kernel(
        np.ascontiguousarray(cls, dtype=np.int64).reshape(-1),
        np.ascontiguousarray(vol).reshape(-1),
        w,
        result.reshape(-1),
    )
    return result


def rank_order(score, *, descending: bool = True) -> np.ndarray:
    """Element indices sorted by score along the last axis, stable, NaN last.

    score : (..., N) float. Returns int64 of the same shape; ``order[..., 0]`` is the worst element
    when descending (the default). Equal scores keep their element order.
    """
    values = np.ascontiguousarray(score, dtype=np.float64)
    if values.ndim == 0:
        raise KernelArgumentError("score must have at least one dimension (element)")
    flat = values.reshape(int(np.prod(values.shape[:-1])), values.shape[-1])
    order = np.empty(flat.shape, dtype=np.int64)
    _rank_kernel(flat, descending, order)
    return order.reshape(values.shape)


def check_matrix(depth_edges, duration_edges, classes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges (float64) and the class matrix (int8) of :func:`hazard_class`, checked;
    raises KernelArgumentError. Pure numpy: a rule is checked without loading a kernel."""
    d_edges = _edges(depth_edges, "depth_edges")
    t_edges = _edges(duration_edges, "duration_edges")
    matrix = np.asarray(classes)
    if matrix.shape != (d_edges.size + 1, t_edges.size + 1):
        raise KernelArgumentError(
            f"the hazard class matrix must be {d_edges.size + 1} x "
            f"{t_edges.size + 1} (depth bins x duration bins), got {matrix.shape}"
        )
    if not np.issubdtype(matrix.dtype, np.integer) or matrix.min() < 0 or matrix.max() > 127:
        raise KernelArgumentError("hazard classes must be integers from 0 to 127")
    return d_edges, t_edges, matrix.astype(np.int8)


def check_weights(weights) -> np.ndarray:
    """The class weights of :func:`hazard_score` as float64, checked (pure numpy)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise KernelArgumentError(
            f"class weights must be a list of non-negative numbers, got {weights!r}"
        )
    return w


def _edges(edges, name: str) -> np.ndarray:
    arr = np.asarray(edges, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise KernelArgumentError(f"{name} must be a list of increasing numbers, got {edges!r}")
    return arr


@numba.njit(cache=True)
def _hazard_class_kernel(depth, duration, depth_edges, duration_edges, classes, out):
    """out[e] = classes[#(depth_edges < depth[e]), #(duration_edges <= duration[e])]; -1 for NaN."""
    for e in range(depth.size):
        d = depth[e]
        t = duration[e]
        if d != d or t != t:
            out[e] = -1
            continue
        row = 0
        while row < depth_edges.size and depth_edges[row] < d:
            row += 1
        col = 0
        while col < duration_edges.size and duration_edges[col] <= t:
            col += 1
        out[e] = classes[row, col]


@numba.njit(cache=True)
def _hazard_score_kernel(classes, volume, weights, out):
    """out[e] = weights[classes[e]] * volume[e]; NaN for a negative (unknown) class."""
    for e in range(volume.size):
        c = classes[e]
        out[e] = weights[c] * volume[e] if c >= 0 else np.nan


@numba.njit(cache=True)
def _rank_kernel(score, descending, order):
    """order[r] = stable argsort of score[r] (descending if asked), NaN last."""
    for r in range(score.shape[0]):
        key = -score[r] if descending else score[r].copy()
        order[r] = np.argsort(key, kind="mergesort")
