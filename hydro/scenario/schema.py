"""Building blocks of the strict scenario schemas (supply and drainage).

A scenario is a TOML file: the network, time settings, and a list of operations taken from a
registry. Models are pydantic with ``extra="forbid"``, so a misspelt key is an error, not a silent
default. Operations register themselves per domain with :func:`operation`; the scenario models
build their discriminated union from the registry, so adding an operation is one class.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from hydro.errors import ScenarioError, suggest
from hydro.units import DURATION_UNITS, FLOW_UNITS, LENGTH_UNITS


class Strict(BaseModel):
    """Base of every scenario model: unknown keys rejected, values validated, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ------------------------------------------------------------------------------------------------
# Durations: "90s", "30min", "2h", "1d", "1h30min", "06:00", "06:00:00" or seconds as a number.

_UNITS = DURATION_UNITS
MAX_DURATION = 100 * 365 * 86400  # s: a century of simulated time is the longest hydro takes
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|hr|d|day)(?![a-z])")


def parse_duration(value: Any) -> int:
    """Seconds from a number or a duration text; raises ValueError in plain words."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 3600, '1h', '30min' or '06:00'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _duration_text(value.strip().lower())
    else:
        raise ValueError("expected a duration such as 3600, '1h', '30min' or '06:00'")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be a finite number of seconds (got {value!r})")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {value!r})")
    if seconds > MAX_DURATION:
        raise ValueError(
            f"{value!r} is longer than the {MAX_DURATION // (365 * 86400)} years a duration may be"
        )
    if seconds != int(seconds):
        raise ValueError(f"durations are whole seconds (got {value!r})")
    return int(seconds)


def _duration_text(text: str) -> float:
    if re.fullmatch(r"\d+:\d{2}(:\d{2})?", text):
        parts = [int(p) for p in text.split(":")] + [0]
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    compact = text.replace(" ", "")
    matches = list(_PART.finditer(compact))
    if not matches or "".join(m.group(0) for m in matches) != compact:
        raise ValueError(
            f"cannot read {text!r} as a duration; expected e.g. 3600, '1h', "
            "'30min', '1h30min' or '06:00'"
        )
    return sum(float(m.group(1)) * _UNITS[m.group(2)] for m in matches)


Duration = Annotated[int, BeforeValidator(parse_duration)]
"""A time span in seconds, written as a number of seconds or a text like '2h'."""


# ------------------------------------------------------------------------------------------------
# Quantities with units: planners write "100000 m3/d" or "1200 mm"; hydro keeps SI.

_FLOW_UNITS = FLOW_UNITS
_LENGTH_UNITS = LENGTH_UNITS


def _quantity(units: dict[str, float], si: str, example: str) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number in {si} or a text such as {example!r}")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            m = re.fullmatch(
                r"\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*([a-z0-9/]+)\s*",
                value.lower().replace("³", "3").replace(",", ""),
            )
            if m and m.group(2) in units:
                number = float(m.group(1)) * units[m.group(2)]
                if math.isfinite(number):
                    return number
        raise ValueError(
            f"cannot read {value!r}; expected a number in {si} or a text such as "
            f"{example!r} (units: {', '.join(units)})"
        )

    return parse


Flow = Annotated[float, BeforeValidator(_quantity(_FLOW_UNITS, "m3/s", "100000 m3/d"))]
"""A flow rate in m3/s, written as a number or a text like '100000 m3/d' or '500 L/s'."""
Length = Annotated[float, BeforeValidator(_quantity(_LENGTH_UNITS, "m", "1200 mm"))]
"""A length in m, written as a number or a text like '1200 mm'."""


def clock(seconds: int) -> str:
    """'26:30:00' style elapsed time for messages."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# ------------------------------------------------------------------------------------------------
# The operation registry

OPERATIONS: dict[str, dict[str, type[Strict]]] = {"supply": {}, "drainage": {}}


def operation(domain: str) -> Callable[[type[Strict]], type[Strict]]:
    """Class decorator: register an operation model under its ``type`` literal for a domain."""

    def register(cls: type[Strict]) -> type[Strict]:
        name = cls.model_fields["type"].default
        if not isinstance(name, str):
            raise TypeError(f"{cls.__name__} needs a `type: Literal[...] = '<name>'` field")
        OPERATIONS[domain][name] = cls
        return cls

    return register


def check_name(
    kind: str, name: str, known: list[str] | set[str] | dict, *, where: str = ""
) -> None:
    """Refuse a name the model does not have, saying which exist and which is closest."""
    if name not in known:
        raise ScenarioError(f"{where}unknown {kind} {name!r}: {suggest(name, known)}")
