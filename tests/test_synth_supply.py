"""The Xuancheng water-supply generator (hydro.synth.supply) and the bundled model it wrote.

The default model must open unchanged in WNTR and in the EPANET toolkit, run 72 h cleanly and
meet the issue's hydraulic checks: pressure at the peak hour, tanks that cycle, pipe velocities,
total supply, leakage and source shares. The committed networks/xuancheng/supply.inp must be
exactly the default model (unless a user has replaced it with a real one).
"""

from __future__ import annotations

import shutil
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from hydro.errors import ScenarioError
from hydro.supply import run
from hydro.supply.assets import load_assets, read_inp_index, sidecar_paths
from hydro.supply.epanet import LinkProperty, QualityType, TimeParameter
from hydro.synth.supply import (
    DEFAULT_JUNCTIONS,
    DEFAULT_SEED,
    generate_supply,
    minimum_junctions,
    write_supply,
)

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "networks" / "xuancheng" / "supply.inp"
DAY2 = slice(24, 48)  # the second simulated day: tanks and controls have settled


def _is_generated(inp: Path) -> bool:
    """Whether ``inp`` is still this generator's model (a user may have put the real one there)."""
    toml = sidecar_paths(inp)["assets"]
    return (
        toml.is_file()
        and tomllib.loads(toml.read_text("utf-8")).get("model", {}).get("generator")
        == "hydro.synth.supply"
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """The default model, freshly generated (what networks/xuancheng/supply.inp should be)."""
    return write_supply(tmp_path_factory.mktemp("supply") / "supply.inp")


@pytest.fixture(scope="module")
def result(model):
    """One 72 h run of the default model (EPANET, water age)."""
    return run(model)


@pytest.fixture(scope="module")
def assets(model):
    return load_assets(model)


@pytest.fixture(scope="module")
def wn(model):
    wntr = pytest.importorskip("wntr")
    return wntr.network.WaterNetworkModel(str(model))


def _demand_nodes(ds, assets) -> np.ndarray:
    return np.array(
        [n in assets.nodes and assets.nodes[n].land_use is not None for n in ds.node.values]
    )


def _peak(ds, assets) -> int:
    """Time index of the peak hour of day 2 (largest delivered demand)."""
    total = ds.demand.values[0][:, _demand_nodes(ds, assets)].sum(axis=1)
    return DAY2.start + int(np.argmax(total[DAY2]))


def _supply(ds, assets) -> dict[str, np.ndarray]:
    """Treated water each source sends into the network (m3/s over time): high-lift pump flows."""
    return {
        s.name: ds.flow.sel(link=list(s.high_lift_pumps)).values[0].sum(axis=1)
        for s in assets.sources
    }


# ------------------------------------------------------------------------------------------------
# Reproducibility and form


@pytest.mark.skipif(
    not _is_generated(BUNDLED),
    reason="networks/xuancheng/supply.inp is not the generated model (replaced by a real one?)",
)
def test_bundled_files_are_what_the_generator_gives(model):
    for kind, path in {"inp": BUNDLED, **sidecar_paths(BUNDLED)}.items():
        generated = model if kind == "inp" else sidecar_paths(model)[kind]
        assert path.read_bytes() == generated.read_bytes(), f"{path.name} is stale: regenerate it"


def test_same_seed_gives_the_same_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_supply(tmp_path / "a" / "m.inp", junctions=500, seed=11)
    b = write_supply(tmp_path / "b" / "m.inp", junctions=500, seed=11)
    for kind in ("assets", "nodes", "pipes"):
        assert sidecar_paths(a)[kind].read_bytes() == sidecar_paths(b)[kind].read_bytes()
    assert a.read_bytes() == b.read_bytes()
    assert generate_supply(junctions=500, seed=12).inp != a.read_text(encoding="utf-8")


@pytest.mark.parametrize("junctions", [minimum_junctions(), 777, DEFAULT_JUNCTIONS])
def test_junction_count_is_exact(tmp_path, junctions):
    path = write_supply(tmp_path / "m.inp", junctions=junctions)
    assert len(read_inp_index(path).junctions) == junctions


def test_defaults_are_a_city_skeleton(model):
    assert 3000 <= DEFAULT_JUNCTIONS <= 6000
    assert DEFAULT_SEED == 2024
    assert len(read_inp_index(model).junctions) == DEFAULT_JUNCTIONS


def test_inp_is_plain_ascii_without_epanet_23_only_sections(model):
    text = model.read_text(encoding="utf-8")
    assert text.isascii()
    assert "[LEAKAGE]" not in text and "[EMITTERS]" in text


def test_wntr_reads_the_model_unchanged(wn):
    counts = wn.describe(level=1)
    assert counts["Nodes"] == {"Junctions": DEFAULT_JUNCTIONS, "Tanks": 24, "Reservoirs": 3}
    # Shuiyang 3 intake + 4 high-lift, Qingyi 3 lift + 3 booster + 4 high-lift, Gangkouwan 3,
    # and a duty and a standby pump at each of the 21 booster stations.
    assert counts["Links"]["Pumps"] == 3 + 4 + 3 + 3 + 4 + 3 + 2 * 21
    assert wn.options.quality.parameter.upper() == "AGE"
    assert wn.options.hydraulic.headloss == "H-W"
    assert wn.options.time.duration == 72 * 3600
    diameters = np.array([p.diameter for _, p in wn.pipes()])
    assert diameters.min() == pytest.approx(0.1) and diameters.max() == pytest.approx(1.4)
    leaky = [n for n, j in wn.junctions() if j.emitter_coefficient]
    assert len(leaky) > 0.9 * DEFAULT_JUNCTIONS
    assert wn.get_node("JM-00001").tag == "main"


def test_epanet_toolkit_opens_the_model_unchanged(model, tmp_path):
    en = pytest.importorskip("epanet.toolkit")
    inp = tmp_path / "supply.inp"
    shutil.copy(model, inp)
    ph = en.createproject()
    try:
        en.open(ph, str(inp), str(tmp_path / "supply.rpt"), "")
        assert en.getcount(ph, en.NODECOUNT) == DEFAULT_JUNCTIONS + 27
        assert en.getcount(ph, en.TANKCOUNT) == 27  # tanks and reservoirs
        assert en.getflowunits(ph) == en.LPS
    finally:
        en.close(ph)
        en.deleteproject(ph)


# ------------------------------------------------------------------------------------------------
# Hydraulics of a normal day (the checks)


def test_72h_run_converges_cleanly(result):
    assert result.sizes["time"] == 73
    assert result.attrs["converged"] == 1
    assert result.attrs["engine_warnings"] == ""


def test_pressure_at_peak_hour_and_never_negative(result, assets):
    demand = _demand_nodes(result, assets)
    pressure = result.pressure_head.values[0][:, demand]
    at_peak = pressure[_peak(result, assets)]
    assert (at_peak >= 28.0).mean() >= 0.95
    assert pressure.min() > 0.0


def test_tanks_cycle_without_emptying_or_overflowing(result, wn, assets):
    closed = {s.clear_well for s in assets.sources if not s.default_open}
    for k, tank in enumerate(result.tank.values):
        level = result.tank_level.values[0][:, k]
        spec = wn.get_node(str(tank))
        if tank in closed:
            assert np.ptp(level) == pytest.approx(0.0, abs=1e-6), tank
            continue
        assert level.min() > spec.min_level + 0.2, tank
        assert level.max() < spec.max_level - 0.2, tank
        assert np.ptp(level) > 1.0, f"{tank} does not cycle"
        steps = np.sign(np.diff(level))
        assert (steps > 0).sum() >= 3 and (steps < 0).sum() >= 3, f"{tank} does not cycle"


def test_most_pipe_velocities_are_economic_at_peak_hour(result, assets):
    pipes = result.link_type.values == "pipe"
    v = np.abs(result.velocity.values[0][_peak(result, assets), pipes])
    assert ((v >= 0.3) & (v <= 1.5)).mean() >= 0.6
    assert (v > 1.5).mean() < 0.01


def test_supply_leakage_and_source_shares(result, assets, wn):
    supply = _supply(result, assets)
    total = sum(supply.values())[DAY2].mean()
    assert 120_000 <= total * 86_400 <= 180_000
    # Leakage: emitter outflow q = C sqrt(p) at every leaky junction.
    names = [n for n, j in wn.junctions() if j.emitter_coefficient]
    coef = np.array([wn.get_node(n).emitter_coefficient for n in names])
    pressure = result.pressure_head.sel(node=names).values[0][DAY2]
    leakage = (coef * np.sqrt(np.maximum(pressure, 0.0))).sum(axis=1).mean()
    assert 0.10 <= leakage / total <= 0.12
    shares = {name: q[DAY2].mean() / total for name, q in supply.items()}
    assert max(shares, key=shares.get) == "shuiyang"
    assert shares["gangkouwan"] == pytest.approx(0.0, abs=1e-6)
    assert shares["qingyi"] > 0.1


def test_water_age_reaches_the_demand_nodes(result, assets):
    demand = _demand_nodes(result, assets)
    age_hours = result.water_age.values[0][-1, demand] / 3600.0
    assert np.median(age_hours) < 24.0


# ------------------------------------------------------------------------------------------------
# Scenario levers built into the model


def _one_day(project):
    project.set_time(TimeParameter.DURATION, 24 * 3600)
    project.set_quality(QualityType.NONE)


def test_gangkouwan_opens_with_its_isolating_pipe_and_flow_cap(model, assets):
    gkw = assets.source("gangkouwan")
    cap = 40_000 / 86_400

    def open_gangkouwan(project):
        links = project.link_index
        for link in gkw.isolation_links:
            project.set_link_value(links[link], LinkProperty.INITSTATUS, 1)
        project.set_link_value(links[gkw.flow_control_valve], LinkProperty.INITSETTING, cap)

    ds = run(model, edits=[_one_day, open_gangkouwan])
    inflow = ds.flow.sel(link=gkw.flow_control_valve).values[0][1:]
    assert inflow == pytest.approx(cap, rel=1e-3)
    delivered = ds.flow.sel(link=list(gkw.high_lift_pumps)).values[0].sum(axis=1)
    assert delivered[6:].mean() > 0.5 * cap
    assert 120.0 <= gkw.level_range[0] < gkw.level_range[1] <= 133.0


def test_a_small_model_runs_as_well(tmp_path):
    path = write_supply(tmp_path / "small.inp", junctions=minimum_junctions(), seed=3)
    ds = run(path, edits=[_one_day])
    small = load_assets(path)
    assert ds.attrs["converged"] == 1
    demand = _demand_nodes(ds, small)
    total = ds.demand.values[0][:, demand].sum(axis=1)
    peak = int(np.argmax(total))
    assert (ds.pressure_head.values[0][peak, demand] >= 28.0).mean() >= 0.95


# ------------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    "junctions, words",
    [
        (0, "positive"),
        (-5, "positive"),
        (2.5, "whole number"),
        (True, "whole number"),
        (minimum_junctions() - 1, "too few"),
    ],
)
def test_refuses_impossible_junction_counts(junctions, words):
    with pytest.raises(ScenarioError, match=words):
        generate_supply(junctions=junctions)


def test_refuses_unknown_zone_and_bad_shares():
    with pytest.raises(ScenarioError, match=r"unknown zone 'devzon'.*did you mean 'devzone'"):
        generate_supply(junctions=500, zone_shares={"devzon": 0.3})
    with pytest.raises(ScenarioError, match="positive number"):
        generate_supply(junctions=500, zone_shares={"east": -1.0})
    with pytest.raises(ScenarioError, match="seed"):
        generate_supply(junctions=500, seed=-1)


def test_refuses_a_non_inp_output(tmp_path):
    with pytest.raises(ScenarioError, match=r"\.inp"):
        write_supply(tmp_path / "supply.txt", junctions=500)
    assert not any(tmp_path.iterdir())


def test_zone_shares_move_junctions_between_zones():
    more_east = _zone_members(generate_supply(junctions=600, zone_shares={"east": 1.0}))
    default = _zone_members(generate_supply(junctions=600))
    assert len(more_east["east"]) > len(default["east"])


def _zone_members(model) -> dict[str, list[str]]:
    """Zone -> grid junctions, from a generated model's node table (no files needed)."""
    zones: dict[str, list[str]] = {}
    for line in model.nodes.splitlines()[1:]:
        node, zone, land_use, _ = line.split(",")
        if zone and land_use and not node.startswith("BS"):
            zones.setdefault(zone, []).append(node)
    return zones


@pytest.mark.slow
def test_scales_to_50000_junctions(tmp_path):
    start = time.perf_counter()
    path = write_supply(tmp_path / "big.inp", junctions=50_000)
    assert time.perf_counter() - start < 60.0
    assert len(read_inp_index(path).junctions) == 50_000
