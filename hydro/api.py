"""The public facade: run any model or scenario, open results files (scoring: hydro.scoring).

Heavy modules (the engines, numba kernels, Dask) are imported inside the functions, so that
``import hydro`` stays fast and the command line starts quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray as xr

Progress = Callable[[float], None]


def run(
    model: str | Path, *, scenario: str = "base", progress: Progress | None = None
) -> xr.Dataset:
    """Run an EPANET or SWMM model (told apart by its sections) to a Dataset in SI units.

    Parameters
    ----------
    model : path of an EPANET or SWMM ``.inp`` file (read-only; nothing is written beside it).
    scenario : the run's label in the ``scenario`` dimension.
    progress : called with the fraction of simulated time done.

    Returns
    -------
    xarray.Dataset with dims ``scenario`` (size 1), ``time`` and the element dims.
    """
    from hydro.inpfile import detect_engine, read_text

    source = read_text(model)
    if detect_engine(source) == "epanet":
        from hydro.supply.run import run as run_epanet

        return run_epanet(source, scenario=scenario, progress=progress)
    from hydro.drainage.swmm.engine import run as run_swmm

    return run_swmm(Path(model), scenario=scenario, progress=progress)


def run_scenario(
    path: str | Path, *, progress: Progress | None = None, allow: Iterable[str | Path] = ()
) -> xr.Dataset:
    """Run a supply or drainage scenario file (told apart by its network) to one Dataset.

    A supply scenario gives the hydraulic results, source shares and answers; a drainage one the
    engine's results with the rain applied (score it with :func:`score`). The files a scenario
    names must lie in its bundle or in a folder of ``allow`` (see :mod:`hydro.paths`).
    """
    from hydro.scenario.loader import read_scenario

    file = read_scenario(path, allow=allow)
    if scenario_kind(file.table, file.path, roots=file.roots) == "supply":
        from hydro.supply.scenario import load_file
        from hydro.supply.scenario import run_scenario as run_supply

        return run_supply(load_file(file), progress=progress)  # the file read once
    from hydro.drainage.scenario import load_scenario as load_drainage
    from hydro.drainage.scenario import run_scenario as run_drainage

    return run_drainage(load_drainage(file.path, allow=allow), progress=progress)


def scenario_kind(table: dict[str, Any], path: Path, *, roots: Sequence[Path] = ()) -> str:
    """'supply' or 'drainage': a scenario's domain, from its keys or else its network's engine
    (read only when it lies inside ``roots``, if given)."""
    from hydro.errors import ScenarioError

    if "rainfall" in table:
        return "drainage"
    if "hydraulics" in table or "answers" in table:
        return "supply"
    network = table.get("network")
    if not isinstance(network, str):
        raise ScenarioError(f"{path}: network: required key is missing")
    from hydro.inpfile import detect_engine, read_text
    from hydro.paths import check_inside

    model = (path.parent / network).resolve()
    if roots:
        check_inside(model, roots, source=path, key="network", error=ScenarioError)
    if model.exists() and not model.is_file():
        kind = "a folder" if model.is_dir() else "not a regular file"
        raise ScenarioError(
            f"{path}: network: {model} is {kind}; expected an EPANET or SWMM .inp file"
        )
    if not model.is_file():
        raise ScenarioError(f"{path}: network: no such file {model}")
    return "supply" if detect_engine(read_text(model)) == "epanet" else "drainage"


def open_results(path: str | Path) -> xr.Dataset:
    """A hydro netCDF result loaded into memory (the file is closed on return)."""
    from hydro.results import read_netcdf

    return read_netcdf(path)
