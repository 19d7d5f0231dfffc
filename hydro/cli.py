"""The ``hydro`` command: a thin layer over the Python API (typer + rich).

Every command calls a function a notebook can call too; this module only parses arguments, shows
progress and tables, and turns a :class:`~hydro.errors.HydroError` into a one- or two-line message
and a non-zero exit code, without a traceback and without leaving a partial output file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hydro.errors import HydroError

app = typer.Typer(help="hydro: hydraulic scenarios for water supply (EPANET) and drainage (SWMM).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
synth_app = typer.Typer(help="Generate the bundled Xuancheng models (seeded, reproducible).",
                        no_args_is_help=True)
app.add_typer(synth_app, name="synth")

OutputOption = Annotated[Path | None, typer.Option(
    "-o", "--output", help="netCDF file to write (default: <model>.nc in the working folder).")]

console = Console()
err_console = Console(stderr=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show a HydroError in plain words and exit non-zero; no traceback."""
    try:
        yield
    except HydroError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]: nothing was written")
        raise typer.Exit(130) from None


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float], None]]:
    """A progress bar fed with fractions of the work done; silent when not on a terminal."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda fraction: bar.update(task, completed=min(max(fraction, 0.0), 1.0))


def print_rows(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


def print_warnings(lines: list[str], limit: int = 5) -> None:
    for line in lines[:limit]:
        err_console.print(f"[yellow]warning:[/] {line}", highlight=False)
    if len(lines) > limit:
        err_console.print(f"[yellow]warning:[/] ... {len(lines) - limit} more in the output attrs "
                          "(engine_warnings)")


def default_output(model: Path) -> Path:
    """``<model name>.nc`` in the working folder: never beside a user's model."""
    return Path.cwd() / f"{model.stem}.nc"


@app.command()
def run(model: Annotated[Path, typer.Argument(help="An EPANET or SWMM .inp file.")],
        output: OutputOption = None,
        scenario: Annotated[str, typer.Option(help="Name of this run in the scenario dimension.")]
        = "base"):
    """Run any EPANET or SWMM model and write its results as netCDF."""
    from hydro.models import run_model
    from hydro.report.summary import run_summary, warnings_of
    from hydro.results import write_netcdf

    with user_errors():
        with progress_bar(f"running {model.name}") as update:
            ds = run_model(model, scenario=scenario, progress=update)
        out = write_netcdf(ds, output or default_output(model))
        print_warnings(warnings_of(ds))
        print_rows(f"{model.name} -> {out}", run_summary(ds))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
