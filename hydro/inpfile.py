"""Reading INP files as text, whatever their encoding, and telling EPANET from SWMM.

Models written in China often carry GBK-encoded names. Both engines read bytes, but their Python
bindings decode IDs as UTF-8, so hydro reads the file once, decodes it (UTF-8, else GB18030, a
superset of GBK) and hands the engine a UTF-8 copy when needed. IDs stay exactly as written.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from hydro.errors import InputError

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
    sha256: str = ""  # of the bytes read (provenance without reading the file again)

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


def read_text(path: str | Path) -> InputText:
    """Decode an INP file, refusing what cannot be a model with an error that names the file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected an EPANET or SWMM .inp file")
    raw = path.read_bytes()
    if not raw.strip():
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
        digest = hashlib.sha256(raw).hexdigest()
        return InputText(path, text.removeprefix("\ufeff"), encoding, digest)
    raise InputError(f"{path}: cannot decode the text (neither UTF-8 nor GBK/GB18030)")


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
