"""Longitudinal profile along a path of nodes: ground, pipe and the water level (HGL).

A supply run draws node elevations (the pipes lie at their nodes' elevation in EPANET) and the
hydraulic grade line; a drainage run draws the ground (rim = invert + full depth), the node
inverts and the water level. Both show the lowest and highest level over the run as a band and
the level at one chosen moment.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import xarray as xr

from hydro.report.maps import _one_network, node_xy
from hydro.report.style import axes_or_new, moment_label

PROFILE_SIZE = (8.0, 4.0)


def profile_path(ds: xr.Dataset, start: str, end: str) -> list[str]:
    """The nodes of the shortest path (by link length, else map distance) from ``start`` to
    ``end``, ignoring flow direction; ValueError when they are not connected."""
    import networkx as nx

    graph = nx.Graph()
    weights = _link_lengths(ds)
    ends = zip(_one_network(ds["from_node"]), _one_network(ds["to_node"]), weights, strict=True)
    for a, b, w in ends:
        graph.add_edge(str(a), str(b), weight=float(w) if np.isfinite(w) else 1.0)
    for name in (start, end):
        if name not in graph:
            raise ValueError(f"node {name!r} is not on any link of the results")
    try:
        return nx.shortest_path(graph, start, end, weight="weight")
    except nx.NetworkXNoPath:
        raise ValueError(f"no path between {start!r} and {end!r}") from None


def downstream_path(ds: xr.Dataset, start: str) -> list[str]:
    """The nodes from ``start`` along the link directions (from_node -> to_node) to the nearest
    node with no way further down (an outfall, or the end of the system); a drainage path."""
    import networkx as nx

    graph = nx.DiGraph()
    ends = zip(
        _one_network(ds["from_node"]), _one_network(ds["to_node"]), _link_lengths(ds), strict=True
    )
    for a, b, w in ends:
        graph.add_edge(str(a), str(b), weight=float(w) if np.isfinite(w) else 1.0)
    if start not in graph:
        raise ValueError(f"node {start!r} is not on any link of the results")
    lengths, paths = nx.single_source_dijkstra(graph, start, weight="weight")
    sinks = [n for n in paths if graph.out_degree(n) == 0]
    if not sinks:
        return [start]
    return paths[min(sinks, key=lengths.__getitem__)]


def longitudinal_profile(
    ds: xr.Dataset,
    path: Sequence[str],
    *,
    at: np.timedelta64 | None = None,
    ax=None,
    title: str = "",
):
    """Profile along ``path`` (node names in order), first scenario.

    at : the moment whose water level is drawn (default: when the level along the path is
        highest for drainage, lowest for supply). Returns the Axes.
    """
    ax = axes_or_new(ax, PROFILE_SIZE)
    index = {str(n): i for i, n in enumerate(ds["node"].values)}
    missing = [n for n in path if n not in index]
    if missing:
        raise ValueError(f"nodes not in the results: {missing[:5]}")
    at_nodes = np.array([index[n] for n in path])
    distance = _distances(ds, list(path))
    head = ds["hydraulic_head"].isel(scenario=0).values[:, at_nodes].astype(np.float64)
    drainage = "invert_elevation" in ds.coords
    if drainage:
        invert = _one_network(ds["invert_elevation"])[at_nodes]
        ground = invert + _one_network(ds["full_depth"])[at_nodes]
        ax.plot(distance, ground, color="saddlebrown", lw=1.5, label="ground (rim)")
        ax.plot(distance, invert, color="0.3", lw=1.5, label="node invert")
        ax.fill_between(distance, invert, ground, color="0.85", label="manhole")
    else:
        ground = _one_network(ds["elevation"])[at_nodes]
        ax.plot(distance, ground, color="saddlebrown", lw=1.5, label="node elevation (pipe)")
    low, high = np.nanmin(head, axis=0), np.nanmax(head, axis=0)
    ax.fill_between(distance, low, high, color="tab:blue", alpha=0.2, label="water level range")
    if at is None:
        mean = np.nanmean(head, axis=1)
        k = int(np.nanargmax(mean) if drainage else np.nanargmin(mean))
    else:
        k = int(np.argmin(np.abs(ds["time"].values - at)))
    name = "water level" if drainage else "hydraulic grade line"
    ax.plot(distance, head[k], color="tab:blue", lw=1.8, label=f"{name} at {moment_label(ds, k)}")
    for d, n in zip(distance, path, strict=True):
        if n in (path[0], path[-1]):
            ax.annotate(
                n,
                (d, ground[path.index(n)]),
                xytext=(0, -14),
                textcoords="offset points",
                ha="center",
                size=8,
            )
    how = "link lengths" if "length" in ds.coords else "straight lines between nodes"
    ax.set_xlabel(f"distance along the path (m, {how})")
    ax.set_ylabel("elevation (m)")
    ax.set_title(title or f"Longitudinal profile {path[0]} → {path[-1]}")
    ax.legend(fontsize="small", loc="best")
    ax.grid(alpha=0.3)
    return ax


def _link_lengths(ds: xr.Dataset) -> np.ndarray:
    if "length" in ds.coords:
        return _one_network(ds["length"]).astype(np.float64)
    from hydro.report.maps import link_segments

    seg = link_segments(ds)
    return np.hypot(*(seg[:, 1] - seg[:, 0]).T)


def _distances(ds: xr.Dataset, path: list[str]) -> np.ndarray:
    """Cumulative distance at each node of the path (link length where known)."""
    lengths: dict[frozenset, float] = {}
    for a, b, w in zip(
        _one_network(ds["from_node"]), _one_network(ds["to_node"]), _link_lengths(ds), strict=True
    ):
        key = frozenset((str(a), str(b)))
        lengths[key] = min(lengths.get(key, np.inf), float(w))
    x, y = node_xy(ds)
    index = {str(n): i for i, n in enumerate(ds["node"].values)}
    steps = [0.0]
    for a, b in itertools.pairwise(path):
        step = lengths.get(frozenset((a, b)))
        if step is None or not np.isfinite(step):
            i, j = index[a], index[b]
            step = float(np.hypot(x[i] - x[j], y[i] - y[j]))
        steps.append(step)
    return np.cumsum(steps)
