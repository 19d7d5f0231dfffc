"""Generator of the synthetic Xuancheng urban drainage model (SWMM), seeded and reproducible.

``generate_drainage(subcatchments=1500, seed=2024)`` builds the central city (about 55 km²) as
square subcatchments with land use, imperviousness, slope and width, each draining into a manhole;
sewers (circular pipes, box culverts, open drains) sized by the rational method for a 2-3 year
storm; rim elevations from the synthetic terrain of :mod:`hydro.synth.city`; gravity outfalls with
flap gates on the Wanxi; the 城东联圩 and 敬亭圩 polders draining through four pump stations
(wet wells, pump curves, start/stop levels, discharge chambers, flap-gated gravity sluices) into
the Shuiyang and the Wanxi; underpasses and low old-town streets with ponding. ``write_drainage``
writes the INP and its sidecar (``<name>_assets.toml``) atomically.

Every fact (F) and assumption (A) is in :mod:`hydro.synth.drainage.plan`; the layout is in
:mod:`~hydro.synth.drainage.layout`, the sizing in :mod:`~hydro.synth.drainage.design`, the INP
and sidecar text in :mod:`~hydro.synth.drainage.inp`. Same arguments, same bytes.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hydro.drainage.assets import sidecar_path
from hydro.errors import InputError, ScenarioError
from hydro.rain import Hyetograph, RainfallConfig, load_rainfall_config
from hydro.results import atomic_path
from hydro.synth import city
from hydro.synth.drainage import layout, plan
from hydro.synth.drainage.design import (
    design_sewers,
    design_station,
    pump_curve,
    runoff_coefficient,
)
from hydro.synth.drainage.inp import assets_text, inp_text
from hydro.synth.drainage.rivers import RiverChannel, river_channels, river_tables

BUNDLED_RAINFALL = Path(__file__).resolve().parents[3] / "networks" / "xuancheng" / "rainfall.toml"
DEFAULT_STORM_PERIOD = 2.0  # years: the default INP holds a 2-year storm
DEFAULT_STORM_DURATION = 7200.0  # s


@dataclass(frozen=True)
class DrainageModel:
    """A generated drainage model: tables in SI units, local coordinates (m from the centre).

    Tables (pandas DataFrames, one row per element): ``junctions``, ``outfalls``, ``storage``,
    ``conduits``, ``pumps``, ``orifices``, ``subcatchments``, ``inflows`` (river inflows);
    ``curves`` are (name, type, points). ``rivers`` are the river channels, ``stations`` and
    ``waterlogging_points`` describe the assets for the sidecar.
    """

    seed: int
    cell_size: float  # m
    storm: Hyetograph
    formula: str
    junctions: pd.DataFrame
    outfalls: pd.DataFrame
    storage: pd.DataFrame
    conduits: pd.DataFrame
    pumps: pd.DataFrame
    orifices: pd.DataFrame
    subcatchments: pd.DataFrame
    inflows: pd.DataFrame
    curves: tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...]
    rivers: dict[str, RiverChannel]
    stations: tuple[dict, ...]
    waterlogging_points: tuple[dict, ...]

    def __repr__(self) -> str:
        return (
            f"DrainageModel(seed={self.seed}, {len(self.subcatchments)} subcatchments, "
            f"{self.node_count} nodes, {self.link_count} links, "
            f"{self.area / 1e6:.1f} km2)"
        )

    @property
    def node_count(self) -> int:
        return len(self.junctions) + len(self.outfalls) + len(self.storage)

    @property
    def link_count(self) -> int:
        return len(self.conduits) + len(self.pumps) + len(self.orifices)

    @property
    def area(self) -> float:
        """m², the drained area."""
        return float(self.subcatchments["area"].sum())


def _check_count(subcatchments) -> int:
    if isinstance(subcatchments, bool) or not isinstance(subcatchments, (int, np.integer)):
        raise ScenarioError(
            f"drainage generator: subcatchments must be a whole number, got {subcatchments!r}"
        )
    n = int(subcatchments)
    if not plan.MIN_SUBCATCHMENTS <= n <= plan.MAX_SUBCATCHMENTS:
        raise ScenarioError(
            f"drainage generator: subcatchments = {n}; expected "
            f"{plan.MIN_SUBCATCHMENTS} to {plan.MAX_SUBCATCHMENTS} (the city's "
            "districts, polders and pump stations each need cells)"
        )
    return n


def bundled_rainfall() -> RainfallConfig:
    """The bundled Xuancheng rainfall.toml (storm formula and design-storm defaults)."""
    if not BUNDLED_RAINFALL.is_file():
        raise InputError(
            f"{BUNDLED_RAINFALL}: the bundled rainfall configuration is missing; "
            "pass rainfall= to the generator"
        )
    return load_rainfall_config(BUNDLED_RAINFALL)


def default_storm(rainfall: RainfallConfig) -> Hyetograph:
    """The storm the bundled INP holds: 2-year, 2-hour, the config's pattern (Chicago)."""
    return rainfall.design_storm(
        return_period=DEFAULT_STORM_PERIOD, duration=DEFAULT_STORM_DURATION
    )


# ------------------------------------------------------------------------------------------------


def generate_drainage(
    *,
    subcatchments: int = plan.DEFAULT_SUBCATCHMENTS,
    seed: int = 2024,
    rainfall: RainfallConfig | None = None,
) -> DrainageModel:
    """Build the Xuancheng drainage model with exactly ``subcatchments`` subcatchments.

    ``seed`` drives every random choice (jitter of manholes, land-use patchwork, imperviousness,
    split cells, low streets). ``rainfall`` gives the storm formula used to size the sewers and
    the default design storm (default: the bundled networks/xuancheng/rainfall.toml).
    Junctions number about as many as subcatchments; 10,000 subcatchments give > 10,000 nodes.
    """
    n = _check_count(subcatchments)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(f"drainage generator: seed must be a whole number >= 0, got {seed!r}")
    rainfall = bundled_rainfall() if rainfall is None else rainfall
    rng = np.random.default_rng(int(seed))

    cells = layout.grid_cells(layout.cell_size_for(n))
    size = cells.size
    jx = cells.x + rng.uniform(-0.2, 0.2, len(cells)) * size
    jy = cells.y + rng.uniform(-0.2, 0.2, len(cells)) * size
    # A manhole stays on its cell's side of a polder dyke (the ground steps there).
    strayed = layout.region_of(jx, jy) != cells.region
    jx[strayed], jy[strayed] = cells.x[strayed], cells.y[strayed]
    ground = city.ground_elevation(jx, jy)
    pairs = layout.neighbour_pairs(cells)

    rivers = river_channels()
    outlets, forest = _route(cells, pairs, ground)
    outlets, river_node = _connect_outlets(outlets, rivers)
    land_use, imperviousness = _land_use(cells, rng)
    cell_area = np.full(len(cells), size * size)
    down = forest.down
    sewers = _lay_sewers(
        cells,
        jx,
        jy,
        ground,
        forest,
        outlets,
        runoff_coefficient(imperviousness) * cell_area,
        rainfall,
    )
    # Underpasses and low streets dip below the ground over sewers already laid.
    headroom = ground - _highest_crown(sewers, down) - plan.POINT_COVER
    underpass, low_street = _waterlogging_cells(cells, ground, headroom, forest, rng)
    rim = ground.copy()
    rim[underpass] -= np.minimum(plan.UNDERPASS_DEPTH, headroom[underpass])
    rim[low_street] -= np.minimum(plan.LOW_STREET_DEPTH, headroom[low_street])

    names = _names(len(cells))
    street = np.array([plan.LAND_USES[k].street_share for k in land_use]) * cell_area
    tables = _network_tables(
        _City(
            cells=cells,
            x=jx,
            y=jy,
            rim=rim,
            ground=ground,
            sewers=sewers,
            down=down,
            river_node=river_node,
            names=names,
            underpass=underpass,
            low_street=low_street,
            street=street,
            rivers=rivers,
        )
    )
    stations, curves = _stations(outlets, sewers, forest, names, cell_area, ground, tables, rivers)
    subcatchments = _subcatchments(
        cells, jx, jy, ground, land_use, imperviousness, names, n - len(cells), rng
    )
    return DrainageModel(
        seed=int(seed),
        cell_size=size,
        storm=default_storm(rainfall),
        formula=rainfall.formula.name or str(rainfall.formula),
        junctions=pd.DataFrame(tables["junctions"]),
        outfalls=pd.DataFrame(tables["outfalls"]),
        storage=pd.DataFrame(tables["storage"]),
        conduits=pd.DataFrame(tables["conduits"]),
        pumps=pd.DataFrame(tables["pumps"]),
        orifices=pd.DataFrame(tables["orifices"]),
        subcatchments=subcatchments,
        inflows=pd.DataFrame(tables["inflows"]),
        curves=tuple(curves),
        rivers=rivers,
        stations=tuple(stations),
        waterlogging_points=tuple(_points(names, underpass, low_street, cells)),
    )


def write_drainage(
    out_path: str | Path,
    *,
    subcatchments: int = plan.DEFAULT_SUBCATCHMENTS,
    seed: int = 2024,
    rainfall: RainfallConfig | None = None,
) -> Path:
    """Generate the model and write ``out_path`` (INP) and its sidecar ``<stem>_assets.toml``;
    returns ``out_path``.

    Both files are written atomically: on any error neither is left half-written.
    """
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".inp":
        raise ScenarioError(f"{out_path}: the drainage model must be written to a .inp file")
    model = generate_drainage(subcatchments=subcatchments, seed=seed, rainfall=rainfall)
    inp, assets = inp_text(model), assets_text(model, inp_name=out_path.name)
    with atomic_path(out_path) as tmp_inp, atomic_path(sidecar_path(out_path)) as tmp_assets:
        for tmp, text in ((tmp_inp, inp), (tmp_assets, assets)):
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(0o644)  # temporary files are created private; the model files are not
    return out_path


# ------------------------------------------------------------------------------------------------
# Layout: outlets and the sewer forest


def _route(cells, pairs, ground) -> tuple[list[layout.Outlet], layout.Forest]:
    """Outlets (river outfalls and pump stations) and the forest draining every cell to one."""
    city_cells = cells.region == layout.CITY_REGION
    outlets = layout.river_outlets(cells, "wanxi", layout.CITY_REGION)
    while True:
        forest = layout.drainage_forest(cells, pairs, ground, [o.cell for o in outlets])
        stranded = np.flatnonzero(city_cells & (forest.root < 0))
        if stranded.size == 0:
            break
        outlets.append(layout.outlet_for_stranded(cells, stranded, "wanxi"))
    down, root, cost = forest.down.copy(), forest.root.copy(), forest.cost.copy()
    for polder in city.POLDERS:
        code = layout.region_code(polder.name)
        mine = [s for s in plan.STATIONS if s.polder == polder.name]
        inside = cells.region == code
        sources = [layout.nearest_cell(cells, *s.position, mask=inside) for s in mine]
        if len(set(sources)) < len(sources):
            raise ScenarioError(
                f"drainage generator: too few cells in polder {polder.name} for its "
                f"{len(mine)} pump stations; ask for more subcatchments"
            )
        polder_forest = layout.balance_catchments(
            cells,
            pairs,
            ground,
            sources,
            [s.target_area for s in mine],
            np.full(len(cells), cells.size**2),
        )
        down[inside], root[inside] = polder_forest.down[inside], polder_forest.root[inside]
        cost[inside] = polder_forest.cost[inside]
        outlets += [
            layout.Outlet(c, s.position, s.river, s.key) for c, s in zip(sources, mine, strict=True)
        ]
    if (root < 0).any():
        raise ScenarioError(
            "drainage generator: some cells reach no outlet; ask for more subcatchments"
        )
    return outlets, layout.Forest(down, root, cost)


def _connect_outlets(outlets, rivers: dict[str, RiverChannel]):
    """City outlets discharge into the nearest node of their river: the outlet's point becomes
    that node's; returns the outlets and {cell: river node} for the city's outlet cells."""
    connected, node_of = [], {}
    for o in outlets:
        if o.station is not None:
            connected.append(o)
            continue
        river = rivers[o.river]
        k = river.nearest(*o.point)
        node_of[o.cell] = river.nodes[k]
        connected.append(layout.Outlet(o.cell, (float(river.x[k]), float(river.y[k])), o.river))
    return connected, node_of


def _lay_sewers(cells, jx, jy, ground, forest, outlets, runoff_area, rainfall):
    """Size every cell's outgoing conduit along the forest and set its inverts."""
    by_cell = {o.cell: o for o in outlets}
    down = forest.down
    outlet_xy = np.array([by_cell[r].point if r >= 0 else (np.nan, np.nan) for r in forest.root])
    is_root = down < 0
    nx = np.where(is_root, outlet_xy[:, 0], jx[np.maximum(down, 0)])
    ny = np.where(is_root, outlet_xy[:, 1], jy[np.maximum(down, 0)])
    old_town = (cells.region == layout.CITY_REGION) & plan.OLD_TOWN.contains(cells.x, cells.y)
    return design_sewers(
        order=np.argsort(-forest.cost, kind="stable"),
        down=down,
        length=np.maximum(np.hypot(nx - jx, ny - jy), plan.MIN_CONDUIT_LENGTH),
        rim=ground,
        rim_next=np.where(is_root, np.inf, ground[np.maximum(down, 0)]),
        ground=ground,
        ground_next=city.ground_elevation(nx, ny),
        runoff_area=runoff_area,
        return_period=np.where(old_town, plan.OLD_TOWN_RETURN_PERIOD, plan.DESIGN_RETURN_PERIOD),
        polder=cells.region != layout.CITY_REGION,
        formula=rainfall.formula,
    )


def _land_use(cells, rng) -> tuple[np.ndarray, np.ndarray]:
    """Land-use class (index into LAND_USES) and imperviousness of each cell: a patchwork."""
    zone = np.array([layout.REGIONS[r].name for r in cells.region], dtype=object)
    zone[(cells.region == layout.CITY_REGION) & plan.OLD_TOWN.contains(cells.x, cells.y)] = (
        "old_town"
    )
    xmin = min(r.xmin for r in layout.REGIONS)
    ymin = min(r.ymin for r in layout.REGIONS)
    px = ((cells.x - xmin) // plan.LAND_USE_PATCH).astype(int)
    py = ((cells.y - ymin) // plan.LAND_USE_PATCH).astype(int)
    classes = np.zeros(len(cells), dtype=int)
    own = rng.random(len(cells))
    keep_patch = rng.random(len(cells)) < 0.7
    for key in sorted(plan.LAND_USE_SHARES):
        shares = np.asarray(plan.LAND_USE_SHARES[key])
        cum = np.cumsum(shares / shares.sum())
        patch_draw = rng.random((px.max() + 1, py.max() + 1))
        here = zone == key
        draw = np.where(keep_patch, patch_draw[px, py], own)
        classes[here] = np.minimum(np.searchsorted(cum, draw[here], side="right"), len(cum) - 1)
    mean = np.array([lu.imperviousness for lu in plan.LAND_USES])[classes]
    imp = np.clip(mean + rng.normal(0.0, plan.IMPERVIOUSNESS_SD, len(cells)), 0.02, 0.98)
    return classes, imp


def _highest_crown(sewers, down) -> np.ndarray:
    """m, the highest crown of the conduits leaving and entering each manhole."""
    heights = np.array([sec.height for sec in sewers.sections])
    crown = sewers.invert + heights
    inner = np.flatnonzero(down >= 0)
    np.maximum.at(crown, down[inner], sewers.end_invert[inner] + heights[inner])
    return crown


def _waterlogging_cells(cells, ground, headroom, forest, rng) -> tuple[np.ndarray, np.ndarray]:
    """Cells of road underpasses (along the railway) and of low old-town streets.

    A point must leave room over the sewers for its dip: an underpass goes where the sewers near
    the railway lie deepest, a low street where they are shallow but leave at least
    LOW_STREET_MIN_DIP.
    """
    inner = forest.down >= 0  # not a cell whose sewer leaves for an outlet
    underpass: list[int] = []
    for point in layout.polyline_samples(plan.RAILWAY, plan.UNDERPASS_SPACING):
        dist = np.hypot(cells.x - point[0], cells.y - point[1])
        near = np.flatnonzero(inner & (dist < 1.5 * cells.size))
        near = near[~np.isin(near, underpass)]
        if near.size == 0:
            continue
        best = int(near[np.argmax(headroom[near])])
        if headroom[best] >= plan.UNDERPASS_MIN_DIP:
            underpass.append(best)
    old = np.flatnonzero(
        inner
        & (cells.region == layout.CITY_REGION)
        & plan.OLD_TOWN.contains(cells.x, cells.y)
        & (headroom >= plan.LOW_STREET_MIN_DIP)
    )
    old = np.setdiff1d(old, underpass)
    # Old lanes lie low over shallow, old drains: the third of the old town with the least room.
    low = old[np.argsort(headroom[old], kind="stable")][: max(len(old) // 3, 1)]
    streets: list[int] = []
    for c in rng.permutation(low):
        far = all(
            math.hypot(cells.x[c] - cells.x[s], cells.y[c] - cells.y[s]) >= 300.0 for s in streets
        )
        if far:
            streets.append(int(c))
        if len(streets) == plan.LOW_STREETS:
            break
    return np.array(sorted(underpass), dtype=int), np.array(sorted(streets), dtype=int)


def _names(n: int) -> list[str]:
    width = len(str(n))
    return [f"{k + 1:0{width}d}" for k in range(n)]


# ------------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class _City:
    """The generated city the network tables are written from: one manhole per grid cell."""

    cells: Any  # layout.grid_cells: the cells, their region and centre
    x: np.ndarray  # (C,) manhole x [m]
    y: np.ndarray  # (C,) manhole y [m]
    rim: np.ndarray  # (C,) [m] manhole rim (below the ground at underpasses and low streets)
    ground: np.ndarray  # (C,) [m] ground elevation
    sewers: Any  # _lay_sewers: inverts, sections, lengths, design flows
    down: np.ndarray  # (C,) the cell each cell drains to (-1: an outlet)
    river_node: dict[int, str]  # outlet cell -> the river node it discharges into
    names: list[str]  # (C,) cell names (J<name> manholes, C<name> conduits)
    underpass: np.ndarray  # cell indices of underpasses
    low_street: np.ndarray  # cell indices of low old streets
    street: np.ndarray  # (C,) [m2] street area of each cell (where a manhole ponds)
    rivers: dict  # river_channels(): the rivers as 1-D channels


def _network_tables(city: _City) -> dict[str, dict[str, list]]:
    """Junctions, the cells' conduits and the rivers (station parts come later).

    A manhole ponds over the streets of its cell (``street``, m²); underpasses and low streets
    over their own roadway. City outlets discharge into their river node through a flap gate.
    """
    cells, sewers, names, rivers = city.cells, city.sewers, city.names, city.rivers
    down, river_node, underpass, low_street = (
        city.down,
        city.river_node,
        city.underpass,
        city.low_street,
    )
    tag = np.full(len(cells), "manhole", dtype=object)
    tag[underpass] = "underpass"
    tag[low_street] = "old_street"
    ponded = np.asarray(city.street, dtype=float).copy()
    ponded[underpass] = plan.UNDERPASS_PONDED_AREA
    ponded[low_street] = plan.LOW_STREET_PONDED_AREA
    junctions = {
        "name": [f"J{s}" for s in names],
        "x": list(city.x),
        "y": list(city.y),
        "invert": list(sewers.invert),
        "max_depth": list(city.rim - sewers.invert),
        "initial_depth": [0.0] * len(cells),
        "ponded_area": list(ponded),
        "ground": list(city.ground),
        "tag": list(tag),
        "region": [layout.REGIONS[r].name for r in cells.region],
    }
    conduits: dict[str, list] = {
        k: []
        for k in (
            "name",
            "from_node",
            "to_node",
            "length",
            "roughness",
            "in_offset",
            "out_offset",
            "shape",
            "geom1",
            "geom2",
            "geom3",
            "geom4",
            "barrels",
            "tag",
            "design_flow",
            "flap_gate",
            "initial_flow",
        )
    }
    river_invert = {n: float(r.bed[k]) for r in rivers.values() for k, n in enumerate(r.nodes)}
    for c, section in enumerate(sewers.sections):
        d = down[c]
        if c in river_node:
            to = river_node[c]
            out_offset = sewers.end_invert[c] - river_invert[to]
        elif d >= 0 and not sewers.inlet[c]:
            to = f"J{names[d]}"
            out_offset = sewers.end_invert[c] - sewers.invert[d]
        else:
            to, out_offset = "", 0.0  # into a station's inner river: set with the station
        _add_conduit(
            conduits,
            f"C{names[c]}",
            f"J{names[c]}",
            to,
            sewers.length[c],
            section,
            0.0,
            out_offset,
            sewers.flow[c],
            flap_gate=c in river_node,
        )
    outfalls: dict[str, list] = {
        k: [] for k in ("name", "x", "y", "invert", "stage", "gated", "river", "tag")
    }
    inflows: dict[str, list] = {"node": [], "flow": [], "river": []}
    tables = river_tables(rivers)
    for row in tables["junctions"]:
        for key in junctions:
            junctions[key].append(
                {
                    "ponded_area": 0.0,
                    "initial_depth": 0.0,
                    "ground": np.nan,
                    "tag": "river",
                    "region": row["river"],
                }.get(key, row.get(key))
            )
    for row in tables["outfalls"]:
        stage = layout.river(row["river"]).normal_stage
        for key, value in {**row, "stage": stage, "gated": False, "tag": "river_gauge"}.items():
            if key in outfalls:
                outfalls[key].append(value)
    for row in tables["conduits"]:
        p = next(rp for rp in plan.RIVER_PLANS if rp.name == row["river"])
        _add_row(
            conduits,
            name=row["name"],
            from_node=row["from_node"],
            to_node=row["to_node"],
            length=row["length"],
            roughness=row["roughness"],
            in_offset=0.0,
            out_offset=row["out_offset"],
            shape="TRAPEZOIDAL",
            geom1=row["height"],
            geom2=row["width"],
            geom3=row["side_slope"],
            geom4=row["side_slope"],
            barrels=1,
            tag="river",
            design_flow=p.flood_flow,
            flap_gate=False,
            initial_flow=0.0,
        )
    for row in tables["inflows"]:
        for key in inflows:
            inflows[key].append(row[key])
    storage: dict[str, list] = {
        k: [] for k in ("name", "x", "y", "invert", "max_depth", "curve", "initial_depth", "tag")
    }
    pumps: dict[str, list] = {k: [] for k in ("name", "from_node", "to_node", "curve", "station")}
    orifices: dict[str, list] = {
        k: []
        for k in (
            "name",
            "from_node",
            "to_node",
            "offset",
            "coeff",
            "gated",
            "height",
            "width",
            "tag",
        )
    }
    return {
        "junctions": junctions,
        "outfalls": outfalls,
        "conduits": conduits,
        "storage": storage,
        "pumps": pumps,
        "orifices": orifices,
        "inflows": inflows,
    }


def _add_row(table, **row) -> None:
    for key, value in row.items():
        table[key].append(value)


def _add_conduit(
    table, name, frm, to, length, section, in_offset, out_offset, flow, *, flap_gate=False
) -> None:
    shape, g1, g2, g3, g4 = section.swmm()
    _add_row(
        table,
        name=name,
        from_node=frm,
        to_node=to,
        length=float(length),
        roughness=section.roughness,
        in_offset=float(in_offset),
        out_offset=float(max(out_offset, 0.0)),
        shape=shape,
        geom1=g1,
        geom2=g2,
        geom3=g3,
        geom4=g4,
        barrels=section.barrels,
        tag=section.kind,
        design_flow=float(flow),
        flap_gate=flap_gate,
        initial_flow=0.0,
    )


def _stations(outlets, sewers, forest, names, cell_area, ground, tables, rivers):
    """Inner rivers (storage), pumps and gravity sluices of the polder stations.

    Every sewer of a station's catchment that discharges into the inner river (the catchment's
    trunks and the one that used to reach the station) ends at its storage unit; pumps and the
    sluice lift from it into the nearest node of the station's river.
    """
    records, curves = [], []
    conduits = tables["conduits"]
    position = {name: k for k, name in enumerate(conduits["name"])}
    for o in outlets:
        if o.station is None:
            continue
        spec = next(s for s in plan.STATIONS if s.key == o.station)
        river = rivers[spec.river]
        mine = forest.root == o.cell
        inlets = np.flatnonzero(mine & sewers.inlet)
        d = design_station(
            capacity=spec.capacity,
            pumps=spec.pumps,
            inlet_inverts=sewers.end_invert[inlets],
            ground=ground[mine],
            cell_area=cell_area[mine],
            flood_stage=layout.river(spec.river).flood_stage,
        )
        ir = f"IR_{spec.key}"
        for c in inlets:
            k = position[f"C{names[c]}"]
            conduits["to_node"][k] = ir
            conduits["out_offset"][k] = float(sewers.end_invert[c] - d.bed)
        wx, wy = spec.position
        at = layout.nearest_on_polyline(layout.river(spec.river).xy(), wx, wy)
        node = river.nodes[river.nearest(*at)]
        area_curve = f"SA_{spec.key}"
        curves.append((area_curve, "STORAGE", d.stage_area))
        _add_row(
            tables["storage"],
            name=ir,
            x=wx,
            y=wy,
            invert=d.bed,
            max_depth=d.top - d.bed,
            curve=area_curve,
            initial_depth=d.drawdown_level - d.bed,
            tag="inner_river",
        )
        curve = f"PC_{spec.key}"
        curves.append((curve, "PUMP3", tuple(pump_curve(d))))
        pump_names = [f"P_{spec.key}_{u + 1}" for u in range(spec.pumps)]
        for pname in pump_names:
            _add_row(
                tables["pumps"],
                name=pname,
                from_node=ir,
                to_node=node,
                curve=curve,
                station=spec.name,
            )
        sluice = f"SL_{spec.key}"
        _add_row(
            tables["orifices"],
            name=sluice,
            from_node=ir,
            to_node=node,
            offset=d.sluice_sill - d.bed,
            coeff=plan.SLUICE_COEFF,
            gated=True,
            height=plan.SLUICE_HEIGHT,
            width=d.sluice_width,
            tag="sluice",
        )
        records.append(
            {
                "name": spec.name,
                "name_zh": spec.name_zh,
                "key": spec.key,
                "pumps": pump_names,
                "wet_well": ir,
                "outfall": node,
                "sluice": sluice,
                "polder": spec.polder,
                "river": spec.river,
                "design_capacity": spec.capacity,
                "catchment_area": float(cell_area[mine].sum()),
                "design_head": round(d.design_head, 3),
                "design": d,
                "source": spec.source,
            }
        )
    return records, curves


def _subcatchments(cells, jx, jy, ground, land_use, imperviousness, names, extra, rng):
    """One subcatchment per cell; ``extra`` cells (drawn by the seed) split into two halves."""
    split = set(rng.choice(len(cells), size=extra, replace=False).tolist()) if extra else set()
    h = cells.size / 2
    sx = city.ground_elevation(cells.x + h, cells.y) - city.ground_elevation(cells.x - h, cells.y)
    sy = city.ground_elevation(cells.x, cells.y + h) - city.ground_elevation(cells.x, cells.y - h)
    slope = np.clip(np.hypot(sx, sy) / cells.size, *plan.SLOPE_RANGE)
    rows = []
    for c in range(len(cells)):
        x0, x1 = cells.x[c] - h, cells.x[c] + h
        y0, y1 = cells.y[c] - h, cells.y[c] + h
        parts = [(x0, cells.x[c]), (cells.x[c], x1)] if c in split else [(x0, x1)]
        for a, b in parts:
            rows.append((c, a, b, y0, y1))
    width = len(str(len(rows)))
    lu = plan.LAND_USES
    table: dict[str, list] = {
        k: []
        for k in (
            "name",
            "outlet",
            "area",
            "imperviousness",
            "width",
            "slope",
            "land_use",
            "polygon",
        )
    }
    for k, (c, a, b, y0, y1) in enumerate(rows):
        area = (b - a) * (y1 - y0)
        table["name"].append(f"S{k + 1:0{width}d}")
        table["outlet"].append(f"J{names[c]}")
        table["area"].append(area)
        table["imperviousness"].append(float(imperviousness[c]))
        table["width"].append(area / lu[land_use[c]].flow_length)
        table["slope"].append(float(slope[c]))
        table["land_use"].append(lu[land_use[c]].name)
        table["polygon"].append(((a, y0), (b, y0), (b, y1), (a, y1)))
    return pd.DataFrame(table)


def _points(names, underpass, low_street, cells) -> list[dict]:
    out = []
    for k, c in enumerate(underpass):
        out.append(
            {
                "node": f"J{names[c]}",
                "kind": "underpass",
                "name": f"underpass {k + 1}",
                "name_zh": f"下穿通道{k + 1}",
            }
        )
    for k, c in enumerate(low_street):
        out.append(
            {
                "node": f"J{names[c]}",
                "kind": "old_street",
                "name": f"old-town low street {k + 1}",
                "name_zh": f"老城区低洼街道{k + 1}",
            }
        )
    return sorted(out, key=operator.itemgetter("kind", "node"))
