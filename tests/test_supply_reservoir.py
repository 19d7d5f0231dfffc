"""The reservoir's dry-season drawdown (hydro.supply.reservoir)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from hydro.errors import ScenarioError
from hydro.supply.reservoir import Reservoir, drawdown


def _linear(**flows) -> Reservoir:
    """1e6 m3 per metre between 100 and 140 m, starting at its 130 m flood limit, minimum 120 m."""
    return Reservoir(
        levels=[100, 140],
        volumes=[0, 40e6],
        flood_limit=130,
        minimum_level=120,
        initial_level=130,
        **flows,
    )


def test_days_to_the_minimum_level_are_the_volume_over_the_net_draw():
    # Linear relation (1e6 m3 per metre), constant inflow, no evaporation: analytical.
    r = _linear(inflow=[1.0], release=0.5, evaporation=0.0)
    d = drawdown(r, [0.5, 1.0, 2.5], days=300)
    # Net draw 0, 0.5 and 2 m3/s: 10e6 m3 between 130 and 120 m.
    days = d["days_to_minimum_level"].values
    assert np.isnan(days[0])
    assert days[1] == np.ceil(10e6 / (0.5 * 86400))  # the first day's start at or below 120 m
    assert days[2] == np.ceil(10e6 / (2.0 * 86400))
    level = d["reservoir_level"].sel(delivery=1.0).values
    np.testing.assert_allclose(np.diff(level)[:100], -0.5 * 86400 / 1e6)
    assert d["reservoir_spill"].sel(delivery=0.5).values == 0


def test_water_above_the_flood_limit_is_spilled_and_evaporation_uses_the_area():
    # 10 mm/d over 1 km2 (dV/dh = 1e6 m2): 10,000 m3/d
    r = _linear(inflow=[3.0], release=0.0, evaporation=10.0)
    d = drawdown(r, [1.0], days=10)
    assert (d["reservoir_level"].values == 130).all()
    spilled = 10 * ((3.0 - 1.0) * 86400 - 10_000)
    assert float(d["reservoir_spill"].values[0]) == pytest.approx(spilled)


def test_the_default_gangkouwan_dry_season_and_bad_tables():
    d = drawdown(Reservoir(), [50_000 / 86400, 150_000 / 86400], days=180)
    level = d["reservoir_level"].values
    assert (level[:, -1] < level[:, 0] - 0.1).all()  # a dry season draws the reservoir down
    assert (level[1] <= level[0]).all() and level[1, -1] < level[0, -1]  # more delivered, lower
    with pytest.raises(ValidationError, match="must both rise"):
        Reservoir(levels=[120, 110], volumes=[1, 2])
    with pytest.raises(ValidationError, match="minimum_level 90 m is outside"):
        Reservoir(minimum_level=90)
    with pytest.raises(ScenarioError, match="delivery rates"):
        drawdown(Reservoir(), [-1.0])


def test_drawdown_command_on_the_dry_year_scenario(tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    from hydro.cli import app
    from hydro.results import read_netcdf

    scenario = Path(__file__).resolve().parents[1] / "scenarios/reservoir/gangkouwan_dry_year.toml"
    out = tmp_path / "dd.nc"
    result = CliRunner().invoke(
        app, ["supply", "drawdown", str(scenario), "--days", "365", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "minimum level after" in result.output  # 150,000 m3/d empties it within the year
    d = read_netcdf(out)
    days = d["days_to_minimum_level"].values
    assert np.isnan(days[0]) and 300 < days[-1] < 365
