"""A fast, read-only view of an EPANET INP file's elements, in the engine's own index order.

Asking the toolkit for tens of thousands of IDs one ctypes call at a time costs more than the
hydraulic solve of a 24 h run; one pass over the text costs a third of that. EPANET numbers
junctions first (in file order), then reservoirs and tanks (in file order), and links in the order
they appear; the engine adapter checks a sample of this against the toolkit and falls back to the
toolkit when they disagree.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass

import numpy as np

_VALVE_TYPES = {"PRV": 3, "PSV": 4, "PBV": 5, "FCV": 6, "TCV": 7, "GPV": 8, "PCV": 9}
_NODE_SECTIONS = {"JUNCTIONS": 0, "RESERVOIRS": 1, "TANKS": 2}
_LINK_SECTIONS = {"PIPES", "PUMPS", "VALVES"}
_WANTED = {*_NODE_SECTIONS, *_LINK_SECTIONS, "COORDINATES", "TAGS"}


@dataclass(frozen=True)
class Tables:
    """Nodes and links as EPANET indexes them (0-based here), with their types and link ends."""

    node_ids: list[str]
    node_types: np.ndarray  # int8, EPANET node type codes
    link_ids: list[str]
    link_types: np.ndarray  # int8, EPANET link type codes
    link_start: np.ndarray  # int64 node index
    link_end: np.ndarray  # int64 node index


@dataclass(frozen=True)
class Elements(Tables):
    """The tables, with the nodes' map coordinates and the elements' tags."""

    x: np.ndarray  # float64, NaN where the file gives no coordinates
    y: np.ndarray
    tags: dict[tuple[str, str], str]  # ("NODE"|"LINK", id) -> tag


def read_elements(text: str, *, tables: Callable[[Tables], None] | None = None) -> Elements:
    """Parse the element tables of an EPANET INP text (no validation: the engine does that).

    ``tables`` is called with the node and link tables as soon as they are parsed, before the
    coordinates and tags (a third of the work on a large model): what a run needs first.

    One split per line, in comprehensions, keeps the per-line work small; the garbage collector
    is held off meanwhile, because tens of thousands of fresh token lists would trigger full
    collections of whatever large heap the caller holds.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_elements(text, tables or (lambda _: None))
    finally:
        if enabled:
            gc.enable()


SWITCH_INTERVAL = 2e-4  # s, while a parse runs beside the engine (see Parsing)


class Parsing:
    """The element tables of a text, parsed in a thread from the moment this is made (after
    ``check``, a test of the text whose error :meth:`checked` and :meth:`result` re-raise).

    The engine's C code releases the GIL, so while EPANET opens and solves the model the parse
    costs nothing on a second core; :meth:`result` waits for it and re-raises its error. While
    a parse runs the interpreter's switch interval is cut to :data:`SWITCH_INTERVAL`: at the
    default 5 ms, every return of the main thread from a toolkit call would wait up to 5 ms for
    the parse to hand back the GIL (measured: the accounts' set-up 2 ms alone, 80-160 ms beside
    a parse of BWSN_Network_2).
    """

    _lock = threading.Lock()
    _running = 0
    _interval = 0.005

    def __init__(self, text: str, *, check: Callable[[], None] | None = None):
        self._tables: Tables | None = None
        self._tables_done = threading.Event()  # the tables are parsed, or the parse ended
        self._result: Elements | None = None
        self._error: BaseException | None = None
        self._checked = threading.Event()
        self._check_error: BaseException | None = None
        self._go = threading.Event()
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, args=(text, check), daemon=True)
        self._thread.start()

    def go(self) -> None:
        """Let the parse start. The engine calls this as it enters EPANET's own read of the file
        (C code, without the GIL), so that the parse does not hold up the main thread's Python
        before it; whoever waits for the result lets it start too."""
        self._go.set()

    def cancel(self) -> None:
        """Never start (the network was dropped unused): the waiting thread ends at once."""
        self._cancelled = True
        self._go.set()

    def _run(self, text: str, check: Callable[[], None] | None) -> None:
        self._go.wait()
        if self._cancelled:
            self._error = RuntimeError("the parse was cancelled")
            self._checked.set()
            self._tables_done.set()
            return
        with Parsing._lock:
            if Parsing._running == 0:
                Parsing._interval = sys.getswitchinterval()
                sys.setswitchinterval(min(SWITCH_INTERVAL, Parsing._interval))
            Parsing._running += 1
        try:
            try:
                if check is not None:
                    check()
            except BaseException as err:  # the text is refused: nothing to parse
                self._check_error = self._error = err
                return
            finally:
                self._checked.set()
            self._result = read_elements(text, tables=self._publish)
        except BaseException as err:  # handed to the caller of result()
            self._error = err
        finally:
            self._tables_done.set()
            with Parsing._lock:
                Parsing._running -= 1
                if Parsing._running == 0:
                    sys.setswitchinterval(Parsing._interval)

    def checked(self) -> None:
        """Wait for the check made before the parse (it is short), and re-raise its error."""
        self.go()
        self._checked.wait()
        if self._check_error is not None:
            raise self._check_error

    def done(self) -> bool:
        """Whether the parse has finished (never waits)."""
        return not self._thread.is_alive()

    def _publish(self, tables: Tables) -> None:
        self._tables = tables
        self._tables_done.set()

    def tables_done(self) -> bool:
        """Whether the node and link tables are parsed (or the parse failed; never waits)."""
        return self._tables_done.is_set()

    def tables(self) -> Tables:
        """The node and link tables, as soon as they are parsed (before the coordinates and
        tags that :meth:`result` waits for); re-raises the parse's error."""
        self.go()
        self._tables_done.wait()
        if self._tables is None:
            return self.result()  # the parse failed before the tables: its error
        return self._tables

    def result(self) -> Elements:
        self.go()
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def _read_elements(text: str, publish: Callable[[Tables], None]) -> Elements:
    blocks = _blocks(text)
    junctions = _first_tokens(blocks, "JUNCTIONS")
    # Reservoirs and tanks share one numbering after the junctions, in file order.
    others = sorted(
        (pos, k, name, _NODE_SECTIONS[sec])
        for sec in ("RESERVOIRS", "TANKS")
        for pos, block in blocks.get(sec, [])
        for k, name in enumerate(row[0] for row in _split(block, 1))
    )
    node_ids = [*junctions, *(name for _, _, name, _ in others)]
    node_types = np.array([0] * len(junctions) + [kind for *_, kind in others], dtype=np.int8)
    index = {name: i for i, name in enumerate(node_ids)}  # EPANET 2.3 IDs are case-sensitive

    link_ids: list[str] = []
    link_types: list[np.ndarray] = []
    ends: list[list[int]] = []
    in_file_order = sorted(
        ((name, pos, block) for name in _LINK_SECTIONS for pos, block in blocks.get(name, [])),
        key=lambda r: r[1],
    )
    for sec, _, block in in_file_order:
        rows = _split(block, 3)
        link_ids += [r[0] for r in rows]
        rest = [r[3] if len(r) > 3 else "" for r in rows]
        link_types.append(
            np.array(
                [_link_type(sec, x) for x in rest]
                if sec != "PIPES"
                else [_link_type(sec, x) if "cv" in x.lower() else 1 for x in rest],
                dtype=np.int8,
            )
        )
        ends += [[index.get(r[1], -1), index.get(r[2], -1)] for r in rows]
    ends_array = np.array(ends, dtype=np.int64).reshape(-1, 2)
    types = np.concatenate(link_types) if link_types else np.empty(0, dtype=np.int8)
    tables = Tables(node_ids, node_types, link_ids, types, ends_array[:, 0], ends_array[:, 1])
    publish(tables)

    x = np.full(len(node_ids), np.nan)
    y = np.full(len(node_ids), np.nan)
    for _, block in blocks.get("COORDINATES", []):
        rows = _split(block, 3)
        at = np.array([index.get(r[0], -1) for r in rows], dtype=np.int64)
        xy = _numbers([r[1] for r in rows] + [r[2] for r in rows]).reshape(2, -1)
        known = at >= 0
        x[at[known]], y[at[known]] = xy[0, known], xy[1, known]
    tags = {}
    for _, block in blocks.get("TAGS", []):
        for kind, name, tag, *_ in _split(block, 3):
            tags[(kind.upper(), name)] = tag
    return Elements(**vars(tables), x=x, y=y, tags=tags)


def read_sections(text: str, names: Iterable[str]) -> dict[str, list[list[str]]]:
    """The data rows (tokens, comments cut) of the named sections, every block in file order.

    For what :func:`read_elements` does not hold (options, pipe properties); a section the file
    lacks gives no rows.
    """
    wanted = {name.upper() for name in names}
    blocks = _blocks(text, wanted)
    return {
        name: [
            row
            for _, block in blocks.get(name, [])
            for line in block.splitlines()
            if (row := line.partition(";")[0].split())
        ]
        for name in wanted
    }


def _blocks(text: str, wanted: Set[str] = _WANTED) -> dict[str, list[tuple[int, str]]]:
    """Section name -> [(position in file, text of the section)], for the ``wanted`` sections."""
    heads = []
    at = text.find("[")
    while at >= 0:
        line_start = text.rfind("\n", 0, at) + 1
        close = text.find("]", at)
        if close > at and not text[line_start:at].strip():
            heads.append((at, close + 1, text[at + 1 : close].strip().upper()))
        at = text.find("[", at + 1)
    blocks: dict[str, list[tuple[int, str]]] = {}
    for k, (at, body, name) in enumerate(heads):
        if name in wanted:
            end = heads[k + 1][0] if k + 1 < len(heads) else len(text)
            blocks.setdefault(name, []).append((at, text[body:end]))
    return blocks


def _first_tokens(blocks: dict, section: str) -> list[str]:
    return [row[0] for _, block in blocks.get(section, []) for row in _split(block, 1)]


def _split(block: str, fields: int) -> list[list[str]]:
    """The data rows of a section: comments cut, at least ``fields`` tokens, then the rest."""
    rows = (line.partition(";")[0].split(None, fields) for line in block.splitlines())
    return [r for r in rows if len(r) >= fields]


def _numbers(tokens: list[str]) -> np.ndarray:
    """Floats from strings, NaN where a token is not a number."""
    try:  # float() one by one: a quarter of the time of numpy's cast from an array of str
        return np.fromiter(map(float, tokens), np.float64, len(tokens))
    except ValueError:
        return np.array([_number(t) for t in tokens], dtype=np.float64)


def _number(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        return float("nan")


def _link_type(section: str, rest: str) -> int:
    if section == "PUMPS":
        return 2
    fields = rest.split(";", 1)[0].split()
    if section == "VALVES":
        return _VALVE_TYPES.get(fields[1].upper(), -1) if len(fields) > 1 else -1
    return 0 if len(fields) > 4 and fields[4].upper() == "CV" else 1
