"""The surface run as a CF-1.8 Dataset on the DEM's cell centres, with its CRS and health.

The same conventions as the network's results (:mod:`hydro.results`): dims ``scenario`` (one
run: size 1, named after the case file), ``time`` (elapsed since the start, timedelta64 in
memory; "seconds since" the start on disk through :func:`hydro.results.write_netcdf`), ``y``
(north to south), ``x``; a scalar ``crs`` grid-mapping coordinate holds the DEM's CRS (pyproj's
CF attrs, the WKT as ``crs_wkt`` and ``spatial_ref``, GDAL's ``GeoTransform``) and every raster
names it in ``grid_mapping``, so GDAL and QGIS place the rasters. Variables, units and standard
names come from :data:`hydro.variables.SURFACE_VARIABLES`.

Hazard classes follow the flood hazard rating of Defra/Environment Agency R&D Technical Report
FD2320/TR2 "Flood Risks to People, Phase 2" (HR Wallingford, 2006): HR = d*(v + 0.5) + DF, with d
the depth [m], v the speed [m/s] and DF the debris factor (urban: 0 up to 0.25 m, 1 deeper), taken
as the largest rating over the run; classes HR < 0.75 low ("caution"), 0.75-1.25 moderate ("danger
for some"), 1.25-2.0 significant ("danger for most"), > 2.0 extreme ("danger for all"); class 0 is
a cell the water never covered deeper than the arrival depth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from hydro.flood import kernels as k
from hydro.flood.solver import Surface, SurfaceRun
from hydro.results import clean_attrs, crs_coordinate, describe
from hydro.variables import get_surface

HAZARD_EDGES = (0.75, 1.25, 2.0)
HAZARD_NAMES = ("dry", "low", "moderate", "significant", "extreme")
MASS_BALANCE_TOLERANCE = 1e-3  # a run whose error exceeds 0.1 % warns


def hazard_class(max_rating: np.ndarray, max_depth: np.ndarray, *, wet_depth: float) -> np.ndarray:
    """FD2320 class per cell (int8): 0 never wet, then 1-4 by the largest hazard rating."""
    cls = (1 + np.searchsorted(HAZARD_EDGES, max_rating, side="right")).astype(np.int8)
    return np.where(max_depth > wet_depth, cls, 0).astype(np.int8)


def surface_dataset(
    run: SurfaceRun,
    surface: Surface,
    *,
    arrival_depth: float,
    scenario: str,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """One Dataset from a surface run (see the module's docstring), its scenario named
    ``scenario``."""
    grid = surface.dem
    outside = ~surface.active
    stats = run.stats

    def masked(values):
        return np.where(outside, np.nan, values)

    data = {
        "water_depth": np.where(outside[None], np.nan, run.depth),
        "velocity": np.where(outside[None], np.nan, run.velocity),
        "ground_level": masked(surface.ground),
        "max_water_depth": masked(stats[k.MAX_DEPTH]),
        "max_velocity": masked(stats[k.MAX_VELOCITY]),
        "time_of_arrival": masked(stats[k.ARRIVAL]),
        "waterlogging_duration": masked(stats[k.DURATION]),
        "max_hazard_rating": masked(stats[k.MAX_HAZARD]),
        "hazard_class": hazard_class(
            stats[k.MAX_HAZARD], stats[k.MAX_DEPTH], wet_depth=arrival_depth
        ),
        "infiltrated_depth": masked(stats[k.INFILTRATED]),
    }
    data.update({name: np.float64(value) for name, value in run.volumes.items()})
    data_vars = {}
    for name, values in data.items():
        var = get_surface(name)
        var_attrs: dict[str, Any] = dict(var.attrs())  # hazard_class gets arrays below
        if var.dims and var.dims[-2:] == ("y", "x"):
            var_attrs["grid_mapping"] = "crs"
        values = np.asarray(values).astype(var.dtype)[None]  # the scenario axis
        data_vars[name] = (var.dims, values, var_attrs)
    data_vars["hazard_class"][2].update(
        flag_values=np.arange(5, dtype=np.int8), flag_meanings=" ".join(HAZARD_NAMES)
    )
    coords = {
        "scenario": ("scenario", np.array([scenario], dtype=object)),
        "time": ("time", (run.times * 1e9).round().astype("timedelta64[ns]")),
        "y": (
            "y",
            grid.y,
            {
                "standard_name": "projection_y_coordinate",
                "units": "m",
                "long_name": "northing of the cell centre",
            },
        ),
        "x": (
            "x",
            grid.x,
            {
                "standard_name": "projection_x_coordinate",
                "units": "m",
                "long_name": "easting of the cell centre",
            },
        ),
    }
    ds = xr.Dataset(data_vars, coords=coords).assign_coords(_grid_mapping(grid.crs, grid))
    ds.attrs.update({"Conventions": "CF-1.8"})
    ds.attrs.update(
        clean_attrs(
            {
                "mass_balance_error": run.volumes["mass_balance_error"],
                "surface_steps": run.steps,
                "surface_wall_seconds": round(run.wall_seconds, 3),
                "cell_size_x": grid.dx,
                "cell_size_y": grid.dy,
                **(attrs or {}),
            }
        )
    )
    describe(ds)
    return ds


def _grid_mapping(wkt: str | None, grid) -> dict[str, xr.Variable]:
    """The scalar ``crs`` coordinate: the CF grid mapping of the DEM's CRS (as the network's
    results carry theirs) and GDAL's geotransform; a DEM without a CRS gets the geotransform and
    a comment."""
    transform = f"{grid.x0!r} {grid.dx!r} 0 {grid.y0!r} 0 {-grid.dy!r}"
    if wkt:
        crs = crs_coordinate(wkt)
        crs["crs"].attrs.update(
            long_name="coordinate reference system of the grid", GeoTransform=transform
        )
        return crs
    attrs = {
        "long_name": "coordinate reference system of the grid",
        "GeoTransform": transform,
        "comment": "the DEM has no CRS: local metric coordinates",
    }
    return {"crs": xr.Variable((), np.int32(0), attrs)}
