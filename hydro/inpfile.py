"""Reading INP files as text, whatever their encoding, and telling EPANET from SWMM.

Models written in China often carry GBK-encoded names. Both engines read bytes, but their Python
bindings decode IDs as UTF-8, so hydro reads the file once, decodes it (UTF-8, else GB18030, a
superset of GBK) and hands the engine a UTF-8 copy when needed. IDs stay exactly as written.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from hydro.errors import InputError
from hydro.paths import read_bytes

_SECTION = re.compile(r"^\s*\[([A-Za-z_]+)\]", re.MULTILINE)

# Sections only one of the engines has; [JUNCTIONS] and [OPTIONS] belong to both.
_EPANET_ONLY = {"PIPES", "RESERVOIRS", "TANKS", "VALVES", "EMITTERS", "ENERGY", "DEMANDS"}
_SWMM_ONLY = {
    "SUBCATCHMENTS",
    "CONDUITS",
    "OUTFALLS",
    "RAINGAGES",
    "STORAGE",
    "XSECTIONS",
    "SUBAREAS",
    "INFILTRATION",
    "DIVIDERS",
    "ORIFICES",
    "WEIRS",
    "OUTLETS",
}


@dataclass(frozen=True)
class InputText:
    """An INP file's text, decoded, with the encoding it was written in and the bytes' hash."""

    path: Path
    text: str
    encoding: str
    raw: bytes | None = field(default=None, repr=False, compare=False)  # the bytes read

    @functools.cached_property
    def sha256(self) -> str:
        """Of the bytes read (provenance without reading the file again; "" when they are not
        kept); made on first use, which a supply run makes in its parse thread (hashlib
        releases the GIL)."""
        return "" if self.raw is None else hashlib.sha256(self.raw).hexdigest()

    def __getstate__(self) -> dict:
        # Sent to another process with its hash, without the bytes it was made from.
        return {**self.__dict__, "sha256": self.sha256, "raw": None}

    @property
    def is_utf8(self) -> bool:
        return self.encoding in ("utf-8", "ascii")

    def sections(self) -> list[str]:
        """Section names in file order (upper case), found by jumping from '[' to '['."""
        text, names = self.text, []
        at = text.find("[")
        while at >= 0:
            close = text.find("]", at)
            line_start = text.rfind("\n", 0, at) + 1
            if close > at and not text[line_start:at].strip() and _SECTION.match(text, line_start):
                names.append(text[at + 1 : close].strip().upper())
            at = text.find("[", at + 1)
        return names


def read_text(path: str | Path, *, check: bool = True) -> InputText:
    """Decode an INP file, refusing what cannot be a model with an error that names the file.

    Only regular files of at most 2 GB are read (:data:`hydro.paths.LIMITS`); a value that is
    not a finite number (NaN, inf, 1e999) is refused naming its line, before any engine
    computes with it. ``check=False`` leaves that check (:func:`check_finite`) to the caller:
    a supply run makes it in a thread while EPANET reads the file (see hydro.supply.network).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    raw = read_bytes(path, what="EPANET or SWMM .inp file", kind="model")
    if not raw or raw.isspace():  # (strip would copy the whole file)
        raise InputError(f"{path}: the file is empty, expected an EPANET or SWMM .inp file")
    if b"\x00" in raw[:65536]:
        raise InputError(f"{path}: is a binary file, expected a text .inp file")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" and text.isascii():
            encoding = "ascii"
        doc = InputText(path, text.removeprefix("\ufeff"), encoding, raw)
        if check:
            check_finite(doc)
        return doc
    raise InputError(f"{path}: cannot decode the text (neither UTF-8 nor GBK/GB18030)")


# What a token that reads as NaN or infinity holds: nan, inf, infinity (signed, any case), or an
# exponent too large for a double (1e999). Candidates are widened to their token and checked.
_HUGE_EXPONENT = re.compile(r"e\+?\d\d\d")
_SEPARATORS = " \t\r\n,;"
_NO_NUMBERS = {"TITLE"}  # free text


def check_finite(doc: InputText) -> None:
    """Refuse a value that is not a finite number, naming its line (element IDs that happen to
    read as one, e.g. a node called "INF", are allowed: they are the first word of a row)."""
    text = doc.text
    low = text.lower()  # one pass in C; the searches below are plain substring scans
    candidates = [m.start() for m in _HUGE_EXPONENT.finditer(low)]
    for word in ("nan", "inf"):
        at = low.find(word)
        while at >= 0:
            candidates.append(at)
            at = low.find(word, at + 3)
    checked = -1
    for at in sorted(candidates):
        if at < checked:
            continue
        start, end = at, at + 1
        while start > 0 and text[start - 1] not in _SEPARATORS:
            start -= 1
        while end < len(text) and text[end] not in _SEPARATORS:
            end += 1
        checked = end
        token = text[start:end]
        try:
            if math.isfinite(float(token)):
                continue
        except ValueError:
            continue  # a word such as INFILTRATION
        line_start = text.rfind("\n", 0, start) + 1
        before = text[line_start:start]
        if ";" in before or not before.strip():  # a comment, or the row's ID
            continue
        if _section_at(text, line_start) in _NO_NUMBERS or _is_id(text, token):
            continue
        number = text.count("\n", 0, line_start) + 1
        raise InputError(
            f"{doc.path}: line {number}: {token[:24]!r} is not a finite number; expected a "
            "value every engine can compute with"
        )


def _section_at(text: str, at: int) -> str:
    head = text.rfind("\n[", 0, at)
    head = head + 1 if head >= 0 else (0 if text.startswith("[") else -1)
    if head < 0:
        return ""
    close = text.find("]", head)
    return text[head + 1 : close].strip().upper() if close > head else ""


def _is_id(text: str, token: str) -> bool:
    """True when some row of the file starts with ``token`` (an element or pattern ID)."""
    return re.search(rf"^[ \t]*{re.escape(token)}[ \t]", text, re.MULTILINE) is not None


def detect_engine(source: str | Path | InputText) -> str:
    """'epanet' or 'swmm', from the first section header only one of the engines has."""
    doc = source if isinstance(source, InputText) else read_text(source)
    sections = doc.sections()
    for name in sections:  # the first header only one of the engines has decides
        if name in _SWMM_ONLY:
            return "swmm"
        if name in _EPANET_ONLY:
            return "epanet"
    if not sections:
        raise InputError(f"{doc.path}: not an INP file: no [SECTION] headers found")
    raise InputError(
        f"{doc.path}: neither an EPANET nor a SWMM model: it has no "
        f"[PIPES]/[RESERVOIRS]/[TANKS] nor [CONDUITS]/[SUBCATCHMENTS]/[OUTFALLS] section"
    )


def utf8_copy(doc: InputText, folder: Path) -> Path:
    """The path to give an engine: the original when it is UTF-8, else a UTF-8 copy in ``folder``."""
    if doc.is_utf8:
        return doc.path
    copy = folder / doc.path.name
    copy.write_text(doc.text, encoding="utf-8")
    return copy
