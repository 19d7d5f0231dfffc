"""``hydro drainage ...``: drainage scenarios from the command line (a thin layer over
:mod:`hydro.drainage.scenario`).

    hydro drainage run scenarios/drainage/p5_2h_normal_river.toml -o p5.nc
    hydro drainage run scenarios/drainage/p5_2h_normal_river.toml --save-inp p5.inp
    hydro drainage check scenarios/drainage/sponge_city.toml
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import (
    AllowOption,
    OutputOption,
    compile_in_background,
    default_output,
    print_rows,
    print_warnings,
    progress_bar,
    scenario_inputs,
    user_errors,
)

app = typer.Typer(
    help="Drainage (SWMM) scenarios: design storms, rain series, river stages, "
    "pump outages, blockages, sponge-city measures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ScenarioArgument = Annotated[Path, typer.Argument(help="A drainage scenario file (.toml).")]
SaveInpOption = Annotated[
    Path | None,
    typer.Option(
        "--save-inp",
        help="Also write the SWMM input exactly as run (.inp; after a spin-up also its hotstart "
        "<stem>.hsf and the spin-up's input <stem>_spinup.inp), to rerun in SWMM alone.",
    ),
]


@app.command()
def run(
    scenario: ScenarioArgument,
    output: OutputOption = None,
    save_inp: SaveInpOption = None,
    allow_path: AllowOption = None,
):
    """Run a drainage scenario and write its results (rainfall included) as netCDF."""
    from hydro.drainage.scenario import load_scenario, read_files, run_scenario
    from hydro.paths import check_output
    from hydro.report.summary import run_summary, warnings_of
    from hydro.results import write_netcdf

    with user_errors():
        loaded = load_scenario(scenario, allow=allow_path or ())
        inputs = scenario_inputs(loaded.file, *read_files(loaded))
        out = check_output(output or default_output(scenario), inputs=inputs)
        compile_in_background()
        with progress_bar(f"running {scenario.name}") as update:
            ds = run_scenario(loaded, progress=update, save_input=save_inp)
        out = write_netcdf(ds, out, inputs=inputs)
        print_warnings(warnings_of(ds))
        print_rows(f"{scenario.name} -> {out}", _scenario_rows(ds) + run_summary(ds))


@app.command()
def check(scenario: ScenarioArgument, allow_path: AllowOption = None):
    """Validate a drainage scenario and build its model without running it."""
    from hydro.drainage.scenario import build_input, load_scenario

    with user_errors():
        loaded = load_scenario(scenario, allow=allow_path or ())
        inp = build_input(loaded)
        rows = [
            ("network", str(loaded.network)),
            (
                "simulated",
                f"{inp.start_datetime:%Y-%m-%d %H:%M} to {inp.end_datetime:%Y-%m-%d %H:%M}",
            ),
        ]
        rows += [(f"operation {k}", op.describe()) for k, op in enumerate(loaded.operations)]
        print_rows(f"{scenario.name}: valid", rows)


def _scenario_rows(ds) -> list[tuple[str, str]]:
    rows = [
        ("scenario", str(ds.attrs.get("scenario_name", ""))),
        ("rainfall", str(ds.attrs.get("rainfall", ""))),
    ]
    depth = ds.attrs.get("rain_depth")
    if depth is not None:
        rows.append(("rain depth", f"{float(depth) * 1e3:.1f} mm"))
    operations = ds.attrs.get("operations")
    if operations:
        rows += [("operation", line) for line in str(operations).split("\n")]
    return rows
