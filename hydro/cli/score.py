"""`hydro score RESULTS.nc`: ranked tables on screen, the scores as netCDF (and CSV on request).

Register on the main app with ``app.command("score")(score.score)``; ``score.app`` is the
same command on its own (used by the tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import print_frame, print_rows, user_errors

app = typer.Typer(
    help="Score the results of `hydro run`.", add_completion=False, pretty_exceptions_enable=False
)


@app.command()
def score(
    results: Annotated[Path, typer.Argument(help="A netCDF file written by `hydro run`.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="netCDF file to write (default: <results>_scores.nc in the working folder).",
        ),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write every table as CSV into this folder.")
    ] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            help="The model's .inp, for its named assets (default: the one the run recorded; "
            "without it they are inferred from the results)."
        ),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(help="A TOML file of thresholds (see hydro.scoring.rules).")
    ] = None,
    surface: Annotated[
        Path | None,
        typer.Option(
            help="CSV of surface depth-volume tables (node,volume,depth) for nodes that do "
            "not pond."
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="Scenario whose ranked tables are shown (default: the worst)."),
    ] = None,
    top: Annotated[int, typer.Option(help="Rows of each ranked table.", min=1)] = 10,
):
    """Score waterlogging and pump stations (SWMM) or supply coverage (EPANET)."""
    from hydro.paths import check_output, check_output_folder
    from hydro.scoring import (
        ScoringRules,
        load_rules,
        read_surface_tables,
        score_file,
        write_scores,
    )
    from hydro.scoring.tables import display_tables, summary_rows

    with user_errors():
        inputs = [results, network, rules, surface]
        out = check_output(output or Path.cwd() / f"{results.stem}_scores.nc", inputs=inputs)
        if csv is not None:
            check_output_folder(csv, inputs=[*inputs, out], what="folder for the CSV tables")
        chosen = load_rules(rules) if rules is not None else ScoringRules()
        tables = read_surface_tables(surface) if surface is not None else None
        scores = score_file(results, network=network, rules=chosen, surface=tables)
        shown = display_tables(scores, scenario=scenario, top=top, rules=chosen)
        write_scores(scores, output=out, csv=csv, rules=chosen, inputs=inputs)  # once all is well
        for title, frame in shown.items():
            print_frame(title, frame)
        written = [str(out)] + ([f"{csv}/*.csv"] if csv is not None else [])
        print_rows(
            f"{results.name}: scores", [*summary_rows(scores), ("written", ", ".join(written))]
        )
