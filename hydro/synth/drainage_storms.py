"""Put a design storm and a river stage into a SWMM model (a :class:`SwmmInput`, never a file).

Small edits that the drainage tests and the bundled model use today; the drainage scenario
operations build on them. Each returns a new :class:`~hydro.drainage.inp.SwmmInput`; the caller
runs it (``hydro.drainage.run``) or writes it wherever it likes, never beside the original.

* :func:`apply_design_storm` points a rain gauge at a [TIMESERIES] holding the hyetograph
  (INTENSITY in mm/h: the model must use SI flow units) and sets the simulation to cover the
  storm plus a recession time.
* :func:`set_river_stage` gives outfalls a FIXED stage (m): the river-stage boundary.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from pathlib import Path

from hydro.drainage.inp import SI_FLOW_UNITS, SwmmInput, format_row, read_inp, split_tokens
from hydro.errors import InputError, ScenarioError, suggest, where
from hydro.rain import Hyetograph

DESIGN_SERIES = "DESIGN_STORM"
DEFAULT_RECESSION = 4 * 3600.0  # s simulated after the storm ends


def _model(model: SwmmInput | str | Path) -> SwmmInput:
    return model if isinstance(model, SwmmInput) else read_inp(model)


# ------------------------------------------------------------------------------------------------
# Formatting shared with the generator


def clock(seconds: float) -> str:
    """Seconds -> 'H:MM:SS' (hours may exceed 24), SWMM's time-of-series format."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def gauge_interval(step: float) -> str:
    """A rain gauge's recording interval: 'H:MM' when whole minutes, else decimal hours."""
    minutes = step / 60.0
    if abs(minutes - round(minutes)) < 1e-9:
        m = int(round(minutes))
        return f"{m // 60}:{m % 60:02d}"
    return f"{step / 3600.0:.6f}"


def raingage_row(gauge: str, step: float, series: str = DESIGN_SERIES) -> str:
    return f"{gauge:<16} INTENSITY {gauge_interval(step):<8} 1.0      TIMESERIES {series}"


def timeseries_rows(hyetograph: Hyetograph, series: str = DESIGN_SERIES) -> list[str]:
    """A comment naming the storm, one row per interval (intensity in mm/h), and a closing zero
    at the storm's end."""
    mm_per_h = hyetograph.to_mm_per_hour()
    rows = [f";{series}: {hyetograph!r}"]
    rows += [f"{series:<16} {clock(t):>10} {v:10.4f}"
             for t, v in zip(hyetograph.times, mm_per_h, strict=True)]
    rows.append(f"{series:<16} {clock(hyetograph.duration):>10} {0.0:10.4f}")
    return rows


# ------------------------------------------------------------------------------------------------
# Edits


def apply_design_storm(model: SwmmInput | str | Path, hyetograph: Hyetograph, *,
                       gauge: str | None = None, series: str = DESIGN_SERIES,
                       recession: float = DEFAULT_RECESSION) -> SwmmInput:
    """``model`` with ``hyetograph`` falling on a rain gauge and the run spanning the storm.

    ``gauge``: which [RAINGAGES] gauge (default: the first); it becomes an INTENSITY gauge read
    from time series ``series``, whose [TIMESERIES] rows are replaced. Every subcatchment keeps
    its own gauge. The simulation (and reporting) starts at START and ends ``recession`` seconds
    after the storm.
    """
    inp = _model(model)
    if inp.flow_units not in SI_FLOW_UNITS:
        raise InputError(f"{where(inp.source)}[OPTIONS] FLOW_UNITS is {inp.flow_units}; a design "
                         f"storm in mm/h needs SI flow units ({', '.join(SI_FLOW_UNITS)})")
    if not math.isfinite(recession) or recession < 0:
        raise ScenarioError(f"design storm: recession = {recession} s; expected >= 0 s")
    gauges = [row[0] for row in inp.rows("RAINGAGES")]
    if not gauges:
        raise InputError(f"{where(inp.source)}[RAINGAGES] is empty; expected a rain gauge for "
                         "the storm")
    gauge = gauges[0] if gauge is None else gauge
    if gauge not in gauges:
        raise ScenarioError(f"{where(inp.source)}rain gauge {gauge!r} is not in [RAINGAGES]; "
                            f"{suggest(gauge, gauges)}")
    inp = inp.replace_rows("RAINGAGES", {gauge: raingage_row(gauge, hyetograph.step, series)})
    kept = [line for line in inp.section("TIMESERIES")
            if not line.startswith(f";{series}:")
            and (not (tokens := split_tokens(line)) or tokens[0] != series)]
    while kept and not kept[-1].strip():
        kept.pop()
    inp = inp.with_section("TIMESERIES", [*kept, *timeseries_rows(hyetograph, series), ""])
    start = inp.start_datetime
    end = start + _dt.timedelta(seconds=float(hyetograph.duration + recession))
    return inp.with_options({
        "REPORT_START_DATE": start.strftime("%m/%d/%Y"),
        "REPORT_START_TIME": start.strftime("%H:%M:%S"),
        "END_DATE": end.strftime("%m/%d/%Y"),
        "END_TIME": end.strftime("%H:%M:%S"),
    })


def set_river_stage(model: SwmmInput | str | Path, stage: float, *,
                    outfalls: Iterable[str] | None = None) -> SwmmInput:
    """``model`` with a FIXED ``stage`` (m above datum, the model's length units) at
    ``outfalls`` (default: every outfall). Flap gates and route-to nodes are kept."""
    inp = _model(model)
    try:
        stage = float(stage)
    except (TypeError, ValueError):
        raise ScenarioError(f"river stage must be a level in m, got {stage!r}") from None
    if not math.isfinite(stage):
        raise ScenarioError(f"river stage must be a finite level in m, got {stage}")
    table = inp.outfalls()
    known = list(table.index)
    wanted = known if outfalls is None else list(dict.fromkeys(outfalls))
    for name in wanted:
        if name not in table.index:
            raise ScenarioError(f"{where(inp.source)}outfall {name!r} is not in [OUTFALLS]; "
                                f"{suggest(name, known)}")
    inverts = {tokens[0]: tokens[1] for tokens in inp.rows("OUTFALLS")}
    rows = {}
    for name in wanted:
        row = table.loc[name]
        tail = ["YES" if row["gated"] else "NO"]
        if row["route_to"]:
            tail.append(row["route_to"])
        rows[name] = format_row([name, inverts[name], "FIXED", f"{stage:.3f}", *tail])
    return inp.replace_rows("OUTFALLS", rows)
