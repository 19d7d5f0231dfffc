"""Supply kernels: pressure compliance per node and zone, dominant source; against their twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import _reference as ref
from hydro.kernels import dominant_source, intervals, pressure_compliance, zone_compliance
from hydro.kernels.supply import account_step


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


@given(st.integers(0, 12), st.booleans(), st.booleans(), st.data())
def test_account_step_matches_reference(n, pressure_driven, leaks, draw):
    """Three steps of the per-node accounts, kernel and twin on copies of the same state: the
    same volumes, rates, lowest pressures, service nodes and step totals."""
    flows = hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, -0.02, 0.01, 0.05]))
    heads = hnp.arrays(np.float64, n, elements=st.sampled_from([-5.0, 0.0, 28.0, 40.0]))
    junction = draw.draw(hnp.arrays(np.bool_, n))
    elevation = draw.draw(hnp.arrays(np.float64, n, elements=st.floats(0, 20)))
    states = [
        (np.zeros(n, bool) | draw.draw(hnp.arrays(np.bool_, n)), np.zeros((5, n)), np.zeros((5, n)))
    ]
    states.append(tuple(a.copy() for a in states[0]))
    lowest = [np.full(n, np.inf), np.full(n, np.inf)]
    for dt in (-1.0, 3600.0, 900.0):
        demand, consumer, deficit = (draw.draw(flows) for _ in range(3))
        head = draw.draw(heads) + elevation
        totals = [
            step(
                demand,
                consumer if leaks else demand,
                deficit,
                head,
                elevation,
                junction,
                service,
                rates,
                volumes,
                low,
                dt=dt,
                pressure_driven=pressure_driven,
                leaks=leaks,
            )
            for step, (service, rates, volumes), low in zip(
                (account_step, ref.account_step), states, lowest, strict=True
            )
        ]
        np.testing.assert_allclose(totals[0], totals[1], rtol=1e-12, atol=1e-15)
        for got, want in zip(states[0], states[1], strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(lowest[0], lowest[1])


def test_account_step_analytic():
    """Two junctions and a tank over two steps: served, missing and leaked water integrated over
    the first step's hold, the tank left out, the negative pressure found."""
    junction = np.array([True, True, False])
    elevation = np.array([10.0, 20.0, 0.0])
    service, rates, volumes, lowest = (
        np.zeros(3, bool),
        np.zeros((5, 3)),
        np.zeros((5, 3)),
        np.full(3, np.inf),
    )
    args = (junction, service, rates, volumes, lowest)
    demand, consumer, deficit = (
        np.array([0.03, 0.02, -0.05]),
        np.array([0.02, 0.02, -0.05]),
        np.array([0.01, 0.0, 0.0]),
    )

    def step(head, dt):
        return account_step(
            demand,
            consumer,
            deficit,
            np.array(head),
            elevation,
            *args,
            dt=dt,
            pressure_driven=True,
            leaks=True,
        )

    first = step([50.0, 15.0, 5.0], dt=-1.0)
    assert first.served == pytest.approx(0.04) and first.unserved == pytest.approx(0.01)
    assert first.leakage == pytest.approx(0.01) and first.demand == pytest.approx(0.0)
    assert (first.n_negative, first.worst, first.worst_pressure) == (1, 1, pytest.approx(-5.0))
    assert volumes.sum() == 0.0  # nothing held yet
    second = step([50.0, 60.0, 5.0], dt=600.0)
    assert (second.n_negative, second.worst) == (0, -1) and np.isnan(second.worst_pressure)
    np.testing.assert_allclose(volumes[0], [12.0, 12.0, 0.0])  # delivered
    np.testing.assert_allclose(volumes[1], [18.0, 12.0, 0.0])  # required
    np.testing.assert_allclose(volumes[2], [6.0, 0.0, 0.0])  # leaked
    np.testing.assert_allclose(volumes[4], [600.0, 0.0, 0.0])  # at the 28 m service head
    np.testing.assert_allclose(lowest, [40.0, -5.0, 5.0])
    assert service.tolist() == [True, True, False]
