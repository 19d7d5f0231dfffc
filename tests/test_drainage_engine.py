"""The SWMM adapter on small hand-made models: Dataset shape, SI units, ponding against SWMM's
own report, progress, encodings, and clean failures."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from hydro.drainage import read_inp, run
from hydro.drainage.inp import SwmmInput
from hydro.drainage.swmm import engine
from hydro.errors import EngineError, HydroError, InputError
from hydro.results import read_netcdf, write_netcdf

DATA = Path(__file__).parent / "data" / "swmm"
TINY = DATA / "tiny.inp"
NODE_VARS = (
    "water_depth",
    "hydraulic_head",
    "node_volume",
    "ponded_volume",
    "lateral_inflow",
    "total_inflow",
    "flooding_rate",
)
LINK_VARS = ("flow", "flow_depth", "velocity", "link_volume", "capacity_fraction")


@pytest.fixture(scope="module")
def tiny():
    return run(TINY, scenario="storm")


def _copy(tmp_path: Path, source: Path = TINY, name: str | None = None) -> Path:
    target = tmp_path / (name or source.name)
    target.write_bytes(source.read_bytes())
    return target


def test_dims_coords_and_attrs(tiny):
    ds = tiny
    assert dict(ds.sizes) == {
        "scenario": 1,
        "time": 1080,
        "node": 3,
        "link": 2,
        "subcatchment": 1,
        "gauge": 1,
        "budget_term": 14,
    }
    assert list(ds.scenario.values) == ["storm"]
    assert ds.time.dtype == "timedelta64[ns]"
    step = np.timedelta64(10, "s")
    assert ds.time.values[0] == step and np.all(np.diff(ds.time.values) == step)
    assert ds.time.values[-1] == np.timedelta64(3, "h")
    # [REPORT] names no element, yet every element is there
    assert list(ds.node.values) == ["J1", "J2", "O1"]
    assert list(ds.node_type.values) == ["junction", "junction", "outfall"]
    assert list(ds.link.values) == ["C1", "C2"]
    assert list(ds.from_node.values) == ["J1", "J2"] and list(ds.to_node.values) == ["J2", "O1"]
    assert list(ds.link_type.values) == ["conduit", "conduit"]
    assert ds.outlet.values.tolist() == ["J1"] and ds.rain_gauge.values.tolist() == ["RG1"]
    assert ds.area.values.tolist() == [pytest.approx(5e4)]  # 5 ha
    assert ds.imperviousness.values.tolist() == [0.8]
    assert ds.ponded_area.sel(node="J1") == 200.0
    assert ds.invert_elevation.values.tolist() == [10.0, 9.5, 9.0]
    assert ds.x.sel(node="O1") == 200.0
    for name in ("x", "y"):
        assert ds[name].dtype == np.float64
    attrs = ds.attrs
    assert attrs["engine"] == "SWMM" and attrs["engine_version"] == "5.2.4"
    assert attrs["network_file"] == "tiny.inp" and len(attrs["network_sha256"]) == 64
    assert attrs["start_datetime"] == "2024-06-01T00:00:00"
    assert attrs["flow_units"] == "CMS" and attrs["flow_routing"] == "DYNWAVE"
    assert attrs["allow_ponding"] == 1
    assert isinstance(attrs["flow_routing_continuity_error"], float)
    assert abs(attrs["flow_routing_continuity_error"]) < 5
    assert "WARNING 9" in attrs["engine_warnings"]


def test_time_is_elapsed_since_start_even_when_reporting_starts_later():
    inp = read_inp(TINY).with_options({"REPORT_START_TIME": "01:00:00", "REPORT_STEP": "00:05:00"})
    time = run(inp).time.values
    assert time[0] == np.timedelta64(1, "h") and time[-1] == np.timedelta64(3, "h")
    assert len(time) == 25 and np.all(np.diff(time) == np.timedelta64(5, "m"))


def test_variables_registered_with_units_and_no_nan(tiny):
    for name in (*NODE_VARS, *LINK_VARS, "rainfall", "runoff", "rain_intensity"):
        var = tiny[name]
        assert var.dims[:2] == ("scenario", "time")
        assert var.dtype == np.float32
        assert "units" in var.attrs
        assert not np.isnan(var.values).any(), name
    assert tiny.water_depth.attrs["units"] == "m"
    assert tiny.flow.attrs["units"] == "m3 s-1"
    assert tiny.rainfall.attrs["units"] == "m s-1"


def test_rainfall_is_si_and_matches_the_time_series(tiny):
    rain = tiny.rain_intensity.isel(scenario=0).sel(gauge="RG1")
    # peak 120 mm/h at 01:00 -> m/s
    assert float(rain.max()) == pytest.approx(120e-3 / 3600, rel=1e-6)
    assert np.array_equal(rain.values, tiny.rainfall.isel(scenario=0, subcatchment=0).values)


def test_head_is_invert_plus_depth(tiny):
    ds = tiny.isel(scenario=0)
    np.testing.assert_allclose(ds.hydraulic_head, ds.water_depth + ds.invert_elevation, atol=1e-5)


def test_ponding_matches_the_engine_report(tiny):
    """Dynamic wave: SWMM reports the max ponded depth above full depth; report step = routing
    step, so the reported maximum is one of the saved states."""
    ds = tiny.isel(scenario=0)
    j1 = ds.sel(node="J1")
    assert float(j1.engine_flood_volume) > 100.0  # the small pipe really floods
    ponded_depth = float((j1.water_depth - j1.full_depth).max())
    assert ponded_depth == pytest.approx(float(j1.engine_max_ponded_depth), abs=0.0006)
    assert float(j1.ponded_volume.max()) > 0.0
    # J2 has no ponded area, the outfall never ponds
    assert float(ds.ponded_volume.sel(node=["J2", "O1"]).max()) == 0.0
    # flood volume: the engine sums overflow x step at routing steps, as do we here
    volume = float(j1.flooding_rate.sum()) * 10.0
    assert volume == pytest.approx(float(j1.engine_flood_volume), rel=0.01)
    assert float(j1.flooding_rate.max()) == pytest.approx(
        float(j1.engine_max_flooding_rate), abs=0.0005 + 1e-6
    )
    # nodes missing from the flooding table are NaN
    assert np.isnan(ds.engine_flood_volume.sel(node="J2"))


def test_kinematic_wave_ponded_volume_matches_the_engine_report():
    inp = read_inp(TINY).with_options({"FLOW_ROUTING": "KINWAVE"})
    ds = run(inp).isel(scenario=0)
    j1 = ds.sel(node="J1")
    reported = float(j1.engine_max_ponded_volume)
    assert reported > 10.0
    # printed in 1000 m3 with 3 decimals
    assert float(j1.ponded_volume.max()) == pytest.approx(reported, abs=0.5 + 1e-5 * reported)
    assert np.isnan(j1.engine_max_ponded_depth)


def test_without_ponding_nothing_ponds():
    ds = run(read_inp(TINY).with_options({"ALLOW_PONDING": "NO"}))
    assert ds.attrs["allow_ponding"] == 0
    assert float(ds.ponded_volume.max()) == 0.0
    assert float(ds.flooding_rate.max()) > 0.1


@pytest.mark.parametrize("units, rtol", [("LPS", 2e-4), ("MLD", 2e-4)])
def test_results_do_not_depend_on_si_flow_units(tiny, units, rtol):
    """The tiny model has no flow values in its input, so CMS, LPS and MLD runs are the same
    hydraulics; SWMM's own factors (0.02832 vs 28.317 per cfs) differ by 1e-4."""
    other = run(read_inp(TINY).with_options({"FLOW_UNITS": units}))
    assert other.attrs["flow_units"] == units
    for name in ("flow", "flooding_rate", "runoff", "water_depth"):
        a, b = tiny[name].values, other[name].values
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-6 * float(np.abs(a).max()))


def test_netcdf_round_trip_is_identical(tiny, tmp_path):
    path = write_netcdf(tiny, tmp_path / "tiny.nc")
    back = read_netcdf(path)
    assert back.identical(tiny)


def test_nothing_is_written_beside_the_input(tmp_path):
    model = _copy(tmp_path)
    before = sorted(os.listdir(tmp_path))
    run(model)
    assert sorted(os.listdir(tmp_path)) == before


def test_in_memory_model_runs_and_hashes_what_ran(tiny):
    inp = read_inp(TINY)
    edited = inp.replace_rows("JUNCTIONS", {"J1": ["J1", 10.0, 1.5, 0, 0, 400]})
    ds = run(edited)
    assert ds.attrs["network_source"] == str(TINY)
    assert ds.attrs["network_sha256"] != tiny.attrs["network_sha256"]
    assert float(ds.ponded_area.sel(node="J1")) == 400.0
    built = SwmmInput.from_text(TINY.read_text())
    assert run(built).attrs["network_file"] == "model.inp"


def test_progress_reports_fractions_up_to_one(tiny):
    seen: list[float] = []
    ds = run(TINY, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert 50 <= len(seen) <= 110
    # stepping for progress gives exactly what a single stride gives
    assert np.array_equal(ds.flow.values, tiny.flow.values)


def test_a_failing_progress_callback_leaves_the_engine_usable(tmp_path):
    def stop(fraction: float) -> None:
        if fraction > 0.5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(_copy(tmp_path), progress=stop)
    assert sorted(os.listdir(tmp_path)) == ["tiny.inp"]
    assert run(TINY).sizes["time"] == 1080


def test_relative_rain_file_is_read_from_the_model_folder(tmp_path):
    text = TINY.read_text().replace("TIMESERIES  storm", "FILE  rain.dat  RG1  MM")
    model = tmp_path / "model.inp"
    model.write_text(text)
    (tmp_path / "rain.dat").write_text("RG1 2024 6 1 0 30 60\nRG1 2024 6 1 1 0 120\n")
    ds = run(model)
    assert float(ds.rainfall.max()) == pytest.approx(120e-3 / 3600, rel=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["model.inp", "rain.dat"]


def test_engine_text_keeps_line_numbers_and_appends_the_run_settings(tmp_path):
    model = tmp_path / "model.inp"
    model.write_text(
        TINY.read_text()
        .replace(
            "[REPORT]", '[FILES]\nSAVE OUTFLOWS "out flows.txt"\nUSE RAINFALL rain.bin\n\n[REPORT]'
        )
        .replace("TIMESERIES  storm", "FILE  data/rain.dat  RG1  MM")
    )
    inp = read_inp(model)
    text = engine.engine_text(inp)
    lines, original = text.splitlines(), inp.text().splitlines()
    assert len(lines) == len(original) + 8
    changed = [(a, b) for a, b in zip(original, lines, strict=False) if a != b]
    assert changed == [  # files read come from the model's folder; saved files stay in the temp
        (
            "RG1     INTENSITY  0:05      1.0  FILE  data/rain.dat  RG1  MM",
            f"RG1  INTENSITY  0:05  1.0  FILE  {tmp_path / 'data' / 'rain.dat'}  RG1  MM",
        ),
        ("USE RAINFALL rain.bin", f"USE  RAINFALL  {tmp_path / 'rain.bin'}"),
    ]
    assert lines[-6:] == [
        "[OPTIONS]",
        "THREADS 1",
        "[REPORT]",
        "SUBCATCHMENTS ALL",
        "NODES ALL",
        "LINKS ALL",
    ]


def test_report_holds_summaries_but_no_time_series(monkeypatch):
    seen = {}
    original = engine.read_report

    def spy(path):
        seen["text"] = Path(path).read_text(encoding="utf-8", errors="replace")
        return original(path)

    monkeypatch.setattr(engine, "read_report", spy)
    run(TINY)
    assert "Node Flooding Summary" in seen["text"]
    assert "<<<" not in seen["text"] and "Time Series Results" not in seen["text"]
    assert len(seen["text"]) < 20_000


# --- failures ---------------------------------------------------------------------------------


def _message(excinfo) -> str:
    text = str(excinfo.value)
    assert "Traceback" not in text
    assert len(text.splitlines()) <= 2, text
    return text


def test_undefined_node_names_file_code_words_and_line(tmp_path):
    model = _copy(tmp_path, DATA / "undefined_node.inp")
    with pytest.raises(InputError) as excinfo:
        run(model)
    text = _message(excinfo)
    assert text.startswith(
        f"{model}: SWMM ERROR 209: undefined object N99 at line 50 of [CONDUITS] section"
    )
    assert "the line reads: C2 J2 N99 100" in text
    assert sorted(os.listdir(tmp_path)) == ["undefined_node.inp"]


def test_missing_rain_file_is_an_input_error_naming_it(tmp_path):
    model = tmp_path / "model.inp"
    model.write_text(TINY.read_text().replace("TIMESERIES  storm", "FILE  nowhere.dat  RG1  MM"))
    with pytest.raises(InputError) as excinfo:
        run(model)
    text = _message(excinfo)
    assert "SWMM ERROR 317: cannot open rainfall data file" in text
    assert str(tmp_path / "nowhere.dat") in text
    assert sorted(os.listdir(tmp_path)) == ["model.inp"]


def test_invalid_value_is_reported_with_its_line(tmp_path):
    model = tmp_path / "model.inp"
    model.write_text(TINY.read_text().replace("C1      CIRCULAR  0.3", "C1      CIRCULAR  abc"))
    with pytest.raises(InputError) as excinfo:
        run(model)
    text = _message(excinfo)
    assert "SWMM ERROR 211: invalid number abc at line" in text
    assert "of [XSECTIONS] section" in text  # the file's own header, not SWMM's [XSECT]


def test_bad_files_fail_before_the_engine(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        run(tmp_path / "missing.inp")
    empty = tmp_path / "empty.inp"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        run(empty)
    assert sorted(os.listdir(tmp_path)) == ["empty.inp"]


def test_engine_errors_are_hydro_errors():
    assert issubclass(EngineError, HydroError) and issubclass(InputError, HydroError)


def test_gbk_model_with_chinese_ids_runs_and_keeps_them(tiny, tmp_path):
    names = {
        "J1": "雨水井1",
        "J2": "雨水井2",
        "O1": "出水口",
        "C1": "管道1",
        "S1": "汇水区",
        "RG1": "雨量站",
    }
    text = TINY.read_text()
    for old, new in names.items():
        text = text.replace(old, new)
    model = tmp_path / "宣城.inp"
    model.write_bytes(text.encode("gbk"))
    ds = run(model)
    assert ds.attrs["network_encoding"] == "gb18030"
    assert list(ds.node.values) == ["雨水井1", "雨水井2", "出水口"]
    assert list(ds.link.values) == ["管道1", "C2"]
    assert list(ds.gauge.values) == ["雨量站"] and list(ds.outlet.values) == ["雨水井1"]
    assert list(ds.from_node.values) == ["雨水井1", "雨水井2"]
    assert np.array_equal(ds.flow.values, tiny.flow.values)
    assert not np.isnan(ds.engine_flood_volume.sel(node="雨水井1"))
    assert sorted(os.listdir(tmp_path)) == ["宣城.inp"]
