"""Sizing the sewers of the synthetic drainage model: the rational method and Manning's formula.

Design follows Chinese practice (GB 50014): the design flow of a sewer is ``Q = q(t, P)·ψ·F``
with ``q`` from the city's storm intensity formula, ``t = t1 + t2`` (inlet time plus the flow
time in the sewers upstream), ``P`` the design return period, ``ψ`` the runoff coefficient and
``F`` the area drained. Each sewer takes the smallest standard section whose full-flow capacity
(Manning) at its slope carries ``Q``; slopes follow the ground but never fall below the size's
minimum. Inverts are set from the top of each tree downwards: a minimum cover under the ground,
crowns matched at manholes, and a manhole never above any sewer leaving it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from hydro.rain import LSHA_TO_M_PER_S, StormFormula
from hydro.synth.drainage import plan


@dataclass(frozen=True)
class Section:
    """A conduit's cross-section: circular pipe, box culvert (RECT_CLOSED) or open trapezoid."""

    kind: str  # "pipe", "box" or "channel"
    height: float  # m: diameter, culvert height, or bank height of a channel
    width: float = 0.0  # m: culvert width or channel bottom width (0 for pipes)
    barrels: int = 1
    min_slope: float = 0.0

    @property
    def roughness(self) -> float:
        return plan.ROUGHNESS[self.kind]

    def flow_area_radius(self) -> tuple[float, float]:
        """Area (m², all barrels) and hydraulic radius (m) at the design depth."""
        if self.kind == "pipe":
            area, radius = math.pi * self.height**2 / 4, self.height / 4
        elif self.kind == "box":
            area = self.width * self.height
            radius = area / (2 * (self.width + self.height))
        else:
            y = self.height - plan.CHANNEL_FREEBOARD
            z = plan.CHANNEL_SIDE_SLOPE
            area = (self.width + z * y) * y
            radius = area / (self.width + 2 * y * math.sqrt(1 + z * z))
        return area * self.barrels, radius

    def capacity(self, slope: float) -> float:
        """Full-flow (design-depth) capacity in m³/s at ``slope`` (Manning)."""
        area, radius = self.flow_area_radius()
        return area * radius ** (2 / 3) * math.sqrt(slope) / self.roughness

    def swmm(self) -> tuple[str, float, float, float, float]:
        """SWMM [XSECTIONS] shape and Geom1..Geom4."""
        if self.kind == "pipe":
            return "CIRCULAR", self.height, 0.0, 0.0, 0.0
        if self.kind == "box":
            return "RECT_CLOSED", self.height, self.width, 0.0, 0.0
        z = plan.CHANNEL_SIDE_SLOPE
        return "TRAPEZOIDAL", self.height, self.width, z, z


CATALOG = tuple(
    [Section("pipe", d, min_slope=s) for d, s in plan.CIRCULAR]
    + [Section("box", h, w, n, plan.BOX_MIN_SLOPE) for w, h, n in plan.BOXES]
)


def _channel(flow: float, slope: float) -> Section:
    """The narrowest trapezoidal channel (0.5 m steps) carrying ``flow`` at ``slope``."""
    lo, hi = plan.CHANNEL_WIDTHS
    for width in np.arange(lo, hi + 0.25, 0.5):
        section = Section("channel", plan.CHANNEL_DEPTH, float(width), 1, plan.CHANNEL_MIN_SLOPE)
        if section.capacity(slope) >= flow:
            return section
    return section  # widest allowed: the model floods there, which the tests would show


def choose_section(flow: float, ground_slope: float) -> tuple[Section, float]:
    """Smallest standard section carrying ``flow`` (m³/s) and the slope it is laid at.

    The slope follows the ground where it falls faster than the section's minimum slope. Beyond
    the largest culvert, an open channel.
    """
    fall = min(max(ground_slope, 0.0), plan.MAX_SEWER_SLOPE)
    for section in CATALOG:
        slope = max(section.min_slope, fall)
        if section.capacity(slope) >= flow:
            return section, slope
    slope = max(plan.CHANNEL_MIN_SLOPE, min(fall, 0.002))
    return _channel(flow, slope), slope


# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SewerDesign:
    """Each cell's outgoing conduit (to its downstream cell or to its outlet); shape (n_cells,)."""

    sections: tuple[Section, ...]
    slope: np.ndarray  # m/m
    length: np.ndarray  # m
    flow: np.ndarray  # m³/s, design flow
    time: np.ndarray  # min, concentration time at the cell's manhole
    invert: np.ndarray  # m, manhole invert = start of the outgoing conduit
    end_invert: np.ndarray  # m, invert at the downstream end of the outgoing conduit
    inlet: np.ndarray  # bool: the conduit discharges into the polder's inner river


def design_sewers(
    *,
    order,
    down,
    length,
    rim,
    rim_next,
    ground,
    ground_next,
    runoff_area,
    return_period,
    polder,
    formula: StormFormula,
) -> SewerDesign:
    """Size every cell's outgoing conduit and set the inverts.

    ``order``: cells from the top of the trees down (every cell after all cells upstream of it).
    ``down``: downstream cell, -1 where the conduit leaves for an outlet. ``length`` (m) of each
    outgoing conduit; ``rim`` (m) the manhole's rim (ground, lowered at underpasses) and
    ``rim_next`` the rim at the conduit's downstream end (inf at an outlet); ``ground``
    and ``ground_next`` (m) the ground at both ends; ``runoff_area`` = ψ·F (m²) of each cell;
    ``return_period`` (years) and ``polder`` (bool) per cell.

    In a polder, a sewer whose design flow exceeds POLDER_INLET_FLOW (and every sewer leaving
    for the station) discharges into the polder's inner river (内河) instead of the next cell:
    its flow goes no further down the tree.
    """
    n = len(order)
    area_up = np.asarray(runoff_area, dtype=float).copy()
    time = np.full(n, plan.INLET_TIME)
    invert_cap = np.full(n, np.inf)  # lowest end invert of sewers arriving
    crown_cap = np.full(n, np.inf)  # lowest end crown of sewers arriving
    sections: list[Section | None] = [None] * n
    slope = np.zeros(n)
    flow = np.zeros(n)
    invert = np.zeros(n)
    end_invert = np.zeros(n)
    inlet = np.zeros(n, dtype=bool)
    for u in order:
        q = float(formula.q(time[u], return_period[u]))  # L/(s·ha)
        flow[u] = q * LSHA_TO_M_PER_S * area_up[u]
        inlet[u] = bool(polder[u]) and (flow[u] > plan.POLDER_INLET_FLOW or down[u] < 0)
        fall = (ground[u] - ground_next[u]) / length[u]
        section, slope[u] = choose_section(flow[u], fall)
        cover = 0.0 if section.kind == "channel" else plan.MIN_COVER
        # The conduit's top stays under the rims at both of its ends.
        top = min(rim[u], rim_next[u] + slope[u] * length[u]) - cover
        start = min(top - section.height, invert_cap[u], crown_cap[u] - section.height)
        if section.kind == "channel":  # banks reach the ground wherever the bed sits
            section = dataclasses.replace(section, height=top - start - 0.01)
        sections[u] = section
        invert[u] = start
        end_invert[u] = start - slope[u] * length[u]
        d = down[u]
        if d >= 0 and not inlet[u]:
            area, _ = section.flow_area_radius()
            v = min(
                max(section.capacity(slope[u]) / area, plan.VELOCITY_RANGE[0]),
                plan.VELOCITY_RANGE[1],
            )
            area_up[d] += area_up[u]
            time[d] = max(time[d], time[u] + length[u] / v / 60.0)
            invert_cap[d] = min(invert_cap[d], end_invert[u])
            crown_cap[d] = min(crown_cap[d], end_invert[u] + section.height)
    _match_crowns(down, inlet, sections, invert, end_invert)
    sized = [s for s in sections if s is not None]
    assert len(sized) == n  # ``order`` holds every cell
    return SewerDesign(
        tuple(sized),
        slope,
        np.asarray(length, dtype=float),
        flow,
        time,
        invert,
        end_invert,
        inlet,
    )


def _match_crowns(down, inlet, sections, invert, end_invert) -> None:
    """Lower the end of every sewer that arrives above the crown of the sewer leaving its
    manhole, so that the crowns match (in place).

    A branch laid from the top with the least cover reaches a deep trunk high above it; a drop
    of metres into a surcharged manhole gives SWMM a node whose highest crown is far above the
    trunk's, and its iterations stop converging there. Matching crowns steepens the branch's
    last length instead (its capacity only grows).
    """
    for u, d in enumerate(down):
        if d < 0 or inlet[u]:
            continue
        crown = invert[d] + sections[d].height
        end_invert[u] = min(end_invert[u], max(crown - sections[u].height, invert[d]))


def runoff_coefficient(imperviousness):
    """Composite runoff coefficient ψ of the rational method."""
    imp = np.asarray(imperviousness, dtype=float)
    return plan.RUNOFF_COEFF_IMPERVIOUS * imp + plan.RUNOFF_COEFF_PERVIOUS * (1 - imp)


# ------------------------------------------------------------------------------------------------
# Polder pump stations and their inner rivers (内河)


@dataclass(frozen=True)
class StationDesign:
    """Levels (m), the inner river's stage-area curve and the pumps of one polder station.

    The inner river and ponds of the station's catchment are one storage unit (a level pool, the
    平湖 of Chinese drainage calculations): sewers discharge into it, pumps and the gravity sluice
    draw from it.
    """

    bed: float  # inner-river bed
    drawdown_level: float  # 预降水位: where the stations hold it before a storm
    normal_level: float  # 常水位: NORMAL_BELOW_BANK below the lowest land
    design_level: float  # 设计内水位: the pumps' rated head is taken from it
    highest_level: float  # 最高控制水位: the lowest land stays dry below it
    bank: float  # the lowest ground of the catchment
    top: float  # storage top: above any ground of the catchment
    stage_area: tuple[tuple[float, float], ...]  # (depth above bed m, area m²)
    pump_on: tuple[float, ...]  # levels at which each unit starts
    pump_off: tuple[float, ...]  # levels at which each unit stops
    unit_flow: float  # m³/s, rated flow of one unit
    design_head: float  # m, rated head
    outer_design_level: float  # 设计外水位: the river's level the rated head lifts to
    sluice_width: float  # m
    sluice_sill: float  # m, sill level of the gravity sluice


def design_station(
    *, capacity: float, pumps: int, inlet_inverts, ground, cell_area, flood_stage: float
) -> StationDesign:
    """Inner-river levels and stage-area curve, pump levels and curve, sluice of one station.

    ``inlet_inverts`` (m) are the outlet inverts of the sewers discharging into the inner river
    (the bed lies at or below the deepest);
    ``ground`` and ``cell_area`` (m, m²) describe every cell of the station's catchment (its
    hypsometry: flood water above the bank spreads over the land lower than its level);
    ``flood_stage`` (m) is the river's guaranteed level.
    """
    ground = np.asarray(ground, dtype=float)
    cell_area = np.asarray(cell_area, dtype=float)
    catchment = float(cell_area.sum())
    bank = float(ground.min())
    # the sewers' outlets may lie below the normal level (submerged), not below the bed
    normal = bank - plan.NORMAL_BELOW_BANK
    drawdown = normal - plan.DRAWDOWN
    bed = min(drawdown - plan.INNER_RIVER_DEPTH, float(np.min(inlet_inverts)))
    highest = bank - plan.HIGHEST_BELOW_BANK
    design = normal + plan.DESIGN_ABOVE_NORMAL
    top = float(ground.max()) + plan.STORAGE_ABOVE_GROUND
    stage_area = _stage_area(bed, normal, bank, top, ground, cell_area, catchment)
    first = normal + plan.FIRST_PUMP_ABOVE_NORMAL
    step = (design - first) / max(pumps - 1, 1)
    on = tuple(first + k * step for k in range(pumps))
    off = tuple(drawdown + k * (normal - drawdown) / pumps for k in range(pumps))
    outer = flood_stage + plan.OUTER_LEVEL_ALLOWANCE
    highest_head = plan.RECORD_STAGE + plan.OUTER_LEVEL_ALLOWANCE - drawdown
    head = max(outer - design + plan.PUMP_HEAD_LOSS, highest_head / plan.MAX_HEAD_RATIO)
    velocity = math.sqrt(2 * 9.81 * plan.SLUICE_DESIGN_HEAD)
    width = plan.SLUICE_FLOW_FACTOR * capacity / (plan.SLUICE_COEFF * plan.SLUICE_HEIGHT * velocity)
    return StationDesign(
        bed,
        drawdown,
        normal,
        design,
        highest,
        bank,
        top,
        stage_area,
        on,
        off,
        capacity / pumps,
        head,
        outer,
        round(width, 2),
        bed + plan.SLUICE_SILL,
    )


def _stage_area(bed, normal, bank, top, ground, cell_area, catchment):
    """(depth, area) of the inner river: WATER_SURFACE_RATIO of the catchment at the normal level,
    narrower at the bed, wider at the bank (sloping banks, ponds); above the bank the land lower
    than the water (the catchment's hypsometry), the whole catchment at the top."""
    water = plan.WATER_SURFACE_RATIO * catchment
    points = [
        (bed, plan.BED_AREA_SHARE * water),
        (normal, water),
        (bank, plan.BANK_AREA_SHARE * water),
    ]
    order = np.argsort(ground, kind="stable")
    below = np.cumsum(cell_area[order])
    for level in np.arange(bank + plan.STAGE_AREA_STEP, top, plan.STAGE_AREA_STEP):
        flooded = (
            float(below[np.searchsorted(ground[order], level, side="left") - 1])
            if level > ground[order][0]
            else 0.0
        )
        points.append((float(level), flooded))
    points.append((top, catchment))
    out, last = [], 0.0
    for level, area in points:
        last = max(last, area)  # a storage curve never narrows upwards
        out.append((round(level - bed, 3), round(last, 1)))
    return tuple(dict(out).items())


def pump_curve(design: StationDesign) -> list[tuple[float, float]]:
    """TYPE3 (head, flow) points of one unit, scaled from PUMP_CURVE."""
    return [(h * design.design_head, f * design.unit_flow) for h, f in plan.PUMP_CURVE]
