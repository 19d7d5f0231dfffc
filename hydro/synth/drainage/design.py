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


def choose_section(flow: float, ground_slope: float, *, polder: bool) -> tuple[Section, float]:
    """Smallest standard section carrying ``flow`` (m³/s) and the slope it is laid at.

    The slope follows the ground where it falls faster than the section's minimum slope. In a
    polder, trunks above POLDER_CHANNEL_FLOW are open drains.
    """
    fall = min(max(ground_slope, 0.0), plan.MAX_SEWER_SLOPE)
    for section in CATALOG:
        if polder and flow > plan.POLDER_CHANNEL_FLOW:
            break
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
    for u in order:
        q = float(formula.q(time[u], return_period[u]))  # L/(s·ha)
        flow[u] = q * LSHA_TO_M_PER_S * area_up[u]
        fall = (ground[u] - ground_next[u]) / length[u]
        section, slope[u] = choose_section(flow[u], fall, polder=bool(polder[u]))
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
        if d >= 0:
            area, _ = section.flow_area_radius()
            v = min(
                max(section.capacity(slope[u]) / area, plan.VELOCITY_RANGE[0]),
                plan.VELOCITY_RANGE[1],
            )
            area_up[d] += area_up[u]
            time[d] = max(time[d], time[u] + length[u] / v / 60.0)
            invert_cap[d] = min(invert_cap[d], end_invert[u])
            crown_cap[d] = min(crown_cap[d], end_invert[u] + section.height)
    return SewerDesign(
        tuple(sections), slope, np.asarray(length, dtype=float), flow, time, invert, end_invert
    )


def runoff_coefficient(imperviousness):
    """Composite runoff coefficient ψ of the rational method."""
    imp = np.asarray(imperviousness, dtype=float)
    return plan.RUNOFF_COEFF_IMPERVIOUS * imp + plan.RUNOFF_COEFF_PERVIOUS * (1 - imp)


# ------------------------------------------------------------------------------------------------
# Pump stations


@dataclass(frozen=True)
class StationDesign:
    """Levels and sizes of one pump station (elevations in m, flows in m³/s)."""

    wet_well_invert: float
    wet_well_depth: float
    wet_well_area: float  # m²
    pump_on: tuple[float, ...]  # m, wet-well depths at which each unit starts
    pump_off: tuple[float, ...]
    unit_flow: float
    design_head: float  # m
    chamber_invert: float
    chamber_depth: float
    chamber_area: float  # m²
    outfall_invert: float
    outlet: Section  # discharge conduit to the river
    outlet_slope: float
    sluice_width: float  # m
    sluice_offset: float  # m above the wet-well floor


def design_station(
    *,
    capacity: float,
    pumps: int,
    trunk_invert: float,
    ground: float,
    outlet_length: float,
    normal_stage: float,
    flood_stage: float,
) -> StationDesign:
    """Wet well, pumps, discharge chamber and sluice of a polder pump station."""
    ww_invert = trunk_invert - plan.SUMP_DEPTH
    ww_depth = max(ground + 0.5, trunk_invert + 2.0) - ww_invert
    on = tuple(plan.SUMP_DEPTH + plan.FIRST_PUMP_ON + k * plan.PUMP_ON_STEP for k in range(pumps))
    off = tuple(plan.PUMP_OFF_DEPTH + k * plan.PUMP_ON_STEP / 2 for k in range(pumps))
    head = flood_stage + plan.PUMP_HEAD_LOSS - (ww_invert + on[-1])
    outfall_invert = normal_stage - plan.STATION_OUTLET_BELOW_NORMAL
    outlet, slope = choose_section(capacity * plan.SLUICE_FLOW_FACTOR, 0.0, polder=False)
    chamber_invert = outfall_invert + slope * outlet_length
    chamber_depth = flood_stage + plan.DISCHARGE_WALL_ABOVE_FLOOD - chamber_invert
    velocity = math.sqrt(2 * 9.81 * plan.SLUICE_DESIGN_HEAD)
    width = plan.SLUICE_FLOW_FACTOR * capacity / (plan.SLUICE_COEFF * plan.SLUICE_HEIGHT * velocity)
    return StationDesign(
        ww_invert,
        ww_depth,
        plan.WET_WELL_AREA_PER_FLOW * capacity,
        on,
        off,
        capacity / pumps,
        max(head, 1.0),
        chamber_invert,
        chamber_depth,
        plan.CHAMBER_AREA_PER_FLOW * capacity,
        outfall_invert,
        outlet,
        slope,
        round(width, 2),
        max(plan.SUMP_DEPTH, round(chamber_invert - ww_invert + 0.01, 2)),
    )


def pump_curve(design: StationDesign) -> list[tuple[float, float]]:
    """TYPE3 (head, flow) points of one unit, scaled from PUMP_CURVE."""
    return [(h * design.design_head, f * design.unit_flow) for h, f in plan.PUMP_CURVE]
