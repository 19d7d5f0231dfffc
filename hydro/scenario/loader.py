"""Reading scenario TOML files: includes, validation, and errors that name the file and the key."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hydro.errors import ScenarioError, suggest
from hydro.paths import check_inside, read_bytes, read_roots

Model = TypeVar("Model", bound=BaseModel)
MAX_FILES = 64  # a scenario and its fragments, counted as read (a diamond of includes repeats)


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file read once: its merged table, the question it states and its hash."""

    path: Path
    table: dict[str, Any]  # with ``include`` fragments merged in
    question: str  # the first comment line, without "Question:"
    sha256: str  # of the file's bytes as read (fragments not included)
    roots: tuple[Path, ...] = ()  # the folders it may read from (hydro.paths.read_roots)
    files: tuple[Path, ...] = ()  # the file and every fragment it includes, resolved

    def inside(self, target: str | Path, key: str) -> Path:
        """``target`` resolved, if this scenario may read it; else a ScenarioError naming
        the key (see :mod:`hydro.paths`)."""
        return check_inside(target, self.roots, source=self.path, key=key, error=ScenarioError)


def read_scenario(path: str | Path, *, allow: Iterable[str | Path] = ()) -> ScenarioFile:
    """Read a scenario file once: table (includes merged), question and SHA-256.

    Included fragments must lie in the scenario's bundle or a folder of ``allow``
    (:func:`hydro.paths.read_roots`); the file and its fragments are read only if they are
    regular files of at most 1 MB.
    """
    path = Path(path)
    roots = read_roots(path, allow)
    raw = _read_bytes(path)
    text = _decode(raw, path)
    files: list[Path] = []
    table = _table(text, path, (), roots, files)
    return ScenarioFile(
        path, table, first_comment(text), hashlib.sha256(raw).hexdigest(), roots, tuple(files)
    )


def read_toml(path: str | Path, *, allow: Iterable[str | Path] = ()) -> dict[str, Any]:
    """A scenario's TOML table with its ``include`` fragments merged in (see :func:`_table`)."""
    path = Path(path)
    return _table(_decode(_read_bytes(path), path), path, (), read_roots(path, allow), [])


def first_comment(text: str) -> str:
    """The question a scenario file answers: its first comment line, before any key."""
    for line in text.splitlines():
        if line.strip().startswith("#"):
            return line.strip().lstrip("#").strip().removeprefix("Question:").strip()
        if line.strip():
            break
    return ""


def _read_bytes(path: Path) -> bytes:
    return read_bytes(path, what="scenario file", kind="scenario", error=ScenarioError)


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None


def _table(
    text: str, path: Path, seen: tuple[Path, ...], roots: tuple[Path, ...], files: list[Path]
) -> dict[str, Any]:
    """The TOML table of ``text`` (read from ``path``) with its ``include`` fragments merged in.

    Fragments come first and the including file wins: its scalar keys and tables override the
    fragment's, and its ``operations`` are appended after the fragment's. Include paths are
    relative to the file that names them and must lie inside ``roots``.
    """
    if path.resolve() in seen:
        chain = " -> ".join(p.name for p in (*seen, path.resolve()))
        raise ScenarioError(f"{path}: includes itself ({chain})")
    files.append(path.resolve())
    if len(files) > MAX_FILES:
        raise ScenarioError(f"{files[0]}: includes more than {MAX_FILES} files")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    includes = table.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ScenarioError(f"{path}: include: expected a file name or a list of file names")
    merged: dict[str, Any] = {}
    for name in includes:
        fragment_path = path.parent / name
        check_inside(fragment_path, roots, source=path, key="include", error=ScenarioError)
        fragment = _table(
            _decode(_read_bytes(fragment_path), fragment_path),
            fragment_path,
            (*seen, path.resolve()),
            roots,
            files,
        )
        merged = _merge(merged, _rebase(fragment, path.parent / name, path.parent))
    return _merge(merged, table)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if key == "operations" and isinstance(value, list) and isinstance(out.get(key, []), list):
            out[key] = [*out.get(key, []), *value]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _rebase(fragment: dict[str, Any], fragment_path: Path, folder: Path) -> dict[str, Any]:
    """A fragment's relative ``network`` path, re-expressed relative to the including file."""
    if isinstance(fragment.get("network"), str):
        target = (fragment_path.parent / fragment["network"]).resolve()
        fragment = {**fragment, "network": str(target)}
    return fragment


def validate(
    model: type[Model],
    table: dict[str, Any],
    path: str | Path,
    *,
    context: dict[str, Any] | None = None,
) -> Model:
    """Validate a TOML table against a scenario model; errors name the file, the key, the fix.

    ``context`` reaches validators that take ``info`` (e.g. the scenario's folder, to resolve
    relative file names).
    """
    try:
        return model.model_validate(table, context=context)
    except ValidationError as err:
        lines = [describe(dict(e), model) for e in err.errors()[:5]]
        more = f" (and {err.error_count() - 5} more)" if err.error_count() > 5 else ""
        raise ScenarioError(f"{path}: " + "; ".join(lines) + more) from None


def describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    """One pydantic error in words: 'operations[2].source: unknown key ...'."""
    loc, fields = _walk(model, tuple(error["loc"]))
    key = _key(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        hint = f"; {suggest(str(loc[-1]), fields)}" if fields else ""
        return f"{key}: unknown key{hint}"
    if kind == "missing":
        return f"{key}: required key is missing"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        known = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        return (
            f"{key}.type: unknown operation {ctx.get('tag')!r}; "
            f"{suggest(str(ctx.get('tag')), known)}"
        )
    if kind == "union_tag_not_found":
        return f"{key}: every operation needs a 'type' key"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return f"{key}: {message}{shown}"


def _key(loc: list) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _walk(model: type[BaseModel], loc: tuple) -> tuple[list, list[str]]:
    """The location as the user wrote it (without pydantic's union tags) and the field names of
    the table that holds the last key (for 'did you mean' hints)."""
    clean: list = []
    current: Any = model
    members: dict[str, type[BaseModel]] = {}
    for k, part in enumerate(loc):
        if isinstance(part, int):
            clean.append(part)
            continue
        if members and part in members:  # pydantic names the union member it tried: skip it
            current, members = members[part], {}
            continue
        clean.append(part)
        fields = getattr(current, "model_fields", {})
        if part in fields and k < len(loc) - 1:
            current, members = _models_in(fields[part].annotation)
    return clean, list(getattr(current, "model_fields", {}))


def _models_in(annotation: Any) -> tuple[Any, dict[str, type[BaseModel]]]:
    """The model inside an annotation, or the tagged members of a union of models."""
    found: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            found.append(item)
        else:
            stack.extend(getattr(item, "__args__", ()))  # list[...], X | Y, Annotated[...]
    if len(found) == 1:
        return found[0], {}
    tags = {m.model_fields["type"].default: m for m in found if "type" in m.model_fields}
    return None, tags
