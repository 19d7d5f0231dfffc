"""Drainage scenarios: a strict TOML schema, and the runner that turns one into a Dataset.

A scenario file names a SWMM model, the time settings, the rainfall (a design storm from the
city's storm formula, or an observed rain series) and a list of operations (river stages, pump
outages and capacities, blockages, imperviousness, initial state; see
:mod:`hydro.drainage.operations`)::

    # Question: how much floods in a 5-year, 2-hour storm with the rivers at their normal level?
    network = "../../networks/xuancheng/drainage.inp"

    [time]
    recession = "4h"                 # simulated after the rain stops

    [rainfall.design]
    return_period = 5                # years
    duration = "2h"
    step = "5min"
    pattern = "chicago"              # chicago | alternating_block | huff
    peak_position = 0.375

    [[operations]]
    type = "river_stage"
    river = "shuiyang"
    stage = "normal"                 # or a level in m, or series = [["0h", 12.0], ["6h", 16.5]]

Relative paths (network, rain files, hotstart files) are taken from the scenario file's folder.
The storm formula is the network's ``rainfall.toml`` (next to the model) unless
``[rainfall.formula]`` gives one. Pump stations and rivers are the model's assets
(:func:`hydro.drainage.assets.load_drainage_assets`: its ``<model>_assets.toml`` sidecar, or
inferred from the INP).

    scenario = load_scenario("scenarios/drainage/p5_2h_normal_river.toml")
    inp = build_input(scenario)        # the edited SwmmInput, to inspect or write
    ds = run_scenario(scenario)        # one Dataset, scenario dim labelled with its name
"""

from __future__ import annotations

import datetime as _dt
import functools
import operator
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import xarray as xr
from pydantic import Field, PrivateAttr, model_validator

from hydro.drainage import operations as ops
from hydro.drainage.assets import DrainageAssets, load_drainage_assets
from hydro.drainage.inp import SwmmInput, read_inp
from hydro.drainage.rainfall import DEFAULT_RECESSION, apply_rainfall, set_period
from hydro.drainage.spinup import DEFAULT_SPIN_UP
from hydro.drainage.swmm import engine
from hydro.errors import ScenarioError
from hydro.rain import Hyetograph, RainSeries, load_rainfall_config, read_rain_csv
from hydro.rain.config import DesignStormSpec, FormulaSpec
from hydro.rain.hyetograph import PATTERNS
from hydro.results import clean_attrs, provenance
from hydro.scenario.loader import ScenarioFile, read_scenario, validate
from hydro.scenario.schema import OPERATIONS, Duration, Strict, clock, parse_duration

RAINFALL_CONFIG = "rainfall.toml"  # the city's storm formula, beside its model

Progress = engine.Progress


# ------------------------------------------------------------------------------------------------
# Schema


class TimeSettings(Strict):
    """When the simulation runs. By default it starts with the rain (a design storm at the
    model's START, an observed series at its first interval) and ends ``recession`` after the
    rain stops; ``duration`` fixes its length instead. ``spin_up``: a dry run of that length
    before the simulation, whose final state it starts from (:mod:`hydro.drainage.spinup`);
    by default 3 h for a model that carries rivers as channels, none otherwise."""

    start: _dt.datetime | None = None
    duration: Duration | None = Field(default=None, gt=0)
    recession: Duration = parse_duration(DEFAULT_RECESSION)
    report_step: Duration | None = Field(default=None, gt=0)
    spin_up: Duration | None = Field(default=None, ge=0)


class DesignStorm(Strict):
    """A design storm from the storm intensity formula; unset values take the defaults of the
    network's rainfall.toml ([design_storm])."""

    return_period: float = Field(gt=0, le=1000, description="years, at most 1000")
    duration: Duration | None = Field(default=None, gt=0)
    step: Duration | None = Field(default=None, gt=0)
    pattern: Literal["chicago", "alternating_block", "huff"] | None = None
    peak_position: float | None = Field(default=None, ge=0, le=1)
    quartile: Literal[1, 2, 3, 4] | None = None
    gauges: list[str] | None = Field(
        default=None, min_length=1, description="model gauges that get it (default: all)"
    )


class RainFile(Strict):
    """An observed rain series (CSV, see :func:`hydro.rain.read_rain_csv`)."""

    file: ops.ScenarioPath
    units: Literal["mm", "mm/h"] = "mm"
    label: Literal["start", "end"] = "start"
    gauges: dict[str, str] | None = Field(
        default=None,
        min_length=1,
        description="model gauge -> CSV column (default: all gauges "
        "get the only column, or the column of the same name)",
    )


class Rainfall(Strict):
    """Either ``design`` or ``series``; ``formula`` replaces the network's storm formula."""

    design: DesignStorm | None = None
    series: RainFile | None = None
    formula: FormulaSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.design is None) == (self.series is None):
            raise ValueError("give either [rainfall.design] or [rainfall.series]")
        if self.formula is not None and self.design is None:
            raise ValueError("[rainfall.formula] is used by design storms only")
        return self


# Every registered drainage operation, told apart by its `type` key (a union made at import
# time, which a type checker cannot follow: it sees their common base).
if TYPE_CHECKING:
    Operation = ops.DrainageOperation
else:
    Operation = Annotated[
        functools.reduce(operator.or_, OPERATIONS["drainage"].values()),
        Field(discriminator="type"),
    ]


class DrainageScenario(Strict):
    """A validated drainage scenario; :func:`load_scenario` reads one from TOML."""

    network: ops.ScenarioPath
    name: str | None = Field(default=None, min_length=1)
    description: str = ""
    time: TimeSettings = TimeSettings()
    rainfall: Rainfall | None = None
    operations: list[Operation] = []
    _file: ScenarioFile | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The scenario file it was read from (None when built in code)."""
        return self._file.path if self._file is not None else None

    @property
    def file(self) -> ScenarioFile | None:
        """The scenario file as read: table, question, SHA-256 (None when built in code)."""
        return self._file

    @property
    def label(self) -> str:
        """Its name in the ``scenario`` dimension: ``name``, else the file's stem."""
        if self.name:
            return self.name
        return self.source.stem if self.source is not None else "scenario"


def load_scenario(path: str | Path, *, allow: Iterable[str | Path] = ()) -> DrainageScenario:
    """Read and validate a drainage scenario file; relative paths resolved from its folder.

    The files it names (network, rain series, hotstart) must lie in its bundle or a folder of
    ``allow`` (see :mod:`hydro.paths`). Raises ScenarioError naming the file and the key
    (unknown keys, bad values, a missing network file, a file outside those folders).
    """
    file = read_scenario(path, allow=allow)
    scenario = validate(
        DrainageScenario,
        file.table,
        file.path,
        context={"folder": file.path.parent.resolve(), "roots": file.roots},
    )
    if not scenario.network.is_file():
        raise ScenarioError(f"{file.path}: network: no such model file {scenario.network}")
    scenario._file = file
    return scenario


def read_files(scenario: DrainageScenario) -> list[Path]:
    """The files a scenario names (network, rain series, hotstart...): every path it holds."""
    found: list[Path] = []

    def walk(value) -> None:
        if isinstance(value, Path):
            found.append(value)
        elif isinstance(value, Strict):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(scenario)
    return found


# ------------------------------------------------------------------------------------------------
# Building the model of one run


def build_input(scenario: DrainageScenario) -> SwmmInput:
    """The scenario's model: the network with its time settings, rainfall and operations applied.

    Every problem raises a HydroError naming the scenario file and the key or operation.
    """
    return _build(scenario)[0]


def run_inputs(scenario: DrainageScenario) -> tuple[SwmmInput, float, DrainageAssets]:
    """What :func:`run_scenario` hands the engine: the scenario's model, its spin-up [s] and the
    model's assets (for a run that steps SWMM itself, e.g. coupled with the 2-D surface)."""
    inp, _rain, assets = _build(scenario)
    return inp, spin_up_of(scenario, assets), assets


def spin_up_of(scenario: DrainageScenario, assets: DrainageAssets) -> float:
    """Seconds of dry spin-up before the scenario's run (see :class:`TimeSettings`)."""
    if scenario.time.spin_up is not None:
        return float(scenario.time.spin_up)
    return DEFAULT_SPIN_UP if any(r.is_channel for r in assets.rivers) else 0.0


def _build(
    scenario: DrainageScenario,
) -> tuple[SwmmInput, Hyetograph | RainSeries | None, DrainageAssets]:
    prefix = f"{scenario.source}: " if scenario.source is not None else ""
    inp = read_inp(scenario.network)
    assets = load_drainage_assets(inp)
    try:
        rain = rainfall_input(scenario)
        inp = _with_time_and_rain(inp, scenario, rain)
    except ScenarioError as err:
        raise ScenarioError(
            f"{prefix}{'rainfall' if scenario.rainfall else 'time'}: {err}"
        ) from None
    for k, op in enumerate(scenario.operations):
        try:
            inp = op.apply(inp, assets=assets)
        except ScenarioError as err:
            raise ScenarioError(f"{prefix}operations[{k}] ({op.type}): {err}") from None
    return inp, rain, assets


def rainfall_input(scenario: DrainageScenario) -> Hyetograph | RainSeries | None:
    """The scenario's rain: a design hyetograph, an observed series, or None (model's own)."""
    rain = scenario.rainfall
    if rain is None:
        return None
    if rain.series is not None:
        spec = rain.series
        return read_rain_csv(spec.file, units=spec.units, label=spec.label)
    return _design_storm(scenario)


def _design_storm(scenario: DrainageScenario) -> Hyetograph:
    rainfall = scenario.rainfall
    assert rainfall is not None and rainfall.design is not None  # see rainfall_input
    spec = rainfall.design
    config_path = scenario.network.parent / RAINFALL_CONFIG
    defaults, formula, long = DesignStormSpec(), None, None
    if config_path.is_file():
        config = load_rainfall_config(config_path)
        defaults, formula, long = config.design, config.formula, config.long_duration
    if rainfall.formula is not None:
        formula = rainfall.formula.build()
        if long is not None:  # the city's 24-hour rainfall still nests the formula given
            formula = long.build(formula)
    if formula is None:
        raise ScenarioError(
            f"design: no storm intensity formula; add a [rainfall.formula] table "
            f"or a {RAINFALL_CONFIG} beside {scenario.network.name}"
        )
    pattern = spec.pattern or defaults.pattern
    common = {
        "return_period": spec.return_period,
        "duration": spec.duration or defaults.duration_minutes * 60.0,
        "step": spec.step or defaults.step_minutes * 60.0,
    }
    if pattern == "huff":
        return PATTERNS[pattern](
            formula, quartile=spec.quartile or defaults.huff_quartile, **common
        )
    r = defaults.peak_position if spec.peak_position is None else spec.peak_position
    return PATTERNS[pattern](formula, peak_position=r, **common)


def _with_time_and_rain(
    inp: SwmmInput, scenario: DrainageScenario, rain: Hyetograph | RainSeries | None
) -> SwmmInput:
    time = scenario.time
    if rain is None:
        if time.start is not None or time.duration is not None:
            inp = set_period(inp, start=time.start, duration=time.duration)
    else:
        start = time.start
        end = None
        if time.duration is not None:
            t0 = start or (
                inp.start_datetime
                if isinstance(rain, Hyetograph)
                else rain.start.astype("datetime64[s]").item()
            )
            end = t0 + _dt.timedelta(seconds=time.duration)
        gauges = _gauges(scenario.rainfall)
        inp = apply_rainfall(
            inp, rain, gauge=gauges, start=start, end=end, recession=time.recession
        )
    if time.report_step is not None:
        inp = inp.with_options({"REPORT_STEP": clock(time.report_step)})
    return inp


def _gauges(rainfall: Rainfall | None) -> list[str] | dict[str, str] | None:
    """The model gauges the scenario's rain goes to (None: all, or the model's own rain)."""
    if rainfall is None:
        return None
    if rainfall.design is not None:
        return rainfall.design.gauges
    return rainfall.series.gauges if rainfall.series is not None else None


# ------------------------------------------------------------------------------------------------
# Running


def run_scenario(
    scenario: str | Path | DrainageScenario,
    *,
    progress: Progress | None = None,
    save_input: str | Path | None = None,
) -> xr.Dataset:
    """Run a drainage scenario (a file or a loaded scenario) to one Dataset in SI units.

    The Dataset is the engine adapter's (dims scenario, time, node, link, subcatchment, gauge;
    ``rain_intensity`` per gauge is the rain SWMM applied), labelled with the scenario's name,
    with provenance of the original network and the scenario file (SHA-256) and attrs saying
    what the scenario did (``rainfall``, ``rain_depth``, ``operations``).
    """
    if not isinstance(scenario, DrainageScenario):
        scenario = load_scenario(scenario)
    inp, rain, assets = _build(scenario)
    ds = engine.run(
        inp,
        scenario=scenario.label,
        progress=progress,
        spin_up=spin_up_of(scenario, assets),
        save_input=save_input,
        assets=assets,
    )
    ds.attrs.update(_scenario_attrs(scenario, ds, rain, inp.source_sha256))
    return ds


def _scenario_attrs(
    scenario: DrainageScenario,
    ds: xr.Dataset,
    rain: Hyetograph | RainSeries | None,
    network_sha256: str = "",
) -> dict:
    run_hash = ds.attrs.get("network_sha256")
    attrs = provenance(
        engine=engine.ENGINE,
        engine_version=engine.ENGINE_VERSION,
        network=scenario.network,
        scenario=scenario.file,
        network_sha256=network_sha256,  # hashed when it was read: the file is not read again
    )
    attrs["created"] = ds.attrs.get("created", attrs["created"])
    attrs.update(
        {
            "run_network_sha256": run_hash,  # the edited model SWMM ran
            "scenario_name": scenario.label,
            "scenario_description": scenario.description or None,
            "rainfall": describe_rainfall(rain),
            "rain_depth": _rain_depth(rain, ds),
            "rain_depth_units": "m",
            "operations": [op.describe() for op in scenario.operations] or None,
        }
    )
    if scenario.file is not None:
        attrs["scenario_source"] = str(scenario.file.path)
    return clean_attrs(attrs)


def describe_rainfall(rain: Hyetograph | RainSeries | None) -> str:
    """One line on the rain of a run."""
    if rain is None:
        return "the model's own rainfall"
    if isinstance(rain, Hyetograph):
        return repr(rain)
    depth = ", ".join(f"{g} {d * 1e3:.1f} mm" for g, d in zip(rain.gauges, rain.depth, strict=True))
    return (
        f"rain series {Path(rain.source).name if rain.source else ''}: "
        f"{rain.start.astype('datetime64[m]')} to {rain.end.astype('datetime64[m]')}, "
        f"step {rain.step / 60:g} min, {depth}"
    )


def _rain_depth(rain: Hyetograph | RainSeries | None, ds: xr.Dataset) -> float | None:
    """Depth (m) of the rain given to the model, the wettest gauge's, over the simulated period.

    From the input, not from ``rain_intensity``: SWMM reports a gauge's intensity at each
    reporting time, so rain before the first reporting time never shows there.
    """
    if rain is None:
        return None
    if isinstance(rain, Hyetograph):
        return rain.depth
    start = np.datetime64(_dt.datetime.fromisoformat(ds.attrs["start_datetime"]), "ns")
    end = np.datetime64(_dt.datetime.fromisoformat(ds.attrs["end_datetime"]), "ns")
    return float(np.max(rain.between(start, end).depth))
