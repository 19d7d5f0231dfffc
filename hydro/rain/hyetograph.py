"""Design hyetographs built from a storm intensity formula: Chicago, alternating block, Huff.

Every builder returns a :class:`Hyetograph`: a constant intensity (m/s) per interval of ``step``
seconds. Chicago and alternating block are IDF-consistent around their peak; Huff spreads the IDF
depth of the whole duration along a published dimensionless mass curve.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hydro.errors import ScenarioError
from hydro.rain.formula import StormFormula

#: Allowed design-storm durations (s): 10 min to 72 h.
DURATION_RANGE = (600.0, 72 * 3600.0)
#: Allowed hyetograph steps (s): 30 s to 60 min.
STEP_RANGE = (30.0, 3600.0)


@dataclass(frozen=True, eq=False)
class Hyetograph:
    """A design storm: constant intensity per interval.

    ``intensity`` has shape (n_intervals,) in m/s; interval k covers
    ``[k·step, (k+1)·step)`` seconds after the storm starts. ``duration`` = n_intervals·step.
    The array is read-only.
    """

    step: float
    intensity: np.ndarray
    pattern: str
    return_period: float
    duration: float
    formula: str = ""
    peak_position: float | None = None
    quartile: int | None = None

    def __post_init__(self) -> None:
        values = np.array(self.intensity, dtype=float)
        values.setflags(write=False)
        object.__setattr__(self, "intensity", values)

    @property
    def depth(self) -> float:
        """Total depth in m."""
        return float(np.sum(self.intensity) * self.step)

    @property
    def times(self) -> np.ndarray:
        """Start of each interval, seconds after the storm starts."""
        return np.arange(self.intensity.size) * self.step

    @property
    def cumulative_depth(self) -> np.ndarray:
        """Depth in m fallen by each interval boundary; shape (n_intervals + 1,), starts at 0."""
        return np.concatenate([[0.0], np.cumsum(self.intensity * self.step)])

    @property
    def peak_intensity(self) -> float:
        return float(np.max(self.intensity))

    def to_mm_per_hour(self) -> np.ndarray:
        """Intensity per interval in mm/h (m/s × 3.6e6)."""
        return self.intensity * 3.6e6

    def to_rain_series(self, start: _dt.datetime | np.datetime64 | str, *, gauge: str = "design"):
        """The storm as a one-gauge :class:`~hydro.rain.series.RainSeries` starting at ``start``."""
        from hydro.rain.series import RainSeries

        t0 = np.datetime64(start, "ns")  # type: ignore[call-overload]  # numpy's stubs miss str
        times = t0 + (self.times * 1e9).astype("timedelta64[ns]")
        return RainSeries(
            times=times,
            gauges=(gauge,),
            intensity=self.intensity[:, None],
            step=self.step,
            source=f"{self.pattern} design storm",
        )

    def __repr__(self) -> str:
        return (
            f"Hyetograph({self.pattern}, P={self.return_period:g} a, "
            f"duration={self.duration / 60:g} min, step={self.step / 60:g} min, "
            f"depth={self.depth * 1e3:.1f} mm, peak={self.peak_intensity * 3.6e6:.1f} mm/h)"
        )


# --- argument checks ----------------------------------------------------------------------------


def _seconds(value, what: str) -> float:
    """A duration in seconds from a number, datetime.timedelta or numpy timedelta64."""
    if isinstance(value, _dt.timedelta):
        value = value.total_seconds()
    elif isinstance(value, np.timedelta64):
        value = value / np.timedelta64(1, "s")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(
            f"design storm: {what} must be a number of seconds, got {value!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ScenarioError(f"design storm: {what} = {value} s; expected a finite number > 0 s")
    return value


def _grid(duration, step) -> tuple[float, float, int]:
    """Validated (duration, step, number of intervals)."""
    duration = _seconds(duration, "duration")
    step = _seconds(step, "step")
    lo, hi = DURATION_RANGE
    if not lo <= duration <= hi:
        raise ScenarioError(
            f"design storm: duration = {duration / 60:g} min; expected "
            f"{lo / 60:g} min to {hi / 3600:g} h"
        )
    lo, hi = STEP_RANGE
    if not lo <= step <= hi:
        raise ScenarioError(
            f"design storm: step = {step:g} s; expected {lo:g} s to {hi / 60:g} min"
        )
    count = round(duration / step)
    if count < 1 or abs(count * step - duration) > 1e-9 * duration:
        raise ScenarioError(
            f"design storm: duration = {duration:g} s is not a whole multiple "
            f"of step = {step:g} s; expected e.g. {max(count, 1) * step:g} s"
        )
    return duration, step, count


def _peak_position(r) -> float:
    try:
        r = float(r)
    except (TypeError, ValueError):
        raise ScenarioError(f"design storm: peak_position must be a number, got {r!r}") from None
    if not 0.0 <= r <= 1.0:
        raise ScenarioError(
            f"design storm: peak_position r = {r}; expected 0 <= r <= 1 "
            "(0.35-0.40 in Chinese practice)"
        )
    return r


def _return_period(formula: StormFormula, return_period) -> float:
    try:
        p = float(return_period)
    except (TypeError, ValueError):
        raise ScenarioError(
            f"design storm: return_period must be a number of years, got {return_period!r}"
        ) from None
    formula.q(1.0, p)  # lets the formula refuse periods it cannot handle, with its own message
    return p


def _depth_curve(formula: StormFormula, t: np.ndarray, return_period: float) -> np.ndarray:
    """IDF depth D(t) in m with D(0) = 0; ``t`` in seconds, any t >= 0."""
    out = np.zeros_like(t, dtype=float)
    positive = t > 0
    if np.any(positive):
        out[positive] = formula.depth(t[positive], return_period)
    return out


# --- Chicago ------------------------------------------------------------------------------------


def chicago_mass_curve(
    formula: StormFormula, s, *, return_period: float, duration: float, peak_position: float = 0.375
) -> np.ndarray:
    """Cumulative depth (m) of the Chicago storm at times ``s`` (seconds from the storm start).

    With the peak at s_p = r·T_d and D(t) the IDF depth, the mass curve is::

        M(s) = r·D(T_d) - r·D((s_p - s)/r)          for s <= s_p
        M(s) = r·D(T_d) + (1 - r)·D((s - s_p)/(1 - r))  for s >= s_p

    so every window [s_p - r·t, s_p + (1 - r)·t] holds exactly D(t) (Keifer & Chu, 1957).
    """
    s = np.asarray(s, dtype=float)
    r = _peak_position(peak_position)
    s_peak = r * duration
    before = s < s_peak
    mass = np.full(
        s.shape, r * float(_depth_curve(formula, np.array([duration]), return_period)[0])
    )
    if r > 0:
        t_before = np.where(before, (s_peak - s) / r, 0.0)
        mass -= np.where(before, r * _depth_curve(formula, t_before, return_period), 0.0)
    if r < 1:
        t_after = np.where(before, 0.0, (s - s_peak) / (1.0 - r))
        mass += np.where(before, 0.0, (1.0 - r) * _depth_curve(formula, t_after, return_period))
    return mass


def chicago(
    formula: StormFormula, *, return_period: float, duration, step, peak_position: float = 0.375
) -> Hyetograph:
    """Chicago design storm (芝加哥雨型, Keifer & Chu 1957).

    Interval depths are differences of the analytic mass curve (:func:`chicago_mass_curve`) at
    the step boundaries, so the depth over any window of length t placed around the peak
    (r·t before, (1 - r)·t after) whose ends fall on step boundaries equals the IDF depth D(t),
    to float precision, and the total equals D(duration).

    ``duration`` and ``step`` in seconds (or timedelta), ``return_period`` in years,
    ``peak_position`` r in [0, 1].
    """
    duration, step, count = _grid(duration, step)
    p = _return_period(formula, return_period)
    r = _peak_position(peak_position)
    bounds = np.arange(count + 1) * step
    bounds[-1] = duration  # exact end, whatever rounding the products did
    mass = chicago_mass_curve(formula, bounds, return_period=p, duration=duration, peak_position=r)
    depths = np.maximum(np.diff(mass), 0.0)  # clip round-off at flat ends, never real rain
    return Hyetograph(
        step=step,
        intensity=depths / step,
        pattern="chicago",
        return_period=p,
        duration=duration,
        formula=formula.name,
        peak_position=r,
    )


# --- alternating block --------------------------------------------------------------------------


def _block_order(count: int, r: float) -> np.ndarray:
    """Position of the k-th largest block, k = 0..count-1: peak first, then growing outwards.

    Each new block goes on the side that keeps the share of the window before the peak block's
    centre closest to r; ties go after the peak.
    """
    peak = min(count - 1, math.floor(r * count))
    order = [peak]
    left = right = 0
    for k in range(1, count):
        room_left, room_right = peak - left, count - 1 - peak - right
        go_left = room_right == 0 or (
            room_left > 0 and abs((left + 1.5) / (k + 1) - r) < abs((left + 0.5) / (k + 1) - r)
        )
        if go_left:
            left += 1
            order.append(peak - left)
        else:
            right += 1
            order.append(peak + right)
    return np.array(order)


def alternating_block(
    formula: StormFormula, *, return_period: float, duration, step, peak_position: float = 0.5
) -> Hyetograph:
    """Alternating block design storm (Chow, Maidment & Mays 1988, §14.4).

    Block k holds D(k·step) - D((k-1)·step); the largest sits at r·duration and the others are
    placed alternately after and before it (keeping the split near r), so every window of the
    k largest blocks is contiguous, contains the peak and holds exactly D(k·step).
    """
    duration, step, count = _grid(duration, step)
    p = _return_period(formula, return_period)
    r = _peak_position(peak_position)
    cumulative = _depth_curve(formula, np.arange(count + 1) * step, p)
    blocks = np.sort(np.maximum(np.diff(cumulative), 0.0))[::-1]
    depths = np.empty(count)
    depths[_block_order(count, r)] = blocks
    return Hyetograph(
        step=step,
        intensity=depths / step,
        pattern="alternating_block",
        return_period=p,
        duration=duration,
        formula=formula.name,
        peak_position=r,
    )


# --- Huff ---------------------------------------------------------------------------------------

# Huff's median (50 % probability) time distributions of heavy storm rainfall at a point, by
# quartile of the storm in which most rain falls: cumulative fraction of storm rainfall at every
# 5 % of storm time, 0 % to 100 %. Source: Huff, F.A. (1967), "Time distribution of rainfall in
# heavy storms", Water Resources Research 3(4), 1007-1019; the same median point curves are
# tabulated in Huff & Angel (1992), Illinois State Water Survey Bulletin 71, and Huff (1990), ISWS
# Circular 173. Values (whole percent) from a secondary tabulation; a second, independent one
# (the hidropluvial project's huff_curves.json) gives the same numbers, but neither was checked
# against the original tables: do so before relying on them for design.
HUFF_TIME = np.linspace(0.0, 1.0, 21)
HUFF_MEDIAN = {
    1: np.array(
        [0, 16, 33, 43, 52, 60, 66, 71, 75, 79, 82, 85, 88, 90, 92, 94, 95, 97, 98, 99, 100]
    )
    / 100.0,
    2: np.array([0, 3, 8, 12, 16, 22, 29, 39, 51, 62, 70, 76, 81, 85, 88, 91, 93, 95, 97, 98, 100])
    / 100.0,
    3: np.array([0, 2, 5, 8, 11, 14, 18, 22, 27, 32, 39, 48, 58, 68, 76, 82, 87, 91, 95, 98, 100])
    / 100.0,
    4: np.array([0, 2, 4, 6, 9, 11, 14, 17, 20, 24, 28, 33, 38, 44, 51, 59, 69, 79, 88, 95, 100])
    / 100.0,
}


def huff_mass_curve(quartile: int, fraction_of_time) -> np.ndarray:
    """Huff median cumulative fraction of storm depth at fractions of storm time (linear between
    the 5 % table points)."""
    if quartile not in HUFF_MEDIAN:
        raise ScenarioError(f"design storm: Huff quartile = {quartile!r}; expected 1, 2, 3 or 4")
    return np.interp(np.asarray(fraction_of_time, dtype=float), HUFF_TIME, HUFF_MEDIAN[quartile])


def huff(
    formula: StormFormula, *, return_period: float, duration, step, quartile: int = 1
) -> Hyetograph:
    """Huff design storm: the IDF depth D(duration) spread along Huff's median mass curve.

    Interval k holds D(duration)·(F((k+1)/N) - F(k/N)), F the quartile's median curve
    (:data:`HUFF_MEDIAN`). Total depth = D(duration) exactly.
    """
    duration, step, count = _grid(duration, step)
    p = _return_period(formula, return_period)
    if isinstance(quartile, bool) or not isinstance(quartile, (int, np.integer)):
        raise ScenarioError(f"design storm: Huff quartile = {quartile!r}; expected 1, 2, 3 or 4")
    fractions = huff_mass_curve(int(quartile), np.arange(count + 1) / count)
    total = float(formula.depth(duration, p))
    depths = total * np.diff(fractions)
    return Hyetograph(
        step=step,
        intensity=depths / step,
        pattern="huff",
        return_period=p,
        duration=duration,
        formula=formula.name,
        quartile=int(quartile),
    )


#: Builders by pattern name, for configuration files and scenarios.
PATTERNS: dict[str, Callable[..., Hyetograph]] = {
    "chicago": chicago,
    "alternating_block": alternating_block,
    "huff": huff,
}
