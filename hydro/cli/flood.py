"""``hydro flood ...``: 2-D surface flooding from a case file (a thin layer over
:mod:`hydro.flood`).

    hydro flood run case.toml -o out.nc
    hydro flood check case.toml
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import (
    OutputOption,
    default_output,
    print_rows,
    print_warnings,
    progress_bar,
    user_errors,
)

app = typer.Typer(
    help="2-D surface flooding: shallow water on a DEM (rain, inflows, boundaries, buildings).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CaseArgument = Annotated[Path, typer.Argument(help="A flood case file (.toml).")]


@app.command()
def run(case: CaseArgument, output: OutputOption = None):
    """Run a flood case and write the surface (depths, speeds, hazard) as netCDF."""
    from hydro.flood import run_case
    from hydro.flood.run import CoupledRun, surface_summary
    from hydro.report.summary import warnings_of

    with user_errors():
        out = output or default_output(case)
        with progress_bar(f"running {case.name}") as update:
            result = run_case(case, output=out, progress=update)
        ds = result.surface if isinstance(result, CoupledRun) else result
        print_warnings(warnings_of(ds))
        print_rows(f"{case.name} -> {out}", surface_summary(ds))


@app.command()
def check(case: CaseArgument):
    """Validate a flood case and read its grids without running it."""
    from hydro.flood import load_case, prepare
    from hydro.flood.run import drainage_model

    with user_errors():
        loaded = load_case(case)
        surface, forcing, options = prepare(loaded, case)
        coupled = "none"
        if loaded.drainage is not None:  # builds the drainage model, checks its duration
            model = drainage_model(loaded, case, options.duration)
            coupled = f"{model.source.name}, its storm on the {loaded.drainage.rain}"
        grid = surface.dem
        rows = [
            ("DEM", f"{grid.shape[0]} x {grid.shape[1]} cells of {grid.dx:g} x {grid.dy:g} m"),
            ("cells holding water", f"{int(surface.active.sum())}"),
            ("duration", f"{options.duration:g} s, output every {options.output_every:g} s"),
            ("inflows", ", ".join(f.name for f in forcing.inflows) or "none"),
            ("CRS", "yes" if grid.crs else "none (local metres)"),
            ("drainage", coupled),
        ]
        print_rows(f"{case.name}: valid", rows)
