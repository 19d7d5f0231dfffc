"""The bundled Xuancheng surface: generated with the drainage model, consistent with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hydro.drainage.inp import read_inp
from hydro.flood import load_case, prepare, read_grid
from hydro.flood.xuancheng import KERB, xuancheng_surface

REPO = Path(__file__).resolve().parents[1]
NET = REPO / "networks" / "xuancheng"
CASE = REPO / "scenarios" / "flood" / "p30_3h_coupled.toml"


@pytest.fixture(scope="module")
def generated():
    return xuancheng_surface(NET / "drainage.inp")


STALE = (
    "the committed surface grids do not match drainage.inp: regenerate them with "
    "python -c 'from hydro.flood.xuancheng import write_xuancheng_surface as w; "
    'w("networks/xuancheng")\'  (after any change to the drainage model)'
)


def test_committed_grids_are_not_stale(generated):
    dem, buildings = generated
    for grid, name in ((dem, "surface_dem.tif"), (buildings, "surface_buildings.tif")):
        committed = read_grid(NET / name)
        assert committed.matches(grid), STALE
        np.testing.assert_array_equal(committed.values, grid.values, err_msg=f"{name}: {STALE}")
    assert "4549" in read_grid(NET / "surface_dem.tif").crs


def test_surface_agrees_with_the_network(generated):
    dem, buildings = generated
    inp = read_inp(NET / "drainage.inp")
    coords = {r[0]: (float(r[1]), float(r[2])) for r in inp.rows("COORDINATES")}
    rims = {r[0]: float(r[1]) + float(r[2]) for r in inp.rows("JUNCTIONS")}
    cells = [dem.cell_of(*coords[n]) for n in rims]
    assert all(c is not None for c in cells)
    ground = np.array([dem.values[c] for c in cells])
    np.testing.assert_allclose(ground, list(rims.values()), atol=1e-9)  # every rim on the DEM
    # Underpasses are dips: their rim is metres below the blocks around them.
    i, j = dem.cell_of(*coords["J0212"])
    assert np.nanmax(dem.values[i - 1 : i + 2, j - 1 : j + 2]) - dem.values[i, j] > 1.0
    # Streets lie a kerb below blocks; buildings stand on blocks only.
    assert 0.2 < np.nanmean(buildings.values) < 0.35
    assert np.isnan(dem.values).mean() < 0.05 and KERB == 0.15


def test_coupled_scenario_is_valid():
    """The bundled coupled scenario reads, runs as long as its drainage scenario (storm + 12 h of
    recession; after a 3 h spin-up, as the scenario alone), and every junction stands on a
    wet-able cell."""
    case = load_case(CASE)
    surface, _, options = prepare(case, CASE)
    assert options.duration == 15 * 3600
    from hydro.flood.run import _coupled_nodes, drainage_model

    model = drainage_model(case, CASE, options.duration)  # InputError if the durations differ
    assert model.spin_up == 3 * 3600 and model.assets is not None
    inp = model.inp
    names, _ = _coupled_nodes(inp, case.drainage, surface, CASE)
    assert len(names) == len(inp.rows("JUNCTIONS"))


@pytest.mark.parametrize("case", sorted(CASE.parent.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_flood_cases_check(case):
    """Every bundled flood case validates, builds its drainage side and runs as long as it."""
    from typer.testing import CliRunner

    from hydro.cli import app

    result = CliRunner().invoke(app, ["flood", "check", str(case)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "storm on the" in result.output


def test_rain_on_the_surface_takes_the_design_storm():
    """With rain = "surface" the city's coupled storm would put the scenario's design storm
    (98.8 mm in 3 h, Chicago, peak 229.4 mm/h, as `hydro drainage run` reports it) on the grid,
    and none on the subcatchments."""
    from hydro.flood.direct_rain import NO_RAIN, move_rain_to_surface
    from hydro.flood.run import drainage_model

    model = drainage_model(load_case(CASE), CASE, 15 * 3600.0)
    inp, times, rates = move_rain_to_surface(model.inp, CASE)
    depth = float(np.sum(np.diff(times) * rates[:-1]))
    assert depth == pytest.approx(0.0988, abs=1e-4)
    assert rates.max() * 3.6e6 == pytest.approx(229.4, abs=0.1)
    assert times[rates > 0].max() < 3 * 3600.0
    assert {row[5] for row in inp.rows("RAINGAGES")} == {NO_RAIN}
