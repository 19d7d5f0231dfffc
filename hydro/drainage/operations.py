"""Drainage scenario operations: pure edits of a :class:`~hydro.drainage.inp.SwmmInput`.

Each operation is a strict pydantic model registered with ``@operation("drainage")`` (the scenario
schema builds its ``operations`` list from the registry) and has one method,
``apply(inp, *, assets=None) -> SwmmInput``: SwmmInput in, a new SwmmInput out, no files touched.
Values in a scenario are SI (m, m3/s, seconds); they are turned into the model's own units (the
INP's FLOW_UNITS) here, so the same scenario works on a US-unit model.

How each operation is expressed in SWMM 5.2, and why:

* ``river_stage``: outfalls become FIXED (constant stage) or TIMESERIES (stage series) outfalls,
  gates and route-to nodes kept. A stage is a water-surface elevation (m), never a depth.
* ``pump_outage``: control rules ``IF SIMULATION TIME >= t1 AND SIMULATION TIME < t2 THEN PUMP p
  STATUS = OFF`` at a high priority. SWMM re-evaluates the pumps' start/stop depths before the
  rules at every routing step (routing.c), so the rule must be evaluated at every step too: the
  model's RULE_STEP is set to 0 when it was longer.
* ``pump_capacity``: for the whole run, a copy of the pump curve with every flow scaled by the
  fraction (SWMM multiplies the curve flow by the pump's setting, so the two are the same flow,
  but the scaled curve keeps SWMM's start/stop depths untouched and its dQ/dH right). In a time
  window, rules set the pump's SETTING to the fraction while it runs (and back to 1 after the
  window); after each start-up SWMM's depth control runs the pump at full speed for one routing
  step before the rule scales it.
* ``blockage``: silt in the invert. SWMM has one "filled" shape, FILLED_CIRCULAR, so circular
  conduits become FILLED_CIRCULAR with the fill depth that removes the fraction of the area;
  rectangular, trapezoidal and triangular conduits become the section above the silt (height less
  the fill, the trapezoid's bottom widened) with both offsets raised by the fill, which is exact.
  Other closed shapes shrink uniformly (every length x sqrt(1 - fraction)); irregular and street
  sections are refused (their transects would need rewriting).
* ``imperviousness``: %Imperv of chosen subcatchments (by name, land use or map area) set or
  scaled, with optional extra depression storage (LID-like) added to S-Imperv and S-Perv.
* ``initial_state``: initial depths of storage units and junctions (wet wells by station name),
  or a SWMM hotstart file ([FILES] USE HOTSTART).

Stations, rivers and their stages come from the model's assets
(:func:`hydro.drainage.assets.load_drainage_assets`: its sidecar, or inferred from the INP, where a
station is named after its wet well); pumps and outfalls can always be named directly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from hydro.drainage.assets import DrainageAssets, River
from hydro.drainage.inp import SwmmInput, format_row, parse_clock, si_factors
from hydro.errors import InputError, ScenarioError, suggest
from hydro.scenario.loader import validate
from hydro.scenario.schema import Duration, Length, Strict, check_name, clock, operation

# Control rules written by hydro win over the model's own (SWMM keeps the highest priority).
RULE_PRIORITY = 1000
RESTORE_PRIORITY = 0


# ------------------------------------------------------------------------------------------------
# Paths written in a scenario: relative to the scenario file (passed as validation context)


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    folder = (info.context or {}).get("folder")
    if value.is_absolute() or folder is None:
        return value
    return (Path(folder) / value).resolve()


ScenarioPath = Annotated[Path, AfterValidator(_resolve_path)]
"""A file named in a scenario: relative paths are taken from the scenario file's folder."""


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
            raise ValueError(f"end ({clock(self.end)}) must come after start "
                             f"({clock(self.start)})")

    @property
    def whole_run(self) -> bool:
        return self.start == 0 and self.end is None

    def check_inside(self, inp: SwmmInput, what: str) -> None:
        total = _duration_of(inp)
        if self.start >= total:
            raise ScenarioError(f"{what} starts at {clock(self.start)}, when the simulation has "
                                f"already ended ({clock(int(total))}); expected a start before it")

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
        default=None, description="xmin, ymin, xmax, ymax")
    polygon: list[tuple[float, float]] | None = None

    @model_validator(mode="after")
    def _shape(self):
        _one_of(self, ("box", "polygon"))
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise ValueError(f"box {list(self.box)} must be [xmin, ymin, xmax, ymax] with "
                             "xmin < xmax and ymin < ymax")
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
        pts = self.polygon
        for (xa, ya), (xb, yb) in zip(pts, pts[1:] + pts[:1], strict=True):
            crosses = (ya > y) != (yb > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
            inside ^= crosses & (x < x_at)
        return inside

    def text(self) -> str:
        if self.box is not None:
            return "box [" + ", ".join(_num(v) for v in self.box) + "]"
        return f"a polygon of {len(self.polygon)} points"


def _nothing_in(kind: str, area: Area, x: np.ndarray, y: np.ndarray) -> ScenarioError:
    if x.size == 0:
        return ScenarioError(f"{area.text()}: the model has no {kind} with map coordinates")
    return ScenarioError(f"{area.text()} holds no {kind}; the model's {kind} lie within x "
                         f"{x.min():.1f} to {x.max():.1f}, y {y.min():.1f} to {y.max():.1f}")


# ------------------------------------------------------------------------------------------------
# Operations


class DrainageOperation(Strict):
    """Base of the drainage operations: ``apply`` edits a SwmmInput, ``describe`` says how."""

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


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
            raise ValueError(f"stage = {self.stage!r} needs river = '<name>' (the sidecar's "
                             "stages are per river)")
        if self.series is not None:
            times = [t for t, _ in self.series]
            if any(b <= a for a, b in zip(times, times[1:], strict=False)):
                raise ValueError("series times must increase")
        levels = [self.stage] if isinstance(self.stage, float | int) else \
            [v for _, v in self.series or ()]
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
            inp = inp.append_rows("TIMESERIES", [f";; river stage written by hydro ({self.where()})"]
                                  + [format_row([stage_data, clock(t), _num(v / f.length)])
                                     for t, v in self.series])
        rows = {}
        for name in names:
            tokens = written[name]
            row = table.loc[name]
            tail = [("YES" if row["gated"] else "NO")] + ([row["route_to"]]
                                                          if row["route_to"] else [])
            rows[name] = [name, tokens[1], stage_kind, stage_data, *tail]
        return inp.replace_rows("OUTFALLS", rows)

    def where(self) -> str:
        if self.outfalls is not None:
            return f"outfalls {', '.join(self.outfalls)}"
        return f"river {self.river}" if self.river else "every outfall"

    def describe(self) -> str:
        if self.series is None:
            what = f"{self.stage} stage" if isinstance(self.stage, str) else f"{self.stage:g} m"
        else:
            what = ("stage series " + ", ".join(f"{clock(t)} {v:g} m" for t, v in self.series))
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
        missing = [o for o in river.outfalls if o not in known]
        if missing:
            raise ScenarioError(f"river {river.name!r}: the sidecar names outfall "
                                f"{missing[0]!r}, which the model does not have; "
                                f"{suggest(missing[0], known)}")
        if not river.outfalls:
            raise ScenarioError(f"river {river.name!r}: the sidecar lists no outfalls on it")
        return list(river.outfalls)

    def _levels(self, assets: DrainageAssets | None) -> list[float]:
        if self.series is not None:
            return [float(v) for _, v in self.series]
        if isinstance(self.stage, str):
            river = _river(self.river, assets)
            value = river.normal_stage if self.stage == "normal" else river.flood_stage
            if value is None:
                raise ScenarioError(f"river {river.name!r}: the sidecar gives no {self.stage}_stage;"
                                    " write the stage in m instead")
            return [value]
        return [float(self.stage)]

    def _check_inverts(self, names: list[str], inverts: np.ndarray, lowest: float) -> None:
        """A stage below an outfall's invert is a depth mistaken for a level. Outfalls named one
        by one must all sit below the stage; outfalls taken by river (or all of them) may stand
        higher up the bank (they then discharge freely), but not all of them."""
        below = inverts > lowest
        if self.outfalls is not None and np.any(below):
            k = int(np.argmax(below))
            raise ScenarioError(f"river stage {lowest:g} m is below the invert of outfall "
                                f"{names[k]!r} ({inverts[k]:.3f} m); a stage is a water level "
                                "(elevation in m), not a depth")
        if self.outfalls is None and np.all(below):
            raise ScenarioError(f"river stage {lowest:g} m is below the invert of every outfall "
                                f"of {self.where()} (lowest {inverts.min():.3f} m); a stage is a "
                                "water level (elevation in m), not a depth")


def _river(name: str, assets: DrainageAssets | None) -> River:
    if assets is None or not assets.rivers:
        raise ScenarioError(f"river {name!r}: this model has no sidecar naming its rivers; "
                            "name the outfalls instead (outfalls = [...])")
    check_name("river", name, [r.name for r in assets.rivers])
    return assets.river(name)


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
        out[t[0]] = _Pump(t[0], t[1], t[3] or "*", (t[4] or "ON").upper() != "OFF",
                          t[5] or "0", t[6] or "0")
    return out


def _resolve_pumps(names: str | Sequence[str], inp: SwmmInput,
                   assets: DrainageAssets | None) -> list[_Pump]:
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
            raise ScenarioError(f"unknown {kinds} {name!r}: "
                                f"{suggest(name, [*stations, *pumps])}")
    for name in chosen:
        if name not in pumps:
            raise ScenarioError(f"the sidecar puts pump {name!r} in a station, but the model has "
                                f"no such pump; {suggest(name, pumps)}")
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

    def _chosen_pumps(self, inp: SwmmInput, assets: DrainageAssets | None,
                      what: str) -> list[_Pump]:
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
            rules.append((f"HYDRO_OUTAGE_{p.name}",
                          [*self.window.premises(), f"THEN PUMP {_token(p.name)} STATUS = OFF"],
                          RULE_PRIORITY))
            # A pump with start/stop depths restarts by itself; one without them (always on)
            # must be switched back on, unless the model's own rules already drive it.
            if self.end is not None and p.status_on and not p.depth_controlled \
                    and p.name not in in_rules:
                rules.append((f"HYDRO_RESTORE_{p.name}",
                              [f"IF SIMULATION TIME >= {_hours(self.end)}",
                               f"THEN PUMP {_token(p.name)} STATUS = ON"], RESTORE_PRIORITY))
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
        return (f"pump capacity of {', '.join(_as_list(self.station))}: "
                f"{self.fraction:.0%} over {self.window.text()}")

    def _scaled_curves(self, inp: SwmmInput, pumps: list[_Pump]) -> SwmmInput:
        ideal = [p.name for p in pumps if p.curve == "*"]
        if ideal:
            raise ScenarioError(f"pump {ideal[0]!r} is an ideal pump (no curve): it pumps whatever"
                                " flows in, so it has no capacity to scale; give it a pump curve "
                                "or use a time window (start/end)")
        curves = _curve_rows(inp)
        taken = list(curves)
        new_curve: dict[str, str] = {}
        lines = [f";; {self.describe()} (written by hydro)"]
        for curve in dict.fromkeys(p.curve for p in pumps):
            if curve not in curves:
                raise InputError(f"{inp.label}: [PUMPS] uses curve {curve!r}, which [CURVES] "
                                 f"does not define; {suggest(curve, curves)}")
            kind, points = curves[curve]
            name = unique_name(f"{curve}_x{self.fraction:g}", taken)
            taken.append(name)
            new_curve[curve] = name
            for k, (x, y) in enumerate(points):
                lines.append(format_row([name, kind] if k == 0 else [name])
                             + f"  {_num(x)}  {_num(y * self.fraction)}")
        rows = {}
        for tokens in inp.rows("PUMPS"):
            if tokens[0] in {p.name for p in pumps}:
                rows[tokens[0]] = [tokens[0], tokens[1], tokens[2], new_curve[tokens[3]],
                                   *tokens[4:]]
        return inp.append_rows("CURVES", lines).replace_rows("PUMPS", rows)

    def _rules(self, inp: SwmmInput, pumps: list[_Pump]) -> SwmmInput:
        rules = []
        end = self.window.end
        for p in pumps:
            # Scale the pump only while it runs: SWMM's own start/stop depths decide on/off.
            running = [f"AND PUMP {_token(p.name)} SETTING > 0"]
            if float(p.shutoff) > 0:
                running.append(f"AND NODE {_token(p.inlet)} DEPTH >= {p.shutoff}")
            rules.append((f"HYDRO_CAPACITY_{p.name}",
                          [*self.window.premises(), *running,
                           f"THEN PUMP {_token(p.name)} SETTING = {_num(self.fraction)}"],
                          RULE_PRIORITY))
            if end is not None:
                rules.append((f"HYDRO_RESTORE_{p.name}",
                              [f"IF SIMULATION TIME >= {_hours(end)}", *running,
                               f"THEN PUMP {_token(p.name)} SETTING = 1"], RESTORE_PRIORITY))
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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- blockage -----------------------------------------------------------------------------------

# Closed shapes whose listed geometry values are lengths: they shrink uniformly.
_SHRINK_GEOMS = {
    "FORCE_MAIN": (0,), "EGG": (0,), "HORSESHOE": (0,), "GOTHIC": (0,), "CATENARY": (0,),
    "SEMIELLIPTICAL": (0,), "BASKETHANDLE": (0,), "SEMICIRCULAR": (0,), "CUSTOM": (0,),
    "HORIZ_ELLIPSE": (0, 1), "VERT_ELLIPSE": (0, 1), "ARCH": (0, 1), "PARABOLIC": (0, 1),
    "POWER": (0, 1), "RECT_TRIANGULAR": (0, 1, 2), "RECT_ROUND": (0, 1, 2),
    "MODBASKETHANDLE": (0, 1, 2),
}
_SILT_SHAPES = ("CIRCULAR", "FILLED_CIRCULAR", "RECT_CLOSED", "RECT_OPEN", "TRAPEZOIDAL",
                "TRIANGULAR")


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


def silted_section(shape: str, geoms: list[float], fraction: float) -> tuple[str, list[float],
                                                                             float]:
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
        return "FILLED_CIRCULAR", [d, circle_fill_depth(d, silt + fraction * open_area),
                                   g[2], g[3]], 0.0
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
        return shape, [v * scale if k in _SHRINK_GEOMS[shape] else v
                       for k, v in enumerate(g)], 0.0
    raise ScenarioError(f"cannot block a {shape} section; blockage handles "
                        f"{', '.join(_SILT_SHAPES)} and the closed shapes "
                        f"{', '.join(sorted(_SHRINK_GEOMS))}")


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
        where = (f"conduits {', '.join(self.conduits)}" if self.conduits is not None
                 else f"conduits in {self.area.text()}")
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
                raise ScenarioError(f"conduit {name!r} has an {shape} section, which blockage "
                                    f"cannot edit; it handles {', '.join(_SILT_SHAPES)} and "
                                    "closed shapes")
            n_geom = 1 if shape == "CUSTOM" else 4
            geoms = [_float(v, inp, name) for v in tokens[2:2 + n_geom]]
            new_shape, new_geoms, fill = silted_section(shape, geoms, self.fraction)
            rest = tokens[2 + n_geom:]
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
        ends = [(n, t[1], t[2]) for n, t in conduits.items()
                if t[1] in xy.index and t[2] in xy.index]
        if not ends:
            return self._none_found(np.array([]), np.array([]))
        x = np.array([(xy.at[a, "x"] + xy.at[b, "x"]) / 2 for _, a, b in ends])
        y = np.array([(xy.at[a, "y"] + xy.at[b, "y"]) / 2 for _, a, b in ends])
        inside = self.area.contains(x, y)
        if not inside.any():
            return self._none_found(x, y)
        return [ends[k][0] for k in np.nonzero(inside)[0]]

    def _none_found(self, x, y):
        raise _nothing_in("conduits", self.area, x, y)


def _float(token: str, inp: SwmmInput, element: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise InputError(f"{inp.label}: {element}: {token!r} is not a number") from None


def _node_inverts(inp: SwmmInput) -> dict[str, float]:
    inverts = {}
    for section in ("JUNCTIONS", "OUTFALLS", "DIVIDERS", "STORAGE"):
        for t in inp.rows(section):
            if len(t) > 1 and _is_number(t[1]):
                inverts[t[0]] = float(t[1])
    return inverts


def _raise_offsets(tokens: list[str], fill: float, by_elevation: bool,
                   inverts: dict[str, float], inp: SwmmInput) -> list[str]:
    """A [CONDUITS] row with both offsets raised by ``fill`` (model units)."""
    row = list(tokens) + ["0"] * (7 - len(tokens))
    for k, node in ((5, row[1]), (6, row[2])):
        if row[k] == "*":  # elevation offsets: '*' means the node's invert
            row[k] = _num(inverts.get(node, 0.0) + fill)
        else:
            row[k] = _num(_float(row[k], inp, row[0]) + fill)
    return row


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
    factor: float | None = Field(default=None, ge=0)
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
            where = f"subcatchments in {self.area.text()}"
        change = (f"imperviousness {self.imperviousness:.0%}" if self.imperviousness is not None
                  else f"imperviousness x {self.factor:g}")
        storage = f", +{self.extra_storage * 1e3:g} mm storage" if self.extra_storage else ""
        return f"{where}: {change}{storage}"

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        rows = {t[0]: t for t in inp.rows("SUBCATCHMENTS")}
        names = self._targets(inp, rows)
        new = {}
        for name in names:
            t = list(rows[name]) + ["0"] * (8 - len(rows[name]))
            old = _float(t[4], inp, name)
            pct = 100.0 * self.imperviousness if self.imperviousness is not None \
                else min(100.0, old * self.factor)
            t[4] = _num(pct)
            new[name] = t
        inp = inp.replace_rows("SUBCATCHMENTS", new)
        if self.extra_storage > 0:
            inp = self._add_storage(inp, names)
        return inp

    def _add_storage(self, inp: SwmmInput, names: list[str]) -> SwmmInput:
        depth = self.extra_storage / (si_factors(inp.flow_units).rain * 3600.0)  # mm or in
        areas = {t[0]: t for t in inp.rows("SUBAREAS")}
        new = {}
        for name in names:
            if name not in areas or len(areas[name]) < 5:
                raise InputError(f"{inp.label}: subcatchment {name!r} has no complete [SUBAREAS] "
                                 "row to add storage to")
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
        x, y, names = _subcatchment_points(inp, rows)
        inside = self.area.contains(x, y)
        if not inside.any():
            raise _nothing_in("subcatchments", self.area, x, y)
        return [names[k] for k in np.nonzero(inside)[0]]


def land_uses(inp: SwmmInput) -> dict[str, str]:
    """Subcatchment -> land use: its [TAGS] tag, else its largest [COVERAGES] share."""
    uses = {t[1]: t[2] for t in inp.rows("TAGS")
            if len(t) > 2 and t[0].upper().startswith("SUBCATCH")}
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


# --- initial state ------------------------------------------------------------------------------


@operation("drainage")
class InitialState(DrainageOperation):
    """The water in the system at the start: depths (m) at storage units and junctions (a pump
    station's name means its wet well), or a SWMM hotstart file saved by an earlier run."""

    type: Literal["initial_state"] = "initial_state"
    depths: dict[str, Annotated[Length, Field(ge=0)]] | None = Field(default=None, min_length=1)
    hotstart: ScenarioPath | None = None

    @model_validator(mode="after")
    def _check(self):
        _one_of(self, ("depths", "hotstart"))
        return self

    def describe(self) -> str:
        if self.hotstart is not None:
            return f"initial state from hotstart file {self.hotstart.name}"
        return "initial depths: " + ", ".join(f"{k} {v:g} m" for k, v in self.depths.items())

    def apply(self, inp: SwmmInput, *, assets: DrainageAssets | None = None) -> SwmmInput:
        if self.hotstart is not None:
            return self._hotstart(inp)
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
                    + suggest(name, [*storage, *stations, *junctions]))
            row = list(table[node]) + ["0"] * (4 - len(table[node]))
            full = _float(row[2], inp, node) * f.length
            if depth > full > 0:
                raise ScenarioError(f"initial depth {depth:g} m at {node!r} is more than its "
                                    f"full depth ({full:.3f} m)")
            row[3] = _num(depth / f.length)
            new[section][node] = row
        for section, rows in new.items():
            if rows:
                inp = inp.replace_rows(section, rows)
        return inp

    def _hotstart(self, inp: SwmmInput) -> SwmmInput:
        if not self.hotstart.is_file():
            raise InputError(f"{self.hotstart}: no such hotstart file")
        kept = [line for line in inp.section("FILES")
                if [t.upper() for t in (line.split(";")[0].split()[:2])] != ["USE", "HOTSTART"]]
        return inp.with_section("FILES", [*kept, format_row(["USE", "HOTSTART",
                                                             str(self.hotstart)])])


# ------------------------------------------------------------------------------------------------
# Convenience for callers outside scenarios


def set_river_stage(inp: SwmmInput, stage: float, *, outfalls: Sequence[str] | None = None,
                    river: str | None = None,
                    assets: DrainageAssets | None = None) -> SwmmInput:
    """``inp`` with a constant river ``stage`` (water level, m) at ``outfalls``, or at the
    outfalls ``assets`` put on ``river``, or (neither) at every outfall: the operation
    ``river_stage`` outside a scenario.

    Raises ScenarioError for a stage that is not a finite level, unknown outfalls or rivers, and
    a stage below the outfalls' inverts (a depth mistaken for a level)."""
    fields = {"stage": stage, "river": river,
              "outfalls": None if outfalls is None else list(outfalls)}
    return validate(RiverStage, fields, "set_river_stage").apply(inp, assets=assets)
