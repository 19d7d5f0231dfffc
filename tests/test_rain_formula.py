"""Storm intensity formulas: values by hand, SI conversions, validation, IDF tables and plots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydro.errors import ScenarioError
from hydro.rain import (
    LSHA_TO_M_PER_S,
    MM_PER_MIN_IN_LSHA,
    ChineseFormula,
    StormFormula,
    TabulatedFormula,
    idf_table,
)
from hydro.report.rain import plot_idf

HEFEI = ChineseFormula(a=3600.0, c=0.76, b=14.0, n=0.84, name="hefei-old")


# --- values by hand -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "p", "expected"),
    [
        # 3600 / 24^0.84: ln 24 = 3.17805, x0.84 = 2.66957, e^ = 14.4337 -> 249.42
        (10.0, 1.0, 249.42),
        # 3600·1.76 / 74^0.84 = 6336 / 37.167 -> 170.47
        (60.0, 10.0, 170.47),
        # 3600·2.52 / 19^0.84 = 9072 / 11.862 -> 764.80
        (5.0, 100.0, 764.80),
    ],
)
def test_chinese_formula_matches_hand_values(t, p, expected):
    assert HEFEI.q(t, p) == pytest.approx(expected, rel=1e-4)


def test_from_a1_uses_the_167_factor():
    f = ChineseFormula.from_a1(a1=20.0, c=0.7, b=10.0, n=0.7)
    assert f.a == pytest.approx(3340.0)
    assert f.a1 == pytest.approx(20.0)


def test_si_intensity_and_depth_are_consistent_with_q():
    t_min, p = 30.0, 3.0
    q = HEFEI.q(t_min, p)
    assert HEFEI.intensity(t_min * 60, p) == pytest.approx(q * 1e-7, rel=1e-12)
    # depth = q·t; in mm it is q / 166.67 (mm/min per L/(s·ha)) times t in minutes
    assert HEFEI.depth(t_min * 60, p) * 1e3 == pytest.approx(
        q / MM_PER_MIN_IN_LSHA * t_min, rel=1e-12
    )
    assert pytest.approx(166.67, abs=0.005) == MM_PER_MIN_IN_LSHA
    assert pytest.approx(1e-3 / 60) == LSHA_TO_M_PER_S * MM_PER_MIN_IN_LSHA


def test_arrays_broadcast():
    t = np.array([5.0, 10.0, 60.0])[:, None]
    p = np.array([1.0, 10.0])[None, :]
    q = HEFEI.q(t, p)
    assert q.shape == (3, 2)
    assert q[1, 1] == pytest.approx(HEFEI.q(10.0, 10.0))


def test_formulas_follow_the_protocol():
    tab = TabulatedFormula({2: (1800.0, 10.0, 0.7)})
    assert isinstance(HEFEI, StormFormula)
    assert isinstance(tab, StormFormula)


# --- tabulated form -----------------------------------------------------------------------------

TAB = TabulatedFormula(
    {1: (1500.0, 8.0, 0.70), 10: (2600.0, 12.0, 0.72), 100: (3600.0, 14.0, 0.74)}, name="tab"
)


def test_tabulated_gives_each_row_exactly():
    assert TAB.q(20.0, 10.0) == pytest.approx(2600.0 / 32.0**0.72, rel=1e-12)
    assert TAB.q(20.0, 1.0) == pytest.approx(1500.0 / 28.0**0.70, rel=1e-12)
    assert TAB.q(20.0, 100.0) == pytest.approx(3600.0 / 34.0**0.74, rel=1e-12)


def test_tabulated_interpolates_linearly_in_lg_p():
    lo, hi = TAB.q(20.0, 1.0), TAB.q(20.0, 10.0)
    assert TAB.q(20.0, math.sqrt(10.0)) == pytest.approx((lo + hi) / 2, rel=1e-12)
    assert TAB.q(20.0, 10**0.25) == pytest.approx(0.75 * lo + 0.25 * hi, rel=1e-12)
    # depth is the same combination of the two analytic depth curves
    d_lo, d_hi = TAB.depth(1200.0, 1.0), TAB.depth(1200.0, 10.0)
    assert TAB.depth(1200.0, math.sqrt(10.0)) == pytest.approx((d_lo + d_hi) / 2, rel=1e-12)


@pytest.mark.parametrize("p", [0.5, 200.0])
def test_tabulated_refuses_periods_outside_the_table(p):
    with pytest.raises(ScenarioError, match=r"outside the tabulated periods 1-100 years"):
        TAB.q(20.0, p)


def test_tabulated_refuses_intensity_falling_with_period():
    with pytest.raises(ScenarioError, match=r"P = 5 years gives no more intensity than P = 2"):
        TabulatedFormula({2: (1800.0, 10.0, 0.7), 5: (1700.0, 10.0, 0.7)})


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ({}, "no return periods"),
        ({0: (1800.0, 10.0, 0.7)}, "return period P = 0"),
        ({2: (1800.0, -1.0, 0.7)}, r"P = 2 years: b = -1.0 must be >= 0"),
        ({2: (1800.0, 10.0, 1.7)}, r"P = 2 years: n = 1.7 is outside"),
        ({2: (1800.0, 10.0)}, "each row must be P: \\(A, b, n\\)"),
    ],
)
def test_tabulated_validation(rows, pattern):
    with pytest.raises(ScenarioError, match=pattern):
        TabulatedFormula(rows)


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"a": 0.0}, r"A = 0.0 must be > 0"),
        ({"a": math.inf}, r"A must be a finite number"),
        ({"a": "x"}, r"A must be a number"),
        ({"b": -2.0}, r"b = -2.0 must be >= 0 minutes"),
        ({"n": 0.0}, r"n = 0.0 is outside the expected range 0.0 < n < 1.5"),
        ({"n": 1.5}, r"n = 1.5 is outside"),
        ({"n": -0.3}, r"n = -0.3 is outside"),
        ({"n": math.nan}, r"n must be a finite number"),
        ({"c": -0.1}, r"C = -0.1 must be >= 0"),
        ({"n": 1.2, "b": 0.0}, r"n = 1.2 with b = 0 gives a depth that never grows"),
    ],
)
def test_chinese_formula_validation_names_the_parameter(params, pattern):
    values = {"a": 3600.0, "c": 0.76, "b": 14.0, "n": 0.84, "name": "city"} | params
    with pytest.raises(ScenarioError, match=pattern) as info:
        ChineseFormula(**values)
    assert "storm formula 'city'" in str(info.value)


@pytest.mark.parametrize("p", [0.0, -1.0, math.nan, math.inf])
def test_bad_return_period(p):
    with pytest.raises(ScenarioError, match=r"return period P = .* expected a finite number > 0"):
        HEFEI.q(10.0, p)


def test_return_period_making_the_factor_non_positive():
    # 1 + 0.76 lg P <= 0 for P <= 10^(-1/0.76) = 0.0483 years
    with pytest.raises(ScenarioError, match=r"1 \+ C·lg P <= 0 .* expected P > 0.0483 years"):
        HEFEI.q(10.0, 0.04)
    assert HEFEI.q(10.0, 0.05) > 0


@pytest.mark.parametrize("t", [0.0, -5.0, math.nan])
def test_bad_duration(t):
    with pytest.raises(ScenarioError, match=r"duration t = .* expected a finite number > 0"):
        HEFEI.q(t, 2.0)
    with pytest.raises(ScenarioError, match=r"duration t = .* s; expected"):
        HEFEI.depth(t, 2.0)


def test_exponent_above_one_limits_the_duration():
    steep = ChineseFormula(a=3000.0, c=0.7, b=10.0, n=1.2, name="steep")
    # depth t·A/(t+b)^n peaks at t = b/(n-1) = 50 min
    assert steep.max_duration(2.0) == pytest.approx(3000.0)
    assert steep.depth(3000.0, 2.0) > steep.depth(2400.0, 2.0)
    with pytest.raises(ScenarioError, match=r"depth falls with duration beyond t = 50 min"):
        steep.depth(3600.0, 2.0)
    assert HEFEI.max_duration(2.0) == math.inf


# --- properties over the valid parameter ranges -------------------------------------------------

formulas = st.builds(
    ChineseFormula,
    a=st.floats(1500.0, 3600.0),
    c=st.floats(0.4, 1.2),
    b=st.floats(0.0, 20.0),
    n=st.floats(0.5, 0.99),
)
durations = st.lists(st.floats(60.0, 86400.0), min_size=2, max_size=8, unique=True)
periods = st.lists(st.floats(0.5, 200.0), min_size=2, max_size=6, unique=True)


@given(formulas, durations, st.floats(0.5, 200.0))
def test_depth_grows_and_intensity_falls_with_duration(formula, ts, p):
    t = np.sort(np.array(ts))
    t = t[np.diff(t, prepend=0.0) > 1e-3]  # distinct enough to compare
    depth = formula.depth(t, p)
    intensity = formula.intensity(t, p)
    assert np.all(intensity > 0) and np.all(np.isfinite(intensity))
    assert np.all(np.diff(depth) > 0)
    assert np.all(np.diff(intensity) < 0)


@given(formulas, st.floats(60.0, 86400.0), periods)
def test_depth_grows_with_return_period(formula, t, ps):
    p = np.sort(np.array(ps))
    p = p[np.diff(p, prepend=0.0) > 1e-6]
    assert np.all(np.diff(formula.depth(t, p)) > 0)


@given(st.floats(1.0, 99.0), st.floats(60.0, 86400.0))
def test_tabulated_grows_with_period_between_rows(p, t):
    assert TAB.depth(t, p) < TAB.depth(t, p * 1.01)


# --- IDF tables and plots -----------------------------------------------------------------------


def test_idf_table_matches_the_formula():
    ds = idf_table(HEFEI, durations=[300.0, 3600.0, 86400.0], return_periods=[1, 3, 50])
    assert ds["idf_depth"].dims == ("duration", "return_period")
    assert ds["idf_depth"].shape == (3, 3)
    assert ds["idf_depth"].attrs["units"] == "m"
    assert ds["idf_intensity"].attrs["units"] == "m s-1"
    assert ds["duration"].attrs["units"] == "s"
    assert float(ds["idf_depth"].sel(duration=3600.0, return_period=3)) == pytest.approx(
        float(HEFEI.depth(3600.0, 3.0)), rel=1e-12
    )
    np.testing.assert_allclose(ds["idf_intensity"] * ds["duration"], ds["idf_depth"], rtol=1e-12)
    assert "hefei-old" in ds.attrs["formula"]


def test_default_idf_table_spans_5_min_to_24_h():
    ds = idf_table(HEFEI)
    assert ds["duration"].values[0] == 300.0 and ds["duration"].values[-1] == 86400.0
    assert 100.0 in ds["return_period"].values


def test_idf_table_refuses_bad_grid():
    with pytest.raises(ScenarioError, match="duration"):
        idf_table(HEFEI, durations=[0.0, 60.0])
    with pytest.raises(ScenarioError, match="return period"):
        idf_table(HEFEI, return_periods=[-1.0])


def test_plot_idf_draws_one_line_per_period():
    ax = plot_idf(HEFEI, return_periods=[1, 5, 20])
    assert len(ax.get_lines()) == 3
    x, y = ax.get_lines()[0].get_data()
    assert x[0] == pytest.approx(5.0)  # minutes
    assert y[0] == pytest.approx(float(HEFEI.intensity(300.0, 1.0)) * 3.6e6)
    assert ax.get_xscale() == "log"
