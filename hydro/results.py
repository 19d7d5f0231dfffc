"""Result Datasets: built once from registered variables, stamped with provenance, written atomically.

Every engine adapter and score builder goes through :func:`build_dataset`, so all Datasets share one
shape of metadata: each variable carries ``units`` and ``long_name`` from :mod:`hydro.variables`, and
the global attrs say which hydro, which engine, which network and scenario files (with their SHA-256)
made the numbers and when.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from hydro import __version__
from hydro.errors import InputError
from hydro.scenario.loader import ScenarioFile
from hydro.variables import get as get_variable


def build_dataset(
    data: Mapping[str, np.ndarray],
    *,
    coords: Mapping[str, Any],
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """One Dataset from arrays named after registered variables.

    ``data`` maps a registered name to an array whose shape follows the variable's registered
    dims; ``coords`` is passed to xarray as is (index coordinates and per-element properties such
    as ``node_type`` or ``elevation``). Arrays are cast to the registered dtype.
    """
    data_vars = {}
    for name, values in data.items():
        var = get_variable(name)
        values = np.asarray(values)
        if values.ndim != len(var.dims):
            raise ValueError(
                f"{name}: expected dims {var.dims}, got an array of shape {values.shape}"
            )
        data_vars[name] = (var.dims, values.astype(var.dtype, copy=False), var.attrs())
    ds = xr.Dataset(data_vars, coords=dict(coords))
    ds.attrs.update({"Conventions": "CF-1.8"})
    if attrs:
        ds.attrs.update(clean_attrs(attrs))
    return ds


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
    network: str | Path,
    scenario: str | Path | ScenarioFile | None = None,
) -> dict[str, str]:
    """Global attrs that say what produced a Dataset (a read scenario file keeps its hash)."""
    attrs = {
        "hydro_version": __version__,
        "engine": engine,
        "engine_version": engine_version,
        "network_file": Path(network).name,
        "network_sha256": file_sha256(network),
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
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that becomes ``path`` only if the block succeeds.

    Nothing half-written is ever left under the final name: on any error the temporary file is
    removed and the previous file (if any) stays as it was.
    """
    path = Path(path)
    if not path.parent.exists():
        raise InputError(f"{path}: cannot write here, folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a result file is an ordinary file
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` atomically (temporary name, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    return path


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Load a hydro netCDF file fully into memory (the file is closed on return)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable netCDF file ({err})") from None
