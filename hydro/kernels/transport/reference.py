"""The slow, readable twin of :func:`hydro.kernels.transport.transport` (one list per chain)."""

from __future__ import annotations

from collections import deque

import numpy as np

from hydro.kernels.transport.model import (
    FIFO,
    JUNCTION,
    MIXED,
    STAGNANT_FLOW,
    TANK,
    TWO_COMPARTMENT,
    Network,
    adjacency,
    start_components,
)


def transport_reference(
    network: Network,
    times,
    flows,
    demands,
    tank_full=None,
    moves=None,
    *,
    source_of_node,
    initial: int,
    other: int,
    n_components: int,
    quality_step: int,
    tolerance: float,
    report_rows,
    n_reports: int,
) -> np.ndarray:
    """Same arguments and result as :func:`transport`, written plainly (one list per chain)."""
    n_nodes, n_links = network.n_nodes, network.n_links
    n_tanks = len(network.tank_node)
    C = n_components
    indptr, adj = adjacency(network.link_start, network.link_end, n_nodes)
    links_at = [list(adj[indptr[n] : indptr[n + 1]]) for n in range(n_nodes)]
    tank_of = {int(n): i for i, n in enumerate(network.tank_node)}
    out = np.zeros((n_reports, n_nodes, C), np.float32)

    def unit(c):
        e = np.zeros(C)
        e[c] = 1.0
        return e

    start = start_components(network.node_kind, source_of_node, initial=initial, other=other)
    node_c = [unit(start[n]) for n in range(n_nodes)]
    # chains[k] lists [volume, shares] from the downstream (oldest) end to the upstream end.
    chains: list[deque] = [deque() for _ in range(n_links + n_tanks)]
    for k in range(n_links):
        end = network.link_end[k]
        if network.link_volume[k] > 0:
            c = unit(source_of_node[end] if source_of_node[end] >= 0 else initial)
            chains[k].append([network.link_volume[k], c])
    for i in range(n_tanks):
        c, v = unit(initial), network.tank_volume[i]
        if network.tank_model[i] == TWO_COMPARTMENT:
            stagnant = max(0.0, v - network.tank_mix_volume[i])
            chains[n_links + i].extend([[stagnant, c.copy()], [v - stagnant, c.copy()]])
        else:
            chains[n_links + i].append([v, c])

    def close(a, b):
        return bool(np.all(np.abs(a - b) < tolerance))

    def pull(chain, v):
        vol, mass = 0.0, np.zeros(C)
        while v > 0 and chain:
            seg = chain[0]
            take = min(seg[0], v)
            vol, mass, v = vol + take, mass + take * seg[1], v - take
            if take >= seg[0]:
                chain.popleft()
            else:
                seg[0] -= take
        return vol, mass

    def push(chain, v, c):
        if v == 0:
            return
        if chain and close(chain[-1][1], c):
            seg = chain[-1]
            seg[1] = (seg[1] * seg[0] + c * v) / (seg[0] + v)
            seg[0] += v
        else:
            chain.append([v, c.copy()])

    if tank_full is None:
        tank_full = np.zeros((len(times), n_tanks), bool)
    if moves is None:
        moves = flows
    direction = np.zeros(n_links, np.int64)
    order = list(range(n_nodes))
    steps = np.append(np.diff(times), 0)
    for h in range(len(times)):
        q = np.asarray(flows[h], np.float64)
        new = np.where(np.abs(q) < STAGNANT_FLOW, 0, np.sign(q)).astype(np.int64)
        q = np.asarray(moves[h], np.float64)  # directions from flows, volumes from moves
        for turned in np.flatnonzero(new * direction < 0).tolist():
            chains[turned].reverse()
        if np.any(new != direction):
            order = _reference_sort(network, links_at, new)
        direction = new
        if report_rows[h] >= 0:
            out[report_rows[h]] = np.array(node_c)
        elapsed = 0
        while elapsed < steps[h]:
            dt = min(quality_step, steps[h] - elapsed)
            elapsed += dt
            for n in order:
                volin, massin, volout = 0.0, np.zeros(C), 0.0
                for k in links_at[n]:
                    downstream = network.link_end[k] if direction[k] >= 0 else network.link_start[k]
                    if downstream == n:
                        v, m = pull(chains[k], abs(q[k]) * dt)
                        volin, massin = volin + v, massin + m
                    else:
                        volout += abs(q[k])
                d = demands[h][n]
                if network.node_kind[n] == JUNCTION:
                    volout += max(0.0, d)
                    if d < 0:
                        volin -= d * dt
                        massin[other] -= d * dt
                    if volin > 0:
                        node_c[n] = massin / volin
                elif network.node_kind[n] == TANK:
                    i = tank_of[n]
                    node_c[n] = _reference_mix(
                        chains[n_links + i],
                        network.tank_model[i],
                        network.tank_mix_volume[i],
                        network.tank_max_volume[i],
                        bool(tank_full[h][i]),
                        volin,
                        volout * dt,
                        massin,
                        close,
                    )
                    node_c[n] = node_c[n] / node_c[n].sum()
                if source_of_node[n] >= 0:
                    node_c[n] = unit(source_of_node[n])
                for k in links_at[n]:
                    upstream = network.link_start[k] if direction[k] >= 0 else network.link_end[k]
                    if upstream == n:
                        push(chains[k], abs(q[k]) * dt, node_c[n])
    return out


def _reference_sort(network: Network, links_at, direction) -> list[int]:
    """EPANET's sortnodes in plain Python."""
    n_nodes = network.n_nodes
    start, end = network.link_start, network.link_end

    def downstream(k):
        return end[k] if direction[k] > 0 else start[k]

    indegree = [0] * n_nodes
    for k in np.flatnonzero(direction != 0):
        indegree[downstream(k)] += 1
    stack = [n for n in range(n_nodes) if indegree[n] == 0]
    order: list[int] = []
    while len(order) < n_nodes:
        if not stack:
            candidates = [
                end[k] if start[k] == i else start[k] for i in reversed(order) for k in links_at[i]
            ]
            candidates += list(range(n_nodes))
            j = next((n for n in candidates if indegree[n] > 0), None)
            if j is None:
                order += [n for n in range(n_nodes) if n not in set(order)]
                break
            indegree[j] = 0
            stack.append(j)
        i = stack.pop()
        order.append(i)
        for k in links_at[i]:
            if direction[k] == 0:
                continue
            n = downstream(k)
            if n != i and indegree[n] > 0:
                indegree[n] -= 1
                if indegree[n] == 0:
                    stack.append(n)
    return order


def _reference_mix(chain: deque, model, vmz, vmax, full, vin, vout, win, close) -> np.ndarray:
    """EPANET 2.3's four tank mixing models on a list of [volume, shares] (front = oldest or
    stagnant zone, back = newest or mixing zone); returns the outflow shares."""
    vnet = vin - vout
    if model == MIXED:
        seg = chain[0]
        if seg[0] + vin > 0:
            seg[1] = (seg[1] * seg[0] + win) / (seg[0] + vin)
        seg[0] = min(max(0.0, seg[0] + vnet), vmax)
        return seg[1].copy()
    if model == TWO_COMPARTMENT:
        stag, mix = chain[0], chain[-1]
        if vnet > 0:
            vt = max(0.0, mix[0] + vnet - vmz)
            if vin > 0:
                mix[1] = (mix[1] * mix[0] + win) / (mix[0] + vin)
            if vt > 0:
                stag[1] = (stag[1] * stag[0] + mix[1] * vt) / (stag[0] + vt)
                mix[0] = vmz
                stag[0] = min(stag[0] + vt, vmax - vmz)
                return mix[1].copy()
        elif vnet < 0 and stag[0] > 0:
            vt = min(stag[0], -vnet)
            if vin + vt > 0:
                mix[1] = (mix[1] * mix[0] + win + stag[1] * vt) / (mix[0] + vin + vt)
            stag[0] = max(0.0, stag[0] - vt)
            mix[0] = vmz + vnet + vt
            return mix[1].copy()
        elif vnet < 0 and vin > 0:
            mix[1] = (mix[1] * mix[0] + win) / (mix[0] + vin)
        mix[0] = max(0.0, min(mix[0] + vnet, vmz))
        if mix[0] < vmz:
            stag[0] = 0.0
        return mix[1].copy()
    if model == FIFO:
        if vin > 0:
            cin = win / vin
            if close(chain[-1][1], cin):
                chain[-1][0] += vin
            else:
                chain.append([vin, cin])
        vol, mass = _reference_draw(chain, vin if full and vnet > 0 else vin - vnet)
        return mass / vol if vol > 0 else chain[0][1].copy()
    # LIFO: fill and empty at the top; a full tank spills the net inflow from the bottom
    cin = win / vin if vin > 0 else np.zeros_like(win)
    if vnet > 0:
        if close(chain[-1][1], cin):
            chain[-1][0] += vnet
        else:
            chain.append([vnet, cin])
        top = chain[-1][1].copy()
        if full:
            _reference_draw(chain, vnet)
        return top
    if vnet < 0:
        chain.reverse()
        vol, mass = _reference_draw(chain, -vnet)
        chain.reverse()
        return (mass + win) / (vol + vin)
    return chain[-1][1].copy()


def _reference_draw(chain: deque, v: float) -> tuple[float, np.ndarray]:
    """Draw v from the front of a tank's chain; its last segment gives whatever is still asked."""
    vol, mass = 0.0, np.zeros_like(chain[0][1])
    while v > 0 and chain:
        seg = chain[0]
        take = v if len(chain) == 1 else min(seg[0], v)
        vol, mass, v = vol + take, mass + take * seg[1], v - take
        if take >= seg[0] and len(chain) > 1:
            chain.popleft()
        elif take < seg[0]:
            seg[0] -= take
    return vol, mass
