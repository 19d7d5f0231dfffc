"""Carry share vectors over a recorded hydraulic run, or one hydraulic step at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydro.kernels._common import KernelArgumentError
from hydro.kernels.transport.kernel import _adjacency, _carry, _initial_state, _plan
from hydro.kernels.transport.model import Network, start_components


def transport(
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
    out: np.ndarray | None = None,
) -> np.ndarray:
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
        raise KernelArgumentError(f"moves {moves.shape} must have the shape of flows {flows.shape}")
    if flows.shape != (n_steps, n_links) or demands.shape != (n_steps, n_nodes):
        raise KernelArgumentError(
            f"flows {flows.shape} and demands {demands.shape} must be "
            f"({n_steps}, {n_links}) and ({n_steps}, {n_nodes})"
        )
    n_tanks = len(network.tank_node)
    full = (
        np.zeros((n_steps, n_tanks), np.bool_)
        if tank_full is None
        else np.ascontiguousarray(tank_full, np.bool_)
    )
    if full.shape != (n_steps, n_tanks):
        raise KernelArgumentError(f"tank_full {full.shape} must be ({n_steps}, {n_tanks})")
    if n_steps and np.any(np.diff(times) < 0):
        raise KernelArgumentError("hydraulic times must increase")
    rows = np.ascontiguousarray(report_rows, np.int64)
    if rows.shape != (n_steps,) or rows.max(initial=-1) >= n_reports:
        raise KernelArgumentError(f"report_rows must be {n_steps} rows below {n_reports}")
    flow = Transport(
        network,
        source_of_node=source_of_node,
        initial=initial,
        other=other,
        n_components=n_components,
        quality_step=quality_step,
        tolerance=tolerance,
        n_reports=n_reports,
        out=out,
    )
    steps = np.append(np.diff(times), 0).astype(np.int64)
    for h in range(n_steps):
        flow.advance(flows[h], moves[h], demands[h], full[h], step=int(steps[h]), row=int(rows[h]))
    return flow.shares


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

    ``advance`` is ``carry(plan(q, move, demand), full, ...)``: :meth:`plan` (flow directions,
    the node order, the step's schedule) needs only the flows, so it may run on one thread
    while :meth:`carry` moves the water of earlier plans on another, each called in step order.
    """

    def __init__(
        self,
        network: Network,
        *,
        source_of_node,
        initial: int,
        other: int,
        n_components: int,
        quality_step: int,
        tolerance: float,
        n_reports: int,
        out: np.ndarray | None = None,
    ):
        self.network = network
        self._fixed = _fixed(
            network,
            source_of_node,
            initial=initial,
            other=other,
            n_components=n_components,
            quality_step=quality_step,
        )
        self._initial, self._other = int(initial), int(other)
        self._qstep, self._tol = int(quality_step), float(tolerance)
        self.shares = _output(out, (n_reports, network.n_nodes, n_components))
        # The planner's state: flow directions and the node order, carried from plan to plan.
        self._direction = np.zeros(network.n_links, np.int8)
        self._order = np.arange(network.n_nodes, dtype=np.int64)
        self._free: list[Plan] = []  # plans carried, their arrays reused (list ops are atomic)
        # Where _carry keeps each node's shares and each link's segments (its slot), set by the
        # first plan (see _number); EPANET's own order until then.
        self._node_order = self._node_slot = np.arange(network.n_nodes, dtype=np.int64)
        self._link_order = self._link_slot = np.arange(network.n_links, dtype=np.int64)
        self._numbered = False
        # The segments: made by the first carry, on the thread that carries.
        self._state: tuple | None = None
        self._slotted: tuple = ()  # node kinds and sources by slot, made with the segments
        self._spare = np.empty((0, 1))

    def advance(self, q, move, demand, full, *, step: int, row: int) -> None:
        """Transport one hydraulic step (see the class docstring)."""
        self.carry(self.plan(q, move, demand), full, step=step, row=row)

    def plan(self, q, move, demand) -> Plan:
        """The part of a step that needs only its flows (see the class docstring)."""
        network, f = self.network, self._fixed
        q = np.ascontiguousarray(q, np.float64)
        move = np.ascontiguousarray(move, np.float64)
        demand = np.ascontiguousarray(demand, np.float64)
        if q.shape != (network.n_links,) or move.shape != q.shape:
            raise KernelArgumentError(f"one step's flows and moves expected: {network.n_links}")
        if demand.shape != (network.n_nodes,):
            raise KernelArgumentError(f"one step's demands expected: {network.n_nodes}")
        plan = self._free.pop() if self._free else Plan(network.n_nodes, network.n_links)
        plan.n_flips, plan.n_visit = _plan(
            f.link_start,
            f.link_end,
            f.node_kind,
            f.indptr,
            f.adj,
            self._direction,
            self._order,
            q,
            move,
            demand,
            self._node_slot,
            self._link_slot,
            plan.flips,
            *plan.schedule,
        )
        if not self._numbered:
            self._number(plan)
        np.take(demand, self._node_order, out=plan.demand)
        return plan

    def _number(self, plan: Plan) -> None:
        """Slots in the order the first step visits the nodes and sends water into the links,
        so that _carry walks its node shares, rings and segments mostly forwards in memory
        rather than in EPANET's order, scattered over the network (BWSN_Network_2: the carry
        9 % faster). Only where the numbers are kept changes: nodes are still sorted and
        scheduled, and their inflows summed, in EPANET's order, so the shares are the same
        to the last bit. The first plan, made with EPANET's indexes, is relabelled."""
        n_in, n_out = plan.in_ptr[plan.n_visit], plan.out_ptr[plan.n_visit]
        visited, pushed = plan.visit[: plan.n_visit], plan.out_link[:n_out]
        self._node_order = _first_then_rest(visited, self.network.n_nodes)
        self._link_order = _first_then_rest(pushed, self.network.n_links)
        self._node_slot = _inverse(self._node_order)
        self._link_slot = _inverse(self._link_order)
        visited[:] = self._node_slot[visited]
        pushed[:] = self._link_slot[pushed]
        plan.in_link[:n_in] = self._link_slot[plan.in_link[:n_in]]
        plan.flips[: plan.n_flips] = self._link_slot[plan.flips[: plan.n_flips]]
        self._numbered = True

    def carry(self, plan: Plan, full, *, step: int, row: int) -> None:
        """Move the water of one step by its plan (see the class docstring)."""
        f = self._fixed
        full = np.ascontiguousarray(full, np.bool_)
        if full.shape != f.tank_node.shape:
            raise KernelArgumentError(f"one step's tank states expected: {len(f.tank_node)}")
        if step < 0 or row >= len(self.shares):
            raise KernelArgumentError(
                f"step {step} s must be >= 0 and row {row} below {len(self.shares)}"
            )
        if self._state is None:
            self._state = self._start()
        node_kind, source = self._slotted
        self._state = _carry(
            node_kind,
            f.tank_model,
            f.tank_mix_volume,
            f.tank_max_volume,
            source,
            self._other,
            self._qstep,
            self._tol,
            self._state,
            plan.flips,
            plan.n_flips,
            plan.n_visit,
            *plan.schedule,
            plan.demand,
            full,
            int(step),
            int(row),
            f.lanes,
            self.shares,
            self._spare,
            self._node_slot,
        )
        if self._state[0].ctypes.data == self._spare.ctypes.data:  # the arena grew into it
            self._spare = _arena(4 * len(self._state[0]) + 64, self._spare.shape[1])
        self._free.append(plan)

    def _start(self) -> tuple:
        """The segments and node shares at the start (see the kernel's _initial_state), nodes
        and links in their slots (see _number)."""
        f = self._fixed
        width = 1 + (len(f.lanes) + 1) // 2  # float64 words per arena row (see the kernel)
        rows = 16 * (len(f.link_start) + len(f.tank_node)) + 64
        self._spare = _arena(4 * rows + 64, width)
        nodes, links, slot = self._node_order, self._link_order, self._node_slot
        self._slotted = (f.node_kind[nodes], f.source[nodes])
        return _initial_state(
            f.link_start[links],
            slot[f.link_end[links]],
            f.link_volume[links],
            f.node_kind[nodes],
            slot[f.tank_node],
            f.tank_volume,
            f.tank_model,
            f.tank_mix_volume,
            f.source[nodes],
            f.start[nodes],
            self._initial,
            len(f.lanes),
            _arena(rows, width, zeros=True),
        )


class Plan:
    """One hydraulic step's plan (see the kernel's _plan and _schedule): links whose flow
    reversed, the nodes to visit in flow order with their inflow and outflow links and rates,
    and the step's demands."""

    def __init__(self, n_nodes: int, n_links: int):
        self.flips = np.empty(n_links, np.int64)
        self.visit = np.empty(n_nodes, np.int64)
        self.in_ptr = np.zeros(n_nodes + 1, np.int64)
        self.out_ptr = np.zeros(n_nodes + 1, np.int64)
        self.in_link = np.empty(n_links, np.int64)
        self.out_link = np.empty(n_links, np.int64)
        self.in_rate = np.empty(n_links)
        self.out_rate = np.empty(n_links)
        self.demand = np.empty(n_nodes)  # by node slot
        self.n_flips = self.n_visit = 0

    @property
    def schedule(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The arrays _plan fills and _carry reads, in the kernels' argument order."""
        return (
            self.visit,
            self.in_ptr,
            self.in_link,
            self.in_rate,
            self.out_ptr,
            self.out_link,
            self.out_rate,
        )


def _first_then_rest(seq: np.ndarray, n: int) -> np.ndarray:
    """0..n-1 ordered by first appearance in seq, those absent from it after, ascending."""
    _, first = np.unique(seq, return_index=True)
    head = seq[np.sort(first)]
    absent = np.ones(n, bool)
    absent[head] = False
    return np.concatenate([head, np.flatnonzero(absent)])


def _inverse(order: np.ndarray) -> np.ndarray:
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return inverse


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
    lanes: tuple  # C zeros: its length, C, is a constant the kernel is compiled for


def _fixed(
    network: Network,
    source_of_node,
    *,
    initial: int,
    other: int,
    n_components: int,
    quality_step: int,
) -> _Fixed:
    n_nodes = network.n_nodes
    if quality_step < 1:
        raise KernelArgumentError(f"quality step must be at least 1 s, got {quality_step}")
    source = np.ascontiguousarray(source_of_node, np.int64)
    if source.shape != (n_nodes,) or source.max(initial=-1) >= n_components:
        raise KernelArgumentError(
            f"source_of_node must be {n_nodes} components below {n_components}"
        )
    if not (0 <= initial < n_components and 0 <= other < n_components):
        raise KernelArgumentError(f"'initial' and 'other' must be components below {n_components}")
    link_start = np.ascontiguousarray(network.link_start, np.int64)
    link_end = np.ascontiguousarray(network.link_end, np.int64)
    ends = np.concatenate([link_start, link_end])
    if ends.size and (ends.min() < 0 or ends.max() >= n_nodes):
        raise KernelArgumentError(f"link end nodes must be node indexes below {n_nodes}")
    indptr, adj = _adjacency(link_start, link_end, n_nodes)
    return _Fixed(
        link_start=link_start,
        link_end=link_end,
        link_volume=np.ascontiguousarray(network.link_volume, np.float64),
        node_kind=np.ascontiguousarray(network.node_kind, np.int8),
        indptr=indptr,
        adj=adj,
        tank_node=np.ascontiguousarray(network.tank_node, np.int64),
        tank_volume=np.ascontiguousarray(network.tank_volume, np.float64),
        tank_model=np.ascontiguousarray(network.tank_model, np.int8),
        tank_mix_volume=np.ascontiguousarray(network.tank_mix_volume, np.float64),
        tank_max_volume=np.ascontiguousarray(network.tank_max_volume, np.float64),
        source=source,
        start=start_components(network.node_kind, source, initial=initial, other=other),
        lanes=(0.0,) * n_components,
    )


def _arena(rows: int, width: int, *, zeros: bool = False) -> np.ndarray:
    """An arena for the kernel, from numpy rather than from inside the kernel: numpy asks Linux
    for transparent huge pages for large arrays (numba's allocator does not), and the kernel's
    scattered reads and writes over tens of MB then cost far fewer page faults and TLB misses
    (BWSN_Network_2: the transport 10 % faster). The rows an arena does not yet hold are never
    read, so a spare one is left uninitialised: it costs no memory until the rings move in."""
    return (np.zeros if zeros else np.empty)((rows, width))


def _output(out: np.ndarray | None, shape: tuple[int, int, int]) -> np.ndarray:
    if out is None:
        return np.zeros(shape, np.float32)
    if out.shape != shape or out.dtype != np.float32:
        raise KernelArgumentError(f"out must be float32 {shape}, got {out.dtype} {out.shape}")
    return out
