"""The capacity study, the supply CLI and `hydro compare`."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.errors import ScenarioError
from hydro.report.study import main_profile, study_curves
from hydro.results import read_netcdf, write_netcdf
from hydro.supply.capacity_study import (
    Case,
    capacity_study,
    case_scenario,
    study_settings,
    study_table,
    summarise,
)
from hydro.supply.scenario import load_scenario, run_scenario

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


HOURS = 3600
SHORT = {"warmup": 6 * HOURS, "window": 6 * HOURS}  # the tests' cases: 12 h at the study's step


@pytest.fixture(scope="module")
def loaded():
    return load_scenario(REPO / "scenarios" / "supply" / "baseline_2024.toml")


@pytest.fixture(scope="module")
def sweep(loaded):
    """Shuiyang out, the raw main from DN600 to DN1200 (no upgrade runs)."""
    return capacity_study(
        loaded,
        diameters=[0.6, 0.8, 1.0, 1.2],
        outages=[["shuiyang"]],
        binding=False,
        workers=1,
        **SHORT,
    )


def test_bigger_main_never_delivers_less_without_shuiyang(sweep, tmp_path: Path):
    case = sweep.squeeze(["plant_capacity", "transmission_diameter", "aid_diameter", "level"])
    case = case.sel(outage="shuiyang")
    delivered = case["study_delivered_flow"].values
    served = case["study_served_flow"].values
    unserved = case["study_unserved_fraction"].values
    # Strictly: not even by a cubic metre a day (the 5 min step makes cases that differ only in
    # an element that does not bind agree; at EPANET's 1 h they were 0.1 % apart either way).
    assert (np.diff(delivered) * 86400 >= -1.0).all(), delivered * 86400
    assert (np.diff(served) * 86400 >= -1.0).all(), served * 86400
    assert (np.diff(unserved) <= 1e-5).all(), unserved
    # The main binds at DN600 (far less) and not beyond DN1000 (the plant's side does).
    assert delivered[1] > 2 * delivered[0]
    assert abs(delivered[3] - delivered[2]) * 86400 < 5.0
    # Never more than the plant's capacity, nor than the city asks for.
    assert delivered.max() <= float(sweep["plant_capacity"].values[0]) * 1.02
    assert (served <= case["study_demand_flow"].values).all()
    rows = study_table(sweep)
    assert [r["diameter"] for r in rows] == ["DN600", "DN800", "DN1000", "DN1200"]
    assert "binds" not in rows[0]
    out = write_netcdf(sweep, tmp_path / "study.nc")
    back = read_netcdf(out)
    assert back["study_served_flow"].dims == (
        "outage",
        "size",
        "plant_capacity",
        "transmission_diameter",
        "aid_diameter",
        "level",
    )
    np.testing.assert_allclose(back["study_served_flow"].values, sweep["study_served_flow"].values)


def test_study_plot_shares_its_axes_and_draws_demand(sweep, tmp_path: Path):
    figure = study_curves(sweep, tmp_path / "study.png")
    assert (tmp_path / "study.png").stat().st_size > 10_000
    served = figure.axes[1]
    assert any(line.get_label() == "city demand" for line in served.get_lines())
    demand = float(sweep["study_demand_flow"].mean()) * 86400
    low, high = served.get_ylim()
    assert low == 0 and high > demand  # from zero: a 0.3 % difference does not look like a V


@pytest.fixture(scope="module")
def binding(loaded):
    """DN600 without Shuiyang and without Qingyi, each element one step up."""
    return capacity_study(
        loaded,
        diameters=[0.6],
        outages=[["shuiyang"], ["qingyi"]],
        workers=1,
        warmup=6 * HOURS,
        window=3 * HOURS,  # enough to tell what binds; 10 runs, 8 of them short of water
    )


def test_the_binding_element_is_named_for_every_case(binding):
    bind = binding["study_binding"].squeeze()
    gain = binding["study_upgrade_gain"].squeeze()
    # Without Shuiyang, a DN600 main is the limit: DN800 serves far more than any other upgrade.
    assert str(bind.sel(outage="shuiyang").values) == "raw_main"
    assert float(gain.sel(outage="shuiyang", element="raw_main")) * 86400 > 20_000
    # Without Qingyi, Gangkouwan cannot reach the development zone: opening the mutual-aid
    # mains serves more, whatever the raw main.
    assert str(bind.sel(outage="qingyi").values) == "interconnection"
    assert float(gain.sel(outage="qingyi", element="raw_main")) * 86400 < 100
    rows = study_table(binding)
    assert rows[0]["binds"].startswith("raw-water main (+")
    assert rows[1]["binds"].startswith("mutual-aid mains (+")
    assert binding.attrs["runs"] == 2 + 2 * 4


def test_a_case_reruns_in_bare_epanet_with_the_same_delivery(loaded, tmp_path: Path):
    """The case's engine input, rerun by the owa-epanet toolkit alone: the same flow through
    the transmission mains, and the run's own mass balance closes."""
    en = pytest.importorskip("epanet.toolkit")
    settings = study_settings(loaded, **SHORT)
    src = loaded.assets.source("gangkouwan")
    case = Case(("shuiyang",), 0.8, src.capacity, 0.6, 0.0, float("nan"))
    inp = tmp_path / "case.inp"
    ds = run_scenario(case_scenario(loaded, settings, case), save_inp=inp)
    ours = summarise(ds, settings)
    assert abs(float(ds["mass_balance_error"].values[0])) < 1e-3
    ph = en.createproject()
    try:
        en.open(ph, str(inp), str(tmp_path / "case.rpt"), "")
        mains = [en.getlinkindex(ph, name) for name in src.transmission_mains]
        en.openH(ph)
        en.initH(ph, 0)
        t0, t1 = settings.warmup, settings.warmup + settings.window
        volume = 0.0
        while True:
            t = en.runH(ph)
            flow = sum(en.getlinkvalue(ph, k, en.FLOW) for k in mains) / 1000  # LPS
            dt = en.nextH(ph)
            volume += flow * max(0, min(t + dt, t1) - max(t, t0))
            if dt <= 0:
                break
        en.closeH(ph)
    finally:
        en.close(ph)
        en.deleteproject(ph)
    delivered = volume / settings.window
    assert delivered == pytest.approx(float(ours["delivered"].values[0]), rel=1e-4)


def test_supply_network_travels_to_worker_processes(loaded):
    """A study's workers get the model by pickle (the parse thread stays behind)."""
    network = pickle.loads(pickle.dumps(loaded.network))
    assert network.sha256 == loaded.network.sha256
    assert network.elements.link_ids == loaded.network.elements.link_ids


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


def test_plant_capacity_and_pipe_diameter_edit_the_model(loaded):
    from hydro.supply.epanet import EpanetProject, LinkProperty
    from hydro.supply.operations import Context, PipeDiameter, PlantCapacity

    network = loaded.network
    ctx = Context(loaded.assets, network.elements, 86400)
    src = loaded.assets.source("gangkouwan")
    edits = [
        *PlantCapacity(capacity=src.capacity * 1.25).edits(ctx),
        *PipeDiameter(pipes=list(src.transmission_mains), diameter=0.8).edits(ctx),
    ]
    with EpanetProject.open(network) as project:
        pumps = [project.link_index[p] for p in src.high_lift_pumps]
        before = project.pump_curves(pumps[0])
        for edit in edits:
            edit(project)
        after = project.pump_curves(pumps[0])
        np.testing.assert_allclose(after[0], before[0] * 1.25)  # flows, once for a shared curve
        np.testing.assert_allclose(after[1], before[1])  # heads kept
        np.testing.assert_allclose(project.pump_curves(pumps[2])[0], before[0] * 1.25)
        valve = project.link_index[src.flow_control_valve]
        setting = project.link_value(valve, LinkProperty.INITSETTING)  # engine units (L/s)
        assert setting * project.setting_factor(valve) == pytest.approx(
            src.capacity * 1.25, rel=1e-6
        )
        for name in src.transmission_mains:
            assert project.link_value(
                project.link_index[name], LinkProperty.DIAMETER
            ) == pytest.approx(0.8)
    with pytest.raises(ScenarioError, match="is a pump"):
        PipeDiameter(pipes=[src.high_lift_pumps[0]], diameter=0.8).edits(ctx)


def test_the_main_profile_loses_head_as_hazen_williams_says(sweep, tmp_path: Path):
    """The grade along the raw main: each 5 km pipe loses 10.67 L Q^1.852 / (C^1.852 D^4.87)
    (Hazen-Williams, SI) at the plotted hour's flow; the flow-control valve burns the rest."""
    case = sweep.sel(outage="shuiyang").isel(
        plant_capacity=0, transmission_diameter=0, aid_diameter=0, level=0
    )
    chainage = sweep["main_chainage"].values
    assert chainage[-1] == pytest.approx(45_070, abs=1)  # 9 x 5 km + the 70 m inlet pipe
    for size in sweep["size"].values:
        one = case.sel(size=size)
        head = one["study_main_head"].values
        flow = float(one["study_main_flow"])
        assert (np.diff(head) <= 1e-3).all()  # water runs downhill in grade
        expected = 10.67 * 5000 * flow**1.852 / (135**1.852 * size**4.87)
        np.testing.assert_allclose(-np.diff(head)[:9], expected, rtol=0.01)
    big = case.sel(size=1.2)
    # A main larger than the plant takes leaves its head to the valve (tens of metres).
    assert float(big["study_valve_head"]) > 30
    assert float(case.sel(size=0.6)["study_valve_head"]) < 1
    # Surge screening: stopping the flow suddenly raises the head by a V / g, more for a main
    # that carries more; the pressure class covers the steady head plus that.
    rise = case["study_surge_head"].values
    velocity = case["study_main_flow"].values / (np.pi * sweep["size"].values ** 2 / 4)
    np.testing.assert_allclose(rise, 1100 * velocity / 9.80665)
    assert (case["study_pressure_class"].values >= case["study_pressure_class_closure"]).all()
    assert np.isnan(case["study_break_unserved_volume"].values).all()  # no case without it
    outage = case["study_break_outage_time"].values
    assert (outage < case["study_break_outage_time_unvalved"].values).all()
    figure = main_profile(sweep, tmp_path / "profile.png")
    assert len(figure.axes[0].get_lines()) >= 1 + sweep.sizes["size"]
