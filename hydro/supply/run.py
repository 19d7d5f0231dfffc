"""Run an EPANET model (with optional edits) and return one xarray Dataset in SI units."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from hydro.errors import InputError
from hydro.inpfile import InputText, detect_engine, read_text
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

Edit = Callable[[EpanetProject], None]
Progress = Callable[[float], None]

_QUALITY_VARIABLE = {
    QualityType.AGE: ("water_age", 3600.0),  # hours -> s
    QualityType.TRACE: ("trace_fraction", 0.01),  # percent -> fraction
    QualityType.CHEM: ("chemical_concentration", 1.0),
}


def run(
    model: str | Path | InputText,
    *,
    scenario: str = "base",
    edits: Sequence[Edit] = (),
    scenario_file: str | Path | None = None,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Run an EPANET model to a Dataset with dims (scenario, time, node/link/tank/pump).

    ``edits`` are applied, in order, to the open project before the run: this is how scenario
    operations change a model without ever writing it back. ``progress`` is called with the
    fraction of simulated time done.
    """
    source = model if isinstance(model, InputText) else read_text(model)
    if detect_engine(source) != "epanet":
        raise InputError(
            f"{source.path}: is a SWMM model, not an EPANET one; "
            "run it with hydro.drainage.run or `hydro run`"
        )
    with EpanetProject.open(source) as project:
        for edit in edits:
            edit(project)
        arrays, times = _simulate(project, progress)
        static = read_static(project)
    # The project is closed here: its report (and the warnings in it) is complete.
    return build_run_dataset(
        project, static, arrays, times, scenario=scenario, scenario_file=scenario_file
    )


def _simulate(project: EpanetProject, progress: Progress | None) -> tuple[dict, np.ndarray]:
    """Step through the run, copying each reporting period's results into preallocated arrays.

    Only the engine is asked here (counts, not element tables), so the parse of the element
    tables that started when the project opened goes on beside the solve.
    """
    times = project.report_times()
    qtype, _, _ = project.quality()
    shape_n, shape_l = (len(times), project.n_nodes), (len(times), project.n_links)
    arrays = {
        "head": np.empty(shape_n, np.float32),
        "demand": np.empty(shape_n, np.float32),
        "flow": np.empty(shape_l, np.float32),
        "status": np.empty(shape_l, np.int8),
        "energy": np.empty(shape_l, np.float32),
    }
    optional = {
        "quality": (qtype is not QualityType.NONE, NodeProperty.QUALITY),
        "demand_deficit": (project.demand_model()[0], NodeProperty.DEMANDDEFICIT),
        "leakage": (has_leakage(project), NodeProperty.EMITTERFLOW),
    }
    extra = {name: prop for name, (wanted, prop) in optional.items() if wanted}
    for name in extra:
        arrays[name] = np.empty(shape_n, np.float32)
    node_buf, link_buf = np.empty(project.n_nodes), np.empty(project.n_links)
    duration = max(int(times[-1]), 1)
    k = 0
    for t in project.report_steps(quality="quality" in extra):
        arrays["head"][k] = project.node_values(NodeProperty.HEAD, node_buf)
        arrays["demand"][k] = project.node_values(NodeProperty.DEMAND, node_buf)
        for name, prop in extra.items():
            arrays[name][k] = project.node_values(prop, node_buf)
        arrays["flow"][k] = project.link_values(LinkProperty.FLOW, link_buf)
        arrays["status"][k] = project.link_values(LinkProperty.STATUS, link_buf)
        arrays["energy"][k] = project.link_values(LinkProperty.ENERGY, link_buf)
        k += 1
        if progress is not None:
            progress(t / duration)
    # A run EPANET halted early (UNBALANCED STOP) has results up to the halt only.
    arrays = {name: values[:k] for name, values in arrays.items()}
    arrays["pump_power"] = arrays.pop("energy")[:, project.link_types == LinkType.PUMP]
    return arrays, times[:k]


def mean_velocity(
    flow: np.ndarray, status: np.ndarray, diameter: np.ndarray, link_types: np.ndarray
) -> np.ndarray:
    """|Q| / (pi D^2 / 4) as EPANET defines it: 0 for pumps and closed links (m/s)."""
    area = np.pi * diameter.astype(np.float32) ** 2 / 4
    moving = (status > 0) & (link_types != LinkType.PUMP) & (area > 0)
    return np.where(moving, np.abs(flow) / np.where(area > 0, area, 1), 0).astype(np.float32)


def has_leakage(project: EpanetProject) -> bool:
    """Whether the model leaks through emitters (then leakage is recorded apart from demand)."""
    return bool(project.node_values(NodeProperty.EMITTER).any())


def read_static(project: EpanetProject) -> dict:
    """What the Dataset needs from the open project besides the time series."""
    start, end = project.link_nodes()
    x, y = project.coordinates()
    return {
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
) -> xr.Dataset:
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
    }
    pressure_driven, pmin, preq, pexp = static["demand_model"]
    unbalanced = any("WARNING 1:" in w for w in project.warnings)
    attrs = provenance(
        engine="EPANET",
        engine_version=engine_version(),
        network=project.source.path,
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
            "converged": not unbalanced and project.halted_at is None,
            "engine_warnings": summarise_warnings(
                _halt_note(project, static["duration"])
                + (project.report_warnings or project.warnings)
            ),
        }
    )
    return build_dataset(data, coords=coords, attrs=attrs, crs=model_crs(project.source.path))


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
