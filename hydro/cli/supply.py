"""`hydro supply ...`: supply scenarios and the Gangkouwan capacity study."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hydro.cli.common import (
    AllowOption,
    OutputOption,
    console,
    default_output,
    print_frame,
    print_rows,
    print_warnings,
    progress_bar,
    scenario_inputs,
    user_errors,
)

app = typer.Typer(help="Water-supply scenarios (EPANET).", no_args_is_help=True)


@app.command("run")
def run_command(
    scenario: Annotated[Path, typer.Argument(help="A supply scenario .toml file.")],
    output: OutputOption = None,
    save_inp: Annotated[
        Path | None,
        typer.Option(
            "--save-inp",
            help="Also write the engine's input as run (every edit applied), an EPANET 2.3 INP "
            "that EPANET or WNTR can rerun.",
        ),
    ] = None,
    allow_path: AllowOption = None,
):
    """Run a supply scenario: hydraulics, source shares and answers, written as netCDF."""
    from hydro.paths import check_output
    from hydro.report.summary import supply_answer_rows, warnings_of
    from hydro.results import write_netcdf
    from hydro.supply.scenario import load_scenario, run_scenario

    with user_errors():
        loaded = load_scenario(scenario, allow=allow_path or ())
        inputs = scenario_inputs(loaded.file, loaded.network.path)
        out = check_output(output or default_output(scenario), inputs=inputs)
        with progress_bar(f"running {scenario.name}") as update:
            ds = run_scenario(loaded, progress=update, save_inp=save_inp)
        out = write_netcdf(ds, out, inputs=inputs)
        print_warnings(warnings_of(ds))
        print_rows(f"{scenario.name} -> {out}", supply_answer_rows(ds))
        if save_inp is not None:
            console.print(f"engine input as run: {save_inp}")


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="A supply scenario .toml file.")],
    allow_path: AllowOption = None,
):
    """Validate a supply scenario against its model without running it."""
    from hydro.supply.scenario import build_edits, load_scenario, pressure_driven, share_nodes

    with user_errors():
        loaded = load_scenario(scenario, allow=allow_path or ())
        build_edits(loaded)  # every operation checked against the model and its assets
        s = loaded.scenario
        rows = [("network", str(loaded.network.path))]
        if s.question:
            rows.append(("question", s.question))
        if s.time.duration is not None:
            rows.append(("duration", f"{s.time.duration / 3600:g} h"))
        rows.append(("demand model", "PDA" if pressure_driven(s) else "DDA (as in the model)"))
        if s.answers.shares:
            rows.append(("source shares of", ", ".join(share_nodes(loaded))))
        rows += [(f"operation {k}", _describe(op)) for k, op in enumerate(s.operations)]
        print_rows(f"{scenario.name}: valid", rows)


def _describe(op) -> str:
    fields = op.model_dump(exclude={"type"}, exclude_none=True, exclude_defaults=True)
    return op.type + (": " + ", ".join(f"{k} = {v}" for k, v in fields.items()) if fields else "")


def _floats(text: str | None, option: str, scale: float = 1.0) -> list[float]:
    """The comma-separated numbers of an option, scaled (none when the option is not given); a
    plain error for anything else (the ranges are checked by the study itself)."""
    from hydro.errors import ScenarioError

    if not text:
        return []
    values = []
    for part in text.split(","):
        try:
            values.append(float(part) * scale)
        except ValueError:
            raise ScenarioError(
                f"{option}: {part.strip()[:20]!r} is not a number; expected comma-separated "
                "numbers such as 800,1000,1200"
            ) from None
    return values


PLOT_FORMATS = (".png", ".pdf", ".svg")


def _outputs(loaded, scenario: Path, output: Path | None, plot: Path | None, kind: str):
    """(the run's inputs, the netCDF path) once both outputs are known to be writable: the
    netCDF (default ``<scenario>_<kind>.nc`` here) and the plot, neither onto an input."""
    from hydro.errors import OutputError
    from hydro.paths import check_output

    inputs = scenario_inputs(loaded.file, loaded.network.path)
    path = check_output(output or Path.cwd() / f"{scenario.stem}_{kind}.nc", inputs=inputs)
    if plot is not None:
        check_output(plot, inputs=[*inputs, path])
        if plot.suffix.lower() not in PLOT_FORMATS:
            raise OutputError(f"{plot}: expected a {', '.join(PLOT_FORMATS)} file for the plot")
    return inputs, path


def _save_plot(figure, plot: Path, *, inputs: list) -> None:
    """A figure written atomically, in the format its file name says."""
    from hydro.results import atomic_path

    with atomic_path(plot, inputs=inputs) as tmp:
        figure.savefig(tmp, dpi=120, format=plot.suffix[1:].lower())


@app.command()
def study(
    scenario: Annotated[Path, typer.Argument(help="The base supply scenario .toml file.")],
    diameters: Annotated[
        str | None,
        typer.Option(
            help="Raw-main diameters to sweep, in mm, comma-separated (e.g. 800,1000,1200)."
        ),
    ] = None,
    flow_caps: Annotated[
        str | None, typer.Option(help="Flow caps to sweep instead, in m3/d, comma-separated.")
    ] = None,
    levels: Annotated[
        str | None,
        typer.Option(help="Reservoir levels in m, comma-separated (default: the model's)."),
    ] = None,
    out: Annotated[
        list[str] | None,
        typer.Option(
            "--out",
            help="Sources out of service, '+'-joined; repeat for several cases "
            "(e.g. --out none --out shuiyang --out shuiyang+qingyi).",
        ),
    ] = None,
    plant_capacities: Annotated[
        str | None,
        typer.Option(help="Plant capacities to sweep, in m3/d (default: the design)."),
    ] = None,
    transmission: Annotated[
        str | None,
        typer.Option(help="Transmission-main diameters to sweep, in mm (default: as built)."),
    ] = None,
    interconnections: Annotated[
        str | None,
        typer.Option(
            help="Mutual-aid main diameters to sweep, in mm; 0 = as built, normally closed "
            "ones closed (default: 0)."
        ),
    ] = None,
    binding: Annotated[
        bool,
        typer.Option(
            help="Also run each element one step up its candidate set, to name what binds."
        ),
    ] = True,
    source: Annotated[str, typer.Option(help="The source whose pipeline is sized.")] = "gangkouwan",
    workers: Annotated[int | None, typer.Option(help="Parallel worker processes.")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="netCDF file to write (default: <scenario>_study.nc in the working folder).",
        ),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="PNG file for the study plot.")] = None,
    allow_path: AllowOption = None,
):
    """Size a source's pipeline: what each case delivers and serves, and what limits it."""
    import pandas as pd

    from hydro.report.study import study_curves
    from hydro.results import write_netcdf
    from hydro.supply.capacity_study import capacity_study, study_table
    from hydro.supply.scenario import load_scenario

    outages = [[] if o in ("none", "") else o.split("+") for o in (out or ["none"])]
    with user_errors():
        loaded = load_scenario(scenario, allow=allow_path or ())
        inputs, path = _outputs(loaded, scenario, output, plot, "study")
        with progress_bar("capacity study") as update:
            result = capacity_study(
                loaded,
                source=source,
                diameters=_floats(diameters, "--diameters", 1e-3),
                flow_caps=_floats(flow_caps, "--flow-caps", 1 / 86400),
                levels=_floats(levels, "--levels"),
                outages=outages,
                plant_capacities=_floats(plant_capacities, "--plant-capacities", 1 / 86400),
                transmission=_floats(transmission, "--transmission", 1e-3),
                interconnections=_floats(interconnections, "--interconnections", 1e-3),
                binding=binding,
                workers=workers,
                progress=lambda done, total: update(done / total),
            )
        path = write_netcdf(result, path, inputs=inputs)
        print_frame(f"{source} pipeline study -> {path}", pd.DataFrame(study_table(result)))
        if plot is not None:
            _save_plot(study_curves(result), plot, inputs=[*inputs, path])
            console.print(f"plot: {plot}")


@app.command()
def drawdown(
    scenario: Annotated[Path, typer.Argument(help="A supply scenario .toml (its [reservoir]).")],
    deliveries: Annotated[
        str, typer.Option(help="Delivery rates in m3/d, comma-separated.")
    ] = "50000,100000,150000",
    days: Annotated[int, typer.Option(help="Days of dry season to run.")] = 180,
    output: OutputOption = None,
    plot: Annotated[Path | None, typer.Option(help="PNG file for the levels.")] = None,
    allow_path: AllowOption = None,
):
    """Dry-season drawdown of the source reservoir: days until its minimum level per rate."""
    from hydro.report.study import drawdown_curves
    from hydro.results import write_netcdf
    from hydro.supply.reservoir import drawdown as run_drawdown
    from hydro.supply.scenario import load_scenario

    with user_errors():
        loaded = load_scenario(scenario, allow=allow_path or ())
        inputs, path = _outputs(loaded, scenario, output, plot, "drawdown")
        reservoir = loaded.scenario.reservoir
        result = run_drawdown(reservoir, _floats(deliveries, "--deliveries", 1 / 86400), days)
        path = write_netcdf(result, path, inputs=inputs)
        rows = []
        for rate in result["delivery"].values:
            reached = float(result["days_to_minimum_level"].sel(delivery=rate))
            level = result["reservoir_level"].sel(delivery=rate).values
            when = f"minimum level after {reached:.0f} d" if reached == reached else "not reached"
            rows.append(
                (
                    f"{rate * 86400:,.0f} m3/d",
                    f"{when}; level {level[0]:.2f} -> {level[-1]:.2f} m after {days} d",
                )
            )
        print_rows(f"{reservoir.name} drawdown -> {path}", rows)
        if plot is not None:
            _save_plot(drawdown_curves(result), plot, inputs=[*inputs, path])
            console.print(f"plot: {plot}")
