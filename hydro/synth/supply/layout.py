"""Where the water-supply model's nodes and pipes are: zone street grids, plants, mains, valves.

The distribution network of each supply zone is a jittered street lattice: trunk mains run along
every few rows and columns (a looped grid), and the streets between two trunk columns are
dead-end distribution mains fed from one trunk. A few cross links close small loops.
Around the grids sit the fixed works: the three sources (raw water, intake or lift pumps, raw-water
mains, clear-water wells, high-lift pumps), the transmission mains into the zones and the
interconnection mains between zones. Secondary-supply booster stations are added later, once land
use says where the high-rise compounds are (:func:`add_boosters`).

Everything here is geometry and topology in local metres (see :mod:`hydro.synth.city`); sizes,
materials and demands are decided by the other ``supply_*`` modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hydro.synth import city

ZONE_CODES = {"main": "M", "devzone": "D", "east": "E"}

# (A) Arterial (trunk) mains every ~2 km in both directions; between them the distribution pipes
# of the streets, each street fed from one trunk. A few cross links (5 % of the lattice's
# north-south street edges) close loops.
TRUNK_SPACING = 2000.0
CROSS_FRACTION = 0.05
JITTER = 0.2  # fraction of the lattice spacing by which nodes move off the lattice


@dataclass
class Node:
    id: str
    kind: str  # junction | tank | reservoir
    x: float  # local metres east of the centre
    y: float  # local metres north of the centre
    zone: str = ""  # supply zone, "" for raw-water and plant works
    role: str = "grid"  # grid | works | building


@dataclass
class Link:
    id: str
    kind: str  # pipe | pump | valve
    start: str
    end: str
    # pipes: street | cross | trunk | transmission | raw | interconnection | inlet;
    # pumps: intake | raw_booster | station (high-lift) | booster; valves: raw | interconnection
    role: str
    length: float = 0.0  # m (pipes)
    diameter: float = 0.0  # m (pipes, valves); decided by supply_sizing unless fixed here
    zone: str = ""
    status: str = "OPEN"  # initial status: OPEN | CLOSED


@dataclass
class Tank:
    id: str
    bottom: float  # m, elevation of the tank bottom
    init: float  # m, initial level above the bottom
    min_level: float
    max_level: float
    diameter: float  # m


@dataclass
class SourcePlan:
    name: str
    name_zh: str
    reservoir: str
    head: float  # m, raw-water level
    clear_well: str
    header: str  # high-lift discharge junction
    intake_pumps: list[str]
    raw_booster_pumps: list[str]
    high_lift_pumps: list[str]
    standby_pumps: list[str]
    raw_main: list[str]
    transmission: list[str]
    isolation_links: list[str]
    flow_control_valve: str
    default_open: bool
    capacity: float  # m3/s, plant design output
    zones: list[str]  # zones its transmission mains enter


@dataclass
class InterconnectionPlan:
    name: str
    name_zh: str
    valve: str
    pipes: list[str]
    zones: tuple[str, str]
    default_open: bool


@dataclass
class BoosterPlan:
    name: str
    zone: str
    site: str  # grid junction the compound draws from
    tank: str
    inlet: str
    pumps: list[str]  # duty first, then standby
    building: str  # junction carrying the compound's demand
    population: int


@dataclass
class Layout:
    """The model's elements before sizing: mutable while the generator builds it."""

    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    tanks: dict[str, Tank] = field(default_factory=dict)
    sources: list[SourcePlan] = field(default_factory=list)
    interconnections: list[InterconnectionPlan] = field(default_factory=list)
    boosters: list[BoosterPlan] = field(default_factory=list)
    trunk_nodes: set[str] = field(default_factory=set)

    def node_index(self) -> dict[str, int]:
        return {n.id: i for i, n in enumerate(self.nodes)}

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def add_pipe(
        self,
        pipe_id: str,
        start: str,
        end: str,
        role: str,
        *,
        length: float,
        diameter: float = 0.0,
        zone: str = "",
        status: str = "OPEN",
    ) -> Link:
        link = Link(
            pipe_id,
            "pipe",
            start,
            end,
            role,
            length=round(max(length, 1.0), 1),
            diameter=diameter,
            zone=zone,
            status=status,
        )
        self.links.append(link)
        return link


# ------------------------------------------------------------------------------------------------
# Zone street grids


@dataclass(frozen=True)
class ZoneGrid:
    """One zone's lattice: node coordinates, edges as index pairs, which nodes are on trunks."""

    x: np.ndarray
    y: np.ndarray
    a: np.ndarray
    b: np.ndarray
    role: np.ndarray  # street | cross | trunk per edge
    trunk: np.ndarray  # bool per node


def zone_grid(
    box: city.Box,
    n: int,
    rng: np.random.Generator,
    *,
    trunk_spacing: float = TRUNK_SPACING,
    cross_fraction: float = CROSS_FRACTION,
) -> ZoneGrid:
    """A connected street lattice of exactly ``n`` nodes filling ``box`` row by row."""
    w, h = box.xmax - box.xmin, box.ymax - box.ymin
    spacing = math.sqrt(w * h / n)
    nx = max(2, round(w / spacing))
    ny = math.ceil(n / nx)
    sx, sy = w / nx, h / ny
    idx = np.arange(n)
    col, row = idx % nx, idx // nx
    x = box.xmin + (col + 0.5) * sx + rng.uniform(-JITTER, JITTER, n) * sx
    y = box.ymin + (row + 0.5) * sy + rng.uniform(-JITTER, JITTER, n) * sy
    kc = max(2, round(trunk_spacing / sx))
    kr = max(2, round(trunk_spacing / sy))
    # Trunk lines centred in the zone so that edge strips are shorter than a full block.
    trunk_cols = np.arange((nx // 2) % kc, nx, kc)
    trunk_rows = np.arange((ny // 2) % kr, ny, kr)
    is_tcol = np.isin(np.arange(nx), trunk_cols)
    is_trow = np.isin(np.arange(ny), trunk_rows)

    def node_at(r: int, c: int) -> int:
        k = r * nx + c
        return k if k < n else -1

    edges: list[tuple[int, int, str]] = []
    # East-west edges: trunk rows in full; street rows as dead-end mains fed from one trunk.
    for r in range(ny):
        if is_trow[r]:
            edges.extend(
                (node_at(r, c), node_at(r, c + 1), "trunk")
                for c in range(nx - 1)
                if node_at(r, c + 1) >= 0
            )
    full_street = [r for r in range(ny) if not is_trow[r] and node_at(r, nx - 1) >= 0]
    paired = _pair_rows(full_street)
    for r in range(ny):
        if is_trow[r] or r in paired.values():
            continue
        for span in _spans(nx, trunk_cols):
            edges.extend(_street(node_at, r, paired.get(r), span, rng))
    # North-south edges: trunk columns in full, elsewhere a few cross links.
    for r in range(ny - 1):
        for c in range(nx):
            i, j = node_at(r, c), node_at(r + 1, c)
            if j < 0:
                continue
            if is_tcol[c]:
                edges.append((i, j, "trunk"))
            elif rng.random() < cross_fraction:
                edges.append((i, j, "cross"))
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    role = np.array([e[2] for e in edges], dtype=object)
    a, b, role = _connect(n, nx, a, b, role)
    trunk = is_trow[row] | is_tcol[col]
    return ZoneGrid(x, y, a, b, role, trunk)


Span = tuple[int, int, int | None, int | None]


def _spans(nx: int, trunk_cols: np.ndarray) -> list[Span]:
    """Runs of non-trunk columns (first, last) with the trunk column on each side (or None)."""
    spans: list[Span] = []
    prev, c = None, 0
    for t in [*map(int, trunk_cols), nx]:
        if t > c:
            spans.append((c, t - 1, prev, t if t < nx else None))
        prev, c = t, t + 1
    return spans


def _pair_rows(rows: list[int]) -> dict[int, int]:
    """Adjacent street rows taken two by two: {first row: second row}."""
    pairs: dict[int, int] = {}
    k = 0
    while k + 1 < len(rows):
        if rows[k + 1] == rows[k] + 1:
            pairs[rows[k]] = rows[k + 1]
            k += 2
        else:
            k += 1
    return pairs


def _street(node_at, r: int, r2: int | None, span: Span, rng: np.random.Generator):
    """The distribution main of one block: fed from one trunk column, dead-ended.

    A single row is a chain from the feeding trunk; a pair of rows is a U: along row ``r`` away
    from the trunk, across to row ``r2`` at the far end and back. Long mains fed from one end
    carry the demand of every node beyond them, as a skeleton model's pipes do.
    """
    c0, c1, left, right = span
    cols = [c for c in range(c0, c1 + 1) if node_at(r, c) >= 0]
    if not cols:
        return []
    sides = [t for t in (left, right) if t is not None and node_at(r, t) >= 0]
    if not sides:
        return []
    feed = sides[int(rng.integers(len(sides)))] if len(sides) == 2 else sides[0]
    near = cols[0] if feed == left else cols[-1]
    far = cols[-1] if feed == left else cols[0]
    out = [(node_at(r, min(feed, near)), node_at(r, max(feed, near)), "street")]
    out += [(node_at(r, c), node_at(r, c + 1), "street") for c in cols[:-1]]
    if r2 is not None:
        out += [(node_at(r2, c), node_at(r2, c + 1), "street") for c in cols[:-1]]
        out.append((node_at(r, far), node_at(r2, far), "street"))
    return out


def _connect(n: int, nx: int, a: np.ndarray, b: np.ndarray, role: np.ndarray):
    """Add north-south links until the lattice is one connected piece (deterministic)."""
    while True:
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        count, label = connected_components(graph, directed=False)
        if count == 1:
            return a, b, role
        # Join every component but node 0's to a neighbouring one, through the first lattice
        # neighbour outside it (left or right only within the same row).
        new_a, new_b = [], []
        joined: set[int] = set()
        for i in range(n):
            comp = label[i]
            if comp in joined or comp == label[0]:
                continue
            for j in (i - nx, i + nx, i - 1, i + 1):
                if 0 <= j < n and label[j] != comp and (abs(j - i) == nx or j // nx == i // nx):
                    new_a.append(min(i, j))
                    new_b.append(max(i, j))
                    joined.add(comp)
                    break
        a = np.concatenate([a, np.array(new_a, dtype=np.int64)])
        b = np.concatenate([b, np.array(new_b, dtype=np.int64)])
        role = np.concatenate([role, np.array(["cross"] * len(new_a), dtype=object)])


def add_zone_grid(layout: Layout, zone: city.Box, grid: ZoneGrid) -> None:
    """Append a zone's lattice as junctions ``J<code>-nnnnn`` and pipes ``P<code>-nnnnn``."""
    code = ZONE_CODES[zone.name]
    width = max(5, len(str(len(grid.x))))
    ids = [f"J{code}-{k + 1:0{width}d}" for k in range(len(grid.x))]
    for k, node_id in enumerate(ids):
        layout.nodes.append(
            Node(
                node_id, "junction", float(grid.x[k]), float(grid.y[k]), zone=zone.name, role="grid"
            )
        )
        if grid.trunk[k]:
            layout.trunk_nodes.add(node_id)
    lengths = np.hypot(grid.x[grid.a] - grid.x[grid.b], grid.y[grid.a] - grid.y[grid.b])
    width = max(5, len(str(len(grid.a))))
    for k in range(len(grid.a)):
        layout.add_pipe(
            f"P{code}-{k + 1:0{width}d}",
            ids[grid.a[k]],
            ids[grid.b[k]],
            str(grid.role[k]),
            length=float(lengths[k]),
            zone=zone.name,
        )


def nearest(
    layout: Layout, point: tuple[float, float], *, zone: str, trunk_only: bool = True
) -> str:
    """The grid junction of ``zone`` nearest ``point`` (a trunk node unless told otherwise)."""
    best, best_d = "", math.inf
    for n in layout.nodes:
        if n.zone != zone or n.role != "grid":
            continue
        if trunk_only and n.id not in layout.trunk_nodes:
            continue
        d = (n.x - point[0]) ** 2 + (n.y - point[1]) ** 2
        if d < best_d:
            best, best_d = n.id, d
    return best


def _dist(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _path(
    points: list[tuple[float, float]], count: int, *, wiggle: float
) -> list[tuple[float, float]]:
    """``count`` intermediate points along a polyline, pushed sideways by a smooth meander."""
    xy = np.asarray(points, dtype=float)
    seg = np.hypot(*np.diff(xy, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.linspace(0.0, s[-1], count + 2)[1:-1]
    px = np.interp(at, s, xy[:, 0])
    py = np.interp(at, s, xy[:, 1])
    # Sideways offset perpendicular to the straight line from start to end.
    dx, dy = xy[-1] - xy[0]
    norm = math.hypot(dx, dy)
    ox, oy = -dy / norm, dx / norm
    off = wiggle * np.sin(np.linspace(0.0, 3.0 * math.pi, count + 2)[1:-1])
    return [
        (float(u + off[k] * ox), float(v + off[k] * oy))
        for k, (u, v) in enumerate(zip(px, py, strict=True))
    ]


# ------------------------------------------------------------------------------------------------
# Sources, transmission and interconnection mains (fixed works; all names are stable)

# (A) Plant capacities (design output) and station layouts.
SHUIYANG_CAPACITY = 150_000 / 86_400  # m3/s
QINGYI_CAPACITY = 60_000 / 86_400
GANGKOUWAN_CAPACITY = 100_000 / 86_400
# (A) The flow-control valve's default cap when Gangkouwan is opened: a first phase of
# 50,000 m3/d, which the network takes without re-scheduling the other plants.
GANGKOUWAN_FIRST_PHASE = 50_000 / 86_400
CLEAR_WELL = {  # diameter m, max level m: about 8 % of a day's design output
    "shuiyang": (55.0, 5.0),
    "qingyi": (36.0, 5.0),
    "gangkouwan": (45.0, 5.0),
}


def _source(name: str) -> city.Source:
    return next(s for s in city.SOURCES if s.name == name)


def _clear_well(layout: Layout, source: city.Source, prefix: str, init: float) -> str:
    diameter, max_level = CLEAR_WELL[source.name]
    tank_id = f"{prefix}-CW"
    x, y = source.plant
    layout.nodes.append(Node(tank_id, "tank", x, y, role="works"))
    bottom = float(city.ground_elevation(x, y)) - 1.0  # (A) half-buried clear-water well
    layout.tanks[tank_id] = Tank(tank_id, round(bottom, 2), init, 0.5, max_level, diameter)
    return tank_id


def _pumps(
    layout: Layout, ids: list[str], start: str, end: str, role: str, statuses: list[str]
) -> None:
    for pump_id, status in zip(ids, statuses, strict=True):
        layout.links.append(Link(pump_id, "pump", start, end, role, status=status))


def _raw_main(
    layout: Layout,
    prefix: str,
    start: str,
    end: str,
    points: list[tuple[float, float]],
    total_length: float,
    diameter: float,
    first: int = 1,
    first_node: int = 1,
) -> list[str]:
    """Equal-length raw-water pipes ``<prefix>-RMnn`` through new junctions at ``points``."""
    ids = []
    nodes = [start]
    for k, (x, y) in enumerate(points):
        node_id = f"{prefix}-R{first_node + k:02d}"
        layout.nodes.append(Node(node_id, "junction", x, y, role="works"))
        nodes.append(node_id)
    nodes.append(end)
    seg = total_length / (len(nodes) - 1)
    for k in range(len(nodes) - 1):
        pipe_id = f"{prefix}-RM{first + k:02d}"
        layout.add_pipe(pipe_id, nodes[k], nodes[k + 1], "raw", length=seg, diameter=diameter)
        ids.append(pipe_id)
    return ids


def add_shuiyang(layout: Layout) -> SourcePlan:
    """(F) Main source today: intake on the 水阳江 east of the city, plant on the east side."""
    src = _source("shuiyang")
    ix, iy = src.intake
    px, py = src.plant
    layout.nodes.append(Node("SY-RIVER", "reservoir", ix, iy, role="works"))
    layout.nodes.append(Node("SY-INTAKE", "junction", ix - 50.0, iy, role="works"))
    cw = _clear_well(layout, src, "SY", init=3.5)
    intake = ["SY-IP1", "SY-IP2", "SY-IP3"]
    _pumps(layout, intake, "SY-RIVER", "SY-INTAKE", "intake", ["OPEN"] * 3)
    points = _path([(ix - 50.0, iy), (px, py)], 2, wiggle=60.0)
    raw = _raw_main(layout, "SY", "SY-INTAKE", cw, points, src.raw_main_km * 1000.0, 1.4)
    layout.nodes.append(Node("SY-HDR", "junction", px - 60.0, py, role="works"))
    high = ["SY-HP1", "SY-HP2", "SY-HP3", "SY-HP4"]
    _pumps(layout, high, cw, "SY-HDR", "station", ["OPEN", "OPEN", "OPEN", "CLOSED"])
    # Transmission: a short main into the east zone; a long one west to the main zone that
    # splits into a northern and a southern feed.
    east = nearest(layout, (px - 500.0, py), zone="east")
    layout.add_pipe(
        "SY-TM1", "SY-HDR", east, "transmission", length=1.1 * _dist((px, py), _xy(layout, east))
    )
    layout.nodes.append(Node("SY-TMJ", "junction", 3050.0, py, role="works"))
    layout.add_pipe(
        "SY-TM2", "SY-HDR", "SY-TMJ", "transmission", length=1.1 * _dist((px, py), (3050.0, py))
    )
    north = nearest(layout, (1500.0, 1300.0), zone="main")
    south = nearest(layout, (1500.0, -1500.0), zone="main")
    layout.add_pipe(
        "SY-TM3",
        "SY-TMJ",
        north,
        "transmission",
        length=1.1 * _dist((3050.0, py), _xy(layout, north)),
    )
    layout.add_pipe(
        "SY-TM4",
        "SY-TMJ",
        south,
        "transmission",
        length=1.1 * _dist((3050.0, py), _xy(layout, south)),
    )
    return SourcePlan(
        "shuiyang",
        src.name_zh,
        "SY-RIVER",
        src.water_level,
        cw,
        "SY-HDR",
        intake,
        [],
        high,
        ["SY-HP4"],
        raw,
        ["SY-TM1", "SY-TM2", "SY-TM3", "SY-TM4"],
        [],
        "",
        True,
        SHUIYANG_CAPACITY,
        ["east", "main"],
    )


def add_qingyi(layout: Layout) -> SourcePlan:
    """(F) 青弋江 intake at 文昌: 23.6 km raw-water main with one lift and one booster station."""
    src = _source("qingyi")
    ix, iy = src.intake
    px, py = src.plant
    layout.nodes.append(Node("QY-RIVER", "reservoir", ix, iy, role="works"))
    layout.nodes.append(Node("QY-LIFT", "junction", ix + 50.0, iy + 20.0, role="works"))
    cw = _clear_well(layout, src, "QY", init=3.5)
    lift = ["QY-LP1", "QY-LP2", "QY-LP3"]
    _pumps(layout, lift, "QY-RIVER", "QY-LIFT", "intake", ["OPEN"] * 3)
    # The booster station sits half-way along the main (by pipe length).
    route = _path([(ix + 50.0, iy + 20.0), (px, py)], 9, wiggle=900.0)
    bx, by = route[4]
    first_half, second_half = route[:4], route[5:]
    layout.nodes.append(Node("QY-BS-S", "junction", bx - 20.0, by, role="works"))
    layout.nodes.append(Node("QY-BS-D", "junction", bx + 20.0, by, role="works"))
    half = src.raw_main_km * 1000.0 / 2.0
    raw = _raw_main(layout, "QY", "QY-LIFT", "QY-BS-S", first_half, half, 1.0)
    raw += _raw_main(
        layout,
        "QY",
        "QY-BS-D",
        cw,
        second_half,
        half,
        1.0,
        first=len(raw) + 1,
        first_node=len(first_half) + 1,
    )
    booster = ["QY-BP1", "QY-BP2", "QY-BP3"]
    _pumps(layout, booster, "QY-BS-S", "QY-BS-D", "raw_booster", ["OPEN"] * 3)
    layout.nodes.append(Node("QY-HDR", "junction", px + 60.0, py, role="works"))
    high = ["QY-HP1", "QY-HP2", "QY-HP3", "QY-HP4"]
    _pumps(layout, high, cw, "QY-HDR", "station", ["OPEN", "OPEN", "OPEN", "CLOSED"])
    layout.nodes.append(Node("QY-TMJ", "junction", -7950.0, py + 300.0, role="works"))
    layout.add_pipe(
        "QY-TM1",
        "QY-HDR",
        "QY-TMJ",
        "transmission",
        length=1.1 * _dist((px, py), (-7950.0, py + 300.0)),
    )
    north = nearest(layout, (-6000.0, 1200.0), zone="devzone")
    south = nearest(layout, (-5500.0, -1500.0), zone="devzone")
    layout.add_pipe(
        "QY-TM2",
        "QY-TMJ",
        north,
        "transmission",
        length=1.1 * _dist((-7950.0, py + 300.0), _xy(layout, north)),
    )
    layout.add_pipe(
        "QY-TM3",
        "QY-TMJ",
        south,
        "transmission",
        length=1.1 * _dist((-7950.0, py + 300.0), _xy(layout, south)),
    )
    return SourcePlan(
        "qingyi",
        src.name_zh,
        "QY-RIVER",
        src.water_level,
        cw,
        "QY-HDR",
        lift,
        booster,
        high,
        ["QY-HP4"],
        raw,
        ["QY-TM1", "QY-TM2", "QY-TM3"],
        [],
        "",
        True,
        QINGYI_CAPACITY,
        ["devzone"],
    )


def add_gangkouwan(layout: Layout) -> SourcePlan:
    """(F) 港口湾水库; (A) gravity main of 45 km to a new plant on the south-east edge, closed."""
    src = _source("gangkouwan")
    rx, ry = src.intake
    px, py = src.plant
    layout.nodes.append(Node("GKW-RES", "reservoir", rx, ry, role="works"))
    cw = _clear_well(layout, src, "GKW", init=2.0)
    # Reservoir -> raw main -> flow-control valve -> isolating pipe -> clear-water well. Both the
    # valve and the pipe start closed (an FCV behind a closed pipe would warn at every step);
    # opening the source opens the pipe and makes the valve active at its setting, the flow cap.
    layout.nodes.append(Node("GKW-FCV-U", "junction", px + 80.0, py - 80.0, role="works"))
    layout.nodes.append(Node("GKW-FCV-D", "junction", px + 50.0, py - 50.0, role="works"))
    points = _path([(rx, ry), (px + 80.0, py - 80.0)], 8, wiggle=2500.0)
    raw = _raw_main(layout, "GKW", "GKW-RES", "GKW-FCV-U", points, src.raw_main_km * 1000.0, 1.2)
    layout.links.append(
        Link("GKW-FCV", "valve", "GKW-FCV-U", "GKW-FCV-D", "raw", diameter=1.2, status="CLOSED")
    )
    layout.add_pipe("GKW-ISO", "GKW-FCV-D", cw, "raw", length=70.0, diameter=1.2, status="CLOSED")
    layout.nodes.append(Node("GKW-HDR", "junction", px - 60.0, py + 40.0, role="works"))
    high = ["GKW-HP1", "GKW-HP2", "GKW-HP3"]
    _pumps(layout, high, cw, "GKW-HDR", "station", ["CLOSED"] * 3)
    # The new plant ties into the big mains: the Shuiyang transmission main where it splits
    # (feeding the east and main zones) and the main zone's southern feed point.
    tie = next(ln.end for ln in layout.links if ln.id == "SY-TM4")
    layout.add_pipe(
        "GKW-TM1",
        "GKW-HDR",
        "SY-TMJ",
        "transmission",
        length=1.1 * _dist((px, py), _xy(layout, "SY-TMJ")),
    )
    layout.add_pipe(
        "GKW-TM2", "GKW-HDR", tie, "transmission", length=1.1 * _dist((px, py), _xy(layout, tie))
    )
    return SourcePlan(
        "gangkouwan",
        src.name_zh,
        "GKW-RES",
        src.water_level,
        cw,
        "GKW-HDR",
        [],
        [],
        high,
        [],
        raw,
        ["GKW-TM1", "GKW-TM2"],
        ["GKW-ISO"],
        "GKW-FCV",
        False,
        GANGKOUWAN_CAPACITY,
        ["east", "main"],
    )


def _xy(layout: Layout, node_id: str) -> tuple[float, float]:
    n = layout.node(node_id)
    return n.x, n.y


# (A) Interconnection mains (互济通道): where they cross the zone borders and whether their valve is
# normally open. Main-east both draw on the Shuiyang plant and stay open; the two mains to the
# development zone are normally closed mutual-aid links opened when one source fails.
INTERCONNECTIONS = (
    (
        "main_devzone_north",
        "主城区—经开区北互济通道",
        "IC-MD1",
        ("main", "devzone"),
        (-2700.0, 1500.0),
        (-3300.0, 1500.0),
        False,
    ),
    (
        "main_devzone_south",
        "主城区—经开区南互济通道",
        "IC-MD2",
        ("main", "devzone"),
        (-2700.0, -2000.0),
        (-3300.0, -2000.0),
        False,
    ),
    (
        "main_east",
        "主城区—东部片区互济通道",
        "IC-ME1",
        ("main", "east"),
        (2700.0, 2000.0),
        (3300.0, 2000.0),
        True,
    ),
)


def add_interconnections(layout: Layout) -> None:
    for name, name_zh, code, zones, pa, pb, default_open in INTERCONNECTIONS:
        node_a = nearest(layout, pa, zone=zones[0])
        node_b = nearest(layout, pb, zone=zones[1])
        xa, ya = _xy(layout, node_a)
        xb, yb = _xy(layout, node_b)
        mx, my = (xa + xb) / 2.0, (ya + yb) / 2.0
        layout.nodes.append(Node(f"{code}-A", "junction", mx - 10.0, my, role="works"))
        layout.nodes.append(Node(f"{code}-B", "junction", mx + 10.0, my, role="works"))
        p1 = layout.add_pipe(
            f"{code}-P1", node_a, f"{code}-A", "interconnection", length=_dist((xa, ya), (mx, my))
        )
        p2 = layout.add_pipe(
            f"{code}-P2", f"{code}-B", node_b, "interconnection", length=_dist((xb, yb), (mx, my))
        )
        layout.links.append(
            Link(
                f"{code}-V",
                "valve",
                f"{code}-A",
                f"{code}-B",
                "interconnection",
                status="OPEN" if default_open else "CLOSED",
            )
        )
        layout.interconnections.append(
            InterconnectionPlan(name, name_zh, f"{code}-V", [p1.id, p2.id], zones, default_open)
        )


def works_junction_count() -> int:
    """Junctions outside the zone grids: plants, raw and transmission mains, valves, buildings."""
    probe = Layout()
    for zone in city.ZONES:  # a tiny stand-in grid so that `nearest` finds trunk nodes
        probe.nodes.append(Node(f"probe-{zone.name}", "junction", 0.0, 0.0, zone.name))
        probe.trunk_nodes.add(f"probe-{zone.name}")
    add_shuiyang(probe)
    add_qingyi(probe)
    add_gangkouwan(probe)
    add_interconnections(probe)
    works = sum(1 for n in probe.nodes if n.kind == "junction" and n.role == "works")
    return works + BOOSTER_COUNT


# ------------------------------------------------------------------------------------------------
# Secondary-supply booster stations (二次供水)

BOOSTER_COUNT = 21  # (F) the 2024 work plan's 21 secondary-supply facilities
BOOSTERS_PER_ZONE = {"main": 14, "east": 4, "devzone": 3}  # (A)


def add_boosters(layout: Layout, sites: list[tuple[str, str, int]]) -> None:
    """One station per (zone, site junction, population): tank, duty + standby pump, building."""
    for k, (zone, site, population) in enumerate(sites, start=1):
        name = f"BS{k:02d}"
        sx, sy = _xy(layout, site)
        layout.nodes.append(Node(f"{name}-T", "tank", sx + 25.0, sy + 25.0, zone, role="works"))
        layout.nodes.append(
            Node(f"{name}-B", "junction", sx + 60.0, sy + 60.0, zone, role="building")
        )
        layout.add_pipe(f"{name}-IN", site, f"{name}-T", "inlet", length=35.0, zone=zone)
        pumps = [f"{name}-P1", f"{name}-P2"]
        _pumps(layout, pumps, f"{name}-T", f"{name}-B", "booster", ["OPEN", "CLOSED"])
        layout.boosters.append(
            BoosterPlan(name, zone, site, f"{name}-T", f"{name}-IN", pumps, f"{name}-B", population)
        )
