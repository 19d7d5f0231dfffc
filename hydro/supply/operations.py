"""Supply scenario operations: each turns a TOML table into edits of an open EPANET project.

An operation is a strict pydantic model registered with ``@operation("supply")``. Its
:meth:`edits` checks every name against the model (unknown names raise a ScenarioError that says
which exist and which is closest) and returns small functions that change the open project; the
model file is never written. Times are seconds from the start of the run; a window is
``start <= t < end``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hydro.errors import ScenarioError, suggest
from hydro.scenario.schema import Duration, Flow, Length, Strict, check_name, clock, operation
from hydro.supply.assets import RENEWAL_CLASSES, Source, SupplyAssets
from hydro.supply.epanet import EpanetProject, LinkProperty, LinkType, NodeProperty
from hydro.supply.inp import Elements

Edit = Callable[[EpanetProject], None]


@dataclass(frozen=True)
class Context:
    """What operations check their names and windows against."""

    assets: SupplyAssets
    elements: Elements
    duration: int
    where: str = ""  # "scenario.toml: operations[2]: " for messages

    @property
    def links(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.elements.link_ids)}

    @property
    def nodes(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.elements.node_ids)}

    def link(self, name: str, kind: str = "link") -> int:
        links = self.links
        check_name(kind, name, links, where=self.where)
        return links[name]

    def fail(self, message: str) -> ScenarioError:
        return ScenarioError(f"{self.where}{message}")


class Window(Strict):
    """Optional time window of an operation: from ``start`` to ``end`` (default: the whole run)."""

    start: Duration = 0
    end: Duration | None = None

    def check_window(self, ctx: Context) -> None:
        if self.start >= ctx.duration and ctx.duration > 0:
            raise ctx.fail(
                f"the window starts at {clock(self.start)}, after the simulation ends "
                f"({clock(ctx.duration)})"
            )
        if self.end is not None and self.end <= self.start:
            raise ctx.fail(
                f"the window ends ({clock(self.end)}) before it starts ({clock(self.start)})"
            )
        if self.end is not None and self.end > ctx.duration:
            raise ctx.fail(
                f"the window ends at {clock(self.end)}, after the simulation ends "
                f"({clock(ctx.duration)}); shorten it or lengthen [time] duration"
            )

    @property
    def whole_run(self) -> bool:
        return self.start == 0 and self.end is None


def hold(links: Sequence[int], *, closed: bool, window: Window) -> Edit:
    """An edit holding links closed (or open) over a window; the whole run sets initial status."""

    def edit(project: EpanetProject) -> None:
        for link in links:
            if window.whole_run:
                project.set_link_value(link, LinkProperty.INITSTATUS, 0.0 if closed else 1.0)
            project.force_status(link, closed=closed, start=window.start, end=window.end)

    return edit


# ------------------------------------------------------------------------------------------------
# Sources


def source_of(ctx: Context, name: str) -> Source:
    names = [s.name for s in ctx.assets.sources]
    check_name("source", name, names, where=ctx.where)
    return ctx.assets.source(name)


def outage_links(ctx: Context, source: Source, scope: str) -> list[str]:
    """The links that stop a source: its raw water (intake, raw main) or its whole plant."""
    raw = [
        *source.intake_pumps,
        *source.raw_booster_pumps,
        *source.raw_main[:1],
        *source.isolation_links,
    ]
    if not raw:  # a bare reservoir (inferred assets): every link touching it
        node = ctx.nodes[source.reservoir]
        e = ctx.elements
        raw = [e.link_ids[i] for i in np.flatnonzero((e.link_start == node) | (e.link_end == node))]
    if scope == "plant":
        raw += [*source.high_lift_pumps, *source.transmission_mains]
    return list(dict.fromkeys(raw))


@operation("supply")
class SourceOutage(Window):
    """A source lost: its raw water stops (the plant's clear well still drains), or its plant."""

    type: Literal["source_outage"] = "source_outage"
    source: str
    scope: Literal["raw_water", "plant"] = "raw_water"

    def edits(self, ctx: Context) -> list[Edit]:
        self.check_window(ctx)
        source = source_of(ctx, self.source)
        links = [ctx.link(name) for name in outage_links(ctx, source, self.scope)]
        return [hold(links, closed=True, window=self)]


IN_SERVICE_LEVEL = 0.8  # (A) an opened plant's clear well starts at this share of its depth


@operation("supply")
class SourcePipeline(Strict):
    """Open (or close) a source's raw-water pipeline, size it, cap its flow, set the reservoir.

    Made for the Gangkouwan main: its isolation links are closed in the model; opening them and
    giving its flow-control valve a setting brings the third source in. ``flow_cap = "none"``
    opens the valve wide, so that the pipe alone limits the flow. An opened source is in service
    from the start: its clear well starts at 80 % of its depth, as a plant brought into service
    does, not at the closed plant's standby level (its level-switched pumps would wait for the
    well to fill while the city goes short).
    """

    type: Literal["gangkouwan_pipeline"] = "gangkouwan_pipeline"
    source: str = "gangkouwan"
    open: bool = True
    diameter: Length | None = Field(default=None, gt=0, le=10, description="m, at most 10 m")
    flow_cap: Flow | Literal["none"] | None = None  # "none": the valve wide open, no cap
    reservoir_level: Length | None = Field(default=None, ge=-500, le=9000, description="m")

    def edits(self, ctx: Context) -> list[Edit]:
        source = source_of(ctx, self.source)
        if not source.raw_main and self.diameter is not None:
            raise ctx.fail(f"source {source.name!r} has no raw-water main to resize")
        if isinstance(self.flow_cap, float) and self.flow_cap < 0:
            raise ctx.fail(f"flow_cap must be positive (got {self.flow_cap} m3/s)")
        if self.flow_cap is not None and not source.flow_control_valve:
            raise ctx.fail(f"source {source.name!r} has no flow-control valve to cap its flow")
        gates = [ctx.link(n) for n in source.isolation_links]
        mains = [ctx.link(n) for n in source.raw_main]
        valve = ctx.link(source.flow_control_valve) if source.flow_control_valve else None
        reservoir = ctx.nodes[source.reservoir]
        diameter, cap, level, opened = self.diameter, self.flow_cap, self.reservoir_level, self.open
        well = (
            ctx.nodes[source.clear_well] if source.clear_well and not source.default_open else None
        )

        def edit(project: EpanetProject) -> None:
            for link in gates:
                project.set_link_value(link, LinkProperty.INITSTATUS, 1.0 if opened else 0.0)
            if opened and well is not None:
                top = project.node_value(well, NodeProperty.MAXLEVEL)
                project.set_node_value(well, NodeProperty.TANKLEVEL, IN_SERVICE_LEVEL * top)
            if diameter is not None:
                for link in mains:
                    project.set_link_value(link, LinkProperty.DIAMETER, diameter)
            if valve is not None and cap == "none":
                # Fully open: a valve asked for more than the pipe can carry keeps switching
                # between open and active, and EPANET spends its trials on that.
                project.set_link_value(valve, LinkProperty.INITSTATUS, 1.0)
            elif valve is not None and isinstance(cap, float):
                project.set_link_value(valve, LinkProperty.INITSETTING, cap)
            if level is not None:
                project.set_node_value(reservoir, NodeProperty.ELEVATION, level)

        return [edit]


# ------------------------------------------------------------------------------------------------
# Demand


@operation("supply")
class DemandGrowth(Strict):
    """All consumer demand scaled by a factor, or by the model's multiplier for a planning year."""

    type: Literal["demand_growth"] = "demand_growth"
    factor: float | None = Field(default=None, gt=0, le=10, description="at most 10x")
    year: int | None = Field(default=None, ge=1900, le=2200)

    @model_validator(mode="after")
    def _one_of(self) -> DemandGrowth:
        if (self.factor is None) == (self.year is None):
            raise ValueError("give either factor (e.g. 1.25) or year (e.g. 2030), not both")
        return self

    def multiplier(self, ctx: Context) -> float:
        if self.factor is not None:
            return self.factor
        table = dict(sorted(ctx.assets.demand_growth.items()))
        if not table:
            raise ctx.fail("this model has no demand-growth table; give a factor instead of a year")
        years = list(table)
        if self.year is None or not years[0] <= self.year <= years[-1]:
            raise ctx.fail(
                f"no demand growth known for {self.year}: the model's table covers "
                f"{years[0]}-{years[-1]} ({', '.join(map(str, years))})"
            )
        return float(np.interp(self.year, years, list(table.values())))

    def edits(self, ctx: Context) -> list[Edit]:
        factor = self.multiplier(ctx)
        return [lambda project: project.set_demand_multiplier(factor)]


# ------------------------------------------------------------------------------------------------
# Network links


@operation("supply")
class InterconnectionOp(Window):
    """Open or close the valves of zone interconnections (互济通道): by name, or all of them."""

    type: Literal["interconnection"] = "interconnection"
    name: str | list[str] = "all"
    open: bool

    def edits(self, ctx: Context) -> list[Edit]:
        self.check_window(ctx)
        known = [c.name for c in ctx.assets.interconnections]
        if not known:
            raise ctx.fail("this model has no interconnections (none in its assets sidecar)")
        names = (
            known
            if self.name == "all"
            else ([self.name] if isinstance(self.name, str) else self.name)
        )
        links = []
        for name in names:
            check_name("interconnection", name, known, where=ctx.where)
            conn = ctx.assets.interconnection(name)
            links += [ctx.link(n) for n in (conn.valves or conn.pipes)]
        return [hold(links, closed=not self.open, window=self)]


@operation("supply")
class PipeRenewal(Strict):
    """Renewed pipes get a new Hazen-Williams C, and the leakage at their nodes falls."""

    type: Literal["pipe_renewal"] = "pipe_renewal"
    renewal_class: Literal["backward_material", "aged", "all"] | None = "all"
    pipes: list[str] | None = None
    c_factor: float | None = Field(default=None, gt=0, le=160)
    leakage_reduction: float = Field(default=0.5, ge=0, le=1)

    def renewed(self, ctx: Context) -> list[str]:
        if self.pipes is not None:
            for name in self.pipes:
                ctx.link(name, "pipe")
            return list(self.pipes)
        classes = (
            [c for c in RENEWAL_CLASSES if c != "none"]
            if self.renewal_class == "all"
            else [self.renewal_class]
            if self.renewal_class
            else []
        )
        names = [p for c in classes for p in ctx.assets.renewal_pipes(c)]
        if not names:
            raise ctx.fail("no pipes are tagged for renewal in this model; list them in `pipes`")
        return names

    def edits(self, ctx: Context) -> list[Edit]:
        renewal = ctx.assets.renewal
        c_factor = self.c_factor or (renewal.c_factor if renewal else 130.0)
        links = np.array([ctx.link(n, "pipe") for n in self.renewed(ctx)], dtype=np.int64)
        reduction = self.leakage_reduction

        def edit(project: EpanetProject) -> None:
            for link in links:
                project.set_link_value(int(link), LinkProperty.ROUGHNESS, c_factor)
            if reduction > 0:
                _reduce_leakage(project, links, reduction)

        return [edit]


def _reduce_leakage(project: EpanetProject, renewed: np.ndarray, reduction: float) -> None:
    """Scale each node's emitter by 1 - reduction x (renewed share of its adjacent pipe length)."""
    length = project.link_values(LinkProperty.LENGTH)
    start, end = project.link_nodes()
    total = np.bincount(start, length, len(project.node_ids)) + np.bincount(
        end, length, len(project.node_ids)
    )
    new = np.zeros_like(length)
    new[renewed] = length[renewed]
    part = np.bincount(start, new, len(project.node_ids)) + np.bincount(
        end, new, len(project.node_ids)
    )
    share = np.divide(part, total, out=np.zeros_like(part), where=total > 0)
    emitter = project.node_values(NodeProperty.EMITTER)
    for node in np.flatnonzero((share > 0) & (emitter > 0)):
        project.set_node_value(
            int(node), NodeProperty.EMITTER, emitter[node] * (1 - reduction * share[node])
        )


@operation("supply")
class PumpOutage(Window):
    """Pumps out of service: named pumps, or all pumps of a source's plant."""

    type: Literal["pump_outage"] = "pump_outage"
    pumps: list[str] | None = None
    station: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> PumpOutage:
        if (self.pumps is None) == (self.station is None):
            raise ValueError("give either pumps (a list of pump IDs) or station (a source name)")
        return self

    def edits(self, ctx: Context) -> list[Edit]:
        self.check_window(ctx)
        if self.station is not None:
            source = source_of(ctx, self.station)
            names = list(source.high_lift_pumps)
        else:
            names = list(self.pumps or [])
        pumps = list(np.flatnonzero(ctx.elements.link_types == LinkType.PUMP))
        known = [ctx.elements.link_ids[i] for i in pumps]
        for name in names:
            check_name("pump", name, known, where=ctx.where)
        return [hold([ctx.links[n] for n in names], closed=True, window=self)]


@operation("supply")
class PumpSchedule(Strict):
    """Pumps put on another speed schedule for the whole run: a time pattern of the model (their
    relative speed each pattern period; 0 stops them), or ``standby`` (held closed).

    This is how a scenario states a dispatch plan, e.g. the Xuancheng model's three-source
    dispatch: Shuiyang's duty pumps on SPD-SY-GK, its third pump on standby.
    """

    type: Literal["pump_schedule"] = "pump_schedule"
    pumps: list[str] = Field(min_length=1)
    speed_pattern: str

    def edits(self, ctx: Context) -> list[Edit]:
        known = [
            ctx.elements.link_ids[i]
            for i in np.flatnonzero(ctx.elements.link_types == LinkType.PUMP)
        ]
        for name in self.pumps:
            check_name("pump", name, known, where=ctx.where)
        links = [ctx.links[n] for n in self.pumps]
        pattern, where = self.speed_pattern, ctx.where

        def edit(project: EpanetProject) -> None:
            if pattern == "standby":
                for link in links:
                    project.force_status(link, closed=True)
                return
            index = project.pattern_index(pattern)
            if not index:
                raise ScenarioError(
                    f"{where}speed_pattern {pattern!r} is not a time pattern of the model; "
                    f"{suggest(pattern, project.pattern_ids())}"
                )
            for link in links:
                project.set_link_value(link, LinkProperty.LINKPATTERN, float(index))
                project.set_link_value(link, LinkProperty.INITSTATUS, 1.0)

        return [edit]


@operation("supply")
class BoosterOutage(Window):
    """A secondary-supply (二次供水) booster station stops: all its pumps are off."""

    type: Literal["booster_outage"] = "booster_outage"
    station: str

    def edits(self, ctx: Context) -> list[Edit]:
        self.check_window(ctx)
        check_name(
            "booster station", self.station, [b.name for b in ctx.assets.boosters], where=ctx.where
        )
        pumps = [ctx.link(p, "pump") for p in ctx.assets.booster(self.station).pumps]
        return [hold(pumps, closed=True, window=self)]


@operation("supply")
class PipeBreak(Window):
    """A pipe breaks and is isolated: the pipe alone, or its valve-bounded segment."""

    type: Literal["pipe_break"] = "pipe_break"
    pipe: str
    isolate: Literal["pipe", "segment"] = "pipe"

    def edits(self, ctx: Context) -> list[Edit]:
        self.check_window(ctx)
        link = ctx.link(self.pipe, "pipe")
        if ctx.elements.link_types[link] not in (LinkType.PIPE, LinkType.CVPIPE):
            raise ctx.fail(
                f"{self.pipe!r} is a {LinkType(ctx.elements.link_types[link]).name} "
                "link, not a pipe"
            )
        links = segment(ctx.elements, link) if self.isolate == "segment" else [link]
        return [hold(links, closed=True, window=self)]


def segment(elements: Elements, link: int) -> list[int]:
    """The pipes reachable from ``link`` through junctions without crossing a valve, a pump, a tank
    or a reservoir: what must be shut to isolate a break when only modelled valves can close."""
    is_pipe = np.isin(elements.link_types, (LinkType.PIPE, LinkType.CVPIPE))
    # A node where a valve or pump ends bounds the segment, as do tanks and reservoirs.
    bound = elements.node_types != 0
    bound[elements.link_start[~is_pipe]] = True
    bound[elements.link_end[~is_pipe]] = True
    by_node: dict[int, list[int]] = {}
    for i in np.flatnonzero(is_pipe):
        by_node.setdefault(int(elements.link_start[i]), []).append(int(i))
        by_node.setdefault(int(elements.link_end[i]), []).append(int(i))
    seen, stack = {link}, [link]
    while stack:
        current = stack.pop()
        for node in (elements.link_start[current], elements.link_end[current]):
            if bound[node]:
                continue
            for nxt in by_node.get(int(node), []):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return sorted(seen)


# ------------------------------------------------------------------------------------------------
# Capital works: what a planner can build


@operation("supply")
class PipeDiameter(Strict):
    """Pipes (or valves) laid again at another diameter, e.g. a source's transmission mains or a
    mutual-aid main enlarged; their roughness and length are kept."""

    type: Literal["pipe_diameter"] = "pipe_diameter"
    pipes: list[str] = Field(min_length=1)
    diameter: Length = Field(gt=0)

    def edits(self, ctx: Context) -> list[Edit]:
        links = []
        for name in self.pipes:
            link = ctx.link(name, "pipe")
            if ctx.elements.link_types[link] == LinkType.PUMP:
                raise ctx.fail(f"{name!r} is a pump, which has no diameter")
            links.append(link)
        diameter = self.diameter

        def edit(project: EpanetProject) -> None:
            for link in links:
                project.set_link_value(link, LinkProperty.DIAMETER, diameter)

        return [edit]


@operation("supply")
class PlantCapacity(Strict):
    """A source's plant built for another capacity: its high-lift pumps scaled to it (the same
    kind of pump, flows times capacity / the design capacity in the model's assets) and, where
    the source has a flow-control valve on its raw water, the valve set to the new capacity
    (the plant treats no more than it is built for)."""

    type: Literal["plant_capacity"] = "plant_capacity"
    source: str = "gangkouwan"
    capacity: Flow = Field(gt=0)
    cap_raw_water: bool = True

    def edits(self, ctx: Context) -> list[Edit]:
        source = source_of(ctx, self.source)
        if not source.capacity:
            raise ctx.fail(f"source {source.name!r} has no design capacity in the model's assets")
        if not source.high_lift_pumps:
            raise ctx.fail(f"source {source.name!r} has no high-lift pumps to scale")
        pumps = [ctx.link(name, "pump") for name in source.high_lift_pumps]
        valve = (
            ctx.link(source.flow_control_valve)
            if source.flow_control_valve and self.cap_raw_water
            else None
        )
        factor, capacity = self.capacity / source.capacity, self.capacity

        def edit(project: EpanetProject) -> None:
            if abs(factor - 1) > 1e-9:
                project.scale_pump_flows(pumps, factor)
            if valve is not None:
                project.set_link_value(valve, LinkProperty.INITSETTING, capacity)

        return [edit]
