"""Depth-volume relations of the ground surface at nodes, for models that do not pond.

Where SWMM does not pond (ALLOW_PONDING NO, or a node without a ponded area) water that overflows
a node leaves the model: there is no depth to judge. A user who knows the street around a node can
give its surface relation instead, as a CSV file with one row per point::

    node,volume,depth
    J12,0,0
    J12,150,0.10      # m3 on the surface, m of water in the lane
    J12,600,0.30

Volumes must rise strictly and depths must not fall along each node's rows. The water on the
surface is then the node's ponded volume where the model ponds, and otherwise everything that
overflowed there since the start (SWMM never takes it back): an upper bound on the depth.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hydro.errors import InputError
from hydro.paths import check_readable

SurfaceTables = Mapping[str, tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]]
"""node name -> (volumes [m3], depths [m]), points in increasing volume."""

COLUMNS = ("node", "volume", "depth")


def read_surface_tables(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Surface depth-volume tables from a CSV file with columns node, volume [m3], depth [m]."""
    path = check_readable(path, what="surface table file", kind="table")
    points: dict[str, list[tuple[float, float]]] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise InputError(
                    f"{path}: missing column(s) {', '.join(missing)}; expected "
                    "node,volume,depth (m3, m)"
                )
            for row in reader:
                row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
                node = row["node"]
                where = f"{path}, line {reader.line_num}"
                if not node:
                    raise InputError(f"{where}: empty node name")
                volume = _number(row["volume"], where, "volume")
                points.setdefault(node, []).append((volume, _number(row["depth"], where, "depth")))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected a CSV of node,volume,depth") from None
    tables = {}
    for node, rows in points.items():
        volumes = np.array([v for v, _ in rows])
        depths = np.array([d for _, d in rows])
        check_table(node, volumes, depths, where=str(path))
        tables[node] = (volumes, depths)
    return tables


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{where}: {column} must be a finite number >= 0, got {text!r}")
    return value


def check_table(node: str, volume: np.ndarray, depth: np.ndarray, *, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if volume.shape != depth.shape or volume.ndim != 1 or volume.size < 2:
        raise InputError(
            f"{prefix}surface table of node {node!r} needs at least two (volume, depth) points"
        )
    if not (np.all(np.isfinite(volume)) and np.all(np.isfinite(depth))):
        raise InputError(f"{prefix}surface table of node {node!r} holds a missing value")
    if np.any(np.diff(volume) <= 0) or np.any(np.diff(depth) < 0):
        raise InputError(
            f"{prefix}surface table of node {node!r}: volumes must rise strictly "
            "and depths must not fall"
        )


def table_arrays(tables: SurfaceTables, nodes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(volume, depth) arrays of shape (len(nodes), K), NaN-padded, for volume_to_depth."""
    width = max((len(tables[n][0]) for n in nodes), default=2)
    vol = np.full((len(nodes), width), np.nan)
    depth = np.full((len(nodes), width), np.nan)
    for i, node in enumerate(nodes):
        v = np.asarray(tables[node][0], dtype=np.float64)
        d = np.asarray(tables[node][1], dtype=np.float64)
        check_table(node, v, d)
        vol[i, : v.size] = v
        depth[i, : d.size] = d
    return vol, depth
