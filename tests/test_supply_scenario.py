"""Supply scenarios on the bundled Xuancheng model: every operation changes the network the way it
says, the answers move the right way, and mistakes are refused in plain words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hydro.errors import ScenarioError
from hydro.supply.network import load_network
from hydro.supply.operations import segment
from hydro.supply.run import run as hydro_run
from hydro.supply.scenario import (
    SupplyScenario,
    build_edits,
    load_scenario,
    resolve,
    run_scenario,
)
from tests import golden

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "networks" / "xuancheng" / "supply.inp"
SCENARIOS = REPO / "scenarios" / "supply"


def scenario(
    *operations: dict,
    duration: str = "12h",
    shares: bool = False,
    demand_model: str = "pda",
    **answers,
) -> SupplyScenario:
    return SupplyScenario.model_validate(
        {
            "name": "test",
            "network": str(MODEL),
            "time": {"duration": duration},
            "hydraulics": {"demand_model": demand_model},
            "answers": {"shares": shares, **answers},
            "operations": list(operations),
        }
    )


def run(*operations: dict, **options):
    return run_scenario(resolve(scenario(*operations, **options)))


@pytest.fixture(scope="module")
def base():
    return run(demand_model="pda")


def flow(ds, link):
    return ds["flow"].sel(link=link).values[0]


def hour(ds, h):
    return ds["time"].values.astype("timedelta64[h]").astype(int) == h


def test_baseline_answers(base):
    city = base["pressure_compliance"].sel(zone="city").values[0]
    assert city.min() > 0.95
    assert float(base["unserved_fraction"].sel(zone="city").values[0]) < 1e-3
    assert list(base["zone"].values) == ["main", "devzone", "east", "city"]
    assert set(base["plant"].values) == {"shuiyang", "qingyi", "gangkouwan"}
    output = base["plant_output"].values[0].mean(axis=0)
    assert output[0] > output[1] > 0 and output[2] == 0  # Shuiyang leads, Gangkouwan closed
    assert (base["pump_energy"].values >= 0).all()
    assert base["required_volume"].attrs["units"] == "m3"


def test_source_outage_stops_the_raw_water_in_its_window(base):
    out = run({"type": "source_outage", "source": "shuiyang", "start": "5h", "end": "9h"})
    main = "SY-RM01"
    window = hour(base, 5) | hour(base, 6) | hour(base, 7) | hour(base, 8)
    assert np.abs(flow(base, main)[window]).min() > 0.5
    assert np.abs(flow(out, main)[window]).max() == 0
    assert np.abs(flow(out, main)[hour(out, 10)]).max() > 0.5  # back after the window
    # The clear well drains while the river is lost.
    cw = out["tank_level"].sel(tank="SY-CW").values[0]
    assert (
        cw[hour(out, 9)][0] < base["tank_level"].sel(tank="SY-CW").values[0][hour(base, 9)][0] - 1
    )


def test_losing_shuiyang_lowers_compliance(base):
    out = run({"type": "source_outage", "source": "shuiyang", "scope": "plant"})
    assert (
        out["pressure_compliance"].sel(zone="city").values[0].mean()
        < base["pressure_compliance"].sel(zone="city").values[0].mean() - 0.2
    )
    assert float(out["unserved_fraction"].sel(zone="city").values[0]) > 0.05
    assert out.attrs["demand_model"].startswith("PDA")


def test_opening_gangkouwan_raises_compliance_when_shuiyang_is_out():
    lost = {"type": "source_outage", "source": "shuiyang", "scope": "plant"}
    without = run(lost, duration="6h")
    with_third = run(lost, {"type": "gangkouwan_pipeline", "flow_cap": "none"}, duration="6h")
    assert (
        with_third["pressure_compliance"].sel(zone="city").values[0].mean()
        > without["pressure_compliance"].sel(zone="city").values[0].mean() + 0.05
    )
    assert float(with_third["unserved_volume"].sel(zone="city").values[0]) < float(
        without["unserved_volume"].sel(zone="city").values[0]
    )


def test_gangkouwan_flow_cap_diameter_and_level():
    capped = run({"type": "gangkouwan_pipeline", "flow_cap": "50000 m3/d"})
    main = capped["raw_main_flow"].sel(plant="gangkouwan").values[0]
    assert main.max() == pytest.approx(50000 / 86400, rel=1e-3)
    low = run(
        {
            "type": "gangkouwan_pipeline",
            "flow_cap": 100,
            "diameter": "600 mm",
            "reservoir_level": "120 m",
        }
    )
    high = run(
        {
            "type": "gangkouwan_pipeline",
            "flow_cap": 100,
            "diameter": "600 mm",
            "reservoir_level": "133 m",
        }
    )
    q_low = low["raw_main_flow"].sel(plant="gangkouwan").values[0].mean()
    q_high = high["raw_main_flow"].sel(plant="gangkouwan").values[0].mean()
    assert 0 < q_low < q_high < 50000 / 86400 * 1.5
    assert (low["diameter"].sel(link="GKW-RM01").item()) == pytest.approx(0.6)


def test_demand_growth_scales_consumer_demand(base):
    grown = run({"type": "demand_growth", "year": 2030}, demand_model="pda")
    ratio = float(grown["required_volume"].sel(zone="city").values[0]) / float(
        base["required_volume"].sel(zone="city").values[0]
    )
    assert ratio == pytest.approx(1.25, rel=1e-3)
    factor = run({"type": "demand_growth", "factor": 1.1}, demand_model="pda")
    assert float(factor["required_volume"].sel(zone="city").values[0]) == pytest.approx(
        1.1 * float(base["required_volume"].sel(zone="city").values[0]), rel=1e-3
    )


def test_interconnection_open_and_close(base):
    assert (base["status"].sel(link="IC-MD1-V").values == 0).all()
    opened = run(
        {
            "type": "interconnection",
            "name": "main_devzone_north",
            "open": True,
            "start": "3h",
            "end": "6h",
        }
    )
    status = opened["status"].sel(link="IC-MD1-V").values[0]
    assert status[hour(opened, 4)].all() and not status[hour(opened, 8)].any()
    closed = run({"type": "interconnection", "name": "all", "open": False})
    assert (closed["status"].sel(link="IC-ME1-V").values == 0).all()
    assert (closed["flow"].sel(link="IC-ME1-V").values == 0).all()


def test_pipe_renewal_lowers_leakage_and_headloss(base):
    renewed = run({"type": "pipe_renewal", "renewal_class": "aged"}, demand_model="pda")
    assert float(renewed["leakage_volume"].sel(zone="city").values[0]) < float(
        base["leakage_volume"].sel(zone="city").values[0]
    )
    loaded = resolve(scenario())
    aged = loaded.assets.renewal_pipes("aged")[:20]
    loss_before = np.abs(base["headloss"].sel(link=list(aged)).values).sum()
    loss_after = np.abs(renewed["headloss"].sel(link=list(aged)).values).sum()
    assert loss_after < loss_before


def test_pump_and_booster_outages(base):
    pumps = run({"type": "pump_outage", "pumps": ["QY-HP1"], "start": "1h", "end": "5h"})
    assert np.abs(flow(pumps, "QY-HP1")[hour(pumps, 3)]).max() == 0
    booster = run({"type": "booster_outage", "station": "BS01"})
    assert np.abs(booster["flow"].sel(link=["BS01-P1", "BS01-P2"]).values).max() == 0
    served = booster["demand_deficit"].sel(node="BS01-B").values[0]
    assert served[hour(booster, 8)][0] > 0  # the compound goes without water


def test_pipe_break_isolates_its_segment(base):
    one = run(
        {"type": "pipe_break", "pipe": "GKW-RM05", "start": "1h"},
        {"type": "gangkouwan_pipeline", "flow_cap": "50000 m3/d"},
    )
    assert np.abs(flow(one, "GKW-RM05")[hour(one, 3)]).max() == 0
    loaded = resolve(scenario())
    from hydro.supply.inp import read_elements

    elements = read_elements(MODEL.read_text())
    pipes = segment(elements, elements.link_ids.index("GKW-RM05"))
    names = {elements.link_ids[i] for i in pipes}
    assert {"GKW-RM04", "GKW-RM05", "GKW-RM06"} <= names
    assert not names & {"GKW-ISO", "GKW-FCV"}  # the segment ends at the valves
    assert loaded.assets.source("gangkouwan").raw_main


def test_all_sources_out_is_a_result_not_a_crash():
    out = run(
        *(
            {"type": "source_outage", "source": s, "scope": "plant"}
            for s in ("shuiyang", "qingyi", "gangkouwan")
        ),
        duration="6h",
    )
    assert float(out["unserved_fraction"].sel(zone="city").values[0]) > 0.5
    assert np.abs(out["plant_output"].values).max() < 1e-5  # closed links leak ~1e-7 in EPANET


@pytest.mark.parametrize(
    "op, words",
    [
        (
            {"type": "source_outage", "source": "shuiyan"},
            "unknown source 'shuiyan': did you mean 'shuiyang'",
        ),
        (
            {"type": "source_outage", "source": "shuiyang", "start": "20h"},
            "after the simulation ends",
        ),
        (
            {"type": "source_outage", "source": "shuiyang", "start": "6h", "end": "4h"},
            "before it starts",
        ),
        ({"type": "pump_outage", "pumps": ["SY-HP9"]}, "unknown pump 'SY-HP9'"),
        ({"type": "booster_outage", "station": "BS99"}, "unknown booster station 'BS99'"),
        (
            {"type": "interconnection", "name": "main_east2", "open": True},
            "unknown interconnection 'main_east2': did you mean 'main_east'",
        ),
        ({"type": "pipe_break", "pipe": "SY-HP1"}, "not a pipe"),
        ({"type": "demand_growth", "year": 2050}, "no demand growth known for 2050"),
    ],
)
def test_bad_operations_are_refused_with_names(op, words):
    with pytest.raises(ScenarioError) as err:
        build_edits(resolve(scenario(op)))
    assert words in str(err.value)
    assert "operations[0]" in str(err.value)


def test_bad_scenario_file(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text(
        f'network = "{MODEL}"\n[[operations]]\ntype = "demand_growth"\nfactor = 1.2\nyear = 2030\n'
    )
    with pytest.raises(ScenarioError, match=r"s.toml: operations\[0\]: .*either factor"):
        load_scenario(path)
    path.write_text('network = "nowhere.inp"\n')
    with pytest.raises(ScenarioError, match="network: no such file"):
        load_scenario(path)


def test_model_duration_forms(tmp_path):
    def duration(times: str) -> int:
        path = tmp_path / "m.inp"
        path.write_text(f"[JUNCTIONS]\n J 0\n[RESERVOIRS]\n R 1\n{times}[END]\n")
        return load_network(path).duration

    assert duration("[TIMES]\n Duration 72:00\n") == 72 * 3600
    assert duration("[TIMES]\nDURATION 3 DAYS\n") == 3 * 86400
    assert duration("[TIMES]\nDuration 24\n") == 24 * 3600
    assert duration("[TIMES]\nDuration 90 MIN ; comment\n") == 90 * 60
    assert duration("") == 0


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_scenarios_load_and_state_their_question(path: Path):
    loaded = load_scenario(path)
    assert loaded.scenario.question, f"{path.name} must open with a comment stating its question"
    build_edits(loaded)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_scenarios_run(path: Path):
    """Every bundled scenario runs (cut to 48 h, the end of the longest window; shares apart)."""
    loaded = load_scenario(path)
    s = loaded.scenario
    s = s.model_copy(
        update={
            "time": s.time.model_copy(update={"duration": 48 * 3600}),
            "answers": s.answers.model_copy(update={"shares": False}),
        }
    )
    ds = run_scenario(resolve(s, loaded.file))
    assert ds.sizes["time"] == 49
    city = ds["pressure_compliance"].sel(zone="city").values[0]
    assert np.isfinite(city).all() and (city >= 0).all() and (city <= 1).all()
    assert ds.attrs["question"] == loaded.scenario.question
    # The run's health: no water created or lost, every step balanced, no tank giving water it
    # does not hold (issue 13's acceptance for qingyi_out and shuiyang_out, here for all).
    assert abs(float(ds["mass_balance_error"].values[0])) < 1e-3
    assert ds.attrs["converged"], ds.attrs["health_warnings"]
    assert float(ds["tank_empty_outflow_time"].values.max()) == 0.0
    # EPANET sets a tank full or empty "within the next second": a few m3 at most per run
    assert np.abs(ds["tank_balance_error"].values).max() < 5.0  # m3
    # Where a clear well is low (at its minimum, or at the 1 m where its pumps stop), the plant
    # sends into the city no more than reaches its well.
    for plant in ds["plant"].values:
        well = loaded.assets.source(str(plant)).clear_well
        level = ds["tank_level"].sel(tank=well).values[0]
        low = level <= 1.0 + 0.01
        out = ds["plant_output"].sel(plant=plant).values[0][low]
        into = ds["clear_well_inflow"].sel(plant=plant).values[0][low]
        assert (out <= np.maximum(into, 0.0) + 1e-4).all(), (path.stem, plant)
    # The answers themselves (per zone, plant and tank) as stored: a change is made on purpose
    golden.check("supply", path.stem, golden.answers(ds, {"zone", "plant", "tank"}))


def test_a_severe_shortage_balances_with_the_models_own_trials():
    """Shuiyang lost with a DN800 Gangkouwan main: before the high-lift pumps stopped at a low
    clear well, EPANET 2.3.5 let them draw from the empty well, their status flipped from trial
    to trial and steps were left unbalanced (or balanced only with statuses held). Now every step
    balances with the model's own trials."""
    ops = [
        {"type": "source_outage", "source": "shuiyang"},
        {"type": "gangkouwan_pipeline", "flow_cap": "none", "diameter": "800 mm"},
    ]
    scenario = {
        "name": "short",
        "network": str(MODEL),
        "time": {"duration": "16h"},
        "hydraulics": {"demand_model": "pda"},
        "answers": {"shares": False},
        "operations": ops,
    }
    ds = run_scenario(resolve(SupplyScenario.model_validate(scenario)))
    assert ds.attrs["converged"]
    warnings = str(ds.attrs["engine_warnings"]).lower()
    assert "unbalanced" not in warnings and "trials" not in warnings


def test_save_inp_writes_the_engine_input_as_run(tmp_path: Path):
    """--save-inp: the file EPANET reruns on its own gives the scenario's own results."""
    scenario = tmp_path / "renewal.toml"
    scenario.write_text(
        f'network = "{MODEL.as_posix()}"\n[time]\nduration = "6h"\n[answers]\nshares = false\n'
        '[[operations]]\ntype = "pipe_renewal"\nrenewal_class = "aged"\n'
    )
    saved = tmp_path / "as_run.inp"
    ds = run_scenario(scenario, save_inp=saved)
    text = saved.read_text()
    assert text.startswith("; written by hydro") and "[LEAKAGE]" not in text
    again = hydro_run(saved)
    served = ds["node_required_volume"].values[0] > 0
    np.testing.assert_allclose(
        again["pressure_head"].values[0][:, served],
        ds["pressure_head"].values[0][:, served],
        atol=1e-3,
    )
    with pytest.raises(ScenarioError, match="overwrite"):
        run_scenario(scenario, save_inp=MODEL)


def test_a_scenario_reads_its_files_once(tmp_path: Path):
    """The network file is opened once by hydro (and once by the engine, in C), the scenario
    file once: everything else comes from what was read."""
    import sys

    scenario = tmp_path / "short.toml"
    scenario.write_text(
        f'network = "{MODEL.as_posix()}"\n[time]\nduration = "2h"\n[answers]\nshares = false\n'
    )
    opened: list[str] = []
    watching = [True]

    def hook(event, args):
        if watching[0] and event == "open" and args and isinstance(args[0], (str, Path)):
            opened.append(str(Path(args[0]).resolve()))

    sys.addaudithook(hook)
    try:
        run_scenario(scenario)
    finally:
        watching[0] = False
    assert opened.count(str(MODEL.resolve())) == 1
    assert opened.count(str(scenario.resolve())) == 1


def test_scores_read_the_assets_the_results_carry(tmp_path: Path):
    """A scenario's results carry the model's named assets: scoring them needs no model file
    (the one they came from may have moved or changed since)."""
    from hydro.results import read_netcdf, write_netcdf
    from hydro.scoring import score

    ds = run(duration="2h")
    ds.attrs["network_source"] = str(tmp_path / "moved" / "supply.inp")
    ds = read_netcdf(write_netcdf(ds, tmp_path / "run.nc"))
    scores = score(ds)
    assert "carried by the results" in scores.attrs["assets"]
    assert {"main", "devzone", "east"} <= {str(z) for z in scores["zone"].values}
