"""Who uses the water: a synthetic land-use field, population, base demands and 24 h patterns.

Every grid junction gets one land use (residential, commercial or industrial) drawn from smooth
weights (a commercial core at the centre and sub-centres, industry in the development zone and the
north of the eastern area), a population if residential, and a base demand. Zone totals are fixed
assumptions so that the city's totals do not depend on how many junctions the model has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hydro.synth.supply.layout import BOOSTERS_PER_ZONE, Layout

LAND_USES = ("residential", "commercial", "industrial")
PATTERN_IDS = {"residential": "RES", "commercial": "COM", "industrial": "IND"}

# (A) 24 h demand shapes by land use (normalised to a mean of 1 below).
_SHAPES = {
    "residential": (
        0.45,
        0.35,
        0.30,
        0.30,
        0.35,
        0.55,
        0.95,
        1.45,
        1.55,
        1.25,
        1.05,
        1.05,
        1.20,
        1.05,
        0.90,
        0.85,
        0.95,
        1.20,
        1.55,
        1.65,
        1.50,
        1.30,
        0.95,
        0.65,
    ),
    "commercial": (
        0.30,
        0.25,
        0.25,
        0.25,
        0.30,
        0.40,
        0.60,
        0.95,
        1.30,
        1.50,
        1.55,
        1.60,
        1.55,
        1.45,
        1.45,
        1.40,
        1.40,
        1.40,
        1.45,
        1.40,
        1.20,
        0.95,
        0.65,
        0.45,
    ),
    "industrial": (
        0.80,
        0.78,
        0.76,
        0.76,
        0.78,
        0.85,
        0.95,
        1.10,
        1.20,
        1.22,
        1.22,
        1.18,
        1.05,
        1.15,
        1.22,
        1.22,
        1.18,
        1.10,
        1.00,
        0.95,
        0.92,
        0.90,
        0.88,
        0.85,
    ),
}


def patterns() -> dict[str, tuple[float, ...]]:
    """Pattern id -> 24 hourly multipliers (mean 1, three decimals)."""
    out = {}
    for land_use, shape in _SHAPES.items():
        values = np.asarray(shape) / np.mean(shape)
        out[PATTERN_IDS[land_use]] = tuple(round(float(v), 3) for v in values)
    return out


# (F) about 45万 people served. (A) their split between zones, per-capita domestic use within the
# 120-180 L/d of GB/T 50331, and the zones' commercial and industrial use, chosen so that the
# average day lands at about 13万 m3 delivered (about 14.6万 m3 supplied with 11 % leakage).
POPULATION = 450_000
PER_CAPITA = 0.170  # m3 per person per day, residential (domestic + small shops)
COMPOUND_PER_CAPITA = 0.200  # m3 per person per day in high-rise compounds (A)
ZONE_PLAN = {
    #           population, commercial m3/d, industrial m3/d
    "main": (300_000, 18_000.0, 4_000.0),
    "devzone": (60_000, 3_000.0, 18_000.0),
    "east": (90_000, 4_000.0, 6_000.0),
}
COMPOUND_POPULATION = (2_500, 5_500)  # (A) people in one high-rise compound
BOOSTER_SPACING = 500.0  # m, (A) compounds at least this far apart


@dataclass(frozen=True)
class Demand:
    """Per layout node (aligned with ``layout.nodes``): land use, people, base demand, pattern."""

    land_use: list[str]  # "" for works, tanks and reservoirs
    population: list[int]  # -1 where not applicable
    base: np.ndarray  # m3/s
    pattern: list[str]  # pattern id, "" where there is no demand


def land_use_weights(x: np.ndarray, y: np.ndarray, zone: str) -> np.ndarray:
    """(A) Relative weights (n, 3) of residential, commercial and industrial use at each point."""
    r = np.hypot(x, y)
    com = 0.12 + 1.3 * np.exp(-((r / 1300.0) ** 2))
    com += 0.6 * np.exp(-(((x + 5500.0) ** 2 + y**2) / 900.0**2))  # development-zone centre
    com += 0.6 * np.exp(-(((x - 4500.0) ** 2 + (y - 500.0) ** 2) / 800.0**2))  # eastern centre
    if zone == "devzone":
        res = np.full_like(x, 0.55)
        ind = 0.9 + 0.6 * (x < -5500.0)
    elif zone == "east":
        res = np.full_like(x, 0.9)
        ind = np.where(y > 800.0, 0.55, 0.15)
    else:
        res = np.full_like(x, 1.0)
        ind = np.full_like(x, 0.08)
    return np.stack([res, com, ind], axis=1)


def assign_demand(
    layout: Layout, rng: np.random.Generator
) -> tuple[Demand, list[tuple[str, str, int]]]:
    """Land use, population and base demand of every node, and the booster-station sites.

    Returns the demand table and the sites as (zone, site junction, compound population); the
    caller adds the stations to the layout and then calls :func:`compound_demand`.
    """
    n = len(layout.nodes)
    land_use = [""] * n
    population = [-1] * n
    base = np.zeros(n)
    pattern = [""] * n
    sites: list[tuple[str, str, int]] = []
    for zone, (people, commercial, industrial) in ZONE_PLAN.items():
        idx = np.array(
            [i for i, nd in enumerate(layout.nodes) if nd.zone == zone and nd.role == "grid"]
        )
        x = np.array([layout.nodes[i].x for i in idx])
        y = np.array([layout.nodes[i].y for i in idx])
        weights = land_use_weights(x, y, zone)
        # Categorical draw per node (Gumbel-max), then make sure each use appears at least once.
        gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, weights.shape)))
        use = np.argmax(np.log(weights) + gumbel, axis=1)
        for k in range(3):
            if not np.any(use == k):
                use[int(np.argmax(weights[:, k] / weights.sum(axis=1)))] = k
        density = _density(x, y, zone) * rng.lognormal(0.0, 0.3, len(idx))
        zone_sites = _booster_sites(layout, idx, use, density, BOOSTERS_PER_ZONE[zone], rng)
        compound_people = [
            int(rng.integers(COMPOUND_POPULATION[0] // 10, COMPOUND_POPULATION[1] // 10 + 1)) * 10
            for _ in zone_sites
        ]
        sites += [
            (zone, layout.nodes[i].id, p) for i, p in zip(zone_sites, compound_people, strict=True)
        ]
        res = use == 0
        pop = _integer_split(people - sum(compound_people), np.where(res, density, 0.0))
        com_w = np.where(use == 1, weights[:, 1], 0.0)
        ind_w = np.where(use == 2, rng.lognormal(0.0, 0.6, len(idx)), 0.0)
        demand = (
            pop * PER_CAPITA + commercial * _shares(com_w) + industrial * _shares(ind_w)
        ) / 86_400.0
        for k, i in enumerate(idx):
            land_use[i] = LAND_USES[use[k]]
            population[i] = int(pop[k])
            base[i] = demand[k]
            pattern[i] = PATTERN_IDS[land_use[i]]
    return Demand(land_use, population, base, pattern), sites


def compound_demand(layout: Layout, demand: Demand) -> Demand:
    """Extend the demand table to the booster stations' building junctions added since."""
    extra = len(layout.nodes) - len(demand.land_use)
    land_use = demand.land_use + [""] * extra
    population = demand.population + [-1] * extra
    base = np.concatenate([demand.base, np.zeros(extra)])
    pattern = demand.pattern + [""] * extra
    index = layout.node_index()
    for station in layout.boosters:
        i = index[station.building]
        land_use[i] = "residential"
        population[i] = station.population
        base[i] = station.population * COMPOUND_PER_CAPITA / 86_400.0
        pattern[i] = PATTERN_IDS["residential"]
    return Demand(land_use, population, base, pattern)


def _density(x: np.ndarray, y: np.ndarray, zone: str) -> np.ndarray:
    """(A) Residential density weight: highest in the old centre, flatter in the outer zones."""
    if zone == "main":
        return 0.5 + np.exp(-np.hypot(x, y) / 2500.0)
    return np.full_like(x, 0.6 if zone == "devzone" else 0.7)


def _shares(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else np.full(len(weights), 1.0 / len(weights))


def _integer_split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that add up to ``total`` (largest remainder)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    share = total * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    rest = total - int(out.sum())
    order = np.argsort(-(share - out), kind="stable")
    out[order[:rest]] += 1
    return out


def _booster_sites(
    layout: Layout,
    idx: np.ndarray,
    use: np.ndarray,
    density: np.ndarray,
    count: int,
    rng: np.random.Generator,
) -> list[int]:
    """Residential trunk junctions for the compounds, drawn by density, kept apart."""
    trunk = np.array([layout.nodes[i].id in layout.trunk_nodes for i in idx])
    for pool in (trunk & (use == 0), use == 0, np.ones(len(idx), dtype=bool)):
        cand = np.flatnonzero(pool)
        if len(cand) >= count:
            break
    w = density[cand] / density[cand].sum()
    order = rng.choice(cand, size=len(cand), replace=False, p=w)
    chosen: list[int] = []
    for spacing in (BOOSTER_SPACING, BOOSTER_SPACING / 2, 0.0):
        for k in order:
            if len(chosen) == count:
                break
            i = idx[k]
            if i in chosen:
                continue
            p = layout.nodes[i]
            if all(
                math.hypot(p.x - layout.nodes[j].x, p.y - layout.nodes[j].y) >= spacing
                for j in chosen
            ):
                chosen.append(int(i))
        if len(chosen) == count:
            break
    # Once a site becomes a compound its own land use is residential.
    for i in chosen:
        use[np.flatnonzero(idx == i)] = 0
    return chosen
