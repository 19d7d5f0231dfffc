"""Pump outages and reduced pump capacity, as SWMM control rules or scaled curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from hydro.drainage.assets import DrainageAssets
from hydro.drainage.inp import SwmmInput, format_row, parse_clock
from hydro.drainage.operations._common import (
    RESTORE_PRIORITY,
    RULE_PRIORITY,
    DrainageOperation,
    Window,
    _as_list,
    _hours,
    _is_number,
    _num,
    _token,
    unique_name,
)
from hydro.errors import InputError, ScenarioError, suggest
from hydro.scenario.schema import Duration, operation

# --- pumps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pump:
    name: str
    inlet: str
    curve: str
    status_on: bool
    startup: str  # model units, as written
    shutoff: str

    @property
    def depth_controlled(self) -> bool:
        return float(self.startup) > 0.0


def _pumps(inp: SwmmInput) -> dict[str, _Pump]:
    out = {}
    for t in inp.rows("PUMPS"):
        t = t + [""] * (7 - len(t))
        out[t[0]] = _Pump(
            t[0], t[1], t[3] or "*", (t[4] or "ON").upper() != "OFF", t[5] or "0", t[6] or "0"
        )
    return out


def _resolve_pumps(
    names: str | Sequence[str], inp: SwmmInput, assets: DrainageAssets | None
) -> list[_Pump]:
    """Pumps from station names (sidecar) or pump names, in order, each once."""
    pumps = _pumps(inp)
    stations = {s.name: s for s in assets.pump_stations} if assets is not None else {}
    chosen: list[str] = []
    for name in _as_list(names):
        if name in stations:
            chosen += stations[name].pumps
        elif name in pumps:
            chosen.append(name)
        else:
            kinds = "pump station or pump" if stations else "pump"
            raise ScenarioError(f"unknown {kinds} {name!r}: {suggest(name, [*stations, *pumps])}")
    for name in chosen:
        if name not in pumps:
            raise ScenarioError(
                f"the sidecar puts pump {name!r} in a station, but the model has "
                f"no such pump; {suggest(name, pumps)}"
            )
    return [pumps[n] for n in dict.fromkeys(chosen)]


def _referenced_in_rules(inp: SwmmInput) -> set[str]:
    return {tok for t in inp.rows("CONTROLS") for tok in t}


def _add_rules(inp: SwmmInput, rules: list[tuple[str, list[str], int]], comment: str) -> SwmmInput:
    """Append rules (name stem, clauses, priority) to [CONTROLS]; rules run every step."""
    taken = [t[1] for t in inp.rows("CONTROLS") if len(t) > 1 and t[0].upper() == "RULE"]
    lines = [f";; {comment} (written by hydro)"]
    for stem, clauses, priority in rules:
        name = unique_name(stem, taken)
        taken.append(name)
        lines += [f"RULE {name}", *clauses, f"PRIORITY {priority}", ""]
    if inp.options.get("RULE_STEP") and parse_clock(inp.options["RULE_STEP"]) > 0:
        inp = inp.with_options({"RULE_STEP": "00:00:00"})
    return inp.append_rows("CONTROLS", lines)


class _PumpsInWindow(DrainageOperation):
    """Pumps acted on in a time window (default: the whole run).

    ``station``: a pump station (sidecar) or pump name, or a list of them.
    """

    station: str | list[str]
    start: Duration = 0
    end: Duration | None = None

    @model_validator(mode="after")
    def _check(self):
        self.window.check()
        if not _as_list(self.station):
            raise ValueError("station: name at least one pump station or pump")
        return self

    @property
    def window(self) -> Window:
        return Window(start=self.start, end=self.end)

    def _chosen_pumps(
        self, inp: SwmmInput, assets: DrainageAssets | None, what: str
    ) -> list[_Pump]:
        """The pumps named, once the window is known to start before the run ends."""
        pumps = _resolve_pumps(self.station, inp, assets)
        self.window.check_inside(inp, f"the {what} of {', '.join(_as_list(self.station))}")
        return pumps


@operation("drainage")
class PumpOutage(_PumpsInWindow):
    """Pumps out of service in a time window (default: the whole run)."""

    type: Literal["pump_outage"] = "pump_outage"

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        pumps = self._chosen_pumps(inp, assets, "outage")
        in_rules = _referenced_in_rules(inp)
        rules = []
        for p in pumps:
            rules.append(
                (
                    f"HYDRO_OUTAGE_{p.name}",
                    [*self.window.premises(), f"THEN PUMP {_token(p.name)} STATUS = OFF"],
                    RULE_PRIORITY,
                )
            )
            # A pump with start/stop depths restarts by itself; one without them (always on)
            # must be switched back on, unless the model's own rules already drive it.
            if (
                self.end is not None
                and p.status_on
                and not p.depth_controlled
                and p.name not in in_rules
            ):
                rules.append(
                    (
                        f"HYDRO_RESTORE_{p.name}",
                        [
                            f"IF SIMULATION TIME >= {_hours(self.end)}",
                            f"THEN PUMP {_token(p.name)} STATUS = ON",
                        ],
                        RESTORE_PRIORITY,
                    )
                )
        return _add_rules(inp, rules, self.describe())

    def describe(self) -> str:
        return f"pump outage of {', '.join(_as_list(self.station))}: {self.window.text()}"


@operation("drainage")
class PumpCapacity(_PumpsInWindow):
    """Pumps running at a fraction of their capacity (curve flows x fraction).

    Whole run: a scaled copy of each pump curve. A window (``start``/``end``): control rules
    setting the pump's speed setting to the fraction while it runs.
    """

    type: Literal["pump_capacity"] = "pump_capacity"
    fraction: float = Field(gt=0, le=1)

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        pumps = self._chosen_pumps(inp, assets, "capacity change")
        if self.window.whole_run:
            return self._scaled_curves(inp, pumps)
        return self._rules(inp, pumps)

    def describe(self) -> str:
        return (
            f"pump capacity of {', '.join(_as_list(self.station))}: "
            f"{self.fraction:.0%} over {self.window.text()}"
        )

    def _scaled_curves(self, inp: SwmmInput, pumps: list[_Pump]) -> SwmmInput:
        ideal = [p.name for p in pumps if p.curve == "*"]
        if ideal:
            raise ScenarioError(
                f"pump {ideal[0]!r} is an ideal pump (no curve): it pumps whatever"
                " flows in, so it has no capacity to scale; give it a pump curve "
                "or use a time window (start/end)"
            )
        curves = _curve_rows(inp)
        taken = list(curves)
        new_curve: dict[str, str] = {}
        lines = [f";; {self.describe()} (written by hydro)"]
        for curve in dict.fromkeys(p.curve for p in pumps):
            if curve not in curves:
                raise InputError(
                    f"{inp.label}: [PUMPS] uses curve {curve!r}, which [CURVES] "
                    f"does not define; {suggest(curve, curves)}"
                )
            kind, points = curves[curve]
            name = unique_name(f"{curve}_x{self.fraction:g}", taken)
            taken.append(name)
            new_curve[curve] = name
            for k, (x, y) in enumerate(points):
                lines.append(
                    format_row([name, kind] if k == 0 else [name])
                    + f"  {_num(x)}  {_num(y * self.fraction)}"
                )
        rows = {}
        for tokens in inp.rows("PUMPS"):
            if tokens[0] in {p.name for p in pumps}:
                rows[tokens[0]] = [
                    tokens[0],
                    tokens[1],
                    tokens[2],
                    new_curve[tokens[3]],
                    *tokens[4:],
                ]
        return inp.append_rows("CURVES", lines).replace_rows("PUMPS", rows)

    def _rules(self, inp: SwmmInput, pumps: list[_Pump]) -> SwmmInput:
        rules = []
        end = self.window.end
        for p in pumps:
            # Scale the pump only while it runs: SWMM's own start/stop depths decide on/off.
            running = [f"AND PUMP {_token(p.name)} SETTING > 0"]
            if float(p.shutoff) > 0:
                running.append(f"AND NODE {_token(p.inlet)} DEPTH >= {p.shutoff}")
            rules.append(
                (
                    f"HYDRO_CAPACITY_{p.name}",
                    [
                        *self.window.premises(),
                        *running,
                        f"THEN PUMP {_token(p.name)} SETTING = {_num(self.fraction)}",
                    ],
                    RULE_PRIORITY,
                )
            )
            if end is not None:
                rules.append(
                    (
                        f"HYDRO_RESTORE_{p.name}",
                        [
                            f"IF SIMULATION TIME >= {_hours(end)}",
                            *running,
                            f"THEN PUMP {_token(p.name)} SETTING = 1",
                        ],
                        RESTORE_PRIORITY,
                    )
                )
        return _add_rules(inp, rules, self.describe())


def _curve_rows(inp: SwmmInput) -> dict[str, tuple[str, list[tuple[float, float]]]]:
    """[CURVES] as name -> (type, [(x, y), ...]); several x y pairs may share a line."""
    out: dict[str, tuple[str, list[tuple[float, float]]]] = {}
    for tokens in inp.rows("CURVES"):
        name, rest = tokens[0], tokens[1:]
        kind, points = out.get(name, ("", []))
        if rest and not _is_number(rest[0]):
            kind, rest = rest[0], rest[1:]
        values = [float(v) for v in rest]
        points = points + list(zip(values[0::2], values[1::2], strict=False))
        out[name] = (kind, points)
    return out
