"""Results people can look at and take elsewhere: the HTML report (rendered in headless
Chromium), GIS layers read back by geopandas, and the plot functions' axes and units."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from hydro.cli.app import app
from hydro.report import export_layers, write_report
from hydro.report.pumps import curve_line
from hydro.report.style import new_axes

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no headless Chromium found (looked for " + ", ".join(CHROMIUM_NAMES) + "); "
        "install Debian's `chromium` package (.ci/run does)"
    )


def _render(page, tmp_path) -> tuple[str, str]:
    """(DOM after load, Chromium's log) of a page opened offline in headless Chromium."""
    run = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, run.stderr


def _self_contained(text: str) -> None:
    assert not re.search(r"(?i)\b(?:src|href)\s*=\s*\"(?!data:|#)", text), "a reference"
    assert "http://" not in text and "https://" not in text
    assert "<link" not in text.lower()


def test_report_is_one_self_contained_page_that_renders(short_supply, tmp_path):
    _, path = short_supply
    page = write_report(path, tmp_path / "report.html")
    text = page.read_text(encoding="utf-8")
    _self_contained(text)
    images = re.findall(r'<img src="data:image/png;base64,', text)
    assert len(images) >= 5  # pressure map, source shares, compliance, worst nodes, plants...
    # the health before the answers, the question at the top
    assert text.index("Health of the run") < text.index("Answers") < text.index("<img")
    assert "what if Qingyi stops for two hours?" in text
    assert "EPSG:4549" in text or "easting" in text  # maps in the model's CRS
    dom, log = _render(page, tmp_path)
    decoded = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert decoded is not None, "the page's load handler did not run"
    assert decoded.group(1) == decoded.group(2) == str(len(images))
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == []
    assert "could not be shown" not in dom.split("<body", 1)[1]


def test_report_of_a_folder_has_every_scenario(short_supply, short_drainage, tmp_path):
    folder = tmp_path / "results"
    (folder / "supply").mkdir(parents=True)
    (folder / "drainage").mkdir()
    shutil.copy(short_supply[1], folder / "supply" / "qingyi_2h.nc")
    shutil.copy(short_drainage[1], folder / "drainage" / "p5_1h.nc")
    result = CliRunner().invoke(app, ["report", str(folder), "-o", str(tmp_path / "all.html")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "all.html").read_text(encoding="utf-8")
    _self_contained(text)
    for name in ("qingyi_2h", "p5_2h_normal_river"):
        assert f'href="#s-{name.replace("_", "-")}"' in text
    assert "runoff continuity error" in text  # the drainage run's health
    assert "Pump-station load" in text and "The rain" in text
    assert text.count("<img") >= 9


def test_report_refuses_what_is_not_a_result(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path), "-o", str(tmp_path / "r.html")])
    assert result.exit_code != 0
    assert "no hydro result files" in result.output
    assert not (tmp_path / "r.html").exists()


def test_export_reads_back_in_the_model_crs_with_every_node_and_link(short_supply, tmp_path):
    import geopandas as gpd
    import pyogrio

    ds, path = short_supply
    out = tmp_path / "layers.gpkg"
    result = CliRunner().invoke(app, ["export", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {name for name, _ in pyogrio.list_layers(out)} >= {"nodes", "links", "pump_stations"}
    nodes = gpd.read_file(out, layer="nodes")
    links = gpd.read_file(out, layer="links")
    assert nodes.crs.to_epsg() == 4549 and links.crs.to_epsg() == 4549
    assert list(nodes["node"]) == [str(n) for n in ds["node"].values]
    assert list(links["link"]) == [str(n) for n in ds["link"].values]
    np.testing.assert_array_equal(nodes.geometry.x, ds["x"].values)
    np.testing.assert_array_equal(nodes.geometry.y, ds["y"].values)
    # a link runs from its start node to its end node
    at = {n: k for k, n in enumerate(nodes["node"])}
    first = links.iloc[0]
    start = nodes.geometry.iloc[at[first["from_node"]]]
    assert first.geometry.coords[0] == (start.x, start.y)
    # summary results in the units the column names say
    pressure = ds["pressure_head"].values[0]
    np.testing.assert_allclose(nodes["min_pressure_head"], np.nanmin(pressure, axis=0), rtol=1e-6)
    demand = np.nanmean(ds["demand"].values[0], axis=0) * 86400
    np.testing.assert_allclose(nodes["mean_demand_m3d"], demand, rtol=1e-5, atol=1e-6)
    shares = nodes.filter(like="share_").to_numpy()
    junction = (nodes["node_type"] == "junction").to_numpy()
    np.testing.assert_allclose(np.nansum(shares[junction], axis=1), 100, atol=0.1)


def test_export_of_a_drainage_run_has_its_subcatchments_stations_and_points(
    short_drainage, tmp_path
):
    import geopandas as gpd

    ds, _ = short_drainage
    counts = export_layers(ds, tmp_path / "p5.geojson")
    assert counts["subcatchments"] == ds.sizes["subcatchment"]
    assert counts["pump_stations"] == 4  # the sidecar's four stations
    subs = gpd.read_file(tmp_path / "p5_subcatchments.geojson")
    assert subs.crs.to_epsg() == 4549
    assert (subs.geom_type == "Polygon").all()  # from the model's [POLYGONS]
    area = ds["area"].values
    np.testing.assert_allclose(subs.geometry.area, area, rtol=0.05)  # drawn as declared
    points = gpd.read_file(tmp_path / "p5_waterlogging_points.geojson")
    assert len(points) == counts["waterlogging_points"] > 0
    assert set(points["hazard_class"]) <= {0, 1, 2, 3, 4}
    with pytest.raises(Exception, match=r"expected \.gpkg or \.geojson"):
        export_layers(ds, tmp_path / "p5.shp")


def test_time_axes_are_hours_or_dates_never_nanoseconds(short_supply, short_drainage):
    from hydro.report import compliance_over_time, hydrograph

    supply, _ = short_supply
    ax = compliance_over_time(supply)
    x = ax.get_lines()[0].get_xdata()
    np.testing.assert_allclose(x, [0, 1, 2, 3, 4])  # hours: EPANET has no date
    assert ax.get_xlabel() == "hours since the start of the run"
    drainage, _ = short_drainage
    ax = hydrograph(drainage, str(drainage["node"].values[0]))
    x = ax.get_lines()[0].get_xdata()
    assert np.issubdtype(np.asarray(x).dtype, np.datetime64)  # SWMM has a START_DATE
    start = np.datetime64(drainage.attrs["start_datetime"])
    assert x[0] == start + drainage["time"].values[0]  # SWMM's first report is one step in
    assert ax.get_xlabel() == "date and time"


def test_maps_and_profiles_use_the_results_geometry(short_drainage):
    from hydro.report import flood_map, longitudinal_profile
    from hydro.report.profile import downstream_path

    ds, _ = short_drainage
    ax = flood_map(ds)
    assert len(ax.collections[0].get_segments()) == ds.sizes["link"]
    assert "EPSG:4549" in ax.get_xlabel()
    path = downstream_path(ds, "J0278")
    assert path[0] == "J0278" and ds["node_type"].sel(node=path[-1]) == "outfall"
    ax = longitudinal_profile(ds, path)
    ground = ax.get_lines()[0].get_ydata()
    rim = (ds["invert_elevation"] + ds["full_depth"]).sel(node=path).values
    np.testing.assert_allclose(ground, rim)


def test_pump_curves_are_drawn_as_epanet_evaluates_them():
    # one point (Q0, H0): H = 4/3 H0 - H0/3 (Q/Q0)^2 (EPANET manual 3.1); shut-off 4/3 H0
    q, h = curve_line(np.array([0.1]), np.array([30.0]))
    assert h[0] == pytest.approx(40.0) and q[-1] == pytest.approx(0.2)
    assert np.interp(0.1, q, h) == pytest.approx(30.0, rel=1e-3)
    # three points from Q = 0: the power function passes through all three
    flow, head = np.array([0.0, 0.6, 1.0]), np.array([58.0, 48.0, 34.0])
    q, h = curve_line(flow, head, n=2001)
    for qi, hi in zip(flow, head, strict=True):
        assert np.interp(qi, q, h) == pytest.approx(hi, abs=0.01)


def test_new_axes_need_no_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig, _ = new_axes()
    assert plt.get_fignums() == before  # nothing left open in pyplot's registry
    assert fig.canvas.get_default_filetype() == "png"


@pytest.fixture
def surface_result(tmp_path):
    """A 10 min 2-D surface run on a small tilted DEM in EPSG:32650: (Dataset, DEM, file)."""
    from rasterio.crs import CRS

    from hydro.flood import Grid, run_case
    from tests.flood_cases import write_case
    from tests.test_flood_case import basic, tilted

    dem = tilted()
    wkt = CRS.from_user_input("EPSG:32650").to_wkt()
    dem = Grid(dem.values, dem.x0, dem.y0, dem.dx, dem.dy, wkt)
    case = write_case(
        tmp_path,
        {
            **basic(dem="dem.tif"),
            "rain": {"series": [[0, "60 mm/h"], ["5min", 0]]},
            "boundaries": {"east": {"type": "open", "slope": 0.01}},
        },
        grids={"dem.tif": dem},
    )
    ds = run_case(case, output=tmp_path / "surface.nc")
    return ds, dem, tmp_path / "surface.nc"


def test_report_of_a_surface_result(surface_result, tmp_path):
    """A 2-D surface run gets its own section: its health, the deepest water and where, areas
    by hazard class, maps of depth, hazard and arrival, and the water budget."""
    ds, _, path = surface_result
    out = tmp_path / "surface.html"
    result = CliRunner().invoke(app, ["report", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    depth = ds["max_water_depth"].isel(scenario=0)
    deepest = float(depth.max())
    at = depth.where(depth == deepest, drop=True)
    assert f"{deepest:.2f} m at x {float(at['x'][0]):.0f}, y {float(at['y'][0]):.0f}" in text
    cell = ds.attrs["cell_size_x"] * ds.attrs["cell_size_y"]
    low = float((ds["hazard_class"].values == 1).sum()) * cell / 1e4
    assert f"area of hazard class 1 (low)</th><td>{low:.2f} ha" in text.replace("\n", "")
    for caption in ("Largest water depth", "Flood hazard class", "When the water arrives"):
        assert caption in text
    assert "not drawn" not in text and "Water budget of the surface" in text
    assert "mass balance error" in text and text.count("<img") >= 3


def test_report_names_a_file_it_cannot_report(tmp_path):
    import xarray as xr

    xr.Dataset({"a": ("t", [1.0])}, attrs={"engine": "x"}).to_netcdf(tmp_path / "odd.nc")
    result = CliRunner().invoke(
        app, ["report", str(tmp_path / "odd.nc"), "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code != 0
    assert "odd.nc: not a result hydro can report" in result.output
    assert not (tmp_path / "r.html").exists()


def test_export_of_a_surface_result_is_a_geotiff(surface_result, tmp_path):
    import rasterio
    from rasterio.crs import CRS

    ds, dem, _ = surface_result
    out = tmp_path / "surface.tif"
    result = CliRunner().invoke(app, ["export", str(tmp_path / "surface.nc"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as tif:
        assert CRS.from_user_input(tif.crs) == CRS.from_user_input("EPSG:32650")
        assert tif.bounds.left == dem.x0 and tif.bounds.top == dem.y0
        assert tif.res == (dem.dx, dem.dy)
        names = [d.split(" ")[0] for d in tif.descriptions]
        assert names[0] == "max_water_depth" and "hazard_class" in names
        expected = ds["max_water_depth"].isel(scenario=0).values.astype("f4")
        np.testing.assert_array_equal(tif.read(1), expected)
    with pytest.raises(Exception, match=r"GeoTIFF \(\.tif\)"):
        export_layers(ds, tmp_path / "surface.gpkg")
