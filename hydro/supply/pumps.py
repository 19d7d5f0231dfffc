"""Where pumps run on their curves, over every hydraulic step.

A pump's rated flow is its best-efficiency flow: the peak of its efficiency curve when it has
one, else the design point of a one- or three-point head curve (EPANET's own reading of such a
curve), else the point of a multi-point curve where the hydraulic power q h is largest (for the
usual centrifugal shape the best-efficiency point lies there or a little beyond). By the affinity
laws that flow scales with speed, so a pump at relative speed w is judged against w x rated.

Per pump and over the time it is meant to run (open, or held shut by EPANET because it cannot
deliver head): the share of time within 70-120 % of its (speed-scaled) rated flow, the preferred
operating region of ANSI/HI 9.6.3; the share at shut-off (below 10 %, or unable to deliver
head); the share beyond its curve's end (beyond the last point of the curve at that speed, or
EPANET's 'cannot deliver flow'); and starts per day. A duty pump that spends most of its running
time at either end of its curve is warned about.
"""

from __future__ import annotations

import numpy as np

from hydro.supply.epanet.accounts import running
from hydro.supply.epanet.library import LinkState

BAND = (0.7, 1.2)  # preferred operating region, share of the rated flow (ANSI/HI 9.6.3)
SHUT_OFF = 0.1  # below this share of the rated flow a pump churns at shut-off
END_OF_CURVE = 0.5  # warn when a duty pump spends more than this share of its running time
DAY = 86400.0


def rated_flow(
    flows: np.ndarray, heads: np.ndarray, eff_flows: np.ndarray, efficiency: np.ndarray
) -> float:
    """[m3/s] a pump's rated (best-efficiency) flow from its curves (NaN: no head curve)."""
    if len(eff_flows) and len(efficiency):
        return float(eff_flows[int(np.argmax(efficiency))])
    if len(flows) == 1:
        return float(flows[0])
    if len(flows) == 3:
        return float(flows[1])
    if len(flows) > 3:
        return float(flows[int(np.argmax(flows * heads))])
    return float("nan")


def operating_points(
    flow: np.ndarray,
    state: np.ndarray,
    speed: np.ndarray,
    seconds: np.ndarray,
    rated: np.ndarray,
    curve_end: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per pump (P,) from per-step series (S, P) and step lengths (S,) [s].

    Returns ``pump_running_time`` [s], ``pump_in_band`` / ``pump_at_shutoff`` /
    ``pump_beyond_curve`` (shares of the running time, NaN when it never runs) and
    ``pump_starts_per_day``.
    """
    on = running(state)
    relative = flow / (np.maximum(speed, 1e-9) * rated)
    stalled = (state == LinkState.XHEAD) | (state == LinkState.TEMPCLOSED) | (relative < SHUT_OFF)
    beyond = (state == LinkState.XFLOW) | (flow > np.maximum(speed, 1e-9) * curve_end)
    band = ~stalled & ~beyond & (relative >= BAND[0]) & (relative <= BAND[1])
    dt = seconds[:, None]
    run_time = (on * dt).sum(axis=0)

    def share(mask: np.ndarray) -> np.ndarray:
        return np.divide(
            ((on & mask) * dt).sum(axis=0),
            run_time,
            out=np.full(run_time.shape, np.nan),
            where=run_time > 0,
        )

    starts = ((~on[:-1]) & on[1:]).sum(axis=0) if len(on) > 1 else np.zeros(on.shape[1])
    days = max(float(seconds.sum()) / DAY, 1e-9)
    return {
        "pump_running_time": run_time,
        "pump_in_band": share(band),
        "pump_at_shutoff": share(stalled),
        "pump_beyond_curve": share(beyond),
        "pump_starts_per_day": starts / days,
    }


def pump_warnings(points: dict[str, np.ndarray], names: list[str], duty: np.ndarray) -> list[str]:
    """A line for every duty pump that runs at the end of its curve most of the time."""
    lines = []
    for k, name in enumerate(names):
        if not duty[k] or not points["pump_running_time"][k] > 0:
            continue
        for key, where in (("pump_at_shutoff", "shut-off"), ("pump_beyond_curve", "run-out")):
            share = points[key][k]
            if share > END_OF_CURVE:
                lines.append(
                    f"pump {name} runs at the {where} end of its curve {share:.0%} of its "
                    f"running time ({points['pump_in_band'][k]:.0%} within "
                    f"{BAND[0]:.0%}-{BAND[1]:.0%} of its rated flow): its controls or its "
                    "curve do not fit the system"
                )
    return lines
