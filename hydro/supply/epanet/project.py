"""An open EPANET project: SI getters and setters, edits and the simulation loop.

It binds the EPANET 2.3 toolkit shipped in the ``owa-epanet`` package through ctypes, because the
bulk getters (``EN_getnodevalues``) then fill numpy arrays directly: one C call per property and
reporting step instead of one Python call per element. Everything that leaves this module is in SI
units (m, m3/s, m/s, W, s), whatever the INP's flow units; everything that enters it (edits) is SI
too.

A project lives in a private temporary folder (report and scratch files never land beside the
input) and is closed however the block ends::

    with EpanetProject.open(path) as project:
        project.set_link_value(project.link_index["P1"], LinkProperty.INITSTATUS, 0)
        for t in project.report_steps():
            pressure = project.node_values(NodeProperty.PRESSURE)
"""

from __future__ import annotations

import ctypes
import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hydro.errors import EngineError
from hydro.inpfile import InputText, utf8_copy
from hydro.supply.epanet.accounts import SERVICE_HEAD, StepAccounts
from hydro.supply.epanet.library import (
    _CONTROL_TYPES,
    _CONTROLCOUNT,
    _LINKCOUNT,
    _NODECOUNT,
    _OPTION_BULKORDER,
    _OPTION_DEMANDMULT,
    _OPTION_EMITBACKFLOW,
    _OPTION_GLOBALEFFIC,
    _OPTION_TANKORDER,
    _OPTION_TOLERANCE,
    _OPTION_TRIALS,
    _OPTION_UNBALANCED,
    _OPTION_WALLORDER,
    _PATCOUNT,
    _RULECOUNT,
    _TANKCOUNT,
    WARNINGS,
    LinkProperty,
    LinkType,
    NodeProperty,
    NodeType,
    QualityType,
    SourceType,
    TimeParameter,
    Units,
    _check,
    _units,
    error_text,
    library,
    report_errors,
    report_warnings,
)
from hydro.supply.inp import Elements, Parsing, Tables
from hydro.supply.network import SupplyNetwork, load_network

AGE_CLOCK = 1000.0  # h: water age by a falling chemical counts down from this (see set_age_since)


def age_from_clock(concentration: np.ndarray, clock: float = AGE_CLOCK) -> np.ndarray:
    """[h] water age from the chemical of :meth:`EpanetProject.set_age_since`."""
    return clock - concentration


# ------------------------------------------------------------------------------------------------
# A project


@dataclass
class EpanetProject:
    """One open EPANET project: its elements, SI getters and setters, and the simulation loop.

    Create it with :meth:`open` (a context manager). It is run state, not a model definition: it
    dies with its ``with`` block.
    """

    network: SupplyNetwork
    handle: ctypes.c_void_p
    workdir: Path
    units: Units
    n_nodes: int
    n_links: int
    warnings: list[str] = field(default_factory=list)
    report_warnings: list[str] = field(default_factory=list)
    halted_at: int | None = None
    forced: list[_Forced] = field(default_factory=list)
    accounts: StepAccounts | None = None
    closed: bool = False

    # --- life cycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, model: str | Path | InputText | SupplyNetwork) -> _ProjectContext:
        """Open a model (a network read once, or a file read now) in a private folder."""
        return _ProjectContext(model)

    @classmethod
    def _create(cls, network: SupplyNetwork, workdir: Path) -> EpanetProject:
        lib = library()
        # The network's element tables are being parsed in a thread while EPANET opens and
        # solves the model (see hydro.supply.inp.Parsing): whoever needs them first waits.
        source = network.source
        handle = ctypes.c_void_p()
        _check(lib.EN_createproject(ctypes.byref(handle)), "cannot create an EPANET project")
        inp = utf8_copy(source, workdir)
        rpt = workdir / "epanet.rpt"
        network.parsing.go()  # the check and the parse run while EPANET reads the file
        code = lib.EN_open(handle, os.fsencode(inp), os.fsencode(rpt), b"")
        try:  # values that are not finite numbers, checked meanwhile: refused before any solve
            network.check()
        except BaseException:
            lib.EN_close(handle)
            lib.EN_deleteproject(handle)
            raise
        if code >= 100:
            lib.EN_close(handle)  # flushes the report file so that it can be read
            lib.EN_deleteproject(handle)
            errors = report_errors(rpt, source) or [error_text(code)]
            shown = "; ".join(errors[:3]) + (
                f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
            )
            raise EngineError(f"{source.path}: EPANET cannot read the model: {shown}")
        # The warnings EPANET writes to its report are the run's diagnostics: always wanted,
        # whatever the model's [REPORT] MESSAGES says.
        lib.EN_setreport(handle, b"MESSAGES YES")
        project = cls(network, handle, workdir, _units(handle), 0, 0)
        project.n_nodes, project.n_links = project.count(_NODECOUNT), project.count(_LINKCOUNT)
        return project

    def _close(self) -> None:
        self.closed = True
        lib = library()
        lib.EN_close(self.handle)  # flushes the report, whose warnings say where things went wrong
        self.report_warnings = report_warnings(self.workdir / "epanet.rpt")
        lib.EN_deleteproject(self.handle)

    def _call(self, code: int, what: str | Callable[[], str]) -> None:
        """Raise EngineError for an error code; ``what`` (text, or a callable making it only
        on error, where naming the element would wait for the parse) says what failed."""
        if code >= 100:
            what = what() if callable(what) else what
            raise EngineError(f"{self.source.path}: {what}: {error_text(code)}")

    # --- elements -----------------------------------------------------------------------------

    @property
    def source(self) -> InputText:
        """The model's text as hydro read it."""
        return self.network.source

    @property
    def parsing(self) -> Parsing:
        return self.network.parsing

    @functools.cached_property
    def elements(self) -> Elements:
        """IDs, types and ends of all elements: from the text when it agrees with the engine."""
        if self.closed:  # the engine is gone: nothing to check the tables against
            raise RuntimeError(f"{self.source.path}: element tables first asked for after close")
        elements = self.network.elements
        return elements if self._agrees(elements) else self._elements_from_engine()

    @functools.cached_property
    def tables(self) -> Tables:
        """Node and link IDs, types and link ends, as soon as the parse has them (before the
        coordinates and tags :attr:`elements` waits for), checked as :attr:`elements` is."""
        if "elements" in self.__dict__:
            return self.elements
        if self.closed:
            raise RuntimeError(f"{self.source.path}: element tables first asked for after close")
        tables = self.parsing.tables()
        if self._agrees(tables):
            return tables
        return self.elements  # the text and the engine disagree: the engine's, for both

    def tables_ready(self) -> bool:
        """Whether :attr:`tables` can be had without waiting for the parse."""
        return "tables" in self.__dict__ or self.elements_ready() or self.parsing.tables_done()

    @property
    def node_ids(self) -> list[str]:
        return self.elements.node_ids

    @property
    def link_ids(self) -> list[str]:
        return self.elements.link_ids

    @property
    def node_types(self) -> np.ndarray:
        return self.elements.node_types

    @property
    def link_types(self) -> np.ndarray:
        return self.elements.link_types

    def _agrees(self, elements: Tables, samples: int = 64) -> bool:
        """Counts, and IDs, types and ends (and coordinates, of the full elements) of a sample
        of elements, equal the engine's."""
        n_nodes, n_links = self.count(_NODECOUNT), self.count(_LINKCOUNT)
        if not elements.exact:
            return False
        if (len(elements.node_ids), len(elements.link_ids)) != (n_nodes, n_links):
            return False
        lib, h = library(), self.handle
        buf, kind = ctypes.create_string_buffer(64), ctypes.c_int()
        n1, n2 = ctypes.c_int(), ctypes.c_int()
        for i in np.unique(np.linspace(0, n_nodes - 1, samples).astype(int)) if n_nodes else []:
            lib.EN_getnodeid(h, int(i) + 1, buf)
            lib.EN_getnodetype(h, int(i) + 1, ctypes.byref(kind))
            if (buf.value.decode("utf-8"), kind.value) != (
                elements.node_ids[i],
                elements.node_types[i],
            ):
                return False
            if isinstance(elements, Elements) and not self._same_coordinates(elements, int(i)):
                return False
        for i in np.unique(np.linspace(0, n_links - 1, samples).astype(int)) if n_links else []:
            lib.EN_getlinkid(h, int(i) + 1, buf)
            lib.EN_getlinktype(h, int(i) + 1, ctypes.byref(kind))
            lib.EN_getlinknodes(h, int(i) + 1, ctypes.byref(n1), ctypes.byref(n2))
            if (buf.value.decode("utf-8"), kind.value, n1.value - 1, n2.value - 1) != (
                elements.link_ids[i],
                elements.link_types[i],
                elements.link_start[i],
                elements.link_end[i],
            ):
                return False
        return True

    def _elements_from_engine(self) -> Elements:
        """The slow, sure way: ask the toolkit for every element."""
        # Tens of thousands of ctypes calls: bind the functions once (attribute lookups dominate).
        lib, h = library(), self.handle
        get_node_id, get_link_id = lib.EN_getnodeid, lib.EN_getlinkid
        get_node_type, get_link_type = lib.EN_getnodetype, lib.EN_getlinktype
        get_ends, get_coord = lib.EN_getlinknodes, lib.EN_getcoord
        buf = ctypes.create_string_buffer(64)
        kind, n1, n2 = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        x, y = ctypes.c_double(), ctypes.c_double()
        n_nodes, n_links = self.count(_NODECOUNT), self.count(_LINKCOUNT)
        node_ids, link_ids = [], []
        node_types = np.empty(n_nodes, dtype=np.int8)
        xy = np.full((n_nodes, 2), np.nan)
        for i in range(n_nodes):
            get_node_id(h, i + 1, buf)
            node_ids.append(buf.value.decode("utf-8"))
            get_node_type(h, i + 1, ctypes.byref(kind))
            node_types[i] = kind.value
            if get_coord(h, i + 1, ctypes.byref(x), ctypes.byref(y)) == 0:
                xy[i] = x.value, y.value
        link_types = np.empty(n_links, dtype=np.int8)
        ends = np.empty((n_links, 2), dtype=np.int64)
        for i in range(n_links):
            get_link_id(h, i + 1, buf)
            link_ids.append(buf.value.decode("utf-8"))
            get_link_type(h, i + 1, ctypes.byref(kind))
            link_types[i] = kind.value
            get_ends(h, i + 1, ctypes.byref(n1), ctypes.byref(n2))
            ends[i] = n1.value - 1, n2.value - 1
        return Elements(
            node_ids=node_ids,
            node_types=node_types,
            link_ids=link_ids,
            link_types=link_types,
            link_start=ends[:, 0],
            link_end=ends[:, 1],
            x=xy[:, 0],
            y=xy[:, 1],
            tags={},
        )

    def _same_coordinates(self, elements: Elements, i: int) -> bool:
        """Node i's coordinates in the text are the engine's (both absent, or equal numbers)."""
        x, y = ctypes.c_double(), ctypes.c_double()
        if library().EN_getcoord(self.handle, i + 1, ctypes.byref(x), ctypes.byref(y)) != 0:
            return bool(np.isnan(elements.x[i]) and np.isnan(elements.y[i]))
        return (x.value, y.value) == (elements.x[i], elements.y[i])

    def engine_node_types(self) -> np.ndarray:
        """Node type codes from the engine alone, without waiting for the parse: EPANET numbers
        the junctions first, then tanks and reservoirs, so only those few are asked (once: the
        accounts and the source tracing both ask; edits never change a node's type)."""
        return self._engine_node_types.copy()

    @functools.cached_property
    def _engine_node_types(self) -> np.ndarray:
        lib, h, kind = library(), self.handle, ctypes.c_int()
        types = np.full(self.n_nodes, NodeType.JUNCTION, dtype=np.int8)
        for i in range(self.n_nodes - self.count(_TANKCOUNT), self.n_nodes):
            lib.EN_getnodetype(h, i + 1, ctypes.byref(kind))
            types[i] = kind.value
        return types

    def elements_ready(self) -> bool:
        """Whether :attr:`elements` can be had without waiting for the parse."""
        return "elements" in self.__dict__ or self.network.parsing.done()

    def engine_node_index(self, name: str) -> int | None:
        """0-based index of a node ID from the engine (None: no such node)."""
        index = ctypes.c_int()
        code = library().EN_getnodeindex(self.handle, name.encode("utf-8"), ctypes.byref(index))
        return index.value - 1 if code == 0 else None

    def engine_node_id(self, index: int) -> str:
        """The ID of a node (0-based index) from the engine."""
        buf = ctypes.create_string_buffer(64)
        self._call(library().EN_getnodeid(self.handle, index + 1, buf), "cannot read a node ID")
        return buf.value.decode("utf-8")

    def engine_link_index(self, name: str) -> int | None:
        """0-based index of a link ID from the engine (None: no such link)."""
        index = ctypes.c_int()
        code = library().EN_getlinkindex(self.handle, name.encode("utf-8"), ctypes.byref(index))
        return index.value - 1 if code == 0 else None

    def count(self, what: int) -> int:
        n = ctypes.c_int()
        library().EN_getcount(self.handle, what, ctypes.byref(n))
        return n.value

    def has_rules(self) -> bool:
        """Whether the model has rule-based controls: only they change link statuses as EPANET
        advances the hydraulics (EN_nextH: hydraul.c, timestep)."""
        return self.count(_RULECOUNT) > 0

    @functools.cached_property
    def node_index(self) -> dict[str, int]:
        """Node ID -> 0-based index."""
        return {name: i for i, name in enumerate(self.node_ids)}

    @functools.cached_property
    def link_index(self) -> dict[str, int]:
        """Link ID -> 0-based index."""
        return {name: i for i, name in enumerate(self.link_ids)}

    def link_nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """0-based start and end node index of every link."""
        return self.elements.link_start, self.elements.link_end

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Node x, y in the INP's own map units (NaN where the INP gives none)."""
        return self.elements.x, self.elements.y

    def quality(self) -> tuple[QualityType, str, str]:
        """The model's quality analysis: type, chemical units ('mg/L' or 'ug/L'), trace node ID."""
        lib = library()
        qtype, trace = ctypes.c_int(), ctypes.c_int()
        name = ctypes.create_string_buffer(64)
        units = ctypes.create_string_buffer(64)
        lib.EN_getqualinfo(self.handle, ctypes.byref(qtype), name, units, ctypes.byref(trace))
        trace_id = self.node_ids[trace.value - 1] if trace.value > 0 else ""
        return QualityType(qtype.value), units.value.decode("utf-8", "replace"), trace_id

    # --- SI getters and setters ---------------------------------------------------------------

    def node_values(self, prop: NodeProperty, out: np.ndarray | None = None) -> np.ndarray:
        """One property of every node, in SI units (``out``: a float64 buffer to reuse)."""
        if out is None:
            out = np.empty(self.n_nodes)
        self._call(
            library().EN_getnodevalues(self.handle, int(prop), out.ctypes.data),
            f"cannot read node {prop.name.lower()}",
        )
        out *= self.units.node_factor(prop)
        return out

    def link_values(self, prop: LinkProperty, out: np.ndarray | None = None) -> np.ndarray:
        """One property of every link, in SI units (``out``: a float64 buffer to reuse)."""
        if out is None:
            out = np.empty(self.n_links)
        self._call(
            library().EN_getlinkvalues(self.handle, int(prop), out.ctypes.data),
            f"cannot read link {prop.name.lower()}",
        )
        out *= self.units.link_factor(prop)
        return out

    def node_value(self, index: int, prop: NodeProperty) -> float:
        """One property of one node (0-based index), in SI units (tank properties: tanks only)."""
        v = ctypes.c_double()
        self._call(
            library().EN_getnodevalue(self.handle, int(index) + 1, int(prop), ctypes.byref(v)),
            lambda: f"cannot read {prop.name.lower()} of node {self.node_ids[index]!r}",
        )
        return v.value * self.units.node_factor(prop)

    def quality_tolerance(self) -> float:
        """The model's water-quality tolerance, as its INP states it (EPANET's default: 0.01)."""
        v = ctypes.c_double()
        self._call(
            library().EN_getoption(self.handle, _OPTION_TOLERANCE, ctypes.byref(v)),
            "cannot read the quality tolerance",
        )
        return v.value

    def link_value(self, index: int, prop: LinkProperty) -> float:
        """One property of one link (0-based index), in SI units."""
        v = ctypes.c_double()
        self._call(
            library().EN_getlinkvalue(self.handle, int(index) + 1, int(prop), ctypes.byref(v)),
            lambda: f"cannot read {prop.name.lower()} of link {self.link_ids[index]!r}",
        )
        return v.value * self.units.link_factor(prop)

    def set_node_value(self, index: int, prop: NodeProperty, value: float) -> None:
        """Set a node property (0-based index, SI value)."""
        raw = value / self.units.node_factor(prop)
        self._call(
            library().EN_setnodevalue(self.handle, index + 1, int(prop), raw),
            lambda: f"cannot set {prop.name.lower()} of node {self.node_ids[index]!r}",
        )

    def set_link_value(self, index: int, prop: LinkProperty, value: float) -> None:
        """Set a link property (0-based index, SI value; settings as for :meth:`setting_factor`)."""
        factor = self.units.link_factor(prop)
        if prop in (LinkProperty.INITSETTING, LinkProperty.SETTING):
            factor = self.setting_factor(index)
        self._call(
            library().EN_setlinkvalue(self.handle, index + 1, int(prop), value / factor),
            lambda: f"cannot set {prop.name.lower()} of link {self.link_ids[index]!r}",
        )

    def setting_factor(self, index: int) -> float:
        """Engine setting -> SI: pressure valves in m, flow valves in m3/s, others unitless."""
        kind = LinkType(self.link_types[index])
        if kind in (LinkType.PRV, LinkType.PSV, LinkType.PBV):
            return self.units.pressure
        if kind is LinkType.FCV:
            return self.units.flow
        return 1.0

    def demand_model(self) -> tuple[bool, float, float, float]:
        """(pressure_driven, minimum pressure m, required pressure m, exponent)."""
        kind = ctypes.c_int()
        pmin, preq, pexp = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        library().EN_getdemandmodel(
            self.handle,
            ctypes.byref(kind),
            ctypes.byref(pmin),
            ctypes.byref(preq),
            ctypes.byref(pexp),
        )
        f = self.units.pressure
        return bool(kind.value), pmin.value * f, preq.value * f, pexp.value

    def time(self, param: TimeParameter) -> int:
        v = ctypes.c_long()
        library().EN_gettimeparam(self.handle, int(param), ctypes.byref(v))
        return int(v.value)

    def set_time(self, param: TimeParameter, seconds: int) -> None:
        self._call(
            library().EN_settimeparam(self.handle, int(param), int(seconds)),
            f"cannot set time parameter {param.name.lower()} to {seconds} s",
        )

    def set_demand_model(
        self,
        *,
        pressure_driven: bool,
        minimum_pressure: float = 0.0,
        required_pressure: float = 0.1,
        exponent: float = 0.5,
    ) -> None:
        """Demand-driven, or pressure-driven with pressures in metres."""
        f = self.units.pressure
        self._call(
            library().EN_setdemandmodel(
                self.handle,
                int(pressure_driven),
                minimum_pressure / f,
                required_pressure / f,
                exponent,
            ),
            "cannot set the demand model",
        )

    def set_pattern_value(self, pattern: int, period: int, value: float) -> None:
        self._call(
            library().EN_setpatternvalue(self.handle, pattern, period, value),
            f"cannot set pattern {pattern} period {period}",
        )

    def set_quality(
        self, kind: QualityType, *, trace_node: str = "", chemical: str = "", units: str = ""
    ) -> None:
        self._call(
            library().EN_setqualtype(
                self.handle,
                int(kind),
                chemical.encode("utf-8"),
                units.encode("utf-8"),
                trace_node.encode("utf-8"),
            ),
            f"cannot set quality analysis to {kind.name.lower()} {trace_node}",
        )

    def add_timer_control(self, link: int, *, setting: float, at: int, clock: bool = False) -> None:
        """Set a link's status/setting (engine units: 0 closed, 1 open) at elapsed time ``at`` s."""
        index = ctypes.c_int()
        kind = _CONTROL_TYPES["timeofday" if clock else "timer"]
        self._call(
            library().EN_addcontrol(
                self.handle, kind, link + 1, setting, 0, float(at), ctypes.byref(index)
            ),
            lambda: f"cannot add a timed control on link {self.link_ids[link]!r}",
        )

    # --- simulation ---------------------------------------------------------------------------

    def report_times(self) -> np.ndarray:
        """Elapsed seconds of every reporting period."""
        duration = self.time(TimeParameter.DURATION)
        step = max(self.time(TimeParameter.REPORTSTEP), 1)
        start = self.time(TimeParameter.REPORTSTART)
        if duration == 0 or start > duration:
            return np.zeros(1, dtype=np.int64)
        return np.arange(start, duration + 1, step, dtype=np.int64)

    def report_steps(self, *, quality: bool = False) -> Iterator[int]:
        """Run the simulation, yielding at every reporting time with results ready to read.

        Hydraulics and water quality advance together (EN_runH then EN_runQ), so one pass gives
        both. Hydraulic warnings are collected in :attr:`warnings`; errors raise EngineError.
        """
        times = set(self.report_times().tolist())
        for t in self._steps(quality=quality):
            if t in times:
                yield t

    def hydraulic_steps(
        self, *, quality: bool = False, after_advance: Callable[[int], None] | None = None
    ) -> Iterator[int]:
        """Solve the hydraulics alone, yielding at EVERY hydraulic time with results ready to read.

        EPANET's hydraulic steps are irregular (tank fills and empties, controls, pattern and
        reporting times): the state read at one yielded time holds until the next yielded time.
        The last yield is the end of the run (or the time EPANET halted it, see halted_at).
        ``after_advance`` is called after each EN_nextH with the step's length [s] (0: the run
        ends), when rules have fired for the step's end (link statuses then are the ones
        EPANET's quality solver moves water with) and the tanks are at its end. With
        ``quality`` EPANET's own water-quality solver runs along.
        """
        yield from self._steps(quality=quality, after_advance=after_advance)

    def _steps(
        self, *, quality: bool, after_advance: Callable[[int], None] | None = None
    ) -> Iterator[int]:
        """The one simulation loop: forced statuses, solve, yield, advance."""
        lib = library()
        h = self.handle
        t, tstep, qt = ctypes.c_long(), ctypes.c_long(1), ctypes.c_long()
        now = 0
        self._call(lib.EN_openH(h), "cannot open the hydraulic solver")
        try:
            self._call(lib.EN_initH(h, 0), "cannot initialise the hydraulic solver")
            if quality:
                self._call(lib.EN_openQ(h), "cannot open the quality solver")
                self._call(lib.EN_initQ(h, 0), "cannot initialise the quality solver")
            duration = self.time(TimeParameter.DURATION)
            while tstep.value > 0:
                self._force_statuses(now)
                code = lib.EN_runH(h, ctypes.byref(t))
                self._note(code, t.value)
                if self.accounts is not None:
                    self.accounts.observe(t.value, code)
                if quality:  # its own clock: EN_runQ reports the quality time, not ours
                    self._note(lib.EN_runQ(h, ctypes.byref(qt)), t.value)
                yield t.value
                self._note(lib.EN_nextH(h, ctypes.byref(tstep)), t.value)
                if after_advance is not None:
                    after_advance(tstep.value)
                if quality:
                    self._note(lib.EN_nextQ(h, ctypes.byref(ctypes.c_long())), t.value)
                now = t.value + tstep.value
            if t.value < duration:  # UNBALANCED STOP: EPANET ends the run early
                self.halted_at = int(t.value)
        finally:
            if quality:
                lib.EN_closeQ(h)
            lib.EN_closeH(h)

    def keep_accounts(
        self,
        *,
        service_head: float = SERVICE_HEAD,
        watched: Iterable[int] | Callable[[], Iterable[int]] = (),
    ) -> StepAccounts:
        """Keep the run's accounts over every hydraulic step (see hydro.supply.epanet.accounts);
        ``watched`` links have their flow kept at every step too."""
        self.accounts = StepAccounts(self, service_head=service_head, watched=watched)
        return self.accounts

    def kept_accounts(self) -> StepAccounts:
        """The accounts :meth:`keep_accounts` started (a programming error if it was not called)."""
        if self.accounts is None:
            raise RuntimeError("EpanetProject.keep_accounts() must be called before the run")
        return self.accounts

    def pump_curves(self, link: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A pump's head curve (flows m3/s, heads m) and efficiency curve (flows m3/s,
        efficiency %); empty arrays where it has none (a constant-power pump has no head curve)."""
        head = self._curve(link, LinkProperty.PUMP_HCURVE)
        effic = self._curve(link, LinkProperty.PUMP_ECURVE)
        f, length = self.units.flow, self.units.length
        return head[0] * f, head[1] * length, effic[0] * f, effic[1]

    def _curve(self, link: int, prop: LinkProperty) -> tuple[np.ndarray, np.ndarray]:
        lib, h = library(), self.handle
        index, n = ctypes.c_double(), ctypes.c_int()
        lib.EN_getlinkvalue(h, link + 1, int(prop), ctypes.byref(index))
        k = int(index.value)
        if k <= 0 or lib.EN_getcurvelen(h, k, ctypes.byref(n)) != 0 or n.value <= 0:
            return np.empty(0), np.empty(0)
        x, y = (ctypes.c_double * n.value)(), (ctypes.c_double * n.value)()
        name = ctypes.create_string_buffer(64)
        self._call(
            lib.EN_getcurve(h, k, name, ctypes.byref(n), x, y),
            lambda: f"cannot read the curve of pump {self.link_ids[link]!r}",
        )
        return np.array(x[: n.value]), np.array(y[: n.value])

    def scale_pump_flows(self, links: Iterable[int], factor: float) -> None:
        """Bigger (or smaller) pumps of the same kind: the flows of the pumps' head and
        efficiency curves times ``factor``, their heads and efficiencies kept (a pump of
        ``factor`` times the capacity at the same head). A curve that several of ``links``
        share is scaled once."""
        lib, h = library(), self.handle
        done: set[int] = set()
        for link in links:
            for prop in (LinkProperty.PUMP_HCURVE, LinkProperty.PUMP_ECURVE):
                index = ctypes.c_double()
                lib.EN_getlinkvalue(h, link + 1, int(prop), ctypes.byref(index))
                k = int(index.value)
                if k <= 0 or k in done:
                    continue
                done.add(k)
                x, y = self._curve(link, prop)
                n = len(x)
                self._call(
                    lib.EN_setcurve(
                        h, k, (ctypes.c_double * n)(*(x * factor)), (ctypes.c_double * n)(*y), n
                    ),
                    f"cannot scale the curve of pump {self.link_ids[link]!r}",
                )

    def global_efficiency(self) -> float:
        """The pumps' efficiency (fraction) where a pump has no efficiency curve ([ENERGY])."""
        v = ctypes.c_double()
        self._call(
            library().EN_getoption(self.handle, _OPTION_GLOBALEFFIC, ctypes.byref(v)),
            "cannot read the global pump efficiency",
        )
        return v.value / 100

    def has_pipe_leakage(self) -> bool:
        """Whether pipes leak by EPANET 2.3's own leakage model ([LEAKAGE])."""
        return bool(
            self.link_values(LinkProperty.LEAK_AREA).any()
            or self.link_values(LinkProperty.LEAK_EXPAN).any()
        )

    # --- scenario levers ----------------------------------------------------------------------

    def force_status(
        self, link: int, *, closed: bool, start: int = 0, end: int | None = None
    ) -> None:
        """Hold a link closed (or open) from ``start`` to ``end`` s, whatever its controls say.

        EPANET applies a pump's speed pattern and the simple controls inside every EN_runH, so
        while the window lasts the controls and rules acting on the link are disabled and its
        speed pattern is set aside, and the status is set again before every hydraulic solve.
        Timer controls at the window's edges make EPANET take a hydraulic step exactly there; at
        the end the link returns to its initial status and its controls take over again. Held
        for the whole run, the link is simply given that initial status with its controls, rules
        and pattern off, which EPANET then keeps by itself (and an INP file can say).
        """
        link = int(link)
        held = _Forced(
            link,
            0 if closed else 1,
            int(start),
            end,
            self._controls_on(link),
            self._rules_on(link),
            int(self.link_value(link, LinkProperty.LINKPATTERN))
            if self.link_types[link] == LinkType.PUMP
            else 0,
        )
        if start <= 0 and end is None:
            self._suspend(held, suspended=True)
            self.set_link_value(link, LinkProperty.INITSTATUS, 0.0 if closed else 1.0)
            return
        self.forced.append(held)
        self.add_timer_control(link, setting=self._status_setting(link, not closed), at=start)
        if end is not None:
            initial = bool(self.link_value(link, LinkProperty.INITSTATUS))
            self.add_timer_control(link, setting=self._status_setting(link, initial), at=end)

    def _status_setting(self, link: int, is_open: bool) -> float:
        """A control setting meaning open/closed: 1/0 for pipes and pumps, EN_SET_* for valves."""
        if self.link_types[link] in (LinkType.PIPE, LinkType.CVPIPE, LinkType.PUMP):
            return 1.0 if is_open else 0.0
        return 1e10 if is_open else -1e10

    def _controls_on(self, link: int) -> list[int]:
        lib, h = library(), self.handle
        kind, target, node = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        setting, level = ctypes.c_double(), ctypes.c_double()
        found = []
        for i in range(1, self.count(_CONTROLCOUNT) + 1):
            lib.EN_getcontrol(
                h,
                i,
                ctypes.byref(kind),
                ctypes.byref(target),
                ctypes.byref(setting),
                ctypes.byref(node),
                ctypes.byref(level),
            )
            if target.value == link + 1:
                found.append(i)
        return found

    def _rules_on(self, link: int) -> list[int]:
        lib, h = library(), self.handle
        n_prem, n_then, n_else = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        priority, setting = ctypes.c_double(), ctypes.c_double()
        target, status = ctypes.c_int(), ctypes.c_int()
        found = []
        for i in range(1, self.count(_RULECOUNT) + 1):
            lib.EN_getrule(
                h,
                i,
                ctypes.byref(n_prem),
                ctypes.byref(n_then),
                ctypes.byref(n_else),
                ctypes.byref(priority),
            )
            actions = [(lib.EN_getthenaction, k) for k in range(1, n_then.value + 1)] + [
                (lib.EN_getelseaction, k) for k in range(1, n_else.value + 1)
            ]
            for get, k in actions:
                get(h, i, k, ctypes.byref(target), ctypes.byref(status), ctypes.byref(setting))
                if target.value == link + 1:
                    found.append(i)
                    break
        return found

    def _force_statuses(self, now: int) -> None:
        lib, h = library(), self.handle
        for f in self.forced:
            inside = f.start <= now and (f.end is None or now < f.end)
            if inside != f.active:
                self._suspend(f, suspended=inside)
            if inside:
                lib.EN_setlinkvalue(h, f.link + 1, int(LinkProperty.STATUS), float(f.status))

    def _suspend(self, f: _Forced, *, suspended: bool) -> None:
        """Switch a forced link's own controls, rules and speed pattern off (or back on)."""
        lib, h = library(), self.handle
        for i in f.controls:
            lib.EN_setcontrolenabled(h, i, int(not suspended))
        for i in f.rules:
            lib.EN_setruleenabled(h, i, int(not suspended))
        if f.pattern:
            lib.EN_setlinkvalue(
                h, f.link + 1, int(LinkProperty.LINKPATTERN), 0.0 if suspended else float(f.pattern)
            )
        f.active = suspended

    def set_extra_trials(self, trials: int) -> None:
        """EPANET's UNBALANCED CONTINUE n: after the maximum trials, n more with every link
        status held, so that a step whose statuses keep flipping can still balance."""
        self._call(
            library().EN_setoption(self.handle, _OPTION_UNBALANCED, float(trials)),
            f"cannot set {trials} extra trials",
        )

    def set_emitter_backflow(self, allowed: bool) -> None:
        """Whether emitters may take water into the pipes at negative pressure (EPANET 2.3's
        EMITTER BACKFLOW; leakage through an emitter never does)."""
        self._call(
            library().EN_setoption(self.handle, _OPTION_EMITBACKFLOW, float(bool(allowed))),
            "cannot set the emitter backflow option",
        )

    def emitter_backflow(self) -> bool:
        """Whether emitters may take water in at negative pressure (EPANET 2.3's option)."""
        v = ctypes.c_double()
        library().EN_getoption(self.handle, _OPTION_EMITBACKFLOW, ctypes.byref(v))
        return bool(v.value)

    def set_max_trials(self, trials: int) -> None:
        """EPANET's TRIALS: the most solver iterations per hydraulic step."""
        self._call(
            library().EN_setoption(self.handle, _OPTION_TRIALS, float(trials)),
            f"cannot set the maximum trials to {trials}",
        )

    def pattern_index(self, name: str) -> int:
        """The 1-based index of a time pattern (0: no pattern of that name)."""
        index = ctypes.c_int()
        code = library().EN_getpatternindex(self.handle, name.encode("utf-8"), ctypes.byref(index))
        return index.value if code == 0 else 0

    def pattern_ids(self) -> list[str]:
        """The IDs of the model's time patterns, in index order."""
        lib, h = library(), self.handle
        n, buf = ctypes.c_int(), ctypes.create_string_buffer(64)
        lib.EN_getcount(h, _PATCOUNT, ctypes.byref(n))
        ids = []
        for i in range(1, n.value + 1):
            lib.EN_getpatternid(h, i, buf)
            ids.append(buf.value.decode("utf-8", "replace"))
        return ids

    def set_age_since(self, nodes: Iterable[int], *, clock: float = AGE_CLOCK) -> None:
        """Water age that starts again where water leaves ``nodes`` (e.g. a plant's clear well).

        EPANET's AGE counts from the reservoirs and takes no sources. The same age, reset at
        chosen nodes, is a chemical that falls by exactly 1 per hour (zero-order reaction, rate
        -24 per day, in pipes and tanks, no wall reaction) from ``clock`` [h], with a setpoint
        source of ``clock`` at those nodes; the age is then ``clock`` minus the concentration
        (read it with :func:`age_from_clock`). Initial ages (the model's initial quality, hours)
        are kept. With no nodes it equals EPANET's AGE to the quality tolerance.
        """
        lib, h = library(), self.handle
        initial = self.node_values(NodeProperty.INITQUAL)
        tolerance = self.quality_tolerance()
        self.set_quality(QualityType.CHEM, chemical="Age", units="hrs")
        self._call(lib.EN_setoption(h, _OPTION_TOLERANCE, tolerance), "cannot set the tolerance")
        for option in (_OPTION_BULKORDER, _OPTION_WALLORDER, _OPTION_TANKORDER):
            self._call(lib.EN_setoption(h, option, 0.0), "cannot set a reaction order")
        pipes = np.flatnonzero(np.asarray(self.link_types) <= LinkType.PIPE)
        for i in pipes.tolist():
            lib.EN_setlinkvalue(h, i + 1, int(LinkProperty.KBULK), -24.0)
            lib.EN_setlinkvalue(h, i + 1, int(LinkProperty.KWALL), 0.0)
        for i in range(self.n_nodes):
            lib.EN_setnodevalue(h, i + 1, int(NodeProperty.INITQUAL), clock - initial[i])
            if self.node_types[i] == NodeType.TANK:
                lib.EN_setnodevalue(h, i + 1, int(NodeProperty.TANK_KBULK), -24.0)
        for i in nodes:
            self._call(
                lib.EN_setnodevalue(
                    h, int(i) + 1, int(NodeProperty.SOURCETYPE), SourceType.SETPOINT
                ),
                f"cannot put a quality source at node {self.node_ids[int(i)]!r}",
            )
            lib.EN_setnodevalue(h, int(i) + 1, int(NodeProperty.SOURCEQUAL), clock)

    def save_inp(self, path: str | Path) -> None:
        """Write the model as it now stands (every edit applied) as an EPANET 2.3 INP file."""
        self._call(
            library().EN_saveinpfile(self.handle, os.fsencode(Path(path))),
            f"cannot write the model to {path}",
        )

    def set_demand_multiplier(self, factor: float) -> None:
        """Scale every consumer demand (EPANET's global demand multiplier)."""
        self._call(
            library().EN_setoption(self.handle, _OPTION_DEMANDMULT, float(factor)),
            f"cannot set the demand multiplier to {factor}",
        )

    def _note(self, code: int, t: int) -> None:
        if code == 0:
            return
        clock = f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}"
        if code >= 100:
            raise EngineError(f"{self.source.path}: EPANET failed at {clock}: {error_text(code)}")
        self.warnings.append(f"at {clock}: WARNING {code}: {WARNINGS.get(code, error_text(code))}")


@dataclass
class _Forced:
    """A link held open or closed over a window, and what of its own logic is set aside."""

    link: int
    status: int
    start: int
    end: int | None
    controls: list[int]
    rules: list[int]
    pattern: int
    active: bool = False


class _ProjectContext:
    """``with EpanetProject.open(path) as project``: a private folder, closed on the way out."""

    def __init__(self, model: str | Path | InputText | SupplyNetwork):
        self._model = model

    def __enter__(self) -> EpanetProject:
        network = load_network(self._model)
        self._tmp = tempfile.TemporaryDirectory(prefix="hydro-epanet-")
        try:
            self._project = EpanetProject._create(network, Path(self._tmp.name))
        except BaseException:
            self._tmp.cleanup()
            raise
        return self._project

    def __exit__(self, *exc) -> None:
        try:
            self._project._close()
        finally:
            self._tmp.cleanup()
