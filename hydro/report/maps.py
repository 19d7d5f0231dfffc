"""Network maps: links as lines, nodes coloured by a value, in the model's map coordinates.

Geometry comes from the results themselves: nodes at their ``x``/``y`` coordinates, links as
straight lines between their end nodes (``from_node``, ``to_node``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from hydro.report.style import axes_or_new
from hydro.results import dataset_crs

MAP_SIZE = (7.5, 6.5)


def node_xy(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Node coordinates (1-D, in the model's map units); a ValueError when the run has none."""
    if "x" not in ds.coords or "y" not in ds.coords:
        raise ValueError("the results carry no node coordinates (x, y): nothing to map")
    return _one_network(ds["x"]), _one_network(ds["y"])


def link_segments(ds: xr.Dataset) -> np.ndarray:
    """(link, 2, 2) start and end points of every link, NaN where an end node has no position."""
    x, y = node_xy(ds)
    index = {str(n): i for i, n in enumerate(ds["node"].values)}
    ends = []
    for column in ("from_node", "to_node"):
        at = np.array([index.get(str(n), -1) for n in _one_network(ds[column])])
        points = np.column_stack([x[at], y[at]])
        points[at < 0] = np.nan
        ends.append(points)
    return np.stack(ends, axis=1)


def network_map(
    ds: xr.Dataset,
    node_values: np.ndarray | None = None,
    *,
    ax=None,
    title: str = "",
    label: str = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    categories: Mapping[int, tuple[str, str]] | None = None,
    sizes: np.ndarray | None = None,
    highlight: Sequence[str] = (),
    link_values: np.ndarray | None = None,
    link_label: str = "",
    whole: bool = False,
):
    """Links in grey (or coloured by ``link_values``), nodes coloured by ``node_values``.

    node_values : one value per node (NaN: drawn as a small grey dot), or None for the network
        alone. categories : {value: (label, colour)} draws the values as classes with a legend
        instead of a colour bar. sizes : marker areas (points²) per node. highlight : node names
        to ring and label. whole : frame every node; by default the frame holds the densest
        98 % of them (the city), so that a few far intakes do not shrink it. Returns the Axes.
    """
    from matplotlib.collections import LineCollection

    ax = axes_or_new(ax, MAP_SIZE)
    x, y = node_xy(ds)
    segments = link_segments(ds)
    lines = LineCollection(list(segments), colors="0.7", linewidths=0.6, zorder=1)
    if link_values is not None:
        lines.set_array(np.ma.masked_invalid(np.asarray(link_values, dtype=float)))
        lines.set_cmap("plasma")
        lines.set_linewidth(1.2)
        ax.figure.colorbar(lines, ax=ax, label=link_label, shrink=0.8)
    ax.add_collection(lines)
    if node_values is not None:
        values = np.asarray(node_values, dtype=float)
        known = np.isfinite(values)
        ax.scatter(x[~known], y[~known], s=2, c="0.6", zorder=2, linewidths=0)
        area = np.full(len(x), 8.0) if sizes is None else np.asarray(sizes, dtype=float)
        order = np.argsort(values[known], kind="stable")  # the highest values drawn on top
        xs, ys, vs, ss = (a[known][order] for a in (x, y, values, area))
        if categories:
            drawn = False
            for value, (name, colour) in categories.items():
                pick = vs == value
                if pick.any():
                    ax.scatter(xs[pick], ys[pick], s=ss[pick], c=colour, label=name, zorder=3)
                    drawn = True
            if drawn:
                ax.legend(title=label or None, loc="best", fontsize="small", markerscale=1.5)
            else:
                ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", size=14)
        else:
            points = ax.scatter(
                xs, ys, s=ss, c=vs, cmap=cmap, vmin=vmin, vmax=vmax, zorder=3, linewidths=0
            )
            ax.figure.colorbar(points, ax=ax, label=label, shrink=0.8)
    _highlight(ax, ds, x, y, highlight)
    ax.set_aspect("equal")
    _frame(ax, x, y, whole)
    _map_labels(ax, ds)
    ax.set_title(title)
    return ax


def pressure_map(ds: xr.Dataset, *, service_head: float | None = None, ax=None, highlight=()):
    """Lowest pressure head over the run at every junction (m); the service head at mid-scale."""
    head = node_minimum(ds, "pressure_head", junctions_only=True)
    service = _service_head(ds) if service_head is None else service_head
    return network_map(
        ds,
        head,
        ax=ax,
        title=f"Lowest pressure head over the run (service head {service:g} m)",
        label="lowest pressure head (m)",
        cmap="RdYlBu",
        vmin=0.0,
        vmax=2 * service,
        highlight=highlight,
    )


def source_share_map(ds: xr.Dataset, source: str | None = None, *, ax=None, last_hours=24.0):
    """Where each source's water goes: the main source of every node over the last
    ``last_hours`` (or the share of one ``source``, 0-100 %)."""
    share = ds["source_share"].isel(scenario=0)
    seconds = share["time"].values.astype("timedelta64[s]").astype(np.int64)
    window = seconds >= seconds[-1] - last_hours * 3600
    mean = np.nanmean(share.values[window], axis=0)  # (node, source)
    sources = [str(s) for s in share["source"].values]
    span = f"mean of the last {last_hours:g} h" if seconds[-1] > last_hours * 3600 else "run mean"
    if source is not None:
        if source not in sources:
            raise ValueError(f"no source {source!r} in the results; they have {sources}")
        return network_map(
            ds,
            100 * mean[:, sources.index(source)],
            ax=ax,
            title=f"Share of water from {source} ({span})",
            label=f"water from {source} (%)",
            cmap="Blues",
            vmin=0,
            vmax=100,
        )
    main = np.where(np.isfinite(mean).any(axis=1), np.nanargmax(np.nan_to_num(mean, nan=-1), 1), -1)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    categories = {k: (name, colours[k % len(colours)]) for k, name in enumerate(sources)}
    return network_map(
        ds,
        np.where(main >= 0, main, np.nan),
        ax=ax,
        title=f"Main source of the water at each node ({span})",
        label="main source",
        categories=categories,
    )


def flood_map(
    ds: xr.Dataset,
    scores: xr.Dataset | None = None,
    *,
    ax=None,
    highlight=(),
    vmax: float | None = None,
):
    """Flooding at every node: the hazard class when scores are given and a node reaches
    class 1, else the largest ponded volume (or the flood volume); marker area grows with the
    flood volume. vmax : top of the colour scale (the same for maps set side by side)."""
    volume = node_total(ds, "flooding_rate")
    sizes = 6 + 60 * np.sqrt(np.nan_to_num(volume) / max(np.nanmax(volume), 1.0))
    hazard = None
    if scores is not None and "hazard_class" in scores:
        hazard = scores["hazard_class"].isel(scenario=0).reindex(node=ds["node"].values)
    if hazard is not None and (hazard.values > 0).any():
        values = np.where(hazard.values > 0, hazard.values, np.nan)
        classes = {1: ("1 low", "gold"), 2: ("2 moderate", "orange"), 3: ("3 high", "red")}
        classes.update({4: ("4 severe", "darkred")})
        return network_map(
            ds,
            values,
            ax=ax,
            title="Waterlogging hazard class (marker area: flood volume)",
            label="hazard class",
            categories=classes,
            sizes=sizes,
            highlight=highlight,
        )
    ponded = node_maximum(ds, "ponded_volume") if "ponded_volume" in ds else None
    if ponded is not None and np.nanmax(np.nan_to_num(ponded)) > 0:
        values, label = np.where(ponded > 0, ponded, np.nan), "largest ponded volume (m³)"
    else:
        values, label = np.where(volume > 0, volume, np.nan), "flood volume (m³)"
    quiet = " (no node reaches hazard class 1)" if hazard is not None else ""
    return network_map(
        ds,
        values,
        ax=ax,
        title=f"Flooding at nodes{quiet}",
        label=label,
        cmap="YlOrRd",
        vmin=0.0,
        vmax=vmax,
        sizes=sizes,
        highlight=highlight,
    )


def node_minimum(ds: xr.Dataset, name: str, *, junctions_only: bool = False) -> np.ndarray:
    """Lowest value over time of a (scenario, time, node) variable, first scenario; NaN where
    the node is not a junction (``junctions_only``) or never has a value."""
    values = _finite_reduce(ds[name].isel(scenario=0).values, np.nanmin)
    if junctions_only and "node_type" in ds.coords:
        values[_one_network(ds["node_type"]) != "junction"] = np.nan
    return values


def node_maximum(ds: xr.Dataset, name: str) -> np.ndarray:
    return _finite_reduce(ds[name].isel(scenario=0).values, np.nanmax)


def node_total(ds: xr.Dataset, name: str) -> np.ndarray:
    """Time integral (trapezoid over the report steps) of a rate, first scenario."""
    rate = np.nan_to_num(ds[name].isel(scenario=0).values.astype(np.float64))
    seconds = ds["time"].values.astype("timedelta64[s]").astype(np.float64)
    if len(seconds) < 2:
        return np.zeros(rate.shape[-1])
    return np.asarray(np.trapezoid(rate, seconds, axis=0))


def _finite_reduce(values: np.ndarray, reduce) -> np.ndarray:
    out = np.full(values.shape[-1], np.nan)
    seen = np.isfinite(values).any(axis=0)
    out[seen] = reduce(values[:, seen], axis=0)
    return out


def _service_head(ds: xr.Dataset) -> float:
    return float(ds.attrs.get("service_head_m", 28.0))


def _one_network(coord: xr.DataArray) -> np.ndarray:
    """A per-element coordinate as 1-D (an ensemble may carry it per scenario: take the first)."""
    return coord.isel(scenario=0).values if "scenario" in coord.dims else coord.values


def _highlight(ax, ds: xr.Dataset, x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> None:
    index = {str(n): i for i, n in enumerate(ds["node"].values)}
    for name in names:
        i = index.get(str(name))
        if i is None:
            continue
        ax.scatter([x[i]], [y[i]], s=90, facecolors="none", edgecolors="k", zorder=4)
        ax.annotate(str(name), (x[i], y[i]), xytext=(5, 5), textcoords="offset points", size=8)


def _frame(ax, x: np.ndarray, y: np.ndarray, whole: bool) -> None:
    known = np.isfinite(x) & np.isfinite(y)
    if not known.any():
        return
    q = (0.0, 100.0) if whole else (1.0, 99.0)
    (x0, x1), (y0, y1) = np.percentile(x[known], q), np.percentile(y[known], q)
    pad = 0.06 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)


def _map_labels(ax, ds: xr.Dataset) -> None:
    crs = dataset_crs(ds)
    if crs is not None and crs.is_projected:
        ax.set_xlabel(f"easting (m, {crs.to_string()})")
        ax.set_ylabel("northing (m)")
    else:
        ax.set_xlabel("x (map units)")
        ax.set_ylabel("y (map units)")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.tick_params(labelsize=7)


# The 2-D surface (hydro.flood): rasters on the DEM's cell centres

HAZARD_CLASSES = {  # FD2320 classes as hydro.flood.dataset names them
    1: ("low", "#fde68a"),
    2: ("moderate", "#f59e0b"),
    3: ("significant", "#dc2626"),
    4: ("extreme", "#7f1d1d"),
}


def surface_map(
    ds: xr.Dataset,
    name: str,
    *,
    ax=None,
    title: str = "",
    label: str = "",
    scale: float = 1.0,
    cmap: str = "Blues",
    categories: Mapping[int, tuple[str, str]] | None = None,
):
    """One raster of a 2-D surface result (dims y, x; first scenario) over its ground level in
    grey; cells without a value (NaN, or class 0 when ``categories`` are drawn) show the ground.
    ``scale`` multiplies the values (e.g. 1/3600 for hours); ``categories`` {value: (label,
    colour)} draws classes with a legend instead of a colour bar."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    ax = axes_or_new(ax, MAP_SIZE)
    x, y = ds["x"].values, ds["y"].values
    if x.size < 2 or y.size < 2:
        raise ValueError("the surface result has fewer than two cells along x or y")
    dx, dy = abs(x[1] - x[0]), abs(y[1] - y[0])
    extent = (x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2)
    origin = "upper" if y[0] > y[-1] else "lower"
    if "ground_level" in ds:
        ground = _first_scenario(ds["ground_level"])
        ax.imshow(ground, extent=extent, origin=origin, cmap="Greys", alpha=0.45)
    values = _first_scenario(ds[name]).astype(np.float64) * scale
    if categories:
        codes = sorted(categories)
        shown = np.where(np.isin(values, codes), values, np.nan)
        colours = ListedColormap([categories[c][1] for c in codes])
        norm = BoundaryNorm([c - 0.5 for c in codes] + [codes[-1] + 0.5], colours.N)
        ax.imshow(shown, extent=extent, origin=origin, cmap=colours, norm=norm)
        present = [c for c in codes if (values == c).any()]
        patches = [Patch(color=categories[c][1], label=f"{c} {categories[c][0]}") for c in present]
        if patches:
            ax.legend(handles=patches, loc="upper right", fontsize=8, title=label or None)
    else:  # zero (never wet, never waterlogged) shows the ground
        shown = np.where(values > 0, values, np.nan)
        image = ax.imshow(shown, extent=extent, origin=origin, cmap=cmap)
        ax.figure.colorbar(image, ax=ax, shrink=0.8, label=label)
    ax.set_title(title or name.replace("_", " "))
    ax.set_aspect("equal")
    _map_labels(ax, ds)
    return ax


def _first_scenario(var: xr.DataArray) -> np.ndarray:
    return var.isel(scenario=0).values if "scenario" in var.dims else var.values
