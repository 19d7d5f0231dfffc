"""A supply run's own health: mass balance, convergence, empty tanks, negative pressures.

Every run carries it, computed over every hydraulic step from the run's accounts
(:mod:`hydro.supply.epanet.accounts`) and EPANET's own report, as variables along ``scenario``
(so that ensembles keep one value per member) and as plain lines in the attrs that the summary
shows before the answers:

- ``mass_balance_error``: (water in - consumer demand - leakage - stored) / water in, over the
  run; above 0.1 % the run warns. A tank that gives water at its minimum level (or takes it
  when full) is named, with when, how often and through which links.
- ``converged``: false when any step is unbalanced, may be unstable (EPANET had to hold link
  statuses to balance it) or leaves nodes disconnected; the summary says how many steps, when,
  and where (for an unbalanced step: the junction whose flows balance worst).
- negative pressures at nodes that serve demand or leak: how many nodes, the lowest value, when
  and where; under pressure-driven demand EPANET says nothing about them, hydro warns.
- water that emitters took in (at negative pressure), when the model allows it.
"""

from __future__ import annotations

import re

import numpy as np

from hydro.supply.epanet.accounts import MOVING, RunAccounts

BALANCE_TOLERANCE = 1e-3  # a mass balance error above 0.1 % is warned about
VACUUM = -10.3  # m: a pressure head below this is beyond vacuum (water cannot be there)
_AT = re.compile(r" at (\d+):(\d\d):(\d\d) hrs")
_NODE = re.compile(r"WARNING: Node (\S+) disconnected")


def clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _times(lines: list[str], words: str) -> list[int]:
    """Distinct times (s) of EPANET report lines that contain ``words``."""
    found = set()
    for line in lines:
        if words in line and (m := _AT.search(line)):
            found.add(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)))
    return sorted(found)


def _when(times: list[int] | np.ndarray) -> str:
    times = list(times)
    if not times:
        return ""
    if len(times) == 1:
        return f"at {clock(times[0])}"
    return f"from {clock(times[0])} to {clock(times[-1])}"


def health(
    acc: RunAccounts,
    *,
    node_ids: list[str],
    tank_ids: list[str],
    link_ids: list[str],
    report: list[str],
    halted_at: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The health variables (scenario dim of size 1) and attrs of one run.

    ``report`` are EPANET's warning lines (its report file), which name disconnected nodes.
    Attrs: ``converged`` (bool), ``mass_balance_error``, ``health`` (summary lines) and
    ``health_warnings`` (what a user must be told, worst first).
    """
    lines: list[str] = []
    warnings: list[str] = []
    error = acc.mass_balance_error
    water_in = float(acc.volume(acc.inflow))
    lines.append(
        f"mass balance over {len(acc.times)} hydraulic steps: in {water_in:,.0f} m3 = consumer "
        f"{float(acc.volume(acc.consumer)):,.0f} + leakage {float(acc.volume(acc.leakage)):,.0f}"
        f" + to reservoirs {float(acc.volume(acc.to_reservoirs)):,.0f} + stored "
        f"{acc.storage_change:,.0f} m3; error {error:.4%}"
    )
    if abs(error) > BALANCE_TOLERANCE:
        tanks, unbalanced_flows = float(acc.tank_error.sum()), -acc.continuity_error
        warnings.append(
            f"mass balance error {error:.2%} (more than {BALANCE_TOLERANCE:.1%}): "
            f"{tanks:+,.0f} m3 from tanks giving water they did not hold (-) or taking water "
            f"without room (+), {unbalanced_flows:+,.0f} m3 from node flows the solver left unbalanced "
            "(its ACCURACY, unbalanced steps, disconnected nodes)"
        )
    empty_time, tank_lines = _tanks(acc, tank_ids, link_ids)
    warnings += tank_lines

    unbalanced = np.flatnonzero(acc.codes == 1)
    unstable = _times(report, "Maximum trials exceeded")
    disconnected = _times(report, "disconnected at")
    nodes = sorted({m.group(1) for line in report if (m := _NODE.search(line))})
    converged = not len(unbalanced) and not unstable and not disconnected and halted_at is None
    if len(unbalanced):
        worst = unbalanced[int(np.argmax(acc.residual[unbalanced]))]
        warnings.append(
            f"NOT CONVERGED: {len(unbalanced)} of {len(acc.times)} hydraulic steps unbalanced "
            f"{_when(acc.times[unbalanced])}; flows balance worst at junction "
            f"{node_ids[acc.residual_where[worst]]} ({acc.residual[worst] * 1000:.3g} L/s at "
            f"{clock(acc.times[worst])})"
        )
    if unstable:
        warnings.append(
            f"NOT CONVERGED: {len(unstable)} steps balanced only with link statuses held "
            f"(EPANET: 'may be unstable') {_when(unstable)}"
        )
    if disconnected:
        shown = ", ".join(nodes[:5]) + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")
        warnings.append(
            f"NOT CONVERGED: nodes disconnected from every source at {len(disconnected)} steps "
            f"{_when(disconnected)}: {shown} (their pressures are meaningless)"
        )
    if halted_at is not None:
        warnings.append(f"NOT CONVERGED: EPANET halted the run at {clock(halted_at)}")
    lines.append(
        "hydraulics converged at every step"
        if converged
        else "hydraulics did NOT converge: " + "; ".join(w[15:] for w in warnings if "NOT" in w)
    )

    negative_nodes = acc.service_node & (acc.min_pressure < 0)
    steps = np.flatnonzero(acc.negative_nodes > 0)
    if len(steps):
        worst = steps[np.nanargmin(acc.negative_min[steps])]
        low = float(acc.negative_min[worst])
        beyond = " (beyond vacuum: the pipes there would drain)" if low < VACUUM else ""
        text = (
            f"negative pressure at {int(negative_nodes.sum()):,} nodes that serve demand or "
            f"leak (at most {int(acc.negative_nodes.max()):,} at once), {_when(acc.times[steps])}"
            f"; lowest {low:.1f} m at {node_ids[acc.negative_where[worst]]} at "
            f"{clock(acc.times[worst])}{beyond}"
        )
        lines.append(text)
        warnings.append(text)
    backflow = float(acc.backflow_volume.sum())
    leaked = float(acc.volume(np.abs(acc.leakage)))
    if backflow > max(1.0, 1e-3 * leaked):
        text = f"emitters took {backflow:,.0f} m3 into the pipes at negative pressure" + (
            " (EPANET 2.3's EMITTER BACKFLOW is on; a scenario forbids it by default)"
            if acc.backflow_allowed
            else " (numerical: the run forbade it)"
        )
        lines.append(text)
        warnings.append(text)

    data = {
        "mass_balance_error": np.array([error]),
        "hydraulic_steps": np.array([len(acc.times)], np.int32),
        "unbalanced_steps": np.array([len(unbalanced)], np.int32),
        "unstable_steps": np.array([len(unstable)], np.int32),
        "disconnected_steps": np.array([len(disconnected)], np.int32),
        "negative_pressure_nodes": np.array([int(negative_nodes.sum())], np.int32),
        "min_service_pressure": np.array(
            [np.nanmin(np.where(acc.service_node, acc.min_pressure, np.nan))]
            if acc.service_node.any()
            else [np.nan]
        ),
        "emitter_backflow_volume": np.array([backflow]),
        "tank_balance_error": acc.tank_error[np.newaxis],
        "tank_empty_outflow_time": empty_time[np.newaxis],
    }
    attrs = {
        "converged": converged,
        "mass_balance_error": error,
        "health": lines,
        "health_warnings": warnings,
    }
    return data, attrs


def _tanks(
    acc: RunAccounts, tank_ids: list[str], link_ids: list[str]
) -> tuple[np.ndarray, list[str]]:
    """(T,) seconds each tank spent at its minimum level still sending water out, and a line
    for every tank that gave water it did not hold or took water it had no room for."""
    out = acc.tank_at_minimum & (acc.tank_inflow < -MOVING)
    into = acc.tank_at_maximum & (acc.tank_inflow > MOVING)
    empty_time = (out * acc.seconds[:, None]).sum(axis=0)
    error = acc.tank_error
    lines = []
    for k, tank in enumerate(tank_ids):
        for mask, what in (
            (out[:, k], "at its minimum level sent out"),
            (into[:, k], "full took in"),
        ):
            steps = np.flatnonzero(mask & (acc.seconds > 0))
            if not len(steps):
                continue
            flow = np.abs(acc.tank_inflow[steps, k])
            text = (
                f"tank {tank} {what} up to {flow.max():.3f} m3/s at {len(steps)} steps "
                f"{_when(acc.times[steps])}"
            )
            if "sent" in what:
                links = ", ".join(link_ids[i] for i in acc.empty_links[k]) or "?"
                text += (
                    f" through {links}: {max(-error[k], 0.0):,.0f} m3 created (a pump or link "
                    "drawing from an empty tank needs a control that stops it)"
                )
            else:
                text += f": {max(error[k], 0.0):,.0f} m3 lost"
            lines.append(text)
    return empty_time, lines
