"""1D-2D coupling: exchange regimes, and a surcharging sewer that floods a street and drains back.

The network is tests/data/swmm/tiny.inp (a 0.3 m pipe that surcharges at J1 in a 2 h storm) on a
street falling eastwards; SWMM routes the pipes, the surface takes what overflows at J1, and some
of it drains back into J2. Water is counted on both sides: nothing may be made or lost.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from hydro.errors import ScenarioError
from hydro.flood import run_case
from hydro.flood.coupling import Coefficients, exchange_flow
from hydro.flood.grid import Grid
from hydro.flood.kernels import G
from hydro.results import read_netcdf
from tests.flood_cases import write_case

TINY = Path(__file__).parent / "data" / "swmm" / "tiny.inp"


def test_exchange_regimes():
    """Rubinato et al. (2017) regimes with Itzï's coefficients, checked by hand."""
    c = Coefficients()
    a, w = c.manhole_area, 2 * math.sqrt(math.pi * c.manhole_area)
    crest = np.full(5, 10.0)
    head = np.array([10.5, 9.0, 10.02, 10.01, 10.0])
    level = np.array([10.2, 10.05, 10.03, 10.9, 10.0])
    q = exchange_flow(head, level, crest, c=c)
    assert q[0] == pytest.approx(0.167 * a * math.sqrt(2 * G * 0.3))  # orifice, overflow
    assert q[1] == pytest.approx(-2 / 3 * 0.54 * w * 0.05**1.5 * math.sqrt(2 * G))  # free weir
    assert a / w > 0.03  # a shallow film over a surcharged manhole: submerged weir
    assert q[2] == pytest.approx(-0.056 * w * 0.03 * math.sqrt(2 * G * 0.03))
    assert q[3] == pytest.approx(-0.167 * a * math.sqrt(2 * G * 0.89))  # deep water: orifice
    assert q[4] == 0.0


def coupled_case(
    folder: Path, *, routing_step: int = 10, rain: str = "subcatchments", inflow: float = 0.0
) -> Path:
    """The tiny model coupled with a street; ``inflow`` [m3/s] a constant external inflow at J2
    (a river or a culvert feeding the network)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = TINY.read_text().replace(
        "ROUTING_STEP         10", f"ROUTING_STEP         {routing_step}"
    )
    if inflow:
        text = text.replace(
            "[COORDINATES]", f'[INFLOWS]\nJ2 FLOW "" FLOW 1.0 1.0 {inflow}\n\n[COORDINATES]'
        )
    (folder / "tiny.inp").write_text(text)
    dx, nx, ny, x0, y0 = 5.0, 50, 8, -30.0, 20.0
    xx, yy = np.meshgrid(x0 + dx * (np.arange(nx) + 0.5), y0 - dx * (np.arange(ny) + 0.5))
    z = 11.5 - 0.005 * xx + 0.02 * np.abs(yy)  # J1's rim (11.5 m) at x = 0, a street falling east
    return write_case(
        folder,
        {
            "surface": {
                "dem": "dem.asc",
                "manning": 0.03,
                "duration": "3h",
                "output_every": "30min",
            },
            "boundaries": {"east": {"type": "open", "slope": 0.005}},
            "drainage": {"model": "tiny.inp", "rain": rain},
        },
        grids={"dem.asc": Grid(z, x0, y0, dx, dx)},
    )


@pytest.fixture(scope="module")
def coupled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coupled")
    out = folder / "out.nc"
    return run_case(coupled_case(folder / "case"), output=out), out


def test_coupled_run_loses_no_water(coupled):
    run, _ = coupled
    s = run.surface
    # The sewer surcharges at J1 and floods the street; some water drains back at J2.
    assert s["node_overflow_volume"].sel(node="J1").item() > 100.0
    assert s["node_drained_volume"].sel(node="J2").item() > 10.0
    assert s.attrs["network_flooding_lost_m3"] == 0.0  # no water lost at manholes
    # SWMM counts what the surface gave it as external inflow: the same volume.
    assert s.attrs["network_external_inflow_m3"] == pytest.approx(
        s["drained_volume"].item(), rel=1e-4
    )
    assert abs(s["mass_balance_error"].item()) < 1e-12
    assert abs(s.attrs["coupled_mass_balance_error"]) < 5e-3  # measured 0.05 %
    # Joined by node IDs: every coupled node is a node of the network Dataset.
    assert set(s["node"].values) <= set(run.drainage["node"].values)
    assert s["exchange_flow"].dims == ("scenario", "time", "node")
    assert list(s["scenario"].values) == ["case"] == list(run.drainage["scenario"].values)


def test_coupled_file_holds_both(coupled):
    _run, out = coupled
    surface = read_netcdf(out)
    assert "water_depth" in surface and "exchange_flow" in surface
    import xarray as xr

    with xr.open_dataset(out, group="drainage") as network:
        assert "flooding_rate" in network and network.sizes["node"] == 3
    # Both CF-1.8, on one clock: seconds since the SWMM model's start.
    import netCDF4

    with netCDF4.Dataset(out) as nc:
        assert nc.Conventions == "CF-1.8" and nc["node_id"].cf_role == "timeseries_id"
        units = nc["time"].units
        assert units.startswith("seconds since ") and "2000-01-01" not in units
        assert nc["drainage"]["time"].units == units
        assert nc["drainage"].Conventions == "CF-1.8"
    np.testing.assert_array_equal(surface["exchange_flow"], _run.surface["exchange_flow"])
    assert list(surface["node"].values) == list(_run.surface["node"].values)


def test_coupled_converges_with_the_drainage_step(tmp_path, coupled):
    """The overflow at J1 with 10 s drainage steps against a fine-step reference (2 s)."""
    run, _ = coupled
    fine = run_case(coupled_case(tmp_path / "fine", routing_step=2))
    coarse_v = run.surface["node_overflow_volume"].sel(node="J1").item()
    fine_v = fine.surface["node_overflow_volume"].sel(node="J1").item()
    assert coarse_v == pytest.approx(fine_v, rel=0.05)
    assert abs(fine.surface.attrs["coupled_mass_balance_error"]) < 5e-3
    # Depths near the manhole: the coarse step pours 10 s of overflow at once (2 cm more there).
    np.testing.assert_allclose(
        run.surface["max_water_depth"], fine.surface["max_water_depth"], atol=0.03
    )
    # What is left on the street at the end (puddles, ~1 % of the overflow) agrees to 1 %.
    assert run.surface["final_volume"].item() == pytest.approx(
        fine.surface["final_volume"].item(), abs=0.01 * fine_v
    )


def test_coupled_node_errors(tmp_path):
    case = coupled_case(tmp_path)
    case.write_text(
        case.read_text().replace('model = "tiny.inp"', 'model = "tiny.inp"\nnodes = ["J9"]')
    )
    with pytest.raises(Exception, match=r"drainage.nodes: 'J9' is not a junction"):
        run_case(case)
    shutil.copy(case, tmp_path / "c2.toml")
    text = case.read_text().replace('nodes = ["J9"]', "").replace('"3h"', '"2h"')
    case.write_text(text)
    with pytest.raises(Exception, match=r"surface.duration is 7200 s but the drainage model"):
        run_case(case)


def test_rain_on_the_whole_surface(coupled, tmp_path):
    """drainage.rain = "surface": the model's storm falls on every cell instead of on the
    subcatchment, runs over the street into the manholes, and the two sides still balance. The
    depth is SWMM's own (its rain on the 5 ha subcatchment in the default run), not ours."""
    default = coupled[0].surface.attrs
    depth = default["network_rain_m3"] / 5e4  # S1: 5 ha; the storm is 17.5 mm
    assert depth == pytest.approx(0.0175, rel=1e-6)
    run = run_case(coupled_case(tmp_path / "case", rain="surface"))
    s = run.surface.isel(scenario=0)
    cells = int(np.isfinite(s["ground_level"]).sum())
    assert s["rain_volume"].item() == pytest.approx(depth * cells * 25.0, rel=1e-9)
    assert s.attrs["network_rain_m3"] == 0 and s.attrs["network_runoff_m3"] == 0
    assert s["drained_volume"].item() > 1.0  # the street's water went down the manholes
    assert s.attrs["network_flooding_lost_m3"] == 0.0
    assert abs(s.attrs["coupled_mass_balance_error"]) < 5e-3
    assert abs(s["mass_balance_error"].item()) < 1e-12
    assert s.attrs["engine_warnings"] == ""
    # The storm is given once: a [rain] section beside it is refused.
    case = coupled_case(tmp_path / "twice", rain="surface")
    case.write_text(case.read_text() + '[rain]\nseries = [[0, "10 mm/h"]]\n')
    with pytest.raises(ScenarioError, match="would fall twice"):
        run_case(case)


def test_external_inflows_count_in_the_balance(tmp_path):
    """SWMM's external inflow total holds both the model's own inflows (rivers, here 0.05 m3/s
    at J2 for 3 h) and what the surface gave at the manholes; only the first enters the coupled
    system from outside (the city storm's rivers brought 119 million m3)."""
    run = run_case(coupled_case(tmp_path / "case", inflow=0.05))
    a = run.surface.attrs
    assert a["network_inflow_from_outside_m3"] == pytest.approx(0.05 * 3 * 3600, rel=1e-3)
    assert a["network_external_inflow_m3"] == pytest.approx(
        540.0 + a["exchange_drained_m3"], rel=1e-3
    )
    assert abs(a["coupled_mass_balance_error"]) < 5e-3
