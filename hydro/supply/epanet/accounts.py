"""The accounts of a run over every hydraulic step: water in, out and stored, and its health.

EPANET's hydraulic steps are irregular (tanks filling and emptying, controls, pattern and
reporting times) and the state solved at one step holds until the next. Answers that need a
volume therefore integrate over these steps, never over hourly snapshots; and the same pass
checks what a reviewing engineer would check:

- the mass balance, per tank and for the system: water in from reservoirs (and negative
  demands) = consumer demand + leakage + the change in stored volume. EPANET's solver balances
  every node, so an error here is water that a tank gave without holding it (a pump drawing
  from a tank at its minimum level; EPANET 2.3.5 lets one reopened by its speed pattern do so)
  or took without room for it;
- tanks at their minimum level that still send water out (net), and full ones still filling;
- negative pressures at nodes that serve demand or leak, and emitters taking water in;
- the links whose status EPANET holds (pumps that cannot deliver head, beyond their curve).

:class:`StepAccounts` reads the engine once per hydraulic step (bulk getters; the simulation loop
calls :meth:`observe`), keeps per-node integrals and a few per-step series (pumps, tanks,
system totals), and hands the arrays it read to whoever else needs them at that step (the
source tracing, the report-time results), so that nothing is read twice. All values are SI.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from hydro.kernels.supply import SERVICE_HEAD, account_step
from hydro.supply.epanet.library import (
    LinkProperty,
    LinkState,
    LinkType,
    NodeProperty,
    NodeType,
    library,
)

AT_MINIMUM = 1e-4  # m: a tank this close to its minimum level is empty
MOVING = 1e-5  # m3/s (0.01 L/s): a net tank outflow smaller than this moves no water


@dataclass(frozen=True)
class RunAccounts:
    """What :class:`StepAccounts` found over one run (SI units; steps in the engine's order)."""

    times: np.ndarray  # (S,) int64 s, start of each hydraulic step
    seconds: np.ndarray  # (S,) float64 s, how long each step's state holds (the last: 0)
    codes: np.ndarray  # (S,) int8, EN_runH's warning code at each step (0 none)
    # system, per step [m3/s]: into the network from reservoirs and negative demands; out as
    # consumer demand, as leakage (emitter/leakage flow, negative when emitters take water in)
    # and into reservoirs; stored (sum of tank inflows as the solver balanced them)
    inflow: np.ndarray
    consumer: np.ndarray
    leakage: np.ndarray
    to_reservoirs: np.ndarray
    unserved: np.ndarray  # consumer demand asked for and not delivered (pressure-driven)
    imbalance: np.ndarray  # net outflow of all nodes together: 0 when the solver balanced them
    # tanks, per step (S, T)
    tank_inflow: np.ndarray  # [m3/s] net inflow as the solver balanced it
    tank_volume: np.ndarray  # [m3] at the step's start
    tank_at_minimum: np.ndarray  # bool: at its minimum level
    tank_at_maximum: np.ndarray  # bool: at its maximum level (and cannot overflow)
    # pumps, per step (S, P): flow [m3/s], EPANET status (LinkState), relative speed, power [W]
    pump_flow: np.ndarray
    pump_state: np.ndarray
    pump_speed: np.ndarray
    pump_power: np.ndarray
    watched_flow: np.ndarray  # (S, W) [m3/s] flows of the links asked for
    # per node over the run
    required_volume: np.ndarray  # (N,) [m3] consumer demand asked for
    delivered_volume: np.ndarray  # (N,) [m3] consumer demand delivered
    leakage_volume: np.ndarray  # (N,) [m3] emitter/leakage outflow (net of inflow)
    backflow_volume: np.ndarray  # (N,) [m3] water emitters took in (negative pressure)
    time_at_service_head: np.ndarray  # (N,) [s] with pressure head >= the service head
    min_pressure: np.ndarray  # (N,) [m] lowest pressure head at any step
    service_node: np.ndarray  # (N,) bool: a junction that serves demand or leaks
    # negative pressures at service nodes, per step: how many, the lowest, where
    negative_nodes: np.ndarray  # (S,) int
    negative_min: np.ndarray  # (S,) [m]
    negative_where: np.ndarray  # (S,) int node index of the lowest (-1 none)
    residual_where: np.ndarray  # (S,) int node with the largest flow imbalance (unbalanced steps)
    empty_links: tuple[tuple[int, ...], ...]  # (T,) links that took water out of it when empty
    residual: np.ndarray  # (S,) [m3/s] that largest imbalance (0 where not unbalanced)
    service_head: float
    backflow_allowed: bool  # the run let emitters take water in

    @property
    def duration(self) -> float:
        return float(self.seconds.sum())

    def volume(self, rate: np.ndarray) -> np.ndarray:
        """Integral over the steps of a per-step rate (S,) or (S, K)."""
        return np.tensordot(self.seconds, rate, axes=(0, 0))

    @property
    def tank_error(self) -> np.ndarray:
        """(T,) [m3] water each tank gave without holding it (< 0) or took without room (> 0):
        the solver's net inflow over the run minus the tank's change in volume."""
        if not len(self.times):
            return np.zeros(self.tank_volume.shape[1:])
        change = self.tank_volume[-1] - self.tank_volume[0]
        return self.volume(self.tank_inflow) - change

    @property
    def storage_change(self) -> float:
        """[m3] change in the water stored in tanks over the run."""
        if not len(self.times):
            return 0.0
        return float((self.tank_volume[-1] - self.tank_volume[0]).sum())

    @property
    def continuity_error(self) -> float:
        """[m3] water the solver's node balances lost over the run (its accuracy): the part of
        the mass balance gap that no tank explains (gap = tank errors - this)."""
        return float(self.volume(self.imbalance))

    @property
    def mass_balance_error(self) -> float:
        """(in - out - stored) / in over the run: 0 when no water is created or lost."""
        water_in = float(self.volume(self.inflow))
        out = float(self.volume(self.consumer + self.leakage + self.to_reservoirs))
        gap = water_in - out - self.storage_change
        scale = max(water_in, out, abs(self.storage_change))
        return gap / scale if scale > 0 else 0.0


class StepAccounts:
    """Reads a project once per hydraulic step and keeps its accounts (see the module text).

    ``watched`` are link indices whose flow is kept at every step (plant outlets, raw mains);
    pumps always are. After :meth:`observe`, ``demand``, ``head``, ``flow`` and ``state`` hold
    the step's full arrays (SI) for other readers of the same step.
    """

    def __init__(self, project, *, service_head: float = SERVICE_HEAD, watched=()):
        self.project = project
        self.service_head = float(service_head)
        # The node side comes from the engine at once; the link side (pumps, watched links, link
        # ends) from the element tables, parsed in a thread while EPANET solves: until they are
        # there, each step's link arrays are kept whole and sorted out when they come.
        types = project.engine_node_types()
        self.junctions = types == NodeType.JUNCTION
        self.reservoirs = np.flatnonzero(types == NodeType.RESERVOIR)
        self.tanks = np.flatnonzero(types == NodeType.TANK)
        self._watched = watched  # link indices, or a callable giving them once links are known
        self._links_known = False
        self._pending: list[tuple[list, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.pumps = self.watched = self.link_start = self.link_end = np.empty(0, np.int64)
        self.tank_links: list[tuple[np.ndarray, np.ndarray]] = []
        self.elevation = project.node_values(NodeProperty.ELEVATION)
        self.pressure_driven = project.demand_model()[0]
        self.backflow_allowed = project.emitter_backflow()
        emitter = project.node_values(NodeProperty.EMITTER) > 0
        self.leaks = bool(emitter.any()) or project.has_pipe_leakage()
        base = project.node_values(NodeProperty.BASEDEMAND) != 0
        self.service_node = self.junctions & (emitter | base)
        self.min_level = np.array(
            [project.node_value(i, NodeProperty.MINLEVEL) for i in self.tanks]
        )
        self.max_level = np.array(
            [project.node_value(i, NodeProperty.MAXLEVEL) for i in self.tanks]
        )
        self.can_overflow = np.array(
            [project.node_value(i, NodeProperty.CANOVERFLOW) > 0 for i in self.tanks], bool
        )
        self.empty_links: list[set[int]] = [set() for _ in self.tanks]
        n = project.n_nodes
        # Per node, updated by hydro.kernels.supply.account_step at every step: the volumes
        # (delivered, required, leaked, backflow [m3], time at service head [s]), the rates
        # of the step last observed, integrated once its hold is known, and the lowest pressure
        self._volumes = np.zeros((5, n))
        self.delivered, self.required, self.leaked, self.backflow, self.at_head = self._volumes
        self._rates = np.zeros((5, n))
        self._lowest = np.full(n, np.inf)  # pressure, every node (junctions kept at the end)
        self._rows: list[list] = []  # a list per step: the link side may be filled in later
        self._last_time: int | None = None  # of the rates in _rates, integrated once dt is known
        self._buffers = {name: np.empty(n) for name in ("demand", "head", "consumer", "deficit")}
        self._link_buffers = {name: np.empty(project.n_links) for name in ("flow", "state")}
        self._value = ctypes.c_double()
        # This step's values (arrays refilled at every step; empty until the first one)
        empty = np.empty(0)
        self.demand: np.ndarray = empty
        self.head: np.ndarray = empty
        self.flow: np.ndarray = empty
        self.state: np.ndarray = empty
        self.consumer: np.ndarray = empty
        self.deficit: np.ndarray = empty
        self._pump_power: np.ndarray = empty
        self.tank_volume: np.ndarray = empty

    # --- the link side, once the element tables are parsed -------------------------------------

    def links_known(self, wait: bool = False) -> bool:
        """Whether the link side is known (``wait``: wait for the element tables); called on the
        thread that steps the engine, which then holds the project's checked element tables."""
        return self._know_links(wait=wait)

    def _know_links(self, *, wait: bool = False) -> bool:
        """Take pumps, watched links and link ends from the element tables when they are parsed
        (``wait``: wait for them), then sort out the steps kept whole meanwhile."""
        if self._links_known:
            return True
        p = self.project
        if not (wait or p.elements_ready()):
            return False
        if not np.array_equal(np.asarray(p.node_types), self._node_types()):
            raise RuntimeError(f"{p.source.path}: node types of the text and the engine differ")
        self.pumps = np.flatnonzero(np.asarray(p.link_types) == LinkType.PUMP)
        watched = self._watched() if callable(self._watched) else self._watched
        self.watched = np.asarray(list(watched), dtype=np.int64)
        start, end = p.link_nodes()
        self.link_start, self.link_end = np.asarray(start), np.asarray(end)
        self.tank_links = [
            (np.flatnonzero(self.link_start == i), np.flatnonzero(self.link_end == i))
            for i in self.tanks
        ]
        self._links_known = True
        for row, flow, state, setting, energy in self._pending:
            self._fill_links(row, flow, state, setting[self.pumps], energy[self.pumps])
        self._pending.clear()
        return True

    def _node_types(self) -> np.ndarray:
        types = np.full(len(self.junctions), NodeType.JUNCTION, dtype=np.int8)
        types[self.reservoirs] = NodeType.RESERVOIR
        types[self.tanks] = NodeType.TANK
        return types

    def _fill_links(self, row: list, flow, state, setting, energy) -> None:
        """The link columns of one step's row (and the links that drew on empty tanks); the
        pumps' ``setting`` and ``energy``."""
        at_minimum, tank_outflow = row[9], row[7] < -MOVING
        for k in np.flatnonzero(at_minimum & tank_outflow):
            leaving, arriving = self.tank_links[k]
            self.empty_links[k].update(leaving[flow[leaving] > MOVING].tolist())
            self.empty_links[k].update(arriving[flow[arriving] < -MOVING].tolist())
        pumps = self.pumps
        row[11] = flow[pumps].copy()
        row[12] = state[pumps].astype(np.int8)
        row[13] = setting
        row[14] = energy
        row[15] = flow[self.watched].copy()
        self._pump_power = row[14]

    @property
    def pump_power(self) -> np.ndarray:
        """(P,) [W] the pumps' power at the step last observed."""
        self._know_links(wait=True)
        return self._pump_power

    def pump_power_at(self, rows) -> np.ndarray:
        """(len(rows), P) [W] the pumps' power at the given steps (indices into the steps)."""
        self._know_links(wait=True)
        return np.array([self._rows[k][14] for k in rows]).reshape(len(rows), len(self.pumps))

    @property
    def n_steps(self) -> int:
        """Steps observed so far."""
        return len(self._rows)

    # --- reading one step ---------------------------------------------------------------------

    def observe(self, t: int, code: int) -> None:
        """Read the state EPANET solved at time ``t`` (EN_runH returned ``code``).

        The node side is one kernel call (this runs at every hydraulic step of every run): it
        integrates the previous step's rates into the node volumes, now that their hold is
        known, and keeps this step's.
        """
        p = self.project
        demand = self.demand = p.node_values(NodeProperty.DEMAND, self._buffers["demand"])
        head = self.head = p.node_values(NodeProperty.HEAD, self._buffers["head"])
        flow = self.flow = p.link_values(LinkProperty.FLOW, self._link_buffers["flow"])
        state = self.state = p.link_values(LinkProperty.PUMP_STATE, self._link_buffers["state"])
        if self.leaks:
            consumer = p.node_values(NodeProperty.DEMANDFLOW, self._buffers["consumer"])
        else:
            consumer = demand
        self.consumer = consumer
        if self.pressure_driven:
            self.deficit = p.node_values(NodeProperty.DEMANDDEFICIT, self._buffers["deficit"])
        dt = -1.0 if self._last_time is None else float(t - self._last_time)
        self._last_time = int(t)
        step = account_step(
            demand,
            consumer,
            self.deficit if self.pressure_driven else demand,
            head,
            self.elevation,
            self.junctions,
            self.service_node,
            self._rates,
            self._volumes,
            self._lowest,
            dt=dt,
            service_head=self.service_head,
            pressure_driven=self.pressure_driven,
            leaks=self.leaks,
        )
        residual_at, residual = self._residual(flow, demand) if code == 1 else (-1, 0.0)
        tank_level = head[self.tanks] - self.elevation[self.tanks]
        at_minimum = tank_level <= self.min_level + AT_MINIMUM
        row = [
            int(t),
            int(code),
            float(np.maximum(-demand[self.reservoirs], 0.0).sum()) - step.taken,
            step.served,
            step.leakage,
            float(np.maximum(demand[self.reservoirs], 0.0).sum()),
            step.unserved,
            demand[self.tanks].copy(),
            self._tank_volumes(),
            at_minimum,
            (tank_level >= self.max_level - AT_MINIMUM) & ~self.can_overflow,
            None,  # 11-15: pump flow, state, speed, power; watched flow (see _fill_links)
            None,
            None,
            None,
            None,
            step.n_negative,
            step.worst_pressure,
            step.worst,
            residual_at,
            residual,
            step.demand,
        ]
        self._rows.append(row)
        if self._know_links():
            self._fill_links(
                row,
                flow,
                state,
                self._pump_values(LinkProperty.SETTING),
                self._pump_values(LinkProperty.ENERGY),
            )
        else:  # links not known yet: keep this step's link arrays whole
            self._pending.append(
                (
                    row,
                    flow.copy(),
                    state.copy(),
                    p.link_values(LinkProperty.SETTING),
                    p.link_values(LinkProperty.ENERGY),
                )
            )

    def _tank_volumes(self) -> np.ndarray:
        """The tanks' volumes, kept as ``tank_volume`` for other readers of the step."""
        self.tank_volume = self.tank_volumes_now()
        return self.tank_volume

    def tank_volumes_now(self) -> np.ndarray:
        """The tanks' volumes [m3] in the engine now (a call each: far fewer than the nodes).
        Right after EN_nextH they are those of the next step's start: EPANET computes a
        tank's volume from its head, which nexthyd moves on (tanklevels) and runhyd, which
        solves with the tanks' heads fixed, leaves alone (hydraul.c, epanet.c)."""
        p = self.project
        get, h, ref = library().EN_getnodevalue, p.handle, ctypes.byref(self._value)
        out = np.empty(len(self.tanks))
        for k, i in enumerate(self.tanks.tolist()):
            get(h, i + 1, int(NodeProperty.TANKVOLUME), ref)
            out[k] = self._value.value
        return out * p.units.node_factor(NodeProperty.TANKVOLUME)

    def _pump_values(self, prop: LinkProperty) -> np.ndarray:
        """One property of the pumps alone (a call each: far fewer than the links)."""
        p = self.project
        get, h, ref = library().EN_getlinkvalue, p.handle, ctypes.byref(self._value)
        factor = p.units.link_factor(prop)
        out = np.empty(len(self.pumps))
        for k, i in enumerate(self.pumps.tolist()):
            get(h, i + 1, int(prop), ref)
            out[k] = self._value.value * factor
        return out

    def _residual(self, flow: np.ndarray, demand: np.ndarray) -> tuple[int, float]:
        """The junction whose flows balance worst, and by how much [m3/s]: where an unbalanced
        step went wrong."""
        self._know_links(wait=True)
        n = len(demand)
        net = np.bincount(self.link_end, flow, n) - np.bincount(self.link_start, flow, n) - demand
        worst = int(np.argmax(np.where(self.junctions, np.abs(net), -1.0)))
        return worst, float(abs(net[worst]))

    # --- the run's accounts -------------------------------------------------------------------

    def result(self) -> RunAccounts:
        """The accounts of the steps observed so far (the last step holds no time)."""
        self._know_links(wait=True)
        rows = self._rows
        n_tanks, n_pumps, n_watched = len(self.tanks), len(self.pumps), len(self.watched)

        def column(k: int, dtype=np.float64, width: int | None = None) -> np.ndarray:
            if width is None:
                return np.array([r[k] for r in rows], dtype=dtype)
            return np.array([r[k] for r in rows], dtype=dtype).reshape(len(rows), width)

        times = column(0, np.int64)
        seconds = np.append(np.diff(times), 0).astype(np.float64) if len(times) else times * 1.0
        lowest = np.where(self.junctions, self._lowest, np.inf)
        min_pressure = np.where(np.isfinite(lowest), lowest, np.nan)
        return RunAccounts(
            times=times,
            seconds=seconds,
            codes=column(1, np.int8),
            inflow=column(2),
            consumer=column(3),
            leakage=column(4),
            to_reservoirs=column(5),
            unserved=column(6),
            tank_inflow=column(7, width=n_tanks),
            tank_volume=column(8, width=n_tanks),
            tank_at_minimum=column(9, bool, n_tanks),
            tank_at_maximum=column(10, bool, n_tanks),
            pump_flow=column(11, width=n_pumps),
            pump_state=column(12, np.int8, n_pumps),
            pump_speed=column(13, width=n_pumps),
            pump_power=column(14, width=n_pumps),
            watched_flow=column(15, width=n_watched),
            required_volume=self.required.copy(),
            delivered_volume=self.delivered.copy(),
            leakage_volume=self.leaked.copy(),
            backflow_volume=self.backflow.copy(),
            time_at_service_head=self.at_head.copy(),
            min_pressure=min_pressure,
            service_node=self.service_node.copy(),
            negative_nodes=column(16, np.int64),
            negative_min=column(17),
            negative_where=column(18, np.int64),
            residual_where=column(19, np.int64),
            empty_links=tuple(tuple(sorted(links)) for links in self.empty_links),
            residual=column(20),
            imbalance=column(21),
            service_head=self.service_head,
            backflow_allowed=self.backflow_allowed,
        )


def link_status(state: np.ndarray, link_types: np.ndarray) -> np.ndarray:
    """EPANET's EN_STATUS from its status codes: 0 closed, 1 open, 2 a valve in control."""
    status = (state > LinkState.CLOSED).astype(np.int8)
    status[(link_types > LinkType.PUMP) & (state > LinkState.OPEN)] = 2
    return status


def running(state: np.ndarray) -> np.ndarray:
    """Pumps meant to run: open, beyond their curve, or held closed by EPANET because they
    cannot deliver head (or would drain an empty tank) -- not those closed by a control."""
    return (state >= LinkState.OPEN) | (state == LinkState.XHEAD) | (state == LinkState.TEMPCLOSED)
