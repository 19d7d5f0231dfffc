"""Where the drainage model's pieces go: a grid of subcatchments, outlets, and the sewer trees.

The city (and each polder) is covered by square cells; every cell is one subcatchment draining
into one manhole (junction) near its centre. Sewers follow a forest of shortest routes from every
manhole to an outlet (a river outfall or a polder pump station), found by Dijkstra's algorithm
over the four-neighbour grid with a cost that prefers falling ground. Sewers never cross a river
or a polder dyke.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import numpy as np

from hydro.synth import city
from hydro.synth.drainage import plan

REGIONS = (plan.CITY, *city.POLDERS)  # index = region code; polders are dyked, the city is not
CITY_REGION = 0


def region_code(name: str) -> int:
    return [r.name for r in REGIONS].index(name)


# ------------------------------------------------------------------------------------------------
# The grid


@dataclass(frozen=True)
class Cells:
    """Square cells covering the drainage area; arrays have shape (n_cells,)."""

    size: float  # m, edge of a cell
    x: np.ndarray  # m, centre, local coordinates
    y: np.ndarray
    ix: np.ndarray  # column and row in the grid spanning REGIONS
    iy: np.ndarray
    region: np.ndarray  # index into REGIONS

    def __len__(self) -> int:
        return self.x.size


def _bounds() -> tuple[float, float, float, float]:
    return (
        min(r.xmin for r in REGIONS),
        max(r.xmax for r in REGIONS),
        min(r.ymin for r in REGIONS),
        max(r.ymax for r in REGIONS),
    )


def region_of(x, y) -> np.ndarray:
    """Index into REGIONS of each point, -1 outside; a polder wins over the city."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    region = np.full(x.shape, -1)
    for code in range(len(REGIONS) - 1, -1, -1):  # polders, listed last, are tested first
        region[REGIONS[code].contains(x, y) & (region < 0)] = code
    return region


def grid_cells(size: float) -> Cells:
    """Cells of edge ``size`` whose centre lies in a region."""
    xmin, xmax, ymin, ymax = _bounds()
    gx, gy = np.meshgrid(
        np.arange(math.ceil((xmax - xmin) / size)), np.arange(math.ceil((ymax - ymin) / size))
    )
    ix, iy = gx.ravel(), gy.ravel()
    x = xmin + (ix + 0.5) * size
    y = ymin + (iy + 0.5) * size
    region = region_of(x, y)
    keep = region >= 0
    return Cells(size, x[keep], y[keep], ix[keep], iy[keep], region[keep])


def cell_size_for(count: int) -> float:
    """The smallest cell edge whose grid has at most ``count`` cells (bisection)."""
    area = sum(r.area_km2 for r in REGIONS) * 1e6
    guess = math.sqrt(area / count)
    lo, hi = 0.5 * guess, 2.0 * guess
    while len(grid_cells(hi)) > count:
        hi *= 1.5
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if len(grid_cells(mid)) > count:
            lo = mid
        else:
            hi = mid
    return hi


# ------------------------------------------------------------------------------------------------
# Neighbours


def _orientation(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def crosses_polyline(p, q, polyline) -> np.ndarray:
    """Which segments p[i]-q[i] (arrays (m, 2)) properly cross the polyline ((k, 2))."""
    out = np.zeros(len(p), dtype=bool)
    for (ax, ay), (bx, by) in itertools.pairwise(polyline):
        d1 = _orientation(ax, ay, bx, by, p[:, 0], p[:, 1])
        d2 = _orientation(ax, ay, bx, by, q[:, 0], q[:, 1])
        d3 = _orientation(p[:, 0], p[:, 1], q[:, 0], q[:, 1], ax, ay)
        d4 = _orientation(p[:, 0], p[:, 1], q[:, 0], q[:, 1], bx, by)
        out |= (d1 * d2 < 0) & (d3 * d4 < 0)
    return out


def neighbour_pairs(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b) of cells a sewer may join: four-neighbours in the same region, not across a
    river."""
    index = np.full((cells.iy.max() + 2, cells.ix.max() + 2), -1)
    index[cells.iy, cells.ix] = np.arange(len(cells))
    right = index[cells.iy, cells.ix + 1]
    up = index[cells.iy + 1, cells.ix]
    here = np.arange(len(cells))
    a = np.concatenate([here[right >= 0], here[up >= 0]])
    b = np.concatenate([right[right >= 0], up[up >= 0]])
    same = cells.region[a] == cells.region[b]
    a, b = a[same], b[same]
    p = np.column_stack([cells.x[a], cells.y[a]])
    q = np.column_stack([cells.x[b], cells.y[b]])
    dry = np.ones(a.size, dtype=bool)
    for river in city.RIVERS:
        dry &= ~crosses_polyline(p, q, river.xy())
    return a[dry], b[dry]


# ------------------------------------------------------------------------------------------------
# The drainage forest


@dataclass(frozen=True)
class Forest:
    """Each cell's downstream cell (-1 at an outlet), the outlet it drains to, and its route cost."""

    down: np.ndarray
    root: np.ndarray
    cost: np.ndarray


def drainage_forest(cells: Cells, pairs, ground: np.ndarray, sources, offsets=None) -> Forest:
    """Shortest-route forest from ``sources`` (outlet cells) up to every reachable cell.

    Route cost of a sewer from cell u into cell v: its length plus ADVERSE_GROUND_COST per metre
    the ground rises from u to v. ``offsets`` (m, one per source) handicap sources, which moves
    the boundaries between their catchments. Unreached cells keep root -1.
    """
    a, b = pairs
    length = np.hypot(cells.x[a] - cells.x[b], cells.y[a] - cells.y[b])
    # Search runs upstream: from v to u means u drains into v.
    frm = np.concatenate([a, b])
    to = np.concatenate([b, a])
    climb = np.maximum(0.0, ground[frm] - ground[to])
    weight = np.concatenate([length, length]) + plan.ADVERSE_GROUND_COST * climb
    order = np.argsort(frm, kind="stable")
    frm, to, weight = frm[order], to[order], weight[order]
    start = np.searchsorted(frm, np.arange(len(cells) + 1))
    to_list, w_list, start_list = to.tolist(), weight.tolist(), start.tolist()

    n = len(cells)
    cost = [math.inf] * n
    down = [-1] * n
    root = [-1] * n
    offsets = [0.0] * len(sources) if offsets is None else list(offsets)
    heap = []
    fixed = {int(s) for s in sources}
    for s, off in zip(sources, offsets, strict=True):
        cost[s], root[s] = float(off), int(s)
        heap.append((float(off), int(s)))
    heapq.heapify(heap)
    while heap:
        c, v = heapq.heappop(heap)
        if c > cost[v]:
            continue
        for k in range(start_list[v], start_list[v + 1]):
            u = to_list[k]
            nc = c + w_list[k]
            if nc < cost[u] and u not in fixed:
                cost[u], down[u], root[u] = nc, v, root[v]
                heapq.heappush(heap, (nc, u))
    return Forest(np.array(down), np.array(root), np.array(cost))


def balance_catchments(cells: Cells, pairs, ground, sources, targets, area) -> Forest:
    """Forest whose catchments come close to ``targets`` (m², None = free) by tuning offsets."""
    sources = list(sources)
    tuned = [k for k, t in enumerate(targets) if t is not None]
    offsets = np.zeros(len(sources))
    best, best_err = None, math.inf
    for _ in range(60):
        forest = drainage_forest(cells, pairs, ground, sources, offsets - offsets.min())
        got = [area[forest.root == s].sum() for s in sources]
        err = sum(abs(got[k] - targets[k]) / targets[k] for k in tuned)
        if err < best_err:
            best, best_err = forest, err
        if err < 0.01 or not tuned:
            break
        for k in tuned:
            offsets[k] += 0.8 * (got[k] - targets[k]) / math.sqrt(targets[k])
    if best is None:  # every error was NaN: an area or target is not a number
        raise ValueError(f"no drainage forest matches the target areas {targets}")
    return best


# ------------------------------------------------------------------------------------------------
# Outlets on the river


@dataclass(frozen=True)
class Outlet:
    """A cell whose sewer leaves the grid: to a river outfall at ``point`` or a wet well."""

    cell: int
    point: tuple[float, float]  # local m of the outfall or wet well
    river: str
    station: str | None = None  # StationPlan.key for a pump station


def _samples(polyline: np.ndarray, spacing: float):
    """Points every ``spacing`` m along a polyline (from spacing/2), with unit left normals."""
    seg = np.diff(polyline, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    along = np.concatenate([[0.0], np.cumsum(seg_len)])
    for s in np.arange(spacing / 2, along[-1], spacing):
        k = min(int(np.searchsorted(along, s, side="right")) - 1, len(seg) - 1)
        t = seg[k] / seg_len[k]
        point = polyline[k] + t * (s - along[k])
        yield point, np.array([-t[1], t[0]])


def nearest_on_polyline(polyline: np.ndarray, x: float, y: float) -> np.ndarray:
    """The point of ``polyline`` nearest to (x, y)."""
    best, best_d = None, math.inf
    for a, b in itertools.pairwise(polyline):
        ab = b - a
        t = np.clip(((x - a[0]) * ab[0] + (y - a[1]) * ab[1]) / (ab @ ab), 0.0, 1.0)
        p = a + t * ab
        d = math.hypot(p[0] - x, p[1] - y)
        if d < best_d:
            best, best_d = p, d
    if best is None:
        raise ValueError(f"a polyline of {len(polyline)} points has no segment to be near")
    return best


def river(name: str) -> city.River:
    return next(r for r in city.RIVERS if r.name == name)


def river_outlets(cells: Cells, river_name: str, region: int) -> list[Outlet]:
    """Outfalls every OUTFALL_SPACING along both banks of a river, each fed by the nearest cell
    of ``region`` on that bank."""
    line = river(river_name).xy()
    inside = np.flatnonzero(cells.region == region)
    reach = max(cells.size, 250.0)
    outlets, used = [], set()
    for point, normal in _samples(line, plan.OUTFALL_SPACING):
        dx = cells.x[inside] - point[0]
        dy = cells.y[inside] - point[1]
        dist = np.hypot(dx, dy)
        side = dx * normal[0] + dy * normal[1]
        for sign in (1.0, -1.0):
            ok = (side * sign > 0) & (dist < reach)
            if not ok.any():
                continue
            cell = int(inside[ok][np.argmin(dist[ok])])
            if cell in used:
                continue
            used.add(cell)
            at = point + sign * plan.OUTFALL_SETBACK * normal
            outlets.append(Outlet(cell, (float(at[0]), float(at[1])), river_name))
    return outlets


def outlet_for_stranded(cells: Cells, stranded: np.ndarray, river_name: str) -> Outlet:
    """An extra outfall for cells no outlet reaches: from the stranded cell nearest the river."""
    line = river(river_name).xy()
    near = [nearest_on_polyline(line, cells.x[c], cells.y[c]) for c in stranded]
    dist = [
        math.hypot(p[0] - cells.x[c], p[1] - cells.y[c])
        for p, c in zip(near, stranded, strict=True)
    ]
    k = int(np.argmin(dist))
    cell, p = int(stranded[k]), near[k]
    away = np.array([cells.x[cell] - p[0], cells.y[cell] - p[1]])
    away = away / max(np.hypot(*away), 1e-9)
    at = p + plan.OUTFALL_SETBACK * away
    return Outlet(cell, (float(at[0]), float(at[1])), river_name)


def nearest_cell(cells: Cells, x: float, y: float, mask=None) -> int:
    d = np.hypot(cells.x - x, cells.y - y)
    if mask is not None:
        d = np.where(mask, d, np.inf)
    return int(np.argmin(d))


def polyline_samples(polyline, spacing: float) -> list[np.ndarray]:
    return [p for p, _ in _samples(np.asarray(polyline, dtype=float), spacing)]
