"""Flooding statistics per node from the flooding rate: peak, volume, hours flooded, onset, recession.

SWMM's own Node Flooding Summary integrates the rate over routing steps; we only have reporting-step
values, so the volume is the trapezoid rule over reporting steps by default (``rule="rectangle"``
gives ``sum(rate[i] * dt[i])``). The two rules, the time axis and NaN handling are described in
:mod:`hydro.kernels._common`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hydro.kernels._common import finite_number, is_trapezoid, sample_times, series
from hydro.kernels._exceedance import exceedance


class FloodingStats(NamedTuple):
    """Per (scenario, node) float64 arrays."""

    peak_rate: np.ndarray  # [m3/s] largest flooding rate
    time_of_peak: np.ndarray  # [s] since the start of the run, first time the peak is reached
    volume: np.ndarray  # [m3] integral of the rate
    duration: np.ndarray  # [s] total time flooded (rate > threshold), "hours flooded"
    onset: np.ndarray  # [s] first time the rate rises above threshold; NaN if never
    time_to_recede: np.ndarray  # [s] from the peak until the rate is back to <= threshold (or the
    #                              end of the run); NaN when the node never floods


def flooding_stats(
    flooding_rate,
    dt,
    *,
    threshold: float = 0.0,
    rule: str = "trapezoid",
    out: FloodingStats | None = None,
) -> FloodingStats:
    """Flooding statistics per (scenario, node).

    flooding_rate : (S, T, N) float32/float64 [m3/s], NaN = missing sample.
    dt : scalar or (T,) [s], reporting intervals (:func:`hydro.kernels.intervals` of a Dataset's
        time coordinate).
    threshold : [m3/s] a node is flooded while rate > threshold (default 0: any positive rate).
    rule : "trapezoid" (default) or "rectangle".
    out : optional FloodingStats of six (S, N) float64 arrays to fill.

    Formulas (trapezoid; t = cumsum(dt), q = rate):
      volume = sum_i (t[i] - t[i-1]) * (q[i-1] + q[i]) / 2
      duration = time the linear interpolant of q spends above threshold
      onset = first upward crossing of threshold (interpolated; t[0] if q[0] > threshold)
      time_to_recede = first downward crossing after the peak - time_of_peak
    Rectangle rule: volume = sum_i dt[i] * q[i]; duration = sum of dt[i] where q[i] > threshold.
    NaN samples are dropped (the result is that of the series without them); a node with no valid
    sample gets NaN everywhere, a node that never floods gets duration 0 and NaN onset and
    time_to_recede. Exact zeros (SWMM's "dry") are the fast path: mostly-dry networks sweep fastest.
    """
    rate = series(flooding_rate, "flooding_rate")
    _n_scen, n_time, _n_node = rate.shape
    t = sample_times(dt, n_time)
    thr = finite_number(threshold, "flooding threshold", minimum=0.0)
    trap = is_trapezoid(rule)
    fields = dict(
        zip(
            FloodingStats._fields,
            ("peak", "time_of_peak", "integral", "duration", "onset", "recede"),
            strict=True,
        )
    )
    return FloodingStats(*exceedance(rate, t, thr, trap, fields, out))
