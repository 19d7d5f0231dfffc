"""The one sweep behind flooding and ponding statistics: peaks, integrals and spells above a threshold.

A spell is a maximal stretch of time during which the series is above the threshold (strictly);
under the "trapezoid" rule it starts and ends at interpolated crossing times, under "rectangle" at
interval boundaries (see :mod:`hydro.kernels._common` for both rules and for missing values).
"""

from __future__ import annotations

from collections.abc import Mapping

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from hydro.kernels._common import block_length, note_missing, outputs

# Elements per mask in the sweep (see exceedance_kernel): one uint64 bit each.
CHUNK = 64

# Order of the arrays the kernel fills, each (S, N) float64.
STATS = ("peak", "time_of_peak", "integral", "duration", "longest", "onset", "end", "recede")


def exceedance(
    x, t, threshold: float, trapezoid: bool, fields: Mapping[str, str], out
) -> list[np.ndarray]:
    """Run :func:`exceedance_kernel` and return the statistics a caller wants.

    ``fields`` maps the caller's output names to names in STATS, in the caller's order; ``out``
    (None or a tuple in that order) supplies arrays to fill in place. Checked arguments only.
    """
    shape = (x.shape[0], x.shape[2])
    chosen = outputs(out, list(fields), shape, np.float64)
    arrays = dict(zip(fields.values(), chosen, strict=True))
    for name in STATS:
        arrays.setdefault(name, np.empty(shape, dtype=np.float64))
    block = block_length(x.shape[0], x.shape[2])
    exceedance_kernel(x, t, threshold, trapezoid, block, *(arrays[name] for name in STATS))
    return chosen


@numba.njit(parallel=True, cache=True)
def exceedance_kernel(
    x,
    t,
    threshold,
    trapezoid,
    block,
    peak,
    time_of_peak,
    integral,
    duration,
    longest,
    onset,
    end,
    recede,
):
    """Sweep time rows of ``x`` once and fill eight per-element statistics in place.

    x : (S, T, N) float32/float64, any units U; NaN = missing.
    t : (T,) float64 sample times [s] since the start of the run (``cumsum(dt)``).
    threshold : float, in U; "above" means ``x > threshold``.
    trapezoid : bool, True for the trapezoid rule, False for rectangle.
    block : int, number of elements one thread sweeps at a time.
    Outputs, each (S, N) float64:
      peak          max x (first occurrence wins for time_of_peak)           [U]
      time_of_peak  t of the peak                                              [s]
      integral      integral of x dt (trapezoid or rectangle)                  [U s]
      duration      total time above threshold                                 [s]
      longest       longest single spell above threshold                       [s]
      onset         start of the first spell (NaN if never above)              [s]
      end           end of the last spell; the last valid t if still above     [s]
      recede        from time_of_peak to the end of the spell holding the peak [s]
                    (NaN when the peak is not above threshold)
    Elements with no valid sample get NaN everywhere.

    Parallel over (scenario, block of elements); each thread reads its block of every time row, a
    long contiguous run, and keeps the block's state in small arrays. An element is *live* while
    its last sample was non-zero or missing (or none was valid yet); a dry element meeting an exact
    zero changes nothing. So each row is read in chunks of CHUNK elements: one branch-free pass
    builds a bit mask of the elements that are non-zero now or live, and only those bits are
    visited. Most drainage nodes are dry most of the time, and SWMM writes dry as exact zeros.
    """
    n_scen, n_time, n_elem = x.shape
    n_blocks = (n_elem + block - 1) // block
    thr = threshold
    keep_live = thr < 0.0  # zeros are "above" a negative threshold: nothing may be skipped
    for work in numba.prange(n_scen * n_blocks):
        s = work // n_blocks
        lo = (work - s * n_blocks) * block
        m = min(block, n_elem - lo)
        prev = np.full(m, np.nan)  # last valid value; NaN until the first one
        # After a missing sample the last valid time is kept in tprev and gap is set; otherwise the
        # last valid sample is the previous row, so the common path touches no time state at all.
        # Before the first valid sample the "gap" runs from the start of the run (t = 0).
        gap = np.ones(m, dtype=np.bool_)
        live = np.ones(m, dtype=np.bool_)  # prev != 0 or gap (or keep_live)
        tprev = np.zeros(m)
        pk = np.full(m, np.nan)
        tpk = np.full(m, np.nan)
        acc = np.zeros(m)
        dur = np.zeros(m)
        spell = np.zeros(m)  # length of the spell in progress
        lng = np.zeros(m)
        first_up = np.full(m, np.nan)
        last_down = np.full(m, np.nan)
        rec = np.full(m, np.nan)  # end of the spell holding the peak, once known
        for i in range(n_time):
            ti = t[i]
            t_last = t[i - 1] if i > 0 else 0.0
            half = 0.5 * (ti - t_last)
            row = x[s, i, lo : lo + m]
            for c in range((m + CHUNK - 1) // CHUNK):  # not range(0, m, CHUNK): that stops
                c0 = c * CHUNK  # LLVM from vectorising the loops inside (measured 3x slower)
                if c0 + CHUNK <= m:  # a whole chunk: fixed trip counts compile to vector code
                    busy = False
                    for k in range(CHUNK):
                        busy |= (row[c0 + k] != 0) | live[c0 + k]  # NaN != 0 too
                    if not busy:
                        continue
                    mask = np.uint64(0)
                    for k in range(CHUNK):
                        hit = (row[c0 + k] != 0) | live[c0 + k]
                        mask |= np.uint64(hit) << np.uint64(k)
                else:  # the block's last, partial chunk
                    mask = np.uint64(0)
                    for k in range(m - c0):
                        hit = (row[c0 + k] != 0) | live[c0 + k]
                        mask |= np.uint64(hit) << np.uint64(k)
                while mask:
                    k = np.int64(trailing_zeros(mask))  # type: ignore[call-arg,assignment]
                    mask &= mask - np.uint64(1)
                    j = c0 + k
                    v = np.float64(row[j])
                    a = prev[j]
                    # Valid and not above threshold now and at the previous row: the integral and
                    # the peak only. NaN in v or a fails the comparisons and takes the full path.
                    if v <= thr and a <= thr and not gap[j]:
                        if trapezoid:
                            acc[j] += half * (a + v)
                        else:
                            acc[j] += 2.0 * half * v
                        if v > pk[j]:
                            pk[j] = v
                            tpk[j] = ti
                        prev[j] = v
                        live[j] = (v != 0.0) | keep_live
                        continue
                    if v != v:
                        note_missing(gap, tprev, j, t_last)
                        live[j] = True  # the gap must be closed by the next valid sample
                        continue
                    seen = a == a
                    was = a > thr
                    above = v > thr
                    tp = tprev[j] if gap[j] else t_last
                    gap[j] = False
                    length = ti - tp
                    d = 0.0
                    t_up = ti
                    t_down = ti
                    if trapezoid:
                        if seen:
                            acc[j] += 0.5 * length * (a + v)
                            if was and above:
                                d = length
                            elif was:
                                d = length * (a - thr) / (a - v)
                                t_down = tp + d
                            elif above:
                                d = length * (v - thr) / (v - a)
                                t_up = ti - d
                    else:
                        acc[j] += length * v
                        t_up = tp
                        t_down = tp
                        if above:
                            d = length
                    dur[j] += d
                    if above:
                        if was:
                            spell[j] += d
                        else:
                            spell[j] = d
                            if first_up[j] != first_up[j]:
                                first_up[j] = t_up
                    elif was:
                        spell[j] += d
                        if spell[j] > lng[j]:
                            lng[j] = spell[j]
                        spell[j] = 0.0
                        last_down[j] = t_down
                    if not seen or v > pk[j]:
                        pk[j] = v
                        tpk[j] = ti
                        rec[j] = np.nan
                    elif not above and rec[j] != rec[j] and pk[j] > thr:
                        rec[j] = t_down
                    prev[j] = v
                    live[j] = (v != 0.0) | keep_live
        t_end = t[n_time - 1] if n_time > 0 else 0.0
        for j in range(m):
            e = lo + j
            if prev[j] != prev[j]:
                peak[s, e] = np.nan
                time_of_peak[s, e] = np.nan
                integral[s, e] = np.nan
                duration[s, e] = np.nan
                longest[s, e] = np.nan
                onset[s, e] = np.nan
                end[s, e] = np.nan
                recede[s, e] = np.nan
                continue
            t_valid = tprev[j] if gap[j] else t_end  # time of the last valid sample
            if prev[j] > thr:  # still above at the last valid sample
                if spell[j] > lng[j]:
                    lng[j] = spell[j]
                last_down[j] = t_valid
            if pk[j] > thr and rec[j] != rec[j]:
                rec[j] = t_valid
            peak[s, e] = pk[j]
            time_of_peak[s, e] = tpk[j]
            integral[s, e] = acc[j]
            duration[s, e] = dur[j]
            longest[s, e] = lng[j]
            onset[s, e] = first_up[j]
            end[s, e] = last_down[j]
            recede[s, e] = rec[j] - tpk[j] if pk[j] > thr else np.nan
