"""Where hydro may read and write: the checks every command and API entry point shares.

Scenario bundles travel between engineers and run on shared machines, so a file a bundle names
must not make hydro read or write outside where the user pointed:

- **Reading.** A scenario (or ensemble) file reads only inside its *bundle*: the nearest folder
  above it that holds a ``.hydro-bundle`` file (this repository has one at its top, so
  ``scenarios/`` reaches ``networks/``), or else the scenario's own folder. Folders the user names
  (``--allow-path DIR`` on the command line, ``allow=[...]`` in the API, or the ``HYDRO_ALLOW_PATH``
  environment variable, ``os.pathsep``-separated) are added. Paths are compared after resolving
  symbolic links, so a link inside the bundle cannot lead out of it. Only regular files are read,
  and each kind of file has a size limit (:data:`LIMITS`), so ``/dev/zero`` or a huge file cannot
  exhaust memory.
- **Writing.** An output must be a regular file or new, inside an existing folder; never a
  folder, a device or a FIFO, and never one of the run's inputs (same resolved path or same
  inode). Failures to write (no permission, read-only or full disk) are plain errors.
- **Names.** A name that becomes a file name (an ensemble member's scenario name) must be a
  plain file name: no separators, not ``.`` or ``..``, no control characters.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from hydro.errors import HydroError, InputError, OutputError

BUNDLE_MARKER = ".hydro-bundle"
ALLOW_ENV = "HYDRO_ALLOW_PATH"

MB = 1 << 20
LIMITS = {
    "scenario": 1 * MB,  # scenario, ensemble, rules and rainfall TOML files
    "table": 512 * MB,  # rain series and surface tables (CSV)
    "model": 2048 * MB,  # EPANET and SWMM .inp files
}
"""Largest file hydro reads, per kind, in bytes."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 120  # characters of a name that becomes a file name


# ------------------------------------------------------------------------------------------------
# Reading


def bundle_root(path: str | Path) -> Path:
    """The folder tree a scenario file may read from: the nearest folder above it holding a
    ``.hydro-bundle`` marker, else the file's own folder (resolved)."""
    folder = Path(path).resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / BUNDLE_MARKER).is_file():
            return candidate
    return folder


def env_roots() -> list[Path]:
    """The folders named in ``HYDRO_ALLOW_PATH`` (empty entries ignored)."""
    value = os.environ.get(ALLOW_ENV, "")
    return [Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip()]


def read_roots(path: str | Path, allow: Iterable[str | Path] = ()) -> tuple[Path, ...]:
    """Every folder a scenario file at ``path`` may read from: its bundle, ``allow`` and the
    environment's ``HYDRO_ALLOW_PATH``."""
    roots = [bundle_root(path), *(Path(a).expanduser().resolve() for a in allow), *env_roots()]
    return tuple(dict.fromkeys(roots))


def inside(path: str | Path, roots: Sequence[Path]) -> bool:
    """True when ``path`` (resolved, links followed) lies in one of ``roots``."""
    target = Path(path).resolve()
    return any(target == root or target.is_relative_to(root) for root in roots)


def check_inside(
    target: str | Path,
    roots: Sequence[Path],
    *,
    source: str | Path,
    key: str,
    error: type[HydroError] = InputError,
) -> Path:
    """``target`` resolved, or an error naming the file and key that named it.

    The message names the path as written, never the content of the file behind it.
    """
    resolved = Path(target).resolve()
    if not inside(resolved, roots):
        shown = " or ".join(str(r) for r in roots[:3])
        raise error(
            f"{source}: {key}: {target} is outside the folders this scenario may read "
            f"({shown}); pass --allow-path (API: allow=) to read it"
        )
    return resolved


def check_readable(path: str | Path, *, what: str, kind: str, error=InputError) -> Path:
    """``path`` if it is a regular file within the size limit of its ``kind``, else an error."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except OSError as err:
        raise error(f"{path}: cannot read this {what} ({err.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a folder, expected a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: is not a regular file (a device, FIFO or socket), expected a {what}")
    limit = LIMITS[kind]
    if info.st_size > limit:
        raise error(
            f"{path}: {info.st_size / MB:,.0f} MB is larger than a {what} may be "
            f"({limit / MB:,.0f} MB)"
        )
    return path


def read_bytes(path: str | Path, *, what: str, kind: str, error=InputError) -> bytes:
    """The bytes of a regular file within its size limit (see :func:`check_readable`)."""
    path = check_readable(path, what=what, kind=kind, error=error)
    limit = LIMITS[kind]
    try:
        with open(path, "rb") as fh:
            # Asked for the size it has now, plus one byte to see it grew: a read of the whole
            # limit would allocate (and then shrink) a buffer of that size, 1.4 ms for a model.
            size = min(os.fstat(fh.fileno()).st_size, limit)
            data = fh.read(size + 1)
            if len(data) > size:  # grew since: read on, up to the limit
                data += fh.read(limit + 1 - len(data))
    except OSError as err:
        raise error(f"{path}: cannot read this {what} ({err.strerror})") from None
    if len(data) > limit:  # grew since stat
        raise error(f"{path}: larger than a {what} may be ({limit / MB:,.0f} MB)")
    return data


# ------------------------------------------------------------------------------------------------
# Writing


def check_output(
    path: str | Path, *, inputs: Iterable[str | Path | None] = (), what: str = "output file"
) -> Path:
    """``path`` if hydro may write a file there, else an :class:`OutputError`.

    A new path or a regular file, in an existing folder hydro can write to; never a folder, a
    device, a FIFO or socket, and never one of ``inputs`` (compared by resolved path and inode).
    Links are followed for the checks; the write then replaces the link itself, not its target.
    """
    path = Path(path)
    if str(path) == "" or path.name in ("", ".", ".."):
        raise OutputError(f"{path}: not a file name; give a file to write, e.g. out.nc")
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        raise OutputError(f"{path}: cannot write here, {path.parent} is not a folder") from None
    except OSError as err:
        raise OutputError(f"{path}: cannot write here ({err.strerror})") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(
                f"{path}: is a folder; give a file name inside it, e.g. {path}/out.nc"
            )
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(
                f"{path}: is a device, FIFO or socket, not a regular file; refusing to replace it"
            )
        for source in inputs:
            if source is not None and _same_file(path, Path(source)):
                raise OutputError(
                    f"{path}: is an input of this run ({source}); give another output file"
                )
    check_folder(path.parent, what=what, target=path)
    return path


def check_folder(folder: str | Path, *, what: str = "output file", target=None) -> Path:
    """An existing folder hydro may write into, else an :class:`OutputError`."""
    folder = Path(folder) if str(folder) else Path(".")
    target = target if target is not None else folder
    if not folder.exists():
        raise OutputError(f"{target}: cannot write here, folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{target}: cannot write here, {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{target}: cannot write here, no permission to write in {folder}")
    return folder


def check_output_folder(
    folder: str | Path, *, inputs: Iterable[str | Path | None] = (), what: str = "folder"
) -> Path:
    """A folder to write several files into (created with its parents if missing): refused when
    it is a file, an input, or when the nearest existing folder above it cannot be written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder; give a {what}")
    for source in inputs:
        if source is not None and Path(source).exists() and _same_file(folder, Path(source)):
            raise OutputError(f"{folder}: is an input of this run; give another {what}")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    check_folder(existing, what=what, target=folder)
    return folder


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_error(path: str | Path, err: OSError) -> OutputError:
    """An OSError met while writing ``path``, in words (full disk, read-only, no permission)."""
    path = Path(path)
    folder = path.parent
    if err.errno in (errno.ENOSPC, errno.EDQUOT) or (not err.errno and _nearly_full(folder)):
        reason = f"no space left on the disk holding {folder}"
    elif err.errno == errno.EROFS:
        reason = f"{folder} is on a read-only file system"
    elif err.errno in (errno.EACCES, errno.EPERM):
        reason = f"no permission to write in {folder}"
    elif err.errno == errno.ENOENT:
        reason = f"{folder} does not take new files"
    elif err.errno == errno.EISDIR:
        reason = "it is a folder"
    else:
        reason = err.strerror or type(err).__name__
    return OutputError(f"{path}: cannot write ({reason}); nothing was written")


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < MB
    except OSError:
        return False


# ------------------------------------------------------------------------------------------------
# Names that become file names


def check_file_name(name: str, *, source: str | Path, key: str = "name") -> str:
    """``name`` if it can be used as a file name as it is, else a :class:`~hydro.errors.ScenarioError`.

    Refused: path separators, ``.`` and ``..``, a leading ``-`` or ``.``, control characters,
    and names longer than :data:`MAX_NAME` characters.
    """
    from hydro.errors import ScenarioError

    problem = None
    if not name or not name.strip():
        problem = "is empty"
    elif "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        problem = "holds a path separator"
    elif name in (".", "..") or name.startswith((".", "-")):
        problem = "starts with '.' or '-'"
    elif _CONTROL.search(name):
        problem = "holds control characters"
    elif len(name) > MAX_NAME:
        problem = f"is longer than {MAX_NAME} characters"
    if problem:
        shown = _CONTROL.sub("?", name)[:60]
        raise ScenarioError(
            f"{source}: {key}: {shown!r} {problem}; a scenario name becomes a file name "
            "(letters, digits, '_', '-', '.' and spaces)"
        )
    return name
