"""Time series: a node's hydrograph, compliance over time, pump-station load, the rain.

Time runs along x in hours since the start (EPANET) or in dates (SWMM's START_DATE), never in
nanoseconds; values are shown in the units people use (m, m³/s, mm/h, %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from hydro.report.style import axes_or_new, format_time_axis, time_values

SERIES_SIZE = (7.5, 3.6)

# (scale, units shown) of the variables a hydrograph can draw
_SHOWN = {
    "pressure_head": (1.0, "m"),
    "hydraulic_head": (1.0, "m"),
    "water_depth": (1.0, "m"),
    "demand": (86400.0, "m³/d"),
    "flow": (1.0, "m³/s"),
    "flooding_rate": (1.0, "m³/s"),
    "total_inflow": (1.0, "m³/s"),
    "ponded_volume": (1.0, "m³"),
    "node_volume": (1.0, "m³"),
    "tank_level": (1.0, "m"),
    "water_age": (1 / 3600, "h"),
}


def hydrograph(
    ds: xr.Dataset,
    nodes: str | Sequence[str],
    variable: str | None = None,
    *,
    ax=None,
    title: str = "",
    threshold: float | None = None,
    threshold_label: str = "",
):
    """One line per node of a (scenario, time, node) variable (default: pressure head for a
    supply run, water depth for a drainage run), first scenario. ``threshold`` draws a dashed
    reference line (e.g. the service head). Returns the Axes."""
    ax = axes_or_new(ax, SERIES_SIZE)
    nodes = [nodes] if isinstance(nodes, str) else list(nodes)
    if variable is None:
        variable = "pressure_head" if "pressure_head" in ds else "water_depth"
    scale, units = _SHOWN.get(variable, (1.0, str(ds[variable].attrs.get("units", ""))))
    t, t_label, dates = time_values(ds)
    dim = ds[variable].dims[-1]
    for node in nodes:
        values = ds[variable].isel(scenario=0).sel({dim: node}).values * scale
        ax.plot(t, values, label=str(node), lw=1.4)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=0.8, label=threshold_label or None)
    ax.set_xlabel(t_label)
    long_name = str(ds[variable].attrs.get("long_name", variable))
    ax.set_ylabel(f"{variable.replace('_', ' ')} ({units})")
    ax.set_title(title or long_name[:1].upper() + long_name[1:])
    if len(nodes) > 1 or threshold is not None:
        ax.legend(fontsize="small", ncols=2 if len(nodes) > 4 else 1)
    ax.grid(alpha=0.3)
    format_time_axis(ax, dates)
    return ax


def compliance_over_time(ds: xr.Dataset, *, ax=None, zones: Sequence[str] | None = None):
    """Share of each zone's demand nodes at or above the service head, in % over time."""
    ax = axes_or_new(ax, SERIES_SIZE)
    t, t_label, dates = time_values(ds)
    compliance = ds["pressure_compliance"].isel(scenario=0)
    for zone in zones or [str(z) for z in compliance["zone"].values]:
        width = 2.4 if zone == "city" else 1.2
        ax.plot(t, 100 * compliance.sel(zone=zone).values, label=zone, lw=width)
    head = float(ds.attrs.get("service_head_m", 28.0))
    ax.set_ylim(-2, 102)
    ax.set_xlabel(t_label)
    ax.set_ylabel(f"demand nodes ≥ {head:g} m (%)")
    ax.set_title("Pressure compliance over time, by zone")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    format_time_axis(ax, dates)
    return ax


def plant_output(ds: xr.Dataset, *, ax=None):
    """What each source's plant sends into the city over time (m³/d)."""
    ax = axes_or_new(ax, SERIES_SIZE)
    t, t_label, dates = time_values(ds)
    out = ds["plant_output"].isel(scenario=0)
    for plant in out["plant"].values:
        ax.plot(t, out.sel(plant=plant).values * 86400, label=str(plant))
    ax.set_xlabel(t_label)
    ax.set_ylabel("plant output (m³/d)")
    ax.ticklabel_format(axis="y", style="plain")
    ax.set_title("Water each source's plant sends into the network")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    format_time_axis(ax, dates)
    return ax


def station_load(
    ds: xr.Dataset,
    stations: Mapping[str, Sequence[str]],
    *,
    capacities: Mapping[str, float | None] | None = None,
    ax=None,
):
    """Flow pumped by each station (the sum of its pumps' flows, m³/s) over time, with its
    design capacity dashed in the same colour when known."""
    ax = axes_or_new(ax, SERIES_SIZE)
    t, t_label, dates = time_values(ds)
    flow = ds["flow"].isel(scenario=0)
    links = {str(v) for v in flow["link"].values}
    for name, pumps in stations.items():
        present = [p for p in pumps if p in links]
        if not present:
            continue
        total = np.abs(flow.sel(link=present).values).sum(axis=-1)
        (line,) = ax.plot(t, total, label=name)
        capacity = (capacities or {}).get(name)
        if capacity:
            ax.axhline(capacity, color=line.get_color(), ls="--", lw=0.8)
    ax.set_xlabel(t_label)
    ax.set_ylabel("pumped flow (m³/s)")
    ax.set_title("Pump-station load (dashed: design capacity)")
    ax.legend(fontsize="small", ncols=2)
    ax.grid(alpha=0.3)
    format_time_axis(ax, dates)
    return ax


def rain_hyetograph(ds: xr.Dataset, *, ax=None):
    """The rain the run received: intensity at each rain gauge (mm/h) as steps."""
    ax = axes_or_new(ax, SERIES_SIZE)
    t, t_label, dates = time_values(ds)
    rain = ds["rain_intensity"].isel(scenario=0) * 3.6e6
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    drawn = [g for g in rain["gauge"].values if np.isfinite(rain.sel(gauge=g).values).any()]
    for gauge in drawn:
        ax.step(t, rain.sel(gauge=gauge).values, where="pre", label=str(gauge))
    if "rain_depth" in ds.attrs:  # the storm's own depth; report steps may sample it coarsely
        depth = float(ds.attrs["rain_depth"]) * 1e3
    elif drawn:
        values = rain.sel(gauge=drawn[0]).values
        depth = float(np.nansum(values[1:] * np.diff(seconds) / 3600.0))
    else:
        depth = 0.0
    ax.text(0.99, 0.95, f"{depth:.1f} mm", transform=ax.transAxes, ha="right", va="top")
    if len(drawn) > 1:
        ax.legend(fontsize="small", title="rain gauge")
    ax.set_xlabel(t_label)
    ax.set_ylabel("rain intensity (mm/h)")
    ax.set_title("Rainfall (hyetograph)")
    ax.grid(alpha=0.3)
    format_time_axis(ax, dates)
    return ax
