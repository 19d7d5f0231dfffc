"""`hydro score`: ranked tables on screen, scores as netCDF and CSV, mistakes in plain words
without leftovers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hydro.cli.score import app
from hydro.drainage import run as run_swmm
from hydro.ensemble.workers import combine
from hydro.results import read_netcdf, write_netcdf
from hydro.supply.run import run as run_epanet
from tests.conftest import NETWORKS, REPO

TINY_SWMM = REPO / "tests" / "data" / "swmm" / "tiny.inp"
TWO_LOOPS = NETWORKS / "examples" / "two_loops.inp"
runner = CliRunner()


@pytest.fixture(scope="module")
def swmm_results(tmp_path_factory) -> Path:
    """Two scenarios of the tiny model: as it is, and with the ponded area taken away."""
    from hydro.drainage import read_inp

    folder = tmp_path_factory.mktemp("results")
    base = run_swmm(TINY_SWMM, scenario="base")
    inp = read_inp(TINY_SWMM)
    dry = inp.with_options({"ALLOW_PONDING": "NO"})
    other = run_swmm(dry, scenario="no-ponding")
    return write_netcdf(combine([base, other]), folder / "tiny.nc")


def test_drainage_scores_tables_and_files(swmm_results, tmp_path):
    out, csv = tmp_path / "scores.nc", tmp_path / "tables"
    result = runner.invoke(app, [str(swmm_results), "-o", str(out), "--csv", str(csv)])
    assert result.exit_code == 0, result.output
    assert "Waterlogging by scenario" in result.output and "Worst places" in result.output
    assert "J1" in result.output
    scores = read_netcdf(out)
    assert list(scores.scenario.values) == ["base", "no-ponding"]
    assert int(scores.hazard_rank.sel(scenario="base", node="J1")) == 1
    # members set ALLOW_PONDING differently (the joined attrs lose it): J1 ponded in "base"
    assert int(scores.can_pond.sel(node="J1")) == 1
    assert float(scores.max_ponded_depth.sel(scenario="base", node="J1")) > 0
    assert float(scores.max_ponded_depth.sel(scenario="no-ponding", node="J1")) == 0
    files = sorted(p.name for p in csv.iterdir())
    assert files == [
        "city.csv",
        "points.csv",
        "polders.csv",
        "pumps.csv",
        "stations.csv",
        "worst.csv",
    ]
    points = pd.read_csv(csv / "points.csv")
    assert set(points["scenario"]) == {"base", "no-ponding"}
    assert points.iloc[0]["node"] == "J1" and points.iloc[0]["hazard_rank"] == 1
    city = pd.read_csv(csv / "city.csv")
    assert list(city.columns[:2]) == ["scenario", "waterlogged_points"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.nc", "tables"]


def test_default_output_in_the_working_folder(swmm_results, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [str(swmm_results), "--scenario", "no-ponding", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "scenario no-ponding" in result.output
    assert (tmp_path / "tiny_scores.nc").is_file()


def test_supply_scores_without_source_shares(tmp_path):
    results = write_netcdf(run_epanet(TWO_LOOPS), tmp_path / "two_loops.nc")
    out = tmp_path / "scores.nc"
    result = runner.invoke(app, [str(results), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Zones" in result.output and "zones only" in result.output.replace("\n", " ")
    assert "zone_compliance" in read_netcdf(out)


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["missing.nc"], 2, "no such file"),
        (["{results}", "--scenario", "bas"], 3, "did you mean 'base'"),
        (["{results}", "--rules", "{rules}"], 3, "unknown key"),
        (["{results}", "--network", "nowhere.inp"], 2, "no such model file"),
        (
            ["{results}", "-o", "{tmp}/no/such/folder/s.nc", "--csv", "{tmp}/tables"],
            2,
            "does not exist",
        ),
    ],
)
def test_mistakes_exit_in_words_and_write_nothing(
    swmm_results, tmp_path, monkeypatch, args, code, words
):
    rules = tmp_path / "rules.toml"
    rules.write_text("[waterlogging]\nlane = 0.1\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = [a.format(results=swmm_results, rules=rules, tmp=tmp_path) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == code, result.output
    assert words in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert list(work.iterdir()) == []
    assert not (tmp_path / "tables").exists()
