"""Parse SWMM 5.2's text report (.rpt): options, continuity errors, summary tables, messages.

These are the engine's own figures (computed at every routing step, not only at reporting steps)
against which hydro's scores are checked. Tables come out as pandas DataFrames indexed by element
name, in SI units and on the same scale as the Dataset read from the binary output:

- flows: the report prints them in FLOW_UNITS, like the binary output; converted the same way.
- volumes: SWMM prints 10^6 gal (ft3 x 7.48e-6) or 10^6 ltr (ft3 x 28.317e-6) of its internal
  cubic feet; we undo those factors and convert ft3 the way the binary output does (US: exact
  0.3048^3; SI models: SWMM's own 0.02832 m3 per ft3).
- depths and velocities: ft -> m for US models; already metres for SI models.
- percentages become fractions, hours become seconds, "days hr:min" becomes seconds since START.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.drainage.inp import US_FLOW_UNITS, si_factors
from hydro.errors import InputError

_BANNER = re.compile(r"^\s*\*{3,}")
_DASHES = re.compile(r"^\s*-{5,}\s*$")
_DOTTED = re.compile(r"^\s*(.+?)\s*\.{2,}\s*(.*?)\s*$")
_MESSAGE = re.compile(r"^\s*(ERROR|WARNING)\s+(\d+)\s*:\s*(.*?)\s*$")
_LISTED = re.compile(r"^\s*(Node|Link)\s+(.+?)\s+\((-?[\d.]+)(%?)\)\s*$")

# SWMM's printing factors (statsrpt.c Vcf, swmm5.c Ucf VOLUME), per unit system
_MEGA_UNITS_PER_FT3 = {"US": 7.48e-6, "SI": 28.317e-6}
_M3_PER_FT3 = {"US": 0.3048**3, "SI": 0.02832}
_KWH = 3.6e6


@dataclass(frozen=True)
class SwmmMessage:
    """An ERROR or WARNING line of the report, with the input line SWMM quoted after it (if any)."""

    kind: str
    code: int
    text: str
    context: str = ""

    def __str__(self) -> str:
        text = f"{self.kind} {self.code}: {self.text}"
        return f"{text}: {self.quoted()}" if self.context else text

    def quoted(self, width: int = 90) -> str:
        """The input line SWMM quoted, whitespace collapsed and cut to ``width`` characters."""
        line = " ".join(self.context.split())
        return line if len(line) <= width else line[: width - 3] + "..."


@dataclass(frozen=True)
class Table:
    """One summary table: its header lines and its data rows as token lists."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class SwmmReport:
    """What hydro reads from a SWMM report; tables are raw until asked for in SI."""

    options: dict[str, str]
    runoff_continuity_error: float | None
    flow_routing_continuity_error: float | None
    errors: tuple[SwmmMessage, ...]
    warnings: tuple[SwmmMessage, ...]
    sections: dict[str, tuple[str, ...]] = field(repr=False)

    @property
    def flow_units(self) -> str | None:
        return self.options.get("Flow Units")

    @property
    def unit_system(self) -> str:
        return "US" if (self.flow_units or "CFS") in US_FLOW_UNITS else "SI"

    @property
    def routing_method(self) -> str | None:
        return self.options.get("Flow Routing Method")

    def table(self, title: str) -> Table | None:
        """The first table of a section, or None when the report has no such section/table."""
        body = self.sections.get(title)
        if body is None:
            return None
        return _table(title, body)

    # --- SI tables ------------------------------------------------------------------------------

    def node_flooding(self) -> pd.DataFrame:
        """Node Flooding Summary, one row per flooded node.

        Columns: flooded_duration (s), max_flooding_rate (m3/s), time_of_max_flooding (s since
        START), flood_volume (m3), and max_ponded_depth (m, dynamic wave) or max_ponded_volume
        (m3, other routing), as the report gives.
        """
        table = self.table("Node Flooding Summary")
        columns = [
            "flooded_duration",
            "max_flooding_rate",
            "time_of_max_flooding",
            "flood_volume",
            "max_ponded_depth",
            "max_ponded_volume",
        ]
        if table is None:
            return _empty(columns)
        depth_column = any("Depth" in line for line in table.header)
        f = self._factors()
        records = []
        for tokens in table.rows:
            name, v = _split(tokens, 6)
            ponded = _num(v[5])
            records.append(
                {
                    "name": name,
                    "flooded_duration": _num(v[0]) * 3600.0,
                    "max_flooding_rate": _num(v[1]) * f.flow,
                    "time_of_max_flooding": _elapsed(v[2], v[3]),
                    "flood_volume": self._mega_volume(_num(v[4])),
                    "max_ponded_depth": ponded * f.length if depth_column else np.nan,
                    "max_ponded_volume": np.nan
                    if depth_column
                    else ponded * 1000.0 * (_M3_PER_FT3["US"] if self.unit_system == "US" else 1.0),
                }
            )
        return _frame(records, columns)

    def pumping(self) -> pd.DataFrame:
        """Pumping Summary, one row per pump.

        Columns: utilization (fraction of routing time on), startups (count), min_flow, avg_flow,
        max_flow (m3/s), pumped_volume (m3), energy (J), off_curve_low, off_curve_high (fraction
        of the time on).
        """
        table = self.table("Pumping Summary")
        columns = [
            "utilization",
            "startups",
            "min_flow",
            "avg_flow",
            "max_flow",
            "pumped_volume",
            "energy",
            "off_curve_low",
            "off_curve_high",
        ]
        if table is None:
            return _empty(columns)
        f = self._factors()
        records = []
        for tokens in table.rows:
            name, v = _split(tokens, 9)
            records.append(
                {
                    "name": name,
                    "utilization": _num(v[0]) / 100.0,
                    "startups": _num(v[1]),
                    "min_flow": _num(v[2]) * f.flow,
                    "avg_flow": _num(v[3]) * f.flow,
                    "max_flow": _num(v[4]) * f.flow,
                    "pumped_volume": self._mega_volume(_num(v[5])),
                    "energy": _num(v[6]) * _KWH,
                    "off_curve_low": _num(v[7]) / 100.0,
                    "off_curve_high": _num(v[8]) / 100.0,
                }
            )
        return _frame(records, columns)

    def node_depth(self) -> pd.DataFrame:
        """Node Depth Summary: node_type, avg_depth, max_depth, max_head (m), time_of_max_depth
        (s since START), max_reported_depth (m)."""
        table = self.table("Node Depth Summary")
        columns = [
            "node_type",
            "avg_depth",
            "max_depth",
            "max_head",
            "time_of_max_depth",
            "max_reported_depth",
        ]
        if table is None:
            return _empty(columns)
        f = self._factors()
        records = []
        for tokens in table.rows:
            name, v = _split(tokens, 7)
            records.append(
                {
                    "name": name,
                    "node_type": v[0].lower(),
                    "avg_depth": _num(v[1]) * f.length,
                    "max_depth": _num(v[2]) * f.length,
                    "max_head": _num(v[3]) * f.length,
                    "time_of_max_depth": _elapsed(v[4], v[5]),
                    "max_reported_depth": _num(v[6]) * f.length,
                }
            )
        return _frame(records, columns)

    def node_surcharge(self) -> pd.DataFrame:
        """Node Surcharge Summary (dynamic wave only): surcharged_duration (s),
        max_height_above_crown (m), min_depth_below_rim (m, NaN when not printed)."""
        table = self.table("Node Surcharge Summary")
        columns = ["surcharged_duration", "max_height_above_crown", "min_depth_below_rim"]
        if table is None:
            return _empty(columns)
        f = self._factors()
        records = []
        for tokens in table.rows:
            n_values = 4 if len(tokens) >= 5 else 3
            name, v = _split(tokens, n_values)
            records.append(
                {
                    "name": name,
                    "surcharged_duration": _num(v[1]) * 3600.0,
                    "max_height_above_crown": _num(v[2]) * f.length,
                    "min_depth_below_rim": _num(v[3]) * f.length if n_values == 4 else np.nan,
                }
            )
        return _frame(records, columns)

    def link_flow(self) -> pd.DataFrame:
        """Link Flow Summary: link_type, max_flow (m3/s, of |flow|), time_of_max_flow (s since
        START), max_velocity (m/s, conduits; NaN where SWMM prints '>50.00' or nothing)."""
        table = self.table("Link Flow Summary")
        columns = ["link_type", "max_flow", "time_of_max_flow", "max_velocity"]
        if table is None:
            return _empty(columns)
        f = self._factors()
        records = []
        for tokens in table.rows:
            kind = tokens[1].lower() if len(tokens) > 1 else ""
            velocity = np.nan
            if kind in ("conduit", "channel") and len(tokens) > 5:
                velocity = _num(tokens[5]) * f.velocity
            records.append(
                {
                    "name": tokens[0],
                    "link_type": kind,
                    "max_flow": _num(tokens[2]) * f.flow if len(tokens) > 2 else np.nan,
                    "time_of_max_flow": _elapsed(tokens[3], tokens[4])
                    if len(tokens) > 4
                    else np.nan,
                    "max_velocity": velocity,
                }
            )
        return _frame(records, columns)

    def node_inflow(self) -> pd.DataFrame:
        """Node Inflow Summary, one row per node: max_lateral_inflow, max_total_inflow (m3/s),
        time_of_max_inflow (s since START), lateral_inflow_volume, total_inflow_volume (m3) and
        flow_balance_error (fraction of the node's inflow: SWMM's node continuity error)."""
        table = self.table("Node Inflow Summary")
        columns = [
            "max_lateral_inflow",
            "max_total_inflow",
            "time_of_max_inflow",
            "lateral_inflow_volume",
            "total_inflow_volume",
            "flow_balance_error",
        ]
        if table is None:
            return _empty(columns)
        f = self._factors()
        records = []
        for tokens in table.rows:
            name, v = _split(tokens, 8)
            records.append(
                {
                    "name": name,
                    "max_lateral_inflow": _num(v[1]) * f.flow,
                    "max_total_inflow": _num(v[2]) * f.flow,
                    "time_of_max_inflow": _elapsed(v[3], v[4]),
                    "lateral_inflow_volume": self._mega_volume(_num(v[5])),
                    "total_inflow_volume": self._mega_volume(_num(v[6])),
                    "flow_balance_error": _num(v[7]) / 100.0,
                }
            )
        return _frame(records, columns)

    # --- the run's health -----------------------------------------------------------------------

    def flow_routing_continuity(self) -> dict[str, float]:
        """Flow Routing Continuity: every volume line in m3 (keys in snake case, e.g.
        ``wet_weather_inflow``, ``external_outflow``, ``flooding_loss``, ``final_stored_volume``)
        and ``continuity_error`` (%). Empty when the report has none."""
        return self._continuity_table("Flow Routing Continuity", column=1)

    def runoff_continuity(self) -> dict[str, float]:
        """Runoff Quantity Continuity: volumes in m3 (``total_precipitation``,
        ``infiltration_loss``, ``surface_runoff``, ``final_storage``...) and
        ``continuity_error`` (%)."""
        return self._continuity_table("Runoff Quantity Continuity", column=0)

    def routing_steps(self) -> dict[str, float]:
        """Routing Time Step Summary: minimum_step, average_step, maximum_step (s),
        steady_state_share, not_converging_share (fractions), average_iterations."""
        keys = {
            "Minimum Time Step": ("minimum_step", 1.0),
            "Average Time Step": ("average_step", 1.0),
            "Maximum Time Step": ("maximum_step", 1.0),
            "% of Time in Steady State": ("steady_state_share", 0.01),
            "Average Iterations per Step": ("average_iterations", 1.0),
            "% of Steps Not Converging": ("not_converging_share", 0.01),
        }
        out: dict[str, float] = {}
        for line in self.sections.get("Routing Time Step Summary", ()):
            label, _, value = line.partition(":")
            key = keys.get(label.strip())
            if key is not None and value.split():
                out[key[0]] = _num(value.split()[0]) * key[1]
        return out

    def highest(self, title: str) -> tuple[tuple[str, str, float], ...]:
        """The (kind, element, value) lines of a 'Highest ...' list (Highest Continuity Errors,
        Highest Flow Instability Indexes, Most Frequent Nonconverging Nodes, Time-Step Critical
        Elements); percentages are given as fractions."""
        out = []
        for line in self.sections.get(title, ()):
            match = _LISTED.match(line)
            if match:
                kind, name, value, percent = match.groups()
                out.append((kind.lower(), name, _num(value) / (100.0 if percent else 1.0)))
        return tuple(out)

    def _continuity_table(self, title: str, *, column: int) -> dict[str, float]:
        """Volumes of a continuity table in m3 (first column hectare-m or acre-feet; second
        10^6 ltr or 10^6 gal) and its continuity error in %."""
        si = self.unit_system == "SI"
        per_unit = ((1.0e4, 1.0e3) if si else (1233.48183754752, 3785.411784))[column]
        out: dict[str, float] = {}
        for line in self.sections.get(title, ()):
            match = _DOTTED.match(line)
            if not match:
                continue
            key = re.sub(r"[^a-z0-9]+", "_", match.group(1).lower()).strip("_")
            values = match.group(2).split()
            if key.startswith("continuity_error"):
                out["continuity_error"] = _num(values[0]) if values else np.nan
            elif len(values) > column:
                out[key] = _num(values[column]) * per_unit
        return out

    def _factors(self):
        return si_factors(self.flow_units or "CFS")

    def _mega_volume(self, value: float) -> float:
        system = self.unit_system
        return value / _MEGA_UNITS_PER_FT3[system] * _M3_PER_FT3[system]


# ------------------------------------------------------------------------------------------------
# Parsing


def read_report(path: str | Path) -> SwmmReport:
    """Parse a SWMM report file (UTF-8; undecodable bytes are replaced)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return parse_report(path.read_bytes().decode("utf-8", errors="replace"))


def parse_report(text: str) -> SwmmReport:
    """Parse the text of a SWMM 5.2 report."""
    lines = text.splitlines()
    sections = _sections(lines)
    options = {}
    for line in sections.get("Analysis Options", ()):
        match = _DOTTED.match(line)
        if match:
            options[match.group(1).strip()] = match.group(2).strip()
    errors, warnings = _messages(lines)
    return SwmmReport(
        options=options,
        runoff_continuity_error=_continuity(sections.get("Runoff Quantity Continuity")),
        flow_routing_continuity_error=_continuity(sections.get("Flow Routing Continuity")),
        errors=tuple(errors),
        warnings=tuple(warnings),
        sections=sections,
    )


def _sections(lines: list[str]) -> dict[str, tuple[str, ...]]:
    """Body lines under each '****' banner, keyed by the banner's title."""
    starts = []
    i = 0
    while i + 2 < len(lines):
        if _BANNER.match(lines[i]) and _BANNER.match(lines[i + 2]):
            title = re.split(r"\s{2,}", lines[i + 1].strip())[0]
            starts.append((i, title))
            i += 3
        else:
            i += 1
    sections: dict[str, tuple[str, ...]] = {}
    for k, (start, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        sections.setdefault(title, tuple(lines[start + 3 : end]))
    return sections


def _messages(lines: list[str]) -> tuple[list[SwmmMessage], list[SwmmMessage]]:
    errors: list[SwmmMessage] = []
    warnings: list[SwmmMessage] = []
    for i, line in enumerate(lines):
        match = _MESSAGE.match(line)
        if not match:
            continue
        kind, code, text = match.group(1), int(match.group(2)), match.group(3)
        context = ""
        if text.endswith(":"):
            text = text[:-1]
            following = [ln for ln in lines[i + 1 : i + 3] if ln.strip()]
            if following and not _MESSAGE.match(following[0]):
                context = following[0].strip()
        (errors if kind == "ERROR" else warnings).append(SwmmMessage(kind, code, text, context))
    return errors, warnings


def _continuity(body: tuple[str, ...] | None) -> float | None:
    for line in body or ():
        match = _DOTTED.match(line)
        if match and match.group(1).startswith("Continuity Error"):
            try:
                return float(match.group(2).split()[0])
            except (ValueError, IndexError):
                return None
    return None


def _table(title: str, body: tuple[str, ...]) -> Table | None:
    dashed = [i for i, line in enumerate(body) if _DASHES.match(line)]
    if len(dashed) < 2:
        return None
    first, second = dashed[0], dashed[1]
    rows = []
    for line in body[second + 1 :]:
        if not line.strip() or _DASHES.match(line):
            break
        rows.append(tuple(line.split()))
    return Table(title, tuple(body[first + 1 : second]), tuple(rows))


def _split(tokens: tuple[str, ...], n_values: int) -> tuple[str, list[str]]:
    """Element name (which may hold spaces when quoted in the INP) and the last n values."""
    values = list(tokens[-n_values:])
    values = ["nan"] * (n_values - len(values)) + values
    return " ".join(tokens[:-n_values]) or tokens[0], values


def _num(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        return np.nan


def _elapsed(days: str, clock: str) -> float:
    """'days', 'hh:mm' -> seconds."""
    try:
        hours, minutes = clock.split(":")
        return int(days) * 86400.0 + int(hours) * 3600.0 + int(minutes) * 60.0
    except ValueError:
        return np.nan


def _frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=["name", *columns]).set_index("name")


def _empty(columns: list[str]) -> pd.DataFrame:
    return _frame([], columns)
