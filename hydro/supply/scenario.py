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

import contextlib
import functools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import xarray as xr
from pydantic import Field

from hydro import __version__
from hydro.errors import ScenarioError, suggest
from hydro.kernels.supply import SERVICE_HEAD
from hydro.results import atomic_path
from hydro.scenario.loader import ScenarioFile, read_scenario, validate
from hydro.scenario.schema import OPERATIONS, Duration, Length, Strict
from hydro.scoring.supply import layout_of, with_layout
from hydro.supply import operations as ops
from hydro.supply.answers import supply_answers
from hydro.supply.assets import SupplyAssets
from hydro.supply.costs import UnitCosts
from hydro.supply.epanet import EpanetProject, QualityType, TimeParameter
from hydro.supply.epanet.project import age_from_clock
from hydro.supply.network import SupplyNetwork, load_network
from hydro.supply.reservoir import Reservoir
from hydro.supply.run import run
from hydro.supply.surge import Reliability
from hydro.supply.tracing import source_shares
from hydro.variables import get as get_variable

# Every registered supply operation, told apart by its `type` key (a union made at import
# time, which a type checker cannot follow).
if TYPE_CHECKING:
    SupplyOperation = Any
else:
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

    Every scenario, the model as it is included, runs pressure-driven (PDA) unless it says
    ``dda``: a node gets its full demand at ``required_pressure`` and less below, down to none at
    ``minimum_pressure``. ``required_pressure`` defaults to the answers' service head, so that
    unserved demand and pressure compliance speak of the same head; another value is stated in
    the results. Emitters (leakage) never take water in at negative pressure unless
    ``emitter_backflow`` is true (EPANET 2.3's option; EPANET 2.2 always let them). ``extra_trials``
    is EPANET's UNBALANCED CONTINUE n (default: the model's): in a severe shortage pumps and
    valves can flip status at every trial; n more trials with statuses held let such a step
    balance, and EPANET then warns "Maximum trials exceeded ... System may be unstable" -- which
    the run's health counts as not converged.
    """

    demand_model: Literal["pda", "dda"] = "pda"
    minimum_pressure: Length = Field(default=0.0, ge=0, le=1000)
    required_pressure: Length | None = Field(default=None, gt=0, le=1000)  # None: service head
    pressure_exponent: float = Field(default=0.5, gt=0, le=10)
    extra_trials: int | None = Field(default=None, ge=0, le=10_000)
    emitter_backflow: bool = False


class Answers(Strict):
    """What to answer: the service head for compliance, whose shares to trace, and from where
    water age counts: ``plant`` (the default), from leaving a treatment plant's clear-water well
    where the model names them, else from the reservoirs; ``source``, EPANET's own age from the
    reservoirs (raw-water mains and wells included); ``none``, no water quality at all (the
    hydraulics alone, faster: what a capacity study needs)."""

    service_head: Length = Field(default=SERVICE_HEAD, gt=0, le=1000)
    water_age: Literal["plant", "source", "none"] = "plant"
    shares: bool = True
    sources: list[str] | None = None  # default: every source of the model


class SupplyScenario(Strict):
    name: str = ""
    question: str = ""
    network: str
    time: SupplyTime = SupplyTime()
    hydraulics: Hydraulics = Hydraulics()
    answers: Answers = Answers()
    costs: UnitCosts = UnitCosts()  # what options cost (hydro.supply.costs; the study's)
    reservoir: Reservoir = Reservoir()  # the source reservoir's storage (hydro.supply.reservoir)
    reliability: Reliability = Reliability()  # breaks and surge of a main (hydro.supply.surge)
    operations: list[SupplyOperation] = []


@dataclass(frozen=True)
class Loaded:
    """A validated scenario with what it refers to resolved."""

    scenario: SupplyScenario
    file: ScenarioFile | None  # the scenario file as read (None when built in Python)
    network: SupplyNetwork  # the model, read once

    @property
    def path(self) -> Path | None:
        return self.file.path if self.file is not None else None

    @property
    def assets(self) -> SupplyAssets:
        return self.network.assets


def load_scenario(path: str | Path, *, allow: Iterable[str | Path] = ()) -> Loaded:
    """Read, merge includes, validate, and resolve the network path against the scenario file.

    The files it names must lie in its bundle or a folder of ``allow`` (see :mod:`hydro.paths`).
    """
    return load_file(read_scenario(path, allow=allow))


def load_file(file: ScenarioFile) -> Loaded:
    """Validate a scenario file already read and resolve its network (read once)."""
    table = dict(file.table)
    table.setdefault("name", file.path.stem)
    table.setdefault("question", file.question)
    scenario = validate(SupplyScenario, table, file.path)
    return resolve(scenario, file)


def resolve(scenario: SupplyScenario, file: ScenarioFile | None = None) -> Loaded:
    """Find the network (relative to the scenario file, else the working folder) and its assets."""
    base = file.path.parent if file is not None else Path.cwd()
    path = (base / scenario.network).resolve()
    if file is not None:
        path = file.inside(base / scenario.network, "network")
    where = f"{file.path}: " if file is not None else ""
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise ScenarioError(f"{where}network: {path} is {kind}; expected an EPANET .inp file")
    if not path.is_file():
        raise ScenarioError(f"{where}network: no such file {path}")
    network = load_network(path)
    network.assets  # noqa: B018 -- named assets checked now: a bad sidecar fails before any run
    return Loaded(scenario, file, network)


def build_edits(loaded: Loaded) -> list[Callable[[EpanetProject], None]]:
    """The scenario as edits of an open project: time, demand model, then operations in order."""
    scenario = loaded.scenario
    network = loaded.network
    duration = scenario.time.duration if scenario.time.duration is not None else network.duration
    where = f"{loaded.path}: " if loaded.path else ""
    edits = [_time_edit(scenario.time), _hydraulics_edit(scenario)]
    for k, op in enumerate(scenario.operations):
        ctx = ops.Context(
            loaded.assets, network.elements, duration, f"{where}operations[{k}] ({op.type}): "
        )
        edits += op.edits(ctx)
    return edits


def plant_age(loaded: Loaded, applied: list[str]) -> Callable[[EpanetProject], None]:
    """An edit making a model's water age count from its plants' clear wells (when it asks for
    water age at all); the wells' names go into ``applied``."""
    wells = [s.clear_well for s in loaded.assets.sources if s.clear_well]

    def edit(project: EpanetProject) -> None:
        if wells and project.quality()[0] is QualityType.AGE:
            project.set_age_since([project.node_index[w] for w in wells])
            applied.extend(wells)

    return edit


def _age_since_plants(ds: xr.Dataset, wells: list[str]) -> xr.Dataset:
    """Water age from the chemical that counts it down (see EpanetProject.set_age_since)."""
    var = get_variable("water_age")
    hours = age_from_clock(ds["chemical_concentration"].values.astype(np.float64))
    ds = ds.drop_vars("chemical_concentration")
    ds["water_age"] = xr.Variable(
        var.dims,
        (hours * 3600.0).astype(var.dtype),
        {
            **var.attrs(),
            "comment": "since leaving a treatment plant's clear-water well: " + ", ".join(wells),
        },
    )
    ds.attrs["quality"] = "age since the plants' clear-water wells (" + ", ".join(wells) + ")"
    return ds


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
    return scenario.hydraulics.demand_model == "pda"


def required_pressure(scenario: SupplyScenario) -> float:
    """[m] the pressure at which a node gets its full demand (PDA): the service head unless set."""
    h = scenario.hydraulics
    return h.required_pressure if h.required_pressure is not None else scenario.answers.service_head


def _hydraulics_edit(scenario: SupplyScenario) -> Callable[[EpanetProject], None]:
    h = scenario.hydraulics
    pda = pressure_driven(scenario)
    full = required_pressure(scenario)

    def edit(project: EpanetProject) -> None:
        project.set_demand_model(
            pressure_driven=pda,
            minimum_pressure=h.minimum_pressure,
            required_pressure=full,
            exponent=h.pressure_exponent,
        )
        project.set_emitter_backflow(h.emitter_backflow)
        if h.extra_trials is not None:
            project.set_extra_trials(h.extra_trials)

    return edit


def run_scenario(
    source: str | Path | ScenarioFile | Loaded,
    *,
    progress=None,
    save_inp: str | Path | None = None,
) -> xr.Dataset:
    """Run a supply scenario: hydraulics, source shares and answers in one Dataset.

    ``save_inp``: also write the engine's input as run (every edit applied) to this INP file,
    for EPANET or WNTR to run on their own (see :func:`save_engine_input`).
    """
    if isinstance(source, Loaded):
        loaded = source
    elif isinstance(source, ScenarioFile):
        loaded = load_file(source)
    else:
        loaded = load_scenario(source)
    scenario = loaded.scenario
    edits = build_edits(loaded)
    wells: list[str] = []
    if scenario.answers.water_age == "plant":
        edits.append(plant_age(loaded, wells))
    elif scenario.answers.water_age == "none":
        edits.append(lambda project: project.set_quality(QualityType.NONE))
    notes = scenario_notes(loaded)
    with contextlib.ExitStack() as saving:
        if save_inp is not None:  # written under its name only once the run has worked
            target = saving.enter_context(atomic_path(check_save_path(save_inp, loaded)))
            edits.append(lambda project: notes.extend(save_engine_input(project, target, loaded)))
        ds = _run(loaded, edits, progress)
    if wells and "chemical_concentration" in ds:
        ds = _age_since_plants(ds, wells)
    ds.attrs["scenario_notes"] = "\n".join(notes)
    if loaded.file is not None:
        ds.attrs.update(
            {"scenario_file": loaded.file.path.name, "scenario_sha256": loaded.file.sha256}
        )
    ds.attrs.update(
        {"question": scenario.question, "demand_model": ds.attrs.get("demand_model", "")}
    )
    answers = supply_answers(ds, loaded.assets, service_head=scenario.answers.service_head)
    merged = xr.merge([ds, answers], combine_attrs="override")
    merged.attrs.update(answers.attrs)
    # The named assets travel with the results: scoring never goes back to the model's path.
    return with_layout(merged, layout_of(loaded.assets))


def _run(loaded: Loaded, edits: list, progress) -> xr.Dataset:
    """The hydraulics (with every source's shares when asked) of a scenario's edited model."""
    scenario = loaded.scenario
    name = scenario.name or (loaded.path.stem if loaded.path else "scenario")
    head = scenario.answers.service_head
    watched = plant_links(loaded.assets)
    if scenario.answers.shares:
        nodes = share_nodes(loaded)
        ds = source_shares(
            loaded.network,
            list(nodes.values()),
            edits=edits,
            scenario=name,
            progress=progress,
            service_head=head,
            watched=watched,
        )
        ds = ds.assign_coords(source=[_label(s, nodes) for s in ds["source"].values])
    else:
        ds = run(
            loaded.network,
            edits=edits,
            scenario=name,
            progress=progress,
            service_head=head,
            watched=watched,
            statistic="NONE",  # answers need the series (scenario_notes says so)
        )
    return ds


def scenario_notes(loaded: Loaded) -> list[str]:
    """What a reader of the answers must be told about how the scenario ran the model."""
    scenario, network = loaded.scenario, loaded.network
    notes = []
    head = scenario.answers.service_head
    if not pressure_driven(scenario):
        notes.append(
            "demand-driven: every node gets its demand whatever its pressure, so unserved demand "
            "is 0 by construction; read pressure compliance and negative pressures instead"
        )
    elif required_pressure(scenario) != head:
        notes.append(
            f"nodes get their full demand at {required_pressure(scenario):g} m while compliance "
            f"counts {head:g} m: a node between the two is served in full but not compliant"
        )
    if network.statistic != "NONE":
        notes.append(
            f"the model's [TIMES] STATISTIC {network.statistic} is set aside: a scenario's "
            "answers need every reporting time (hydro.supply.run of the model alone honours it)"
        )
    return notes


def plant_links(assets: SupplyAssets) -> list[str]:
    """Links whose flow the answers need at every step: what the plants send into the city."""
    return [link for s in assets.sources for link in (*s.transmission_mains, *s.raw_main[:1])]


def check_save_path(path: str | Path, loaded: Loaded) -> Path:
    """Where --save-inp may write: a file, never the scenario's own network or a folder."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"{path}: --save-inp needs a file name, not a folder")
    if path.resolve() == loaded.network.path.resolve():
        raise ScenarioError(f"{path}: --save-inp would overwrite the scenario's own network")
    return path


def save_engine_input(project: EpanetProject, path: str | Path, loaded: Loaded) -> list[str]:
    """Write the engine's input as it is about to run and say what it cannot hold.

    EPANET writes the model with every edit applied (an EPANET 2.3 INP; WNTR reads it once the
    2.3-only lines it does not know are left out). Links held open or closed over part of the run
    are in it as timer controls at the window's edges; while the window lasts the run also sets
    the link's own controls, rules and speed pattern aside, which an INP file cannot say: such
    links are listed in the file's header and returned as notes.
    """
    path = Path(path)
    windows = [f for f in project.forced if f.start > 0 or f.end is not None]
    notes = []
    if any(f.controls or f.rules or f.pattern for f in windows):
        names = sorted(
            {project.link_ids[f.link] for f in windows if f.controls or f.rules or f.pattern}
        )
        notes.append(
            "the saved INP holds links "
            + ", ".join(names)
            + " open or closed by timer controls only: over their windows the run also set their "
            "own controls, rules and speed patterns aside, which an INP cannot express, so a rerun "
            "of the file differs while those would have acted"
        )
    project.save_inp(path)
    text = _without_empty_leakage(path.read_text(encoding="utf-8", errors="replace"))
    header = [
        f"; written by hydro {__version__} from {loaded.network.path.name} "
        f"(sha256 {loaded.network.sha256[:12]})"
        + (f" and scenario {loaded.path.name}" if loaded.path else ""),
        "; EPANET 2.3 input exactly as hydro ran it: every scenario edit applied",
        *(f"; NOTE: {note}" for note in notes),
        "; WNTR 1.5 reads it without the BACKFLOW ALLOWED option line (its EPANET 2.2 lets "
        "emitters take water in: results differ only where pressures fall below 0 m)",
    ]
    path.write_text("\n".join(header) + "\n" + text, encoding="utf-8")
    return notes


def _without_empty_leakage(text: str) -> str:
    """EPANET 2.3 writes an empty [LEAKAGE] section that older readers (WNTR) refuse: drop it."""
    start = text.find("[LEAKAGE]")
    if start < 0:
        return text
    end = text.find("[", start + 1)
    body = text[start + len("[LEAKAGE]") : end if end >= 0 else len(text)]
    if any(line.split(";")[0].strip() for line in body.splitlines()):
        return text
    return text[:start] + (text[end:] if end >= 0 else "")


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
