"""Scores: verdicts per place from engine time series, for a single run or a whole ensemble.

- :func:`score` -- one call for any run Dataset: waterlogging and pump stations (SWMM), supply
  coverage (EPANET); :func:`score_file` scores a netCDF file and writes netCDF and CSV.
- :func:`score_waterlogging`, :func:`city_summary` -- per node hazard and the city's verdict.
- :func:`score_stations`, :func:`station_service_areas` -- pump-station coverage.
- :func:`score_supply` -- sources, boosters and zones.
- :mod:`hydro.scoring.rules` -- the thresholds, and :func:`load_rules` to read them from TOML.
- :func:`score_tables`, :func:`write_tables` -- the scores as tables and CSV files.
"""

from hydro.scoring.rules import ScoringRules, SupplyRules, WaterloggingRules, load_rules
from hydro.scoring.score import (
    drainage_assets_from_dataset,
    polder_areas,
    score,
    score_file,
    write_scores,
)
from hydro.scoring.stations import PUMP_ON_FLOW, ServiceAreas, score_stations, station_service_areas
from hydro.scoring.supply import Booster, SupplyLayout, inferred_layout, layout_of, score_supply
from hydro.scoring.surface import read_surface_tables
from hydro.scoring.tables import score_tables, write_tables
from hydro.scoring.waterlogging import city_summary, score_waterlogging

__all__ = [
    "PUMP_ON_FLOW",
    "Booster",
    "ScoringRules",
    "ServiceAreas",
    "SupplyLayout",
    "SupplyRules",
    "WaterloggingRules",
    "city_summary",
    "drainage_assets_from_dataset",
    "inferred_layout",
    "layout_of",
    "load_rules",
    "polder_areas",
    "read_surface_tables",
    "score",
    "score_file",
    "score_stations",
    "score_supply",
    "score_tables",
    "score_waterlogging",
    "station_service_areas",
    "write_scores",
    "write_tables",
]
