"""What every figure shares: new axes without pyplot, time axes in hours or dates, PNG bytes.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot state, no GUI
backend): the CLI and the HTML report render them with Agg, a notebook shows ``ax.figure``.
"""

from __future__ import annotations

import io

import numpy as np
import xarray as xr

from hydro.results import time_origin

SECONDS_PER_HOUR = 3600.0


def new_axes(
    figsize: tuple[float, float] = (7.0, 4.0), *, ncols: int = 1, nrows: int = 1, **subplots
):
    """A Figure with its Axes (an array when there are several), drawn with Agg; ``subplots``
    go to :meth:`~matplotlib.figure.Figure.subplots` (``sharey="row"``, ``height_ratios``...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplots)
    return fig, axes


def axes_or_new(ax, figsize: tuple[float, float] = (7.0, 4.0)):
    return ax if ax is not None else new_axes(figsize)[1]


def time_values(ds: xr.Dataset) -> tuple[np.ndarray, str, bool]:
    """The x values of a time axis, its label, and whether they are dates.

    Dates when the model has a calendar date (SWMM's START_DATE), else hours since the start
    (EPANET has only a clock time). Never nanoseconds.
    """
    elapsed = ds["time"].values.astype("timedelta64[s]").astype(np.int64)
    origin, real = time_origin(ds.attrs)
    if real:
        start = np.datetime64(origin, "s")
        return start + elapsed.astype("timedelta64[s]"), "date and time", True
    return elapsed / SECONDS_PER_HOUR, "hours since the start of the run", False


def moment_label(ds: xr.Dataset, k: int) -> str:
    """The k-th report time in words: a date and clock time, or h:mm since the start."""
    t, _, dates = time_values(ds)
    if dates:
        return str(np.datetime_as_string(t[k], unit="m")).replace("T", " ")
    minutes = round(float(t[k]) * 60)
    return f"{minutes // 60}:{minutes % 60:02d} h"


def format_time_axis(ax, dates: bool) -> None:
    """Readable ticks: concise dates, or hours in steps of 1, 2, 3, 6, 12 or 24."""
    if dates:
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 3, 6, 10]))


def png_bytes(fig, dpi: int = 100) -> bytes:
    """The figure as PNG (Agg), for the HTML report or a file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    return buffer.getvalue()


def save(fig, path, dpi: int = 120) -> None:
    """Write the figure to ``path`` (format from the suffix)."""
    fig.savefig(path, dpi=dpi)
