"""Rivers: their stage at the outfalls (constant or a series, gates kept) and, for a river the
model carries as a channel, the flow entering it upstream; a channel river then starts the run at
the steady levels of its stage and inflows (:mod:`hydro.drainage.rivers`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hydro.drainage.assets import DrainageAssets, River
from hydro.drainage.inp import SwmmInput, format_row, si_factors
from hydro.drainage.operations._common import (
    DrainageOperation,
    _num,
    _one_of,
    unique_name,
)
from hydro.drainage.rivers import with_steady_rivers
from hydro.errors import ScenarioError, suggest
from hydro.scenario.loader import validate
from hydro.scenario.schema import Duration, Flow, check_name, clock, operation

# --- river stage --------------------------------------------------------------------------------


@operation("drainage")
class RiverStage(DrainageOperation):
    """A river stage (water level, m) at outfalls: constant or a series over elapsed time.

    Outfalls: ``outfalls`` by name, or ``river`` (all outfalls the sidecar puts on it), or neither
    (every outfall). ``stage``: a level in m, or "normal"/"flood" for the river's sidecar stages.
    ``series``: [[elapsed time, level m], ...], held after the last point.
    """

    type: Literal["river_stage"] = "river_stage"
    outfalls: list[str] | None = Field(default=None, min_length=1)
    river: str | None = None
    stage: float | Literal["normal", "flood"] | None = None
    series: list[tuple[Duration, float]] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self):
        _one_of(self, ("outfalls", "river"), required=False)
        _one_of(self, ("stage", "series"))
        if isinstance(self.stage, str) and self.river is None:
            raise ValueError(
                f"stage = {self.stage!r} needs river = '<name>' (the sidecar's "
                "stages are per river)"
            )
        if self.series is not None:
            times = [t for t, _ in self.series]
            if any(b <= a for a, b in itertools.pairwise(times)):
                raise ValueError("series times must increase")
        levels = (
            [self.stage]
            if isinstance(self.stage, float | int)
            else [v for _, v in self.series or ()]
        )
        if any(not math.isfinite(v) for v in levels):
            raise ValueError("stages must be finite levels in m")
        return self

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        table = inp.outfalls()
        names = self._targets(list(table.index), assets)
        written = {t[0]: t for t in inp.rows("OUTFALLS")}
        levels = self._levels(assets)  # m
        f = si_factors(inp.flow_units)
        inverts = table.loc[names, "invert_elevation"].to_numpy(dtype=float) * f.length
        self._check_inverts(names, inverts, min(levels))
        if self.series is None:
            stage_kind, stage_data = "FIXED", _num(levels[0] / f.length)
        else:
            stage_kind = "TIMESERIES"
            taken = [t[0] for t in inp.rows("TIMESERIES")] + [t[0] for t in inp.rows("CURVES")]
            stage_data = unique_name(f"STAGE_{self.river or 'river'}", taken)
            inp = inp.append_rows(
                "TIMESERIES",
                [f";; river stage written by hydro ({self.where()})"]
                + [format_row([stage_data, clock(t), _num(v / f.length)]) for t, v in self.series],
            )
        rows = {}
        for name in names:
            tokens = written[name]
            row = table.loc[name]
            tail = [("YES" if row["gated"] else "NO")] + (
                [row["route_to"]] if row["route_to"] else []
            )
            rows[name] = [name, tokens[1], stage_kind, stage_data, *tail]
        inp = inp.replace_rows("OUTFALLS", rows)
        return with_steady_rivers(inp, assets.rivers) if assets is not None else inp

    def where(self) -> str:
        if self.outfalls is not None:
            return f"outfalls {', '.join(self.outfalls)}"
        return f"river {self.river}" if self.river else "every outfall"

    def describe(self) -> str:
        if self.series is None:
            what = f"{self.stage} stage" if isinstance(self.stage, str) else f"{self.stage:g} m"
        else:
            what = "stage series " + ", ".join(f"{clock(t)} {v:g} m" for t, v in self.series)
        return f"river stage at {self.where()}: {what}"

    def _targets(self, known: list[str], assets: DrainageAssets | None) -> list[str]:
        if self.outfalls is not None:
            for name in self.outfalls:
                check_name("outfall", name, known)
            return list(dict.fromkeys(self.outfalls))
        if self.river is None:
            if not known:
                raise ScenarioError("the model has no outfalls to put a river stage on")
            return known
        river = _river(self.river, assets)
        if river.is_channel and not river.outfalls:
            into = river.nodes[-1]
            raise ScenarioError(
                f"river {river.name!r} is a channel of the model without an outfall of its own: "
                f"its level follows the river it joins at {into!r}; set that river's stage "
                f"(river_stage) and this river's inflow (river_flow) instead"
            )
        missing = [o for o in river.outfalls if o not in known]
        if missing:
            raise ScenarioError(
                f"river {river.name!r}: the sidecar names outfall "
                f"{missing[0]!r}, which the model does not have; "
                f"{suggest(missing[0], known)}"
            )
        if not river.outfalls:
            raise ScenarioError(f"river {river.name!r}: the sidecar lists no outfalls on it")
        return list(river.outfalls)

    def _levels(self, assets: DrainageAssets | None) -> list[float]:
        if self.series is not None:
            return [float(v) for _, v in self.series]
        if isinstance(self.stage, str):
            assert self.river is not None  # a named stage needs a river (checked by _check)
            river = _river(self.river, assets)
            value = river.normal_stage if self.stage == "normal" else river.flood_stage
            if value is None:
                raise ScenarioError(
                    f"river {river.name!r}: the sidecar gives no {self.stage}_stage;"
                    " write the stage in m instead"
                )
            return [value]
        assert self.stage is not None  # stage or series (checked by _check)
        return [float(self.stage)]

    def _check_inverts(self, names: list[str], inverts: np.ndarray, lowest: float) -> None:
        """A stage below an outfall's invert is a depth mistaken for a level. Outfalls named one
        by one must all sit below the stage; outfalls taken by river (or all of them) may stand
        higher up the bank (they then discharge freely), but not all of them."""
        below = inverts > lowest
        if self.outfalls is not None and np.any(below):
            k = int(np.argmax(below))
            raise ScenarioError(
                f"river stage {lowest:g} m is below the invert of outfall "
                f"{names[k]!r} ({inverts[k]:.3f} m); a stage is a water level "
                "(elevation in m), not a depth"
            )
        if self.outfalls is None and np.all(below):
            raise ScenarioError(
                f"river stage {lowest:g} m is below the invert of every outfall "
                f"of {self.where()} (lowest {inverts.min():.3f} m); a stage is a "
                "water level (elevation in m), not a depth"
            )


def _river(name: str, assets: DrainageAssets | None) -> River:
    if assets is None or not assets.rivers:
        raise ScenarioError(
            f"river {name!r}: this model has no sidecar naming its rivers; "
            "name the outfalls instead (outfalls = [...])"
        )
    check_name("river", name, [r.name for r in assets.rivers])
    return assets.river(name)


@operation("drainage")
class RiverFlow(DrainageOperation):
    """The flow (m3/s) entering a channel river at its upstream end: constant or a series.

    ``flow``: m3/s (or "460 m3/s"), or "normal"/"flood" for the river's sidecar flows.
    ``series``: [[elapsed time, m3/s], ...], held after the last point.
    """

    type: Literal["river_flow"] = "river_flow"
    river: str
    flow: Flow | Literal["normal", "flood"] | None = None
    series: list[tuple[Duration, Flow]] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self):
        _one_of(self, ("flow", "series"))
        if self.series is not None:
            times = [t for t, _ in self.series]
            if any(b <= a for a, b in itertools.pairwise(times)):
                raise ValueError("series times must increase")
        flows = (
            [self.flow] if isinstance(self.flow, float | int) else [v for _, v in self.series or ()]
        )
        if any(not math.isfinite(v) or v < 0 for v in flows):
            raise ValueError("flows must be finite and >= 0 m3/s")
        return self

    def describe(self) -> str:
        if self.series is not None:
            what = "series " + ", ".join(f"{clock(t)} {v:g} m3/s" for t, v in self.series)
        else:
            what = f"{self.flow} flow" if isinstance(self.flow, str) else f"{self.flow:g} m3/s"
        return f"river inflow of {self.river}: {what}"

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        river = _river(self.river, assets)
        assert assets is not None  # _river refuses a model without them
        if not river.is_channel or river.inflow_node is None:
            raise ScenarioError(
                f"river {river.name!r} is not a channel of the model (its sidecar "
                "lists no nodes and inflow_node); set its stage with river_stage"
            )
        to_model = 1.0 / si_factors(inp.flow_units).flow
        kept = [
            t
            for t in inp.rows("INFLOWS")
            if not (t[0] == river.inflow_node and len(t) > 1 and t[1].upper() == "FLOW")
        ]
        if self.series is None:
            assert self.flow is not None  # flow or series (checked by _check)
            value = self._named_flow(river) if isinstance(self.flow, str) else float(self.flow)
            new = [river.inflow_node, "FLOW", "", "FLOW", "1.0", "1.0", _num(value * to_model)]
        else:
            taken = [t[0] for t in inp.rows("TIMESERIES")] + [t[0] for t in inp.rows("CURVES")]
            name = unique_name(f"INFLOW_{river.name}", taken)
            inp = inp.append_rows(
                "TIMESERIES",
                [f";; river inflow written by hydro ({river.name})"]
                + [format_row([name, clock(t), _num(v * to_model)]) for t, v in self.series],
            )
            new = [river.inflow_node, "FLOW", name, "FLOW", "1.0", "1.0", "0"]
        inp = inp.with_section("INFLOWS", [format_row(t) for t in kept] + [format_row(new), ""])
        return with_steady_rivers(inp, assets.rivers)

    def _named_flow(self, river: River) -> float:
        value = river.normal_flow if self.flow == "normal" else river.flood_flow
        if value is None:
            raise ScenarioError(
                f"river {river.name!r}: the sidecar gives no {self.flow}_flow; "
                "write the flow in m3/s instead"
            )
        return value


# ------------------------------------------------------------------------------------------------
# Convenience for callers outside scenarios


def set_river_stage(
    inp: SwmmInput,
    stage: float,
    *,
    outfalls: Sequence[str] | None = None,
    river: str | None = None,
    assets: DrainageAssets | None = None,
) -> SwmmInput:
    """``inp`` with a constant river ``stage`` (water level, m) at ``outfalls``, or at the
    outfalls ``assets`` put on ``river``, or (neither) at every outfall: the operation
    ``river_stage`` outside a scenario.

    Raises ScenarioError for a stage that is not a finite level, unknown outfalls or rivers, and
    a stage below the outfalls' inverts (a depth mistaken for a level)."""
    fields = {
        "stage": stage,
        "river": river,
        "outfalls": None if outfalls is None else list(outfalls),
    }
    return validate(RiverStage, fields, "set_river_stage").apply(inp, assets=assets)
