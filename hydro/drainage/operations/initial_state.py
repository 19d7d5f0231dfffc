"""Initial depths of storage units and junctions, or a SWMM hotstart file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hydro.drainage.assets import DrainageAssets
from hydro.drainage.inp import SwmmInput, format_row, si_factors
from hydro.drainage.operations._common import (
    DrainageOperation,
    ScenarioPath,
    _float,
    _num,
    _one_of,
)
from hydro.errors import InputError, ScenarioError, suggest
from hydro.scenario.schema import Length, operation

# --- initial state ------------------------------------------------------------------------------


@operation("drainage")
class InitialState(DrainageOperation):
    """The water in the system at the start: depths (m) at storage units and junctions (a pump
    station's name means its wet well), or a SWMM hotstart file saved by an earlier run."""

    type: Literal["initial_state"] = "initial_state"
    depths: dict[str, Annotated[Length, Field(ge=0, le=1000)]] | None = Field(
        default=None, min_length=1
    )
    hotstart: ScenarioPath | None = None

    @model_validator(mode="after")
    def _check(self):
        _one_of(self, ("depths", "hotstart"))
        return self

    def describe(self) -> str:
        if self.hotstart is not None:
            return f"initial state from hotstart file {self.hotstart.name}"
        assert self.depths is not None  # one of the two (checked by _check)
        return "initial depths: " + ", ".join(f"{k} {v:g} m" for k, v in self.depths.items())

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        if self.hotstart is not None:
            return self._hotstart(inp, self.hotstart)
        assert self.depths is not None  # one of the two (checked by _check)
        f = si_factors(inp.flow_units)
        junctions = {t[0]: t for t in inp.rows("JUNCTIONS")}
        storage = {t[0]: t for t in inp.rows("STORAGE")}
        stations = {s.name: s for s in assets.pump_stations} if assets is not None else {}
        new: dict[str, dict[str, list[str]]] = {"JUNCTIONS": {}, "STORAGE": {}}
        for name, depth in self.depths.items():
            node = name
            if name in stations and name not in junctions and name not in storage:
                node = stations[name].wet_well or ""
                if not node:
                    raise ScenarioError(f"pump station {name!r}: the sidecar names no wet well")
            section = "STORAGE" if node in storage else "JUNCTIONS"
            table = storage if node in storage else junctions
            if node not in table:
                raise ScenarioError(
                    f"unknown storage unit or junction {name!r}: "
                    + suggest(name, [*storage, *stations, *junctions])
                )
            row = list(table[node]) + ["0"] * (4 - len(table[node]))
            full = _float(row[2], inp, node) * f.length
            if depth > full > 0:
                raise ScenarioError(
                    f"initial depth {depth:g} m at {node!r} is more than its "
                    f"full depth ({full:.3f} m)"
                )
            row[3] = _num(depth / f.length)
            new[section][node] = row
        for section, rows in new.items():
            if rows:
                inp = inp.replace_rows(section, rows)
        return inp

    def _hotstart(self, inp: SwmmInput, hotstart: Path) -> SwmmInput:
        if not hotstart.is_file():
            raise InputError(f"{hotstart}: no such hotstart file")
        kept = [
            line
            for line in inp.section("FILES")
            if [t.upper() for t in (line.split(";")[0].split()[:2])] != ["USE", "HOTSTART"]
        ]
        return inp.with_section("FILES", [*kept, format_row(["USE", "HOTSTART", str(hotstart)])])
