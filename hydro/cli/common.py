"""What every ``hydro`` command shares: plain-word errors, progress bars, tables."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hydro.errors import HydroError

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "-o", "--output", help="netCDF file to write (default: <input>.nc in the working folder)."
    ),
]

console = Console()
err_console = Console(stderr=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show a HydroError in plain words and exit non-zero; no traceback."""
    try:
        yield
    except HydroError as err:
        err_console.print(
            f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]: nothing was written")
        raise typer.Exit(130) from None


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float], None]]:
    """A progress bar fed with fractions of the work done; silent when not on a terminal."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
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
