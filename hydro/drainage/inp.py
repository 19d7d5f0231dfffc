"""SWMM input (INP) files as immutable, section-level text, with parsed views of what hydro needs.

A :class:`SwmmInput` keeps every line of the file as written (comments, blank lines, repeated
section headers), so ``inp.text()`` gives back the same lines in the same order and SWMM's error
messages ("at line 57 of [CONDUITS] section") point at the user's own file. Edits return a new
object; nothing is ever written back to the original file.

Parsed views (``junctions()``, ``options``, ``start_datetime``...) are in the model's own units
(the INP's FLOW_UNITS decide: CFS, GPM, MGD -> US feet; CMS, LPS, MLD -> metres).
:func:`si_factors` gives the factors the engine adapter uses to turn them into SI.

    inp = read_inp("drainage.inp")
    raised = inp.replace_rows("JUNCTIONS", {"J1": ["J1", "12.5", "3.0", "0", "0", "150"]})
    raised.write(tmp_path / "edited.inp")
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hydro.errors import InputError, ScenarioError, suggest, where
from hydro.inpfile import read_text
from hydro.results import atomic_path
from hydro.units import ACRE, FOOT, HOUR, INCH, SWMM_FLOW_TO_M3S, SWMM_US_FLOWS

# Every section SWMM 5.2 reads (input.c, SectWords); a file needs at least one of the sections that
# EPANET does not also have before we call it a SWMM model.
SWMM_SECTIONS = frozenset(
    {
        "TITLE",
        "OPTIONS",
        "REPORT",
        "FILES",
        "RAINGAGES",
        "EVAPORATION",
        "TEMPERATURE",
        "ADJUSTMENTS",
        "SUBCATCHMENTS",
        "SUBAREAS",
        "INFILTRATION",
        "LID_CONTROLS",
        "LID_USAGE",
        "AQUIFERS",
        "GROUNDWATER",
        "GWF",
        "SNOWPACKS",
        "JUNCTIONS",
        "OUTFALLS",
        "DIVIDERS",
        "STORAGE",
        "CONDUITS",
        "PUMPS",
        "ORIFICES",
        "WEIRS",
        "OUTLETS",
        "XSECTIONS",
        "TRANSECTS",
        "STREETS",
        "INLETS",
        "INLET_USAGE",
        "LOSSES",
        "CONTROLS",
        "POLLUTANTS",
        "LANDUSES",
        "COVERAGES",
        "LOADINGS",
        "BUILDUP",
        "WASHOFF",
        "TREATMENT",
        "INFLOWS",
        "DWF",
        "RDII",
        "HYDROGRAPHS",
        "CURVES",
        "TIMESERIES",
        "PATTERNS",
        "MAP",
        "COORDINATES",
        "VERTICES",
        "POLYGONS",
        "SYMBOLS",
        "LABELS",
        "BACKDROP",
        "TAGS",
        "PROFILES",
        "EVENTS",
    }
)
EPANET_SECTIONS = frozenset(
    {
        "TITLE",
        "JUNCTIONS",
        "RESERVOIRS",
        "TANKS",
        "PIPES",
        "PUMPS",
        "VALVES",
        "EMITTERS",
        "CURVES",
        "PATTERNS",
        "ENERGY",
        "STATUS",
        "CONTROLS",
        "RULES",
        "DEMANDS",
        "QUALITY",
        "REACTIONS",
        "SOURCES",
        "MIXING",
        "OPTIONS",
        "TIMES",
        "REPORT",
        "COORDINATES",
        "VERTICES",
        "LABELS",
        "BACKDROP",
        "TAGS",
        "END",
        "LEAKAGE",
    }
)
SWMM_ONLY_SECTIONS = SWMM_SECTIONS - EPANET_SECTIONS

US_FLOW_UNITS = tuple(sorted(SWMM_US_FLOWS))
SI_FLOW_UNITS = ("CMS", "LPS", "MLD")

_HEADER = re.compile(r"^\s*\[([^\]]*)\]")


# ------------------------------------------------------------------------------------------------
# Units


@dataclass(frozen=True)
class SiFactors:
    """Multiply a value in the model's units by these to get SI.

    ``length`` ft or m -> m; ``area`` ft2 or m2 -> m2; ``land_area`` acres or hectares -> m2;
    ``volume`` ft3 or m3 -> m3; ``flow`` the FLOW_UNITS -> m3/s; ``rain`` in/hr or mm/hr -> m/s;
    ``velocity`` ft/s or m/s -> m/s.
    """

    flow_units: str
    length: float
    area: float
    land_area: float
    volume: float
    flow: float
    rain: float
    velocity: float

    @property
    def unit_system(self) -> str:
        return "US" if self.flow_units in US_FLOW_UNITS else "SI"


def si_factors(flow_units: str) -> SiFactors:
    """Conversion factors to SI for a model with these FLOW_UNITS (CFS, GPM, MGD, CMS, LPS, MLD)."""
    units = flow_units.upper()
    if units not in SWMM_FLOW_TO_M3S:
        raise InputError(
            f"unknown SWMM flow units {flow_units!r}: expected one of "
            + ", ".join(SWMM_FLOW_TO_M3S)
        )
    if units in US_FLOW_UNITS:
        return SiFactors(
            units,
            length=FOOT,
            area=FOOT**2,
            land_area=ACRE,
            volume=FOOT**3,
            flow=SWMM_FLOW_TO_M3S[units],
            rain=INCH / HOUR,
            velocity=FOOT,
        )
    return SiFactors(
        units,
        length=1.0,
        area=1.0,
        land_area=1.0e4,
        volume=1.0,
        flow=SWMM_FLOW_TO_M3S[units],
        rain=1.0e-3 / HOUR,
        velocity=1.0,
    )


# ------------------------------------------------------------------------------------------------
# Tokens


def split_tokens(line: str) -> list[str]:
    """The data tokens of one INP line as SWMM reads them.

    Whitespace separates tokens, a double-quoted string is one token (quotes removed), and a ';'
    outside quotes starts a comment.
    """
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    for ch in line:
        if quoted:
            if ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = started = True
        elif ch == ";":
            break
        elif ch.isspace():
            if started:
                tokens.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        tokens.append("".join(current))
    return tokens


def format_row(tokens: Sequence[object]) -> str:
    """One INP data line from tokens; tokens with spaces are quoted."""
    out = []
    for token in tokens:
        text = str(token)
        out.append(f'"{text}"' if (not text or any(c.isspace() for c in text)) else text)
    return "  ".join(out)


def _section_name(header: str) -> str:
    match = _HEADER.match(header)
    return match.group(1).strip().upper() if match else ""


# ------------------------------------------------------------------------------------------------
# The input structure


@dataclass(frozen=True)
class Block:
    """One run of lines under a section header (``name`` '' and ``header`` '' for the preamble)."""

    name: str
    header: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class SwmmInput:
    """An SWMM INP file as ordered blocks of raw lines; immutable, edits return a new object.

    ``source`` is the file it was read from (None when built in memory) and ``encoding`` the
    encoding that file was written in ('ascii', 'utf-8' or 'gb18030'). A section may appear in
    several blocks, as SWMM allows; :meth:`section` joins them.
    """

    blocks: tuple[Block, ...]
    source: Path | None = None
    encoding: str = "utf-8"
    source_sha256: str = ""  # of the source file's bytes as read (provenance without a re-read)

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        source: str | Path | None = None,
        encoding: str = "utf-8",
        source_sha256: str = "",
    ) -> SwmmInput:
        """Split INP text into blocks; line endings are normalised, lines are kept as written.

        Lines are split on '\\n' only (as SWMM's reader does), so line numbers stay SWMM's.
        """
        lines = [ln.removesuffix("\r") for ln in text.removeprefix("\ufeff").split("\n")]
        if lines and lines[-1] == "":
            lines.pop()  # the final newline does not open another line
        blocks: list[Block] = []
        name, header = "", ""
        body: list[str] = []
        for line in lines:
            if _HEADER.match(line):
                if header or body:
                    blocks.append(Block(name, header, tuple(body)))
                name, header, body = _section_name(line), line, []
            else:
                body.append(line)
        if header or body:
            blocks.append(Block(name, header, tuple(body)))
        source_path = Path(source) if source is not None else None
        return cls(tuple(blocks), source_path, encoding, source_sha256)

    def _evolve(self, blocks: Iterable[Block]) -> SwmmInput:
        return SwmmInput(tuple(blocks), self.source, self.encoding, self.source_sha256)

    # --- raw access -----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """How messages name this model: its file, or '<in-memory SWMM model>'."""
        return str(self.source) if self.source is not None else "<in-memory SWMM model>"

    @property
    def section_names(self) -> tuple[str, ...]:
        """Upper-case section names in file order, each once."""
        return tuple(dict.fromkeys(b.name for b in self.blocks if b.name))

    def has_section(self, name: str) -> bool:
        return name.upper() in self.section_names

    def section(self, name: str) -> tuple[str, ...]:
        """Raw lines (comments included) of a section, all its blocks joined; () when absent."""
        key = name.upper()
        return tuple(line for b in self.blocks if b.name == key for line in b.lines)

    def rows(self, name: str) -> list[list[str]]:
        """The data rows of a section as token lists (comments and blank lines dropped)."""
        return [tokens for line in self.section(name) if (tokens := split_tokens(line))]

    def text(self) -> str:
        """The whole file as text, lines joined by '\\n' (with a final newline)."""
        out: list[str] = []
        for block in self.blocks:
            if block.header:
                out.append(block.header)
            out.extend(block.lines)
        return "\n".join(out) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the model as UTF-8 text, atomically; returns the path."""
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(self.text(), encoding="utf-8")
        return path

    # --- edits ----------------------------------------------------------------------------------

    def with_section(self, name: str, lines: Iterable[str]) -> SwmmInput:
        """A copy whose section ``name`` holds exactly ``lines``.

        The first block of the section keeps its place (later blocks of the same section are
        dropped); a missing section is appended at the end.
        """
        key = name.upper()
        new_lines = tuple(lines)
        blocks: list[Block] = []
        placed = False
        for block in self.blocks:
            if block.name != key:
                blocks.append(block)
            elif not placed:
                blocks.append(Block(key, block.header, new_lines))
                placed = True
        if not placed:
            blocks.append(Block(key, f"[{key}]", new_lines))
        return self._evolve(blocks)

    def map_lines(self, name: str, func: Callable[[str], str]) -> SwmmInput:
        """A copy with ``func`` applied to every line of a section, one line for one line.

        Line numbers do not move, so SWMM's messages still point at the right line.
        """
        key = name.upper()
        return self._evolve(
            Block(b.name, b.header, tuple(func(ln) for ln in b.lines)) if b.name == key else b
            for b in self.blocks
        )

    def replace_rows(
        self, name: str, rows: Mapping[str, str | Sequence[object] | None]
    ) -> SwmmInput:
        """A copy with the data rows of the named elements replaced.

        ``rows`` maps an element name (a row's first token) to its new row: a raw line, a token
        sequence, or None to delete the element's rows. Every row of that element is replaced by
        the single new row, placed where its first row was. Naming an element the section does not
        hold raises ScenarioError.
        """
        key = name.upper()
        present = {tokens[0] for tokens in self.rows(key)}
        for element in rows:
            if element not in present:
                raise ScenarioError(
                    f"{where(self.source)}[{key}] has no element {element!r}; "
                    + suggest(element, present)
                )
        done: set[str] = set()

        def keep(line: str) -> list[str]:
            tokens = split_tokens(line)
            if not tokens or tokens[0] not in rows:
                return [line]
            element = tokens[0]
            if element in done:
                return []
            done.add(element)
            new = rows[element]
            if new is None:
                return []
            return [new if isinstance(new, str) else format_row(new)]

        blocks = [
            Block(b.name, b.header, tuple(out for ln in b.lines for out in keep(ln)))
            if b.name == key
            else b
            for b in self.blocks
        ]
        return self._evolve(blocks)

    def with_options(self, values: Mapping[str, object]) -> SwmmInput:
        """A copy with [OPTIONS] keywords set (e.g. ``{"REPORT_STEP": "00:00:10"}``).

        A keyword already present is rewritten in place (all its rows collapse to one); a new
        one is added at the end of the section.
        """
        wanted = {key.upper(): str(value) for key, value in values.items()}
        present = {tokens[0].upper(): tokens[0] for tokens in self.rows("OPTIONS")}
        inp = self.replace_rows(
            "OPTIONS", {present[k]: [present[k], v] for k, v in wanted.items() if k in present}
        )
        return inp.append_rows("OPTIONS", [[k, v] for k, v in wanted.items() if k not in present])

    def append_rows(self, name: str, rows: Iterable[str | Sequence[object]]) -> SwmmInput:
        """A copy with rows added at the end of a section (created at the end when missing)."""
        new = [r if isinstance(r, str) else format_row(r) for r in rows]
        if not new:
            return self
        lines = list(self.section(name))
        end = len(lines)
        while end and not lines[end - 1].strip():
            end -= 1  # keep the blank lines that separate this section from the next
        return self.with_section(name, [*lines[:end], *new, *lines[end:]])

    # --- options --------------------------------------------------------------------------------

    @property
    def options(self) -> dict[str, str]:
        """[OPTIONS] as upper-case keyword -> value text (SWMM's defaults are not filled in)."""
        out: dict[str, str] = {}
        for tokens in self.rows("OPTIONS"):
            out[tokens[0].upper()] = " ".join(tokens[1:])
        return out

    @property
    def title(self) -> str:
        """The first non-empty line of [TITLE], or ''."""
        for line in self.section("TITLE"):
            if line.strip() and not line.lstrip().startswith(";"):
                return line.strip()
        return ""

    @property
    def flow_units(self) -> str:
        """FLOW_UNITS, upper case; SWMM's default is CFS."""
        return self.options.get("FLOW_UNITS", "CFS").upper()

    @property
    def allow_ponding(self) -> bool:
        return self.options.get("ALLOW_PONDING", "NO").upper() == "YES"

    @property
    def start_datetime(self) -> _dt.datetime:
        return self._datetime("START_DATE", "START_TIME", None)

    @property
    def end_datetime(self) -> _dt.datetime:
        return self._datetime("END_DATE", "END_TIME", self.start_datetime)

    @property
    def report_start_datetime(self) -> _dt.datetime:
        return self._datetime("REPORT_START_DATE", "REPORT_START_TIME", self.start_datetime)

    @property
    def report_step(self) -> float:
        """REPORT_STEP in seconds (SWMM's default 15 min)."""
        return self._clock("REPORT_STEP", 900.0)

    @property
    def routing_step(self) -> float:
        """ROUTING_STEP in seconds (a plain number of seconds or hh:mm:ss; default 20 s)."""
        return self._clock("ROUTING_STEP", 20.0)

    def _clock(self, key: str, default: float) -> float:
        value = self.options.get(key)
        if value is None:
            return default
        try:
            return parse_clock(value)
        except ValueError:
            raise InputError(
                f"{where(self.source)}[OPTIONS] {key} {value!r} is not a time "
                "(expected hh:mm:ss or seconds)"
            ) from None

    def _datetime(self, date_key: str, time_key: str, default: _dt.datetime | None) -> _dt.datetime:
        opts = self.options
        if date_key not in opts:
            if default is not None and time_key not in opts:
                return default
            date = (default or _dt.datetime(2004, 1, 1)).date()  # SWMM's own default start
        else:
            try:
                date = parse_date(opts[date_key])
            except ValueError:
                raise InputError(
                    f"{where(self.source)}[OPTIONS] {date_key} {opts[date_key]!r} "
                    "is not a date (expected mm/dd/yyyy)"
                ) from None
        seconds = self._clock(time_key, 0.0)
        return _dt.datetime.combine(date, _dt.time()) + _dt.timedelta(seconds=seconds)

    # --- tables ---------------------------------------------------------------------------------

    def junctions(self) -> pd.DataFrame:
        """[JUNCTIONS]: invert_elevation, max_depth, initial_depth, surcharge_depth, ponded_area.

        Indexed by name, model units (ft or m, ft2 or m2); omitted trailing values are 0 as in SWMM.
        """
        cols = ["invert_elevation", "max_depth", "initial_depth", "surcharge_depth", "ponded_area"]
        return self._numeric_table("JUNCTIONS", cols, n_required=2)

    def outfalls(self) -> pd.DataFrame:
        """[OUTFALLS]: invert_elevation, outfall_type, stage_data, gated, route_to (by name)."""
        records = []
        for tokens in self.rows("OUTFALLS"):
            kind = tokens[2].upper() if len(tokens) > 2 else "FREE"
            rest = tokens[3:]
            stage = rest.pop(0) if kind in ("FIXED", "TIDAL", "TIMESERIES") and rest else ""
            gated = rest.pop(0).upper() == "YES" if rest else False
            route_to = rest.pop(0) if rest else ""
            records.append(
                {
                    "name": tokens[0],
                    "invert_elevation": _number(tokens, 1, self, "OUTFALLS"),
                    "outfall_type": kind,
                    "stage_data": stage,
                    "gated": gated,
                    "route_to": route_to,
                }
            )
        return _frame(
            records, ["invert_elevation", "outfall_type", "stage_data", "gated", "route_to"]
        )

    def storage(self) -> pd.DataFrame:
        """[STORAGE]: invert_elevation, max_depth, initial_depth, shape, curve, coefficients
        (a1, a2, a0 for functional and analytic shapes), surcharge_depth, evaporation_fraction."""
        records = []
        for tokens in self.rows("STORAGE"):
            shape = tokens[4].upper() if len(tokens) > 4 else ""
            if shape == "TABULAR":
                curve, coeffs, rest = (tokens[5] if len(tokens) > 5 else ""), [], tokens[6:]
            else:
                curve, coeffs, rest = "", tokens[5:8], tokens[8:]
            a1, a2, a0 = (
                _to_float(c, self, "STORAGE", tokens[0]) for c in (coeffs + ["nan"] * 3)[:3]
            )
            records.append(
                {
                    "name": tokens[0],
                    "invert_elevation": _number(tokens, 1, self, "STORAGE"),
                    "max_depth": _number(tokens, 2, self, "STORAGE"),
                    "initial_depth": _number(tokens, 3, self, "STORAGE"),
                    "shape": shape,
                    "curve": curve,
                    "a1": a1,
                    "a2": a2,
                    "a0": a0,
                    "surcharge_depth": _to_float(rest[0], self, "STORAGE", tokens[0])
                    if rest
                    else 0.0,
                    "evaporation_fraction": _to_float(rest[1], self, "STORAGE", tokens[0])
                    if len(rest) > 1
                    else 0.0,
                }
            )
        return _frame(
            records,
            [
                "invert_elevation",
                "max_depth",
                "initial_depth",
                "shape",
                "curve",
                "a1",
                "a2",
                "a0",
                "surcharge_depth",
                "evaporation_fraction",
            ],
        )

    def subcatchments(self) -> pd.DataFrame:
        """[SUBCATCHMENTS]: rain_gage, outlet, area (acres or ha), imperviousness (%), width,
        slope (%), curb_length, by name."""
        records = []
        for tokens in self.rows("SUBCATCHMENTS"):
            name = tokens[0]
            values = [_to_float(t, self, "SUBCATCHMENTS", name) for t in tokens[3:8]]
            values += [0.0] * (5 - len(values))
            records.append(
                {
                    "name": name,
                    "rain_gage": tokens[1] if len(tokens) > 1 else "",
                    "outlet": tokens[2] if len(tokens) > 2 else "",
                    "area": values[0],
                    "imperviousness": values[1],
                    "width": values[2],
                    "slope": values[3],
                    "curb_length": values[4],
                }
            )
        return _frame(
            records,
            ["rain_gage", "outlet", "area", "imperviousness", "width", "slope", "curb_length"],
        )

    def coordinates(self) -> pd.DataFrame:
        """[COORDINATES]: x, y of each node, by name (map units)."""
        return self._numeric_table("COORDINATES", ["x", "y"], n_required=3)

    def _numeric_table(self, section: str, cols: list[str], *, n_required: int) -> pd.DataFrame:
        records = []
        for tokens in self.rows(section):
            if len(tokens) < n_required:
                raise InputError(
                    f"{where(self.source)}[{section}] row {' '.join(tokens)!r} has "
                    f"too few values (expected at least {n_required})"
                )
            values = [_to_float(t, self, section, tokens[0]) for t in tokens[1 : 1 + len(cols)]]
            values += [0.0] * (len(cols) - len(values))
            records.append({"name": tokens[0], **dict(zip(cols, values, strict=True))})
        return _frame(records, cols)


def _frame(records: list[dict], cols: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=["name", *cols])
    return frame.set_index("name")


def _to_float(token: str, inp: SwmmInput, section: str, element: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise InputError(
            f"{where(inp.source)}[{section}] {element}: {token!r} is not a number"
        ) from None


def _number(tokens: list[str], i: int, inp: SwmmInput, section: str) -> float:
    return _to_float(tokens[i], inp, section, tokens[0]) if len(tokens) > i else float("nan")


def parse_clock(text: str) -> float:
    """Seconds from 'hh:mm:ss', 'hh:mm', or a plain number of seconds."""
    text = text.strip()
    if ":" not in text:
        return float(text)
    parts = [float(p) for p in text.split(":")]
    while len(parts) < 3:
        parts.append(0.0)
    hours, minutes, seconds = parts[:3]
    return hours * 3600.0 + minutes * 60.0 + seconds


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}


def parse_date(text: str) -> _dt.date:
    """A SWMM date: mm/dd/yyyy (also mm-dd-yyyy, or a month name like Jan/02/2004)."""
    parts = re.split(r"[/-]", text.strip())
    if len(parts) != 3:
        raise ValueError(text)
    month = _MONTHS.get(parts[0][:3].upper()) or int(parts[0])
    return _dt.date(int(parts[2]), month, int(parts[1]))


# ------------------------------------------------------------------------------------------------
# Reading


def read_inp(path: str | Path) -> SwmmInput:
    """Read a SWMM INP file (UTF-8, else GBK/GB18030) into a :class:`SwmmInput`.

    Raises InputError naming the file for a missing file, an empty or binary file, and a file that
    is not a SWMM model (no [SECTION] headers, or none of SWMM's own sections).
    """
    doc = read_text(path)
    inp = SwmmInput.from_text(
        doc.text, source=doc.path, encoding=doc.encoding, source_sha256=doc.sha256
    )
    check_is_swmm(inp)
    return inp


def check_is_swmm(inp: SwmmInput) -> None:
    """Raise InputError unless the sections look like a SWMM model."""
    names = set(inp.section_names)
    if not names:
        raise InputError(f"{where(inp.source)}not a SWMM INP file: no [SECTION] headers found")
    if names & SWMM_ONLY_SECTIONS:
        return
    epanet = sorted(names & (EPANET_SECTIONS - SWMM_SECTIONS))
    if epanet:
        raise InputError(
            f"{where(inp.source)}this is an EPANET model (it has "
            + ", ".join(f"[{n}]" for n in epanet)
            + "), not a SWMM model; run it as a water supply model"
        )
    shown = ", ".join(f"[{n}]" for n in sorted(names)[:6])
    raise InputError(
        f"{where(inp.source)}not a SWMM INP file: none of its sections ({shown}) "
        "is a SWMM section such as [CONDUITS], [OUTFALLS] or [SUBCATCHMENTS]"
    )
