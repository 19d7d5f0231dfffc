"""A source reservoir as storage: how many days of supply it holds in a dry season.

EPANET sees the Gangkouwan reservoir as a fixed level (an infinite source). Over weeks its level
falls: :func:`drawdown` runs a daily water balance of the reservoir -- inflow in; the city's draw,
a compensation release downstream and evaporation from its surface out -- with a level-volume
relation, the level never above the flood-limit level (the excess is spilled), and says for each
delivery rate how many days until the minimum level is reached::

    volume[t+1] = volume[t] + (inflow[t] - delivery - release - evaporation(area(level[t]))) x 1 d

Every default below is an assumption (A) until the reservoir's own dispatch rules (调度规程) and
level-area-volume table replace it (a scenario's ``[reservoir]`` table overrides any of them);
the flood-limit level 133.00 m is a fact (F). Sources and reasoning: ``networks/xuancheng/
README.md`` ("The Gangkouwan decision study").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from pydantic import Field, field_validator, model_validator

from hydro.errors import ScenarioError
from hydro.results import build_dataset
from hydro.scenario.schema import Strict

DAY = 86400


class Reservoir(Strict):
    """A reservoir's storage and its dry season (SI: m, m3, m3/s, mm/d)."""

    name: str = "gangkouwan"
    # (A) level-volume relation, m -> m3 (a large multi-purpose reservoir; replace with the
    # reservoir's surveyed table)
    levels: list[float] = [105.0, 110.0, 115.0, 120.0, 125.0, 130.0, 133.0, 135.0]
    volumes: list[float] = [0.4e8, 0.9e8, 1.6e8, 2.5e8, 3.6e8, 5.0e8, 6.0e8, 6.8e8]
    flood_limit: float = 133.0  # (F) m, flood-limit level: above it water is spilled
    minimum_level: float = 120.0  # (A) m, the lowest level the city's intake may draw to
    initial_level: float = 133.0  # (A) m, full at the end of the flood season
    # (A) inflow: a dry-season recession from inflow_start to inflow_base (m3/s) with a time
    # constant of inflow_days, or a list of daily inflows (m3/s) given instead
    inflow_start: float = Field(default=12.0, ge=0)
    inflow_base: float = Field(default=3.0, ge=0)
    inflow_days: float = Field(default=30.0, gt=0)
    inflow: list[float] | None = None
    release: float = Field(default=3.0, ge=0)  # (A) m3/s compensation flow downstream
    evaporation: float = Field(default=1.5, ge=0)  # (A) mm/d from the water surface

    @field_validator("inflow")
    @classmethod
    def _daily(cls, values: list[float] | None) -> list[float] | None:
        if values is not None and (not values or min(values) < 0):
            raise ValueError("inflow: daily values in m3/s, at least one, none negative")
        return values

    @model_validator(mode="after")
    def _relation(self) -> Reservoir:
        lv, vol = np.asarray(self.levels), np.asarray(self.volumes)
        if len(lv) != len(vol) or len(lv) < 2:
            raise ValueError("levels and volumes: as many of each, at least two")
        if (np.diff(lv) <= 0).any() or (np.diff(vol) <= 0).any():
            raise ValueError("levels and volumes must both rise, point after point")
        for what in ("flood_limit", "minimum_level", "initial_level"):
            if not lv[0] <= getattr(self, what) <= lv[-1]:
                raise ValueError(
                    f"{what} {getattr(self, what):g} m is outside the level-volume table "
                    f"({lv[0]:g}-{lv[-1]:g} m)"
                )
        if self.minimum_level >= self.flood_limit:
            raise ValueError("minimum_level must lie below flood_limit")
        return self

    def volume(self, level: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.interp(level, self.levels, self.volumes))

    def level(self, volume: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.interp(volume, self.volumes, self.levels))

    def area(self, level: np.ndarray | float) -> np.ndarray:
        """[m2] water surface: dV/dh of the relation, piecewise."""
        lv, vol = np.asarray(self.levels), np.asarray(self.volumes)
        slopes = np.diff(vol) / np.diff(lv)
        k = np.clip(np.searchsorted(lv, level, side="right") - 1, 0, len(slopes) - 1)
        return slopes[k]

    def inflows(self, days: int) -> np.ndarray:
        """[m3/s] the daily inflow series: the one given (its last value held), else the
        recession."""
        if self.inflow is not None:
            given = np.asarray(self.inflow, dtype=float)
            return np.concatenate([given, np.full(max(days - len(given), 0), given[-1])])[:days]
        t = np.arange(days)
        return self.inflow_base + (self.inflow_start - self.inflow_base) * np.exp(
            -t / self.inflow_days
        )


def drawdown(reservoir: Reservoir, deliveries: Sequence[float], days: int = 120) -> xr.Dataset:
    """Daily levels for each constant delivery rate (m3/s) over ``days``, and the days until
    the minimum level (NaN: not reached). Dims: ``delivery``, ``day``."""
    if days < 1 or days > 3650:
        raise ScenarioError(f"drawdown: days must be from 1 to 3650 (got {days})")
    rates = np.asarray(sorted(deliveries), dtype=float)
    if not len(rates) or (rates < 0).any() or not np.isfinite(rates).all():
        raise ScenarioError("drawdown: give delivery rates in m3/s, none negative")
    inflow = reservoir.inflows(days)
    top = float(reservoir.volume(reservoir.flood_limit))
    level = np.empty((len(rates), days + 1))
    spilled = np.zeros(len(rates))
    for k, rate in enumerate(rates):
        volume = float(reservoir.volume(reservoir.initial_level))
        level[k, 0] = reservoir.initial_level
        for d in range(days):
            evaporation = reservoir.evaporation / 1000 / DAY * reservoir.area(level[k, d])
            out = rate + reservoir.release + evaporation
            volume += (inflow[d] - out) * DAY
            if volume > top:  # above the flood-limit level the water is let go
                spilled[k] += volume - top
                volume = top
            volume = max(volume, float(reservoir.volumes[0]))
            level[k, d + 1] = reservoir.level(volume)
    below = level <= reservoir.minimum_level
    reached = np.where(below.any(axis=1), below.argmax(axis=1).astype(float), np.nan)
    return build_dataset(
        {
            "reservoir_level": level,
            "days_to_minimum_level": reached,
            "reservoir_spill": spilled,
        },
        coords={
            "delivery": ("delivery", rates, {"units": "m3 s-1", "long_name": "delivery rate"}),
            "day": ("day", np.arange(days + 1), {"units": "d", "long_name": "day of the run"}),
            "inflow": (
                "day",
                np.append(inflow, np.nan),
                {"units": "m3 s-1", "long_name": "inflow on the day"},
            ),
        },
        attrs={
            "reservoir": reservoir.name,
            "minimum_level_m": reservoir.minimum_level,
            "flood_limit_m": reservoir.flood_limit,
            "initial_level_m": reservoir.initial_level,
            "release_m3s": reservoir.release,
            "evaporation_mm_per_day": reservoir.evaporation,
            "method": "daily water balance, explicit (hydro.supply.reservoir)",
        },
    )
