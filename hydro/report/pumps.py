"""Pump operating points on their head curves (EPANET).

The operating point of a pump at each report time is its flow and the head it adds (head at the
end node minus head at the start node, ``-headloss``). Its curve comes from the model's INP
([PUMPS] HEAD curve, [CURVES]), converted to SI, and is drawn as EPANET uses it: a one-point
curve becomes H = 4/3 H0 - (H0 / 3) (Q / Q0)^2, a three-point curve starting at Q = 0 the power
function H = A - B Q^C through its points, any other curve piecewise linear (EPANET 2.2 manual,
section 3.1 "Pump curve"). Points under the nominal curve are a pump running below full speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from hydro.errors import InputError
from hydro.report.style import axes_or_new
from hydro.units import EPANET_FLOW_TO_M3S, EPANET_US_FLOWS, FOOT

PUMP_SIZE = (6.5, 4.5)


def epanet_pump_curves(inp: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{pump: (flow m³/s, head m)} of every pump with a HEAD curve in an EPANET INP."""
    from hydro.inpfile import read_text
    from hydro.supply.inp import read_sections

    text = read_text(inp).text
    rows = read_sections(text, ["PUMPS", "CURVES", "OPTIONS"])
    units = "GPM"  # EPANET's default
    for tokens in rows["OPTIONS"]:
        if tokens[0].upper() == "UNITS" and len(tokens) > 1:
            units = tokens[1].upper()
    if units not in EPANET_FLOW_TO_M3S:
        raise InputError(f"{inp}: [OPTIONS] UNITS {units!r} is not an EPANET flow unit")
    q_factor = EPANET_FLOW_TO_M3S[units]
    h_factor = FOOT if units in EPANET_US_FLOWS else 1.0
    points: dict[str, list[tuple[float, float]]] = {}
    for tokens in rows["CURVES"]:
        if len(tokens) >= 3:
            points.setdefault(tokens[0], []).append((float(tokens[1]), float(tokens[2])))
    curves = {}
    for tokens in rows["PUMPS"]:
        words = [t.upper() for t in tokens]
        if "HEAD" in words and words.index("HEAD") + 1 < len(tokens):
            curve = points.get(tokens[words.index("HEAD") + 1])
            if curve:
                q, h = np.array(curve, dtype=np.float64).T
                curves[tokens[0]] = (q * q_factor, h * h_factor)
    return curves


def curve_line(flow: np.ndarray, head: np.ndarray, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """The head curve as EPANET evaluates it (see the module docstring), sampled at n flows."""
    if len(flow) == 1:
        q0, h0 = float(flow[0]), float(head[0])
        q = np.linspace(0.0, 2 * q0, n)
        return q, 4 / 3 * h0 - h0 / 3 * (q / q0) ** 2
    if len(flow) == 3 and flow[0] == 0.0:
        a = float(head[0])
        c = np.log((a - head[2]) / (a - head[1])) / np.log(flow[2] / flow[1])
        b = (a - head[1]) / flow[1] ** c
        q = np.linspace(0.0, (a / b) ** (1 / c), n)
        return q, a - b * q**c
    return np.asarray(flow), np.asarray(head)


def pump_operating_points(
    ds: xr.Dataset,
    pumps: Sequence[str],
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    ax=None,
    title: str = "",
):
    """Head curves and the operating points over the run (first scenario): pumps sharing a
    curve share a colour; points go from light (early) to dark (late); closed periods (no
    flow) are left out."""
    ax = axes_or_new(ax, PUMP_SIZE)
    flow = ds["flow"].isel(scenario=0)
    gain = -ds["headloss"].isel(scenario=0)
    groups: dict[tuple, list[str]] = {}
    for pump in pumps:
        curve = curves.get(pump)
        key = (tuple(np.round(curve[0], 6)), tuple(np.round(curve[1], 3))) if curve else (pump,)
        groups.setdefault(key, []).append(pump)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for k, members in enumerate(groups.values()):
        colour = colours[k % len(colours)]
        name = ", ".join(members)
        if members[0] in curves:
            q, h = curve_line(*curves[members[0]])
            ax.plot(q * 1000, h, color=colour, lw=1.5, label=f"{name}: curve")
        q = flow.sel(link=members).values.ravel(order="F")
        h = gain.sel(link=members).values.ravel(order="F")
        shade = np.tile(np.linspace(0.25, 1.0, flow.sizes["time"]), len(members))
        on = np.abs(q) > 1e-6
        if on.any():
            ax.scatter(
                q[on] * 1000,
                h[on],
                s=14,
                color=colour,
                alpha=shade[on],
                linewidths=0,
                label=f"{name}: running",
            )
    ax.set_xlabel("flow (L/s)")
    ax.set_ylabel("head added (m)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(title or "Pump operating points on their curves")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax
