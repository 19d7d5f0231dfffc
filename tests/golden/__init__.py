"""Golden answers: the bundled scenarios' headline numbers, kept in the repository so that a
change to the answers is seen, and is made on purpose.

A test hands :func:`check` the answers it computed; they must equal the stored ones within a
relative 1e-5 (EPANET and SWMM are deterministic on one machine; the margin covers other
platforms' floating point). After an intended change (a model or method fix), regenerate with

    HYDRO_UPDATE_GOLDEN=1 python -m pytest tests -k golden

and commit the JSON files with the change that explains them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import xarray as xr

FOLDER = Path(__file__).parent
RTOL, ATOL = 1e-5, 1e-9


def answers(ds: xr.Dataset, dims: set[str]) -> dict[str, float]:
    """Every numeric variable whose dims are ``scenario`` plus at most one of ``dims``, as
    ``name[label]`` -> value (first scenario)."""
    found: dict[str, float] = {}
    for name, var in ds.data_vars.items():
        if not np.issubdtype(var.dtype, np.number) or var.dims[:1] != ("scenario",):
            continue
        rest = var.dims[1:]
        if not rest:
            found[str(name)] = float(var.values[0])
        elif len(rest) == 1 and rest[0] in dims:
            for label, value in zip(ds[rest[0]].values, var.values[0], strict=True):
                found[f"{name}[{label}]"] = float(value)
    return found


def check(domain: str, name: str, values: dict[str, float]) -> None:
    """Compare ``values`` with ``<domain>/<name>.json`` (or write it when asked to update)."""
    path = FOLDER / domain / f"{name}.json"
    if os.environ.get("HYDRO_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert path.is_file(), f"no golden answers {path}; make them with HYDRO_UPDATE_GOLDEN=1"
    stored = json.loads(path.read_text(encoding="utf-8"))
    missing = sorted(stored.keys() - values.keys())
    added = sorted(values.keys() - stored.keys())
    changed = [
        f"{key}: {stored[key]:.6g} -> {values[key]:.6g}"
        for key in sorted(stored.keys() & values.keys())
        if not _close(stored[key], values[key])
    ]
    problems = (
        [f"missing: {', '.join(missing[:10])}"] * bool(missing)
        + [f"new: {', '.join(added[:10])}"] * bool(added)
        + changed[:20]
    )
    assert not problems, (
        f"{domain}/{name}: the answers changed ({len(changed)} values"
        f"{', and the set of answers' if missing or added else ''}); if that is intended, "
        "regenerate with HYDRO_UPDATE_GOLDEN=1 (see tests/golden/__init__.py):\n  "
        + "\n  ".join(problems)
    )


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
