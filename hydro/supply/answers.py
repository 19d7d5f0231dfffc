"""The planners' answers from a supply run, per zone and city-wide.

Pressure compliance (share of demand nodes, and of population, at or above the service head, at
every reporting time and over the whole run), unserved demand, leakage, source shares per zone,
water age, tank level ranges, pump energy and operating points per station, what each plant sends
into the city and what reaches its clear well. The ``zone`` dimension lists the model's zones,
then ``city`` for the whole network.

Demand nodes are junctions that ask for consumer demand at some time; leakage (emitter flow) is not
consumer demand. Volumes, plant output, energy and the compliance over the run integrate over
every hydraulic step of the run (the run's accounts: :mod:`hydro.supply.epanet.accounts`), all
over the same window, the whole run; unserved demand and compliance both judge against the same
service head. A Dataset without the accounts (an older file) falls back to the reporting times,
each value held until the next.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydro.kernels import zone_compliance
from hydro.kernels.supply import SERVICE_HEAD
from hydro.results import build_dataset
from hydro.supply.assets import SupplyAssets
from hydro.supply.pumps import pump_warnings

CITY = "city"
DAY = 86400


def supply_answers(
    ds: xr.Dataset, assets: SupplyAssets, *, service_head: float = SERVICE_HEAD
) -> xr.Dataset:
    """Answers for every scenario in ``ds`` (a supply run or ensemble Dataset)."""
    zones = [z.name for z in assets.zones]
    labels = zone_labels(ds, assets, zones)
    consumer, required = consumer_demand(ds)
    demand_node = (required > 0).any(axis=(0, 1)) & (ds["node_type"].values == "junction")
    hold = holding_times(ds)
    data: dict[str, np.ndarray] = {}
    pressure = ds["pressure_head"].values
    node_labels = np.where(demand_node, labels, -1)
    data["pressure_compliance"] = _with_city(
        zone_compliance(pressure, node_labels, n_zones=len(zones), threshold=service_head),
        node_labels,
        pressure,
        service_head,
        None,
    )
    population = node_population(ds, assets)
    if population is not None:
        weight = np.broadcast_to(population, pressure.shape)
        data["population_compliance"] = _with_city(
            zone_compliance(
                pressure, node_labels, n_zones=len(zones), threshold=service_head, demand=weight
            ),
            node_labels,
            pressure,
            service_head,
            weight,
        )
    stepped = "node_required_volume" in ds
    if stepped:  # every hydraulic step
        asked, served = ds["node_required_volume"].values, ds["node_delivered_volume"].values
        data["required_volume"] = _zone_total(asked, labels, len(zones))
        unserved = _zone_total(asked - served, labels, len(zones))
        demand_node = (asked > 0).any(axis=0) & (ds["node_type"].values == "junction")
        node_labels = np.where(demand_node, labels, -1)
        data.update(_time_compliance(ds, node_labels, len(zones), population))
    else:
        data["required_volume"] = _zone_sum(required * hold, labels, len(zones))
        unserved = _zone_sum((required - consumer) * hold, labels, len(zones))
    data["unserved_volume"] = unserved
    data["unserved_fraction"] = np.divide(
        unserved,
        data["required_volume"],
        out=np.zeros_like(unserved),
        where=data["required_volume"] > 0,
    )
    if stepped:
        data["leakage_volume"] = _zone_total(ds["node_leakage_volume"].values, labels, len(zones))
    elif "leakage" in ds:
        data["leakage_volume"] = _zone_sum(ds["leakage"].values * hold, labels, len(zones))
    coords = {"scenario": ds["scenario"].values, "time": ds["time"].values, "zone": [*zones, CITY]}
    if "source_share" in ds:
        data["zone_source_share"] = zone_shares(ds, consumer, labels, len(zones))
        coords["source"] = ds["source"].values
    attrs = {"service_head_m": service_head, "zones": ", ".join(zones)}
    if "water_age" in ds:
        data["mean_water_age"], data["max_water_age"], data["water_age_drift"] = water_age(
            ds, consumer, demand_node, labels, len(zones)
        )
        attrs["water_age_window"] = water_age_window(ds)
    data.update(_equipment(ds, hold))
    coords.update({"tank": ds["tank"].values, "pump": ds["pump"].values})
    stations, duty = pump_stations(ds, assets)
    coords["pump_station"] = ("pump", stations)
    warnings = []
    if "pump_in_band" in ds:
        for k in range(ds.sizes["scenario"]):
            points = {name: ds[name].values[k] for name in _POINTS}
            warnings += pump_warnings(points, [str(p) for p in ds["pump"].values], duty)
    plant = _plants(ds, assets)
    if plant:
        data.update(plant.pop("data"))
        coords["plant"] = plant["names"]
    attrs["answer_warnings"] = list(dict.fromkeys(warnings))
    attrs["answers_window"] = (
        "the whole run, every hydraulic step"
        if stepped
        else "the whole run, reporting times (each value held until the next)"
    )
    return build_dataset(data, coords=coords, attrs=attrs)


_POINTS = ("pump_running_time", "pump_in_band", "pump_at_shutoff", "pump_beyond_curve")


def _zone_total(per_node: np.ndarray, labels: np.ndarray, n_zones: int) -> np.ndarray:
    """(S, Z+1): (S, N) values summed over the nodes of each zone, then the city."""
    out = np.zeros((per_node.shape[0], n_zones + 1))
    for z in range(n_zones):
        out[:, z] = per_node[:, labels == z].sum(axis=1)
    out[:, n_zones] = per_node.sum(axis=1)
    return out


def _time_compliance(
    ds: xr.Dataset, labels: np.ndarray, n_zones: int, population: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Share of node-time (and people-time) at or above the service head over the whole run,
    per zone and city (S, Z+1): the time each demand node held the head, over every step."""
    duration = np.nansum(ds["step_duration"].values, axis=1)  # (S,)
    share = ds["node_time_at_service_head"].values / np.maximum(duration, 1.0)[:, None]
    out = {}
    weights = {"service_compliance": np.ones(share.shape[1])}
    if population is not None:
        weights["population_service_compliance"] = population
    for name, w in weights.items():
        result = np.full((share.shape[0], n_zones + 1), np.nan)
        groups = [labels == z for z in range(n_zones)] + [labels >= 0]
        for z, members in enumerate(groups):
            total = w[members].sum()
            if total > 0:
                result[:, z] = (share[:, members] * w[members]).sum(axis=1) / total
        out[name] = result
    return out


def pump_stations(ds: xr.Dataset, assets: SupplyAssets) -> tuple[np.ndarray, np.ndarray]:
    """Per pump: the station it belongs to (a source's intake, raw booster or high-lift pumps, a
    booster station, else its own name) and whether it is a duty pump (not a standby)."""
    station: dict[str, str] = {}
    standby: set[str] = set()
    for s in assets.sources:
        for pumps, what in (
            (s.intake_pumps, "intake"),
            (s.raw_booster_pumps, "raw booster"),
            (s.high_lift_pumps, "high-lift"),
        ):
            station.update(dict.fromkeys(pumps, f"{s.name} {what}"))
        standby.update(s.standby_pumps)
    for b in assets.boosters:
        station.update(dict.fromkeys(b.pumps, b.name))
        standby.update(b.standby_pumps)
    names = [str(p) for p in ds["pump"].values]
    return (
        np.array([station.get(p, p) for p in names], dtype=object),
        np.array([p not in standby for p in names]),
    )


def zone_labels(ds: xr.Dataset, assets: SupplyAssets, zones: list[str]) -> np.ndarray:
    """Zone index per node of ``ds`` (-1: in no zone)."""
    index = {name: k for k, name in enumerate(zones)}
    info = assets.nodes
    return np.array(
        [index.get(info[n].zone, -1) if n in info else -1 for n in ds["node"].values],
        dtype=np.int64,
    )


def node_population(ds: xr.Dataset, assets: SupplyAssets) -> np.ndarray | None:
    values = [assets.nodes[n].population if n in assets.nodes else None for n in ds["node"].values]
    if all(v is None for v in values):
        return None
    return np.array([v or 0 for v in values], dtype=np.float64)


def consumer_demand(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Delivered and required consumer demand (S, T, N) in m3/s; leakage and inflows excluded."""
    delivered = ds["demand"].values.astype(np.float64)
    if "leakage" in ds:
        delivered = delivered - ds["leakage"].values
    delivered = np.where(ds["node_type"].values == "junction", np.maximum(delivered, 0.0), 0.0)
    required = delivered + (ds["demand_deficit"].values if "demand_deficit" in ds else 0.0)
    return delivered, np.maximum(required, 0.0)


def holding_times(ds: xr.Dataset) -> np.ndarray:
    """(T, 1) seconds each reporting value holds: until the next report (the last: one step)."""
    t = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    if len(t) < 2:
        return np.ones((len(t), 1))
    step = np.diff(t)
    return np.append(step, step[-1])[:, None]


def _zone_sum(values: np.ndarray, labels: np.ndarray, n_zones: int) -> np.ndarray:
    """(S, Z+1): sum over time and over the nodes of each zone, then the city."""
    per_node = values.sum(axis=1)
    out = np.zeros((per_node.shape[0], n_zones + 1))
    for z in range(n_zones):
        out[:, z] = per_node[:, labels == z].sum(axis=1)
    out[:, n_zones] = per_node.sum(axis=1)
    return out


def _with_city(result, labels, pressure, threshold, weight) -> np.ndarray:
    """Append the city as one more zone: every labelled node together."""
    city = zone_compliance(
        pressure, np.where(labels >= 0, 0, -1), n_zones=1, threshold=threshold, demand=weight
    )
    return np.concatenate([result.fraction, city.fraction], axis=2)


def zone_shares(
    ds: xr.Dataset, consumer: np.ndarray, labels: np.ndarray, n_zones: int
) -> np.ndarray:
    """(S, T, Z+1, K) demand-weighted source shares per zone and city."""
    share = ds["source_share"].transpose("scenario", "time", "node", "source").values
    s, t, _, k = share.shape
    out = np.full((s, t, n_zones + 1, k), np.nan)
    groups = [labels == z for z in range(n_zones)] + [labels >= 0]
    for z, members in enumerate(groups):
        w = consumer[:, :, members]
        total = w.sum(axis=2)
        mix = np.einsum("stn,stnk->stk", w, np.nan_to_num(share[:, :, members]))
        out[:, :, z] = np.divide(
            mix, total[..., None], out=np.full_like(mix, np.nan), where=total[..., None] > 0
        )
    return out


def water_age_window(ds: xr.Dataset) -> str:
    """What the water-age answers cover: the last 24 h, after the rest of the run as warm-up."""
    t = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    end = t[-1] if len(t) else 0.0
    start = max(end - DAY, 0.0)
    return (
        f"demand-weighted over {start / 3600:g}-{end / 3600:g} h, after {start / 3600:g} h of "
        "warm-up from the model's initial ages; water_age_drift is the change from the 24 h "
        "before (near 0: settled)"
    )


def water_age(
    ds, consumer, demand_node, labels, n_zones
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand-weighted mean and maximum water age per zone over the last 24 h of the run, and
    how much the mean changed from the 24 h before (NaN when the run is shorter than 48 h)."""
    age = ds["water_age"].values.astype(np.float64)
    t = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    last = t >= max(t[-1] - DAY, 0.0)
    before = (t >= t[-1] - 2 * DAY) & (t < t[-1] - DAY) if t[-1] >= 2 * DAY else None
    groups = [(labels == z) & demand_node for z in range(n_zones)] + [demand_node & (labels >= 0)]
    mean = np.full((age.shape[0], n_zones + 1), np.nan)
    peak = np.full_like(mean, np.nan)
    drift = np.full_like(mean, np.nan)

    def weighted(window: np.ndarray, members: np.ndarray) -> np.ndarray:
        a, w = age[:, window][:, :, members], consumer[:, window][:, :, members]
        total = w.sum(axis=(1, 2))
        return np.divide(
            (a * w).sum(axis=(1, 2)), total, out=np.full_like(total, np.nan), where=total > 0
        )

    for z, members in enumerate(groups):
        if not members.any():
            continue
        mean[:, z] = weighted(last, members)
        peak[:, z] = np.nanmax(age[:, last][:, :, members], axis=(1, 2))
        if before is not None:
            drift[:, z] = mean[:, z] - weighted(before, members)
    return mean, peak, drift


def _equipment(ds: xr.Dataset, hold: np.ndarray) -> dict[str, np.ndarray]:
    level = ds["tank_level"].values
    if "step_pump_power" in ds:  # every hydraulic step
        seconds = np.nan_to_num(ds["step_duration"].values)[:, :, None]
        energy = np.nansum(ds["step_pump_power"].values * seconds, axis=1)
    else:
        energy = (ds["pump_power"].values * hold).sum(axis=1)
    return {
        "tank_level_min": level.min(axis=1) if level.size else level[:, 0],
        "tank_level_max": level.max(axis=1) if level.size else level[:, 0],
        "pump_energy": energy,
    }


def _plants(ds: xr.Dataset, assets: SupplyAssets) -> dict:
    """Per source with such links: what its plant sends into the city (at the reporting times,
    and in all over every step), what flows into its clear well, and its raw-water main's flow,
    velocity and head loss."""
    links = {name: i for i, name in enumerate(ds["link"].values)}
    pumps = {name: i for i, name in enumerate(ds["pump"].values)}
    watched = (
        {name: i for i, name in enumerate(ds["step_link"].values)} if "step_link" in ds else {}
    )
    flow = ds["flow"].values
    blank = np.full(flow.shape[:2], np.nan)
    names = []
    columns: dict[str, list[np.ndarray]] = {
        "plant_output": [],
        "clear_well_inflow": [],
        "raw_main_flow": [],
        "raw_main_velocity": [],
        "raw_main_headloss": [],
    }
    totals: dict[str, list[np.ndarray]] = {"plant_volume": [], "clear_well_inflow_volume": []}
    for source in assets.sources:
        outlets = [p for p in source.high_lift_pumps if p in links] or [
            p for p in source.transmission_mains if p in links
        ]
        main = [links[p] for p in source.raw_main if p in links]
        if not outlets and not main:
            continue
        names.append(source.name)
        out_index = [links[p] for p in outlets]
        columns["plant_output"].append(flow[:, :, out_index].sum(axis=2) if outlets else blank)
        inflow = _well_links(ds, source, set(outlets))
        columns["clear_well_inflow"].append(
            _into(ds, flow, inflow, source.clear_well) if inflow and source.clear_well else blank
        )
        columns["raw_main_flow"].append(flow[:, :, main[0]] if main else blank)
        columns["raw_main_velocity"].append(
            ds["velocity"].values[:, :, main].max(axis=2) if main else blank
        )
        columns["raw_main_headloss"].append(
            ds["headloss"].values[:, :, main].sum(axis=2) if main else blank
        )
        totals["plant_volume"].append(_step_volume(ds, outlets, pumps, watched))
        totals["clear_well_inflow_volume"].append(
            _step_volume(ds, inflow, {}, watched, into=source.clear_well)
        )
    if not names:
        return {}
    data = {name: np.stack(items, axis=2) for name, items in columns.items()}
    data.update({name: np.stack(items, axis=1) for name, items in totals.items()})
    return {"names": names, "data": data}


def _well_links(ds: xr.Dataset, source, outlets: set[str]) -> list[str]:
    """The links that bring water into a source's clear well (all its links but the outlets)."""
    well = source.clear_well
    if not well:
        return []
    start, end = ds["from_node"].values, ds["to_node"].values
    touching = (start == well) | (end == well)
    return [str(link) for link in ds["link"].values[touching] if str(link) not in outlets]


def _into(ds: xr.Dataset, flow: np.ndarray, names: list[str], well: str) -> np.ndarray:
    """(S, T) net flow into ``well`` through the links ``names``."""
    index = {name: i for i, name in enumerate(ds["link"].values)}
    start = ds["from_node"].values
    total = np.zeros(flow.shape[:2])
    for name in names:
        i = index[name]
        total += (-1.0 if start[i] == well else 1.0) * flow[:, :, i]
    return total


def _step_volume(
    ds: xr.Dataset,
    names: list[str],
    pumps: dict[str, int],
    watched: dict[str, int],
    *,
    into: str | None = None,
) -> np.ndarray:
    """(S,) [m3] volume through ``names`` over every hydraulic step (NaN: not kept per step)."""
    if "step_duration" not in ds or not names:
        return np.full(ds.sizes["scenario"], np.nan)
    seconds = np.nan_to_num(ds["step_duration"].values)
    total = np.zeros(ds.sizes["scenario"])
    start = dict(zip(ds["link"].values, ds["from_node"].values, strict=True))
    for name in names:
        if name in pumps:
            rate = ds["step_pump_flow"].values[:, :, pumps[name]]
        elif name in watched:
            rate = ds["step_link_flow"].values[:, :, watched[name]]
        else:
            return np.full(ds.sizes["scenario"], np.nan)
        sign = -1.0 if into is not None and start[name] == into else 1.0
        total += sign * np.nansum(rate * seconds, axis=1)
    return total
