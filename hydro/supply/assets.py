"""Named assets of a water-supply model: sources, zones, interconnections, booster stations.

Scenarios speak of a model's parts by name: close the Qingyi source, open the northern
interconnection, renew the aged pipes, stop booster station BS07. :func:`load_assets` gives them
those names for any EPANET model:

- With sidecars beside the INP (``<stem>_assets.toml``, ``<stem>_nodes.csv``,
  ``<stem>_pipes.csv``, as :mod:`hydro.synth.supply` writes for the bundled Xuancheng model), the
  names, zones, node attributes (zone, land use, population) and pipe attributes (material,
  install year, Hazen-Williams C, 2024 renewal class) come from them, checked against the INP.
- Without them, sensible defaults are inferred from the INP alone: every reservoir is a source
  (its intake pumps are the pumps leaving it); zones come from ``[TAGS]`` node tags, or there is
  one zone ``all``; every pump (or group of parallel pumps) whose suction side is a tank or a
  junction is a booster station; there is no population; a pipe's C is its H-W roughness and its
  renewal class is its ``[TAGS]`` link tag when that is ``backward_material`` or ``aged``.

Each sidecar is optional on its own; :attr:`SupplyAssets.inferred` says which parts were inferred.
A malformed sidecar raises :class:`~hydro.errors.InputError` naming the file, the entry and what was
expected. Units are SI (m, m3/s).
"""

from __future__ import annotations

import csv
import functools
import io
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hydro.errors import InputError, ScenarioError, suggest
from hydro.supply.epanet import LinkType

if TYPE_CHECKING:
    from hydro.supply.network import SupplyNetwork

SIDECARS = {"assets": "_assets.toml", "nodes": "_nodes.csv", "pipes": "_pipes.csv"}
LAND_USES = ("residential", "commercial", "industrial")
RENEWAL_CLASSES = ("backward_material", "aged", "none")
ALL_ZONE = "all"


def sidecar_paths(inp_path: str | Path) -> dict[str, Path]:
    """Where the sidecars of ``inp_path`` live: {'assets': .toml, 'nodes': .csv, 'pipes': .csv}."""
    inp_path = Path(inp_path)
    return {kind: inp_path.with_name(inp_path.stem + suffix) for kind, suffix in SIDECARS.items()}


def model_crs(inp_path: str | Path) -> str | None:
    """The CRS the assets sidecar declares (``[model] crs``), or None: none is ever invented."""
    path = sidecar_paths(inp_path)["assets"]
    if not path.is_file():
        return None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # load_assets says what is wrong with the file when the assets are needed
    crs = doc.get("model", {}).get("crs") if isinstance(doc.get("model"), dict) else None
    if not crs:
        return None
    from hydro.results import parse_crs

    parse_crs(str(crs), f"{path}: [model] crs")
    return str(crs)


# ------------------------------------------------------------------------------------------------
# What load_assets returns


@dataclass(frozen=True)
class Source:
    """A raw-water source and the works that bring its water into the network."""

    name: str
    name_zh: str
    reservoir: str  # the raw-water body (EPANET reservoir)
    clear_well: str | None  # the plant's clear-water well (tank)
    intake_pumps: tuple[str, ...]  # intake or raw-water lift pumps
    raw_booster_pumps: tuple[str, ...]  # booster pumps along the raw-water main
    high_lift_pumps: tuple[str, ...]  # plant pumps into the network (duty and standby)
    standby_pumps: tuple[str, ...]  # the high-lift pumps closed in normal operation
    raw_main: tuple[str, ...]  # raw-water main pipes
    transmission_mains: tuple[str, ...]
    isolation_links: tuple[str, ...]  # closed while the source is out of service
    flow_control_valve: str | None  # FCV whose setting caps the source's flow
    default_open: bool
    capacity: float | None  # m3/s, plant design output
    zones: tuple[str, ...]  # zones its transmission mains enter
    flow_cap: float | None = None  # m3/s, the flow-control valve's setting in the INP
    level_range: tuple[float, float] | None = None  # m, reservoir operating levels

    @property
    def pumps(self) -> tuple[str, ...]:
        return self.intake_pumps + self.raw_booster_pumps + self.high_lift_pumps


@dataclass(frozen=True)
class Zone:
    name: str
    name_zh: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Interconnection:
    """A mutual-aid main between two zones (互济通道), opened or closed by its valves."""

    name: str
    name_zh: str
    valves: tuple[str, ...]
    pipes: tuple[str, ...]
    zones: tuple[str, str]
    default_open: bool

    @property
    def links(self) -> tuple[str, ...]:
        return self.valves + self.pipes


@dataclass(frozen=True)
class BoosterStation:
    """A secondary-supply (二次供水) booster station: compound tank and pumps."""

    name: str
    zone: str | None
    pumps: tuple[str, ...]  # duty and standby
    standby_pumps: tuple[str, ...]
    tank: str | None
    inlet: tuple[str, ...]  # links filling the tank from the network
    supply_node: str | None  # network junction the station draws from
    served_nodes: tuple[str, ...]
    population: int | None


@dataclass(frozen=True)
class NodeInfo:
    zone: str  # "" when the node belongs to no zone (raw-water works)
    land_use: str | None
    population: int | None


@dataclass(frozen=True)
class PipeInfo:
    material: str | None
    install_year: int | None
    c_factor: float | None  # Hazen-Williams C
    renewal_class: str  # backward_material | aged | none


@dataclass(frozen=True)
class Renewal:
    """The pipe-renewal programme the renewal classes belong to."""

    year: int
    material: str
    c_factor: float
    length_km: Mapping[str, float]


@dataclass(frozen=True)
class SupplyAssets:
    """Everything scenarios need to name in one EPANET model (read-only)."""

    inp_path: Path
    sources: tuple[Source, ...]
    zones: tuple[Zone, ...]
    interconnections: tuple[Interconnection, ...]
    boosters: tuple[BoosterStation, ...]
    patterns: Mapping[str, str]  # land use -> demand pattern id
    demand_growth: Mapping[int, float]  # year -> demand multiplier relative to the base year
    population: int | None
    nodes: Mapping[str, NodeInfo]
    pipes: Mapping[str, PipeInfo]
    renewal: Renewal | None
    inferred: tuple[str, ...] = field(default=())  # which of assets, nodes, pipes were inferred

    def source(self, name: str) -> Source:
        return self._find("source", name, self.sources)

    def zone(self, name: str) -> Zone:
        return self._find("zone", name, self.zones)

    def interconnection(self, name: str) -> Interconnection:
        return self._find("interconnection", name, self.interconnections)

    def booster(self, name: str) -> BoosterStation:
        return self._find("booster station", name, self.boosters)

    def renewal_pipes(self, renewal_class: str) -> tuple[str, ...]:
        """The pipes of one renewal class, in the pipe table's order."""
        if renewal_class not in RENEWAL_CLASSES:
            raise ScenarioError(
                f"unknown renewal class {renewal_class!r}; "
                f"{suggest(renewal_class, RENEWAL_CLASSES)}"
            )
        return tuple(p for p, info in self.pipes.items() if info.renewal_class == renewal_class)

    def _find(self, what: str, name: str, items):
        for item in items:
            if item.name == name:
                return item
        raise ScenarioError(
            f"{self.inp_path}: no {what} named {name!r} in this model; "
            f"{suggest(name, [i.name for i in items])}"
        )


# ------------------------------------------------------------------------------------------------
# The INP, as far as the assets need it


@dataclass(frozen=True)
class InpIndex:
    """Element ids (file order), link ends, tags and the headloss formula of an EPANET model."""

    junctions: tuple[str, ...]
    reservoirs: tuple[str, ...]
    tanks: tuple[str, ...]
    pipes: Mapping[str, tuple[str, str, float]]  # id -> (start, end, roughness)
    pumps: Mapping[str, tuple[str, str]]  # id -> (start, end)
    valves: Mapping[str, tuple[str, str]]  # id -> (start, end)
    node_tags: Mapping[str, str]
    link_tags: Mapping[str, str]
    headloss: str

    @functools.cached_property
    def nodes(self) -> frozenset[str]:
        return frozenset({*self.junctions, *self.reservoirs, *self.tanks})

    @functools.cached_property
    def links(self) -> frozenset[str]:
        return frozenset({*self.pipes, *self.pumps, *self.valves})


_NODE_SECTIONS = ("JUNCTIONS", "RESERVOIRS", "TANKS")  # by EPANET node type code
_LINK_SECTIONS = {LinkType.CVPIPE: "PIPES", LinkType.PIPE: "PIPES", LinkType.PUMP: "PUMPS"}


def read_inp_index(model: str | Path | SupplyNetwork) -> InpIndex:
    """Element ids, link ends, tags and the headloss formula of an EPANET model.

    The elements are the network's (:func:`hydro.supply.inp.read_elements`, the engine's own
    order); duplicate ids and links to undefined nodes raise InputError naming the file and the
    element.
    """
    from hydro.supply.network import load_network

    network = load_network(model)
    path = network.path
    e = network.elements
    if not e.node_ids:
        raise InputError(
            f"{path}: not an EPANET input file (no [JUNCTIONS], [RESERVOIRS] or [TANKS] rows)"
        )
    node_sections = [_NODE_SECTIONS[t] for t in e.node_types.tolist()]
    link_sections = [_LINK_SECTIONS.get(t, "VALVES") for t in e.link_types.tolist()]
    _check_unique(path, e.node_ids, node_sections, "node")
    _check_unique(path, e.link_ids, link_sections, "link")
    undefined = (e.link_start < 0) | (e.link_end < 0)
    if undefined.any():
        link = e.link_ids[int(undefined.argmax())]
        raise InputError(
            f"{path}: link {link!r} joins a node that no [JUNCTIONS], [RESERVOIRS] "
            "or [TANKS] row defines"
        )
    ends = {
        link: (e.node_ids[a], e.node_ids[b])
        for link, a, b in zip(e.link_ids, e.link_start.tolist(), e.link_end.tolist(), strict=True)
    }
    rows = network.sections
    pipes = {}
    for row in rows["PIPES"]:
        if len(row) < 6:
            raise InputError(
                f"{path}: [PIPES] line for {row[0]!r} has {len(row)} fields, expected at least 6"
            )
        pipes[row[0]] = (*ends[row[0]], _to_float(row[5], path, "PIPES", row[0]))
    by_section: dict[str, dict[str, tuple[str, str]]] = {"PUMPS": {}, "VALVES": {}}
    for link, section in zip(e.link_ids, link_sections, strict=True):
        if section in by_section:
            by_section[section][link] = ends[link]
    headloss = next(
        (
            row[1].upper()
            for row in rows["OPTIONS"]
            if row[0].upper() == "HEADLOSS" and len(row) > 1
        ),
        "H-W",
    )

    def ids(section: str) -> tuple[str, ...]:
        return tuple(n for n, s in zip(e.node_ids, node_sections, strict=True) if s == section)

    return InpIndex(
        ids("JUNCTIONS"),
        ids("RESERVOIRS"),
        ids("TANKS"),
        pipes,
        by_section["PUMPS"],
        by_section["VALVES"],
        {n: tag for (kind, n), tag in e.tags.items() if kind == "NODE"},
        {n: tag for (kind, n), tag in e.tags.items() if kind != "NODE"},
        headloss,
    )


def _check_unique(path: Path, ids: list[str], sections: list[str], kind: str) -> None:
    seen: dict[str, str] = {}
    for name, section in zip(ids, sections, strict=True):
        if name in seen:
            where_ = (
                f"twice in [{section}]"
                if seen[name] == section
                else f"in both [{seen[name]}] and [{section}]"
            )
            raise InputError(
                f"{path}: {kind} id {name!r} appears {where_}; every {kind} needs its own id"
            )
        seen[name] = section


def _to_float(text: str, path: Path, section: str, element: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}: [{section}] {element}: {text!r} is not a number") from None


# ------------------------------------------------------------------------------------------------
# Loading


def load_assets(model: str | Path | SupplyNetwork) -> SupplyAssets:
    """The named assets of an EPANET model (a path, or a network read once): from its sidecars,
    or inferred."""
    from hydro.supply.network import load_network

    return load_network(model).assets


def assets_of(network: SupplyNetwork) -> SupplyAssets:
    """The named assets of a network read once (what :attr:`SupplyNetwork.assets` holds)."""
    inp_path = network.path
    inp = read_inp_index(network)
    paths = sidecar_paths(inp_path)
    inferred = []
    if paths["nodes"].is_file():
        nodes = _read_nodes(paths["nodes"], inp)
    else:
        nodes = _infer_nodes(inp)
        inferred.append("nodes")
    if paths["pipes"].is_file():
        pipes = _read_pipes(paths["pipes"], inp)
    else:
        pipes = _infer_pipes(inp)
        inferred.append("pipes")
    if paths["assets"].is_file():
        assets = _read_assets(paths["assets"], inp, nodes)
    else:
        assets = _infer_assets(inp, nodes)
        inferred.insert(0, "assets")
    declared = assets["declared_zones"]
    for node, info in nodes.items():
        if (
            declared is not None
            and info.zone
            and info.zone not in declared
            and ("nodes" not in inferred)
        ):
            raise InputError(
                f"{paths['nodes']}: node {node!r} is in zone {info.zone!r}, which "
                f"{paths['assets'].name} does not declare; "
                f"{suggest(info.zone, declared)}"
            )
    population = assets["population"]
    if population is None and any(i.population is not None for i in nodes.values()):
        population = sum(i.population or 0 for i in nodes.values())
    return SupplyAssets(
        inp_path=inp_path,
        sources=assets["sources"],
        zones=assets["zones"],
        interconnections=assets["interconnections"],
        boosters=assets["boosters"],
        patterns=MappingProxyType(assets["patterns"]),
        demand_growth=MappingProxyType(assets["growth"]),
        population=population,
        nodes=MappingProxyType(nodes),
        pipes=MappingProxyType(pipes),
        renewal=assets["renewal"],
        inferred=tuple(inferred),
    )


# --- inference ----------------------------------------------------------------------------------


def _infer_nodes(inp: InpIndex) -> dict[str, NodeInfo]:
    tagged = any(j in inp.node_tags for j in inp.junctions)
    out = {}
    for node in inp.junctions:
        out[node] = NodeInfo(inp.node_tags.get(node, "") if tagged else ALL_ZONE, None, None)
    for node in (*inp.tanks, *inp.reservoirs):
        out[node] = NodeInfo(inp.node_tags.get(node, "") if tagged else "", None, None)
    return out


def _infer_pipes(inp: InpIndex) -> dict[str, PipeInfo]:
    hw = inp.headloss == "H-W"
    out = {}
    for pipe, (_, _, roughness) in inp.pipes.items():
        tag = inp.link_tags.get(pipe, "none")
        out[pipe] = PipeInfo(
            None, None, roughness if hw else None, tag if tag in RENEWAL_CLASSES else "none"
        )
    return out


def _infer_assets(inp: InpIndex, nodes: dict[str, NodeInfo]) -> dict[str, Any]:
    sources = tuple(
        Source(
            name=r,
            name_zh="",
            reservoir=r,
            clear_well=None,
            intake_pumps=tuple(p for p, (a, _) in inp.pumps.items() if a == r),
            raw_booster_pumps=(),
            high_lift_pumps=(),
            standby_pumps=(),
            raw_main=(),
            transmission_mains=(),
            isolation_links=(),
            flow_control_valve=None,
            default_open=True,
            capacity=None,
            zones=(),
        )
        for r in inp.reservoirs
    )
    zones = _zones_from_nodes(nodes, {})
    # Parallel pumps between the same two nodes form one station.
    groups: dict[tuple[str, str], list[str]] = {}
    suction_sides = {*inp.tanks, *inp.junctions}
    for pump, (a, b) in inp.pumps.items():
        if a in suction_sides:
            groups.setdefault((a, b), []).append(pump)
    boosters = tuple(
        BoosterStation(
            name=pumps[0],
            zone=nodes[a].zone or None if a in nodes else None,
            pumps=tuple(pumps),
            standby_pumps=(),
            tank=a if a in inp.tanks else None,
            inlet=(),
            supply_node=None,
            served_nodes=(),
            population=None,
        )
        for (a, _), pumps in groups.items()
    )
    return {
        "sources": sources,
        "zones": zones,
        "interconnections": (),
        "boosters": boosters,
        "patterns": {},
        "growth": {},
        "population": None,
        "renewal": None,
        "declared_zones": None,
    }


def _zones_from_nodes(
    nodes: Mapping[str, NodeInfo], names_zh: Mapping[str, str]
) -> tuple[Zone, ...]:
    members: dict[str, list[str]] = {name: [] for name in names_zh}
    for node, info in nodes.items():
        if info.zone:
            members.setdefault(info.zone, []).append(node)
    order = list(names_zh) + sorted(z for z in members if z not in names_zh)
    return tuple(Zone(z, names_zh.get(z, ""), tuple(members[z])) for z in order)


# --- CSV sidecars -------------------------------------------------------------------------------


def _csv_rows(path: Path, required: tuple[str, ...]):
    """(line number, row dict) of a CSV file that must have the ``required`` columns."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read as UTF-8 text ({err})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; expected a header "
            f"with {', '.join(required)}"
        )
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def _read_nodes(path: Path, inp: InpIndex) -> dict[str, NodeInfo]:
    known = inp.nodes
    out = {}
    for line, row in _csv_rows(path, ("node", "zone", "land_use", "population")):
        node = row["node"]
        if node not in known:
            raise InputError(
                f"{path}: line {line}: node {node!r} is not in {_inp_name(path)}; "
                f"{suggest(node, known)}"
            )
        land_use = row["land_use"] or None
        if land_use is not None and land_use not in LAND_USES:
            raise InputError(
                f"{path}: line {line}: node {node!r} has land use {land_use!r}; "
                f"expected one of {', '.join(LAND_USES)} or empty"
            )
        out[node] = NodeInfo(
            row["zone"], land_use, _int_or_none(row["population"], path, line, "population", low=0)
        )
    return out


def _read_pipes(path: Path, inp: InpIndex) -> dict[str, PipeInfo]:
    out = {}
    for line, row in _csv_rows(
        path, ("pipe", "material", "install_year", "c_factor", "renewal_class")
    ):
        pipe = row["pipe"]
        if pipe not in inp.pipes:
            raise InputError(
                f"{path}: line {line}: pipe {pipe!r} is not a pipe of "
                f"{_inp_name(path)}; {suggest(pipe, inp.pipes)}"
            )
        renewal = row["renewal_class"] or "none"
        if renewal not in RENEWAL_CLASSES:
            raise InputError(
                f"{path}: line {line}: pipe {pipe!r} has renewal class "
                f"{renewal!r}; expected one of {', '.join(RENEWAL_CLASSES)}"
            )
        year = _int_or_none(row["install_year"], path, line, "install_year", low=1800, high=2200)
        c = row["c_factor"]
        try:
            c_factor = float(c) if c else None
        except ValueError:
            c_factor = -1.0
        if c_factor is not None and not c_factor > 0:
            raise InputError(
                f"{path}: line {line}: pipe {pipe!r} has c_factor {c!r}; expected "
                "a positive number (Hazen-Williams C) or empty"
            )
        out[pipe] = PipeInfo(row["material"] or None, year, c_factor, renewal)
    return out


def _int_or_none(
    text: str, path: Path, line: int, column: str, *, low: int, high: int | None = None
) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        raise InputError(f"{path}: line {line}: {column} {text!r} is not a whole number {span}")
    return value


def _inp_name(sidecar: Path) -> str:
    return sidecar.name.rsplit("_", 1)[0] + ".inp"


# --- TOML sidecar -------------------------------------------------------------------------------

_SOURCE_KEYS = {
    "name": "str",
    "name_zh": "str?",
    "reservoir": "node",
    "clear_well": "tank?",
    "intake_pumps": "pumps",
    "raw_booster_pumps": "pumps",
    "high_lift_pumps": "pumps",
    "standby_pumps": "pumps",
    "raw_main": "links",
    "transmission_mains": "links",
    "isolation_links": "links",
    "flow_control_valve": "valve?",
    "default_open": "bool",
    "capacity": "float?",
    "zones": "zones",
    "flow_cap": "float?",
    "level_range": "range?",
}
_ZONE_KEYS = {"name": "str", "name_zh": "str?"}
_INTERCONNECTION_KEYS = {
    "name": "str",
    "name_zh": "str?",
    "valves": "links",
    "pipes": "links",
    "zones": "zones",
    "default_open": "bool",
}
_BOOSTER_KEYS = {
    "name": "str",
    "zone": "zone?",
    "pumps": "pumps",
    "standby_pumps": "pumps",
    "tank": "tank?",
    "inlet": "links",
    "supply_node": "node?",
    "served_nodes": "nodes",
    "population": "int?",
}
_TOP_KEYS = {"model", "demand", "sources", "zones", "interconnections", "boosters", "renewal"}


class _Checker:
    """Reads typed values out of the TOML tables, with messages that say where and what."""

    def __init__(self, path: Path, inp: InpIndex, zones: set[str]):
        self.path, self.inp, self.zones = path, inp, zones

    def fail(self, where: str, message: str):
        raise InputError(f"{self.path}: {where}: {message}")

    def table(self, where: str, table: Any, keys: Mapping[str, str]) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.fail(where, "expected a table")
        for key in table:
            if key not in keys:
                self.fail(where, f"unknown key {key!r}; {suggest(key, keys)}")
        return {
            key: self.value(f"{where}.{key}", table.get(key), kind) for key, kind in keys.items()
        }

    def value(self, where: str, value: Any, kind: str) -> Any:
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        if value is None or (optional and value == "" and kind != "str"):
            if optional or kind in ("pumps", "links", "nodes", "zones"):
                return None if optional else ()
            self.fail(where, f"missing; expected {_EXPECT[kind]}")
        if kind == "str":
            if not isinstance(value, str):
                self.fail(where, f"expected a string, got {value!r}")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                self.fail(where, f"expected true or false, got {value!r}")
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.fail(where, f"expected a whole number >= 0, got {value!r}")
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self.fail(where, f"expected a number >= 0, got {value!r}")
            return float(value)
        if kind == "range":
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                or value[0] > value[1]
            ):
                self.fail(where, f"expected [low, high] in metres, got {value!r}")
            return (float(value[0]), float(value[1]))
        if kind in ("pumps", "links", "nodes", "zones"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.fail(where, f"expected {_EXPECT[kind]}, got {value!r}")
            element = kind[:-1]
            return tuple(self.element(where, v, element) for v in value)
        return self.element(where, value, kind)

    def element(self, where: str, value: Any, kind: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"expected {_EXPECT[kind]}, got {value!r}")
        known = {
            "node": self.inp.nodes,
            "tank": self.inp.tanks,
            "pump": self.inp.pumps,
            "link": self.inp.links,
            "valve": self.inp.valves,
            "zone": self.zones,
        }[kind]
        if value not in known:
            place = "declared in [[zones]]" if kind == "zone" else f"in {_inp_name(self.path)}"
            self.fail(where, f"{value!r} is not a {kind} {place}; {suggest(value, known)}")
        return value


_EXPECT = {
    "str": "a string",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "range": "[low, high]",
    "node": "a node id",
    "tank": "a tank id",
    "pump": "a pump id",
    "link": "a link id",
    "valve": "a valve id",
    "zone": "a zone name",
    "pumps": "a list of pump ids",
    "links": "a list of link ids",
    "nodes": "a list of node ids",
    "zones": "a list of zone names",
}


def _read_assets(path: Path, inp: InpIndex, nodes: dict[str, NodeInfo]) -> dict[str, Any]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read as UTF-8 text ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err})") from None
    for key in doc:
        if key not in _TOP_KEYS:
            raise InputError(f"{path}: unknown table {key!r}; {suggest(key, _TOP_KEYS)}")
    zone_tables = _array(path, doc, "zones")
    check = _Checker(path, inp, set())
    zones_zh = {}
    for k, table in enumerate(zone_tables):
        z = check.table(f"zones[{k}]", table, _ZONE_KEYS)
        zones_zh[z["name"]] = z["name_zh"] or ""
    check.zones = set(zones_zh)

    sources = []
    for k, table in enumerate(_array(path, doc, "sources")):
        s = check.table(f"sources[{k}]", table, _SOURCE_KEYS)
        s["name_zh"] = s["name_zh"] or ""
        if s["reservoir"] not in inp.reservoirs:
            check.fail(f"sources[{k}].reservoir", f"{s['reservoir']!r} is not a reservoir")
        sources.append(Source(**s))
    interconnections = []
    for k, table in enumerate(_array(path, doc, "interconnections")):
        ic = check.table(f"interconnections[{k}]", table, _INTERCONNECTION_KEYS)
        if len(ic["zones"]) != 2:
            check.fail(f"interconnections[{k}].zones", "expected the two zones it joins")
        ic["name_zh"] = ic["name_zh"] or ""
        interconnections.append(Interconnection(**ic))
    boosters = []
    for k, table in enumerate(_array(path, doc, "boosters")):
        bs = check.table(f"boosters[{k}]", table, _BOOSTER_KEYS)
        boosters.append(BoosterStation(**bs))
    for what, items in (
        ("sources", sources),
        ("interconnections", interconnections),
        ("boosters", boosters),
    ):
        names = [i.name for i in items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"{path}: [[{what}]] names must be unique; repeated: {', '.join(dup)}")

    demand = doc.get("demand", {})
    if not isinstance(demand, dict):
        raise InputError(f"{path}: [demand] must be a table")
    patterns = demand.get("patterns", {})
    if not isinstance(patterns, dict) or not all(
        k in LAND_USES and isinstance(v, str) for k, v in patterns.items()
    ):
        raise InputError(
            f"{path}: [demand.patterns] must map land uses ({', '.join(LAND_USES)}) to pattern ids"
        )
    growth = {}
    for year, factor in demand.get("growth", {}).items():
        if (
            not str(year).isdigit()
            or isinstance(factor, bool)
            or not isinstance(factor, (int, float))
            or factor <= 0
        ):
            raise InputError(
                f"{path}: [demand.growth]: {year} = {factor!r}; expected "
                '"year" = positive multiplier'
            )
        growth[int(year)] = float(factor)
    population = demand.get("population")
    if population is not None and (
        isinstance(population, bool) or not isinstance(population, int) or population < 0
    ):
        raise InputError(f"{path}: [demand].population must be a whole number >= 0")
    return {
        "sources": tuple(sources),
        "zones": _zones_from_nodes(nodes, zones_zh),
        "interconnections": tuple(interconnections),
        "boosters": tuple(boosters),
        "patterns": dict(patterns),
        "growth": growth,
        "population": population,
        "renewal": _renewal(path, doc.get("renewal")),
        "declared_zones": set(zones_zh),
    }


def _array(path: Path, doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"{path}: {key!r} must be an array of tables ([[{key}]])")
    return value


def _renewal(path: Path, table: Any) -> Renewal | None:
    if table is None:
        return None
    try:
        lengths = {str(k): float(v) for k, v in table.get("length_km", {}).items()}
        renewal = Renewal(
            int(table["year"]),
            str(table["material"]),
            float(table["c_factor"]),
            MappingProxyType(lengths),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(
            f"{path}: [renewal] needs year, material, c_factor and a length_km "
            f"table of numbers ({err!r})"
        ) from None
    unknown = [k for k in lengths if k not in RENEWAL_CLASSES]
    if unknown:
        raise InputError(
            f"{path}: [renewal.length_km]: unknown class {unknown[0]!r}; "
            f"{suggest(unknown[0], RENEWAL_CLASSES)}"
        )
    return renewal
