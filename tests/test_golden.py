"""The golden-answer check itself: it passes on equal answers and names what changed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from tests import golden


@pytest.fixture
def stored(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "FOLDER", tmp_path)
    monkeypatch.setenv("HYDRO_UPDATE_GOLDEN", "1")
    golden.check("d", "s", {"a": 1.0, "b[x]": math.nan, "c": 0.0})
    monkeypatch.delenv("HYDRO_UPDATE_GOLDEN")
    return tmp_path / "d" / "s.json"


def test_equal_answers_pass_and_changes_are_named(stored):
    golden.check("d", "s", {"a": 1.0 + 1e-7, "b[x]": math.nan, "c": 1e-12})
    with pytest.raises(AssertionError, match=r"a: 1 -> 1\.001"):
        golden.check("d", "s", {"a": 1.001, "b[x]": math.nan, "c": 0.0})
    with pytest.raises(AssertionError, match=r"b\[x\]: nan -> 2"):
        golden.check("d", "s", {"a": 1.0, "b[x]": 2.0, "c": 0.0})
    with pytest.raises(AssertionError, match="missing: c"):
        golden.check("d", "s", {"a": 1.0, "b[x]": math.nan})
    with pytest.raises(AssertionError, match="no golden answers"):
        golden.check("d", "other", {"a": 1.0})


def test_answers_take_scenario_variables_along_the_dims_asked():
    ds = xr.Dataset(
        {
            "total": (("scenario",), [3.0]),
            "per_zone": (("scenario", "zone"), [[1.0, 2.0]]),
            "per_node": (("scenario", "node"), [[5.0]]),
            "label": (("scenario",), np.array(["x"], dtype=object)),
        },
        coords={"zone": ["n", "s"], "node": ["J1"]},
    )
    assert golden.answers(ds, {"zone"}) == {"total": 3.0, "per_zone[n]": 1.0, "per_zone[s]": 2.0}
