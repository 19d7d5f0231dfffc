"""Shared argument handling for the kernels: time axes, integration rules, shapes, out= arrays.

The numba kernels themselves take plain arrays and positional arguments; the public functions in
each module check what they are given here, in Python, so that a mistake is reported in words
before any compiled code runs.

Time axis convention (every kernel that integrates over time):
``dt`` is a scalar [s] (regular reporting) or a 1-D array of shape (T,) [s] where ``dt[i]`` is the
length of the reporting interval that sample ``i`` closes, ``t[i] - t[i-1]``; ``dt[0]`` is the time
from the start of the run to the first sample. Sample times are then ``t = cumsum(dt)``, elapsed
since the start of the run, the same axis as a Dataset's ``time`` coordinate. Build ``dt`` from such
a coordinate with :func:`intervals`. A scalar ``dt`` means ``t[i] = (i + 1) * dt``: the first report
one step after the start, as SWMM writes it; a series that starts at t = 0 (EPANET) should pass
``intervals(time)`` instead, or every time reported by a kernel is one step late.

Integration rules (``rule=``):
``"trapezoid"`` reads the samples as a piecewise-linear series: integrals are the trapezoid rule,
durations above a threshold are the exact time the linear interpolant spends above it (crossing
times are interpolated), and nothing is assumed before the first sample.
``"rectangle"`` reads each sample ``x[i]`` as holding over the interval it closes, (t[i-1], t[i]]:
integrals are ``sum(x[i] * dt[i])`` and a sample above the threshold counts its whole interval --
the same numbers as ``(df > threshold).sum() * dt`` for regular reporting.

Missing values: NaN samples are dropped, i.e. every result is what the same kernel returns for the
series with those samples removed (their times removed too). Under "trapezoid" a gap is therefore
bridged linearly; under "rectangle" the next valid sample holds back to the previous valid one.
A series with no valid sample gives NaN results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from hydro.precompile import wait_for_background

# Never load or compile a kernel while a compile runs in another process (hydro.precompile).
wait_for_background()

RULES = ("trapezoid", "rectangle")


class KernelArgumentError(ValueError):
    """A kernel's arguments are wrong (shape, range, option). Kernels raise nothing else; the
    scoring layer, which knows the file and the element, turns it into a HydroError."""


# Nodes are swept in blocks: one thread sweeps the time rows of its own block of columns. The block's
# piece of a row must be long (BLOCK float32 = 64 kB) for the hardware to stream it: with 8 kB pieces
# every row starts on a cold page and a sweep read half the bandwidth of numpy's sum (measured). The
# per-node state of sparse sweeps is touched only where something happens; dense sweeps keep a few
# float64 arrays of BLOCK entries, which still sit in L2.
BLOCK = 16384
MIN_BLOCK = 1024  # shorter pieces cost more in scheduling than a second thread gains


def block_length(n_scen: int, n_elem: int, block: int = BLOCK) -> int:
    """Elements per block: ``block``, or fewer so that every numba thread gets work (never fewer
    than MIN_BLOCK, and a multiple of 64 so that blocks start on whole cache lines)."""
    threads = numba.get_num_threads()
    per_scenario = -(-threads // max(n_scen, 1))  # blocks each scenario needs for all threads
    length = -(-n_elem // per_scenario)
    length = -(-length // 64) * 64
    return int(min(block, max(MIN_BLOCK, length)))


def intervals(time) -> np.ndarray:
    """The ``dt`` array [s] of a time coordinate: ``dt[0] = time[0]``, ``dt[i] = time[i] - time[i-1]``.

    ``time`` is elapsed time since the start of the run, as timedelta64 (a Dataset's ``time``
    coordinate) or as numbers of seconds.
    """
    values = np.asarray(getattr(time, "values", time))
    if np.issubdtype(values.dtype, np.timedelta64):
        seconds = values.astype("timedelta64[ns]").astype(np.int64) / 1e9
    else:
        seconds = values.astype(np.float64)
    if seconds.ndim != 1:
        raise KernelArgumentError(f"time must be 1-D, got shape {seconds.shape}")
    return np.diff(seconds, prepend=0.0)


def sample_times(dt, n_times: int) -> np.ndarray:
    """Sample times [s] since the start of the run, float64 (T,), from a scalar or (T,) ``dt``."""
    arr = np.asarray(dt, dtype=np.float64)
    if arr.ndim == 0:
        step = float(arr)
        if not np.isfinite(step) or step <= 0:
            raise KernelArgumentError(
                f"the time step dt must be a positive number of seconds, got {step}"
            )
        return step * np.arange(1, n_times + 1, dtype=np.float64)
    if arr.shape != (n_times,):
        raise KernelArgumentError(
            f"dt must be a scalar or an array of {n_times} interval lengths (one per time step), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise KernelArgumentError("dt must hold finite, non-negative interval lengths in seconds")
    return np.cumsum(arr)


def is_trapezoid(rule: str) -> bool:
    if rule not in RULES:
        raise KernelArgumentError(
            f"unknown integration rule {rule!r}: expected one of {', '.join(RULES)}"
        )
    return rule == "trapezoid"


def finite_number(value, name: str, *, minimum: float | None = None) -> float:
    """A finite float option, optionally bounded below; a KernelArgumentError naming the option if not."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise KernelArgumentError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(number) or (minimum is not None and number < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise KernelArgumentError(f"{name} must be a finite number{bound}, got {value!r}")
    return number


def series(values, name: str, ndim: int = 3) -> np.ndarray:
    """A C-contiguous float32/float64 array of the given rank (other dtypes become float64)."""
    arr = np.asarray(values)
    if arr.ndim != ndim:
        raise KernelArgumentError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return np.ascontiguousarray(arr)


def output(out, shape: tuple[int, ...], dtype, name: str) -> np.ndarray:
    """``out`` checked for shape, dtype and contiguity, or a new empty array."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if (
        not isinstance(out, np.ndarray)
        or out.shape != shape
        or out.dtype != np.dtype(dtype)
        or not out.flags.c_contiguous
        or not out.flags.writeable
    ):
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise KernelArgumentError(
            f"out {name} must be a writeable C-contiguous {np.dtype(dtype)} array "
            f"of shape {shape}, got {got}"
        )
    return out


def outputs(out, names: Sequence[str], shape: tuple[int, ...], dtype) -> list[np.ndarray]:
    """One output array per name: new ones, or those of an ``out`` tuple (e.g. a result NamedTuple)."""
    if out is None:
        return [np.empty(shape, dtype=dtype) for _ in names]
    if len(out) != len(names):
        raise KernelArgumentError(
            f"out must hold {len(names)} arrays ({', '.join(names)}), got {len(out)}"
        )
    return [output(arr, shape, dtype, name) for arr, name in zip(out, names, strict=True)]


# --- inside the sweeps: missing samples ---------------------------------------------------------
# Each sweep keeps per element ``gap`` (the last sample was missing, or none was valid yet; starts
# True, so the first gap runs from t = 0) and ``tprev`` (the time of the last valid sample, kept
# only across a gap): a valid sample after a valid one, the common path, touches no time state.
# Numba inlines these into the cached kernels but does not see edits made here: after changing them,
# delete hydro/kernels/__pycache__ so the kernels compile again.


@numba.njit(inline="always")
def note_missing(gap, tprev, j, t_last):
    """Sample ``j`` at this row is missing: at the first missing row remember when the last valid
    sample was (``t_last``, the previous row's time)."""
    if not gap[j]:
        gap[j] = True
        tprev[j] = t_last


@numba.njit(inline="always")
def closed_interval(gap, tprev, j, ti, t_last):
    """Length [s] of the interval a valid sample of ``j`` at ``ti`` closes: back to the last valid
    sample (``t_last`` unless a gap came between); ends the gap."""
    if gap[j]:
        gap[j] = False
        return ti - tprev[j]
    return ti - t_last
