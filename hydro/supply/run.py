"""Run an EPANET model (with optional edits) and return one xarray Dataset in SI units."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from hydro.errors import InputError
from hydro.inpfile import InputText
from hydro.kernels.supply import SERVICE_HEAD
from hydro.results import build_dataset, provenance
from hydro.supply.assets import model_crs
from hydro.supply.epanet import (
    EpanetProject,
    LinkProperty,
    LinkType,
    NodeProperty,
    NodeType,
    QualityType,
    TimeParameter,
    engine_version,
)
from hydro.supply.epanet.accounts import RunAccounts, link_status
from hydro.supply.health import health
from hydro.supply.network import SupplyNetwork, load_network
from hydro.supply.pumps import operating_points, rated_flow

Edit = Callable[[EpanetProject], None]
Progress = Callable[[float], None]

_QUALITY_VARIABLE = {
    QualityType.AGE: ("water_age", 3600.0),  # hours -> s
    QualityType.TRACE: ("trace_fraction", 0.01),  # percent -> fraction
    QualityType.CHEM: ("chemical_concentration", 1.0),
}


def run(
    model: str | Path | InputText | SupplyNetwork,
    *,
    scenario: str = "base",
    edits: Sequence[Edit] = (),
    scenario_file: str | Path | None = None,
    progress: Progress | None = None,
    service_head: float = SERVICE_HEAD,
    watched: Sequence[str] = (),
    statistic: str | None = None,
) -> xr.Dataset:
    """Run an EPANET model to a Dataset with dims (scenario, time, node/link/tank/pump).

    ``edits`` are applied, in order, to the open project before the run: this is how scenario
    operations change a model without ever writing it back. ``progress`` is called with the
    fraction of simulated time done. Besides the results at the reporting times, the Dataset
    holds the run's accounts over every hydraulic step (dim ``step``; volumes per node, the
    time each node spends at or above ``service_head`` [m]) and its health
    (:mod:`hydro.supply.health`); ``watched`` links have their flow kept at every step, as
    have pumps and every link of a tank. A model whose [TIMES] STATISTIC is AVERAGE, MINIMUM,
    MAXIMUM or RANGE gets that statistic over the reporting times, as EPANET reports it, in
    place of the series (``statistic`` overrides the model's; "NONE" keeps the series).
    """
    network = load_network(model)
    with EpanetProject.open(network) as project:
        for edit in edits:
            edit(project)
        accounts = project.keep_accounts(
            service_head=service_head, watched=links_to_watch(project, watched)
        )
        arrays, times = _simulate(project, progress)
        static = read_static(project)
    # The project is closed here: its report (and the warnings in it) is complete.
    ds = build_run_dataset(
        project,
        static,
        arrays,
        times,
        scenario=scenario,
        scenario_file=scenario_file,
        accounts=accounts.result(),
    )
    return apply_statistic(ds, statistic or network.statistic)


def apply_statistic(ds: xr.Dataset, statistic: str) -> xr.Dataset:
    """The time series reduced over the reporting times as EPANET's [TIMES] STATISTIC does:
    AVERAGE, MINIMUM, MAXIMUM or RANGE, flows taken as their size and link status as open
    when it was open half the time or more (output.c). One time is left: the report start."""
    if statistic == "NONE":
        return ds
    reduce = {"AVERAGE": "mean", "MINIMUM": "min", "MAXIMUM": "max", "RANGE": "range"}
    if statistic not in reduce:
        raise InputError(
            f"{ds.attrs.get('network_file', 'the model')}: [TIMES] STATISTIC {statistic!r} is "
            "not one EPANET knows (NONE, AVERAGE, MINIMUM, MAXIMUM, RANGE)"
        )
    series = [name for name, v in ds.data_vars.items() if "time" in v.dims]
    out = ds.copy()
    for name in series:
        values = abs(ds[name]) if name == "flow" else ds[name]
        if reduce[statistic] == "range":
            reduced = values.max("time") - values.min("time")
        else:
            reduced = getattr(values, reduce[statistic])("time")
        if name == "status":
            reduced = (reduced >= 0.5).astype(ds[name].dtype)
        out[name] = reduced.expand_dims(time=ds["time"].values[:1], axis=1).astype(ds[name].dtype)
        out[name].attrs = ds[name].attrs
    out = out.isel(time=slice(0, 1))
    out.attrs["statistic"] = (
        f"{statistic} over {ds.sizes['time']} reporting times (the model's [TIMES] STATISTIC)"
    )
    return out


def links_to_watch(project: EpanetProject, names: Sequence[str] = ()) -> Callable[[], np.ndarray]:
    """:func:`watched_links` for the accounts to call once the element tables are parsed (the
    names are checked now, against the engine, so that a wrong one stops the run before it
    starts)."""
    for name in names:
        if project.engine_link_index(name) is None:
            raise InputError(f"{project.source.path}: no link {name!r} to watch")
    names = tuple(names)
    return lambda: watched_links(project, names)


def watched_links(project: EpanetProject, names: Sequence[str] = ()) -> np.ndarray:
    """Link indices whose flow is kept at every step: pumps, every link of a tank, ``names``."""
    types = np.asarray(project.node_types)
    start, end = project.link_nodes()
    tank = types == NodeType.TANK
    keep = (np.asarray(project.link_types) == LinkType.PUMP) | tank[start] | tank[end]
    for name in names:
        if name not in project.link_index:
            raise InputError(f"{project.source.path}: no link {name!r} to watch")
        keep[project.link_index[name]] = True
    return np.flatnonzero(keep)


def _simulate(project: EpanetProject, progress: Progress | None) -> tuple[dict, np.ndarray]:
    """Step through the run, copying each reporting period's results into preallocated arrays.

    The project's accounts read the engine at every hydraulic step; at a reporting time their
    arrays are copied, so nothing is read twice. Only the engine is asked (counts, not element
    tables) until the first report, so the parse of the element tables goes on beside the solve.
    """
    times = project.report_times()
    qtype, _, _ = project.quality()
    accounts = project.kept_accounts()
    shape_n, shape_l = (len(times), project.n_nodes), (len(times), project.n_links)
    arrays: dict[str, np.ndarray] = {
        "head": np.empty(shape_n, np.float32),
        "demand": np.empty(shape_n, np.float32),
        "flow": np.empty(shape_l, np.float32),
        "state": np.empty(shape_l, np.int8),
    }
    steps = np.empty(len(times), np.int64)  # the hydraulic step of each reporting time
    quality = qtype is not QualityType.NONE
    optional = {
        "quality": quality,
        "demand_deficit": accounts.pressure_driven,
        "leakage": accounts.leaks,
    }
    for name, wanted in optional.items():
        if wanted:
            arrays[name] = np.empty(shape_n, np.float32)
    node_buf = np.empty(project.n_nodes)
    duration = max(int(times[-1]), 1)
    k = 0
    for t in project.report_steps(quality=quality):
        arrays["head"][k] = accounts.head
        arrays["demand"][k] = accounts.demand
        arrays["flow"][k] = accounts.flow
        arrays["state"][k] = accounts.state
        steps[k] = accounts.n_steps - 1
        if quality:
            arrays["quality"][k] = project.node_values(NodeProperty.QUALITY, node_buf)
        if accounts.pressure_driven:
            arrays["demand_deficit"][k] = accounts.deficit
        if accounts.leaks:
            arrays["leakage"][k] = np.where(
                accounts.junctions, accounts.demand - accounts.consumer, 0.0
            )
        k += 1
        if progress is not None:
            progress(t / duration)
    # A run EPANET halted early (UNBALANCED STOP) has results up to the halt only.
    arrays = {name: values[:k] for name, values in arrays.items()}
    arrays["pump_power"] = accounts.pump_power_at(steps[:k]).astype(np.float32)
    arrays["status"] = link_status(arrays.pop("state"), np.asarray(project.link_types))
    return arrays, times[:k]


def mean_velocity(
    flow: np.ndarray, status: np.ndarray, diameter: np.ndarray, link_types: np.ndarray
) -> np.ndarray:
    """|Q| / (pi D^2 / 4) as EPANET defines it: 0 for pumps and closed links (m/s)."""
    area = np.pi * diameter.astype(np.float32) ** 2 / 4
    per_area = np.zeros(area.shape, np.float32)  # 1 / A, 0 for pumps: one pass over the series
    np.divide(1, area, out=per_area, where=(link_types != LinkType.PUMP) & (area > 0))
    return np.abs(flow, dtype=np.float32) * per_area * (status > 0)


def has_leakage(project: EpanetProject) -> bool:
    """Whether the model leaks (emitters or EPANET 2.3 pipe leakage): then leakage is recorded
    apart from demand."""
    return bool(project.node_values(NodeProperty.EMITTER).any()) or project.has_pipe_leakage()


def read_static(project: EpanetProject) -> dict:
    """What the Dataset needs from the open project besides the time series."""
    start, end = project.link_nodes()
    x, y = project.coordinates()
    pumps = np.flatnonzero(np.asarray(project.link_types) == LinkType.PUMP)
    curves = [project.pump_curves(int(i)) for i in pumps]
    return {
        "pump_rated_flow": np.array([rated_flow(*c) for c in curves]),
        "pump_curve_end": np.array([c[0].max() if len(c[0]) else np.inf for c in curves]),
        "elevation": project.node_values(NodeProperty.ELEVATION),
        "start": start,
        "end": end,
        "x": x,
        "y": y,
        "length": project.link_values(LinkProperty.LENGTH),
        "diameter": project.link_values(LinkProperty.DIAMETER),
        "quality": project.quality(),
        "demand_model": project.demand_model(),
        "duration": project.time(TimeParameter.DURATION),
        "start_clocktime": project.time(TimeParameter.STARTTIME),
    }


def build_run_dataset(
    project: EpanetProject,
    static: dict,
    arrays: dict,
    times: np.ndarray,
    *,
    scenario: str,
    scenario_file: str | Path | None,
    accounts: RunAccounts,
    extra: tuple[dict, dict] = ({}, {}),
) -> xr.Dataset:
    """The run's Dataset; ``extra`` adds variables and coordinates (as build_dataset takes
    them) in the same build: the source shares."""
    elevation, start, end = static["elevation"], static["start"], static["end"]
    head = arrays["head"]
    tanks = np.flatnonzero(project.node_types == NodeType.TANK)
    pumps = np.flatnonzero(project.link_types == LinkType.PUMP)
    data = {
        "pressure_head": head - elevation.astype(np.float32),
        "hydraulic_head": head,
        "demand": arrays["demand"],
        "tank_level": head[:, tanks] - elevation[tanks].astype(np.float32),
        "flow": arrays["flow"],
        "velocity": mean_velocity(
            arrays["flow"], arrays["status"], static["diameter"], project.link_types
        ),
        "headloss": head[:, start] - head[:, end],
        "status": arrays["status"],
        "pump_power": arrays["pump_power"],
    }
    qtype, chem_units, trace_node = static["quality"]
    if "quality" in arrays:
        name, factor = _QUALITY_VARIABLE[qtype]
        if qtype is QualityType.CHEM and chem_units.lower().startswith("ug"):
            factor = 1e-3
        data[name] = arrays["quality"] * np.float32(factor)
    for name in ("demand_deficit", "leakage"):
        if name in arrays:
            data[name] = arrays[name]
    data = {name: values[np.newaxis] for name, values in data.items()}  # scenario dim of size 1
    data.update(step_data(accounts, static))
    data.update(extra[0])

    node_ids = np.array(project.node_ids, dtype=object)
    link_ids = np.array(project.link_ids, dtype=object)
    coords = {
        "scenario": [scenario],
        "time": times.astype("timedelta64[s]").astype("timedelta64[ns]"),
        "node": node_ids,
        "link": link_ids,
        "tank": node_ids[tanks],
        "pump": link_ids[pumps],
        "node_type": ("node", _names(NodeType)[project.node_types]),
        "elevation": ("node", elevation, {"units": "m"}),
        "x": ("node", static["x"]),
        "y": ("node", static["y"]),
        "link_type": ("link", _names(LinkType)[project.link_types]),
        "from_node": ("link", node_ids[start]),
        "to_node": ("link", node_ids[end]),
        "length": ("link", static["length"], {"units": "m"}),
        "diameter": ("link", static["diameter"], {"units": "m"}),
        "step_link": link_ids[accounts_watched(project)],
        "step": np.arange(len(accounts.times), dtype=np.int32),
        "pump_rated_flow": (
            "pump",
            static["pump_rated_flow"],
            {"units": "m3 s-1", "long_name": "rated (best-efficiency) flow at full speed"},
        ),
        **extra[1],
    }
    pressure_driven, pmin, preq, pexp = static["demand_model"]
    report = project.report_warnings or project.warnings
    run_health, health_attrs = health(
        accounts,
        node_ids=project.node_ids,
        tank_ids=list(node_ids[tanks]),
        link_ids=project.link_ids,
        report=report,
        halted_at=project.halted_at,
    )
    data.update(run_health)
    points = operating_points(
        accounts.pump_flow,
        accounts.pump_state,
        accounts.pump_speed,
        accounts.seconds,
        static["pump_rated_flow"],
        static["pump_curve_end"],
    )
    data.update({name: values[np.newaxis] for name, values in points.items()})
    attrs = provenance(
        engine="EPANET",
        engine_version=engine_version(),
        network=project.source,
        scenario=scenario_file,
    )
    attrs.update(
        {
            "network_source": str(project.source.path.resolve()),
            "flow_units_in_model": project.units.flow_units,
            "demand_model": (
                f"PDA (minimum {pmin:g} m, required {preq:g} m, exponent {pexp:g})"
                if pressure_driven
                else "DDA"
            ),
            "quality": qtype.name.lower() + (f" {trace_node}" if trace_node else ""),
            "start_clocktime": int(static.get("start_clocktime", 0)),
            "engine_warnings": summarise_warnings(_halt_note(project, static["duration"]) + report),
            "service_head_m": accounts.service_head,
            **health_attrs,
        }
    )
    return build_dataset(data, coords=coords, attrs=attrs, crs=model_crs(project.source.path))


def accounts_watched(project: EpanetProject) -> np.ndarray:
    return project.accounts.watched if project.accounts is not None else np.empty(0, np.int64)


def step_data(acc: RunAccounts, static: dict) -> dict[str, np.ndarray]:
    """The accounts over every hydraulic step as Dataset variables (scenario dim of size 1)."""
    steps = {
        "step_start": acc.times.astype(np.float64),
        "step_duration": acc.seconds,
        "step_inflow": acc.inflow,
        "step_consumer": acc.consumer,
        "step_leakage": acc.leakage,
        "step_unserved": acc.unserved,
        "step_tank_volume": acc.tank_volume,
        "step_tank_inflow": acc.tank_inflow,
        "step_pump_flow": acc.pump_flow,
        "step_pump_speed": acc.pump_speed,
        "step_pump_state": acc.pump_state,
        "step_pump_power": acc.pump_power,
        "step_link_flow": acc.watched_flow,
        "node_required_volume": acc.required_volume,
        "node_delivered_volume": acc.delivered_volume,
        "node_leakage_volume": acc.leakage_volume,
        "node_time_at_service_head": acc.time_at_service_head,
        "node_min_pressure": acc.min_pressure,
    }
    return {name: values[np.newaxis] for name, values in steps.items()}


def _halt_note(project: EpanetProject, duration: int) -> list[str]:
    if project.halted_at is None:
        return []
    t = project.halted_at
    return [
        f"EPANET halted the run at {t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d} of "
        f"{duration / 3600:g} h (UNBALANCED STOP): results end there"
    ]


def _names(kind: type[enum.IntEnum]) -> np.ndarray:
    """Lower-case names of an enum, indexable by its integer codes."""
    names = np.empty(max(kind) + 1, dtype=object)
    for member in kind:
        names[member] = member.name.lower()
    return names


# EPANET's warnings that say the solution is not to be trusted, shown before the others.
_SERIOUS = (
    "unbalanced",
    "halted",
    "trials",
    "ill-conditioning",
    "disconnected",
    "negative pressures",
)
_AT_TIME = re.compile(r" at (\d+:\d\d:\d\d) hrs")


def summarise_warnings(warnings: list[str], limit: int = 20) -> list[str]:
    """Warnings as stored in attrs: one line per kind, the serious ones first, at most ``limit``.

    EPANET repeats a warning at every step it holds ("Pump P closed because cannot deliver head
    at 0:39:52 hrs." hundreds of times); each becomes one line with its first time, how often
    and its last time, so that an unbalanced step is never buried under pump messages.
    """
    times: dict[tuple[str, str], list[str]] = {}  # (text before, after the time) -> times
    for line in warnings:
        line = line.rstrip(".")
        found = _AT_TIME.search(line)
        if found is None:
            times.setdefault((line, ""), [])
        else:
            kind = (line[: found.start()], line[found.end() :])
            times.setdefault(kind, []).append(found.group(1))
    lines = []
    for (before, after), at in times.items():
        if not at:
            lines.append(before)
            continue
        repeated = f" ({len(at)} times, the last at {at[-1]} hrs)" if len(at) > 1 else ""
        lines.append(f"{before} at {at[0]} hrs{after}{repeated}")
    lines.sort(key=lambda line: not any(word in line.lower() for word in _SERIOUS))
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... and {len(lines) - limit} more kinds of warning"]
