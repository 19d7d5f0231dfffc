"""The scores against SWMM's own report, over the corpus.

SWMM accumulates its Node Flooding and Pumping Summaries at every routing step (stats.c:
``timeFlooded += tStep`` while the node overflows or holds ponded water, ``volFlooded += overflow *
tStep``, a pump is on while its flow exceeds 0.001 cfs). The Dataset holds reporting steps, so each
model is run here with REPORT_STEP equal to a fixed routing step (VARIABLE_STEP 0): then every
routing state is reported and the scores, with the rectangle rule, must give the report's figures.

Tolerance, as asked of the scoring layer: the larger of half a unit of the report's last printed
digit and 2 % of the reported value. "Hours Flooded" is printed as max(0.01, hours) (statsrpt.c),
so a node flooded for less than 36 s reads 0.01 h; the comparison applies the same floor.

Left out: user2 and user4, which do not flood and have no pumps (4 s and 12 s with fixed 5 s
steps). user3's routing step of 0.5 s cannot be a REPORT_STEP (whole seconds): it runs at 1 s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hydro.drainage import read_inp, run, si_factors
from hydro.scoring import WaterloggingRules, score_stations, score_waterlogging
from hydro.scoring.score import drainage_assets_from_dataset
from tests.conftest import CORPUS, REPO, corpus_params

SLOW_DRY = ("user2.inp", "user4.inp")
RELATIVE = 0.02  # 2 % of the reported value
FLOAT32 = 2e-6  # the .out holds float32: relative slack on top of the printed digit


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@pytest.fixture(scope="module")
def every_step():
    """A corpus model run with REPORT_STEP = ROUTING_STEP (fixed), cached per module."""
    cache = {}

    def get(name: str):
        if name not in cache:
            path = CORPUS / "swmm" / f"{name}.inp"
            if not path.is_file():
                pytest.skip(f"corpus model not found: {path}")
            inp = read_inp(path)
            step = max(1, math.ceil(inp.routing_step))
            cache[name] = run(
                inp.with_options(
                    {"REPORT_STEP": _clock(step), "ROUTING_STEP": step, "VARIABLE_STEP": 0}
                )
            )
        return cache[name]

    return get


def _m3_per_printed_volume(system: str) -> float:
    """m3 in one printed volume unit (10^6 gal or 10^6 ltr), on the adapter's scale (SWMM prints
    ft3 x 7.48e-6 or x 28.317e-6; the adapter reads them back with 0.3048^3 or 0.02832 m3/ft3)."""
    return 0.3048**3 / 7.48e-6 if system == "US" else 0.02832 / 28.317e-6


def _printed(decimals: int, unit: float = 1.0) -> float:
    """Half a unit of the last printed digit, in SI."""
    return 0.5 * 10.0**-decimals * unit


def assert_report(ours, engine, half_unit: float, what: str, names) -> None:
    """|ours - engine| <= max(half printed unit, 2 % of engine) (+ float32 slack)."""
    ours, engine = np.asarray(ours, float), np.asarray(engine, float)
    allowed = np.maximum(half_unit, RELATIVE * np.abs(engine)) + FLOAT32 * np.abs(engine) + 1e-12
    bad = ~(np.abs(ours - engine) <= allowed)
    assert not bad.any(), f"{what} differs from SWMM's report at " + ", ".join(
        f"{n}: {o:.6g} vs {e:.6g}"
        for n, o, e in zip(np.asarray(names)[bad], ours[bad], engine[bad], strict=True)
    )


def check_flooding(ds, scores) -> int:
    """Every figure of the Node Flooding Summary; returns the number of flooded nodes."""
    ds, sc = ds.isel(scenario=0), scores.isel(scenario=0)
    f = si_factors(ds.attrs["flow_units"])
    listed = ~np.isnan(ds.engine_flood_volume.values)
    ours = sc.flooded_duration.values > 0
    names = ds.node.values
    assert list(names[ours]) == list(names[listed]), "flooded nodes differ from the report's"
    rate_decimals = 3 if ds.attrs["flow_units"] == "CMS" else 2
    sub, mine = ds.isel(node=listed), sc.isel(node=listed)
    hours = np.maximum(mine.flooded_duration.values, 36.0)  # printed as max(0.01 h, t)
    assert_report(
        hours, sub.engine_flooded_duration, _printed(2, 3600.0), "hours flooded", sub.node
    )
    assert_report(
        mine.peak_flooding_rate,
        sub.engine_max_flooding_rate,
        _printed(rate_decimals, f.flow),
        "maximum rate",
        sub.node,
    )
    assert_report(
        mine.flood_volume,
        sub.engine_flood_volume,
        _printed(3, _m3_per_printed_volume(f.unit_system)),
        "total flood volume",
        sub.node,
    )
    pond = mine.can_pond.values.astype(bool)
    if pond.any():
        assert_report(
            mine.max_ponded_depth.values[pond],
            sub.engine_max_ponded_depth.values[pond],
            _printed(3, f.length),
            "maximum ponded depth",
            sub.node.values[pond],
        )
    return int(listed.sum())


@pytest.mark.parametrize("model", corpus_params("swmm", exclude=SLOW_DRY))
def test_node_flooding_summary(model, every_step):
    ds = every_step(model.stem)
    scores = score_waterlogging(ds)
    flooded = check_flooding(ds, scores)
    if flooded == 0:
        assert float(scores.flood_volume.max()) == 0.0
        assert (scores.hazard_rank.values == 0).all()


@pytest.mark.parametrize(
    "name", ["Example3", "user3", "Sprenger", "extran6", "extran7", "extran10"]
)
def test_pumping_summary(name, every_step):
    ds = every_step(name)
    assets = drainage_assets_from_dataset(ds)
    scores = score_stations(ds, assets.pump_stations).isel(scenario=0)
    f = si_factors(ds.attrs["flow_units"])
    engine = ds.isel(scenario=0).sel(link=scores.pump.values)
    assert scores.sizes["pump"] == int((ds.link_type == "pump").sum()) > 0
    assert_report(
        scores.pump_utilization,
        engine.engine_pump_utilization,
        _printed(4),
        "percent utilized",
        scores.pump,
    )
    assert_report(
        scores.pump_volume,
        engine.engine_pumped_volume,
        _printed(3, _m3_per_printed_volume(f.unit_system)),
        "total volume",
        scores.pump,
    )
    flow_decimals = 3 if ds.attrs["flow_units"] == "CMS" else 2
    assert_report(
        scores.pump_peak_flow,
        engine.engine_pump_max_flow,
        _printed(flow_decimals, f.flow),
        "maximum flow",
        scores.pump,
    )
    # a station's volume is its pumps' volumes
    per_station = scores.pump_volume.groupby(scores.pump_station).sum()
    np.testing.assert_allclose(
        per_station.sel(pump_station=scores.station.values), scores.station_pumped_volume, rtol=1e-9
    )


def test_enough_corpus_models_flood(every_step):
    """The flooding cross-check is not vacuous: these models flood (measured: 12 of 25)."""
    if not (CORPUS / "swmm").is_dir():
        pytest.skip("corpus not found")
    flooding = [
        n
        for n in ("Example1", "user1", "Sprenger", "user3", "extran7")
        if (~np.isnan(every_step(n).engine_flood_volume.values)).any()
    ]
    assert len(flooding) == 5


# --- ponding: the maximum ponded depth (SWMM reports it only when ponding is on) --------------


def test_ponded_depth_on_the_tiny_model():
    """tests/data/swmm/tiny.inp ponds (ALLOW_PONDING YES, 200 m2 at J1) with a fixed 10 s step."""
    ds = run(REPO / "tests" / "data" / "swmm" / "tiny.inp")
    assert ds.attrs["report_step"] == ds.attrs["routing_step"] == 10
    scores = score_waterlogging(ds)
    assert check_flooding(ds, scores) >= 1
    j1 = scores.sel(node="J1", scenario=ds.scenario.values[0])
    assert j1.can_pond == 1 and j1.max_ponded_depth > 0


def test_ponded_depth_on_a_ponding_copy_of_user1(corpus_file):
    """user1 with every junction given 100 m2 of ponded area and ALLOW_PONDING YES (5 s steps).

    Time flooded then includes the time water stands ponded (SWMM counts newVolume >
    fullVolume), and the ponded depth is SWMM's depth above the rim. Ponded volume / area reads
    deeper (SWMM's ponded volume also fills the conduits' surface): measured 5-40 % here.
    """
    inp = read_inp(corpus_file("swmm", "user1.inp"))
    rows = {t[0]: [*t[:5], 100, *t[6:]] for t in inp.rows("JUNCTIONS")}
    inp = inp.replace_rows("JUNCTIONS", rows).with_options(
        {"REPORT_STEP": "00:00:05", "ROUTING_STEP": 5, "VARIABLE_STEP": 0, "ALLOW_PONDING": "YES"}
    )
    ds = run(inp)
    scores = score_waterlogging(ds)
    assert check_flooding(ds, scores) >= 14
    by_volume = score_waterlogging(ds, rules=WaterloggingRules(ponded_depth="volume"))
    deep = scores.max_ponded_depth.values > 0.05
    ratio = by_volume.max_ponded_depth.values[deep] / scores.max_ponded_depth.values[deep]
    assert ratio.min() > 1.0 and ratio.max() < 1.6
