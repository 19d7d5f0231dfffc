"""Rain on the whole surface in a coupled run: the drainage model's rain moved onto the grid.

By default a coupled run leaves the rain to SWMM: it falls on the subcatchments, runs off into the
network, and the surface only gets what overflows. With ``rain = "surface"`` in the case's
``[drainage]`` section the same storm falls on every cell of the surface instead ("direct
rainfall", rain-on-grid): the water runs over the streets to the manholes and enters the network
through the exchange. So that no drop falls twice, the subcatchments' rain gauges are switched to
a series of zeros (the model keeps its subcatchments, which then make no runoff).

The storm is read from the model's rain gauges: every gauge a subcatchment uses must take its
rain from the same [TIMESERIES] (one storm over the city), in any of SWMM's three formats
(INTENSITY, VOLUME or CUMULATIVE, each value standing for the gauge's recording interval). The
result is the surface's step series: rates [m/s] from times [s] after the model's start.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from hydro.drainage.inp import SwmmInput, parse_clock, parse_date, si_factors
from hydro.errors import InputError

NO_RAIN = "HYDRO_SURFACE_RAIN"  # the zero series the subcatchments' gauges are switched to


def move_rain_to_surface(inp: SwmmInput, where: Path) -> tuple[SwmmInput, np.ndarray, np.ndarray]:
    """The model without rain on its subcatchments, and its storm as (times [s], rates [m/s])."""
    gauges = {row[0]: row for row in inp.rows("RAINGAGES") if row}
    used = sorted({row[1] for row in inp.rows("SUBCATCHMENTS") if len(row) > 1})
    if not used:
        raise InputError(f"{where}: drainage.rain = 'surface': the model has no subcatchments")
    missing = [g for g in used if g not in gauges]
    if missing:
        raise InputError(f"{where}: drainage.rain = 'surface': no rain gauge {missing[0]!r}")
    sources = {}
    for name in used:
        row = gauges[name]
        if len(row) < 6 or row[4].upper() != "TIMESERIES":
            raise InputError(
                f"{where}: drainage.rain = 'surface': rain gauge {name!r} reads a file; "
                "the surface takes its rain from a [TIMESERIES]"
            )
        sources[name] = (row[1].upper(), parse_clock(row[2]), row[5])
    if len(set(sources.values())) > 1:
        raise InputError(
            f"{where}: drainage.rain = 'surface': the subcatchments' gauges read different "
            f"storms ({', '.join(f'{g}: {s[2]}' for g, s in sources.items())}); the surface "
            "takes one storm for the whole grid"
        )
    kind, interval, series = next(iter(sources.values()))
    times, values = _series(inp, series, where)
    times, rates = _rates(times, values, kind, interval)
    rates = rates * si_factors(inp.flow_units).rain
    start = format(inp.start_datetime, "%m/%d/%Y")
    zero = [[NO_RAIN, start, "00:00", "0"]]
    switched = {g: [*gauges[g][:4], "TIMESERIES", NO_RAIN] for g in used}
    inp = inp.replace_rows("RAINGAGES", switched).append_rows("TIMESERIES", zero)
    return inp, times, rates


def _series(inp: SwmmInput, name: str, where: Path) -> tuple[np.ndarray, np.ndarray]:
    """(seconds after the model's start, values) of a [TIMESERIES], sorted by time."""
    start = inp.start_datetime
    times, values = [], []
    date: _dt.date | None = None
    for row in inp.rows("TIMESERIES"):
        if row[0] != name:
            continue
        tokens = row[1:]
        if len(tokens) == 3:  # date time value
            date = parse_date(tokens[0])
            tokens = tokens[1:]
        if len(tokens) != 2:
            raise InputError(f"{where}: [TIMESERIES] {name}: expected (date) time value rows")
        clock = parse_clock(tokens[0]) if ":" in tokens[0] else float(tokens[0]) * 3600.0
        if date is None:  # hours from the start
            times.append(clock)
        else:
            moment = _dt.datetime.combine(date, _dt.time()) + _dt.timedelta(seconds=clock)
            times.append((moment - start).total_seconds())
        values.append(float(tokens[1]))
    if not times:
        raise InputError(f"{where}: drainage.rain = 'surface': no [TIMESERIES] {name!r}")
    order = np.argsort(times, kind="stable")
    return np.asarray(times)[order], np.asarray(values)[order]


def _rates(times, values, kind: str, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Step series of intensities (the model's rain units, per hour) from a gauge's series: each
    value holds for the gauge's interval, as SWMM reads it, and the rain is zero in the gaps."""
    values = np.asarray(values, dtype=np.float64)
    if kind == "CUMULATIVE":
        values = np.diff(values, prepend=0.0)
    if kind in ("VOLUME", "CUMULATIVE"):
        values = values * 3600.0 / interval  # depth per interval -> depth per hour
    steps: dict[float, float] = {0.0: 0.0}
    for k, (t, r) in enumerate(zip(times, values, strict=True)):
        steps[float(t)] = float(r)
        end = float(t) + interval
        if k + 1 == len(times) or times[k + 1] > end:
            steps[end] = 0.0
    t_all = np.array(sorted(steps))
    r_all = np.array([steps[t] for t in t_all])
    first = max(int(np.searchsorted(t_all, 0.0, side="right")) - 1, 0)  # what holds at 0
    t_all, r_all = t_all[first:], r_all[first:]
    t_all[0] = 0.0
    return t_all, r_all
