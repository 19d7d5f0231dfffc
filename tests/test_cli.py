"""The `hydro` command: runs models, prints a summary, fails in plain words without leftovers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.results import read_netcdf

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "networks" / "examples" / "two_loops.inp"
TINY_SWMM = REPO / "tests" / "data" / "swmm" / "tiny.inp"
runner = CliRunner()


@pytest.mark.parametrize(
    "model, variable", [(EXAMPLE, "pressure_head"), (TINY_SWMM, "flooding_rate")]
)
def test_run_writes_netcdf_and_summary(tmp_path: Path, model: Path, variable: str):
    out = tmp_path / "out.nc"
    result = runner.invoke(app, ["run", str(model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "simulated" in result.output
    ds = read_netcdf(out)
    assert variable in ds and ds.attrs["network_file"] == model.name
    assert [p.name for p in tmp_path.iterdir()] == ["out.nc"]


def test_default_output_goes_to_working_folder(tmp_path: Path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    model = Path(shutil.copy(EXAMPLE, folder))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["run", str(model)])
    assert result.exit_code == 0, result.output
    assert (work / "two_loops.nc").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["two_loops.inp"]


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "no such file"),
        ("", "the file is empty"),
        ("not a model\n", "no [SECTION] headers"),
        (
            "[TITLE]\nx\n[JUNCTIONS]\nJ1 10\n[PIPES]\nP1 J1 J9 100 100 100\n[END]\n",
            "undefined node J9",
        ),
    ],
)
def test_bad_input_fails_in_plain_words_without_output(tmp_path: Path, content, words):
    model = tmp_path / "m.inp"
    if content is not None:
        model.write_text(content)
    out = tmp_path / "out.nc"
    result = runner.invoke(app, ["run", str(model), "-o", str(out)])
    assert result.exit_code != 0
    assert words in result.output
    assert "Traceback" not in result.output
    assert len([ln for ln in result.output.splitlines() if ln.strip()]) <= 3
    assert not out.exists()
    assert not list(tmp_path.glob("*.part"))


def test_broken_corpus_model_exits_nonzero(corpus_file, tmp_path: Path):
    out = tmp_path / "out.nc"
    result = runner.invoke(
        app, ["run", str(corpus_file("epanet", "Net1broken.inp")), "-o", str(out)]
    )
    assert result.exit_code == 4
    assert "Error 215: duplicate ID label 2 in [RESERVOIRS] section (line 23" in result.output
    assert not out.exists()


def test_console_script_is_installed(tmp_path: Path):
    """The real entry point, in a subprocess: exit codes reach the shell."""
    exe = shutil.which("hydro") or str(Path(sys.executable).parent / "hydro")
    done = subprocess.run(
        [exe, "run", str(tmp_path / "missing.inp")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "missing.inp: no such file" in done.stderr
