"""Two runs side by side: what changed, by how much, and where.

Runs are matched element by element (by name) and time by time; only what both have is compared.
A run with several scenarios is compared scenario by scenario when both hold the same names,
otherwise the first scenario of each is used.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydro.errors import InputError


def compare(a: xr.Dataset, b: xr.Dataset) -> list[dict[str, str]]:
    """One row per variable both runs have: mean of each, the change, and the largest change."""
    a, b = _same_scenarios(a, b)
    rows = []
    matched = False  # some variable of an element (node, link, ...) matched in both
    for name in a.data_vars:
        if name not in b.data_vars or a[name].dims != b[name].dims:
            continue
        if not np.issubdtype(a[name].dtype, np.number):
            continue
        if "step" in a[name].dims:  # hydraulic steps differ from run to run: not matched
            continue
        x, y = xr.align(a[name], b[name], join="inner")
        if x.size == 0:
            continue
        matched |= bool(set(x.dims) - {"scenario", "time"})
        if not (np.isfinite(x.values).any() or np.isfinite(y.values).any()):
            continue  # nothing to say (e.g. operating points of pumps that never ran)
        diff = y.astype(np.float64) - x.astype(np.float64)
        values = np.abs(np.nan_to_num(diff.values, nan=0.0))
        where = np.unravel_index(int(np.argmax(values)), values.shape) if values.size else ()
        rows.append(
            {
                "variable": name,
                "units": str(a[name].attrs.get("units", "")),
                "mean A": _fmt(float(np.nanmean(x.values))),
                "mean B": _fmt(float(np.nanmean(y.values))),
                "mean change": _fmt(float(np.nanmean(diff.values))),
                "largest change": _fmt(float(diff.values[where])) if values.size else "-",
                "where": _where(diff, where),
            }
        )
    if not matched:
        raise InputError(
            "the two files have no variable and element in common to compare "
            "(results of different networks?)"
        )
    return rows


def _same_scenarios(a: xr.Dataset, b: xr.Dataset) -> tuple[xr.Dataset, xr.Dataset]:
    if "scenario" not in a.dims or "scenario" not in b.dims:
        return a, b
    shared = [s for s in a["scenario"].values if s in set(b["scenario"].values)]
    if shared:
        return a.sel(scenario=shared), b.sel(scenario=shared)
    return a.isel(scenario=[0]).assign_coords(scenario=["A/B"]), b.isel(scenario=[0]).assign_coords(
        scenario=["A/B"]
    )


def _where(diff: xr.DataArray, index: tuple) -> str:
    parts = []
    for dim, i in zip(diff.dims, index, strict=True):
        if dim == "scenario" and diff.sizes[dim] == 1:
            continue
        value = diff[dim].values[i] if dim in diff.coords else i
        if isinstance(value, np.timedelta64):
            seconds = int(value / np.timedelta64(1, "s"))
            value = f"{seconds // 3600}:{seconds % 3600 // 60:02d}"
        parts.append(f"{dim} {value}")
    return ", ".join(parts)


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:.4g}"
