"""EPANET adapter overhead: BWSN_Network_2 (12.5k junctions), 24 h, to a Dataset, against the bare
EPANET hydraulic solve of the same file in the same run. Target (issue 18): ratio <= 1.2; asserted
<= 1.5 on the best of each, as a guard against regressions on this noisy shared machine.

Baselines, interleaved round by round: EN_solveH (open, solve, close) and the toolkit stepping the
same model with EN_runH/EN_nextH reading nothing (what hydro's loop does, minus its reads).

Measured 2026-12-04 (2 cores shared with 3 other sessions, load average 7-8; 15 interleaved rounds,
main before and this branch after in two worker processes, medians): bare EN_solveH 0.347 s
(0.323-0.772), bare stepping 0.333 s; before (7192b8a: the run's accounts waited for the INP
parse before the solve, and the [TIMES] lookup split all of [PIPES]) 0.673 s = 1.94x (per round
1.13-2.61, quartiles 1.67-1.90); after 0.646 s = 1.86x (0.86-2.56, quartiles 1.69-1.93): within
the noise. What is left (phases, same day): opening 0.10 s (as bare), solve + step accounts
0.38-0.41 s against a bare solve of ~0.25 s (the accounts' reads and numpy ~2.7 ms a step x 26
steps, and the 0.18 s parse, which only hides behind the solve when a core is free), Dataset
0.02-0.04 s, INP read 0.03 s, report 0.01-0.02 s. Target 1.2 not met.

Run: python -m pytest benchmarks/bench_supply_engine.py --benchmark-only
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import pytest
from epanet_baseline import bare_solve, bare_stepping

from hydro.supply import run
from hydro.supply.epanet import TimeParameter

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "epanet"
MODEL = CORPUS / "BWSN_Network_2.inp"
DAY = 86400
ROUNDS = 15

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"corpus model not found: {MODEL}")


def one_day(project) -> None:
    project.set_time(TimeParameter.DURATION, DAY)


def test_epanet_adapter_vs_bare_solve(benchmark):
    run(MODEL, edits=[one_day])  # warm imports and caches
    bare, stepping, ours = [], [], []
    for _ in range(ROUNDS):  # interleaved, so that the machine's load hits both alike
        bare.append(bare_solve(MODEL, DAY))
        stepping.append(bare_stepping(MODEL, DAY))
        start = time.perf_counter()
        ds = run(MODEL, edits=[one_day])
        ours.append(time.perf_counter() - start)
    benchmark.pedantic(run, args=(MODEL,), kwargs={"edits": [one_day]}, rounds=1, iterations=1)
    ratio = statistics.median(ours) / statistics.median(bare)
    best = min(ours) / min(bare)  # the machine's noise only ever adds time
    benchmark.extra_info.update(
        {
            "bare_solve_s": statistics.median(bare),
            "adapter_s": statistics.median(ours),
            "ratio": ratio,
            "ratio_of_best": best,
            "stepping_s": statistics.median(stepping),
            "ratio_to_stepping": statistics.median(ours) / statistics.median(stepping),
            "target": 1.2,
        }
    )
    print(
        f"\nEPANET adapter {statistics.median(ours):.3f} s, bare solve "
        f"{statistics.median(bare):.3f} s (medians of {ROUNDS}): ratio {ratio:.2f}; "
        f"best of each: {min(ours):.3f} s / {min(bare):.3f} s = {best:.2f}; against the bare "
        f"stepping {statistics.median(stepping):.3f} s: "
        f"{statistics.median(ours) / statistics.median(stepping):.2f}; ratios per round "
        f"{sorted(round(o / b, 2) for o, b in zip(ours, bare, strict=True))}"
    )
    assert ds.sizes["time"] == 25
    # Judged on the best of each: on a shared machine noise only ever adds time, to both sides.
    assert best <= 1.5


def test_wntr_epanet_simulator_for_reference(benchmark):
    """WNTR's EpanetSimulator on the same 24 h (writes an INP and reads a binary file)."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(MODEL))
    wn.options.time.duration = DAY
    bare = statistics.median(bare_solve(MODEL, DAY) for _ in range(3))

    def simulate():
        with tempfile.TemporaryDirectory() as tmp:
            return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=f"{tmp}/w")

    benchmark.pedantic(simulate, rounds=3, iterations=1)
    ratio = benchmark.stats.stats.median / bare
    benchmark.extra_info.update({"bare_solve_s": bare, "ratio": ratio})
    print(f"\nWNTR EpanetSimulator ratio {ratio:.2f} against the bare solve")
