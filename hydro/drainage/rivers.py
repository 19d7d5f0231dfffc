"""Rivers modelled as 1D channels: their steady water-surface profile, the run's initial state.

A river that a model carries as a chain of open-channel conduits (the sidecar lists its ``nodes``,
see :class:`~hydro.drainage.assets.River`) starts a run full of water: its flow and level at the
start must be those of the river's upstream inflow and its downstream stage, or SWMM spends the
first hours filling or draining the channel (tens of millions of m3 through the boundary, and a
flood wave that is not in the scenario). :func:`with_steady_rivers` writes that state into the
INP: each river junction's initial depth, from a
gradually-varied steady profile (standard step method, Manning friction, velocity head ignored:
Chow 1959, ch. 10) marched upstream from the stage at the river's outfall, with the flows of the
[INFLOWS] at the start of the run summed down the rivers.

Sections: TRAPEZOIDAL and RECT_OPEN conduits (what a river channel is written as). Units: the
model's own on input and output, SI inside.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hydro.drainage.assets import River
from hydro.drainage.inp import SwmmInput, si_factors
from hydro.errors import InputError

_SHAPES = ("TRAPEZOIDAL", "RECT_OPEN")


@dataclass(frozen=True)
class _Reach:
    """One river conduit, SI: from ``up`` to ``down``, bed levels at both ends."""

    name: str
    up: str
    down: str
    length: float
    roughness: float
    bed_up: float
    bed_down: float
    width: float  # bottom width
    side: float  # mean side slope, horizontal per vertical

    def area_radius(self, depth: float) -> tuple[float, float]:
        depth = max(depth, 1e-6)
        area = (self.width + self.side * depth) * depth
        wet = self.width + 2.0 * depth * math.sqrt(1.0 + self.side * self.side)
        return area, area / wet

    def friction_slope(self, flow: float, depth: float) -> float:
        """Manning: S_f = (n Q / (A R^(2/3)))^2."""
        area, radius = self.area_radius(depth)
        return (self.roughness * flow / (area * radius ** (2.0 / 3.0))) ** 2

    def level_upstream(self, flow: float, level_down: float) -> float:
        """Water level at ``up`` given ``level_down``: z_u = z_d + L (S_f,u + S_f,d) / 2.

        f(z_u) = z_u - z_d - L·mean(S_f) grows with z_u (friction falls as the section deepens),
        so bisection finds the root; the level never drops below the downstream one.
        """
        if flow <= 0.0:
            return max(level_down, self.bed_up)
        s_down = self.friction_slope(flow, level_down - self.bed_down)

        def excess(z_up: float) -> float:
            s_up = self.friction_slope(flow, z_up - self.bed_up)
            return z_up - level_down - 0.5 * self.length * (s_up + s_down)

        lo = max(level_down, self.bed_up + 0.01)
        hi = lo + 1.0
        while excess(hi) < 0.0:
            hi = lo + 2.0 * (hi - lo)
            if hi - lo > 1e4:
                raise InputError(
                    f"river conduit {self.name!r}: no steady water level carries "
                    f"{flow:g} m3/s; is the channel far too small?"
                )
        if excess(lo) >= 0.0:
            return lo
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if excess(mid) < 0.0:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)


@dataclass(frozen=True)
class RiverProfile:
    """The steady state of the modelled rivers at the start of a run (SI)."""

    levels: dict[str, float]  # node -> water level (m)
    flows: dict[str, float]  # river conduit -> flow (m3/s)


def river_profile(inp: SwmmInput, rivers: Sequence[River]) -> RiverProfile:
    """Steady levels and flows of the channel rivers (``rivers``: a model's assets' rivers; those
    without nodes are skipped) at the start of the run."""
    rivers = [r for r in rivers if r.is_channel]
    if not rivers:
        return RiverProfile({}, {})
    f = si_factors(inp.flow_units)
    reaches = _reaches(inp, rivers, f.length)
    flows = _flows(inp, rivers, reaches, f.flow)
    levels = _boundary_levels(inp, rivers, reaches, f.length)
    pending = {r.up: r for r in reaches.values()}  # every river node but the outfalls feeds one
    while pending:
        ready = [r for r in pending.values() if r.down in levels]
        if not ready:
            left = ", ".join(sorted(pending)[:3])
            raise InputError(
                f"{inp.label}: river node(s) {left} drain to no outfall whose stage "
                "is known; a modelled river must end at an outfall or on another "
                "modelled river"
            )
        for reach in ready:
            levels[reach.up] = reach.level_upstream(flows[reach.name], levels[reach.down])
            del pending[reach.up]
    return RiverProfile(levels, flows)


def with_steady_rivers(inp: SwmmInput, rivers: Sequence[River]) -> SwmmInput:
    """``inp`` with its channel rivers starting at their steady levels (see the module
    docstring): the initial depths of the river junctions. ``rivers`` are the model's assets'
    rivers; without channel rivers ``inp`` is returned unchanged.

    The conduits' initial flows stay 0: SWMM gives a conduit with an initial flow its normal
    depth, not the depth of its end nodes, and the difference in volume would appear from
    nowhere (a continuity error of tens of per cent). With the levels right, the flows build up
    in the first minutes of routing.
    """
    profile = river_profile(inp, rivers)
    if not profile.levels:
        return inp
    f = si_factors(inp.flow_units)
    junctions = {t[0]: t for t in inp.rows("JUNCTIONS")}
    rows = {}
    for node, level in profile.levels.items():
        if node not in junctions:
            continue  # outfalls and storage units keep their own initial state
        t = list(junctions[node]) + ["0"] * (4 - len(junctions[node]))
        invert, full = float(t[1]) * f.length, float(t[2]) * f.length
        depth = max(level - invert, 0.0)
        if full > 0:
            depth = min(depth, full)
        t[3] = f"{depth / f.length:.4f}"
        rows[node] = t
    return inp.replace_rows("JUNCTIONS", rows)


# ------------------------------------------------------------------------------------------------


def _node_inverts(inp: SwmmInput) -> dict[str, float]:
    out = {}
    for section in ("JUNCTIONS", "OUTFALLS", "STORAGE", "DIVIDERS"):
        for t in inp.rows(section):
            if len(t) > 1:
                out[t[0]] = _float(t[1], inp, section, t[0])
    return out


def _float(token: str, inp: SwmmInput, section: str, element: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise InputError(f"{inp.label}: [{section}] {element}: {token!r} is not a number") from None


def _reaches(inp: SwmmInput, rivers: Sequence[River], to_m: float) -> dict[str, _Reach]:
    """The river conduits joining each river's consecutive nodes, by name."""
    inverts = _node_inverts(inp)
    by_ends = {(t[1], t[2]): t for t in inp.rows("CONDUITS") if len(t) > 4}
    xsections = {t[0]: t for t in inp.rows("XSECTIONS")}
    elevation_offsets = inp.options.get("LINK_OFFSETS", "DEPTH").upper().startswith("ELEV")
    reaches: dict[str, _Reach] = {}
    for river in rivers:
        for up, down in zip(river.nodes[:-1], river.nodes[1:], strict=True):
            row = by_ends.get((up, down))
            if row is None:
                raise InputError(
                    f"{inp.label}: river {river.name!r}: no conduit from {up!r} to "
                    f"{down!r}; the sidecar lists its nodes from upstream to "
                    "downstream, each joined to the next by one conduit"
                )
            name = row[0]
            xs = xsections.get(name)
            if xs is None or xs[1].upper() not in _SHAPES:
                shape = xs[1] if xs is not None else "no"
                raise InputError(
                    f"{inp.label}: river conduit {name!r} has a {shape} section; "
                    f"a river channel is written as {' or '.join(_SHAPES)}"
                )
            g = [_float(v, inp, "XSECTIONS", name) for v in (xs[2:6] + ["0"] * 4)[:4]]
            side = 0.5 * (g[2] + g[3]) if xs[1].upper() == "TRAPEZOIDAL" else 0.0
            offsets = [(row[k] if len(row) > k else "0") for k in (5, 6)]
            beds = [
                _bed(inp, name, node, offset, inverts, elevation_offsets) * to_m
                for node, offset in ((up, offsets[0]), (down, offsets[1]))
            ]
            length = _float(row[3], inp, "CONDUITS", name) * to_m
            roughness = _float(row[4], inp, "CONDUITS", name)
            reaches[name] = _Reach(
                name, up, down, length, roughness, beds[0], beds[1], g[1] * to_m, side
            )
    return reaches


def _bed(
    inp: SwmmInput,
    link: str,
    node: str,
    offset: str,
    inverts: dict[str, float],
    elevation_offsets: bool,
) -> float:
    """Bed level (model units) of a conduit's end at ``node``."""
    if offset == "*":
        return inverts[node]
    value = _float(offset, inp, "CONDUITS", link)
    return value if elevation_offsets else inverts[node] + value


def _flows(
    inp: SwmmInput, rivers: Sequence[River], reaches: dict[str, _Reach], to_cms: float
) -> dict[str, float]:
    """Flow (m3/s) in each river conduit: the start-of-run inflows of every node upstream."""
    local = _start_inflows(inp, to_cms)
    down = {r.up: r for r in reaches.values()}
    upstream: dict[str, list[str]] = {}
    for r in reaches.values():
        upstream.setdefault(r.down, []).append(r.up)
    total: dict[str, float] = {}

    def carried(node: str) -> float:
        if node not in total:
            total[node] = local.get(node, 0.0) + sum(carried(u) for u in upstream.get(node, ()))
        return total[node]

    return {down[node].name: carried(node) for node in down}


def _start_inflows(inp: SwmmInput, to_cms: float) -> dict[str, float]:
    """[INFLOWS] of FLOW at the start of the run, m3/s, by node: Sfactor x the series' first
    value + Baseline (patterns and later values ignored: the profile is the starting state)."""
    first: dict[str, float] = {}
    for t in inp.rows("TIMESERIES"):
        if t[0] not in first and len(t) >= 3:
            try:
                first[t[0]] = float(t[-1])
            except ValueError:
                continue
    out: dict[str, float] = {}
    for t in inp.rows("INFLOWS"):
        if len(t) < 3 or t[1].upper() != "FLOW":
            continue
        t = t + [""] * (8 - len(t))
        series = first.get(t[2], 0.0) if t[2] else 0.0
        sfactor = float(t[5]) if t[5] else 1.0
        baseline = float(t[6]) if t[6] else 0.0
        out[t[0]] = out.get(t[0], 0.0) + (sfactor * series + baseline) * to_cms
    return out


def _boundary_levels(
    inp: SwmmInput, rivers: Sequence[River], reaches: dict[str, _Reach], to_m: float
) -> dict[str, float]:
    """Water level (m) at the start of the run at each river outfall."""
    table = inp.outfalls()
    first = {}
    for t in inp.rows("TIMESERIES"):
        if t[0] not in first and len(t) >= 3:
            first[t[0]] = t[-1]
    ends = {r.down for r in reaches.values()}
    levels = {}
    for river in rivers:
        for node in river.nodes:
            if node not in table.index or node not in ends:
                continue
            row = table.loc[node]
            kind, data = row["outfall_type"], row["stage_data"]
            invert = float(row["invert_elevation"]) * to_m
            if kind == "FIXED":
                level = float(data) * to_m
            elif kind == "TIMESERIES" and data in first:
                level = float(first[data]) * to_m
            else:
                raise InputError(
                    f"{inp.label}: river outfall {node!r} is {kind}; a modelled "
                    "river ends at a FIXED or TIMESERIES stage"
                )
            levels[node] = max(level, invert)
    return levels
