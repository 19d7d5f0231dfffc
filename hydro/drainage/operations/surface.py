"""Imperviousness of subcatchments (sponge-city programmes), with extra depression storage."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hydro.drainage.assets import DrainageAssets
from hydro.drainage.inp import SwmmInput, si_factors
from hydro.drainage.operations._common import (
    Area,
    DrainageOperation,
    _as_list,
    _float,
    _is_number,
    _nothing_in,
    _num,
    _one_of,
)
from hydro.errors import InputError
from hydro.scenario.schema import Length, check_name, operation

# --- imperviousness (sponge city) ---------------------------------------------------------------


@operation("drainage")
class Imperviousness(DrainageOperation):
    """A new imperviousness for a set of subcatchments (sponge-city measures, development).

    Subcatchments by name, by land use ([TAGS] Subcatch tags, else the largest [COVERAGES]
    share) or by map area (polygon centre, else outlet node). Either ``imperviousness`` (the new
    fraction, 0-1) or ``factor`` (multiplies the present one, capped at 1). ``extra_storage`` (m)
    is added to both depression storages: LID-like retention of the first millimetres.
    """

    type: Literal["imperviousness"] = "imperviousness"
    subcatchments: list[str] | None = Field(default=None, min_length=1)
    land_use: str | list[str] | None = None
    area: Area | None = None
    imperviousness: float | None = Field(default=None, ge=0, le=1)
    factor: float | None = Field(default=None, ge=0, le=100)
    extra_storage: Length = Field(default=0.0, ge=0, le=1, description="m, or '10 mm'")

    @model_validator(mode="after")
    def _check(self):
        _one_of(self, ("subcatchments", "land_use", "area"))
        _one_of(self, ("imperviousness", "factor"))
        return self

    def describe(self) -> str:
        if self.subcatchments is not None:
            where = f"subcatchments {', '.join(self.subcatchments)}"
        elif self.land_use is not None:
            where = f"land use {', '.join(_as_list(self.land_use))}"
        else:
            assert self.area is not None  # one of the three (checked by _check)
            where = f"subcatchments in {self.area.text()}"
        change = (
            f"imperviousness {self.imperviousness:.0%}"
            if self.imperviousness is not None
            else f"imperviousness x {self.factor:g}"
        )
        storage = f", +{self.extra_storage * 1e3:g} mm storage" if self.extra_storage else ""
        return f"{where}: {change}{storage}"

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        rows = {t[0]: t for t in inp.rows("SUBCATCHMENTS")}
        names = self._targets(inp, rows)
        new = {}
        for name in names:
            t = list(rows[name]) + ["0"] * (8 - len(rows[name]))
            t[4] = _num(self._percent(_float(t[4], inp, name)))
            new[name] = t
        inp = inp.replace_rows("SUBCATCHMENTS", new)
        if self.extra_storage > 0:
            inp = self._add_storage(inp, names)
        return inp

    def _percent(self, old: float) -> float:
        """The new %Imperv of a subcatchment whose present one is ``old``."""
        if self.imperviousness is not None:
            return 100.0 * self.imperviousness
        assert self.factor is not None  # one of the two (checked by _check)
        return min(100.0, old * self.factor)

    def _add_storage(self, inp: SwmmInput, names: list[str]) -> SwmmInput:
        depth = self.extra_storage / (si_factors(inp.flow_units).rain * 3600.0)  # mm or in
        areas = {t[0]: t for t in inp.rows("SUBAREAS")}
        new = {}
        for name in names:
            if name not in areas or len(areas[name]) < 5:
                raise InputError(
                    f"{inp.label}: subcatchment {name!r} has no complete [SUBAREAS] "
                    "row to add storage to"
                )
            t = list(areas[name])
            t[3] = _num(_float(t[3], inp, name) + depth)
            t[4] = _num(_float(t[4], inp, name) + depth)
            new[name] = t
        return inp.replace_rows("SUBAREAS", new)

    def _targets(self, inp: SwmmInput, rows: dict[str, list[str]]) -> list[str]:
        if self.subcatchments is not None:
            for name in self.subcatchments:
                check_name("subcatchment", name, rows)
            return list(dict.fromkeys(self.subcatchments))
        if self.land_use is not None:
            uses = land_uses(inp)
            wanted = _as_list(self.land_use)
            for use in wanted:
                check_name("land use", use, set(uses.values()))
            return [n for n in rows if uses.get(n) in wanted]
        assert self.area is not None  # one of the three (checked by _check)
        x, y, names = _subcatchment_points(inp, rows)
        inside = self.area.contains(x, y)
        if not inside.any():
            raise _nothing_in("subcatchments", self.area, x, y)
        return [names[k] for k in np.nonzero(inside)[0]]


def land_uses(inp: SwmmInput) -> dict[str, str]:
    """Subcatchment -> land use: its [TAGS] tag, else its largest [COVERAGES] share."""
    uses = {
        t[1]: t[2] for t in inp.rows("TAGS") if len(t) > 2 and t[0].upper().startswith("SUBCATCH")
    }
    shares: dict[str, tuple[float, str]] = {}
    for t in inp.rows("COVERAGES"):
        for use, pct in zip(t[1::2], t[2::2], strict=False):
            share = float(pct) if _is_number(pct) else 0.0
            if share > shares.get(t[0], (-1.0, ""))[0]:
                shares[t[0]] = (share, use)
    for name, (_, use) in shares.items():
        uses.setdefault(name, use)
    return uses


def _subcatchment_points(inp: SwmmInput, rows: dict[str, list[str]]):
    """Map point of each subcatchment: mean of its polygon vertices, else its outlet node."""
    vertices: dict[str, list[tuple[float, float]]] = {}
    for t in inp.rows("POLYGONS"):
        if len(t) > 2 and _is_number(t[1]) and _is_number(t[2]):
            vertices.setdefault(t[0], []).append((float(t[1]), float(t[2])))
    xy = inp.coordinates()
    names, xs, ys = [], [], []
    for name, t in rows.items():
        if name in vertices:
            px, py = np.mean(vertices[name], axis=0)
        elif len(t) > 2 and t[2] in xy.index:
            px, py = xy.at[t[2], "x"], xy.at[t[2], "y"]
        else:
            continue
        names.append(name)
        xs.append(px)
        ys.append(py)
    return np.array(xs, dtype=float), np.array(ys, dtype=float), names
