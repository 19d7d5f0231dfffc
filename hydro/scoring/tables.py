"""Score Datasets as tables: one pandas DataFrame per table, with a ``scenario`` column, written
as one CSV file each. Columns are the score variables (SI units as in the netCDF attrs: m, m3,
m3/s, s) and the element's coordinates.

Drainage: ``points`` (every node that flooded, and every named waterlogging point, per
scenario, worst first), ``city`` (one row per scenario), ``worst`` (the worst ten per scenario),
``stations``, ``pumps``, ``polders``. Supply: ``sources``, ``boosters``, ``zones`` (time
averages) and ``zone_series`` (every reporting time).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydro.errors import InputError, ScenarioError, suggest
from hydro.paths import write_error
from hydro.results import atomic_path
from hydro.scoring.rules import DEFAULT_RULES, ScoringRules

POINT_COLUMNS = (
    "point_name",
    "point_kind",
    "hazard_class",
    "hazard_level",
    "hazard_score",
    "hazard_rank",
    "max_ponded_depth",
    "waterlogged_duration",
    "longest_waterlogged_spell",
    "waterlogging_onset",
    "waterlogging_recession",
    "flood_volume",
    "peak_flooding_rate",
    "flooded_duration",
    "flooding_onset",
    "flooding_recession",
    "time_of_peak_flooding",
    "service_station",
)


def score_tables(
    scores: xr.Dataset, *, rules: ScoringRules = DEFAULT_RULES
) -> dict[str, pd.DataFrame]:
    """The tables of a score Dataset (see the module docstring), keyed by table name."""
    tables: dict[str, pd.DataFrame] = {}
    if "hazard_class" in scores:
        tables["points"] = _points(scores, rules)
        tables["city"] = _frame(
            scores,
            ("scenario",),
            ("waterlogged_points", "waterlogged_nodes", "flooded_nodes", "total_flood_volume"),
        )
        tables["worst"] = _worst(scores, rules)
    for name, dim in (
        ("stations", "station"),
        ("pumps", "pump"),
        ("polders", "polder"),
        ("sources", "source"),
        ("boosters", "booster"),
        ("zones", "zone"),
    ):
        if dim in scores.dims:
            tables[name] = _frame(
                scores,
                ("scenario", dim),
                [str(v) for v, a in scores.data_vars.items() if a.dims == ("scenario", dim)],
            )
    if "zone_demand_compliance" in scores:
        series = _frame(scores, ("scenario", "time", "zone"), ("zone_demand_compliance",))
        series["time"] = series["time"].dt.total_seconds()
        tables["zone_series"] = series
    return tables


def write_tables(
    scores: xr.Dataset,
    folder: str | Path,
    *,
    rules: ScoringRules = DEFAULT_RULES,
    inputs: Sequence[str | Path | None] = (),
) -> list[Path]:
    """Write every table as ``<folder>/<table>.csv`` (each file atomically, never onto one of
    ``inputs``); returns the paths."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder; give a folder for the CSV tables")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(folder / "", err) from None
    written = []
    for name, df in score_tables(scores, rules=rules).items():
        path = folder / f"{name}.csv"
        with atomic_path(path, inputs=inputs) as tmp:
            df.to_csv(tmp, index=False, encoding="utf-8")
        written.append(path)
    return written


def _frame(scores: xr.Dataset, dims: Sequence[str], names: Sequence[str]) -> pd.DataFrame:
    """Variables on exactly ``dims`` with their coordinates, one row per element combination."""
    names = [n for n in names if n in scores]
    sub = scores[names] if names else xr.Dataset(coords={d: scores[d] for d in dims})
    keep = [
        c for c, coord in scores.coords.items() if set(coord.dims) <= set(dims) and c not in dims
    ]
    sub = sub.assign_coords({c: scores[c] for c in keep})
    sub = sub.drop_vars([c for c in sub.coords if not set(sub[c].dims) <= set(dims)])
    df = sub.to_dataframe() if sub.data_vars else _coords_frame(sub, dims)
    df = df.reset_index()
    leading = list(dims) + [c for c in keep if c in df.columns]
    return df[leading + [c for c in df.columns if c not in leading]]


def _coords_frame(sub: xr.Dataset, dims: Sequence[str]) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([sub[d].values for d in dims], names=list(dims))
    return pd.DataFrame(index=index)


def _points(scores: xr.Dataset, rules: ScoringRules) -> pd.DataFrame:
    names = [c for c in POINT_COLUMNS if c in scores and scores[c].dims == ("scenario", "node")]
    df = _frame(scores, ("scenario", "node"), names)
    named = df["point_name"].astype(str) != "" if "point_name" in df else False
    df = df[(df["flood_volume"] > 0) | named].copy()
    df.insert(
        df.columns.get_loc("hazard_class") + 1,
        "hazard_level",
        [rules.waterlogging.class_name(int(c)) for c in df["hazard_class"]],
    )
    order = np.where(df["hazard_rank"] > 0, df["hazard_rank"], np.iinfo(np.int32).max)
    df = df.assign(_order=order).sort_values(["scenario", "_order"], kind="stable")
    columns = ["scenario", "node", *[c for c in POINT_COLUMNS if c in df.columns]]
    rest = [c for c in df.columns if c not in columns and c != "_order"]
    return df[columns + rest].reset_index(drop=True)


def _worst(scores: xr.Dataset, rules: ScoringRules) -> pd.DataFrame:
    df = _frame(scores, ("scenario", "worst"), ("worst_node", "worst_score", "worst_class"))
    df = df[df["worst_node"].astype(str) != ""].copy()
    df = df.rename(
        columns={
            "worst": "rank",
            "worst_node": "node",
            "worst_score": "hazard_score",
            "worst_class": "hazard_class",
        }
    )
    df["hazard_level"] = [rules.waterlogging.class_name(int(c)) for c in df["hazard_class"]]
    if "point_name" in scores.coords:
        names = dict(zip(map(str, scores["node"].values), scores["point_name"].values, strict=True))
        df["point_name"] = [names.get(str(n), "") for n in df["node"]]
    return df.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# What `hydro score` shows: ranked tables of one scenario, in units people read (min, %)


def worst_scenario(scores: xr.Dataset) -> str:
    """The scenario to show first: most flood volume (drainage), lowest compliance (supply)."""
    names = [str(s) for s in scores["scenario"].values]
    if "total_flood_volume" in scores:
        key = np.nan_to_num(scores["total_flood_volume"].values, nan=-1.0)
        return names[int(np.argmax(key))]
    if "zone_compliance" in scores and scores.sizes.get("zone", 0):
        values = scores["zone_compliance"].transpose("scenario", "zone").values
        valid = np.isfinite(values)
        key = np.where(valid, values, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
        key = np.where(valid.any(axis=1), key, np.inf)
        return names[int(np.argmin(key))]
    return names[0]


def display_tables(
    scores: xr.Dataset,
    *,
    scenario: str | None = None,
    top: int = 10,
    rules: ScoringRules = DEFAULT_RULES,
) -> dict[str, pd.DataFrame]:
    """Titled, ranked tables for the screen: the scenario summary, then the ``top`` rows of each
    ranked table of ``scenario`` (default: :func:`worst_scenario`)."""
    names = [str(s) for s in scores["scenario"].values]
    chosen = scenario if scenario is not None else worst_scenario(scores)
    if chosen not in names:
        raise ScenarioError(f"no scenario {chosen!r} in the scores; {suggest(chosen, names)}")
    tables = score_tables(scores, rules=rules)
    out: dict[str, pd.DataFrame] = {}
    mine = {
        k: df[df["scenario"].astype(str) == chosen] for k, df in tables.items() if "scenario" in df
    }
    label = f" (scenario {chosen})" if len(names) > 1 else ""
    if "city" in tables:
        city = tables["city"].sort_values("total_flood_volume", ascending=False).head(max(top, 20))
        out["Waterlogging by scenario"] = _show(
            city,
            {
                "scenario": "scenario",
                "waterlogged_points": "points waterlogged",
                "waterlogged_nodes": "nodes waterlogged",
                "flooded_nodes": "nodes flooded",
                "total_flood_volume": "flood volume m³",
            },
        )
        ranked = mine["points"][mine["points"]["hazard_rank"] > 0].head(top)
        out[f"Worst places{label}"] = _show(
            ranked,
            {
                "hazard_rank": "rank",
                "node": "node",
                "point_name": "point",
                "hazard_level": "hazard",
                "max_ponded_depth": "max depth m",
                "waterlogged_duration": "time > lane depth min",
                "flood_volume": "flood volume m³",
                "peak_flooding_rate": "peak m³/s",
                "flooded_duration": "flooded min",
                "service_station": "station",
            },
        )
    if "stations" in tables and len(mine["stations"]):
        out[f"Pump stations{label}"] = _show(
            mine["stations"],
            {
                "station": "station",
                "station_design_capacity": "capacity m³/s",
                "station_peak_inflow": "peak inflow m³/s",
                "station_capacity_ratio": "capacity/peak",
                "station_running_share": "running %",
                "station_full_capacity_share": "at capacity %",
                "station_pumped_volume": "pumped m³",
                "station_peak_wet_well_depth": "wet well max m",
                "station_contributing_area": "area km²",
                "station_flooded_nodes": "flooded nodes",
            },
        )
    if "polders" in tables and len(mine["polders"]):
        out[f"Polders{label}"] = _show(
            mine["polders"],
            {
                "polder": "polder",
                "polder_area": "area km²",
                "polder_covered_area": "covered km²",
                "polder_coverage": "covered %",
            },
        )
    if "zones" in tables:
        out[f"Zones{label}"] = _show(
            mine["zones"],
            {
                "zone": "zone",
                "zone_compliance": "demand at service head %",
                "zone_min_pressure_head": "lowest head m",
            },
        )
    if "sources" in tables:
        out[f"Sources{label}"] = _show(
            mine["sources"],
            {
                "source_name": "source",
                "source_delivery_share": "share of water %",
                "source_main_nodes": "main source of nodes",
                "source_main_population": "people",
                "source_main_demand": "demand m³/s",
            },
        )
    if "boosters" in tables and len(mine["boosters"]):
        worst = mine["boosters"].sort_values("booster_min_pressure_head").head(top)
        out[f"Boosters, lowest head first{label}"] = _show(
            worst,
            {
                "booster": "booster",
                "booster_served_nodes": "nodes",
                "booster_min_pressure_head": "lowest head m",
                "booster_compliance": "time served %",
                "booster_meets_service_head": "meets head",
            },
        )
    return out


def summary_rows(scores: xr.Dataset) -> list[tuple[str, str]]:
    """(label, value) lines under the tables: where the names came from, what is not covered."""
    rows = [
        ("scenarios", f"{scores.sizes['scenario']:,}"),
        ("assets", str(scores.attrs.get("assets", "-"))),
    ]
    if "uncovered_points" in scores and "point_name" in scores.coords:
        named = int((scores["point_name"].values != "").sum())
        total = named or scores.sizes["node"]
        rows.append(
            (
                "waterlogging points no pump station covers",
                f"{int(scores['uncovered_points'].values[0]):,} of {total:,}",
            )
        )
    if "supply_coverage" in scores.attrs:
        rows.append(("supply coverage", str(scores.attrs["supply_coverage"])))
    return rows


_PERCENT = ("share", "coverage", "compliance")
_MINUTES = ("duration", "spell")
_KM2 = ("area",)


def _show(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The chosen columns under display names, in display units (%, minutes, km²)."""
    shown = pd.DataFrame(index=df.index)
    for name, title in columns.items():
        if name not in df:
            continue
        col = df[name]
        if title.endswith("%") and any(k in name for k in _PERCENT):
            col = col * 100.0
        elif title.endswith("min") and any(k in name for k in _MINUTES):
            col = col / 60.0
        elif title.endswith("km²") and any(k in name for k in _KM2):
            col = col / 1e6
        shown[title] = col
    return shown.reset_index(drop=True)
