"""``hydro export``: GIS layers of a result for QGIS (GeoPackage, GeoJSON) or GeoTIFF rasters.

hydro export p30_3h_flood_river.nc -o p30.gpkg
hydro export shuiyang_out.nc -o shuiyang_out.geojson     # one file per layer
hydro export surface.nc -o surface.tif                    # a 2-D surface result
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import print_rows, user_errors


def export(
    results: Annotated[Path, typer.Argument(help="A result .nc file (hydro run, supply run...).")],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Where to write: .gpkg (every layer), .geojson (one file per layer, "
            "<name>_<layer>.geojson) or .tif (a 2-D surface result).",
        ),
    ],
    scenario: Annotated[
        str | None, typer.Option(help="Scenario to export (default: the first).")
    ] = None,
):
    """Export nodes, links, subcatchments, pump stations and waterlogging points with their
    scores and summary results, in the model's CRS."""
    from hydro.paths import check_output
    from hydro.report.export import export_layers
    from hydro.results import dataset_crs, read_netcdf

    with user_errors():
        check_output(output, inputs=[results])  # never onto the results it reads
        ds = read_netcdf(results)
        counts = export_layers(ds, output, scenario=scenario)
        crs = dataset_crs(ds)
        rows = [(layer, f"{n:,} features") for layer, n in counts.items()]
        if output.suffix.lower() in (".tif", ".tiff"):
            rows = [(layer, "band") for layer in counts]
        rows.append(("CRS", crs.to_string() if crs is not None else "none (the model has none)"))
        print_rows(f"{results.name} -> {output}", rows)
