"""Scoring an ensemble against running it, and against the obvious pandas way.

Run:  pytest benchmarks/bench_scoring.py --benchmark-columns=min,mean,rounds -s
Size: the bundled Xuancheng drainage model (1,540 nodes, 1,515 links, 4 pump stations, 6 h at
5-minute reports) run once, then copied into HYDRO_BENCH_SCENARIOS (default 200) members, each
with floods at a random 5 % of the nodes (ponded where the model ponds). The summary prints
scenarios per second, GB/s of input, and how many scenarios are scored in the time of one run.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydro.scoring import score

N_SCEN = int(os.environ.get("HYDRO_BENCH_SCENARIOS", 200))
NAIVE_SCEN = 10  # the pandas way runs on this many members, scaled
WET_SHARE = 0.05
RESULTS: dict[str, float] = {}
MODEL = os.path.join(os.path.dirname(__file__), "..", "networks", "xuancheng", "drainage.inp")
INPUTS = ("flooding_rate", "ponded_volume", "water_depth", "flow", "total_inflow")


@pytest.fixture(scope="module")
def one_run():
    if not os.path.isfile(MODEL):
        pytest.skip("bundled Xuancheng drainage model not found")
    from hydro.drainage import run

    start = time.perf_counter()
    ds = run(MODEL)
    RESULTS["engine run [s]"] = time.perf_counter() - start
    return ds


@pytest.fixture(scope="module")
def ensemble(one_run) -> xr.Dataset:
    rng = np.random.default_rng(2024)
    n_time, n_node = one_run.sizes["time"], one_run.sizes["node"]
    members = []
    area = np.nan_to_num(one_run.ponded_area.values)
    rim = one_run.full_depth.values
    steps = np.arange(n_time)[:, None]
    # Only what scoring reads (the engine's other series would only fill memory).
    base = one_run[[*INPUTS]]
    for k in range(N_SCEN):
        m = base.copy(deep=True).assign_coords(scenario=[f"m{k:04d}"])
        wet = rng.choice(n_node, int(WET_SHARE * n_node), replace=False)
        start = rng.integers(5, n_time // 2, wet.size)
        width = rng.integers(2, n_time // 3, wet.size)
        half = width / 2
        shape = np.clip(1 - np.abs(steps - (start + half)) / half, 0, None)
        rate = (shape * rng.uniform(0.01, 0.5, wet.size)).astype(np.float32)
        m["flooding_rate"].values[0][:, wet] = rate
        volume = np.cumsum(rate, axis=0) * 300.0 * 0.5
        m["ponded_volume"].values[0][:, wet] = np.where(area[wet] > 0, volume, 0)
        depth = rim[wet] + np.where(area[wet] > 0, volume / np.maximum(area[wet], 1), 0)
        m["water_depth"].values[0][:, wet] = np.where(volume > 0, depth, rim[wet])
        members.append(m)
    return xr.concat(members, dim="scenario", combine_attrs="override")


def _gb(ds: xr.Dataset) -> float:
    return sum(ds[v].nbytes for v in INPUTS) / 1e9


def test_score_ensemble(benchmark, ensemble):
    score(ensemble.isel(scenario=[0]))  # compile / load numba caches
    result = benchmark.pedantic(score, args=(ensemble,), rounds=3, iterations=1)
    seconds = benchmark.stats.stats.min
    RESULTS["score ensemble [s]"] = seconds
    RESULTS["scenarios per s"] = N_SCEN / seconds
    RESULTS["GB/s of input"] = _gb(ensemble) / seconds
    benchmark.extra_info.update({"scenarios": N_SCEN, "gb": _gb(ensemble)})
    assert result.sizes["scenario"] == N_SCEN
    assert int(result.flooded_nodes.min()) > 0


def _naive(ds: xr.Dataset) -> pd.DataFrame:
    """Per member, per node, with pandas: what a notebook would write first."""
    dt = 300.0
    rows = []
    for s in ds.scenario.values:
        rate = ds.flooding_rate.sel(scenario=s).to_pandas()
        above = ds.water_depth.sel(scenario=s).to_pandas() - ds.full_depth.to_pandas()
        rows.append(
            pd.DataFrame(
                {
                    "volume": (rate * dt).sum(),
                    "duration": (rate > 0).sum() * dt,
                    "peak": rate.max(),
                    "depth": above.clip(lower=0).max(),
                    "above": (above > 0.15).sum() * dt,
                }
            )
        )
    return pd.concat(rows, keys=ds.scenario.values)


def test_naive_pandas(benchmark, ensemble):
    part = ensemble.isel(scenario=slice(0, NAIVE_SCEN))
    benchmark.pedantic(_naive, args=(part,), rounds=3, iterations=1)
    RESULTS["pandas way, per scenario [s]"] = benchmark.stats.stats.min / NAIVE_SCEN


def test_summary(one_run):
    if "score ensemble [s]" not in RESULTS:
        pytest.skip("run the whole file")
    per_scenario = RESULTS["score ensemble [s]"] / N_SCEN
    RESULTS["score, per scenario [s]"] = per_scenario
    RESULTS["scenarios scored per engine run"] = RESULTS["engine run [s]"] / per_scenario
    if "pandas way, per scenario [s]" in RESULTS:
        RESULTS["speed-up over pandas"] = RESULTS["pandas way, per scenario [s]"] / per_scenario
    print()
    for name, value in RESULTS.items():
        print(f"  {name:36s} {value:12.4g}")
