"""Someone else's ensemble: a hostile or broken member costs nothing but itself.

A bundle with two good drainage members, one broken member, a member whose name climbs out of
the output folder, one with an absolute name and one that reads a rain file outside the bundle:
the good members are written and summarised, the others are named with their file and one line,
nothing is written outside the output folder, nothing outside the bundle is shown, no temporary
file stays, and the command exits non-zero. Running it again resumes; SIGTERM mid-run keeps the
finished results and leaves no worker, temporary folder or half-written file behind.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.ensemble.plan import _finished_summary, inputs_digest, load_plan
from hydro.results import read_netcdf

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "swmm" / "tiny.inp"
FORMULA = REPO / "networks" / "xuancheng" / "rainfall.toml"
SECRET = "SECRET-5eed"
runner = CliRunner()


def storm(period: float, extra: str = "", recession: str = "1h") -> str:
    return (
        'network = "sw.inp"\n'
        f'{extra}[rainfall.design]\nreturn_period = {period}\nduration = "1h"\n'
        f'[time]\nrecession = "{recession}"\n'
    )


def make_bundle(tmp: Path) -> Path:
    bundle = tmp / "bundle"
    bundle.mkdir()
    (bundle / ".hydro-bundle").write_text("")
    shutil.copy(TINY, bundle / "sw.inp")
    shutil.copy(FORMULA, bundle / "rainfall.toml")
    (tmp / "elsewhere").mkdir()
    (tmp / "elsewhere" / "secret.csv").write_text(f"time,{SECRET}\n2024-06-01 00:00,1\n")
    members = {
        "good_a.toml": storm(2),
        "good_b.toml": storm(5),
        "broken.toml": storm(5) + '[[operations]]\ntype = "pump_outage"\nstation = "nowhere"\n',
        "climb.toml": storm(5, 'name = "../../escaped"\n'),
        "absolute.toml": storm(5, f'name = "{tmp}/absolute"\n'),
        "foreign.toml": 'network = "sw.inp"\n[rainfall.series]\nfile = "../elsewhere/secret.csv"\n',
    }
    for name, text in members.items():
        (bundle / name).write_text(text)
    listed = ", ".join(f'"{name}"' for name in members)
    (bundle / "e.toml").write_text(f"# Question: a hostile bundle\ndrainage = [{listed}]\n")
    return bundle


def tree(folder: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    found = {}
    for path in folder.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        info = path.lstat()
        found[str(path)] = (0, 0) if path.is_dir() else (info.st_size, info.st_mtime_ns)
    return found


def temp_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("hydro-ensemble-*")}


@pytest.fixture(autouse=True)
def private_tmp(tmp_path_factory, monkeypatch) -> Path:
    """A temporary folder of this test's own (for it and the processes it starts): the shared
    one holds other runs' folders, which come and go while a test counts them."""
    folder = tmp_path_factory.mktemp("tmpdir")
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("HYDRO_ALLOW_PATH", raising=False)  # only the bundle may be read
    return make_bundle(tmp_path)


def test_a_hostile_bundle_keeps_the_good_members_and_names_the_bad(bundle: Path):
    tmp, out = bundle.parent, bundle / "out"
    before, temps = tree(tmp), temp_folders()
    result = runner.invoke(
        app, ["ensemble", str(bundle / "e.toml"), "-o", str(out), "--workers", "2"]
    )
    assert result.exit_code == 1, result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    failed = [line for line in result.output.splitlines() if line.startswith("failed: ")]
    named = {Path(line.split(": ")[1]).name for line in failed}
    assert named == {"broken.toml", "climb.toml", "absolute.toml", "foreign.toml"}
    assert any("nowhere" in line for line in failed)
    assert any("outside the folders" in line for line in failed)
    assert "4 of 6 scenarios failed" in result.output

    # The good members, whole and summarised; the failures listed; nothing else anywhere.
    assert sorted(p.name for p in (out / "drainage").iterdir()) == ["good_a.nc", "good_b.nc"]
    assert "flooding_rate" in read_netcdf(out / "drainage" / "good_a.nc")
    scores = read_netcdf(out / "drainage_scores.nc")
    assert list(scores["scenario"].values) == ["good_a", "good_b"]
    assert "broken.toml" in scores.attrs["failed_members"]
    with open(out / "failed.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {Path(r["scenario_file"]).name for r in rows} == named
    assert all("\n" not in r["error"] for r in rows)
    assert tree(tmp, skip=out) == before  # nothing written outside the output folder
    assert not list(tmp.rglob("*.part")) and not list(tmp.rglob("escaped*"))
    assert temp_folders() <= temps  # the workers' temporary folder is gone

    # Run again: the finished members are up to date, the broken ones fail again.
    again = runner.invoke(
        app, ["ensemble", str(bundle / "e.toml"), "-o", str(out), "--workers", "1"]
    )
    assert again.exit_code == 1
    assert "0 run, 2 up to date, 4 failed" in again.output
    # A changed member is run again, the other is not.
    (bundle / "good_b.toml").write_text(storm(10))
    (bundle / "broken.toml").write_text(storm(3))  # mended
    third = runner.invoke(
        app, ["ensemble", str(bundle / "e.toml"), "-o", str(out), "--workers", "1"]
    )
    assert "2 run, 1 up to date, 3 failed" in third.output
    scores = read_netcdf(out / "drainage_scores.nc")
    assert list(scores["scenario"].values) == ["good_a", "good_b", "broken"]


def test_members_sharing_a_name_are_refused(bundle: Path):
    (bundle / "twin.toml").write_text(storm(3, 'name = "GOOD_A"\n'))
    text = (bundle / "e.toml").read_text().replace("]", ', "twin.toml"]')
    (bundle / "e.toml").write_text(text)
    plan = load_plan(bundle / "e.toml")
    refused = {f.path.name: f.error for f in plan.refused}
    assert "also the name of" in refused["twin.toml"]
    assert {m.name for m in plan.members} == {"good_a", "good_b", "broken", "foreign"}


def test_an_ensemble_file_cannot_name_a_scheduler(bundle: Path):
    (bundle / "e.toml").write_text(
        'drainage = ["good_*.toml"]\naddress = "tcp://203.0.113.9:8786"\n'
    )
    result = runner.invoke(app, ["ensemble", str(bundle / "e.toml"), "-o", str(bundle / "out")])
    assert result.exit_code == 3
    assert "never taken from an ensemble file" in result.output
    assert not (bundle / "out").exists()


def identity(address: str, security) -> dict:
    """Ask a Dask server who it is, as any process on the machine could try."""
    import asyncio

    from distributed.comm import connect

    async def ask() -> dict:
        args = security.get_connection_args("client") if security is not None else {}
        comm = await connect(address, timeout=3, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), 3)
        finally:
            comm.abort()

    return asyncio.run(ask())


def test_the_local_cluster_refuses_clients_without_its_credentials():
    from distributed import Security

    from hydro.ensemble.workers import dask_client

    with dask_client(workers=1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        assert client.submit(sum, [1, 2]).result() == 3
        assert identity(address, client.security)["type"] == "Scheduler"  # its own credentials
        for other, where in [
            (Security.temporary(), address),  # someone else's certificate
            (None, address.replace("tls://", "tcp://")),  # no TLS at all
        ]:
            with pytest.raises(Exception):  # noqa: B017 - refused in whatever form
                identity(where, other)
        workers = list(client.scheduler_info()["workers"])
        assert workers and all(w.startswith("tls://127.0.0.1:") for w in workers)


# ------------------------------------------------------------------------------------------------
# SIGTERM in the middle of an ensemble (a real process, as a user or a scheduler would stop it)


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> list[str]:
    """The command lines of those of ``pids`` still running (zombies are not running)."""
    found = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                found.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:100])
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_keeps_finished_results_and_leaves_nothing(tmp_path: Path, signum):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(TINY, bundle / "sw.inp")
    shutil.copy(FORMULA, bundle / "rainfall.toml")
    for k in range(4):  # long enough to be caught running: days of simulated time each
        (bundle / f"m{k}.toml").write_text(storm(2 + k, recession="12d"))
    (bundle / "e.toml").write_text('drainage = ["m*.toml"]\n')
    out = tmp_path / "out"
    temps = temp_folders()
    env = {**os.environ, "HYDRO_ALLOW_PATH": ""}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hydro.cli",
            "ensemble",
            str(bundle / "e.toml"),
            "-o",
            str(out),
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not list((out / "drainage").glob("m*.nc")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.2)
    workers = children(proc.pid)
    assert workers, "no worker processes were running"
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C in a terminal reaches the whole process group
    else:
        proc.send_signal(signum)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, output
    # progress lines (plain, not on a terminal) may come first; the interrupt says one line
    lines = [line for line in output.splitlines() if line.strip() and " left" not in line]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), output
    assert "run the same command again" in lines[0]
    deadline = time.monotonic() + 15
    while (left := alive(workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"
    finished = sorted((out / "drainage").glob("*.nc"))
    assert finished and all("flooding_rate" in read_netcdf(f) for f in finished)
    assert not list(out.rglob("*.part"))
    assert temp_folders() <= temps
    plan = load_plan(bundle / "e.toml")  # what a rerun would skip: every finished member
    resumable = [
        m.name
        for m in plan.members
        if _finished_summary(out / "drainage" / m.file_name, inputs_digest(m, plan.roots))
    ]
    assert sorted(resumable) == [f.stem for f in finished]
