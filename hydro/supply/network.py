"""A water-supply model read once: one definition that the edits, the engine, the tracing and
the answers all take.

:func:`load_network` reads the INP file once (decoded, hashed) and starts parsing its element
tables in a thread; what else hydro needs from the file (the [TIMES] settings, the pipes and
options the named assets use) comes from the same text, and the named assets (sidecars, or
inferred) are loaded once, on first use::

    network = load_network("networks/xuancheng/supply.inp")
    network.elements.node_ids[:3], network.duration, network.assets.sources[0].name

The engine opens the same text (:meth:`hydro.supply.epanet.EpanetProject.open` takes the network)
and waits for the parse only when it needs the element tables.
"""

from __future__ import annotations

import functools
import weakref
from pathlib import Path

from hydro.errors import InputError
from hydro.inpfile import InputText, check_finite, detect_engine, read_text
from hydro.supply.inp import Elements, Parsing, read_sections

# Sections read besides the element tables: time settings, options, pipe properties.
_SECTIONS = ("TIMES", "OPTIONS", "PIPES", "REPORT")
_TIME_UNITS = {"SEC": 1, "MIN": 60, "HOU": 3600, "DAY": 86400}
STATISTICS = ("NONE", "AVERAGE", "MINIMUM", "MAXIMUM", "RANGE")


class SupplyNetwork:
    """An EPANET model as read: text, element tables, time settings and named assets.

    Immutable once made (a run changes an open engine project, never this). ``elements`` waits
    for the parse that started when the model was read; ``assets`` are loaded on first use.
    """

    def __init__(self, source: InputText, *, checked: bool = False):
        self.source = source
        # A text not yet checked for values that are not finite numbers is checked first in the
        # parse's thread, while EPANET reads the file (the engine waits for it before solving);
        # the bytes' hash is made there too.
        self.parsing = Parsing(source.text, check=functools.partial(_prepare, source, checked))
        weakref.finalize(self, self.parsing.cancel)  # dropped unread: its thread ends

    def check(self) -> None:
        """Raise the InputError of a value that is not a finite number (waits for the check)."""
        self.parsing.checked()

    def __repr__(self) -> str:
        return f"SupplyNetwork({str(self.path)!r})"

    def __reduce__(self):
        # Sent to another process (a study's workers) as its text, parsed again there: the
        # parsing thread and cached tables stay behind.
        return (SupplyNetwork, (self.source,))

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def sha256(self) -> str:
        return self.source.sha256

    @functools.cached_property
    def elements(self) -> Elements:
        return self.parsing.result()

    @functools.cached_property
    def sections(self) -> dict[str, list[list[str]]]:
        """Data rows (tokens) of [TIMES], [OPTIONS], [PIPES] and [REPORT]."""
        return read_sections(self.text, _SECTIONS)

    @functools.cached_property
    def times(self) -> list[list[str]]:
        """Data rows of [TIMES] alone: every run asks for them, and a large model's [PIPES]
        (which :attr:`sections` splits too) would cost a tenth of its hydraulic solve."""
        if "sections" in self.__dict__:
            return self.sections["TIMES"]
        return read_sections(self.text, ("TIMES",))["TIMES"]

    @functools.cached_property
    def duration(self) -> int:
        """The model's simulated duration [s] (0: a steady-state model)."""
        for row in self.times:
            if row[0].upper() == "DURATION" and len(row) > 1:
                return seconds(row[1:], self.path, "DURATION")
        return 0

    @functools.cached_property
    def statistic(self) -> str:
        """The model's [TIMES] STATISTIC: NONE (time series) or the statistic EPANET reports."""
        for row in self.times:
            if row[0].upper() == "STATISTIC" and len(row) > 1:
                word = row[1].upper()
                return next((s for s in STATISTICS if s.startswith(word[:3])), word)
        return "NONE"

    @functools.cached_property
    def assets(self):
        """The model's named assets (:func:`hydro.supply.assets.load_assets`), loaded once."""
        from hydro.supply.assets import assets_of

        return assets_of(self)


def load_network(model: str | Path | InputText | SupplyNetwork) -> SupplyNetwork:
    """Read an EPANET model once (a network given is returned as it is)."""
    if isinstance(model, SupplyNetwork):
        return model
    source = model if isinstance(model, InputText) else read_text(model, check=False)
    if detect_engine(source) != "epanet":
        check_finite(source)  # the error a user should see first
        raise InputError(
            f"{source.path}: is a SWMM model, not an EPANET one; "
            "run it with hydro.drainage.run or `hydro run`"
        )
    return SupplyNetwork(source)


def seconds(tokens: list[str], path: Path, key: str) -> int:
    """A [TIMES] value as EPANET reads it: 'h:mm[:ss]', or a number with optional units
    (SECONDS, MINUTES, HOURS, DAYS; hours when none)."""
    value = tokens[0]
    try:
        if ":" in value:
            parts = [float(p) for p in value.split(":")] + [0.0, 0.0]
            return round(parts[0] * 3600 + parts[1] * 60 + parts[2])
        unit = tokens[1].upper()[:3] if len(tokens) > 1 else "HOU"
        return round(float(value) * _TIME_UNITS.get(unit, 3600))
    except ValueError:
        raise InputError(
            f"{path}: [TIMES] {key} {' '.join(tokens)}: expected a time such as 72:00 or 3 DAYS"
        ) from None


def _prepare(source: InputText, checked: bool) -> None:
    """What the parse's thread does before it parses: the hash, then the check."""
    source.sha256  # noqa: B018 (made now, cached)
    if not checked:
        check_finite(source)
