"""Flooding statistics: kernel against its reference twin, analytic hydrographs, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import FloodingStats, flooding_stats, intervals
from hydro.kernels import _reference as ref
from hydro.kernels._common import BLOCK

RULES = ("trapezoid", "rectangle")


def _values(dtype):
    """Rates as SWMM writes them: exact zeros, positive values (some equal to a threshold), NaN."""
    return st.one_of(
        st.just(0.0),
        st.just(np.nan),
        st.sampled_from([0.5, 2.0]),
        st.floats(0.0, 5.0, width=32 if dtype == np.float32 else 64),
    )


@st.composite
def rate_arrays(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(0, 5)))
    x = draw(hnp.arrays(dtype, shape, elements=_values(dtype)))
    if draw(st.booleans()):
        dt = draw(st.sampled_from([1.0, 60.0, 300.0]))
    else:
        dt = draw(
            hnp.arrays(np.float64, shape[1], elements=st.sampled_from([0.0, 30.0, 60.0, 90.0]))
        )
    return x, dt


def assert_same(got, want):
    for name, a, b in zip(got._fields, got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-6, err_msg=name)


@given(rate_arrays(), st.sampled_from([0.0, 0.5, 2.0]), st.sampled_from(RULES))
def test_matches_reference(data, threshold, rule):
    x, dt = data
    got = flooding_stats(x, dt, threshold=threshold, rule=rule)
    assert_same(got, ref.flooding_stats(x, dt, threshold=threshold, rule=rule))


@given(
    hnp.arrays(
        np.float64, st.integers(1, 15), elements=st.one_of(st.just(np.nan), st.floats(0, 3))
    ),
    st.sampled_from(RULES),
)
def test_missing_samples_are_dropped(x, rule):
    """A NaN sample gives what the series without it (and without its time) gives."""
    t = 60.0 * np.arange(1, x.size + 1)
    keep = ~np.isnan(x)
    with_nan = flooding_stats(x[None, :, None], 60.0, rule=rule, threshold=0.5)
    dropped = flooding_stats(x[keep][None, :, None], intervals(t[keep]), rule=rule, threshold=0.5)
    assert_same(with_nan, dropped)


def test_triangular_hydrograph():
    """Rate rising linearly 0 -> Q from t=600 s to 1800 s, falling back to 0 at 4200 s."""
    t = np.arange(0.0, 6001.0, 60.0)
    q_max = 2.0
    rate = np.interp(t, [0, 600, 1800, 4200, 6000], [0, 0, q_max, 0, 0])
    got = flooding_stats(rate[None, :, None], intervals(t))
    assert got.peak_rate[0, 0] == q_max
    assert got.time_of_peak[0, 0] == 1800
    assert got.volume[0, 0] == pytest.approx(q_max * (4200 - 600) / 2)
    assert got.duration[0, 0] == pytest.approx(4200 - 600)
    assert got.onset[0, 0] == pytest.approx(600)
    assert got.time_to_recede[0, 0] == pytest.approx(4200 - 1800)
    # Above half the peak, the triangle is half as wide.
    half = flooding_stats(rate[None, :, None], intervals(t), threshold=q_max / 2)
    assert half.duration[0, 0] == pytest.approx((4200 - 600) / 2)
    assert half.onset[0, 0] == pytest.approx(1200)
    assert half.time_to_recede[0, 0] == pytest.approx(3000 - 1800)


def test_rectangular_pulse():
    """Three reports of 0.5 m3/s at 5-minute reporting: 900 s flooded, 450 m3 by rectangles."""
    rate = np.zeros((1, 10, 1), np.float32)
    rate[0, 3:6, 0] = 0.5
    rect = flooding_stats(rate, 300.0, rule="rectangle")
    assert rect.volume[0, 0] == pytest.approx(450.0)
    assert rect.duration[0, 0] == pytest.approx(900.0)
    assert rect.onset[0, 0] == pytest.approx(900.0)  # report 4 at 1200 s holds from 900 s
    assert rect.time_of_peak[0, 0] == pytest.approx(1200.0)
    assert rect.time_to_recede[0, 0] == pytest.approx(1800.0 - 1200.0)
    trap = flooding_stats(rate, 300.0)  # ramps of one step on each side
    assert trap.volume[0, 0] == pytest.approx(450.0)
    assert trap.duration[0, 0] == pytest.approx(1200.0)
    assert trap.onset[0, 0] == pytest.approx(900.0)


def test_dry_always_flooded_and_missing_nodes():
    rate = np.zeros((2, 6, 3))
    rate[:, :, 1] = 1.0  # always flooded
    rate[:, :, 2] = np.nan  # no data
    got = flooding_stats(rate, 60.0)
    assert np.all(got.peak_rate[:, 0] == 0) and np.all(got.volume[:, 0] == 0)
    assert np.all(got.duration[:, 0] == 0) and np.all(np.isnan(got.onset[:, 0]))
    assert np.all(np.isnan(got.time_to_recede[:, 0]))
    np.testing.assert_allclose(got.duration[:, 1], 300.0)  # from the first to the last report
    np.testing.assert_allclose(got.volume[:, 1], 300.0)
    np.testing.assert_allclose(got.onset[:, 1], 60.0)
    np.testing.assert_allclose(got.time_to_recede[:, 1], 300.0)  # never recedes: end of run
    for arr in got:
        assert np.all(np.isnan(arr[:, 2]))


def test_one_time_step_and_zero_nodes():
    one = flooding_stats(np.full((1, 1, 2), [[0.0, 3.0]]), 60.0)
    assert one.volume.tolist() == [[0.0, 0.0]] and one.duration.tolist() == [[0.0, 0.0]]
    assert one.onset[0, 1] == 60.0 and np.isnan(one.onset[0, 0])
    rect = flooding_stats(np.full((1, 1, 2), [[0.0, 3.0]]), 60.0, rule="rectangle")
    assert rect.volume[0, 1] == 180.0 and rect.duration[0, 1] == 60.0
    empty = flooding_stats(np.zeros((2, 5, 0), np.float32), 60.0)
    assert all(arr.shape == (2, 0) for arr in empty)


@given(
    st.integers(0, 2**32 - 1),
    st.tuples(st.integers(1, 2), st.integers(1, 9), st.integers(60, 200)),
    st.sampled_from([0.0, 0.02, 0.2]),
    st.sampled_from([0.0, 0.01, 0.1]),
    st.sampled_from([0.0, 0.5]),
    st.sampled_from(RULES),
)
def test_wide_arrays_match_reference(seed, shape, wet_share, nan_share, threshold, rule):
    """Rows wider than the kernel's 64-element chunks: whole chunks are swept through their bit
    masks (the narrow arrays above only reach the partial chunk at a block's end)."""
    rng = np.random.default_rng(seed)
    rate = np.where(rng.random(shape) < wet_share, rng.choice([0.5, 0.25, 1.0], shape), 0.0)
    rate[rng.random(shape) < nan_share] = np.nan
    rate = rate.astype(np.float32)
    got = flooding_stats(rate, 60.0, threshold=threshold, rule=rule)
    assert_same(got, ref.flooding_stats(rate, 60.0, threshold=threshold, rule=rule))


@pytest.mark.parametrize("rule", RULES)
def test_wide_sparse_arrays_match_reference(rule):
    """Many elements, mostly dry: exercises the skipping of quiet chunks of exact zeros."""
    rng = np.random.default_rng(3)
    shape = (2, 40, 150)
    wet = rng.random(shape) < 0.03
    rate = np.where(wet, rng.random(shape), 0.0).astype(np.float32)
    rate[rng.random(shape) < 0.01] = np.nan
    rate[0, 5:21, 64:96] = 0.0  # one chunk dry for a while, but for node 77:
    rate[0, 10:14, 77] = np.nan  # a gap after a dry spell, then dry rows, then wet
    rate[0, 20, 77] = 0.7
    got = flooding_stats(rate, 300.0, rule=rule)
    assert_same(got, ref.flooding_stats(rate, 300.0, rule=rule))


def test_scenarios_are_independent_and_blocks_agree():
    rng = np.random.default_rng(7)
    n = 2 * BLOCK + 5
    rate = np.where(rng.random((3, 8, n)) < 0.3, rng.random((3, 8, n)), 0.0).astype(np.float32)
    whole = flooding_stats(rate, 60.0, threshold=0.1)
    cols = np.array([0, BLOCK - 1, BLOCK, n - 1])
    part = flooding_stats(rate[:, :, cols], 60.0, threshold=0.1)
    single = flooding_stats(rate[1:2], 60.0, threshold=0.1)
    for a, b, c in zip(whole, part, single, strict=True):
        np.testing.assert_array_equal(a[:, cols], b)
        np.testing.assert_array_equal(a[1:2], c)


def test_out_arrays_are_filled_in_place():
    rate = np.ones((1, 4, 3))
    out = FloodingStats(*(np.zeros((1, 3)) for _ in FloodingStats._fields))
    got = flooding_stats(rate, 60.0, out=out)
    assert all(a is b for a, b in zip(got, out, strict=True))
    np.testing.assert_allclose(out.volume, 180.0)
    with pytest.raises(ValueError, match="out"):
        flooding_stats(rate, 60.0, out=FloodingStats(*(np.zeros((1, 2)) for _ in range(6))))


def test_bad_options_are_named():
    rate = np.zeros((1, 4, 2))
    with pytest.raises(ValueError, match="threshold"):
        flooding_stats(rate, 60.0, threshold=-1)
    with pytest.raises(ValueError, match="simpson"):
        flooding_stats(rate, 60.0, rule="simpson")
    with pytest.raises(ValueError, match="dt"):
        flooding_stats(rate, 0.0)
    with pytest.raises(ValueError, match="4 interval"):
        flooding_stats(rate, np.ones(3))
    with pytest.raises(ValueError, match="3 dimensions"):
        flooding_stats(rate[0], 60.0)
