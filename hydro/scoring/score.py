"""One call scores a whole run or ensemble: waterlogging and pump stations for SWMM results,
supply coverage for EPANET results.

The named assets (pump stations, waterlogging points, polders, zones, boosters, sources) come from
the model's sidecars when the model can be found (``network=``, or the ``network_source`` the run
recorded), and are otherwise inferred from the Dataset itself::

    scores = score(read_netcdf("storm.nc"))
    scores.hazard_rank.sel(scenario="base")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from hydro.drainage.assets import DrainageAssets, PumpStation, WaterloggingPoint
from hydro.errors import InputError
from hydro.paths import check_output, check_output_folder
from hydro.results import read_netcdf, write_netcdf
from hydro.scoring._common import label, scores_results, split_by_network, static
from hydro.scoring.rules import DEFAULT_RULES, ScoringRules
from hydro.scoring.stations import score_stations
from hydro.scoring.supply import (
    SupplyLayout,
    inferred_layout,
    layout_from_results,
    layout_of,
    score_supply,
)
from hydro.scoring.surface import SurfaceTables
from hydro.scoring.tables import write_tables
from hydro.scoring.waterlogging import city_summary, score_waterlogging
from hydro.supply.assets import SupplyAssets
from hydro.variables import get as get_variable


@scores_results
def score(
    ds: xr.Dataset,
    *,
    network: str | Path | None = None,
    rules: ScoringRules = DEFAULT_RULES,
    surface: SurfaceTables | None = None,
    assets: DrainageAssets | SupplyAssets | None = None,
) -> xr.Dataset:
    """Scores of every scenario in ``ds`` (a Dataset of hydro.drainage.run, hydro.supply.run,
    source_shares or an ensemble of them), as one Dataset.

    network : the model's INP, for its named assets. By default a drainage run's own assets, which
        it carries in its ``drainage_assets`` attribute (supply: the run's ``network_source``).
    rules : thresholds (:mod:`hydro.scoring.rules`). surface : surface depth-volume tables for
        drainage nodes that do not pond (:mod:`hydro.scoring.surface`).
    assets : named assets already loaded (overrides ``network``).
    """
    engine = str(ds.attrs.get("engine", ""))
    if engine not in ("SWMM", "EPANET"):
        engine = "SWMM" if "flooding_rate" in ds else "EPANET" if "pressure_head" in ds else ""
    if not engine:
        raise InputError(
            f"{label(ds)}: neither SWMM nor EPANET results (no flooding_rate or "
            "pressure_head); nothing to score"
        )
    main = "flooding_rate" if engine == "SWMM" else "pressure_head"
    dims = get_variable(main).dims
    if main not in ds or ds[main].dims != dims:
        got = ds[main].dims if main in ds else "none"
        raise InputError(
            f"{label(ds)}: {main} has dims {got}; expected {dims} (a result of hydro run)"
        )
    groups = split_by_network(ds)
    if engine == "SWMM":
        parts = [
            _score_drainage(
                g,
                assets if isinstance(assets, DrainageAssets) else _drainage_assets(g, network),
                rules,
                surface,
            )
            for g in groups
        ]
    else:
        layout = (
            layout_of(assets) if isinstance(assets, SupplyAssets) else _supply_layout(ds, network)
        )
        parts = [score_supply(g, layout, rules=rules.supply) for g in groups]
    if len(parts) == 1:
        return parts[0]
    joined = xr.concat(
        parts,
        dim="scenario",
        data_vars="all",
        coords="different",
        compat="equals",
        join="outer",
        combine_attrs="drop_conflicts",
    )
    return joined.sel(scenario=ds["scenario"].values)


def score_file(
    results: str | Path,
    *,
    output: str | Path | None = None,
    csv: str | Path | None = None,
    network: str | Path | None = None,
    rules: ScoringRules = DEFAULT_RULES,
    surface: SurfaceTables | None = None,
) -> xr.Dataset:
    """Score a netCDF file of `hydro run`; write the scores as netCDF (``output``) and as CSV
    tables (one file per table in the folder ``csv``). Returns the scores."""
    inputs = [results, network]
    if output is not None:
        check_output(output, inputs=inputs)
    scores = score(read_netcdf(results), network=network, rules=rules, surface=surface)
    write_scores(scores, output=output, csv=csv, rules=rules, inputs=inputs)
    return scores


def write_scores(
    scores: xr.Dataset,
    *,
    output: str | Path | None = None,
    csv: str | Path | None = None,
    rules: ScoringRules = DEFAULT_RULES,
    inputs: Sequence[str | Path | None] = (),
) -> None:
    """Write scores as netCDF (``output``) and CSV tables (folder ``csv``), each atomically;
    ``inputs`` are files they must never replace."""
    if output is not None:  # fail before writing anything
        check_output(output, inputs=inputs)
    if csv is not None:
        check_output_folder(csv, inputs=[*inputs, output], what="folder for the CSV tables")
        write_tables(scores, csv, rules=rules, inputs=inputs)
    if output is not None:
        write_netcdf(scores, output, inputs=inputs)


# ------------------------------------------------------------------------------------------------
# Drainage


def _score_drainage(
    ds: xr.Dataset, assets: DrainageAssets, rules: ScoringRules, surface: SurfaceTables | None
) -> xr.Dataset:
    rivers = tuple(n for r in assets.rivers for n in r.nodes)
    wl = score_waterlogging(
        ds,
        rules=rules.waterlogging,
        points=assets.waterlogging_points,
        surface=surface,
        rivers=rivers,
    )
    summary = city_summary(wl)
    stations = score_stations(
        ds,
        assets.pump_stations,
        waterlogging=wl,
        polders=polder_areas(assets),
        rule=rules.waterlogging.rule,
    )
    merged = xr.merge(
        [wl, summary, stations], compat="equals", join="exact", combine_attrs="drop_conflicts"
    )
    merged.attrs.update(
        {**wl.attrs, **{k: v for k, v in stations.attrs.items() if k not in wl.attrs}}
    )
    merged.attrs["scores"] = "waterlogging, pump stations"
    merged.attrs["assets"] = _describe(assets)
    return merged


def _drainage_assets(ds: xr.Dataset, network: str | Path | None) -> DrainageAssets:
    """The named assets to score with: the model given, else those the run carries (never read
    again from a path the run recorded: the file may have moved or changed), else inferred
    from the results (and said so in the scores' ``assets`` attribute)."""
    from hydro.drainage.assets import ASSETS_ATTR, assets_from_json, load_drainage_assets

    if network is not None:
        if not Path(network).is_file():
            raise InputError(f"{network}: no such model file")
        return load_drainage_assets(Path(network))
    carried = ds.attrs.get(ASSETS_ATTR)
    if carried is None and ASSETS_ATTR in ds.coords:
        values = {str(v) for v in np.atleast_1d(ds[ASSETS_ATTR].values)}
        carried = values.pop() if len(values) == 1 else None
    if carried:
        return assets_from_json(str(carried))
    return drainage_assets_from_dataset(ds)


def drainage_assets_from_dataset(ds: xr.Dataset) -> DrainageAssets:
    """Assets inferred from a SWMM run Dataset alone (no INP at hand): a station per node pumps
    draw from (capacity unknown), waterlogging points the junctions with a ponded area (all
    junctions when none has one)."""
    groups: dict[str, list[str]] = {}
    if "link_type" in ds.coords:
        for link, kind, a in zip(
            static(ds, "link"), static(ds, "link_type"), static(ds, "from_node"), strict=True
        ):
            if str(kind) == "pump":
                groups.setdefault(str(a), []).append(str(link))
    stations = tuple(PumpStation(well, tuple(pumps), well) for well, pumps in groups.items())
    kinds = static(ds, "node_type").astype(str)
    nodes = static(ds, "node")
    area = (
        np.nan_to_num(static(ds, "ponded_area").astype(np.float64))
        if "ponded_area" in ds.coords
        else np.zeros(nodes.size)
    )
    junction = kinds == "junction"
    chosen = junction & (area > 0) if (junction & (area > 0)).any() else junction
    points = tuple(WaterloggingPoint(str(n), "junction", str(n)) for n in nodes[chosen])
    return DrainageAssets(None, None, stations, (), (), (), points, (), {})


def polder_areas(assets: DrainageAssets) -> dict[str, float]:
    """Declared polder areas [m2] of the sidecar's [polders] table (none without a sidecar)."""
    return {p.name: p.area for p in assets.polders if p.area is not None}


def _describe(assets: DrainageAssets) -> str:
    if assets.sidecar is not None:
        return f"sidecar {Path(assets.sidecar).name}"
    if assets.model is not None:
        return f"inferred from {Path(assets.model).name}"
    return "inferred from the results"


# ------------------------------------------------------------------------------------------------
# Supply


def _supply_layout(ds: xr.Dataset, network: str | Path | None) -> SupplyLayout:
    """The named assets: of the model given, else those the run carries (a scenario's run does),
    else read from the run's network if it is still where it was, else inferred."""
    from hydro.supply.assets import load_assets

    if network is None and (carried := layout_from_results(ds)) is not None:
        return carried
    path = _model_path(ds, network)
    return layout_of(load_assets(path)) if path is not None else inferred_layout(ds)


def _model_path(ds: xr.Dataset, network: str | Path | None) -> Path | None:
    """The INP to read assets from: the one given, else the run's network_source if it exists."""
    if network is not None:
        path = Path(network)
        if not path.is_file():
            raise InputError(f"{path}: no such model file")
        return path
    source = ds.attrs.get("network_source")
    if source and Path(str(source)).is_file():
        return Path(str(source))
    return None
