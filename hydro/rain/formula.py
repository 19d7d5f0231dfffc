"""Storm intensity formulas (暴雨强度公式): intensity and depth as functions of duration and return period.

Two forms are used in Chinese design practice (GB 50014):

* the general form, one formula for every return period::

      q = 167·A1·(1 + C·lg P) / (t + b)^n        [L/(s·ha)], t in minutes, P in years

* the tabulated form, one parameter set per return period ``P -> (A, b, n)``::

      q = A / (t + b)^n

  Between two tabulated periods the intensity is interpolated linearly in lg P (so the depth, a
  linear combination of two analytic depth curves, stays analytic); outside them it is an error.

Units. The formulas give ``q`` in L/(s·ha) for ``t`` in minutes, as printed in the standards
(:meth:`q`). Everything else here is SI: durations in seconds, intensity in m/s, depth in m.
1 L/(s·ha) = 1e-7 m/s exactly; 1 mm/min = 166.67 L/(s·ha) (the "167" in the general form is that
factor rounded, so A1 is in mm/min).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from hydro.errors import ScenarioError

#: 1 L/(s·ha) in m/s: 1e-3 m³ per second over 1e4 m².
LSHA_TO_M_PER_S = 1e-7
#: 1 mm/min in L/(s·ha): 1e-3 m × 1e4 m² / 60 s = 166.67 L/s per hectare.
MM_PER_MIN_IN_LSHA = 1e4 * 1e-3 * 1e3 / 60.0
#: The rounded factor of the general Chinese form, q = 167·A1·(...).
CHINESE_FACTOR = 167.0

# Exponent range accepted for n; published Chinese formulas lie within about 0.5-1.0.
N_RANGE = (0.0, 1.5)


@runtime_checkable
class StormFormula(Protocol):
    """What hyetographs and IDF tables need from a storm intensity formula."""

    @property
    def name(self) -> str: ...

    def q(self, t_minutes, return_period) -> np.ndarray:
        """Mean intensity over ``t_minutes`` in L/(s·ha) (the formula's own units)."""

    def intensity(self, duration, return_period) -> np.ndarray:
        """Mean intensity over ``duration`` seconds, m/s."""

    def depth(self, duration, return_period) -> np.ndarray:
        """IDF depth over ``duration`` seconds, m."""

    def max_duration(self, return_period) -> float:
        """Longest duration (s) over which the depth still grows with duration (inf if always)."""


# --- validation helpers -------------------------------------------------------------------------


def _label(name: str) -> str:
    return f"storm formula {name!r}" if name else "storm formula"


def _finite(value: float, what: str, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"{_label(name)}: {what} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{_label(name)}: {what} must be a finite number, got {value}")
    return value


def _check_power_law(a: float, b: float, n: float, name: str, what: str = "") -> tuple:
    """Check one (A, b, n) set; ``what`` says which set (e.g. 'P = 5 years: ') in messages."""
    a = _finite(a, f"{what}A", name)
    b = _finite(b, f"{what}b", name)
    n = _finite(n, f"{what}n", name)
    if a <= 0:
        raise ScenarioError(f"{_label(name)}: {what}A = {a} must be > 0 L/(s·ha)")
    if b < 0:
        raise ScenarioError(f"{_label(name)}: {what}b = {b} must be >= 0 minutes (typically 5-20)")
    if not N_RANGE[0] < n < N_RANGE[1]:
        raise ScenarioError(
            f"{_label(name)}: {what}n = {n} is outside the expected range "
            f"{N_RANGE[0]} < n < {N_RANGE[1]} (typically 0.5-1.0)"
        )
    if n >= 1 and b == 0:
        raise ScenarioError(
            f"{_label(name)}: {what}n = {n} with b = 0 gives a depth that never "
            "grows with duration; expected n < 1 or b > 0"
        )
    return a, b, n


def _return_periods(return_period, name: str) -> np.ndarray:
    p = np.asarray(return_period, dtype=float)
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        bad = p[~(np.isfinite(p) & (p > 0))].ravel()[0]
        raise ScenarioError(
            f"{_label(name)}: return period P = {bad} years; expected a finite number > 0 years"
        )
    return p


def _durations(duration, name: str, units: str) -> np.ndarray:
    t = np.asarray(duration, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        bad = t[~(np.isfinite(t) & (t > 0))].ravel()[0]
        raise ScenarioError(
            f"{_label(name)}: duration t = {bad} {units}; expected a finite number > 0 {units}"
        )
    return t


def _power_law_q(a, b, n, t_minutes):
    """q = A / (t + b)^n in L/(s·ha); arrays broadcast."""
    return a / np.power(t_minutes + b, n)


def _power_law_limit_minutes(b: float, n: float) -> float:
    """Duration after which t·A/(t+b)^n stops growing: d/dt = 0 at t = b/(n-1) for n > 1."""
    return math.inf if n <= 1 else b / (n - 1.0)


class _FormulaInSI:
    """Intensity and depth in SI from a formula's own ``q`` (L/(s·ha), t in minutes)."""

    name: str

    def q(self, t_minutes, return_period) -> np.ndarray:
        raise NotImplementedError  # each formula's own

    def max_duration(self, return_period) -> float:
        raise NotImplementedError  # each formula's own

    def intensity(self, duration, return_period) -> np.ndarray:
        """Mean intensity in m/s over ``duration`` seconds."""
        t = _durations(duration, self.name, "s")
        return self.q(t / 60.0, return_period) * LSHA_TO_M_PER_S

    def depth(self, duration, return_period) -> np.ndarray:
        """IDF depth in m over ``duration`` seconds: intensity × duration."""
        t = _durations(duration, self.name, "s")
        _check_growing(self, t, return_period)
        return self.intensity(t, return_period) * t


# --- the general form ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChineseFormula(_FormulaInSI):
    """q = a·(1 + c·lg P) / (t + b)^n in L/(s·ha), with ``a`` = 167·A1.

    Parameters: ``a`` (L/(s·ha), > 0), ``c`` (-, >= 0), ``b`` (minutes, >= 0),
    ``n`` (-, 0 < n < 1.5). ``name`` is carried into hyetograph metadata and messages.
    Build from A1 in mm/min with :meth:`from_a1`.
    """

    a: float
    c: float
    b: float
    n: float
    name: str = ""

    def __post_init__(self) -> None:
        a, b, n = _check_power_law(self.a, self.b, self.n, self.name)
        c = _finite(self.c, "C", self.name)
        if c < 0:
            raise ScenarioError(
                f"{_label(self.name)}: C = {c} must be >= 0 (typically 0.4-1.2); "
                "a negative C makes rarer storms weaker"
            )
        for key, value in (("a", a), ("b", b), ("n", n), ("c", c)):
            object.__setattr__(self, key, value)

    @classmethod
    def from_a1(cls, a1: float, c: float, b: float, n: float, name: str = "") -> ChineseFormula:
        """The formula from A1 in mm/min, as printed: q = 167·A1·(1 + C lg P)/(t + b)^n."""
        return cls(a=CHINESE_FACTOR * _finite(a1, "A1", name), c=c, b=b, n=n, name=name)

    @property
    def a1(self) -> float:
        """A1 in mm/min (a / 167)."""
        return self.a / CHINESE_FACTOR

    def _factor(self, return_period) -> np.ndarray:
        p = _return_periods(return_period, self.name)
        factor = 1.0 + self.c * np.log10(p)
        if np.any(factor <= 0):
            bad = p[factor <= 0].ravel()[0] if p.ndim else float(p)
            lowest = 10 ** (-1.0 / self.c)
            raise ScenarioError(
                f"{_label(self.name)}: return period P = {bad} years gives "
                f"1 + C·lg P <= 0 (C = {self.c}); expected P > {lowest:.3g} years"
            )
        return factor

    def q(self, t_minutes, return_period) -> np.ndarray:
        """Mean intensity in L/(s·ha) over ``t_minutes`` (minutes) for ``return_period`` (years)."""
        t = _durations(t_minutes, self.name, "min")
        return _power_law_q(self.a * self._factor(return_period), self.b, self.n, t)

    def max_duration(self, return_period) -> float:
        """Longest duration in s over which depth grows (inf when n <= 1)."""
        return _power_law_limit_minutes(self.b, self.n) * 60.0

    def __str__(self) -> str:
        label = f"{self.name}: " if self.name else ""
        return f"{label}q = {self.a:g}(1 + {self.c:g} lg P)/(t + {self.b:g})^{self.n:g} L/(s·ha)"


# --- the tabulated form -------------------------------------------------------------------------


@dataclass(frozen=True)
class TabulatedFormula(_FormulaInSI):
    """One power law per return period: q = A/(t + b)^n for each tabulated P.

    ``rows`` maps a return period in years to ``(A, b, n)`` (A in L/(s·ha), b in minutes).
    Between tabulated periods q is linear in lg P; outside them a :class:`ScenarioError` says
    which periods exist. Intensities must grow with P at every duration from 1 min to 24 h.
    """

    rows: tuple[tuple[float, float, float, float], ...] = field(default=())
    name: str = ""

    def __init__(self, rows, name: str = "") -> None:
        if hasattr(rows, "items"):
            rows = rows.items()
        table = []
        for item in rows:
            try:
                period, (a, b, n) = item
            except (TypeError, ValueError):
                raise ScenarioError(
                    f"{_label(name)}: each row must be P: (A, b, n), got {item!r}"
                ) from None
            period = _finite(period, "return period P", name)
            if period <= 0:
                raise ScenarioError(
                    f"{_label(name)}: return period P = {period} years; expected > 0 years"
                )
            a, b, n = _check_power_law(a, b, n, name, f"P = {period:g} years: ")
            table.append((period, a, b, n))
        if not table:
            raise ScenarioError(
                f"{_label(name)}: no return periods tabulated; expected at "
                "least one row P: (A, b, n)"
            )
        table.sort()
        periods = [row[0] for row in table]
        if len(set(periods)) != len(periods):
            raise ScenarioError(f"{_label(name)}: return periods {periods} are not unique")
        object.__setattr__(self, "rows", tuple(table))
        object.__setattr__(self, "name", name)
        self._check_growing_with_period()

    @property
    def periods(self) -> np.ndarray:
        return np.array([row[0] for row in self.rows])

    def _check_growing_with_period(self) -> None:
        t = np.geomspace(1.0, 1440.0, 200)
        q = np.array([_power_law_q(a, b, n, t) for _, a, b, n in self.rows])
        for k in range(len(self.rows) - 1):
            worse = np.nonzero(q[k + 1] <= q[k])[0]
            if worse.size:
                raise ScenarioError(
                    f"{_label(self.name)}: P = {self.rows[k + 1][0]:g} years gives no more "
                    f"intensity than P = {self.rows[k][0]:g} years at t = {t[worse[0]]:.3g} min; "
                    "expected intensities that grow with the return period"
                )

    def _bracket(self, return_period):
        """Indices of the lower tabulated period and weights of the upper one, in lg P."""
        p = _return_periods(return_period, self.name)
        periods = self.periods
        lo, hi = periods[0], periods[-1]
        rel = 1e-9
        outside = (p < lo * (1 - rel)) | (p > hi * (1 + rel))
        if np.any(outside):
            bad = p[outside].ravel()[0] if p.ndim else float(p)
            raise ScenarioError(
                f"{_label(self.name)}: return period P = {bad:g} years is outside the tabulated "
                f"periods {lo:g}-{hi:g} years ({', '.join(f'{x:g}' for x in periods)}); "
                "add a row for it or choose a period in range"
            )
        p = np.clip(p, lo, hi)
        if len(periods) == 1:
            return np.zeros(p.shape, dtype=int), np.zeros(p.shape)
        lg = np.log10(periods)
        idx = np.clip(np.searchsorted(lg, np.log10(p), side="right") - 1, 0, len(lg) - 2)
        weight = (np.log10(p) - lg[idx]) / (lg[idx + 1] - lg[idx])
        return idx, weight

    def q(self, t_minutes, return_period) -> np.ndarray:
        """Mean intensity in L/(s·ha) over ``t_minutes`` for ``return_period`` (years)."""
        t = _durations(t_minutes, self.name, "min")
        idx, weight = self._bracket(return_period)
        table = np.array([row[1:] for row in self.rows])
        a, b, n = (table[:, k] for k in range(3))
        q_lo = _power_law_q(a[idx], b[idx], n[idx], t)
        if len(self.rows) == 1:
            return q_lo
        q_hi = _power_law_q(a[idx + 1], b[idx + 1], n[idx + 1], t)
        return (1.0 - weight) * q_lo + weight * q_hi

    def max_duration(self, return_period) -> float:
        """Longest duration in s over which depth grows, for the rows bracketing the period."""
        idx, weight = self._bracket(return_period)
        used = {int(i) for i in np.ravel(idx)}
        used |= {int(i) + 1 for i, w in zip(np.ravel(idx), np.ravel(weight), strict=True) if w > 0}
        limits = [_power_law_limit_minutes(self.rows[i][2], self.rows[i][3]) for i in used]
        return min(limits) * 60.0

    def __str__(self) -> str:
        label = f"{self.name}: " if self.name else ""
        rows = "; ".join(f"P={p:g}: {a:g}/(t + {b:g})^{n:g}" for p, a, b, n in self.rows)
        return f"{label}{rows} L/(s·ha)"


# --- long durations: the short formula nested in a 24-hour depth of the same frequency --------

DAY = 86400.0


def pearson3_factor(return_period, *, cs: float) -> np.ndarray:
    """Frequency factor Φ of a Pearson type III distribution (skew ``cs``): the value exceeded
    once in ``return_period`` years is mean·(1 + Cv·Φ) (Chinese hydrological practice, SL 44)."""
    from scipy.stats import pearson3

    p = np.asarray(return_period, dtype=float)
    return pearson3.ppf(1.0 - 1.0 / p, cs)


@dataclass(frozen=True)
class LongDurationFormula(_FormulaInSI):
    """A storm intensity formula extended past its valid durations by a 24-hour depth of the
    same return period (同频率): a same-frequency nested storm.

    Up to ``join`` seconds the depth is the short formula's, D(t) = q(t, P)·t. Beyond, it follows
    a power law through D(join) and the 24-hour depth of the same return period,
    H24(P) = ``mean_24h``·(1 + Cv·Φ(P)) (Pearson III, Cs = ``cs_cv``·Cv: SL 44-2006)::

        D(t) = D(join)·(t / join)^m,   m = ln(H24 / D(join)) / ln(24 h / join)

    so a Chicago storm built on it holds, around its peak, the same-frequency depth of every
    duration from 5 minutes to 24 hours (the short formula's inside ``join``, the day's whole).
    For return periods under MIN_PERIOD (an annual maximum reached about every year, which has no
    24-hour frequency to speak of) the short formula goes on past ``join``.
    ``mean_24h`` in m (annual maximum 24-hour rainfall), ``cv`` and ``cs_cv`` dimensionless.
    """

    MIN_PERIOD = 1.1  # years: below it the formula itself goes on past ``join``

    short: StormFormula
    mean_24h: float
    cv: float
    cs_cv: float = 3.5
    join: float = 3 * 3600.0
    name: str = ""

    def __post_init__(self) -> None:
        for key in ("mean_24h", "cv", "cs_cv", "join"):
            value = _finite(getattr(self, key), key, self.name)
            if value <= 0:
                raise ScenarioError(f"{_label(self.name)}: {key} = {value} must be > 0")
        if not 600.0 <= self.join < DAY:
            raise ScenarioError(
                f"{_label(self.name)}: join = {self.join / 60:g} min; expected "
                "10 min to 24 h (the longest duration the short formula holds)"
            )
        if not self.name:
            object.__setattr__(self, "name", self.short.name)

    def depth_24h(self, return_period) -> np.ndarray:
        """H24(P) in m."""
        p = _return_periods(return_period, self.name)
        return self.mean_24h * (1.0 + self.cv * pearson3_factor(p, cs=self.cs_cv * self.cv))

    def _exponent(self, return_period) -> np.ndarray:
        p = np.asarray(return_period, dtype=float)
        d_join = self.short.depth(np.full(p.shape, self.join), p)
        h24 = self.depth_24h(p)
        bad = h24 <= d_join
        if np.any(bad):
            k = int(np.argmax(bad))
            raise ScenarioError(
                f"{_label(self.name)}: for P = {p.flat[k]:g} years the 24-hour depth "
                f"({h24.flat[k] * 1e3:.0f} mm) is not above the formula's "
                f"{self.join / 60:g}-minute depth ({d_join.flat[k] * 1e3:.0f} mm); raise "
                "mean_24h or cv, or lower join"
            )
        return np.log(h24 / d_join) / math.log(DAY / self.join)

    def depth(self, duration, return_period) -> np.ndarray:
        t = _durations(duration, self.name, "s")
        t, p = np.broadcast_arrays(t, np.asarray(return_period, dtype=float))
        out = np.empty(t.shape)
        inside = t <= self.join
        if np.any(inside):
            out[inside] = self.short.depth(t[inside], p[inside])
        # An annual maximum exceeded about every year (P < MIN_PERIOD) has no 24-hour frequency
        # to nest in: there the formula itself goes on.
        plain = ~inside & (p < self.MIN_PERIOD)
        if np.any(plain):
            out[plain] = self.short.depth(t[plain], p[plain])
        long = ~inside & ~plain
        if np.any(long):
            tl, pl = t[long], p[long]
            d_join = self.short.depth(np.full(tl.shape, self.join), pl)
            out[long] = d_join * (tl / self.join) ** self._exponent(pl)
        return out if out.ndim else float(out)  # type: ignore[return-value]  # a scalar in, out

    def intensity(self, duration, return_period) -> np.ndarray:
        t = _durations(duration, self.name, "s")
        return self.depth(t, return_period) / t

    def q(self, t_minutes, return_period) -> np.ndarray:
        """Mean intensity in L/(s·ha) over ``t_minutes``."""
        t = _durations(t_minutes, self.name, "min")
        return self.intensity(t * 60.0, return_period) / LSHA_TO_M_PER_S

    def max_duration(self, return_period) -> float:
        return math.inf

    def __str__(self) -> str:
        return (
            f"{self.short} up to {self.join / 60:g} min, then nested in the 24-hour depth "
            f"of the same frequency (mean {self.mean_24h * 1e3:g} mm, Cv {self.cv:g}, "
            f"Cs = {self.cs_cv:g} Cv)"
        )


def _check_growing(formula: StormFormula, duration_s: np.ndarray, return_period) -> None:
    """Refuse durations past the point where the formula's depth starts to fall (n > 1)."""
    periods = np.atleast_1d(np.asarray(return_period, dtype=float))
    limit = min(formula.max_duration(p) for p in np.unique(periods))
    longest = float(np.max(duration_s))
    if longest > limit * (1 + 1e-12):
        raise ScenarioError(
            f"{_label(formula.name)}: its depth falls with duration beyond "
            f"t = {limit / 60:.4g} min (n > 1), asked for {longest / 60:.4g} min; expected "
            "durations up to that limit or a formula with n < 1"
        )


# --- IDF tables ---------------------------------------------------------------------------------

#: Durations (s) of the default IDF table: 5 min to 24 h.
DEFAULT_DURATIONS = np.array([5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 360, 720, 1440]) * 60.0
#: Return periods (years) of the default IDF table.
DEFAULT_RETURN_PERIODS = np.array([1, 2, 3, 5, 10, 20, 30, 50, 100], dtype=float)


def idf_table(
    formula: StormFormula,
    *,
    durations: Iterable[float] | None = None,
    return_periods: Iterable[float] | None = None,
):
    """IDF intensities and depths over a grid of durations and return periods.

    Returns an ``xarray.Dataset`` with variables ``idf_intensity`` (m/s) and ``idf_depth`` (m),
    dims ``(duration, return_period)``; ``duration`` in seconds, ``return_period`` in years.
    Use ``.values`` for plain arrays.
    """
    from hydro.results import build_dataset

    t = _durations(DEFAULT_DURATIONS if durations is None else list(durations), formula.name, "s")
    p = _return_periods(
        DEFAULT_RETURN_PERIODS if return_periods is None else list(return_periods), formula.name
    )
    t, p = np.atleast_1d(t), np.atleast_1d(p)
    depth = formula.depth(t[:, None], p[None, :])
    coords = {
        "duration": ("duration", t, {"units": "s", "long_name": "storm duration"}),
        "return_period": ("return_period", p, {"units": "year", "long_name": "return period"}),
    }
    return build_dataset(
        {"idf_intensity": depth / t[:, None], "idf_depth": depth},
        coords=coords,
        attrs={"formula": str(formula)},
    )
