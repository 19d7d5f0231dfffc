"""Supply kernels: pressure compliance per node and zone, dominant source; against their twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import _reference as ref
from hydro.kernels import dominant_source, intervals, pressure_compliance, zone_compliance


@st.composite
def pressures(draw, max_nodes=5):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.tuples(st.integers(1, 2), st.integers(1, 10), st.integers(0, max_nodes)))
    head = draw(
        hnp.arrays(
            dtype,
            shape,
            elements=st.one_of(
                st.just(np.nan),
                st.just(28.0),
                st.floats(0, 60, width=32 if dtype == np.float32 else 64),
            ),
        )
    )
    demand = None
    if draw(st.booleans()):
        demand = draw(
            hnp.arrays(
                np.float64,
                shape,
                elements=st.one_of(st.just(np.nan), st.just(0.0), st.floats(-0.01, 0.05)),
            )
        )
    return head, demand


@given(
    pressures(),
    st.sampled_from(["trapezoid", "rectangle"]),
    st.one_of(st.just(60.0), hnp.arrays(np.float64, 10, elements=st.sampled_from([0.0, 900.0]))),
)
def test_compliance_matches_reference(data, rule, dt):
    head, demand = data
    dt = dt if np.ndim(dt) == 0 else dt[: head.shape[1]]
    got = pressure_compliance(head, dt, demand=demand, rule=rule)
    want = ref.pressure_compliance(head, dt, demand=demand, rule=rule)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@given(pressures(max_nodes=8), st.data())
def test_zone_matches_reference(data, draw):
    head, demand = data
    n_node = head.shape[2]
    labels = draw.draw(hnp.arrays(np.int64, n_node, elements=st.integers(-1, 2)))
    got = zone_compliance(head, labels, n_zones=3, demand=demand)
    want = ref.zone_compliance(head, labels, n_zones=3, demand=demand)
    np.testing.assert_allclose(got.fraction, want.fraction, rtol=1e-12)
    np.testing.assert_allclose(got.weight, want.weight, rtol=1e-12)


@given(
    st.tuples(st.integers(1, 2), st.integers(1, 8), st.integers(0, 4), st.integers(1, 3)).flatmap(
        lambda shape: hnp.arrays(
            np.float32,
            shape,
            elements=st.one_of(
                st.just(np.nan), st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1, width=32)
            ),
        )
    ),
    st.sampled_from(["trapezoid", "rectangle"]),
)
def test_dominant_source_matches_reference(share, rule):
    got = dominant_source(share, 3600.0, rule=rule)
    want = ref.dominant_source(share, 3600.0, rule=rule)
    np.testing.assert_allclose(got.mean_share, want.mean_share, rtol=1e-9)
    np.testing.assert_array_equal(got.dominant, want.dominant)


def test_compliance_analytic():
    """30 m until 17 h, 20 m from 18 h; node 1 has demand only in the low-pressure hours."""
    hours = np.arange(25) * 3600.0  # 0 .. 24 h, EPANET-style from t = 0
    head = np.where(hours < 18 * 3600, 30.0, 20.0)
    head = np.stack([head, head], axis=-1)[None]
    demand = np.zeros_like(head)
    demand[0, :, 0] = 0.01
    demand[0, 19:, 1] = 0.02
    dt = intervals(hours)
    # Rectangles: each report holds over the hour it closes, so the 18 h report (20 m) covers 17-18 h.
    share = pressure_compliance(head, dt, rule="rectangle")
    np.testing.assert_allclose(share, [[17 / 24, 17 / 24]])
    weighted = pressure_compliance(head, dt, demand=demand, rule="rectangle")
    np.testing.assert_allclose(weighted, [[17 / 24, 0.0]])
    trapezoid = pressure_compliance(head, dt)  # 30 m until 17 h, 20 m from 18 h: half of 17-18
    np.testing.assert_allclose(trapezoid, [[17.5 / 24, 17.5 / 24]])
    no_demand = pressure_compliance(head, dt, demand=np.zeros_like(head))
    assert np.all(np.isnan(no_demand))


def test_zone_fraction_and_dominant_source_analytic():
    head = np.array([[[30.0, 20.0, 29.0, 10.0]]])
    demand = np.array([[[1.0, 3.0, 2.0, 5.0]]])
    got = zone_compliance(head, np.array([0, 0, 1, -1]), n_zones=3, demand=demand)
    np.testing.assert_allclose(got.fraction[0, 0], [0.25, 1.0, np.nan])
    np.testing.assert_allclose(got.weight[0, 0], [4.0, 2.0, 0.0])
    share = np.zeros((1, 3, 2, 3))
    share[0, :, 0] = [0.2, 0.5, 0.3]
    share[0, :, 1] = np.nan
    got = dominant_source(share, 60.0)
    np.testing.assert_allclose(got.mean_share[0, 0], [0.2, 0.5, 0.3])
    assert got.dominant.tolist() == [[1, -1]]


def test_bad_zone_labels():
    head = np.zeros((1, 2, 3))
    with pytest.raises(ValueError, match="zone labels"):
        zone_compliance(head, np.array([0, 1]))
    with pytest.raises(ValueError, match="zone labels"):
        zone_compliance(head, np.array([0, 5, 1]), n_zones=2)
    with pytest.raises(ValueError, match="demand"):
        pressure_compliance(head, 60.0, demand=np.zeros((1, 2, 2)))
