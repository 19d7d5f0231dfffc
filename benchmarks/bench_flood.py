"""The surface kernel in cell-updates per second per core, against its reference twin.

Run:  pytest benchmarks/bench_flood.py --benchmark-columns=min,mean,rounds -s
(the two city runs take minutes: add -k "not city" to skip them)
Size: HYDRO_BENCH_FLOOD_SIDE (default 1000) cells a side, 2 m cells: a rolling terrain under a
lake that covers ~60 % of it, rain falling, water leaving through an open side; STEPS time steps
per round. One cell-update is one cell advanced by one step (its two faces, the depth limiter, the
depth and the statistics). Rates are recorded in extra_info as "mcells_per_s" (wall clock) and
"cpu_mcells_per_s" (cells over the process's CPU time: per core, steadier on a shared machine);
the target is 30 million per second per core. The last test prints the run's figures side by side.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numba
import numpy as np
import pytest

from hydro.flood import _reference as ref
from hydro.flood import kernels as k

SIDE = int(os.environ.get("HYDRO_BENCH_FLOOD_SIDE", 1000))
REF_SIDE = 150  # the reference twin runs on a grid this wide, scaled
STEPS = 10
DX = 2.0
TARGET = 30.0  # million cell-updates per second per core
RESULTS: dict[str, float] = {}


def surface_state(side: int) -> dict:
    """Arguments of one step of kernels.step on a side x side grid, water already moving."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    z = 0.5 * np.sin(xx / 37.0) * np.cos(yy / 23.0) + 0.001 * xx
    h = np.maximum(0.6 - z, 0.0)
    active = np.ones((side, side), bool)
    n = np.full((side, side), 0.03)
    n2x, n2y = k.face_friction(n, active)
    stats = np.zeros((k.N_STATS, side, side))
    stats[k.ARRIVAL] = np.nan
    state = {
        "z": z,
        "h": h,
        "qx": np.zeros((side, side + 1)),
        "qy": np.zeros((side + 1, side)),
        "qx_new": np.zeros((side, side + 1)),
        "qy_new": np.zeros((side + 1, side)),
        "n2x": n2x,
        "n2y": n2y,
        "n2": n**2,
        "active": active,
        "source": np.zeros((side, side)),
        "infiltration": np.zeros((side, side)),
        "capacity": np.zeros((side, side)),
        "stats": stats,
        "row_volumes": np.zeros((side, 2)),
        "row_hmax": np.zeros(side),
        "factor": np.ones((side, side)),
        "bc_kind": np.array([0, 0, 0, k.OPEN]),
        "bc_value": np.array([0.0, 0.0, 0.0, 0.001]),
        "dx": DX,
        "dy": DX,
        "rain": 2e-5,
        "theta": 0.7,
        "min_depth": 0.001,
        "arrival_depth": 0.01,
        "duration_depth": 0.15,
        "t_end": 0.0,
        "sources": False,
        "infiltrating": False,
    }
    state["dt"] = k.time_step(h.max(), dx=DX, dy=DX, theta=0.7, cfl=0.9, max_step=5.0)
    for _ in range(20):  # let the water start moving
        advance(k.step, state, 1)
    return state


def advance(kernel, state: dict, steps: int) -> None:
    for _ in range(steps):
        kernel(**state)
        state["qx"], state["qx_new"] = state["qx_new"], state["qx"]
        state["qy"], state["qy_new"] = state["qy_new"], state["qy"]
        state["t_end"] += state["dt"]


@pytest.fixture(scope="module")
def state():
    return surface_state(SIDE)


@pytest.fixture
def threads():
    before = numba.get_num_threads()
    yield numba.set_num_threads
    numba.set_num_threads(before)


def _record(benchmark, name: str, cells: int, steps: int, cpu_seconds: float | None) -> float:
    best = benchmark.stats.stats.min
    rate = cells * steps / best / 1e6
    benchmark.extra_info["mcells_per_s"] = round(rate, 2)
    RESULTS[name] = rate
    if cpu_seconds is not None:
        benchmark.extra_info["cpu_mcells_per_s"] = round(cells * steps / cpu_seconds / 1e6, 2)
        RESULTS[name + " (per CPU second)"] = cells * steps / cpu_seconds / 1e6
    return rate


def _cpu_seconds(kernel, state, steps: int, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        advance(kernel, state, steps)
        best = min(best, time.process_time() - start)
    return best


def test_surface_kernel_one_thread(benchmark, state, threads):
    threads(1)
    benchmark.pedantic(advance, args=(k.step, state, STEPS), rounds=5, warmup_rounds=1)
    _record(benchmark, "kernel, 1 thread", SIDE * SIDE, STEPS, _cpu_seconds(k.step, state, STEPS))


def test_surface_kernel_all_threads(benchmark, state, threads):
    threads(numba.config.NUMBA_NUM_THREADS)
    benchmark.pedantic(advance, args=(k.step, state, STEPS), rounds=5, warmup_rounds=1)
    _record(
        benchmark, f"kernel, {numba.config.NUMBA_NUM_THREADS} threads", SIDE * SIDE, STEPS, None
    )


def test_reference_twin(benchmark):
    small = surface_state(REF_SIDE)
    benchmark.pedantic(advance, args=(ref.step, small, 2), rounds=3, warmup_rounds=1)
    _record(
        benchmark,
        "reference twin (numpy)",
        REF_SIDE * REF_SIDE,
        2,
        _cpu_seconds(ref.step, small, 2),
    )


REPO = Path(__file__).resolve().parents[1]
COUPLED = REPO / "scenarios" / "flood" / "p30_3h_coupled.toml"


def test_city_one_dimensional(benchmark):
    """The bundled 30-year storm on the network alone (the 1D run the coupled one adds to)."""
    from hydro.drainage.scenario import run_scenario

    benchmark.pedantic(
        run_scenario,
        args=(REPO / "scenarios/drainage/p30_3h_flood_river.toml",),
        rounds=1,
        iterations=1,
    )
    RESULTS["city 1D run [s]"] = benchmark.stats.stats.min


def test_city_coupled(benchmark):
    """The same storm coupled with the city's surface (25 m cells, 9 h simulated)."""
    from hydro.flood import run_case

    run = benchmark.pedantic(run_case, args=(COUPLED,), rounds=1, iterations=1)
    RESULTS["city coupled run [s]"] = benchmark.stats.stats.min
    RESULTS["coupled mass balance error [%]"] = (
        100 * run.surface.attrs["coupled_mass_balance_error"]
    )


def test_summary():
    """Print the figures of this run side by side (run the whole file to fill them)."""
    if "kernel, 1 thread" not in RESULTS or "reference twin (numpy)" not in RESULTS:
        pytest.skip("run the whole file to compare")
    lines = [
        f"{name:<48} {value:8.2f}" + ("" if "[" in name else " M cell-updates/s")
        for name, value in RESULTS.items()
    ]
    if "city coupled run [s]" in RESULTS and "city 1D run [s]" in RESULTS:
        ratio = RESULTS["city coupled run [s]"] / RESULTS["city 1D run [s]"]
        lines.append(f"{'coupled city run / 1D run':<48} {ratio:8.1f}")
    one = RESULTS["kernel, 1 thread (per CPU second)"]
    lines.append(f"{'per core against the 30 M target':<48} {one / TARGET:8.2f}")
    lines.append(
        f"{'kernel over its numpy twin, 1 thread':<48} "
        f"{RESULTS['kernel, 1 thread'] / RESULTS['reference twin (numpy)']:8.1f}x"
    )
    print("\n" + "\n".join(lines))
