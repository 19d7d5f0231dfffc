"""Source shares: the fraction of the water at every node and time that came from each source.

One hydraulic run gives the shares of every source. EPANET traces one source per run (QUALITY
TRACE), and its quality solver costs several hydraulic solves each time; here the hydraulics run
once, the state at every hydraulic time step is recorded (EPANET's steps are irregular: tank
events, controls), and :mod:`hydro.kernels.transport` carries a vector of shares -- one entry per
source -- through the network with EPANET's own Lagrangian scheme in one numba pass::

    ds = source_shares("networks/xuancheng/supply.inp")   # sources: every reservoir
    ds.source_share.sel(source="SY-RIVER")                 # (scenario, time, node) in [0, 1]

The ``source`` dimension lists the sources, then two more labels so that shares sum to 1:

* ``initial``: water already in the pipes, tanks and nodes at the start of the run;
* ``other``: water that entered where no named source is: reservoirs left out of ``sources``
  and negative demands (inflows) at junctions.

Shares partition the water by the last named source it left. With reservoirs as sources (the
default; a reservoir takes no inflow) each source's share is the ``trace_fraction`` of EPANET's
TRACE run on it, within 1 percentage point (tests/test_supply_tracing.py). A tank named as a
source claims all the water that leaves it, so the water a reservoir sends through that tank
counts as the tank's, where EPANET's trace of the reservoir would still count it.

By default the Dataset also carries the ordinary hydraulic results at the reporting times: the
same variables and coordinates as :func:`hydro.supply.run.run` gives, so the two merge.
"""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xarray as xr

from hydro.errors import ScenarioError, suggest
from hydro.inpfile import InputText
from hydro.kernels.supply import SERVICE_HEAD
from hydro.kernels.transport import Network, Transport, link_volumes
from hydro.results import build_dataset, provenance
from hydro.supply.assets import model_crs
from hydro.supply.epanet import (
    EpanetProject,
    LinkProperty,
    LinkState,
    NodeProperty,
    NodeType,
    QualityType,
    TimeParameter,
    engine_version,
)
from hydro.supply.epanet.accounts import RunAccounts, link_status
from hydro.supply.health import health
from hydro.supply.network import SupplyNetwork, load_network

# run's private Dataset builders: the same variables and coords as hydro.supply.run.run
from hydro.supply.run import (
    build_run_dataset,
    has_leakage,
    links_to_watch,
    read_static,
    summarise_warnings,
)

Edit = Callable[[EpanetProject], None]
Progress = Callable[[float], None]

INITIAL, OTHER = "initial", "other"
# [m3/s per m of head] flow EPANET's solver leaves in a closed link: 1 / CBIG = 1e-8 cfs per ft
CLOSED_CONDUCTANCE = 1e-8 * 0.028316846592 / 0.3048
_MIX_MODELS = {0: "mixed", 1: "2comp", 2: "fifo", 3: "lifo"}


def source_shares(
    model: str | Path | InputText | SupplyNetwork,
    sources: Sequence[str] | str | None = None,
    *,
    edits: Sequence[Edit] = (),
    scenario: str = "base",
    quality_step: int | None = None,
    hydraulics: bool = True,
    overlap: bool = True,
    scenario_file: str | Path | None = None,
    progress: Progress | None = None,
    service_head: float = SERVICE_HEAD,
    watched: Sequence[str] = (),
) -> xr.Dataset:
    """Shares of every source at every node and reporting time, from one hydraulic run.

    sources : node IDs whose water is traced (reservoirs, tanks, or any node as in EPANET's
      TRACE: everything leaving a source node counts as its water). Default: every reservoir.
    edits : callables applied in order to the open project before the run (as for
      :func:`hydro.supply.run.run`).
    quality_step : [s] transport time step; default the model's QUALITY TIMESTEP (EPANET:
      hydraulic step / 10 when the INP gives none). A coarser step is faster and less exact.
    hydraulics : also return the hydraulic results at the reporting times (cheap: they are read
      from the same run).
    overlap : transport each hydraulic step in a worker thread while EPANET solves the next one
      (both release the GIL), hiding part of the transport behind the hydraulics when a core
      is free. False: one thread, e.g. inside an ensemble worker that owns one core. The
      shares are the same either way.
    progress : called with the fraction of simulated time whose hydraulics are solved.
    service_head, watched : as for :func:`hydro.supply.run.run` (the run's accounts).

    Returns a Dataset with ``source_share`` (scenario, time, node, source) [1], each in [0, 1]
    and summing to 1 over ``source``, whose labels are the sources, then ``initial`` and
    ``other`` (see the module docstring). Coordinate ``source_kind`` says what each label is.
    """
    model = load_network(model)
    with ExitStack() as transporting:
        with EpanetProject.open(model) as project:
            for edit in edits:
                edit(project)
            accounts = project.keep_accounts(
                service_head=service_head, watched=links_to_watch(project, watched)
            )
            names = _sources(project, sources)
            tanks = _tanks(project)
            qstep = _quality_step(project, quality_step)
            tolerance = project.quality_tolerance() / 100.0  # EPANET traces in percent
            labels = [*names, INITIAL, OTHER]
            indices = [_node_index(project, name) for name in names]
            source_of_node = np.full(project.n_nodes, -1, np.int64)
            source_of_node[indices] = np.arange(len(names))
            # what each label is, asked of the engine (a lookup of every node ID costs more)
            kinds = [NodeType(t).name.lower() for t in project.engine_node_types()[indices]]
            lengths = project.link_values(LinkProperty.LENGTH)
            diameters = project.link_values(LinkProperty.DIAMETER)
            n_reports = len(project.report_times())

            def start_transport() -> Transport:  # once the node and link tables are parsed
                return Transport(
                    _network(project, tanks, lengths, diameters),
                    source_of_node=source_of_node,
                    initial=len(names),
                    other=len(names) + 1,
                    n_components=len(labels),
                    quality_step=qstep,
                    tolerance=tolerance,
                    n_reports=n_reports,
                )

            def tables_known(wait: bool) -> bool:  # on this thread: it checks them with EPANET
                if not (wait or project.tables_ready()):
                    return False
                project.tables  # noqa: B018 (parsed and checked now, not on the worker)
                return True

            recording = _Recording(project, tanks, hydraulics=hydraulics)
            feed = transporting.enter_context(
                _Feeder(start_transport, tables_known, background=overlap)
            )
            recording.run(feed, progress)
            # The tables (and the elements the accounts wait for, coordinates and all) are
            # checked against the engine while it is open: a short run may end before the parse.
            feed.start()
            accounts.links_known(True)
            static = read_static(project) if hydraulics else None
        # The project is closed here: its report (and the warnings in it) is complete. The
        # Dataset is built while the transport may still be finishing: it holds the
        # transport's own array of shares, complete once the transport has ended (below).
        ds = _dataset(
            project,
            tanks,
            static,
            recording,
            labels,
            [*kinds, INITIAL, OTHER],
            feed.flow().shares[: len(recording.report_times)],  # a halted run reports less
            qstep=qstep,
            tolerance=tolerance,
            scenario=scenario,
            scenario_file=scenario_file,
            accounts=accounts.result(),
        )
    if progress is not None:
        progress(1.0)
    return ds


# ------------------------------------------------------------------------------------------------
# Inputs from the open project


def _sources(project: EpanetProject, sources: Sequence[str] | str | None) -> list[str]:
    """The traced node IDs, checked: known, distinct, not clashing with 'initial' or 'other'.

    Asked of the engine (IDs, node types), so that the run need not wait for the element tables.
    """
    path = project.source.path
    kinds = project.engine_node_types()
    if sources is None:
        reservoirs = np.flatnonzero(kinds == int(NodeType.RESERVOIR))
        names = [project.engine_node_id(int(i)) for i in reservoirs]
        if not names:
            raise ScenarioError(
                f"{path}: the model has no reservoir; name its source nodes "
                "(e.g. the clear-water tanks) in 'sources'"
            )
    else:
        names = [sources] if isinstance(sources, str) else list(sources)
        if not names:
            raise ScenarioError(f"{path}: 'sources' is empty; name at least one source node")
    seen: set[str] = set()
    for name in names:
        if project.engine_node_index(name) is None:
            storage = [project.node_ids[i] for i in np.flatnonzero(kinds != NodeType.JUNCTION)]
            raise ScenarioError(
                f"{path}: source {name!r} is not a node of the model; "
                f"{suggest(name, storage or project.node_ids)}"
            )
        if name in seen:
            raise ScenarioError(f"{path}: source {name!r} is named twice in 'sources'")
        if name in (INITIAL, OTHER):
            raise ScenarioError(
                f"{path}: node {name!r} cannot be a source: the label is taken "
                f"by the share of {name} water; name the sources explicitly "
                "without it"
            )
        seen.add(name)
    return names


def _node_index(project: EpanetProject, name: str) -> int:
    index = project.engine_node_index(name)
    assert index is not None  # checked by _sources
    return index


class _Tanks(NamedTuple):
    """The tanks as the transport needs them, read from the engine before the run."""

    node: np.ndarray  # (T,) int64 node index
    volume: np.ndarray  # (T,) [m3] initial volume
    model: np.ndarray  # (T,) int8 mixing model
    mix_volume: np.ndarray  # (T,) [m3]
    max_volume: np.ndarray  # (T,) [m3]


def _tanks(project: EpanetProject) -> _Tanks:
    tanks = np.flatnonzero(project.engine_node_types() == NodeType.TANK)
    indices = tanks.tolist()  # plain ints for the engine

    def values(prop: NodeProperty) -> np.ndarray:
        return np.array([project.node_value(i, prop) for i in indices], np.float64)

    return _Tanks(
        node=tanks.astype(np.int64),
        volume=values(NodeProperty.INITVOLUME),
        model=values(NodeProperty.MIXMODEL).astype(np.int8),
        mix_volume=values(NodeProperty.MIXZONEVOL),
        max_volume=values(NodeProperty.MAXVOLUME),
    )


def _network(
    project: EpanetProject, tanks: _Tanks, lengths: np.ndarray, diameters: np.ndarray
) -> Network:
    """Links, node kinds and tanks as the transport needs them (the node and link tables must
    be parsed, not the coordinates: see EpanetProject.tables; the engine was read before the
    run)."""
    tables = project.tables
    return Network(
        link_start=np.asarray(tables.link_start, np.int64),
        link_end=np.asarray(tables.link_end, np.int64),
        link_volume=link_volumes(tables.link_types, lengths, diameters),
        node_kind=np.asarray(tables.node_types, np.int8),
        tank_node=tanks.node,
        tank_volume=tanks.volume,
        tank_model=tanks.model,
        tank_mix_volume=tanks.mix_volume,
        tank_max_volume=tanks.max_volume,
    )


def _quality_step(project: EpanetProject, quality_step: int | None) -> int:
    """The transport step [s]: asked for, or the model's (EPANET's rules for a missing one)."""
    hydraulic = max(project.time(TimeParameter.HYDSTEP), 1)
    if quality_step is not None:
        if not isinstance(quality_step, (int, np.integer)) or quality_step < 1:
            raise ScenarioError(
                f"{project.source.path}: quality_step must be a whole number of "
                f"seconds >= 1, got {quality_step!r}"
            )
        return int(quality_step)
    step = project.time(TimeParameter.QUALSTEP) or hydraulic // 10
    return max(1, min(step, hydraulic))


class _Step(NamedTuple):
    """One hydraulic step as the transport takes it (see :class:`Transport`)."""

    q: np.ndarray  # (L,) [m3/s] link flows at the step's start
    move: np.ndarray  # (L,) [m3/s] flows that move water over the step (see _Recording)
    demand: np.ndarray  # (N,) [m3/s] node outflows
    full: np.ndarray  # (T,) tanks full at the step's end
    seconds: int  # until the next hydraulic time (0: the end)
    row: int  # report row of the step's start, -1 if none


class _Recording:
    """Runs the hydraulics, hands each step to ``consume`` and keeps the report-time results.

    A step is complete once EPANET has advanced past it (the tanks' volumes at its end tell
    whether EPANET's quality sees them full). Besides the flows it carries those EPANET's quality
    solver actually moves water with (``move``): in a run of hydraulics and quality together,
    EPANET advances the hydraulics (EN_nextH, where rules fire for the step's end) before it
    transports the step, so a link a rule closes at the step's end moves nothing over the
    step, and one a rule opens moves the trickle its closed solution left, (H1 - H2) / 1e8 in
    cfs per ft of head. At a node fed only by such trickles that is all EPANET mixes.

    Nothing here waits for the element tables until the run is over (link types turn the
    recorded link states into statuses then), so the solve starts as soon as EPANET has read
    the model.
    """

    def __init__(self, project: EpanetProject, tanks: _Tanks, *, hydraulics: bool):
        self.project = project
        self.tanks = tanks
        self.hydraulics = hydraulics
        self.pressure_driven = project.demand_model()[0]
        # EPANET's own quality (water age, say) rides along when results are wanted.
        self.quality = hydraulics and project.quality()[0] is not QualityType.NONE
        self.leakage = hydraulics and has_leakage(project)
        self.rules = project.has_rules()
        self.report_times: np.ndarray = np.empty(0, np.int64)
        self.arrays: dict[str, np.ndarray] = {}

    def run(self, consume: Callable[[_Step], None], progress: Progress | None) -> None:
        project = self.project
        wanted = set(project.report_times().tolist())
        duration = max(project.time(TimeParameter.DURATION), 1)
        no_tank = np.zeros(len(self.tanks.node), bool)
        reports: list[int] = []
        report_steps: list[int] = []  # the accounts' step of each reporting time
        columns: dict[str, list[np.ndarray]] = {}
        now: dict = {}  # the step solved last: flows, open links, demands, report row
        # the accounts read the step: their arrays are reused, not read again
        accounts = project.kept_accounts()

        def after_advance(seconds: int) -> None:
            """The step is complete once EPANET has advanced past it (rules fired, tanks at
            the step's end): handed on now, not after the next solve, so the transport of a
            step overlaps the solve of the next."""
            q, demand, row = now["q"], now["demand"], now["row"]
            if seconds == 0:  # the end: reported, nothing more to move
                consume(_Step(q, q, demand, no_tank, 0, row))
                return
            full = no_tank
            if len(self.tanks.node):  # the SI volume may miss the maximum by the last bit
                full = accounts.tank_volumes_now() >= self.tanks.max_volume * (1.0 - 1e-9)
            consume(_Step(q, self._moves(q, now["open"]), demand, full, seconds, row))

        for t in project.hydraulic_steps(quality=self.quality, after_advance=after_advance):
            now["q"] = accounts.flow.copy()
            now["open"] = accounts.state > LinkState.CLOSED  # as EN_STATUS > 0
            now["demand"] = accounts.demand.copy()
            now["row"] = -1
            if t in wanted:
                now["row"] = len(reports)
                reports.append(t)
                report_steps.append(accounts.n_steps - 1)
                if self.hydraulics:
                    self._read_results(columns, now)
            if progress is not None:
                progress(min(t / duration, 1.0))
        self.report_times = np.array(reports, np.int64)
        states = columns.pop("state", None)
        self.arrays = {name: np.array(values, np.float32) for name, values in columns.items()}
        if states is not None:
            self.arrays["status"] = link_status(np.array(states), np.asarray(project.link_types))
            self.arrays["pump_power"] = accounts.pump_power_at(report_steps).astype(np.float32)

    def _moves(self, q: np.ndarray, was_open: np.ndarray) -> np.ndarray:
        """The step's flows as EPANET's quality moves them (statuses after the advance)."""
        if not self.rules:  # then the advance changed no status
            return q
        after = self.project.link_values(LinkProperty.STATUS) > 0
        if np.array_equal(after, was_open):
            return q
        moved = np.where(after, q, 0.0)
        opened = np.flatnonzero(after & ~was_open)
        if len(opened):  # junction heads are still the step's (only tank heads have moved on)
            head = self.project.node_values(NodeProperty.HEAD)
            start, end = self.project.link_nodes()
            moved[opened] = (head[start[opened]] - head[end[opened]]) * CLOSED_CONDUCTANCE
        return moved

    def _read_results(self, columns: dict, now: dict) -> None:
        """The arrays hydro.supply.run records at a reporting time (same names and dtypes;
        link states become statuses, and pump powers are taken, once the run is over)."""
        project, accounts = self.project, self.project.kept_accounts()
        values = {
            "head": accounts.head.copy(),
            "demand": now["demand"],
            "flow": now["q"],
            "state": accounts.state.copy(),
        }
        if self.pressure_driven:
            values["demand_deficit"] = accounts.deficit.copy()
        if self.quality:
            values["quality"] = project.node_values(NodeProperty.QUALITY)
        if self.leakage:
            values["leakage"] = np.where(
                accounts.junctions, accounts.demand - accounts.consumer, 0.0
            )
        for name, value in values.items():
            columns.setdefault(name, []).append(value)


class _Feeder:
    """Hands steps to the transport: from a worker thread while the hydraulics solve the next
    step (``background``: the numba pass and EPANET both release the GIL), or at once.

    Each step is planned (:meth:`Transport.plan`: flow directions, node order, the step's
    schedule, from the flows alone), then its water carried by the plan (:meth:`Transport.carry`,
    on the worker). The plans are a seventh of the transport, and they go to whichever thread
    is idler: the caller's when the worker is carrying (on BWSN_Network_2 the transport, not
    the solve, is the longer of the two: 1-2 % faster than planning on the caller only when
    steps are queued), else the worker's. Plans are made
    in step order (each carries flow directions and the node order over to the next), from
    the front of ``_unplanned`` under ``_planning``, and are the same whoever makes them.

    The transport needs the node and link tables (link ends and types), which are parsed in a
    thread while EPANET solves: until ``ready()`` says they are there (it is asked on the caller's
    thread, which is the one that talks to the engine), steps wait in a list. ``start()`` makes
    the transport then (cheap: the segments are made by the first carry, on the worker).
    """

    def __init__(
        self,
        start: Callable[[], Transport],
        ready: Callable[[bool], bool],
        *,
        background: bool,
    ):
        self._start = start
        self._ready = ready
        self.background = background
        self._flow: Transport | None = None
        self._waiting: list[_Step] = []
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.cancelled = False
        self.worker: threading.Thread | None = None
        self._unplanned: collections.deque[list] = collections.deque()  # [step, None], in order
        self._planning = threading.Lock()
        self._busy = False

    def __enter__(self) -> _Feeder:
        return self

    def __call__(self, step: _Step) -> None:
        if self.error is not None:
            raise self.error
        if self._flow is None:
            if not self._ready(False):
                self._waiting.append(step)
                return
            self._begin()
        self._feed(step)

    def _begin(self) -> None:
        self._flow = self._start()
        if self.background:
            self.worker = threading.Thread(target=self._work, name="hydro-transport", daemon=True)
            self.worker.start()
        waiting, self._waiting = self._waiting, []
        for step in waiting:
            self._feed(step)

    def _feed(self, step: _Step) -> None:
        item: list = [step, None]
        with self._planning:
            self._unplanned.append(item)
            if self.worker is None or self._busy:  # no worker, or it is carrying
                self._plan_until(item)
        if self.worker is None:
            self._carry(item)
        else:
            self.queue.put(item)

    def _plan_until(self, item: list) -> None:
        """Plan the steps not yet planned, oldest first, up to ``item`` (hold _planning)."""
        assert self._flow is not None
        while item[1] is None:
            first = self._unplanned.popleft()
            first[1] = self._flow.plan(first[0].q, first[0].move, first[0].demand)

    def flow(self) -> Transport:
        """The transport, once every step has gone through it."""
        if self._flow is None:
            raise RuntimeError("the transport never started")
        return self._flow

    def start(self) -> None:
        """Start the transport now if the run ended before the parse did (waits for it)."""
        if self._flow is None:
            self._ready(True)
            self._begin()

    def __exit__(self, kind, value, traceback) -> None:
        if value is None:
            self.start()
        if self.worker is not None:
            self.cancelled = value is not None  # the run failed: drop the steps still queued
            self.queue.put(None)  # the end: the worker finishes what it has, then stops
            self.worker.join()
        if self.error is not None and value is None:
            raise self.error

    def _work(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None and not self.cancelled:
                try:
                    self._busy = True  # the steps that come meanwhile are planned by the caller
                    self._carry(item)
                except BaseException as error:  # raised again in the caller's thread
                    self.error = error
                finally:
                    self._busy = not self.queue.empty()

    def _carry(self, item: list) -> None:
        assert self._flow is not None
        if item[1] is None:
            with self._planning:
                self._plan_until(item)
        step, plan = item
        self._flow.carry(plan, step.full, step=step.seconds, row=step.row)


# ------------------------------------------------------------------------------------------------
# The Dataset


def _dataset(
    project: EpanetProject,
    tanks: _Tanks,
    static: dict | None,
    recording: _Recording,
    labels: list[str],
    kinds: list[str],
    shares: np.ndarray,
    *,
    qstep: int,
    tolerance: float,
    scenario: str,
    scenario_file: str | Path | None,
    accounts: RunAccounts,
) -> xr.Dataset:
    """The Dataset of the shares (time, node, source) and, with ``static``, of the run."""
    times = recording.report_times
    sources = {
        "source": np.array(labels, dtype=object),
        "source_kind": ("source", np.array(kinds, dtype=object)),
    }
    data = {"source_share": shares[np.newaxis]}  # scenario dim of size 1
    if static is not None:
        ds = build_run_dataset(
            project,
            static,
            recording.arrays,
            times,
            scenario=scenario,
            scenario_file=scenario_file,
            accounts=accounts,
            extra=(data, sources),
        )
    else:
        attrs = provenance(
            engine="EPANET",
            engine_version=engine_version(),
            network=project.source,
            scenario=scenario_file,
        )
        halted = (
            []
            if project.halted_at is None
            else [
                f"EPANET halted the run at {project.halted_at} s (UNBALANCED STOP): results end there"
            ]
        )
        report = project.report_warnings or project.warnings
        attrs["engine_warnings"] = summarise_warnings(halted + report)
        _, health_attrs = health(
            accounts,
            node_ids=project.node_ids,
            tank_ids=[project.node_ids[i] for i in tanks.node],
            link_ids=project.link_ids,
            report=report,
            halted_at=project.halted_at,
        )
        attrs.update(health_attrs)
        coords = {
            "scenario": [scenario],
            "time": times.astype("timedelta64[s]").astype("timedelta64[ns]"),
            "node": np.array(project.node_ids, dtype=object),
            **sources,
        }
        attrs["start_clocktime"] = int(project.time(TimeParameter.STARTTIME))
        ds = build_dataset(data, coords=coords, attrs=attrs, crs=model_crs(project.source.path))
    # the transport's own array, which it fills until it ends: a copy would be half filled
    assert np.shares_memory(ds["source_share"].values, shares)
    ds["source_share"].attrs["comment"] = (
        f"'{INITIAL}': water in the network at the start; '{OTHER}': water from reservoirs "
        "that are not sources and from negative demands"
    )
    ds.attrs.update(
        {
            "quality": "source shares: " + ", ".join(labels[:-2]),
            "source_share_method": (
                "hydro one-pass Lagrangian transport of all sources (EPANET "
                "2.2/2.3 scheme) over the recorded hydraulic steps"
            ),
            "source_share_quality_step_s": int(qstep),
            "source_share_tolerance": float(tolerance),
            "tank_mixing": ", ".join(
                f"{project.node_ids[i]} {_MIX_MODELS[int(m)]}"
                for i, m in zip(tanks.node, tanks.model, strict=True)
            )
            or "no tanks",
        }
    )
    return ds
