"""The 2-D surface: local-inertial shallow water on a regular grid, from a case file or in code.

``run_case("case.toml", output="out.nc")`` does what ``hydro flood run`` does. The pieces:
:mod:`~hydro.flood.grid` (ESRI ASCII and GeoTIFF rasters), :mod:`~hydro.flood.case` (the TOML
schema), :mod:`~hydro.flood.solver` (the time loop, forcing, mass balance),
:mod:`~hydro.flood.kernels` (the numba step, with its twin in :mod:`~hydro.flood._reference`) and
:mod:`~hydro.flood.dataset` (the CF Dataset, hazard classes). See ``hydro/flood/README.md``.
"""

from hydro.flood.case import FloodCase, load_case
from hydro.flood.grid import Grid, read_grid, write_grid
from hydro.flood.run import MassBalanceWarning, prepare, run_case
from hydro.flood.solver import Forcing, Inflow, Options, Surface, SurfaceRun, simulate

__all__ = [
    "FloodCase",
    "Forcing",
    "Grid",
    "Inflow",
    "MassBalanceWarning",
    "Options",
    "Surface",
    "SurfaceRun",
    "load_case",
    "prepare",
    "read_grid",
    "run_case",
    "simulate",
    "write_grid",
]
