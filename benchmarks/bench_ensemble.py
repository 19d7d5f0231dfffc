"""Ensembles: speed-up of 2 workers against 1, and peak memory per worker against a single run.

Sixteen drainage scenarios of the bundled model (eight return periods, 1-hour and 2-hour storms,
2 hours after the rain) run through hydro.ensemble.run_plan -- workers started once, each writing
its members' full results itself and sending back only their scores -- once with 1 worker (in
this process, no Dask) and once with 2 worker processes (a local TLS Dask cluster). Each case
runs in a fresh interpreter. Peak memory per worker is the largest resident set any worker
process reached (``RUSAGE_CHILDREN``, read once the workers have exited); the caller's own is
reported apart.

"A single run", the memory baseline, is one member's job done alone in a fresh interpreter:
the scenario run, scored and written with its summary, as ``hydro drainage run -o`` and every
ensemble worker do. The bare engine run (run_scenario alone: no scores, nothing written, neither
numba nor Dask loaded) is reported beside it.

The machine is shared: the 1-minute load average before and after is reported with the ratios,
and the speed-up target (>= 1.8) is asserted only when the machine was otherwise idle (load < 1).

Run: python -m pytest benchmarks/bench_ensemble.py --benchmark-only -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PERIODS = (2, 3, 5, 10, 20, 30, 50, 100)
DURATIONS = ("1h", "2h")

CASE = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    mode, folder = sys.argv[1], Path(sys.argv[2])
    if __name__ == "__main__":
        start = time.perf_counter()
        if mode in ("bare", "single"):
            from hydro.drainage.scenario import run_scenario
            ds = run_scenario(folder / "storm_2_2h.toml")
            if mode == "single":  # what one member's job does: run, score, write
                from hydro.results import write_netcdf
                from hydro.scoring import score
                write_netcdf(ds, folder / "single.nc", groups={"summary": score(ds)})
        else:
            from hydro.ensemble.plan import run_plan
            run = run_plan(folder / "plan.toml", folder / ("out" + mode), workers=int(mode))
            assert not run.failed and len(run.finished) == 16, run.failed
        elapsed = time.perf_counter() - start
        mb = 1 / 1024  # ru_maxrss is in kB on Linux
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * mb
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * mb
        print(json.dumps({"seconds": elapsed, "caller_mb": own, "worker_mb": workers}))
""")


def scenarios(folder: Path) -> None:
    (folder / ".hydro-bundle").write_text("")
    base = REPO / "scenarios" / "drainage" / "p5_2h_normal_river.toml"
    for p in PERIODS:
        for d in DURATIONS:
            (folder / f"storm_{p}_{d}.toml").write_text(
                f'include = "{base}"\n[rainfall.design]\nreturn_period = {p}\nduration = "{d}"\n'
                '[time]\nrecession = "2h"\n'
            )
    (folder / "plan.toml").write_text('drainage = ["storm_*.toml"]\n')
    (folder / "case.py").write_text(CASE)


def measure(folder: Path, mode: str) -> dict:
    env = {**os.environ, "HYDRO_ALLOW_PATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(folder / "case.py"), mode, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_workers_against_one(benchmark, tmp_path: Path):
    scenarios(tmp_path)
    load_before = os.getloadavg()[0]
    bare = measure(tmp_path, "bare")
    single = measure(tmp_path, "single")
    one = measure(tmp_path, "1")
    two = benchmark.pedantic(measure, args=(tmp_path, "2"), rounds=1, iterations=1)
    load_after = os.getloadavg()[0]
    speedup = one["seconds"] / two["seconds"]
    memory = two["worker_mb"] / single["caller_mb"]
    benchmark.extra_info.update(
        {
            "scenarios": 16,
            "one_worker_s": one["seconds"],
            "two_workers_s": two["seconds"],
            "speedup": speedup,
            "single_run_peak_mb": single["caller_mb"],
            "bare_run_peak_mb": bare["caller_mb"],
            "worker_peak_vs_bare_run": two["worker_mb"] / bare["caller_mb"],
            "worker_peak_mb": two["worker_mb"],
            "caller_peak_mb_two_workers": two["caller_mb"],
            "worker_peak_vs_single_run": memory,
            "load_before": load_before,
            "load_after": load_after,
        }
    )
    print(
        f"\n16 scenarios: 1 worker {one['seconds']:.1f} s, 2 workers {two['seconds']:.1f} s, "
        f"speed-up {speedup:.2f}; peak memory: single run (run, score, write) "
        f"{single['caller_mb']:.0f} MB, bare run {bare['caller_mb']:.0f} MB, per worker "
        f"{two['worker_mb']:.0f} MB ({memory:.2f}x the single run, "
        f"{two['worker_mb'] / bare['caller_mb']:.2f}x the bare one), caller "
        f"{two['caller_mb']:.0f} MB; "
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after"
    )
    assert memory <= 2.0  # a worker holds one run at a time, results go to disk
    assert speedup > 1.3  # two engines on two cores, even with some load
    if load_before < 1.0:  # an otherwise idle machine: the target
        assert speedup >= 1.8
