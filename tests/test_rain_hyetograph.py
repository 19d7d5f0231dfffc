"""Design hyetographs: IDF consistency of Chicago and alternating block, Huff mass curves,
argument checks and the Hyetograph helpers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydro.errors import ScenarioError
from hydro.rain import (
    ChineseFormula,
    TabulatedFormula,
    alternating_block,
    chicago,
    chicago_mass_curve,
    huff,
    huff_mass_curve,
)
from hydro.rain.hyetograph import HUFF_MEDIAN
from hydro.report.rain import plot_hyetograph

HEFEI = ChineseFormula(a=3600.0, c=0.76, b=14.0, n=0.84, name="hefei-old")
TAB = TabulatedFormula({1: (1500.0, 8.0, 0.70), 10: (2600.0, 12.0, 0.72)}, name="tab")


def window_depth(h, start: float, end: float) -> float:
    """Depth of a hyetograph between two step boundaries (s), by summing whole intervals."""
    k0, k1 = round(start / h.step), round(end / h.step)
    assert abs(k0 * h.step - start) < 1e-6 and abs(k1 * h.step - end) < 1e-6
    return float(np.sum(h.intensity[k0:k1]) * h.step)


# --- Chicago ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "step", "window"),
    [
        (0.375, 60.0, 480.0),  # r·T and (1-r)·T on whole minutes when T is a multiple of 8 min
        (0.5, 60.0, 120.0),
        (0.4, 300.0, 1500.0),
    ],
)
@pytest.mark.parametrize("formula", [HEFEI, TAB], ids=["chinese", "tabulated"])
def test_chicago_every_window_around_the_peak_holds_the_idf_depth(formula, r, step, window):
    duration, p = 7200.0 if step < 300 else 3 * 7500.0, 5.0
    h = chicago(formula, return_period=p, duration=duration, step=step, peak_position=r)
    peak = r * duration
    windows = np.arange(window, duration + 1, window)
    assert windows.size >= 10
    for t in windows:
        depth = window_depth(h, peak - r * t, peak + (1 - r) * t)
        assert depth == pytest.approx(float(formula.depth(t, p)), rel=1e-12), t


@pytest.mark.parametrize("r", [0.0, 0.2, 0.375, 0.5, 0.8, 1.0])
def test_chicago_mass_curve_holds_the_idf_depth_for_any_window(r):
    duration, p = 7200.0, 3.0
    peak = r * duration
    for t in np.linspace(1.0, duration, 97):
        start, end = peak - r * t, peak + (1 - r) * t
        mass = chicago_mass_curve(
            HEFEI, [start, end], return_period=p, duration=duration, peak_position=r
        )
        assert mass[1] - mass[0] == pytest.approx(float(HEFEI.depth(t, p)), rel=1e-12)
    ends = chicago_mass_curve(
        HEFEI, [0.0, duration], return_period=p, duration=duration, peak_position=r
    )
    assert ends[0] == pytest.approx(0.0, abs=1e-15)
    assert ends[1] == pytest.approx(float(HEFEI.depth(duration, p)), rel=1e-12)


@pytest.mark.parametrize("r", [0.0, 0.375, 1.0])
def test_chicago_total_depth_shape_and_peak(r):
    h = chicago(HEFEI, return_period=2.0, duration=7200.0, step=300.0, peak_position=r)
    assert h.intensity.shape == (24,)
    assert h.depth == pytest.approx(float(HEFEI.depth(7200.0, 2.0)), rel=1e-12)
    assert np.all(h.intensity >= 0)
    peak_index = int(np.argmax(h.intensity))
    assert h.times[peak_index] <= r * 7200.0 <= h.times[peak_index] + 300.0
    # intensities fall away from the peak on both sides
    assert np.all(np.diff(h.intensity[: peak_index + 1]) >= 0)
    assert np.all(np.diff(h.intensity[peak_index:]) <= 0)
    assert h.pattern == "chicago" and h.peak_position == r and h.formula == "hefei-old"


@given(
    st.floats(0.0, 1.0),
    st.sampled_from([60.0, 120.0, 300.0]),
    st.integers(2, 48),
    st.floats(0.5, 100.0),
)
def test_chicago_total_equals_idf_depth(r, step, count, p):
    duration = step * max(count, int(np.ceil(600.0 / step)))  # at least 10 minutes
    h = chicago(HEFEI, return_period=p, duration=duration, step=step, peak_position=r)
    assert h.depth == pytest.approx(float(HEFEI.depth(duration, p)), rel=1e-10)
    assert np.all(h.intensity >= 0)


# --- alternating block --------------------------------------------------------------------------


@pytest.mark.parametrize("r", [0.0, 0.3, 0.375, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("formula", [HEFEI, TAB], ids=["chinese", "tabulated"])
def test_alternating_block_windows_of_whole_blocks_hold_the_idf_depth(formula, r):
    step, duration, p = 300.0, 7200.0, 3.0
    h = alternating_block(formula, return_period=p, duration=duration, step=step, peak_position=r)
    depths = h.intensity * step
    count = depths.size
    peak = int(np.argmax(depths))
    assert peak == min(count - 1, int(r * count))
    for k in range(1, count + 1):
        sums = np.array([depths[i : i + k].sum() for i in range(count - k + 1)])
        best = int(np.argmax(sums))
        assert best <= peak < best + k, k  # the heaviest k-block window contains the peak
        assert sums[best] == pytest.approx(float(formula.depth(k * step, p)), rel=1e-12), k


def test_alternating_block_centred_peak_alternates_sides():
    h = alternating_block(HEFEI, return_period=2.0, duration=3600.0, step=300.0)
    order = np.argsort(-h.intensity, kind="stable")
    assert list(order[:5]) == [6, 7, 5, 8, 4]
    assert h.depth == pytest.approx(float(HEFEI.depth(3600.0, 2.0)), rel=1e-12)


# --- Huff ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("quartile", [1, 2, 3, 4])
def test_huff_total_depth_and_monotone_mass_curve(quartile):
    h = huff(HEFEI, return_period=10.0, duration=6 * 3600.0, step=300.0, quartile=quartile)
    assert h.depth == pytest.approx(float(HEFEI.depth(6 * 3600.0, 10.0)), rel=1e-12)
    assert np.all(np.diff(h.cumulative_depth) >= 0)
    assert np.all(h.intensity >= 0)
    # most rain falls in the storm's quarter named by the quartile
    quarters = h.intensity.reshape(4, -1).sum(axis=1)
    assert int(np.argmax(quarters)) == quartile - 1
    assert h.quartile == quartile and h.pattern == "huff"


def test_huff_curves_are_monotone_from_0_to_1():
    for quartile, curve in HUFF_MEDIAN.items():
        assert curve[0] == 0.0 and curve[-1] == 1.0, quartile
        assert np.all(np.diff(curve) > 0), quartile
    assert huff_mass_curve(1, 0.5) == pytest.approx(0.82)
    assert huff_mass_curve(2, [0.0, 0.025, 1.0]) == pytest.approx([0.0, 0.015, 1.0])


def test_huff_interval_depths_follow_the_curve():
    h = huff(HEFEI, return_period=2.0, duration=7200.0, step=360.0, quartile=2)  # 5 % steps
    total = float(HEFEI.depth(7200.0, 2.0))
    np.testing.assert_allclose(h.cumulative_depth / total, HUFF_MEDIAN[2], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("quartile", [0, 5, "1", 1.0, True])
def test_huff_refuses_bad_quartile(quartile):
    with pytest.raises(ScenarioError, match="Huff quartile"):
        huff(HEFEI, return_period=2.0, duration=3600.0, step=300.0, quartile=quartile)


# --- argument checks ----------------------------------------------------------------------------

BUILDERS = [chicago, alternating_block, huff]


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"duration": 3700.0, "step": 300.0}, r"duration = 3700 s is not a whole multiple of step"),
        ({"duration": 300.0, "step": 60.0}, r"duration = 5 min; expected 10 min to 72 h"),
        ({"duration": 80 * 3600.0, "step": 300.0}, r"expected 10 min to 72 h"),
        ({"duration": 3600.0, "step": 10.0}, r"step = 10 s; expected 30 s to 60 min"),
        ({"duration": 7200.0, "step": 7200.0}, r"step = 7200 s; expected 30 s to 60 min"),
        ({"duration": 0.0, "step": 300.0}, r"duration = 0.0 s; expected a finite number > 0"),
        ({"duration": 3600.0, "step": "5min"}, r"step must be a number of seconds"),
        ({"duration": 3600.0, "step": 300.0, "return_period": 0.0}, r"return period P = 0"),
        ({"duration": 3600.0, "step": 300.0, "return_period": "often"}, r"return_period must be"),
    ],
)
def test_builders_refuse_bad_arguments(build, kwargs, pattern):
    args = {"return_period": 2.0} | kwargs
    with pytest.raises(ScenarioError, match=pattern):
        build(HEFEI, **args)


@pytest.mark.parametrize("build", [chicago, alternating_block])
@pytest.mark.parametrize("r", [-0.1, 1.1, "middle"])
def test_peak_position_must_lie_in_0_1(build, r):
    with pytest.raises(ScenarioError, match="peak_position"):
        build(HEFEI, return_period=2.0, duration=3600.0, step=300.0, peak_position=r)


def test_tabulated_period_outside_table_is_refused_by_builders():
    with pytest.raises(ScenarioError, match="outside the tabulated periods"):
        chicago(TAB, return_period=50.0, duration=3600.0, step=300.0)


def test_steep_formula_refused_for_long_storms():
    steep = ChineseFormula(a=3000.0, c=0.7, b=10.0, n=1.2)
    chicago(steep, return_period=2.0, duration=3000.0, step=300.0)  # within b/(n-1) = 50 min
    with pytest.raises(ScenarioError, match="depth falls with duration"):
        chicago(steep, return_period=2.0, duration=7200.0, step=300.0)


def test_durations_accept_timedeltas():
    a = chicago(
        HEFEI, return_period=2.0, duration=dt.timedelta(hours=2), step=np.timedelta64(5, "m")
    )
    b = chicago(HEFEI, return_period=2.0, duration=7200, step=300)
    np.testing.assert_array_equal(a.intensity, b.intensity)


# --- Hyetograph helpers -------------------------------------------------------------------------


def test_hyetograph_helpers():
    h = chicago(HEFEI, return_period=3.0, duration=7200.0, step=300.0)
    np.testing.assert_array_equal(h.times, np.arange(24) * 300.0)
    np.testing.assert_allclose(h.to_mm_per_hour(), h.intensity * 1e3 * 3600)
    assert h.cumulative_depth[-1] == pytest.approx(h.depth)
    assert h.duration == 7200.0 and h.step == 300.0 and h.return_period == 3.0
    with pytest.raises(ValueError):
        h.intensity[0] = 1.0
    assert "chicago" in repr(h) and "P=3 a" in repr(h)


def test_hyetograph_as_rain_series():
    h = huff(HEFEI, return_period=3.0, duration=7200.0, step=300.0, quartile=2)
    series = h.to_rain_series("2024-06-20 08:00", gauge="RG1")
    assert series.gauges == ("RG1",)
    assert series.start == np.datetime64("2024-06-20T08:00")
    assert series.end == np.datetime64("2024-06-20T10:00")
    assert series.depth[0] == pytest.approx(h.depth)
    assert series.step == 300.0


def test_plot_hyetograph_draws_one_bar_per_interval():
    h = chicago(HEFEI, return_period=3.0, duration=7200.0, step=300.0)
    ax = plot_hyetograph(h)
    bars = ax.patches
    assert len(bars) == 24
    assert max(b.get_height() for b in bars) == pytest.approx(h.peak_intensity * 3.6e6)
