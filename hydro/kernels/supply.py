"""Supply scores: pressure compliance per node and per zone, and the dominant source per node.

Minimum service head is 28 m (0.28 MPa, six storeys; GB 50013 practice). Time weighting follows the
integration rule of :mod:`hydro.kernels._common`: under "trapezoid" each sample weighs half of each
neighbouring interval, under "rectangle" the interval it closes; when every weight is zero (every
valid sample at one instant, e.g. a single sample) the last valid sample decides. Demand weights are max(demand, 0): a node that feeds the
network (negative demand) asks for nothing.
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
    output,
    sample_times,
    series,
)

SERVICE_HEAD = 28.0  # m, 0.28 MPa


class ZoneCompliance(NamedTuple):
    """Per (scenario, time, zone) float64 arrays."""

    fraction: np.ndarray  # [1] share of the zone's demand (or nodes) at or above the threshold
    weight: np.ndarray  # [m3/s] the zone's total demand (or [1] its number of valid nodes)


class DominantSource(NamedTuple):
    """Which source feeds each node, on average over the run."""

    mean_share: np.ndarray  # (S, N, K) [1] time-averaged share of each source
    dominant: np.ndarray  # (S, N) int64 index of the largest mean share; -1 if all NaN


def pressure_compliance(
    pressure_head,
    dt,
    *,
    threshold: float = SERVICE_HEAD,
    demand=None,
    rule: str = "trapezoid",
    out=None,
) -> np.ndarray:
    """Fraction of time (or of demand) served at or above a pressure head, per (scenario, node).

    pressure_head : (S, T, N) float32/float64 [m], NaN = missing.
    dt : scalar or (T,) [s], reporting intervals (see :func:`hydro.kernels.intervals`).
    threshold : [m], compliant means pressure_head >= threshold.
    demand : optional (S, T, N) [m3/s]; if given, the fraction is of demand volume:
      sum(w * d * [p >= thr]) / sum(w * d), d = max(demand, 0); NaN for a node with no demand.
      Without demand: sum(w * [p >= thr]) / sum(w), the share of time. A sample counts only when
      pressure (and demand, if given) are valid.
    out : optional (S, N) float64.
    """
    p = series(pressure_head, "pressure_head")
    n_scen, n_time, n_node = p.shape
    weighted = demand is not None
    d = series(demand, "demand") if weighted else np.zeros((1, 1, 1))
    if weighted and d.shape != p.shape:
        raise KernelArgumentError(
            f"demand {d.shape} must have the shape of pressure_head {p.shape}"
        )
    t = sample_times(dt, n_time)
    thr = finite_number(threshold, "pressure head threshold")
    result = output(out, (n_scen, n_node), np.float64, "pressure compliance")
    _compliance_kernel(p, d, weighted, thr, t, is_trapezoid(rule), BLOCK, result)
    return result


def zone_compliance(
    pressure_head,
    zone,
    *,
    n_zones: int | None = None,
    threshold: float = SERVICE_HEAD,
    demand=None,
    out: ZoneCompliance | None = None,
) -> ZoneCompliance:
    """Per time step and zone: the share of demand served at or above a pressure head.

    pressure_head : (S, T, N) [m]; demand : optional (S, T, N) [m3/s] (None: every node weighs 1).
    zone : (N,) integer zone label per node, 0 .. n_zones - 1, or -1 for a node in no zone.
    n_zones : number of zones (default: largest label + 1).
    Returns ZoneCompliance of two (S, T, Z) float64 arrays:
      weight[s, t, z] = sum over valid nodes n of zone z of d[s, t, n], d = max(demand, 0)
      fraction[s, t, z] = sum(d * [p >= thr]) / weight; NaN where weight is 0.
    Aggregate over time as sum(w * fraction * weight) / sum(w * weight).
    """
    p = series(pressure_head, "pressure_head")
    n_scen, n_time, n_node = p.shape
    weighted = demand is not None
    d = series(demand, "demand") if weighted else np.zeros((1, 1, 1))
    if weighted and d.shape != p.shape:
        raise KernelArgumentError(
            f"demand {d.shape} must have the shape of pressure_head {p.shape}"
        )
    labels = np.asarray(zone)
    if labels.shape != (n_node,) or not np.issubdtype(labels.dtype, np.integer):
        raise KernelArgumentError(
            f"zone labels must be {n_node} integers (one per node), "
            f"got {labels.dtype} {labels.shape}"
        )
    top = int(labels.max()) + 1 if labels.size else 0
    n_z = top if n_zones is None else int(n_zones)
    if labels.size and (labels.min() < -1 or top > n_z):
        raise KernelArgumentError(
            f"zone labels must lie in -1 .. {n_z - 1}, got {labels.min()} .. {top - 1}"
        )
    thr = finite_number(threshold, "pressure head threshold")
    shape = (n_scen, n_time, n_z)
    if out is None:
        fraction, weight = np.empty(shape), np.empty(shape)
    else:
        fraction = output(out[0], shape, np.float64, "fraction")
        weight = output(out[1], shape, np.float64, "weight")
    _zone_kernel(
        p, d, weighted, np.ascontiguousarray(labels, dtype=np.int64), thr, fraction, weight
    )
    return ZoneCompliance(fraction, weight)


def dominant_source(
    source_share, dt, *, rule: str = "trapezoid", out: DominantSource | None = None
) -> DominantSource:
    """Time-averaged share of each source per node, and the source that dominates.

    source_share : (S, T, N, K) float32/float64 [1], NaN = missing.
    dt : scalar or (T,) [s], reporting intervals.
    Returns DominantSource(mean_share (S, N, K) float64, dominant (S, N) int64):
      mean_share = sum(w * share) / sum(w) over valid samples of each (node, source);
      dominant = first argmax over K of mean_share ignoring NaN, -1 if all NaN.
    """
    share = series(source_share, "source_share", ndim=4)
    n_scen, n_time, n_node, n_src = share.shape
    t = sample_times(dt, n_time)
    if out is None:
        mean = np.empty((n_scen, n_node, n_src))
        dominant = np.empty((n_scen, n_node), dtype=np.int64)
    else:
        mean = output(out[0], (n_scen, n_node, n_src), np.float64, "mean_share")
        dominant = output(out[1], (n_scen, n_node), np.int64, "dominant")
    flat = share.reshape(n_scen, n_time, n_node * n_src)
    _time_mean_kernel(flat, t, is_trapezoid(rule), BLOCK, mean.reshape(n_scen, n_node * n_src))
    _argmax_kernel(mean, dominant)
    return DominantSource(mean, dominant)


@numba.njit(parallel=True, cache=True)
def _compliance_kernel(pressure, demand, weighted, threshold, t, trapezoid, block, out):
    """out[s, n] = sum(w * d * ok) / sum(w * d) over time; parallel over (scenario, node block)."""
    n_scen, n_time, n_node = pressure.shape
    n_blocks = (n_node + block - 1) // block
    t_end = t[n_time - 1] if n_time > 0 else 0.0
    for work in numba.prange(n_scen * n_blocks):
        s = work // n_blocks
        lo = (work - s * n_blocks) * block
        m = min(block, n_node - lo)
        prev_d = np.full(m, np.nan)  # weight of the last valid sample (demand or 1); NaN: none yet
        prev_good = np.zeros(m)  # its compliant weight (prev_d or 0)
        gap = np.ones(m, dtype=np.bool_)  # missing samples: see _common.note_missing
        tprev = np.zeros(m)
        t_first = np.full(m, np.nan)
        num = np.zeros(m)
        den = np.zeros(m)
        for i in range(n_time):
            ti = t[i]
            t_last = t[i - 1] if i > 0 else 0.0
            p_row = pressure[s, i, lo : lo + m]
            d_row = demand[s, i, lo : lo + m] if weighted else demand[0, 0, :0]
            for j in range(m):
                p = np.float64(p_row[j])
                d = 1.0
                if weighted:
                    d = max(np.float64(d_row[j]), 0.0) if d_row[j] == d_row[j] else np.nan
                if p != p or d != d:
                    note_missing(gap, tprev, j, t_last)
                    continue
                good = d if p >= threshold else 0.0
                if t_first[j] != t_first[j]:
                    t_first[j] = ti
                length = closed_interval(gap, tprev, j, ti, t_last)
                if trapezoid:
                    if prev_d[j] == prev_d[j]:
                        num[j] += 0.5 * length * (prev_good[j] + good)
                        den[j] += 0.5 * length * (prev_d[j] + d)
                else:
                    num[j] += length * good
                    den[j] += length * d
                prev_d[j] = d
                prev_good[j] = good
        for j in range(m):
            t_valid = tprev[j] if gap[j] else t_end
            span = t_valid - t_first[j] if trapezoid else t_valid
            if den[j] > 0:
                out[s, lo + j] = num[j] / den[j]
            elif span == 0 and prev_d[j] > 0:  # no time elapsed: the last sample decides
                out[s, lo + j] = prev_good[j] / prev_d[j]
            else:
                out[s, lo + j] = np.nan


@numba.njit(parallel=True, cache=True)
def _zone_kernel(pressure, demand, weighted, labels, threshold, fraction, weight):
    """Per (scenario, time row): sums of demand and compliant demand into zone bins."""
    n_scen, n_time, n_node = pressure.shape
    n_zone = fraction.shape[2]
    for row in numba.prange(n_scen * n_time):
        s = row // n_time
        i = row - s * n_time
        good = np.zeros(n_zone)
        total = np.zeros(n_zone)
        for n in range(n_node):
            z = labels[n]
            p = np.float64(pressure[s, i, n])
            if z < 0 or p != p:
                continue
            d = 1.0
            if weighted:
                d = np.float64(demand[s, i, n])
                if d != d:
                    continue
                d = max(d, 0.0)
            total[z] += d
            if p >= threshold:
                good[z] += d
        for z in range(n_zone):
            weight[s, i, z] = total[z]
            fraction[s, i, z] = good[z] / total[z] if total[z] > 0 else np.nan


@numba.njit(parallel=True, cache=True)
def _time_mean_kernel(x, t, trapezoid, block, out):
    """out[s, e] = time-weighted mean of x[s, :, e] over valid samples (the last if all weigh 0)."""
    n_scen, n_time, n_elem = x.shape
    n_blocks = (n_elem + block - 1) // block
    t_end = t[n_time - 1] if n_time > 0 else 0.0
    for work in numba.prange(n_scen * n_blocks):
        s = work // n_blocks
        lo = (work - s * n_blocks) * block
        m = min(block, n_elem - lo)
        prev = np.full(m, np.nan)
        gap = np.ones(m, dtype=np.bool_)  # missing samples: see _common.note_missing
        tprev = np.zeros(m)
        t_first = np.full(m, np.nan)
        integral = np.zeros(m)
        for i in range(n_time):
            ti = t[i]
            t_last = t[i - 1] if i > 0 else 0.0
            row = x[s, i, lo : lo + m]
            for j in range(m):
                v = np.float64(row[j])
                if v != v:
                    note_missing(gap, tprev, j, t_last)
                    continue
                if t_first[j] != t_first[j]:
                    t_first[j] = ti
                length = closed_interval(gap, tprev, j, ti, t_last)
                if trapezoid:
                    a = prev[j]
                    if a == a:
                        integral[j] += 0.5 * length * (a + v)
                else:
                    integral[j] += length * v
                prev[j] = v
        for j in range(m):
            t_valid = tprev[j] if gap[j] else t_end
            span = t_valid - t_first[j] if trapezoid else t_valid
            if span > 0:
                out[s, lo + j] = integral[j] / span
            else:  # no time elapsed: the last sample (or NaN)
                out[s, lo + j] = prev[j]


@numba.njit(cache=True)
def _argmax_kernel(mean, out):
    """out[s, n] = first k maximising mean[s, n, k], NaN ignored; -1 when all are NaN."""
    n_scen, n_node, n_src = mean.shape
    for s in range(n_scen):
        for n in range(n_node):
            best = -1
            for k in range(n_src):
                v = mean[s, n, k]
                if v == v and (best < 0 or v > mean[s, n, best]):
                    best = k
            out[s, n] = best


class StepTotals(NamedTuple):
    """What :func:`account_step` found over the nodes at one hydraulic step."""

    served: float  # [m3/s] consumer demand delivered at junctions
    unserved: float  # [m3/s] consumer demand asked for and not delivered (pressure-driven)
    leakage: float  # [m3/s] junction demand beyond consumer demand (emitters, pipe leakage)
    taken: float  # [m3/s] junctions' negative consumer demands (<= 0: water put in)
    demand: float  # [m3/s] net outflow of all nodes together (0 when balanced)
    n_negative: int  # service nodes with a negative pressure head
    worst: int  # the service node with the lowest pressure head if negative, else -1
    worst_pressure: float  # [m] its pressure head (NaN when none is negative)


def account_step(
    demand,
    consumer,
    deficit,
    head,
    elevation,
    junction,
    service,
    rates,
    volumes,
    lowest,
    *,
    dt: float,
    service_head: float = SERVICE_HEAD,
    pressure_driven: bool = False,
    leaks: bool = False,
) -> StepTotals:
    """One hydraulic step of a run's per-node accounts, in one pass over the nodes.

    First the previous step's rates, held for ``dt`` seconds (< 0: there was none), are added to
    the node volumes; then this step's rates replace them:

    - served = max(consumer, 0), missing = max(deficit, 0) when ``pressure_driven``, asked =
      served + missing, leak = demand - consumer when ``leaks``; all 0 at non-junctions;
    - at_head = 1 where pressure = head - elevation >= ``service_head``; ``lowest`` keeps the
      lowest pressure of each node;
    - ``service`` (nodes that serve demand or leak) gains every node asking for water.

    demand, consumer, deficit, head, elevation : (N,) float64 [m3/s, m]; consumer is demand
        less leakage (the same array when nothing leaks), deficit is read when pressure_driven.
    junction : (N,) bool.  service : (N,) bool, updated.
    rates : (5, N) float64, updated: served, missing, asked, leak [m3/s], at_head [0/1].
    volumes : (5, N) float64, updated: delivered, required, leaked [m3], backflow [m3] (water
        emitters took in: -leak where negative), time at service head [s].
    lowest : (N,) float64 [m], updated.
    """
    totals = _account_step_kernel(
        demand,
        consumer,
        deficit,
        head,
        elevation,
        junction,
        service,
        rates,
        volumes,
        lowest,
        float(dt),
        float(service_head),
        bool(pressure_driven),
        bool(leaks),
    )
    return StepTotals(*totals)


@numba.njit(cache=True, nogil=True)
def _account_step_kernel(
    demand,
    consumer,
    deficit,
    head,
    elevation,
    junction,
    service,
    rates,
    volumes,
    lowest,
    dt,
    service_head,
    pressure_driven,
    leaks,
):
    served_sum = missing_sum = leak_sum = taken_sum = demand_sum = 0.0
    n_negative, worst, worst_pressure = 0, -1, np.inf
    for i in range(demand.shape[0]):
        if dt >= 0.0:  # the previous step's rates, as held
            held = rates[0, i] * dt
            volumes[0, i] += held
            volumes[1, i] += rates[2, i] * dt if pressure_driven else held
            if leaks:
                leaked = rates[3, i] * dt
                volumes[2, i] += leaked
                volumes[3, i] += max(-leaked, 0.0)
            volumes[4, i] += rates[4, i] * dt
        served = missing = leak = 0.0
        if junction[i]:
            served = max(consumer[i], 0.0)
            taken_sum += min(consumer[i], 0.0)
            if pressure_driven:
                missing = max(deficit[i], 0.0)
            if leaks:
                leak = demand[i] - consumer[i]
        rates[0, i], rates[1, i], rates[2, i], rates[3, i] = served, missing, served + missing, leak
        served_sum += served
        missing_sum += missing
        leak_sum += leak
        demand_sum += demand[i]
        pressure = head[i] - elevation[i]
        rates[4, i] = 1.0 if pressure >= service_head else 0.0
        lowest[i] = min(lowest[i], pressure)
        if served + missing > 0.0:
            service[i] = True
        if service[i]:
            if pressure < 0.0:
                n_negative += 1
            if pressure < worst_pressure:
                worst, worst_pressure = i, pressure
    if worst_pressure >= 0.0:
        worst, worst_pressure = -1, np.nan
    return (
        served_sum,
        missing_sum,
        leak_sum,
        taken_sum,
        demand_sum,
        n_negative,
        worst,
        worst_pressure,
    )
