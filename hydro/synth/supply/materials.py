"""What the pipes are made of, when they were laid, how rough they are, which were renewed in 2024.

(A) Every rule here is an assumption in the spirit of Chinese city networks: grey cast iron and
galvanised steel in the old centre (the "backward materials", 落后管材, that the 2024 plan
replaces), ductile iron and PVC from the 1990s, PE and ductile iron since. Hazen-Williams C falls
with age at a rate that depends on the material.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hydro.synth.supply.layout import Layout

BASE_YEAR = 2024
BACKWARD = ("CI", "GS")  # grey cast iron, galvanised steel
MATERIALS = {
    # code: (description, C when new, C lost per year, lowest C)
    "CI": ("grey cast iron (灰口铸铁)", 130.0, 1.0, 75.0),
    "GS": ("galvanised steel (镀锌钢管)", 120.0, 1.3, 70.0),
    "DI": ("ductile iron, cement-lined (球墨铸铁)", 140.0, 0.3, 110.0),
    "PVC": ("PVC-U (硬聚氯乙烯)", 145.0, 0.15, 130.0),
    "PE": ("polyethylene PE100 (聚乙烯)", 145.0, 0.1, 135.0),
    "SP": ("steel, lined (钢管)", 130.0, 0.6, 95.0),
    "PCCP": ("prestressed concrete cylinder (预应力钢筒混凝土管)", 135.0, 0.3, 115.0),
}
# (F) The 2024 work plan: 30.22 km of backward materials and 20.15 km of over-age mains renewed.
RENEWAL_KM = {"backward_material": 30.22, "aged": 20.15}
AGED_BEFORE = 2000  # (A) a non-backward main laid before this year counts as over-age
RENEWED_MATERIAL = "DI"  # (A) what renewal lays
# (A) Fixed works: install years by pipe-id prefix.
WORKS_YEARS = {"SY-RM": 1998, "SY-TM": 2006, "QY-": 2022, "GKW-": 2025, "IC-": 2023, "BS": 2016}


def hazen_williams_c(material: str, year: int) -> float:
    _, new, loss, low = MATERIALS[material]
    return float(max(low, round(new - loss * max(0, BASE_YEAR - year))))


@dataclass(frozen=True)
class PipeAttributes:
    """Per layout pipe (same order as ``pipes``): material, install year, C, renewal class."""

    pipes: list[int]  # layout.links positions of the pipes
    material: list[str]
    year: np.ndarray
    c: np.ndarray
    renewal: list[str]  # backward_material | aged | none


def install_years(layout: Layout, pipes: list[int], rng: np.random.Generator) -> np.ndarray:
    """(A) Older in the old centre, newer in the development zone and the eastern area."""
    index = layout.node_index()
    years = np.zeros(len(pipes), dtype=np.int64)
    for j, k in enumerate(pipes):
        ln = layout.links[k]
        fixed = next((y for prefix, y in WORKS_YEARS.items() if ln.id.startswith(prefix)), None)
        if fixed is not None:
            years[j] = fixed
            continue
        a, b = layout.nodes[index[ln.start]], layout.nodes[index[ln.end]]
        r = math.hypot((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)
        if ln.zone == "main":
            lo, hi = (1972, 2004) if r < 1800.0 else (1985, 2014) if r < 3500.0 else (1995, 2022)
        elif ln.zone == "devzone":
            lo, hi = (1994, 2023)
        else:
            lo, hi = (1990, 2022)
        if ln.role in ("trunk", "transmission"):
            lo += 5  # arterial mains were relaid more recently
        years[j] = rng.integers(lo, hi + 1)
    return years


def material_for(diameter: float, year: int, role: str, u: float) -> str:
    """(A) Material by size, era and role; ``u`` is a uniform draw in [0, 1)."""
    if role == "raw":
        return "PCCP" if diameter >= 1.0 else "DI"
    if role == "transmission" or diameter >= 1.0:
        return "SP"
    if diameter >= 0.3:
        return "CI" if year < 1995 else "DI"
    if year < 1990:
        return "GS" if (u < 0.3 and diameter <= 0.15) else "CI"
    if year < 2005:
        if u < 0.3:
            return "CI"
        return "GS" if (u < 0.5 and diameter <= 0.15) else "PVC"
    if year < 2015:
        return "DI" if u < 0.5 else "PE"
    return "PE" if u < 0.6 else "DI"


def assign(layout: Layout, rng: np.random.Generator) -> PipeAttributes:
    pipes = [k for k, ln in enumerate(layout.links) if ln.kind == "pipe"]
    years = install_years(layout, pipes, rng)
    draws = rng.random(len(pipes))
    material = [
        material_for(layout.links[k].diameter, int(years[j]), layout.links[k].role, float(draws[j]))
        for j, k in enumerate(pipes)
    ]
    c = np.array([hazen_williams_c(m, int(y)) for m, y in zip(material, years, strict=True)])
    renewal = select_renewal(layout, pipes, material, years, rng)
    return PipeAttributes(pipes, material, years, c, renewal)


def select_renewal(
    layout: Layout,
    pipes: list[int],
    material: list[str],
    years: np.ndarray,
    rng: np.random.Generator,
) -> list[str]:
    """Tag the 2024 renewal set: the oldest candidates first (with a little noise) to the length."""
    renewal = ["none"] * len(pipes)
    length = np.array([layout.links[k].length for k in pipes])
    in_grid = np.array([layout.links[k].role in ("street", "cross", "trunk") for k in pipes])
    age = BASE_YEAR - years
    backward = np.array([m in BACKWARD for m in material]) & in_grid
    aged = ~backward & in_grid & (years < AGED_BEFORE)
    if aged.sum() == 0 or length[aged].sum() < RENEWAL_KM["aged"] * 1000.0:
        aged = ~backward & in_grid  # a small model: the oldest of what there is
    for cls, cand in (("backward_material", backward), ("aged", aged)):
        priority = age + rng.uniform(0.0, 8.0, len(pipes))
        order = [
            j for j in np.argsort(-priority, kind="stable") if cand[j] and renewal[j] == "none"
        ]
        for j in _fill(length, order, RENEWAL_KM[cls] * 1000.0):
            renewal[j] = cls
    return renewal


def _fill(
    length: np.ndarray, order: list[int], target: float, *, tolerance: float = 5.0
) -> list[int]:
    """Pipes taken in ``order`` whose lengths add up to ``target`` (m) within ``tolerance``.

    Greedy in priority order; if a gap is left, one chosen pipe is swapped for a left-out one
    whose length closes it best.
    """
    chosen, total = [], 0.0
    for j in order:
        if total + length[j] <= target + tolerance:
            chosen.append(j)
            total += length[j]
            if total >= target - tolerance:
                return chosen
    gap = target - total
    taken = set(chosen)
    left = np.array([j for j in order if j not in taken], dtype=np.int64)
    if not chosen or not len(left):
        return chosen
    have = np.array(chosen, dtype=np.int64)
    by_length = have[np.argsort(length[have], kind="stable")]
    # For each left-out pipe u, the chosen pipe c with length[c] nearest length[u] - gap.
    want = length[left] - gap
    k = np.clip(np.searchsorted(length[by_length], want), 1, len(by_length) - 1)
    k = (
        np.where(
            np.abs(length[by_length[k - 1]] - want) <= np.abs(length[by_length[k]] - want), k - 1, k
        )
        if len(by_length) > 1
        else np.zeros(len(left), dtype=np.int64)
    )
    miss = np.abs(length[by_length[k]] - want)
    best = int(np.argmin(miss))
    if miss[best] < abs(gap):
        chosen[chosen.index(int(by_length[k[best]]))] = int(left[best])
    return chosen


def leak_weight(material: str, year: int) -> float:
    """(A) Relative leakiness per metre: rises with age; backward materials leak 1.5 x more."""
    w = 1.0 + max(0, BASE_YEAR - year) / 25.0
    return w * (1.5 if material in BACKWARD else 1.0)
