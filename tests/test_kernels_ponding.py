"""Ponding statistics and depth-volume tables: kernels against their twins, analytic cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import PondingStats, area_table, intervals, ponding_stats, volume_to_depth
from hydro.kernels import _reference as ref


@st.composite
def depth_arrays(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.tuples(st.integers(1, 3), st.integers(1, 14), st.integers(0, 5)))
    # 0.125 and 0.25 are exact in float32 too: values equal to a threshold are generated.
    values = st.one_of(
        st.just(0.0),
        st.just(np.nan),
        st.sampled_from([0.125, 0.25]),
        st.floats(0.0, 0.5, width=32 if dtype == np.float32 else 64),
    )
    x = draw(hnp.arrays(dtype, shape, elements=values))
    dt = draw(
        st.one_of(
            st.sampled_from([60.0, 300.0]),
            hnp.arrays(np.float64, shape[1], elements=st.sampled_from([0.0, 60.0, 120.0])),
        )
    )
    return x, dt


def assert_same(got, want):
    for name, a, b in zip(got._fields, got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-6, err_msg=name)


@given(
    depth_arrays(), st.sampled_from([0.0, 0.125, 0.25]), st.sampled_from(["trapezoid", "rectangle"])
)
def test_matches_reference(data, threshold, rule):
    x, dt = data
    got = ponding_stats(x, dt, threshold=threshold, rule=rule)
    assert_same(got, ref.ponding_stats(x, dt, threshold=threshold, rule=rule))


def test_two_spells_analytic():
    """Depth 0 -> 0.35 m -> 0 twice, the second spell longer; threshold 0.15 m."""
    t = np.arange(0.0, 10801.0, 60.0)
    depth = np.interp(
        t, [0, 600, 1320, 2040, 4020, 6000, 9000, 10800], [0, 0, 0.35, 0, 0, 0.35, 0, 0]
    )
    got = ponding_stats(depth[None, :, None], intervals(t))
    frac = 1 - 0.15 / 0.35  # share of each triangle's base above 0.15 m
    first, second = 1440 * frac, 4980 * frac
    assert got.max_depth[0, 0] == 0.35 and got.time_of_max[0, 0] == 1320
    assert got.duration[0, 0] == pytest.approx(first + second)
    assert got.longest_spell[0, 0] == pytest.approx(second)
    assert got.onset[0, 0] == pytest.approx(1320 - 720 * frac)
    assert got.end[0, 0] == pytest.approx(6000 + 3000 * frac)


def test_defaults_and_edges():
    depth = np.array([[[0.0, 0.2, np.nan], [0.15, 0.2, np.nan], [0.1, 0.2, np.nan]]])
    got = ponding_stats(depth, 60.0)
    assert got.duration[0, 0] == 0 and np.isnan(got.onset[0, 0])  # 0.15 m is not above 0.15 m
    assert got.duration[0, 1] == 120 and got.longest_spell[0, 1] == 120
    assert got.end[0, 1] == 180  # still above at the end
    assert all(np.isnan(arr[0, 2]) for arr in got)
    out = PondingStats(*(np.empty((1, 3)) for _ in PondingStats._fields))
    assert ponding_stats(depth, 60.0, out=out).max_depth is out.max_depth
    with pytest.raises(ValueError, match="threshold"):
        ponding_stats(depth, 60.0, threshold=float("nan"))


@st.composite
def tables(draw):
    n_node = draw(st.integers(1, 4))
    k = draw(st.integers(2, 5))
    steps = draw(hnp.arrays(np.float64, (n_node, k), elements=st.floats(0.5, 20)))
    rises = draw(hnp.arrays(np.float64, (n_node, k), elements=st.floats(0.0, 0.3)))
    tv = np.cumsum(steps, axis=1) - steps[:, :1]
    td = np.cumsum(rises, axis=1)
    used = draw(hnp.arrays(np.int64, n_node, elements=st.integers(0, k)))
    for n, count in enumerate(used):
        tv[n, count:] = np.nan
        td[n, count:] = np.nan
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    vol = draw(
        hnp.arrays(
            dtype,
            (draw(st.integers(1, 2)), draw(st.integers(1, 5)), n_node),
            elements=st.one_of(
                st.just(np.nan), st.floats(0, 120, width=32 if dtype == np.float32 else 64)
            ),
        )
    )
    return vol, tv, td


@given(tables())
def test_volume_to_depth_matches_reference(data):
    vol, tv, td = data
    got = volume_to_depth(vol, tv, td)
    assert got.dtype == vol.dtype
    tol = 1e-5 if vol.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref.volume_to_depth(vol, tv, td), rtol=tol, atol=tol)


def test_area_table_gives_volume_over_area():
    tv, td = area_table(np.array([100.0, 0.0, 250.0]))
    vol = np.array([[[0.0, 5.0, 50.0], [30.0, 5.0, 500.0]]], np.float32)
    depth = volume_to_depth(vol, tv, td)
    np.testing.assert_allclose(depth[0, :, 0], [0.0, 0.3], rtol=1e-6)
    assert np.all(np.isnan(depth[0, :, 1]))  # no ponded area: no depth
    np.testing.assert_allclose(depth[0, :, 2], [0.2, 2.0], rtol=1e-6)


def test_bad_tables_are_refused():
    vol = np.zeros((1, 2, 1))
    with pytest.raises(ValueError, match="increase"):
        volume_to_depth(vol, [[0.0, 10.0, 5.0]], [[0.0, 0.1, 0.2]])
    with pytest.raises(ValueError, match="padding"):
        volume_to_depth(vol, [[0.0, np.nan, 5.0]], [[0.0, np.nan, 0.2]])
    with pytest.raises(ValueError, match="tables"):
        volume_to_depth(vol, [[0.0, 10.0]], [[0.0, 0.1, 0.2]])
