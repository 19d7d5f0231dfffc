"""A run killed while it writes its result: the previous file stays intact (or there is none).

Results are written under a temporary name beside the target and renamed when complete, so
SIGKILL in the middle of the write cannot damage what was there; SIGTERM (and Ctrl-C) also
remove the half-written file and the engine's temporary folder, and print one line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hydro.results import read_netcdf, write_netcdf

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "swmm" / "tiny.inp"
FORMULA = REPO / "networks" / "xuancheng" / "rainfall.toml"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("previous", [True, False], ids=["previous", "none"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["KILL", "TERM"])
def test_killed_mid_write(tmp_path: Path, signum: int, previous: bool):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(TINY, work / "sw.inp")
    shutil.copy(FORMULA, work / "rainfall.toml")
    (work / "long.toml").write_text(  # days at a 10 s report step: a result of tens of MB
        'network = "sw.inp"\n[rainfall.design]\nreturn_period = 5\nduration = "1h"\n'
        '[time]\nrecession = "8d"\n'
    )
    out = work / "out.nc"
    if previous:
        ds = xr.Dataset({"x": ("scenario", np.ones(1))}, coords={"scenario": ["before"]})
        before = sha(write_netcdf(ds, out))
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hydro.cli",
            "drainage",
            "run",
            str(work / "long.toml"),
            "-o",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 300
    while not list(work.glob(".out.nc.*.part")):  # the write has begun
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.002)
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=120)

    if out.exists():
        if previous and sha(out) == before:
            pass  # killed before the rename: the previous file, untouched
        else:  # the rename won the race: then the new file is whole
            assert "flooding_rate" in read_netcdf(out)
    if signum == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM, output
        lines = [line for line in output.splitlines() if line.strip()]
        assert lines == ["interrupted: nothing was written"], output
        assert not list(work.glob("*.part")), "SIGTERM left a half-written file"
        assert not list(private_tmp.iterdir()), "SIGTERM left the engine's temporary folder"
    else:
        assert proc.returncode == -signal.SIGKILL
        if previous:
            assert out.exists()
