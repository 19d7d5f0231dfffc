"""Plots of storm formulas and design storms: IDF curves and a design hyetograph."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from hydro.rain.formula import StormFormula, idf_table
from hydro.rain.hyetograph import Hyetograph
from hydro.report.style import axes_or_new


def plot_idf(
    formula: StormFormula,
    ax=None,
    *,
    return_periods: Iterable[float] | None = None,
    durations: Iterable[float] | None = None,
):
    """IDF curves: mean intensity (mm/h) against duration (min, log scale), one line per return
    period. ``durations`` in seconds (default 5 min to 24 h), ``return_periods`` in years.
    Returns the matplotlib Axes."""
    ax = axes_or_new(ax, (7, 4.5))
    if durations is None:
        durations = np.geomspace(300.0, 86400.0, 60)
    table = idf_table(formula, durations=durations, return_periods=return_periods)
    minutes = table["duration"].values / 60.0
    for p in table["return_period"].values:
        mm_per_hour = table["idf_intensity"].sel(return_period=p).values * 3.6e6
        ax.plot(minutes, mm_per_hour, label=f"P = {p:g} a")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("duration (min)")
    ax.set_ylabel("mean intensity (mm/h)")
    ax.set_title(formula.name or "IDF curves")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="return period")
    return ax


def plot_hyetograph(hyetograph: Hyetograph, ax=None):
    """The storm as bars of intensity (mm/h) against minutes from its start. Returns the Axes."""
    ax = axes_or_new(ax, (7, 4))
    ax.bar(
        hyetograph.times / 60.0,
        hyetograph.to_mm_per_hour(),
        width=hyetograph.step / 60.0,
        align="edge",
        edgecolor="none",
    )
    ax.set_xlabel("time from storm start (min)")
    ax.set_ylabel("intensity (mm/h)")
    ax.set_title(
        f"{hyetograph.pattern}, P = {hyetograph.return_period:g} a, {hyetograph.depth * 1e3:.1f} mm"
    )
    return ax
