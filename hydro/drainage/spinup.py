"""A dry spin-up before the run: the state a run starts from when its rivers must be flowing.

SWMM starts every conduit with no flow (a conduit given an initial flow starts at its normal
depth instead, whose volume differs from its nodes' and breaks the mass balance). A river carried
through a model as a channel then starts still: its upstream inflow piles up at the first node
(3,000 m3/s raised the Shuiyang's first node by 1.4 m in a minute in the bundled model) and a surge
runs down the river for about two hours. So a run with channel rivers is preceded by a spin-up:
the same model for ``duration`` seconds without rain, its boundary conditions held at their
start values, saving a SWMM hotstart file; the run then starts from that file (``[FILES] USE
HOTSTART``), rivers flowing. The run's own continuity, statistics and diagnostics then cover the
event only.

:func:`spin_up_input` writes the spin-up's model, :func:`using_hotstart` the run's. Pure:
SwmmInput in, SwmmInput out.
"""

from __future__ import annotations

import datetime as _dt

from hydro.drainage.inp import SwmmInput, format_row
from hydro.drainage.operations import unique_name

DEFAULT_SPIN_UP = 3 * 3600.0  # s: the bundled rivers settle within about two hours


def spin_up_input(inp: SwmmInput, *, duration: float, hotstart: str) -> SwmmInput:
    """``inp`` as the spin-up run: ``duration`` seconds from its START, no rain, stages and
    inflows held at their start values, saving its final state to ``hotstart``."""
    start = inp.start_datetime
    end = start + _dt.timedelta(seconds=float(duration))
    out = _dry(inp)
    out = _frozen_boundaries(out)
    out = out.with_options(
        {
            "END_DATE": f"{end:%m/%d/%Y}",
            "END_TIME": f"{end:%H:%M:%S}",
            "REPORT_START_DATE": f"{start:%m/%d/%Y}",
            "REPORT_START_TIME": f"{start:%H:%M:%S}",
        }
    )
    return _with_file(out, "SAVE", hotstart)


def using_hotstart(inp: SwmmInput, hotstart: str) -> SwmmInput:
    """``inp`` starting from the state saved in ``hotstart`` (replacing any USE HOTSTART, which
    the spin-up started from)."""
    return _with_file(inp, "USE", hotstart)


# ------------------------------------------------------------------------------------------------


def _with_file(inp: SwmmInput, verb: str, path: str) -> SwmmInput:
    kept = [
        line
        for line in inp.section("FILES")
        if [t.upper() for t in line.split(";")[0].split()[:2]] != [verb, "HOTSTART"]
    ]
    return inp.with_section("FILES", [*kept, format_row([verb, "HOTSTART", path]), ""])


def _dry(inp: SwmmInput) -> SwmmInput:
    """Every rain gauge reads a series of zero rain."""
    gauges = inp.rows("RAINGAGES")
    if not gauges:
        return inp
    taken = [t[0] for t in inp.rows("TIMESERIES")] + [t[0] for t in inp.rows("CURVES")]
    name = unique_name("HYDRO_NO_RAIN", taken)
    start = inp.start_datetime
    rows = {
        t[0]: [
            t[0],
            "INTENSITY",
            t[2] if len(t) > 2 else "1:00",
            t[3] if len(t) > 3 else "1.0",
            "TIMESERIES",
            name,
        ]
        for t in gauges
    }
    series = [format_row([name, f"{start:%m/%d/%Y}", f"{start:%H:%M:%S}", "0"])]
    return inp.append_rows("TIMESERIES", series).replace_rows("RAINGAGES", rows)


def _first_values(inp: SwmmInput) -> dict[str, float]:
    """The first value of every time series (the value at the start of an elapsed-time one)."""
    first: dict[str, float] = {}
    for t in inp.rows("TIMESERIES"):
        if t[0] not in first and len(t) >= 3:
            try:
                first[t[0]] = float(t[-1])
            except ValueError:
                continue
    return first


def _frozen_boundaries(inp: SwmmInput) -> SwmmInput:
    """TIMESERIES outfalls become FIXED at their first stage; [INFLOWS] series become constant
    baselines of their first value: the spin-up holds the run's starting conditions."""
    first = _first_values(inp)
    rows = {}
    for t in inp.rows("OUTFALLS"):
        if len(t) > 3 and t[2].upper() == "TIMESERIES" and t[3] in first:
            rows[t[0]] = [t[0], t[1], "FIXED", f"{first[t[3]]:.10g}", *t[4:]]
    out = inp.replace_rows("OUTFALLS", rows) if rows else inp
    inflows = []
    changed = False
    for t in out.rows("INFLOWS"):
        t = t + [""] * (7 - len(t))
        if len(t) > 2 and t[1].upper() == "FLOW" and t[2] and t[2] in first:
            sfactor = float(t[5]) if t[5] else 1.0
            baseline = (float(t[6]) if t[6] else 0.0) + sfactor * first[t[2]]
            t = [t[0], t[1], "", t[3] or "FLOW", t[4] or "1.0", "1.0", f"{baseline:.10g}", *t[7:]]
            changed = True
        inflows.append(format_row(t))
    return out.with_section("INFLOWS", [*inflows, ""]) if changed else out
