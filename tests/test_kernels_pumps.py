"""Pump statistics: kernel against its twin, a pump cycling on and off, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hydro.kernels import PumpStats, pump_stats
from hydro.kernels import _reference as ref


@st.composite
def flows(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(0, 4)))
    values = st.one_of(
        st.just(0.0),
        st.just(np.nan),
        st.sampled_from([1.0, 2.0, -1.0]),
        st.floats(-3, 3, width=32 if dtype == np.float32 else 64),
    )
    q = draw(hnp.arrays(dtype, shape, elements=values))
    cap = draw(
        hnp.arrays(
            np.float64, shape[2], elements=st.one_of(st.just(np.nan), st.sampled_from([1.0, 2.0]))
        )
    )
    dt = draw(
        st.one_of(
            st.sampled_from([60.0, 900.0]),
            hnp.arrays(np.float64, shape[1], elements=st.sampled_from([0.0, 60.0])),
        )
    )
    return q, cap, dt


@given(flows(), st.sampled_from(["trapezoid", "rectangle"]), st.sampled_from([0.5, 0.98]))
def test_matches_reference(data, rule, fraction):
    q, cap, dt = data
    got = pump_stats(q, cap, dt, rule=rule, fraction=fraction)
    want = ref.pump_stats(q, cap, dt, rule=rule, fraction=fraction)
    for name, a, b in zip(got._fields, got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)


def test_cycling_pump():
    """A 2 m3/s pump on for 30 of every 60 minutes over 6 h, reported each minute (rectangles)."""
    minutes = np.arange(1, 361)
    on = (minutes - 1) % 60 < 30
    flow = np.where(on, 2.0, 0.0)[None, :, None]
    got = pump_stats(flow, [2.0], 60.0, rule="rectangle")
    assert got.running_share[0, 0] == pytest.approx(0.5)
    assert got.capacity_share[0, 0] == pytest.approx(0.5)
    assert got.volume[0, 0] == pytest.approx(2.0 * 180 * 60)
    assert got.peak_flow[0, 0] == 2.0
    assert got.mean_running_flow[0, 0] == pytest.approx(2.0)
    half_cap = pump_stats(flow * 0.9, [2.0], 60.0, rule="rectangle")
    assert half_cap.capacity_share[0, 0] == 0.0 and half_cap.running_share[0, 0] == 0.5


def test_idle_unknown_and_single_sample():
    flow = np.zeros((1, 5, 3))
    flow[0, :, 2] = np.nan
    got = pump_stats(flow, [1.0, np.nan, 1.0], 60.0)
    assert got.running_share[0, 0] == 0 and np.isnan(got.mean_running_flow[0, 0])
    assert np.isnan(got.capacity_share[0, 1]) and got.running_share[0, 1] == 0
    assert all(np.isnan(arr[0, 2]) for arr in got)
    one = pump_stats(np.array([[[1.5]]]), [1.5], 60.0)  # no interval: the one sample decides
    assert one.running_share[0, 0] == 1 and one.capacity_share[0, 0] == 1
    assert one.mean_running_flow[0, 0] == 1.5 and one.volume[0, 0] == 0


def test_out_and_bad_arguments():
    flow = np.ones((1, 3, 2))
    out = PumpStats(*(np.empty((1, 2)) for _ in PumpStats._fields))
    assert pump_stats(flow, [1.0, 1.0], 60.0, out=out).volume is out.volume
    with pytest.raises(ValueError, match="capacity of link index 1"):
        pump_stats(flow, [1.0, 0.0], 60.0)
    with pytest.raises(ValueError, match="one value per link"):
        pump_stats(flow, [1.0], 60.0)
    with pytest.raises(ValueError, match="fraction"):
        pump_stats(flow, [1.0, 1.0], 60.0, fraction=-0.1)
