"""Drainage scenario operations: the INP edits they make, the errors they raise, and what SWMM
does with the edited model (pump rules, scaled curves, silted sections, river stages)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydro.drainage import operations as ops
from hydro.drainage import read_inp, run
from hydro.drainage.assets import load_drainage_assets
from hydro.drainage.inp import SwmmInput
from hydro.errors import InputError, ScenarioError

DATA = Path(__file__).parent / "data" / "swmm"
STATION = DATA / "pump_station.inp"  # sidecar pump_station_assets.toml: station_a, river_a


@pytest.fixture(scope="module")
def inp() -> SwmmInput:
    return read_inp(STATION)


@pytest.fixture(scope="module")
def assets(inp):
    return load_drainage_assets(inp)


@pytest.fixture(scope="module")
def base(inp):
    return run(inp)


def rows(model: SwmmInput, section: str) -> dict[str, list[str]]:
    return {t[0]: t for t in model.rows(section)}


def rules(model: SwmmInput) -> str:
    return "\n".join(model.section("CONTROLS"))


def peak_pumping(ds) -> float:
    return float(ds.flow.sel(link=["P1", "P2"]).sum("link").max().item())


# ------------------------------------------------------------------------------------------------
# river_stage


def test_constant_stage_on_a_river_keeps_gates(inp, assets):
    out = ops.RiverStage(river="river_a", stage="flood").apply(inp, assets=assets)
    table = out.outfalls()
    assert table.loc["OF1", "outfall_type"] == "FIXED" and table.loc["OF1", "stage_data"] == "14"
    assert table.loc["OF2", "outfall_type"] == "FIXED"  # was FREE: now on the river
    assert bool(table.loc["OF1", "gated"]) and not bool(table.loc["OF2", "gated"])
    assert inp.outfalls().loc["OF2", "outfall_type"] == "FREE"  # the input is untouched


def test_stage_series_becomes_an_outfall_timeseries(inp, assets):
    op = ops.RiverStage(outfalls=["OF1"], series=[("0h", 12.0), ("90min", 13.5)])
    out = op.apply(inp, assets=assets)
    kind, name = out.outfalls().loc["OF1", ["outfall_type", "stage_data"]]
    assert kind == "TIMESERIES"
    assert [t[1:] for t in out.rows("TIMESERIES") if t[0] == name] == [
        ["0:00:00", "12"],
        ["1:30:00", "13.5"],
    ]


def test_high_stage_holds_the_outfall_and_backs_water_up(inp, assets, base):
    ds = run(ops.RiverStage(river="river_a", stage=15.0).apply(inp, assets=assets))
    assert np.allclose(ds.hydraulic_head.sel(node="OF1").values, 15.0, atol=1e-3)
    # the chamber cannot drain below the river: the pumps lift against 3 m more head
    assert ds.engine_max_depth.sel(node="CH").item() > base.engine_max_depth.sel(node="CH").item()
    assert peak_pumping(ds) < peak_pumping(base)


def test_stage_in_a_us_model_is_written_in_feet(corpus_file):
    inp = read_inp(corpus_file("swmm", "Example3.inp"))
    invert_ft = inp.outfalls().loc["KRO2005", "invert_elevation"]
    stage_m = invert_ft * 0.3048 + 1.0
    out = ops.set_river_stage(inp, stage_m, outfalls=["KRO2005"])
    written = float(out.outfalls().loc["KRO2005", "stage_data"])
    assert written == pytest.approx(invert_ft + 1.0 / 0.3048)


@pytest.mark.parametrize(
    "op, words",
    [
        (
            ops.RiverStage(outfalls=["OF1"], stage=3.0),
            "river stage 3 m is below the invert of outfall 'OF1' (10.900 m); a stage is a water level",
        ),
        (ops.RiverStage(river="river_a", stage=2.0), "below the invert of every outfall of river"),
        (
            ops.RiverStage(outfalls=["OF9"], stage=12.0),
            "unknown outfall 'OF9': did you mean 'OF2' or 'OF1'?",
        ),
        (ops.RiverStage(river="wanxi", stage=12.0), "unknown river 'wanxi': known: 'river_a'"),
    ],
)
def test_river_stage_errors(inp, assets, op, words):
    with pytest.raises(ScenarioError, match=re.escape(words)):
        op.apply(inp, assets=assets)


def test_river_by_name_needs_a_sidecar(inp):
    with pytest.raises(ScenarioError, match="no sidecar naming its rivers; name the outfalls"):
        ops.RiverStage(river="river_a", stage=12.0).apply(inp, assets=None)


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"stage": 12.0, "series": [("0h", 12.0)]}, "give only one of stage, series"),
        ({}, "give one of stage, series"),
        ({"stage": "flood"}, "needs river"),
        ({"series": [("1h", 12.0), ("1h", 13.0)]}, "series times must increase"),
        ({"stage": float("nan")}, "finite"),
    ],
)
def test_river_stage_schema(fields, words):
    with pytest.raises(ValueError, match=words):
        ops.RiverStage(**fields)


# ------------------------------------------------------------------------------------------------
# pump_outage and pump_capacity


def test_outage_rules(inp, assets):
    out = ops.PumpOutage(station="station_a", start="30min", end="1h30min").apply(
        inp, assets=assets
    )
    text = rules(out)
    for pump in ("P1", "P2"):
        assert f"RULE HYDRO_OUTAGE_{pump}" in text
        assert f"THEN PUMP {pump} STATUS = OFF" in text
    assert "IF SIMULATION TIME >= 0.500000\nAND SIMULATION TIME < 1.500000" in text
    assert "HYDRO_RESTORE" not in text  # depth-controlled pumps restart by themselves
    assert out.options["RULE_STEP"] == "00:00:00"  # was 5 min: rules must act every step


def test_outage_stops_the_pumps_only_inside_the_window(inp, assets, base):
    ds = run(ops.PumpOutage(station="station_a", start="20min", end="1h").apply(inp, assets=assets))
    minutes = ds.time.values / np.timedelta64(60, "s")
    flow = ds.flow.sel(link="P1").values[0]
    inside = (minutes > 25) & (minutes < 60)
    assert np.all(flow[inside] == 0.0)
    assert flow[minutes > 60].max() > 0.3  # back on once the window closes
    assert base.flow.sel(link="P1").values[0][inside].max() > 0.3
    assert ds.engine_max_depth.sel(node="WW").item() > base.engine_max_depth.sel(node="WW").item()


def test_outage_of_an_always_on_pump_is_restored(inp, assets):
    always_on = inp.replace_rows("PUMPS", {"P1": ["P1", "WW", "CH", "PC1", "ON", "0", "0"]})
    out = ops.PumpOutage(station="P1", start="10min", end="40min").apply(always_on, assets=assets)
    assert (
        "RULE HYDRO_RESTORE_P1\nIF SIMULATION TIME >= 0.666667\n"
        "THEN PUMP P1 STATUS = ON\nPRIORITY 0" in rules(out)
    )
    ds = run(out)
    minutes = ds.time.values / np.timedelta64(60, "s")
    flow = ds.flow.sel(link="P1").values[0]
    assert np.all(flow[(minutes > 12) & (minutes < 40)] == 0.0)
    assert flow[minutes > 45].max() > 0.0


def test_outage_leaves_rule_driven_pumps_to_their_rules(corpus_file):
    inp = read_inp(corpus_file("swmm", "Example3.inp"))  # PUMP1 is driven by rules PUMP1A/B
    out = ops.PumpOutage(station="PUMP1", start="1h", end="2h").apply(
        inp, assets=load_drainage_assets(inp)
    )
    assert "HYDRO_OUTAGE_PUMP1" in rules(out) and "HYDRO_RESTORE" not in rules(out)
    ds = run(out)
    hours = ds.time.values / np.timedelta64(3600, "s")
    flow = ds.flow.sel(link="PUMP1").values[0]
    assert np.all(flow[(hours > 1.1) & (hours < 2)] == 0.0)
    assert flow[hours > 2.1].max() > 0.0  # its own rules switch it on again


def test_inferred_station_is_named_after_its_wet_well(inp):
    inferred = load_drainage_assets(SwmmInput(inp.blocks))  # no source: no sidecar
    out = ops.PumpOutage(station="WW").apply(inp, assets=inferred)
    assert "PUMP P1 STATUS = OFF" in rules(out) and "PUMP P2 STATUS = OFF" in rules(out)


def test_capacity_for_the_whole_run_scales_a_copy_of_the_curve(inp, assets):
    out = ops.PumpCapacity(station="P1", fraction=0.5).apply(inp, assets=assets)
    pumps = rows(out, "PUMPS")
    assert pumps["P1"][3] == "PC1_x0.5" and pumps["P2"][3] == "PC1"
    curve = [t for t in out.rows("CURVES") if t[0] == "PC1_x0.5"]
    assert curve[0][1] == "PUMP3"
    assert [float(t[-1]) for t in curve] == [0.25, 0.225, 0.15, 0.0]
    assert [float(t[-2]) for t in curve] == [0, 5, 8, 10]


def test_capacity_by_curve_and_by_rules_pump_the_same(inp, assets, base):
    whole = run(ops.PumpCapacity(station="station_a", fraction=0.5).apply(inp, assets=assets))
    windowed_op = ops.PumpCapacity(station="station_a", fraction=0.5, start=0, end="3h")
    windowed = windowed_op.apply(inp, assets=assets)
    assert "THEN PUMP P1 SETTING = 0.5" in rules(windowed)
    assert "AND NODE WW DEPTH >= 0.5" in rules(windowed)
    by_rules = run(windowed)
    assert peak_pumping(whole) < 0.55 * peak_pumping(base)
    assert peak_pumping(by_rules) == pytest.approx(peak_pumping(whole), rel=0.05)
    depth = [ds.engine_max_depth.sel(node="WW").item() for ds in (base, whole, by_rules)]
    assert depth[1] > depth[0] and depth[2] == pytest.approx(depth[1], rel=0.05)


def test_ideal_pump_has_no_capacity_to_scale(inp, assets):
    ideal = inp.replace_rows("PUMPS", {"P1": ["P1", "WW", "CH", "*", "ON", "1.5", "0.5"]})
    with pytest.raises(ScenarioError, match="'P1' is an ideal pump"):
        ops.PumpCapacity(station="P1", fraction=0.5).apply(ideal, assets=assets)


@pytest.mark.parametrize(
    "op, error, words",
    [
        (
            ops.PumpOutage(station="station_b"),
            ScenarioError,
            "unknown pump station or pump 'station_b': did you mean 'station_a'",
        ),
        (ops.PumpOutage(station=["P1", "P11"]), ScenarioError, "'P11': did you mean 'P1'"),
        (
            ops.PumpOutage(station="P1", start="4h"),
            ScenarioError,
            "starts at 4:00:00, when the simulation has already ended \\(3:00:00\\)",
        ),
        (ops.PumpCapacity(station="P1", fraction=0.5, start="5h"), ScenarioError, "already ended"),
    ],
)
def test_pump_errors(inp, assets, op, error, words):
    with pytest.raises(error, match=words):
        op.apply(inp, assets=assets)


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"station": "P1", "start": "2h", "end": "1h"}, "end \\(1:00:00\\) must come after start"),
        ({"station": []}, "name at least one"),
    ],
)
def test_outage_schema(fields, words):
    with pytest.raises(ValueError, match=words):
        ops.PumpOutage(**fields)


@pytest.mark.parametrize("fraction", [0, 1.5, -0.1])
def test_capacity_fraction_range(fraction):
    with pytest.raises(ValueError):
        ops.PumpCapacity(station="P1", fraction=fraction)


# ------------------------------------------------------------------------------------------------
# blockage


def open_area(shape: str, g: list[float]) -> float:
    """Open area of a section by plain geometry (the reference for silted_section)."""
    if shape == "CIRCULAR":
        return math.pi * g[0] ** 2 / 4
    if shape == "FILLED_CIRCULAR":
        return math.pi * g[0] ** 2 / 4 - ops.circle_fill_area(g[0], g[1])
    if shape in ("RECT_CLOSED", "RECT_OPEN"):
        return g[0] * g[1]
    if shape == "TRAPEZOIDAL":
        return g[1] * g[0] + 0.5 * (g[2] + g[3]) * g[0] ** 2
    if shape == "TRIANGULAR":
        return 0.5 * g[0] * g[1]
    if shape == "HORIZ_ELLIPSE":
        return math.pi * g[0] * g[1] / 4
    raise ValueError(shape)


@pytest.mark.parametrize(
    "shape, geoms",
    [
        ("CIRCULAR", [1.2, 0, 0, 0]),
        ("FILLED_CIRCULAR", [1.0, 0.2, 0, 0]),
        ("RECT_CLOSED", [1.5, 2.0, 0, 0]),
        ("RECT_OPEN", [1.0, 3.0, 0, 0]),
        ("TRAPEZOIDAL", [2.0, 3.0, 1.5, 2.0]),
        ("TRIANGULAR", [1.0, 2.0, 0, 0]),
        ("HORIZ_ELLIPSE", [1.0, 1.6, 0, 0]),
    ],
)
@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.75])
def test_silted_section_loses_the_fraction_of_area(shape, geoms, fraction):
    new_shape, new_geoms, fill = ops.silted_section(shape, geoms, fraction)
    assert open_area(new_shape, new_geoms) == pytest.approx(
        (1 - fraction) * open_area(shape, geoms), rel=1e-9
    )
    if shape in ("RECT_CLOSED", "RECT_OPEN", "TRAPEZOIDAL", "TRIANGULAR"):
        assert fill > 0 and new_geoms[0] == pytest.approx(geoms[0] - fill)
    else:
        assert fill == 0.0


@given(st.floats(0.05, 5.0), st.floats(0.0, 1.0))
def test_circle_fill_depth_inverts_the_segment_area(diameter, share):
    area = share * math.pi * diameter**2 / 4
    depth = ops.circle_fill_depth(diameter, area)
    assert 0.0 <= depth <= diameter
    assert ops.circle_fill_area(diameter, depth) == pytest.approx(area, abs=1e-9 * diameter**2)


def test_blockage_by_name_edits_sections_and_offsets(inp, assets):
    out = ops.Blockage(conduits=["C1", "C2", "C3"], fraction=0.5).apply(inp, assets=assets)
    xs, cd = rows(out, "XSECTIONS"), rows(out, "CONDUITS")
    assert xs["C1"][1] == "FILLED_CIRCULAR" and float(xs["C1"][3]) == pytest.approx(0.3)
    assert xs["C2"][1:4] == ["RECT_CLOSED", "0.5", "1.2"] and cd["C2"][5:7] == ["0.5", "0.5"]
    assert xs["C3"][1] == "TRAPEZOIDAL" and float(cd["C3"][6]) > 2.5  # outlet offset raised
    assert xs["C1"][-1] == "1" and rows(out, "CONDUITS")["C1"] == rows(inp, "CONDUITS")["C1"]


def test_blockage_raises_flooding_and_swmm_accepts_the_sections(inp, assets, base):
    ds = run(ops.Blockage(conduits=["C1", "C2", "C3"], fraction=0.6).apply(inp, assets=assets))
    assert ds.attrs.get("engine_warnings") is None
    flood = ds.engine_flood_volume.fillna(0).sum().item()
    assert flood > base.engine_flood_volume.fillna(0).sum().item() + 100.0


def test_blockage_by_area_picks_conduits_by_midpoint(inp, assets):
    op = ops.Blockage(
        area=ops.Area(polygon=[(-10, -10), (310, -10), (310, 10), (-10, 10)]), fraction=0.2
    )
    changed = {
        k
        for k, v in rows(op.apply(inp, assets=assets), "XSECTIONS").items()
        if v != rows(inp, "XSECTIONS")[k]
    }
    assert changed == {"C1", "C2"}  # C3's midpoint is at x = 450


def test_blockage_with_elevation_offsets():
    text = STATION.read_text().replace("LINK_OFFSETS         DEPTH", "LINK_OFFSETS ELEVATION")
    text = text.replace(
        "C2      J2    J3   200     0.013      0         0",
        "C2      J2    J3   200     0.013      *         9.3",
    )
    model = SwmmInput.from_text(text)
    out = ops.Blockage(conduits=["C2"], fraction=0.5).apply(model)
    assert rows(out, "CONDUITS")["C2"][5:7] == ["10.1", "9.8"]  # J2 invert 9.6 + 0.5; 9.3 + 0.5


@pytest.mark.parametrize(
    "op, words",
    [
        (ops.Blockage(conduits=["C9"], fraction=0.5), "unknown conduit 'C9'"),
        (ops.Blockage(conduits=["P1"], fraction=0.5), "unknown conduit 'P1'"),
        (
            ops.Blockage(area=ops.Area(box=(1000, 1000, 2000, 2000)), fraction=0.5),
            "holds no conduits; the model's conduits lie within x",
        ),
    ],
)
def test_blockage_errors(inp, assets, op, words):
    with pytest.raises(ScenarioError, match=words):
        op.apply(inp, assets=assets)


def test_irregular_sections_are_refused(corpus_file):
    inp = read_inp(corpus_file("swmm", "extran8a.inp"))
    irregular = next(t[0] for t in inp.rows("XSECTIONS") if t[1].upper() == "IRREGULAR")
    with pytest.raises(ScenarioError, match=f"conduit '{irregular}' has an IRREGULAR section"):
        ops.Blockage(conduits=[irregular], fraction=0.3).apply(inp)


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"fraction": 0.5}, "give one of conduits, area"),
        ({"fraction": 1.0, "conduits": ["C1"]}, "less than 1"),
        ({"fraction": 0.5, "area": {"box": [5, 0, 1, 1]}}, "xmin < xmax"),
        ({"fraction": 0.5, "area": {"polygon": [[0, 0], [1, 1]]}}, "at least 3 points"),
    ],
)
def test_blockage_schema(fields, words):
    with pytest.raises(ValueError, match=words):
        ops.Blockage(**fields)


# ------------------------------------------------------------------------------------------------
# imperviousness


def test_imperviousness_by_land_use_with_storage(inp, assets):
    op = ops.Imperviousness(land_use="residential", factor=0.5, extra_storage="10 mm")
    out = op.apply(inp, assets=assets)
    sub, areas = rows(out, "SUBCATCHMENTS"), rows(out, "SUBAREAS")
    assert [sub[n][4] for n in ("S1", "S2", "S3")] == ["40", "50", "30"]
    assert areas["S1"][3:5] == ["12", "15"] and areas["S2"][3:5] == ["2", "5"]  # +10 mm


def test_imperviousness_by_name_and_by_area(inp, assets):
    named = ops.Imperviousness(subcatchments=["S2"], imperviousness=0.2).apply(inp)
    assert rows(named, "SUBCATCHMENTS")["S2"][4] == "20"
    boxed = ops.Imperviousness(area=ops.Area(box=(-200, 200, 200, 500)), factor=2.0).apply(inp)
    assert [rows(boxed, "SUBCATCHMENTS")[n][4] for n in ("S1", "S3")] == ["80", "100"]  # capped


def test_less_imperviousness_lowers_runoff(inp, assets, base):
    op = ops.Imperviousness(land_use=["residential", "commercial"], factor=0.5, extra_storage=0.005)
    ds = run(op.apply(inp, assets=assets))
    assert ds.runoff.sum().item() < 0.8 * base.runoff.sum().item()


def test_extra_storage_in_a_us_model_is_in_inches(corpus_file):
    inp = read_inp(corpus_file("swmm", "Example1.inp"))
    name, before = next((t[0], float(t[3])) for t in inp.rows("SUBAREAS"))
    op = ops.Imperviousness(subcatchments=[name], factor=1.0, extra_storage=0.0254)
    out = op.apply(inp)
    assert float(rows(out, "SUBAREAS")[name][3]) == pytest.approx(before + 1.0)


@pytest.mark.parametrize(
    "op, words",
    [
        (
            ops.Imperviousness(land_use="parkland", factor=0.5),
            "unknown land use 'parkland': known: 'commercial', 'residential'",
        ),
        (ops.Imperviousness(subcatchments=["S4"], factor=0.5), "unknown subcatchment 'S4'"),
        (
            ops.Imperviousness(area=ops.Area(box=(900, 900, 950, 950)), factor=0.5),
            "holds no subcatchments",
        ),
    ],
)
def test_imperviousness_errors(inp, op, words):
    with pytest.raises(ScenarioError, match=words):
        op.apply(inp)


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"land_use": "x"}, "give one of imperviousness, factor"),
        ({"land_use": "x", "factor": 1, "imperviousness": 0.5}, "give only one of"),
        ({"factor": 0.5}, "give one of subcatchments, land_use, area"),
        ({"land_use": "x", "imperviousness": 40}, "less than or equal to 1"),
    ],
)
def test_imperviousness_schema(fields, words):
    with pytest.raises(ValueError, match=words):
        ops.Imperviousness(**fields)


# ------------------------------------------------------------------------------------------------
# initial_state


def test_initial_depths_by_station_and_node(inp, assets):
    out = ops.InitialState(depths={"station_a": 2.5, "J1": 0.2}).apply(inp, assets=assets)
    assert rows(out, "STORAGE")["WW"][3] == "2.5" and rows(out, "JUNCTIONS")["J1"][3] == "0.2"


def test_a_full_wet_well_starts_the_pumps_at_once(inp, assets, base):
    ds = run(ops.InitialState(depths={"WW": 3.0}).apply(inp, assets=assets))
    first = ds.flow.sel(link="P1").values[0, 0]
    assert first > 0.3 and base.flow.sel(link="P1").values[0, 0] == 0.0


def test_hotstart_file(inp, tmp_path):
    saved = tmp_path / "wet.hsf"
    saved.write_bytes(b"placeholder")
    out = ops.InitialState(hotstart=saved).apply(inp)
    assert rows(out, "FILES")["USE"] == ["USE", "HOTSTART", str(saved)]
    with pytest.raises(InputError, match="no such hotstart file"):
        ops.InitialState(hotstart=tmp_path / "none.hsf").apply(inp)


@pytest.mark.parametrize(
    "depths, words",
    [
        ({"WW": 6.0}, "initial depth 6 m at 'WW' is more than its full depth \\(5.000 m\\)"),
        ({"WW1": 1.0}, "unknown storage unit or junction 'WW1': did you mean 'WW'"),
    ],
)
def test_initial_state_errors(inp, assets, depths, words):
    with pytest.raises(ScenarioError, match=words):
        ops.InitialState(depths=depths).apply(inp, assets=assets)


def test_initial_state_schema():
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        ops.InitialState(depths={"WW": -1.0})
    with pytest.raises(ValueError, match="give one of depths, hotstart"):
        ops.InitialState()


# ------------------------------------------------------------------------------------------------


def test_operations_are_pure(inp, assets):
    text = inp.text()
    for op in (
        ops.RiverStage(stage=13.0),
        ops.PumpOutage(station="station_a"),
        ops.Blockage(conduits=["C2"], fraction=0.4),
        ops.Imperviousness(land_use="residential", factor=0.5),
        ops.InitialState(depths={"WW": 1.0}),
    ):
        out = op.apply(inp, assets=assets)
        assert out is not inp and out.text() != text
        assert op.describe()
    assert inp.text() == text
