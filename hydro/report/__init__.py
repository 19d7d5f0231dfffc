"""Presentation: plots, tables, the HTML report, GIS export and comparisons of results.

Every figure the CLI, the HTML report and the notebooks show is drawn by one function here,
each taking a result Dataset (and an optional matplotlib ``ax``) and returning the Axes:

- maps (:mod:`hydro.report.maps`): :func:`network_map`, :func:`pressure_map`,
  :func:`source_share_map`, :func:`flood_map`;
- time series (:mod:`hydro.report.series`): :func:`hydrograph`, :func:`compliance_over_time`,
  :func:`plant_output`, :func:`station_load`, :func:`rain_hyetograph`;
- :func:`longitudinal_profile` and :func:`profile_path` (:mod:`hydro.report.profile`);
- :func:`pump_operating_points` and :func:`epanet_pump_curves` (:mod:`hydro.report.pumps`);
- :func:`plot_idf`, :func:`plot_hyetograph` (design storms, :mod:`hydro.report.rain`);
- :func:`study_curves`, :func:`main_profile` and :func:`drawdown_curves` (the Gangkouwan
  decision study and the reservoir's drawdown, :mod:`hydro.report.study`).

:func:`write_report` (:mod:`hydro.report.html`) writes the self-contained HTML report,
:func:`export_layers` (:mod:`hydro.report.export`) the GIS layers, :func:`compare`
(:mod:`hydro.report.compare`) says what changed between two runs. Functions are imported on first
use, so that ``import hydro.report`` does not load matplotlib or geopandas.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "network_map": "maps",
    "pressure_map": "maps",
    "source_share_map": "maps",
    "flood_map": "maps",
    "hydrograph": "series",
    "compliance_over_time": "series",
    "plant_output": "series",
    "station_load": "series",
    "rain_hyetograph": "series",
    "longitudinal_profile": "profile",
    "profile_path": "profile",
    "pump_operating_points": "pumps",
    "epanet_pump_curves": "pumps",
    "plot_idf": "rain",
    "plot_hyetograph": "rain",
    "study_curves": "study",
    "main_profile": "study",
    "drawdown_curves": "study",
    "write_report": "html",
    "export_layers": "export",
    "compare": "compare",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"hydro.report.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'hydro.report' has no attribute {name!r}")
