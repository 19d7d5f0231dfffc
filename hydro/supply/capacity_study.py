"""The planners' core question: how big must the Gangkouwan pipeline be, and what can the city
survive without one or both of its rivers?

:func:`capacity_study` sweeps the raw-water main's diameter (or its flow cap) and the reservoir
level, for each set of river sources out of service, runs every case as a scenario (in parallel
on Dask), and reports per case the flow the pipeline delivers, the pressure compliance and the
unserved demand, averaged over the evaluation window (the last 24 h by default, once clear wells
have drained). :func:`hydro.report.study.study_curves` draws it.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from hydro import __version__
from hydro.ensemble.workers import run_ensemble
from hydro.errors import ScenarioError, suggest
from hydro.results import build_dataset
from hydro.supply.operations import SourceOutage, SourcePipeline
from hydro.supply.scenario import Loaded, load_scenario, resolve, run_scenario

DAY = 86400
# Extra trials with statuses held (EPANET's UNBALANCED CONTINUE) unless the base scenario sets
# them: the study runs the city short of water on purpose, where pumps and valves flip status
# from trial to trial; with the model's 10, a river out left up to 248 steps unbalanced.
STRESSED_TRIALS = 100


def capacity_study(
    base: str | Path | Loaded,
    *,
    source: str = "gangkouwan",
    diameters: Sequence[float] = (),
    flow_caps: Sequence[float] = (),
    levels: Sequence[float] = (),
    outages: Sequence[Sequence[str]] = ((),),
    window: int = DAY,
    workers: int | None = None,
    progress=None,
) -> xr.Dataset:
    """Run every (outage, size, level) case and tabulate its answers.

    ``diameters`` (m) sweep the raw main with no flow cap; or ``flow_caps`` (m3/s) sweep the
    flow-control valve with the main as built. ``levels`` (m) are reservoir water levels (default:
    the model's). ``outages`` lists the river sources out of service for the whole run, e.g.
    ``[[], ["shuiyang"], ["qingyi"], ["shuiyang", "qingyi"]]``.
    """
    loaded = base if isinstance(base, Loaded) else load_scenario(base)
    _check_values("diameters", diameters, 0.01, 10.0, "m")
    _check_values("flow_caps", flow_caps, 1e-6, 100.0, "m3/s")
    _check_values("levels", levels, -500.0, 9000.0, "m")
    if bool(diameters) == bool(flow_caps):
        raise ScenarioError("sweep either diameters or flow caps (one of them, not both)")
    sizes, kind = (list(diameters), "diameter") if diameters else (list(flow_caps), "flow_cap")
    levels = list(levels) or [float("nan")]
    outages = [tuple(o) for o in outages] or [()]
    known = [s.name for s in loaded.assets.sources]
    for names in outages:
        for name in names:
            if name not in known:
                raise ScenarioError(f"unknown source {name!r} in outages; {suggest(name, known)}")
    cases = list(itertools.product(outages, sizes, levels))
    jobs = [
        functools.partial(
            _run_case,
            loaded,
            source,
            kind,
            size,
            level,
            out,
            window,
            _case_name(out, kind, size, level),
        )
        for out, size, level in cases
    ]
    results = run_ensemble(jobs, workers=workers, progress=progress)
    return _table(results, cases, outages, sizes, levels, kind, source, loaded)


def _check_values(name: str, values: Sequence[float], low: float, high: float, units: str) -> None:
    """Every swept value a finite number in its range, before any case runs."""
    for value in values:
        if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
            raise ScenarioError(
                f"{name}: {value!r} {units} is out of range; expected finite numbers from "
                f"{low:g} to {high:g} {units}"
            )


def _case_name(out: tuple[str, ...], kind: str, size: float, level: float) -> str:
    lost = "+".join(out) + " out" if out else "all rivers"
    size_text = f"DN{size * 1000:.0f}" if kind == "diameter" else f"{size * 86400:,.0f} m3/d"
    level_text = "" if np.isnan(level) else f", level {level:g} m"
    return f"{lost}, {size_text}{level_text}"


def _run_case(
    loaded: Loaded,
    source: str,
    kind: str,
    size: float,
    level: float,
    out: tuple[str, ...],
    window: int,
    name: str,
) -> xr.Dataset:
    """One case: the base scenario plus the pipeline settings and the outages (whole run)."""
    pipe = SourcePipeline(
        source=source,
        open=True,
        diameter=size if kind == "diameter" else None,
        flow_cap=size if kind == "flow_cap" else "none",
        reservoir_level=None if np.isnan(level) else level,
    )
    extra = [pipe, *(SourceOutage(source=s) for s in out)]
    hydraulics = loaded.scenario.hydraulics
    trials = STRESSED_TRIALS if hydraulics.extra_trials is None else hydraulics.extra_trials
    scenario = loaded.scenario.model_copy(
        update={
            "name": name,
            "operations": [*loaded.scenario.operations, *extra],
            "answers": loaded.scenario.answers.model_copy(update={"shares": False}),
            "hydraulics": hydraulics.model_copy(
                update={"demand_model": "pda", "extra_trials": trials}
            ),
        }
    )
    ds = run_scenario(resolve(scenario, loaded.file))
    return _summarise(ds, source, window)


def _summarise(ds: xr.Dataset, source: str, window: int) -> xr.Dataset:
    """Reduce one case to a few numbers over the evaluation window (keeps ensembles small)."""
    t = ds["time"].values.astype("timedelta64[s]").astype(np.int64)
    last = t >= max(int(t[-1]) - window, 0)
    city = ds.sel(zone="city")
    values = {
        "delivered": _delivered(ds, source, last),
        "compliance": float(np.nanmean(city["pressure_compliance"].values[0][last])),
        "worst_compliance": float(np.nanmin(city["pressure_compliance"].values[0][last])),
        "unserved": float(city["unserved_fraction"].values[0]),
        "converged": bool(ds.attrs.get("converged", 1)),
    }
    return xr.Dataset(
        {k: ("scenario", [v]) for k, v in values.items()},
        coords={"scenario": ds["scenario"].values},
    )


def _delivered(ds: xr.Dataset, source: str, window: np.ndarray) -> float:
    """[m3/s] mean flow the source's plant sends into the city over the window.

    Its high-lift pumps' flow, not the raw main's: a main larger than the plant needs fills the
    clear well, which EPANET then cuts off and reopens within the hour, so hourly samples of the
    raw main's flow overstate what it brings (they catch it refilling the well).
    """
    if "plant" not in ds.coords or source not in ds["plant"].values:
        return float("nan")
    output = ds["plant_output"].sel(plant=source).values[0][window]
    if np.isnan(output).all():  # a plant without pumps or mains named: the raw main then
        output = ds["raw_main_flow"].sel(plant=source).values[0][window]
    return float(np.nanmean(output))


def _table(results, cases, outages, sizes, levels, kind, source, loaded) -> xr.Dataset:
    """The cases on a grid (outage, size, level); ``size`` is a diameter or a flow cap."""
    shape = (len(outages), len(sizes), len(levels))

    def grid(name: str) -> np.ndarray:
        return np.asarray(results[name].values, dtype=float).reshape(shape)

    data = {
        "study_delivered_flow": grid("delivered"),
        "study_compliance": grid("compliance"),
        "study_worst_compliance": grid("worst_compliance"),
        "study_unserved_fraction": grid("unserved"),
        "study_converged": grid("converged").astype(np.int8),
    }
    size_attrs = (
        {"units": "m", "long_name": "raw-water main diameter"}
        if kind == "diameter"
        else {"units": "m3 s-1", "long_name": "flow cap of the flow-control valve"}
    )
    coords = {
        "outage": ["+".join(o) if o else "none" for o in outages],
        "size": ("size", np.asarray(sizes, dtype=float), size_attrs),
        "level": (
            "level",
            np.asarray(levels, dtype=float),
            {"units": "m", "long_name": "reservoir level (NaN: the model's)"},
        ),
    }
    return build_dataset(
        data,
        coords=coords,
        attrs={
            "source": source,
            "swept": kind,
            "base_scenario": str(loaded.path or ""),
            "hydro_version": __version__,
        },
    )


def study_table(study: xr.Dataset) -> list[dict]:
    """One row per case, in plain units (m3/d, %), for printing or CSV."""
    kind = study.attrs["swept"]
    rows = []
    for out, size, level in itertools.product(
        *(study[d].values for d in ("outage", "size", "level"))
    ):
        case = study.sel(outage=out, size=size, level=level)
        rows.append(
            {
                "rivers out": out,
                kind: f"DN{size * 1000:.0f}" if kind == "diameter" else f"{size * 86400:,.0f} m3/d",
                "level (m)": "model" if np.isnan(level) else f"{level:g}",
                "delivered (m3/d)": f"{float(case['study_delivered_flow']) * 86400:,.0f}",
                "compliance": f"{float(case['study_compliance']):.1%}",
                "worst hour": f"{float(case['study_worst_compliance']):.1%}",
                "unserved": f"{float(case['study_unserved_fraction']):.1%}",
                "converged": "yes" if int(case["study_converged"]) else "NO",
            }
        )
    return rows
