"""Start-up: the first `hydro score` in a fresh interpreter, with numba's cache cold and after
`hydro compile`; `hydro --help`; the first run's check whether the kernels are compiled.

Run:  pytest benchmarks/bench_startup.py --benchmark-columns=min,mean,rounds -s
Size: the bundled Xuancheng drainage model under a 30-year, 1-hour design storm (the score path of
the bundled 30-year result, p30_3h_flood_river, on a shorter run). Every cache is a temporary
NUMBA_CACHE_DIR: nobody's cache is wiped. Takes about two minutes on 2 cores (the cold score and
`hydro compile` each compile the kernels once).
Target (issue 18): the first score after `hydro compile` under 5 s; `hydro --help` under 1 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "networks" / "xuancheng" / "drainage.inp"
RESULTS: dict[str, float] = {}


def _env(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "HYDRO_NO_PRECOMPILE": "1",
        "HYDRO_ALLOW_PATH": str(REPO),
    }


def _hydro(args: list[str], cache: Path, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hydro.cli", *args],
        env=_env(cache),
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> Path:
    if not MODEL.is_file():
        pytest.skip("bundled Xuancheng drainage model not found")
    folder = tmp_path_factory.mktemp("startup")
    scenario = folder / "p30_1h.toml"
    scenario.write_text(
        f'network = "{MODEL.as_posix()}"\n[time]\nrecession = "0h"\n[rainfall.design]\n'
        'return_period = 30\nduration = "1h"\nstep = "5min"\npattern = "chicago"\n'
        "peak_position = 0.375\n"
    )
    RESULTS["drainage run, 1 h [s]"] = _hydro(
        ["drainage", "run", str(scenario), "-o", "p30.nc"], folder / "run_cache", folder
    )
    return folder / "p30.nc"


def test_first_score_cold_cache(benchmark, result):
    cache = result.parent / "cold"

    def cold():
        return _hydro(["score", str(result), "-o", "cold.nc"], cache, result.parent)

    RESULTS["first score, cold cache [s]"] = benchmark.pedantic(cold, rounds=1, iterations=1)


def test_first_score_after_compile(benchmark, result):
    cache = result.parent / "warm"
    RESULTS["hydro compile [s]"] = _hydro(["compile"], cache, result.parent)

    def warm():
        return _hydro(["score", str(result), "-o", "warm.nc"], cache, result.parent)

    seconds = benchmark.pedantic(warm, rounds=3, iterations=1)
    RESULTS["first score, after hydro compile [s]"] = benchmark.stats.stats.median
    assert seconds < 5.0
    assert benchmark.stats.stats.median < 5.0


def test_help_and_the_first_run_check(benchmark, result):
    RESULTS["hydro --help [s]"] = min(
        _hydro(["--help"], result.parent / "warm", result.parent) for _ in range(3)
    )
    assert RESULTS["hydro --help [s]"] < 1.0
    os.environ["NUMBA_CACHE_DIR"] = str(result.parent / "warm")
    try:
        from hydro import precompile

        assert precompile.is_compiled()  # `hydro compile` above wrote the marker
        benchmark(precompile.is_compiled)
    finally:
        del os.environ["NUMBA_CACHE_DIR"]
    RESULTS["is the install compiled? [ms]"] = benchmark.stats.stats.median * 1e3
    assert RESULTS["is the install compiled? [ms]"] < 10.0


def teardown_module(module):
    if RESULTS:
        print("\nstart-up:")
        for key, value in RESULTS.items():
            print(f"  {key:<40} {value:8.3f}")
