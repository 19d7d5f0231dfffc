"""Named assets of a drainage model: pump stations, gravity outlets, outfalls by river,
waterlogging points and land use.

Scenarios and scores speak of a drainage model's parts by name: stop pump station Bietuqiao, raise
the Wanxi to 16.5 m, score the underpasses. :func:`load_drainage_assets` gives them those names for
any SWMM model:

- With a sidecar beside the INP (``<stem>_assets.toml``, as :mod:`hydro.synth.drainage` writes for
  the bundled Xuancheng model) they come from it, checked against the INP: every pump, node, link
  and outfall it names must exist.
- Without one, defaults are inferred from the INP alone: a pump station for every node that pumps
  draw from (its pumps, its design capacity the sum of their curves' largest flows when the
  curves give flows); no gravity outlets; every outfall, on no named river; the waterlogging
  points are the junctions with a ponded area > 0, or all junctions when none has one.

The land use of each subcatchment is read from the INP's [COVERAGES] (the largest share). A
malformed sidecar raises :class:`~hydro.errors.InputError` naming the file, the entry and what was
expected. Units are SI: m, m2, m3/s.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hydro.drainage.inp import SwmmInput, read_inp, si_factors
from hydro.errors import InputError, ScenarioError, suggest, where
from hydro.scenario.loader import describe

SIDECAR_SUFFIX = "_assets.toml"
SIDECAR_FORMAT = 1
INFERRED_KIND = "junction"  # kind of an inferred waterlogging point


def sidecar_path(inp_path: str | Path) -> Path:
    """Where the assets sidecar of ``inp_path`` lives: ``<stem>_assets.toml`` beside it."""
    inp_path = Path(inp_path)
    return inp_path.with_name(inp_path.stem + SIDECAR_SUFFIX)


def _checked_crs(path: Path, crs: str) -> str | None:
    """The sidecar's ``crs`` once pyproj has read it (InputError naming the file if it cannot),
    or None when it gives none: none is ever invented."""
    if not crs:
        return None
    from hydro.results import parse_crs

    parse_crs(crs, f"{path}: crs")
    return crs


# ------------------------------------------------------------------------------------------------
# What load_drainage_assets returns


@dataclass(frozen=True)
class PumpStation:
    """Pumps that lift water out of one wet well (a storage unit or junction)."""

    name: str
    pumps: tuple[str, ...]
    wet_well: str
    name_zh: str = ""
    polder: str | None = None
    river: str | None = None
    design_capacity: float | None = None  # m3/s
    catchment_area: float | None = None  # m2
    discharge_chamber: str | None = None
    outfall: str | None = None


@dataclass(frozen=True)
class GravityOutlet:
    """A link (sluice, culvert) that drains a polder by gravity while the river is low."""

    name: str
    link: str
    station: str | None = None
    outfall: str | None = None


@dataclass(frozen=True)
class Outfall:
    name: str
    river: str | None
    gated: bool


@dataclass(frozen=True)
class River:
    """A river the model discharges into.

    ``outfalls`` are where its stage is set (the downstream boundary when the river is modelled
    as a channel). A river modelled as a 1D channel also lists its ``nodes`` from upstream to
    downstream (the last one may lie on the river it flows into), the ``inflow_node`` where its
    upstream flow enters, and that flow in ordinary and flood conditions.
    """

    name: str
    name_zh: str
    outfalls: tuple[str, ...]
    normal_stage: float | None = None  # m
    flood_stage: float | None = None  # m
    nodes: tuple[str, ...] = ()
    inflow_node: str | None = None
    normal_flow: float | None = None  # m3/s
    flood_flow: float | None = None  # m3/s
    flood_return_period: float | None = None  # years, of flood_flow
    limit_stage: float | None = None  # m, pumping into it is limited above this level

    @property
    def is_channel(self) -> bool:
        """True when the river is a channel of the model (it has nodes), not only outfalls."""
        return bool(self.nodes)


@dataclass(frozen=True)
class WaterloggingPoint:
    node: str
    kind: str  # e.g. 'underpass', 'old_street'; 'junction' when inferred
    name: str
    name_zh: str = ""


@dataclass(frozen=True)
class LandUse:
    name: str
    name_zh: str = ""
    imperviousness: float | None = None  # mean fraction


@dataclass(frozen=True)
class Polder:
    """A dyked area whose water leaves by pumping (or gravity outlets while the river is low)."""

    name: str
    name_zh: str = ""
    area: float | None = None  # m2, as declared
    storage: tuple[str, ...] = ()  # storage units holding its inner rivers and ponds


@dataclass(frozen=True)
class DrainageAssets:
    """The named parts of one SWMM model; ``sidecar`` is None when they were inferred."""

    model: Path | None
    sidecar: Path | None
    pump_stations: tuple[PumpStation, ...]
    gravity_outlets: tuple[GravityOutlet, ...]
    outfalls: tuple[Outfall, ...]
    rivers: tuple[River, ...]
    waterlogging_points: tuple[WaterloggingPoint, ...]
    land_uses: tuple[LandUse, ...]
    subcatchment_land_use: Mapping[str, str]
    polders: tuple[Polder, ...] = ()
    crs: str | None = None  # the sidecar's coordinate reference system, as pyproj reads it

    @property
    def inferred(self) -> bool:
        return self.sidecar is None

    def station(self, name: str) -> PumpStation:
        """The pump station called ``name``; ScenarioError with a hint when there is none."""
        return self._find("pump station", name, self.pump_stations)

    def river(self, name: str) -> River:
        return self._find("river", name, self.rivers)

    def _find(self, kind: str, name: str, items):
        for item in items:
            if item.name == name:
                return item
        raise ScenarioError(
            f"{self._label}: no {kind} {name!r}; {suggest(name, [i.name for i in items])}"
        )

    def outfalls_of(self, river: str | None = None) -> tuple[str, ...]:
        """Outfalls on ``river`` (None: every outfall of the model)."""
        if river is None:
            return tuple(o.name for o in self.outfalls)
        return self.river(river).outfalls

    @property
    def waterlogging_nodes(self) -> tuple[str, ...]:
        return tuple(p.node for p in self.waterlogging_points)

    @property
    def _label(self) -> str:
        return str(self.sidecar or self.model or "<in-memory SWMM model>")


# ------------------------------------------------------------------------------------------------
# The sidecar schema (strict: unknown keys are errors)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _River(_Strict):
    name_zh: str = ""
    normal_stage: float | None = None
    flood_stage: float | None = None
    limit_stage: float | None = None
    outfalls: list[str] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list)
    inflow_node: str | None = None
    normal_flow: float | None = Field(default=None, ge=0)
    flood_flow: float | None = Field(default=None, ge=0)
    flood_return_period: float | None = Field(default=None, gt=0)


class _Polder(_Strict):
    name_zh: str = ""
    area: float | None = Field(default=None, gt=0)
    storage: list[str] = Field(default_factory=list)


class _Station(_Strict):
    name: str = Field(min_length=1)
    name_zh: str = ""
    pumps: list[str] = Field(min_length=1)
    wet_well: str = Field(min_length=1)
    discharge_chamber: str | None = None
    outfall: str | None = None
    polder: str | None = None
    river: str | None = None
    design_capacity: float | None = Field(default=None, gt=0)
    catchment_area: float | None = Field(default=None, gt=0)
    design_head: float | None = Field(default=None, gt=0)
    source: str = ""


class _Gravity(_Strict):
    name: str = Field(min_length=1)
    link: str = Field(min_length=1)
    station: str | None = None
    outfall: str | None = None
    note: str = ""


class _Point(_Strict):
    node: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    name: str = ""
    name_zh: str = ""


class _LandUse(_Strict):
    name_zh: str = ""
    imperviousness: float | None = Field(default=None, ge=0, le=1)
    subcatchments: int | None = Field(default=None, ge=0)


class _Sidecar(_Strict):
    format: int = SIDECAR_FORMAT
    model: str = ""
    crs: str = ""
    rivers: dict[str, _River] = Field(default_factory=dict)
    polders: dict[str, _Polder] = Field(default_factory=dict)
    pump_stations: list[_Station] = Field(default_factory=list)
    gravity_outlets: list[_Gravity] = Field(default_factory=list)
    waterlogging_points: list[_Point] = Field(default_factory=list)
    land_uses: dict[str, _LandUse] = Field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# Loading


def load_drainage_assets(model: str | Path | SwmmInput) -> DrainageAssets:
    """The named assets of a SWMM model: from its ``<stem>_assets.toml`` sidecar when there is
    one beside the INP, else inferred from the INP alone (see the module docstring)."""
    inp = model if isinstance(model, SwmmInput) else read_inp(model)
    sidecar = sidecar_path(inp.source) if inp.source is not None else None
    land = _subcatchment_land_use(inp)
    if sidecar is not None and sidecar.is_file():
        return _from_sidecar(inp, sidecar, land)
    return _inferred(inp, land)


def _from_sidecar(inp: SwmmInput, path: Path, land: Mapping[str, str]) -> DrainageAssets:
    spec = _read_sidecar(path)
    if spec.format != SIDECAR_FORMAT:
        raise InputError(
            f"{path}: format = {spec.format}; this hydro reads format {SIDECAR_FORMAT}"
        )
    names = _Names(inp)
    river_of: dict[str, str] = {}
    rivers = []
    for rname, river in spec.rivers.items():
        for o in river.outfalls:
            names.check(path, f"rivers.{rname}.outfalls", o, names.outfalls, "outfall")
            if o in river_of:
                raise InputError(
                    f"{path}: outfall {o!r} is listed under rivers.{river_of[o]} "
                    f"and rivers.{rname}; an outfall is on one river"
                )
            river_of[o] = rname
        for k, node in enumerate(river.nodes):
            names.check(path, f"rivers.{rname}.nodes[{k}]", node, names.nodes, "node")
        if river.inflow_node is not None:
            names.check(path, f"rivers.{rname}.inflow_node", river.inflow_node, names.nodes, "node")
        rivers.append(
            River(
                rname,
                river.name_zh,
                tuple(river.outfalls),
                river.normal_stage,
                river.flood_stage,
                tuple(river.nodes),
                river.inflow_node,
                river.normal_flow,
                river.flood_flow,
                river.flood_return_period,
                river.limit_stage,
            )
        )
    stations = []
    for k, st in enumerate(spec.pump_stations):
        key = f"pump_stations[{k}] ({st.name})"
        for pump in st.pumps:
            names.check(path, f"{key}.pumps", pump, names.pumps, "pump")
        names.check(path, f"{key}.wet_well", st.wet_well, names.nodes, "node")
        for field, value in (("discharge_chamber", st.discharge_chamber), ("outfall", st.outfall)):
            if value is not None:
                names.check(path, f"{key}.{field}", value, names.nodes, "node")
        _known_key(path, f"{key}.river", st.river, spec.rivers)
        _known_key(path, f"{key}.polder", st.polder, spec.polders)
        stations.append(
            PumpStation(
                st.name,
                tuple(st.pumps),
                st.wet_well,
                st.name_zh,
                st.polder,
                st.river,
                st.design_capacity,
                st.catchment_area,
                st.discharge_chamber,
                st.outfall,
            )
        )
    _unique(path, "pump_stations", [s.name for s in stations])
    gravity = []
    for k, g in enumerate(spec.gravity_outlets):
        key = f"gravity_outlets[{k}] ({g.name})"
        names.check(path, f"{key}.link", g.link, names.links, "link")
        if g.outfall is not None:
            names.check(path, f"{key}.outfall", g.outfall, names.nodes, "node")
        if g.station is not None and g.station not in {s.name for s in stations}:
            raise InputError(
                f"{path}: {key}.station {g.station!r} is not a pump station of the "
                f"sidecar; {suggest(g.station, [s.name for s in stations])}"
            )
        gravity.append(GravityOutlet(g.name, g.link, g.station, g.outfall))
    points = []
    for k, point in enumerate(spec.waterlogging_points):
        names.check(path, f"waterlogging_points[{k}].node", point.node, names.nodes, "node")
        points.append(
            WaterloggingPoint(point.node, point.kind, point.name or point.node, point.name_zh)
        )
    _unique(path, "waterlogging_points", [p.node for p in points])
    uses = tuple(LandUse(n, u.name_zh, u.imperviousness) for n, u in spec.land_uses.items())
    gated = _gated(inp)
    outfalls = tuple(Outfall(o, river_of.get(o), gated[o]) for o in gated)
    for n, polder in spec.polders.items():
        for k, node in enumerate(polder.storage):
            names.check(path, f"polders.{n}.storage[{k}]", node, names.storage, "storage unit")
    polders = tuple(Polder(n, p.name_zh, p.area, tuple(p.storage)) for n, p in spec.polders.items())
    return DrainageAssets(
        inp.source,
        path,
        tuple(stations),
        tuple(gravity),
        outfalls,
        tuple(rivers),
        tuple(points),
        uses,
        land,
        polders,
        _checked_crs(path, spec.crs),
    )


def _read_sidecar(path: Path) -> _Sidecar:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected a TOML assets sidecar") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err})") from None
    try:
        return _Sidecar.model_validate(raw)
    except ValidationError as err:
        lines = [describe(dict(e), _Sidecar) for e in err.errors()[:3]]
        more = f" (and {err.error_count() - 3} more)" if err.error_count() > 3 else ""
        raise InputError(f"{path}: " + "; ".join(lines) + more) from None


class _Names:
    """Element names of a model, for checking what a sidecar refers to."""

    def __init__(self, inp: SwmmInput) -> None:
        self.inp = inp
        self.pumps = {t[0] for t in inp.rows("PUMPS")}
        self.nodes = {
            t[0] for s in ("JUNCTIONS", "OUTFALLS", "STORAGE", "DIVIDERS") for t in inp.rows(s)
        }
        self.outfalls = {t[0] for t in inp.rows("OUTFALLS")}
        self.storage = {t[0] for t in inp.rows("STORAGE")}
        self.links = {
            t[0] for s in ("CONDUITS", "PUMPS", "ORIFICES", "WEIRS", "OUTLETS") for t in inp.rows(s)
        }

    def check(self, path: Path, key: str, name: str, known: set[str], what: str) -> None:
        if name not in known:
            model = self.inp.source.name if self.inp.source else "the model"
            raise InputError(
                f"{path}: {key}: {name!r} is not a {what} of {model}; {suggest(name, known)}"
            )


def _known_key(path: Path, key: str, value: str | None, table: Mapping) -> None:
    if value is not None and value not in table:
        raise InputError(
            f"{path}: {key} {value!r} is not declared in the sidecar; {suggest(value, table)}"
        )


def _unique(path: Path, key: str, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"{path}: {key}: {name!r} is listed twice")
        seen.add(name)


# ------------------------------------------------------------------------------------------------
# Inference


def _inferred(inp: SwmmInput, land: Mapping[str, str]) -> DrainageAssets:
    flow = si_factors(inp.flow_units).flow
    curve_max = _curve_max_flows(inp)
    groups: dict[str, list[list[str]]] = {}
    for tokens in inp.rows("PUMPS"):
        if len(tokens) >= 3:
            groups.setdefault(tokens[1], []).append(tokens)
    stations = []
    for wet_well, pumps in groups.items():
        peaks = [curve_max.get(t[3]) if len(t) > 3 else None for t in pumps]
        known = [p for p in peaks if p is not None]
        capacity = sum(known) * flow if peaks and len(known) == len(peaks) else None
        stations.append(
            PumpStation(wet_well, tuple(t[0] for t in pumps), wet_well, design_capacity=capacity)
        )
    junctions = inp.junctions()
    ponding = junctions.index[junctions["ponded_area"] > 0]
    chosen = ponding if len(ponding) else junctions.index
    points = tuple(WaterloggingPoint(str(n), INFERRED_KIND, str(n)) for n in chosen)
    gated = _gated(inp)
    outfalls = tuple(Outfall(o, None, g) for o, g in gated.items())
    uses = tuple(LandUse(t[0]) for t in inp.rows("LANDUSES"))
    return DrainageAssets(inp.source, None, tuple(stations), (), outfalls, (), points, uses, land)


def _curve_max_flows(inp: SwmmInput) -> dict[str, float]:
    """Largest flow of each pump curve, model flow units (TYPE1-4 curves give flow as y)."""
    out: dict[str, float] = {}
    kind: dict[str, str] = {}
    for tokens in inp.rows("CURVES"):
        name = tokens[0]
        rest = tokens[1:]
        if rest and not _is_number(rest[0]):
            kind[name] = rest[0].upper()
            rest = rest[1:]
        if kind.get(name) not in ("PUMP1", "PUMP2", "PUMP3", "PUMP4"):
            continue
        for y in rest[1::2]:
            if _is_number(y):
                out[name] = max(out.get(name, 0.0), float(y))
    return out


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _gated(inp: SwmmInput) -> dict[str, bool]:
    table = inp.outfalls()
    return {str(name): bool(g) for name, g in zip(table.index, table["gated"], strict=True)}


def _subcatchment_land_use(inp: SwmmInput) -> Mapping[str, str]:
    """Each subcatchment's land use with the largest share in [COVERAGES] (none if absent)."""
    best: dict[str, tuple[float, str]] = {}
    for tokens in inp.rows("COVERAGES"):
        sub, pairs = tokens[0], tokens[1:]
        for use, share in zip(pairs[0::2], pairs[1::2], strict=False):
            try:
                value = float(share)
            except ValueError:
                raise InputError(
                    f"{where(inp.source)}[COVERAGES] {sub}: {share!r} is not a percentage"
                ) from None
            if value > best.get(sub, (-1.0, ""))[0]:
                best[sub] = (value, use)
    return MappingProxyType({sub: use for sub, (_, use) in best.items()})


# ------------------------------------------------------------------------------------------------
# Assets that travel with the results


ASSETS_ATTR = "drainage_assets"  # the global attribute of a run Dataset holding its assets
_PARTS = {
    "pump_stations": PumpStation,
    "gravity_outlets": GravityOutlet,
    "outfalls": Outfall,
    "rivers": River,
    "waterlogging_points": WaterloggingPoint,
    "land_uses": LandUse,
    "polders": Polder,
}


def assets_to_json(assets: DrainageAssets) -> str:
    """The assets as JSON text (a run Dataset keeps it in its ``drainage_assets`` attribute, so
    that scoring never has to find the model's files again)."""
    import dataclasses
    import json

    def plain(value):
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return value

    doc = {name: plain(getattr(assets, name)) for name in _PARTS}
    doc["model"] = str(assets.model) if assets.model is not None else None
    doc["sidecar"] = str(assets.sidecar) if assets.sidecar is not None else None
    doc["subcatchment_land_use"] = dict(assets.subcatchment_land_use)
    doc["crs"] = assets.crs
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def assets_from_json(text: str) -> DrainageAssets:
    """Assets written by :func:`assets_to_json`; InputError when the text is not such a record."""
    import json

    try:
        doc = json.loads(text)
        parts = {
            name: tuple(
                kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in item.items()})
                for item in doc[name]
            )
            for name, kind in _PARTS.items()
        }
        return DrainageAssets(
            Path(doc["model"]) if doc.get("model") else None,
            Path(doc["sidecar"]) if doc.get("sidecar") else None,
            subcatchment_land_use=MappingProxyType(dict(doc["subcatchment_land_use"])),
            crs=doc.get("crs"),
            **parts,
        )
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(
            f"the results' {ASSETS_ATTR} attribute is not a record of drainage assets ({err})"
        ) from None
