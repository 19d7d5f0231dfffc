"""The city's standing study: many scenario files at once, each written in full, summarised together.

An ensemble file lists supply and drainage scenario files (globs, relative to it)::

    # Question: every bundled Xuancheng scenario, with answers and scores.
    supply = ["../supply/*.toml"]
    drainage = ["../drainage/*.toml"]
    workers = 2

:func:`run_plan` runs every scenario in its own worker process, writes each full result to
``<output>/supply/<name>.nc`` or ``<output>/drainage/<name>.nc``, and joins only the small
summaries: the supply answers per zone (``supply_answers.nc``) and the drainage scores per point and
station (``drainage_scores.nc``, plus CSV tables). Full results never travel back to the caller, so
peak memory stays that of one run per worker.
"""

from __future__ import annotations

import functools
import glob
from dataclasses import dataclass
from pathlib import Path

import xarray as xr
from pydantic import Field

from hydro.ensemble.workers import Progress, combine, map_jobs
from hydro.errors import ScenarioError
from hydro.results import write_netcdf
from hydro.scenario.loader import read_toml, validate
from hydro.scenario.schema import Strict

# Dimensions of per-element results: what stays in the per-scenario files, not in the summary.
_ELEMENT_DIMS = {"node", "link", "subcatchment", "gauge"}


class EnsembleSpec(Strict):
    supply: list[str] = []
    drainage: list[str] = []
    workers: int | None = Field(default=None, ge=1)
    address: str | None = None


@dataclass(frozen=True)
class EnsemblePlan:
    supply: list[Path]
    drainage: list[Path]
    workers: int | None
    address: str | None


def load_plan(path: str | Path) -> EnsemblePlan:
    """Read an ensemble file and expand its globs; every pattern must match something."""
    path = Path(path)
    spec = validate(EnsembleSpec, read_toml(path), path)
    found = {kind: _expand(path, kind, getattr(spec, kind)) for kind in ("supply", "drainage")}
    if not found["supply"] and not found["drainage"]:
        raise ScenarioError(f"{path}: lists no supply or drainage scenario files")
    return EnsemblePlan(found["supply"], found["drainage"], spec.workers, spec.address)


def _expand(path: Path, kind: str, patterns: list[str]) -> list[Path]:
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(Path(p) for p in glob.glob(str(path.parent / pattern)))
        if not matches:
            raise ScenarioError(f"{path}: {kind}: {pattern!r} matches no file")
        files += [m.resolve() for m in matches if m.suffix == ".toml"]
    return list(dict.fromkeys(files))


def run_plan(
    study: EnsemblePlan | str | Path,
    output: str | Path,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, xr.Dataset]:
    """Run every scenario of the study; returns {'supply': answers, 'drainage': scores}."""
    study = study if isinstance(study, EnsemblePlan) else load_plan(study)
    output = Path(output)
    for kind in ("supply", "drainage"):
        if getattr(study, kind):
            (output / kind).mkdir(parents=True, exist_ok=True)
    jobs = [functools.partial(_supply_job, p, output / "supply") for p in study.supply] + [
        functools.partial(_drainage_job, p, output / "drainage") for p in study.drainage
    ]
    results = map_jobs(
        jobs, workers=workers or study.workers, address=study.address, progress=progress
    )
    summaries = {}
    if study.supply:
        summaries["supply"] = combine(results[: len(study.supply)])
        write_netcdf(summaries["supply"], output / "supply_answers.nc")
    if study.drainage:
        from hydro.scoring import write_tables

        summaries["drainage"] = combine(results[len(study.supply) :])
        write_netcdf(summaries["drainage"], output / "drainage_scores.nc")
        write_tables(summaries["drainage"], output / "drainage_tables")
    return summaries


def _supply_job(path: Path, folder: Path) -> xr.Dataset:
    """Run one supply scenario in a worker: write it whole, return its answers only."""
    from hydro.supply.scenario import run_scenario

    ds = run_scenario(path)
    write_netcdf(ds, folder / f"{ds['scenario'].values[0]}.nc")
    keep = [v for v in ds.data_vars if not set(ds[v].dims) & _ELEMENT_DIMS]
    return ds[keep]


def _drainage_job(path: Path, folder: Path) -> xr.Dataset:
    """Run one drainage scenario in a worker: write it whole, return its scores."""
    from hydro.drainage.scenario import run_scenario
    from hydro.scoring import score

    ds = run_scenario(path)
    write_netcdf(ds, folder / f"{ds['scenario'].values[0]}.nc")
    return score(ds)
