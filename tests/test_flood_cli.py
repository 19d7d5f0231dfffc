"""`hydro flood run` / `check`: the case runs, the summary shows its health, errors are plain."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.flood.grid import Grid
from hydro.results import read_netcdf
from tests.flood_cases import write_case

runner = CliRunner()


def small_case(folder):
    yy, xx = np.mgrid[0:10, 0:12] * 2.0
    dem = Grid(10.0 - 0.01 * xx + 0.001 * yy, 0.0, 20.0, 2.0, 2.0)
    return write_case(
        folder,
        {
            "surface": {"dem": "dem.asc", "manning": 0.03, "duration": "5min", "output_every": 60},
            "rain": {"series": [[0, "100 mm/h"]]},
            "boundaries": {"east": {"type": "open", "slope": 0.01}},
        },
        grids={"dem.asc": dem},
    )


def test_flood_run_writes_the_surface(tmp_path):
    case = small_case(tmp_path / "case")
    out = tmp_path / "out.nc"
    result = runner.invoke(app, ["flood", "run", str(case), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "mass balance error" in result.output and "hazard" in result.output
    ds = read_netcdf(out)
    assert ds["water_depth"].dims == ("scenario", "time", "y", "x") and ds.sizes["time"] == 6
    assert ds["rain_volume"].item() == pytest.approx(0.1 / 3600 * 300 * 10 * 12 * 4, rel=1e-12)


def test_flood_check_and_errors(tmp_path):
    case = small_case(tmp_path / "case")
    result = runner.invoke(app, ["flood", "check", str(case)])
    assert result.exit_code == 0 and "10 x 12 cells" in result.output
    case.write_text(case.read_text().replace("manning", "maning"))
    out = tmp_path / "out.nc"
    result = runner.invoke(app, ["flood", "run", str(case), "-o", str(out)])
    assert result.exit_code != 0
    assert "surface.maning: unknown key" in result.output and "Traceback" not in result.output
    assert not out.exists()
