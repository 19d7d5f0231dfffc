"""Service areas of pump stations on the conveyance graph (CSR arrays, iterative BFS in numba).

The conveyance graph has an edge u -> v for every link that carries water from node u to node v.
Its REVERSE (v -> u, built with ``edges_to_csr(..., reverse=True)``) leads from a station's wet well
upstream to every node whose water can reach it. A node belongs to the service area of the nearest
station in number of links along that reversed graph; among equally near stations, the one listed
first wins. Searching from all stations at once never passes a station: water reaching a station is
that station's, even if the station pumps it on towards another one.
"""

from __future__ import annotations

import numba
import numpy as np

from hydro.kernels._common import KernelArgumentError


def edges_to_csr(upstream, downstream, n_nodes: int, *, reverse: bool = False):
    """CSR arrays of a directed graph from its edge list.

    upstream, downstream : (E,) integer node indices 0 .. n_nodes - 1; edge e runs from
        upstream[e] to downstream[e] (the direction water flows).
    reverse : build the reversed graph (edges downstream -> upstream) instead.
    Returns (indptr (n_nodes + 1,) int64, indices (E,) int32, or int64 beyond 2**31 nodes): the
    neighbours of node u are indices[indptr[u]:indptr[u + 1]], in edge-list order.
    """
    u = np.asarray(upstream)
    v = np.asarray(downstream)
    if u.shape != v.shape or u.ndim != 1:
        raise KernelArgumentError(
            f"edge lists must be two 1-D arrays of one length, got {u.shape}, {v.shape}"
        )
    n = int(n_nodes)
    for name, arr in (("upstream", u), ("downstream", v)):
        if arr.size and (
            not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= n
        ):
            raise KernelArgumentError(f"{name} node indices must be integers from 0 to {n - 1}")
    src, dst = (v, u) if reverse else (u, v)
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    index_type = np.int32 if n < 2**31 else np.int64
    return indptr, dst[order].astype(index_type)


def service_areas(indptr, indices, targets, *, out=None) -> np.ndarray:
    """The station each node drains to: position in ``targets`` of the nearest one, or -1.

    indptr, indices : CSR of the REVERSED conveyance graph (downstream -> upstream), N nodes.
    targets : (K,) distinct node indices of the stations' wet wells.
    out : optional (N,) int64.
    Returns (N,) int64: the k of the nearest station targets[k] that the node's water reaches
    (fewest links; ties to the smaller k); -1 where the water reaches no station.
    Breadth-first from all stations at once: O(N + E).
    """
    ptr, idx, tgt = _check_graph(indptr, indices, targets)
    result = _output(out, (ptr.size - 1,), np.int64)
    _service_kernel(ptr, idx, tgt, result)
    return result


def service_membership(indptr, indices, targets, *, through_targets: bool = False) -> np.ndarray:
    """Which stations each node's water can reach: boolean (K, N), one row per station.

    indptr, indices : CSR of the REVERSED conveyance graph; targets : (K,) distinct node indices.
    through_targets : False (default) stops each search at the other stations, as service_areas
        does, so that service_areas(...)[n] == k implies membership[k, n]; True follows water on
        through other stations (station k then also serves what another station pumps to it).
    A station's own node is a member of its row. One BFS per station, stations in parallel.
    """
    ptr, idx, tgt = _check_graph(indptr, indices, targets)
    member = np.zeros((tgt.size, ptr.size - 1), dtype=np.bool_)
    _membership_kernel(ptr, idx, tgt, bool(through_targets), member)
    return member


def _check_graph(indptr, indices, targets):
    ptr = np.asarray(indptr)
    idx = np.asarray(indices)
    tgt = np.asarray(targets)
    if ptr.ndim != 1 or ptr.size < 1 or not np.issubdtype(ptr.dtype, np.integer):
        raise KernelArgumentError("indptr must be a 1-D integer array of N + 1 offsets")
    n = ptr.size - 1
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise KernelArgumentError("indices must be a 1-D integer array")
    if ptr[0] != 0 or ptr[-1] != idx.size or np.any(np.diff(ptr) < 0):
        raise KernelArgumentError("indptr must rise from 0 to len(indices)")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise KernelArgumentError(f"graph neighbour indices must lie in 0 .. {n - 1}")
    if tgt.ndim != 1 or not (np.issubdtype(tgt.dtype, np.integer) or tgt.size == 0):
        raise KernelArgumentError("station targets must be a 1-D list of node indices")
    if tgt.size and (tgt.min() < 0 or tgt.max() >= n):
        raise KernelArgumentError(
            f"station node indices must lie in 0 .. {n - 1}, got {tgt.min()} .. {tgt.max()}"
        )
    uniq, counts = np.unique(tgt, return_counts=True)
    if np.any(counts > 1):
        raise KernelArgumentError(
            f"station node index {uniq[counts > 1][0]} is listed more than once"
        )
    return (
        np.ascontiguousarray(ptr, dtype=np.int64),
        np.ascontiguousarray(idx),
        np.ascontiguousarray(tgt, dtype=np.int64),
    )


def _output(out, shape, dtype):
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype:
        raise KernelArgumentError(f"out must be a {np.dtype(dtype)} array of shape {shape}")
    return out


@numba.njit(cache=True)
def _service_kernel(indptr, indices, targets, label):
    """Multi-source BFS from all targets, queued in target order; a node takes the label of the
    node that discovers it. The queue then holds each level sorted by label (induction: a level
    sorted by label discovers each next node from its smallest-label parent first), so ties between
    equally near stations go to the first listed without any extra bookkeeping."""
    label[:] = -1
    queue = np.empty(indptr.size - 1, dtype=np.int64)
    tail = 0
    for k in range(targets.size):
        label[targets[k]] = k
        queue[tail] = targets[k]
        tail += 1
    head = 0
    while head < tail:
        u = queue[head]
        head += 1
        lab = label[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if label[v] < 0:
                label[v] = lab
                queue[tail] = v
                tail += 1


@numba.njit(parallel=True, cache=True)
def _membership_kernel(indptr, indices, targets, through_targets, member):
    """member[k, v] = v reachable from targets[k] (not through other targets unless asked)."""
    n = indptr.size - 1
    is_target = np.zeros(n, dtype=np.bool_)
    for k in range(targets.size):
        is_target[targets[k]] = True
    for k in numba.prange(targets.size):
        row = member[k]
        queue = np.empty(n, dtype=np.int64)
        start = targets[k]
        row[start] = True
        queue[0] = start
        head = 0
        tail = 1
        while head < tail:
            u = queue[head]
            head += 1
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if not row[v] and (through_targets or not is_target[v]):
                    row[v] = True
                    queue[tail] = v
                    tail += 1
