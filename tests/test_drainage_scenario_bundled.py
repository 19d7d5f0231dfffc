"""The bundled drainage scenarios (scenarios/drainage/*.toml) on the bundled Xuancheng model.

Every file runs, shortened to keep the suite fast (design storms cut to 1 h, 30 min of recession;
the historical record to a 90-minute window around its peak), and the runs show what the issue
asks: more rain floods more, a high river raises flooding behind the dykes, a pump outage raises
flooding in that station's area, the sponge-city measures lower runoff.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from hydro.drainage import operations as ops
from hydro.drainage.assets import load_drainage_assets
from hydro.drainage.scenario import DrainageScenario, load_scenario, run_scenario
from hydro.rain import read_rain_csv
from hydro.results import file_sha256
from hydro.scoring import score
from tests import golden

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios" / "drainage"
NETWORK = REPO / "networks" / "xuancheng" / "drainage.inp"
FILES = (
    "p2_2h_normal_river",
    "p5_2h_normal_river",
    "p30_3h_flood_river",
    "p50_24h_flood_river",
    "bietuqiao_pump_outage",
    "old_city_blockage",
    "sponge_city",
    "historical_event",
)
STORM = 3600  # s: every design storm shortened to this
RECESSION = 1800  # s
WINDOW = (dt.datetime(2020, 7, 6, 10, 0), 5400)  # the historical record's peak, 90 min

pytestmark = pytest.mark.skipif(
    not NETWORK.is_file(), reason=f"bundled drainage model not generated: {NETWORK}"
)


def shortened(scenario: DrainageScenario) -> DrainageScenario:
    time = scenario.time.model_copy(update={"recession": RECESSION})
    rain = scenario.rainfall
    if rain.design is not None:
        rain = rain.model_copy(
            update={
                "design": rain.design.model_copy(
                    update={"duration": min(rain.design.duration, STORM)}
                )
            }
        )
    else:
        time = time.model_copy(update={"start": WINDOW[0], "duration": WINDOW[1]})
    return scenario.model_copy(update={"time": time, "rainfall": rain})


@pytest.fixture(scope="module")
def runs():
    """Shortened runs by name, each run once for the whole module."""
    done = {}

    def get(name: str, scenario: DrainageScenario | None = None):
        if name not in done:
            scenario = scenario or load_scenario(SCENARIOS / f"{name}.toml")
            done[name] = run_scenario(shortened(scenario))
        return done[name]

    return get


def flood(ds, nodes=None) -> float:
    volume = ds.engine_flood_volume.fillna(0.0)
    return float((volume if nodes is None else volume.sel(node=nodes)).sum().item())


def runoff_volume(ds) -> float:
    seconds = ds.time.values / np.timedelta64(1, "s")
    rate = ds.runoff.values[0].sum(axis=1)
    return float(np.trapezoid(np.concatenate([[0.0], rate]), np.concatenate([[0.0], seconds])))


def upstream(ds, outlets) -> list[str]:
    """Nodes that drain to ``outlets`` (the outlets included)."""
    feeders: dict[str, list[str]] = {}
    for a, b in zip(ds.from_node.values, ds.to_node.values, strict=True):
        feeders.setdefault(b, []).append(a)
    seen, stack = set(outlets), list(outlets)
    while stack:
        for node in feeders.get(stack.pop(), []):
            if node not in seen:
                seen.add(node)
                stack.append(node)
    return sorted(seen)


def test_the_bundled_files_are_these_and_state_their_question():
    assert sorted(p.stem for p in SCENARIOS.glob("*.toml")) == sorted(FILES)
    for name in FILES:
        first = (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Question: ") and first.endswith("?"), name


@pytest.mark.parametrize("name", FILES)
def test_every_bundled_scenario_runs(runs, name):
    ds = runs(name)
    assert list(ds.scenario.values) == [name]
    assert ds.attrs["scenario_sha256"] == file_sha256(SCENARIOS / f"{name}.toml")
    assert ds.attrs["network_sha256"] == file_sha256(NETWORK)
    assert np.nanmax(ds.rain_intensity.sel(gauge="RG_CITY").values) > 0.0
    assert abs(float(ds.attrs["flow_routing_continuity_error"])) < 2.0
    assert abs(float(ds.attrs["runoff_continuity_error"])) < 2.0
    assert ds.time.values[-1] == np.timedelta64(
        STORM + RECESSION if name != "historical_event" else WINDOW[1], "s"
    )
    # The answers themselves (the water budget, the city's, stations' and polders' scores) as
    # stored: a change is made on purpose (tests/golden)
    values = golden.answers(ds, {"budget_term"}) | golden.answers(score(ds), {"station", "polder"})
    golden.check("drainage", name, values)


def test_more_rain_floods_more(runs):
    p2, p5 = runs("p2_2h_normal_river"), runs("p5_2h_normal_river")
    p30, p50 = runs("p30_3h_flood_river"), runs("p50_24h_flood_river")
    assert (
        p2.attrs["rain_depth"]
        < p5.attrs["rain_depth"]
        < p30.attrs["rain_depth"]
        < p50.attrs["rain_depth"]
    )
    assert flood(p2) < flood(p5)  # rivers normal
    assert flood(p30) < flood(p50)  # rivers at flood stage
    assert runoff_volume(p2) < runoff_volume(p5) < runoff_volume(p30) < runoff_volume(p50)


def test_a_river_in_flood_raises_flooding_behind_its_outlets(runs):
    """The city's outlets into the Wanxi close behind their flap gates while the river is high:
    the area draining to the Wanxi floods more than with the river at its ordinary level."""
    flood_river = load_scenario(SCENARIOS / "p30_3h_flood_river.toml")
    normal = flood_river.model_copy(
        update={
            "operations": [
                ops.RiverStage(river="shuiyang", stage="normal"),
                ops.RiverFlow(river="shuiyang", flow="normal"),
                ops.RiverFlow(river="wanxi", flow="normal"),
            ]
        }
    )
    high, low = runs("p30_3h_flood_river"), runs("p30_normal_river", normal)
    assets = load_drainage_assets(NETWORK)
    wanxi = assets.river("wanxi").nodes[:-1]
    city = [n for n in upstream(high, wanxi) if n.startswith("J")]
    assert len(city) > 300
    assert flood(high, city) > 1.2 * flood(low, city)
    gauge = high.hydraulic_head.sel(node="OF_SY").values[0]
    assert gauge[0] == pytest.approx(16.5, abs=0.05)
    # the river in the city stands above the gauge: it carries its flood and the city's water
    assert high.hydraulic_head.sel(node=wanxi[10]).values.min() > 16.5


def test_a_pump_outage_fills_the_station_inner_river(runs):
    """Without its pumps from 30 min, the Bietuqiao station's inner river ends higher than with
    them (the polder keeps the water: none is lost) and flooding elsewhere is unchanged. (The
    inner river has room for hours of the storm: see networks/xuancheng/README.md.)"""
    outage, base = runs("bietuqiao_pump_outage"), runs("p30_3h_flood_river")
    station = load_drainage_assets(NETWORK).station("bietuqiao")
    pumps = list(station.pumps)
    minutes = outage.time.values / np.timedelta64(60, "s")
    assert np.all(outage.flow.sel(link=pumps).values[0][minutes > 35] == 0.0)
    assert float(base.flow.sel(link=pumps).max()) > 0.0
    depth = {
        k: ds.water_depth.sel(node=station.wet_well).values[0]
        for k, ds in (("outage", outage), ("base", base))
    }
    assert depth["outage"][-1] > depth["base"][-1] + 0.001
    lost = outage.water_budget.sel(budget_term="flooding_lost").values[0]
    assert lost == 0.0
    area = upstream(base, [station.wet_well])
    assert flood(outage, area) >= flood(base, area) - 1.0
    others = [n for n in base.node.values if n not in set(area)]
    assert flood(outage, others) == pytest.approx(flood(base, others), rel=0.05, abs=500.0)


def test_the_sponge_city_lowers_runoff(runs):
    sponge, base = runs("sponge_city"), runs("p5_2h_normal_river")
    assert runoff_volume(sponge) < 0.95 * runoff_volume(base)
    assert flood(sponge) < flood(base)
    assert float(sponge.imperviousness.mean()) < float(base.imperviousness.mean())


def test_silted_old_town_sewers_flood_more(runs):
    blocked, base = runs("old_city_blockage"), runs("p2_2h_normal_river")
    assert flood(blocked) > flood(base)


def test_historical_event_uses_the_record_and_the_rising_rivers(runs):
    ds = runs("historical_event")
    record = read_rain_csv(SCENARIOS / "historical_event.csv")
    start = np.datetime64(WINDOW[0], "ns")
    window = record.between(start, start + np.timedelta64(WINDOW[1], "s"))
    assert ds.attrs["rain_depth"] == pytest.approx(window.gauge("xuancheng").sum() * 300)
    assert ds.attrs["start_datetime"] == "2020-07-06T10:00:00"
    head = ds.hydraulic_head.sel(node="OF_SY").values[0]
    assert head[0] == pytest.approx(12.5, abs=0.02) and head[-1] > head[0]


def test_a_scenario_reads_its_files_once():
    """The network and the scenario file are opened once each by hydro (SWMM reads the edited
    copy hydro writes, not the network): the hash in the results comes from the same read."""
    import sys

    opened: list[str] = []
    watching = [True]

    def hook(event, args):
        if watching[0] and event == "open" and args and isinstance(args[0], (str, Path)):
            opened.append(str(Path(args[0]).resolve()))

    path = SCENARIOS / "p5_2h_normal_river.toml"
    sys.addaudithook(hook)
    try:
        ds = run_scenario(shortened(load_scenario(path)))
    finally:
        watching[0] = False
    assert opened.count(str(NETWORK.resolve())) == 1
    assert opened.count(str(path.resolve())) == 1
    assert ds.attrs["network_sha256"] == file_sha256(NETWORK)
