"""What the drainage operations share: paths, windows, areas, names and the base class."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from hydro.drainage.assets import DrainageAssets
from hydro.drainage.inp import SwmmInput, format_row
from hydro.errors import InputError, ScenarioError
from hydro.paths import inside
from hydro.scenario.schema import Strict, clock

# Control rules written by hydro win over the model's own (SWMM keeps the highest priority).
RULE_PRIORITY = 1000
RESTORE_PRIORITY = 0


# ------------------------------------------------------------------------------------------------
# Paths written in a scenario: relative to the scenario file (passed as validation context)


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    context = info.context or {}
    folder, roots = context.get("folder"), context.get("roots")
    if not value.is_absolute() and folder is not None:
        value = (Path(folder) / value).resolve()
    if roots is not None and not inside(value, roots):
        raise ValueError(
            "outside the folders this scenario may read "
            f"({' or '.join(map(str, roots[:3]))}); pass --allow-path (API: allow=) to read it"
        )
    return value


ScenarioPath = Annotated[Path, AfterValidator(_resolve_path)]
"""A file named in a scenario: relative paths are taken from the scenario file's folder, and a
scenario read from a file may name only files inside its bundle (:mod:`hydro.paths`)."""


# ------------------------------------------------------------------------------------------------
# Small shared pieces


def _num(value: float) -> str:
    """A number for an INP token: short, exact to 10 significant digits."""
    return f"{value:.10g}"


def _hours(seconds: float) -> str:
    """Elapsed time in decimal hours, as SWMM's rule parser reads it (datetime_strToTime)."""
    return f"{seconds / 3600.0:.6f}"


def _one_of(model: Strict, names: Sequence[str], *, required: bool = True) -> None:
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) > 1:
        raise ValueError(f"give only one of {', '.join(names)} (got {', '.join(given)})")
    if required and not given:
        raise ValueError(f"give one of {', '.join(names)}")


def _token(name: str) -> str:
    """An element name as one INP token (quoted when it holds spaces)."""
    return format_row([name])


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base`` (made a valid INP token), suffixed _2, _3... until no name in ``taken`` has it."""
    taken = {t.upper() for t in taken}
    base = re.sub(r"[^A-Za-z0-9_.\-]", "_", base)
    name, k = base, 1
    while name.upper() in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def _duration_of(inp: SwmmInput) -> float:
    return (inp.end_datetime - inp.start_datetime).total_seconds()


@dataclass(frozen=True)
class Window:
    """A time window in elapsed seconds since the simulation start; ``end`` None = to the end."""

    start: int = 0
    end: int | None = None

    def check(self) -> None:
        """Raise ValueError (for pydantic) unless the window is ordered."""
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({clock(self.end)}) must come after start ({clock(self.start)})")

    @property
    def whole_run(self) -> bool:
        return self.start == 0 and self.end is None

    def check_inside(self, inp: SwmmInput, what: str) -> None:
        total = _duration_of(inp)
        if self.start >= total:
            raise ScenarioError(
                f"{what} starts at {clock(self.start)}, when the simulation has "
                f"already ended ({clock(int(total))}); expected a start before it"
            )

    def premises(self) -> list[str]:
        lines = [f"IF SIMULATION TIME >= {_hours(self.start)}"]
        if self.end is not None:
            lines.append(f"AND SIMULATION TIME < {_hours(self.end)}")
        return lines

    def text(self) -> str:
        end = "the end" if self.end is None else clock(self.end)
        return "the whole run" if self.whole_run else f"{clock(self.start)} to {end}"


class Area(Strict):
    """A part of the map, in the INP's map coordinates: a box or a polygon."""

    box: tuple[float, float, float, float] | None = Field(
        default=None, description="xmin, ymin, xmax, ymax"
    )
    polygon: list[tuple[float, float]] | None = None

    @model_validator(mode="after")
    def _shape(self):
        _one_of(self, ("box", "polygon"))
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise ValueError(
                f"box {list(self.box)} must be [xmin, ymin, xmax, ymax] with "
                "xmin < xmax and ymin < ymax"
            )
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least 3 points [x, y]")
        return self

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean mask of the points inside (even-odd rule for polygons)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        inside = np.zeros(x.shape, dtype=bool)
        pts = self._points()
        for (xa, ya), (xb, yb) in zip(pts, pts[1:] + pts[:1], strict=True):
            crosses = (ya > y) != (yb > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
            inside ^= crosses & (x < x_at)
        return inside

    def text(self) -> str:
        if self.box is not None:
            return "box [" + ", ".join(_num(v) for v in self.box) + "]"
        return f"a polygon of {len(self._points())} points"

    def _points(self) -> list[tuple[float, float]]:
        assert self.polygon is not None  # a box or a polygon (checked by _shape)
        return self.polygon


def _nothing_in(kind: str, area: Area, x: np.ndarray, y: np.ndarray) -> ScenarioError:
    if x.size == 0:
        return ScenarioError(f"{area.text()}: the model has no {kind} with map coordinates")
    return ScenarioError(
        f"{area.text()} holds no {kind}; the model's {kind} lie within x "
        f"{x.min():.1f} to {x.max():.1f}, y {y.min():.1f} to {y.max():.1f}"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _float(token: str, inp: SwmmInput, element: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise InputError(f"{inp.label}: {element}: {token!r} is not a number") from None


# ------------------------------------------------------------------------------------------------
# Operations


class DrainageOperation(Strict):
    """Base of the drainage operations: ``apply`` edits a SwmmInput, ``describe`` says how."""

    if TYPE_CHECKING:
        type: str  # each operation's own Literal tag (the scenario's discriminator)

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError
