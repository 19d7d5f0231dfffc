"""Ensembles: speed-up of 2 workers against 1, and peak memory against a single run.

Eight drainage scenarios of the bundled model (a 2-hour storm and 2 hours after it, different return periods)
run through hydro.study.run_plan -- each worker writes its full result to disk and sends back only
its scores -- once with 1 worker (in process) and once with 2 worker processes. Peak memory is the
largest resident set of any process involved (the caller and, with Dask, its workers), measured in
a fresh interpreter per case, against one plain scenario run.

Run: python -m pytest benchmarks/bench_ensemble.py --benchmark-only -s
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PERIODS = (2, 3, 5, 10, 20, 30, 50, 100)

CASE = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    mode, folder = sys.argv[1], Path(sys.argv[2])
    if __name__ == "__main__":
        start = time.perf_counter()
        if mode == "single":
            from hydro.drainage.scenario import run_scenario
            run_scenario(folder / "storm2.toml")
        else:
            from hydro.ensemble.plan import run_plan
            run_plan(folder / "plan.toml", folder / ("out" + mode), workers=int(mode))
        elapsed = time.perf_counter() - start
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(json.dumps({"seconds": elapsed, "peak_mb": peak / 1024}))
""")


def scenarios(folder: Path) -> None:
    base = REPO / "scenarios" / "drainage" / "p5_2h_normal_river.toml"
    for p in PERIODS:
        (folder / f"storm{p}.toml").write_text(
            f'include = "{base}"\n[rainfall.design]\nreturn_period = {p}\nduration = "2h"\n'
            '[time]\nrecession = "2h"\n'
        )
    (folder / "plan.toml").write_text('drainage = ["storm*.toml"]\n')
    (folder / "case.py").write_text(CASE)


def measure(folder: Path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(folder / "case.py"), mode, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_workers_against_one(benchmark, tmp_path: Path):
    scenarios(tmp_path)
    single = measure(tmp_path, "single")
    one = measure(tmp_path, "1")
    two = benchmark.pedantic(measure, args=(tmp_path, "2"), rounds=1, iterations=1)
    speedup = one["seconds"] / two["seconds"]
    benchmark.extra_info.update(
        {
            "one_worker_s": one["seconds"],
            "two_workers_s": two["seconds"],
            "speedup": speedup,
            "single_run_peak_mb": single["peak_mb"],
            "ensemble_peak_mb": two["peak_mb"],
        }
    )
    print(
        f"\n{len(PERIODS)} scenarios: 1 worker {one['seconds']:.1f} s, 2 workers "
        f"{two['seconds']:.1f} s, speed-up {speedup:.2f}; peak memory: single run "
        f"{single['peak_mb']:.0f} MB, ensemble of 1 {one['peak_mb']:.0f} MB, "
        f"of 2 {two['peak_mb']:.0f} MB per process"
    )
    assert speedup > 1.3  # two cores, two engines: needs an otherwise idle machine
    # Full results stay in the workers' files: no process holds more than a few runs' worth.
    assert two["peak_mb"] < 3 * single["peak_mb"]
