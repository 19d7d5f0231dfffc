"""GIS layers of a result, in the model's CRS, for QGIS and the like (geopandas, shapely, pyproj).

:func:`export_layers` writes, from one scenario of a result Dataset:

- ``nodes`` (points at the nodes' x/y) with their summary results and scores;
- ``links`` (lines from the start node to the end node: the engine adapters carry no link
  vertices, and the bundled models have none) with flow and velocity summaries;
- ``subcatchments`` (SWMM: the outline polygons the run carries, from the model's [POLYGONS];
  points at the outlet node for a subcatchment without one) with rain and runoff;
- ``pump_stations`` (drainage: at the wet well; supply: each source's clear well or reservoir and
  each booster's tank) with their scores;
- ``waterlogging_points`` (drainage) with hazard class, depth and duration.

A GeoPackage holds every layer; a GeoJSON file holds one (``<name>_<layer>.geojson`` each).
Values are SI except where the column name says otherwise (``_m3d``, ``_h``, ``_pct``).
A 2-D surface result (:mod:`hydro.flood`, dims y and x) becomes a GeoTIFF of its summary rasters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydro.errors import InputError
from hydro.results import atomic_path, dataset_crs

VECTOR_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
RASTER_SUFFIXES = (".tif", ".tiff")
# the 2-D surface's summary rasters, one band each
RASTER_BANDS = (
    "max_water_depth",
    "max_velocity",
    "time_of_arrival",
    "waterlogging_duration",
    "max_hazard_rating",
    "hazard_class",
)


def export_layers(
    ds: xr.Dataset,
    output: str | Path,
    *,
    scenario: str | None = None,
    scores: xr.Dataset | None = None,
) -> dict[str, int]:
    """Write the layers of one ``scenario`` (default: the first) to ``output`` (.gpkg,
    .geojson, or .tif for a 2-D surface result). ``scores`` default to :func:`hydro.score`'s.
    Returns {layer: number of features} (bands for a GeoTIFF)."""
    output = Path(output)
    suffix = output.suffix.lower()
    if "y" in ds.dims and "x" in ds.dims:
        if suffix not in RASTER_SUFFIXES:
            raise InputError(f"{output}: a 2-D surface result is written as GeoTIFF (.tif)")
        if "scenario" in ds.dims:  # one scenario's rasters (dims scenario, y, x)
            ds = _one_scenario(ds, scenario).isel(scenario=0)
        return write_rasters(ds, output)
    if suffix not in VECTOR_SUFFIXES:
        raise InputError(
            f"{output}: unknown format {suffix or '(none)'}; expected .gpkg or .geojson"
        )
    layers = network_layers(ds, scenario=scenario, scores=scores)
    return write_vector(layers, output)


def network_layers(
    ds: xr.Dataset, *, scenario: str | None = None, scores: xr.Dataset | None = None
) -> dict:
    """{layer name: GeoDataFrame} of one scenario of a network result (see the module doc)."""
    import geopandas as gpd

    if "x" not in ds.coords or "node" not in ds.dims:
        raise InputError("the results carry no node coordinates (x, y): nothing to map")
    one = _one_scenario(ds, scenario)
    if scores is None:
        from hydro.scoring import score

        try:
            scores = score(one)
        except InputError:
            scores = None
    elif "scenario" in scores.dims:
        scores = scores.sel(scenario=[one["scenario"].values[0]])
    crs = dataset_crs(ds)
    crs = crs.to_wkt() if crs is not None else None
    nodes = _node_frame(one, scores)
    x, y = _static(one, "x"), _static(one, "y")
    layers = {"nodes": gpd.GeoDataFrame(nodes, geometry=gpd.points_from_xy(x, y), crs=crs)}
    layers["links"] = gpd.GeoDataFrame(_link_frame(one), geometry=_link_lines(one), crs=crs)
    if "subcatchment" in one.dims:
        frame, geometry = _subcatchments(one)
        layers["subcatchments"] = gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)
    for name, build in _EXTRA_LAYERS.items():
        built = build(one, scores)
        if built is not None and len(built):
            frame, at = built
            layers[name] = gpd.GeoDataFrame(frame, geometry=_points_at(one, at), crs=crs)
    return layers


def write_vector(layers: dict, output: Path) -> dict[str, int]:
    """Each layer into one GeoPackage, or one GeoJSON file per layer; atomically."""
    driver = VECTOR_SUFFIXES[output.suffix.lower()]
    if driver == "GPKG":
        with atomic_path(output) as tmp:
            _write_layers(layers, tmp, driver)
        return {name: len(frame) for name, frame in layers.items()}
    for name, frame in layers.items():
        path = output.with_name(f"{output.stem}_{name}{output.suffix}")
        with atomic_path(path) as tmp:
            _write_layers({name: frame}, tmp, driver)
    return {name: len(frame) for name, frame in layers.items()}


def _write_layers(layers: dict, tmp: Path, driver: str) -> None:
    """GDAL writes under a name with the format's own suffix, then it becomes ``tmp``."""
    suffixed = tmp.with_name(tmp.name + (".gpkg" if driver == "GPKG" else ".geojson"))
    try:
        for name, frame in layers.items():
            frame.to_file(suffixed, layer=name, driver=driver, engine="pyogrio")
        suffixed.replace(tmp)
    finally:
        suffixed.unlink(missing_ok=True)


def write_rasters(ds: xr.Dataset, output: Path) -> dict[str, int]:
    """The 2-D surface's summary rasters as one GeoTIFF, a band each, named by description."""
    import rasterio
    from rasterio.transform import Affine

    bands = [name for name in RASTER_BANDS if name in ds and ds[name].dims == ("y", "x")]
    if not bands:
        raise InputError(
            "the surface result holds none of the summary rasters " + str(RASTER_BANDS)
        )
    x, y = ds["x"].values, ds["y"].values
    dx, dy = float(x[1] - x[0]), float(y[0] - y[1])
    transform = Affine(dx, 0.0, float(x[0]) - dx / 2, 0.0, -dy, float(y[0]) + dy / 2)
    crs = dataset_crs(ds)
    profile = {
        "driver": "GTiff",
        "height": len(y),
        "width": len(x),
        "count": len(bands),
        "dtype": "float32",
        "crs": crs.to_wkt() if crs is not None else None,
        "transform": transform,
        "nodata": np.nan,
        "compress": "deflate",
    }
    with atomic_path(output) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for k, name in enumerate(bands, start=1):
            dst.write(ds[name].values.astype(np.float32), k)
            units = ds[name].attrs.get("units", "")
            dst.set_band_description(k, f"{name} ({units})" if units else name)
    return dict.fromkeys(bands, 1)


# ------------------------------------------------------------------------------------------------
# Attribute tables


def _node_frame(ds: xr.Dataset, scores: xr.Dataset | None) -> pd.DataFrame:
    frame = pd.DataFrame({"node": _static(ds, "node").astype(str)})
    for name in ("node_type", "elevation", "invert_elevation", "full_depth", "ponded_area"):
        if name in ds.coords:
            frame[name] = _static(ds, name)
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    for name, how, column in (
        ("pressure_head", np.nanmin, "min_pressure_head"),
        ("pressure_head", np.nanmax, "max_pressure_head"),
        ("water_depth", np.nanmax, "max_depth"),
        ("ponded_volume", np.nanmax, "max_ponded_volume"),
        ("water_age", np.nanmax, "max_water_age_h"),
    ):
        if name in ds:
            values = _series(ds, name)
            frame[column] = _reduce(values, how) / (3600 if column.endswith("_h") else 1)
    if "demand" in ds:
        frame["mean_demand_m3d"] = _reduce(_series(ds, "demand"), np.nanmean) * 86400
    if (
        "flooding_rate" in ds
        and len(seconds) > 1
        and (scores is None or "flood_volume" not in scores)
    ):
        rate = np.nan_to_num(_series(ds, "flooding_rate").astype(np.float64))
        frame["flood_volume"] = np.trapezoid(rate, seconds, axis=0)
    if scores is not None:
        for key, var in scores.data_vars.items():
            if var.dims == ("scenario", "node"):
                frame[_column(str(key), var)] = _scaled(var, var.values[0])
        if "main_source" in scores and "source" in scores.coords:
            sources = [str(s) for s in scores["source"].values]
            frame["main_source"] = np.array([*sources, ""], dtype=object)[
                scores["main_source"].values[0]
            ]
            share = scores["mean_source_share"].values[0]  # (node, source)
            for k, source in enumerate(sources):
                frame[f"share_{source}_pct"] = 100 * share[:, k]
        for name in ("point_name", "point_kind"):
            if name in scores.coords:
                frame[name] = scores[name].reindex(node=frame["node"].values).values
    return frame


def _link_frame(ds: xr.Dataset) -> pd.DataFrame:
    frame = pd.DataFrame({"link": _static(ds, "link").astype(str)})
    for name in ("link_type", "from_node", "to_node", "length", "diameter"):
        if name in ds.coords:
            frame[name] = _static(ds, name)
    if "flow" in ds:
        flow = _series(ds, "flow")
        frame["max_abs_flow"] = _reduce(np.abs(flow), np.nanmax)
        frame["mean_flow"] = _reduce(flow, np.nanmean)
    if "velocity" in ds:
        frame["max_velocity"] = _reduce(np.abs(_series(ds, "velocity")), np.nanmax)
    if "capacity_fraction" in ds:
        frame["max_capacity_fraction"] = _reduce(_series(ds, "capacity_fraction"), np.nanmax)
    if "headloss" in ds and "length" in ds.coords:
        length = np.where(_static(ds, "length") > 0, _static(ds, "length"), np.nan)
        frame["max_headloss_m_per_km"] = _reduce(np.abs(_series(ds, "headloss")), np.nanmax) / (
            length / 1000
        )
    for name in ("engine_max_flow", "engine_max_velocity"):
        if name in ds and ds[name].dims == ("scenario", "link"):
            frame[name] = ds[name].values[0]
    return frame


def _subcatchments(ds: xr.Dataset):
    """Polygons from the ``outline`` coordinate (WKT) where the run carries one, else a point at
    the outlet node."""
    import shapely

    frame = pd.DataFrame({"subcatchment": _static(ds, "subcatchment").astype(str)})
    for name in ("area", "imperviousness", "outlet", "rain_gauge"):
        if name in ds.coords:
            frame[name] = _static(ds, name)
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    if "runoff" in ds and len(seconds) > 1:
        runoff = np.nan_to_num(_series(ds, "runoff").astype(np.float64))
        frame["runoff_volume_m3"] = np.trapezoid(runoff, seconds, axis=0)
        frame["peak_runoff"] = runoff.max(axis=0)
    if "rainfall" in ds and len(seconds) > 1:
        rain = np.nan_to_num(_series(ds, "rainfall").astype(np.float64))
        frame["rain_depth_mm"] = np.trapezoid(rain, seconds, axis=0) * 1000
    outline = _static(ds, "outline") if "outline" in ds.coords else np.full(len(frame), "")
    x, y = _node_positions(ds, _static(ds, "outlet") if "outlet" in ds.coords else [])
    geometry = [
        shapely.from_wkt(w) if w else shapely.Point(px, py)
        for w, px, py in zip(outline, x, y, strict=True)
    ]
    frame["geometry_from"] = ["outline" if w else "outlet node" for w in outline]
    return frame, geometry


def _drainage_stations(ds: xr.Dataset, scores: xr.Dataset | None):
    if scores is None or "station" not in scores.dims or "station_wet_well" not in scores.coords:
        return None
    frame = pd.DataFrame({"station": scores["station"].values.astype(str)})
    for name in ("station_name_zh", "station_polder", "station_wet_well"):
        frame[name.removeprefix("station_")] = scores[name].values
    for key, var in scores.data_vars.items():
        if var.dims == ("scenario", "station"):
            name = str(key).removeprefix("station_")
            frame[_column(name, var)] = _scaled(var, var.values[0])
    return frame, scores["station_wet_well"].values.astype(str)


def _supply_stations(ds: xr.Dataset, scores: xr.Dataset | None):
    source = ds.attrs.get("network_source")
    if ds.attrs.get("engine") != "EPANET" or not source or not Path(str(source)).is_file():
        return None
    from hydro.supply.assets import load_assets

    assets = load_assets(Path(str(source)))
    rows: list[dict[str, object]] = []
    at: list[str] = []
    for s in assets.sources:
        rows.append({"station": s.name, "kind": "source plant", "name_zh": s.name_zh})
        at.append(s.clear_well or s.reservoir)
    for b in assets.boosters:
        row: dict[str, object] = {"station": b.name, "kind": "booster", "zone": b.zone or ""}
        if scores is not None and "booster" in scores.dims and b.name in scores["booster"]:
            one = scores.sel(booster=b.name)
            for name in ("booster_served_nodes", "booster_min_pressure_head", "booster_compliance"):
                if name in one:
                    row[_column(name.removeprefix("booster_"), one[name])] = float(
                        _scaled(one[name], one[name].values[0])
                    )
        rows.append(row)
        at.append(b.tank or b.supply_node or "")
    known = set(_static(ds, "node").astype(str))
    keep = [k for k, node in enumerate(at) if node in known]
    return pd.DataFrame([rows[k] for k in keep]), np.array([at[k] for k in keep])


def _waterlogging_points(ds: xr.Dataset, scores: xr.Dataset | None):
    if scores is None or "point_name" not in scores.coords or "hazard_class" not in scores:
        return None
    named = scores["point_name"].values.astype(str) != ""
    if not named.any():
        return None
    nodes = scores["node"].values[named].astype(str)
    frame = pd.DataFrame(
        {
            "node": nodes,
            "name": scores["point_name"].values[named],
            "kind": scores["point_kind"].values[named],
        }
    )
    for name in (
        "hazard_class",
        "hazard_rank",
        "max_ponded_depth",
        "waterlogged_duration",
        "flood_volume",
        "waterlogging_onset",
    ):
        if name in scores:
            var = scores[name]
            frame[_column(name, var)] = _scaled(var, var.values[0][named])
    return frame, nodes


_EXTRA_LAYERS: dict[str, Callable] = {
    "pump_stations": lambda ds, scores: (
        _drainage_stations(ds, scores)
        if ds.attrs.get("engine") == "SWMM"
        else _supply_stations(ds, scores)
    ),
    "waterlogging_points": _waterlogging_points,
}


# ------------------------------------------------------------------------------------------------
# Helpers


def _one_scenario(ds: xr.Dataset, scenario: str | None) -> xr.Dataset:
    names = [str(s) for s in ds["scenario"].values]
    if scenario is None:
        return ds.isel(scenario=[0])
    if scenario not in names:
        from hydro.errors import suggest

        raise InputError(f"no scenario {scenario!r} in the results; {suggest(scenario, names)}")
    return ds.sel(scenario=[scenario])


def _static(ds: xr.Dataset, name: str) -> np.ndarray:
    coord = ds[name]
    return coord.isel(scenario=0).values if "scenario" in coord.dims else coord.values


def _series(ds: xr.Dataset, name: str) -> np.ndarray:
    return ds[name].isel(scenario=0).values


def _reduce(values: np.ndarray, how) -> np.ndarray:
    out = np.full(values.shape[-1], np.nan)
    seen = np.isfinite(values).any(axis=0)
    out[seen] = how(values[:, seen], axis=0)
    return out


def _column(name: str, var: xr.DataArray) -> str:
    """Seconds become hours in the tables people read (``_h``)."""
    return f"{name}_h" if var.attrs.get("units") == "s" else name


def _scaled(var: xr.DataArray, values):
    return np.asarray(values) / 3600 if var.attrs.get("units") == "s" else values


def _node_positions(ds: xr.Dataset, names) -> tuple[np.ndarray, np.ndarray]:
    index = {str(n): i for i, n in enumerate(_static(ds, "node"))}
    x, y = _static(ds, "x"), _static(ds, "y")
    at = np.array([index.get(str(n), -1) for n in names], dtype=np.int64)
    px = np.where(at >= 0, x[at], np.nan) if len(at) else np.array([])
    py = np.where(at >= 0, y[at], np.nan) if len(at) else np.array([])
    return px, py


def _points_at(ds: xr.Dataset, nodes) -> list:
    import shapely

    x, y = _node_positions(ds, nodes)
    return list(shapely.points(x, y))


def _link_lines(ds: xr.Dataset) -> list:
    import shapely

    fx, fy = _node_positions(ds, _static(ds, "from_node"))
    tx, ty = _node_positions(ds, _static(ds, "to_node"))
    coords = np.stack([np.column_stack([fx, fy]), np.column_stack([tx, ty])], axis=1)
    return list(shapely.linestrings(coords))
