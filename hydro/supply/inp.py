"""A fast, read-only view of an EPANET INP file's elements, in the engine's own index order.

Asking the toolkit for tens of thousands of IDs one ctypes call at a time costs more than the
hydraulic solve of a 24 h run; one compiled pass over the text's bytes (:mod:`hydro.kernels.tokens`,
rows split as EPANET splits them) costs a twelfth of it, most of it without the GIL. EPANET numbers
junctions first (in file order), then reservoirs and tanks (in file order), and links in the order
they appear; the engine adapter checks a sample of this against the toolkit and falls back to the
toolkit when they disagree.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass

import numpy as np

from hydro.kernels import tokens

_VALVE_TYPES = {"PRV": 3, "PSV": 4, "PBV": 5, "FCV": 6, "TCV": 7, "GPV": 8, "PCV": 9}
_NODE_SECTIONS = {"JUNCTIONS": 0, "RESERVOIRS": 1, "TANKS": 2}
# The tokens each link section is read for: ID, ends, and the words that say its type.
_LINK_TOKENS = {"PIPES": 8, "PUMPS": 3, "VALVES": 5}
_ELEMENT_SECTIONS = (*_NODE_SECTIONS, *_LINK_TOKENS, "COORDINATES")
_WANTED = {*_ELEMENT_SECTIONS, "TAGS"}


@dataclass(frozen=True)
class Tables:
    """Nodes and links as EPANET indexes them (0-based here), with their types and link ends.

    ``exact`` is False where the text holds what this read does not follow as EPANET does (a
    quoted ID): the engine's tables are then used (see EpanetProject.elements)."""

    node_ids: list[str]
    node_types: np.ndarray  # int8, EPANET node type codes
    link_ids: list[str]
    link_types: np.ndarray  # int8, EPANET link type codes
    link_start: np.ndarray  # int64 node index
    link_end: np.ndarray  # int64 node index
    exact: bool = True


@dataclass(frozen=True, kw_only=True)
class Elements(Tables):
    """The tables, with the nodes' map coordinates and the elements' tags."""

    x: np.ndarray  # float64, NaN where the file gives no coordinates
    y: np.ndarray
    tags: dict[tuple[str, str], str]  # ("NODE"|"LINK", id) -> tag


def read_elements(text: str, *, tables: Callable[[Tables], None] | None = None) -> Elements:
    """Parse the element tables of an EPANET INP text (no validation: the engine does that).

    ``tables`` is called with the node and link tables as soon as they are parsed, before the
    coordinates and tags (a quarter of the work on a large model): what a run needs first.

    Sections are found by their headers in Python; the compiled kernels give each row's token
    spans, look the link ends and coordinates' nodes up by hash and read the type words and
    numbers; Python then makes the ID strings with one decode and one split.
    """
    return _read_elements(text, tables or (lambda _: None))


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
    data = text.encode("utf-8")
    buf = np.frombuffer(data, np.uint8)
    blocks = _blocks(data)

    def rows(section: str, wanted: int, minimum: int) -> list[tuple[int, np.ndarray]]:
        return [
            (at, tokens.row_spans(buf, at, end, wanted, minimum))
            for at, end in blocks.get(section, [])
        ]

    junctions = _stack([spans[:, 0] for _, spans in rows("JUNCTIONS", 1, 1)])
    # Reservoirs and tanks share one numbering after the junctions, in file order.
    others = [
        (spans[:, 0], np.full(len(spans), kind, np.int8))
        for sec, kind in _NODE_SECTIONS.items()
        if sec != "JUNCTIONS"
        for _, spans in rows(sec, 1, 1)
    ]
    other_spans = _stack([spans for spans, _ in others])
    order = np.argsort(other_spans[:, 0], kind="stable")
    node_spans = _stack([junctions, other_spans[order]])
    node_types = np.concatenate(
        [np.zeros(len(junctions), np.int8), *(kinds for _, kinds in others)]
    )
    node_types[len(junctions) :] = node_types[len(junctions) :][order]

    link_rows = sorted(
        (at, name, spans)
        for name, wanted in _LINK_TOKENS.items()
        for at, spans in rows(name, wanted, 3)
    )
    link_spans = _stack([spans[:, 0] for *_, spans in link_rows])
    types = np.concatenate(
        [_link_types(buf, name, spans) for _, name, spans in link_rows] or [np.empty(0, np.int8)]
    )
    table = tokens.hash_table(buf, node_spans)
    ends = [
        tokens.find(buf, node_spans, table, _stack([spans[:, k] for *_, spans in link_rows]))
        for k in (1, 2)
    ]
    node_ids = _strings(buf, node_spans)
    # EPANET reads "a b" as one token (gettokens), a quirk this read does not follow
    quoted = any(
        data.find(b'"', a, b) >= 0 for name in _ELEMENT_SECTIONS for a, b in blocks.get(name, [])
    )
    tables = Tables(
        node_ids,
        node_types,
        _strings(buf, link_spans),
        types,
        link_start=ends[0],
        link_end=ends[1],
        exact=not quoted,
    )
    publish(tables)

    x = np.full(len(node_ids), np.nan)
    y = np.full(len(node_ids), np.nan)
    for _, spans in rows("COORDINATES", 3, 3):
        node = tokens.find(buf, node_spans, table, np.ascontiguousarray(spans[:, 0]))
        xs, ys = _numbers(data, buf, spans[:, 1]), _numbers(data, buf, spans[:, 2])
        known = (node >= 0) & ~np.isnan(xs) & ~np.isnan(ys)  # EPANET skips a row it cannot read
        x[node[known]], y[node[known]] = xs[known], ys[known]
    tags = {}
    for start, end in blocks.get("TAGS", []):
        for kind, name, tag, *_ in _split(data[start:end].decode("utf-8"), 3):
            tags[(kind.upper(), name)] = tag
    return Elements(**vars(tables), x=x, y=y, tags=tags)


_CHECK_VALVE = np.frombuffer(b"CV", np.uint8).reshape(1, 2)
_VALVE_WORDS = np.frombuffer("".join(_VALVE_TYPES).encode(), np.uint8).reshape(-1, 3)


def _link_types(buf: np.ndarray, section: str, spans: np.ndarray) -> np.ndarray:
    """EPANET's link type codes of a block's rows (input3.c): a pipe whose seventh or eighth
    token is CV is a check-valve pipe (0), a valve's type is its fifth token (-1 for a word
    EPANET would refuse); words are matched as EPANET's match() does, by their start."""
    if section == "PUMPS":
        return np.full(len(spans), 2, np.int8)
    if section == "PIPES":
        cv = [
            tokens.word_codes(buf, np.ascontiguousarray(spans[:, k]), _CHECK_VALVE) == 0
            for k in (6, 7)
        ]
        return np.where(cv[0] | cv[1], 0, 1).astype(np.int8)
    codes = tokens.word_codes(buf, np.ascontiguousarray(spans[:, 4]), _VALVE_WORDS)
    return np.where(codes >= 0, codes + min(_VALVE_TYPES.values()), -1).astype(np.int8)


def _stack(spans: list[np.ndarray]) -> np.ndarray:
    """Token spans of several blocks as one contiguous (n, 2) array."""
    return np.ascontiguousarray(np.concatenate(spans)) if spans else np.empty((0, 2), np.int64)


def _strings(buf: np.ndarray, spans: np.ndarray) -> list[str]:
    """The tokens at the spans, as Python strings."""
    return tokens.joined(buf, spans).tobytes().decode("utf-8").split("\n") if len(spans) else []


def _numbers(data: bytes, buf: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Floats of the tokens at the spans (as EPANET reads them), NaN where a token is not a
    number; the few the compiled fast path leaves are read in Python (tokens.strtod)."""
    values, done = tokens.numbers(buf, np.ascontiguousarray(spans))
    for i in np.flatnonzero(~done):
        first, stop = spans[i]
        values[i] = tokens.strtod(data[first:stop].decode("utf-8")) if first >= 0 else np.nan
    return values


def read_sections(text: str, names: Iterable[str]) -> dict[str, list[list[str]]]:
    """The data rows (tokens, comments cut) of the named sections, every block in file order.

    For what :func:`read_elements` does not hold (options, pipe properties); a section the file
    lacks gives no rows.
    """
    wanted = {name.upper() for name in names}
    data = text.encode("utf-8")
    blocks = _blocks(data, wanted)
    return {
        name: [
            row
            for at, end in blocks.get(name, [])
            for line in data[at:end].decode("utf-8").splitlines()
            if (row := line.partition(";")[0].split())
        ]
        for name in wanted
    }


def _blocks(data: bytes, wanted: Set[str] = _WANTED) -> dict[str, list[tuple[int, int]]]:
    """Section name -> [(start, end) of the section's body in ``data``], for the ``wanted``
    sections, in file order (a section may come in several blocks)."""
    heads = []
    at = data.find(b"[")
    while at >= 0:
        line_start = data.rfind(b"\n", 0, at) + 1
        close = data.find(b"]", at)
        if close > at and not data[line_start:at].strip():
            name = data[at + 1 : close].decode("utf-8", "replace").strip().upper()
            body = data.find(b"\n", close)  # EPANET reads nothing after a header on its line
            heads.append((at, len(data) if body < 0 else body, name))
            if name == "END":  # nor anything after [END]
                break
        at = data.find(b"[", at + 1)
    blocks: dict[str, list[tuple[int, int]]] = {}
    for k, (_, body, name) in enumerate(heads):
        if name in wanted:
            end = heads[k + 1][0] if k + 1 < len(heads) else len(data)
            blocks.setdefault(name, []).append((body, end))
    return blocks


def _split(block: str, fields: int) -> list[list[str]]:
    """The data rows of a section: comments cut, at least ``fields`` tokens, then the rest."""
    rows = (line.partition(";")[0].split(None, fields) for line in block.splitlines())
    return [r for r in rows if len(r) >= fields]
