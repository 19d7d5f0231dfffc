"""A flood case from file to Dataset: read the grids, build the forcing, run, report health.

:func:`run_case` is what ``hydro flood run CASE.toml -o out.nc`` does: load and check the case
(:mod:`hydro.flood.case`), read its grids (:mod:`hydro.flood.grid`), run the surface
(:mod:`hydro.flood.solver`) and return the Dataset (:mod:`hydro.flood.dataset`), written atomically
when ``output`` is given. Every run carries its mass balance; one off by more than 0.1 % warns.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import xarray as xr

from hydro import __version__
from hydro.errors import InputError, suggest
from hydro.flood import kernels as k
from hydro.flood.case import DrainageSection, FloodCase, load_case
from hydro.flood.coupling import Coefficients, SurfaceCoupling
from hydro.flood.dataset import HAZARD_NAMES, MASS_BALANCE_TOLERANCE, surface_dataset
from hydro.flood.direct_rain import move_rain_to_surface
from hydro.flood.grid import Grid, read_grid
from hydro.flood.solver import Forcing, Inflow, Options, Surface, SurfaceModel, simulate
from hydro.results import provenance, write_netcdf

if TYPE_CHECKING:
    from hydro.drainage.assets import DrainageAssets
    from hydro.drainage.inp import SwmmInput

MM_H = 1e-3 / 3600  # grids of rates are in mm/h
MM = 1e-3  # grids of depths are in mm (infiltration capacity)


class MassBalanceWarning(UserWarning):
    """A surface run lost or made more water than the tolerance allows."""


def run_case(
    path: str | Path,
    *,
    output: str | Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> xr.Dataset | CoupledRun:
    """Run a flood case file; return the surface Dataset (and write it to ``output``).

    A case with a ``[drainage]`` section runs coupled and returns a :class:`CoupledRun` (the
    surface Dataset and the network's); its file holds the surface at the root and the network in
    the netCDF group "drainage". ``progress`` is called with the fraction of the duration done.
    """
    path = Path(path)
    case = load_case(path)
    if output is not None:
        _check_output(Path(output), case, path)
    if case.drainage is not None:
        coupled = run_coupled(case, path, progress=progress)
        if output is not None:
            write_coupled(coupled, output)
        return coupled
    surface, forcing, options = prepare(case, path)
    run = simulate(surface, forcing, options, progress=progress)
    warn = _health(run.volumes)
    attrs = provenance(
        engine="hydro.flood local-inertial",
        engine_version=__version__,
        network=case.surface.dem,
        scenario=path,
    )
    attrs["engine_warnings"] = warn
    ds = surface_dataset(
        run, surface, arrival_depth=options.arrival_depth, scenario=path.stem, attrs=attrs
    )
    if output is not None:
        write_netcdf(ds, output)
    return ds


def write_coupled(coupled: CoupledRun, path: str | Path) -> Path:
    """One CF-1.8 netCDF file: the surface at the root, the network in the group "drainage"."""
    return write_netcdf(coupled.surface, path, groups={"drainage": coupled.drainage})


def prepare(case: FloodCase, path: Path) -> tuple[Surface, Forcing, Options]:
    """The solver's inputs from a validated case."""
    s = case.surface
    dem = read_grid(s.dem)
    active = np.isfinite(dem.values)
    if not active.any():
        raise InputError(f"{s.dem}: the DEM holds no data")
    z = np.where(active, dem.values, 0.0)
    if case.buildings is not None:
        mask = _grid(case.buildings.mask, dem, "buildings.mask", path)
        building = np.isfinite(mask) & (mask != 0) & active
        if case.buildings.height is None:
            active &= ~building
        else:
            z = np.where(building, z + case.buildings.height, z)
    dem = dem.like(np.where(active, z, np.nan))
    manning = _value_or_grid(s.manning, dem, "surface.manning", path, active, 1.0)
    if np.any(manning[active] <= 0):
        raise InputError(f"{path}: surface.manning: Manning's n must be positive on every cell")
    if s.initial_depth is not None:
        h0 = _grid(s.initial_depth, dem, "surface.initial_depth", path)
        h0 = np.where(active, np.nan_to_num(h0), 0.0)
        if np.any(h0 < 0):
            raise InputError(f"{s.initial_depth}: initial depths cannot be negative")
    elif s.initial_level is not None:
        h0 = np.where(active, np.maximum(s.initial_level - z, 0.0), 0.0)
    else:
        h0 = np.zeros(dem.shape)
    surface = Surface(dem, manning, active, h0)
    forcing = Forcing(
        **_rain(case),
        **_infiltration(case, dem, path, active),
        inflows=tuple(_inflow(f, dem, active, path) for f in case.inflows),
        **_boundaries(case),
    )
    options = Options(
        duration=float(s.duration),
        output_every=float(s.output_every),
        theta=s.theta,
        cfl=s.cfl,
        max_step=float(s.max_time_step),
        min_depth=s.min_depth,
        arrival_depth=s.arrival_depth,
        duration_depth=s.duration_depth,
    )
    return surface, forcing, options


def _grid(file: Path, dem: Grid, key: str, path: Path) -> np.ndarray:
    grid = read_grid(file)
    if not grid.matches(dem):
        raise InputError(
            f"{path}: {key}: {file.name} is not on the DEM's cells (expected "
            f"{dem.shape[0]} rows x {dem.shape[1]} columns of {dem.dx:g} x "
            f"{dem.dy:g} m from ({dem.x0:g}, {dem.y0:g}); got {grid.shape[0]} x "
            f"{grid.shape[1]} of {grid.dx:g} x {grid.dy:g} m from "
            f"({grid.x0:g}, {grid.y0:g}))"
        )
    return grid.values


def _value_or_grid(value, dem: Grid, key: str, path: Path, active, scale: float) -> np.ndarray:
    if isinstance(value, Path):
        values = _grid(value, dem, key, path) * scale
        if np.any(~np.isfinite(values[active])):
            raise InputError(f"{path}: {key}: {value.name} has no data on cells the DEM covers")
        return np.where(active, values, 0.0)
    return np.full(dem.shape, float(value))


def _rain(case: FloodCase) -> dict:
    if case.rain is None:
        return {}
    times, rates = zip(*case.rain.series, strict=True)
    return {
        "rain_times": np.array(times, dtype=np.float64),
        "rain_rates": np.array(rates, dtype=np.float64),
    }


def _infiltration(case: FloodCase, dem: Grid, path: Path, active) -> dict:
    inf = case.infiltration
    if inf is None:
        return {}
    rate = _value_or_grid(
        inf.rate,
        dem,
        "infiltration.rate",
        path,
        active,
        MM_H if isinstance(inf.rate, Path) else 1.0,
    )
    capacity: float | np.ndarray
    if inf.capacity is None:
        capacity = math.inf
    else:
        capacity = _value_or_grid(
            inf.capacity,
            dem,
            "infiltration.capacity",
            path,
            active,
            MM if isinstance(inf.capacity, Path) else 1.0,
        )
    if np.any(np.asarray(rate) < 0) or np.any(np.asarray(capacity) < 0):
        raise InputError(f"{path}: infiltration: rates and capacities cannot be negative")
    return {"infiltration": rate, "infiltration_capacity": capacity}


def _inflow(inflow, dem: Grid, active, path: Path) -> Inflow:
    where = f"{path}: inflows[{inflow.name}]"
    if inflow.point is not None:
        cell = dem.cell_of(*inflow.point)
        if cell is None or not active[cell]:
            raise InputError(
                f"{where}: point {inflow.point} is not on a cell of the DEM that "
                "holds water (outside the grid, no data or a blocked building)"
            )
        cells = [cell]
    else:
        cells = [c for c in line_cells(dem, inflow.line) if active[c]]
        if not cells:
            raise InputError(f"{where}: the line crosses no cell of the DEM that holds water")
    times, flows = zip(*inflow.hydrograph, strict=True)
    return Inflow(
        inflow.name,
        np.array(cells, dtype=np.int64),
        np.array(times, dtype=np.float64),
        np.array(flows, dtype=np.float64),
    )


def line_cells(dem: Grid, points) -> list[tuple[int, int]]:
    """Cells a polyline crosses, in order, each once (sampled at a quarter of a cell)."""
    step = 0.25 * min(dem.dx, dem.dy)
    cells: list[tuple[int, int]] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        for s in np.linspace(0.0, 1.0, n + 1):
            cell = dem.cell_of(x0 + s * (x1 - x0), y0 + s * (y1 - y0))
            if cell is not None and cell not in cells:
                cells.append(cell)
    return cells


def _boundaries(case: FloodCase) -> dict:
    kinds, values = [], []
    for side in k.SIDES:
        b = getattr(case.boundaries, side)
        kinds.append({"closed": k.CLOSED, "open": k.OPEN, "level": k.LEVEL}[b.type])
        values.append(b.slope if b.type == "open" else (b.level if b.type == "level" else 0.0))
    return {"boundary_kind": tuple(kinds), "boundary_value": tuple(values)}


def _health(volumes: dict[str, float]) -> list[str]:
    error = volumes["mass_balance_error"]
    if abs(error) <= MASS_BALANCE_TOLERANCE:
        return []
    text = (
        f"surface mass balance off by {100 * error:.3f} % "
        f"(tolerance {100 * MASS_BALANCE_TOLERANCE:g} %)"
    )
    warnings.warn(text, MassBalanceWarning, stacklevel=3)
    return [text]


def _check_output(output: Path, case: FloodCase, path: Path) -> None:
    """Never write the results onto an input, a device or a FIFO."""
    inputs = {path.resolve(), case.surface.dem.resolve()}
    if output.resolve() in inputs:
        raise InputError(f"{output}: refusing to write the results over an input file")
    if output.exists() and not output.is_file():
        raise InputError(f"{output}: not a regular file; refusing to write there")


def surface_summary(ds: xr.Dataset) -> list[tuple[str, str]]:
    """Rows for a run's summary (a Dataset of one scenario): its health first, then the
    answers."""
    ds = ds.isel(scenario=0)
    cell_area = float(ds.attrs["cell_size_x"]) * float(ds.attrs["cell_size_y"])
    error = float(ds["mass_balance_error"])
    deep = int((ds["waterlogging_duration"] > 0).sum())
    rows = []
    if "coupled_mass_balance_error" in ds.attrs:
        rows += [
            ("coupled mass balance error", f"{100 * ds.attrs['coupled_mass_balance_error']:.3f} %"),
            (
                "overflow / drained back",
                f"{float(ds['overflow_volume']):.0f} / "
                f"{float(ds['drained_volume']):.0f} m3 at {ds.sizes['node']} nodes",
            ),
            (
                "network: runoff in / outfalls",
                f"{ds.attrs['network_runoff_m3']:.0f} / "
                f"{ds.attrs['network_outfall_outflow_m3']:.0f} m3",
            ),
            ("network: flooding lost", f"{ds.attrs['network_flooding_lost_m3']:.0f} m3"),
        ]
    rows += [
        ("surface mass balance error", f"{100 * error:.2e} %"),
        ("steps", f"{ds.attrs['surface_steps']} in {ds.attrs['surface_wall_seconds']:.1f} s"),
        ("grid", f"{ds.sizes['y']} x {ds.sizes['x']} cells of {cell_area:g} m2"),
        ("rain / inflow", f"{float(ds['rain_volume']):.0f} / {float(ds['inflow_volume']):.0f} m3"),
        ("infiltrated", f"{float(ds['infiltration_volume']):.0f} m3"),
        (
            "left / entered at the edges",
            f"{float(ds['boundary_outflow_volume']):.0f} / "
            f"{float(ds['boundary_inflow_volume']):.0f} m3",
        ),
        ("on the surface at the end", f"{float(ds['final_volume']):.0f} m3"),
        ("deepest", f"{float(ds['max_water_depth'].max()):.2f} m"),
        ("fastest", f"{float(ds['max_velocity'].max()):.2f} m/s"),
        ("area waterlogged at some time", f"{deep * cell_area:.0f} m2"),
    ]
    classes = ds["hazard_class"].values
    for value, name in enumerate(HAZARD_NAMES[1:], start=1):
        rows.append((f"hazard {name}", f"{(classes == value).sum() * cell_area:.0f} m2"))
    return rows


class CoupledRun(NamedTuple):
    """A coupled run: the surface grid and the network, joined by the coupled node IDs."""

    surface: xr.Dataset
    drainage: xr.Dataset


class DrainageModel(NamedTuple):
    """A coupled case's drainage side, as the scenario would run alone."""

    inp: SwmmInput
    spin_up: float  # s of dry spin-up first (rivers flowing at the start)
    assets: DrainageAssets | None
    source: Path  # the INP or the drainage scenario file


def drainage_model(case: FloodCase, path: Path, duration: float) -> DrainageModel:
    """The case's SWMM model (an INP, or a drainage scenario built with its spin-up and assets,
    as ``hydro drainage run`` runs it); InputError when it does not run as long as the surface."""
    from hydro.drainage.inp import read_inp
    from hydro.drainage.scenario import load_scenario, run_inputs

    d = _drainage_section(case, path)
    if d.model is not None:
        model = DrainageModel(read_inp(d.model), 0.0, None, d.model)
    else:
        assert d.scenario is not None  # a model or a scenario (checked by DrainageSection)
        model = DrainageModel(*run_inputs(load_scenario(d.scenario)), d.scenario)
    seconds = (model.inp.end_datetime - model.inp.start_datetime).total_seconds()
    if abs(seconds - duration) > 1e-6:
        raise InputError(
            f"{path}: surface.duration is {duration:g} s but the drainage model "
            f"{model.source.name} runs {seconds:g} s; make them equal"
        )
    return model


def _drainage_section(case: FloodCase, path: Path) -> DrainageSection:
    if case.drainage is None:
        raise InputError(f"{path}: no [drainage] section; a coupled run needs a SWMM model")
    return case.drainage


def run_coupled(
    case: FloodCase, path: Path, *, progress: Callable[[float], None] | None = None
) -> CoupledRun:
    """Step the case's SWMM model and its surface together (see :mod:`hydro.flood.coupling`)."""
    from hydro.drainage.swmm.engine import run as run_swmm

    d = _drainage_section(case, path)
    surface, forcing, options = prepare(case, path)
    model_in = drainage_model(case, path, options.duration)
    inp, spin_up, assets = model_in.inp, model_in.spin_up, model_in.assets
    if d.rain == "surface":
        inp, times, rates = move_rain_to_surface(inp, path)
        forcing = dataclasses.replace(forcing, rain_times=times, rain_rates=rates)
    source = model_in.source
    names, cells = _coupled_nodes(inp, d, surface, path)
    model = SurfaceModel(surface, forcing, options)
    coupling = SurfaceCoupling(
        model,
        names,
        cells,
        coefficients=Coefficients(
            orifice=d.orifice_coefficient,
            free_weir=d.free_weir_coefficient,
            submerged_weir=d.submerged_weir_coefficient,
            manhole_area=d.manhole_area,
        ),
    )
    network = run_swmm(
        inp,
        scenario=path.stem,  # the surface's label: one scenario in both Datasets
        progress=progress,
        coupling=coupling,
        spin_up=spin_up,
        assets=assets,
    )
    model.advance(options.duration)  # SWMM's last step may stop short of END by round-off
    run = model.result()
    balance = coupled_balance(coupling, run.volumes)
    attrs = provenance(
        engine="hydro.flood local-inertial + SWMM 5.2.4",
        engine_version=__version__,
        network=source,
        scenario=path,
    )
    attrs["engine_warnings"] = network.attrs.get("engine_warnings", "")  # SWMM's own
    attrs.update(coupled_health(balance, run.volumes, network.attrs))
    attrs["dem_file"] = case.surface.dem.name
    if network.attrs.get("start_datetime"):  # one clock with the network on disk
        attrs["start_datetime"] = network.attrs["start_datetime"]
    attrs.update(balance)
    ds = surface_dataset(
        run, surface, arrival_depth=options.arrival_depth, scenario=path.stem, attrs=attrs
    )
    ds = ds.assign(coupled_node_variables(coupling, surface))
    return CoupledRun(ds, network)


COUPLED_TOLERANCE = 5e-3  # the coupled system's balance warns above 0.5 %


def coupled_health(balance: dict, surface: dict[str, float], network: dict) -> dict:
    """The coupled run's health, as a drainage run reports its own (``health_warnings``,
    ``converged``): hydro's checks of the coupled balance (0.5 %) and of the surface's (0.1 %),
    then the network's own health warnings. Off balances also warn (MassBalanceWarning)."""
    out = []
    error = balance["coupled_mass_balance_error"]
    if abs(error) > COUPLED_TOLERANCE:
        text = (
            f"hydro: coupled mass balance off by {100 * error:.3f} % "
            f"(limit {100 * COUPLED_TOLERANCE:g} %)"
        )
        warnings.warn(text, MassBalanceWarning, stacklevel=3)
        out.append(text)
    out += [f"hydro: {text}" for text in _health(surface)]
    out += [
        f"drainage: {line.removeprefix('hydro: ')}"
        for line in str(network.get("health_warnings") or "").splitlines()
        if line.strip()
    ]
    return {
        "coupled_mass_balance_tolerance": COUPLED_TOLERANCE,
        "converged": not out,
        "health_warnings": out or None,
    }


def coupled_balance(coupling: SurfaceCoupling, surface: dict[str, float]) -> dict[str, float]:
    """The network and the surface as one system [m3]: what came in (runoff, river and other
    inflows into the network, rain and inflows on the surface, both initial storages) against
    what left (outfalls, flooding lost by uncoupled nodes, evaporation, seepage, surface edges
    and infiltration) and both final storages. The exchange at manholes is internal: SWMM counts what
    the surface gave as external inflow and what it got back (negative lateral inflow) in its
    outflow total, beside the outfalls."""
    t = coupling.totals
    outfalls = t["outfall_outflow"] - surface["overflow_volume"]
    # SWMM's external inflow holds the model's own (river inflows, inflow through outfalls) and
    # what the surface gave at the manholes; only the first comes from outside the system.
    external = t["external_inflow"] - surface["drained_volume"]
    inputs = (
        coupling.storage0
        + external
        + t["wet_weather_inflow"]
        + t["dry_weather_inflow"]
        + t["groundwater_inflow"]
        + t["rdii_inflow"]
        + surface["initial_volume"]
        + surface["rain_volume"]
        + surface["inflow_volume"]
        + surface["boundary_inflow_volume"]
    )
    outputs = (
        outfalls
        + t["flooding"]
        + t["routing_evaporation"]
        + t["seepage"]
        + coupling.storage_end
        + surface["final_volume"]
        + surface["boundary_outflow_volume"]
        + surface["infiltration_volume"]
    )
    return {
        "coupled_mass_balance_error": (inputs - outputs) / inputs if inputs > 0 else 0.0,
        "coupled_inputs_m3": inputs,
        "coupled_outputs_m3": outputs,
        "network_rain_m3": t["rain"],
        "network_runoff_infiltration_m3": t["runoff_infiltration"],
        "network_runoff_m3": t["wet_weather_inflow"],
        "network_outfall_outflow_m3": outfalls,
        "network_flooding_lost_m3": t["flooding"],
        "network_initial_storage_m3": coupling.storage0,
        "network_final_storage_m3": coupling.storage_end,
        "network_external_inflow_m3": t["external_inflow"],
        "network_inflow_from_outside_m3": external,
        "exchange_overflow_m3": surface["overflow_volume"],
        "exchange_drained_m3": surface["drained_volume"],
        "exchange_steps_limited": coupling.limited,
    }


def coupled_node_variables(coupling: SurfaceCoupling, surface: Surface) -> dict:
    """Per coupled node: where it is on the grid and what it exchanged (dims node, time)."""
    from hydro.variables import get_surface

    grid = surface.dem
    rows, cols = coupling.cells[:, 0], coupling.cells[:, 1]
    out: dict[str, xr.DataArray | tuple[Any, ...]] = {}
    for name, values in (
        ("exchange_flow", coupling.flows),
        ("node_overflow_volume", coupling.overflow),
        ("node_drained_volume", coupling.drained),
    ):
        var = get_surface(name)
        values = values.astype(var.dtype)[None]  # the scenario axis
        out[name] = xr.DataArray(values, dims=var.dims, attrs=var.attrs())
    out["node"] = ("node", np.array(coupling.names, dtype=object))
    out["node_x"] = (
        "node",
        grid.x[cols],
        {"units": "m", "long_name": "easting of the node's cell"},
    )
    out["node_y"] = (
        "node",
        grid.y[rows],
        {"units": "m", "long_name": "northing of the node's cell"},
    )
    return out


def _coupled_nodes(inp, d, surface: Surface, path: Path) -> tuple[list[str], np.ndarray]:
    coords = {row[0]: row[1:3] for row in inp.rows("COORDINATES") if len(row) >= 3}
    junctions = [row[0] for row in inp.rows("JUNCTIONS") if row]
    grid, active = surface.dem, surface.active
    names, cells = [], []
    for name in d.nodes if d.nodes is not None else junctions:
        if name not in junctions:
            raise InputError(
                f"{path}: drainage.nodes: {name!r} is not a junction of the drainage model; "
                + suggest(name, junctions)
            )
        if name not in coords:
            if d.nodes is None:
                continue
            raise InputError(f"{path}: drainage.nodes: {name!r} has no [COORDINATES] row")
        cell = grid.cell_of(float(coords[name][0]), float(coords[name][1]))
        if cell is None or not active[cell]:
            if d.nodes is None:
                continue
            raise InputError(
                f"{path}: drainage.nodes: {name!r} at {tuple(coords[name])} is not on a cell of "
                "the DEM that holds water"
            )
        names.append(name)
        cells.append(cell)
    if not names:
        raise InputError(f"{path}: drainage: no junction of the drainage model stands on the DEM")
    return names, np.array(cells, dtype=np.int64)
