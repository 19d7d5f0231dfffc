"""Flood case files, grids and the surface Dataset: what a user writes, what comes back, errors."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import CRS as ProjCRS

from hydro.errors import InputError, ScenarioError
from hydro.flood import Grid, prepare, read_grid, run_case, simulate, write_grid
from hydro.flood import _reference as ref
from hydro.flood.case import load_case
from hydro.flood.dataset import hazard_class
from hydro.flood.run import MassBalanceWarning, _health, line_cells
from hydro.results import read_netcdf
from tests.conftest import cf_high_priority_failures
from tests.flood_cases import write_case

UTM50 = "EPSG:32650"  # WGS 84 / UTM zone 50N: Xuancheng's zone


def tilted(ny=12, nx=20, dx=5.0, slope=0.01) -> Grid:
    """A plane falling eastwards with a shallow north-south valley, origin (500000, 3420000)."""
    yy, xx = np.mgrid[0:ny, 0:nx] * dx
    z = 20.0 - slope * xx + 0.002 * np.abs(yy - yy.mean())
    return Grid(z, 500000.0, 3420000.0 + ny * dx, dx, dx)


def basic(**extra) -> dict:
    surface = {"dem": "dem.asc", "manning": 0.03, "duration": "10min", "output_every": "2min"}
    surface.update(extra)
    return {"surface": surface}


def test_grid_roundtrip_ascii_and_geotiff(tmp_path):
    from rasterio.crs import CRS

    grid = tilted()
    values = grid.values.copy()
    values[0, 0] = np.nan
    wkt = CRS.from_user_input(UTM50).to_wkt()
    grid = Grid(values, grid.x0, grid.y0, grid.dx, grid.dy, wkt)
    for name in ("g.asc", "g.tif"):
        write_grid(grid, tmp_path / name)
        back = read_grid(tmp_path / name)
        assert back.matches(grid) and np.isnan(back.values[0, 0])
        np.testing.assert_array_equal(back.values[1:], grid.values[1:])
        assert CRS.from_user_input(back.crs) == CRS.from_user_input(UTM50)
    assert (tmp_path / "g.prj").is_file()
    np.testing.assert_allclose(back.x[:2], [500002.5, 500007.5])
    np.testing.assert_allclose(back.y[:2], [3420057.5, 3420052.5])


def test_grid_errors(tmp_path):
    from rasterio.crs import CRS

    bad = tmp_path / "bad.asc"
    bad.write_text("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n")
    with pytest.raises(InputError, match="expected 2 rows x 2 columns = 4 values, found 3"):
        read_grid(bad)
    bad.write_text("ncols 2\nnrows 2\ncellsize 1\n1 2 3 4\n")
    with pytest.raises(InputError, match="header lacks xllcorner"):
        read_grid(bad)
    (tmp_path / "x.png").write_text("x")
    with pytest.raises(InputError, match="unknown grid format"):
        read_grid(tmp_path / "x.png")
    geo = Grid(np.zeros((2, 2)), 118.0, 31.0, 0.001, 0.001, CRS.from_epsg(4326).to_wkt())
    write_grid(geo, tmp_path / "geo.tif")
    with pytest.raises(InputError, match="geographic CRS"):
        read_grid(tmp_path / "geo.tif")


def test_dataset_shape_crs_and_netcdf(tmp_path):
    """A GeoTIFF DEM with a CRS: the Dataset's rasters sit on its cell centres, name the grid
    mapping, and survive a netCDF round trip; the output file appears only when complete. On
    disk it follows the network results' conventions: CF-1.8 (the checker finds no high-priority
    failure), time in seconds since the start, a scenario dimension, the CRS as a CF grid
    mapping pyproj and GDAL read back, CF standard names."""
    from rasterio.crs import CRS

    dem = tilted()
    dem = Grid(dem.values, dem.x0, dem.y0, dem.dx, dem.dy, CRS.from_user_input(UTM50).to_wkt())
    case = write_case(
        tmp_path,
        {
            **basic(dem="dem.tif"),
            "rain": {"series": [[0, "60 mm/h"], ["5min", 0]]},
            "boundaries": {"east": {"type": "open", "slope": 0.01}},
        },
        grids={"dem.tif": dem},
    )
    out = tmp_path / "out.nc"
    ds = run_case(case, output=out)
    assert ds["water_depth"].dims == ("scenario", "time", "y", "x")
    assert ds.sizes == {"scenario": 1, "time": 6, "y": 12, "x": 20}
    assert list(ds["scenario"].values) == ["case"]
    np.testing.assert_allclose(ds["x"], dem.x)
    np.testing.assert_allclose(ds["y"], dem.y)
    assert ds["water_depth"].attrs["grid_mapping"] == "crs"
    assert "UTM zone 50N" in ds["crs"].attrs["crs_wkt"]
    assert ds["time"].values[-1] == np.timedelta64(600, "s")
    for name in (
        "max_water_depth",
        "max_velocity",
        "time_of_arrival",
        "waterlogging_duration",
        "hazard_class",
        "max_hazard_rating",
        "mass_balance_error",
        "rain_volume",
    ):
        assert name in ds and ds[name].attrs["units"]
    assert ds.attrs["scenario_file"] == "case.toml" and ds.attrs["network_file"] == "dem.tif"
    # Water left through the open east side and nowhere else.
    assert ds["boundary_outflow_volume"].item() > 0
    assert abs(ds["mass_balance_error"].item()) < 1e-9
    back = read_netcdf(out)
    xr.testing.assert_identical(back["water_depth"], ds["water_depth"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    with netCDF4.Dataset(out) as nc:
        assert nc.Conventions == "CF-1.8"
        assert nc["time"].units.startswith("seconds since ") and nc["time"].standard_name == "time"
        np.testing.assert_allclose(nc["time"][:], np.arange(6) * 120.0)
        assert nc["water_depth"].dimensions == ("scenario", "time", "y", "x")
        assert nc["water_depth"].standard_name == "flood_water_thickness"
        assert nc["max_velocity"].standard_name == "flood_water_speed"
        assert nc["max_velocity"].cell_methods == "time: maximum"
        assert nc["water_depth"].grid_mapping == "crs"
        assert ProjCRS.from_cf(nc["crs"].__dict__).to_epsg() == 32650
        assert nc["crs"].grid_mapping_name == "transverse_mercator"
        assert nc["x"].standard_name == "projection_x_coordinate"
    failures, _ = cf_high_priority_failures(out, tmp_path)
    assert failures == []
    # GDAL (what QGIS reads netCDF with) places the rasters on the DEM's cells.
    with rasterio.open(f"netcdf:{out}:max_water_depth") as src:
        assert src.crs.to_epsg() == 32650
        assert src.transform.c == pytest.approx(dem.x0) and src.transform.f == pytest.approx(dem.y0)
        np.testing.assert_allclose(
            src.read(1), ds["max_water_depth"].isel(scenario=0).values, equal_nan=True
        )


def test_statistics_follow_the_frames(tmp_path):
    """Maxima are over every step (so at least the largest output frame); arrival is when a cell
    first gets wetter than the arrival depth; hazard classes follow FD2320's edges."""
    case = write_case(
        tmp_path,
        {
            **basic(),
            "inflows": [
                {
                    "name": "spring",
                    "point": [500012.0, 3420031.0],
                    "hydrograph": [[0, 0], ["2min", "0.5 m3/s"], ["6min", 0]],
                }
            ],
        },
        grids={"dem.asc": tilted()},
    )
    ds = run_case(case).isel(scenario=0)
    assert (ds["max_water_depth"] >= ds["water_depth"].max("time") - 1e-6).all()
    assert (ds["max_velocity"] >= ds["velocity"].max("time") - 1e-6).all()
    assert ds["inflow_volume"].item() == pytest.approx(0.5 * 360 / 2, rel=1e-3)
    arrival = ds["time_of_arrival"].values
    i, j = 5, 2  # the spring's cell
    assert arrival[i, j] < np.nanmax(arrival)
    wet = ds["max_water_depth"].values > 0.01
    assert np.array_equal(np.isfinite(arrival), wet)
    cls = ds["hazard_class"].values
    assert (
        set(np.unique(cls)) <= {0, 1, 2, 3, 4} and (cls[~wet] == 0).all() and (cls[wet] >= 1).all()
    )
    np.testing.assert_array_equal(
        hazard_class(np.array([0.5, 0.75, 1.0, 1.25, 1.9, 2.0, 3.0]), np.ones(7), wet_depth=0.01),
        [1, 2, 2, 3, 3, 4, 4],
    )


def test_level_boundary_fills_and_blocked_buildings_stay_dry(tmp_path):
    grid = tilted(slope=0.0)
    mask = np.zeros(grid.shape)
    mask[4:8, 8:11] = 1
    case = write_case(
        tmp_path,
        {
            **basic(duration="20min"),
            "boundaries": {"west": {"type": "level", "level": 20.3}},
            "buildings": {"mask": "b.asc"},
        },
        grids={"dem.asc": grid, "b.asc": grid.like(mask)},
    )
    ds = run_case(case).isel(scenario=0)
    assert ds["boundary_inflow_volume"].item() > 0
    assert np.isnan(ds["water_depth"].isel(time=-1).values[4:8, 8:11]).all()
    assert ds["water_depth"].isel(time=-1).values[6, 0] > 0.2
    assert abs(ds["mass_balance_error"].item()) < 1e-9


def test_simulation_matches_reference_twin(tmp_path):
    """The whole run with the numba kernel and with the numpy twin: same answer."""
    grid = tilted(ny=8, nx=10)
    mask = np.zeros(grid.shape)
    mask[3, 4] = 1
    case = write_case(
        tmp_path,
        {
            **basic(duration="3min", output_every="1min"),
            "rain": {"series": [[0, "100 mm/h"], ["1min", "20 mm/h"]]},
            "infiltration": {"rate": "10 mm/h", "capacity": "2 mm"},
            "inflows": [
                {
                    "name": "line",
                    "line": [[500005.0, 3420030.0], [500030.0, 3420010.0]],
                    "hydrograph": [[0, 0.0], ["2min", 0.2]],
                }
            ],
            "boundaries": {
                "east": {"type": "open", "slope": 0.01},
                "north": {"type": "level", "level": 19.99},
            },
            "buildings": {"mask": "b.asc", "height": 3.0},
        },
        grids={"dem.asc": grid, "b.asc": grid.like(mask)},
    )
    surface, forcing, options = prepare(load_case(case), case)
    fast = simulate(surface, forcing, options)
    slow = simulate(surface, forcing, options, kernel=ref.step)
    assert fast.steps == slow.steps
    np.testing.assert_allclose(fast.depth, slow.depth, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fast.stats, slow.stats, rtol=1e-9, atol=1e-9, equal_nan=True)
    for key, value in fast.volumes.items():
        assert value == pytest.approx(slow.volumes[key], rel=1e-9, abs=1e-9), key


def test_line_cells_follow_the_line():
    grid = Grid(np.zeros((4, 4)), 0.0, 4.0, 1.0, 1.0)
    assert line_cells(grid, [(0.5, 3.5), (3.5, 3.5)]) == [(0, 0), (0, 1), (0, 2), (0, 3)]
    assert line_cells(grid, [(0.5, 0.5), (0.5, 2.5)]) == [(3, 0), (2, 0), (1, 0)]


def test_mass_balance_warning():
    volumes = {"mass_balance_error": 0.002}
    with pytest.warns(MassBalanceWarning, match="off by 0.200 %"):
        assert _health(volumes)
    assert _health({"mass_balance_error": 5e-4}) == []


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (
            {
                "surface": {
                    "dem": "dem.asc",
                    "manning": 0.03,
                    "duration": "1h",
                    "output_every": "5min",
                    "resolution": 2,
                }
            },
            r"surface.resolution: unknown key",
        ),
        (
            {"surface": {"dem": "dem.asc", "manning": 0.03, "duration": "1h"}},
            r"surface.output_every: required key is missing",
        ),
        (
            {
                "surface": {
                    "dem": "nope.asc",
                    "manning": 0.03,
                    "duration": "1h",
                    "output_every": "5min",
                }
            },
            r"surface.dem: .*no such file",
        ),
        (
            {
                "surface": {
                    "dem": "../nope.asc",
                    "manning": 0.03,
                    "duration": "1h",
                    "output_every": "5min",
                }
            },
            r"surface.dem: .*no such file",
        ),
        (
            {
                "surface": {
                    "dem": "dem.asc",
                    "manning": -1,
                    "duration": "1h",
                    "output_every": "5min",
                }
            },
            r"surface.manning",
        ),
        (
            {**basic(), "rain": {"series": [["10min", "5 mm/h"], ["5min", 0]]}},
            r"rain.series: .*times must increase",
        ),
        ({**basic(), "rain": {"series": [[0, "5 furlongs"]]}}, r"rain.series"),
        ({**basic(), "boundaries": {"east": {"type": "open"}}}, r"boundaries.east: .*needs slope"),
        ({**basic(), "boundaries": {"up": {"type": "open"}}}, r"boundaries.up: unknown key"),
        (
            {**basic(), "inflows": [{"name": "a", "hydrograph": [[0, 1], [60, 1]]}]},
            r"inflows\[0\]: .*one of point or line",
        ),
    ],
)
def test_case_errors_name_the_key(tmp_path, tables, message):
    write_grid(tilted(), tmp_path / "dem.asc")
    (tmp_path / "sub").mkdir()
    case = write_case(tmp_path / "sub" if "../nope.asc" in str(tables) else tmp_path, tables)
    with pytest.raises(ScenarioError, match=message) as err:
        run_case(case, output=tmp_path / "out.nc")
    assert str(case) in str(err.value)
    assert not (tmp_path / "out.nc").exists()


def test_input_errors(tmp_path):
    dem = tilted()
    other = Grid(np.zeros((3, 3)), 0.0, 3.0, 1.0, 1.0)
    case = write_case(tmp_path, {**basic(manning="n.asc")}, grids={"dem.asc": dem, "n.asc": other})
    with pytest.raises(InputError, match=r"surface.manning: n.asc is not on the DEM's cells"):
        run_case(case)
    case = write_case(
        tmp_path,
        {
            **basic(),
            "inflows": [{"name": "far", "point": [0.0, 0.0], "hydrograph": [[0, 1], [60, 1]]}],
        },
        grids={"dem.asc": dem},
    )
    with pytest.raises(InputError, match=r"inflows\[far\]: point .* is not on a cell"):
        run_case(case)
    case = write_case(tmp_path, basic(), grids={"dem.asc": dem})
    with pytest.raises(InputError, match="over an input file"):
        run_case(case, output=tmp_path / "case.toml")
