"""Supply scenarios: a strict TOML file -> edits of the EPANET model -> results and answers.

A scenario file names the network, time settings, how demand responds to pressure, what to
answer, and a list of operations (see :mod:`hydro.supply.operations`)::

    # Question: can the city ride out a day without the Shuiyang river?
    network = "../../networks/xuancheng/supply.inp"
    [time]
    duration = "72h"
    [[operations]]
    type = "source_outage"
    source = "shuiyang"
    start = "24h"
    end = "48h"

:func:`run_scenario` gives one Dataset: the hydraulic results, every source's share at every node
and time, and the answers per zone and city-wide (:mod:`hydro.supply.answers`).
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import xarray as xr
from pydantic import Field

from hydro.errors import ScenarioError, suggest
from hydro.inpfile import read_text
from hydro.scenario.loader import ScenarioFile, read_scenario, validate
from hydro.scenario.schema import OPERATIONS, Duration, Length, Strict
from hydro.supply import operations as ops
from hydro.supply.answers import supply_answers
from hydro.supply.assets import SupplyAssets, load_assets
from hydro.supply.epanet import EpanetProject, TimeParameter
from hydro.supply.inp import read_elements
from hydro.supply.run import run
from hydro.supply.tracing import source_shares

# Every registered supply operation, told apart by its `type` key.
SupplyOperation = Annotated[
    functools.reduce(operator.or_, OPERATIONS["supply"].values()), Field(discriminator="type")
]


class SupplyTime(Strict):
    """Time settings; anything left out keeps the model's own value."""

    duration: Duration | None = None
    hydraulic_step: Duration | None = None
    report_step: Duration | None = None


class Hydraulics(Strict):
    """How demand responds to pressure, and how hard EPANET tries to balance.

    ``auto`` is pressure-driven (PDA) whenever the scenario has operations (supply can fall short)
    and demand-driven (DDA) for the model as it is. ``extra_trials`` is EPANET's UNBALANCED
    CONTINUE n (default: the model's): in a severe shortage pumps and valves can flip status at
    every trial; n more trials with statuses held let such a step balance, and EPANET then warns
    "Maximum trials exceeded ... System may be unstable" instead of leaving it unbalanced.
    """

    demand_model: Literal["auto", "dda", "pda"] = "auto"
    minimum_pressure: Length = Field(default=0.0, ge=0)
    required_pressure: Length = Field(default=20.0, gt=0)
    pressure_exponent: float = Field(default=0.5, gt=0)
    extra_trials: int | None = Field(default=None, ge=0, le=10_000)


class Answers(Strict):
    """What to answer: the service head for compliance, and whose shares to trace."""

    service_head: Length = Field(default=28.0, gt=0)
    shares: bool = True
    sources: list[str] | None = None  # default: every source of the model


class SupplyScenario(Strict):
    name: str = ""
    question: str = ""
    network: str
    time: SupplyTime = SupplyTime()
    hydraulics: Hydraulics = Hydraulics()
    answers: Answers = Answers()
    operations: list[SupplyOperation] = []


@dataclass(frozen=True)
class Loaded:
    """A validated scenario with what it refers to resolved."""

    scenario: SupplyScenario
    file: ScenarioFile | None  # the scenario file as read (None when built in Python)
    network: Path
    assets: SupplyAssets

    @property
    def path(self) -> Path | None:
        return self.file.path if self.file is not None else None


def load_scenario(path: str | Path) -> Loaded:
    """Read, merge includes, validate, and resolve the network path against the scenario file."""
    file = read_scenario(path)
    table = dict(file.table)
    table.setdefault("name", file.path.stem)
    table.setdefault("question", file.question)
    scenario = validate(SupplyScenario, table, file.path)
    return resolve(scenario, file)


def resolve(scenario: SupplyScenario, file: ScenarioFile | None = None) -> Loaded:
    """Find the network (relative to the scenario file, else the working folder) and its assets."""
    base = file.path.parent if file is not None else Path.cwd()
    network = (base / scenario.network).resolve()
    if not network.is_file():
        where = f"{file.path}: " if file is not None else ""
        raise ScenarioError(f"{where}network: no such file {network}")
    return Loaded(scenario, file, network, load_assets(network))


def build_edits(loaded: Loaded) -> list[Callable[[EpanetProject], None]]:
    """The scenario as edits of an open project: time, demand model, then operations in order."""
    scenario = loaded.scenario
    text = read_text(loaded.network).text
    elements = read_elements(text)
    duration = (
        scenario.time.duration if scenario.time.duration is not None else model_duration(text)
    )
    where = f"{loaded.path}: " if loaded.path else ""
    edits = [_time_edit(scenario.time), _hydraulics_edit(scenario)]
    for k, op in enumerate(scenario.operations):
        ctx = ops.Context(
            loaded.assets, elements, duration, f"{where}operations[{k}] ({op.type}): "
        )
        edits += op.edits(ctx)
    return edits


def _time_edit(time: SupplyTime) -> Callable[[EpanetProject], None]:
    def edit(project: EpanetProject) -> None:
        for value, param in (
            (time.duration, TimeParameter.DURATION),
            (time.hydraulic_step, TimeParameter.HYDSTEP),
            (time.report_step, TimeParameter.REPORTSTEP),
        ):
            if value is not None:
                project.set_time(param, value)

    return edit


def pressure_driven(scenario: SupplyScenario) -> bool:
    model = scenario.hydraulics.demand_model
    return model == "pda" or (model == "auto" and bool(scenario.operations))


def _hydraulics_edit(scenario: SupplyScenario) -> Callable[[EpanetProject], None]:
    h = scenario.hydraulics
    pda = pressure_driven(scenario)

    def edit(project: EpanetProject) -> None:
        if pda:
            project.set_demand_model(
                pressure_driven=True,
                minimum_pressure=h.minimum_pressure,
                required_pressure=h.required_pressure,
                exponent=h.pressure_exponent,
            )
        if h.extra_trials is not None:
            project.set_extra_trials(h.extra_trials)

    return edit


_TIME = re.compile(r"^\s*duration\s+(\S+)(?:\s+(\S+))?", re.IGNORECASE | re.MULTILINE)
_TIME_UNITS = {
    "SEC": 1,
    "SECONDS": 1,
    "MIN": 60,
    "MINUTES": 60,
    "HOUR": 3600,
    "HOURS": 3600,
    "DAY": 86400,
    "DAYS": 86400,
}


def model_duration(text: str) -> int:
    """The DURATION of an EPANET INP's [TIMES] section, in seconds (0 when absent)."""
    times = re.search(
        r"^\s*\[TIMES\](.*?)(?=^\s*\[)", text, re.IGNORECASE | re.MULTILINE | re.DOTALL
    )
    m = _TIME.search(times.group(1)) if times else None
    if not m:
        return 0
    value, unit = m.group(1), (m.group(2) or "").split(";")[0].upper()
    if ":" in value:
        parts = [float(p) for p in value.split(":")] + [0.0]
        return int(parts[0] * 3600 + parts[1] * 60 + parts[2])
    return int(float(value) * _TIME_UNITS.get(unit, 3600))


def run_scenario(source: str | Path | Loaded, *, progress=None) -> xr.Dataset:
    """Run a supply scenario: hydraulics, source shares and answers in one Dataset."""
    loaded = source if isinstance(source, Loaded) else load_scenario(source)
    scenario = loaded.scenario
    edits = build_edits(loaded)
    name = scenario.name or (loaded.path.stem if loaded.path else "scenario")
    if scenario.answers.shares:
        nodes = share_nodes(loaded)
        ds = source_shares(
            loaded.network, list(nodes.values()), edits=edits, scenario=name, progress=progress
        )
        ds = ds.assign_coords(source=[_label(s, nodes) for s in ds["source"].values])
    else:
        ds = run(loaded.network, edits=edits, scenario=name, progress=progress)
    if loaded.file is not None:
        ds.attrs.update(
            {"scenario_file": loaded.file.path.name, "scenario_sha256": loaded.file.sha256}
        )
    ds.attrs.update(
        {"question": scenario.question, "demand_model": ds.attrs.get("demand_model", "")}
    )
    answers = supply_answers(ds, loaded.assets, service_head=scenario.answers.service_head)
    merged = xr.merge([ds, answers], combine_attrs="override")
    # the answers' own attrs (the service head they count from) would be lost in the merge
    merged.attrs.update({k: v for k, v in answers.attrs.items() if k not in merged.attrs})
    return merged


def share_nodes(loaded: Loaded) -> dict[str, str]:
    """Source name -> the node whose water is traced (the raw-water body)."""
    sources = {s.name: s.reservoir for s in loaded.assets.sources}
    wanted = loaded.scenario.answers.sources or list(sources)
    for name in wanted:
        if name not in sources:
            raise ScenarioError(
                f"{loaded.path}: answers.sources: unknown source {name!r}; {suggest(name, sources)}"
            )
    return {name: sources[name] for name in wanted}


def _label(node: str, nodes: dict[str, str]) -> str:
    by_node = {v: k for k, v in nodes.items()}
    return by_node.get(str(node), str(node))
