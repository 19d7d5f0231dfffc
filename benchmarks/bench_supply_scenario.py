"""Supply-scenario overhead against the bare EPANET engine, on the bundled Xuancheng model and on a
generated 50,000-junction one: hydro.supply.scenario.run_scenario (edits, hydraulics, answers,
without source shares) against open + EN_solveH + close of the same file, same duration.

Run: python -m pytest benchmarks/bench_supply_scenario.py --benchmark-only -s
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from epanet_baseline import bare_solve

from hydro.supply.scenario import SupplyScenario, resolve, run_scenario
from hydro.synth.supply import write_supply

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "networks" / "xuancheng" / "supply.inp"
DAY = 86400


def baseline(inp: Path) -> SupplyScenario:
    return SupplyScenario.model_validate(
        {
            "name": "bench",
            "network": str(inp),
            "time": {"duration": DAY},
            "answers": {"shares": False},
        }
    )


@pytest.fixture(scope="module")
def big_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.inp"
    write_supply(path, junctions=50_000, seed=2024)
    return path


def measure(benchmark, inp: Path, rounds: int) -> float:
    loaded = resolve(baseline(inp))
    run_scenario(loaded)  # warm caches
    bare, ours = [], []
    for _ in range(rounds):  # interleaved: the machine's load hits both alike
        bare.append(bare_solve(inp, DAY))
        start = time.perf_counter()
        run_scenario(loaded)
        ours.append(time.perf_counter() - start)
    benchmark.pedantic(run_scenario, args=(loaded,), rounds=1, iterations=1)
    ratio = statistics.median(ours) / statistics.median(bare)
    benchmark.extra_info.update(
        {
            "bare_solve_s": statistics.median(bare),
            "scenario_s": statistics.median(ours),
            "ratio": ratio,
        }
    )
    print(
        f"\n{inp.name}: scenario {statistics.median(ours):.2f} s, bare solve "
        f"{statistics.median(bare):.2f} s, ratio {ratio:.2f}"
    )
    return ratio


def test_scenario_overhead_bundled(benchmark):
    # Water age rides along in the scenario run (the model asks for it); the bare solve is
    # hydraulics only, so the ratio includes EPANET's own quality solver.
    assert measure(benchmark, BUNDLED, rounds=5) < 6


def test_scenario_overhead_50k(benchmark, big_model):
    assert measure(benchmark, big_model, rounds=2) < 6
