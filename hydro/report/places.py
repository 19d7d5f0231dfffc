"""Which places to show: the worst nodes of a run and the pump stations to chart."""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydro.report.maps import _one_network, node_minimum, node_total


def worst_supply_nodes(ds: xr.Dataset, n: int = 4) -> list[str]:
    """Consumer junctions (mean demand > 0) with the least time at or above the service head,
    ties broken by the lowest pressure head."""
    head = ds["pressure_head"].isel(scenario=0).values
    service = float(ds.attrs.get("service_head_m", 28.0))
    demand = np.nanmean(ds["demand"].isel(scenario=0).values, axis=0)
    consumer = demand > 0
    if "node_type" in ds.coords:
        consumer &= _one_network(ds["node_type"]) == "junction"
    if not consumer.any():
        return []
    share = np.mean(head >= service, axis=0)
    lowest = node_minimum(ds, "pressure_head")
    order = np.lexsort((np.nan_to_num(lowest, nan=np.inf), share))
    names = ds["node"].values
    return [str(names[i]) for i in order if consumer[i]][:n]


def worst_drainage_nodes(ds: xr.Dataset, scores: xr.Dataset | None = None, n: int = 4) -> list[str]:
    """Nodes ranked by waterlogging hazard (scores, class > 0), else by flood volume; only
    nodes that flooded at all."""
    if scores is not None and "hazard_rank" in scores and "hazard_class" in scores:
        one = scores.isel(scenario=0)
        rank = one["hazard_rank"].where(one["hazard_class"] > 0, drop=True)
        names = [str(v) for v in rank.sortby(rank)["node"].values][:n]
        if names:  # a hazard class above 0; otherwise the flood volume says more
            return names
    volume = node_total(ds, "flooding_rate")
    order = np.argsort(-volume, kind="stable")
    return [str(ds["node"].values[i]) for i in order if volume[i] > 0][:n]


def drainage_stations(assets) -> tuple[dict[str, tuple[str, ...]], dict[str, float | None]]:
    """{station: pumps} and {station: design capacity m³/s} of a model's drainage assets."""
    stations = {s.name: tuple(s.pumps) for s in assets.pump_stations}
    capacities = {s.name: s.design_capacity for s in assets.pump_stations}
    return stations, capacities
