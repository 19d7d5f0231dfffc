"""Every bad input of the catalogue, through the command line and through the Python API: a
plain error naming what is wrong (exit code non-zero, at most two lines, no traceback), nothing
shown of files the bundle must not reach, and nothing written anywhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hydro.cli import app
from hydro.errors import HydroError
from tests.bad_inputs.catalogue import CASES, REPO, SECRET, SWMM, Case

runner = CliRunner()
NETWORK = REPO / "networks" / "examples" / "two_loops.inp"
FORMULA = REPO / "networks" / "xuancheng" / "rainfall.toml"
RAIN = "time,RG1\n" + "".join(f"2024-06-01 00:{m:02d},{m / 10:.1f}\n" for m in range(0, 60, 5))


def test_the_catalogue_is_large_and_its_names_unique():
    assert len(CASES) >= 150
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids)
    assert sum(c.api is not None for c in CASES) >= 140  # nearly all also through the API


@pytest.fixture(scope="session")
def result_file(tmp_path_factory) -> Path:
    """A real result of the small EPANET model (for the cases that need one to score)."""
    import hydro
    from hydro.results import write_netcdf

    path = tmp_path_factory.mktemp("result") / "res.nc"
    return write_netcdf(hydro.run(NETWORK), path)


def make_bundle(tmp: Path, case: Case, result: Path) -> Path:
    bundle, elsewhere = tmp / "bundle", tmp / "elsewhere"
    bundle.mkdir()
    elsewhere.mkdir()
    (bundle / ".hydro-bundle").write_text("")
    shutil.copy(NETWORK, bundle / "net.inp")
    (bundle / "sw.inp").write_text(SWMM)
    shutil.copy(FORMULA, bundle / "rainfall.toml")
    (bundle / "rain.csv").write_text(RAIN)
    shutil.copy(result, bundle / "res.nc")
    for name in ("secret.csv", "secret.inp", "secret.toml", "secret.hsf"):
        (elsewhere / name).write_text(f"time,{SECRET}\n2024-06-01 00:00,{SECRET}\n")
    (elsewhere / "member.toml").write_text(f"# {SECRET}\nnetwork = 'x.inp'\n")
    for name, content in case.files.items():
        path = bundle / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{E}", str(elsewhere)))
    if case.setup is not None:
        case.setup(bundle)
    return bundle


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` (links not followed): size and modification time."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        found[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return found


def check_message(text: str, case: Case, bundle: Path) -> None:
    expect = case.expect.replace("{b}", str(bundle))
    assert expect in text, f"{case.id}: expected {expect!r} in:\n{text}"
    assert SECRET not in text, f"{case.id}: shows content of a file outside the bundle"
    assert "Traceback" not in text


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, result_file: Path):
    bundle = make_bundle(tmp_path, case, result_file)
    before = snapshot(tmp_path)
    args = [a.format(b=bundle, e=tmp_path / "elsewhere", R=REPO) for a in case.cli]

    result = runner.invoke(app, args)
    output = result.output
    assert result.exit_code not in (0, None), f"{case.id}: exit 0\n{output}"
    assert isinstance(result.exception, SystemExit), f"{case.id}: {result.exception!r}\n{output}"
    lines = [line for line in output.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, f"{case.id}: {len(lines)} lines:\n{output}"
    assert lines[0].startswith("error: ")
    check_message(output, case, bundle)
    assert snapshot(tmp_path) == before, f"{case.id}: the command wrote something"

    if case.api is not None:
        with pytest.raises(HydroError) as raised:
            case.api(bundle)
        check_message(str(raised.value), case, bundle)
        assert snapshot(tmp_path) == before, f"{case.id}: the API wrote something"
