"""Errors a user can act on.

Every mistake a user can make (a missing file, a broken INP, an unknown element in a scenario, an
engine that fails) raises a subclass of :class:`HydroError`. Its message is plain words that name
the file, the element and what was expected; the CLI prints it without a traceback and exits
non-zero.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class HydroError(Exception):
    """Base of every error a user can fix; ``str(err)`` is the message to show."""

    exit_code = 1


class InputError(HydroError):
    """An input file (model, rainfall, table) is missing, unreadable or malformed."""

    exit_code = 2


class OutputError(InputError):
    """An output cannot be written where asked: a folder, a device, an input of the run, a
    missing or read-only folder, a full disk."""


class ScenarioError(HydroError):
    """A scenario file or operation is invalid: unknown key, element or value out of range."""

    exit_code = 3


class EngineError(HydroError):
    """EPANET or SWMM refused the model or failed to run it; the message says where and why."""

    exit_code = 4


def where(path: str | Path | None) -> str:
    """The ``file: `` prefix of a message, or nothing when there is no file."""
    return f"{Path(path)}: " if path else ""


def suggest(name: str, known: Iterable[str], *, limit: int = 5) -> str:
    """A short hint naming the closest known names, e.g. ``did you mean 'P-12'?``.

    With no close match, list a few of the known names so the user sees what exists.
    """
    known = sorted(set(map(str, known)))
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not known:
        return "there are none"
    shown = ", ".join(repr(k) for k in known[:limit])
    more = f" and {len(known) - limit} more" if len(known) > limit else ""
    return f"known: {shown}{more}"
