"""The SWMM adapter: the only module that talks to the SWMM engine (swmm-toolkit, SWMM 5.2.4).

``run(model)`` turns a SWMM model into one xarray Dataset in SI units:

1. The model (a path or a :class:`SwmmInput`) is written as UTF-8 into a private temporary
   folder, with two sections appended so that line numbers in SWMM's messages stay the user's:
   ``[OPTIONS] THREADS 1`` (one engine per process, no OpenMP threads of its own) and
   ``[REPORT] SUBCATCHMENTS/NODES/LINKS ALL``. SWMM 5.2 writes to the binary output only the
   elements the [REPORT] section names (none when it names none), so without the second one the
   .out could be empty. Files the model reads (rainfall files, USE files, time-series files) are
   pointed at the original folder; files it saves land in the temporary folder.
2. swmm_open -> element properties -> swmm_start -> routing (``progress(fraction)`` every 1 % of
   simulated time; see :func:`_advance` for why not in swmm_stride chunks) -> swmm_end ->
   swmm_close. swmm_report is not called: in SWMM 5.2 it only appends per-element time-series
   tables to the .rpt (huge with "ALL"); the summaries are written by swmm_end. ``swmm_run`` skips
   it too when it saves a binary output file, so the .rpt and .out are exactly swmm_run's.
3. The .out is read with numpy (:mod:`hydro.drainage.swmm.output`), the .rpt parsed
   (:mod:`hydro.drainage.swmm.report`), and everything converted to SI.

SWMM keeps its project in C globals, so runs in one process are serialised by a lock; parallel
runs belong in separate processes (see hydro.ensemble.workers). Any SWMM error becomes an InputError (the
model is wrong) or an EngineError (the engine failed), naming the file, SWMM's code and words and
the input line SWMM quotes; the temporary folder goes away in every case.
"""

from __future__ import annotations

import datetime as _dt
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import xarray as xr
from swmm.toolkit import shared_enum as se
from swmm.toolkit import solver

from hydro.drainage.assets import (
    ASSETS_ATTR,
    DrainageAssets,
    assets_to_json,
    load_drainage_assets,
)
from hydro.drainage.inp import SiFactors, SwmmInput, format_row, read_inp, si_factors, split_tokens
from hydro.drainage.spinup import spin_up_input, using_hotstart
from hydro.drainage.swmm import health
from hydro.drainage.swmm import output as out
from hydro.drainage.swmm.report import SwmmMessage, SwmmReport, read_report
from hydro.errors import EngineError, InputError, where
from hydro.results import atomic_path, build_dataset, provenance

ENGINE = "SWMM"
ENGINE_VERSION = "5.2.4"
PROGRESS_CHUNKS = 100  # progress is reported every 1 % of simulated time
_WHOLE_RUN = 2**31 - 1  # seconds: one swmm_stride covers any simulation

Progress = Callable[[float], None]

# SWMM error codes that mean the engine failed rather than the model being wrong (error.txt)
_ENGINE_FAILURES = {101, 103, 105, 107, 301, 305, 307, 309, 311, 313, 315}
_ENGINE_LOCK = threading.Lock()  # one SWMM project per process at a time (C globals)
_ERROR_CODE = re.compile(r"ERROR\s+(\d+)\s*:\s*(.*)", re.S)
_ENGINE_TAIL = (
    "",
    ";; added by hydro for this run only",
    "[OPTIONS]",
    "THREADS 1",
    "[REPORT]",
    "SUBCATCHMENTS ALL",
    "NODES ALL",
    "LINKS ALL",
)


def run(
    model: str | Path | SwmmInput,
    *,
    scenario: str = "base",
    progress: Progress | None = None,
    coupling: Coupling | None = None,
    spin_up: float = 0.0,
    save_input: str | Path | None = None,
    assets: DrainageAssets | None = None,
) -> xr.Dataset:
    """Run a SWMM model and return its results as one Dataset in SI units.

    ``model`` is an INP path or a :class:`SwmmInput` (e.g. an edited copy); ``scenario`` labels
    the single entry of the ``scenario`` dimension; ``progress`` is called with the fraction of
    simulated time done (0..1), at least every 1 % and finally with 1.0. ``coupling`` steps
    another model alongside SWMM (the 2-D surface): the run then goes routing step by routing
    step, calling ``coupling.prepare(engine)`` before the start and ``coupling.step(engine, t0,
    t1)`` at the start (t0 = t1 = 0) and after every routing step, and ``coupling.finish(engine)``
    after the last, where ``engine`` is an :class:`EngineState` (node heads, lateral inflows,
    storage and SWMM's running totals, in SI). ``spin_up`` (s): first run the model that long
    without rain and start from its final state (a hotstart; see :mod:`hydro.drainage.spinup`).
    ``save_input``: also write the input SWMM ran there (and, after a spin-up, its hotstart file
    ``<stem>.hsf`` and the spin-up's input ``<stem>_spinup.inp`` beside it), to rerun in SWMM
    alone. ``assets``: the model's named assets (default: its sidecar, or inferred), kept in the
    Dataset's ``drainage_assets`` attribute so that scoring never reads the model again.

    Dims: scenario (1), time (elapsed since START, timedelta64[ns]), node, link, subcatchment,
    gauge. Raises InputError for a bad model and EngineError when SWMM fails.
    """
    path = None if isinstance(model, SwmmInput) else Path(model)
    inp = model if isinstance(model, SwmmInput) else read_inp(model)
    assets = assets if assets is not None else load_drainage_assets(inp)
    if save_input is not None:
        save_input = _check_save_path(save_input)
    with tempfile.TemporaryDirectory(prefix="hydro-swmm-") as tmp:
        work = Path(tmp)
        if path is None:  # hash what runs: the edited model's text
            (work / "model").mkdir()
            path = inp.write(work / "model" / (inp.source.name if inp.source else "model.inp"))
        attrs = provenance(engine=ENGINE, engine_version=ENGINE_VERSION, network=path)
        with _ENGINE_LOCK:
            files = _EngineFiles(work)
            hotstart = None
            if spin_up > 0:
                _spin_up(
                    files,
                    inp,
                    engine_text(spin_up_input(inp, duration=spin_up, hotstart=files.hotstart.name)),
                )
                hotstart = str(files.hotstart)
            text = engine_text(inp, hotstart=hotstart)
            files.inp.write_text(text, encoding="utf-8")
            network, report = _simulate(files, inp, progress, coupling)
            results = out.read_out(files.out)
            if save_input is not None:
                _save_input(save_input, inp, text, spin_up, files)
    if results.nodes != network.nodes or results.links != network.links:
        raise EngineError(
            f"{inp.label}: SWMM's binary output does not list the model's "
            "elements in order; cannot read the results"
        )
    attrs[ASSETS_ATTR] = assets_to_json(assets)
    return _dataset(inp, network, results, report, scenario=scenario, attrs=attrs, crs=assets.crs)


def _check_save_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".inp":
        raise InputError(f"{path}: the engine input is saved as a .inp file")
    if not path.parent.is_dir():
        raise InputError(f"{path}: cannot write here, folder {path.parent} does not exist")
    return path


def _save_input(path: Path, inp: SwmmInput, text: str, spin_up: float, files: _EngineFiles) -> None:
    """Write the input as run (and the spin-up's hotstart and input beside it), atomically."""
    if spin_up <= 0:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return
    hotstart = path.with_suffix(".hsf")
    spin = path.with_name(path.stem + "_spinup.inp")
    # The run reads the hotstart beside it, the spin-up writes it there (names relative to the
    # folder of the input, as SWMM resolves them).
    text = engine_text(inp, hotstart=hotstart.name)
    spin_text = engine_text(spin_up_input(inp, duration=spin_up, hotstart=hotstart.name))
    with atomic_path(path) as a, atomic_path(hotstart) as b, atomic_path(spin) as c:
        a.write_text(text, encoding="utf-8")
        b.write_bytes(files.hotstart.read_bytes())
        c.write_text(spin_text, encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# Input preparation


def engine_text(inp: SwmmInput, *, hotstart: str | None = None) -> str:
    """The INP text SWMM is given: the model as written, its file references made to work from
    the temporary folder, and the THREADS/REPORT tail appended (line numbers unchanged).
    ``hotstart``: a state file to start from, written as given (a name relative to the folder
    the text is written to, or an absolute path)."""
    local = _localize_files(inp)
    if hotstart is not None:
        local = using_hotstart(local, hotstart)
    return local.text() + "\n".join(_ENGINE_TAIL) + "\n"


def _localize_files(inp: SwmmInput) -> SwmmInput:
    """Point files the model reads at the model's own folder; keep files it saves in the run's
    temporary folder (SWMM resolves relative names against the folder of the INP it is given)."""
    base = inp.source.parent if inp.source is not None else None

    def read_from(name: str) -> str:
        p = Path(name)
        return name if p.is_absolute() or base is None else str((base / p).resolve())

    def retoken(index: int, fix: Callable[[str], str], when: Callable[[list[str]], bool]):
        def edit(line: str) -> str:
            tokens = split_tokens(line)
            if len(tokens) <= index or not when(tokens):
                return line
            new = fix(tokens[index])
            return (
                line
                if new == tokens[index]
                else format_row([*tokens[:index], new, *tokens[index + 1 :]])
            )

        return edit

    def upper(i: int, word: str) -> Callable[[list[str]], bool]:
        return lambda t: t[i].upper() == word

    return (
        inp.map_lines("FILES", retoken(2, read_from, upper(0, "USE")))
        .map_lines("FILES", retoken(2, lambda n: Path(n).name, upper(0, "SAVE")))
        .map_lines("RAINGAGES", retoken(5, read_from, upper(4, "FILE")))
        .map_lines("TIMESERIES", retoken(2, read_from, upper(1, "FILE")))
        .map_lines("TEMPERATURE", retoken(1, read_from, upper(0, "FILE")))
    )


# ------------------------------------------------------------------------------------------------
# Running the engine


@dataclass(frozen=True)
class _EngineFiles:
    folder: Path

    @property
    def inp(self) -> Path:
        return self.folder / "engine.inp"

    @property
    def rpt(self) -> Path:
        return self.folder / "engine.rpt"

    @property
    def out(self) -> Path:
        return self.folder / "engine.out"

    @property
    def hotstart(self) -> Path:
        return self.folder / "spinup.hsf"

    @property
    def spin_inp(self) -> Path:
        return self.folder / "spinup.inp"


@dataclass(frozen=True)
class _Network:
    """Element properties read from the engine after swmm_open, in the model's units."""

    flow_units: str
    start: _dt.datetime
    end: _dt.datetime
    allow_ponding: bool
    routing_step: float
    nodes: tuple[str, ...]
    node_type: tuple[str, ...]
    node_invert: np.ndarray
    node_full_depth: np.ndarray
    node_ponded_area: np.ndarray
    links: tuple[str, ...]
    link_type: tuple[str, ...]
    from_node: tuple[str, ...]
    to_node: tuple[str, ...]
    subcatchments: tuple[str, ...]
    subcatch_area: np.ndarray
    subcatch_impervious: np.ndarray
    subcatch_outlet: tuple[str, ...]
    gauges: tuple[str, ...]


def _spin_up(files: _EngineFiles, inp: SwmmInput, text: str) -> None:
    """Run the spin-up model (its report and output are discarded); raise like a run would."""
    files.spin_inp.write_text(text, encoding="utf-8")
    rpt, result = files.folder / "spinup.rpt", files.folder / "spinup.out"
    failure: Exception | None = None
    try:
        solver.swmm_open(str(files.spin_inp), str(rpt), str(result))
        solver.swmm_start(0)
        try:
            while solver.swmm_stride(_WHOLE_RUN) > 0.0:
                pass
        finally:
            solver.swmm_end()
    except Exception as err:  # the toolkit raises plain Exception("ERROR nnn: ...")
        failure = err
    finally:
        try:
            solver.swmm_close()
        except Exception as err:
            failure = failure or err
    report = read_report(rpt) if rpt.is_file() else None
    messages = list(report.errors) if report is not None else []
    if failure is not None or messages or not files.hotstart.is_file():
        error = _engine_error(inp, failure, messages)
        raise type(error)(f"{error} (in the dry spin-up before the run)")
    result.unlink(missing_ok=True)


def _simulate(
    files: _EngineFiles,
    inp: SwmmInput,
    progress: Progress | None,
    coupling: Coupling | None = None,
) -> tuple[_Network, SwmmReport]:
    """Run SWMM from open to close and read its report; raise InputError/EngineError with the
    report's words if SWMM failed or reported an error."""
    network = None
    failure: Exception | None = None
    try:
        solver.swmm_open(str(files.inp), str(files.rpt), str(files.out))
        network = _read_network()
        if coupling is not None:
            engine = EngineState(network)
            coupling.prepare(engine)
        solver.swmm_start(1)
        try:
            if coupling is None:
                _advance(network, progress)
            else:
                _advance_coupled(network, engine, coupling, progress)
        finally:
            solver.swmm_end()
    except Exception as err:  # the toolkit raises plain Exception("ERROR nnn: ...")
        failure = err
    finally:
        try:
            solver.swmm_close()
        except Exception as err:  # a close error only matters if nothing else failed
            failure = failure or err
    if failure is not None and type(failure) is not Exception:
        raise failure  # e.g. from the progress callback: not SWMM's doing (SWIG raises Exception)
    report = read_report(files.rpt) if files.rpt.is_file() else None
    messages = list(report.errors) if report is not None else []
    if failure is not None or messages or report is None or network is None:
        raise _engine_error(inp, failure, messages)
    return network, report


def _advance(network: _Network, progress: Progress | None) -> None:
    """Route the whole simulation, reporting the fraction done at least every 1 %.

    swmm_stride(n) shortens the last routing step of every n-second chunk to land on the chunk's
    end, which changes the results (measured on Sprenger.inp: flows differ by up to 0.97 m3/s from
    swmm_run). So the run goes step by step when progress is wanted, and in a single stride longer
    than the simulation otherwise: both give exactly swmm_run's numbers.
    """
    if progress is None:
        while solver.swmm_stride(_WHOLE_RUN) > 0.0:
            pass
        return
    total_days = max((network.end - network.start).total_seconds(), 1.0) / 86400.0
    progress(0.0)
    next_report = 1.0 / PROGRESS_CHUNKS
    while (elapsed_days := solver.swmm_step()) > 0.0:
        fraction = elapsed_days / total_days
        if fraction >= next_report:
            progress(min(fraction, 1.0))
            next_report = fraction + 1.0 / PROGRESS_CHUNKS
    progress(1.0)


def _advance_coupled(
    network: _Network, engine: EngineState, coupling: Coupling, progress: Progress | None
) -> None:
    """Route step by step, letting the coupling see and set the network between steps."""
    total = max((network.end - network.start).total_seconds(), 1.0)
    coupling.step(engine, 0.0, 0.0)
    t0, next_report = 0.0, 0.0
    while (elapsed_days := solver.swmm_step()) > 0.0:
        t1 = elapsed_days * 86400.0
        coupling.step(engine, t0, t1)
        t0 = t1
        if progress is not None and t1 / total >= next_report:
            progress(min(t1 / total, 1.0))
            next_report = t1 / total + 1.0 / PROGRESS_CHUNKS
    coupling.finish(engine)
    if progress is not None:
        progress(1.0)


class Coupling(Protocol):
    """Another model stepped with SWMM (see :func:`run`)."""

    def prepare(self, engine: EngineState) -> None: ...

    def step(self, engine: EngineState, t0: float, t1: float) -> None: ...

    def finish(self, engine: EngineState) -> None: ...


class EngineState:
    """What a coupled model may read and set between SWMM's routing steps, in SI units.

    Node indices are positions in ``nodes`` (SWMM's order). Lateral inflows set here are SWMM's
    "external interface" inflows (swmm_setNodeInflow): they stay until set again, enter the
    node's continuity like any external inflow and may be negative (water taken out).
    """

    def __init__(self, network: _Network):
        self.network = network
        self.nodes = network.nodes
        self.si = si_factors(network.flow_units)
        self.routing_step = network.routing_step

    def node_head(self, index: np.ndarray) -> np.ndarray:
        """Hydraulic head at the nodes [m]."""
        result = se.NodeResult.HEAD.value
        return np.array([solver.node_get_result(int(i), result) for i in index]) * self.si.length

    def set_inflow(self, index: np.ndarray, flow: np.ndarray) -> None:
        """Set the nodes' external lateral inflows [m3/s] (negative: outflow)."""
        for i, q in zip(index, flow / self.si.flow, strict=True):
            solver.node_set_total_inflow(int(i), float(q))

    def set_surcharge_depth(self, index: np.ndarray, depth: float) -> None:
        """Depth [m] above a junction's full depth before SWMM floods it (before the start)."""
        prop = se.NodeProperty.SURCHARGE_DEPTH.value
        for i in index:
            solver.node_set_parameter(int(i), prop, float(depth / self.si.length))

    def storage(self) -> float:
        """Water held in the network's nodes and links now [m3]."""
        nodes = sum(
            solver.node_get_result(i, se.NodeResult.VOLUME.value) for i in range(len(self.nodes))
        )
        links = sum(
            solver.link_get_result(i, se.LinkResult.VOLUME.value)
            for i in range(len(self.network.links))
        )
        return (nodes + links) * self.si.volume

    def totals(self) -> dict[str, float]:
        """SWMM's running runoff and routing totals [m3] (its continuity tables' terms).

        The toolkit gives routing volumes in the model's volume units (m3 or ft3) and runoff
        totals as depths over the subcatchments (mm or in); both are returned in m3.
        """
        runoff, routing = solver.system_get_runoff_totals(), solver.system_get_routing_totals()
        si = self.si
        depth = (1e-3 if si.unit_system == "SI" else 0.0254) * float(
            np.sum(self.network.subcatch_area) * si.land_area
        )
        v = si.volume
        return {
            "rain": runoff.rainfall * depth,
            "runoff_evaporation": runoff.evap * depth,
            "runoff_infiltration": runoff.infil * depth,
            "runoff": runoff.runoff * depth,
            "wet_weather_inflow": routing.wwInflow * v,
            "external_inflow": routing.exInflow * v,
            "dry_weather_inflow": routing.dwInflow * v,
            "groundwater_inflow": routing.gwInflow * v,
            "rdii_inflow": routing.iiInflow * v,
            "outfall_outflow": routing.outflow * v,
            "flooding": routing.flooding * v,
            "routing_evaporation": routing.evapLoss * v,
            "seepage": routing.seepLoss * v,
        }


def _read_network() -> _Network:
    def ids(kind: se.ObjectType) -> tuple[str, ...]:
        n = solver.project_get_count(kind.value)
        return tuple(solver.project_get_id(kind.value, i) for i in range(n))

    nodes, links = ids(se.ObjectType.NODE), ids(se.ObjectType.LINK)
    subcatchments, gauges = ids(se.ObjectType.SUBCATCH), ids(se.ObjectType.GAGE)

    def node_param(prop: se.NodeProperty) -> np.ndarray:
        return np.array(
            [solver.node_get_parameter(i, prop.value) for i in range(len(nodes))], dtype=np.float64
        )

    def sub_param(prop: se.SubcatchProperty) -> np.ndarray:
        return np.array(
            [solver.subcatch_get_parameter(i, prop.value) for i in range(len(subcatchments))],
            dtype=np.float64,
        )

    from_node, to_node = [], []
    for i in range(len(links)):
        n1, n2 = solver.link_get_connections(i)
        if solver.link_get_direction(i) < 0:  # SWMM flipped it internally; report as written
            n1, n2 = n2, n1
        from_node.append(nodes[n1])
        to_node.append(nodes[n2])

    outlets = []
    for i in range(len(subcatchments)):
        kind, index = solver.subcatch_get_connection(i)
        outlets.append(
            solver.project_get_id(se.ObjectType(kind).value, index) if index >= 0 else ""
        )

    units_code = solver.simulation_get_unit(se.UnitProperty.FLOW_UNIT.value)
    return _Network(
        flow_units=out.FLOW_UNITS[units_code],
        start=_engine_datetime(se.TimeProperty.START_DATE),
        end=_engine_datetime(se.TimeProperty.END_DATE),
        allow_ponding=bool(solver.simulation_get_setting(se.SimOption.ALLOW_POND.value)),
        routing_step=float(solver.simulation_get_parameter(se.SimSetting.ROUTE_STEP.value)),
        nodes=nodes,
        node_type=tuple(
            se.NodeType(solver.node_get_type(i)).name.lower() for i in range(len(nodes))
        ),
        node_invert=node_param(se.NodeProperty.INVERT_ELEVATION),
        node_full_depth=node_param(se.NodeProperty.FULL_DEPTH),
        node_ponded_area=node_param(se.NodeProperty.POND_AREA),
        links=links,
        link_type=tuple(
            se.LinkType(solver.link_get_type(i)).name.lower() for i in range(len(links))
        ),
        from_node=tuple(from_node),
        to_node=tuple(to_node),
        subcatchments=subcatchments,
        subcatch_area=sub_param(se.SubcatchProperty.AREA),
        subcatch_impervious=sub_param(se.SubcatchProperty.IMPERVIOUS_FRACTION),
        subcatch_outlet=tuple(outlets),
        gauges=gauges,
    )


def _engine_datetime(prop: se.TimeProperty) -> _dt.datetime:
    year, month, day, hour, minute, second = solver.simulation_get_datetime(prop.value)
    return _dt.datetime(year, month, day, hour, minute, second)


# ------------------------------------------------------------------------------------------------
# Errors


def _engine_error(
    inp: SwmmInput, failure: Exception | None, messages: list[SwmmMessage]
) -> InputError | EngineError:
    """One or two lines: the file and SWMM's first specific error (code, words), then the input
    line SWMM quotes and how many more errors the report holds."""
    specific = [m for m in messages if m.code != 200]  # 200 only says "errors in input file"
    details = []
    if specific:
        first = specific[0]
        code, words = first.code, _user_section(inp, first.text)
        if first.context:
            details.append(f"the line reads: {first.quoted()}")
        if len(specific) > 1:
            details.append(f"{len(specific) - 1} more SWMM error(s) in the same run")
    else:
        match = _ERROR_CODE.search(str(failure or ""))
        code = int(match.group(1)) if match else 0
        words = " ".join((match.group(2) if match else str(failure or "no report")).split())
    message = (
        f"{where(inp.label)}SWMM ERROR {code}: {words}"
        if code
        else f"{where(inp.label)}SWMM failed: {words}"
    )
    if details:
        message += "\n  " + "; ".join(details)
    cls = EngineError if code in _ENGINE_FAILURES or code == 0 else InputError
    return cls(message)


def _user_section(inp: SwmmInput, words: str) -> str:
    """SWMM names a section by its own short keyword ([XSECT]); name it as the file does."""
    match = re.search(r"at line (\d+) of \[[^\]]*\] section", words)
    if not match:
        return words
    line, count = int(match.group(1)), 0
    for block in inp.blocks:
        count += bool(block.header) + len(block.lines)
        if count >= line:
            header = re.match(r"\s*(\[[^\]]*\])", block.header) if block.header else None
            if header is None:
                return words
            return words.replace(match.group(0), f"at line {line} of {header.group(1)} section")
    return words


# ------------------------------------------------------------------------------------------------
# The Dataset


def _dataset(
    inp: SwmmInput,
    net: _Network,
    res: out.SwmmOutput,
    rpt: SwmmReport,
    *,
    scenario: str,
    attrs: dict,
    crs: str | None = None,
) -> xr.Dataset:
    f = si_factors(net.flow_units)
    nv, lv, sv = res.node_values, res.link_values, res.subcatch_values

    def one(a: np.ndarray, factor: float) -> np.ndarray:
        """(time, element) in model units -> (1, time, element) SI float32."""
        scaled = a if factor == 1.0 else a * np.float32(factor)
        return scaled[np.newaxis]

    can_pond = (
        net.allow_ponding
        & (net.node_ponded_area > 0.0)
        & np.isin(net.node_type, ("junction", "divider"))
    )
    volume = nv[out.NODE_VOLUME]
    # Junctions and dividers store nothing below their rim in SWMM (full volume 0), so whatever
    # volume a pondable one holds is the ponded water (SWMM's own max ponded volume is the same).
    ponded = np.where(can_pond[np.newaxis], np.maximum(volume, 0.0), 0.0).astype(np.float32)

    data = {
        "water_depth": one(nv[out.NODE_DEPTH], f.length),
        "hydraulic_head": one(nv[out.NODE_HEAD], f.length),
        "node_volume": one(volume, f.volume),
        "ponded_volume": one(ponded, f.volume),
        "lateral_inflow": one(nv[out.NODE_LATERAL_INFLOW], f.flow),
        "total_inflow": one(nv[out.NODE_TOTAL_INFLOW], f.flow),
        "flooding_rate": one(nv[out.NODE_FLOODING], f.flow),
        "flow": one(lv[out.LINK_FLOW], f.flow),
        "flow_depth": one(lv[out.LINK_DEPTH], f.length),
        "velocity": one(lv[out.LINK_VELOCITY], f.velocity),
        "link_volume": one(lv[out.LINK_VOLUME], f.volume),
        "capacity_fraction": one(lv[out.LINK_CAPACITY], 1.0),
        "rainfall": one(sv[out.SUBCATCH_RAINFALL], f.rain),
        "runoff": one(sv[out.SUBCATCH_RUNOFF], f.flow),
        "rain_intensity": _gauge_rain(inp, net, sv[out.SUBCATCH_RAINFALL] * np.float32(f.rain)),
    }
    data.update(_engine_tables(net, rpt))
    node_errors = health.node_continuity_errors(rpt, net.nodes)
    data["node_continuity_error"] = node_errors[np.newaxis]
    ponded_end = float(ponded[-1].sum()) * f.volume if ponded.shape[0] else 0.0
    data["water_budget"] = health.budget(rpt, ponded_end)[np.newaxis]

    coords = {
        "scenario": ("scenario", np.array([scenario], dtype=object)),
        "time": ("time", _elapsed(res, net.start)),
        **_node_coords(inp, net, f),
        **_link_coords(net),
        **_subcatch_coords(inp, net, f),
        "gauge": ("gauge", np.array(net.gauges, dtype=object)),
        "budget_term": (
            "budget_term",
            np.array(list(health.BUDGET_TERMS), dtype=object),
            {"long_name": "term of the water budget"},
        ),
    }
    run_attrs = _run_attrs(inp, net, res, rpt)
    run_attrs.update(health.run_health(rpt, net.nodes, net.node_type, node_errors))
    ds = build_dataset(
        data,
        coords=coords,
        attrs={**attrs, **run_attrs},
        crs=crs,
    )
    ds["capacity_fraction"].attrs["comment"] = (
        "conduits: fraction of full area in use; pumps: speed setting; orifices, weirs, outlets: "
        "opening setting"
    )
    ds["ponded_volume"].attrs["comment"] = (
        "only junctions and dividers with a ponded area pond, and only with ALLOW_PONDING YES"
    )
    ds["water_budget"].attrs["comment"] = "; ".join(
        f"{k}: {v}" for k, v in health.BUDGET_TERMS.items()
    )
    ds["rain_intensity"].attrs["comment"] = (
        "rainfall of the first subcatchment using the gauge; NaN for gauges no subcatchment uses"
    )
    return ds


def _elapsed(res: out.SwmmOutput, start: _dt.datetime) -> np.ndarray:
    """Reporting times as elapsed time since START, rounded to the second.

    SWMM stamps each period with START + elapsed + 1 ms (datetime.c), and report times are whole
    seconds, so rounding gives the exact reporting times.
    """
    origin = (np.datetime64(start, "ms") - out.SWMM_EPOCH) / np.timedelta64(1, "D")
    seconds = np.round((res.dates - origin) * 86400.0).astype("int64")
    return seconds.astype("timedelta64[s]").astype("timedelta64[ns]")


def _gauge_rain(inp: SwmmInput, net: _Network, rain: np.ndarray) -> np.ndarray:
    """(1, time, gauge) rainfall in m/s, from the first subcatchment on each gauge (NaN if none)."""
    gauge_of: dict[str, str] = {}
    for tokens in inp.rows("SUBCATCHMENTS"):
        if len(tokens) > 1:
            gauge_of.setdefault(tokens[1], tokens[0])
    column = {name: i for i, name in enumerate(net.subcatchments)}
    values = np.full((1, rain.shape[0], len(net.gauges)), np.nan, dtype=np.float32)
    for g, gauge in enumerate(net.gauges):
        sub = gauge_of.get(gauge)
        if sub in column:
            values[0, :, g] = rain[:, column[sub]]
    return values


def _node_coords(inp: SwmmInput, net: _Network, f: SiFactors) -> dict:
    xy = inp.coordinates()
    x = xy["x"].reindex(list(net.nodes)).to_numpy(dtype=np.float64)
    y = xy["y"].reindex(list(net.nodes)).to_numpy(dtype=np.float64)
    return {
        "node": ("node", np.array(net.nodes, dtype=object)),
        "node_type": (
            "node",
            np.array(net.node_type, dtype=object),
            {"long_name": "junction, outfall, storage or divider"},
        ),
        "invert_elevation": (
            "node",
            net.node_invert * f.length,
            {"units": "m", "long_name": "node invert elevation"},
        ),
        "full_depth": (
            "node",
            net.node_full_depth * f.length,
            {"units": "m", "long_name": "depth from invert to rim (or storage top)"},
        ),
        "ponded_area": (
            "node",
            net.node_ponded_area * f.area,
            {"units": "m2", "long_name": "area over which flood water ponds"},
        ),
        "x": ("node", x),
        "y": ("node", y),
    }


def _link_coords(net: _Network) -> dict:
    return {
        "link": ("link", np.array(net.links, dtype=object)),
        "link_type": (
            "link",
            np.array(net.link_type, dtype=object),
            {"long_name": "conduit, pump, orifice, weir or outlet"},
        ),
        "from_node": (
            "link",
            np.array(net.from_node, dtype=object),
            {"long_name": "start node (positive flow leaves it)"},
        ),
        "to_node": ("link", np.array(net.to_node, dtype=object), {"long_name": "end node"}),
    }


def _subcatch_coords(inp: SwmmInput, net: _Network, f: SiFactors) -> dict:
    gauges = {t[0]: t[1] for t in inp.rows("SUBCATCHMENTS") if len(t) > 1}
    return {
        "subcatchment": ("subcatchment", np.array(net.subcatchments, dtype=object)),
        "area": (
            "subcatchment",
            net.subcatch_area * f.land_area,
            {"units": "m2", "long_name": "subcatchment area"},
        ),
        "imperviousness": (
            "subcatchment",
            net.subcatch_impervious,
            {"units": "1", "long_name": "impervious fraction of the area"},
        ),
        "outlet": (
            "subcatchment",
            np.array(net.subcatch_outlet, dtype=object),
            {"long_name": "node or subcatchment receiving the runoff"},
        ),
        "rain_gauge": (
            "subcatchment",
            np.array([gauges.get(s, "") for s in net.subcatchments], dtype=object),
            {"long_name": "rain gauge supplying the subcatchment"},
        ),
        "outline": ("subcatchment", _outlines(inp, net.subcatchments)),
    }


def _outlines(inp: SwmmInput, subcatchments) -> np.ndarray:
    """Each subcatchment's [POLYGONS] outline as WKT ('' when the model draws none)."""
    import shapely

    points: dict[str, list[tuple[float, float]]] = {}
    for tokens in inp.rows("POLYGONS"):
        try:
            points.setdefault(tokens[0], []).append((float(tokens[1]), float(tokens[2])))
        except (IndexError, ValueError):
            continue  # SWMM itself reports a malformed row; the outline is only for maps
    out = np.full(len(subcatchments), "", dtype=object)
    for k, name in enumerate(subcatchments):
        ring = points.get(name, [])
        if len(set(ring)) >= 3:
            out[k] = shapely.Polygon(ring).wkt
    return out


_NODE_TABLES = {
    "engine_flooded_duration": ("node_flooding", "flooded_duration"),
    "engine_max_flooding_rate": ("node_flooding", "max_flooding_rate"),
    "engine_time_of_max_flooding": ("node_flooding", "time_of_max_flooding"),
    "engine_flood_volume": ("node_flooding", "flood_volume"),
    "engine_max_ponded_depth": ("node_flooding", "max_ponded_depth"),
    "engine_max_ponded_volume": ("node_flooding", "max_ponded_volume"),
    "engine_max_depth": ("node_depth", "max_depth"),
    "engine_surcharged_duration": ("node_surcharge", "surcharged_duration"),
}
_LINK_TABLES = {
    "engine_max_flow": ("link_flow", "max_flow"),
    "engine_max_velocity": ("link_flow", "max_velocity"),
    "engine_pump_utilization": ("pumping", "utilization"),
    "engine_pump_startups": ("pumping", "startups"),
    "engine_pump_min_flow": ("pumping", "min_flow"),
    "engine_pump_avg_flow": ("pumping", "avg_flow"),
    "engine_pump_max_flow": ("pumping", "max_flow"),
    "engine_pumped_volume": ("pumping", "pumped_volume"),
    "engine_pump_energy": ("pumping", "energy"),
    "engine_pump_off_curve_low": ("pumping", "off_curve_low"),
    "engine_pump_off_curve_high": ("pumping", "off_curve_high"),
}


def _engine_tables(net: _Network, rpt: SwmmReport) -> dict[str, np.ndarray]:
    """The report's summary tables on (scenario, node) and (scenario, link), NaN where unlisted."""
    tables = {
        name: getattr(rpt, name)()
        for name in ("node_flooding", "node_depth", "node_surcharge", "link_flow", "pumping")
    }
    data = {}
    for targets, index in ((_NODE_TABLES, list(net.nodes)), (_LINK_TABLES, list(net.links))):
        for var, (table, column) in targets.items():
            values = tables[table][column].reindex(index).to_numpy(dtype=np.float64)
            data[var] = values[np.newaxis]
    return data


def _run_attrs(inp: SwmmInput, net: _Network, res: out.SwmmOutput, rpt: SwmmReport) -> dict:
    attrs = {
        "title": inp.title,
        "start_datetime": net.start.isoformat(),
        "end_datetime": net.end.isoformat(),
        "report_step": res.report_step,
        "routing_step": net.routing_step,
        "flow_units": net.flow_units,
        "flow_routing": rpt.routing_method or "",
        "allow_ponding": net.allow_ponding,
        "report_averages": any(
            t and t[0].upper() == "AVERAGES" and len(t) > 1 and t[1].upper() == "YES"
            for t in inp.rows("REPORT")
        ),
        "network_encoding": inp.encoding,
        "continuity_error_units": "%",
        "runoff_continuity_error": rpt.runoff_continuity_error,
        "flow_routing_continuity_error": rpt.flow_routing_continuity_error,
        "engine_warnings": [str(w) for w in rpt.warnings] or None,
    }
    if inp.source is not None:
        attrs["network_source"] = str(inp.source)
    return attrs
