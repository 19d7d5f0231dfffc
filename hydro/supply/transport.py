"""Source shares carried through a pipe network: EPANET's Lagrangian transport, all sources at once.

EPANET traces one source per run (QUALITY TRACE node): a concentration of 100 % leaves the source
and is carried by plug flow through pipes and mixed at nodes and tanks. Every step of that scheme is
linear in the concentration, so a vector of shares -- one entry per source, plus one for the water
that was in the network at the start ("initial") and one for water entering where no named source
is ("other": unnamed reservoirs, negative demands) -- is carried by the same arithmetic and gives
every source's trace from one pass over one hydraulic solution. The vector always sums to 1.

The scheme follows EPANET 2.2 (qualroute.c, quality.c, qualreact.c) step for step, with what
EPANET 2.3 changed (read from the owa-epanet 2.3.5 library itself, and checked against it):

* every pipe holds a chain of segments (volume v [m3], share vector c), the first one at its
  downstream end; pumps, valves and check-valve pipes start empty (EPANET gives only pipes a
  volume);
* at each hydraulic time, links whose flow changed sign have their chain reversed and, if any flow
  direction changed (flows under 0.005 gpm count as none), the nodes are sorted topologically
  along the flow, so that water can cross several short pipes in one quality step;
* each quality step dt (the model's QUALITY TIMESTEP, restarted at every hydraulic time), nodes are
  visited in that order: each pulls |q| dt of water out of the leading segments of its inflow
  links, mixes it (junction: flow-weighted mean, negative demand adding "other" water; tank: its
  mixing model), and pushes |q| dt at the mixed shares into the upstream end of every outflow link,
  merging with the last segment when no share differs by ``tolerance`` or more;
* a source node's outflow is entirely its own (EPANET's trace node holds 100 %);
* tanks: complete mix (MIXED), two compartments (2COMP), plug flow (FIFO) and stacked plug flow
  (LIFO), as EPANET's tankmix1-4, each on its own chain of segments after the links' chains; a
  full tank that still takes inflow spills it, each model its own way (EPANET 2.3);
* water moves over a step by the link statuses EPANET's quality sees, those after the hydraulic
  solver advanced (rules fire at the step's end): see ``moves`` in :func:`transport`.

Segments are rows of one preallocated arena, each link's and tank's segments a ring buffer in
it (see the kernel's comment). The public function checks its arguments and calls one numba
kernel for the whole run; :func:`transport_reference` is its slow, readable twin.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# EPANET's stagnant-flow tolerance: 0.005 gpm, in m3/s. Links below it keep no flow direction.
STAGNANT_FLOW = 0.005 * 6.30901964e-05
# EPANET's link volume uses pi/4 rounded so; kept for equal segment volumes.
QUARTER_PI = 0.785398

JUNCTION, RESERVOIR, TANK = 0, 1, 2
MIXED, TWO_COMPARTMENT, FIFO, LIFO = 0, 1, 2, 3  # EPANET's EN_MIX1, EN_MIX2, EN_FIFO, EN_LIFO
PIPE = 1  # EPANET link type code of an ordinary pipe (check-valve pipes are 0)


@dataclass(frozen=True)
class Network:
    """What transport needs to know of a network, 0-based indexes, SI units.

    link_start, link_end : (L,) int64 node index at each end of a link.
    link_volume : (L,) float64 [m3], pi/4 * length * diameter**2 for pipes, 0 for other links.
    node_kind : (N,) int8, JUNCTION, RESERVOIR or TANK.
    tank_node : (T,) int64 node index of each tank (reservoirs excluded).
    tank_volume : (T,) float64 [m3] initial volume.
    tank_model : (T,) int8 mixing model, MIXED, TWO_COMPARTMENT, FIFO or LIFO.
    tank_mix_volume : (T,) float64 [m3] mixing-zone volume of 2COMP tanks (unused otherwise).
    tank_max_volume : (T,) float64 [m3] volume of a full tank (EPANET 2.3 lets a full tank take
      inflow and spill it; see _mix_tank).
    """

    link_start: np.ndarray
    link_end: np.ndarray
    link_volume: np.ndarray
    node_kind: np.ndarray
    tank_node: np.ndarray
    tank_volume: np.ndarray
    tank_model: np.ndarray
    tank_mix_volume: np.ndarray
    tank_max_volume: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.node_kind)

    @property
    def n_links(self) -> int:
        return len(self.link_start)


def link_volumes(link_type, length, diameter) -> np.ndarray:
    """(L,) [m3] EPANET's segment volume of each link: pipes only (type PIPE), others 0."""
    volume = QUARTER_PI * np.asarray(length, np.float64) * np.asarray(diameter, np.float64) ** 2
    return np.where(np.asarray(link_type) == PIPE, volume, 0.0)


def adjacency(link_start, link_end, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Links at each node, in EPANET's order (its lists are built by prepending, link 1 first).

    Returns (indptr (N+1,), links (2L,)) int64: the links of node n are
    links[indptr[n]:indptr[n + 1]], the highest link index first.
    """
    start = np.asarray(link_start, np.int64)
    end = np.asarray(link_end, np.int64)
    n_links = len(start)
    owner = np.concatenate([start, end])
    link = np.concatenate([np.arange(n_links), np.arange(n_links)])
    # Within a node, EPANET sees link k's entries in decreasing k; an entry from the end node is
    # prepended after the one from the start node of the same link.
    rank = np.concatenate([2 * np.arange(n_links), 2 * np.arange(n_links) + 1])
    order = np.lexsort((-rank, owner))
    indptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=n_nodes), out=indptr[1:])
    return indptr, link[order]


def transport(network: Network, times, flows, demands, tank_full=None, moves=None, *,
              source_of_node, initial: int, other: int, n_components: int, quality_step: int,
              tolerance: float, report_rows, n_reports: int,
              out: np.ndarray | None = None) -> np.ndarray:
    """Carry share vectors through the network over a recorded hydraulic run.

    times : (H,) int64 [s] hydraulic times (increasing); the state at times[h] holds until
      times[h + 1]; the last entry ends the run.
    flows : (H, L) float64 [m3/s] link flow at each hydraulic time, positive from start to end
      node, 0 for closed links.
    demands : (H, N) float64 [m3/s] node outflow (demand, emitters, leakage; negative = inflow).
    tank_full : (H, T) bool, tank full at the END of the step that starts at times[h] (EPANET's
      quality sees the hydraulic tank volume of the step's end); default never full.
    moves : (H, L) float64 [m3/s] flow that carries water over the step, default ``flows``.
      EPANET's quality takes flow directions (and the node order) from the solution at times[h]
      but moves water by the link statuses as they are after the hydraulic solver advanced,
      i.e. after rules fired at the step's end: a link a rule closes carries nothing, one a
      rule opens carries the trickle its closed solution left (see tracing._Recording).
    source_of_node : (N,) int64 component of a source node (its outflow is all of it), else -1.
    initial : component of the water in pipes, tanks and at nodes at the start (a pipe whose end
      node is a source starts full of that source's water, as in EPANET).
    other : component of water from reservoirs that are not sources and from negative demands.
    n_components : C, length of the share vectors (sources, initial, other).
    quality_step : [s] EPANET's quality time step (restarted at each hydraulic time).
    tolerance : [1] share difference below which a new slug merges with a link's last segment.
    report_rows : (H,) int64 row of ``out`` that receives the node shares at times[h], -1 none.
    out : optional (n_reports, N, C) float32.

    Returns out: out[r, n, c] = share of component c in the water at node n at the r-th report;
    sum over c is 1. :class:`Transport` does the same one hydraulic step at a time.
    """
    n_nodes, n_links = network.n_nodes, network.n_links
    times = np.ascontiguousarray(times, np.int64)
    flows = np.ascontiguousarray(flows, np.float64)
    moves = flows if moves is None else np.ascontiguousarray(moves, np.float64)
    demands = np.ascontiguousarray(demands, np.float64)
    n_steps = len(times)
    if moves.shape != flows.shape:
        raise ValueError(f"moves {moves.shape} must have the shape of flows {flows.shape}")
    if flows.shape != (n_steps, n_links) or demands.shape != (n_steps, n_nodes):
        raise ValueError(f"flows {flows.shape} and demands {demands.shape} must be "
                         f"({n_steps}, {n_links}) and ({n_steps}, {n_nodes})")
    n_tanks = len(network.tank_node)
    full = (np.zeros((n_steps, n_tanks), np.bool_) if tank_full is None
            else np.ascontiguousarray(tank_full, np.bool_))
    if full.shape != (n_steps, n_tanks):
        raise ValueError(f"tank_full {full.shape} must be ({n_steps}, {n_tanks})")
    if n_steps and np.any(np.diff(times) < 0):
        raise ValueError("hydraulic times must increase")
    rows = np.ascontiguousarray(report_rows, np.int64)
    if rows.shape != (n_steps,) or rows.max(initial=-1) >= n_reports:
        raise ValueError(f"report_rows must be {n_steps} rows below {n_reports}")
    fixed = _fixed(network, source_of_node, initial=initial, other=other,
                   n_components=n_components, quality_step=quality_step)
    out = _output(out, (n_reports, n_nodes, n_components))
    steps = np.append(np.diff(times), 0).astype(np.int64)
    f = fixed
    _transport_kernel(f.link_start, f.link_end, f.link_volume, f.node_kind, f.indptr, f.adj,
                      f.tank_node, f.tank_volume, f.tank_model, f.tank_mix_volume,
                      f.tank_max_volume, f.source, f.start, int(initial), int(other), flows,
                      moves, demands, full, steps, rows, int(quality_step), float(tolerance),
                      f.lanes, out)
    return out


class Transport:
    """:func:`transport` fed one hydraulic step at a time, e.g. while the hydraulics solve the
    next step (its numba pass releases the GIL)::

        flow = Transport(network, source_of_node=..., initial=K, other=K + 1,
                         n_components=K + 2, quality_step=300, tolerance=1e-4, n_reports=25)
        flow.advance(q, move, demand, full, step=3600, row=0)   # once per hydraulic step
        flow.shares                                              # (n_reports, N, C) float32

    Arguments as for :func:`transport`, one step's rows of them: ``q``, ``move`` (L,) [m3/s],
    ``demand`` (N,) [m3/s], ``full`` (T,) bool, ``step`` [s] until the next hydraulic time (0
    for the last) and the report ``row`` of the step's start (-1: none).
    """

    def __init__(self, network: Network, *, source_of_node, initial: int, other: int,
                 n_components: int, quality_step: int, tolerance: float, n_reports: int):
        self.network = network
        self._fixed = f = _fixed(network, source_of_node, initial=initial, other=other,
                                 n_components=n_components, quality_step=quality_step)
        self._other, self._qstep, self._tol = int(other), int(quality_step), float(tolerance)
        self.shares = _output(None, (n_reports, network.n_nodes, n_components))
        self._state = _initial_state(f.link_start, f.link_end, f.link_volume, f.node_kind,
                                     f.tank_node, f.tank_volume, f.tank_model,
                                     f.tank_mix_volume, f.source, f.start, int(initial),
                                     n_components)

    def advance(self, q, move, demand, full, *, step: int, row: int) -> None:
        """Transport one hydraulic step (see the class docstring)."""
        network, f = self.network, self._fixed
        q = np.ascontiguousarray(q, np.float64)
        move = np.ascontiguousarray(move, np.float64)
        demand = np.ascontiguousarray(demand, np.float64)
        full = np.ascontiguousarray(full, np.bool_)
        if (q.shape != (network.n_links,) or move.shape != q.shape
                or demand.shape != (network.n_nodes,) or full.shape != f.tank_node.shape):
            raise ValueError("one step's flows, moves, demands and tank states expected")
        if step < 0 or row >= len(self.shares):
            raise ValueError(f"step {step} s must be >= 0 and row {row} below "
                             f"{len(self.shares)}")
        self._state = _advance(f.link_start, f.link_end, f.node_kind, f.indptr, f.adj,
                               f.tank_model, f.tank_mix_volume, f.tank_max_volume, f.source,
                               self._other, self._qstep, self._tol, self._state, q, move, demand,
                               full, int(step), int(row), f.lanes, self.shares)


@dataclass(frozen=True)
class _Fixed:
    """The kernels' view of a network and of the sources: contiguous arrays of fixed dtypes."""

    link_start: np.ndarray
    link_end: np.ndarray
    link_volume: np.ndarray
    node_kind: np.ndarray
    indptr: np.ndarray
    adj: np.ndarray
    tank_node: np.ndarray
    tank_volume: np.ndarray
    tank_model: np.ndarray
    tank_mix_volume: np.ndarray
    tank_max_volume: np.ndarray
    source: np.ndarray
    start: np.ndarray
    lanes: tuple  # (0, 1, ..., C - 1): its length, C, is a constant the kernel is compiled for


def _fixed(network: Network, source_of_node, *, initial: int, other: int, n_components: int,
           quality_step: int) -> _Fixed:
    n_nodes = network.n_nodes
    if quality_step < 1:
        raise ValueError(f"quality step must be at least 1 s, got {quality_step}")
    source = np.ascontiguousarray(source_of_node, np.int64)
    if source.shape != (n_nodes,) or source.max(initial=-1) >= n_components:
        raise ValueError(f"source_of_node must be {n_nodes} components below {n_components}")
    if not (0 <= initial < n_components and 0 <= other < n_components):
        raise ValueError(f"'initial' and 'other' must be components below {n_components}")
    indptr, adj = adjacency(network.link_start, network.link_end, n_nodes)
    return _Fixed(
        link_start=np.ascontiguousarray(network.link_start, np.int64),
        link_end=np.ascontiguousarray(network.link_end, np.int64),
        link_volume=np.ascontiguousarray(network.link_volume, np.float64),
        node_kind=np.ascontiguousarray(network.node_kind, np.int8),
        indptr=indptr, adj=adj,
        tank_node=np.ascontiguousarray(network.tank_node, np.int64),
        tank_volume=np.ascontiguousarray(network.tank_volume, np.float64),
        tank_model=np.ascontiguousarray(network.tank_model, np.int8),
        tank_mix_volume=np.ascontiguousarray(network.tank_mix_volume, np.float64),
        tank_max_volume=np.ascontiguousarray(network.tank_max_volume, np.float64),
        source=source,
        start=start_components(network.node_kind, source, initial=initial, other=other),
        lanes=tuple(range(n_components)),
    )


def _output(out: np.ndarray | None, shape: tuple[int, int, int]) -> np.ndarray:
    if out is None:
        return np.zeros(shape, np.float32)
    if out.shape != shape or out.dtype != np.float32:
        raise ValueError(f"out must be float32 {shape}, got {out.dtype} {out.shape}")
    return out


def start_components(node_kind, source_of_node, *, initial: int, other: int) -> np.ndarray:
    """(N,) int64 component of each node's water at the start: its own if it is a source, 'other'
    for the other reservoirs, 'initial' elsewhere."""
    kind = np.asarray(node_kind)
    source = np.asarray(source_of_node, np.int64)
    start = np.where(kind == RESERVOIR, other, initial).astype(np.int64)
    return np.where(source >= 0, source, start)


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
def _prefetch(typingctx, array, i, j):
    """Hint the CPU to fetch array[i, j] into cache (LLVM's prefetch; no effect on results)."""
    sig = types.void(array, i, j)

    def codegen(context, builder, signature, args):
        kind = signature.args[0]
        view = context.make_array(kind)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, kind, view, [args[1], args[2]],
                                           wraparound=False, boundscheck=False)
        byte = ir.IntType(8).as_pointer()
        hint = ir.FunctionType(ir.VoidType(), [byte] + [ir.IntType(32)] * 3)
        function = cgutils.get_or_insert_function(builder.module, hint, "llvm.prefetch.p0")
        flag = [ir.Constant(ir.IntType(32), v) for v in (1, 3, 1)]  # write, keep, data
        builder.call(function, [builder.bitcast(pointer, byte), *flag])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, error_model="numpy")
def _transport_kernel(link_start, link_end, link_volume, node_kind, indptr, adj, tank_node,
                      tank_volume, tank_model, tank_mix_volume, tank_max_volume, source, start,
                      initial, other, flows, moves, demands, tank_full, steps, rows, qstep, tol,
                      lanes, out):
    """The whole run: the state at the start, then every hydraulic step in turn."""
    state = _initial_state(link_start, link_end, link_volume, node_kind, tank_node,
                           tank_volume, tank_model, tank_mix_volume, source, start, initial,
                           out.shape[2])
    for h in range(steps.size):
        state = _advance(link_start, link_end, node_kind, indptr, adj, tank_model,
                         tank_mix_volume, tank_max_volume, source, other, qstep, tol, state,
                         flows[h], moves[h], demands[h], tank_full[h], steps[h], rows[h], lanes,
                         out)


@numba.njit(cache=True, error_model="numpy")
def _initial_state(link_start, link_end, link_volume, node_kind, tank_node, tank_volume,
                   tank_model, tank_mix_volume, source, start, initial, n_comp):
    """Segments and node shares at the start, and the work arrays of the steps (a tuple)."""
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
    seg = np.zeros((4 * arena[1] + 64, 1 + (n_comp + 1) // 2))
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

    # The schedule of one hydraulic step: the nodes that move water, in flow order, each with
    # its inflow and outflow links and their flow rates (every flowing link is the inflow of
    # one node and the outflow of another).
    direction = np.zeros(n_links, np.int8)
    order = np.arange(n_nodes)
    visit = np.empty(n_nodes, np.int64)
    in_ptr = np.zeros(n_nodes + 1, np.int64)
    out_ptr = np.zeros(n_nodes + 1, np.int64)
    in_link = np.empty(n_links, np.int64)
    out_link = np.empty(n_links, np.int64)
    in_rate = np.empty(n_links)
    out_rate = np.empty(n_links)
    scratch = np.zeros((2, n_comp))  # a node's inflow masses, a tank's outflow shares
    return (seg, ring, arena, node_c, tank_of, direction, order, visit, in_ptr, in_link,
            in_rate, out_ptr, out_link, out_rate, scratch)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _advance(link_start, link_end, node_kind, indptr, adj, tank_model, tank_mix_volume,
             tank_max_volume, source, other, qstep, tol, state, q, move, demand, full, step,
             row, lanes, out):
    """One hydraulic step of ``step`` s: re-orient and re-sort on flow changes, report the node
    shares at its start in out[row] (row -1: none), then transport quality step by quality
    step. Returns the state (its arena replaced if it had to grow)."""
    (seg, ring, arena, node_c, tank_of, direction, order, visit, in_ptr, in_link, in_rate,
     out_ptr, out_link, out_rate, scratch) = state
    n_links = link_start.size
    changed = False
    for k in range(n_links):
        d = 0
        if abs(q[k]) >= STAGNANT_FLOW:
            d = 1 if q[k] > 0.0 else -1
        if d * direction[k] < 0:
            _reverse(seg, ring, k)
        if d != direction[k]:
            changed = True
        direction[k] = d
    if changed:
        _sort_nodes(link_start, link_end, indptr, adj, direction, order)
    n_visit = _schedule(link_start, link_end, node_kind, indptr, adj, direction, move, demand,
                        order, visit, in_ptr, in_link, in_rate, out_ptr, out_link, out_rate)
    if row >= 0:
        for n in range(node_c.shape[0]):
            for c in range(node_c.shape[1]):
                out[row, n, c] = node_c[n, c]
    elapsed = 0
    while elapsed < step:
        dt = min(qstep, step - elapsed)
        elapsed += dt
        seg = _reserve(seg, ring, arena)
        _step(float(dt), n_visit, visit, in_ptr, in_link, in_rate, out_ptr, out_link, out_rate,
              demand, node_kind, tank_of, tank_model, tank_mix_volume, tank_max_volume, full,
              source, other, n_links, tol, node_c, scratch[0], scratch[1], seg,
              seg.view(np.float32), ring, arena, lanes)
    return (seg, ring, arena, node_c, tank_of, direction, order, visit, in_ptr, in_link,
            in_rate, out_ptr, out_link, out_rate, scratch)


@numba.njit(cache=True)
def _schedule(link_start, link_end, node_kind, indptr, adj, direction, q, demand, order,
              visit, in_ptr, in_link, in_rate, out_ptr, out_link, out_rate):
    """Fill the step's schedule; return the number of nodes to visit.

    A link's downstream node is its end node unless its flow is negative (stagnant links count
    as positive, as in EPANET). Links without flow and junctions or reservoirs that neither
    receive nor send water are left out: a step changes nothing there.
    """
    n_visit = 0
    n_in = 0
    n_out = 0
    for j in range(order.size):
        n = order[j]
        first_in = n_in
        first_out = n_out
        for a in range(indptr[n], indptr[n + 1]):
            k = adj[a]
            if q[k] == 0.0:
                continue
            down = link_end[k] if direction[k] >= 0 else link_start[k]
            if down == n:
                in_link[n_in] = k
                in_rate[n_in] = abs(q[k])
                n_in += 1
            else:
                out_link[n_out] = k
                out_rate[n_out] = abs(q[k])
                n_out += 1
        idle = n_in == first_in and n_out == first_out
        if idle and node_kind[n] != TANK and not (node_kind[n] == JUNCTION and demand[n] < 0.0):
            continue
        visit[n_visit] = n
        in_ptr[n_visit] = first_in
        out_ptr[n_visit] = first_out
        n_visit += 1
        in_ptr[n_visit] = n_in
        out_ptr[n_visit] = n_out
    return n_visit


@numba.njit(cache=True, error_model="numpy")
def _step(dt, n_visit, visit, in_ptr, in_link, in_rate, out_ptr, out_link, out_rate, demand,
          node_kind, tank_of, tank_model, tank_mix_volume, tank_max_volume, tank_full, source,
          other, n_links, tol, node_c, massin, mixed, seg, sh, ring, arena, lanes):
    """One quality step: every node in flow order pulls its inflows, mixes, pushes its outflows.

    Pulls and pushes are written out here rather than in helpers taking arrays: numba counts
    references to every array handed to an inlined helper, and those atomic counts cost more
    than the work itself.
    """
    n_comp = len(lanes)  # a constant: the loops over shares unroll
    n_in = in_ptr[n_visit]
    n_out = out_ptr[n_visit]
    for j in range(n_visit):
        n = visit[j]
        volin = 0.0
        for c in range(n_comp):
            massin[c] = 0.0
        # Pull |q| dt out of each inflow link's leading segments (EPANET's evalnodeinflow).
        for a in range(in_ptr[j], in_ptr[j + 1]):
            k = in_link[a]
            if a + 2 * _AHEAD < n_in:  # fetch the ring, then the head row, of links to come
                _prefetch(ring, in_link[a + 2 * _AHEAD], 0)
            if a + _AHEAD < n_in:
                ahead = in_link[a + _AHEAD]
                _prefetch(seg, ring[ahead, _BASE] + ring[ahead, _HEAD], 0)
            v = in_rate[a] * dt
            while v > 0.0 and ring[k, _COUNT] > 0:
                row = ring[k, _BASE] + ring[k, _HEAD]
                vseg = min(seg[row, 0], v)
                volin += vseg
                for c in range(n_comp):
                    massin[c] += vseg * sh[row, 2 + c]
                v -= vseg
                if vseg >= seg[row, 0]:  # segment used up: the one behind it leads
                    ring[k, _HEAD] = (ring[k, _HEAD] + 1) & ring[k, _MASK]
                    ring[k, _COUNT] -= 1
                else:
                    seg[row, 0] -= vseg
        # Mix (EPANET's findnodequal).
        kind = node_kind[n]
        if kind == JUNCTION:
            if demand[n] < 0.0:  # water entering here from no named source
                volin -= demand[n] * dt
                massin[other] -= demand[n] * dt
            if volin > 0.0:
                # massin / volin, normalised by the sum of massin (volin up to rounding) so
                # that float32 segments never let shares drift from summing to 1
                total = 0.0
                for c in range(n_comp):
                    total += massin[c]
                inverse = 1.0 / total
                for c in range(n_comp):
                    node_c[n, c] = massin[c] * inverse
        elif kind == TANK:
            volout = 0.0
            for a in range(out_ptr[j], out_ptr[j + 1]):
                volout += out_rate[a]
            i = tank_of[n]
            if ring[n_links + i, _COUNT] > ring[n_links + i, _MASK]:
                _widen(seg, ring, arena, n_links + i)
            for c in range(n_comp):
                mixed[c] = node_c[n, c]
            _mix_tank(seg, sh, ring, n_links + i, tank_model[i], tank_mix_volume[i],
                      tank_max_volume[i], tank_full[i], volin, volout * dt, massin, tol, mixed)
            total = 0.0
            for c in range(n_comp):
                total += mixed[c]
            for c in range(n_comp):
                node_c[n, c] = mixed[c] / total
        if source[n] >= 0:
            for c in range(n_comp):
                node_c[n, c] = 0.0
            node_c[n, source[n]] = 1.0
        # Push |q| dt at the node's shares into each outflow link (EPANET's evalnodeoutflow):
        # merged with the last segment when no share differs by tol or more.
        for a in range(out_ptr[j], out_ptr[j + 1]):
            k = out_link[a]
            if a + 2 * _AHEAD < n_out:  # fetch the ring, then the tail row, of links to come
                _prefetch(ring, out_link[a + 2 * _AHEAD], 0)
            if a + _AHEAD < n_out:
                ahead = out_link[a + _AHEAD]
                _prefetch(seg, ring[ahead, _BASE] + ((ring[ahead, _HEAD] + ring[ahead, _COUNT] - 1)
                                                     & ring[ahead, _MASK]), 0)
            v = out_rate[a] * dt
            if v == 0.0:
                continue
            count = ring[k, _COUNT]
            merge = count > 0
            if merge:
                row = ring[k, _BASE] + ((ring[k, _HEAD] + count - 1) & ring[k, _MASK])
                for c in range(n_comp):
                    if abs(sh[row, 2 + c] - node_c[n, c]) >= tol:
                        merge = False
                        break
            if merge:
                total = seg[row, 0] + v
                old, new = seg[row, 0] / total, v / total
                for c in range(n_comp):
                    sh[row, 2 + c] = sh[row, 2 + c] * old + node_c[n, c] * new
                seg[row, 0] = total
            else:
                if count > ring[k, _MASK]:
                    _widen(seg, ring, arena, k)
                row = ring[k, _BASE] + ((ring[k, _HEAD] + count) & ring[k, _MASK])
                ring[k, _COUNT] = count + 1
                seg[row, 0] = v
                for c in range(n_comp):
                    sh[row, 2 + c] = node_c[n, c]


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
def _reserve(seg, ring, arena):
    """Room for every ring to double once more: the arena compacted in place when that makes
    enough room, else moved to a larger one.

    A step adds at most one segment to each chain, so each ring widens at most once per step:
    room for twice the live ring capacity suffices. Reusing the arena spares the page faults of
    fresh memory, which cost more than the copying.
    """
    if arena[0] + 2 * arena[1] > seg.shape[0]:
        if 4 * arena[1] <= seg.shape[0]:
            _compact_in_place(seg, ring, arena)
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
        new[base:base + count] = buffer[:count]
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
    """Nodes from upstream to downstream along the flow (EPANET's sortnodes, cycles included)."""
    n_nodes = order.size
    indegree = np.zeros(n_nodes, np.int64)
    for k in range(link_start.size):
        if direction[k] > 0:
            indegree[link_end[k]] += 1
        elif direction[k] < 0:
            indegree[link_start[k]] += 1
    stack = np.empty(n_nodes, np.int64)
    size = 0
    for n in range(n_nodes):
        if indegree[n] == 0:
            stack[size] = n
            size += 1
    done = 0
    while done < n_nodes:
        if size == 0:  # a cycle: continue from a node next to the sorted ones
            j = _unsorted_neighbour(link_start, link_end, indptr, adj, order, done, indegree)
            if j < 0:
                break
            indegree[j] = 0
            stack[size] = j
            size += 1
        size -= 1
        i = stack[size]
        order[done] = i
        done += 1
        for a in range(indptr[i], indptr[i + 1]):
            k = adj[a]
            if direction[k] == 0:
                continue
            n = link_end[k] if direction[k] > 0 else link_start[k]
            if n != i and indegree[n] > 0:
                indegree[n] -= 1
                if indegree[n] == 0:
                    stack[size] = n
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
def _unsorted_neighbour(link_start, link_end, indptr, adj, order, done, indegree):
    """EPANET's selectnonstacknode: a node with inflows left, next to the latest sorted nodes."""
    for m in range(done - 1, -1, -1):
        i = order[m]
        for a in range(indptr[i], indptr[i + 1]):
            k = adj[a]
            n = link_end[k] if link_start[k] == i else link_start[k]
            if indegree[n] > 0:
                return n
    for n in range(order.size):
        if indegree[n] > 0:
            return n
    return -1


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
    sz = _row(ring, k, 0)                      # stagnant zone: first segment
    mz = _row(ring, k, ring[k, _COUNT] - 1)    # mixing zone: last segment
    n_comp = mixed.size
    if vnet > 0.0:
        vt = max(0.0, seg[mz, 0] + vnet - vmz)
        if vin > 0.0:
            for c in range(n_comp):
                sh[mz, 2 + c] = (sh[mz, 2 + c] * seg[mz, 0] + win[c]) / (seg[mz, 0] + vin)
        if vt > 0.0:
            for c in range(n_comp):
                sh[sz, 2 + c] = ((sh[sz, 2 + c] * seg[sz, 0] + sh[mz, 2 + c] * vt)
                                  / (seg[sz, 0] + vt))
            seg[mz, 0] = vmz
            seg[sz, 0] = min(seg[sz, 0] + vt, vmax - vmz)  # a full tank spills
            for c in range(n_comp):
                mixed[c] = sh[mz, 2 + c]
            return
    elif vnet < 0.0 and seg[sz, 0] > 0.0:
        vt = min(seg[sz, 0], -vnet)
        if vin + vt > 0.0:
            for c in range(n_comp):
                sh[mz, 2 + c] = ((sh[mz, 2 + c] * seg[mz, 0] + win[c] + sh[sz, 2 + c] * vt)
                                  / (seg[mz, 0] + vin + vt))
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


def transport_reference(network: Network, times, flows, demands, tank_full=None, moves=None,
                        *, source_of_node, initial: int, other: int, n_components: int,
                        quality_step: int, tolerance: float, report_rows,
                        n_reports: int) -> np.ndarray:
    """Same arguments and result as :func:`transport`, written plainly (one list per chain)."""
    n_nodes, n_links = network.n_nodes, network.n_links
    n_tanks = len(network.tank_node)
    C = n_components
    indptr, adj = adjacency(network.link_start, network.link_end, n_nodes)
    links_at = [list(adj[indptr[n]:indptr[n + 1]]) for n in range(n_nodes)]
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
        for k in np.flatnonzero(new * direction < 0):
            chains[k].reverse()
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
                        chains[n_links + i], network.tank_model[i], network.tank_mix_volume[i],
                        network.tank_max_volume[i], bool(tank_full[h][i]), volin, volout * dt,
                        massin, close)
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
            candidates = [end[k] if start[k] == i else start[k]
                          for i in reversed(order) for k in links_at[i]]
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
