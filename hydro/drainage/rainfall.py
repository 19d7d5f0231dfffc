"""Rainfall into a SWMM model: a design storm or an observed series on its rain gauges.

:func:`apply_rainfall` writes the rain as [TIMESERIES] rows (INTENSITY in the model's rain units,
mm/h or in/h, dated), points the chosen [RAINGAGES] at them, and sets the simulation period: it
starts with the rain (or at ``start``) and ends a recession time after the rain stops (or at
``end``). Pure: SwmmInput in, SwmmInput out.

    inp = apply_rainfall(read_inp("drainage.inp"), config.design_storm(return_period=5))
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hydro.drainage.inp import SwmmInput, si_factors
from hydro.drainage.operations import unique_name
from hydro.errors import ScenarioError, suggest, where
from hydro.rain import Hyetograph, RainSeries
from hydro.scenario.schema import check_name, clock, parse_duration

DEFAULT_RECESSION = "6h"
NEW_GAUGE = "RAIN"  # the gauge created when a model has none

GaugeChoice = str | Sequence[str] | Mapping[str, str] | None


def apply_rainfall(
    inp: SwmmInput,
    rain: Hyetograph | RainSeries,
    *,
    gauge: GaugeChoice = None,
    start=None,
    end=None,
    recession=DEFAULT_RECESSION,
) -> SwmmInput:
    """``inp`` with ``rain`` on its rain gauges and the simulation spanning the rain.

    ``rain``: a :class:`Hyetograph` (design storm; starts at ``start``, default the model's
    START) or a :class:`RainSeries` (observed; the run starts at ``start``, default the series'
    first interval). ``gauge``: which model gauges get it: None (all, so every subcatchment; a
    gauge is created when the model has none), a name, a list of names, or a mapping model gauge
    -> series gauge (column) for a multi-gauge series. ``end``: the simulation end (datetime);
    by default the rain's end plus ``recession`` (seconds or a text like '6h'), simulated dry.

    Raises ScenarioError for negative or missing rain, unknown gauges, an observed series that
    does not cover the simulation, and a simulation that ends before it starts.
    """
    recession_s = _recession(recession)
    design = isinstance(rain, Hyetograph)
    t0 = _instant(start) if start is not None else None
    if isinstance(rain, Hyetograph):
        t0 = t0 if t0 is not None else np.datetime64(inp.start_datetime, "ns")
        series = rain.to_rain_series(t0, gauge="design")
    elif isinstance(rain, RainSeries):
        series = rain
        t0 = t0 if t0 is not None else series.start
    else:
        raise TypeError(f"rain must be a Hyetograph or a RainSeries, not {type(rain).__name__}")
    _check_values(series)
    t1 = _instant(end) if end is not None else None
    if t1 is not None and t1 <= t0:
        raise ScenarioError(f"the simulation ends ({_text(t1)}) before it starts ({_text(t0)})")
    if design:
        if t1 is not None and t1 < series.end:
            raise ScenarioError(
                f"the simulation ends ({_text(t1)}) before the design storm does "
                f"({_text(series.end)}); expected an end after the storm"
            )
    else:
        series.check_covers(t0, t1 if t1 is not None else t0)
        series = series.between(t0, t1 if t1 is not None else series.end)
    if t1 is None:
        t1 = series.end + np.timedelta64(recession_s, "s")

    targets = _gauges(inp, series, gauge)
    if not inp.rows("RAINGAGES"):
        inp = _add_gauge(inp)
    label = repr(rain) if design else (series.source or "rain series")
    inp = _write_series(inp, series, targets, label)
    return _set_period(inp, t0, t1)


# ------------------------------------------------------------------------------------------------


def _recession(value) -> int:
    try:
        return parse_duration(value)
    except (ValueError, OverflowError):  # int() of NaN or infinity
        raise ScenarioError(
            f"recession = {value!r}; expected a duration >= 0 in whole seconds, "
            "such as 3600 or '6h'"
        ) from None


def _instant(value) -> np.datetime64:
    try:
        if isinstance(value, _dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        t = np.datetime64(value, "ns")
    except (TypeError, ValueError):
        raise ScenarioError(
            f"{value!r} is not a date and time; expected e.g. '2024-07-01 08:00'"
        ) from None
    if np.isnat(t):
        raise ScenarioError(f"{value!r} is not a date and time")
    return t


def _text(t: np.datetime64) -> str:
    return str(np.datetime_as_string(t, unit="s")).replace("T", " ")


def _check_values(series: RainSeries) -> None:
    values = series.intensity
    bad = ~np.isfinite(values)
    if bad.any():
        k, j = np.argwhere(bad)[0]
        raise ScenarioError(
            f"{where(series.source)}rain at gauge {series.gauges[j]!r}, "
            f"{_text(series.times[k])}, is missing; expected a number >= 0"
        )
    negative = values < 0
    if negative.any():
        k, j = np.argwhere(negative)[0]
        raise ScenarioError(
            f"{where(series.source)}rain at gauge {series.gauges[j]!r}, "
            f"{_text(series.times[k])}, is negative "
            f"({values[k, j] * 3.6e6:g} mm/h); expected >= 0"
        )


def _gauges(inp: SwmmInput, series: RainSeries, gauge: GaugeChoice) -> dict[str, str]:
    """Model gauge -> series gauge for every gauge that gets rain."""
    known = [t[0] for t in inp.rows("RAINGAGES")]
    if isinstance(gauge, Mapping):
        chosen = list(gauge)
        if not chosen:
            raise ScenarioError("gauges: the mapping is empty; name at least one model gauge")
    else:
        chosen = (
            (known or [NEW_GAUGE])
            if gauge is None
            else ([gauge] if isinstance(gauge, str) else list(gauge))
        )
    if known or gauge is not None:
        for model_gauge in chosen:
            check_name("rain gauge", model_gauge, known, where=where(inp.label))
    pairs = (
        dict(gauge) if isinstance(gauge, Mapping) else {g: _column_for(g, series) for g in chosen}
    )
    for model_gauge, column in pairs.items():
        if column not in series.gauges:
            raise ScenarioError(
                f"{where(series.source)}no rain gauge {column!r} in the series "
                f"(for model gauge {model_gauge!r}); "
                f"{suggest(column, series.gauges)}"
            )
    return pairs


def _column_for(model_gauge: str, series: RainSeries) -> str:
    if len(series.gauges) == 1:
        return series.gauges[0]
    if model_gauge in series.gauges:
        return model_gauge
    raise ScenarioError(
        f"{where(series.source)}the series has gauges "
        f"{', '.join(series.gauges)}; say which one feeds model gauge "
        f"{model_gauge!r} (a mapping such as {{ {model_gauge} = "
        f'"{series.gauges[0]}" }})'
    )


def _add_gauge(inp: SwmmInput) -> SwmmInput:
    """A model without gauges gets one, and every subcatchment uses it."""
    rows = {t[0]: [t[0], NEW_GAUGE, *t[2:]] for t in inp.rows("SUBCATCHMENTS") if len(t) > 2}
    inp = inp.append_rows(
        "RAINGAGES", [[NEW_GAUGE, "INTENSITY", "0:05:00", "1.0", "TIMESERIES", "*"]]
    )
    return inp.replace_rows("SUBCATCHMENTS", rows) if rows else inp


def _write_series(
    inp: SwmmInput, series: RainSeries, targets: dict[str, str], label: str
) -> SwmmInput:
    """One dated [TIMESERIES] per series gauge used, and the target gauges pointed at them;
    ``label`` says in a comment what the rain is."""
    to_model = 1.0 / si_factors(inp.flow_units).rain  # m/s -> mm/h or in/h
    taken = [t[0] for t in inp.rows("TIMESERIES")] + [t[0] for t in inp.rows("CURVES")]
    names: dict[str, str] = {}
    lines = [f";; rainfall written by hydro: {label}"]
    stamps = pd.DatetimeIndex(series.times)
    dates = stamps.strftime("%m/%d/%Y")
    times = stamps.strftime("%H:%M:%S")
    end = pd.Timestamp(series.end)
    for column in dict.fromkeys(targets.values()):
        name = unique_name(f"RAIN_{column}", taken)
        taken.append(name)
        names[column] = name
        values = series.gauge(column) * to_model
        lines += [
            f"{name}  {d}  {t}  {v:.6g}" for d, t, v in zip(dates, times, values, strict=True)
        ]
        lines.append(f"{name}  {end:%m/%d/%Y}  {end:%H:%M:%S}  0")  # the rain stops here
    gauges = {t[0]: t for t in inp.rows("RAINGAGES")}
    rows = {}
    for model_gauge, column in targets.items():
        old = gauges[model_gauge]
        scf = old[3] if len(old) > 3 else "1.0"
        rows[model_gauge] = [
            model_gauge,
            "INTENSITY",
            clock(round(series.step)),
            scf,
            "TIMESERIES",
            names[column],
        ]
    return inp.append_rows("TIMESERIES", lines).replace_rows("RAINGAGES", rows)


def _set_period(inp: SwmmInput, t0: np.datetime64, t1: np.datetime64) -> SwmmInput:
    start, end = pd.Timestamp(t0), pd.Timestamp(t1)
    return inp.with_options(
        {
            "START_DATE": f"{start:%m/%d/%Y}",
            "START_TIME": f"{start:%H:%M:%S}",
            "REPORT_START_DATE": f"{start:%m/%d/%Y}",
            "REPORT_START_TIME": f"{start:%H:%M:%S}",
            "END_DATE": f"{end:%m/%d/%Y}",
            "END_TIME": f"{end:%H:%M:%S}",
        }
    )


def set_period(inp: SwmmInput, *, start=None, end=None, duration=None) -> SwmmInput:
    """``inp`` simulated from ``start`` (default its START) to ``end`` or for ``duration``
    (seconds or text); the model's own rainfall is kept."""
    t0 = _instant(start) if start is not None else np.datetime64(inp.start_datetime, "ns")
    if end is not None:
        t1 = _instant(end)
    elif duration is not None:
        t1 = t0 + np.timedelta64(parse_duration(duration), "s")
    else:
        t1 = t0 + np.timedelta64(int((inp.end_datetime - inp.start_datetime).total_seconds()), "s")
    if t1 <= t0:
        raise ScenarioError(f"the simulation ends ({_text(t1)}) before it starts ({_text(t0)})")
    return _set_period(inp, t0, t1)
