"""Results on disk are CF-1.8: compliance-checker finds no high-priority failure, the CRS reads
back in pyproj, time counts seconds from the run's start, and compression loses nothing."""

from __future__ import annotations

import json

import netCDF4
import numpy as np
import pytest
from pyproj import CRS

from hydro.drainage.swmm.engine import run as run_swmm
from hydro.results import read_netcdf, to_cf, write_netcdf
from tests.conftest import REPO, cf_high_priority_failures

TINY_SWMM = REPO / "tests" / "data" / "swmm" / "tiny.inp"


def test_supply_result_passes_the_cf_checker(short_supply, tmp_path):
    _, path = short_supply
    failures, result = cf_high_priority_failures(path, tmp_path)
    assert failures == []
    assert result["high_count"] == 0
    # most checks pass outright (the one known warning: dims (scenario, time, node) are not
    # in the DSG order (instance, time), kept for the kernels' time-major layout)
    assert result["scored_points"] >= 0.95 * result["possible_points"]


def test_supply_result_carries_the_model_crs(short_supply):
    _, path = short_supply
    with netCDF4.Dataset(path) as nc:
        crs = CRS.from_cf(nc["crs"].__dict__)
        assert crs.to_epsg() == 4549
        assert nc["pressure_head"].grid_mapping == "crs"
        assert nc["x"].standard_name == "projection_x_coordinate"
        assert nc["x"].units == "m" and nc["y"].units == "m"
        assert nc.Conventions == "CF-1.8"
        assert nc.featureType == "timeSeries"
        assert nc["node_id"].cf_role == "timeseries_id"
        assert nc["link_id"].cf_role == "timeseries_id"
        # EPANET has a clock time only: a stated placeholder date, the model's clock start
        assert nc["time"].units == "seconds since 2000-01-01 00:00:00"
        assert "no calendar date" in nc["time"].comment
        assert nc["time"].standard_name == "time"
        np.testing.assert_array_equal(nc["time"][:4], [0.0, 3600.0, 7200.0, 10800.0])
        assert nc["time"].dtype == np.float64
        for var in nc.variables.values():  # CF 1.8 has no 64-bit integers
            assert var.dtype not in (np.int64, np.uint64), var.name
        for name in nc.ncattrs():  # numbers stay numbers
            assert not isinstance(nc.getncattr(name), np.int64), name
        assert isinstance(nc.getncattr("converged"), np.integer)


def test_round_trip_gives_the_same_values_and_compresses(short_supply, tmp_path):
    ds, path = short_supply
    back = read_netcdf(path)
    assert set(back.variables) == set(ds.variables)
    # the file's title is the scenario's question (set after the run's Dataset was built)
    assert back.attrs.pop("title") == ds.attrs["question"] == "what if Qingyi stops for two hours?"
    assert back.attrs == {k: v for k, v in ds.attrs.items() if k != "title"}
    for name, var in ds.variables.items():
        assert back[name].variable.equals(var), name  # dims and values, NaN where NaN
        assert back[name].dtype == var.dtype or var.dtype == object, name
        assert var.attrs.items() <= back[name].attrs.items(), name  # CF attrs may be added
    plain = tmp_path / "plain.nc"
    to_cf(ds).to_netcdf(plain)  # the same file without compression
    # 4 h of 5 reports leave little to squeeze (per-node totals dominate): a tenth at least
    assert path.stat().st_size < 0.9 * plain.stat().st_size


def test_drainage_result_carries_its_sidecars_crs(short_drainage):
    """The CRS comes from the assets the run loaded (the sidecar is read once)."""
    from pyproj import CRS

    ds, _ = short_drainage
    assert CRS.from_cf(ds["crs"].attrs).to_epsg() == 4549
    assert json.loads(ds.attrs["drainage_assets"])["crs"] == "EPSG:4549"


def test_model_without_crs_gets_no_invented_one(tmp_path):
    ds = run_swmm(TINY_SWMM)
    assert "crs" not in ds.coords
    path = write_netcdf(ds, tmp_path / "tiny.nc")
    failures, _ = cf_high_priority_failures(path, tmp_path)
    assert failures == []
    with netCDF4.Dataset(path) as nc:
        assert "crs" not in nc.variables
        assert "grid_mapping" not in nc["water_depth"].ncattrs()
        assert "units" not in nc["x"].ncattrs() and "no CRS" in nc["x"].comment
        # SWMM has a calendar date: time counts from START_DATE START_TIME
        start = ds.attrs["start_datetime"].replace("T", " ")
        assert nc["time"].units == f"seconds since {start}"
        assert "comment" not in nc["time"].ncattrs()
        assert nc["rainfall"].standard_name == "lwe_precipitation_rate"


def test_a_sidecar_crs_pyproj_does_not_know_is_refused(tmp_path):
    from hydro.drainage.assets import load_drainage_assets
    from hydro.errors import InputError

    inp = tmp_path / "model.inp"
    inp.write_text(TINY_SWMM.read_text())
    (tmp_path / "model_assets.toml").write_text('format = 1\ncrs = "EPSG:999999"\n')
    with pytest.raises(InputError, match=r"model_assets\.toml: crs: 'EPSG:999999'"):
        load_drainage_assets(inp)
