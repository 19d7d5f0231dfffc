"""Observed rainfall series: read gauge CSV files, check them, and check they cover a run.

CSV layout: a header row, then one row per interval. The first column is the time (ISO 8601, e.g.
``2024-06-20T08:05``, or ``YYYY-MM-DD HH:MM``); every other column is one rain gauge, named in the
header. Values are either depths per interval (``units="mm"``) or intensities (``units="mm/h"``).
Blank lines and lines starting with ``#`` are skipped. A time marks the start of its interval
(``label="start"``, SWMM's convention) or its end (``label="end"``, common for logger exports).
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from hydro.errors import InputError, ScenarioError, where
from hydro.paths import check_readable

#: How many offending rows a message lists before saying "and N more".
_SHOWN = 5
_CELL = 24  # characters of a cell shown in an error
_MISSING = {"", "nan", "na", "n/a", "null", "none", "-"}


@dataclass(frozen=True, eq=False)
class RainSeries:
    """Rainfall at one or several gauges on a regular time step.

    ``times``: interval starts, datetime64[ns], shape (n_time,). ``intensity``: m/s, shape
    (n_time, n_gauge), constant over each interval of ``step`` seconds. ``gauges``: column names.
    ``source``: the file (or generator) the series came from, for messages. Arrays are read-only.
    """

    times: np.ndarray
    gauges: tuple[str, ...]
    intensity: np.ndarray
    step: float
    source: str | None = None

    def __post_init__(self) -> None:
        times = np.array(self.times, dtype="datetime64[ns]")
        values = np.array(self.intensity, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        if values.shape != (times.size, len(self.gauges)):
            raise ValueError(
                f"intensity of shape {values.shape} does not match "
                f"{times.size} times x {len(self.gauges)} gauges"
            )
        times.setflags(write=False)
        values.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "intensity", values)
        object.__setattr__(self, "gauges", tuple(self.gauges))
        object.__setattr__(self, "step", float(self.step))

    @property
    def start(self) -> np.datetime64:
        """Start of the first interval."""
        return self.times[0]

    @property
    def end(self) -> np.datetime64:
        """End of the last interval."""
        return self.times[-1] + np.timedelta64(round(self.step * 1e9), "ns")

    @property
    def depth(self) -> np.ndarray:
        """Total depth per gauge in m, shape (n_gauge,), in the order of :attr:`gauges`."""
        return self.intensity.sum(axis=0) * self.step

    def to_mm_per_hour(self) -> np.ndarray:
        """Intensity in mm/h, shape (n_time, n_gauge)."""
        return self.intensity * 3.6e6

    def gauge(self, name: str) -> np.ndarray:
        """Intensity (m/s) of one gauge."""
        from hydro.errors import suggest

        if name not in self.gauges:
            raise ScenarioError(
                f"{where(self.source)}no rain gauge {name!r}; {suggest(name, self.gauges)}"
            )
        return self.intensity[:, self.gauges.index(name)]

    def covers(self, start, end) -> bool:
        """True when the series has data for the whole period [start, end]."""
        t0, t1 = _instant(start, "start"), _instant(end, "end")
        return bool(self.start <= t0 and t1 <= self.end)

    def check_covers(self, start, end) -> None:
        """Raise :class:`ScenarioError` unless the series covers [start, end]."""
        t0, t1 = _instant(start, "start"), _instant(end, "end")
        if t1 < t0:
            raise ScenarioError(
                f"simulation period ends ({_fmt(t1)}) before it starts ({_fmt(t0)})"
            )
        if not self.covers(t0, t1):
            raise ScenarioError(
                f"{where(self.source)}rainfall covers {_fmt(self.start)} to {_fmt(self.end)}, "
                f"the simulation runs {_fmt(t0)} to {_fmt(t1)}; expected rainfall for the whole "
                "simulation period"
            )

    def between(self, start, end) -> RainSeries:
        """The intervals that overlap [start, end)."""
        t0, t1 = _instant(start, "start"), _instant(end, "end")
        step = np.timedelta64(round(self.step * 1e9), "ns")
        keep = (self.times + step > t0) & (self.times < t1)
        return RainSeries(
            self.times[keep], self.gauges, self.intensity[keep], self.step, self.source
        )

    def to_dataset(self, *, start=None, scenario: str = "observed"):
        """A Dataset with ``rain_intensity`` (scenario, time, gauge), time elapsed since
        ``start`` (default: the first interval); the absolute start goes in attrs."""
        from hydro.results import build_dataset

        t0 = self.start if start is None else _instant(start, "start")
        coords = {"scenario": [scenario], "time": self.times - t0, "gauge": list(self.gauges)}
        attrs = {"start_time": _fmt(t0), "rain_step_s": self.step, "rain_source": self.source}
        return build_dataset({"rain_intensity": self.intensity[None]}, coords=coords, attrs=attrs)


def _instant(value, what: str) -> np.datetime64:
    try:
        if isinstance(value, _dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return np.datetime64(value, "ns")
    except (TypeError, ValueError):
        raise ScenarioError(
            f"simulation {what}: {value!r} is not a date and time; expected e.g. '2024-06-20 08:00'"
        ) from None


def _fmt(t: np.datetime64) -> str:
    return str(np.datetime_as_string(t, unit="s")).replace("T", " ")


def _cell(text: str) -> str:
    """A cell quoted in a message: short, so that an error never shows much of a file."""
    return repr(text if len(text) <= _CELL else text[:_CELL] + "...")


def _rows_text(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_SHOWN])
    more = f" and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


# --- reading ------------------------------------------------------------------------------------


def _parse_time(text: str, path: Path, line: int) -> _dt.datetime:
    try:
        stamp = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{path}: line {line}: time {_cell(text)} is not a date and time; expected "
            "ISO 8601 such as '2024-06-20T08:05' or '2024-06-20 08:05'"
        ) from None
    return stamp


def _parse_value(text: str, path: Path, line: int, gauge: str, missing: list) -> float:
    cleaned = text.strip()
    if cleaned.lower() in _MISSING:
        missing.append((line, gauge))
        return math.nan
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(
            f"{path}: line {line}, gauge {_cell(gauge)}: {_cell(text)} is not a number; "
            "expected a rainfall value such as 0.4"
        ) from None
    if math.isnan(value):
        missing.append((line, gauge))
        return math.nan
    if not math.isfinite(value):
        raise InputError(
            f"{path}: line {line}, gauge {_cell(gauge)}: {_cell(text)} is not a finite "
            "number; expected a rainfall value such as 0.4"
        )
    if value < 0:
        raise InputError(
            f"{path}: line {line}, gauge {_cell(gauge)}: rainfall {value:g} is negative; "
            "expected a value >= 0"
        )
    return value


def _read_rows(path: Path, delimiter: str):
    """Header cells and (line number, cells) of the data rows, comments and blanks skipped."""
    check_readable(path, what="rainfall file", kind="table")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [(n, cells) for n, cells in enumerate(csv.reader(fh, delimiter=delimiter), 1)]
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not a UTF-8 text file ({err.reason}); expected a CSV file"
        ) from None
    except csv.Error as err:
        raise InputError(f"{path}: not a readable CSV file ({err})") from None
    rows = [
        (n, cells)
        for n, cells in rows
        if cells and any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#")
    ]
    if not rows:
        raise InputError(
            f"{path}: the file is empty; expected a header row 'time,<gauge>,...' "
            "and one row per interval"
        )
    return rows[0], rows[1:]


def _check_header(path: Path, line: int, header: list[str]) -> tuple[str, ...]:
    gauges = tuple(cell.strip() for cell in header[1:])
    if not gauges:
        raise InputError(  # the line is not quoted: it may not be a rain file at all
            f"{path}: line {line}: the header names no rain gauge; expected 'time,<gauge>,...'"
        )
    for k, name in enumerate(gauges, 2):
        if not name:
            raise InputError(f"{path}: line {line}: column {k} of the header has no gauge name")
    dupes = sorted(name for name, count in Counter(gauges).items() if count > 1)
    if dupes:
        raise InputError(
            f"{path}: line {line}: gauge {_cell(dupes[0])} appears more than once in "
            "the header; expected one column per gauge"
        )
    return gauges


def _to_naive(stamps: list[_dt.datetime], lines: list[int], path: Path) -> list[_dt.datetime]:
    """All naive, or all with a UTC offset (then converted to naive UTC); a mix is an error."""
    aware = [s.tzinfo is not None for s in stamps]
    if all(aware):
        return [s.astimezone(_dt.UTC).replace(tzinfo=None) for s in stamps]
    if any(aware):
        bad = lines[aware.index(not aware[0])]
        raise InputError(
            f"{path}: line {bad}: some times carry a UTC offset and others do not; "
            "expected the same form on every row"
        )
    return stamps


def _check_times(times: np.ndarray, lines: list[int], path: Path, step: float | None) -> float:
    """Sorted, unique and regular times; returns the step in seconds."""
    if times.size == 0:
        raise InputError(
            f"{path}: the header has no data rows after it; expected one row per interval"
        )
    diffs = np.diff(times).astype("timedelta64[ns]").astype(np.int64)
    dup = [lines[k + 1] for k in np.nonzero(diffs == 0)[0]]
    if dup:
        raise InputError(f"{path}: duplicate times at {_rows_text(dup)}; expected each time once")
    back = [lines[k + 1] for k in np.nonzero(diffs < 0)[0]]
    if back:
        raise InputError(
            f"{path}: times go backwards at {_rows_text(back)}; expected rows sorted by time"
        )
    if step is None:
        if times.size == 1:
            raise InputError(
                f"{path}: a single row cannot tell the time step; pass step= (seconds)"
            )
        step_ns = Counter(diffs.tolist()).most_common(1)[0][0]
    else:
        step_ns = round(step * 1e9)
    odd = np.nonzero(diffs != step_ns)[0].tolist()
    if odd:
        listed = [f"{lines[k]}-{lines[k + 1]} ({diffs[k] / 6e10:g} min)" for k in odd[:_SHOWN]]
        more = f" and {len(odd) - _SHOWN} more" if len(odd) > _SHOWN else ""
        raise InputError(
            f"{path}: irregular time step between lines {', '.join(listed)}{more}; "
            f"expected every row {step_ns / 6e10:g} min after the one before "
            "(fill gaps with 0 if no rain fell)"
        )
    return step_ns / 1e9


def _parse_times(rows, path: Path) -> np.ndarray:
    """The time column as datetime64[ns]: numpy's parser for plain ISO times, the slow
    line-by-line parser when it fails (to name the line) or when times carry UTC offsets."""
    texts = [cells[0].strip() for _, cells in rows]
    if not any(_has_offset(text) for text in texts):
        try:
            times = np.array(texts, dtype="datetime64[ns]")
        except ValueError:
            times = None
        if times is not None and not np.any(np.isnat(times)):
            return times
    lines = [line for line, _ in rows]
    stamps = [_parse_time(text, path, line) for text, line in zip(texts, lines, strict=True)]
    return np.array(_to_naive(stamps, lines, path), dtype="datetime64[ns]")


def _has_offset(text: str) -> bool:
    clock = text[10:]
    return "+" in clock or "-" in clock or "Z" in clock or "z" in clock


def _parse_values(rows, gauges: tuple[str, ...], path: Path) -> np.ndarray:
    """The gauge columns as floats (n_time, n_gauge), every bad cell named by line and gauge."""
    try:
        data = np.array([cells[1:] for _, cells in rows], dtype=float)
    except ValueError:
        data = None  # some cell is not a plain number: find it line by line
    lines = [line for line, _ in rows]
    missing: list[tuple[int, str]] = []
    if data is None:
        data = np.array(
            [
                [
                    _parse_value(cell, path, line, gauge, missing)
                    for cell, gauge in zip(cells[1:], gauges, strict=True)
                ]
                for line, cells in rows
            ],
            dtype=float,
        )
    else:
        infinite = np.argwhere(np.isinf(data))
        if infinite.size:
            k, j = infinite[0]
            raise InputError(
                f"{path}: line {lines[k]}, gauge {_cell(gauges[j])}: "
                f"{_cell(rows[k][1][j + 1])} is not a finite number; expected a "
                "rainfall value such as 0.4"
            )
        missing = [(lines[k], gauges[j]) for k, j in zip(*np.nonzero(np.isnan(data)), strict=True)]
    if missing:
        by_gauge: dict[str, list[int]] = {}
        for line, gauge in missing:  # file order: the first gap's gauge is reported
            by_gauge.setdefault(gauge, []).append(line)
        gauge, where_lines = next(iter(by_gauge.items()))
        others = f" (and gaps at {len(by_gauge) - 1} other gauge(s))" if len(by_gauge) > 1 else ""
        raise InputError(
            f"{path}: gauge {_cell(gauge)} has missing values at "
            f"{_rows_text(where_lines)}{others}; expected a number on every "
            "row (0 where no rain fell)"
        )
    negative = np.argwhere(data < 0)
    if negative.size:
        k, j = negative[0]
        raise InputError(
            f"{path}: line {lines[k]}, gauge {_cell(gauges[j])}: rainfall "
            f"{data[k, j]:g} is negative; expected a value >= 0"
        )
    return data


def read_rain_csv(
    path: str | Path,
    *,
    units: Literal["mm", "mm/h"] = "mm",
    label: Literal["start", "end"] = "start",
    step: float | None = None,
    delimiter: str = ",",
) -> RainSeries:
    """Read a rain gauge CSV file into a :class:`RainSeries` (intensity in m/s).

    ``units``: "mm" for depth per interval, "mm/h" for intensity. ``label``: whether a row's time
    is the start or the end of its interval. ``step``: the time step in seconds; by default the
    most common spacing of the rows. Every problem raises :class:`InputError` naming the file,
    the line and the gauge: missing or empty file, unparsable time or number, negative value,
    missing value, duplicate or unsorted times, irregular steps.
    """
    path = Path(path)
    if units not in ("mm", "mm/h"):
        raise InputError(
            f"{path}: units = {units!r}; expected 'mm' (depth per interval) or 'mm/h' (intensity)"
        )
    if label not in ("start", "end"):
        raise InputError(f"{path}: label = {label!r}; expected 'start' or 'end' of the interval")
    if step is not None and not (math.isfinite(step) and step > 0):
        raise InputError(f"{path}: step = {step!r}; expected a number of seconds > 0")
    (header_line, header), rows = _read_rows(path, delimiter)
    gauges = _check_header(path, header_line, header)

    for line, cells in rows:
        if len(cells) != len(gauges) + 1:
            raise InputError(
                f"{path}: line {line}: {len(cells)} columns; expected "
                f"{len(gauges) + 1} (time and {len(gauges)} gauge(s))"
            )
    lines = [line for line, _ in rows]
    times = _parse_times(rows, path)
    data = _parse_values(rows, gauges, path)
    step = _check_times(times, lines, path, step)
    if label == "end":
        times = times - np.timedelta64(round(step * 1e9), "ns")
    intensity = data / 1e3 / step if units == "mm" else data / 1e3 / 3600.0
    return RainSeries(times=times, gauges=gauges, intensity=intensity, step=step, source=str(path))
