"""Service areas on the reversed conveyance graph: chain, tree, random graphs against networkx."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import _reference as ref
from hydro.kernels import edges_to_csr, service_areas, service_membership


def test_csr_of_edges_and_its_reverse():
    up = np.array([0, 1, 1, 3])
    down = np.array([1, 2, 3, 2])
    ptr, idx = edges_to_csr(up, down, 4)
    assert ptr.tolist() == [0, 1, 3, 3, 4] and idx.tolist() == [1, 2, 3, 2]
    ptr, idx = edges_to_csr(up, down, 4, reverse=True)
    assert ptr.tolist() == [0, 0, 1, 3, 4] and idx.tolist() == [0, 1, 3, 1]
    with pytest.raises(ValueError, match="0 to 3"):
        edges_to_csr(up, np.array([1, 2, 3, 4]), 4)


def test_chain_drains_to_the_first_station_downstream():
    """0 -> 1 -> 2 -> 3 -> 4 -> 5, stations at 2 and 5: 0..2 pump at 2, 3..5 at 5."""
    ptr, idx = edges_to_csr(np.arange(5), np.arange(1, 6), 6, reverse=True)
    assert service_areas(ptr, idx, [5, 2]).tolist() == [1, 1, 1, 0, 0, 0]
    member = service_membership(ptr, idx, [5, 2])
    assert member.astype(int).tolist() == [[0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0]]
    through = service_membership(ptr, idx, [5, 2], through_targets=True)
    assert through.astype(int).tolist() == [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]


def test_tree_with_a_split_and_an_undrained_branch():
    """Two branches join at 4 -> station 6; node 3 also overflows to station 7; 8 -> 9 drain nowhere.

    0 -> 1 -> 4 -> 5 -> 6        3 -> 7          8 -> 9
    2 -> 3 -> 4
    """
    up = np.array([0, 1, 4, 5, 2, 3, 3, 8])
    down = np.array([1, 4, 5, 6, 3, 4, 7, 9])
    ptr, idx = edges_to_csr(up, down, 10, reverse=True)
    areas = service_areas(ptr, idx, [6, 7])
    # 3 and 2 are one link from 7 but three and four from 6: nearest wins.
    assert areas.tolist() == [0, 0, 1, 1, 0, 0, 0, 1, -1, -1]
    member = service_membership(ptr, idx, [6, 7])
    assert member[0].nonzero()[0].tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert member[1].nonzero()[0].tolist() == [2, 3, 7]


def test_ties_go_to_the_first_listed_station():
    """Node 0 splits its flow to 1 and 2, both stations, one link away."""
    ptr, idx = edges_to_csr(np.array([0, 0]), np.array([2, 1]), 3, reverse=True)
    assert service_areas(ptr, idx, [1, 2]).tolist() == [0, 0, 1]
    assert service_areas(ptr, idx, [2, 1]).tolist() == [0, 1, 0]


@given(
    st.integers(1, 25).flatmap(
        lambda n: st.tuples(
            st.just(n),
            hnp.arrays(np.int64, st.integers(0, 3 * n), elements=st.integers(0, n - 1)),
            st.lists(st.integers(0, n - 1), max_size=4, unique=True),
        )
    ),
    st.booleans(),
)
def test_random_graphs_match_reference(data, through):
    n, ends, targets = data
    up, down = ends[: ends.size // 2], ends[ends.size // 2 : 2 * (ends.size // 2)]
    ptr, idx = edges_to_csr(up, down, n, reverse=True)
    tgt = np.array(targets, dtype=np.int64)
    areas = service_areas(ptr, idx, tgt)
    np.testing.assert_array_equal(areas, ref.service_areas(ptr, idx, tgt))
    member = service_membership(ptr, idx, tgt, through_targets=through)
    np.testing.assert_array_equal(
        member, ref.service_membership(ptr, idx, tgt, through_targets=through)
    )
    labelled = areas >= 0
    if not through:
        assert member[areas[labelled], np.flatnonzero(labelled)].all()


def test_bad_targets():
    ptr, idx = edges_to_csr(np.array([0]), np.array([1]), 2, reverse=True)
    with pytest.raises(ValueError, match="more than once"):
        service_areas(ptr, idx, [1, 1])
    with pytest.raises(ValueError, match=r"0 .. 1"):
        service_areas(ptr, idx, [2])


def test_hundred_thousand_nodes_well_under_a_second():
    """A random drainage tree of 100,000 nodes (every node drains to a lower-numbered one)."""
    rng = np.random.default_rng(3)
    n = 100_000
    child = np.arange(1, n)
    parent = (child * rng.uniform(0.9, 1.0, child.size)).astype(np.int64)
    ptr, idx = edges_to_csr(child, parent, n, reverse=True)
    targets = np.arange(0, 40)
    service_areas(ptr, idx, targets)  # compiled (or loaded) once
    start = time.perf_counter()
    areas = service_areas(ptr, idx, targets)
    elapsed = time.perf_counter() - start
    assert np.all(areas >= 0)
    assert elapsed < 0.5
