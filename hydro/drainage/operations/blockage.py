"""Blocked conduits: silt in the invert, the section above it kept exact where SWMM allows."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hydro.drainage.assets import DrainageAssets
from hydro.drainage.inp import SwmmInput
from hydro.drainage.operations._common import (
    Area,
    DrainageOperation,
    _float,
    _is_number,
    _nothing_in,
    _num,
    _one_of,
)
from hydro.errors import InputError, ScenarioError
from hydro.scenario.schema import check_name, operation

# --- blockage -----------------------------------------------------------------------------------

# Closed shapes whose listed geometry values are lengths: they shrink uniformly.
_SHRINK_GEOMS = {
    "FORCE_MAIN": (0,),
    "EGG": (0,),
    "HORSESHOE": (0,),
    "GOTHIC": (0,),
    "CATENARY": (0,),
    "SEMIELLIPTICAL": (0,),
    "BASKETHANDLE": (0,),
    "SEMICIRCULAR": (0,),
    "CUSTOM": (0,),
    "HORIZ_ELLIPSE": (0, 1),
    "VERT_ELLIPSE": (0, 1),
    "ARCH": (0, 1),
    "PARABOLIC": (0, 1),
    "POWER": (0, 1),
    "RECT_TRIANGULAR": (0, 1, 2),
    "RECT_ROUND": (0, 1, 2),
    "MODBASKETHANDLE": (0, 1, 2),
}
_SILT_SHAPES = (
    "CIRCULAR",
    "FILLED_CIRCULAR",
    "RECT_CLOSED",
    "RECT_OPEN",
    "TRAPEZOIDAL",
    "TRIANGULAR",
)


def circle_fill_area(diameter: float, fill: float) -> float:
    """Area of a circle of ``diameter`` below a chord at height ``fill`` (a circular segment):
    r²/2·(θ - sin θ), with the central angle θ = 4·asin(sqrt(s/D)) (= 2·acos(1 - s/r), written
    so that a thin fill does not lose its area to round-off)."""
    r = diameter / 2.0
    s = min(max(fill, 0.0), diameter)
    theta = 4.0 * math.asin(math.sqrt(s / diameter))
    return 0.5 * r * r * (theta - math.sin(theta))


def circle_fill_depth(diameter: float, area: float) -> float:
    """Fill height whose circular segment has ``area`` (bisection; monotonic in the height)."""
    lo, hi = 0.0, diameter
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if circle_fill_area(diameter, mid) < area:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def silted_section(
    shape: str, geoms: list[float], fraction: float
) -> tuple[str, list[float], float]:
    """The open section left when silt takes ``fraction`` of a section's area.

    Returns (shape, geom1..geom4, fill depth to add to both offsets). Circular sections become
    FILLED_CIRCULAR (SWMM holds the fill inside the section, offsets unchanged); rectangles,
    trapezoids and triangles become the section above the fill, raised by it; other closed
    shapes shrink uniformly (lengths x sqrt(1 - fraction), offsets unchanged).
    """
    g = list(geoms) + [0.0] * (4 - len(geoms))
    keep = 1.0 - fraction
    if shape == "CIRCULAR":
        d = g[0]
        fill = circle_fill_depth(d, fraction * math.pi * d * d / 4.0)
        return "FILLED_CIRCULAR", [d, fill, 0.0, 0.0], 0.0
    if shape == "FILLED_CIRCULAR":
        d, s0 = g[0], g[1]
        silt = circle_fill_area(d, s0)
        open_area = math.pi * d * d / 4.0 - silt
        return (
            "FILLED_CIRCULAR",
            [d, circle_fill_depth(d, silt + fraction * open_area), g[2], g[3]],
            0.0,
        )
    if shape in ("RECT_CLOSED", "RECT_OPEN"):
        fill = fraction * g[0]
        return shape, [g[0] - fill, g[1], g[2], g[3]], fill
    if shape == "TRAPEZOIDAL":
        h, b, z1, z2 = g
        m = 0.5 * (z1 + z2)
        target = fraction * (b * h + m * h * h)
        fill = target / b if m == 0 else (-b + math.sqrt(b * b + 4 * m * target)) / (2 * m)
        return shape, [h - fill, b + 2 * m * fill, z1, z2], fill
    if shape == "TRIANGULAR":
        h, w = g[0], g[1]
        fill = h * math.sqrt(fraction)
        z = w / (2.0 * h)
        return "TRAPEZOIDAL", [h - fill, w * fill / h, z, z], fill
    if shape in _SHRINK_GEOMS:
        scale = math.sqrt(keep)
        return shape, [v * scale if k in _SHRINK_GEOMS[shape] else v for k, v in enumerate(g)], 0.0
    raise ScenarioError(
        f"cannot block a {shape} section; blockage handles "
        f"{', '.join(_SILT_SHAPES)} and the closed shapes "
        f"{', '.join(sorted(_SHRINK_GEOMS))}"
    )


@operation("drainage")
class Blockage(DrainageOperation):
    """Conduits partly blocked by silt: ``fraction`` of each cross-section's area lost.

    Conduits by name (``conduits``) or every conduit whose midpoint lies in ``area``.
    """

    type: Literal["blockage"] = "blockage"
    conduits: list[str] | None = Field(default=None, min_length=1)
    area: Area | None = None
    fraction: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _check(self):
        _one_of(self, ("conduits", "area"))
        return self

    def describe(self) -> str:
        if self.conduits is not None:
            where = f"conduits {', '.join(self.conduits)}"
        else:
            assert self.area is not None  # one of the two (checked by _check)
            where = f"conduits in {self.area.text()}"
        return f"blockage of {where}: {self.fraction:.0%} of the section lost"

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        conduits = {t[0]: t for t in inp.rows("CONDUITS")}
        names = self._targets(inp, conduits)
        xsects = {t[0]: t for t in inp.rows("XSECTIONS")}
        xs_rows, cd_rows = {}, {}
        inverts = _node_inverts(inp)
        by_elevation = inp.options.get("LINK_OFFSETS", "DEPTH").upper().startswith("ELEV")
        for name in names:
            if name not in xsects:
                raise InputError(f"{inp.label}: conduit {name!r} has no [XSECTIONS] row")
            tokens = xsects[name]
            shape = tokens[1].upper() if len(tokens) > 1 else ""
            if shape in ("IRREGULAR", "STREET"):
                raise ScenarioError(
                    f"conduit {name!r} has an {shape} section, which blockage "
                    f"cannot edit; it handles {', '.join(_SILT_SHAPES)} and "
                    "closed shapes"
                )
            n_geom = 1 if shape == "CUSTOM" else 4
            geoms = [_float(v, inp, name) for v in tokens[2 : 2 + n_geom]]
            new_shape, new_geoms, fill = silted_section(shape, geoms, self.fraction)
            rest = tokens[2 + n_geom :]
            xs_rows[name] = [name, new_shape, *(_num(v) for v in new_geoms[:n_geom]), *rest]
            if fill > 0:
                cd_rows[name] = _raise_offsets(conduits[name], fill, by_elevation, inverts, inp)
        inp = inp.replace_rows("XSECTIONS", xs_rows)
        return inp.replace_rows("CONDUITS", cd_rows) if cd_rows else inp

    def _targets(self, inp: SwmmInput, conduits: dict[str, list[str]]) -> list[str]:
        if self.conduits is not None:
            for name in self.conduits:
                check_name("conduit", name, conduits)
            return list(dict.fromkeys(self.conduits))
        xy = inp.coordinates()
        ends = [
            (n, t[1], t[2]) for n, t in conduits.items() if t[1] in xy.index and t[2] in xy.index
        ]
        if not ends:
            return self._none_found(np.array([]), np.array([]))
        x = np.array([(xy.at[a, "x"] + xy.at[b, "x"]) / 2 for _, a, b in ends])
        y = np.array([(xy.at[a, "y"] + xy.at[b, "y"]) / 2 for _, a, b in ends])
        assert self.area is not None  # one of the two (checked by _check)
        inside = self.area.contains(x, y)
        if not inside.any():
            return self._none_found(x, y)
        return [ends[k][0] for k in np.nonzero(inside)[0]]

    def _none_found(self, x, y):
        assert self.area is not None  # one of the two (checked by _check)
        raise _nothing_in("conduits", self.area, x, y)


def _node_inverts(inp: SwmmInput) -> dict[str, float]:
    inverts = {}
    for section in ("JUNCTIONS", "OUTFALLS", "DIVIDERS", "STORAGE"):
        for t in inp.rows(section):
            if len(t) > 1 and _is_number(t[1]):
                inverts[t[0]] = float(t[1])
    return inverts


def _raise_offsets(
    tokens: list[str], fill: float, by_elevation: bool, inverts: dict[str, float], inp: SwmmInput
) -> list[str]:
    """A [CONDUITS] row with both offsets raised by ``fill`` (model units)."""
    row = list(tokens) + ["0"] * (7 - len(tokens))
    for k, node in ((5, row[1]), (6, row[2])):
        if row[k] == "*":  # elevation offsets: '*' means the node's invert
            row[k] = _num(inverts.get(node, 0.0) + fill)
        else:
            row[k] = _num(_float(row[k], inp, row[0]) + fill)
    return row
