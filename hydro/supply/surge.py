"""What could go wrong on a long raw-water main: a break and its repair, and a surge screening.

**Break and repair.** A gravity main is one line: a break anywhere stops all its flow, whatever
the valves. Line valves decide how much of it is drained and refilled: the segment between two
valves, not 45 km. :func:`break_outage` gives the time the main is out -- find and isolate,
repair, refill at a safe filling velocity, flush and disinfect before the water is used (GB
50268-2008 practice) -- and the water drained. The plant keeps sending water from its clear
well for ``clear well volume / its output`` (a couple of hours): the rest of the outage is the
other sources' (a study case with the source out says what they serve).

**Surge screening (not a design).** Stopping the main's flow ``V`` within the pipe period
``2L/a`` raises the head by Joukowsky's ``a V / g`` (Wylie & Streeter, *Fluid Transients in
Systems*, 1993, eq. 1-2); a closure over ``T`` seconds longer than that, by about ``2 L V /
(g T)`` (Michaud's formula). Added to the steady pressure along the main, it gives the largest
pressure each point may see and the pressure class the pipe needs; taken from it at the high
points, whether the pressure could fall to vapour (column separation). A design needs a
transient analysis (method of characteristics) of the main with its valves, air valves and
surge protection: e.g. TSNet (on WNTR), Bentley HAMMER, Allievi.

Every parameter is an assumption (A), overridable in a scenario's ``[reliability]`` table.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from hydro.scenario.schema import Strict

G = 9.80665
HOUR = 3600.0
PRESSURE_CLASSES = (0.6, 1.0, 1.6, 2.0, 2.5, 3.0)  # MPa, nominal pressures (PN 6 ... PN 30)
VAPOUR_HEAD = -10.0  # m (gauge) at which water boils at ordinary temperatures: column separation


class Reliability(Strict):
    """Break, repair and surge parameters of a raw-water main (all assumptions)."""

    valve_spacing: float = Field(default=5000.0, gt=0)  # m between line valves (A)
    isolate_hours: float = Field(default=6.0, ge=0)  # find the break and close valves (A)
    repair_days: float = Field(default=3.0, ge=0)  # dig, replace a large pipe, backfill (A)
    fill_velocity: float = Field(default=0.3, gt=0)  # m/s, refilling without trapping air (A)
    flush_hours: float = Field(default=24.0, ge=0)  # flush and disinfect before use (A)
    wave_speed: float = Field(default=1100.0, gt=0)  # m/s, PCCP / lined steel (A)
    closure_seconds: float = Field(default=300.0, gt=0)  # the flow-control valve's closure (A)


def break_outage(
    length: float, diameter: float, params: Reliability, *, valved: bool = True
) -> dict[str, float]:
    """A break on a main of ``length`` m and ``diameter`` m: the length drained (a valve
    segment, or the whole main when ``valved`` is false), the volume drained (m3), the refill
    time (s) and the whole outage (s)."""
    drained = min(params.valve_spacing, length) if valved else length
    area = np.pi * diameter**2 / 4
    refill = drained / params.fill_velocity
    outage = (
        params.isolate_hours * HOUR
        + params.repair_days * 24 * HOUR
        + refill
        + params.flush_hours * HOUR
    )
    return {
        "drained_length": drained,
        "drained_volume": drained * area,
        "refill_time": refill,
        "outage_time": outage,
    }


def surge_head(
    flow: float, diameter: float, length: float, params: Reliability
) -> tuple[float, float]:
    """[m] the head rise when the main's ``flow`` (m3/s) stops: within the pipe period
    (Joukowsky) and over the valve's closure time (Michaud, never more than Joukowsky)."""
    velocity = abs(flow) / (np.pi * diameter**2 / 4)
    joukowsky = params.wave_speed * velocity / G
    slow = 2 * length * velocity / (G * params.closure_seconds)
    return joukowsky, min(slow, joukowsky)


def pressure_class(head: float) -> float:
    """[MPa] the smallest nominal pressure class that holds a pressure head of ``head`` m (NaN:
    above the largest)."""
    mpa = head * 1000 * G / 1e6
    for pn in PRESSURE_CLASSES:
        if mpa <= pn:
            return pn
    return float("nan")


def screen_profile(head: np.ndarray, elevation: np.ndarray, rise: float) -> dict[str, float | int]:
    """The steady grade ``head`` along the main's pipe nodes and their ``elevation`` (m), with
    a surge of ``rise`` m: the largest pressure head and where (index), the lowest transient
    pressure at the high points and where, and the pressure class needed."""
    pressure = head - elevation
    top = int(np.argmax(pressure))
    high = int(np.argmax(elevation))
    low = float(pressure[high] - rise)
    return {
        "max_pressure": float(pressure[top] + rise),
        "max_at": top,
        "min_pressure": low,
        "min_at": high,
        "pressure_class": pressure_class(float(pressure[top] + rise)),
        "column_separation": int(low <= VAPOUR_HEAD),
    }
