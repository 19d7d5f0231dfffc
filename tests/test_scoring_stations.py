"""Pump-station coverage on a hand-made network whose service areas are known, and on the
bundled Xuancheng model (a short storm)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hydro.drainage import read_inp, run
from hydro.drainage.assets import DrainageAssets, PumpStation, WaterloggingPoint
from hydro.ensemble.workers import combine
from hydro.errors import InputError
from hydro.results import build_dataset, read_netcdf, write_netcdf
from hydro.scoring import score, score_stations, score_waterlogging, station_service_areas
from tests.conftest import NETWORKS

STEP = 600.0
NODES = ["A", "B", "C", "WW1", "CH1", "D", "E", "WW2", "CH2", "F", "G", "O"]
LINKS = [  # name, from, to, type
    ("L1", "A", "B", "conduit"),
    ("L2", "B", "WW1", "conduit"),
    ("L3", "C", "WW1", "conduit"),
    ("P1", "WW1", "CH1", "pump"),
    ("P2", "WW1", "CH1", "pump"),
    ("SL1", "WW1", "CH1", "orifice"),
    ("L4", "CH1", "D", "conduit"),
    ("L5", "D", "WW2", "conduit"),
    ("L6", "E", "WW2", "conduit"),
    ("P3", "WW2", "CH2", "pump"),
    ("L7", "CH2", "O", "conduit"),
    ("L8", "F", "G", "conduit"),
    ("L9", "G", "O", "weir"),
]
SUBS = [
    ("S1", "A", 10e4, 0.5),
    ("S2", "S3", 4e4, 0.25),
    ("S3", "E", 6e4, 1.0),
    ("S4", "F", 5e4, 0.0),
]
STATIONS = (
    PumpStation("s1", ("P1", "P2"), "WW1", polder="p1", design_capacity=2.0),
    PumpStation("s2", ("P3",), "WW2", polder="p1", design_capacity=1.0),
)
POINTS = (
    WaterloggingPoint("B", "underpass", "underpass B"),
    WaterloggingPoint("G", "old_street", "street G"),
)


def network_ds(n_scen: int = 1, *, ponded_area=None, scenarios=None) -> xr.Dataset:
    """Ten 10-minute reports; B and G pond 0.4 m deep for 50 min (class 2); pumps as below."""
    n_time, n_node, n_link = 10, len(NODES), len(LINKS)
    node = {n: i for i, n in enumerate(NODES)}
    link = {name: i for i, (name, *_) in enumerate(LINKS)}
    rate = np.zeros((n_scen, n_time, n_node))
    rate[:, 1, [node["B"], node["G"]]] = 0.1  # 60 m3 each
    depth = np.ones((n_scen, n_time, n_node))
    depth[:, 2:7, [node["B"], node["G"]]] = 2.4  # rim at 2 m
    flow = np.zeros((n_scen, n_time, n_link))
    flow[:, 0:8, link["P1"]] = 1.0  # on 8 of 10 steps
    flow[:, 2:6, link["P2"]] = 1.0  # together: at capacity 4 steps
    flow[:, 5:10, link["P3"]] = 0.5
    inflow = np.zeros((n_scen, n_time, n_node))
    inflow[:, 3, node["WW1"]] = 4.0
    inflow[:, 6, node["WW2"]] = 0.5
    area = np.zeros(n_node)
    area[[node["B"], node["G"]]] = 100.0
    if ponded_area is not None:
        area = np.asarray(ponded_area, dtype=float)
    data = {
        "flooding_rate": rate,
        "water_depth": depth,
        "ponded_volume": np.maximum(depth - 2.0, 0) * 100.0,
        "flow": flow,
        "total_inflow": inflow,
    }
    coords = {
        "scenario": (
            "scenario",
            np.array(scenarios or [f"s{k}" for k in range(n_scen)], dtype=object),
        ),
        "time": ("time", (np.arange(1, n_time + 1) * STEP * 1e9).astype("timedelta64[ns]")),
        "node": ("node", np.array(NODES, dtype=object)),
        "node_type": (
            "node",
            np.array(
                [
                    "outfall" if n == "O" else "storage" if n[:2] in ("WW", "CH") else "junction"
                    for n in NODES
                ],
                dtype=object,
            ),
        ),
        "full_depth": ("node", np.full(n_node, 2.0)),
        "ponded_area": ("node", area),
        "link": ("link", np.array([name for name, *_ in LINKS], dtype=object)),
        "link_type": ("link", np.array([t for *_, t in LINKS], dtype=object)),
        "from_node": ("link", np.array([a for _, a, _, _ in LINKS], dtype=object)),
        "to_node": ("link", np.array([b for _, _, b, _ in LINKS], dtype=object)),
        "subcatchment": ("subcatchment", np.array([s for s, *_ in SUBS], dtype=object)),
        "outlet": ("subcatchment", np.array([o for _, o, _, _ in SUBS], dtype=object)),
        "area": ("subcatchment", np.array([a for *_, a, _ in SUBS])),
        "imperviousness": ("subcatchment", np.array([i for *_, i in SUBS])),
    }
    attrs = {"engine": "SWMM", "network_file": "hand.inp", "allow_ponding": 1}
    return build_dataset(data, coords=coords, attrs=attrs)


def test_service_areas_follow_the_water():
    areas = station_service_areas(network_ds(), STATIONS)
    by_node = dict(zip(NODES, areas.node_station, strict=True))
    assert [n for n in NODES if by_node[n] == 0] == ["A", "B", "C", "WW1"]
    # water pumped out of s1 reaches s2: the discharge chamber drains to s2
    assert [n for n in NODES if by_node[n] == 1] == ["CH1", "D", "E", "WW2"]
    assert [n for n in NODES if by_node[n] == -1] == ["CH2", "F", "G", "O"]
    # S2 drains through subcatchment S3 to E
    assert list(areas.subcatchment_station) == [0, 1, 1, -1]
    assert areas.dead_ends == ()


def test_station_scores():
    sc = score_stations(network_ds(), STATIONS, polders={"p1": 40e4}).isel(scenario=0)
    s1, s2 = sc.sel(station="s1"), sc.sel(station="s2")
    assert float(s1.station_contributing_area) == 10e4
    assert float(s1.station_impervious_area) == 5e4
    assert float(s2.station_contributing_area) == 10e4
    assert float(s2.station_impervious_area) == pytest.approx(1e4 + 6e4)
    assert int(s1.station_nodes) == 4 and int(s1.station_subcatchments) == 1
    assert float(s1.station_running_share) == pytest.approx(0.8)
    assert float(s1.station_full_capacity_share) == pytest.approx(0.4)  # 2.0 m3/s, 4 steps
    assert float(s1.station_pumped_volume) == pytest.approx((8 + 4) * STEP)
    assert float(s1.station_peak_flow) == 2.0
    assert float(s1.station_peak_inflow) == 4.0
    assert float(s1.station_capacity_ratio) == pytest.approx(0.5)
    assert float(s1.station_peak_wet_well_depth) == 1.0
    assert float(s2.station_running_share) == pytest.approx(0.5)
    assert float(s2.station_full_capacity_share) == 0.0
    assert float(sc.pump_utilization.sel(pump="P2")) == pytest.approx(0.4)
    assert float(sc.pump_volume.sel(pump="P3")) == pytest.approx(5 * 0.5 * STEP)
    assert list(sc.pump_station.values) == ["s1", "s1", "s2"]
    # polder p1: both stations, 20 ha of 40 ha
    assert float(sc.polder_covered_area.sel(polder="p1")) == 20e4
    assert float(sc.polder_coverage.sel(polder="p1")) == pytest.approx(0.5)
    assert list(sc.service_station.values[:4]) == ["s1"] * 4
    assert list(sc.subcatchment_station.values) == ["s1", "s2", "s2", ""]


def test_flooding_inside_service_areas_and_uncovered_points():
    ds = network_ds()
    wl = score_waterlogging(ds, points=POINTS)
    assert list(wl.hazard_class.sel(node=["B", "G"]).values[0]) == [2, 2]
    sc = score_stations(ds, STATIONS, waterlogging=wl).isel(scenario=0)
    assert int(sc.station_flooded_nodes.sel(station="s1")) == 1
    assert float(sc.station_flood_volume.sel(station="s1")) == pytest.approx(60.0)
    assert int(sc.station_waterlogged_points.sel(station="s1")) == 1
    assert int(sc.station_flooded_nodes.sel(station="s2")) == 0
    assert int(sc.uncovered_points) == 1  # G drains to the outfall by gravity
    assert int(sc.uncovered_waterlogged_points) == 1


def test_one_call_scores_an_ensemble_even_across_networks(tmp_path):
    """Members that changed the network (here: ponded areas) are scored per network."""
    base = network_ds(scenarios=["base"])
    area = np.zeros(len(NODES))
    area[NODES.index("B")] = 100.0  # G no longer ponds
    other = network_ds(ponded_area=area, scenarios=["no-pond-G"])
    ensemble = combine([base, other])
    assert "scenario" in ensemble.ponded_area.dims
    assets = DrainageAssets(None, None, STATIONS, (), (), (), POINTS, (), {})
    both = score(ensemble, assets=assets)
    assert list(both.scenario.values) == ["base", "no-pond-G"]
    for name, member in (("base", base), ("no-pond-G", other)):
        alone = score(member, assets=assets)
        for var in (
            "hazard_class",
            "hazard_rank",
            "station_pumped_volume",
            "polder_coverage",
            "uncovered_waterlogged_points",
        ):
            if var in alone:
                np.testing.assert_array_equal(
                    both[var].sel(scenario=name).values,
                    alone[var].isel(scenario=0).values,
                    err_msg=var,
                )
    assert int(both.hazard_class.sel(scenario="no-pond-G", node="G")) == -1
    back = read_netcdf(write_netcdf(both, tmp_path / "scores.nc"))
    assert list(back.station.values) == ["s1", "s2"]


@pytest.mark.parametrize(
    "stations, match",
    [
        ((PumpStation("s1", ("P1",), "WW1"), PumpStation("s9", ("P2",), "WW1")), "one wet well"),
        ((PumpStation("s1", ("P1",), "XX"),), "wet well 'XX'"),
        ((PumpStation("s1", ("P9",), "WW1"),), "P9"),
    ],
)
def test_station_mistakes_are_named(stations, match):
    with pytest.raises(InputError, match=match):
        score_stations(network_ds(), stations)


def test_broken_graphs_are_named():
    ds = network_ds()
    looped = ds.assign_coords(
        outlet=("subcatchment", np.array(["S2", "S1", "E", "F"], dtype=object))
    )
    with pytest.raises(InputError, match=r"circle.*S1 -> S2 -> S1"):
        station_service_areas(looped, STATIONS)
    nowhere = ds.assign_coords(
        outlet=("subcatchment", np.array(["A", "Q", "E", "F"], dtype=object))
    )
    with pytest.raises(InputError, match="'S2' drains to 'Q'"):
        station_service_areas(nowhere, STATIONS)


def test_a_station_nothing_flows_into():
    stations = (*STATIONS, PumpStation("lonely", (), "A"))
    sc = score_stations(network_ds(), stations)
    assert sc.attrs["stations_without_inflow"] == "lonely"
    assert int(sc.station_nodes.sel(station="lonely")[0]) == 1
    # A is now its own station's, so s1 keeps B, C and its wet well
    assert int(sc.station_nodes.sel(station="s1")[0]) == 3


def test_xuancheng_short_storm():
    """The bundled model's sidecar stations: service areas match the catchments it was built
    with, polders are covered, and the named points are scored."""
    path = NETWORKS / "xuancheng" / "drainage.inp"
    if not path.is_file():
        pytest.skip("bundled Xuancheng drainage model not found")
    from hydro.drainage.assets import load_drainage_assets

    assets = load_drainage_assets(path)
    ds = run(read_inp(path).with_options({"END_TIME": "02:00:00"}))
    scores = score(ds)
    assert scores.attrs["assets"] == "sidecar drainage_assets.toml"
    assert list(scores.station.values) == [s.name for s in assets.pump_stations]
    for st in assets.pump_stations:
        if st.catchment_area:
            assert float(scores.station_contributing_area.sel(station=st.name)[0]) == pytest.approx(
                st.catchment_area, rel=0.01
            )
    assert set(scores.polder.values) == {"chengdong", "jingting"}
    assert (scores.polder_coverage.values > 0.9).all()
    assert int((scores.point_name.values != "").sum()) == len(assets.waterlogging_points)
    # a 2-hour storm only starts to fill the inner rivers the pumps draw from
    wells = [st.wet_well for st in assets.pump_stations]
    depth = ds.water_depth.isel(scenario=0).sel(node=wells)
    assert (scores.station_peak_wet_well_depth.values[0] > depth.isel(time=0).values).all()
    assert (scores.station_running_share.values >= 0).all()
    # service areas are disjoint and every wet well is in its own
    assert list(scores.service_station.sel(node=wells).values) == [
        st.name for st in assets.pump_stations
    ]
