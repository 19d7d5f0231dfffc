"""``hydro report``: one self-contained HTML page of a result or of an ensemble folder.

hydro report shuiyang_out.nc -o shuiyang_out.html
hydro report results/ -o study.html
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import console, progress_bar, user_errors


def report(
    results: Annotated[
        Path,
        typer.Argument(help="A result .nc file, or a folder of them (as `hydro ensemble` writes)."),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="HTML file to write (default: <input>.html in the working folder).",
        ),
    ] = None,
):
    """Write one HTML page (figures embedded, readable offline): per scenario the question, the
    run's health, the answers, maps and charts."""
    from hydro.paths import check_output
    from hydro.report.html import write_report

    with user_errors():
        out = output or Path.cwd() / f"{results.resolve().name.removesuffix('.nc')}.html"
        out = check_output(out, inputs=[results])  # never onto the results it reads
        with progress_bar(f"report of {results.name}") as update:
            path = write_report(results, out, progress=update)
        console.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
