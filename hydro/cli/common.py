"""What every ``hydro`` command shares: plain-word errors, progress bars, tables."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from hydro.errors import HydroError

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "-o", "--output", help="netCDF file to write (default: <input>.nc in the working folder)."
    ),
]

AllowOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-path",
        help="A folder the scenario may also read files from (repeatable). By default a "
        "scenario reads only inside its bundle: the nearest folder above it holding a "
        ".hydro-bundle file, else its own folder.",
    ),
]

console = Console()
err_console = Console(stderr=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that it unwinds like Ctrl-C: temporary folders
    and half-written files are removed on the way out."""


def stop_on_sigterm() -> None:
    """Make SIGTERM unwind the program as Ctrl-C does (the command line's entry point)."""

    def terminate(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, terminate)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show a HydroError in plain words and exit non-zero; no traceback. Ctrl-C and SIGTERM
    print one line and exit 130 or 143."""
    try:
        yield
    except HydroError as err:
        err_console.print(
            f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt as err:
        said = str(err) or "nothing was written"
        err_console.print(
            f"[bold red]interrupted[/]: {escape(said)}", highlight=False, soft_wrap=True
        )
        terminated = isinstance(err, Terminated) or isinstance(err.__cause__, Terminated)
        raise typer.Exit(128 + (signal.SIGTERM if terminated else signal.SIGINT)) from None


@contextlib.contextmanager
def progress_bar(label: str, *, time_left: bool = False) -> Iterator[Callable[[float], None]]:
    """A progress bar fed with fractions of the work done (with the time left estimated from
    the pace so far, if asked); silent when not on a terminal."""
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    ]
    columns += [TimeElapsedColumn()] + (
        [TextColumn("left"), TimeRemainingColumn()] if time_left else []
    )
    if not err_console.is_terminal:  # a log or a pipe: no bar, not even its closing newline
        yield lambda fraction: None
        return
    with Progress(*columns, console=err_console, transient=True) as bar:
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
        err_console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)
    if len(lines) > limit:
        err_console.print(
            f"[yellow]warning:[/] ... {len(lines) - limit} more in the output attrs "
            "(engine_warnings)"
        )


def scenario_inputs(file, *others) -> list[Path]:
    """Every file a run reads: the scenario file, its fragments, and ``others`` (network, rain
    series...), for :func:`hydro.paths.check_output` (a result never replaces an input)."""
    found = list(file.files) if file is not None else []
    return found + [Path(p) for p in others if p is not None]


def default_output(model: Path) -> Path:
    """``<model name>.nc`` in the working folder: never beside a user's model."""
    return Path.cwd() / f"{model.stem}.nc"


def print_frame(title: str, frame) -> None:
    """A pandas DataFrame as a rich table; NaN shows as '-'."""
    if frame.empty:
        console.print(f"{title}: none")
        return
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
