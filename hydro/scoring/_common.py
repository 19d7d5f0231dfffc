"""What the score builders share: checking a run Dataset, its time steps, static coordinates,
the scenario coordinates and provenance that every score Dataset carries."""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import numpy as np
import xarray as xr

from hydro import __version__
from hydro.errors import HydroError, InputError
from hydro.kernels import KernelArgumentError, intervals

# Global attrs of a run Dataset that say where its numbers came from; copied onto its scores.
PROVENANCE = (
    "hydro_version",
    "engine",
    "engine_version",
    "network_file",
    "network_sha256",
    "network_source",
    "scenario_file",
    "scenario_sha256",
    "created",
    "title",
    "flow_routing",
    "allow_ponding",
    "report_step",
    "routing_step",
)
# Per-scenario provenance an ensemble keeps as coordinates along `scenario`.
SCENARIO_COORDS = ("scenario_file", "scenario_sha256")


@contextlib.contextmanager
def kernel_errors(where: str = "", kind: type[HydroError] = InputError) -> Iterator[None]:
    """Turn a kernel's argument error into a user error naming ``where`` (a file or Dataset).

    Kernels are pure functions and raise only ValueError (:class:`KernelArgumentError`); only
    here, where the file or the results are known, does it become a message for the user.
    """
    try:
        yield
    except KernelArgumentError as err:
        prefix = f"{where}: " if where else ""
        raise kind(f"{prefix}{err}") from None


P = ParamSpec("P")
R = TypeVar("R")


def scores_results(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a public scoring function whose first argument is the results Dataset: a kernel's
    argument error becomes an InputError naming those results."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        first = args[0] if args else None
        with kernel_errors(label(first) if isinstance(first, xr.Dataset) else ""):
            return function(*args, **kwargs)

    return wrapper


def label(ds: xr.Dataset) -> str:
    """How to name a Dataset in a message: its network file, or 'the Dataset'."""
    name = ds.attrs.get("network_file")
    return f"results of {name}" if name else "the Dataset"


def require(ds: xr.Dataset, names: Iterable[str], what: str) -> None:
    """InputError naming every variable or coordinate ``what`` needs and ``ds`` lacks."""
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise InputError(
            f"{label(ds)}: {what} needs {', '.join(missing)}, which the Dataset "
            "does not hold (was it written by `hydro run`?)"
        )


def time_steps(ds: xr.Dataset) -> np.ndarray:
    """dt [s] of the Dataset's time axis (see :func:`hydro.kernels.intervals`)."""
    if "time" not in ds.dims or ds.sizes["time"] == 0:
        raise InputError(f"{label(ds)}: no time steps to score")
    return intervals(ds["time"])


def values(ds: xr.Dataset, name: str, dims: Sequence[str]) -> np.ndarray:
    """A variable's array in the given dimension order (C-contiguous, no copy when possible)."""
    return np.ascontiguousarray(ds[name].transpose(*dims).values)


def static(ds: xr.Dataset, name: str) -> np.ndarray:
    """A per-element coordinate as a 1-D array.

    An ensemble whose members changed the network carries such coordinates per scenario; the
    score builders take one network at a time (:func:`split_by_network` makes the groups).
    """
    if name not in ds.variables:
        raise InputError(f"{label(ds)}: has no {name}; expected a result of hydro run")
    arr = ds[name]
    if "scenario" in arr.dims:
        if ds.sizes["scenario"] > 1 and not _all_rows_equal(arr):
            raise InputError(
                f"{label(ds)}: {name} differs between scenarios; score the "
                "scenarios of each network separately (hydro.scoring.score does)"
            )
        arr = arr.isel(scenario=0)
    return arr.values


def _all_rows_equal(arr: xr.DataArray) -> bool:
    first = arr.isel(scenario=0)
    return all(first.equals(arr.isel(scenario=k)) for k in range(1, arr.sizes["scenario"]))


def split_by_network(ds: xr.Dataset) -> list[xr.Dataset]:
    """The ensemble as groups of scenarios that share one network (most ensembles: one group).

    A coordinate along an element dimension that also varies along ``scenario`` (a member that
    edited the network) splits the scenarios into groups of identical values, in first-seen order.
    """
    varying = [
        name
        for name, c in ds.coords.items()
        if "scenario" in c.dims and len(c.dims) > 1 and "time" not in c.dims
    ]
    if not varying or ds.sizes.get("scenario", 1) <= 1:
        return [ds]
    keys: dict[bytes, list[int]] = {}
    for k in range(ds.sizes["scenario"]):
        member = ds.isel(scenario=k)
        key = b"".join(_digest(member[name].values) for name in varying)
        keys.setdefault(key, []).append(k)
    return [ds.isel(scenario=idx) for idx in keys.values()]


def _digest(arr: np.ndarray) -> bytes:
    return repr(arr.tolist()).encode("utf-8")


def scenario_coords(ds: xr.Dataset) -> dict[str, Any]:
    """The ``scenario`` coordinate (and per-scenario provenance, the CRS) of a score Dataset."""
    coords: dict[str, Any] = {"scenario": ("scenario", ds["scenario"].values)}
    for name in SCENARIO_COORDS:
        if name in ds.coords and ds[name].dims == ("scenario",):
            coords[name] = ("scenario", ds[name].values)
    if "crs" in ds.coords:  # the model's CRS locates the scores' nodes too
        coords["crs"] = ds["crs"].variable
    return coords


def score_attrs(ds: xr.Dataset, what: str, extra: Mapping[str, Any] | None = None) -> dict:
    """Global attrs of a score Dataset: the run's provenance, and when and by what it was scored."""
    attrs = {key: ds.attrs[key] for key in PROVENANCE if key in ds.attrs}
    if "created" in attrs:
        attrs["results_created"] = attrs.pop("created")
    if "hydro_version" in attrs:
        attrs["results_hydro_version"] = attrs.pop("hydro_version")
    attrs.update(
        {
            "hydro_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "scores": what,
        }
    )
    if extra:
        attrs.update(extra)
    return attrs


def index_of(names: np.ndarray) -> dict[str, int]:
    """Position of each element name (as str) in a coordinate."""
    return {str(n): i for i, n in enumerate(names)}


def object_strings(items: Iterable[Any]) -> np.ndarray:
    """A 1-D object array of str (netCDF variable-length strings)."""
    return np.array([str(i) for i in items], dtype=object)
