"""Waterlogging scores on hand-made series whose answers are known, and the rules behind them."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hydro.drainage.assets import WaterloggingPoint
from hydro.errors import InputError, ScenarioError
from hydro.results import build_dataset, read_netcdf, write_netcdf
from hydro.scoring import (
    WaterloggingRules,
    city_summary,
    load_rules,
    read_surface_tables,
    score_waterlogging,
)

STEP = 60.0  # s between reports


def drainage_ds(
    rate,
    *,
    ponded=None,
    depth=None,
    full_depth=None,
    ponded_area=None,
    allow_ponding=False,
    step=STEP,
    node_type=None,
    scenarios=None,
) -> xr.Dataset:
    """A SWMM-like run Dataset: rate (S, T, N) [m3/s]; the first report one step after start."""
    rate = np.asarray(rate, dtype=np.float32)
    n_scen, n_time, n_node = rate.shape
    data = {"flooding_rate": rate}
    if ponded is not None:
        data["ponded_volume"] = np.asarray(ponded, dtype=np.float32)
    if depth is not None:
        data["water_depth"] = np.asarray(depth, dtype=np.float32)
    nodes = [f"N{i}" for i in range(n_node)]
    coords = {
        "scenario": (
            "scenario",
            np.array(scenarios or [f"s{k}" for k in range(n_scen)], dtype=object),
        ),
        "time": ("time", (np.arange(1, n_time + 1) * step * 1e9).astype("timedelta64[ns]")),
        "node": ("node", np.array(nodes, dtype=object)),
        "node_type": ("node", np.array(node_type or ["junction"] * n_node, dtype=object)),
        "full_depth": (
            "node",
            np.asarray(full_depth if full_depth is not None else [2.0] * n_node, dtype=float),
        ),
        "ponded_area": (
            "node",
            np.asarray(ponded_area if ponded_area is not None else [0.0] * n_node, dtype=float),
        ),
    }
    attrs = {
        "engine": "SWMM",
        "network_file": "hand.inp",
        "allow_ponding": int(allow_ponding),
        "created": "2024-06-01T00:00:00+00:00",
    }
    return build_dataset(data, coords=coords, attrs=attrs)


def one(series):
    """(1, T, 1) from a 1-D series."""
    return np.asarray(series, dtype=float)[None, :, None]


def test_flooding_of_a_triangle():
    ds = drainage_ds(one([0, 1, 2, 1, 0, 0]))
    sc = score_waterlogging(ds).isel(scenario=0, node=0)
    assert float(sc.flood_volume) == pytest.approx(STEP * 4)  # rectangle: sum q * dt
    assert float(sc.flooded_duration) == pytest.approx(3 * STEP)
    assert float(sc.peak_flooding_rate) == 2.0
    assert float(sc.time_of_peak_flooding) == pytest.approx(3 * STEP)
    assert float(sc.flooding_onset) == pytest.approx(STEP)  # the interval 60-120 s
    assert np.isnan(sc.max_ponded_depth) and int(sc.hazard_class) == -1
    assert int(sc.hazard_rank) == 1


def test_trapezoid_rule_is_an_option():
    ds = drainage_ds(one([0, 1, 2, 1, 0, 0]))
    trap = score_waterlogging(ds, rules=WaterloggingRules(rule="trapezoid")).isel(scenario=0)
    assert float(trap.flood_volume[0]) == pytest.approx(STEP * 4)  # starts and ends dry
    assert float(trap.flooded_duration[0]) == pytest.approx(4 * STEP)


def test_a_dry_node_has_no_times_and_no_rank():
    sc = score_waterlogging(drainage_ds(one([0, 0, 0]))).isel(scenario=0, node=0)
    assert float(sc.flood_volume) == 0 and float(sc.flooded_duration) == 0
    assert np.isnan(sc.flooding_onset) and np.isnan(sc.time_of_peak_flooding)
    assert int(sc.hazard_rank) == 0


def _ponding_node(above_rim, *, rate=None, step=600.0):
    """One pondable node (full depth 2 m, 100 m2) with the given depth above its rim."""
    above = np.asarray(above_rim, dtype=float)
    rate = np.zeros_like(above) if rate is None else np.asarray(rate, dtype=float)
    return drainage_ds(
        one(rate),
        depth=one(2.0 + above),
        ponded=one(np.maximum(above, 0) * 150),
        ponded_area=[100.0],
        allow_ponding=True,
        step=step,
    )


def test_hazard_matrix_thirty_minutes_or_more_counts():
    # 0.4 m deep; deeper than 15 cm for exactly 3 x 10 min = 30 min: "30 minutes or more" counts,
    # 0.30-0.50 m deep for 30-60 min: class 2 (moderate)
    ds = _ponding_node([0, 0.1, 0.2, 0.4, 0.2, 0.1, 0], rate=[0, 1, 0, 0, 0, 0, 0])
    sc = score_waterlogging(ds).isel(scenario=0, node=0)
    assert float(sc.max_ponded_depth) == pytest.approx(0.4, abs=1e-6)
    assert float(sc.waterlogged_duration) == pytest.approx(1800.0)
    assert int(sc.hazard_class) == 2
    # 20 minutes deeper than 15 cm: not waterlogged
    ds = _ponding_node([0, 0.1, 0.2, 0.4, 0.1, 0.1, 0], rate=[0, 1, 0, 0, 0, 0, 0])
    assert int(score_waterlogging(ds).isel(scenario=0, node=0).hazard_class) == 0
    # 40 min above 15 cm, 0.30-0.50 m deep: class 2 (moderate)
    ds = _ponding_node([0, 0.1, 0.2, 0.4, 0.3, 0.2, 0.1], rate=[0, 1, 0, 0, 0, 0, 0])
    sc = score_waterlogging(ds).isel(scenario=0, node=0)
    assert float(sc.waterlogged_duration) == pytest.approx(2400.0)
    assert int(sc.hazard_class) == 2
    assert float(sc.hazard_score) == pytest.approx(2 * 600.0)  # weight 2 x 600 m3
    assert float(sc.waterlogging_onset) == pytest.approx(1200.0)  # interval 1200-1800 s
    assert float(sc.time_of_max_ponded_depth) == pytest.approx(2400.0)
    assert float(sc.waterlogging_recession) == pytest.approx(3600.0 - 2400.0)


def test_ponded_time_counts_as_flooded():
    """SWMM's Hours Flooded: overflow > 0 or water ponded above the node."""
    ds = _ponding_node([0, 0.05, 0.1, 0.05, 0, 0], rate=[0, 1, 0, 0, 0, 0])
    sc = score_waterlogging(ds).isel(scenario=0, node=0)
    assert float(sc.flooded_duration) == pytest.approx(3 * 600.0)
    assert float(sc.flood_volume) == pytest.approx(600.0)


def test_ponded_depth_from_volume_is_volume_over_area():
    ds = _ponding_node([0, 0.2, 0.4, 0.0])  # ponded volume = 150 m3 per m above rim
    engine = score_waterlogging(ds).isel(scenario=0, node=0)
    volume = score_waterlogging(ds, rules=WaterloggingRules(ponded_depth="volume"))
    assert float(engine.max_ponded_depth) == pytest.approx(0.4, abs=1e-6)
    assert float(volume.isel(scenario=0, node=0).max_ponded_depth) == pytest.approx(0.6, rel=1e-6)


def test_no_ponding_without_allow_ponding():
    ds = drainage_ds(one([0, 1, 0]), depth=one([2, 2.5, 2]), ponded_area=[100.0])
    sc = score_waterlogging(ds)
    assert int(sc.can_pond[0]) == 0 and np.isnan(sc.max_ponded_depth[0, 0])


def test_ranking_known_classes_and_unknown_by_volume():
    # N0 ponds, class 4 (0.6 m for 2.5 h) with 20 m3; N1 and N2 do not pond (100 and 50 m3); N3 dry
    n_time = 20
    rate = np.zeros((1, n_time, 4))
    rate[0, 1, 0] = 20 / 600
    rate[0, 1, 1] = 100 / 600
    rate[0, 1, 2] = 50 / 600
    above = np.zeros((1, n_time, 4)) - 1.0
    above[0, 2:17, 0] = 0.6
    ds = drainage_ds(
        rate,
        depth=2.0 + above,
        ponded=np.maximum(above, 0) * 100,
        ponded_area=[100.0, 0, 0, 0],
        allow_ponding=True,
        step=600.0,
    )
    sc = score_waterlogging(ds).isel(scenario=0)
    assert list(sc.hazard_class.values) == [4, -1, -1, -1]
    assert float(sc.hazard_score[0]) == pytest.approx(8 * 20.0, rel=1e-5)
    assert np.isnan(sc.hazard_score[1])
    assert list(sc.hazard_rank.values) == [1, 2, 3, 0]  # 160 > 100 > 50; dry: 0
    summary = city_summary(score_waterlogging(ds), worst=3)
    assert list(summary.worst_node.values[0]) == ["N0", "N1", "N2"]
    assert int(summary.waterlogged_nodes[0]) == 1 and int(summary.flooded_nodes[0]) == 3
    assert float(summary.total_flood_volume[0]) == pytest.approx(170.0, rel=1e-5)


def test_named_points_are_what_the_city_summary_counts():
    rate = np.zeros((1, 20, 2))
    rate[0, 1, :] = 0.1
    above = np.full((1, 20, 2), -1.0)
    above[0, 2:10, :] = 0.35
    ds = drainage_ds(
        rate,
        depth=2.0 + above,
        ponded=np.maximum(above, 0) * 100,
        ponded_area=[100.0, 100.0],
        allow_ponding=True,
        step=600.0,
    )
    points = (WaterloggingPoint("N1", "underpass", "underpass 1", "下穿通道1"),)
    sc = score_waterlogging(ds, points=points)
    assert list(sc.point_name.values) == ["", "underpass 1"]
    assert list(sc.point_kind.values) == ["", "underpass"]
    summary = city_summary(sc)
    assert int(summary.waterlogged_nodes[0]) == 2 and int(summary.waterlogged_points[0]) == 1
    with pytest.raises(InputError, match="N9"):
        score_waterlogging(ds, points=(WaterloggingPoint("N9", "underpass", "x"),))


def test_surface_tables_give_depth_where_the_model_does_not_pond(tmp_path):
    # 1 m3/s lost for 150 s: 150 m3 on the surface -> 0.2 + 50 * 0.004 = 0.4 m, never receding
    ds = drainage_ds(one([1, 1, 0.5, 0, 0]), step=60.0)
    csv = tmp_path / "surface.csv"
    csv.write_text(
        "node,volume,depth\n# lane of N0\nN0,0,0\nN0,100,0.2\nN0,200,0.6\n", encoding="utf-8"
    )
    tables = read_surface_tables(csv)
    sc = score_waterlogging(ds, surface=tables).isel(scenario=0, node=0)
    assert float(sc.max_ponded_depth) == pytest.approx(0.4)
    assert int(sc.hazard_class) >= 0
    assert float(sc.waterlogged_duration) == pytest.approx(4 * 60.0)  # from 60 s to the end


@pytest.mark.parametrize(
    "text, match",
    [
        ("node,volume\nN0,1\n", "missing column"),
        ("node,volume,depth\nN0,0,0\nN0,0,0.2\n", "rise strictly"),
        ("node,volume,depth\nN0,0,abc\n", "line 2"),
        ("node,volume,depth\nN0,0,0\n", "at least two"),
    ],
)
def test_bad_surface_tables_are_named(tmp_path, text, match):
    csv = tmp_path / "surface.csv"
    csv.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_surface_tables(csv)


def test_surface_table_of_an_unknown_node():
    ds = drainage_ds(one([1, 0]))
    with pytest.raises(InputError, match="NX"):
        score_waterlogging(ds, surface={"NX": ([0, 1], [0, 1])})


def test_an_ensemble_scores_each_member_as_alone():
    rng = np.random.default_rng(7)
    rate = np.where(rng.random((3, 30, 5)) > 0.7, rng.random((3, 30, 5)), 0.0)
    ds = drainage_ds(rate)
    together = score_waterlogging(ds)
    for k in range(3):
        alone = score_waterlogging(ds.isel(scenario=[k]))
        for name in ("flood_volume", "flooded_duration", "peak_flooding_rate", "hazard_rank"):
            np.testing.assert_array_equal(together[name].values[k], alone[name].values[0])


def test_scores_round_trip_through_netcdf(tmp_path):
    ds = _ponding_node([0, 0.1, 0.2, 0.4, 0.3, 0.2, 0.1], rate=[0, 1, 0, 0, 0, 0, 0])
    sc = score_waterlogging(ds, points=(WaterloggingPoint("N0", "old_street", "老街"),))
    both = sc.merge(city_summary(sc))
    back = read_netcdf(write_netcdf(both, tmp_path / "scores.nc"))
    xr.testing.assert_identical(back.drop_attrs(), both.drop_attrs())
    assert back.point_name.values[0] == "老街" and back.worst_node.values[0, 0] == "N0"
    assert back.hazard_class.attrs["flag_meanings"].startswith("unknown none low")
    assert back.attrs["network_file"] == "hand.inp" and back.attrs["scores"] == "waterlogging"


def test_a_supply_dataset_is_refused_in_words():
    ds = build_dataset(
        {"pressure_head": np.zeros((1, 2, 1), np.float32)},
        coords={"scenario": ["s"], "node": ["J1"], "time": np.array([0, 3600], "timedelta64[s]")},
    )
    with pytest.raises(InputError, match="flooding_rate"):
        score_waterlogging(ds)


# --- rules --------------------------------------------------------------------------------------


def test_rules_are_checked_when_made():
    with pytest.raises(ScenarioError, match="4 x 4"):
        WaterloggingRules(classes=((0, 1), (1, 2)))
    with pytest.raises(ScenarioError, match="increasing"):
        WaterloggingRules(depth_edges=(0.3, 0.15, 0.5))
    with pytest.raises(ScenarioError, match="class_names"):
        WaterloggingRules(class_names=("a", "b"))
    with pytest.raises(ScenarioError, match="rule"):
        WaterloggingRules(rule="simpson")


def test_rules_file_with_units(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[waterlogging]\nlane_depth = "10 cm"\nduration_edges = ["15min", "1h", "3h"]\n'
        '[supply]\nservice_head = "0.28 MPa"\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"supply\.service_head"):
        load_rules(path)
    path.write_text(
        '[waterlogging]\nlane_depth = "10 cm"\nduration_edges = ["15min", "1h", "3h"]\n'
        "[supply]\nservice_head = 24\n",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.waterlogging.lane_depth == pytest.approx(0.1)
    assert rules.waterlogging.duration_edges == (900.0, 3600.0, 10800.0)
    assert rules.supply.service_head == 24.0


def test_rules_file_unknown_key(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[waterlogging]\nlane_dept = 0.1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"lane_dept.*unknown key.*lane_depth"):
        load_rules(path)


def test_a_stricter_lane_depth_waterlogs_more():
    ds = _ponding_node([0, 0.12, 0.12, 0.12, 0.12, 0.12, 0])
    default = score_waterlogging(ds).isel(scenario=0, node=0)
    strict = score_waterlogging(
        ds, rules=WaterloggingRules(lane_depth=0.1, depth_edges=(0.1, 0.3, 0.5))
    ).isel(scenario=0, node=0)
    assert float(default.waterlogged_duration) == 0 and int(default.hazard_class) == 0
    assert float(strict.waterlogged_duration) == pytest.approx(3000.0)
    assert int(strict.hazard_class) == 1  # 0.1-0.3 m for 30-60 min: low


def test_many_or_few_ponding_nodes_give_the_same_answers():
    """Mostly-ponding models are swept whole, the others column by column: same numbers."""
    rng = np.random.default_rng(3)
    n_time = 40
    above = np.where(rng.random((2, n_time, 5)) > 0.5, rng.random((2, n_time, 5)), -0.5)
    rate = np.where(above > 0.3, 0.2, 0.0)
    area = [100.0, 100.0, 100.0, 0.0, 0.0]
    ds = drainage_ds(
        rate,
        depth=2.0 + above,
        ponded=np.maximum(above, 0) * 100,
        ponded_area=area,
        allow_ponding=True,
        step=300.0,
    )
    whole = score_waterlogging(ds)  # 3 of 5 nodes pond: swept whole
    few = score_waterlogging(ds.isel(node=[0, 3, 4]))  # 1 of 3: column by column
    for name in (
        "max_ponded_depth",
        "waterlogged_duration",
        "flooded_duration",
        "hazard_class",
        "waterlogging_recession",
    ):
        np.testing.assert_array_equal(
            whole[name].values[:, [0, 3, 4]], few[name].values, err_msg=name
        )
    assert np.isnan(whole.max_ponded_depth.values[:, 3:]).all()
