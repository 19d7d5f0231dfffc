"""`hydro ensemble`: scenario files run in parallel, each written whole, summaries joined."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.ensemble.plan import load_plan
from hydro.errors import ScenarioError
from hydro.results import read_netcdf

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_ensemble_command_writes_full_results_and_summaries(tmp_path: Path):
    supply = tmp_path / "supply_short.toml"
    supply.write_text(
        f'include = "{REPO}/scenarios/supply/three_sources.toml"\n'
        '[time]\nduration = "24h"\n[answers]\nshares = false\n'
    )
    drainage = tmp_path / "drain_short.toml"
    drainage.write_text(
        f'include = "{REPO}/scenarios/drainage/p5_2h_normal_river.toml"\n'
        '[rainfall.design]\nduration = "1h"\n[time]\nrecession = "30min"\n'
    )
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '# Question: a small study\nsupply = ["supply_*.toml"]\n'
        'drainage = ["drain_*.toml"]\nworkers = 2\n'
    )
    out = tmp_path / "results"
    result = runner.invoke(app, ["ensemble", str(plan), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Water supply: answers by scenario" in result.output
    assert "Waterlogging by scenario" in result.output
    answers = read_netcdf(out / "supply_answers.nc")
    assert list(answers["scenario"].values) == ["supply_short"]
    assert "node" not in answers.dims and "pressure_compliance" in answers
    scores = read_netcdf(out / "drainage_scores.nc")
    assert list(scores["scenario"].values) == ["drain_short"]
    assert (out / "supply" / "supply_short.nc").exists()
    full = read_netcdf(out / "drainage" / "drain_short.nc")
    assert "flooding_rate" in full
    assert list((out / "drainage_tables").glob("*.csv"))


def test_study_file_errors(tmp_path: Path):
    plan = tmp_path / "plan.toml"
    plan.write_text('supply = ["nothing_*.toml"]\n')
    with pytest.raises(ScenarioError, match="matches no file"):
        load_plan(plan)
    plan.write_text("workers = 0\n")
    with pytest.raises(ScenarioError, match="workers"):
        load_plan(plan)
    plan.write_text("")
    with pytest.raises(ScenarioError, match="lists no supply or drainage"):
        load_plan(plan)


def test_bundled_ensemble_lists_every_bundled_scenario():
    plan = load_plan(REPO / "scenarios" / "ensembles" / "xuancheng.toml")
    assert len(plan.supply) == 9 and len(plan.drainage) == 8
