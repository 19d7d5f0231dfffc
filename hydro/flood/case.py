"""Flood case files: a TOML description of one surface run, validated strictly.

```toml
# Question: how deep does the street get when the culvert overflows?
[surface]
dem = "dem.asc"              # ESRI ASCII grid or GeoTIFF, ground level in metres
manning = 0.03               # Manning's n, a number or a grid file
initial_depth = "h0.asc"     # optional grid of depths [m]; or initial_level = 12.5 (a lake)
duration = "2h"
output_every = "5min"

[rain]                       # a step series: each intensity holds until the next time
series = [[0, "50 mm/h"], ["30min", "10 mm/h"], ["1h", 0]]

[infiltration]               # constant capacity rate, up to a total depth (optional)
rate = "5 mm/h"              # or a grid file of mm/h
capacity = "30 mm"           # or a grid file of mm

[[inflows]]                  # a hydrograph at a point or along a line, linear between points
name = "culvert"
point = [500.0, 120.0]       # or line = [[x1, y1], [x2, y2], ...]
hydrograph = [[0, 0], ["10min", "5 m3/s"], ["40min", 0]]

[boundaries]                 # each side: closed (default), open (free outflow), level
east = { type = "open", slope = 0.001 }
west = { type = "level", level = 11.0 }

[buildings]                  # cells of a mask grid (non-zero) are blocked, or raised by height
mask = "buildings.asc"
height = "10 m"              # omit to block them

[drainage]                   # optional: a SWMM model coupled at its junctions (1D-2D)
model = "drainage.inp"       # or scenario = "p30.toml" (a drainage scenario); node coordinates
                             # in the DEM's CRS; the same duration as [surface]
nodes = ["J1", "J2"]         # default: every junction on a cell that holds water
rain = "subcatchments"       # where the model's storm falls; "surface": on every cell instead
```

Unknown keys are refused; errors name the file, the key and what was expected. Numbers without
units are SI (m, s, m3/s, m/s); rain and infiltration take texts such as "50 mm/h". Relative
paths are taken from the case file's folder.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator

from hydro.scenario.loader import read_toml, validate
from hydro.scenario.schema import Flow, Length, Strict, _duration_text, _quantity

_RATE_UNITS = {
    "m/s": 1.0,
    "mm/h": 1e-3 / 3600,
    "mm/hr": 1e-3 / 3600,
    "mm/min": 1e-3 / 60,
    "mm/d": 1e-3 / 86400,
    "in/h": 0.0254 / 3600,
}
Rate = Annotated[float, BeforeValidator(_quantity(_RATE_UNITS, "m/s", "50 mm/h")), Field(ge=0)]
"""A rain or infiltration intensity in m/s, written as a number or a text like '50 mm/h'."""


def _seconds(value: Any) -> float:
    """Seconds from a number (fractions allowed: surface steps are sub-second) or a text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a duration such as 3600, 42.5, '1h', '30min' or '06:00'")
    seconds = float(value) if not isinstance(value, str) else _duration_text(value.strip().lower())
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite, non-negative time (got {value!r})")
    return seconds


Seconds = Annotated[float, BeforeValidator(_seconds)]
"""A time in seconds: a number (fractions allowed) or a text like '2h', '30min', '1h30min'."""


def _inside(value: Path, info: ValidationInfo) -> Path:
    folder = (info.context or {}).get("folder")
    path = value if value.is_absolute() or folder is None else (Path(folder) / value).resolve()
    if not path.is_file():
        raise ValueError(f"no such file {path}")
    return path


CasePath = Annotated[Path, AfterValidator(_inside)]
"""A file named in a case: relative to the case file's folder, existing."""


def _series(name: str):
    def check(points: list) -> list:
        times = [t for t, _ in points]
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ValueError(f"{name} times must increase strictly")
        return points

    return AfterValidator(check)


class SurfaceSection(Strict):
    dem: CasePath
    manning: Annotated[float, Field(gt=0)] | CasePath
    initial_depth: CasePath | None = None
    initial_level: float | None = None
    duration: Annotated[Seconds, Field(gt=0)]
    output_every: Annotated[Seconds, Field(gt=0)]
    theta: Annotated[float, Field(gt=0, le=1)] = 0.7
    cfl: Annotated[float, Field(gt=0, le=1)] = 0.9
    max_time_step: Annotated[Seconds, Field(gt=0)] = 5
    min_depth: Annotated[Length, Field(gt=0)] = 0.001
    arrival_depth: Annotated[Length, Field(ge=0)] = 0.01
    duration_depth: Annotated[Length, Field(ge=0)] = 0.15

    @model_validator(mode="after")
    def _one_start(self):
        if self.initial_depth is not None and self.initial_level is not None:
            raise ValueError("give initial_depth or initial_level, not both")
        if self.output_every > self.duration:
            raise ValueError("output_every is longer than the duration")
        return self


class RainSection(Strict):
    series: Annotated[list[tuple[Seconds, Rate]], Field(min_length=1), _series("rain")]


class InfiltrationSection(Strict):
    rate: Rate | CasePath
    capacity: Annotated[Length, Field(ge=0)] | CasePath | None = None


class InflowSection(Strict):
    name: str
    point: tuple[float, float] | None = None
    line: Annotated[list[tuple[float, float]], Field(min_length=2)] | None = None
    hydrograph: Annotated[list[tuple[Seconds, Flow]], Field(min_length=2), _series("hydrograph")]

    @model_validator(mode="after")
    def _where(self):
        if (self.point is None) == (self.line is None):
            raise ValueError("give one of point or line")
        if any(q < 0 for _, q in self.hydrograph):
            raise ValueError(
                "hydrograph flows cannot be negative (an abstraction is not an inflow)"
            )
        return self


class Boundary(Strict):
    type: Literal["closed", "open", "level"] = "closed"
    slope: Annotated[float, Field(gt=0)] | None = None
    level: float | None = None

    @model_validator(mode="after")
    def _value(self):
        needs = {"closed": None, "open": "slope", "level": "level"}[self.type]
        for key in ("slope", "level"):
            if key == needs and getattr(self, key) is None:
                raise ValueError(f"a {self.type} boundary needs {key}")
            if key != needs and getattr(self, key) is not None:
                raise ValueError(f"a {self.type} boundary takes no {key}")
        return self


class BoundariesSection(Strict):
    north: Boundary = Boundary()
    south: Boundary = Boundary()
    west: Boundary = Boundary()
    east: Boundary = Boundary()


class BuildingsSection(Strict):
    mask: CasePath
    height: Annotated[Length, Field(gt=0)] | None = None


class DrainageSection(Strict):
    """A SWMM model coupled at its junctions (see hydro.flood.coupling)."""

    model: CasePath | None = None
    scenario: CasePath | None = None
    nodes: list[str] | None = None
    manhole_area: Annotated[float, Field(gt=0)] = 1.167
    orifice_coefficient: Annotated[float, Field(gt=0)] = 0.167
    free_weir_coefficient: Annotated[float, Field(gt=0)] = 0.54
    submerged_weir_coefficient: Annotated[float, Field(gt=0)] = 0.056
    # Where the model's storm falls: on its subcatchments (SWMM's runoff, the default) or on every
    # cell of the surface instead (hydro/flood/direct_rain.py).
    rain: Literal["subcatchments", "surface"] = "subcatchments"

    @model_validator(mode="after")
    def _one_model(self):
        if (self.model is None) == (self.scenario is None):
            raise ValueError("give one of model (an INP) or scenario (a drainage scenario)")
        return self


class FloodCase(Strict):
    surface: SurfaceSection
    rain: RainSection | None = None
    infiltration: InfiltrationSection | None = None
    inflows: list[InflowSection] = []
    boundaries: BoundariesSection = BoundariesSection()
    buildings: BuildingsSection | None = None
    drainage: DrainageSection | None = None

    @model_validator(mode="after")
    def _unique(self):
        names = [f.name for f in self.inflows]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"inflow names must be unique: {', '.join(dup)}")
        if self.drainage is not None and self.drainage.rain == "surface" and self.rain:
            raise ValueError(
                "drainage.rain = 'surface' puts the drainage model's storm on the surface; "
                "drop the [rain] section (the storm would fall twice)"
            )
        return self


def load_case(path: str | Path) -> FloodCase:
    """Read and validate a case file; paths resolved in (and confined to) its folder."""
    path = Path(path)
    table = read_toml(path)
    return validate(FloodCase, table, path, context={"folder": path.parent.resolve()})
