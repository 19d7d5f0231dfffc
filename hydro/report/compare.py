"""Two runs side by side: which answers changed, by how much, and where most.

:func:`compare` gives two tables, in the units people use (m³/d, %, cm, h), most important
first:

- ``answers``: the headline numbers of each run and their change (supply: pressure compliance,
  unserved demand, plant output, water age; drainage: flooded nodes, flood volume, ponded depth,
  waterlogging points, pump-station load), only those that changed;
- ``places``: the nodes (and pump stations) whose results changed most.

Runs are matched element by element (by name); a run with several scenarios is compared
scenario by scenario when both hold the same names, otherwise the first scenario of each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from hydro.errors import InputError

# Changes smaller than this (in the shown units) are "unchanged".
NOISE = 1e-6


@dataclass(frozen=True)
class Comparison:
    """The answers that changed and the places that changed most (numeric columns)."""

    answers: pd.DataFrame  # scenario, answer, units, A, B, change, priority
    places: pd.DataFrame  # scenario, place, what, units, A, B, change
    unchanged: int  # answers that did not change


def compare(a: xr.Dataset, b: xr.Dataset, *, places: int = 10) -> Comparison:
    """Compare run ``b`` with run ``a`` (B - A)."""
    pairs = _scenario_pairs(a, b)
    answers: list[dict] = []
    where: list[dict] = []
    with np.errstate(all="ignore"):
        for label, x, y in pairs:
            _check_same_network(x, y)
            for key, (units, priority, va, vb) in _answers(x, y).items():
                answers.append(
                    {
                        "scenario": label,
                        "answer": key,
                        "units": units,
                        "A": va,
                        "B": vb,
                        "change": vb - va,
                        "priority": priority,
                    }
                )
            where.extend({"scenario": label, **row} for row in _places(x, y, places))
    table = pd.DataFrame(
        answers, columns=["scenario", "answer", "units", "A", "B", "change", "priority"]
    )
    changed = table["change"].abs() > NOISE
    both_nan = table["A"].isna() & table["B"].isna()
    moved = table[(changed | (table["A"].isna() != table["B"].isna())) & ~both_nan].copy()
    moved["size"] = (moved["change"].abs() / moved[["A", "B"]].abs().max(axis=1)).fillna(1.0)
    moved = moved.sort_values(["priority", "size"], ascending=[True, False], kind="stable")
    moved = moved.drop(columns="size").reset_index(drop=True)
    spots = pd.DataFrame(where, columns=["scenario", "place", "what", "units", "A", "B", "change"])
    if len({p[0] for p in pairs}) == 1:
        moved = moved.drop(columns="scenario")
        spots = spots.drop(columns="scenario")
    return Comparison(moved, spots, int(len(table) - len(moved)))


def display(comparison: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables with numbers formatted for the screen (signs on changes)."""
    shown = []
    for frame in (comparison.answers.drop(columns="priority"), comparison.places):
        frame = frame.copy()
        for column in ("A", "B"):
            frame[column] = frame[column].map(_fmt)
        frame["change"] = frame["change"].map(lambda v: _fmt(v, sign=True))
        shown.append(frame)
    return shown[0], shown[1]


# ------------------------------------------------------------------------------------------------
# Answers


def _answers(a: xr.Dataset, b: xr.Dataset) -> dict[str, tuple[str, int, float, float]]:
    """{answer: (units, priority, value in A, value in B)}; lower priority shows first."""
    rows: dict[str, tuple[str, int, float, float]] = {}
    for build in (_supply_answers, _drainage_answers):
        found_a, found_b = build(a), build(b)
        for key in found_a.keys() | found_b.keys():
            units, priority, va = found_a.get(key, (None, None, np.nan))
            units_b, priority_b, vb = found_b.get(key, (units, priority, np.nan))
            rows[key] = (
                str(units or units_b),
                int(priority if priority is not None else priority_b or 0),
                va,
                vb,
            )
    return rows


def _supply_answers(ds: xr.Dataset) -> dict[str, tuple[str, int, float]]:
    if "pressure_head" not in ds:
        return {}
    out: dict[str, tuple[str, int, float]] = {}
    head = float(ds.attrs.get("service_head_m", 28.0))
    if "pressure_compliance" in ds:
        for zone in ds["zone"].values:
            series = ds["pressure_compliance"].sel(zone=zone).values[0]
            out[f"{zone}: nodes at {head:g} m, mean"] = ("%", 0, 100 * _mean(series))
            out[f"{zone}: nodes at {head:g} m, worst hour"] = ("%", 1, 100 * _min(series))
            unserved = ds["unserved_fraction"].sel(zone=zone).values[0]
            out[f"{zone}: demand unserved"] = ("%", 0, 100 * float(unserved))
            volume = ds["unserved_volume"].sel(zone=zone).values[0]
            out[f"{zone}: unserved volume"] = ("m³/d", 1, float(volume) / _days(ds))
    else:
        junction = _consumers(ds)
        pressure = ds["pressure_head"].values[0][:, junction]
        out[f"consumers at {head:g} m, mean"] = ("%", 0, 100 * _mean(pressure >= head))
        out[f"consumers at {head:g} m, worst hour"] = (
            "%",
            1,
            100 * _min(np.mean(pressure >= head, axis=1)),
        )
        if "demand_deficit" in ds:
            deficit = ds["demand_deficit"].values[0][:, junction].sum(axis=1)
            out["demand unserved"] = ("m³/d", 0, _mean(deficit) * 86400)
    pressure = ds["pressure_head"].values[0][:, _consumers(ds)]
    out["lowest pressure head at a consumer"] = ("m", 2, _min(pressure))
    demand = ds["demand"].values[0][:, _junctions(ds)]
    out["water delivered to junctions"] = ("m³/d", 2, _mean(demand.sum(axis=1)) * 86400)
    if "plant_output" in ds:
        for plant in ds["plant"].values:
            series = ds["plant_output"].sel(plant=plant).values[0]
            out[f"{plant} plant output"] = ("m³/d", 3, _mean(series) * 86400)
    if "mean_water_age" in ds and "zone" in ds.dims:
        zone = "city" if "city" in ds["zone"].values else ds["zone"].values[-1]
        age = ds["mean_water_age"].sel(zone=zone).values[0]
        out[f"{zone}: mean water age"] = ("h", 4, float(age) / 3600)
    if "pump_energy" in ds:
        out["pump energy"] = (
            "kWh/d",
            5,
            float(np.nansum(ds["pump_energy"].values)) / 3.6e6 / _days(ds),
        )
    return out


def _drainage_answers(ds: xr.Dataset) -> dict[str, tuple[str, int, float]]:
    if "flooding_rate" not in ds:
        return {}
    out: dict[str, tuple[str, int, float]] = {}
    volume = _node_volumes(ds)
    out["nodes that overflowed"] = ("nodes", 0, float(np.sum(volume > 0)))
    out["flood volume"] = ("m³", 0, float(volume.sum()))
    if "ponded_volume" in ds and "ponded_area" in ds.coords:
        area = ds["ponded_area"].values
        depth = np.where(area > 0, ds["ponded_volume"].values[0] / np.where(area > 0, area, 1), 0)
        out["largest ponded depth"] = ("cm", 1, 100 * _max(depth))
    scores = _scores(ds)
    if scores is not None:
        one = scores.isel(scenario=0)
        if "waterlogged_points" in one:
            out["waterlogging points waterlogged"] = ("points", 0, float(one["waterlogged_points"]))
        if "station" in one.dims:
            for station in one["station"].values:
                s = one.sel(station=station)
                out[f"{station}: pumped volume"] = ("m³", 2, float(s["station_pumped_volume"]))
                out[f"{station}: time at full capacity"] = (
                    "%",
                    2,
                    100 * float(s["station_full_capacity_share"]),
                )
    pumps = _pump_links(ds)
    if pumps.any():
        flow = np.abs(ds["flow"].values[0][:, pumps]).sum(axis=1)
        out["peak pumped flow, all pumps"] = ("m³/s", 3, _max(flow))
    return out


# ------------------------------------------------------------------------------------------------
# Places


def _places(a: xr.Dataset, b: xr.Dataset, n: int) -> list[dict]:
    rows: list[dict] = []
    if "pressure_head" in a and "pressure_head" in b:
        head = float(a.attrs.get("service_head_m", 28.0))
        served = xr.DataArray(_consumers(a), dims="node", coords={"node": a["node"].values})

        def below(d):  # consumers only: the raw-water works are not served at a head
            return _hours(d, d["pressure_head"] < head).where(served.reindex_like(d["node"]))

        def lowest(d):
            return (
                d["pressure_head"]
                .min("time")
                .isel(scenario=0)
                .where(served.reindex_like(d["node"]))
            )

        rows += _top(a, b, "node", below, f"time below {head:g} m", "h", n)
        rows += _top(a, b, "node", lowest, "lowest pressure head", "m", n)
    if "flooding_rate" in a and "flooding_rate" in b:
        rows += _top(a, b, "node", lambda d: _volume_array(d), "flood volume", "m³", n)
        rows += _top(
            a, b, "node", lambda d: _hours(d, d["flooding_rate"] > 0), "time overflowing", "h", n
        )
    return rows


def _top(a, b, dim: str, measure: Callable, what: str, units: str, n: int) -> list[dict]:
    x, y = xr.align(measure(a), measure(b), join="inner")
    change = (y - x).values.astype(np.float64)
    order = np.argsort(-np.abs(np.nan_to_num(change)), kind="stable")
    rows = []
    for i in order[:n]:
        if not abs(change[i]) > NOISE:
            break
        rows.append(
            {
                "place": str(x[dim].values[i]),
                "what": what,
                "units": units,
                "A": float(x.values[i]),
                "B": float(y.values[i]),
                "change": float(change[i]),
            }
        )
    return rows


def _hours(ds: xr.Dataset, condition: xr.DataArray) -> xr.DataArray:
    """Hours the condition holds at each element (report steps, each worth one step)."""
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    step = float(np.median(np.diff(seconds))) if len(seconds) > 1 else 0.0
    return condition.isel(scenario=0).sum("time") * step / 3600


def _volume_array(ds: xr.Dataset) -> xr.DataArray:
    return xr.DataArray(_node_volumes(ds), dims="node", coords={"node": ds["node"].values})


# ------------------------------------------------------------------------------------------------
# Helpers


def _scenario_pairs(a: xr.Dataset, b: xr.Dataset) -> list[tuple[str, xr.Dataset, xr.Dataset]]:
    names_b = {str(s) for s in b["scenario"].values}
    shared = [str(s) for s in a["scenario"].values if str(s) in names_b]
    if shared:
        return [(s, a.sel(scenario=[s]), b.sel(scenario=[s])) for s in shared]
    label = f"{a['scenario'].values[0]} -> {b['scenario'].values[0]}"
    return [(label, a.isel(scenario=[0]), b.isel(scenario=[0]))]


def _check_same_network(a: xr.Dataset, b: xr.Dataset) -> None:
    for dim in ("node", "link"):
        if dim in a.dims and dim in b.dims:
            shared = np.intersect1d(a[dim].values.astype(str), b[dim].values.astype(str))
            if len(shared) == 0:
                raise InputError(
                    f"the two files share no {dim} name to compare (results of different networks?)"
                )
    if ("pressure_head" in a) != ("pressure_head" in b):
        raise InputError("one file is a supply run, the other a drainage run: nothing to compare")


def _junctions(ds: xr.Dataset) -> np.ndarray:
    if "node_type" not in ds.coords:
        return np.ones(ds.sizes["node"], dtype=bool)
    types = ds["node_type"].values
    return (types[0] if types.ndim > 1 else types) == "junction"


def _consumers(ds: xr.Dataset) -> np.ndarray:
    """Junctions that draw water on average (not the works and mains, which serve no one)."""
    demand = np.nanmean(ds["demand"].values[0], axis=0) if "demand" in ds else None
    if demand is None:
        return _junctions(ds)
    return _junctions(ds) & (np.nan_to_num(demand) > 0)


def _pump_links(ds: xr.Dataset) -> np.ndarray:
    if "link_type" not in ds.coords:
        return np.zeros(ds.sizes.get("link", 0), dtype=bool)
    return ds["link_type"].values == "pump"


def _node_volumes(ds: xr.Dataset) -> np.ndarray:
    rate = np.nan_to_num(ds["flooding_rate"].values[0].astype(np.float64))
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    if len(seconds) < 2:
        return np.zeros(rate.shape[-1])
    return np.trapezoid(rate, seconds, axis=0)


def _scores(ds: xr.Dataset) -> xr.Dataset | None:
    from hydro.scoring import score

    try:
        return score(ds)
    except InputError:
        return None


def _days(ds: xr.Dataset) -> float:
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    return max((seconds[-1] - seconds[0]) / 86400, 1 / 24) if len(seconds) > 1 else 1.0


def _mean(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else np.nan


def _min(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.min()) if finite.size else np.nan


def _max(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else np.nan


def _fmt(value: float, *, sign: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    text = f"{value:+,.3g}" if sign else f"{value:,.3g}"
    if abs(value) >= 1000:
        text = f"{value:+,.0f}" if sign else f"{value:,.0f}"
    return text
