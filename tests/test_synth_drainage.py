"""The Xuancheng drainage generator: what the model holds, that it is reproducible, and how it
behaves in SWMM under the design storms the issue names."""

from __future__ import annotations

import datetime as dt
import math
import stat
from pathlib import Path

import numpy as np
import pytest

from hydro.drainage import read_inp, run
from hydro.drainage.assets import load_drainage_assets, sidecar_path
from hydro.drainage.inp import SwmmInput
from hydro.drainage.operations import set_river_stage
from hydro.drainage.rainfall import apply_rainfall
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


def test_sewers_are_pipes_culverts_and_channels(model):
    shapes = model.conduits["shape"].value_counts()
    assert shapes["CIRCULAR"] > shapes["RECT_CLOSED"] > 0
    assert shapes["TRAPEZOIDAL"] > 0
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
    storage = set(model.storage["name"])
    for s in stations.values():
        assert s["wet_well"] in storage and s["discharge_chamber"] in storage
        units = pumps.loc[s["pumps"]]
        assert (units["from_node"] == s["wet_well"]).all()
        # Units start one after another as the wet well fills, and stop lower down.
        assert list(units["startup"]) == sorted(units["startup"])
        assert (units["shutoff"] < units["startup"]).all()
    curves = {name: points for name, _, points in model.curves}
    for s in stations.values():
        curve = curves[pumps.loc[s["pumps"][0], "curve"]]
        unit = s["design_capacity"] / len(s["pumps"])
        heads, flows = zip(*curve, strict=True)
        assert np.interp(s["design_head"], heads, flows) == pytest.approx(unit, rel=1e-3)
        assert list(flows) == sorted(flows, reverse=True)


def test_outfalls_have_flap_gates_and_the_normal_river_stage(model):
    of = model.outfalls
    assert of["gated"].all()
    assert set(of["river"]) == {"wanxi", "shuiyang"}
    assert (of["stage"] == 12.0).all()
    assert model.orifices["gated"].all() and len(model.orifices) == len(model.stations)


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


def test_every_manhole_drains_to_an_outfall_or_a_wet_well(model):
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
        if c.tag == "discharge":
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


def test_set_river_stage_changes_only_the_outfalls_of_the_river():
    inp = read_inp(BUNDLED)
    assets = load_drainage_assets(BUNDLED)
    wanxi = assets.outfalls_of("wanxi")
    table = set_river_stage(inp, 16.5, river="wanxi", assets=assets).outfalls()
    assert (table.loc[list(wanxi), "stage_data"].astype(float) == 16.5).all()
    others = table.drop(index=list(wanxi))
    assert (others["stage_data"].astype(float) == 12.0).all()
    assert table["gated"].all() and (table["outfall_type"] == "FIXED").all()
    everywhere = set_river_stage(inp, 13.25).outfalls()
    assert (everywhere["stage_data"].astype(float) == 13.25).all()
    with pytest.raises(ScenarioError, match="did you mean 'OF_WA01'"):
        set_river_stage(inp, 16.5, outfalls=["OF_WA01x"])
    with pytest.raises(ScenarioError, match="finite"):
        set_river_stage(inp, float("nan"))


# ------------------------------------------------------------------------------------------------
# Behaviour in SWMM (the bundled model, 2-hour design storms)


def _design_run(*, return_period: float, stage: float | None, recession: float):
    inp = read_inp(BUNDLED)
    storm = bundled_rainfall().design_storm(return_period=return_period, duration=7200)
    inp = apply_rainfall(inp, storm, recession=recession)
    if stage is not None:
        inp = set_river_stage(inp, stage)
    return run(inp, scenario=f"P{return_period:g}")


@pytest.fixture(scope="module")
def normal_run():
    """2-year, 2-hour Chicago storm, rivers at their normal stage (12 m)."""
    return _design_run(return_period=2, stage=None, recession=2 * 3600)


@pytest.fixture(scope="module")
def flood_run():
    """30-year, 2-hour Chicago storm, rivers at the guaranteed level of 16.5 m."""
    return _design_run(return_period=30, stage=16.5, recession=2 * 3600)


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


def test_thirty_year_storm_at_flood_stage_waterlogs_several_points(flood_run):
    ds = flood_run
    points = list(_assets().waterlogging_nodes)
    long = _time_above(ds, _ponded_depth(ds).sel(node=points), WATERLOGGED)
    assert int((long > WATERLOGGED_FOR).sum()) >= 3
    assert int((ds["engine_flood_volume"].isel(scenario=0) > 0).sum()) > 50


def test_thirty_year_storm_at_flood_stage_runs_the_pumps_at_full_capacity(flood_run):
    flow = flood_run["flow"].isel(scenario=0)
    for station in _assets().pump_stations:
        units = flow.sel(link=list(station.pumps))
        assert float(units.sum("link").max()) >= station.design_capacity, station.name
        assert bool((units > 0).all("link").any()), f"{station.name}: never all units at once"


def test_sluices_drain_by_gravity_only_while_the_river_is_lower(normal_run, flood_run):
    assets = _assets()
    normal = normal_run["flow"].isel(scenario=0)
    assert max(float(normal.sel(link=g.link).max()) for g in assets.gravity_outlets) > 1.0
    head = flood_run["hydraulic_head"].isel(scenario=0)
    flow = flood_run["flow"].isel(scenario=0)
    for g in assets.gravity_outlets:
        wet_well = assets.station(g.station).wet_well
        open_ = flow.sel(link=g.link) > 0.01
        assert bool((head.sel(node=wet_well)[open_] > 16.5 - 0.05).all()), g.name


@pytest.mark.parametrize("which", ["normal_run", "flood_run"])
def test_continuity_errors_below_one_percent(which, request):
    ds = request.getfixturevalue(which)
    assert abs(ds.attrs["runoff_continuity_error"]) < 1.0
    assert abs(ds.attrs["flow_routing_continuity_error"]) < 1.0
