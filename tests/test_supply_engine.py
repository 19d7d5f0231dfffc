"""The EPANET adapter: every corpus model runs, in SI units, matching EPANET's own output file."""

from __future__ import annotations

import ctypes
import shutil
from pathlib import Path

import numpy as np
import pytest
import wntr

from hydro.errors import EngineError, InputError
from hydro.results import read_netcdf, write_netcdf
from hydro.supply import run
from hydro.supply.epanet import EpanetProject, LinkProperty, QualityType, library
from tests.conftest import corpus_params

SMALL = """[TITLE]
two loops

[JUNCTIONS]
;ID  Elev  Demand  Pattern
J1   20    10      P1
J2   15    15      P1
J3   10    20      P1

[RESERVOIRS]
R1   60

[TANKS]
;ID Elev InitLvl MinLvl MaxLvl Diam MinVol
T1  50   3       1      6      15   0

[PIPES]
;ID  N1  N2  Length  Diam  Rough  Minor Status
P1   R1  J1  1000    300   120    0     Open
P2   J1  J2  800     200   120    0     Open
P3   J2  J3  600     150   120    0     Open
P4   J1  J3  900     150   120    0     Open
P5   J3  T1  500     150   120    0     Open

[PATTERNS]
P1  0.5 0.8 1.2 1.5 1.0 0.7

[TIMES]
Duration 12:00
Hydraulic Timestep 1:00
Pattern Timestep 2:00
Report Timestep 1:00

[OPTIONS]
Units LPS
Headloss H-W
Quality Age

[COORDINATES]
J1 0 0
J2 100 0
J3 100 100

[END]
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "model" / "small.inp"
    path.parent.mkdir()
    path.write_text(SMALL)
    return path


def engine_binary_output(inp: Path, folder: Path):
    """EPANET's own run of the file (EN_runproject), read back by WNTR's binary reader in SI."""
    lib = library()
    handle = ctypes.c_void_p()
    lib.EN_createproject(ctypes.byref(handle))
    code = lib.EN_runproject(
        handle,
        str(inp).encode(),
        str(folder / "x.rpt").encode(),
        str(folder / "x.bin").encode(),
        None,
    )
    lib.EN_deleteproject(handle)
    assert code < 100, f"EPANET failed on {inp}: {code}"
    return wntr.epanet.io.BinFile().read(str(folder / "x.bin"))


@pytest.mark.parametrize("inp", corpus_params("epanet", exclude=("Net1broken.inp",)))
def test_corpus_model_runs_to_dataset(inp: Path, tmp_path: Path):
    copy = tmp_path / inp.name
    shutil.copy(inp, copy)
    before = sorted(p.name for p in tmp_path.iterdir())
    ds = run(copy)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "the engine wrote beside the input"
    assert ds.sizes["scenario"] == 1
    assert ds.sizes["node"] == (ds["node_type"] != "").sum()
    for name in ("pressure_head", "hydraulic_head", "demand", "flow", "velocity", "headloss"):
        assert ds[name].attrs["units"], name
    if ds.attrs["converged"]:
        assert np.isfinite(ds["hydraulic_head"].values).all()
        assert np.isfinite(ds["flow"].values).all()
    else:
        assert ds.attrs["engine_warnings"], "a run that did not converge must say where"


@pytest.mark.parametrize("name", ["ky8.inp", "L-TOWN.inp", "Balerma.inp", "MICROPOLIS_v1.inp"])
def test_values_match_epanet_binary_output(name: str, corpus_file, tmp_path: Path):
    """Units: GPM (ky8, MICROPOLIS), CMH (L-TOWN), LPS (Balerma) all come out in SI."""
    inp = corpus_file("epanet", name)
    ds = run(inp)
    ref = engine_binary_output(inp, tmp_path)
    nodes = list(ds["node"].values)
    links = list(ds["link"].values)
    for ours, theirs, rtol in (
        ("hydraulic_head", ref.node["head"], 1e-5),
        ("demand", ref.node["demand"], 1e-4),
        ("flow", ref.link["flowrate"], 1e-4),
        ("velocity", ref.link["velocity"].abs(), 1e-4),
    ):
        columns = nodes if ours in ("hydraulic_head", "demand") else links
        expected = theirs[columns].to_numpy()
        got = ds[ours].values[0]
        assert got.shape == expected.shape, ours
        scale = max(np.abs(expected).max(), 1e-9)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale, err_msg=ours)


def test_water_age_in_seconds_matches_engine(small: Path, tmp_path: Path):
    ds = run(small)
    ref = engine_binary_output(small, tmp_path)
    expected = ref.node["quality"][list(ds["node"].values)].to_numpy()
    np.testing.assert_allclose(ds["water_age"].values[0], expected, rtol=1e-4, atol=1.0)
    assert ds["water_age"].attrs["units"] == "s"
    assert float(ds["water_age"].max()) > 3600  # some water is hours old after 12 h


def test_small_model_dataset_contents(small: Path):
    ds = run(small, scenario="demo")
    assert list(ds["scenario"].values) == ["demo"]
    assert ds.sizes["time"] == 13
    assert list(ds["tank"].values) == ["T1"]
    # LPS in the INP, m3/s in the Dataset: reservoir supplies the total demand (45 L/s * pattern).
    supplied = -ds["demand"].sel(node="R1").values[0]
    to_tank = ds["flow"].sel(link="P5").values[0]
    delivered = ds["demand"].sel(node=["J1", "J2", "J3"]).sum("node").values[0]
    np.testing.assert_allclose(supplied, delivered + to_tank, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(delivered[0], 0.045 * 0.5, rtol=1e-5)
    # Pressure head is head above ground; head loss is head at start minus head at end.
    np.testing.assert_allclose(
        ds["pressure_head"].sel(node="J1").values,
        ds["hydraulic_head"].sel(node="J1").values - 20,
        atol=1e-4,
    )
    p2 = ds["headloss"].sel(link="P2").values
    np.testing.assert_allclose(
        p2,
        (ds["hydraulic_head"].sel(node="J1") - ds["hydraulic_head"].sel(node="J2")).values,
        atol=1e-4,
    )
    # Tank level moves and stays within the tank.
    level = ds["tank_level"].sel(tank="T1").values[0]
    assert level.min() >= 1 - 1e-6 and level.max() <= 6 + 1e-6 and np.ptp(level) > 0.01
    assert ds["diameter"].sel(link="P1").item() == pytest.approx(0.3)
    assert ds.attrs["quality"] == "age"
    assert ds.attrs["converged"]


def test_edit_closing_a_pipe_stops_its_flow(small: Path):
    def close_p4(project: EpanetProject) -> None:
        project.set_link_value(project.link_index["P4"], LinkProperty.INITSTATUS, 0)

    base = run(small)
    edited = run(small, edits=[close_p4])
    assert np.abs(base["flow"].sel(link="P4").values).max() > 1e-4
    assert np.abs(edited["flow"].sel(link="P4").values).max() == 0
    assert (edited["status"].sel(link="P4").values == 0).all()
    assert float(edited["pressure_head"].sel(node="J3").min()) < float(
        base["pressure_head"].sel(node="J3").min()
    )


def test_quality_can_be_switched_off_by_an_edit(small: Path):
    ds = run(small, edits=[lambda p: p.set_quality(QualityType.NONE)])
    assert "water_age" not in ds


def test_netcdf_round_trip_is_lossless(small: Path, tmp_path: Path):
    ds = run(small)
    out = write_netcdf(ds, tmp_path / "out.nc")
    back = read_netcdf(out)
    assert back.identical(ds)


def test_gbk_encoded_model_with_chinese_ids(tmp_path: Path):
    text = SMALL.replace("J1", "宣城一号").replace("R1", "水阳江").replace("T1", "敬亭水塔")
    path = tmp_path / "gbk.inp"
    path.write_bytes(text.encode("gbk"))
    ds = run(path)
    assert {"宣城一号", "水阳江"} <= set(ds["node"].values)
    assert list(ds["tank"].values) == ["敬亭水塔"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gbk.inp"]


def test_broken_corpus_model_names_the_lines(corpus_file):
    with pytest.raises(EngineError) as err:
        run(corpus_file("epanet", "Net1broken.inp"))
    message = str(err.value)
    assert "Net1broken.inp" in message
    assert "Error 215: duplicate ID label 2 in [RESERVOIRS] section (line 23" in message
    assert "[TANKS]" in message


def test_undefined_node_is_reported_with_its_line(tmp_path: Path):
    path = tmp_path / "bad.inp"
    path.write_text(SMALL.replace("P3   J2  J3", "P3   J2  J99"))
    with pytest.raises(
        EngineError,
        match=r"bad.inp: .*Error 203: undefined node J99 in \[PIPES\] section \(line 21",
    ):
        run(path)


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "no such file"),
        (b"", "the file is empty"),
        (b"\x00\x01binary\x00", "binary file"),
        (b"just some text\nno sections\n", "no [SECTION] headers"),
    ],
)
def test_unreadable_inputs(tmp_path: Path, content, words):
    path = tmp_path / "m.inp"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as err:
        run(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_halted_run_is_flagged_with_where(corpus_file):
    """EPANET 2.3 halts Richmond at 1:43:51 (UNBALANCED STOP): the result says so and ends there."""
    ds = run(corpus_file("epanet", "Richmond_standard.inp"))
    assert not ds.attrs["converged"]
    assert "halted the run at 1:43:51" in ds.attrs["engine_warnings"]
    assert "disconnected" in ds.attrs["engine_warnings"]
    assert ds.sizes["time"] == 2
    assert np.isfinite(ds["hydraulic_head"].values).all()


def test_quality_run_with_a_duration_off_the_report_step(small: Path):
    """EN_runQ reports the quality clock; the loop must not take it for the hydraulic one."""
    from hydro.supply.epanet import TimeParameter

    ds = run(small, edits=[lambda p: p.set_time(TimeParameter.DURATION, 5400)])
    assert list(ds["time"].values.astype("timedelta64[s]").astype(int)) == [0, 3600]
    assert "water_age" in ds


def test_repeated_warnings_become_one_line_each_serious_first():
    from hydro.supply.run import summarise_warnings

    pump = "WARNING: Pump P1 closed because cannot deliver head at {} hrs."
    warnings = [pump.format(f"{h}:00:00") for h in range(30)]
    warnings += ["WARNING: System unbalanced at 12:00:00 hrs.", "WARNING 6: something else"]
    lines = summarise_warnings(warnings)
    assert lines == [
        "WARNING: System unbalanced at 12:00:00 hrs",
        "WARNING: Pump P1 closed because cannot deliver head at 0:00:00 hrs (30 times, the last "
        "at 29:00:00 hrs)",
        "WARNING 6: something else",
    ]
    many = [f"WARNING: Node N{i} disconnected at 1:00:00 hrs." for i in range(25)]
    lines = summarise_warnings(many, limit=20)
    assert len(lines) == 21 and lines[-1] == "... and 5 more kinds of warning"
