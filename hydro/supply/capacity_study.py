"""The planners' core question: how big must the Gangkouwan pipeline be, what limits what it
delivers, and what can the city survive without one or both of its rivers?

:func:`capacity_study` runs every case of a grid -- the rivers out of service, the raw-water
main's diameter (or its flow cap), the plant's capacity, the source's transmission mains, the
mutual-aid mains between zones and the reservoir level -- as a scenario, in parallel on Dask, and
for every case also runs each element one step up its candidate set: the element whose upgrade
serves the city most is the one that **binds**. Each case runs only as long as the question
needs: a day to settle (clear wells, compound tanks) and a day measured, at a 5 min hydraulic
step. Answers are integrated over every hydraulic step of the measured day;
:mod:`hydro.report.study` draws them.

The candidate sets (assumptions, see ``networks/xuancheng/README.md``): raw main DN600-DN1600 in
200 mm steps; plant capacity 1, 1.25 and 1.5 times its design; transmission mains DN600, DN800,
DN1000; mutual-aid mains as built (the normally closed ones closed), all opened, all opened and
laid again at DN800.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import xarray as xr

from hydro import __version__
from hydro.ensemble.workers import map_jobs
from hydro.errors import ScenarioError, suggest
from hydro.results import build_dataset
from hydro.supply.costs import KWH, YEAR, UnitCosts, electric_power
from hydro.supply.epanet import EpanetProject, LinkProperty, LinkType
from hydro.supply.operations import (
    InterconnectionOp,
    PipeDiameter,
    PlantCapacity,
    SourceOutage,
    SourcePipeline,
)
from hydro.supply.pumps import rated_flow
from hydro.supply.scenario import Loaded, load_scenario, resolve, run_scenario
from hydro.supply.surge import Reliability, break_outage, screen_profile, surge_head

DAY = 86400
# Extra trials with statuses held (EPANET's UNBALANCED CONTINUE) unless the base scenario sets
# them: the study runs the city short of water on purpose, where pumps and valves flip status
# from trial to trial; with the model's 10, a river out left up to 248 steps unbalanced.
STRESSED_TRIALS = 100
# The study's hydraulic step: with the model's 1 h, EPANET's steps cut short at tank and pump
# events differ from case to case, and a clear well filling and cutting its 45 km main off at
# different moments left answers 0.1 % apart between cases that differ only in an element that
# does not bind (DN1000 and DN1200 without Shuiyang). At 5 min they agree to the cubic metre.
STUDY_STEP = 300
# A gain smaller than this share of the city's demand is no gain: the element does not bind.
BINDING_GAIN = 0.002
RHO_G = 1000.0 * 9.80665  # N/m3

RAW_MAIN_DIAMETERS = (0.6, 0.8, 1.0, 1.2, 1.4, 1.6)  # m (A) the raw main's candidate set
PLANT_FACTORS = (1.0, 1.25, 1.5)  # (A) of the plant's design capacity
TRANSMISSION_DIAMETERS = (0.6, 0.8, 1.0)  # m (A)
INTERCONNECTION_DIAMETERS = (0.0, 0.6, 0.8)  # m (A); 0: as built (normally closed ones closed)

ELEMENTS = ("raw_main", "plant", "transmission", "interconnection")
FIELDS = {  # the Case field (and study dimension) each element sizes
    "raw_main": "size",
    "plant": "plant_capacity",
    "transmission": "transmission_diameter",
    "interconnection": "aid_diameter",
}
ELEMENT_LABELS = {
    "raw_main": "raw-water main",
    "plant": "plant capacity",
    "transmission": "transmission mains",
    "interconnection": "mutual-aid mains",
}


@dataclass(frozen=True)
class Case:
    """One point of the study grid: what is out and what is built."""

    outage: tuple[str, ...]
    size: float  # m (raw-main diameter) or m3/s (flow cap), as the study sweeps
    plant_capacity: float  # m3/s
    transmission_diameter: float  # m, the source's transmission mains
    aid_diameter: float  # m, the mutual-aid mains; 0: as built
    level: float  # m reservoir level, NaN: the model's

    def name(self, kind: str) -> str:
        lost = "+".join(self.outage) + " out" if self.outage else "all rivers"
        size = f"DN{self.size * 1000:.0f}" if kind == "diameter" else f"{self.size * DAY:,.0f} m3/d"
        parts = [
            lost,
            f"main {size}",
            f"plant {self.plant_capacity * DAY:,.0f} m3/d",
            f"mains DN{self.transmission_diameter * 1000:.0f}",
            "aid as built"
            if not self.aid_diameter
            else f"aid open DN{self.aid_diameter * 1000:.0f}",
        ]
        if not np.isnan(self.level):
            parts.append(f"level {self.level:g} m")
        return ", ".join(parts)


@dataclass(frozen=True)
class Settings:
    """How each case runs: the source sized, what is swept, how long, what is measured."""

    source: str
    kind: str  # "diameter" or "flow_cap"
    warmup: int
    window: int
    step: int
    transmission_mains: tuple[str, ...]
    aid_pipes: tuple[str, ...]  # the mutual-aid mains' pipes and valves
    main_nodes: tuple[str, ...] = ()  # along the raw main, reservoir to clear well
    main_links: tuple[str, ...] = ()  # between them, in order
    valve: str = ""  # the flow-control valve whose burned head is measured
    source_pumps: tuple[str, ...] = ()  # the source's high-lift pumps
    global_efficiency: float = 0.75  # the model's pump efficiency where a pump has no curve
    curved_pumps: tuple[str, ...] = ()  # pumps with an efficiency curve of their own
    costs: UnitCosts = field(default_factory=UnitCosts)
    design_capacity: float = 0.0  # m3/s, the source's plant as designed
    reliability: Reliability = field(default_factory=Reliability)


def capacity_study(
    base: str | Path | Loaded,
    *,
    source: str = "gangkouwan",
    diameters: Sequence[float] = (),
    flow_caps: Sequence[float] = (),
    levels: Sequence[float] = (),
    outages: Sequence[Sequence[str]] = ((),),
    plant_capacities: Sequence[float] = (),
    transmission: Sequence[float] = (),
    interconnections: Sequence[float] = (),
    binding: bool = True,
    warmup: int = DAY,
    window: int = DAY,
    step: int = STUDY_STEP,
    workers: int | None = None,
    progress=None,
) -> xr.Dataset:
    """Run every case of the grid (and each element's next size, for what binds) and tabulate.

    ``diameters`` (m) sweep the raw main, its flow-control valve set to the plant's capacity (the
    plant treats no more); or ``flow_caps`` (m3/s) sweep the valve with the main as built.
    ``levels`` (m) are reservoir water levels (default: the model's). ``outages`` lists the
    river sources out of service for the whole run, e.g. ``[[], ["shuiyang"], ["qingyi"]]``.
    ``plant_capacities`` (m3/s, default: the design), ``transmission`` (m, default: as built)
    and ``interconnections`` (m; 0 = as built, else every mutual-aid main open at that diameter)
    are swept too. With ``binding``, every case's elements are also run one step up their
    candidate sets. Each run lasts ``warmup + window`` s at a ``step`` s hydraulic step; its
    answers are the ``window`` after the warm-up. ``progress(done, total)`` as runs finish.
    """
    loaded = base if isinstance(base, Loaded) else load_scenario(base)
    _check_values("diameters", diameters, 0.01, 10.0, "m")
    _check_values("flow_caps", flow_caps, 1e-6, 100.0, "m3/s")
    _check_values("levels", levels, -500.0, 9000.0, "m")
    _check_values("plant_capacities", plant_capacities, 1e-6, 100.0, "m3/s")
    _check_values("transmission", transmission, 0.01, 10.0, "m")
    _check_values("interconnections", interconnections, 0.0, 10.0, "m")
    if bool(diameters) == bool(flow_caps):
        raise ScenarioError("sweep either diameters or flow caps (one of them, not both)")
    if warmup < 0 or step <= 0 or window < step:
        raise ScenarioError(
            "warmup must be >= 0 s, the hydraulic step > 0 s and the window at least one step"
        )
    assets = loaded.assets
    known = [s.name for s in assets.sources]
    if source not in known:
        raise ScenarioError(f"unknown source {source!r}; {suggest(source, known)}")
    outages = [tuple(o) for o in outages] or [()]
    for names in outages:
        for name in names:
            if name not in known:
                raise ScenarioError(f"unknown source {name!r} in outages; {suggest(name, known)}")
    src = assets.source(source)
    if not src.capacity:
        raise ScenarioError(f"source {source!r} has no design capacity in the model's assets")
    built = as_built(loaded, source)
    kind = "diameter" if diameters else "flow_cap"
    settings = study_settings(loaded, source, kind, warmup=warmup, window=window, step=step)
    axes: dict[str, list] = {
        "outage": outages,
        "size": _axis(diameters or flow_caps),
        "plant_capacity": _axis(plant_capacities or [src.capacity]),
        "transmission_diameter": _axis(transmission or [built["transmission"]]),
        "aid_diameter": _axis(interconnections or [0.0]),
        "level": _axis(levels) or [float("nan")],
    }
    grid = [Case(*values) for values in itertools.product(*axes.values())]
    ladders = _ladders(kind, src.capacity, built, axes)
    by_case = _run_cases(loaded, settings, grid, ladders, binding, workers, progress)
    return _table(by_case, grid, axes, ladders, settings, loaded, built, binding)


def _run_cases(loaded, settings, grid, ladders, binding, workers, progress) -> dict:
    """Every case of the grid and, for what binds, each element one step up: all in one batch
    (one Dask cluster), every distinct case run once."""
    cases = list(dict.fromkeys(grid))
    if binding:
        for case in grid:
            for element in ELEMENTS:
                upgraded = _upgrade(case, element, ladders)
                if upgraded is not None:
                    cases.append(upgraded)
        cases = list(dict.fromkeys(cases))
    jobs = [functools.partial(_run_case, loaded, settings, case) for case in cases]
    results = map_jobs(jobs, workers=workers, progress=progress)
    return dict(zip(cases, results, strict=True))


def study_settings(
    loaded: Loaded,
    source: str = "gangkouwan",
    kind: str = "diameter",
    *,
    warmup: int = DAY,
    window: int = DAY,
    step: int = STUDY_STEP,
) -> Settings:
    """How the study runs each case (see :func:`capacity_study`)."""
    assets = loaded.assets
    src = assets.source(source)
    nodes, links = main_path(loaded, source)
    with EpanetProject.open(loaded.network) as project:
        efficiency = project.global_efficiency()
        pumps = np.flatnonzero(np.asarray(project.link_types) == LinkType.PUMP)
        curved = [project.link_ids[k] for k in pumps if len(project.pump_curves(int(k))[2])]
    return Settings(
        source=source,
        kind=kind,
        warmup=int(warmup),
        window=int(window),
        step=int(step),
        transmission_mains=tuple(src.transmission_mains),
        aid_pipes=tuple(p for c in assets.interconnections for p in (*c.valves, *c.pipes)),
        main_nodes=tuple(nodes),
        main_links=tuple(links),
        valve=src.flow_control_valve or "",
        source_pumps=tuple(src.high_lift_pumps),
        global_efficiency=efficiency,
        curved_pumps=tuple(curved),
        costs=loaded.scenario.costs,
        design_capacity=float(src.capacity or 0.0),
        reliability=loaded.scenario.reliability,
    )


def main_path(loaded: Loaded, source: str) -> tuple[list[str], list[str]]:
    """The nodes and links from the source's reservoir along its raw main, flow-control valve
    and isolation links to its clear well, in order (empty when they do not chain)."""
    src = loaded.assets.source(source)
    e = loaded.network.elements
    index = {name: k for k, name in enumerate(e.link_ids)}
    wanted = [n for n in (*src.raw_main, src.flow_control_valve, *src.isolation_links) if n]
    if not wanted or any(n not in index for n in wanted):
        return [], []
    node = e.node_ids.index(src.reservoir)
    nodes, links, left = [src.reservoir], [], list(wanted)
    while left:
        step = next(
            (n for n in left if node in (e.link_start[index[n]], e.link_end[index[n]])), None
        )
        if step is None:
            break
        k = index[step]
        node = int(e.link_end[k] if e.link_start[k] == node else e.link_start[k])
        nodes.append(e.node_ids[node])
        links.append(step)
        left.remove(step)
    return nodes, links


def _axis(values: Sequence[float]) -> list[float]:
    """Swept values in order, rounded so that a candidate met again is the same case."""
    return sorted({round(float(v), 9) for v in values})


def _check_values(name: str, values: Sequence[float], low: float, high: float, units: str) -> None:
    """Every swept value a finite number in its range, before any case runs."""
    for value in values:
        if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
            raise ScenarioError(
                f"{name}: {value!r} {units} is out of range; expected finite numbers from "
                f"{low:g} to {high:g} {units}"
            )


def as_built(loaded: Loaded, source: str) -> dict[str, float]:
    """The elements in the model: the raw main's, transmission mains' and mutual-aid mains'
    largest diameters (m) and total lengths (m, ``*_length``), and the source's high-lift
    pumps' power at their rated points (W electric, ``pump_power``)."""
    src = loaded.assets.source(source)
    aid = [p for c in loaded.assets.interconnections for p in c.pipes]
    costs = loaded.scenario.costs
    with EpanetProject.open(loaded.network) as project:

        def values(names, prop) -> list[float]:
            return [project.link_value(project.link_index[n], prop) for n in names]

        built = {}
        for key, names in (
            ("raw_main", src.raw_main),
            ("transmission", src.transmission_mains),
            ("interconnection", aid),
        ):
            diameters = values(names, LinkProperty.DIAMETER)
            built[key] = float(max(diameters)) if diameters else float("nan")
            built[f"{key}_length"] = float(sum(values(names, LinkProperty.LENGTH)))
        power = 0.0
        for name in src.high_lift_pumps:
            flows, heads, _, _ = project.pump_curves(project.link_index[name])
            if len(flows):
                q = rated_flow(flows, heads, np.empty(0), np.empty(0))
                power += RHO_G * q * float(np.interp(q, flows, heads))
        built["pump_power"] = power / (costs.pump_efficiency * costs.motor_efficiency)
    return built


def _ladders(kind: str, capacity: float, built: dict, axes: dict) -> dict[str, list[float]]:
    """Each element's candidate set, the swept values and the as-built one included, in order."""

    def ladder(candidates, swept) -> list[float]:
        return sorted({round(float(v), 9) for v in (*candidates, *swept)})

    raw = RAW_MAIN_DIAMETERS if kind == "diameter" else ()
    return {
        "raw_main": ladder(raw, axes["size"]),
        "plant": ladder([f * capacity for f in PLANT_FACTORS], axes["plant_capacity"]),
        "transmission": ladder(
            [*TRANSMISSION_DIAMETERS, built["transmission"]], axes["transmission_diameter"]
        ),
        "interconnection": ladder(INTERCONNECTION_DIAMETERS, axes["aid_diameter"]),
    }


def _upgrade(case: Case, element: str, ladders: dict) -> Case | None:
    """The case with ``element`` one step up its candidate set (None at the top or unswept)."""
    name = FIELDS[element]
    ladder = ladders[element]
    current = round(getattr(case, name), 9)
    larger = [v for v in ladder if v > current + 1e-9]
    if not larger:
        return None
    return replace(case, **{name: larger[0]})


def _run_case(loaded: Loaded, settings: Settings, case: Case) -> xr.Dataset:
    """One case run and reduced to its answers (what a worker sends back)."""
    return summarise(run_scenario(case_scenario(loaded, settings, case)), settings)


def case_scenario(loaded: Loaded, settings: Settings, case: Case) -> Loaded:
    """One case as a scenario: the base plus what the case builds and takes out (whole run),
    hydraulics only, for ``warmup + window`` at the study's step."""
    source, kind = settings.source, settings.kind
    level = None if np.isnan(case.level) else case.level
    plant = PlantCapacity(
        source=source, capacity=case.plant_capacity, cap_raw_water=kind == "diameter"
    )
    pipe = SourcePipeline(
        source=source,
        open=True,
        diameter=case.size if kind == "diameter" else None,
        flow_cap=case.size if kind == "flow_cap" else None,
        reservoir_level=level,
    )
    extra = [pipe, plant] if kind == "diameter" else [plant, pipe]
    if settings.transmission_mains:
        extra.append(
            PipeDiameter(
                pipes=list(settings.transmission_mains), diameter=case.transmission_diameter
            )
        )
    if case.aid_diameter > 0 and settings.aid_pipes:
        extra.append(InterconnectionOp(name="all", open=True))
        extra.append(PipeDiameter(pipes=list(settings.aid_pipes), diameter=case.aid_diameter))
    extra += [SourceOutage(source=s) for s in case.outage]
    base = loaded.scenario
    hydraulics = base.hydraulics
    trials = STRESSED_TRIALS if hydraulics.extra_trials is None else hydraulics.extra_trials
    scenario = base.model_copy(
        update={
            "name": case.name(kind),
            "operations": [*base.operations, *extra],
            "answers": base.answers.model_copy(update={"shares": False, "water_age": "none"}),
            "hydraulics": hydraulics.model_copy(
                update={"demand_model": "pda", "extra_trials": trials}
            ),
            "time": base.time.model_copy(
                update={
                    "duration": settings.warmup + settings.window,
                    "hydraulic_step": settings.step,
                    # hourly, or the window when shorter: a report time falls in it
                    "report_step": min(3600, settings.window),
                }
            ),
        }
    )
    return resolve(scenario, loaded.file)


def summarise(ds: xr.Dataset, settings: Settings) -> xr.Dataset:
    """One case's answers over the measured window, integrated over every hydraulic step."""
    start = ds["step_start"].values[0]
    seconds = ds["step_duration"].values[0]
    end = start + seconds
    t0, t1 = settings.warmup, settings.warmup + settings.window
    # The share of each step inside the window (steps straddle its edges).
    w = np.clip(np.minimum(end, t1) - np.maximum(start, t0), 0, None)
    span = float(w.sum()) or 1.0

    def mean(series: np.ndarray) -> float:
        return float((series * w).sum() / span)

    links = list(ds["step_link"].values)
    flows = ds["step_link_flow"].values[0]
    mains = [links.index(n) for n in settings.transmission_mains if n in links]
    delivered = mean(flows[:, mains].sum(axis=1)) if mains else float("nan")
    served = mean(ds["step_consumer"].values[0])
    unserved = mean(ds["step_unserved"].values[0])
    t = ds["time"].values.astype("timedelta64[s]").astype(np.int64)
    hours = (t >= t0) & (t <= t1)
    city = ds.sel(zone="city")["pressure_compliance"].values[0][hours]
    raw = [links.index(n) for n in settings.main_links[:1] if n in links]
    power = _pumping(ds, settings)
    values = {
        "pumping": mean(power.sum(axis=1)),
        "source_pumping": mean(
            power[:, np.isin(ds["pump"].values, settings.source_pumps)].sum(axis=1)
        ),
        "raw_water": mean(flows[:, raw[0]]) if raw else float("nan"),
        **_main_profile(ds, settings, hours),
        "delivered": delivered,
        "served": served,
        "demand": served + unserved,
        "compliance": float(np.nanmean(city)),
        "worst_compliance": float(np.nanmin(city)),
        "converged": float(bool(ds.attrs.get("converged", True))),
        "balance": float(ds["mass_balance_error"].values[0]),
    }
    profile = values.pop("main_head")
    out = xr.Dataset({k: ("run", [v]) for k, v in values.items()})
    out["main_head"] = ("main_node", profile)
    if len(settings.main_nodes) > 1:
        out["main_chainage"] = ("main_node", main_chainage(ds, settings))
        out["main_elevation"] = (
            "main_node",
            ds["elevation"].sel(node=list(settings.main_nodes)).values,
        )
    return out


def _pumping(ds: xr.Dataset, settings: Settings) -> np.ndarray:
    """[W] (steps, pumps) power each pump draws from the grid: its hydraulic power (EPANET's
    power times the model's efficiency, for pumps without a curve of their own) over the
    efficiency at its operating point (:func:`hydro.supply.costs.electric_power`)."""
    epanet = ds["step_pump_power"].values[0]
    curved = np.isin(ds["pump"].values, settings.curved_pumps)
    electric = electric_power(
        epanet * settings.global_efficiency,
        ds["step_pump_flow"].values[0],
        ds["pump_rated_flow"].values,
        settings.costs,
    )
    return np.where(curved, epanet / settings.costs.motor_efficiency, electric)


def _main_profile(ds: xr.Dataset, settings: Settings, hours: np.ndarray) -> dict:
    """Along the raw main, over the measured hours: the hydraulic grade at the hour of the
    largest raw-water flow, the lowest pressure head and where (chainage from the reservoir),
    and the head the flow-control valve burns while water flows (mean and largest)."""
    nodes = list(settings.main_nodes)
    if len(nodes) < 2:
        return {
            "main_head": np.full(len(nodes), np.nan),
            "main_flow": np.nan,
            "main_min_pressure": np.nan,
            "main_min_pressure_at": np.nan,
            "valve_head": np.nan,
            "valve_head_max": np.nan,
            "recoverable": np.nan,
        }
    head = ds["hydraulic_head"].sel(node=nodes).values[0][hours]  # (hours, nodes)
    pressure = ds["pressure_head"].sel(node=nodes).values[0][hours]
    flow = ds["flow"].sel(link=settings.main_links[0]).values[0][hours]
    peak = int(np.argmax(flow))
    chainage = main_chainage(ds, settings)
    inner = slice(1, len(nodes) - 1)  # the pipe, not the reservoir or the well's surface
    low = np.unravel_index(np.argmin(pressure[:, inner]), pressure[:, inner].shape)
    values = {
        "main_head": head[peak],
        "main_flow": float(flow[peak]),
        "main_min_pressure": float(pressure[:, inner][low]),
        "main_min_pressure_at": float(chainage[inner][low[1]]),
        "valve_head": np.nan,
        "valve_head_max": np.nan,
        "recoverable": np.nan,
    }
    if settings.valve in settings.main_links:
        k = settings.main_links.index(settings.valve)
        burned = head[:, k] - head[:, k + 1]
        moving = ds["flow"].sel(link=settings.valve).values[0][hours] > 1e-3
        if moving.any():
            values["valve_head"] = float(burned[moving].mean())
            values["valve_head_max"] = float(burned[moving].max())
        q = np.clip(ds["flow"].sel(link=settings.valve).values[0][hours], 0, None)
        # rho g Q H x turbine efficiency, hourly: what a turbine in place of the valve would give
        values["recoverable"] = float(
            (RHO_G * q * np.clip(burned, 0, None)).mean() * settings.costs.turbine_efficiency
        )
    return values


def main_chainage(ds: xr.Dataset, settings: Settings) -> np.ndarray:
    """[m] distance of each main node from the reservoir along the main (valves count 0)."""
    lengths = ds["length"].sel(link=list(settings.main_links)).values
    kinds = ds["link_type"].sel(link=list(settings.main_links)).values
    lengths = np.where(np.isin(kinds, ["pipe", "cvpipe"]), lengths, 0.0)
    return np.concatenate([[0.0], np.cumsum(lengths)])


def _table(by_case, grid, axes, ladders, settings, loaded, built, binding) -> xr.Dataset:
    """The cases on the grid (outage, size, plant, transmission, interconnection, level)."""
    shape = tuple(len(v) for v in axes.values())

    def value(case: Case, name: str) -> float:
        return float(by_case[case][name].values[0])

    def grid_of(name: str) -> np.ndarray:
        return np.array([value(c, name) for c in grid]).reshape(shape)

    data = {
        "study_delivered_flow": grid_of("delivered"),
        "study_served_flow": grid_of("served"),
        "study_demand_flow": grid_of("demand"),
        "study_unserved_fraction": 1 - grid_of("served") / grid_of("demand"),
        "study_compliance": grid_of("compliance"),
        "study_worst_compliance": grid_of("worst_compliance"),
        "study_converged": grid_of("converged").astype(np.int8),
        "study_mass_balance_error": grid_of("balance"),
        "study_raw_water_flow": grid_of("raw_water"),
        "study_valve_head": grid_of("valve_head"),
        "study_valve_head_max": grid_of("valve_head_max"),
        "study_main_flow": grid_of("main_flow"),
        "study_main_min_pressure": grid_of("main_min_pressure"),
        "study_main_min_pressure_at": grid_of("main_min_pressure_at"),
    }
    data.update(_costs(grid, by_case, settings, built, shape))
    data.update(_what_could_go_wrong(grid, by_case, settings, built, shape))
    first = by_case[grid[0]]
    main = len(settings.main_nodes) > 1
    if main:
        data["study_main_head"] = np.array([by_case[c]["main_head"].values for c in grid]).reshape(
            (*shape, len(settings.main_nodes))
        )
    gains = np.full((*shape, len(ELEMENTS)), np.nan)
    bind = np.full(shape, "", dtype=object)
    for k, case in enumerate(grid):
        at = tuple(int(i) for i in np.unravel_index(k, shape))
        if not binding:
            continue
        served, demand = value(case, "served"), value(case, "demand")
        for j, element in enumerate(ELEMENTS):
            upgraded = _upgrade(case, element, ladders)
            if upgraded is not None:
                gains[(*at, j)] = value(upgraded, "served") - served
        bind[at] = _binding(gains[at], served, demand)
    if binding:
        data["study_upgrade_gain"] = gains
        data["study_binding"] = bind
    kind = settings.kind
    size_attrs = (
        {"units": "m", "long_name": "raw-water main diameter"}
        if kind == "diameter"
        else {"units": "m3 s-1", "long_name": "flow cap of the flow-control valve"}
    )
    coords = {
        "outage": ["+".join(o) if o else "none" for o in axes["outage"]],
        "size": ("size", np.asarray(axes["size"], dtype=float), size_attrs),
        "plant_capacity": (
            "plant_capacity",
            np.asarray(axes["plant_capacity"], dtype=float),
            {"units": "m3 s-1", "long_name": "plant capacity (high-lift pumps scaled to it)"},
        ),
        "transmission_diameter": (
            "transmission_diameter",
            np.asarray(axes["transmission_diameter"], dtype=float),
            {"units": "m", "long_name": "diameter of the source's transmission mains"},
        ),
        "aid_diameter": (
            "aid_diameter",
            np.asarray(axes["aid_diameter"], dtype=float),
            {
                "units": "m",
                "long_name": "mutual-aid mains: 0 as built (normally closed ones closed), else "
                "all open at this diameter",
            },
        ),
        "level": (
            "level",
            np.asarray(axes["level"], dtype=float),
            {"units": "m", "long_name": "reservoir level (NaN: the model's)"},
        ),
    }
    if binding:
        coords["element"] = list(ELEMENTS)
    if main:
        coords["main_node"] = list(settings.main_nodes)
        coords["main_chainage"] = (
            "main_node",
            first["main_chainage"].values,
            {"units": "m", "long_name": "distance along the raw main from the reservoir"},
        )
        coords["main_elevation"] = (
            "main_node",
            first["main_elevation"].values,
            {"units": "m", "long_name": "node elevation (the pipe and the ground in the model)"},
        )
    return build_dataset(
        data,
        coords=coords,
        attrs={
            "source": settings.source,
            "swept": kind,
            "base_scenario": str(loaded.path or ""),
            "hydro_version": __version__,
            "runs": len(by_case),
            "warmup_s": settings.warmup,
            "window_s": settings.window,
            "hydraulic_step_s": settings.step,
            "binding_gain": BINDING_GAIN,
            "as_built": "; ".join(
                f"{k} {v:g} " + ("W" if k == "pump_power" else "m") for k, v in built.items()
            ),
            "costs": "; ".join(f"{k} = {v}" for k, v in settings.costs.model_dump().items()),
            "candidate_sets": "; ".join(
                f"{e}: " + ", ".join(f"{v:g}" for v in ladders[e]) for e in ELEMENTS
            ),
        },
    )


def _costs(grid, by_case, settings: Settings, built: dict, shape) -> dict[str, np.ndarray]:
    """Each option's capital cost (what differs between options: the raw main, whole, and any
    element built larger than it is), its energy and the net present value of both."""
    costs = settings.costs
    capital, power, npv, recoverable = [], [], [], []
    for case in grid:
        raw = case.size if settings.kind == "diameter" else built["raw_main"]
        cost = built["raw_main_length"] * costs.pipe(raw)
        if case.transmission_diameter > built["transmission"] + 1e-9:
            cost += built["transmission_length"] * costs.pipe(case.transmission_diameter)
        if case.aid_diameter > built["interconnection"] + 1e-9:
            cost += built["interconnection_length"] * costs.pipe(case.aid_diameter)
        design = settings.design_capacity
        if case.plant_capacity > design + 1e-9:
            added = case.plant_capacity / design - 1
            cost += (case.plant_capacity - design) * DAY * costs.plant_per_m3d
            cost += costs.pump_capital(built["pump_power"] * added / 1000)
        summary = by_case[case]
        watts = float(summary["pumping"].values[0])
        energy_cost = watts * DAY * YEAR / KWH * costs.energy_tariff
        capital.append(cost)
        power.append(watts)
        npv.append(cost + costs.annuity() * energy_cost)
        recoverable.append(float(summary["recoverable"].values[0]))
    return {
        "study_capital_cost": np.reshape(capital, shape),
        "study_pumping_power": np.reshape(power, shape),
        "study_source_pumping_power": np.reshape(
            [float(by_case[c]["source_pumping"].values[0]) for c in grid], shape
        ),
        "study_present_cost": np.reshape(npv, shape),
        "study_recoverable_power": np.reshape(recoverable, shape),
    }


def _what_could_go_wrong(grid, by_case, settings: Settings, built: dict, shape) -> dict:
    """Per case: a break on the raw main (with line valves and without), what the city is not
    served while it is repaired (when the grid has the case with the source out too), and the
    surge screening of stopping the main's flow (:mod:`hydro.supply.surge`)."""
    params = settings.reliability
    length = built["raw_main_length"]
    names = (
        "study_break_outage_time",
        "study_break_outage_time_unvalved",
        "study_break_drained_volume",
        "study_break_refill_time",
        "study_break_unserved_volume",
        "study_surge_head",
        "study_surge_head_closure",
        "study_surge_max_pressure",
        "study_surge_min_pressure",
        "study_pressure_class",
        "study_pressure_class_closure",
        "study_column_separation",
    )
    out = {name: np.full(len(grid), np.nan) for name in names}
    nodes = _pipe_nodes(settings)
    for k, case in enumerate(grid):
        diameter = case.size if settings.kind == "diameter" else built["raw_main"]
        valved = break_outage(length, diameter, params)
        out["study_break_outage_time"][k] = valved["outage_time"]
        out["study_break_drained_volume"][k] = valved["drained_volume"]
        out["study_break_refill_time"][k] = valved["refill_time"]
        out["study_break_outage_time_unvalved"][k] = break_outage(
            length, diameter, params, valved=False
        )["outage_time"]
        lost = replace(case, outage=tuple(sorted({*case.outage, settings.source})))
        match = next((c for c in grid if _same(c, lost)), None)
        if match is not None:
            short = float(by_case[match]["demand"].values[0] - by_case[match]["served"].values[0])
            out["study_break_unserved_volume"][k] = short * valved["outage_time"]
        summary = by_case[case]
        if nodes is None or "main_head" not in summary:
            continue
        flow = float(summary["main_flow"].values[0])
        rise, closure = surge_head(flow, diameter, length, params)
        screen = screen_profile(
            summary["main_head"].values[nodes], summary["main_elevation"].values[nodes], rise
        )
        out["study_surge_head"][k], out["study_surge_head_closure"][k] = rise, closure
        out["study_surge_max_pressure"][k] = screen["max_pressure"]
        out["study_surge_min_pressure"][k] = screen["min_pressure"]
        out["study_pressure_class"][k] = screen["pressure_class"]
        out["study_pressure_class_closure"][k] = screen_profile(
            summary["main_head"].values[nodes], summary["main_elevation"].values[nodes], closure
        )["pressure_class"]
        out["study_column_separation"][k] = screen["column_separation"]
    result = {name: values.reshape(shape) for name, values in out.items()}
    result["study_column_separation"] = np.nan_to_num(result["study_column_separation"]).astype(
        np.int8
    )
    return result


def _same(a: Case, b: Case) -> bool:
    """Cases equal, the outage as a set and NaN levels alike."""
    return (
        set(a.outage) == set(b.outage)
        and (a.size, a.plant_capacity, a.transmission_diameter, a.aid_diameter)
        == (b.size, b.plant_capacity, b.transmission_diameter, b.aid_diameter)
        and (a.level == b.level or (np.isnan(a.level) and np.isnan(b.level)))
    )


def _pipe_nodes(settings: Settings) -> slice | None:
    """The main's nodes on the pipe: after the reservoir, up to the valve's upstream side
    (or up to the clear well)."""
    if len(settings.main_nodes) < 3:
        return None
    if settings.valve in settings.main_links:
        return slice(1, settings.main_links.index(settings.valve) + 1)
    return slice(1, len(settings.main_nodes) - 1)


def _binding(gains: np.ndarray, served: float, demand: float) -> str:
    """The element whose upgrade serves most, if that is more than BINDING_GAIN of demand."""
    if demand - served <= BINDING_GAIN * demand:
        return "none: demand met"
    if np.isnan(gains).all():
        return "none of the candidates (all at their largest)"
    j = int(np.nanargmax(gains))
    if gains[j] <= BINDING_GAIN * demand:
        return "none of the candidates (no upgrade serves 0.2 % more)"
    return ELEMENTS[j]


def study_table(study: xr.Dataset) -> list[dict]:
    """One row per case, in plain units (m3/d, %), for printing or CSV."""
    kind = study.attrs["swept"]
    rows = []
    dims = list(study["study_delivered_flow"].dims)
    for values in itertools.product(*(study[d].values for d in dims)):
        case = study.sel(dict(zip(dims, values, strict=True)))
        at = dict(zip(dims, values, strict=True))
        size, level = at["size"], at["level"]
        row = {
            "rivers out": str(at["outage"]),
            kind: f"DN{size * 1000:.0f}" if kind == "diameter" else f"{size * DAY:,.0f} m3/d",
        }
        if study.sizes["plant_capacity"] > 1:
            row["plant (m3/d)"] = f"{at['plant_capacity'] * DAY:,.0f}"
        if study.sizes["transmission_diameter"] > 1:
            row["mains"] = f"DN{at['transmission_diameter'] * 1000:.0f}"
        if study.sizes["aid_diameter"] > 1:
            aid = at["aid_diameter"]
            row["mutual aid"] = "as built" if not aid else f"open DN{aid * 1000:.0f}"
        if study.sizes["level"] > 1 or not np.isnan(level):
            row["level (m)"] = "model" if np.isnan(level) else f"{level:g}"
        row.update(
            {
                "delivered (m3/d)": f"{float(case['study_delivered_flow']) * DAY:,.0f}",
                "served (m3/d)": f"{float(case['study_served_flow']) * DAY:,.0f}",
                "unserved": f"{float(case['study_unserved_fraction']):.1%}",
                "compliance": f"{float(case['study_compliance']):.1%}",
                "worst hour": f"{float(case['study_worst_compliance']):.1%}",
            }
        )
        years = study.attrs.get("costs", "").split("years = ")[-1].split(";")[0]
        row.update(
            {
                "capital (M CNY)": f"{float(case['study_capital_cost']) / 1e6:,.0f}",
                f"present cost {years} y (M CNY)": f"{float(case['study_present_cost']) / 1e6:,.0f}",
                "pumping (MWh/d)": f"{float(case['study_pumping_power']) * DAY / KWH / 1000:,.1f}",
                "valve burns (m)": _number(float(case["study_valve_head"]), "{:.0f}"),
                "break out (d)": _number(float(case["study_break_outage_time"]) / DAY, "{:.1f}"),
                "PN sudden/closing (MPa)": _number(float(case["study_pressure_class"]), "{:g}")
                + "/"
                + _number(float(case["study_pressure_class_closure"]), "{:g}"),
            }
        )
        if "study_binding" in study:
            binding = str(case["study_binding"].values)
            if binding in ELEMENTS:
                gain = float(case["study_upgrade_gain"].sel(element=binding)) * DAY
                binding = f"{ELEMENT_LABELS[binding]} (+{gain:,.0f} m3/d)"
            row["binds"] = binding
        row["converged"] = "yes" if int(case["study_converged"]) else "NO"
        rows.append(row)
    return rows


def _number(value: float, form: str) -> str:
    return form.format(value) if np.isfinite(value) else "-"
