"""Drainage scenarios on a small model: the TOML schema and its errors, rainfall into a SWMM
model, the runner's Dataset (rain, provenance), and ``hydro drainage run``."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hydro.cli.drainage import app
from hydro.drainage import read_inp
from hydro.drainage.inp import SwmmInput
from hydro.drainage.rainfall import apply_rainfall, set_period
from hydro.drainage.scenario import (
    DrainageScenario,
    build_input,
    load_scenario,
    rainfall_input,
    run_scenario,
)
from hydro.errors import InputError, ScenarioError
from hydro.rain import ChineseFormula, RainSeries, chicago, read_rain_csv
from hydro.results import file_sha256, read_netcdf

DATA = Path(__file__).parent / "data" / "swmm"
STATION = DATA / "pump_station.inp"  # no rainfall.toml beside it: scenarios give a formula
FORMULA = '[rainfall.formula]\nkind = "chinese"\na = 3600.0\nc = 0.76\nb = 14.0\nn = 0.84\n'
HEFEI = ChineseFormula(a=3600.0, c=0.76, b=14.0, n=0.84)


def scenario_file(
    folder: Path, body: str, *, name: str = "s.toml", network: Path = STATION
) -> Path:
    path = folder / name
    path.write_text(f"network = {json.dumps(str(network))}\n{body}", encoding="utf-8")
    return path


def design(period: float = 5, duration: str = "1h") -> str:
    return (
        f'[time]\nrecession = "30min"\n[rainfall.design]\nreturn_period = {period}\n'
        f'duration = "{duration}"\nstep = "5min"\n{FORMULA}'
    )


def rain_csv(folder: Path, rows: list[str], header: str = "time,city,north") -> Path:
    path = folder / "rain.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def series_rows(start: str = "2024-06-01 00:00", n: int = 12, values=("1.0", "0.5")) -> list[str]:
    t0 = dt.datetime.fromisoformat(start)
    return [
        f"{t0 + dt.timedelta(minutes=5 * k):%Y-%m-%d %H:%M},{','.join(values)}" for k in range(n)
    ]


# ------------------------------------------------------------------------------------------------
# Loading


def test_load_resolves_paths_and_names(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hydro-bundle").write_text("")  # sub/s.toml may read ../rain.csv
    rain_csv(tmp_path, series_rows())
    path = scenario_file(
        tmp_path / "sub",
        '[rainfall.series]\nfile = "../rain.csv"\n'
        'gauges = { RG1 = "city" }\n[[operations]]\ntype = "initial_state"\n'
        'hotstart = "state.hsf"\n',
    )
    scenario = load_scenario(path)
    assert scenario.label == "s" and scenario.source == path
    assert scenario.rainfall.series.file == (tmp_path / "rain.csv").resolve()
    assert scenario.operations[0].hotstart == (tmp_path / "sub" / "state.hsf").resolve()
    assert scenario.time.recession == 6 * 3600


@pytest.mark.parametrize(
    "body, words",
    [
        ('[time]\nrecesion = "1h"\n', "time.recesion: unknown key; did you mean 'recession'?"),
        (
            "[rainfall.design]\nreturn_period = 0\n",
            "rainfall.design.return_period: Input should be greater than 0 (got 0)",
        ),
        (
            '[rainfall.design]\nreturn_period = 5\n[rainfall.series]\nfile = "r.csv"\n',
            "rainfall: give either [rainfall.design] or [rainfall.series]",
        ),
        (
            '[rainfall.series]\nfile = "r.csv"\n' + FORMULA,
            "[rainfall.formula] is used by design storms only",
        ),
        (
            '[[operations]]\ntype = "pump_outtage"\nstation = "P1"\n',
            "operations[0].type: unknown operation 'pump_outtage'; did you mean 'pump_outage'?",
        ),
        (
            '[[operations]]\ntype = "pump_outage"\nstaton = "P1"\n',
            "operations[0].staton: unknown key; did you mean 'station'",
        ),
        (
            '[[operations]]\ntype = "blockage"\nconduits = ["C1"]\nfraction = 1.5\n',
            "operations[0].fraction: Input should be less than 1 (got 1.5)",
        ),
        (
            '[[operations]]\ntype = "pump_capacity"\nstation = "P1"\nfraction = 0.5\nstart = "2h"\n'
            'end = "1h"\n',
            "operations[0]: end (1:00:00) must come after start (2:00:00)",
        ),
        (
            '[rainfall.design]\nreturn_period = 5\n[rainfall.formula]\nkind = "chinese"\na = 3600.0\n'
            "c = -0.5\nb = 14.0\nn = 0.84\n",
            "c: Input should be greater than or equal to 0",
        ),
    ],
)
def test_schema_errors_name_the_file_and_key(tmp_path, body, words):
    path = scenario_file(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}: ") and words in str(err.value)


def test_missing_network(tmp_path):
    path = scenario_file(tmp_path, "", network=tmp_path / "none.inp")
    with pytest.raises(ScenarioError, match="network: no such model file"):
        load_scenario(path)


@pytest.mark.parametrize(
    "body, error, words",
    [
        (
            design() + '[[operations]]\ntype = "pump_outage"\nstation = "station_b"\n',
            ScenarioError,
            "operations[0] (pump_outage): unknown pump station or pump 'station_b': did you mean "
            "'station_a'?",
        ),
        (
            design()
            + '[[operations]]\ntype = "blockage"\nconduits = ["C1", "C11"]\nfraction = 0.3\n',
            ScenarioError,
            "operations[0] (blockage): unknown conduit 'C11': did you mean 'C1'",
        ),
        (
            design() + '[[operations]]\ntype = "imperviousness"\nsubcatchments = ["S11"]\n'
            "factor = 0.5\n",
            ScenarioError,
            "operations[0] (imperviousness): unknown subcatchment 'S11': did you mean 'S1'",
        ),
        (
            design() + '[[operations]]\ntype = "river_stage"\noutfalls = ["OF1"]\nstage = 2.5\n',
            ScenarioError,
            "operations[0] (river_stage): river stage 2.5 m is below the invert of "
            "outfall 'OF1' (10.900 m)",
        ),
        (
            "[rainfall.design]\nreturn_period = 5\n",
            ScenarioError,
            "rainfall: design: no storm intensity formula; add a [rainfall.formula] table or a "
            "rainfall.toml beside pump_station.inp",
        ),
        (design(period=0.01), ScenarioError, "return period P = 0.01 years gives 1 + C·lg P <= 0"),
        (design(duration="7min"), ScenarioError, "duration = 7 min; expected 10 min to 72 h"),
        (design() + "[rainfall.design.gauges]\n", ScenarioError, "design.gauges"),
    ],
)
def test_build_errors_name_the_scenario_and_operation(tmp_path, body, error, words):
    path = scenario_file(tmp_path, body)
    with pytest.raises(error) as err:
        build_input(load_scenario(path))
    assert str(err.value).startswith(f"{path}: ") and words in str(err.value)


# ------------------------------------------------------------------------------------------------
# Rainfall into a SWMM model


def test_design_storm_on_every_gauge():
    inp = read_inp(STATION)
    storm = chicago(HEFEI, return_period=5, duration=3600, step=300)
    out = apply_rainfall(inp, storm, recession="30min")
    gauge = out.rows("RAINGAGES")[0]
    assert gauge[:5] == ["RG1", "INTENSITY", "0:05:00", "1.0", "TIMESERIES"]
    series = [t for t in out.rows("TIMESERIES") if t[0] == gauge[5]]
    assert len(series) == 13 and series[-1][1:] == ["06/01/2024", "01:00:00", "0"]
    values = np.array([float(t[3]) for t in series[:-1]])
    assert np.allclose(values, storm.to_mm_per_hour(), rtol=1e-5)  # mm/h: a CMS model
    assert (out.start_datetime, out.end_datetime) == (
        dt.datetime(2024, 6, 1),
        dt.datetime(2024, 6, 1, 1, 30),
    )
    assert out.report_start_datetime == out.start_datetime


def test_design_storm_in_a_us_model_is_in_inches_per_hour(corpus_file):
    inp = read_inp(corpus_file("swmm", "Example1.inp"))
    storm = chicago(HEFEI, return_period=2, duration=3600, step=600)
    out = apply_rainfall(inp, storm, start="2010-05-01 06:00", recession=3600)
    name = out.rows("RAINGAGES")[0][5]
    first = next(t for t in out.rows("TIMESERIES") if t[0] == name)
    assert first[1:3] == ["05/01/2010", "06:00:00"]
    assert float(first[3]) == pytest.approx(storm.to_mm_per_hour()[0] / 25.4, rel=1e-5)
    assert out.end_datetime == dt.datetime(2010, 5, 1, 8, 0)


def test_series_with_a_gauge_mapping_and_a_window(tmp_path):
    series = read_rain_csv(rain_csv(tmp_path, series_rows(n=24)))
    out = apply_rainfall(
        read_inp(STATION),
        series,
        gauge={"RG1": "north"},
        start="2024-06-01 00:30",
        end="2024-06-01 01:30",
    )
    name = out.rows("RAINGAGES")[0][5]
    rows = [t for t in out.rows("TIMESERIES") if t[0] == name]
    assert name == "RAIN_north" and rows[0][2] == "00:30:00" and len(rows) == 13
    assert float(rows[0][3]) == pytest.approx(0.5 * 12)  # 0.5 mm per 5 min = 6 mm/h
    assert out.end_datetime == dt.datetime(2024, 6, 1, 1, 30)


def test_model_without_gauges_gets_one():
    text = STATION.read_text()
    inp = SwmmInput.from_text(re.sub(r"\[RAINGAGES\][^\[]*", "", text))
    out = apply_rainfall(inp, chicago(HEFEI, return_period=2, duration=1800, step=300))
    assert out.rows("RAINGAGES")[0][0] == "RAIN"
    assert {t[1] for t in out.rows("SUBCATCHMENTS")} == {"RAIN"}


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"gauge": "RG2"}, "unknown rain gauge 'RG2': did you mean 'RG1'?"),
        ({"gauge": {"RG1": "south"}}, "no rain gauge 'south' in the series"),
        ({}, "say which one feeds model gauge 'RG1'"),
        ({"gauge": "RG1", "start": "2024-05-31 23:00"}, "rainfall covers 2024-06-01 00:00:00 to"),
        ({"gauge": "RG1", "end": "2024-06-01 03:00"}, "expected rainfall for the whole simulation"),
        (
            {"gauge": "RG1", "start": "2024-06-01 01:00", "end": "2024-06-01 00:30"},
            "ends (2024-06-01 00:30:00) before it starts",
        ),
    ],
)
def test_rain_series_errors(tmp_path, kwargs, words):
    series = read_rain_csv(rain_csv(tmp_path, series_rows(n=12)))
    kwargs = {"gauge": None, **kwargs}
    if kwargs["gauge"] == "RG1":
        kwargs["gauge"] = {"RG1": "city"}
    with pytest.raises(ScenarioError, match=re.escape(words)):
        apply_rainfall(read_inp(STATION), series, **kwargs)


def test_negative_or_missing_rain_is_refused(tmp_path):
    for cells, words in (
        (("1.0", "-0.5"), "rainfall -0.5 is negative"),
        (("1.0", ""), "has missing values"),
    ):
        path = rain_csv(tmp_path, series_rows(n=3) + series_rows("2024-06-01 00:15", 1, cells))
        with pytest.raises(InputError, match=words):
            read_rain_csv(path)
    times = np.array(["2024-06-01T00:00", "2024-06-01T00:05"], dtype="datetime64[ns]")
    bad = RainSeries(times, ("g",), np.array([[1e-6], [-1e-6]]), 300.0)
    with pytest.raises(ScenarioError, match="is negative"):
        apply_rainfall(read_inp(STATION), bad)
    nan = RainSeries(times, ("g",), np.array([[1e-6], [np.nan]]), 300.0)
    with pytest.raises(ScenarioError, match="is missing"):
        apply_rainfall(read_inp(STATION), nan)


@pytest.mark.parametrize("recession", ["soon", -60, 1.5, float("nan")])
def test_a_recession_that_is_not_a_duration_is_refused(recession):
    storm = chicago(HEFEI, return_period=2, duration=1800, step=300)
    with pytest.raises(ScenarioError, match=r"recession = .*expected a duration >= 0"):
        apply_rainfall(read_inp(STATION), storm, recession=recession)


def test_a_design_storm_longer_than_the_run_is_refused():
    storm = chicago(HEFEI, return_period=2, duration=7200, step=300)
    with pytest.raises(ScenarioError, match="before the design storm does"):
        apply_rainfall(read_inp(STATION), storm, end="2024-06-01 01:00")


def test_set_period_keeps_the_model_rain():
    out = set_period(read_inp(STATION), start="2024-06-01 00:30", duration="1h")
    assert (out.start_datetime, out.end_datetime) == (
        dt.datetime(2024, 6, 1, 0, 30),
        dt.datetime(2024, 6, 1, 1, 30),
    )
    assert out.rows("RAINGAGES") == read_inp(STATION).rows("RAINGAGES")


# ------------------------------------------------------------------------------------------------
# Running


@pytest.fixture(scope="module")
def storm_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("storm")
    body = (
        design(period=5) + '[[operations]]\ntype = "river_stage"\nriver = "river_a"\n'
        'stage = "flood"\n[[operations]]\ntype = "pump_outage"\nstation = "station_a"\n'
        'start = "20min"\nend = "50min"\n'
    )
    path = scenario_file(folder, body, name="p5_outage.toml")
    return path, run_scenario(path)


def test_run_is_labelled_with_provenance(storm_run):
    path, ds = storm_run
    assert list(ds.scenario.values) == ["p5_outage"]
    attrs = ds.attrs
    assert attrs["scenario_file"] == "p5_outage.toml"
    assert attrs["scenario_sha256"] == file_sha256(path)
    assert attrs["network_file"] == "pump_station.inp"
    assert attrs["network_sha256"] == file_sha256(STATION)
    assert attrs["run_network_sha256"] != attrs["network_sha256"]  # the edited model ran
    assert attrs["operations"].splitlines() == [
        "river stage at river river_a: flood stage",
        "pump outage of station_a: 0:20:00 to 0:50:00",
    ]
    assert attrs["rainfall"].startswith("Hyetograph(chicago, P=5 a, duration=60 min")


def test_run_carries_the_rainfall(storm_run):
    path, ds = storm_run
    storm = rainfall_input(load_scenario(path))
    assert ds.attrs["rain_depth"] == pytest.approx(storm.depth)
    rain = ds.rain_intensity.sel(gauge="RG1").values[0]
    assert rain.max() == pytest.approx(storm.intensity.max(), rel=1e-5)
    minutes = ds.time.values / np.timedelta64(60, "s")
    assert np.all(rain[minutes > 60] == 0.0)
    assert ds.time.values[-1] == np.timedelta64(90, "m")


def test_operations_took_effect(storm_run):
    _, ds = storm_run
    assert np.allclose(ds.hydraulic_head.sel(node="OF1").values, 14.0, atol=1e-3)
    minutes = ds.time.values / np.timedelta64(60, "s")
    pumps = ds.flow.sel(link=["P1", "P2"]).values[0]
    assert np.all(pumps[(minutes > 25) & (minutes < 50)] == 0.0)


def test_netcdf_round_trip(storm_run, tmp_path):
    from hydro.results import write_netcdf

    _, ds = storm_run
    back = read_netcdf(write_netcdf(ds, tmp_path / "out.nc"))
    assert back.attrs["scenario_sha256"] == ds.attrs["scenario_sha256"]
    np.testing.assert_array_equal(back.rain_intensity.values, ds.rain_intensity.values)


def test_scenario_built_in_code(tmp_path):
    scenario = DrainageScenario(network=STATION, name="dry", time={"duration": "30min"})
    ds = run_scenario(scenario)
    assert list(ds.scenario.values) == ["dry"] and "scenario_sha256" not in ds.attrs
    assert ds.attrs["rainfall"] == "the model's own rainfall"
    assert ds.time.values[-1] == np.timedelta64(30, "m")


def test_observed_series_run(tmp_path):
    rain_csv(tmp_path, series_rows(n=12, values=("3.0", "1.0")))
    path = scenario_file(
        tmp_path,
        '[time]\nrecession = "20min"\n[rainfall.series]\n'
        'file = "rain.csv"\ngauges = { RG1 = "city" }\n',
    )
    ds = run_scenario(path)
    assert ds.attrs["rain_depth"] == pytest.approx(0.036)  # 12 x 3 mm
    assert ds.time.values[-1] == np.timedelta64(80, "m")
    assert np.nanmax(ds.rain_intensity.values) == pytest.approx(36.0 / 3.6e6, rel=1e-5)


# ------------------------------------------------------------------------------------------------
# hydro drainage run / check


def test_cli_run_writes_the_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = scenario_file(tmp_path, design(period=2, duration="30min"), name="quick.toml")
    result = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "quick.nc")])
    assert result.exit_code == 0, result.output
    ds = read_netcdf(tmp_path / "quick.nc")
    assert ds.attrs["scenario_name"] == "quick" and "rain_intensity" in ds
    assert "rain depth" in result.output


def test_cli_bad_scenario_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = scenario_file(
        tmp_path,
        design() + '[[operations]]\ntype = "pump_outage"\nstation = "nowhere"\n',
        name="bad.toml",
    )
    result = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "bad.nc")])
    assert result.exit_code == ScenarioError.exit_code
    assert "unknown pump station or pump 'nowhere'" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_cli_check(tmp_path):
    path = scenario_file(
        tmp_path,
        design() + '[[operations]]\ntype = "blockage"\nconduits = ["C2"]\nfraction = 0.25\n',
    )
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "blockage of conduits C2" in result.output
