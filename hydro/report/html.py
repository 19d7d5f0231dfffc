"""One self-contained HTML report of a result file or of an ensemble's results folder.

Everything is inside the one file: styles inline, figures as embedded PNG (``data:`` URIs), no
script, font or stylesheet from elsewhere, so that it reads the same offline, attached to an
e-mail or archived. Each scenario gets, in this order: the question, the run's health and
warnings, the answers, then the figures (a network map coloured by the key variable, the time
series at the worst places, the hyetograph, the pump-station load, compliance over time).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydro import __version__
from hydro.errors import InputError
from hydro.report import summary
from hydro.report.style import png_bytes
from hydro.results import atomic_path, dataset_crs, read_netcdf

FIGURE_DPI = 90
ENSEMBLE_DPI = 72  # many scenarios in one file: smaller images


@dataclass
class Section:
    """What the report shows of one scenario."""

    name: str
    question: str
    health: list[tuple[str, str, str]]  # (label, value, 'ok' | 'warn' | 'bad')
    warnings: list[str]
    answers: list[tuple[str, str]]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, PNG)
    notes: list[str] = field(default_factory=list)


def write_report(
    source: str | Path,
    output: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
) -> Path:
    """Write the HTML report of ``source`` (a result .nc, or a folder of them as
    ``hydro ensemble`` writes) to ``output``, atomically. Returns the output path."""
    source, output = Path(source), Path(output)
    if source.is_dir():
        files = result_files(source)
        if not files:
            raise InputError(f"{source}: no hydro result files (*.nc with a time dimension) here")
        title = f"hydro results: {source.resolve().name}"
        overview = _overview_tables(source)
        dpi = ENSEMBLE_DPI
    elif source.is_file():
        files, title, overview, dpi = [source], "", {}, FIGURE_DPI
    else:
        raise InputError(f"{source}: no such file or folder")
    sections = []
    for k, path in enumerate(files):
        ds = read_netcdf(path)
        sections.extend(scenario_sections(ds, dpi=dpi, label=path.name))
        if progress is not None:
            progress((k + 1) / len(files))
    if not title:
        title = f"hydro results: {sections[0].name}" if sections else "hydro results"
    page = render_page(title, sections, overview=overview, source=source)
    with atomic_path(output) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return output


def result_files(folder: Path) -> list[Path]:
    """Result files of an ensemble folder (supply/, drainage/ or the folder itself), not the
    summaries: the files whose Dataset has a time dimension and an engine."""
    found = []
    for path in sorted(folder.rglob("*.nc")):
        try:
            with xr.open_dataset(path, decode_times=False) as ds:
                if "time" in ds.dims and ds.attrs.get("engine"):
                    found.append(path)
        except (OSError, ValueError):
            continue
    return found


# ------------------------------------------------------------------------------------------------
# What a scenario shows


def scenario_sections(ds: xr.Dataset, *, dpi: int = FIGURE_DPI, label: str = "") -> list[Section]:
    """One Section per scenario of a result Dataset."""
    make = _section_maker(ds, label)
    out = []
    for name in ds["scenario"].values:
        out.append(make(ds.sel(scenario=[name]), dpi))
        if label:
            out[-1].notes.append(f"file: {label}")
    return out


def _section_maker(ds: xr.Dataset, label: str) -> Callable[[xr.Dataset, int], Section]:
    """What shows a result of this kind; InputError for a Dataset that is none hydro makes."""
    if "scenario" in ds.dims:
        if ds.attrs.get("engine") == "EPANET" or "pressure_head" in ds:
            return _supply_section
        if is_surface(ds):
            return _surface_section
        if "flooding_rate" in ds:
            return _drainage_section
    raise InputError(
        f"{label or 'the Dataset'}: not a result hydro can report: a supply, drainage or 2-D "
        "surface run's has a scenario dimension and pressure_head, flooding_rate or "
        "max_water_depth"
    )


def is_surface(ds: xr.Dataset) -> bool:
    """A 2-D surface result (hydro.flood): rasters over y and x, not a network."""
    return {"y", "x"} <= set(ds.dims) and "max_water_depth" in ds


def _base_section(ds: xr.Dataset) -> Section:
    name = str(ds["scenario"].values[0])
    crs = dataset_crs(ds)
    where = f"{crs.to_string()} ({crs.name})" if crs is not None else "the model's own (no CRS)"
    return Section(
        name=name,
        question=str(ds.attrs.get("question", "")),
        health=summary.health_rows(ds),
        warnings=summary.warnings_of(ds),
        answers=[],
        notes=[f"map coordinates: {where}"],
    )


def _supply_section(ds: xr.Dataset, dpi: int) -> Section:
    from hydro.report import maps, places, series

    section = _base_section(ds)
    rows = summary.supply_answer_rows(ds) if "zone" in ds.dims else summary.run_summary(ds)
    section.answers = [row for row in rows if row[0] != "question"]  # shown above
    worst = places.worst_supply_nodes(ds)
    head = float(ds.attrs.get("service_head_m", 28.0))
    draw = _drawer(section, dpi)
    draw(
        "Lowest pressure head at every junction over the run",
        maps.pressure_map,
        ds,
        highlight=worst[:3],
    )
    if "source_share" in ds:
        draw("Where each source's water goes", maps.source_share_map, ds)
    if "pressure_compliance" in ds:
        draw("Pressure compliance over time", series.compliance_over_time, ds)
    if worst:
        draw(
            "Pressure head at the worst-served junctions",
            series.hydrograph,
            ds,
            worst,
            "pressure_head",
            threshold=head,
            threshold_label=f"service head {head:g} m",
            title="Pressure head at the worst-served junctions",
        )
        section.tables["Worst-served junctions"] = _worst_supply_table(ds, worst, head)
    if "plant_output" in ds:
        draw("Pump-station load: what each plant sends into the city", series.plant_output, ds)
    _supply_pumps(ds, draw, section)
    return section


def _supply_pumps(ds: xr.Dataset, draw, section: Section) -> None:
    """Operating points of the sources' high-lift pumps, when the model can be read."""
    from hydro.report import pumps

    model = _model_path(ds)
    if model is None:
        section.notes.append("pump curves not shown: the model file the run used is not found")
        return
    from hydro.supply.assets import load_assets

    try:
        assets = load_assets(model)
        curves = pumps.epanet_pump_curves(model)
    except InputError as err:
        section.notes.append(f"pump curves not shown: {err}")
        return
    chosen = [p for s in assets.sources for p in s.high_lift_pumps if p in ds["link"].values]
    if not chosen:
        chosen = [str(p) for p in ds["pump"].values[:4]] if "pump" in ds.coords else []
    if chosen:
        draw(
            "Plant pumps: operating points on their head curves",
            pumps.pump_operating_points,
            ds,
            chosen[:6],
            curves,
        )


def _drainage_section(ds: xr.Dataset, dpi: int) -> Section:
    from hydro.report import maps, places, profile, series

    section = _base_section(ds)
    scores, assets = _drainage_scores(ds, section)
    section.answers = _drainage_answers(ds, scores)
    worst = places.worst_drainage_nodes(ds, scores)
    draw = _drawer(section, dpi)
    draw("Flooding and waterlogging at nodes", maps.flood_map, ds, scores, highlight=worst[:3])
    if "rain_intensity" in ds:
        draw("The rain", series.rain_hyetograph, ds)
    if worst:
        draw(
            "Water depth at the worst places",
            series.hydrograph,
            ds,
            worst,
            "water_depth",
            title="Water depth at the worst places",
        )
        try:
            path = profile.downstream_path(ds, worst[0])
        except ValueError:
            path = []
        if len(path) > 1:
            draw(f"Profile from {worst[0]} downstream", profile.longitudinal_profile, ds, path)
    if assets is not None and assets.pump_stations:
        stations, capacities = places.drainage_stations(assets)
        draw("Pump-station load", series.station_load, ds, stations, capacities=capacities)
    if scores is not None:
        from hydro.scoring.tables import display_tables

        for title, frame in display_tables(scores, top=10).items():
            if not frame.empty and "by scenario" not in title:
                section.tables[title] = frame
    return section


def _surface_section(ds: xr.Dataset, dpi: int) -> Section:
    """The 2-D surface: how deep, how long, how dangerous, when the water came, the budget."""
    from hydro.report import maps

    section = _base_section(ds)
    section.answers = _surface_answers(ds)
    draw = _drawer(section, dpi)
    draw(
        "Largest water depth over the run",
        maps.surface_map,
        ds,
        "max_water_depth",
        title="Largest water depth",
        label="m",
    )
    if "hazard_class" in ds:
        draw(
            "Flood hazard class: the largest rating d(v + 0.5) + DF over the run (FD2320)",
            maps.surface_map,
            ds,
            "hazard_class",
            title="Flood hazard class (FD2320)",
            label="hazard class",
            categories=maps.HAZARD_CLASSES,
        )
    # a map of zeros says less than its absence (the answers give the figure)
    if _any_positive(ds, "waterlogging_duration"):
        draw(
            "How long each cell is waterlogged",
            maps.surface_map,
            ds,
            "waterlogging_duration",
            title="Waterlogged (deeper than the lane depth)",
            label="h",
            scale=1 / 3600,
            cmap="Purples",
        )
    if _any_positive(ds, "max_water_depth") and "time_of_arrival" in ds:
        draw(
            "When the water arrives",
            maps.surface_map,
            ds,
            "time_of_arrival",
            title="Time of arrival",
            label="h after the start",
            scale=1 / 3600,
            cmap="viridis_r",
        )
    budget = _surface_budget(ds)
    if not budget.empty:
        section.tables["Water budget of the surface"] = budget
    return section


def _any_positive(ds: xr.Dataset, name: str) -> bool:
    return name in ds and bool((np.nan_to_num(ds[name].values) > 0).any())


def _surface_answers(ds: xr.Dataset) -> list[tuple[str, str]]:
    from hydro.report.maps import HAZARD_CLASSES

    depth = ds["max_water_depth"].isel(scenario=0)
    deepest = float(depth.max(skipna=True)) if bool(depth.notnull().any()) else 0.0
    where = ""
    if deepest > 0:
        at = depth.where(depth == deepest, drop=True)
        where = f" at x {float(at['x'][0]):.0f}, y {float(at['y'][0]):.0f}"
    rows = [("largest water depth", f"{deepest:.2f} m{where}")]
    cell = float(ds.attrs.get("cell_size_x", 0.0)) * float(ds.attrs.get("cell_size_y", 0.0))
    if "hazard_class" in ds and cell > 0:
        classes = ds["hazard_class"].isel(scenario=0).values
        for code, (name, _) in HAZARD_CLASSES.items():
            area = float((classes == code).sum()) * cell
            if area > 0:
                rows.append((f"area of hazard class {code} ({name})", f"{area / 1e4:.2f} ha"))
    if "waterlogging_duration" in ds:
        longest = float(np.nan_to_num(ds["waterlogging_duration"].values).max(initial=0.0))
        rows.append(("longest waterlogging", f"{longest / 3600:.2f} h"))
    if "rain_volume" in ds:
        rows.append(("rain on the surface", f"{float(ds['rain_volume'].values[0]):,.0f} m³"))
    return rows


def _surface_budget(ds: xr.Dataset) -> pd.DataFrame:
    """The volumes the surface run kept (m3), one row each, with what they mean."""
    rows = [
        (str(name).replace("_", " "), float(var.values[0]), str(var.attrs.get("long_name", "")))
        for name, var in ds.data_vars.items()
        if str(name).endswith("_volume") and var.dims == ("scenario",)
    ]
    return pd.DataFrame(rows, columns=["volume", "m³", "what"])


def _drainage_scores(ds: xr.Dataset, section: Section):
    from hydro.scoring import score
    from hydro.scoring.score import drainage_assets_from_dataset

    try:
        scores = score(ds)
    except InputError as err:
        section.notes.append(f"not scored: {err}")
        return None, None
    model = _model_path(ds)
    assets = None
    if model is not None:
        from hydro.drainage.assets import load_drainage_assets

        try:
            assets = load_drainage_assets(model)
        except InputError as err:
            section.notes.append(f"pump stations not named: {err}")
    if assets is None:
        assets = drainage_assets_from_dataset(ds)
    return scores, assets


def _drainage_answers(ds: xr.Dataset, scores: xr.Dataset | None) -> list[tuple[str, str]]:
    rows = [("rainfall", str(ds.attrs.get("rainfall", "")) or "-")]
    depth = ds.attrs.get("rain_depth")
    if depth is not None:
        rows.append(("rain depth", f"{float(depth) * 1e3:.1f} mm"))
    operations = ds.attrs.get("operations")
    if operations:
        rows += [("operation", line) for line in str(operations).split("\n")]
    if scores is not None:
        one = scores.isel(scenario=0)
        for name, label in (
            ("waterlogged_points", "waterlogging points waterlogged (class ≥ 1)"),
            ("flooded_nodes", "nodes that overflowed"),
        ):
            if name in one:
                rows.append((label, f"{int(one[name]):,}"))
        if "total_flood_volume" in one:
            rows.append(("flood volume", f"{float(one['total_flood_volume']):,.0f} m³"))
    shown = ("nodes flooding", "runoff continuity error", "flow routing continuity error")
    rows += [r for r in summary.run_summary(ds) if r[0] not in shown]  # or in the health
    return rows


def _worst_supply_table(ds: xr.Dataset, nodes: list[str], head: float) -> pd.DataFrame:
    pressure = ds["pressure_head"].isel(scenario=0).sel(node=nodes).values
    hours = ds["time"].values.astype("timedelta64[s]").astype(np.int64)
    step = float(np.median(np.diff(hours))) / 3600 if len(hours) > 1 else 0.0
    return pd.DataFrame(
        {
            "junction": nodes,
            "lowest pressure head": [f"{v:.1f} m" for v in np.nanmin(pressure, axis=0)],
            f"time ≥ {head:g} m": [f"{v:.0%}" for v in np.mean(pressure >= head, axis=0)],
            f"hours below {head:g} m": [f"{v * step:.0f} h" for v in np.sum(pressure < head, 0)],
        }
    )


def _drawer(section: Section, dpi: int):
    """draw(caption, plot, *args): the plot on fresh axes, kept as PNG; a failing plot becomes
    a note instead of costing the whole report."""

    def draw(caption: str, plot, *args, **kwargs):
        from hydro.report.style import new_axes

        size = {"maps": (7.5, 6.2), "pumps": (6.5, 4.5)}.get(plot.__module__.split(".")[-1])
        fig, ax = new_axes(size or (7.5, 3.6))
        try:
            plot(*args, ax=ax, **kwargs)
        except (ValueError, KeyError) as err:
            section.notes.append(f"{caption}: not drawn ({err})")
            return
        section.figures.append((caption, png_bytes(fig, dpi=dpi)))

    return draw


def _model_path(ds: xr.Dataset) -> Path | None:
    source = ds.attrs.get("network_source")
    if source and Path(str(source)).is_file():
        return Path(str(source))
    return None


def _overview_tables(folder: Path) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    answers = next(iter(folder.glob("supply_answers.nc")), None)
    if answers is not None:
        tables["Water supply: answers by scenario"] = summary.supply_table(read_netcdf(answers))
    scores = next(iter(folder.glob("drainage_scores.nc")), None)
    if scores is not None:
        from hydro.scoring.tables import display_tables

        shown = display_tables(read_netcdf(scores))
        tables.update({t: frame for t, frame in shown.items() if "by scenario" in t})
    return tables


# ------------------------------------------------------------------------------------------------
# The page


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 0 1.2em 3em; color: #1b1b1b; line-height: 1.4; }
h1 { border-bottom: 3px solid #1f5fa8; padding-bottom: .2em; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ccc; }
.question { font-size: 1.15em; font-style: italic; margin: .4em 0 1em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #d0d0d0; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f0f3f7; }
td.num { text-align: right; }
.health { display: flex; flex-wrap: wrap; gap: .5em; margin: .6em 0; }
.badge { border-radius: 4px; padding: .3em .7em; font-size: .92em; }
.ok { background: #e3f4e6; border: 1px solid #7bbf88; }
.warn { background: #fff4d6; border: 1px solid #e0b84c; }
.bad { background: #fbe1e1; border: 1px solid #d46a6a; font-weight: bold; }
figure { margin: 1em 0; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { font-size: .9em; color: #555; }
.notes { font-size: .85em; color: #555; }
nav ul { columns: 2; }
details { margin: .5em 0; }
footer { margin-top: 3em; font-size: .8em; color: #666; }
"""

# Marks the page when every embedded image decoded (the tests read it in headless Chromium).
_CHECK = """
window.addEventListener("load", function () {
  var images = document.images, decoded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { decoded++; }
    else { images[i].insertAdjacentText("afterend", "[this figure could not be shown]"); }
  }
  document.body.setAttribute("data-images", decoded + "/" + images.length);
});
"""


def render_page(
    title: str,
    sections: Iterable[Section],
    *,
    overview: dict[str, pd.DataFrame] | None = None,
    source: Path | None = None,
) -> str:
    """The whole page as one HTML string."""
    sections = list(sections)
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_STYLE}</style>",
        f"<script>{_CHECK}</script></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    if len(sections) > 1:
        parts.append("<nav><p>Scenarios:</p><ul>")
        parts += [f'<li><a href="#{_anchor(s.name)}">{e(s.name)}</a></li>' for s in sections]
        parts.append("</ul></nav>")
    for heading, frame in (overview or {}).items():
        parts += [f"<h2>{e(heading)}</h2>", _table(frame)]
    for s in sections:
        parts.append(_render_section(s))
    where = f" from {e(str(source))}" if source is not None else ""
    parts.append(f"<footer>Written by hydro {__version__} on {created}{where}.</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _render_section(s: Section) -> str:
    e = html.escape
    out = [f'<section id="{_anchor(s.name)}">', f"<h2>{e(s.name)}</h2>"]
    if s.question:
        out.append(f'<p class="question">{e(s.question)}</p>')
    out.append('<h3>Health of the run</h3><div class="health">')
    out += [
        f'<span class="badge {level}">{e(label)}: {e(value)}</span>'
        for label, value, level in s.health
    ]
    out.append("</div>")
    if s.warnings:
        serious = "open" if any(level == "bad" for *_, level in s.health) else ""
        out.append(f"<details {serious}><summary>{len(s.warnings)} engine warning(s)</summary><ul>")
        out += [f"<li>{e(w)}</li>" for w in s.warnings]
        out.append("</ul></details>")
    out.append("<h3>Answers</h3><table>")
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in s.answers]
    out.append("</table>")
    for caption, png in s.figures:
        data = base64.b64encode(png).decode("ascii")
        out.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{e(caption)}">'
            f"<figcaption>{e(caption)}</figcaption></figure>"
        )
    for heading, frame in s.tables.items():
        out += [f"<h3>{e(heading)}</h3>", _table(frame)]
    if s.notes:
        out.append('<ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in s.notes) + "</ul>")
    out.append("</section>")
    return "\n".join(out)


def _table(frame: pd.DataFrame) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text, numeric = _cell(value)
            cells.append(f'<td class="num">{e(text)}</td>' if numeric else f"<td>{e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _cell(value) -> tuple[str, bool]:
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not np.isfinite(number):
            return "-", True
        return (f"{number:,.3g}" if abs(number) < 1000 else f"{number:,.0f}"), True
    if isinstance(value, (int, np.integer)):
        return f"{value:,}", True
    return str(value), False


def _anchor(name: str) -> str:
    return "s-" + "".join(c if c.isalnum() else "-" for c in name)
