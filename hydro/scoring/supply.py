"""Supply coverage from an EPANET run Dataset (any ensemble): sources, boosters, zones.

- Per source (needs ``source_share``, from :func:`hydro.supply.tracing.source_shares`): the nodes
  whose water comes mainly from it (largest time-mean share), the people and demand at those
  nodes, and its share of all the water delivered.
- Per booster or secondary-supply station: the nodes downstream of it (the sidecar's served
  nodes, or those its pumps reach along the run's mean flow directions) and whether they keep the
  service head (28 m by default).
- Per zone: the share of demand at or above the service head at every reporting time, its time
  average, and the lowest pressure head at a demand node.

Without ``source_share`` the source part is left out (the Dataset's ``supply_coverage`` attribute
says so); zones and boosters need only pressure head and demand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from hydro.errors import InputError
from hydro.kernels import (
    dominant_source,
    edges_to_csr,
    pressure_compliance,
    sample_times,
    service_membership,
    zone_compliance,
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
from hydro.scoring.rules import DEFAULT_RULES, SupplyRules
from hydro.supply.assets import ALL_ZONE, SupplyAssets

STN = ("scenario", "time", "node")
CLOSED_FLOW = 1e-9  # m3/s: a link whose mean flow is smaller carries no water in either direction


@dataclass(frozen=True)
class Booster:
    """A booster station as scoring needs it: its pumps and the nodes it serves (if declared)."""

    name: str
    pumps: tuple[str, ...]
    served_nodes: tuple[str, ...] = ()
    population: int | None = None


@dataclass(frozen=True)
class SupplyLayout:
    """The parts of a supply model the scores speak of, by name."""

    zones: dict[str, tuple[str, ...]]  # zone -> nodes
    boosters: tuple[Booster, ...]
    population: dict[str, float]  # node -> people (empty when unknown)
    source_names: dict[str, str]  # traced node ID -> source name
    origin: str = ""  # where the names came from (for the scores' attrs)


def layout_of(assets: SupplyAssets) -> SupplyLayout:
    """The scoring layout of a model's named assets (:func:`hydro.supply.assets.load_assets`)."""
    zones = {z.name: tuple(z.nodes) for z in assets.zones}
    boosters = tuple(
        Booster(b.name, tuple(b.pumps), tuple(b.served_nodes), b.population)
        for b in assets.boosters
    )
    population = {
        n: float(i.population) for n, i in assets.nodes.items() if i.population is not None
    }
    names = {}
    for src in assets.sources:
        names[src.reservoir] = src.name
        if src.clear_well:
            names.setdefault(src.clear_well, src.name)
    origin = ("sidecars of " if "assets" not in assets.inferred else "inferred from ") + Path(
        assets.inp_path
    ).name
    return SupplyLayout(zones, boosters, population, names, origin)


def with_layout(ds: xr.Dataset, layout: SupplyLayout) -> xr.Dataset:
    """The run with the names the scores speak of, so that they travel with the results: each
    node's zone and people as coordinates, boosters and source names as attrs (JSON)."""
    nodes = [str(n) for n in static(ds, "node")]
    zone_of = {n: z for z, members in layout.zones.items() for n in members}
    ds = ds.assign_coords(
        node_zone=("node", np.array([zone_of.get(n, "") for n in nodes], dtype=object)),
        node_population=(
            "node",
            np.array([layout.population.get(n, np.nan) for n in nodes]),
            {"units": "1", "long_name": "people served at the node (NaN: unknown)"},
        ),
    )
    ds.attrs["supply_boosters"] = json.dumps(
        [[b.name, list(b.pumps), list(b.served_nodes), b.population] for b in layout.boosters]
    )
    ds.attrs["supply_source_names"] = json.dumps(layout.source_names)
    ds.attrs["supply_layout"] = layout.origin
    return ds


def layout_from_results(ds: xr.Dataset) -> SupplyLayout | None:
    """The layout a run carries (see :func:`with_layout`); None when it carries none."""
    if "node_zone" not in ds.coords or "supply_boosters" not in ds.attrs:
        return None
    zones: dict[str, list[str]] = {}
    for node, zone in zip(static(ds, "node"), static(ds, "node_zone"), strict=True):
        if str(zone):
            zones.setdefault(str(zone), []).append(str(node))
    population = {
        str(n): float(p)
        for n, p in zip(static(ds, "node"), static(ds, "node_population"), strict=True)
        if np.isfinite(p)
    }
    boosters = tuple(
        Booster(name, tuple(pumps), tuple(served), people)
        for name, pumps, served, people in json.loads(str(ds.attrs["supply_boosters"]))
    )
    return SupplyLayout(
        {z: tuple(n) for z, n in zones.items()},
        boosters,
        population,
        json.loads(str(ds.attrs.get("supply_source_names", "{}"))),
        f"{ds.attrs.get('supply_layout', '')} (carried by the results)",
    )


def inferred_layout(ds: xr.Dataset) -> SupplyLayout:
    """A layout from the Dataset alone: one zone of every junction; a booster per group of
    parallel pumps whose suction side is a junction or a tank; no population."""
    kinds = static(ds, "node_type").astype(str)
    nodes = static(ds, "node")
    junctions = tuple(str(n) for n, k in zip(nodes, kinds, strict=True) if k == "junction")
    kind_of = dict(zip(map(str, nodes), kinds, strict=True))
    groups: dict[tuple[str, str], list[str]] = {}
    if "link_type" in ds.coords:
        for link, kind, a, b in zip(
            static(ds, "link"),
            static(ds, "link_type"),
            static(ds, "from_node"),
            static(ds, "to_node"),
            strict=True,
        ):
            if str(kind) == "pump" and kind_of.get(str(a)) in ("junction", "tank"):
                groups.setdefault((str(a), str(b)), []).append(str(link))
    boosters = tuple(Booster(pumps[0], tuple(pumps)) for pumps in groups.values())
    return SupplyLayout({ALL_ZONE: junctions}, boosters, {}, {}, "inferred from the results")


@scores_results
def score_supply(
    ds: xr.Dataset, layout: SupplyLayout | None = None, *, rules: SupplyRules = DEFAULT_RULES.supply
) -> xr.Dataset:
    """Supply coverage scores: a Dataset on (scenario, source|booster|zone|node)."""
    require(ds, ("pressure_head", "demand", "node_type"), "supply coverage")
    layout = layout or inferred_layout(ds)
    dt = time_steps(ds)
    pressure = values(ds, "pressure_head", STN)
    demand = values(ds, "demand", STN)
    junction = static(ds, "node_type").astype(str) == "junction"
    nodes = static(ds, "node")
    where = index_of(nodes)
    weights = _time_weights(dt, rules.rule)

    compliance = pressure_compliance(pressure, dt, threshold=rules.service_head, rule=rules.rule)
    compliance[:, ~junction] = np.nan
    data = {"node_service_compliance": compliance}
    zone_names, zone_data = _zones(ds, layout, pressure, demand, junction, where, weights, rules)
    data.update(zone_data)
    boosters, served, booster_data = _boosters(
        ds, layout, pressure, compliance, junction, where, rules
    )
    data.update(booster_data)
    coords = {
        **scenario_coords(ds),
        "time": ds["time"].values,
        "node": ("node", nodes),
        "node_type": ("node", static(ds, "node_type")),
        "zone": ("zone", object_strings(zone_names)),
        "booster": ("booster", object_strings(b.name for b in boosters)),
        "booster_nodes": (
            "booster",
            object_strings(" ".join(s) for s in served),
            {"long_name": "the nodes the booster serves, space-separated"},
        ),
    }
    for name in ("x", "y", "elevation"):
        if name in ds.coords:
            coords[name] = ("node", static(ds, name))
    extra = {
        "service_head_m": rules.service_head,
        "integration_rule": rules.rule,
        "assets": layout.origin,
    }
    if "source_share" in ds:
        data.update(_sources(ds, layout, demand, junction, dt, weights, rules))
        labels = ds["source"].values
        coords["source"] = ("source", labels)
        coords["source_name"] = (
            "source",
            object_strings(layout.source_names.get(str(s), str(s)) for s in labels),
        )
        extra["supply_coverage"] = "sources, boosters and zones"
    else:
        extra["supply_coverage"] = (
            "boosters and zones only: the Dataset has no source_share "
            "(run hydro.supply.tracing.source_shares for source coverage)"
        )
    return build_dataset(data, coords=coords, attrs=score_attrs(ds, "supply coverage", extra))


# ------------------------------------------------------------------------------------------------
# Time weights


def _time_weights(dt: np.ndarray, rule: str) -> np.ndarray:
    """Weight [s] of each sample in a time average (see hydro.kernels._common for the rules)."""
    t = sample_times(dt, dt.size)
    if rule == "rectangle":
        return dt.astype(np.float64)
    w = np.zeros(t.size)
    gaps = np.diff(t)
    w[:-1] += 0.5 * gaps
    w[1:] += 0.5 * gaps
    return w


def _weighted_mean(x: np.ndarray, w: np.ndarray, axis: int = 1) -> np.ndarray:
    """sum(w * x) / sum(w) along the time axis over valid samples; the last valid sample when
    all weights are zero (a single report)."""
    shape = [1] * x.ndim
    shape[axis] = w.size
    ww = np.where(np.isnan(x), 0.0, w.reshape(shape))
    total = ww.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(x * ww, axis=axis) / total
    if np.any(total == 0):
        last = _last_valid(x, axis)
        mean = np.where(total == 0, last, mean)
    return mean


def _last_valid(x: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(x, axis, -1)
    valid = ~np.isnan(moved)
    idx = moved.shape[-1] - 1 - np.argmax(valid[..., ::-1], axis=-1)
    last = np.take_along_axis(moved, idx[..., None], axis=-1)[..., 0]
    return np.where(valid.any(axis=-1), last, np.nan)


# ------------------------------------------------------------------------------------------------
# Zones


def _zones(
    ds, layout: SupplyLayout, pressure, demand, junction, where, weights, rules: SupplyRules
):
    names = list(layout.zones)
    labels = np.full(pressure.shape[2], -1, dtype=np.int64)
    for z, name in enumerate(names):
        for node in layout.zones[name]:
            if node in where:
                labels[where[node]] = z
    labels[~junction] = -1  # tanks and reservoirs ask for no pressure
    series = zone_compliance(
        pressure, labels, n_zones=len(names), threshold=rules.service_head, demand=demand
    )
    served = series.fraction * series.weight
    with np.errstate(invalid="ignore", divide="ignore"):
        total = _weighted_mean(np.where(series.weight > 0, series.weight, np.nan), weights)
        mean = _weighted_mean(np.where(series.weight > 0, served, np.nan), weights) / total
    # Lowest pressure at a node of the zone that asks for water at some time.
    asks = (np.nan_to_num(demand) > 0).any(axis=(0, 1))
    low = np.full((pressure.shape[0], len(names)), np.nan)
    for z in range(len(names)):
        cols = np.flatnonzero((labels == z) & asks)
        if cols.size:
            low[:, z] = np.nanmin(pressure[..., cols], axis=(1, 2))
    return names, {
        "zone_demand_compliance": series.fraction,
        "zone_compliance": mean,
        "zone_min_pressure_head": low,
    }


# ------------------------------------------------------------------------------------------------
# Boosters


def _boosters(ds, layout: SupplyLayout, pressure, compliance, junction, where, rules: SupplyRules):
    boosters = layout.boosters
    served = _served_nodes(ds, boosters, where, junction)
    n_scen = pressure.shape[0]
    count = np.zeros((n_scen, len(boosters)), dtype=np.int32)
    low = np.full((n_scen, len(boosters)), np.nan)
    share = np.full((n_scen, len(boosters)), np.nan)
    for k, nodes in enumerate(served):
        cols = np.array([where[n] for n in nodes], dtype=np.int64)
        count[:, k] = cols.size
        if cols.size:
            low[:, k] = np.nanmin(pressure[..., cols], axis=(1, 2))
            share[:, k] = np.nanmean(compliance[:, cols], axis=1)
    meets = np.where(np.isnan(low), 0, low >= rules.service_head).astype(np.int8)
    return (
        boosters,
        served,
        {
            "booster_served_nodes": count,
            "booster_min_pressure_head": low,
            "booster_compliance": share,
            "booster_meets_service_head": meets,
        },
    )


def _served_nodes(ds, boosters: Sequence[Booster], where, junction) -> list[tuple[str, ...]]:
    """Declared served nodes, or the junctions downstream of the booster's pumps."""
    links = index_of(static(ds, "link")) if "link" in ds.dims else {}
    declared = []
    for b in boosters:
        for node in b.served_nodes:
            if node not in where:
                raise InputError(
                    f"{label(ds)}: booster {b.name!r} serves node {node!r}, which "
                    "the model does not have"
                )
        for pump in b.pumps:
            if pump not in links:
                raise InputError(
                    f"{label(ds)}: booster {b.name!r}: pump {pump!r} is not a link of the model"
                )
        declared.append(tuple(b.served_nodes))
    todo = [k for k, b in enumerate(boosters) if not b.served_nodes]
    if not todo:
        return declared
    require(ds, ("flow", "from_node", "to_node"), "booster service areas")
    nodes = static(ds, "node")
    starts = [
        sorted({where[str(static(ds, "to_node")[links[p]])] for p in boosters[k].pumps})
        for k in todo
    ]
    indptr, indices = _flow_graph(ds, where, skip={p for b in boosters for p in b.pumps})
    # One search per discharge node; a booster serves what any of its discharge nodes reaches.
    targets = sorted({s for group in starts for s in group})
    reach = service_membership(indptr, indices, np.array(targets, dtype=np.int64))
    row = {t: i for i, t in enumerate(targets)}
    for k, group in zip(todo, starts, strict=True):
        mask = np.zeros(nodes.size, dtype=bool)
        for s in group:
            mask |= reach[row[s]]
        declared[k] = tuple(str(n) for n in nodes[mask & junction])
    return declared


def _flow_graph(ds, where, skip) -> tuple[np.ndarray, np.ndarray]:
    """CSR of links oriented by their mean flow over every scenario and time (closed: none)."""
    flow = (
        ds["flow"]
        .mean(dim=[d for d in ("scenario", "time") if d in ds["flow"].dims], skipna=True)
        .values
    )
    a = np.array([where[str(n)] for n in static(ds, "from_node")], dtype=np.int64)
    b = np.array([where[str(n)] for n in static(ds, "to_node")], dtype=np.int64)
    keep = np.array([str(link) not in skip for link in static(ds, "link")])
    fwd = keep & (flow > CLOSED_FLOW)
    back = keep & (flow < -CLOSED_FLOW)
    upstream = np.concatenate([a[fwd], b[back]])
    downstream = np.concatenate([b[fwd], a[back]])
    return edges_to_csr(upstream, downstream, len(where))


# ------------------------------------------------------------------------------------------------
# Sources


def _sources(ds, layout: SupplyLayout, demand, junction, dt, weights, rules: SupplyRules):
    share = np.ascontiguousarray(
        ds["source_share"].transpose("scenario", "time", "node", "source").values
    )
    result = dominant_source(share, dt, rule=rules.rule)
    n_scen, n_src = share.shape[0], share.shape[3]
    asked = np.maximum(np.nan_to_num(demand), 0.0)
    mean_demand = _weighted_mean(np.where(np.isnan(demand), np.nan, asked), weights)
    population = np.array(
        [layout.population.get(str(n), np.nan) for n in static(ds, "node")], dtype=np.float64
    )
    known_population = bool(layout.population)
    main_nodes = np.zeros((n_scen, n_src), dtype=np.int32)
    main_population = np.full((n_scen, n_src), np.nan)
    main_demand = np.zeros((n_scen, n_src))
    delivered = np.full((n_scen, n_src), np.nan)
    for s in range(n_scen):
        main = np.where(junction, result.dominant[s], -1)
        for k in range(n_src):
            mine = main == k
            main_nodes[s, k] = int(mine.sum())
            main_demand[s, k] = float(np.nansum(mean_demand[s, mine]))
            if known_population:
                main_population[s, k] = float(np.nansum(population[mine]))
        # share of the delivered water: sum_t w sum_n d+ share / sum_t w sum_n d+
        d = asked[s][:, junction]
        sh = np.nan_to_num(share[s][:, junction, :])
        by_time = np.einsum("tn,tnk->tk", d, sh)
        total = (weights * d.sum(axis=1)).sum()
        if total > 0:
            delivered[s] = (weights[:, None] * by_time).sum(axis=0) / total
    return {
        "mean_source_share": result.mean_share,
        "main_source": result.dominant.astype(np.int16),
        "source_main_nodes": main_nodes,
        "source_main_population": main_population,
        "source_main_demand": main_demand,
        "source_delivery_share": delivered,
    }
