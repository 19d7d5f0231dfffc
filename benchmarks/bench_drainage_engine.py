"""SWMM adapter overhead: corpus user5.inp (200 nodes, 1 day, ~15 s of dynamic wave) run to a
Dataset with hydro.drainage.run, against the bare ``swmm.toolkit.solver.swmm_run`` of the same
file. Target: ratio <= 1.15.

Each round runs the bare engine (timed by hand, in pedantic's untimed setup) and then hydro's run
(timed by pytest-benchmark), so both see the same machine load on a shared computer.

Run: python -m pytest benchmarks/bench_drainage_engine.py --benchmark-only -s
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pytest
from swmm.toolkit import solver

from hydro.drainage import run

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "swmm"
MODEL = CORPUS / "user5.inp"
WARM_UP = CORPUS / "Example1.inp"
ROUNDS = 3
TARGET = 1.15

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"corpus model not found: {MODEL}")


def bare_run(model: Path) -> float:
    """Seconds for swmm_run of a copy of the model in a temporary folder (report + binary out)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / model.name
        shutil.copy(model, copy)
        start = time.perf_counter()
        solver.swmm_run(str(copy), str(Path(tmp) / "bare.rpt"), str(Path(tmp) / "bare.out"))
        return time.perf_counter() - start


def test_swmm_adapter_vs_bare_swmm_run(benchmark):
    run(WARM_UP)  # imports and first-call costs, not part of the comparison
    bare_times: list[float] = []

    def setup():
        bare_times.append(bare_run(MODEL))
        return (MODEL,), {}

    ds = benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    ours = benchmark.stats.stats.median
    bare = statistics.median(bare_times)
    ratio = ours / bare
    benchmark.extra_info.update(
        {"bare_swmm_run_s": bare_times, "bare_median_s": bare, "ratio": ratio, "target": TARGET}
    )
    print(
        f"\nSWMM adapter (user5 to Dataset) {ours:.2f} s, bare swmm_run {bare:.2f} s, "
        f"ratio {ratio:.3f} (target <= {TARGET})"
    )
    assert ds.sizes["node"] == 200 and ds.sizes["time"] == 287
    assert ratio <= TARGET
