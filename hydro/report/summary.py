"""Short, plain-language summaries of a run Dataset, for the CLI and notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydro.kernels.supply import SERVICE_HEAD


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
    span = int(seconds[-1] - seconds[0])
    hours = f"{span // 3600} h" + (f" {span % 3600 // 60} min" if span % 3600 else "")
    return f"{hours}, {len(seconds)} periods of {step / 60:g} min"


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
    return supply_health_rows(ds) + rows


def supply_health_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """A supply run's own health (mass balance, convergence, negative pressures), shown first."""
    rows = []
    if "mass_balance_error" in ds.attrs or "mass_balance_error" in ds:
        error = (
            float(np.nanmax(np.abs(ds["mass_balance_error"].values)))
            if "mass_balance_error" in ds
            else float(ds.attrs["mass_balance_error"])
        )
        flag = "" if error <= 1e-3 else "  TOO LARGE: water created or lost"
        rows.append(("mass balance error (every step)", f"{error:.4%}{flag}"))
    converged = bool(ds.attrs.get("converged", 1))
    steps = int(ds["hydraulic_steps"].values.max()) if "hydraulic_steps" in ds else None
    rows.append(
        (
            "hydraulics converged",
            ("yes" + (f", at all {steps:,} steps" if steps else ""))
            if converged
            else "NO: see the warnings",
        )
    )
    if "negative_pressure_nodes" in ds:
        n = int(ds["negative_pressure_nodes"].values.max())
        low = float(np.nanmin(ds["min_service_pressure"].values))
        rows.append(
            (
                "nodes below 0 m (serving demand)",
                f"{n:,} (lowest {low:.1f} m)" if n else f"none (lowest {low:.1f} m)",
            )
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
    rows = [("question", str(ds.attrs.get("question", "")) or "-"), *supply_health_rows(ds)]
    rows += [
        ("simulated", _span(ds)),
        ("demand model", str(ds.attrs.get("demand_model", ""))),
        ("answers over", str(ds.attrs.get("answers_window", "the whole run"))),
    ]
    head = ds.attrs.get("service_head_m", SERVICE_HEAD)
    for zone in ds["zone"].values:
        pc = ds["pressure_compliance"].sel(zone=zone).values[0]
        unserved = float(ds["unserved_fraction"].sel(zone=zone).values[0])
        if "service_compliance" in ds:
            whole = float(ds["service_compliance"].sel(zone=zone).values[0])
            text = f"{whole:.1%} of node-time, worst hour {np.nanmin(pc):.1%}"
        else:
            text = f"mean {np.nanmean(pc):.1%}, worst hour {np.nanmin(pc):.1%}"
        rows.append((f"{zone}: nodes >= {head:g} m", f"{text}; unserved {unserved:.1%}"))
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
        since = "since the plants" if "clear-water" in str(ds.attrs.get("quality", "")) else ""
        drift = (
            float(ds["water_age_drift"].sel(zone="city").values[0])
            if "water_age_drift" in ds
            else np.nan
        )
        settled = "" if np.isnan(drift) else f" ({drift / 3600:+.1f} h on the day before)"
        rows.append(
            (
                f"mean water age {since} (last 24 h)".replace("  ", " "),
                f"{age / 3600:.1f} h{settled}",
            )
        )
    if "plant" in ds.coords:
        if "plant_volume" in ds and np.isfinite(ds["plant_volume"].values[0]).all():
            days = float(np.nansum(ds["step_duration"].values[0])) / 86400
            out = ds["plant_volume"].values[0] / max(days, 1e-9)
            label = "plant output (every step)"
        else:
            out = ds["plant_output"].values[0].mean(axis=0) * 86400
            label = "plant output (run mean)"
        rows.append(
            (
                label,
                ", ".join(
                    f"{p} {v:,.0f} m³/d" for p, v in zip(ds["plant"].values, out, strict=True)
                ),
            )
        )
    if "pump_in_band" in ds and "pump_station" in ds.coords:
        rows += pump_rows(ds)
    return rows


def pump_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """Per pump station (plants' stations; booster stations together): time-weighted share of
    running time near the rated point, at shut-off, and starts per day."""
    run_time = np.nan_to_num(ds["pump_running_time"].values[0])
    stations = ds["pump_station"].values
    groups: dict[str, list[int]] = {}
    for k, station in enumerate(stations):
        name = "booster stations" if str(station).startswith("BS") else str(station)
        groups.setdefault(name, []).append(k)
    rows = []
    for name, members in groups.items():
        t = run_time[members]
        if t.sum() <= 0:
            continue

        def mean(var: str, members=members, t=t) -> float:
            return float(np.nansum(np.nan_to_num(ds[var].values[0][members]) * t) / t.sum())

        starts = float(np.nansum(ds["pump_starts_per_day"].values[0][members]))
        rows.append(
            (
                f"pumps: {name}",
                f"{mean('pump_in_band'):.0%} of running time at 70-120 % of rated flow, "
                f"{mean('pump_at_shutoff'):.0%} at shut-off, {mean('pump_beyond_curve'):.0%} "
                f"beyond the curve; {starts:.1f} starts/day",
            )
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


# Continuity errors (%) SWMM users treat as fine, and as too large to trust the run
CONTINUITY_OK, CONTINUITY_BAD = 1.0, 10.0


def health_rows(ds: xr.Dataset) -> list[tuple[str, str, str]]:
    """(label, value, 'ok' | 'warn' | 'bad') for the run's own health, shown before its answers:
    convergence, continuity and mass-balance errors, anything the engine warned about."""
    rows: list[tuple[str, str, str]] = []
    if "converged" in ds.attrs:
        converged = bool(int(ds.attrs["converged"]))
        rows.append(
            ("hydraulics converged", "yes" if converged else "NO", "ok" if converged else "bad")
        )
    for key, value in ds.attrs.items():
        if key.endswith("continuity_error") or "mass_balance" in key:
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            size = abs(number) if key.endswith("continuity_error") else abs(number) * 100
            level = "ok" if size <= CONTINUITY_OK else "warn" if size <= CONTINUITY_BAD else "bad"
            rows.append((key.replace("_", " "), f"{size:.2f} %", level))
    for key, var in ds.data_vars.items():
        name = str(key)
        if name in ds.attrs:  # shown above, from the attrs
            continue
        if ("balance" in name or name.startswith("health")) and var.dims == ("scenario",):
            units = str(var.attrs.get("units", ""))
            rows.append((name.replace("_", " "), f"{float(var.values[0]):.4g} {units}", "ok"))
    count = len(warnings_of(ds))
    rows.append(("engine warnings", f"{count}", "ok" if count == 0 else "warn"))
    return rows


def warnings_of(ds: xr.Dataset) -> list[str]:
    """What a user must be told, one per line: the run's health first (hydro's own checks),
    then the answers' (pumps at the end of their curves), then EPANET's warnings."""
    lines = []
    for key in ("health_warnings", "answer_warnings", "scenario_notes", "engine_warnings"):
        text = ds.attrs.get(key, "")
        if isinstance(text, (list, tuple)):
            text = "\n".join(text)
        lines += [line for line in str(text).splitlines() if line.strip()]
    return lines
