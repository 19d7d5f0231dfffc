"""One entry point for any model: tell EPANET from SWMM and run it to a Dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import xarray as xr

from hydro.inpfile import detect_engine, read_text


def run_model(path: str | Path, *, scenario: str = "base",
              progress: Callable[[float], None] | None = None) -> xr.Dataset:
    """Run an EPANET or SWMM INP file (detected from its sections) to a Dataset in SI units."""
    source = read_text(path)
    if detect_engine(source) == "epanet":
        from hydro.supply import run
        return run(source, scenario=scenario, progress=progress)
    from hydro.drainage import run
    return run(path, scenario=scenario, progress=progress)
