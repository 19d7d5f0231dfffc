"""`hydro compile` and the first run's background compile (hydro.precompile): the cache folder is
numba's own, the compile covers every kernel real runs use, and nothing starts where it must not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hydro import precompile
from hydro.cli import app

from .conftest import CORPUS, NETWORKS, REPO
from .flood_cases import write_case

runner = CliRunner()


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("HYDRO_NO_PRECOMPILE", "NUMBA_CACHE_DIR")
    }
    return {**env, "NUMBA_CACHE_DIR": str(cache), **extra}


def _python(code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _hydro(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hydro.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_cache_folder_is_the_one_numba_uses(tmp_path):
    """Without importing numba, cache_folder() finds the folder numba's locators choose, for
    NUMBA_CACHE_DIR and for the default, for every folder of kernels."""
    code = (
        "from hydro import precompile\n"
        "from hydro.kernels.hazard import _hazard_class_kernel as a\n"
        "from hydro.kernels.transport.kernel import _step as b\n"
        "from hydro.flood.kernels import _fluxes as c\n"
        "for k in (a, b, c):\n"
        "    from pathlib import Path\n"
        "    src = Path(k.py_func.__code__.co_filename).parent\n"
        "    print(precompile.cache_folder(src) == Path(k._cache.cache_path))\n"
    )
    env = _env(tmp_path / "cache")
    assert _python(code, env, tmp_path).split() == ["True"] * 3
    del env["NUMBA_CACHE_DIR"]
    assert _python(code, env, tmp_path).split() == ["True"] * 3


def test_making_the_rules_loads_no_kernel(tmp_path):
    code = (
        "import hydro.scoring, hydro.cli\n"
        "from hydro.scoring import ScoringRules\n"
        "ScoringRules()\n"
        "from hydro.precompile import kernel_dispatchers\n"
        "print(sum(len(d.signatures) for d in kernel_dispatchers().values()))\n"
    )
    assert _python(code, _env(tmp_path / "cache"), tmp_path).strip() == "0"


def test_nothing_starts_when_opted_out_compiled_or_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HYDRO_NO_PRECOMPILE", "1")
    assert precompile.start_background() is None
    assert not (precompile.cache_folder() / precompile.LOG_NAME).exists()

    monkeypatch.delenv("HYDRO_NO_PRECOMPILE")
    folder = precompile.cache_folder()
    folder.mkdir(parents=True)
    precompile.marker(folder).write_text("{}")
    assert precompile.is_compiled() and precompile.start_background() is None
    assert not (folder / precompile.LOG_NAME).exists()

    # A cache folder that cannot be made: no background compile, and `hydro compile` says so.
    (tmp_path / "a_file").write_text("")
    monkeypatch.setattr(precompile, "cache_folder", lambda *a: tmp_path / "a_file" / "numba")
    assert precompile.start_background() is None
    result = runner.invoke(app, ["compile"])
    assert result.exit_code != 0
    assert "cannot be written" in result.output and "NUMBA_CACHE_DIR" in result.output


def test_kernels_wait_for_a_compile_under_way_elsewhere(tmp_path, monkeypatch):
    """numba's cache index is rewritten whole by each process that adds a signature: a process
    importing the kernels while another compiles waits for it, then goes on."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    folder = precompile.cache_folder()
    folder.mkdir(parents=True)
    importer = [sys.executable, "-c", "import hydro.kernels, hydro.flood.kernels; print('in')"]
    with precompile._compile_lock(folder, wait=False) as held:
        assert held
        proc = subprocess.Popen(
            importer, env=_env(cache), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=5)  # held up while the compile runs
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.decode().strip() == "in"
    assert "waiting for the compile of its numba kernels" in err.decode()
    # No compile under way: no wait, no message.
    done = subprocess.run(importer, env=_env(cache), cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0 and b"waiting" not in done.stderr


def test_commands_that_compile_kernels_start_no_background_compile(tmp_path):
    """A supply run traces its sources with a numba kernel: it must not compile beside a
    background compile of the same kernels, so it never starts one."""
    cache = tmp_path / "cache"
    supply = tmp_path / "day.toml"
    supply.write_text(
        f'network = "{(NETWORKS / "xuancheng" / "supply.inp").as_posix()}"\n'
        '[time]\nduration = "1h"\nreport_step = "1h"\n'
    )
    _hydro(["supply", "run", str(supply), "-o", "s.nc"], _env(cache), tmp_path)
    assert not list(cache.rglob(precompile.LOG_NAME))
    # nor does `hydro run` of an EPANET model (its element parse and accounts are kernels too)
    _hydro(["run", str(NETWORKS / "xuancheng" / "supply.inp"), "-o", "r.nc"], _env(cache), tmp_path)
    assert not list(cache.rglob(precompile.LOG_NAME))


@pytest.mark.slow
def test_background_compile_covers_what_real_runs_use(tmp_path):
    """The first run's background compile (the same as `hydro compile`) leaves nothing for the
    real commands to compile: drainage and supply runs and scores, the capacity study and the
    drawdown, flood runs on their own and coupled with a drainage model."""
    cache = tmp_path / "cache"
    env = _env(cache)
    code = (
        "import sys\n"
        "from hydro.precompile import start_background\n"
        "proc = start_background()\n"
        "sys.exit(proc.wait())\n"
    )
    _python(code, env, tmp_path)
    folder = Path(
        _python(
            "from hydro import precompile; print(precompile.cache_folder())", env, tmp_path
        ).strip()
    )
    log = (folder / precompile.LOG_NAME).read_text()
    assert "compiled the drainage scoring kernels" in log and str(folder) in log
    assert "0 already cached" in log  # a cold cache: everything compiled by this process
    (mark,) = folder.glob(f"{precompile.MARKER_PREFIX}*")
    assert json.loads(mark.read_text())["signatures"] > 40
    assert (
        _python(
            "from hydro import precompile; print(precompile.start_background())", env, tmp_path
        ).strip()
        == "None"
    )

    # Real commands on real inputs (the bundled models, flood cases, the corpus) compile nothing
    # now: runs, scores, the capacity study, the drawdown, a coupled flood.
    real = {**env, "HYDRO_NO_PRECOMPILE": "1", "NUMBA_DEBUG_CACHE": "1"}
    drainage = tmp_path / "storm.toml"
    drainage.write_text(
        f'network = "{(NETWORKS / "xuancheng" / "drainage.inp").as_posix()}"\n'
        '[time]\nrecession = "0h"\n[rainfall.design]\nreturn_period = 30\nduration = "1h"\n'
        'step = "5min"\npattern = "chicago"\npeak_position = 0.375\n'
    )
    supply = tmp_path / "day.toml"
    supply.write_text(
        f'network = "{(NETWORKS / "xuancheng" / "supply.inp").as_posix()}"\n'
        '[time]\nduration = "2h"\nreport_step = "1h"\n[answers]\nservice_head = 28\n'
    )
    one = tmp_path / "one_source.toml"  # the transport is compiled per number of sources
    one.write_text(supply.read_text() + 'sources = ["qingyi"]\n')
    alone = tmp_path / "alone"  # a model without assets: its layout is inferred when scored
    alone.mkdir()
    shutil.copy(NETWORKS / "xuancheng" / "supply.inp", alone / "supply.inp")
    case = write_case(
        tmp_path / "flood",
        {
            "surface": {"dem": "dem.asc", "manning": 0.03, "duration": "5min", "output_every": 60},
            "rain": {"series": [[0, "100 mm/h"]]},
            "boundaries": {"east": {"type": "open", "slope": 0.01}},
        },
        grids={"dem.asc": _slope()},
    )
    commands = [
        ["drainage", "run", str(drainage), "-o", "d.nc"],
        ["score", "d.nc", "-o", "d_scores.nc"],
        ["supply", "run", str(supply), "-o", "s.nc"],
        ["score", "s.nc", "-o", "s_scores.nc"],
        ["supply", "run", str(one), "-o", "one.nc"],
        ["run", str(alone / "supply.inp"), "-o", "alone.nc"],
        ["score", "alone.nc", "-o", "alone_scores.nc"],
        ["supply", "study", str(supply), "--diameters", "1000", "--no-binding", "--workers", "1"],
        ["supply", "drawdown", str(RESERVOIR), "--days", "30", "-o", "drawdown.nc"],
        ["flood", "run", str(case), "-o", "f.nc"],
        ["flood", "run", str(_coupled_case(tmp_path / "coupled")), "-o", "c.nc"],
    ]
    balerma = CORPUS / "epanet" / "Balerma.inp"  # four reservoirs: four sources traced
    if balerma.is_file():
        four = tmp_path / "balerma.toml"
        four.write_text(f'network = "{balerma.as_posix()}"\n[time]\nduration = "3h"\n')
        commands += [["supply", "run", str(four), "-o", "b.nc"], ["score", "b.nc", "-o", "bs.nc"]]
    for args in commands:
        output = _hydro(args, real, tmp_path)
        saved = [line for line in output.splitlines() if "data saved" in line]
        assert not saved, f"hydro {' '.join(args)} compiled kernels hydro compile missed: {saved}"
        # NUMBA_DEBUG_CACHE is heard: every command that calls a kernel says it loaded it
        assert "data loaded" in output or args[:2] in NO_KERNEL


# Commands whose answers come from the engines alone (SWMM's statistics, the reservoir's water
# balance): they load no kernel.
NO_KERNEL = [["drainage", "run"], ["supply", "drawdown"]]
RESERVOIR = REPO / "scenarios" / "reservoir" / "gangkouwan_dry_year.toml"
TINY = Path(__file__).parent / "data" / "swmm" / "tiny.inp"


def _coupled_case(folder: Path) -> Path:
    """The tiny SWMM model (a pipe that surcharges) coupled with a street, for 20 minutes."""
    import numpy as np

    from hydro.flood.grid import Grid

    folder.mkdir()
    text = TINY.read_text().replace(
        "END_TIME             03:00:00", "END_TIME             00:20:00"
    )
    assert "00:20:00" in text
    (folder / "tiny.inp").write_text(text)
    dx, nx, ny, x0, y0 = 5.0, 50, 8, -30.0, 20.0
    xx, yy = np.meshgrid(x0 + dx * (np.arange(nx) + 0.5), y0 - dx * (np.arange(ny) + 0.5))
    z = 11.5 - 0.005 * xx + 0.02 * np.abs(yy)  # J1's rim (11.5 m) at x = 0, falling east
    return write_case(
        folder,
        {
            "surface": {
                "dem": "dem.asc",
                "manning": 0.03,
                "duration": "20min",
                "output_every": 600,
            },
            "boundaries": {"east": {"type": "open", "slope": 0.005}},
            "drainage": {"model": "tiny.inp"},
        },
        grids={"dem.asc": Grid(z, x0, y0, dx, dx)},
    )


def _slope():
    import numpy as np

    from hydro.flood.grid import Grid

    return Grid(np.add.outer(np.zeros(4), np.linspace(1.0, 0.5, 12)), 0.0, 40.0, 10.0, 10.0)
