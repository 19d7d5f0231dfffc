"""Sizing the water-supply model: peak-hour flow estimate, pipe diameters, pump-curve helpers.

The generator does not call EPANET. It estimates peak-hour flows with the linear theory method
(Wood and Charles, 1972): Hazen-Williams losses linearised around the previous flows, one sparse
solve of the node equations per iteration, successive flows averaged. Pipes are then sized to an
economic velocity; ``supply_works`` uses the same estimate's head losses for the pump curves,
their speed schedule and the leakage coefficients. The EPANET run of the written model is the
check (tests/test_synth_supply.py).

Units: SI (m, s, m3/s). Hazen-Williams: h = 10.67 L Q^1.852 / (C^1.852 D^4.87).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import splu

from hydro.synth.supply.demand import Demand
from hydro.synth.supply.layout import Layout

CATALOG = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4)  # m, DN100-1400
MIN_DIAMETER = {"street": 0.1, "cross": 0.1, "trunk": 0.15, "transmission": 0.6}
SIZED_ROLES = tuple(MIN_DIAMETER)
SIZING_C = 110.0  # (A) mid-life Hazen-Williams C while materials are not yet known
P_MIN = 28.0  # m, (A) minimum service head at the peak hour (0.28 MPa)
HEAD_MARGIN = 3.5  # m, above the critical node's need (estimate error, well level)
CW_LEVEL = 2.0  # m, clear-well level the high-lift pumps are designed at
LEAKAGE_FRACTION = 0.11  # (F) CJJ 92-2016 grades 10-12 %; (A) the model sits in the middle
INTERCONNECTION_FLOW = 0.25  # m3/s, (A) design mutual-aid flow of one interconnection main
G = 9.81


def max_velocity(diameter: np.ndarray) -> np.ndarray:
    """(A) Peak-hour velocity a pipe is sized for: 0.7 m/s up to DN150 (long dead-end mains lose
    head fast), 0.9 to DN300, 1.0 to DN600, 0.9 above (long transmission mains)."""
    return np.select([diameter <= 0.15, diameter <= 0.3, diameter <= 0.6], [0.7, 0.9, 1.0], 0.9)


def choose_diameter(flow: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Smallest catalogue diameter carrying ``|flow|`` (m3/s) within the economic velocity."""
    catalog = np.asarray(CATALOG)
    capacity = max_velocity(catalog) * math.pi * catalog**2 / 4.0
    k = np.searchsorted(capacity, np.abs(flow))  # capacity grows with the catalogue
    d = catalog[np.minimum(k, len(catalog) - 1)]
    return np.maximum(d, minimum)


def hw_resistance(length, diameter, c):
    """Hazen-Williams resistance r in h = r Q^1.852 (SI)."""
    return 10.67 * np.asarray(length) / (np.asarray(c) ** 1.852 * np.asarray(diameter) ** 4.87)


def linear_theory(
    n: int,
    fixed: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    resistance: np.ndarray,
    demand: np.ndarray,
    *,
    flow: np.ndarray | None = None,
    iterations: int = 10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flows (m3/s, a->b positive), heads (m, fixed nodes at 0) and the final conductances.

    ``fixed`` marks nodes of known head (0); ``demand`` (n,) is withdrawn at the other nodes. Each
    iteration solves sum_j g_ij (h_j - h_i) = d_i with g = 1 / (r |q|^0.852) from the previous
    flows, then averages old and new flows (the method's usual damping).
    """
    q = np.full(len(a), 1e-3) if flow is None else np.abs(flow) + 1e-6
    h = np.zeros(n)
    g = np.zeros(len(a))
    for it in range(iterations):
        g = 1.0 / (resistance * np.maximum(np.abs(q), 1e-5) ** 0.852)
        h = solve_heads(fixed, a, b, g, demand)
        q_new = g * (h[a] - h[b])
        q = q_new if it == 0 else 0.5 * (q + q_new)
    return q, h, g


def solve_heads(
    fixed: np.ndarray, a: np.ndarray, b: np.ndarray, g: np.ndarray, demand: np.ndarray
) -> np.ndarray:
    """Heads (fixed nodes at 0) of the linear network sum_j g_ij (h_j - h_i) = d_i.

    ``demand`` is (n,) or (n, k) for k demand cases solved with one factorisation.
    """
    n = len(fixed)
    free = np.flatnonzero(~fixed)
    pos = np.full(n, -1)
    pos[free] = np.arange(len(free))
    rows, cols, vals = [], [], []
    for u, v in ((a, b), (b, a)):
        keep = pos[u] >= 0
        rows += [pos[u][keep], pos[u][keep]]
        cols += [pos[u][keep], pos[v][keep]]
        vals += [g[keep], -g[keep]]
    rows_, cols_, vals_ = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    keep = cols_ >= 0  # entries pointing at fixed nodes (known head 0) drop out
    lap = coo_matrix(
        (vals_[keep], (rows_[keep], cols_[keep])), shape=(len(free), len(free))
    ).tocsc()
    h = np.zeros(demand.shape)
    h[free] = splu(lap).solve(np.ascontiguousarray(-demand[free]))
    return h


# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """The open, non-pump part of the layout as index arrays, for the flow estimate."""

    nodes: list[str]
    fixed: np.ndarray
    a: np.ndarray
    b: np.ndarray
    links: list[int]  # layout.links positions
    length: np.ndarray
    header: np.ndarray  # per node: index into `headers` of the source that feeds it
    headers: list[str]


def distribution_network(layout: Layout) -> Network:
    """Pipes and valves in their default state, minus raw mains and booster inlets.

    The fixed-head nodes are the high-lift headers of the sources that run by default; nodes
    that no such header reaches (closed parts) are left out.
    """
    headers = [s.header for s in layout.sources if s.default_open]
    links = [
        k
        for k, ln in enumerate(layout.links)
        if ln.kind != "pump" and ln.status == "OPEN" and ln.role not in ("raw", "inlet")
    ]
    names = sorted(
        {layout.links[k].start for k in links} | {layout.links[k].end for k in links},
        key=layout.node_index().__getitem__,
    )
    pos = {name: i for i, name in enumerate(names)}
    a = np.array([pos[layout.links[k].start] for k in links])
    b = np.array([pos[layout.links[k].end] for k in links])
    # Which header feeds each node: breadth-first over the undirected graph.
    header = np.full(len(names), -1)
    adjacency: list[list[int]] = [[] for _ in names]
    for u, v in zip(a, b, strict=True):
        adjacency[u].append(int(v))
        adjacency[v].append(int(u))
    for s, name in enumerate(headers):
        frontier = [pos[name]]
        header[pos[name]] = s
        while frontier:
            nxt = []
            for u in frontier:
                for v in adjacency[u]:
                    if header[v] < 0:
                        header[v] = s
                        nxt.append(v)
            frontier = nxt
    keep_node = header >= 0
    keep_link = keep_node[a] & keep_node[b]
    new = np.cumsum(keep_node) - 1
    nodes = [nm for nm, k in zip(names, keep_node, strict=True) if k]
    fixed = np.array([nm in headers for nm in nodes])
    length = np.array([max(layout.links[k].length, 1.0) for k in links])
    return Network(
        nodes,
        fixed,
        new[a[keep_link]],
        new[b[keep_link]],
        [k for k, kp in zip(links, keep_link, strict=True) if kp],
        length[keep_link],
        header[keep_node],
        headers,
    )


def hourly_totals(demand: Demand, pats: dict[str, tuple[float, ...]]) -> np.ndarray:
    """Total consumption (m3/s) in each hour of the day."""
    total = np.zeros(24)
    for pid, values in pats.items():
        mask = np.array([p == pid for p in demand.pattern])
        total += demand.base[mask].sum() * np.asarray(values)
    return total


def node_demand_at(demand: Demand, pats: dict[str, tuple[float, ...]], hour: int) -> np.ndarray:
    mult = np.array([pats[p][hour] if p else 0.0 for p in demand.pattern])
    return demand.base * mult


@dataclass(frozen=True)
class FlowEstimate:
    flow: np.ndarray  # per network link, m3/s
    loss: np.ndarray  # per network node, m of head below its header
    demand: np.ndarray  # per network node, m3/s
    parts: dict[str, np.ndarray]  # demand pattern id -> the part of `loss` its demand causes


def estimate(
    layout: Layout,
    net: Network,
    parts: dict[str, dict[str, float]],
    c: np.ndarray,
    *,
    flow: np.ndarray | None = None,
) -> FlowEstimate:
    """Peak-hour flows and head losses for the layout's current diameters.

    ``parts`` maps each demand pattern id to the nodes' peak-hour withdrawals under it. With the
    conductances of the converged estimate, the losses split exactly into one part per pattern:
    an off-peak hour's losses follow from scaling the parts (see ``supply_works``).
    """
    ids = sorted(parts)
    split = np.array([[parts[p].get(nm, 0.0) for p in ids] for nm in net.nodes])
    d = split.sum(axis=1)
    diam = np.array([layout.links[k].diameter for k in net.links])
    r = hw_resistance(net.length, diam, c)
    # Valves of open interconnections behave as short open pipes here.
    q, _, g = linear_theory(len(net.nodes), net.fixed, net.a, net.b, r, d, flow=flow)
    h = solve_heads(net.fixed, net.a, net.b, g, split)
    loss = {p: -h[:, k] for k, p in enumerate(ids)}
    return FlowEstimate(q, -h.sum(axis=1), d, loss)


def size_pipes(
    layout: Layout, net: Network, node_demand: dict[str, dict[str, float]], *, rounds: int = 3
) -> FlowEstimate:
    """Give every sized pipe its diameter from the estimated peak-hour flow (in place)."""
    roles = [layout.links[k].role for k in net.links]
    sized = np.array([r in SIZED_ROLES for r in roles])
    minimum = np.array([MIN_DIAMETER.get(r, 0.0) for r in roles])
    start = {"street": 0.15, "cross": 0.1, "trunk": 0.4, "transmission": 1.0}
    for k, r in zip(net.links, roles, strict=True):
        if r in start:
            layout.links[k].diameter = start[r]
    c = np.full(len(net.links), SIZING_C)
    flow = None
    for _ in range(rounds):
        flow = estimate(layout, net, node_demand, c, flow=flow).flow
        new = choose_diameter(flow, minimum)
        for j in np.flatnonzero(sized):
            layout.links[net.links[j]].diameter = float(new[j])
    return estimate(layout, net, node_demand, c, flow=flow)


# ------------------------------------------------------------------------------------------------
# Pumps and tanks


@dataclass(frozen=True)
class PumpCurve:
    id: str
    points: tuple[tuple[float, float], ...]  # (flow m3/s, head m)

    def _fit(self) -> tuple[float, float, float]:
        (_, h0), (q1, h1), (q2, h2) = self.points
        c = math.log((h0 - h2) / (h0 - h1)) / math.log(q2 / q1)
        return h0, (h0 - h1) / q1**c, c

    def head(self, flow, speed: float = 1.0):
        """Head on EPANET's fitted curve h = w^2 a - b w^(2-c) q^c at relative speed w."""
        a, b, c = self._fit()
        return speed**2 * a - b * speed ** (2.0 - c) * np.asarray(flow) ** c

    def speed_for(self, flow: float, head: float, *, lowest: float = 0.6) -> float:
        """Relative speed at which the pump gives ``head`` at ``flow`` (bisection, capped at 1)."""
        lo, hi = lowest, 1.0
        if self.head(flow, hi) <= head:
            return hi
        if self.head(flow, lo) >= head:
            return lo
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if self.head(flow, mid) < head else (lo, mid)
        return 0.5 * (lo + hi)


def centrifugal(curve_id: str, flow: float, head: float) -> PumpCurve:
    """(A) A three-point curve: shut-off 1.2 x design head, 0.7 x at 1.6 x design flow."""
    return PumpCurve(curve_id, ((0.0, 1.2 * head), (flow, head), (1.6 * flow, 0.7 * head)))


def raw_main_loss(layout: Layout, pipes: list[str], flow: float, c: float = 120.0) -> float:
    by_id = {ln.id: ln for ln in layout.links}
    return float(
        sum(hw_resistance(by_id[p].length, by_id[p].diameter, c) * flow**1.852 for p in pipes)
    )
