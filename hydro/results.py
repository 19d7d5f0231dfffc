"""Result Datasets: built once from registered variables, stamped with provenance, written atomically.

Every engine adapter and score builder goes through :func:`build_dataset`, so all Datasets share one
shape of metadata: each variable carries ``units`` and ``long_name`` from :mod:`hydro.variables`, and
the global attrs say which hydro, which engine, which network and scenario files (with their SHA-256)
made the numbers and when.

In memory, ``time`` is the time elapsed since the start of the run (timedelta64), element
dimensions are indexed by their names, and a model with a CRS carries a scalar ``crs`` coordinate
holding the CF grid mapping. On disk (:func:`write_netcdf`) the same Dataset is CF-1.8
(:func:`to_cf`): ``time`` in "seconds since <start>", element names as auxiliary id variables
(``node_id``, ``link_id`` with ``cf_role = "timeseries_id"``), x/y as projection coordinates in the
model's CRS, attrs of every registered variable and coordinate, zlib compression.
:func:`read_netcdf` turns a file back into the in-memory form (:func:`from_cf`).

The start of the run: SWMM has a calendar date (START_DATE/START_TIME, the ``start_datetime``
attr). EPANET has only a clock time (START CLOCKTIME, the ``start_clocktime`` attr in seconds),
so its files count time from 2000-01-01 at that clock time: the date is a placeholder, said so in
the time variable's comment (:data:`PLACEHOLDER_DATE`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import signal
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from hydro import __version__
from hydro.errors import InputError
from hydro.inpfile import InputText
from hydro.paths import check_output, write_error
from hydro.scenario.loader import ScenarioFile
from hydro.variables import COORDINATES, VARIABLES, Coordinate, Variable
from hydro.variables import get as get_variable

PLACEHOLDER_DATE = _dt.datetime(2000, 1, 1)  # day of runs whose engine has no calendar date
COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}
TIMESERIES_DIMS = ("node", "link")  # the time series of these elements are CF timeSeries features


def build_dataset(
    data: Mapping[str, np.ndarray],
    *,
    coords: Mapping[str, Any],
    attrs: Mapping[str, Any] | None = None,
    crs: str | None = None,
) -> xr.Dataset:
    """One Dataset from arrays named after registered variables.

    ``data`` maps a registered name to an array whose shape follows the variable's registered
    dims; ``coords`` is passed to xarray as is (index coordinates and per-element properties such
    as ``node_type`` or ``elevation``). Arrays are cast to the registered dtype. ``crs`` (any
    string pyproj reads, e.g. ``"EPSG:4549"``) adds the scalar ``crs`` grid-mapping coordinate.
    """
    data_vars = {}
    for name, values in data.items():
        var = get_variable(name)
        values = np.asarray(values)
        if values.ndim != len(var.dims):
            raise ValueError(
                f"{name}: expected dims {var.dims}, got an array of shape {values.shape}"
            )
        data_vars[name] = _variable(var.dims, values.astype(var.dtype, copy=False), var.attrs())
    ds = xr.Dataset(data_vars, coords={name: _coordinate(name, c) for name, c in coords.items()})
    if crs:
        ds = ds.assign_coords(crs_coordinate(crs))
    ds.attrs.update({"Conventions": "CF-1.8"})
    if attrs:
        ds.attrs.update(clean_attrs(attrs))
    describe(ds)
    return ds


def _variable(dims, values: np.ndarray, attrs: dict | None = None) -> xr.Variable:
    """A Variable of a plain array, made without xarray's scan of its values: an object array
    (element names) is otherwise walked by pandas for dates, 1-3 ms each for a large model."""
    if values.dtype.kind in "biufcOU":  # no dates or durations, which xarray must convert
        return xr.Variable(dims, values, attrs, fastpath=True)
    return xr.Variable(dims, values, attrs)


def _coordinate(name: str, value: Any) -> Any:
    """A coordinate as :func:`build_dataset` takes it (an array, or a tuple of dims, array and
    attrs), made with :func:`_variable` where it is a plain array."""
    if isinstance(value, tuple) and isinstance(value[1], np.ndarray) and value[1].ndim > 0:
        dims = (value[0],) if isinstance(value[0], str) else value[0]
        return _variable(dims, value[1], value[2] if len(value) > 2 else None)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biufcOU":
        return pd.Index(value, name=name, dtype=value.dtype, copy=False)
    return value


def describe(ds: xr.Dataset) -> None:
    """Fill in (never overwrite) the CF attrs of ``ds`` in place: those registered for its
    variables and coordinates, x/y in the model's CRS, the global title, source and history."""
    for name, var in ds.variables.items():
        known: Variable | Coordinate | None
        if name in ds.data_vars:
            known = VARIABLES.get(str(name))
            if known is not None and known.dims != var.dims:
                known = None  # a namesake of another kind (the 2-D surface's water_depth)
        else:
            known = COORDINATES.get(str(name))
        if known is not None:
            for key, value in known.attrs().items():
                var.attrs.setdefault(key, value)
    _map_attrs(ds)
    ds.attrs.update(_global_attrs(ds))


def parse_crs(crs: str, where: str = "CRS"):
    """A pyproj CRS from any string pyproj reads; InputError naming ``where`` if it is none."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except CRSError as err:
        raise InputError(
            f"{where}: {crs!r} is not a coordinate reference system pyproj knows ({err})"
        ) from None


def crs_coordinate(crs: str) -> dict[str, xr.Variable]:
    """The scalar ``crs`` coordinate: CF grid-mapping attrs (pyproj) and the WKT GDAL reads."""
    parsed = parse_crs(crs)
    attrs = {"long_name": f"coordinate reference system ({crs})", **parsed.to_cf()}
    attrs["spatial_ref"] = attrs["crs_wkt"]
    return {"crs": xr.Variable((), np.int32(0), attrs)}


def dataset_crs(ds: xr.Dataset):
    """The pyproj CRS of a Dataset's ``crs`` coordinate, or None when the model has none."""
    if "crs" not in ds.variables or "crs_wkt" not in ds["crs"].attrs:
        return None
    from pyproj import CRS

    return CRS.from_wkt(ds["crs"].attrs["crs_wkt"])


def clean_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attrs netCDF can store: lists of strings become one newline-joined string, None is dropped."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)
        elif isinstance(value, bool):
            value = int(value)
        elif isinstance(value, Path):
            value = str(value)
        out[key] = value
    return out


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(
    *,
    engine: str,
    engine_version: str,
    network: str | Path | InputText,
    scenario: str | Path | ScenarioFile | None = None,
    network_sha256: str = "",
) -> dict[str, Any]:
    """Global attrs that say what produced a Dataset (files already read keep their hash:
    an InputText's, or ``network_sha256`` given with the network's path)."""
    if network_sha256:
        name = (network.path if isinstance(network, InputText) else Path(network)).name
        digest = network_sha256
    elif isinstance(network, InputText) and network.sha256:
        name, digest = network.path.name, network.sha256
    else:
        path = network.path if isinstance(network, InputText) else Path(network)
        name, digest = path.name, file_sha256(path)
    attrs = {
        "hydro_version": __version__,
        "engine": engine,
        "engine_version": engine_version,
        "network_file": name,
        "network_sha256": digest,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if isinstance(scenario, ScenarioFile):
        attrs["scenario_file"] = scenario.path.name
        attrs["scenario_sha256"] = scenario.sha256
    elif scenario is not None:
        attrs["scenario_file"] = Path(scenario).name
        attrs["scenario_sha256"] = file_sha256(scenario)
    return attrs


@contextlib.contextmanager
def atomic_path(path: str | Path, *, inputs: Iterable[str | Path | None] = ()) -> Iterator[Path]:
    """A temporary path beside ``path`` that becomes ``path`` only if the block succeeds.

    ``path`` must be a place hydro may write (:func:`hydro.paths.check_output`: a regular file or
    new, never a folder, device, FIFO or one of ``inputs``). Nothing half-written is ever left
    under the final name: on any error (or an interrupt) the temporary file is removed and the
    previous file (if any) stays as it was; an OSError becomes a plain :class:`OutputError`.
    """
    path = check_output(path, inputs=inputs)
    # SIGINT and SIGTERM wait while the temporary file is made: one arriving between its
    # creation and the cleanup below would leave it behind. A held one arrives at the release,
    # inside the block that removes the file.
    part: Path | None = None
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        part = _new_part(path)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.chmod(part, 0o666 & ~_umask())  # mkstemp makes 0600; a result file is an ordinary file
        yield part
        check_output(path, inputs=inputs)  # nothing became a folder or a FIFO meanwhile
        os.replace(part, path)
    except OSError as err:
        raise write_error(path, err) from None
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if part is not None:
            part.unlink(missing_ok=True)


def _new_part(path: Path) -> Path:
    """An empty temporary file beside ``path`` (OutputError when it cannot be made)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as err:
        raise write_error(path, err) from None
    os.close(fd)
    return Path(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_netcdf(
    ds: xr.Dataset,
    path: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    groups: Mapping[str, xr.Dataset] | None = None,
) -> Path:
    """Write ``ds`` to ``path`` atomically (temporary name, then rename), as CF-1.8 with zlib
    compression (lossless: :func:`read_netcdf` gives the same values back). ``inputs`` are files
    the result must never replace (see :func:`atomic_path`); ``groups`` are further Datasets
    stored as netCDF groups of the same file (read one back with ``read_netcdf(path, group=)``).
    """
    path = Path(path)
    cf = to_cf(ds)
    with atomic_path(path, inputs=inputs) as tmp, _in_process_write_lock():
        try:
            cf.to_netcdf(tmp, engine="netcdf4", encoding=_encoding(cf))
            for name, group in (groups or {}).items():
                part = to_cf(group)
                part.to_netcdf(
                    tmp, mode="a", group=name, engine="netcdf4", encoding=_encoding(part)
                )
        except RuntimeError as err:  # the netCDF library's own errors (e.g. a full disk)
            raise write_error(path, OSError(0, str(err))) from None
    return path


@contextlib.contextmanager
def _in_process_write_lock() -> Iterator[None]:
    """Write with a lock of this process. Inside a Dask worker, xarray otherwise takes its file
    lock from the cluster's scheduler, a round trip for every variable it writes: 1.5-1.8 s per
    ensemble member instead of 0.3-0.4 s (measured on the bundled drainage model). The data
    written are in memory, so no Dask scheduler is needed to compute them."""
    try:
        import dask
    except ImportError:  # without Dask, xarray's lock is this process's already
        yield
        return
    with dask.config.set(scheduler="synchronous"):
        yield


def read_netcdf(path: str | Path, *, group: str | None = None) -> xr.Dataset:
    """Load a hydro netCDF file (or one of its groups) fully into memory (the file is closed on
    return)."""
    path = Path(path)
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise InputError(f"{path}: " + ("no such file" if not path.exists() else kind))
    try:
        with xr.open_dataset(path, engine="netcdf4", decode_coords="all", group=group) as ds:
            return from_cf(ds.load())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable netCDF file ({err})") from None


# ------------------------------------------------------------------------------------------------
# CF-1.8 on disk


def to_cf(ds: xr.Dataset) -> xr.Dataset:
    """The CF-1.8 form of an in-memory hydro Dataset (see the module docstring)."""
    out = ds.copy()
    for var in out.variables.values():
        var.attrs = dict(var.attrs)  # the copy shares attrs dicts with ``ds``
    describe(out)
    out = _time_to_cf(out)
    out = _ids_to_cf(out)
    if "crs" in out.coords:  # a grid mapping, not a coordinate: kept out of `coordinates` attrs
        out = out.reset_coords("crs")
    for name, var in out.variables.items():
        if var.dtype == np.int64 or var.dtype == np.uint64:
            out[name] = var.astype(_narrow_int(var.values))  # CF 1.8 has no 64-bit integers
    out.attrs = _netcdf_attrs(out.attrs)
    return out


def from_cf(ds: xr.Dataset) -> xr.Dataset:
    """The in-memory form of a Dataset read from a file :func:`to_cf` wrote (others pass as is)."""
    if "time" in ds.coords and np.issubdtype(ds["time"].dtype, np.datetime64):
        units = ds["time"].encoding.get("units", "")
        if " since " in units:
            origin = np.datetime64(units.split(" since ", 1)[1].strip().replace(" ", "T"), "ns")
            elapsed = (ds["time"].values - origin).astype("timedelta64[ns]")
            ds = ds.assign_coords(time=("time", elapsed))
    if "crs" in ds.data_vars and "grid_mapping_name" in ds["crs"].attrs:
        ds = ds.set_coords("crs")
    for var in ds.variables.values():  # decode_coords="all" moved it to the encoding
        if "grid_mapping" in var.encoding:
            var.attrs["grid_mapping"] = var.encoding.pop("grid_mapping")
    for name in map(str, list(ds.coords)):
        dim = name.removesuffix("_id")
        if name.endswith("_id") and ds[name].dims == (dim,) and dim not in ds.indexes:
            attrs = {k: v for k, v in ds[name].attrs.items() if k != "cf_role"}
            ds = ds.drop_vars(name).assign_coords({dim: (dim, ds[name].values, attrs)})
    return ds


def time_origin(attrs: Mapping[str, Any]) -> tuple[_dt.datetime, bool]:
    """The date and time a run starts, and whether the date is real (False: the placeholder)."""
    start = attrs.get("start_datetime")
    if start:
        return _dt.datetime.fromisoformat(str(start)), True
    clock = float(attrs.get("start_clocktime", 0) or 0)
    return PLACEHOLDER_DATE + _dt.timedelta(seconds=clock), False


def _time_to_cf(ds: xr.Dataset) -> xr.Dataset:
    if "time" not in ds.coords or not np.issubdtype(ds["time"].dtype, np.timedelta64):
        return ds
    origin, real = time_origin(ds.attrs)
    attrs = {
        "standard_name": "time",
        "long_name": "time",
        "axis": "T",
        "units": f"seconds since {origin:%Y-%m-%d %H:%M:%S}",
        "calendar": "standard",
    }
    if not real:
        attrs["comment"] = (
            "the model has no calendar date (EPANET): the date "
            f"{PLACEHOLDER_DATE:%Y-%m-%d} stands for the first day of the run; the clock time "
            "is the model's START CLOCKTIME"
            if "start_clocktime" in ds.attrs
            else f"time since the start of each run; the date {PLACEHOLDER_DATE:%Y-%m-%d} "
            "is a placeholder"
        )
    seconds = ds["time"].values / np.timedelta64(1, "s")
    return ds.assign_coords(time=("time", seconds.astype(np.float64), attrs))


def _map_attrs(ds: xr.Dataset) -> None:
    """x/y as projection coordinates and ``grid_mapping`` on the variables located by them."""
    crs = dataset_crs(ds)
    mapped_dims = {ds[c].dims[0] for c in ("x", "y") if c in ds.coords and ds[c].ndim == 1}
    if crs is None:
        for c in ("x", "y"):
            if c in ds.coords and c not in ds.dims:
                ds[c].attrs.setdefault("comment", "the model has no CRS: units unknown")
        return
    names = (
        ("projection_x_coordinate", "projection_y_coordinate")
        if crs.is_projected
        else ("longitude", "latitude")
    )
    unit = _UNITS.get(crs.axis_info[0].unit_name, "") if crs.is_projected else None
    for c, standard, geographic_unit in zip(
        ("x", "y"), names, ("degrees_east", "degrees_north"), strict=True
    ):
        if c not in ds.coords or c in ds.dims:  # grid axes (hydro.flood) describe themselves
            continue
        ds[c].attrs.setdefault("standard_name", standard)
        ds[c].attrs.setdefault("units", unit if crs.is_projected else geographic_unit)
    for var in ds.data_vars.values():
        if mapped_dims & set(var.dims):
            var.attrs.setdefault("grid_mapping", "crs")


_UNITS = {"metre": "m", "meter": "m", "foot": "ft", "US survey foot": "US_survey_foot"}


def _ids_to_cf(ds: xr.Dataset) -> xr.Dataset:
    """Element names (string dimension coordinates) -> auxiliary ``<dim>_id`` variables.

    CF coordinate variables are numeric and monotonic; names are auxiliary coordinates, and the
    node and link ids identify the time-series features (CF 1.8 section 9.5).
    """
    features = "time" in ds.dims
    for dim in map(str, list(ds.dims)):
        if dim not in ds.indexes or ds[dim].dtype.kind not in "OUS":
            continue
        name = f"{dim}_id"
        if name in ds.variables:
            raise ValueError(f"cannot write {dim!r} names as {name!r}: that name is taken")
        attrs = dict(ds[dim].attrs)
        if features and dim in TIMESERIES_DIMS:
            attrs["cf_role"] = "timeseries_id"
        values = ds[dim].values.astype(object)
        ds = ds.drop_vars(dim).assign_coords({name: (dim, values, attrs)})
    return ds


def _global_attrs(ds: xr.Dataset) -> dict[str, Any]:
    attrs = dict(ds.attrs)
    attrs["Conventions"] = "CF-1.8"
    generic = f"hydro results of {attrs.get('network_file', 'a model')}"
    # A scenario's question is better than a generic title (which a merge may have carried
    # over from a part built without the network's name)
    if not attrs.get("title") or str(attrs["title"]).startswith("hydro results of "):
        attrs["title"] = str(attrs.get("question") or "") or generic
    engine = f"{attrs.get('engine', '')} {attrs.get('engine_version', '')}".strip()
    attrs.setdefault(
        "source", f"{engine} run by hydro {__version__}" if engine else f"hydro {__version__}"
    )
    attrs.setdefault(
        "history",
        f"{attrs.get('created', '')} made by hydro {attrs.get('hydro_version', __version__)}",
    )
    if "time" in ds.dims and set(TIMESERIES_DIMS) & set(ds.dims):
        attrs["featureType"] = "timeSeries"
    return attrs


def _netcdf_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Global attrs as netCDF stores them, integers as int32 (CF 1.8 has no 64-bit types)."""
    attrs = clean_attrs(attrs)
    for key, value in attrs.items():
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            attrs[key] = _narrow_int(np.asarray(value)).type(value)
    return attrs


def _narrow_int(values: np.ndarray) -> np.dtype:
    """int32 when every value fits, else float64 (exact up to 2**53)."""
    info = np.iinfo(np.int32)
    if values.size == 0 or (values.min() >= info.min and values.max() <= info.max):
        return np.dtype(np.int32)
    return np.dtype(np.float64)


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """zlib on every numeric array; no fill value on coordinates (CF: they have no gaps)."""
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        enc: dict[str, Any] = {}
        if var.ndim and var.dtype.kind in "biuf" and var.size:
            enc.update(COMPRESSION)
        if name in ds.coords and var.dtype.kind in "biuf":
            enc["_FillValue"] = None
        if enc:
            encoding[str(name)] = enc
    return encoding
