"""`hydro synth ...`: generate the bundled Xuancheng models, or scaled-up ones for benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import console, user_errors

app = typer.Typer(
    help="Generate the bundled Xuancheng models (seeded, reproducible).", no_args_is_help=True
)

Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same bytes.")]
Out = Annotated[
    Path,
    typer.Option(
        "-o", "--output", help="The .inp file to write; its sidecar files are written beside it."
    ),
]


@app.command()
def supply(
    output: Out = Path("supply.inp"),
    junctions: Annotated[int, typer.Option(help="Number of junctions.")] = 3000,
    seed: Seed = 2024,
):
    """The water-supply model: three sources, three zones, 21 booster stations."""
    from hydro.synth.supply import write_supply

    with user_errors():
        path = write_supply(output, junctions=junctions, seed=seed)
        console.print(f"wrote {path} and its sidecars ({junctions:,} junctions, seed {seed})")


@app.command()
def drainage(
    output: Out = Path("drainage.inp"),
    subcatchments: Annotated[
        int | None, typer.Option(help="Number of subcatchments (default: the bundled model's).")
    ] = None,
    seed: Seed = 2024,
):
    """The drainage model: catchments, rivers, polders, four pump stations, waterlogging points."""
    from hydro.synth.drainage import write_drainage

    with user_errors():
        if subcatchments is None:
            path = write_drainage(output, seed=seed)
        else:
            path = write_drainage(output, seed=seed, subcatchments=subcatchments)
        console.print(f"wrote {path} and its sidecar (seed {seed})")
