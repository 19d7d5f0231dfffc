"""Hazard classes, scores and ranking: kernels against their twins and the documented matrix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import (
    CLASS_WEIGHTS,
    CLASSES,
    DEPTH_EDGES,
    DURATION_EDGES,
    hazard_class,
    hazard_score,
    rank_order,
)
from hydro.kernels import _reference as ref

depths = st.one_of(st.just(np.nan), st.sampled_from(DEPTH_EDGES), st.floats(0, 1))
durations = st.one_of(st.just(np.nan), st.sampled_from(DURATION_EDGES), st.floats(0, 20000))


@given(
    st.integers(0, 12).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, (2, n), elements=depths),
            hnp.arrays(np.float64, (2, n), elements=durations),
            hnp.arrays(np.float64, (2, n), elements=st.one_of(st.just(np.nan), st.floats(0, 500))),
        )
    )
)
def test_class_and_score_match_reference(data):
    depth, duration, volume = data
    cls = hazard_class(depth, duration)
    want = ref.hazard_class(
        depth, duration, depth_edges=DEPTH_EDGES, duration_edges=DURATION_EDGES, classes=CLASSES
    )
    np.testing.assert_array_equal(cls, want)
    score = hazard_score(cls, volume)
    np.testing.assert_allclose(score, ref.hazard_score(cls, volume, weights=CLASS_WEIGHTS))


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(0, 15)),
        elements=st.one_of(st.just(np.nan), st.sampled_from([0.0, 1.0, 2.0]), st.floats(-5, 5)),
    ),
    st.booleans(),
)
def test_rank_matches_reference(score, descending):
    np.testing.assert_array_equal(
        rank_order(score, descending=descending), ref.rank_order(score, descending=descending)
    )


def test_documented_matrix():
    # (depth m, minutes above 0.15 m) -> class, from the table in hydro/kernels/hazard.py
    cases = [
        ((0.15, 500), 0),
        ((0.5, 20), 0),
        ((0.16, 29.9), 0),
        ((0.16, 30), 1),  # 30 minutes or more counts
        ((0.16, 31), 1),
        ((0.2, 60), 2),
        ((0.2, 120), 3),
        ((0.2, 61), 2),
        ((0.2, 121), 3),
        ((0.31, 45), 2),
        ((0.31, 90), 3),
        ((0.5, 200), 4),
        ((0.51, 45), 3),
        ((0.51, 90), 4),
        ((np.nan, 90), -1),
    ]
    depth = np.array([c[0][0] for c in cases])
    minutes = np.array([c[0][1] for c in cases], dtype=float)
    got = hazard_class(depth, minutes * 60)
    assert got.dtype == np.int8
    assert got.tolist() == [c[1] for c in cases]


def test_custom_matrix_and_weights():
    got = hazard_class(
        [0.05, 0.2], [10.0, 10.0], depth_edges=[0.1], duration_edges=[], classes=[[0], [1]]
    )
    assert got.tolist() == [0, 1]
    score = hazard_score(
        np.array([0, 1, 1, -1]), np.array([5.0, 2.0, np.nan, 1.0]), weights=[0.5, 3.0]
    )
    np.testing.assert_array_equal(score, [2.5, 6.0, np.nan, np.nan])


def test_ranking_puts_worst_first_stably():
    score = np.array([[1.0, np.nan, 3.0, 1.0, 3.0]])
    assert rank_order(score).tolist() == [[2, 4, 0, 3, 1]]
    assert rank_order(score, descending=False).tolist() == [[0, 3, 2, 4, 1]]


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="depth_edges"):
        hazard_class([0.1], [10.0], depth_edges=[0.3, 0.15])
    with pytest.raises(ValueError, match="matrix"):
        hazard_class([0.1], [10.0], classes=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="weight"):
        hazard_score(np.array([4]), np.array([1.0]), weights=[0, 1])
    with pytest.raises(ValueError, match="weights"):
        hazard_score(np.array([0]), np.array([1.0]), weights=[-1.0])
