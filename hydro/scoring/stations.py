"""Pump-station coverage: the service area of every drainage pump station and how it copes.

A station is a group of pumps drawing from one wet well. Its service area is every node and
subcatchment whose water reaches that wet well through the conveyance network
(:mod:`hydro.scoring.network`); a place whose water can reach several stations belongs to the
nearest (fewest links), and water that reaches a station belongs to it even if it is pumped on
towards another (:func:`hydro.kernels.service_areas`).

Per station and scenario: contributing and impervious area, design capacity against the peak
inflow into the wet well, the share of time it runs and runs at (98 % of) capacity, the volume it
pumps, the peak wet-well depth, and the flooding inside its area. Per pump: SWMM's Pumping Summary
figures (utilisation, volume, peak and mean flow while on), computed the way SWMM counts them: a
pump is on while its flow exceeds 0.001 cfs. City-wide: the share of each polder's area the
stations cover, and the waterlogging points no station covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from hydro.drainage.assets import PumpStation
from hydro.errors import InputError
from hydro.kernels import AT_CAPACITY, pump_stats, service_areas
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
from hydro.scoring.network import build_graph, dead_ends, subcatchment_nodes, to_csr
from hydro.scoring.waterlogging import score_waterlogging

# SWMM's MIN_RUNOFF_FLOW (0.001 cfs) in m3/s: below it SWMM counts a pump as off (stats.c).
PUMP_ON_FLOW = 0.001 * 0.3048**3
STL = ("scenario", "time", "link")
STN = ("scenario", "time", "node")


@dataclass(frozen=True)
class ServiceAreas:
    """Which station each node and subcatchment drains to (-1: none)."""

    stations: tuple[str, ...]
    wet_wells: np.ndarray  # (K,) node index of each station's wet well
    node_station: np.ndarray  # (N,) station index per node
    subcatchment_station: np.ndarray  # (M,) station index per subcatchment
    dead_ends: tuple[str, ...]  # stations no link flows into


@scores_results
def station_service_areas(ds: xr.Dataset, stations: Sequence[PumpStation]) -> ServiceAreas:
    """Service areas of the stations on the run's conveyance graph (static: one per network)."""
    require(ds, ("from_node", "to_node"), "pump-station service areas")
    nodes = static(ds, "node")
    where = f"{label(ds)}: "
    node_index = index_of(nodes)
    wells = []
    for st in stations:
        if st.wet_well not in node_index:
            raise InputError(
                f"{where}pump station {st.name!r}: wet well {st.wet_well!r} is not "
                "a node of the model"
            )
        wells.append(node_index[st.wet_well])
    _no_shared_wells(stations, where)
    own_pumps = {p for st in stations for p in st.pumps}
    graph = build_graph(
        nodes,
        static(ds, "from_node"),
        static(ds, "to_node"),
        static(ds, "link"),
        skip=own_pumps,
        where=where,
    )
    csr = to_csr(graph, reverse=True)
    targets = np.array(wells, dtype=np.int64)
    node_station = service_areas(csr.indptr, csr.indices, targets)
    if "subcatchment" in ds.dims and ds.sizes["subcatchment"]:
        sub_node = subcatchment_nodes(
            static(ds, "subcatchment"), static(ds, "outlet"), nodes, where=where
        )
        sub_station = np.where(sub_node >= 0, node_station[np.maximum(sub_node, 0)], -1)
    else:
        sub_station = np.empty(0, dtype=np.int64)
    dry = set(dead_ends(graph, [st.wet_well for st in stations]))
    return ServiceAreas(
        tuple(st.name for st in stations),
        targets,
        node_station,
        sub_station,
        tuple(st.name for st in stations if st.wet_well in dry),
    )


def _no_shared_wells(stations: Sequence[PumpStation], where: str) -> None:
    owner: dict[str, str] = {}
    for st in stations:
        if st.wet_well in owner:
            raise InputError(
                f"{where}pump stations {owner[st.wet_well]!r} and {st.name!r} draw "
                f"from one wet well {st.wet_well!r}; make them one station"
            )
        owner[st.wet_well] = st.name


@scores_results
def score_stations(
    ds: xr.Dataset,
    stations: Sequence[PumpStation],
    *,
    waterlogging: xr.Dataset | None = None,
    polders: Mapping[str, float] | None = None,
    on_flow: float = PUMP_ON_FLOW,
    fraction: float = AT_CAPACITY,
    rule: str = "rectangle",
) -> xr.Dataset:
    """Station, pump and polder scores of a SWMM run Dataset (any ensemble).

    stations : the pump stations (hydro.drainage.assets: from the sidecar, or pumps grouped by
        the node they draw from).
    waterlogging : the Dataset of :func:`hydro.scoring.score_waterlogging` for the same run
        (flood volumes and hazard classes per node); computed with default rules if None.
    polders : polder name -> declared area [m2]; stations name their polder.
    on_flow : [m3/s] a pump is on while its flow exceeds this (SWMM: 0.001 cfs).
    fraction : a station runs at capacity while it pumps >= fraction x design capacity.
    rule : time integration ("rectangle": SWMM's accounting; or "trapezoid").
    """
    require(ds, ("flow", "link_type"), "pump-station scoring")
    if waterlogging is None:
        waterlogging = score_waterlogging(ds)
    areas = station_service_areas(ds, stations)
    dt = time_steps(ds)
    links = index_of(static(ds, "link"))
    pumps = [p for st in stations for p in st.pumps]
    pump_station = np.array([k for k, st in enumerate(stations) for _ in st.pumps], dtype=np.int64)
    missing = [p for p in pumps if p not in links]
    if missing:
        raise InputError(
            f"{label(ds)}: pump(s) {', '.join(missing[:5])} of the pump stations "
            "are not links of the model"
        )
    n_scen = ds.sizes["scenario"]
    flow = values(ds, "flow", STL)[..., [links[p] for p in pumps]]

    data = {}
    data.update(_pump_scores(flow, dt, on_flow, rule))
    data.update(_station_flows(flow, pump_station, stations, dt, on_flow, fraction, rule))
    data.update(_wet_well_scores(ds, areas, data["station_design_capacity"]))
    data.update(_area_scores(ds, areas, waterlogging, n_scen))
    polder_data, polder_names = _polder_scores(
        stations, data["station_contributing_area"], polders or {}
    )
    data.update(polder_data)
    data.update(_uncovered(areas, waterlogging))

    coords = _coords(ds, stations, areas, pumps, pump_station, polder_names)
    extra = {
        "pump_on_flow_m3s": on_flow,
        "full_capacity_fraction": fraction,
        "integration_rule": rule,
        "service_area_graph": "conduits, orifices, weirs, outlets and pumps of no station, "
        "in the direction the INP writes them",
    }
    if areas.dead_ends:
        extra["stations_without_inflow"] = ", ".join(areas.dead_ends)
    out = build_dataset(data, coords=coords, attrs=score_attrs(ds, "pump stations", extra))
    out["polder_coverage"].attrs["comment"] = (
        "above 1 when the stations' modelled catchments reach beyond the declared polder area"
    )
    return out


def _coords(ds, stations, areas: ServiceAreas, pumps, pump_station, polder_names) -> dict:
    coords = {
        **scenario_coords(ds),
        "station": ("station", object_strings(st.name for st in stations)),
        "station_wet_well": ("station", object_strings(st.wet_well for st in stations)),
        "station_name_zh": ("station", object_strings(st.name_zh for st in stations)),
        "station_polder": ("station", object_strings(st.polder or "" for st in stations)),
        "pump": ("pump", object_strings(pumps)),
        "pump_station": ("pump", object_strings(stations[k].name for k in pump_station)),
        "polder": ("polder", object_strings(polder_names)),
        "node": ("node", static(ds, "node")),
        "service_station": (
            "node",
            _names_of(areas.node_station, stations),
            {"long_name": "pump station the node drains to ('' if none)"},
        ),
    }
    if areas.subcatchment_station.size:
        coords["subcatchment"] = ("subcatchment", static(ds, "subcatchment"))
        coords["subcatchment_station"] = (
            "subcatchment",
            _names_of(areas.subcatchment_station, stations),
            {"long_name": "pump station the subcatchment drains to ('' if none)"},
        )
    return coords


def _per_scenario(static_values, shape) -> np.ndarray:
    """A static per-station (or per-polder) array repeated along scenario (a writable copy)."""
    return np.array(np.broadcast_to(static_values, shape))


def _names_of(index: np.ndarray, stations: Sequence[PumpStation]) -> np.ndarray:
    names = [st.name for st in stations]
    return object_strings(names[k] if k >= 0 else "" for k in index)


def _pump_scores(flow, dt, on_flow, rule) -> dict[str, np.ndarray]:
    """SWMM's Pumping Summary per pump: on = flow > on_flow; volume and peak of the flow."""
    stats = pump_stats(flow, np.full(flow.shape[2], np.nan), dt, eps=on_flow, rule=rule)
    return {
        "pump_utilization": stats.running_share,
        "pump_volume": stats.volume,
        "pump_peak_flow": stats.peak_flow,
        "pump_mean_flow": stats.mean_running_flow,
    }


def _station_flows(flow, pump_station, stations, dt, on_flow, fraction, rule):
    """Station totals: the sum of its pumps' flows, judged against its design capacity."""
    n_station = len(stations)
    member = np.zeros((flow.shape[2], n_station))
    member[np.arange(flow.shape[2]), pump_station] = 1.0
    total = np.ascontiguousarray(flow.astype(np.float64) @ member)
    capacity = np.array(
        [st.design_capacity if st.design_capacity else np.nan for st in stations], dtype=np.float64
    )
    stats = pump_stats(total, capacity, dt, eps=on_flow, fraction=fraction, rule=rule)
    n_scen = flow.shape[0]
    return {
        "station_design_capacity": _per_scenario(capacity, (n_scen, n_station)),
        "station_running_share": stats.running_share,
        "station_full_capacity_share": stats.capacity_share,
        "station_pumped_volume": stats.volume,
        "station_peak_flow": stats.peak_flow,
    }


def _wet_well_scores(ds, areas: ServiceAreas, capacity) -> dict[str, np.ndarray]:
    wells = areas.wet_wells
    n_scen = ds.sizes["scenario"]
    peak_inflow = np.full((n_scen, wells.size), np.nan)
    peak_depth = np.full((n_scen, wells.size), np.nan)
    if wells.size and "total_inflow" in ds:
        peak_inflow = _nanmax_time(values(ds, "total_inflow", STN)[..., wells])
    if wells.size and "water_depth" in ds:
        peak_depth = _nanmax_time(values(ds, "water_depth", STN)[..., wells])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(peak_inflow > 0, capacity / peak_inflow, np.nan)
    return {
        "station_peak_inflow": peak_inflow,
        "station_capacity_ratio": ratio,
        "station_peak_wet_well_depth": peak_depth,
    }


def _nanmax_time(x: np.ndarray) -> np.ndarray:
    """Max over time (axis 1) ignoring NaN; NaN where a column has no valid sample."""
    valid = ~np.isnan(x)
    out = np.where(valid, x, -np.inf).max(axis=1).astype(np.float64)
    return np.where(valid.any(axis=1), out, np.nan)


def _area_scores(ds, areas: ServiceAreas, wl: xr.Dataset, n_scen: int) -> dict[str, np.ndarray]:
    n_station = len(areas.stations)
    shape = (n_scen, n_station)
    sub = areas.subcatchment_station
    area: np.ndarray = np.zeros(n_station)
    impervious: np.ndarray = np.zeros(n_station)
    if sub.size:
        a = np.nan_to_num(static(ds, "area").astype(np.float64))
        imp = (
            np.nan_to_num(static(ds, "imperviousness").astype(np.float64))
            if "imperviousness" in ds.coords
            else np.zeros_like(a)
        )
        inside = sub >= 0
        area = np.bincount(sub[inside], weights=a[inside], minlength=n_station)
        impervious = np.bincount(sub[inside], weights=(a * imp)[inside], minlength=n_station)
    node_station = areas.node_station
    inside = node_station >= 0
    one_hot = np.zeros((node_station.size, n_station))
    one_hot[np.flatnonzero(inside), node_station[inside]] = 1.0
    volume = wl["flood_volume"].transpose("scenario", "node").values
    classes = wl["hazard_class"].transpose("scenario", "node").values
    points = _points(wl)
    return {
        "station_contributing_area": _per_scenario(area, shape),
        "station_impervious_area": _per_scenario(impervious, shape),
        "station_nodes": _per_scenario(one_hot.sum(axis=0).astype(np.int32), shape),
        "station_subcatchments": _per_scenario(
            np.bincount(sub[sub >= 0], minlength=n_station).astype(np.int32), shape
        ),
        "station_flood_volume": np.nan_to_num(volume) @ one_hot,
        "station_flooded_nodes": ((volume > 0) @ one_hot).astype(np.int32),
        "station_waterlogged_points": (((classes >= 1) & points) @ one_hot).astype(np.int32),
    }


def _points(wl: xr.Dataset) -> np.ndarray:
    """The waterlogging points as a node mask (every node when none are named)."""
    named = wl["point_name"].values != ""
    return named if named.any() else np.ones_like(named)


def _polder_scores(
    stations: Sequence[PumpStation], contributing: np.ndarray, polders: Mapping[str, float]
):
    names = list(polders)
    n_scen = contributing.shape[0]
    area = np.array([polders[p] for p in names], dtype=np.float64)
    covered: np.ndarray = np.zeros((n_scen, len(names)))
    for k, st in enumerate(stations):
        if st.polder is not None and st.polder in polders:
            covered[:, names.index(st.polder)] += contributing[:, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, covered / area, np.nan)
    return {
        "polder_area": _per_scenario(area, covered.shape),
        "polder_covered_area": covered,
        "polder_coverage": share,
    }, names


def _uncovered(areas: ServiceAreas, wl: xr.Dataset) -> dict[str, np.ndarray]:
    points = _points(wl)
    alone = points & (areas.node_station < 0)
    classes = wl["hazard_class"].transpose("scenario", "node").values
    n_scen = classes.shape[0]
    return {
        "uncovered_points": np.full(n_scen, int(alone.sum()), dtype=np.int32),
        "uncovered_waterlogged_points": np.sum((classes >= 1) & alone, axis=1),
    }
