"""What every ``hydro`` command shares: plain-word errors, progress bars, tables."""

from __future__ import annotations

import contextlib
import signal
import time
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


def compile_in_background() -> None:
    """Where the kernels are not compiled for this install yet, compile them in a low-priority
    background process while this command's engine runs (:mod:`hydro.precompile`; never with
    HYDRO_NO_PRECOMPILE=1)."""
    from hydro.precompile import start_background

    start_background()


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
def progress_bar(label: str, *, time_left: bool = True) -> Iterator[Callable[[float], None]]:
    """Progress fed with fractions of the work done: a bar with the time left on a terminal,
    else plain lines on stderr at every tenth of the work (logs, CI, pipes)."""
    if not err_console.is_terminal:
        yield _progress_lines(label)
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        *([TextColumn("left"), TimeRemainingColumn()] if time_left else []),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda fraction: bar.update(task, completed=min(max(fraction, 0.0), 1.0))


# Off a terminal, work shorter than this says nothing (a log of a quick run stays one line)
QUIET_SECONDS = 5.0


def _progress_lines(label: str) -> Callable[[float], None]:
    start = time.monotonic()
    shown = [0]

    def update(fraction: float) -> None:
        tenth = int(min(max(fraction, 0.0), 1.0) * 10)
        if tenth <= shown[0] or time.monotonic() - start < QUIET_SECONDS:
            return
        shown[0] = tenth
        spent = time.monotonic() - start
        left = spent * (10 - tenth) / tenth
        err_console.print(
            f"{label}: {tenth * 10}% after {_clock(spent)}, about {_clock(left)} left",
            highlight=False,
            markup=False,
        )

    return update


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


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
    """A pandas DataFrame as a rich table; NaN shows as '-'.

    Headers wrap at spaces and are never cut; a table too wide for the terminal is split into
    several, each repeating the first (key) column, rather than squeezing its columns.
    """
    if frame.empty:
        console.print(f"{title}: none")
        return
    cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    columns = [str(c) for c in frame.columns]
    widths = [
        max([_longest_word(name)] + [len(row[k]) for row in cells]) + 3
        for k, name in enumerate(columns)
    ]
    for part, chosen in enumerate(_column_groups(widths, console.width)):
        label = title if part == 0 else f"{title} (continued)"
        table = Table(title=label, title_justify="left")
        for k in chosen:
            numeric = _numeric(frame[frame.columns[k]], [row[k] for row in cells])
            table.add_column(
                columns[k], justify="right" if numeric else "left", min_width=widths[k] - 3
            )
        for row in cells:
            table.add_row(*(row[k] for k in chosen))
        console.print(table)


def _numeric(column, cells: list[str]) -> bool:
    """Numbers (or numbers already formatted, '+1,234', '12.5%', '-') sit right."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column):
        return True
    stripped = [c.replace(",", "").rstrip("%").strip() for c in cells]
    try:
        [float(c) for c in stripped if c not in ("", "-")]
    except ValueError:
        return False
    return True


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _column_groups(widths: list[int], room: int) -> list[list[int]]:
    """Column indexes per table: as many as fit in ``room`` characters, the first in each."""
    groups: list[list[int]] = [[0]]
    used = widths[0] + 1
    for k in range(1, len(widths)):
        if used + widths[k] > room and len(groups[-1]) > 1:
            groups.append([0])
            used = widths[0] + 1
        groups[-1].append(k)
        used += widths[k]
    return groups


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
