"""Pump stations, tanks, controls and leakage of the water-supply model.

Given the sized distribution network and its peak-hour head-loss estimate, this module designs
what runs it: high-lift pump curves for the head the critical node needs, intake/lift/booster pumps
for the raw-water mains, clear-water wells switched by level, the 21 secondary-supply booster
stations with their compound tanks, and the emitter coefficients that make leakage the target
share of supply. All values in SI; the INP writer converts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hydro.synth.city import ground_elevation
from hydro.synth.supply.demand import COMPOUND_PER_CAPITA, Demand
from hydro.synth.supply.layout import GANGKOUWAN_FIRST_PHASE, Layout, SourcePlan, Tank
from hydro.synth.supply.materials import PipeAttributes, leak_weight
from hydro.synth.supply.sizing import (
    CW_LEVEL,
    HEAD_MARGIN,
    LEAKAGE_FRACTION,
    P_MIN,
    FlowEstimate,
    G,
    Network,
    PumpCurve,
    centrifugal,
    choose_diameter,
    hw_resistance,
    raw_main_loss,
)

CW_USUAL = 3.0  # m, (A) usual clear-well level (intake switches keep it 2.5-4.7)
INTAKE_SHARE = 0.45  # (A) one intake pump delivers 45 % of the plant's design output
# (A) One Qingyi lift + booster pair delivers 70 % of the plant's design output at its rated
# point, alone on the 23.6 km main: friction dominates that main, so a second pair adds little,
# and a pair rated for two running together ran at 158 % of its rated flow when alone, which is
# how the plant runs on a normal day.
LONG_MAIN_SHARE = 0.70
BOOSTER_HEAD = 45.0  # m, (A) booster pump design head (high-rise compound, ~15 storeys)
BOOSTER_PEAK = 1.7  # (A) booster design flow / compound average demand
BOOSTER_TANK_DAYS = 0.2  # (A) compound tank holds 20 % of a day's use
BOOSTER_TANK_DEPTH = 4.0  # m
BOOSTER_FILL = 2.0  # (A) inlet fill rate / compound average demand
BOOSTER_LEVELS = (2.0, 3.6)  # m, inlet opens below / closes above
BOOSTER_DRY_LEVELS = (0.5, 1.2)  # m, duty pump stops below / restarts above (A)
LIFT_SUCTION_PRESSURE = 8.0  # m, (A) pressure kept at the Qingyi booster station's suction
# (A) Clear-well level switches of the intake (and lift + booster) pumps: (open below, close
# above), one pair per pump, so that the well neither overflows nor empties.
INTAKE_SWITCHES = ((4.0, 4.7), (3.0, 4.2), (2.0, 3.5))
# (A) Gangkouwan high-lift pumps, when the source is opened: (open above, close below).
GKW_SWITCHES = ((2.5, 1.0), (3.5, 1.5), (4.5, 2.0))
GKW_EXTRA_HEAD = 5.0  # m, (A) Gangkouwan high-lift design head above the Shuiyang header's
# (A) Dry-run protection of the running plants' high-lift pumps: they stop when the clear well
# falls to this level (0.5 m above its lowest). A simple control, not a rule: EPANET applies
# controls after the pumps' speed patterns at every hydraulic step, so a pattern that reopens a
# pump on the hour is overridden at once while the well is low.
HIGH_LIFT_DRY_LEVEL = 1.0
# (A) Three-source dispatch: while Gangkouwan delivers its first-phase cap as base load, the
# running plant whose zones it shares (Shuiyang) covers the rest of their demand with up to two
# duty pumps on the schedules SPD-<plant>-GK1 and -GK2 (as many as keep them near their rated
# flow), and stops in the hours that the base load covers (a pump asked for less than
# DISPATCH_IDLE of its rated flow would only churn at shut-off).
DISPATCH_DUTY = 2
DISPATCH_IDLE = 0.35


@dataclass(frozen=True)
class Works:
    curves: tuple[PumpCurve, ...]
    pump_curve: dict[str, str]  # pump id -> curve id
    controls: tuple[str, ...]  # EPANET [CONTROLS] lines (levels in m)
    minor_loss: dict[str, float]  # pipe id -> minor loss coefficient
    valve_setting: dict[str, float]  # valve id -> SI setting (FCV m3/s, TCV coefficient)
    emitters: dict[str, float]  # junction id -> m3/s per m^0.5
    speed_patterns: dict[str, tuple[float, ...]]  # pattern id -> 24 hourly relative speeds
    pump_pattern: dict[str, str]  # pump id -> speed pattern id


def hourly_loss(
    est: FlowEstimate, pats: dict[str, tuple[float, ...]], hourly: np.ndarray, peak: int
) -> np.ndarray:
    """(24, n) head loss from the header to each node in each hour of the day.

    For fixed conductances flows are linear in the demands, so each pattern's part of the
    peak-hour loss scales with that pattern's multiplier relative to the peak hour (the leakage
    part, which follows no pattern, stays). The sum is then scaled by S^0.852, S being the hour's
    total demand over the peak's, so that uniform scaling gives Hazen-Williams' Q^1.852.
    """
    scale = hourly / hourly[peak]
    out = np.zeros((24, len(est.loss)))
    for pid, part in est.parts.items():
        mult = np.asarray(pats[pid]) / pats[pid][peak] if pid in pats else np.ones(24)
        out += np.outer(mult, part)
    return out * (scale**0.852)[:, None]


def high_lift_need(
    net: Network,
    est: FlowEstimate,
    elevation: dict[str, float],
    building: set[str],
    loss: np.ndarray,
) -> dict[str, tuple[float, np.ndarray]]:
    """Per header: (peak flow m3/s, head needed there in each hour so every node has P_MIN)."""
    elev = np.array([elevation[n] for n in net.nodes])
    serves = (est.demand > 0) & np.array([n not in building for n in net.nodes])
    out = {}
    for s, header in enumerate(net.headers):
        mask = (net.header == s) & serves
        need = elev[mask][None, :] + P_MIN + loss[:, mask]
        out[header] = (float(est.demand[net.header == s].sum()), need.max(axis=1) + HEAD_MARGIN)
    return out


def design(
    layout: Layout,
    net: Network,
    est: FlowEstimate,
    demand: Demand,
    hourly: np.ndarray,
    peak: int,
    attrs: PipeAttributes,
    elevation: dict[str, float],
    pats: dict[str, tuple[float, ...]],
) -> Works:
    """Pump curves, controls, booster tanks and inlets, emitters (booster tanks are added)."""
    building = {b.building for b in layout.boosters}
    loss = hourly_loss(est, pats, hourly, peak)
    need = high_lift_need(net, est, elevation, building, loss)
    works = Works((), {}, (), {}, {}, {}, {}, {})
    curves: list[PumpCurve] = []
    controls: list[str] = []
    for src in layout.sources:
        if src.default_open:
            curves.append(
                _running_station(layout, src, need, hourly / hourly[peak], peak, works, controls)
            )
        else:
            curves.append(_closed_station(layout, src, need["SY-HDR"][1], peak, works, controls))
        curves += _raw_water(layout, src, elevation, works.pump_curve, controls)
    for ic in layout.interconnections:
        works.valve_setting[ic.valve] = 0.0  # a gate valve: TCV with no extra loss when open
    heads = _node_heads(net, {h: need[h][1] for h in net.headers}, loss)
    for station in layout.boosters:
        curve = _booster(layout, station, heads, net, works.minor_loss, controls, elevation)
        curves.append(curve)
        works.pump_curve.update(dict.fromkeys(station.pumps, curve.id))
    works.emitters.update(_emitters(layout, net, demand, attrs, elevation, heads))
    return Works(
        tuple(curves),
        works.pump_curve,
        tuple(controls),
        works.minor_loss,
        works.valve_setting,
        works.emitters,
        works.speed_patterns,
        works.pump_pattern,
    )


def _running_station(
    layout: Layout,
    src: SourcePlan,
    need,
    scale: np.ndarray,
    peak: int,
    works: Works,
    controls: list[str],
) -> PumpCurve:
    """High-lift pumps of a running plant: curve for the peak hour, speed schedule for the rest.

    (A) Pressure management: the duty pumps follow a 24 h variable-speed schedule that gives the
    critical node its P_MIN in every hour instead of over-pressing the network at night. The
    curve is drawn for the well at its lowest design level, the speeds for its usual level.
    """
    tank = layout.tanks[src.clear_well]
    prefix = src.header.split("-")[0]
    duty = [p for p in src.high_lift_pumps if p not in src.standby_pumps]
    flow, heads = need[src.header]
    curve = centrifugal(
        f"C-{prefix}-HP", flow / len(duty), float(heads[peak]) - (tank.bottom + CW_LEVEL)
    )
    works.pump_curve.update(dict.fromkeys(src.high_lift_pumps, curve.id))
    works.speed_patterns[f"SPD-{prefix}"] = tuple(
        round(curve.speed_for(flow * scale[h] / len(duty), heads[h] - (tank.bottom + CW_USUAL)), 3)
        for h in range(24)
    )
    # Not on standby pumps: EPANET opens a pump whenever its speed pattern is above 0.
    works.pump_pattern.update(dict.fromkeys(duty, f"SPD-{prefix}"))
    base = sum(
        GANGKOUWAN_FIRST_PHASE
        for s in layout.sources
        if not s.default_open and set(s.zones) & set(src.zones)
    )
    if base > 0:
        speeds = _dispatch_speeds(
            curve, flow * scale - base, heads - (tank.bottom + CW_USUAL), flow / len(duty)
        )
        for k, values in enumerate(speeds, start=1):
            works.speed_patterns[f"SPD-{prefix}-GK{k}"] = values
    # Without this, EPANET 2.3 lets a pump reopened by its pattern draw from an empty well.
    controls += [
        f"LINK {p} CLOSED IF NODE {src.clear_well} BELOW {HIGH_LIFT_DRY_LEVEL:.2f}" for p in duty
    ]
    return curve


def _dispatch_speeds(
    curve: PumpCurve, rest: np.ndarray, lift: np.ndarray, rated: float
) -> list[tuple[float, ...]]:
    """Hourly speeds of each of DISPATCH_DUTY pumps sharing ``rest`` (m3/s) at ``lift`` (m).

    Each hour runs as many pumps as keep them near their rated flow (none when ``rest`` is less
    than DISPATCH_IDLE of one pump's), all at the speed that shares ``rest`` at ``lift``; a pump
    not needed gets speed 0 (stopped).
    """
    count = np.clip(np.ceil(rest / (1.1 * rated)), 1, DISPATCH_DUTY).astype(int)
    count[rest < DISPATCH_IDLE * rated] = 0
    speeds = [
        round(curve.speed_for(q / n, h), 3) if n else 0.0
        for q, h, n in zip(rest, lift, count, strict=True)
    ]
    return [
        tuple(v if n >= k else 0.0 for v, n in zip(speeds, count, strict=True))
        for k in range(1, DISPATCH_DUTY + 1)
    ]


def _closed_station(
    layout: Layout,
    src: SourcePlan,
    shuiyang_heads: np.ndarray,
    peak: int,
    works: Works,
    controls: list[str],
) -> PumpCurve:
    """High-lift pumps of the plant that is closed by default (Gangkouwan), ready for opening.

    Two of the three pumps deliver the first-phase flow cap a little above the head the Shuiyang
    header keeps at the peak hour; clear-well level switches them on and off. For the
    three-source dispatch (base load) the schedule SPD-<plant> gives two pumps the speed at
    which they send the cap in every hour at the head Shuiyang's schedule keeps then.
    """
    tank = layout.tanks[src.clear_well]
    prefix = src.header.split("-")[0]
    works.valve_setting[src.flow_control_valve] = GANGKOUWAN_FIRST_PHASE
    extra = GKW_EXTRA_HEAD - (tank.bottom + CW_LEVEL)
    curve = centrifugal(
        f"C-{prefix}-HP",
        1.5 * GANGKOUWAN_FIRST_PHASE / len(src.high_lift_pumps),
        float(shuiyang_heads[peak]) + extra,
    )
    works.pump_curve.update(dict.fromkeys(src.high_lift_pumps, curve.id))
    lift = shuiyang_heads + GKW_EXTRA_HEAD - (tank.bottom + CW_USUAL)
    per_pump = GANGKOUWAN_FIRST_PHASE / DISPATCH_DUTY
    works.speed_patterns[f"SPD-{prefix}"] = tuple(
        round(curve.speed_for(per_pump, float(h)), 3) for h in lift
    )
    for pump, (up, down) in zip(src.high_lift_pumps, GKW_SWITCHES, strict=True):
        controls.append(f"LINK {pump} OPEN IF NODE {src.clear_well} ABOVE {up:.2f}")
        controls.append(f"LINK {pump} CLOSED IF NODE {src.clear_well} BELOW {down:.2f}")
    return curve


def _raw_water(
    layout: Layout,
    src: SourcePlan,
    elevation: dict[str, float],
    pump_curve: dict[str, str],
    controls: list[str],
) -> list[PumpCurve]:
    """Intake (and lift + booster) pumps delivering the plant's raw water into its clear well."""
    if not src.intake_pumps:
        return []  # Gangkouwan runs by gravity
    tank = layout.tanks[src.clear_well]
    q = INTAKE_SHARE * src.capacity
    inlet_head = tank.bottom + 3.0
    prefix = src.header.split("-")[0]
    if not src.raw_booster_pumps:
        head = inlet_head + raw_main_loss(layout, src.raw_main, 2 * q) - src.head + 1.0
        curves = [centrifugal(f"C-{prefix}-IP", q, head)]
        pump_curve.update(dict.fromkeys(src.intake_pumps, curves[0].id))
        groups = [[p] for p in src.intake_pumps]
    else:
        half = len(src.raw_main) // 2
        suction = elevation["QY-BS-S"] + LIFT_SUCTION_PRESSURE
        q = LONG_MAIN_SHARE * src.capacity
        lift = suction + raw_main_loss(layout, src.raw_main[:half], q) - src.head + 0.5
        boost = inlet_head + raw_main_loss(layout, src.raw_main[half:], q) - suction + 0.5
        curves = [centrifugal(f"C-{prefix}-LP", q, lift), centrifugal(f"C-{prefix}-BP", q, boost)]
        pump_curve.update(dict.fromkeys(src.intake_pumps, curves[0].id))
        pump_curve.update(dict.fromkeys(src.raw_booster_pumps, curves[1].id))
        groups = [[a, b] for a, b in zip(src.intake_pumps, src.raw_booster_pumps, strict=True)]
    for group, (low, high) in zip(groups, INTAKE_SWITCHES, strict=True):
        for pump in group:
            controls.append(f"LINK {pump} OPEN IF NODE {src.clear_well} BELOW {low:.2f}")
            controls.append(f"LINK {pump} CLOSED IF NODE {src.clear_well} ABOVE {high:.2f}")
    return curves


def _node_heads(net: Network, header_hourly: dict[str, np.ndarray], loss: np.ndarray) -> np.ndarray:
    """(24, n) estimated head at each network node in each hour."""
    hdr = np.stack([header_hourly[h] for h in net.headers])  # (sources, 24)
    return hdr[net.header].T - loss


def _booster(
    layout: Layout,
    station,
    node_heads: np.ndarray,
    net: Network,
    minor_loss: dict[str, float],
    controls: list[str],
    elevation: dict[str, float],
) -> PumpCurve:
    """Compound tank, inlet float valve (as a minor loss) and booster pump curve of one station."""
    average = station.population * COMPOUND_PER_CAPITA / 86_400.0
    site = layout.node(station.site)
    ground = float(ground_elevation(site.x + 25.0, site.y + 25.0))
    volume = BOOSTER_TANK_DAYS * average * 86_400.0
    diameter = round(math.sqrt(4.0 * volume / (math.pi * BOOSTER_TANK_DEPTH)), 1)
    # Initial levels spread over the inlet's band (golden-ratio steps) so that the 21 float
    # valves do not all open at once.
    number = int(station.name[2:])
    init = round(BOOSTER_LEVELS[0] + 0.2 + 1.2 * ((number * 0.618034) % 1.0), 2)
    layout.tanks[station.tank] = Tank(
        station.tank, round(ground - 0.5, 2), init, 0.3, BOOSTER_TANK_DEPTH, diameter
    )
    # Inlet: sized for the fill rate; its float valve throttles to that rate at the average head.
    fill = BOOSTER_FILL * average
    inlet = next(ln for ln in layout.links if ln.id == station.inlet)
    inlet.diameter = float(choose_diameter(np.array([fill]), np.array([0.1]))[0])
    h_site = float(node_heads[:, net.nodes.index(station.site)].mean())
    available = h_site - (ground - 0.5 + 3.0)
    friction = float(hw_resistance(inlet.length, inlet.diameter, 130.0) * fill**1.852)
    velocity = fill / (math.pi * inlet.diameter**2 / 4.0)
    minor_loss[inlet.id] = round(max(0.0, (available - friction) * 2.0 * G / velocity**2), 1)
    low, high = BOOSTER_LEVELS
    controls.append(f"LINK {inlet.id} CLOSED IF NODE {station.tank} ABOVE {high:.2f}")
    controls.append(f"LINK {inlet.id} OPEN IF NODE {station.tank} BELOW {low:.2f}")
    # A float valve discharges above the water: it never lets the tank drain back into mains
    # whose head has fallen below a full tank's surface (EPANET would, the inlet being a pipe).
    # Listed after the opening control, so that it wins while both hold.
    backflow = round(ground - 0.5 + BOOSTER_TANK_DEPTH - elevation[station.site], 2)
    controls.append(f"LINK {inlet.id} CLOSED IF NODE {station.site} BELOW {backflow:.2f}")
    # Dry-run protection with hysteresis, as such stations have: without it a tank drained in a
    # shortage has its pump flip at every step (EPANET closes a pump drawing from an empty tank
    # and the trickle in reopens it), thousands of steps a day.
    stop, restart = BOOSTER_DRY_LEVELS
    controls.append(f"LINK {station.pumps[0]} CLOSED IF NODE {station.tank} BELOW {stop:.2f}")
    controls.append(f"LINK {station.pumps[0]} OPEN IF NODE {station.tank} ABOVE {restart:.2f}")
    return centrifugal(f"C-{station.name}", BOOSTER_PEAK * average, BOOSTER_HEAD)


def _emitters(
    layout: Layout,
    net: Network,
    demand: Demand,
    attrs: PipeAttributes,
    elevation: dict[str, float],
    node_heads: np.ndarray,
) -> dict[str, float]:
    """Emitter coefficients on grid junctions: leakage = LEAKAGE_FRACTION of supply over a day.

    Each junction leaks in proportion to half the length of its pipes weighted by their age and
    material; one factor scales all so that sum_i c_i mean_h sqrt(p_i(h)) = target.
    """
    weight: dict[str, float] = {}
    grid = {n.id for n in layout.nodes if n.role == "grid"}
    for j, k in enumerate(attrs.pipes):
        ln = layout.links[k]
        if ln.role not in ("street", "cross", "trunk"):
            continue
        w = 0.5 * ln.length * leak_weight(attrs.material[j], int(attrs.year[j]))
        for end in (ln.start, ln.end):
            if end in grid:
                weight[end] = weight.get(end, 0.0) + w
    nodes = [n for n in net.nodes if n in weight]
    pos = {n: i for i, n in enumerate(net.nodes)}
    cols = np.array([pos[n] for n in nodes])
    heads = node_heads[:, cols]
    elev = np.array([elevation[n] for n in nodes])
    root_p = np.sqrt(np.maximum(heads - elev, 0.0)).mean(axis=0)
    weights = np.array([weight[n] for n in nodes])
    consumption = float(demand.base.sum())
    target = LEAKAGE_FRACTION / (1.0 - LEAKAGE_FRACTION) * consumption
    scale = target / float((weights * root_p).sum())
    return {n: float(c) for n, c in zip(nodes, weights * scale, strict=True)}
