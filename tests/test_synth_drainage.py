"""The Xuancheng drainage generator: what the model holds, that it is reproducible, and how it
behaves in SWMM under the design storms the issue names."""

from __future__ import annotations

import datetime as dt
import math
import stat
from pathlib import Path

import numpy as np
import pytest

from hydro.drainage import operations as ops
from hydro.drainage import read_inp, run
from hydro.drainage.assets import load_drainage_assets, sidecar_path
from hydro.drainage.inp import SwmmInput
from hydro.drainage.operations import set_river_stage
from hydro.drainage.rainfall import apply_rainfall
from hydro.drainage.spinup import DEFAULT_SPIN_UP
from hydro.errors import InputError, ScenarioError
from hydro.synth import city
from hydro.synth.drainage import bundled_rainfall, generate_drainage, plan, write_drainage
from hydro.synth.drainage.inp import GAUGE, assets_text, inp_text

BUNDLED = Path(__file__).resolve().parents[1] / "networks" / "xuancheng" / "drainage.inp"
WATERLOGGED = 0.15  # m of water in a lane (GB 50014)
WATERLOGGED_FOR = 1800.0  # s (A: ponding longer than 30 minutes counts)


@pytest.fixture(scope="module")
def model():
    return generate_drainage()


@pytest.fixture(scope="module")
def small():
    return generate_drainage(subcatchments=200, seed=5)


# ------------------------------------------------------------------------------------------------
# What the model holds


def test_default_model_covers_the_central_city(model):
    sc = model.subcatchments
    assert len(sc) == plan.DEFAULT_SUBCATCHMENTS
    assert 40e6 <= model.area <= 60e6
    assert np.isclose(sc["area"].sum(), model.area)
    assert ((sc["imperviousness"] > 0) & (sc["imperviousness"] < 1)).all()
    assert (sc["width"] > 0).all()
    assert sc["slope"].between(*plan.SLOPE_RANGE).all()
    assert set(sc["land_use"]) == {lu.name for lu in plan.LAND_USES}
    assert set(sc["outlet"]) <= set(model.junctions["name"])
    # Land use shows in the imperviousness: the old town is paved, green land is not.
    mean = sc.groupby("land_use")["imperviousness"].mean()
    assert mean["old_town"] > mean["residential"] > mean["green"]


def test_sewers_are_pipes_and_culverts_rivers_channels(model):
    sewers = model.conduits[model.conduits["tag"] != "river"]
    shapes = sewers["shape"].value_counts()
    assert shapes["CIRCULAR"] > shapes["RECT_CLOSED"] > 0
    rivers = model.conduits[model.conduits["tag"] == "river"]
    assert (rivers["shape"] == "TRAPEZOIDAL").all() and len(rivers) > 50
    assert (model.conduits["length"] >= plan.MIN_CONDUIT_LENGTH - 1e-9).all()


def test_pump_stations_match_the_facts(model):
    stations = {s["name"]: s for s in model.stations}
    assert set(stations) == {"bietuqiao", "station4", "chengdong", "jingting"}
    assert math.isclose(sum(s["design_capacity"] for s in stations.values()), 26.3)
    btq = stations["bietuqiao"]
    assert btq["design_capacity"] == 9.6
    assert btq["catchment_area"] == pytest.approx(7.97e6, rel=0.03)
    assert {s["polder"] for s in stations.values()} == {"chengdong", "jingting"}
    pumps = model.pumps.set_index("name")
    storage = model.storage.set_index("name")
    river_nodes = {n for r in model.rivers.values() for n in r.nodes}
    for s in stations.values():
        # Pumps and the sluice lift from the inner river into the station's river.
        assert storage.loc[s["wet_well"], "tag"] == "inner_river"
        units = pumps.loc[s["pumps"]]
        assert (units["from_node"] == s["wet_well"]).all()
        assert (units["to_node"] == s["outfall"]).all() and s["outfall"] in river_nodes
        assert s["outfall"] in model.rivers[s["river"]].nodes
        d = s["design"]
        # Levels: pre-storm drawdown < normal < design < highest < the lowest land of the catchment.
        assert d.bed < d.drawdown_level < d.normal_level < d.design_level < d.highest_level
        assert d.highest_level < d.bank < d.top
        # Units start one after another as the inner river rises, each above where it stops.
        assert list(d.pump_on) == sorted(d.pump_on) and list(d.pump_off) == sorted(d.pump_off)
        assert all(off < on for on, off in zip(d.pump_on, d.pump_off, strict=True))
        assert d.pump_off[0] == pytest.approx(d.drawdown_level)
        # The rated head lifts from the design inner level to the river's design flood level,
        # and the units still deliver at the record river level over the drawdown level.
        highest = plan.RECORD_STAGE + plan.OUTER_LEVEL_ALLOWANCE - d.drawdown_level
        assert d.design_head == pytest.approx(
            max(
                d.outer_design_level - d.design_level + plan.PUMP_HEAD_LOSS,
                highest / plan.MAX_HEAD_RATIO,
            )
        )
        assert highest <= plan.MAX_HEAD_RATIO * d.design_head + 1e-9
    curves = {name: points for name, _, points in model.curves}
    for s in stations.values():
        curve = curves[pumps.loc[s["pumps"][0], "curve"]]
        unit = s["design_capacity"] / len(s["pumps"])
        heads, flows = zip(*curve, strict=True)
        assert np.interp(s["design_head"], heads, flows) == pytest.approx(unit, rel=1e-3)
        assert list(flows) == sorted(flows, reverse=True)


def test_inner_rivers_store_the_polders_water(model):
    """Each station's inner river: a stage-area curve from its water surface (WATER_SURFACE_RATIO
    of the catchment at the normal level) up to the whole catchment above its highest land, and
    every sewer of the polder that carries more than POLDER_INLET_FLOW ends in it, above its
    bed."""
    curves = {name: points for name, kind, points in model.curves if kind == "STORAGE"}
    storage = model.storage.set_index("name")
    for s in model.stations:
        d = s["design"]
        depth, area = np.array(curves[storage.loc[s["wet_well"], "curve"]]).T
        assert (np.diff(depth) > 0).all() and (np.diff(area) >= 0).all()
        normal = np.interp(d.normal_level - d.bed, depth, area)
        assert normal == pytest.approx(plan.WATER_SURFACE_RATIO * s["catchment_area"], rel=1e-3)
        assert area[-1] == pytest.approx(s["catchment_area"], rel=1e-3)
        assert storage.loc[s["wet_well"], "max_depth"] == pytest.approx(depth[-1], abs=1e-3)
        inlets = model.conduits[model.conduits["to_node"] == s["wet_well"]]
        assert len(inlets) >= 1
        # The deep trunks' outlets lie below the normal level (submerged), none below the bed;
        # the normal level keeps its 1.2 m working range below the highest controlled level.
        ends = d.bed + inlets["out_offset"]
        assert (ends >= d.bed - 1e-6).all() and (inlets["out_offset"] >= 0).all()
        assert d.normal_level == pytest.approx(d.bank - plan.NORMAL_BELOW_BANK)
        assert d.highest_level - d.normal_level == pytest.approx(1.2)
        # The inner river starts at its pre-storm drawdown level.
        assert d.bed + storage.loc[s["wet_well"], "initial_depth"] == pytest.approx(
            d.drawdown_level
        )


def test_rivers_are_channels_into_the_gauge(model):
    """The Wanxi joins the Shuiyang, which ends at the gauge outfall (no flap gate); city outlets
    discharge into river nodes through flap gates; the rivers start at their steady levels."""
    sy, wx = model.rivers["shuiyang"], model.rivers["wanxi"]
    assert sy.nodes[-1] == "OF_SY" and wx.nodes[-1] in sy.nodes
    assert list(model.outfalls["name"]) == ["OF_SY"] and not model.outfalls["gated"].any()
    assert (model.outfalls["stage"] == 12.0).all()
    assert (np.diff(sy.bed) < 0).all() and (np.diff(wx.bed) < 0).all()
    river = model.conduits[model.conduits["tag"] == "river"]
    assert set(river["shape"]) == {"TRAPEZOIDAL"}
    river_nodes = set(sy.nodes) | set(wx.nodes)
    outlets = model.conduits[
        model.conduits["to_node"].isin(river_nodes) & (model.conduits["tag"] != "river")
    ]
    assert len(outlets) >= 30 and outlets["flap_gate"].all()
    assert not model.conduits.loc[~model.conduits.index.isin(outlets.index), "flap_gate"].any()
    assert set(model.inflows["node"]) == {sy.inflow_node, wx.inflow_node}
    inp = read_inp(BUNDLED)
    gated = {t[0] for t in inp.rows("LOSSES") if t[-1] == "YES"}
    assert gated == set(outlets["name"])
    depth = inp.junctions()["initial_depth"]
    level = depth + inp.junctions()["invert_elevation"]
    assert level["SY01"] > level[sy.nodes[-2]] >= 12.0  # a steady profile falling to the gauge
    assert (depth[list(sy.nodes[:-1])] > 0).all()


def test_waterlogging_points_are_dips_with_ponding(model):
    j = model.junctions.set_index("name")
    points = {p["node"]: p["kind"] for p in model.waterlogging_points}
    kinds = list(points.values())
    assert kinds.count("underpass") >= 3 and kinds.count("old_street") >= 3
    rim = j["invert"] + j["max_depth"]
    for node, kind in points.items():
        assert j.loc[node, "tag"] == kind
        assert rim[node] < j.loc[node, "ground"] - 0.5  # a dip in the street
        assert j.loc[node, "ponded_area"] > 0
    manholes = j[j["tag"] == "manhole"]
    ground = city.ground_elevation(manholes["x"], manholes["y"])
    np.testing.assert_allclose(rim[manholes.index], ground, atol=1e-9)
    assert (manholes["ponded_area"] > 0).all()


def test_every_manhole_drains_to_a_river_or_an_inner_river(model):
    out = model.conduits.groupby("from_node")["to_node"].agg(list)
    junctions = set(model.junctions["name"])
    assert all(len(out.get(j, [])) == 1 for j in junctions)
    ends = set(model.outfalls["name"]) | set(model.storage["name"])
    for start in junctions:
        node, steps = start, 0
        while node in junctions:
            node, steps = out[node][0], steps + 1
            assert steps <= len(junctions)
        assert node in ends


def test_sewers_fall_downstream_and_stay_underground(model):
    j = model.junctions.set_index("name")
    nodes = {
        **j["invert"].to_dict(),
        **model.storage.set_index("name")["invert"].to_dict(),
        **model.outfalls.set_index("name")["invert"].to_dict(),
    }
    tops = (j["invert"] + j["max_depth"]).to_dict()
    for c in model.conduits.itertuples():
        start = nodes[c.from_node] + c.in_offset
        end = nodes[c.to_node] + c.out_offset
        assert start >= end - 1e-9, c.name
        if c.from_node in tops:
            assert start + c.geom1 <= tops[c.from_node] + 1e-6, c.name
        if c.to_node in tops:
            assert end + c.geom1 <= tops[c.to_node] + 1e-6, c.name


def test_sewers_carry_their_design_flow(model):
    """Manning's full-flow capacity at the laid slope covers the rational-method design flow."""
    nodes = {
        **model.junctions.set_index("name")["invert"].to_dict(),
        **model.storage.set_index("name")["invert"].to_dict(),
        **model.outfalls.set_index("name")["invert"].to_dict(),
    }
    checked = 0
    for c in model.conduits.itertuples():
        if c.tag == "river":
            continue
        slope = (nodes[c.from_node] - nodes[c.to_node] - c.out_offset) / c.length
        if c.shape == "CIRCULAR":
            area, radius = math.pi * c.geom1**2 / 4, c.geom1 / 4
        elif c.shape == "RECT_CLOSED":
            area = c.geom1 * c.geom2
            radius = area / (2 * (c.geom1 + c.geom2))
        else:
            y, z = c.geom1 - plan.CHANNEL_FREEBOARD, c.geom3
            area = (c.geom2 + z * y) * y
            radius = area / (c.geom2 + 2 * y * math.sqrt(1 + z * z))
        capacity = c.barrels * area * radius ** (2 / 3) * math.sqrt(slope) / c.roughness
        assert capacity >= 0.999 * c.design_flow, c.name
        checked += 1
    assert checked > 1000


# ------------------------------------------------------------------------------------------------
# Reproducible, scalable, and strict about its arguments


def test_same_seed_same_bytes_other_seed_other_model(small):
    again = generate_drainage(subcatchments=200, seed=5)
    other = generate_drainage(subcatchments=200, seed=6)
    assert inp_text(again) == inp_text(small)
    assert assets_text(again, inp_name="x.inp") == assets_text(small, inp_name="x.inp")
    assert inp_text(other) != inp_text(small)


def test_bundled_files_are_the_generator_output(model):
    assert BUNDLED.read_text(encoding="utf-8") == inp_text(model), (
        "regenerate networks/xuancheng/drainage.inp with hydro.synth.drainage.write_drainage"
    )
    assert sidecar_path(BUNDLED).read_text(encoding="utf-8") == assets_text(
        model, inp_name=BUNDLED.name
    )


@pytest.mark.parametrize("count", [plan.MIN_SUBCATCHMENTS, 333, 777])
def test_exactly_the_requested_number_of_subcatchments(count):
    m = generate_drainage(subcatchments=count, seed=1)
    assert len(m.subcatchments) == count
    assert len(set(m.subcatchments["name"])) == count
    assert 40e6 <= m.area <= 60e6
    assert len(m.stations) == 4


def test_scales_to_ten_thousand_nodes():
    m = generate_drainage(subcatchments=10_000, seed=3)
    assert m.node_count >= 10_000
    assert len(m.subcatchments) == 10_000
    assert (m.conduits["length"] >= plan.MIN_CONDUIT_LENGTH - 1e-9).all()


@pytest.mark.parametrize("count", [0, -5, 99, 100_001, 1.5, "1500", True, None])
def test_refuses_impossible_requests(count):
    with pytest.raises(ScenarioError, match="subcatchments"):
        generate_drainage(subcatchments=count)


@pytest.mark.parametrize("seed", ["2024", -1, 2.0])
def test_refuses_a_bad_seed(seed):
    with pytest.raises(ScenarioError, match="seed"):
        generate_drainage(subcatchments=200, seed=seed)


def test_write_drainage_writes_the_inp_and_its_sidecar(tmp_path):
    out = tmp_path / "city.inp"
    assert write_drainage(out, subcatchments=150, seed=2) == out
    m = generate_drainage(subcatchments=150, seed=2)
    assert out.read_text(encoding="utf-8") == inp_text(m)
    assert sidecar_path(out).read_text(encoding="utf-8") == assets_text(m, inp_name=out.name)
    assert repr(m).startswith("DrainageModel(seed=2, 150 subcatchments")
    assert sidecar_path(out).name == "city_assets.toml"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    inp = read_inp(out)
    assert inp.flow_units == "CMS" and inp.allow_ponding
    assert inp.options["FLOW_ROUTING"] == "DYNWAVE"
    assets = load_drainage_assets(out)
    assert not assets.inferred
    assert [s.name for s in assets.pump_stations] == [s["name"] for s in m.stations]
    assert sorted(p.node for p in assets.waterlogging_points) == sorted(
        p["node"] for p in m.waterlogging_points
    )
    assert len(list(tmp_path.iterdir())) == 2


def test_write_drainage_refuses_a_bad_path(tmp_path):
    with pytest.raises(ScenarioError, match=r"\.inp"):
        write_drainage(tmp_path / "city.txt", subcatchments=150)
    with pytest.raises(InputError, match="does not exist"):
        write_drainage(tmp_path / "missing" / "city.inp", subcatchments=150)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# Design storm and river stage edits


def test_bundled_model_holds_the_default_storm_and_its_recession(model):
    inp = read_inp(BUNDLED)
    series = inp.rows("RAINGAGES")[0][5]
    rows = [t for t in inp.rows("TIMESERIES") if t[0] == series]
    assert {t[1] for t in inp.rows("SUBCATCHMENTS")} == {GAUGE}
    np.testing.assert_allclose(
        [float(t[3]) for t in rows[:-1]], model.storm.to_mm_per_hour(), rtol=1e-5
    )
    assert inp.start_datetime == inp.report_start_datetime == plan.START
    assert inp.end_datetime - plan.START == dt.timedelta(
        seconds=model.storm.duration + plan.RECESSION
    )


def test_a_design_storm_replaces_the_gauge_series_and_the_run_length():
    inp = read_inp(BUNDLED)
    storm = bundled_rainfall().design_storm(return_period=30, duration=3 * 3600, step=600)
    edited = apply_rainfall(apply_rainfall(inp, storm), storm, recession=1800)
    gauge = edited.rows("RAINGAGES")[0]
    assert gauge[1:3] == ["INTENSITY", "0:10:00"]
    rows = [t for t in edited.rows("TIMESERIES") if t[0] == gauge[5]]
    assert len(rows) == storm.intensity.size + 1  # applying twice does not pile up
    values = np.array([float(t[3]) for t in rows[:-1]])
    np.testing.assert_allclose(values, storm.to_mm_per_hour(), rtol=1e-5)
    assert rows[-1][2:] == ["03:00:00", "0"]
    assert edited.end_datetime - edited.start_datetime == dt.timedelta(seconds=3 * 3600 + 1800)
    assert inp.rows("TIMESERIES") != edited.rows("TIMESERIES")  # the original is untouched


def test_a_design_storm_names_its_gauge_and_speaks_the_model_units():
    storm = bundled_rainfall().design_storm(return_period=2)
    inp = read_inp(BUNDLED)
    with pytest.raises(ScenarioError, match="did you mean 'RG_CITY'"):
        apply_rainfall(inp, storm, gauge="RG_CITI")
    us = SwmmInput.from_text(
        "[OPTIONS]\nFLOW_UNITS CFS\n[RAINGAGES]\nG INTENSITY 0:05 1.0 "
        "TIMESERIES S\n[JUNCTIONS]\nJ 0 1\n[OUTFALLS]\nO 0 FREE\n"
    )
    edited = apply_rainfall(us, storm)
    first = next(t for t in edited.rows("TIMESERIES") if t[0] == edited.rows("RAINGAGES")[0][5])
    assert float(first[3]) == pytest.approx(storm.to_mm_per_hour()[0] / 25.4, rel=1e-5)  # in/h


def test_set_river_stage_sets_the_gauge_and_the_rivers_start_steady():
    inp = read_inp(BUNDLED)
    assets = load_drainage_assets(BUNDLED)
    raised = set_river_stage(inp, 16.5, river="shuiyang", assets=assets)
    table = raised.outfalls()
    assert (
        table.loc["OF_SY", "stage_data"] == "16.5" and table.loc["OF_SY", "outfall_type"] == "FIXED"
    )
    before = inp.junctions()
    after = raised.junctions()
    level = after["invert_elevation"] + after["initial_depth"]
    for node in assets.river("shuiyang").nodes[:-1] + assets.river("wanxi").nodes[:-1]:
        assert level[node] >= 16.5 - 1e-6, node  # the rivers start at the raised stage
    city = [n for n in before.index if n.startswith("J")]
    assert after.loc[city].equals(before.loc[city])
    with pytest.raises(ScenarioError, match="without an outfall of its own"):
        set_river_stage(inp, 16.5, river="wanxi", assets=assets)
    with pytest.raises(ScenarioError, match="did you mean 'OF_SY'"):
        set_river_stage(inp, 16.5, outfalls=["OF_SX"])
    with pytest.raises(ScenarioError, match="finite"):
        set_river_stage(inp, float("nan"))


# ------------------------------------------------------------------------------------------------
# Behaviour in SWMM: the bundled model in 2-hour design storms; the stations' control rules on a
# small model generated like it


def _design_run(*, return_period: float, flood: bool, recession: float):
    inp = read_inp(BUNDLED)
    assets = load_drainage_assets(inp)
    storm = bundled_rainfall().design_storm(return_period=return_period, duration=7200)
    inp = apply_rainfall(inp, storm, recession=recession)
    state = "flood" if flood else "normal"
    inp = ops.RiverStage(river="shuiyang", stage=state).apply(inp, assets=assets)
    for river in ("shuiyang", "wanxi"):
        inp = ops.RiverFlow(river=river, flow=state).apply(inp, assets=assets)
    return run(inp, scenario=f"P{return_period:g}", spin_up=DEFAULT_SPIN_UP)


@pytest.fixture(scope="module")
def normal_run():
    """2-year, 2-hour Chicago storm, rivers at their ordinary flood-season stage and flows."""
    return _design_run(return_period=2, flood=False, recession=3600)


@pytest.fixture(scope="module")
def flood_run():
    """30-year, 2-hour Chicago storm, the Shuiyang at its guaranteed level (16.5 m) at the gauge
    and both rivers carrying their 20-year floods."""
    return _design_run(return_period=30, flood=True, recession=3600)


def _ponded_depth(ds):
    area = ds["ponded_area"]
    return (ds["ponded_volume"].isel(scenario=0) / area.where(area > 0)).fillna(0.0)


def _time_above(ds, depth, threshold):
    step = float((ds["time"][1] - ds["time"][0]) / np.timedelta64(1, "s"))
    return (depth > threshold).sum("time") * step


def _assets():
    return load_drainage_assets(BUNDLED)


def test_two_year_storm_at_normal_stage_floods_few_or_no_points(normal_run):
    ds = normal_run
    flooded = int((ds["engine_flood_volume"].isel(scenario=0) > 0).sum())
    assert flooded <= 0.01 * ds.sizes["node"]
    deep_long = _time_above(ds, _ponded_depth(ds), WATERLOGGED) > WATERLOGGED_FOR
    assert int(deep_long.sum()) == 0


def test_thirty_year_storm_in_a_river_flood_waterlogs_several_points(flood_run):
    ds = flood_run
    points = list(_assets().waterlogging_nodes)
    long = _time_above(ds, _ponded_depth(ds).sel(node=points), WATERLOGGED)
    assert int((long > WATERLOGGED_FOR).sum()) >= 3
    assert int((ds["engine_flood_volume"].isel(scenario=0) > 0).sum()) > 50


def test_the_river_rises_with_what_the_city_sends_into_it(normal_run):
    """The Wanxi in the city rises above its level before the storm while the storm's water
    passes, and falls back after."""
    head = normal_run["hydraulic_head"].isel(scenario=0)
    wanxi = _assets().river("wanxi").nodes[10]
    before = float(head.sel(node=wanxi)[0])
    assert float(head.sel(node=wanxi).max()) > before + 0.2
    assert float(head.sel(node=wanxi)[-1]) < float(head.sel(node=wanxi).max())


def test_pumps_run_near_their_rated_point_in_a_river_flood(flood_run):
    """Lifting into a river at flood level, every unit that runs stays on its curve (SWMM's
    Pumping Summary: no time off the curve) and delivers 75-115 % of its rated flow."""
    ds = flood_run.isel(scenario=0)
    for station in _assets().pump_stations:
        rated = station.design_capacity / len(station.pumps)
        running = [p for p in station.pumps if float(ds.engine_pump_utilization.sel(link=p)) > 0]
        for pump in running:
            assert float(ds.engine_pump_off_curve_low.sel(link=pump)) == 0.0, pump
            assert float(ds.engine_pump_off_curve_high.sel(link=pump)) == 0.0, pump
            mean = float(ds.engine_pump_avg_flow.sel(link=pump))
            assert 0.75 * rated <= mean <= 1.15 * rated, (pump, mean / rated)


@pytest.mark.parametrize("which", ["normal_run", "flood_run"])
def test_continuity_errors_below_one_percent(which, request):
    ds = request.getfixturevalue(which)
    assert abs(ds.attrs["runoff_continuity_error"]) < 1.0
    assert abs(ds.attrs["flow_routing_continuity_error"]) < 1.0


@pytest.fixture(scope="module")
def rules_run(tmp_path_factory):
    """The small model through a 5-year storm while the Shuiyang rises from 8 m (below every
    inner river) to 17.8 m (above the pumping limit) from the first to the third hour; the inner
    rivers start high, so that the stations must drain them."""
    path = write_drainage(tmp_path_factory.mktemp("rules") / "small.inp", subcatchments=200, seed=5)
    model = generate_drainage(subcatchments=200, seed=5)
    inp = read_inp(path)
    assets = load_drainage_assets(inp)
    storm = bundled_rainfall().design_storm(return_period=5, duration=7200)
    inp = apply_rainfall(inp, storm, recession=4 * 3600)
    inp = ops.RiverStage(river="shuiyang", series=[(0, 8.0), (3600, 8.0), (3 * 3600, 17.8)]).apply(
        inp, assets=assets
    )
    depths = {
        st["name"]: st["design"].highest_level - st["design"].bed - 0.3 for st in model.stations
    }
    inp = ops.InitialState(depths=depths).apply(inp, assets=assets)
    return run(inp, scenario="rules").isel(scenario=0), model


def test_stations_drain_by_gravity_then_pump_as_the_river_rises(rules_run):
    ds, model = rules_run
    head, flow = ds["hydraulic_head"], ds["flow"]
    for st in model.stations:
        inner, river = head.sel(node=st["wet_well"]), head.sel(node=st["outfall"])
        pumped = flow.sel(link=st["pumps"]).sum("link")
        sluice = flow.sel(link=st["sluice"])
        below = river < inner - 0.2  # the river well below the inner river
        above = river > inner + 0.2
        assert bool(below.any()) and bool(above.any()), st["name"]
        # gravity (自排) while the river is low: the sluice runs, the pumps rest
        assert float(sluice.where(below).max()) > 0.1, st["name"]
        assert float(pumped.where(below).max()) == 0.0, st["name"]
        # pumping (抽排) once the river stands above the inner river: the sluice is shut
        assert float(np.abs(sluice.where(above)).max()) < 1e-3, st["name"]
        started = above & (inner > st["design"].pump_on[0] + 0.05)
        assert bool(started.any()) and float(pumped.where(started).min()) > 0.0, st["name"]


def test_pumping_is_limited_above_the_limit_stage(rules_run):
    ds, model = rules_run
    head, flow = ds["hydraulic_head"], ds["flow"]
    for st in model.stations:
        river = head.sel(node=st["outfall"])
        limited = river > plan.LIMIT_STAGE + 0.05
        assert bool(limited.any()), st["name"]
        half = st["pumps"][len(st["pumps"]) // 2 :]
        assert float(flow.sel(link=half).where(limited).max()) == 0.0, st["name"]


# GB 50014-2021 table 3.2.2-2 (composite runoff coefficient by district) and 3.2.2-1 (green land)
GB50014_RANGES = {
    "old_town": (0.60, 0.70),
    "commercial": (0.60, 0.70),
    "residential": (0.45, 0.60),
    "industrial": (0.45, 0.60),
    "public": (0.45, 0.60),
    "green": (0.10, 0.20),
    "open": (0.20, 0.45),
}


def test_runoff_coefficients_fall_in_gb50014_ranges():
    """One 1-ha subcatchment per land use, at the class's mean imperviousness and with the
    model's surface and infiltration parameters, in the 3-year, 2-hour design storm (the sewers'
    design storm): SWMM's runoff / rain falls in GB 50014's range for that kind of land."""
    uses = plan.LAND_USES
    rows = [
        f"S_{lu.name} RG O1 1 {lu.imperviousness * 100:g} {1e4 / lu.flow_length:g} 1 0"
        for lu in uses
    ]
    areas = [
        f"S_{lu.name} {plan.N_IMPERVIOUS} {plan.N_PERVIOUS} {plan.STORE_IMPERVIOUS} "
        f"{plan.STORE_PERVIOUS} {plan.PCT_ZERO} OUTLET"
        for lu in uses
    ]
    infil = [f"S_{lu.name} {' '.join(str(v) for v in plan.HORTON)} 0" for lu in uses]
    text = "\n".join(
        [
            "[OPTIONS]",
            "FLOW_UNITS CMS",
            "INFILTRATION HORTON",
            "FLOW_ROUTING KINWAVE",
            "START_DATE 07/01/2024",
            "START_TIME 00:00:00",
            "REPORT_STEP 00:01:00",
            "WET_STEP 00:01:00",
            "ROUTING_STEP 30",
            "DRY_DAYS 7",
            "[RAINGAGES]",
            "RG INTENSITY 0:05 1.0 TIMESERIES R",
            "[SUBCATCHMENTS]",
            *rows,
            "[SUBAREAS]",
            *areas,
            "[INFILTRATION]",
            *infil,
            "[OUTFALLS]",
            "O1 0 FREE",
            "[TIMESERIES]",
            "",
        ]
    )
    storm = bundled_rainfall().design_storm(return_period=3, duration=7200)
    ds = run(apply_rainfall(SwmmInput.from_text(text), storm, recession=6 * 3600))
    seconds = ds["time"].values / np.timedelta64(1, "s")
    runoff = ds["runoff"].isel(scenario=0).values  # m3/s on 1 ha
    volume = np.trapezoid(
        np.vstack([np.zeros(runoff.shape[1]), runoff]), np.concatenate([[0.0], seconds]), axis=0
    )
    coefficient = dict(zip(ds["subcatchment"].values, volume / (storm.depth * 1e4), strict=True))
    for lu in uses:
        low, high = GB50014_RANGES[lu.name]
        assert low <= coefficient[f"S_{lu.name}"] <= high, (lu.name, coefficient[f"S_{lu.name}"])
