"""The numba kernels of the share transport (see :mod:`hydro.kernels.transport`)."""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.cpython.unsafe.tuple import tuple_setitem
from numba.extending import intrinsic

from hydro.kernels.transport.model import (
    FIFO,
    JUNCTION,
    MIXED,
    STAGNANT_FLOW,
    TANK,
    TWO_COMPARTMENT,
)

# ------------------------------------------------------------------------------------------------
# The kernel.
#
# Segments are rows of one arena: seg[row, 0] is the volume [m3] in double precision, and the
# shares are single precision, packed in the rest of the row and read through the float32 view
# sh (share c of a row is sh[row, 2 + c]). The transport is bound by memory traffic and 32-byte
# rows (five shares) halve it; nodes mix in double precision, float32 keeps shares to ~1e-7,
# far below EPANET's 1e-4 tolerance. Volumes stay double: trickles of 1e-9 m3/s through links a
# rule has just opened must add up as they do in EPANET. Chain k (k < L: link k; L + i: tank
# i) is a ring buffer in the arena, its segments side by side in memory: ring[k] = (base row,
# capacity - 1 (capacity a power of two), head, count), and its i-th segment from the
# downstream (oldest) end is row base + ((head + i) & mask). A full ring moves to twice the
# room at the arena's top; before each step, unless every ring could still double, the rings are
# compacted to the arena's bottom (into a larger arena when that leaves too little room).
_BASE, _MASK, _HEAD, _COUNT = 0, 1, 2, 3
_AHEAD = 8  # links ahead whose segments a step prefetches: arena rows are cache misses


@intrinsic
def _prefetch(typingctx, array, i):
    """Hint the CPU to fetch array[i] (1-d) into cache (LLVM's prefetch; no effect on results)."""
    sig = types.void(array, i)

    def codegen(context, builder, signature, args):
        kind = signature.args[0]
        view = context.make_array(kind)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(
            context, builder, kind, view, [args[1]], wraparound=False, boundscheck=False
        )
        byte = ir.IntType(8).as_pointer()
        hint = ir.FunctionType(ir.VoidType(), [byte] + [ir.IntType(32)] * 3)
        function = cgutils.get_or_insert_function(builder.module, hint, "llvm.prefetch.p0")
        flag = [ir.Constant(ir.IntType(32), v) for v in (1, 3, 1)]  # write, keep, data
        builder.call(function, [builder.bitcast(pointer, byte), *flag])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _initial_state(
    link_start,
    link_end,
    link_volume,
    node_kind,
    tank_node,
    tank_volume,
    tank_model,
    tank_mix_volume,
    source,
    start,
    initial,
    n_comp,
    seg,
):
    """Segments and node shares at the start, and the work arrays of the steps: the state that
    _carry carries on (a tuple).

    seg : the arena, zeros, (16 * (L + T) + 64, 1 + (C + 1) // 2) float64, the caller's (see
      carry._arena).
    """
    n_nodes = node_kind.size
    n_links = link_start.size
    n_tanks = tank_node.size
    n_chains = n_links + n_tanks

    ring = np.zeros((n_chains, 4), np.int32)
    for k in range(n_chains):
        ring[k, _BASE] = 4 * k
        ring[k, _MASK] = 3
    arena = np.zeros(2, np.int64)  # first row no ring uses, rows the rings hold
    arena[0] = arena[1] = 4 * n_chains
    sh = seg.view(np.float32)

    node_c = np.zeros((n_nodes, n_comp))
    for n in range(n_nodes):
        node_c[n, start[n]] = 1.0
    tank_of = np.full(n_nodes, -1, np.int64)
    for i in range(n_tanks):
        tank_of[tank_node[i]] = i

    # Initial segments: each pipe full of initial water (or of its end node's, if a source); each
    # tank one segment of initial water (2COMP: a stagnant zone first, the mixing zone last).
    for k in range(n_links):
        if link_volume[k] > 0.0:
            row = _append(seg, ring, k, link_volume[k])
            sh[row, 2 + (source[link_end[k]] if source[link_end[k]] >= 0 else initial)] = 1.0
    for i in range(n_tanks):
        k = n_links + i
        if tank_model[i] == TWO_COMPARTMENT:
            stagnant = max(0.0, tank_volume[i] - tank_mix_volume[i])
            sh[_append(seg, ring, k, stagnant), 2 + initial] = 1.0
            sh[_append(seg, ring, k, tank_volume[i] - stagnant), 2 + initial] = 1.0
        else:
            sh[_append(seg, ring, k, tank_volume[i]), 2 + initial] = 1.0

    scratch = np.zeros((2, n_comp))  # a node's inflow masses, a tank's outflow shares
    return seg, ring, arena, node_c, tank_of, scratch


@numba.njit(cache=True, nogil=True)
def _adjacency(link_start, link_end, n_nodes):
    """model.adjacency by a counting sort (its lexsort costs a large model 1-2 ms before the
    first step can be carried): each node's links, the highest link index first and, of one
    link, the entry from its end node before the one from its start node."""
    indptr = np.zeros(n_nodes + 1, np.int64)
    for k in range(link_start.size):
        indptr[link_start[k] + 1] += 1
        indptr[link_end[k] + 1] += 1
    for n in range(n_nodes):
        indptr[n + 1] += indptr[n]
    fill = indptr[:-1].copy()
    links = np.empty(2 * link_start.size, np.int64)
    for k in range(link_start.size - 1, -1, -1):
        for n in (link_end[k], link_start[k]):
            links[fill[n]] = k
            fill[n] += 1
    return indptr, links


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _plan(
    link_start,
    link_end,
    node_kind,
    indptr,
    adj,
    direction,
    order,
    q,
    move,
    demand,
    node_slot,
    link_slot,
    flips,
    visit,
    in_ptr,
    in_link,
    in_rate,
    out_ptr,
    out_link,
    out_rate,
):
    """What a hydraulic step does, from its flows alone: the links whose flow reversed (into
    flips), the nodes re-sorted along the flow when any direction changed (direction and order
    carry over to the next step's plan), and the step's schedule (see _schedule). Returns
    (number of flips, number of nodes to visit). Nodes and links are sorted and scheduled by
    EPANET's indexes; what the plan holds are their slots in _carry's arrays (node_slot,
    link_slot: see carry.Transport).

    It never reads the segments, so plans can be made on one thread, in step order, while
    _carry works through earlier ones on another: the same arithmetic as doing both in turn.
    """
    n_links = link_start.size
    changed = False
    n_flips = 0
    for k in range(n_links):
        d = 0
        if abs(q[k]) >= STAGNANT_FLOW:
            d = 1 if q[k] > 0.0 else -1
        if d * direction[k] < 0:
            flips[n_flips] = link_slot[k]
            n_flips += 1
        if d != direction[k]:
            changed = True
        direction[k] = d
    if changed:
        _sort_nodes(link_start, link_end, indptr, adj, direction, order)
    n_visit = _schedule(
        link_start,
        link_end,
        node_kind,
        indptr,
        adj,
        direction,
        move,
        demand,
        order,
        node_slot,
        link_slot,
        visit,
        in_ptr,
        in_link,
        in_rate,
        out_ptr,
        out_link,
        out_rate,
    )
    return n_flips, n_visit


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _carry(
    node_kind,
    tank_model,
    tank_mix_volume,
    tank_max_volume,
    source,
    other,
    qstep,
    tol,
    state,
    flips,
    n_flips,
    n_visit,
    visit,
    in_ptr,
    in_link,
    in_rate,
    out_ptr,
    out_link,
    out_rate,
    demand,
    full,
    step,
    row,
    lanes,
    out,
    spare,
    node_slot,
):
    """One hydraulic step of ``step`` s by its plan (see _plan): re-orient the chains of the
    flipped links, report the node shares at its start in out[row] (row -1: none; node n's
    shares are in row node_slot[n] of the state's), then transport quality step by quality
    step. Returns the state (its arena replaced if it had to
    grow: by ``spare``, an empty arena of the caller's, when that is large enough; see
    _reserve)."""
    seg, ring, arena, node_c, tank_of, scratch = state
    n_links = ring.shape[0] - tank_model.size
    for i in range(n_flips):
        _reverse(seg, ring, flips[i])
    if row >= 0:
        report = out[row]
        for n in range(node_slot.size):
            at = node_slot[_u(n)]
            for c in range(node_c.shape[1]):
                report[_u(n), _u(c)] = node_c[_u(at), _u(c)]
    elapsed = 0
    while elapsed < step:
        dt = min(qstep, step - elapsed)
        elapsed += dt
        seg = _reserve(seg, ring, arena, spare)
        _step(
            float(dt),
            n_visit,
            visit,
            in_ptr,
            in_link,
            in_rate,
            out_ptr,
            out_link,
            out_rate,
            demand,
            node_kind,
            tank_of,
            tank_model,
            tank_mix_volume,
            tank_max_volume,
            full,
            source,
            other,
            n_links,
            tol,
            node_c,
            scratch[0],
            scratch[1],
            seg,
            seg.view(np.float32),
            ring,
            arena,
            lanes,
        )
    return seg, ring, arena, node_c, tank_of, scratch


@numba.njit(cache=True)
def _schedule(
    link_start,
    link_end,
    node_kind,
    indptr,
    adj,
    direction,
    q,
    demand,
    order,
    node_slot,
    link_slot,
    visit,
    in_ptr,
    in_link,
    in_rate,
    out_ptr,
    out_link,
    out_rate,
):
    """Fill the step's schedule (node and link slots, see _plan); return the number of nodes
    to visit.

    A link's downstream node is its end node unless its flow is negative (stagnant links count
    as positive, as in EPANET). Links without flow and junctions or reservoirs that neither
    receive nor send water are left out: a step changes nothing there.
    """
    n_visit = 0
    n_in = 0
    n_out = 0
    for j in range(order.size):
        n = order[_u(j)]
        first_in = n_in
        first_out = n_out
        for a in range(indptr[_u(n)], indptr[_u(n + 1)]):
            k = adj[_u(a)]
            rate = q[_u(k)]
            if rate == 0.0:
                continue
            down = link_end[_u(k)] if direction[_u(k)] >= 0 else link_start[_u(k)]
            if down == n:
                in_link[_u(n_in)] = link_slot[_u(k)]
                in_rate[_u(n_in)] = abs(rate)
                n_in += 1
            else:
                out_link[_u(n_out)] = link_slot[_u(k)]
                out_rate[_u(n_out)] = abs(rate)
                n_out += 1
        idle = n_in == first_in and n_out == first_out
        kind = node_kind[_u(n)]
        if idle and kind != TANK and not (kind == JUNCTION and demand[_u(n)] < 0.0):
            continue
        visit[_u(n_visit)] = node_slot[_u(n)]
        in_ptr[_u(n_visit)] = first_in
        out_ptr[_u(n_visit)] = first_out
        n_visit += 1
        in_ptr[_u(n_visit)] = n_in
        out_ptr[_u(n_visit)] = n_out
    return n_visit


@numba.njit(cache=True, error_model="numpy")
def _step(
    dt,
    n_visit,
    visit,
    in_ptr,
    in_link,
    in_rate,
    out_ptr,
    out_link,
    out_rate,
    demand,
    node_kind,
    tank_of,
    tank_model,
    tank_mix_volume,
    tank_max_volume,
    tank_full,
    source,
    other,
    n_links,
    tol,
    node_c,
    massin,
    mixed,
    seg,
    sh,
    ring,
    arena,
    lanes,
):
    """One quality step: every node in flow order pulls its inflows, mixes, pushes its outflows.

    Pulls and pushes are written out here rather than in helpers taking arrays: numba counts
    references to every array handed to an inlined helper, and those atomic counts cost more
    than the work itself. The hot loops index flat views of the arena, the rings and the node
    shares with unsigned indexes (_u): row strides are then constants and numba leaves out its
    negative-index checks, which took a third of the instructions.
    """
    n_comp = len(lanes)  # a constant: the loops over shares unroll
    width = 1 + (n_comp + 1) // 2  # float64 words per arena row (see _initial_state)
    vol = seg.reshape(seg.size)  # volume of row r: vol[r * width]
    share = sh.reshape(sh.size)  # share c of row r: share[r * 2 * width + 2 + c]
    rg = ring.reshape(ring.size)  # field f of chain k: rg[4 * k + f]
    node = node_c.reshape(node_c.size)  # share c at node n: node[n * n_comp + c]
    n_in = in_ptr[_u(n_visit)]
    n_out = out_ptr[_u(n_visit)]
    for j in range(n_visit):
        n = visit[_u(j)]
        volin = 0.0
        mass = lanes  # C zeros: the inflow's share masses, kept in registers
        # Pull |q| dt out of each inflow link's leading segments (EPANET's evalnodeinflow).
        for a in range(in_ptr[_u(j)], in_ptr[_u(j + 1)]):
            k = 4 * in_link[_u(a)]
            if a + 2 * _AHEAD < n_in:  # fetch the ring, then the head row, of links to come
                _prefetch(rg, 4 * in_link[_u(a + 2 * _AHEAD)])
            if a + _AHEAD < n_in:
                ahead = 4 * in_link[_u(a + _AHEAD)]
                _prefetch(vol, width * (rg[_u(ahead + _BASE)] + rg[_u(ahead + _HEAD)]))
            v = in_rate[_u(a)] * dt
            while v > 0.0 and rg[_u(k + _COUNT)] > 0:
                row = rg[_u(k + _BASE)] + rg[_u(k + _HEAD)]
                r = width * row
                s = 2 * width * row + 2
                vseg = min(vol[_u(r)], v)
                volin += vseg
                for c in range(n_comp):
                    mass = tuple_setitem(mass, c, mass[c] + vseg * share[_u(s + c)])
                v -= vseg
                if vseg >= vol[_u(r)]:  # segment used up: the one behind it leads
                    rg[_u(k + _HEAD)] = (rg[_u(k + _HEAD)] + 1) & rg[_u(k + _MASK)]
                    rg[_u(k + _COUNT)] -= 1
                else:
                    vol[_u(r)] -= vseg
        # Mix (EPANET's findnodequal).
        at = n * n_comp
        kind = node_kind[_u(n)]
        if kind == JUNCTION:
            if demand[_u(n)] < 0.0:  # water entering here from no named source
                volin -= demand[_u(n)] * dt
                mass = tuple_setitem(mass, other, mass[other] - demand[_u(n)] * dt)
            if volin > 0.0:
                # massin / volin, normalised by the sum of massin (volin up to rounding) so
                # that float32 segments never let shares drift from summing to 1
                total = 0.0
                for c in range(n_comp):
                    total += mass[c]
                inverse = 1.0 / total
                for c in range(n_comp):
                    node[_u(at + c)] = mass[c] * inverse
        elif kind == TANK:
            volout = 0.0
            for a in range(out_ptr[_u(j)], out_ptr[_u(j + 1)]):
                volout += out_rate[_u(a)]
            i = tank_of[n]
            if ring[n_links + i, _COUNT] > ring[n_links + i, _MASK]:
                _widen(seg, ring, arena, n_links + i)
            for c in range(n_comp):
                mixed[c] = node_c[n, c]
                massin[c] = mass[c]
            _mix_tank(
                seg,
                sh,
                ring,
                n_links + i,
                tank_model[i],
                tank_mix_volume[i],
                tank_max_volume[i],
                tank_full[i],
                volin,
                volout * dt,
                massin,
                tol,
                mixed,
            )
            total = 0.0
            for c in range(n_comp):
                total += mixed[c]
            for c in range(n_comp):
                node_c[n, c] = mixed[c] / total
        if source[_u(n)] >= 0:
            for c in range(n_comp):
                node[_u(at + c)] = 0.0
            node[_u(at + source[_u(n)])] = 1.0
        # Push |q| dt at the node's shares into each outflow link (EPANET's evalnodeoutflow):
        # merged with the last segment when no share differs by tol or more.
        for a in range(out_ptr[_u(j)], out_ptr[_u(j + 1)]):
            k = 4 * out_link[_u(a)]
            if a + 2 * _AHEAD < n_out:  # fetch the ring, then the tail row, of links to come
                _prefetch(rg, 4 * out_link[_u(a + 2 * _AHEAD)])
            if a + _AHEAD < n_out:
                ahead = 4 * out_link[_u(a + _AHEAD)]
                last = rg[_u(ahead + _HEAD)] + rg[_u(ahead + _COUNT)] - 1
                _prefetch(vol, width * (rg[_u(ahead + _BASE)] + (last & rg[_u(ahead + _MASK)])))
            v = out_rate[_u(a)] * dt
            if v == 0.0:
                continue
            count = rg[_u(k + _COUNT)]
            merge = count > 0
            if merge:
                row = rg[_u(k + _BASE)] + ((rg[_u(k + _HEAD)] + count - 1) & rg[_u(k + _MASK)])
                s = 2 * width * row + 2
                for c in range(n_comp):
                    if abs(share[_u(s + c)] - node[_u(at + c)]) >= tol:
                        merge = False
                        break
            if merge:
                r = width * row
                total = vol[_u(r)] + v
                old, new = vol[_u(r)] / total, v / total
                for c in range(n_comp):
                    share[_u(s + c)] = share[_u(s + c)] * old + node[_u(at + c)] * new
                vol[_u(r)] = total
            else:
                if count > rg[_u(k + _MASK)]:
                    _widen(seg, ring, arena, k // 4)
                row = rg[_u(k + _BASE)] + ((rg[_u(k + _HEAD)] + count) & rg[_u(k + _MASK)])
                rg[_u(k + _COUNT)] = count + 1
                vol[_u(width * row)] = v
                s = 2 * width * row + 2
                for c in range(n_comp):
                    share[_u(s + c)] = node[_u(at + c)]


@numba.njit(cache=True, inline="always")
def _u(i):
    """An index as unsigned: numba then skips its negative-index check (i must be >= 0)."""
    return np.uint64(i)


@numba.njit(cache=True, inline="always")
def _row(ring, k, i):
    """Arena row of the i-th segment of chain k, counted from its downstream end."""
    return ring[k, _BASE] + ((ring[k, _HEAD] + i) & ring[k, _MASK])


@numba.njit(cache=True, inline="always")
def _append(seg, ring, k, v):
    """A new last (upstream) segment of volume v in chain k; returns its row (shares are the
    caller's to fill). The ring must have room (see _widen)."""
    row = _row(ring, k, ring[k, _COUNT])
    ring[k, _COUNT] += 1
    seg[row, 0] = v
    return row


@numba.njit(cache=True)
def _reserve(seg, ring, arena, spare):
    """Room for every ring to double once more: the arena compacted in place when that makes
    enough room, else moved to a larger one: ``spare`` if it holds four times the rings (the
    caller's, see carry._arena), else a new one.

    A step adds at most one segment to each chain, so each ring widens at most once per step:
    room for twice the live ring capacity suffices. Reusing the arena spares the page faults of
    fresh memory, which cost more than the copying.
    """
    if arena[0] + 2 * arena[1] > seg.shape[0]:
        if 4 * arena[1] <= seg.shape[0]:
            _compact_in_place(seg, ring, arena)
        elif 4 * arena[1] <= spare.shape[0] and spare.shape[1] == seg.shape[1]:
            _move_rings(seg, spare, ring, arena)
            seg = spare
        else:
            seg = _compact(seg, ring, arena)
    return seg


@numba.njit(cache=True)
def _widen(seg, ring, arena, k):
    """Move full chain k to a ring twice as large at the arena's top (room was reserved)."""
    size = 2 * (ring[k, _MASK] + 1)
    base = arena[0]
    for i in range(ring[k, _COUNT]):
        seg[base + i] = seg[_row(ring, k, i)]
    ring[k, _BASE] = base
    ring[k, _MASK] = size - 1
    ring[k, _HEAD] = 0
    arena[0] = base + size
    arena[1] += size // 2


@numba.njit(cache=True)
def _compact(seg, ring, arena):
    """A new arena holding every ring side by side, with room for eight times their capacity
    (fresh memory is left uninitialised: only rows a ring holds are ever read)."""
    new = np.empty((8 * arena[1] + 64, seg.shape[1]))
    _move_rings(seg, new, ring, arena)
    return new


@numba.njit(cache=True)
def _compact_in_place(seg, ring, arena):
    """Every ring moved down to the bottom of the arena, side by side."""
    _move_rings(seg, seg, ring, arena)


@numba.njit(cache=True)
def _move_rings(seg, new, ring, arena):
    """Copy every ring, oldest segment first, to the bottom of ``new`` in the order they lie in
    ``seg`` (which may be ``new``: a ring then only moves down, and its new rows end below where
    the next ring starts, so copying it through a buffer never overwrites one still to move)."""
    buffer = np.empty((np.max(ring[:, _MASK]) + 1, seg.shape[1]))
    base = 0
    for k in np.argsort(ring[:, _BASE]):
        count = ring[k, _COUNT]
        for i in range(count):
            buffer[i] = seg[_row(ring, k, i)]
        new[base : base + count] = buffer[:count]
        ring[k, _BASE] = base
        ring[k, _HEAD] = 0
        base += ring[k, _MASK] + 1
    arena[0] = base


@numba.njit(cache=True)
def _reverse(seg, ring, k):
    """Re-orient chain k when its flow reverses (EPANET's reversesegs)."""
    count = ring[k, _COUNT]
    for i in range(count // 2):
        a = _row(ring, k, i)
        b = _row(ring, k, count - 1 - i)
        for c in range(seg.shape[1]):
            x = seg[a, c]
            seg[a, c] = seg[b, c]
            seg[b, c] = x


@numba.njit(cache=True)
def _sort_nodes(link_start, link_end, indptr, adj, direction, order):
    """Nodes from upstream to downstream along the flow (EPANET's sortnodes, cycles included).

    Unsigned indexes (_u) in the loops over links, as in _step: a sixth faster.
    """
    n_nodes = order.size
    indegree = np.zeros(n_nodes, np.int64)
    for k in range(link_start.size):
        if direction[_u(k)] > 0:
            indegree[_u(link_end[_u(k)])] += 1
        elif direction[_u(k)] < 0:
            indegree[_u(link_start[_u(k)])] += 1
    stack = np.empty(n_nodes, np.int64)
    below = np.empty(n_nodes, np.int64)  # see _unsorted_neighbour
    size = 0
    for n in range(n_nodes):
        if indegree[n] == 0:
            stack[size] = n
            size += 1
    done = 0
    while done < n_nodes:
        if size == 0:  # a cycle: continue from a node next to the sorted ones
            j = _unsorted_neighbour(link_start, link_end, indptr, adj, order, done, indegree, below)
            if j < 0:
                break
            indegree[j] = 0
            stack[size] = j
            size += 1
        size -= 1
        i = stack[_u(size)]
        order[_u(done)] = i
        below[_u(done)] = done
        done += 1
        for a in range(indptr[_u(i)], indptr[_u(i + 1)]):
            k = adj[_u(a)]
            dk = direction[_u(k)]
            if dk == 0:
                continue
            n = link_end[_u(k)] if dk > 0 else link_start[_u(k)]
            if n != i and indegree[_u(n)] > 0:
                indegree[_u(n)] -= 1
                if indegree[_u(n)] == 0:
                    stack[_u(size)] = n
                    size += 1
    if done < n_nodes:  # cannot happen for a valid network; keep every node visited anyway
        seen = np.zeros(n_nodes, np.bool_)
        for m in range(done):
            seen[order[m]] = True
        for n in range(n_nodes):
            if not seen[n]:
                order[done] = n
                done += 1


@numba.njit(cache=True)
def _unsorted_neighbour(link_start, link_end, indptr, adj, order, done, indegree, below):
    """EPANET's selectnonstacknode: a node with inflows left, next to the latest sorted nodes.

    The sorted nodes are searched from the latest back. One whose neighbours have no inflows
    left never has again (inflows left only decrease), so later searches skip it:
    below[m] leads to the latest sorted position at or below m not yet found so (-1: none),
    paths shortened as they are followed.
    """
    m = _still_open(below, done - 1)
    while m >= 0:
        i = order[m]
        for a in range(indptr[i], indptr[i + 1]):
            k = adj[a]
            n = link_end[k] if link_start[k] == i else link_start[k]
            if indegree[n] > 0:
                return n
        below[m] = m - 1
        m = _still_open(below, m - 1)
    for n in range(order.size):
        if indegree[n] > 0:
            return n
    return -1


@numba.njit(cache=True)
def _still_open(below, m):
    """The latest sorted position at or below m whose node may have neighbours with inflows
    left (-1: none); shortens the path it follows."""
    top = m
    while m >= 0 and below[m] != m:
        m = below[m]
    while top >= 0 and below[top] != top:  # path compression
        top, below[top] = below[top], m
    return m


@numba.njit(cache=True, error_model="numpy")
def _mix_tank(seg, sh, ring, k, model, vmz, vmax, full, vin, vout, win, tol, mixed):
    """Mix inflow (volume vin, share masses win) into tank chain k; mixed = outflow shares.

    EPANET 2.3's tankmix1-4 (read from its library: 2.3 added overflow rules to 2.2's). A full
    tank takes inflow and spills it: MIXED caps its volume at vmax; 2COMP caps the stagnant
    zone at vmax - vmz; FIFO and LIFO, when the hydraulics end the step full (``full``), let
    the net inflow out of the oldest water. The chain has room for one more segment.
    """
    vnet = vin - vout
    if ring[k, _COUNT] == 0:
        return
    if model == MIXED:
        row = _row(ring, k, 0)
        vnew = seg[row, 0] + vin
        if vnew > 0.0:
            for c in range(mixed.size):
                sh[row, 2 + c] = (sh[row, 2 + c] * seg[row, 0] + win[c]) / vnew
        seg[row, 0] = min(max(0.0, seg[row, 0] + vnet), vmax)
        for c in range(mixed.size):
            mixed[c] = sh[row, 2 + c]
    elif model == TWO_COMPARTMENT:
        _mix_two_compartments(seg, sh, ring, k, vmz, vmax, vin, vnet, win, mixed)
    elif model == FIFO:
        _mix_fifo(seg, sh, ring, k, full, vin, vnet, win, tol, mixed)
    else:
        _mix_lifo(seg, sh, ring, k, full, vin, vnet, win, tol, mixed)


@numba.njit(cache=True, error_model="numpy")
def _mix_two_compartments(seg, sh, ring, k, vmz, vmax, vin, vnet, win, mixed):
    """tankmix2: inflow mixes into the mixing zone, which spills into the stagnant zone."""
    sz = _row(ring, k, 0)  # stagnant zone: first segment
    mz = _row(ring, k, ring[k, _COUNT] - 1)  # mixing zone: last segment
    n_comp = mixed.size
    if vnet > 0.0:
        vt = max(0.0, seg[mz, 0] + vnet - vmz)
        if vin > 0.0:
            for c in range(n_comp):
                sh[mz, 2 + c] = (sh[mz, 2 + c] * seg[mz, 0] + win[c]) / (seg[mz, 0] + vin)
        if vt > 0.0:
            for c in range(n_comp):
                sh[sz, 2 + c] = (sh[sz, 2 + c] * seg[sz, 0] + sh[mz, 2 + c] * vt) / (
                    seg[sz, 0] + vt
                )
            seg[mz, 0] = vmz
            seg[sz, 0] = min(seg[sz, 0] + vt, vmax - vmz)  # a full tank spills
            for c in range(n_comp):
                mixed[c] = sh[mz, 2 + c]
            return
    elif vnet < 0.0 and seg[sz, 0] > 0.0:
        vt = min(seg[sz, 0], -vnet)
        if vin + vt > 0.0:
            for c in range(n_comp):
                sh[mz, 2 + c] = (sh[mz, 2 + c] * seg[mz, 0] + win[c] + sh[sz, 2 + c] * vt) / (
                    seg[mz, 0] + vin + vt
                )
        seg[sz, 0] = max(0.0, seg[sz, 0] - vt)
        seg[mz, 0] = vmz + vnet + vt
        for c in range(n_comp):
            mixed[c] = sh[mz, 2 + c]
        return
    elif vnet < 0.0 and vin > 0.0:
        for c in range(n_comp):
            sh[mz, 2 + c] = (sh[mz, 2 + c] * seg[mz, 0] + win[c]) / (seg[mz, 0] + vin)
    seg[mz, 0] = max(0.0, min(seg[mz, 0] + vnet, vmz))
    if seg[mz, 0] < vmz:
        seg[sz, 0] = 0.0
    for c in range(n_comp):
        mixed[c] = sh[mz, 2 + c]


@numba.njit(cache=True, error_model="numpy")
def _mix_fifo(seg, sh, ring, k, full, vin, vnet, win, tol, mixed):
    """tankmix3: inflow joins the back of the tank, outflow leaves from the front."""
    n_comp = mixed.size
    if vin > 0.0:
        last = _row(ring, k, ring[k, _COUNT] - 1)
        merge = True
        for c in range(n_comp):
            if abs(sh[last, 2 + c] - win[c] / vin) >= tol:
                merge = False
        if merge:
            seg[last, 0] += vin
        else:
            row = _append(seg, ring, k, vin)
            for c in range(n_comp):
                sh[row, 2 + c] = win[c] / vin
    vout = vin if full and vnet > 0.0 else vin - vnet  # a full tank spills its net inflow
    for c in range(n_comp):
        mixed[c] = 0.0
    vsum = _draw(seg, sh, ring, k, vout, mixed, False)
    if vsum > 0.0:
        for c in range(n_comp):
            mixed[c] /= vsum
    else:
        row = _row(ring, k, 0)
        for c in range(n_comp):
            mixed[c] = sh[row, 2 + c]


@numba.njit(cache=True, error_model="numpy")
def _mix_lifo(seg, sh, ring, k, full, vin, vnet, win, tol, mixed):
    """tankmix4: the tank fills and empties at the top, like a stack (a full one spills the
    net inflow from the bottom, as EPANET 2.3 does)."""
    n_comp = mixed.size
    last = _row(ring, k, ring[k, _COUNT] - 1)
    for c in range(n_comp):
        mixed[c] = sh[last, 2 + c]
    if vnet > 0.0:
        merge = True
        for c in range(n_comp):
            if abs(sh[last, 2 + c] - win[c] / vin) >= tol:
                merge = False
        if merge:
            seg[last, 0] += vnet
        else:
            row = _append(seg, ring, k, vnet)
            for c in range(n_comp):
                sh[row, 2 + c] = win[c] / vin
                mixed[c] = win[c] / vin
        if full:
            spilled = np.zeros(n_comp)
            _draw(seg, sh, ring, k, vnet, spilled, False)
    elif vnet < 0.0:
        for c in range(n_comp):
            mixed[c] = win[c]
        vsum = _draw(seg, sh, ring, k, -vnet, mixed, True)
        for c in range(n_comp):
            mixed[c] /= vsum + vin


@numba.njit(cache=True, error_model="numpy")
def _draw(seg, sh, ring, k, v, mass, from_top):
    """Take volume v out of tank chain k, from the bottom (oldest) or the top; add the share
    masses to ``mass``; return the volume taken. As in EPANET, the last segment left gives
    whatever is still asked, and only shrinks when asked for less than it holds.
    """
    vsum = 0.0
    while v > 0.0:
        count = ring[k, _COUNT]
        row = _row(ring, k, count - 1 if from_top else 0)
        vseg = v if count == 1 else min(seg[row, 0], v)
        vsum += vseg
        for c in range(mass.size):
            mass[c] += sh[row, 2 + c] * vseg
        v -= vseg
        if vseg >= seg[row, 0]:
            if count > 1:
                if not from_top:
                    ring[k, _HEAD] = (ring[k, _HEAD] + 1) & ring[k, _MASK]
                ring[k, _COUNT] = count - 1
        else:
            seg[row, 0] -= vseg
    return vsum


# ------------------------------------------------------------------------------------------------
# The slow, readable twin: the same scheme with Python lists, for tests on small networks.
