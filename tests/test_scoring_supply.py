"""Supply coverage on a hand-made network whose answers are known, and on a traced EPANET run."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hydro.errors import InputError
from hydro.results import build_dataset, read_netcdf, write_netcdf
from hydro.scoring import (
    Booster,
    SupplyLayout,
    SupplyRules,
    inferred_layout,
    score,
    score_supply,
    score_tables,
)
from tests.conftest import NETWORKS

NODES = ["J1", "J2", "J3", "J4", "J5", "J6", "R1", "R2", "T1"]
KINDS = ["junction"] * 6 + ["reservoir", "reservoir", "tank"]
LINKS = [
    ("P1", "R1", "J1", "pipe"),
    ("P2", "J1", "J2", "pipe"),
    ("P3", "J2", "J3", "pipe"),
    ("P4", "R2", "J3", "pipe"),
    ("P5", "J3", "J4", "pipe"),
    ("P6", "J4", "T1", "pipe"),
    ("BP", "T1", "J5", "pump"),
    ("P7", "J5", "J6", "pipe"),
]
SOURCES = ["R1", "R2", "initial", "other"]
# constant shares of R1, R2 per junction
SHARES = {
    "J1": (1.0, 0.0),
    "J2": (0.7, 0.3),
    "J3": (0.2, 0.8),
    "J4": (0.0, 1.0),
    "J5": (0.0, 1.0),
    "J6": (0.0, 1.0),
}
POPULATION = {"J1": 100, "J2": 200, "J3": 300, "J4": 400, "J5": 500, "J6": 600}
LAYOUT = SupplyLayout(
    zones={"z1": ("J1", "J2", "J3"), "z2": ("J4", "J5", "J6")},
    boosters=(Booster("BS", ("BP",)),),
    population=POPULATION,
    source_names={"R1": "river one", "R2": "river two"},
    origin="by hand",
)


def supply_ds(*, shares: bool = True, n_scen: int = 1) -> xr.Dataset:
    """Reports at 0, 1 and 2 h. J3 drops to 25 m at 1 h; J6 to 20 m at 2 h; J6 asks for nothing."""
    n_time, n_node = 3, len(NODES)
    node = {n: i for i, n in enumerate(NODES)}
    pressure = np.full((n_scen, n_time, n_node), 30.0)
    pressure[:, 1, node["J3"]] = 25.0
    pressure[:, :, node["J5"]] = 40.0
    pressure[:, 2, node["J6"]] = 20.0
    demand = np.zeros((n_scen, n_time, n_node))
    demand[:, :, [node[j] for j in ("J1", "J2", "J3", "J4")]] = 0.01
    demand[:, :, node["J5"]] = 0.02
    demand[:, :, node["R1"]] = -0.03
    demand[:, :, node["R2"]] = -0.03
    flow = np.ones((n_scen, n_time, len(LINKS))) * 0.01
    data = {"pressure_head": pressure, "demand": demand, "flow": flow}
    coords = {
        "scenario": ("scenario", np.array([f"s{k}" for k in range(n_scen)], dtype=object)),
        "time": ("time", (np.arange(n_time) * 3600 * 10**9).astype("timedelta64[ns]")),
        "node": ("node", np.array(NODES, dtype=object)),
        "node_type": ("node", np.array(KINDS, dtype=object)),
        "link": ("link", np.array([name for name, *_ in LINKS], dtype=object)),
        "link_type": ("link", np.array([t for *_, t in LINKS], dtype=object)),
        "from_node": ("link", np.array([a for _, a, _, _ in LINKS], dtype=object)),
        "to_node": ("link", np.array([b for _, _, b, _ in LINKS], dtype=object)),
    }
    if shares:
        share = np.zeros((n_scen, n_time, n_node, len(SOURCES)))
        for j, (r1, r2) in SHARES.items():
            share[:, :, node[j], :2] = (r1, r2)
        share[:, :, node["R1"], 0] = share[:, :, node["R2"], 1] = share[:, :, node["T1"], 1] = 1
        data["source_share"] = share
        coords["source"] = ("source", np.array(SOURCES, dtype=object))
    ds = build_dataset(data, coords=coords, attrs={"engine": "EPANET", "network_file": "h.inp"})
    return ds


def test_zones_over_time_and_on_average():
    sc = score_supply(supply_ds(), LAYOUT).isel(scenario=0)
    series = sc.zone_demand_compliance.sel(zone="z1").values
    np.testing.assert_allclose(series, [1.0, 2 / 3, 1.0])
    # trapezoid weights 0.5, 1, 0.5 h: (0.5 + 2/3 + 0.5) / 2
    assert float(sc.zone_compliance.sel(zone="z1")) == pytest.approx((0.5 + 2 / 3 + 0.5) / 2)
    assert float(sc.zone_min_pressure_head.sel(zone="z1")) == 25.0
    # J6 fails at 2 h but asks for no water: z2 is fully served
    assert float(sc.zone_compliance.sel(zone="z2")) == 1.0
    assert float(sc.zone_min_pressure_head.sel(zone="z2")) == 30.0
    assert float(sc.node_service_compliance.sel(node="J3")) == pytest.approx(0.5)
    assert np.isnan(sc.node_service_compliance.sel(node="R1"))


def test_rectangle_rule_weighs_the_interval_each_report_closes():
    sc = score_supply(supply_ds(), LAYOUT, rules=SupplyRules(rule="rectangle")).isel(scenario=0)
    assert float(sc.zone_compliance.sel(zone="z1")) == pytest.approx((2 / 3 + 1) / 2)


def test_sources_serve_the_nodes_they_mainly_feed():
    sc = score_supply(supply_ds(), LAYOUT).isel(scenario=0)
    assert list(sc.source_name.values) == ["river one", "river two", "initial", "other"]
    assert list(sc.source_main_nodes.values) == [2, 4, 0, 0]
    assert list(sc.source_main_population.values) == [300, 1800, 0, 0]
    np.testing.assert_allclose(sc.source_main_demand.values, [0.02, 0.04, 0, 0], atol=1e-12)
    np.testing.assert_allclose(
        sc.source_delivery_share.values, [0.019 / 0.06, 0.041 / 0.06, 0, 0], rtol=1e-6
    )  # float32 in
    assert list(sc.main_source.sel(node=["J1", "J2", "J3"]).values) == [0, 0, 1]
    np.testing.assert_allclose(sc.mean_source_share.sel(node="J2").values, [0.7, 0.3, 0, 0])


def test_boosters_downstream_nodes_and_service_head():
    sc = score_supply(supply_ds(), LAYOUT).isel(scenario=0)
    bs = sc.sel(booster="BS")
    assert str(bs.booster_nodes.values) == "J5 J6"  # found along the flow
    assert int(bs.booster_served_nodes) == 2
    assert float(bs.booster_min_pressure_head) == 20.0
    assert int(bs.booster_meets_service_head) == 0
    assert float(bs.booster_compliance) == pytest.approx((1.0 + 0.75) / 2)
    declared = SupplyLayout(LAYOUT.zones, (Booster("BS", ("BP",), ("J5",)),), {}, {})
    bs = score_supply(supply_ds(), declared).isel(scenario=0).sel(booster="BS")
    assert str(bs.booster_nodes.values) == "J5" and int(bs.booster_meets_service_head) == 1


def test_served_nodes_stop_at_the_next_booster():
    layout = SupplyLayout(LAYOUT.zones, (Booster("up", ("P5",)), Booster("BS", ("BP",))), {}, {})
    sc = score_supply(supply_ds(), layout).isel(scenario=0)
    # from J4 on: T1 (a tank, not counted), then BS's pump: J5 and J6 are BS's
    assert str(sc.booster_nodes.sel(booster="up").values) == "J4"
    assert str(sc.booster_nodes.sel(booster="BS").values) == "J5 J6"


def test_without_source_shares_zones_and_boosters_only():
    sc = score_supply(supply_ds(shares=False), LAYOUT)
    assert "source" not in sc.dims and "zone_compliance" in sc
    assert sc.attrs["supply_coverage"].startswith("boosters and zones only")


def test_layout_inferred_from_the_results():
    layout = inferred_layout(supply_ds())
    assert layout.zones == {"all": ("J1", "J2", "J3", "J4", "J5", "J6")}
    assert [b.pumps for b in layout.boosters] == [("BP",)]  # draws from a tank
    sc = score(supply_ds())
    assert list(sc.zone.values) == ["all"] and list(sc.booster.values) == ["BP"]
    assert np.isnan(sc.source_main_population.values).all()  # no population known


def test_unknown_names_in_the_layout():
    bad = SupplyLayout(LAYOUT.zones, (Booster("BS", ("XP",)),), {}, {})
    with pytest.raises(InputError, match="'XP'"):
        score_supply(supply_ds(), bad)
    bad = SupplyLayout(LAYOUT.zones, (Booster("BS", ("BP",), ("J9",)),), {}, {})
    with pytest.raises(InputError, match="'J9'"):
        score_supply(supply_ds(), bad)


def test_tables_and_netcdf(tmp_path):
    sc = score_supply(supply_ds(n_scen=2), LAYOUT)
    tables = score_tables(sc)
    assert set(tables) == {"sources", "boosters", "zones", "zone_series"}
    assert len(tables["zones"]) == 4 and list(tables["zones"].columns[:2]) == ["scenario", "zone"]
    assert list(tables["zone_series"]["time"].unique()) == [0.0, 3600.0, 7200.0]
    back = read_netcdf(write_netcdf(sc, tmp_path / "supply.nc"))
    xr.testing.assert_allclose(back.zone_compliance, sc.zone_compliance)


def test_traced_two_loops_network():
    """source_shares of the example network, R1 and the tank T1 as sources."""
    from hydro.supply.tracing import source_shares

    path = NETWORKS / "examples" / "two_loops.inp"
    ds = source_shares(path, ["R1", "T1"])
    sc = score(ds).isel(scenario=0)
    junction = sc.node_type.values == "junction"
    assert int(sc.source_main_nodes.sum()) == int(junction.sum())
    assert float(sc.source_delivery_share.sum()) == pytest.approx(1.0, abs=1e-3)
    shares = sc.mean_source_share.values[junction]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-3)
    assert sc.attrs["supply_coverage"] == "sources, boosters and zones"
    assert 0.0 <= float(sc.zone_compliance.sel(zone="all")) <= 1.0
