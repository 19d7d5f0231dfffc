"""Figures of the Gangkouwan decision study (:mod:`hydro.supply.capacity_study`) and of the
reservoir's drawdown (:mod:`hydro.supply.reservoir`)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import xarray as xr

from hydro.report.style import new_axes

DAY = 86400
_OTHERS = ("plant_capacity", "transmission_diameter", "aid_diameter", "level")


def study_curves(study: xr.Dataset, path: str | Path | None = None):
    """What each case delivers, serves and keeps at the service head, against the swept size:
    one column per outage case, each row on one y-axis shared by all columns and starting from
    zero (a 0.3 % difference looks like one), the city's demand, the plant's capacity and the
    compliance target drawn as lines, the binding element written at each point. Returns the
    Figure (also written to ``path`` when given)."""
    kind = study.attrs["swept"]
    outages = [str(o) for o in study["outage"].values]
    fig, axes = new_axes(
        (4.2 * len(outages) + 1, 8.5), ncols=len(outages), nrows=3, sharex=True, sharey="row"
    )
    axes = np.asarray(axes).reshape(3, len(outages))
    x = study["size"].values * (1000 if kind == "diameter" else DAY)
    combos = list(itertools.product(*(range(study.sizes[d]) for d in _OTHERS)))
    for col, out in enumerate(outages):
        for combo in combos:
            case = study.sel(outage=out).isel(dict(zip(_OTHERS, combo, strict=True)))
            label = _line_label(study, combo) or "as built"
            axes[0, col].plot(x, case["study_delivered_flow"].values * DAY, marker="o", label=label)
            axes[1, col].plot(x, case["study_served_flow"].values * DAY, marker="o", label=label)
            axes[2, col].plot(x, case["study_compliance"].values * 100, marker="o", label=label)
            if "study_binding" in case:
                for xi, yi, text in zip(
                    x,
                    case["study_served_flow"].values * DAY,
                    case["study_binding"].values,
                    strict=True,
                ):
                    short = str(text).split(":")[0].replace("_", " ")
                    axes[1, col].annotate(
                        short,
                        (xi, yi),
                        fontsize=7,
                        xytext=(0, -12),
                        textcoords="offset points",
                        ha="center",
                    )
        demand = float(study["study_demand_flow"].sel(outage=out).mean()) * DAY
        axes[1, col].axhline(demand, color="k", ls="--", lw=1, label="city demand")
        for capacity in study["plant_capacity"].values:
            axes[0, col].axhline(capacity * DAY, color="grey", ls=":", lw=1)
        axes[2, col].axhline(100, color="k", ls="--", lw=1, label="target: every node at 28 m")
        axes[0, col].set_title("rivers out: " + out)
        axes[2, col].set_xlabel(
            "raw main diameter (mm)" if kind == "diameter" else "flow cap (m³/d)"
        )
    axes[0, 0].set_ylabel(f"{study.attrs['source']} delivered (m³/d)\n(dotted: plant capacity)")
    axes[1, 0].set_ylabel("city demand served (m³/d)\n(text: what binds)")
    axes[2, 0].set_ylabel("pressure compliance (%)")
    top = max(float(study["study_demand_flow"].max()), float(study["plant_capacity"].max())) * DAY
    axes[0, 0].set_ylim(0, top * 1.08)
    axes[1, 0].set_ylim(0, top * 1.08)
    axes[2, 0].set_ylim(0, 105)
    for ax in axes.flat:
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
        ax.grid(alpha=0.3)
    axes[1, 0].legend(fontsize="small", loc="lower right")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _line_label(study: xr.Dataset, combo: tuple[int, ...]) -> str:
    parts = []
    for dim, k in zip(_OTHERS, combo, strict=True):
        if study.sizes[dim] < 2:
            continue
        v = float(study[dim].values[k])
        if dim == "plant_capacity":
            parts.append(f"plant {v * DAY:,.0f}")
        elif dim == "transmission_diameter":
            parts.append(f"mains DN{v * 1000:.0f}")
        elif dim == "aid_diameter":
            parts.append("aid as built" if not v else f"aid DN{v * 1000:.0f}")
        else:
            parts.append("model level" if np.isnan(v) else f"level {v:g} m")
    return ", ".join(parts)


def main_profile(study: xr.Dataset, path: str | Path | None = None, *, outage=None):
    """The raw main's profile for one outage case: the node elevations (pipe and ground in the
    model) and the hydraulic grade of every swept size at the hour of largest raw-water flow,
    against chainage; each line's flow, lowest pressure (and where) and the head the
    flow-control valve burns in the legend. Returns the Figure (written to ``path`` if given)."""
    from hydro.errors import ScenarioError

    if "study_main_head" not in study:
        raise ScenarioError("this study has no raw-main profile (its main does not chain)")
    out = str(study["outage"].values[0]) if outage is None else outage
    case = study.sel(outage=out).isel(dict.fromkeys(_OTHERS, 0))
    km = study["main_chainage"].values / 1000
    fig, ax = new_axes((9, 5))
    ground = study["main_elevation"].values
    # The first node is the reservoir: its "elevation" is its water level, not ground.
    ax.fill_between(km[1:], ground[1:], color="0.85", label="ground / pipe (node elevations)")
    ax.plot(km[1:], ground[1:], color="0.4", lw=1)
    ax.plot(km[:1], ground[:1], "bv", label=f"reservoir level {ground[0]:.0f} m")
    kind = study.attrs["swept"]
    for k, size in enumerate(study["size"].values):
        one = case.isel(size=k)
        name = f"DN{size * 1000:.0f}" if kind == "diameter" else f"{size * DAY:,.0f} m3/d"
        flow = float(one["study_main_flow"]) * DAY
        burned = float(one["study_valve_head"])
        low, at = float(one["study_main_min_pressure"]), float(one["study_main_min_pressure_at"])
        label = f"{name}: {flow:,.0f} m³/d, lowest pressure {low:.0f} m at {at / 1000:.1f} km" + (
            f", valve burns {burned:.0f} m" if np.isfinite(burned) else ""
        )
        ax.plot(km, one["study_main_head"].values, marker=".", label=label)
    ax.set_xlabel("chainage from the reservoir (km)")
    ax.set_ylabel("elevation / hydraulic grade (m)")
    ax.set_title(
        f"{study.attrs['source']} raw main, rivers out: {out} "
        "(grade at the hour of largest raw-water flow)"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def drawdown_curves(result: xr.Dataset, path: str | Path | None = None):
    """Reservoir level against days for each delivery rate, with the flood-limit and minimum
    levels, and the inflow below. Returns the Figure (written to ``path`` when given)."""
    fig, (ax, inflow) = new_axes((9, 6), nrows=2, sharex=True, height_ratios=[3, 1])
    days = result["day"].values
    for rate in result["delivery"].values:
        reached = float(result["days_to_minimum_level"].sel(delivery=rate))
        when = f"minimum after {reached:.0f} d" if np.isfinite(reached) else "minimum not reached"
        ax.plot(
            days,
            result["reservoir_level"].sel(delivery=rate),
            label=f"{rate * DAY:,.0f} m³/d: {when}",
        )
    ax.axhline(result.attrs["flood_limit_m"], color="b", ls="--", lw=1, label="flood limit")
    ax.axhline(result.attrs["minimum_level_m"], color="r", ls="--", lw=1, label="minimum level")
    ax.set_ylabel("reservoir level (m)")
    ax.set_title(f"{result.attrs['reservoir']} reservoir: dry-season drawdown")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    inflow.plot(days, result["inflow"].values, color="k")
    inflow.axhline(result.attrs["release_m3s"], color="grey", ls=":", label="release downstream")
    inflow.set_ylabel("inflow (m³/s)")
    inflow.set_xlabel("days since the start of the dry season")
    inflow.set_ylim(bottom=0)
    inflow.legend(fontsize="small")
    inflow.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
