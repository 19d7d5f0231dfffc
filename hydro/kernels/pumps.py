"""Pump and station statistics per link: how often it runs, how often at capacity, what it moves.

Shares of time are time-weighted means of an indicator under the integration rule (trapezoid: each
sample weighs half of each neighbouring interval; rectangle: each sample weighs the interval it
closes); when all weights are zero (every valid sample at one instant, e.g. a single sample) the
last valid sample decides. See :mod:`hydro.kernels._common`.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from hydro.kernels._common import (
    BLOCK,
    KernelArgumentError,
    closed_interval,
    finite_number,
    is_trapezoid,
    note_missing,
    outputs,
    sample_times,
    series,
)

RUNNING_FLOW = 1e-5  # m3/s (0.01 L/s): below this a pump counts as stopped
AT_CAPACITY = 0.98  # share of capacity from which a pump counts as running flat out


class PumpStats(NamedTuple):
    """Per (scenario, link) float64 arrays."""

    running_share: np.ndarray  # [1] share of time with |flow| > eps
    capacity_share: np.ndarray  # [1] share of time with |flow| >= fraction * capacity
    volume: np.ndarray  # [m3] integral of flow (signed: start node to end node)
    peak_flow: np.ndarray  # [m3/s] largest |flow|
    mean_running_flow: np.ndarray  # [m3/s] time-weighted mean |flow| while running; NaN if never


def pump_stats(
    flow,
    capacity,
    dt,
    *,
    eps: float = RUNNING_FLOW,
    fraction: float = AT_CAPACITY,
    rule: str = "trapezoid",
    out: PumpStats | None = None,
) -> PumpStats:
    """Running and capacity statistics per (scenario, link).

    flow : (S, T, L) float32/float64 [m3/s], NaN = missing sample.
    capacity : (L,) [m3/s] design capacity per link; NaN where unknown (capacity_share NaN).
    dt : scalar or (T,) [s], reporting intervals (see :func:`hydro.kernels.intervals`).
    eps : [m3/s] running means |flow| > eps. fraction : at capacity means |flow| >= fraction * cap.
    Formulas, with sample weights w (see module doc) over valid samples:
      running_share = sum(w * [|q| > eps]) / sum(w)
      capacity_share = sum(w * [|q| >= fraction * cap]) / sum(w)
      volume = integral of q dt; peak_flow = max |q|
      mean_running_flow = sum(w * |q| * [|q| > eps]) / sum(w * [|q| > eps])
    """
    q = series(flow, "flow")
    n_scen, n_time, n_link = q.shape
    cap = np.ascontiguousarray(capacity, dtype=np.float64)
    if cap.shape != (n_link,):
        raise KernelArgumentError(
            f"capacity must have one value per link ({n_link},), got {cap.shape}"
        )
    if np.any(cap <= 0):
        bad = int(np.flatnonzero(cap <= 0)[0])
        raise KernelArgumentError(
            f"pump capacity of link index {bad} is {cap[bad]}: capacities must be "
            "positive m3/s (NaN where unknown)"
        )
    t = sample_times(dt, n_time)
    running = finite_number(eps, "running flow eps", minimum=0.0)
    frac = finite_number(fraction, "capacity fraction", minimum=0.0)
    arrays = outputs(out, PumpStats._fields, (n_scen, n_link), np.float64)
    _pump_kernel(q, cap, t, running, frac, is_trapezoid(rule), BLOCK, *arrays)
    return PumpStats(*arrays)


@numba.njit(parallel=True, cache=True)
def _pump_kernel(
    flow,
    capacity,
    t,
    eps,
    fraction,
    trapezoid,
    block,
    running_share,
    capacity_share,
    volume,
    peak_flow,
    mean_running_flow,
):
    """One sweep over time rows; parallel over (scenario, block of links). Shapes as pump_stats."""
    n_scen, n_time, n_link = flow.shape
    n_blocks = (n_link + block - 1) // block
    for work in numba.prange(n_scen * n_blocks):
        s = work // n_blocks
        lo = (work - s * n_blocks) * block
        m = min(block, n_link - lo)
        cap = capacity[lo : lo + m] * fraction
        prev = np.full(m, np.nan)
        gap = np.ones(m, dtype=np.bool_)  # missing samples: see _common.note_missing
        tprev = np.zeros(m)
        total_w = np.zeros(m)  # sum of weights
        run_w = np.zeros(m)  # sum of weights while running
        cap_w = np.zeros(m)  # sum of weights at capacity
        run_q = np.zeros(m)  # sum of weight * |q| while running
        vol = np.zeros(m)
        peak = np.full(m, np.nan)
        for i in range(n_time):
            ti = t[i]
            t_last = t[i - 1] if i > 0 else 0.0
            row = flow[s, i, lo : lo + m]
            for j in range(m):
                v = np.float64(row[j])
                if v != v:
                    note_missing(gap, tprev, j, t_last)
                    continue
                mag = abs(v)
                run = 1.0 if mag > eps else 0.0
                at_cap = 1.0 if mag >= cap[j] else 0.0
                length = closed_interval(gap, tprev, j, ti, t_last)
                if trapezoid:
                    a = prev[j]
                    if a == a:
                        mag_a = abs(a)
                        run_a = 1.0 if mag_a > eps else 0.0
                        cap_a = 1.0 if mag_a >= cap[j] else 0.0
                        half = 0.5 * length
                        total_w[j] += length
                        run_w[j] += half * (run_a + run)
                        cap_w[j] += half * (cap_a + at_cap)
                        run_q[j] += half * (run_a * mag_a + run * mag)
                        vol[j] += half * (a + v)
                else:
                    total_w[j] += length
                    run_w[j] += length * run
                    cap_w[j] += length * at_cap
                    run_q[j] += length * run * mag
                    vol[j] += length * v
                if not (mag <= peak[j]):
                    peak[j] = mag
                prev[j] = v
        for j in range(m):
            e = lo + j
            last = abs(prev[j])  # the last valid |flow| decides when all weights are zero
            if last != last:
                running_share[s, e] = np.nan
                capacity_share[s, e] = np.nan
                volume[s, e] = np.nan
                peak_flow[s, e] = np.nan
                mean_running_flow[s, e] = np.nan
                continue
            if total_w[j] > 0:
                running_share[s, e] = run_w[j] / total_w[j]
                capacity_share[s, e] = cap_w[j] / total_w[j]
            else:
                running_share[s, e] = 1.0 if last > eps else 0.0
                capacity_share[s, e] = 1.0 if last >= cap[j] else 0.0
            if capacity[e] != capacity[e]:
                capacity_share[s, e] = np.nan
            if run_w[j] > 0:
                mean_running_flow[s, e] = run_q[j] / run_w[j]
            elif total_w[j] == 0 and last > eps:
                mean_running_flow[s, e] = last
            else:
                mean_running_flow[s, e] = np.nan
            volume[s, e] = vol[j]
            peak_flow[s, e] = peak[j]
