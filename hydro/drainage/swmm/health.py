"""A SWMM run's own health, from its report: convergence, continuity, and where the water went.

Every drainage run carries these figures (:func:`run_health`), so that a result says how far it
can be trusted before anyone reads its answers:

- routing: the share of routing steps that did not converge within MAX_TRIALS, the time steps,
  the mean iterations per step, the links with the highest flow instability indexes and the
  nodes most often not converging (outfalls, which SWMM lists at the share of every step that
  failed anywhere, left out);
- continuity: the runoff and flow-routing continuity errors and every node's own flow balance
  error (Node Inflow Summary: (inflow - outflow - change in storage) / inflow);
- the water budget (:data:`BUDGET_TERMS`): rain, losses, runoff, inflows, outflows, pumping,
  flooding lost from the model, storage at the start and the end, water ponded on the streets at
  the end, and the continuity residual, in m3.

A run is ``converged`` when no more than LIMITS["steps_not_converging"] of its routing steps
failed, no node's flow balance error exceeds LIMITS["node_continuity_error"] and both system
continuity errors stay within LIMITS["continuity_error"]; otherwise the run says why in
``health_warnings``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hydro.drainage.swmm.report import SwmmReport

# Fractions; SWMM's continuity errors are compared in per cent of the same quantity.
LIMITS = {"steps_not_converging": 0.02, "node_continuity_error": 0.05, "continuity_error": 0.01}

BUDGET_TERMS = {
    "rain": "rain falling on the subcatchments (Runoff Quantity Continuity)",
    "infiltration": "infiltration into the soil",
    "evaporation": "evaporation from the surface, the network and storage units",
    "surface_storage_end": "water left on the subcatchments' surfaces at the end",
    "runoff": "runoff into the network (wet-weather inflow)",
    "external_inflow": "external inflows (river inflows) and inflow through outfalls",
    "other_inflow": "dry-weather, groundwater and RDII inflow",
    "outfall_outflow": "water leaving through the outfalls",
    "pumped": "water pumped (SWMM's Pumping Summary; moved within the model)",
    "flooding_lost": "overflow lost from the model (nodes that cannot pond, storage units)",
    "stored_start": "water in the network at the start (nodes, links, ponding)",
    "stored_end": "water in the network at the end (nodes, links, ponding)",
    "ponded_end": "water ponded on the streets at the end (part of stored_end)",
    "continuity_residual": "inflows - outflows - change in storage: SWMM's routing error",
}


def budget(rpt: SwmmReport, ponded_end: float) -> np.ndarray:
    """The water budget in m3, in the order of :data:`BUDGET_TERMS` (NaN where the report has
    no figure)."""
    runoff, routing = rpt.runoff_continuity(), rpt.flow_routing_continuity()

    def get(table: dict, *keys: str) -> float:
        values = [table[k] for k in keys if k in table]
        return float(sum(values)) if values else math.nan

    pumping = rpt.pumping()
    terms = {
        "rain": get(runoff, "total_precipitation"),
        "infiltration": get(runoff, "infiltration_loss"),
        "evaporation": get(runoff, "evaporation_loss") + get(routing, "evaporation_loss"),
        "surface_storage_end": get(runoff, "final_storage"),
        "runoff": get(routing, "wet_weather_inflow"),
        "external_inflow": get(routing, "external_inflow"),
        "other_inflow": get(routing, "dry_weather_inflow", "groundwater_inflow", "rdii_inflow"),
        "outfall_outflow": get(routing, "external_outflow"),
        "pumped": float(pumping["pumped_volume"].sum()) if len(pumping) else 0.0,
        "flooding_lost": get(routing, "flooding_loss"),
        "stored_start": get(routing, "initial_stored_volume"),
        "stored_end": get(routing, "final_stored_volume"),
        "ponded_end": ponded_end,
    }
    inflow = terms["runoff"] + terms["external_inflow"] + terms["other_inflow"]
    outflow = (
        terms["outfall_outflow"]
        + terms["flooding_lost"]
        + get(routing, "evaporation_loss", "exfiltration_loss")
    )
    terms["continuity_residual"] = inflow - outflow - (terms["stored_end"] - terms["stored_start"])
    return np.array([terms[k] for k in BUDGET_TERMS], dtype=np.float64)


def node_continuity_errors(rpt: SwmmReport, nodes: Sequence[str]) -> np.ndarray:
    """Each node's flow balance error (fraction), NaN where the report lists none."""
    table = rpt.node_inflow()
    return table["flow_balance_error"].reindex(list(nodes)).to_numpy(dtype=np.float64)


def run_health(
    rpt: SwmmReport, nodes: Sequence[str], node_types: Sequence[str], node_errors: np.ndarray
) -> dict:
    """Attrs saying how far the run can be trusted (see the module docstring)."""
    steps = rpt.routing_steps()
    outfalls = {n for n, t in zip(nodes, node_types, strict=True) if t == "outfall"}
    unstable = rpt.highest("Highest Flow Instability Indexes")
    nonconverging = [
        (n, v) for _, n, v in rpt.highest("Most Frequent Nonconverging Nodes") if n not in outfalls
    ]
    critical = rpt.highest("Time-Step Critical Elements")
    finite = np.where(np.isfinite(node_errors), np.abs(node_errors), -1.0)
    worst = int(np.argmax(finite)) if len(finite) else -1
    attrs: dict[str, Any] = {
        "routing_steps_not_converging": steps.get("not_converging_share"),
        "routing_step_min": steps.get("minimum_step"),
        "routing_step_mean": steps.get("average_step"),
        "routing_step_max": steps.get("maximum_step"),
        "routing_iterations_mean": steps.get("average_iterations"),
        "flow_instability_max": max((v for *_, v in unstable), default=None),
        "flow_instability_links": ", ".join(f"{n} {v:g}" for _, n, v in unstable) or None,
        "nonconverging_nodes": ", ".join(f"{n} {v:.2%}" for n, v in nonconverging) or None,
        "time_step_critical": ", ".join(f"{k} {n} {v:.2%}" for k, n, v in critical) or None,
    }
    if worst >= 0 and finite[worst] >= 0:
        attrs["node_continuity_error_max"] = float(node_errors[worst])
        attrs["node_continuity_error_node"] = str(nodes[worst])
    warnings = _warnings(attrs, rpt)
    attrs["converged"] = not warnings
    attrs["health_warnings"] = warnings or None
    return attrs


def _warnings(attrs: dict, rpt: SwmmReport) -> list[str]:
    out = []
    share = attrs.get("routing_steps_not_converging")
    if share is not None and share > LIMITS["steps_not_converging"]:
        nodes = attrs.get("nonconverging_nodes") or "no node listed"
        out.append(
            f"hydro: {share:.1%} of the routing steps did not converge (limit "
            f"{LIMITS['steps_not_converging']:.0%}); most often at {nodes}"
        )
    worst = attrs.get("node_continuity_error_max")
    if worst is not None and abs(worst) > LIMITS["node_continuity_error"]:
        out.append(
            f"hydro: node {attrs['node_continuity_error_node']} has a continuity error "
            f"of {worst:.1%} (limit {LIMITS['node_continuity_error']:.0%}); its "
            "scores are unreliable"
        )
    for name, value in (
        ("runoff", rpt.runoff_continuity_error),
        ("flow routing", rpt.flow_routing_continuity_error),
    ):
        if value is not None and abs(value) > 100 * LIMITS["continuity_error"]:
            out.append(
                f"hydro: {name} continuity error {value:.2f} % (limit "
                f"{100 * LIMITS['continuity_error']:g} %)"
            )
    return out


def budget_frame(values: np.ndarray) -> pd.Series:
    """A budget as a labelled Series (for tables and messages)."""
    return pd.Series(values, index=list(BUDGET_TERMS), name="m3")
