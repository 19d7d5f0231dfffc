"""A drainage run's own health and accounting: SWMM's diagnostics in the results, the water
budget, scores from SWMM's statistics (equal to its Node Flooding Summary), the input saved as
run, and the files a scenario run reads."""

from __future__ import annotations

import builtins
import io
from pathlib import Path

import numpy as np
import pytest

from hydro.drainage import read_inp, run
from hydro.drainage.assets import ASSETS_ATTR, assets_from_json, load_drainage_assets
from hydro.drainage.scenario import load_scenario, run_scenario
from hydro.drainage.swmm.health import BUDGET_TERMS, LIMITS
from hydro.drainage.swmm.report import read_report
from hydro.results import read_netcdf, write_netcdf
from hydro.scoring import score

DATA = Path(__file__).parent / "data" / "swmm"
STATION = DATA / "pump_station.inp"
REPO = Path(__file__).resolve().parents[1]
NETWORK = REPO / "networks" / "xuancheng" / "drainage.inp"


@pytest.fixture(scope="module")
def station():
    return run(STATION)


def test_results_carry_swmm_s_diagnostics(station):
    ds = station
    for key in (
        "routing_steps_not_converging",
        "routing_step_mean",
        "routing_iterations_mean",
        "flow_instability_max",
        "node_continuity_error_max",
        "converged",
    ):
        assert key in ds.attrs, key
    assert 0 <= ds.attrs["routing_steps_not_converging"] < 0.02 and ds.attrs["converged"] == 1
    errors = ds["node_continuity_error"].isel(scenario=0)
    assert float(np.abs(errors).max()) == pytest.approx(abs(ds.attrs["node_continuity_error_max"]))
    # outfalls, which SWMM lists among the nodes not converging at every failed step, are left out
    assert "OF" not in str(ds.attrs.get("nonconverging_nodes", ""))


def test_a_run_that_does_not_converge_says_so():
    """Long fixed steps and a single trial: SWMM cannot converge, and the run says why."""
    inp = read_inp(STATION).with_options({"ROUTING_STEP": 60, "MAX_TRIALS": 1})
    ds = run(inp)
    assert ds.attrs["converged"] == 0
    assert ds.attrs["routing_steps_not_converging"] > LIMITS["steps_not_converging"]
    assert "did not converge" in ds.attrs["health_warnings"]


def test_the_water_budget_balances(station):
    budget = station["water_budget"].isel(scenario=0).to_series()
    assert list(budget.index) == list(BUDGET_TERMS)
    # rain = infiltration + evaporation + runoff + what is left on the surface (runoff continuity)
    rain_out = budget["infiltration"] + budget["runoff"] + budget["surface_storage_end"]
    assert rain_out == pytest.approx(budget["rain"], rel=0.01)
    inflow = budget["runoff"] + budget["external_inflow"] + budget["other_inflow"]
    change = budget["stored_end"] - budget["stored_start"]
    residual = inflow - budget["outfall_outflow"] - budget["flooding_lost"] - change
    assert budget["continuity_residual"] == pytest.approx(residual, abs=1.0)
    assert abs(residual) < 0.01 * inflow
    assert budget["pumped"] > 0 and 0 <= budget["ponded_end"] <= budget["stored_end"]
    assert budget["flooding_lost"] == 0.0  # every junction ponds; the wet well is deep


def test_scores_are_swmm_s_node_flooding_summary(station):
    """Flood volume, hours flooded and peak rate per node are SWMM's (every routing step), not
    integrals of the reporting steps; the city's total equals the summary's."""
    sc = score(station).isel(scenario=0)
    ds = station.isel(scenario=0)
    listed = np.isfinite(ds.engine_flood_volume.values)
    assert listed.any()
    np.testing.assert_allclose(sc.flood_volume.values[listed], ds.engine_flood_volume[listed])
    np.testing.assert_allclose(
        sc.flooded_duration.values[listed], ds.engine_flooded_duration[listed]
    )
    np.testing.assert_allclose(
        sc.peak_flooding_rate.values[listed], ds.engine_max_flooding_rate[listed]
    )
    assert (sc.flood_volume.values[~listed] == 0).all()
    assert float(sc.total_flood_volume) == pytest.approx(float(ds.engine_flood_volume.sum()))
    assert sc.attrs["flood_statistics_from"].startswith("SWMM")


def test_a_flood_shorter_than_a_reporting_step_counts():
    """Reported every hour, the floods fall between two reports: the report-step series sees
    none of them, the scores (SWMM's statistics) see them all."""
    ds = run(read_inp(STATION).with_options({"REPORT_STEP": "01:00:00"}))
    sc = score(ds).isel(scenario=0)
    engine = ds.isel(scenario=0).engine_flood_volume.fillna(0.0)
    seen = (ds.isel(scenario=0).flooding_rate > 0).any("time")
    short = (engine > 0) & ~seen
    assert bool(short.any())
    np.testing.assert_allclose(sc.flood_volume.values[short.values], engine.values[short.values])


def test_storage_units_and_rivers_are_not_ranked_with_the_streets():
    ds = run(read_inp(STATION).with_options({"END_TIME": "01:30:00"}))
    sc = score(ds).isel(scenario=0)
    roles = dict(zip(sc.node.values, sc.node_role.values, strict=True))
    assert roles["WW"] == "storage" and roles["OF1"] == "outfall" and roles["J1"] == "street"
    assert (sc.hazard_rank.values[sc.node_role.values != "street"] == 0).all()


def test_runs_carry_their_assets_and_scoring_reads_no_model(station, tmp_path, monkeypatch):
    """A run keeps its named assets in its attributes: scored from the netCDF file after the
    model has gone, the scores are those of the model's sidecar."""
    assets = assets_from_json(station.attrs[ASSETS_ATTR])
    assert assets == load_drainage_assets(STATION)
    path = write_netcdf(station, tmp_path / "run.nc")
    monkeypatch.setattr(
        "hydro.drainage.assets.load_drainage_assets",
        lambda *a, **k: pytest.fail("scoring read the model again"),
    )
    sc = score(read_netcdf(path))
    assert list(sc.station.values) == ["station_a"]
    assert sc.attrs["assets"] == "sidecar pump_station_assets.toml"


def _opens(monkeypatch) -> list[Path]:
    seen: list[Path] = []
    real = io.open

    def counting(file, *args, **kwargs):
        if isinstance(file, str | Path):
            seen.append(Path(file).resolve())
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    return seen


def test_a_scenario_run_reads_its_files_once(tmp_path, monkeypatch):
    """Its scenario file once, its network at most twice (its text, and its hash for the
    provenance); the engine runs a copy in a temporary folder."""
    scenario = tmp_path / "storm.toml"
    scenario.write_text(
        "# Question: a test storm on the test model?\n"
        f'network = "{STATION.as_posix()}"\n'
        '[rainfall.design]\nreturn_period = 2\nduration = "30min"\nstep = "5min"\n'
        '[rainfall.formula]\nkind = "chinese"\na = 3600.0\nc = 0.76\nb = 14.0\nn = 0.84\n'
        '[time]\nrecession = "30min"\n',
        encoding="utf-8",
    )
    seen = _opens(monkeypatch)
    run_scenario(load_scenario(scenario))
    assert seen.count(scenario.resolve()) == 1
    assert 1 <= seen.count(STATION.resolve()) <= 2


@pytest.mark.skipif(not NETWORK.is_file(), reason="bundled drainage model not generated")
def test_the_saved_input_reruns_in_swmm_alone(tmp_path):
    """``save_input`` writes what SWMM ran (after the spin-up: its hotstart and its spin-up's
    input beside it); rerun with swmm_run, it gives the Node Flooding Summary of the results."""
    from swmm.toolkit import solver

    scenario = load_scenario(REPO / "scenarios" / "drainage" / "p2_2h_normal_river.toml")
    short = scenario.model_copy(
        update={"time": scenario.time.model_copy(update={"recession": 900})}
    )
    saved = tmp_path / "p2.inp"
    ds = run_scenario(short, save_input=saved)
    spin = tmp_path / "p2_spinup.inp"
    assert saved.is_file() and spin.is_file() and (tmp_path / "p2.hsf").is_file()
    for inp in (spin, saved):
        solver.swmm_run(str(inp), str(inp.with_suffix(".rpt")), str(inp.with_suffix(".out")))
    rpt = read_report(saved.with_suffix(".rpt"))
    flooding = rpt.node_flooding()["flood_volume"]
    engine = ds.isel(scenario=0).engine_flood_volume.to_series().dropna()
    assert flooding.sort_index().index.equals(engine.sort_index().index)
    np.testing.assert_allclose(
        flooding.sort_index().to_numpy(float), engine.sort_index().to_numpy(float), rtol=1e-6
    )
    steps = rpt.routing_steps()
    assert steps["not_converging_share"] == ds.attrs["routing_steps_not_converging"]
    assert steps["average_step"] == ds.attrs["routing_step_mean"]
