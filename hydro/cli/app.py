"""The ``hydro`` command: a thin layer over the Python API (typer + rich).

Every command calls a function a notebook can call too; the command modules only parse arguments,
show progress and tables, and turn a :class:`~hydro.errors.HydroError` into a one- or two-line
message and a non-zero exit code, without a traceback and without leaving a partial output file.
Sub-commands live in ``hydro/cli/<group>.py``; what they share is in :mod:`hydro.cli.common`.
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
    help="hydro: hydraulic scenarios for water supply (EPANET) and drainage (SWMM).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """hydro: hydraulic scenarios for water supply (EPANET) and drainage (SWMM)."""


@app.command()
def run(
    model: Annotated[Path, typer.Argument(help="An EPANET or SWMM .inp file.")],
    output: OutputOption = None,
    scenario: Annotated[
        str, typer.Option(help="Name of this run in the scenario dimension.")
    ] = "base",
):
    """Run any EPANET or SWMM model and write its results as netCDF."""
    from hydro.api import run as run_model
    from hydro.report.summary import run_summary, warnings_of
    from hydro.results import write_netcdf

    with user_errors():
        with progress_bar(f"running {model.name}") as update:
            ds = run_model(model, scenario=scenario, progress=update)
        out = write_netcdf(ds, output or default_output(model))
        print_warnings(warnings_of(ds))
        print_rows(f"{model.name} -> {out}", run_summary(ds))


@app.command("compare")
def compare_command(
    a: Annotated[Path, typer.Argument(help="The reference result (.nc).")],
    b: Annotated[Path, typer.Argument(help="The result to compare (.nc).")],
    limit: Annotated[int, typer.Option(help="Rows to show at most.")] = 40,
):
    """What changed between two results: per variable, the means, the change and where."""
    from rich.table import Table

    from hydro.cli.common import console
    from hydro.report.compare import compare
    from hydro.results import read_netcdf

    with user_errors():
        rows = compare(read_netcdf(a), read_netcdf(b))
        table = Table(title=f"A = {a.name}, B = {b.name} (B - A)")
        for column in rows[0]:
            table.add_column(column, no_wrap=column in ("variable", "units"))
        for row in rows[:limit]:
            table.add_row(*row.values())
        console.print(table)


@app.command("ensemble")
def ensemble_command(
    study: Annotated[Path, typer.Argument(help="An ensemble .toml file listing scenarios.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the results.")] = Path(
        "results"
    ),
    workers: Annotated[
        int | None,
        typer.Option(help="Parallel worker processes (default: the file's, else one per CPU)."),
    ] = None,
):
    """Run many supply and drainage scenarios in parallel: full results per scenario, answers
    and scores together."""
    from hydro.cli.common import print_frame
    from hydro.ensemble.plan import load_plan, run_plan
    from hydro.report.summary import supply_table
    from hydro.scoring.tables import display_tables

    with user_errors():
        plan = load_plan(study)
        total = len(plan.supply) + len(plan.drainage)
        with progress_bar(f"{total} scenarios") as update:
            summaries = run_plan(
                plan, output, workers=workers, progress=lambda done, n: update(done / n)
            )
        if "supply" in summaries:
            print_frame("Water supply: answers by scenario", supply_table(summaries["supply"]))
        if "drainage" in summaries:
            for title, frame in display_tables(summaries["drainage"]).items():
                print_frame(title, frame)
        print_rows(
            f"{study.name} -> {output}",
            [
                ("supply scenarios", f"{len(plan.supply)} (full results in {output / 'supply'})"),
                (
                    "drainage scenarios",
                    f"{len(plan.drainage)} (full results in {output / 'drainage'})",
                ),
                ("summaries", "supply_answers.nc, drainage_scores.nc, drainage_tables/*.csv"),
            ],
        )


def _register_groups() -> None:
    from hydro.cli import drainage, flood, score, supply, synth

    app.add_typer(synth.app, name="synth")
    app.add_typer(supply.app, name="supply")
    app.add_typer(drainage.app, name="drainage")
    app.add_typer(flood.app, name="flood")
    app.command("score")(score.score)


_register_groups()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
