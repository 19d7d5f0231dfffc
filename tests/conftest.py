"""Shared fixtures: where the real-model corpus is, deterministic hypothesis settings, and a
guard that no test changes the bundled models, scenarios or the corpus."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]
# The corpus of real models written by others sits beside the repository (../shared/corpus).
CORPUS = Path(os.environ.get("HYDRO_CORPUS", REPO.parent / "shared" / "corpus"))
NETWORKS = REPO / "networks"

# Tests write scenarios into temporary folders that name the bundled networks and the corpus:
# let every scenario read those (hydro.paths; the tests of that rule clear this variable).
os.environ["HYDRO_ALLOW_PATH"] = os.pathsep.join(
    [str(REPO), str(CORPUS), *filter(None, [os.environ.get("HYDRO_ALLOW_PATH")])]
)

# No test starts the first run's background compile of the kernels (hydro.precompile), except
# the tests of that feature, which clear this variable.
os.environ["HYDRO_NO_PRECOMPILE"] = "1"

# Property tests are derandomized so that a run is repeatable; CI and a user see the same cases.
settings.register_profile("hydro", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("hydro")


def corpus_files(kind: str) -> list[Path]:
    """The corpus INP files of one engine ('epanet' or 'swmm'); empty when the corpus is absent."""
    folder = CORPUS / kind
    return sorted(folder.glob("*.inp")) if folder.is_dir() else []


def corpus_params(kind: str, *, exclude: tuple[str, ...] = ()) -> list:
    """pytest parameters over a corpus folder, or one skipped parameter saying why."""
    files = [f for f in corpus_files(kind) if f.name not in exclude]
    if not files:
        return [
            pytest.param(
                None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS / kind}")
            )
        ]
    return [pytest.param(f, id=f.stem, marks=pytest.mark.corpus) for f in files]


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def corpus_file():
    """Look up one corpus model by engine and name, skipping the test when it is absent."""

    def find(kind: str, name: str) -> Path:
        path = CORPUS / kind / name
        if not path.is_file():
            pytest.skip(f"corpus model not found: {path}")
        return path

    return find


# ------------------------------------------------------------------------------------------------
# Inputs are read-only: nothing under networks/, scenarios/, tests/data/ or the corpus may change
# (or appear, such as an engine's .rpt beside a model) while the suite runs.

GUARDED = [NETWORKS, REPO / "scenarios", REPO / "tests" / "data", CORPUS]


def fingerprint(folders: list[Path]) -> dict[str, str]:
    """SHA-256 of every file (and the target of every link) under ``folders``."""
    found = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_symlink():
                found[str(path)] = "link -> " + os.readlink(path)
            elif path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[str(path)] = "folder"
    return found


@pytest.fixture(scope="session", autouse=True)
def inputs_stay_unchanged():
    before = fingerprint(GUARDED)
    yield
    after = fingerprint(GUARDED)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert not changed, f"the suite changed or added files among its inputs: {changed[:10]}"


SUPPLY_INP = NETWORKS / "xuancheng" / "supply.inp"


@pytest.fixture(scope="session")
def short_supply(tmp_path_factory):
    """(Dataset, netCDF path) of a short supply scenario of the bundled model: the Qingyi plant
    out for 2 of 4 hours; hydraulics, source shares and answers, EPSG:4549."""
    from hydro.results import write_netcdf
    from hydro.supply.scenario import run_scenario

    folder = tmp_path_factory.mktemp("short_supply")
    scenario = folder / "qingyi_2h.toml"
    scenario.write_text(
        "# Question: what if Qingyi stops for two hours?\n"
        f'network = "{SUPPLY_INP.as_posix()}"\n'
        '[time]\nduration = "4h"\n'
        '[[operations]]\ntype = "source_outage"\nsource = "qingyi"\nscope = "plant"\n'
        'start = "1h"\nend = "3h"\n',
        encoding="utf-8",
    )
    ds = run_scenario(scenario)
    return ds, write_netcdf(ds, folder / "qingyi_2h.nc")


@pytest.fixture(scope="session")
def short_drainage(tmp_path_factory):
    """(Dataset, netCDF path) of the bundled 5-year storm cut to 1 h of rain and 30 min more."""
    from hydro.drainage.scenario import load_scenario, run_scenario
    from hydro.results import write_netcdf

    s = load_scenario(REPO / "scenarios" / "drainage" / "p5_2h_normal_river.toml")
    design = s.rainfall.design.model_copy(update={"duration": 3600})
    s = s.model_copy(
        update={
            "rainfall": s.rainfall.model_copy(update={"design": design}),
            "time": s.time.model_copy(update={"recession": 1800}),
        }
    )
    ds = run_scenario(s)
    folder = tmp_path_factory.mktemp("short_drainage")
    return ds, write_netcdf(ds, folder / "p5_1h.nc")


def cf_high_priority_failures(path, tmp_path) -> tuple[list[str], dict]:
    """compliance-checker's CF-1.8 high-priority failures of a netCDF file, and its report."""
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    report = tmp_path / f"{path.stem}_cf.json"
    ComplianceChecker.run_checker(
        str(path), ["cf:1.8"], 0, "normal", output_filename=str(report), output_format="json"
    )
    result = json.loads(report.read_text())["cf:1.8"]
    failures = [
        f"{check['name']}: {msg}" for check in result["high_priorities"] for msg in check["msgs"]
    ]
    return failures, result
