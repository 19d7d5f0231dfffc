"""Ensembles: the same answers in parallel as in sequence, joined along `scenario`."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

import hydro.supply
from hydro.ensemble.workers import combine, each_job, run_ensemble
from hydro.errors import HydroError, InputError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "networks" / "examples" / "two_loops.inp"


def jobs(names):
    return [functools.partial(hydro.supply.run, EXAMPLE, scenario=name) for name in names]


def test_sequential_and_two_workers_agree():
    names = ["a", "b", "c"]
    calls = []
    one = run_ensemble(jobs(names), workers=1, progress=lambda d, t: calls.append((d, t)))
    two = run_ensemble(jobs(names), workers=2)
    assert list(one["scenario"].values) == names == list(two["scenario"].values)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    np.testing.assert_array_equal(one["pressure_head"].values, two["pressure_head"].values)
    assert one["pressure_head"].dims == ("scenario", "time", "node")
    assert one.attrs["engine"] == "EPANET"


def test_the_caller_works_meanwhile_only_when_workers_run_the_jobs():
    calls = []
    here = list(each_job(jobs(["a"]), workers=1, meanwhile=lambda: calls.append("here")))
    assert calls == []  # nothing runs beside the jobs: they run on this thread
    there = list(each_job(jobs(["a", "b"]), workers=2, meanwhile=lambda: calls.append("there")))
    assert calls == ["there"]
    assert all(o.ok for o in here + there) and sorted(o.index for o in there) == [0, 1]


def test_job_error_reaches_the_caller_in_words(tmp_path: Path):
    bad = [functools.partial(hydro.supply.run, tmp_path / "missing.inp", scenario="x")]
    with pytest.raises(InputError, match=r"missing.inp: no such file"):
        run_ensemble(bad, workers=2)


def test_names_must_be_unique():
    results = [hydro.supply.run(EXAMPLE, scenario="same") for _ in range(2)]
    with pytest.raises(HydroError, match="same"):
        combine(results)


def test_bad_arguments():
    with pytest.raises(HydroError, match="at least one"):
        run_ensemble([])
    with pytest.raises(HydroError, match="workers must be at least 1"):
        run_ensemble(jobs(["a"]), workers=0)


def test_what_differs_between_members_becomes_a_coordinate():
    a = hydro.supply.run(EXAMPLE, scenario="a")
    b = hydro.supply.run(
        EXAMPLE,
        scenario="b",
        edits=[lambda p: p.set_demand_model(pressure_driven=True, required_pressure=20.0)],
    )
    both = combine([a, b])
    assert list(both["demand_model"].values) == [a.attrs["demand_model"], b.attrs["demand_model"]]
    assert "demand_model" not in both.attrs
    assert both.attrs["engine"] == "EPANET"  # what all members share stays an attribute
