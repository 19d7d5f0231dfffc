"""Generator of the bundled Xuancheng water-supply model (seeded, deterministic).

``generate_supply(junctions=3000, seed=2024)`` builds the model in memory and returns the text of
the EPANET INP and of its three sidecars; ``write_supply(path, ...)`` writes them beside each other,
each file atomically. The same arguments always give the same bytes.

What is in it (facts F and assumptions A are listed in networks/xuancheng/README.md):
three sources (Shuiyang river, Qingyi river through a 23.6 km raw-water main with a lift and a
booster station, Gangkouwan reservoir through a 45 km gravity main, closed by default), three
supply zones joined by interconnection mains, 21 secondary-supply booster stations, pipes DN100 to
DN1400 with material, install year and Hazen-Williams C, the 2024 renewal set, land-use demand
with 24 h patterns and leakage as emitters.

The steps live in helper modules: ``supply_layout`` (where things are), ``supply_demand`` (who
uses what), ``supply_sizing`` (diameters from estimated flows), ``supply_materials`` (material,
age, C, renewal), ``supply_works`` (pumps, tanks, controls, leakage), ``supply_inp`` (text).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hydro.errors import ScenarioError, suggest
from hydro.results import atomic_path
from hydro.supply.assets import sidecar_paths
from hydro.synth import city
from hydro.synth.supply import materials
from hydro.synth.supply.demand import PATTERN_IDS, assign_demand, compound_demand, patterns
from hydro.synth.supply.inp import ModelInfo, assets_text, inp_text, nodes_csv, pipes_csv
from hydro.synth.supply.layout import (
    Layout,
    add_boosters,
    add_gangkouwan,
    add_interconnections,
    add_qingyi,
    add_shuiyang,
    add_zone_grid,
    works_junction_count,
    zone_grid,
)
from hydro.synth.supply.sizing import (
    INTERCONNECTION_FLOW,
    LEAKAGE_FRACTION,
    choose_diameter,
    distribution_network,
    estimate,
    hourly_totals,
    node_demand_at,
    size_pipes,
)
from hydro.synth.supply.works import design

DEFAULT_JUNCTIONS = 3000
DEFAULT_SEED = 2024
MIN_ZONE_JUNCTIONS = 60
MAX_JUNCTIONS = 1_000_000
# (A) Share of the distribution junctions in each zone (about its share of the demand).
ZONE_SHARES = {"main": 0.55, "devzone": 0.25, "east": 0.20}
COMPOUND_FILL_FACTOR = 1.5  # booster-tank inflow at the peak hour / compound average (sizing)


@dataclass(frozen=True)
class SupplyModel:
    """The generated model as text: the INP and its sidecars (TOML assets, node and pipe CSVs)."""

    inp: str
    assets: str
    nodes: str
    pipes: str
    junctions: int
    seed: int

    def files(self, inp_path: str | Path) -> dict[Path, str]:
        """Where each text goes when the INP is written to ``inp_path``."""
        paths = sidecar_paths(inp_path)
        return {
            Path(inp_path): self.inp,
            paths["assets"]: self.assets,
            paths["nodes"]: self.nodes,
            paths["pipes"]: self.pipes,
        }


def minimum_junctions() -> int:
    """The fewest junctions the generator accepts: the fixed works plus a minimal grid per zone."""
    return works_junction_count() + 3 * MIN_ZONE_JUNCTIONS


def generate_supply(
    *,
    junctions: int = DEFAULT_JUNCTIONS,
    seed: int = DEFAULT_SEED,
    zone_shares: Mapping[str, float] | None = None,
    inp_name: str = "supply.inp",
) -> SupplyModel:
    """Build the Xuancheng water-supply model with exactly ``junctions`` junctions.

    ``zone_shares`` (optional) weights how the distribution junctions are split between the zones
    ``main``, ``devzone`` and ``east``; zones left out keep their default weight. ``inp_name`` is
    only used to name the sidecars inside the TOML's comments.
    """
    counts = _zone_counts(junctions, seed, zone_shares)
    seeds = np.random.SeedSequence(seed).spawn(3)
    rng_layout, rng_demand, rng_pipes = (np.random.default_rng(s) for s in seeds)

    layout = Layout()
    for zone in city.ZONES:
        add_zone_grid(layout, zone, zone_grid(zone, counts[zone.name], rng_layout))
    layout.sources = [add_shuiyang(layout), add_qingyi(layout), add_gangkouwan(layout)]
    add_interconnections(layout)
    demand, sites = assign_demand(layout, rng_demand)
    add_boosters(layout, sites)
    demand = compound_demand(layout, demand)
    pats = patterns()
    hourly = hourly_totals(demand, pats)
    peak = int(np.argmax(hourly))
    junctions_xy = [(n.id, n.x, n.y) for n in layout.nodes if n.kind == "junction"]
    ground = city.ground_elevation(
        np.array([j[1] for j in junctions_xy]), np.array([j[2] for j in junctions_xy])
    )
    elevation = {j[0]: round(float(z), 2) for j, z in zip(junctions_xy, ground, strict=True)}

    _fixed_diameters(layout)
    net = distribution_network(layout)
    peak_demand = _sizing_demand(layout, demand, pats, peak)
    first = size_pipes(layout, net, peak_demand)
    attrs = materials.assign(layout, rng_pipes)
    c_by_link = dict(zip(attrs.pipes, attrs.c, strict=True))
    c = np.array([c_by_link.get(k, 130.0) for k in net.links])  # valves: as new pipe
    est = estimate(layout, net, peak_demand, c, flow=first.flow)
    works = design(layout, net, est, demand, hourly, peak, attrs, elevation, pats)

    info = ModelInfo(seed=seed, junctions=junctions)
    return SupplyModel(
        inp=inp_text(layout, demand, attrs, works, elevation, pats, info),
        assets=assets_text(layout, info, inp_name),
        nodes=nodes_csv(layout, demand),
        pipes=pipes_csv(layout, attrs),
        junctions=junctions,
        seed=seed,
    )


def write_supply(
    out_path: str | Path,
    *,
    junctions: int = DEFAULT_JUNCTIONS,
    seed: int = DEFAULT_SEED,
    zone_shares: Mapping[str, float] | None = None,
) -> Path:
    """Generate the model and write the INP and its three sidecars beside it, atomically."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".inp":
        raise ScenarioError(f"{out_path}: the output must be an EPANET .inp file name")
    model = generate_supply(
        junctions=junctions, seed=seed, zone_shares=zone_shares, inp_name=out_path.name
    )
    # All four are written to temporary files first and renamed only when every write worked,
    # so that a failure never leaves an INP beside sidecars of another model.
    with contextlib.ExitStack() as stack:
        for path, text in model.files(out_path).items():
            tmp = stack.enter_context(atomic_path(path))
            tmp.write_text(text, encoding="utf-8", newline="\n")
            tmp.chmod(0o644)  # a model file others read, not a private temporary one
    return out_path


# ------------------------------------------------------------------------------------------------


def _zone_counts(junctions, seed, zone_shares) -> dict[str, int]:
    """Distribution junctions per zone, after checking the request makes sense."""
    if isinstance(junctions, bool) or not isinstance(junctions, (int, np.integer)):
        raise ScenarioError(f"junctions must be a whole number, got {junctions!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(f"seed must be a whole number >= 0, got {seed!r}")
    if junctions <= 0:
        raise ScenarioError(f"junctions must be positive, got {junctions}")
    works = works_junction_count()
    least = works + 3 * MIN_ZONE_JUNCTIONS
    if junctions < least:
        raise ScenarioError(
            f"junctions={junctions} is too few for three supply zones: the plants, mains and "
            f"booster stations take {works} and each zone needs at least {MIN_ZONE_JUNCTIONS}, "
            f"so ask for at least {least}"
        )
    if junctions > MAX_JUNCTIONS:
        raise ScenarioError(
            f"junctions={junctions} is more than this generator builds (at most {MAX_JUNCTIONS})"
        )
    shares = dict(ZONE_SHARES)
    for name, value in (zone_shares or {}).items():
        if name not in shares:
            raise ScenarioError(f"zone_shares: unknown zone {name!r}; {suggest(name, ZONE_SHARES)}")
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ScenarioError(f"zone_shares[{name!r}] must be a positive number, got {value!r}")
        shares[name] = float(value)
    grid = junctions - works
    total = sum(shares.values())
    counts = {z: max(MIN_ZONE_JUNCTIONS, math.floor(grid * s / total)) for z, s in shares.items()}
    # Hand out (or take back) the rounding remainder, largest zone first.
    order = sorted(counts, key=lambda z: (-shares[z], z))
    k = 0
    while sum(counts.values()) != grid:
        z = order[k % len(order)]
        step = 1 if sum(counts.values()) < grid else -1
        if counts[z] + step >= MIN_ZONE_JUNCTIONS:
            counts[z] += step
        k += 1
    return counts


def _fixed_diameters(layout: Layout) -> None:
    """Mains whose size is a design decision, not a consequence of today's flows."""
    for src in layout.sources:
        if src.default_open:
            continue
        share = choose_diameter(np.array([src.capacity / len(src.transmission)]), np.array([0.6]))[
            0
        ]
        for ln in layout.links:
            if ln.id in src.transmission:
                ln.diameter = float(share)
    ic = float(choose_diameter(np.array([INTERCONNECTION_FLOW]), np.array([0.3]))[0])
    for plan in layout.interconnections:
        for ln in layout.links:
            if ln.id in plan.pipes or ln.id == plan.valve:
                ln.diameter = ic


LEAK = "leak"  # demand part that does not follow a pattern (leakage, nearly constant)


def _sizing_demand(layout: Layout, demand, pats, peak: int) -> dict[str, dict[str, float]]:
    """Peak-hour withdrawal at each junction by demand pattern, plus a constant leakage part.

    Leakage is spread in proportion to the average demand (its real spread, by pipe length and
    age, is decided later; this is for sizing). Booster stations draw at their site junctions
    (compound tanks filling, residential).
    """
    leak = LEAKAGE_FRACTION / (1.0 - LEAKAGE_FRACTION)
    at_peak = node_demand_at(demand, pats, peak)
    parts: dict[str, dict[str, float]] = {pid: {} for pid in [*pats, LEAK]}
    for i, n in enumerate(layout.nodes):
        if n.role == "grid" and at_peak[i] > 0:
            parts[demand.pattern[i]][n.id] = float(at_peak[i])
            parts[LEAK][n.id] = float(leak * demand.base[i])
    index = layout.node_index()
    for station in layout.boosters:
        average = demand.base[index[station.building]]
        res = parts[PATTERN_IDS["residential"]]
        res[station.site] = res.get(station.site, 0.0) + COMPOUND_FILL_FACTOR * average
    return parts
