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
from rich.markup import escape

from hydro.cli.common import (
    AllowOption,
    OutputOption,
    compile_in_background,
    console,
    default_output,
    print_rows,
    print_warnings,
    progress_bar,
    stop_on_sigterm,
    user_errors,
)
from hydro.errors import HydroError

app = typer.Typer(
    help="hydro: hydraulic scenarios for water supply (EPANET) and drainage (SWMM).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from hydro import __version__

        typer.echo(f"hydro {__version__}")
        raise typer.Exit()


@app.callback()
def _group(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show hydro's version and exit."
        ),
    ] = False,
) -> None:
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
    from hydro.inpfile import detect_engine
    from hydro.paths import check_output
    from hydro.report.summary import run_summary, warnings_of
    from hydro.results import write_netcdf

    with user_errors():
        out = check_output(output or default_output(model), inputs=[model])
        if detect_engine(model) == "swmm":  # a supply run calls kernels: never beside a compile
            compile_in_background()
        with progress_bar(f"running {model.name}") as update:
            ds = run_model(model, scenario=scenario, progress=update)
        out = write_netcdf(ds, out, inputs=[model])
        print_warnings(warnings_of(ds))
        print_rows(f"{model.name} -> {out}", run_summary(ds))


@app.command("compare")
def compare_command(
    a: Annotated[Path, typer.Argument(help="The reference result (.nc).")],
    b: Annotated[Path, typer.Argument(help="The result to compare (.nc).")],
    places: Annotated[int, typer.Option(help="Places to list per measure.", min=1)] = 10,
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write the tables as CSV into this folder."),
    ] = None,
):
    """What changed from A to B: the answers (compliance, unserved demand, flooding, station
    load) in m³/d, %, cm and h, most important first, then the places that changed most."""
    from hydro.cli.common import print_frame
    from hydro.paths import check_output_folder
    from hydro.report.compare import compare, display
    from hydro.results import atomic_path, read_netcdf

    with user_errors():
        result = compare(read_netcdf(a), read_netcdf(b), places=places)
        answers, where = display(result)
        title = f"A = {a.name}, B = {b.name}: answers that changed (B - A)"
        print_frame(title, answers)
        if result.unchanged:
            console.print(f"{result.unchanged} other answers did not change")
        print_frame("Places that changed most", where)
        if csv is not None:
            check_output_folder(csv, inputs=[a, b], what="folder for the CSV tables").mkdir(
                parents=True, exist_ok=True
            )
            for name, frame in (("answers", result.answers), ("places", result.places)):
                path = csv / f"{name}.csv"
                with atomic_path(path, inputs=[a, b]) as tmp:
                    frame.to_csv(tmp, index=False)
                console.print(f"written: {path}")


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
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a Dask scheduler to use instead of local workers (default: "
            "$HYDRO_SCHEDULER), with the TLS settings of your Dask configuration.",
        ),
    ] = None,
    rerun: Annotated[
        bool,
        typer.Option(help="Run every member again, even those whose result is up to date."),
    ] = False,
    allow_path: AllowOption = None,
):
    """Run many supply and drainage scenarios in parallel: full results per scenario, answers
    and scores together. Run it again to finish what an interrupted or failed run left."""
    from hydro.cli.common import err_console, print_frame
    from hydro.ensemble.plan import FAILED, load_plan, run_plan
    from hydro.report.summary import supply_table
    from hydro.scoring.tables import display_tables

    with user_errors():
        plan = load_plan(study, allow=allow_path or ())
        with progress_bar(f"{plan.size} scenarios", time_left=True) as update:
            run = run_plan(
                plan,
                output,
                workers=workers,
                scheduler=scheduler,
                resume=not rerun,
                progress=lambda done, n: update(done / n),
            )
        if "supply" in run.summaries:
            print_frame("Water supply: answers by scenario", supply_table(run.summaries["supply"]))
        if "drainage" in run.summaries:
            for title, frame in display_tables(run.summaries["drainage"]).items():
                print_frame(title, frame)
        print_rows(f"{study.name} -> {output}", _ensemble_rows(plan, run, output))
        for failure in run.failed:
            err_console.print(
                f"[bold red]failed:[/] {escape(failure.line())}", highlight=False, soft_wrap=True
            )
        if run.failed:
            raise HydroError(
                f"{len(run.failed)} of {plan.size} scenarios failed (listed in "
                f"{output / FAILED}); the others' results are kept"
            )


@app.command("compile")
def compile_command(
    background: Annotated[
        bool, typer.Option(hidden=True, help="The first run's low-priority compile.")
    ] = False,
):
    """Compile every numba kernel ahead into numba's cache, so that the first score, run or
    flood does not wait for it (an engine command also starts this once in the background;
    HYDRO_NO_PRECOMPILE=1 stops that)."""
    from hydro import precompile

    with user_errors():
        if background:
            raise typer.Exit(precompile.run_background())
        console.print(f"numba cache: {precompile.cache_folder()}")
        report = precompile.compile_kernels(
            lambda line: console.print(line, highlight=False, soft_wrap=True)
        )
        console.print(precompile.summary(report), highlight=False, soft_wrap=True)


def _ensemble_rows(plan, run, output: Path) -> list[tuple[str, str]]:
    rows = []
    for kind in ("supply", "drainage"):
        total = sum(m.kind == kind for m in plan.members) + sum(
            f.kind == kind for f in plan.refused
        )
        if not total:
            continue
        ran = sum(m.kind == kind for m in run.finished)
        reused = sum(m.kind == kind for m in run.reused)
        failed = sum(f.kind == kind for f in run.failed)
        text = f"{ran} run, {reused} up to date, {failed} failed (full results in {output / kind})"
        rows.append((f"{kind} scenarios", text))
    written = [
        name
        for kind, name in (
            ("supply", "supply_answers.nc"),
            ("drainage", "drainage_scores.nc, drainage_tables/*.csv"),
        )
        if kind in run.summaries
    ]
    rows.append(("summaries", ", ".join(written) or "none"))
    return rows


def _register_groups() -> None:
    from hydro.cli import drainage, export, flood, report, score, supply, synth

    app.add_typer(synth.app, name="synth")
    app.add_typer(supply.app, name="supply")
    app.add_typer(drainage.app, name="drainage")
    app.add_typer(flood.app, name="flood")
    app.command("score")(score.score)
    app.command("report")(report.report)
    app.command("export")(export.export)


_register_groups()


def main() -> None:
    stop_on_sigterm()
    app()


if __name__ == "__main__":
    main()
