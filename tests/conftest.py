"""Shared fixtures: where the real-model corpus is, and deterministic hypothesis settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]
# The corpus of real models written by others sits beside the repository (../shared/corpus).
CORPUS = Path(os.environ.get("HYDRO_CORPUS", REPO.parent / "shared" / "corpus"))
NETWORKS = REPO / "networks"

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
