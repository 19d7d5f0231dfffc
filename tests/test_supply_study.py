"""The capacity study, the supply CLI and `hydro compare`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.errors import ScenarioError
from hydro.report.study import study_curves
from hydro.results import read_netcdf
from hydro.supply.capacity_study import capacity_study, study_table

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "networks" / "xuancheng" / "supply.inp"
runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study") / "base.toml"
    path.write_text(
        f'# Question: test base\nnetwork = "{MODEL}"\n[time]\nduration = "30h"\n'
        "[answers]\nshares = false\n"
    )
    return path


@pytest.fixture(scope="module")
def study(base):
    return capacity_study(
        base, diameters=[0.5, 1.2], outages=[[], ["shuiyang"]], workers=1, window=6 * 3600
    )


def test_bigger_main_delivers_more_and_helps_without_shuiyang(study, tmp_path: Path):
    flow = study["study_delivered_flow"].sel(level=study["level"].values[0])
    assert (flow.sel(size=1.2) > flow.sel(size=0.5) * 1.5).all()
    # What reaches the city, not the raw main refilling a full clear well: never more than the
    # whole city takes (148,400 m3/d on day 2, leakage included).
    assert float(flow.max()) * 86400 < 148_400
    compliance = study["study_compliance"].sel(level=study["level"].values[0])
    assert float(compliance.sel(outage="shuiyang", size=1.2)) > float(
        compliance.sel(outage="shuiyang", size=0.5)
    )
    assert float(compliance.sel(outage="none", size=1.2)) > float(
        compliance.sel(outage="shuiyang", size=1.2)
    )
    rows = study_table(study)
    assert len(rows) == 4 and rows[0]["diameter"] == "DN500"
    study_curves(study, tmp_path / "study.png")
    assert (tmp_path / "study.png").stat().st_size > 10_000


def test_study_refuses_unknown_sources_and_two_sweeps(base):
    with pytest.raises(ScenarioError, match="unknown source 'shuiyan'"):
        capacity_study(base, diameters=[1.0], outages=[["shuiyan"]], workers=1)
    with pytest.raises(ScenarioError, match="either diameters or flow caps"):
        capacity_study(base, diameters=[1.0], flow_caps=[1.0], workers=1)


def test_supply_run_and_compare_commands(tmp_path: Path, base):
    out_a, out_b = tmp_path / "a.nc", tmp_path / "b.nc"
    lost = tmp_path / "lost.toml"
    lost.write_text(
        f'include = "{base}"\n[time]\nduration = "12h"\n[[operations]]\n'
        'type = "source_outage"\nsource = "qingyi"\nscope = "plant"\n'
    )
    short = tmp_path / "short.toml"
    short.write_text(f'include = "{base}"\n[time]\nduration = "12h"\n')
    allow = ["--allow-path", str(base.parent)]  # the base scenario lives in another folder
    result = runner.invoke(app, ["supply", "run", str(short), "-o", str(out_a), *allow])
    assert result.exit_code == 0, result.output
    assert "city: nodes >= 28 m" in result.output
    result = runner.invoke(app, ["supply", "run", str(lost), "-o", str(out_b), *allow])
    assert result.exit_code == 0, result.output
    a, b = read_netcdf(out_a), read_netcdf(out_b)
    assert float(b["unserved_fraction"].sel(zone="devzone").values[0]) > float(
        a["unserved_fraction"].sel(zone="devzone").values[0]
    )
    result = runner.invoke(app, ["compare", str(out_a), str(out_b)])
    assert result.exit_code == 0, result.output
    assert "devzone: demand unserved" in result.output, result.output


def test_supply_run_refuses_a_bad_file_without_output(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'network = "{MODEL}"\n[[operations]]\ntype = "source_outage"\nsource = "x"\n')
    out = tmp_path / "out.nc"
    result = runner.invoke(app, ["supply", "run", str(bad), "-o", str(out)])
    assert result.exit_code == 3
    assert "bad.toml: operations[0] (source_outage): unknown source 'x'" in result.output
    assert not out.exists()


def test_compare_refuses_unrelated_files(tmp_path: Path):
    a = tmp_path / "a.nc"
    b = tmp_path / "b.nc"
    example = REPO / "networks/examples/two_loops.inp"
    renamed = tmp_path / "renamed.inp"
    text = example.read_text()
    for old, new in (
        (r"\bJ(\d)", r"K\1"),
        (r"\bR1\b", "S1"),
        (r"\bT1\b", "U1"),
        (r"\bP(\d)\b", r"Q\1"),
    ):
        text = re.sub(old, new, text)
    renamed.write_text(text)
    runner.invoke(app, ["run", str(example), "-o", str(a)])
    result = runner.invoke(app, ["run", str(renamed), "-o", str(b)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["compare", str(a), str(b)])
    assert result.exit_code != 0 and "different networks" in result.output
    assert np.isfinite(read_netcdf(a)["pressure_head"].values).all()
