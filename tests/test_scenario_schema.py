"""Scenario files: durations, includes, and errors that name the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field

from hydro.errors import ScenarioError
from hydro.scenario.loader import read_toml, validate
from hydro.scenario.schema import Duration, Strict, parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [
        (3600, 3600),
        (90.0, 90),
        ("90s", 90),
        ("30min", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30min", 5400),
        ("1 h 30 min", 5400),
        ("06:00", 21600),
        ("26:30:15", 95415),
        ("45", 45),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-1h", -5, "1.5s", True, "2 weeks", [1]])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


class Outage(Strict):
    type: Literal["outage"] = "outage"
    source: str
    start: Duration = 0


class Growth(Strict):
    type: Literal["growth"] = "growth"
    factor: float = Field(gt=0)


class Times(Strict):
    duration: Duration = 86400


class Demo(Strict):
    network: str
    time: Times = Times()
    operations: list[Annotated[Outage | Growth, Field(discriminator="type")]] = []


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_include_merges_fragments_first(tmp_path: Path):
    (tmp_path / "common").mkdir()
    write(
        tmp_path / "common",
        "base.toml",
        'network = "../net.inp"\n[time]\nduration = "48h"\n'
        '[[operations]]\ntype = "growth"\nfactor = 1.2\n',
    )
    path = write(
        tmp_path,
        "s.toml",
        'include = ["common/base.toml"]\n[time]\nduration = "72h"\n'
        '[[operations]]\ntype = "outage"\nsource = "qingyi"\nstart = "6h"\n',
    )
    scenario = validate(Demo, read_toml(path), path)
    assert scenario.time.duration == 72 * 3600
    assert [op.type for op in scenario.operations] == ["growth", "outage"]
    assert scenario.operations[1].start == 6 * 3600
    assert Path(scenario.network) == (tmp_path / "net.inp").resolve()


@pytest.mark.parametrize(
    "body, words",
    [
        ('network = "n.inp"\nnetwrok = 1\n', "netwrok: unknown key; did you mean 'network'?"),
        (
            'network = "n.inp"\n[[operations]]\ntype = "outage"\nsourse = "x"\n',
            "operations[0].sourse: unknown key; did you mean 'source'?",
        ),
        (
            'network = "n.inp"\n[[operations]]\ntype = "outtage"\nsource = "x"\n',
            "operations[0].type: unknown operation 'outtage'; did you mean 'outage'?",
        ),
        (
            'network = "n.inp"\n[[operations]]\ntype = "growth"\nfactor = -1\n',
            "operations[0].factor: Input should be greater than 0 (got -1)",
        ),
        ('network = "n.inp"\n[time]\nduration = "soon"\n', "time.duration: cannot read 'soon'"),
        ("[time]\nduration = 5\n", "network: required key is missing"),
        ('network = "n.inp"\n[[operations]]\nsource = "x"\n', "every operation needs a 'type' key"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, body: str, words: str):
    path = write(tmp_path, "bad.toml", body)
    with pytest.raises(ScenarioError) as err:
        validate(Demo, read_toml(path), path)
    assert str(err.value).startswith(f"{path}: ")
    assert words in str(err.value)


def test_bad_toml_and_missing_files(tmp_path: Path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        read_toml(tmp_path / "none.toml")
    path = write(tmp_path, "broken.toml", "network = \n")
    with pytest.raises(ScenarioError, match=r"broken.toml: not valid TOML"):
        read_toml(path)
    loop = write(tmp_path, "loop.toml", 'include = "loop.toml"\n')
    with pytest.raises(ScenarioError, match="includes itself"):
        read_toml(loop)
