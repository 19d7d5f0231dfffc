"""Waterlogging scores per node and the city summary, from a SWMM run Dataset (any ensemble).

For every node of every scenario (arrays shaped (scenario, time, node), one kernel sweep each):

- flooding, as SWMM's Node Flooding Summary counts it: peak rate, total volume, time flooded
  (a node is flooded while water overflows it or stands ponded above it), onset, time from the
  peak until the overflow stops;
- surface water: maximum ponded depth, time deeper than the lane depth (15 cm), the longest such
  spell, when it starts and how long after the deepest moment it is over;
- a hazard class from the depth x duration matrix (:class:`~hydro.scoring.rules.WaterloggingRules`),
  a score (class weight x flood volume) and a rank (1 = worst).

Depth comes from the engine where the model ponds (ALLOW_PONDING YES and a ponded area), from the
user's surface tables (:mod:`hydro.scoring.surface`) where given, and is unknown (NaN, class -1)
elsewhere. The ranking then weighs such a node's flood volume as class 1 ("low"), so that a model
that does not pond is still ranked by the water it loses.

Cross-check: with REPORT_STEP equal to the routing step (fixed steps), time flooded, peak rate,
flood volume and maximum ponded depth equal SWMM's report (tests/test_scoring_crosscheck.py).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydro.drainage.assets import WaterloggingPoint
from hydro.errors import InputError
from hydro.kernels import (
    area_table,
    flooding_stats,
    hazard_class,
    hazard_score,
    ponding_stats,
    rank_order,
    volume_to_depth,
)
from hydro.results import build_dataset
from hydro.scoring._common import (
    index_of,
    label,
    object_strings,
    require,
    scenario_coords,
    score_attrs,
    scores_results,
    static,
    time_steps,
    values,
)
from hydro.scoring.rules import DEFAULT_RULES, WaterloggingRules
from hydro.scoring.surface import SurfaceTables, table_arrays

STN = ("scenario", "time", "node")
WORST = 10  # points listed in the city summary
# Node properties carried from the run onto the scores (for tables and maps).
NODE_COORDS = ("node_type", "x", "y", "invert_elevation", "full_depth", "ponded_area")


@scores_results
def score_waterlogging(
    ds: xr.Dataset,
    *,
    rules: WaterloggingRules = DEFAULT_RULES.waterlogging,
    points: tuple[WaterloggingPoint, ...] = (),
    surface: SurfaceTables | None = None,
    rivers: tuple[str, ...] = (),
) -> xr.Dataset:
    """Waterlogging scores of every node of every scenario: a Dataset on (scenario, node).

    ds : a SWMM run Dataset (hydro.drainage.run or an ensemble of them) with flooding_rate and,
        where the model ponds, ponded_volume / water_depth and the node coordinates.
    points : the named waterlogging points (their names and kinds become node coordinates
        ``point_name`` / ``point_kind``, "" elsewhere, and they are what the city summary counts).
    surface : node -> (volumes [m3], depths [m]) surface relations for nodes that do not pond.
    rivers : the nodes of rivers carried as channels (scored apart from the streets).

    Flood volume, time flooded, peak rate and its time, and the largest ponded depth are SWMM's
    own (its Node Flooding Summary, accumulated over every routing step) wherever the Dataset
    carries them; the reporting-step series give only what the summary lacks: onsets, recessions
    and the time spent deeper than the lane depth.
    """
    require(ds, ("flooding_rate", "node_type"), "waterlogging scoring")
    named = _named_points(ds, points)
    dt = time_steps(ds)
    rate = values(ds, "flooding_rate", STN)
    flood = flooding_stats(rate, dt, rule=rules.rule)
    can_pond = _can_pond(ds)
    duration = _flooded_duration(ds, rate, dt, can_pond, flood.duration, rules.rule)
    known, cols, depth = _surface_depth(ds, rate, dt, can_pond, surface or {}, rules)
    ponding = _ponding(known, cols, depth, dt, rules, rate.shape)
    engine = _engine_flooding(ds, flood, duration, ponding, rules)
    roles = node_roles(ds, rivers)
    street = roles == "street"

    classes = hazard_class(
        engine["max_ponded_depth"],
        ponding["waterlogged_duration"],
        depth_edges=rules.depth_edges,
        duration_edges=rules.duration_edges,
        classes=rules.classes,
    )
    score = hazard_score(classes, engine["flood_volume"], weights=rules.weights)
    rank = np.where(street[None, :], score, np.nan)
    data = {
        "peak_flooding_rate": engine["peak_flooding_rate"],
        "time_of_peak_flooding": engine["time_of_peak_flooding"],
        "flood_volume": engine["flood_volume"],
        "flooded_duration": engine["flooded_duration"],
        "flooding_onset": np.where(
            np.isnan(flood.onset) & (engine["flood_volume"] > 0),
            engine["time_of_peak_flooding"],
            flood.onset,
        ),
        "flooding_recession": flood.time_to_recede,
        **ponding,
        "max_ponded_depth": engine["max_ponded_depth"],
        "hazard_class": classes,
        "hazard_score": score,
        "hazard_rank": _rank(classes, rank, np.where(street, engine["flood_volume"], 0), rules),
        **_at_end(ds, rate, depth, known, cols, rules),
        "unreliable": _unreliable(ds, engine["flood_volume"]),
    }
    attrs = score_attrs(ds, "waterlogging", _rule_attrs(rules, points))
    attrs["flood_statistics_from"] = engine["source"]
    coords = _node_coords(ds, can_pond, named)
    coords["node_role"] = (
        "node",
        object_strings(roles),
        {"long_name": "street (ranked), storage, river or outfall: scored apart"},
    )
    out = build_dataset(data, coords=coords, attrs=attrs)
    _describe(out, rules)
    return out


# SWMM's Node Flooding Summary, as the engine adapter stores it
_ENGINE_STATS = {
    "flood_volume": "engine_flood_volume",
    "flooded_duration": "engine_flooded_duration",
    "peak_flooding_rate": "engine_max_flooding_rate",
    "time_of_peak_flooding": "engine_time_of_max_flooding",
    "max_ponded_depth": "engine_max_ponded_depth",
}
# a node's continuity error above which its scores are unreliable (hydro.drainage.swmm.health)
UNRELIABLE_ERROR = 0.05


def node_roles(ds: xr.Dataset, rivers=()) -> np.ndarray:
    """Each node's role: 'street' (a junction or divider: ranked), 'storage', 'river' (a node of a
    river carried as a channel) or 'outfall'."""
    kinds = static(ds, "node_type").astype(str)
    names = static(ds, "node").astype(str)
    roles = np.where(np.isin(kinds, ("storage", "outfall")), kinds, "street").astype(object)
    roles[np.isin(names, list(rivers)) & (roles == "street")] = "river"
    return roles


def _engine_flooding(
    ds: xr.Dataset, flood, duration, ponding, rules: WaterloggingRules
) -> dict[str, np.ndarray]:
    """Flood statistics per (scenario, node): SWMM's where the Dataset has them (nodes it does not
    list did not flood: 0, times NaN), else from the reporting steps. The largest ponded depth is
    SWMM's only by the default rule (ponded_depth "engine")."""
    series = {
        "flood_volume": flood.volume,
        "flooded_duration": duration,
        "peak_flooding_rate": flood.peak_rate,
        "time_of_peak_flooding": _where_flooded(flood.time_of_peak, flood.peak_rate),
        "max_ponded_depth": ponding["max_ponded_depth"],
    }
    if not all(name in ds for name in _ENGINE_STATS.values()):
        return {**series, "source": "reporting steps"}
    out: dict = {"source": "SWMM's Node Flooding Summary (every routing step)"}
    for key, name in _ENGINE_STATS.items():
        engine = ds[name].transpose("scenario", "node").values.astype(np.float64)
        if key == "time_of_peak_flooding":
            out[key] = engine
        elif key == "max_ponded_depth":
            # NaN stays NaN where the depth is unknown (a node that does not pond)
            known = ~np.isnan(series[key])
            own = np.nan_to_num(engine) if rules.ponded_depth == "engine" else series[key]
            out[key] = np.where(known, own, np.nan)
        else:
            out[key] = np.nan_to_num(engine)
    return out


def _at_end(ds, rate, depth, known, cols, rules: WaterloggingRules) -> dict[str, np.ndarray]:
    """Nodes still flooded (overflowing or ponded) and still waterlogged at the last report."""
    flooded = rate[:, -1, :] > 0
    if "ponded_volume" in ds:
        flooded |= values(ds, "ponded_volume", STN)[:, -1, :] > 0
    waterlogged = np.zeros_like(flooded)
    if depth is not None:
        last = depth[:, -1, :] > rules.lane_depth
        target = cols if cols is not None else slice(None)
        waterlogged[:, target] = last
        waterlogged &= known[None, :]
    return {
        "flooded_at_end": flooded.astype(np.int8),
        "waterlogged_at_end": waterlogged.astype(np.int8),
    }


def _unreliable(ds: xr.Dataset, volume: np.ndarray) -> np.ndarray:
    """1 where the node's own continuity error (SWMM) is beyond UNRELIABLE_ERROR."""
    if "node_continuity_error" not in ds:
        return np.zeros(volume.shape, dtype=np.int8)
    error = ds["node_continuity_error"].transpose("scenario", "node").values
    return (np.abs(np.nan_to_num(error)) > UNRELIABLE_ERROR).astype(np.int8)


def _named_points(ds: xr.Dataset, points) -> dict[str, WaterloggingPoint]:
    named = {p.node: p for p in points}
    unknown = sorted(set(named) - set(map(str, static(ds, "node"))))
    if unknown:
        raise InputError(
            f"{label(ds)}: waterlogging point(s) {', '.join(unknown[:5])} are not "
            "nodes of the model"
        )
    return named


def _node_coords(ds: xr.Dataset, can_pond: np.ndarray, named: dict[str, WaterloggingPoint]) -> dict:
    nodes = static(ds, "node")
    return {
        **scenario_coords(ds),
        "node": ("node", nodes),
        **{name: ("node", static(ds, name)) for name in NODE_COORDS if name in ds.coords},
        "can_pond": (
            "node",
            can_pond.astype(np.int8),
            {"long_name": "1 where SWMM ponds water above the node (ALLOW_PONDING, area > 0)"},
        ),
        "point_name": (
            "node",
            object_strings(named[n].name if n in named else "" for n in map(str, nodes)),
            {"long_name": "name of the waterlogging point at the node ('' if none)"},
        ),
        "point_kind": (
            "node",
            object_strings(named[n].kind if n in named else "" for n in map(str, nodes)),
            {"long_name": "kind of waterlogging point ('' if none)"},
        ),
    }


def _describe(out: xr.Dataset, rules: WaterloggingRules) -> None:
    """What the class, rank and duration mean, in the variables' attrs."""
    out["hazard_class"].attrs.update(
        {
            "flag_values": np.arange(-1, len(rules.class_names), dtype=np.int8),
            "flag_meanings": " ".join(["unknown", *rules.class_names]),
            "comment": "from max_ponded_depth and waterlogged_duration; -1: no surface depth (the "
            "model does not pond there and no surface table was given)",
        }
    )
    out["hazard_rank"].attrs["comment"] = (
        "1 = worst; 0 = did not flood or not a street node (storage units, rivers and outfalls "
        "are scored apart). Ranked by hazard_score; a node of unknown class counts "
        f"its flood volume with the weight of class 1 ({rules.class_name(1)})"
    )
    out["flooded_duration"].attrs["comment"] = (
        "time with overflow > 0 or water ponded above the node, as SWMM's Hours Flooded"
    )


@scores_results
def city_summary(points: xr.Dataset, *, worst: int = WORST) -> xr.Dataset:
    """The city's verdict per scenario, from :func:`score_waterlogging`'s Dataset.

    waterlogged_points: named points (all nodes when none are named) with hazard class >= 1;
    waterlogged_nodes: every street node with class >= 1; flooded_nodes: nodes that overflowed;
    total_flood_volume [m3] (every node: SWMM's Node Flooding Summary total) and
    street_flood_volume (street nodes); unreliable_nodes (flooded, with a continuity error over
    the limit); nodes_flooded_at_end; the ``worst`` street nodes by rank (worst_node,
    worst_score, worst_class).
    """
    classes = points["hazard_class"].transpose("scenario", "node").values
    volume = points["flood_volume"].transpose("scenario", "node").values
    rank = points["hazard_rank"].transpose("scenario", "node").values
    named = points["point_name"].values != ""
    chosen = named if named.any() else np.ones_like(named)
    n_scen = classes.shape[0]
    names = np.full((n_scen, worst), "", dtype=object)
    score = np.full((n_scen, worst), np.nan)
    cls = np.full((n_scen, worst), -1, dtype=np.int8)
    node_names = points["node"].values
    hazard = points["hazard_score"].transpose("scenario", "node").values
    for s in range(n_scen):
        ranked = np.flatnonzero((rank[s] >= 1) & (rank[s] <= worst))
        ranked = ranked[np.argsort(rank[s][ranked])]
        k = ranked.size
        names[s, :k] = [str(n) for n in node_names[ranked]]
        score[s, :k] = hazard[s, ranked]
        cls[s, :k] = classes[s, ranked]
    street = (
        points["node_role"].values == "street"
        if "node_role" in points.coords
        else np.ones(volume.shape[1], dtype=bool)
    )
    data = {
        "waterlogged_points": np.sum((classes >= 1) & chosen, axis=1),
        "waterlogged_nodes": np.sum((classes >= 1) & street, axis=1),
        "flooded_nodes": np.sum(volume > 0, axis=1),
        "total_flood_volume": np.nansum(volume, axis=1),
        "street_flood_volume": np.nansum(np.where(street, volume, 0.0), axis=1),
        "worst_node": names,
        "worst_score": score,
        "worst_class": cls,
    }
    if "unreliable" in points:
        flagged = points["unreliable"].transpose("scenario", "node").values > 0
        data["unreliable_nodes"] = np.sum(flagged & (volume > 0), axis=1)
    if "flooded_at_end" in points:
        data["nodes_flooded_at_end"] = np.sum(
            points["flooded_at_end"].transpose("scenario", "node").values > 0, axis=1
        )
    coords: dict[str, object] = {
        str(name): c for name, c in points.coords.items() if c.dims == ("scenario",)
    }
    coords["worst"] = ("worst", np.arange(1, worst + 1, dtype=np.int32))
    attrs = {**points.attrs, "scores": "waterlogging city summary"}
    out = build_dataset(data, coords=coords, attrs=attrs)
    out["waterlogged_points"].attrs["comment"] = (
        "named waterlogging points" if named.any() else "no named points: every node counts"
    )
    return out


# ------------------------------------------------------------------------------------------------
# Pieces


def _can_pond(ds: xr.Dataset) -> np.ndarray:
    """Nodes SWMM ponds above: ALLOW_PONDING on, a ponded area > 0, a junction or divider.

    An ensemble whose members set ALLOW_PONDING differently loses the attribute when joined;
    then a node counts as ponding if water stood ponded above it in some member (the adapter
    writes ponded volume only where SWMM ponds).
    """
    if "ponded_area" not in ds.coords:
        return np.zeros(ds.sizes["node"], dtype=bool)
    area = np.nan_to_num(static(ds, "ponded_area").astype(np.float64))
    kind = static(ds, "node_type").astype(str)
    possible = (area > 0) & np.isin(kind, ("junction", "divider"))
    if "allow_ponding" in ds.attrs:
        return possible & bool(int(ds.attrs["allow_ponding"]))
    if "ponded_volume" not in ds or not possible.any():
        return np.zeros_like(possible)
    ponded = values(ds, "ponded_volume", STN)[..., possible]
    seen = np.zeros_like(possible)
    seen[possible] = np.nan_to_num(ponded).max(axis=(0, 1)) > 0
    return seen


def _flooded_duration(
    ds: xr.Dataset,
    rate: np.ndarray,
    dt: np.ndarray,
    can_pond: np.ndarray,
    duration: np.ndarray,
    rule: str,
) -> np.ndarray:
    """Time flooded as SWMM counts it: overflow > 0, or (where it ponds) water ponded above.

    Both series are >= 0, so their sum is > 0 exactly when either is: one sweep of the sum over
    the nodes that pond replaces their overflow-only durations.
    """
    idx = np.flatnonzero(can_pond)
    if idx.size == 0 or "ponded_volume" not in ds:
        return duration
    ponded = values(ds, "ponded_volume", STN)
    cols = _subset(idx, rate.shape[2])
    wet = np.maximum(ponded[..., cols] if cols is not None else ponded, 0)
    wet += rate[..., cols] if cols is not None else rate
    swept = flooding_stats(wet, dt, rule=rule).duration
    out = duration.copy()
    out[:, idx] = swept if cols is not None else swept[:, idx]
    return out


def _subset(idx: np.ndarray, n: int) -> np.ndarray | None:
    """``idx`` when it is a small part of the n columns; None (take them all) when gathering
    them would cost more than sweeping the rest too."""
    return idx if idx.size <= n // 2 else None


def _surface_depth(
    ds: xr.Dataset,
    rate: np.ndarray,
    dt: np.ndarray,
    can_pond: np.ndarray,
    surface: SurfaceTables,
    rules: WaterloggingRules,
):
    """Surface depth [m] where it is known: (known (N,) bool, columns (M,) or None for all,
    depth (S, T, M or N)); columns not known hold 0 (the kernels' fast path) and are masked
    afterwards."""
    where = index_of(static(ds, "node"))
    unknown = sorted(set(surface) - set(where))
    if unknown:
        raise InputError(
            f"{label(ds)}: surface tables name node(s) {', '.join(unknown[:5])} "
            "that the model does not have"
        )
    n_node = rate.shape[2]
    tabled = np.array(sorted(where[n] for n in surface), dtype=np.int64)
    known = can_pond.copy()
    known[tabled] = True
    idx = np.flatnonzero(known)
    if idx.size == 0:
        return known, None, None
    cols = _subset(idx, n_node)
    ponds = np.flatnonzero(can_pond & ~np.isin(np.arange(n_node), tabled))
    width = idx.size if cols is not None else n_node
    depth = np.zeros((rate.shape[0], rate.shape[1], width), dtype=np.float32)
    position = np.full(n_node, -1, dtype=np.int64)  # node -> column of `depth`
    position[idx if cols is not None else np.arange(n_node)] = np.arange(width)
    if ponds.size:
        if cols is None:
            _ponded_depth_all(ds, rules.ponded_depth, depth)
            depth[..., ~can_pond] = 0.0
        else:
            depth[..., position[ponds]] = _ponded_depth(ds, ponds, rules.ponded_depth)
    if tabled.size:
        names = [str(n) for n in static(ds, "node")[tabled]]
        vol_table, depth_table = table_arrays(surface, names)
        volume = _surface_volume(ds, rate, dt, can_pond, tabled, rules.rule)
        depth[..., position[tabled]] = volume_to_depth(volume, vol_table, depth_table)
    return known, cols, depth


def _surface_volume(ds, rate, dt, can_pond, idx, rule) -> np.ndarray:
    """Water on the surface [m3] at the tabled nodes: ponded volume where SWMM ponds, else the
    volume overflowed since the start (SWMM never returns it: an upper bound)."""
    lost = rate[..., idx].astype(np.float64) * dt[None, :, None]
    if rule == "trapezoid":
        # trapezoid: each interval holds the mean of its two ends (the series starts from 0)
        prev = np.concatenate([np.zeros_like(lost[:, :1]), rate[:, :-1, idx]], axis=1)
        lost = 0.5 * (lost + prev * dt[None, :, None])
    volume = np.nancumsum(lost, axis=1)
    if "ponded_volume" in ds and can_pond[idx].any():
        pond = values(ds, "ponded_volume", STN)[..., idx]
        volume = np.where(can_pond[idx][None, None, :], pond, volume)
    return volume


def _ponded_depth(ds: xr.Dataset, idx: np.ndarray, how: str) -> np.ndarray:
    """Depth above the rim [m] at nodes SWMM ponds (see WaterloggingRules.ponded_depth)."""
    if how == "engine" and "water_depth" in ds and "full_depth" in ds.coords:
        depth = values(ds, "water_depth", STN)[..., idx]
        rim = static(ds, "full_depth")[idx].astype(depth.dtype)
        return np.maximum(depth - rim[None, None, :], 0)
    require(ds, ("ponded_volume", "ponded_area"), "ponded depth from volume")
    vol_table, depth_table = area_table(static(ds, "ponded_area")[idx])
    return volume_to_depth(values(ds, "ponded_volume", STN)[..., idx], vol_table, depth_table)


def _ponded_depth_all(ds: xr.Dataset, how: str, out: np.ndarray) -> None:
    """_ponded_depth of every node, into ``out`` (S, T, N) float32, without gathering columns."""
    if how == "engine" and "water_depth" in ds and "full_depth" in ds.coords:
        rim = static(ds, "full_depth").astype(np.float32)
        np.subtract(values(ds, "water_depth", STN), rim[None, None, :], out=out)
        np.maximum(out, 0, out=out)
        return
    require(ds, ("ponded_volume", "ponded_area"), "ponded depth from volume")
    vol_table, depth_table = area_table(static(ds, "ponded_area"))
    out[...] = volume_to_depth(values(ds, "ponded_volume", STN), vol_table, depth_table)


def _ponding(known, cols, depth, dt, rules: WaterloggingRules, shape) -> dict[str, np.ndarray]:
    """Ponding statistics of every node (NaN where the depth is unknown)."""
    n_scen, _, n_node = shape
    names = (
        "max_ponded_depth",
        "time_of_max_ponded_depth",
        "waterlogged_duration",
        "longest_waterlogged_spell",
        "waterlogging_onset",
        "waterlogging_recession",
    )
    out = {name: np.full((n_scen, n_node), np.nan) for name in names}
    if depth is None:
        return out
    stats = ponding_stats(depth, dt, threshold=rules.lane_depth, rule=rules.rule)
    # From the deepest moment until the water is last back at or below the lane depth.
    recession = np.where(stats.max_depth > rules.lane_depth, stats.end - stats.time_of_max, np.nan)
    found = {
        "max_ponded_depth": stats.max_depth,
        "time_of_max_ponded_depth": _where_flooded(stats.time_of_max, stats.max_depth),
        "waterlogged_duration": stats.duration,
        "longest_waterlogged_spell": stats.longest_spell,
        "waterlogging_onset": stats.onset,
        "waterlogging_recession": recession,
    }
    target = cols if cols is not None else slice(None)
    for name, value in found.items():
        out[name][:, target] = value
        out[name][:, ~known] = np.nan
    return out


def _where_flooded(time: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """The time of a peak, NaN when the peak is 0 (never flooded: no time to speak of)."""
    return np.where(peak > 0, time, np.nan)


def _rank(
    classes: np.ndarray, score: np.ndarray, volume: np.ndarray, rules: WaterloggingRules
) -> np.ndarray:
    """1 = worst per scenario by score (unknown class: volume x weight of class 1); 0 = dry."""
    fallback = rules.weights[1] if len(rules.weights) > 1 else 1.0
    key = np.where(classes >= 0, score, volume * fallback)
    key = np.where(volume > 0, key, np.nan)
    order = rank_order(key)
    rank = np.zeros(key.shape, dtype=np.int32)
    positions = np.broadcast_to(np.arange(1, key.shape[1] + 1, dtype=np.int32), key.shape)
    np.put_along_axis(rank, order, positions, axis=1)
    return np.where(np.isnan(key), 0, rank).astype(np.int32)


def _rule_attrs(rules: WaterloggingRules, points) -> dict:
    return {
        "lane_depth_m": rules.lane_depth,
        "hazard_depth_edges_m": ", ".join(f"{d:g}" for d in rules.depth_edges),
        "hazard_duration_edges_s": ", ".join(f"{d:g}" for d in rules.duration_edges),
        "hazard_classes": "; ".join(" ".join(str(c) for c in row) for row in rules.classes),
        "hazard_class_weights": ", ".join(f"{w:g}" for w in rules.weights),
        "integration_rule": rules.rule,
        "ponded_depth_from": rules.ponded_depth,
        "waterlogging_points": len(points),
    }
