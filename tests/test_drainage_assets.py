"""Named assets of a drainage model: read from the sidecar, checked against the INP, or inferred."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hydro.drainage import read_inp
from hydro.drainage.assets import INFERRED_KIND, load_drainage_assets, sidecar_path
from hydro.errors import InputError, ScenarioError
from hydro.synth.drainage import write_drainage
from tests.conftest import corpus_params

BUNDLED = Path(__file__).resolve().parents[1] / "networks" / "xuancheng" / "drainage.inp"


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    """A small generated model with its sidecar, to copy and spoil."""
    path = tmp_path_factory.mktemp("assets") / "small.inp"
    write_drainage(path, subcatchments=120, seed=11)
    return path


@pytest.fixture
def spoil(small_model, tmp_path):
    """Copy the small model and replace text in its sidecar; returns the new INP path."""

    def make(old: str, new: str, count: int = 1) -> Path:
        inp = tmp_path / small_model.name
        shutil.copy(small_model, inp)
        text = sidecar_path(small_model).read_text(encoding="utf-8")
        assert old in text, old
        sidecar_path(inp).write_text(text.replace(old, new, count), encoding="utf-8")
        return inp

    return make


# ------------------------------------------------------------------------------------------------
# The bundled sidecar


def test_bundled_assets_name_the_stations_rivers_and_points():
    assets = load_drainage_assets(BUNDLED)
    assert not assets.inferred and assets.sidecar == sidecar_path(BUNDLED)
    btq = assets.station("bietuqiao")
    assert btq.name_zh == "别土桥泵站" and btq.design_capacity == 9.6
    assert btq.polder == "chengdong" and btq.river == "shuiyang"
    polders = {p.name: p for p in assets.polders}
    assert polders["chengdong"].name_zh == "城东联圩" and polders["chengdong"].area == 20.9e6
    assert polders["jingting"].area == 3.8e6
    assert {s.polder for s in assets.pump_stations} <= set(polders)
    assert btq.catchment_area == pytest.approx(7.97e6, rel=0.03)
    assert sum(s.design_capacity for s in assets.pump_stations) == pytest.approx(26.3)
    inp = read_inp(BUNDLED)
    pumps = {t[0]: t[1] for t in inp.rows("PUMPS")}
    for station in assets.pump_stations:
        assert {pumps[p] for p in station.pumps} == {station.wet_well}
    assert sorted(p for s in assets.pump_stations for p in s.pumps) == sorted(pumps)
    # The rivers are channels: the Wanxi joins the Shuiyang, whose stage is set at its gauge.
    wanxi, shuiyang = assets.river("wanxi"), assets.river("shuiyang")
    assert wanxi.is_channel and shuiyang.is_channel
    assert wanxi.outfalls == () and shuiyang.outfalls == ("OF_SY",) == assets.outfalls_of()
    assert wanxi.nodes[-1] in shuiyang.nodes and shuiyang.nodes[-1] == "OF_SY"
    assert (wanxi.inflow_node, shuiyang.inflow_node) == (wanxi.nodes[0], shuiyang.nodes[0])
    assert (wanxi.normal_flow, wanxi.flood_flow, wanxi.flood_return_period) == (30, 460, 20)
    assert shuiyang.flood_stage == 16.5 and shuiyang.limit_stage == 17.0
    assert assets.station("jingting").outfall in wanxi.nodes
    assert assets.station("bietuqiao").outfall in shuiyang.nodes
    assert [(o.name, o.river, o.gated) for o in assets.outfalls] == [("OF_SY", "shuiyang", False)]
    storage = set(inp.storage().index)
    assert {n for p in polders.values() for n in p.storage} == storage
    assert {s.wet_well for s in assets.pump_stations} == storage
    assert {g.station for g in assets.gravity_outlets} == {s.name for s in assets.pump_stations}
    kinds = {p.kind for p in assets.waterlogging_points}
    assert kinds == {"underpass", "old_street"}
    junctions = inp.junctions()
    assert (junctions.loc[list(assets.waterlogging_nodes), "ponded_area"] > 0).all()


def test_bundled_land_use_covers_every_subcatchment():
    assets = load_drainage_assets(BUNDLED)
    subcatchments = read_inp(BUNDLED).subcatchments().index
    assert set(assets.subcatchment_land_use) == set(subcatchments)
    classes = {u.name for u in assets.land_uses}
    assert set(assets.subcatchment_land_use.values()) <= classes
    assert all(0 < u.imperviousness < 1 for u in assets.land_uses)


def test_unknown_names_get_a_hint():
    assets = load_drainage_assets(BUNDLED)
    with pytest.raises(ScenarioError, match="did you mean 'bietuqiao'"):
        assets.station("bietuqio")
    with pytest.raises(ScenarioError, match="did you mean 'wanxi'"):
        assets.river("wanxy")


# ------------------------------------------------------------------------------------------------
# Inference when there is no sidecar


def test_without_a_sidecar_assets_are_inferred_from_the_inp(tmp_path):
    inp_path = tmp_path / "copy.inp"
    shutil.copy(BUNDLED, inp_path)
    assets = load_drainage_assets(inp_path)
    assert assets.inferred and assets.sidecar is None
    stations = {s.wet_well: s for s in assets.pump_stations}
    assert set(stations) == {"IR_BTQ", "IR_PS4", "IR_CD", "IR_JT"}
    assert stations["IR_BTQ"].pumps == ("P_BTQ_1", "P_BTQ_2", "P_BTQ_3", "P_BTQ_4")
    # The curves' largest flow (at zero head) of the four units.
    assert stations["IR_BTQ"].design_capacity == pytest.approx(4 * 2.4 * 1.15, rel=1e-3)
    junctions = read_inp(inp_path).junctions()
    assert set(assets.waterlogging_nodes) == set(junctions.index[junctions["ponded_area"] > 0])
    assert {p.kind for p in assets.waterlogging_points} == {INFERRED_KIND}
    assert assets.rivers == () and assets.gravity_outlets == ()
    assert len(assets.outfalls_of()) == len(read_inp(inp_path).outfalls())
    with pytest.raises(ScenarioError, match="no river 'wanxi'"):
        assets.outfalls_of("wanxi")
    assert len(assets.subcatchment_land_use) == len(read_inp(inp_path).subcatchments())


def test_without_ponded_areas_every_junction_is_a_point(corpus_file):
    path = corpus_file("swmm", "Example1.inp")
    assets = load_drainage_assets(path)
    junctions = read_inp(path).junctions()
    assert (junctions["ponded_area"] == 0).all()
    assert set(assets.waterlogging_nodes) == set(junctions.index)


def test_pump_capacity_comes_from_the_curve_in_si(corpus_file):
    assets = load_drainage_assets(corpus_file("swmm", "Example3.inp"))
    (station,) = assets.pump_stations
    assert station.wet_well == "SU1" and station.pumps == ("PUMP1",)
    assert station.design_capacity == pytest.approx(0.9 * 0.3048**3)  # 0.9 cfs


@pytest.mark.parametrize("path", corpus_params("swmm"))
def test_every_corpus_model_gets_assets(path):
    inp = read_inp(path)
    assets = load_drainage_assets(path)
    pumps = [t[0] for t in inp.rows("PUMPS")]
    assert sorted(p for s in assets.pump_stations for p in s.pumps) == sorted(pumps)
    assert set(assets.outfalls_of()) == set(inp.outfalls().index)
    assert set(assets.waterlogging_nodes) <= set(inp.junctions().index)
    for station in assets.pump_stations:
        assert station.design_capacity is None or station.design_capacity > 0


# ------------------------------------------------------------------------------------------------
# A malformed sidecar is an InputError naming the file and the entry


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("format = 1", "format = [", "not valid TOML"),
        ("format = 1", "format = 2", "format = 2"),
        (
            "[[pump_stations]]",
            "[[pump_station]]",
            r"pump_station: unknown key; did you mean "
            r"'pump_stations'",
        ),
        ('wet_well = "IR_BTQ"', 'wetwell = "IR_BTQ"', "wetwell: unknown key"),
        (
            'pumps = ["P_BTQ_1"',
            'pumps = ["P_BTQ_9"',
            r"pumps: 'P_BTQ_9' is not a pump of small.inp",
        ),
        ('wet_well = "IR_BTQ"', 'wet_well = "IR_XYZ"', r"wet_well: 'IR_XYZ' is not a node"),
        ('inflow_node = "SY01"', 'inflow_node = "SY99"', r"inflow_node: 'SY99' is not a node"),
        ('nodes = ["SY01"', 'nodes = ["SYXX"', r"rivers.shuiyang.nodes\[0\]: 'SYXX' is not a node"),
        (
            'storage = ["IR_JT"]',
            'storage = ["SY01"]',
            r"storage\[0\]: 'SY01' is not a storage unit",
        ),
        ("normal_flow = 30 ", "normal_flow = -30 ", "normal_flow: Input should be greater than"),
        (
            "design_capacity = 9.6",
            "design_capacity = -9.6",
            "design_capacity: Input should be greater than 0",
        ),
        ('name = "station4"', 'name = "bietuqiao"', "'bietuqiao' is listed twice"),
        ('polder = "jingting"', 'polder = "jingtin"', "did you mean 'jingting'"),
        ('link = "SL_BTQ"', 'link = "SL_NONE"', "'SL_NONE' is not a link"),
        ('kind = "underpass"', 'kind = ""', "kind: String should have at least 1 character"),
    ],
)
def test_malformed_sidecar(spoil, old, new, message):
    path = spoil(old, new)
    with pytest.raises(InputError, match=message) as err:
        load_drainage_assets(path)
    assert "small_assets.toml" in str(err.value)


def test_an_outfall_on_two_rivers_is_refused(spoil):
    path = spoil("outfalls = []", 'outfalls = ["OF_SY"]')  # the Wanxi's list
    with pytest.raises(
        InputError, match=r"outfall 'OF_SY' is listed under rivers\.wanxi and rivers\.shuiyang"
    ):
        load_drainage_assets(path)
