"""hydro: a hydraulic scenario engine for water supply (EPANET) and urban drainage (SWMM).

The facade::

    import hydro
    ds = hydro.run("networks/xuancheng/supply.inp")          # any EPANET or SWMM model
    answers = hydro.run_scenario("scenarios/supply/shuiyang_out.toml")
    scores = hydro.score(hydro.run_scenario("scenarios/drainage/p30_3h_flood_river.toml"))
    ds = hydro.open_results("out.nc")

The domain packages (:mod:`hydro.supply`, :mod:`hydro.drainage`, :mod:`hydro.scoring`,
:mod:`hydro.ensemble`, ...) hold the rest. The facade's functions are imported on first use, so
``import hydro`` does not load the engines, numba or Dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["__version__", "open_results", "run", "run_scenario", "score"]

_FACADE = {
    "run": "hydro.api",
    "run_scenario": "hydro.api",
    "open_results": "hydro.api",
    "score": "hydro.scoring",
}

if TYPE_CHECKING:
    from hydro.api import open_results, run, run_scenario
    from hydro.scoring import score  # type: ignore[no-redef]  # the function, not the module


def __getattr__(name: str):
    if name in _FACADE:
        return getattr(importlib.import_module(_FACADE[name]), name)
    raise AttributeError(f"module 'hydro' has no attribute {name!r}")
