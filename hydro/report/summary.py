"""Short, plain-language summaries of a run Dataset, for the CLI and notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr


def run_summary(ds: xr.Dataset) -> list[tuple[str, str]]:
    """(label, value) rows describing one run: size, time span, the headline numbers."""
    rows = [
        (
            "model",
            f"{ds.attrs.get('network_file', '?')} ({ds.attrs.get('engine', '?')} "
            f"{ds.attrs.get('engine_version', '')})",
        ),
        (
            "elements",
            ", ".join(
                f"{n:,} {dim}s" for dim, n in ds.sizes.items() if dim not in ("scenario", "time")
            ),
        ),
        ("simulated", _span(ds)),
    ]
    if ds.attrs.get("engine") == "EPANET":
        rows += _supply_rows(ds)
    else:
        rows += _drainage_rows(ds)
    return rows


def _span(ds: xr.Dataset) -> str:
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.int64)
    if len(seconds) < 2:
        return "steady state (1 period)"
    step = int(np.median(np.diff(seconds)))
    return f"{(seconds[-1] - seconds[0]) / 3600:g} h, {len(seconds)} periods of {step / 60:g} min"


def _supply_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    junction = (ds["node_type"] == "junction").values
    pressure = ds["pressure_head"].values[..., junction]
    demand = ds["demand"].values[..., junction]
    rows = []
    if pressure.size:
        finite = pressure[np.isfinite(pressure)]
        rows.append(
            (
                "junction pressure head",
                f"min {finite.min():.1f} m, median "
                f"{np.median(finite):.1f} m, max {finite.max():.1f} m",
            )
        )
        rows.append(("junction-periods below 0 m", f"{np.mean(pressure < 0):.1%}"))
        rows.append(("mean junction demand", f"{demand.sum(axis=-1).mean() * 86400:,.0f} m³/d"))
    rows.append(("demand model", str(ds.attrs.get("demand_model", "DDA"))))
    rows.append(
        ("hydraulics converged", "yes" if ds.attrs.get("converged", 1) else "NO: see warnings")
    )
    return rows


def _drainage_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    rows = []
    if "routing_steps_not_converging" in ds.attrs:
        share = float(ds.attrs["routing_steps_not_converging"])
        rows.append(
            ("converged", "yes" if int(ds.attrs.get("converged", 1)) else "NO: see warnings")
        )
        rows.append(("routing steps not converging", f"{share:.2%}"))
    if "node_continuity_error_max" in ds.attrs:
        rows.append(
            (
                "largest node continuity error",
                f"{float(ds.attrs['node_continuity_error_max']):.2%} at "
                f"{ds.attrs.get('node_continuity_error_node', '?')}",
            )
        )
    for key, label in (
        ("runoff_continuity_error", "runoff continuity error"),
        ("flow_routing_continuity_error", "flow routing continuity error"),
    ):
        if key in ds.attrs:
            rows.append((label, f"{float(ds.attrs[key]):.2f} %"))
    if "flooding_rate" in ds:
        rate = ds["flooding_rate"].values
        flooded = int(np.sum(np.nanmax(rate, axis=(0, 1)) > 0)) if rate.size else 0
        seconds = ds["time"].values.astype("timedelta64[s]").astype(float)
        total = (
            float(np.trapezoid(np.nansum(rate, axis=-1), seconds, axis=-1).sum())
            if len(seconds) > 1
            else 0.0
        )
        rows.append(("nodes flooding", f"{flooded:,}"))
        if "engine_flood_volume" in ds:
            engine = float(np.nansum(ds["engine_flood_volume"].values))
            rows.append(("flood volume (SWMM's Node Flooding Summary)", f"{engine:,.0f} m³"))
        else:
            rows.append(("flood volume (report steps)", f"{total:,.0f} m³"))
    if "water_budget" in ds:
        budget = ds["water_budget"].isel(scenario=0).to_series()
        if budget.get("flooding_lost", 0) > 0:
            rows.append(("flooding lost from the model", f"{budget['flooding_lost']:,.0f} m³"))
    if "flow" in ds and "link_type" in ds.coords:
        pumps = (ds["link_type"] == "pump").values
        if pumps.any():
            peak = float(np.nanmax(np.abs(ds["flow"].values[..., pumps])))
            rows.append(("peak pump flow", f"{peak:.3f} m³/s"))
    return rows


def supply_answer_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """The planners' headline answers of one supply scenario run."""
    rows = [
        ("question", str(ds.attrs.get("question", "")) or "-"),
        ("simulated", _span(ds)),
        ("demand model", str(ds.attrs.get("demand_model", ""))),
    ]
    head = ds.attrs.get("service_head_m", 28)
    for zone in ds["zone"].values:
        pc = ds["pressure_compliance"].sel(zone=zone).values[0]
        unserved = float(ds["unserved_fraction"].sel(zone=zone).values[0])
        rows.append(
            (
                f"{zone}: nodes >= {head:g} m",
                f"mean {np.nanmean(pc):.1%}, worst hour "
                f"{np.nanmin(pc):.1%}; unserved {unserved:.1%}",
            )
        )
    if "zone_source_share" in ds:
        # The last day: by then the water present at the start has mostly been drawn off.
        city = ds["zone_source_share"].sel(zone="city").values[0][_last_day(ds)]
        mean = np.nanmean(city, axis=0)
        shares = ", ".join(
            f"{s} {v:.0%}" for s, v in zip(ds["source"].values, mean, strict=True) if v >= 0.005
        )
        rows.append(("city source shares (last 24 h)", shares))
    if "mean_water_age" in ds:
        age = float(ds["mean_water_age"].sel(zone="city").values[0])
        rows.append(("mean water age (last 24 h)", f"{age / 3600:.1f} h"))
    if "plant" in ds.coords:
        out = ds["plant_output"].values[0].mean(axis=0) * 86400
        rows.append(
            (
                "plant output (run mean)",
                ", ".join(
                    f"{p} {v:,.0f} m³/d" for p, v in zip(ds["plant"].values, out, strict=True)
                ),
            )
        )
    rows.append(
        ("hydraulics converged", "yes" if ds.attrs.get("converged", 1) else "NO: see warnings")
    )
    return rows


def _last_day(ds: xr.Dataset) -> np.ndarray:
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.int64)
    return seconds >= max(int(seconds[-1]) - 86400, 0)


def supply_table(answers: xr.Dataset) -> pd.DataFrame:
    """One row per supply scenario: city compliance, unserved demand, water age, plant output."""
    rows = []
    for name in answers["scenario"].values:
        one = answers.sel(scenario=name)
        city = one.sel(zone="city")
        row = {
            "scenario": str(name),
            "nodes at service head (mean)": float(np.nanmean(city["pressure_compliance"])),
            "worst hour": float(np.nanmin(city["pressure_compliance"])),
            "unserved": float(city["unserved_fraction"]),
        }
        if "mean_water_age" in one:
            row["water age h"] = float(city["mean_water_age"]) / 3600
        if "plant" in one.coords:
            for plant in one["plant"].values:
                row[f"{plant} m³/d"] = (
                    float(np.nanmean(one["plant_output"].sel(plant=plant))) * 86400
                )
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("nodes at service head (mean)", "worst hour", "unserved"):
        frame[column] = frame[column].map(lambda v: f"{v:.1%}")
    return frame


def warnings_of(ds: xr.Dataset) -> list[str]:
    """The run's own health warnings (hydro's checks of the engine's diagnostics) first, then
    the engine's warnings, one per line."""
    lines = []
    for key in ("health_warnings", "engine_warnings"):
        text = ds.attrs.get(key, "")
        lines += [line for line in str(text).splitlines() if line.strip()]
    return lines
