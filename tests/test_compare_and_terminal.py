"""`hydro compare` answers what changed, in the units people use; terminal output fits 80
columns; `hydro --version`, `hydro supply check`, progress lines off a terminal."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from hydro import __version__
from hydro.cli import common
from hydro.cli.app import app
from hydro.report.compare import compare, display
from tests.conftest import REPO

runner = CliRunner()


@pytest.fixture(scope="module")
def as_is(tmp_path_factory):
    """The short supply scenario without its outage: the reference to compare against."""
    from hydro.results import write_netcdf
    from hydro.supply.scenario import run_scenario

    folder = tmp_path_factory.mktemp("as_is")
    scenario = folder / "qingyi_2h.toml"  # the same scenario name: compared one to one
    network = (REPO / "networks" / "xuancheng" / "supply.inp").as_posix()
    scenario.write_text(f'network = "{network}"\n[time]\nduration = "4h"\n', encoding="utf-8")
    base = run_scenario(scenario)
    return base, write_netcdf(base, folder / "as_is.nc")


def test_compare_gives_the_answers_that_changed_most_important_first(as_is, short_supply):
    base, _ = as_is
    lost, _ = short_supply
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warnings on the way
        result = compare(base, lost)
    answers = result.answers.set_index("answer")
    city = answers.loc["city: demand unserved"]
    assert city["units"] == "%" and city["B"] > city["A"]
    expected = 100 * float(lost["unserved_fraction"].sel(zone="city").values[0])
    assert city["B"] == pytest.approx(expected)
    assert answers.loc["qingyi plant output", "units"] == "m³/d"
    assert answers.loc["qingyi plant output", "change"] < 0  # Qingyi stopped for 2 of 4 h
    # compliance and unserved demand lead; energy and water age trail
    priorities = result.answers["priority"].to_numpy()
    assert (np.diff(priorities) >= 0).all()
    assert result.answers["answer"].iloc[0].startswith(("city", "main", "east", "devzone"))
    # the places: junctions whose time below the service head grew most, in hours
    where = result.places[result.places["what"].str.startswith("time below")]
    assert (where["units"] == "h").all() and len(where) == 10
    assert (np.diff(np.abs(where["change"].to_numpy())) <= 0).all()
    shown_answers, _ = display(result)
    assert not shown_answers.isin(["nan"]).any().any()


def test_compare_command_fits_80_columns_and_writes_csv(as_is, short_supply, tmp_path):
    _, a = as_is
    _, b = short_supply
    result = runner.invoke(
        app, ["compare", str(a), str(b), "--csv", str(tmp_path / "csv")], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert "city: demand unserved" in result.output
    assert "…" not in result.output  # nothing cut short
    assert max(len(line) for line in result.output.splitlines()) <= 80
    answers = pd.read_csv(tmp_path / "csv" / "answers.csv")
    assert {"answer", "units", "A", "B", "change"} <= set(answers.columns)
    assert (tmp_path / "csv" / "places.csv").is_file()


def test_wide_tables_split_instead_of_cutting_headers(monkeypatch):
    console = Console(width=80, record=True, force_terminal=False)
    monkeypatch.setattr(common, "console", console)
    frame = pd.DataFrame(
        {
            "scenario": ["growth_2030_three_sources", "baseline_2024"],
            **{f"nodes at service head, zone {k}": [0.91, 0.99] for k in range(8)},
        }
    )
    common.print_frame("Answers", frame)
    text = console.export_text()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "(continued)" in text
    assert text.count("growth_2030_three_sources") >= 2  # the key column in every part


def test_progress_lines_when_not_on_a_terminal(monkeypatch):
    console = Console(width=80, record=True, force_terminal=False)
    monkeypatch.setattr(common, "err_console", console)
    monkeypatch.setattr(common, "QUIET_SECONDS", 0.0)
    with common.progress_bar("running x") as update:
        for k in range(1, 21):
            update(k / 20)
    lines = console.export_text().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("running x: 10% after 0:00:0") and "left" in lines[0]
    assert lines[-1].startswith("running x: 100%")


def test_version_and_supply_check(tmp_path):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"hydro {__version__}"
    good = REPO / "scenarios" / "supply" / "shuiyang_out.toml"
    result = runner.invoke(app, ["supply", "check", str(good)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "source_outage" in result.output
    bad = tmp_path / "bad.toml"
    network = (REPO / "networks" / "xuancheng" / "supply.inp").as_posix()
    bad.write_text(f'network = "{network}"\n[[operations]]\ntype = "source_outage"\nsource = "x"\n')
    result = runner.invoke(app, ["supply", "check", str(bad)])
    assert result.exit_code == 3
    assert "unknown source 'x'" in result.output


def test_output_defaults_are_what_the_help_says():
    import typer

    group = typer.main.get_command(app)
    for path, default in (
        (["score"], "<results>_scores.nc"),
        (["supply", "study"], "<scenario>_study.nc"),
        (["report"], "<input>.html"),
    ):
        command = group
        for name in path:
            command = command.commands[name]
        output = next(p for p in command.params if p.name == "output")
        assert default in output.help, path


def test_quick_work_prints_no_progress_lines(monkeypatch):
    console = Console(width=80, record=True, force_terminal=False)
    monkeypatch.setattr(common, "err_console", console)
    with common.progress_bar("running x") as update:
        for k in range(1, 21):
            update(k / 20)
    assert console.export_text() == ""
