"""The SWMM adapter on the real-model corpus: every model runs cleanly, the Dataset holds exactly
what the bare engine computes, and its SI numbers agree with SWMM's own report.

user5.inp (about 15 s alone) is left to benchmarks/bench_drainage_engine.py.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from swmm.toolkit import solver

from hydro.drainage import read_inp, read_out, run, si_factors
from hydro.drainage.swmm.engine import engine_text
from tests.conftest import corpus_params

CORE = (
    "water_depth",
    "hydraulic_head",
    "node_volume",
    "ponded_volume",
    "lateral_inflow",
    "total_inflow",
    "flooding_rate",
    "flow",
    "flow_depth",
    "velocity",
    "link_volume",
    "capacity_fraction",
    "rainfall",
    "runoff",
)


@pytest.mark.parametrize("model", corpus_params("swmm", exclude=("user5.inp",)))
def test_every_corpus_model_runs_cleanly(model, tmp_path):
    copy = tmp_path / model.name
    copy.write_bytes(model.read_bytes())
    inp = read_inp(copy)
    ds = run(copy)
    assert ds.sizes["scenario"] == 1 and ds.sizes["time"] > 0
    assert ds.sizes["node"] == len(inp.junctions()) + len(inp.outfalls()) + len(
        inp.storage()
    ) + len(inp.rows("DIVIDERS"))
    assert ds.sizes["subcatchment"] == len(inp.rows("SUBCATCHMENTS"))
    assert ds.sizes["gauge"] == len(inp.rows("RAINGAGES"))
    for name in CORE:
        assert not np.isnan(ds[name].values).any(), name
    assert (np.diff(ds.time.values) > np.timedelta64(0)).all()
    assert set(np.unique(ds.node_type.values)) <= {"junction", "outfall", "storage", "divider"}
    assert set(ds.from_node.values) | set(ds.to_node.values) <= set(ds.node.values)
    assert os.listdir(tmp_path) == [model.name]


def _bare(model, folder):
    """swmm_run of the same text hydro gives SWMM (all elements reported), read back raw."""
    copy = folder / "bare.inp"
    copy.write_text(engine_text(read_inp(model)), encoding="utf-8")
    solver.swmm_run(str(copy), str(folder / "bare.rpt"), str(folder / "bare.out"))
    return read_out(folder / "bare.out")


@pytest.mark.parametrize("name", ["Example1", "Example3", "Sprenger", "user1", "extran9"])
def test_dataset_holds_exactly_what_the_bare_engine_computes(name, corpus_file, tmp_path):
    model = corpus_file("swmm", f"{name}.inp")
    bare = _bare(model, tmp_path)
    ds = run(model).isel(scenario=0)
    f = si_factors(ds.attrs["flow_units"])
    pairs = [
        ("water_depth", bare.node_values[0], f.length),
        ("node_volume", bare.node_values[2], f.volume),
        ("total_inflow", bare.node_values[4], f.flow),
        ("flooding_rate", bare.node_values[5], f.flow),
        ("flow", bare.link_values[0], f.flow),
        ("velocity", bare.link_values[2], f.velocity),
        ("capacity_fraction", bare.link_values[4], 1.0),
        ("runoff", bare.subcatch_values[4], f.flow),
    ]
    for var, raw, factor in pairs:
        expected = raw if factor == 1.0 else raw * np.float32(factor)
        assert np.array_equal(ds[var].values, expected), var
    assert list(ds.node.values) == list(bare.nodes)


# --- SI values against SWMM's own report -------------------------------------------------------
# The report's maxima come from every routing step, the .out from reporting steps: in a copy with
# REPORT_STEP = ROUTING_STEP (and a fixed step) every routing state is saved, so they must agree to
# the report's printed precision.

CROSS_CHECK = {  # model: (routing step in s, printed decimals of flow)
    "Example1": (60, 2),  # CFS, kinematic wave, floods
    "Example3": (20, 2),  # CFS, dynamic wave, a pump and a storage unit
    "user1": (5, 3),  # CMS, dynamic wave, floods at 14 nodes
    "extran9": (300, 3),  # CMS, dynamic wave, storage
    "Sprenger": (30, 3),  # CMS, dynamic wave, 6 pumps, floods
}


@pytest.fixture(scope="module")
def cross_checked(request):
    cache = {}

    def get(name):
        if name not in cache:
            from tests.conftest import CORPUS

            path = CORPUS / "swmm" / f"{name}.inp"
            if not path.is_file():
                pytest.skip(f"corpus model not found: {path}")
            step = CROSS_CHECK[name][0]
            clock = f"{step // 3600:02d}:{step % 3600 // 60:02d}:{step % 60:02d}"
            inp = read_inp(path).with_options(
                {"REPORT_STEP": clock, "ROUTING_STEP": step, "VARIABLE_STEP": 0}
            )
            cache[name] = run(inp).isel(scenario=0)
        return cache[name]

    return get


def _printed(decimals: int) -> float:
    """Half a unit of the last printed digit (a hair more for float32 rounding)."""
    return 0.5 * 10.0**-decimals * 1.0001


def _m3_per_printed_unit(system: str) -> float:
    """m3 in one 10^6 gal (US) or 10^6 ltr (SI) as SWMM prints volumes (ft3 x 7.48e-6 or
    x 28.317e-6), on the Dataset's scale (ft3 x 0.3048^3, or SWMM's 0.02832 m3 per ft3)."""
    return 0.3048**3 / 7.48e-6 if system == "US" else 0.02832 / 28.317e-6


@pytest.mark.parametrize("name", list(CROSS_CHECK))
def test_max_flow_velocity_depth_match_the_report(name, cross_checked):
    ds = cross_checked(name)
    f = si_factors(ds.attrs["flow_units"])
    decimals = CROSS_CHECK[name][1]
    max_flow = np.abs(ds.flow).max("time")
    reported = ds.engine_max_flow
    assert not np.isnan(reported).any()
    np.testing.assert_allclose(max_flow, reported, rtol=2e-6, atol=_printed(decimals) * f.flow)
    conduits = (ds.link_type == "conduit") & ~np.isnan(ds.engine_max_velocity)
    if conduits.any():
        np.testing.assert_allclose(
            np.abs(ds.velocity).max("time")[conduits],
            ds.engine_max_velocity[conduits],
            rtol=2e-6,
            atol=_printed(2) * f.velocity,
        )
    np.testing.assert_allclose(
        ds.water_depth.max("time"), ds.engine_max_depth, rtol=2e-6, atol=_printed(2) * f.length
    )


@pytest.mark.parametrize("name", ["Example1", "user1", "Sprenger"])
def test_flooding_matches_the_report(name, cross_checked):
    ds = cross_checked(name)
    f = si_factors(ds.attrs["flow_units"])
    flooded = ~np.isnan(ds.engine_flood_volume)
    assert int(flooded.sum()) > 0
    step = float(ds.attrs["report_step"])
    sub = ds.sel(node=flooded)
    np.testing.assert_allclose(
        sub.flooding_rate.max("time"),
        sub.engine_max_flooding_rate,
        rtol=2e-6,
        atol=_printed(CROSS_CHECK[name][1]) * f.flow,
    )
    volume = (sub.flooding_rate.astype("float64") * step).sum("time")
    np.testing.assert_allclose(
        volume,
        sub.engine_flood_volume,
        rtol=1e-4,
        atol=_printed(3) * _m3_per_printed_unit(f.unit_system),
    )
    hours = (sub.flooding_rate > 0).sum("time") * step
    assert (np.abs(hours - sub.engine_flooded_duration) <= step + 18.0 + 1e-6).all()
    # nodes not in the table did not flood
    assert float(ds.flooding_rate.sel(node=~flooded).max()) == 0.0


@pytest.mark.parametrize("name", ["Example3", "Sprenger"])
def test_pumping_matches_the_report(name, cross_checked):
    ds = cross_checked(name)
    f = si_factors(ds.attrs["flow_units"])
    pumps = ds.link_type == "pump"
    assert int(pumps.sum()) > 0
    sub = ds.sel(link=pumps)
    assert not np.isnan(sub.engine_pumped_volume).any()
    assert np.isnan(ds.engine_pumped_volume.sel(link=~pumps)).all()
    step = float(ds.attrs["report_step"])
    volume = (sub.flow.astype("float64") * step).sum("time")
    np.testing.assert_allclose(
        volume,
        sub.engine_pumped_volume,
        rtol=1e-4,
        atol=_printed(3) * _m3_per_printed_unit(f.unit_system),
    )
    np.testing.assert_allclose(
        sub.flow.max("time"), sub.engine_pump_max_flow, rtol=2e-6, atol=_printed(2) * f.flow
    )
    assert ((sub.engine_pump_utilization >= 0) & (sub.engine_pump_utilization <= 1)).all()


def test_chinese_ids_in_a_gbk_copy_of_a_corpus_model(corpus_file, tmp_path):
    """user1 with its node, outfall and gauge names made Chinese and saved as GBK."""
    model = corpus_file("swmm", "user1.inp")
    text = model.read_text(encoding="utf-8")
    text = re.sub(r"(?<![\w])(0\d(?:e\d\d)?y\w+)", r"雨水井\1", text)
    text = text.replace("Cierre", "出水口").replace("GAGE1", "雨量站")
    copy = tmp_path / "user1_gbk.inp"
    copy.write_bytes(text.encode("gbk"))
    original = run(model)
    ds = run(copy)
    assert ds.attrs["network_encoding"] == "gb18030"
    assert "出水口" in ds.node.values and "雨水井01y33" in ds.node.values
    assert list(ds.gauge.values) == ["雨量站"]
    assert all(n == "出水口" or n.startswith("雨水井") for n in ds.node.values)
    assert np.array_equal(ds.flow.values, original.flow.values)
    flooded = original.engine_flood_volume.isel(scenario=0)
    assert int((~np.isnan(ds.engine_flood_volume)).sum()) == int((~np.isnan(flooded)).sum())
    assert os.listdir(tmp_path) == ["user1_gbk.inp"]
