"""Shared kernel conventions: the time axis, threads, float32 against float64 input, out= arrays."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import xarray as xr

from hydro.kernels import (
    DominantSource,
    KernelArgumentError,
    ZoneCompliance,
    area_table,
    dominant_source,
    edges_to_csr,
    flooding_stats,
    hazard_class,
    intervals,
    pressure_compliance,
    pump_stats,
    sample_times,
    service_areas,
    volume_to_depth,
    zone_compliance,
)


def test_intervals_of_a_time_coordinate():
    seconds = np.array([300, 600, 1200], dtype="timedelta64[s]")
    coord = xr.DataArray(seconds.astype("timedelta64[ns]"), dims="time")
    assert intervals(coord).tolist() == [300.0, 300.0, 600.0]
    assert intervals(seconds).tolist() == [300.0, 300.0, 600.0]
    assert intervals([0.0, 3600.0]).tolist() == [0.0, 3600.0]  # EPANET: first report at 0
    np.testing.assert_allclose(
        sample_times(intervals([0.0, 3600.0, 7200.0]), 3), [0.0, 3600.0, 7200.0]
    )
    assert sample_times(60.0, 3).tolist() == [60.0, 120.0, 180.0]  # SWMM: one step after start


def test_bad_time_steps():
    with pytest.raises(ValueError, match="positive"):
        sample_times(-5.0, 3)
    with pytest.raises(ValueError, match="non-negative"):
        sample_times(np.array([60.0, -60.0, 60.0]), 3)


def test_results_do_not_depend_on_threads():
    rng = np.random.default_rng(11)
    rate = np.where(rng.random((2, 20, 5000)) < 0.2, rng.random((2, 20, 5000)), 0.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = flooding_stats(rate, 60.0)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = flooding_stats(rate, 60.0)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)


def test_float32_input_gives_the_float64_answer_of_its_values():
    rng = np.random.default_rng(5)
    flow = rng.random((1, 30, 7)).astype(np.float32)
    single = pump_stats(flow, np.ones(7), 60.0)
    double = pump_stats(flow.astype(np.float64), np.ones(7), 60.0)
    for a, b in zip(single, double, strict=True):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


def test_out_arrays_are_filled_in_place():
    rng = np.random.default_rng(2)
    head = rng.uniform(20, 40, (2, 6, 5))
    share = rng.random((2, 6, 5, 3))
    out = np.full((2, 5), -1.0)
    assert pressure_compliance(head, 60.0, out=out) is out and np.all(out >= 0)
    zone = ZoneCompliance(np.empty((2, 6, 2)), np.empty((2, 6, 2)))
    got = zone_compliance(head, np.array([0, 1, 1, 0, -1]), out=zone)
    assert got.fraction is zone.fraction and np.all(zone.weight[..., 1] == 2)
    dom = DominantSource(np.empty((2, 5, 3)), np.empty((2, 5), dtype=np.int64))
    assert dominant_source(share, 60.0, out=dom).dominant is dom.dominant
    np.testing.assert_array_equal(dom.dominant, dom.mean_share.argmax(axis=-1))
    depth = np.empty((2, 6, 5))
    tv, td = area_table(np.full(5, 10.0))
    assert volume_to_depth(head, tv, td, out=depth) is depth
    np.testing.assert_allclose(depth, head / 10.0)
    cls = np.empty((2, 5), dtype=np.int8)
    assert hazard_class(depth[:, 0], depth[:, 0] * 1000, out=cls) is cls
    areas = np.empty(3, dtype=np.int64)
    ptr, idx = edges_to_csr(np.array([0]), np.array([1]), 3, reverse=True)
    assert service_areas(ptr, idx, [1], out=areas) is areas
    assert areas.tolist() == [0, 0, -1]
    with pytest.raises(ValueError, match="out"):
        pressure_compliance(head, 60.0, out=np.empty((2, 5), dtype=np.float32))


@pytest.mark.parametrize(
    "call",
    [
        lambda: flooding_stats(np.zeros((4, 3)), 60.0),  # one dimension short
        lambda: flooding_stats(np.zeros((1, 4, 3)), np.ones(3)),  # dt of the wrong length
        lambda: intervals(np.zeros((2, 2))),
        lambda: pump_stats(np.zeros((1, 4, 3)), np.ones(2), 60.0),
        lambda: pressure_compliance(np.zeros((1, 4, 3)), 60.0, demand=np.zeros((1, 4, 2))),
        lambda: pressure_compliance(np.zeros((1, 4, 3)), 60.0, out=np.empty((1, 2))),
        lambda: hazard_class(np.zeros(3), np.zeros(2)),
        lambda: area_table(np.zeros((2, 2))),
        lambda: edges_to_csr(np.array([0, 1]), np.array([1]), 3),
    ],
)
def test_kernels_raise_only_their_argument_error(call):
    """Every argument mistake is a KernelArgumentError (a ValueError), which the scoring layer
    turns into a message naming the file; nothing else escapes a kernel."""
    with pytest.raises(KernelArgumentError):
        call()
