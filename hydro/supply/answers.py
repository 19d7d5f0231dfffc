"""The planners' answers from a supply run, per zone and city-wide.

Pressure compliance (share of demand nodes, and of population, at or above the service head, by
reporting time), unserved demand, leakage, source shares per zone, water age, tank level ranges,
pump energy, and the flow, velocity and head loss of each source's raw-water main. The ``zone``
dimension lists the model's zones, then ``city`` for the whole network.

Demand nodes are junctions that ask for consumer demand at some time; leakage (emitter flow) is not
consumer demand. Volumes integrate the reporting-period values with each value held over the
period it opens (EPANET's results hold between hydraulic steps).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydro.kernels import zone_compliance
from hydro.results import build_dataset
from hydro.supply.assets import SupplyAssets

CITY = "city"
DAY = 86400


def supply_answers(
    ds: xr.Dataset, assets: SupplyAssets, *, service_head: float = 28.0
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
    data["required_volume"] = _zone_sum(required * hold, labels, len(zones))
    unserved = _zone_sum((required - consumer) * hold, labels, len(zones))
    data["unserved_volume"] = unserved
    data["unserved_fraction"] = np.divide(
        unserved,
        data["required_volume"],
        out=np.zeros_like(unserved),
        where=data["required_volume"] > 0,
    )
    if "leakage" in ds:
        data["leakage_volume"] = _zone_sum(ds["leakage"].values * hold, labels, len(zones))
    coords = {"scenario": ds["scenario"].values, "time": ds["time"].values, "zone": [*zones, CITY]}
    if "source_share" in ds:
        data["zone_source_share"] = zone_shares(ds, consumer, labels, len(zones))
        coords["source"] = ds["source"].values
    if "water_age" in ds:
        data["mean_water_age"], data["max_water_age"] = water_age(
            ds, consumer, demand_node, labels, len(zones)
        )
    data.update(_equipment(ds, hold))
    coords.update({"tank": ds["tank"].values, "pump": ds["pump"].values})
    plant = _plants(ds, assets)
    if plant:
        data.update(plant.pop("data"))
        coords["plant"] = plant["names"]
    return build_dataset(
        data, coords=coords, attrs={"service_head_m": service_head, "zones": ", ".join(zones)}
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


def water_age(ds, consumer, demand_node, labels, n_zones) -> tuple[np.ndarray, np.ndarray]:
    """Demand-weighted mean and maximum water age per zone over the last 24 h of the run."""
    age = ds["water_age"].values.astype(np.float64)
    t = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    last = t >= max(t[-1] - DAY, 0.0)
    groups = [(labels == z) & demand_node for z in range(n_zones)] + [demand_node & (labels >= 0)]
    mean = np.full((age.shape[0], n_zones + 1), np.nan)
    peak = np.full_like(mean, np.nan)
    for z, members in enumerate(groups):
        if not members.any():
            continue
        a, w = age[:, last][:, :, members], consumer[:, last][:, :, members]
        total = w.sum(axis=(1, 2))
        mean[:, z] = np.divide(
            (a * w).sum(axis=(1, 2)), total, out=np.full_like(total, np.nan), where=total > 0
        )
        peak[:, z] = np.nanmax(a, axis=(1, 2))
    return mean, peak


def _equipment(ds: xr.Dataset, hold: np.ndarray) -> dict[str, np.ndarray]:
    level = ds["tank_level"].values
    return {
        "tank_level_min": level.min(axis=1) if level.size else level[:, 0],
        "tank_level_max": level.max(axis=1) if level.size else level[:, 0],
        "pump_energy": (ds["pump_power"].values * hold).sum(axis=1),
    }


def _plants(ds: xr.Dataset, assets: SupplyAssets) -> dict:
    """Plant output and raw-main flow, velocity and head loss of every source with such links."""
    links = {name: i for i, name in enumerate(ds["link"].values)}
    names, output, flow, velocity, headloss = [], [], [], [], []
    for source in assets.sources:
        outlets = [links[p] for p in source.high_lift_pumps if p in links] or [
            links[p] for p in source.transmission_mains if p in links
        ]
        main = [links[p] for p in source.raw_main if p in links]
        if not outlets and not main:
            continue
        names.append(source.name)
        output.append(
            ds["flow"].values[:, :, outlets].sum(axis=2)
            if outlets
            else np.full(ds["flow"].shape[:2], np.nan)
        )
        if main:
            flow.append(ds["flow"].values[:, :, main[0]])
            velocity.append(ds["velocity"].values[:, :, main].max(axis=2))
            headloss.append(ds["headloss"].values[:, :, main].sum(axis=2))
        else:
            blank = np.full(ds["flow"].shape[:2], np.nan)
            flow.append(blank)
            velocity.append(blank)
            headloss.append(blank)
    if not names:
        return {}
    columns = {
        "plant_output": output,
        "raw_main_flow": flow,
        "raw_main_velocity": velocity,
        "raw_main_headloss": headloss,
    }
    return {
        "names": names,
        "data": {name: np.stack(items, axis=2) for name, items in columns.items()},
    }
