"""A city's rainfall configuration (networks/<city>/rainfall.toml): its storm intensity formula
and the defaults of its design storms.

The file is validated strictly (unknown keys are errors); every mistake raises
:class:`~hydro.errors.InputError` naming the file, the key and the expected value. See
networks/xuancheng/rainfall.toml for a commented example.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from hydro.errors import InputError, ScenarioError, suggest
from hydro.paths import read_bytes
from hydro.rain.formula import ChineseFormula, LongDurationFormula, StormFormula, TabulatedFormula
from hydro.rain.hyetograph import PATTERNS, Hyetograph, alternating_block, chicago, huff

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class _BuildsFormula(BaseModel):
    """Pydantic checks the ranges; building the formula checks the rest (n >= 1 with b = 0,
    intensities that do not grow with the return period) and reports it under this key."""

    def build(self) -> StormFormula:  # each formula's own
        raise NotImplementedError

    @model_validator(mode="after")
    def _formula_is_valid(self):
        try:
            self.build()
        except ScenarioError as err:
            raise ValueError(str(err)) from None
        return self


class ChineseFormulaSpec(_BuildsFormula):
    """``q = a(1 + c lg P)/(t + b)^n`` L/(s·ha); ``a`` = 167·A1."""

    model_config = _STRICT
    kind: Literal["chinese"] = "chinese"
    a: float = Field(gt=0, description="167·A1, L/(s·ha)")
    c: float = Field(ge=0)
    b: float = Field(ge=0, description="minutes")
    n: float = Field(gt=0, lt=1.5)
    name: str = ""
    placeholder: bool = False

    def build(self) -> StormFormula:
        return ChineseFormula(a=self.a, c=self.c, b=self.b, n=self.n, name=self.name)


class PowerLawRow(BaseModel):
    """One row of a tabulated formula: q = a/(t + b)^n for ``return_period`` years."""

    model_config = _STRICT
    return_period: float = Field(gt=0, description="years")
    a: float = Field(gt=0, description="L/(s·ha)")
    b: float = Field(ge=0, description="minutes")
    n: float = Field(gt=0, lt=1.5)


class TabulatedFormulaSpec(_BuildsFormula):
    """One power law per return period; q interpolated linearly in lg P between rows."""

    model_config = _STRICT
    kind: Literal["tabulated"]
    rows: list[PowerLawRow] = Field(min_length=1)
    name: str = ""
    placeholder: bool = False

    def build(self) -> StormFormula:
        return TabulatedFormula(
            {row.return_period: (row.a, row.b, row.n) for row in self.rows}, name=self.name
        )


FormulaSpec = Annotated[ChineseFormulaSpec | TabulatedFormulaSpec, Field(discriminator="kind")]


class LongDurationSpec(BaseModel):
    """The 24-hour rainfall of the same frequency that long design storms nest the formula in
    (:class:`~hydro.rain.formula.LongDurationFormula`)."""

    model_config = _STRICT
    mean_24h_mm: float = Field(gt=0, description="mean annual maximum 24-hour rainfall, mm")
    cv: float = Field(gt=0, lt=2)
    cs_cv: float = Field(default=3.5, gt=0, le=6)
    join_minutes: float = Field(default=180, ge=10, lt=1440)
    source: str = ""

    def build(self, short: StormFormula) -> StormFormula:
        return LongDurationFormula(
            short, self.mean_24h_mm * 1e-3, self.cv, self.cs_cv, self.join_minutes * 60.0
        )


class DesignStormSpec(BaseModel):
    """Defaults of a city's design storm; each can be overridden per call."""

    model_config = _STRICT
    pattern: Literal["chicago", "alternating_block", "huff"] = "chicago"
    peak_position: float = Field(default=0.375, ge=0, le=1)
    step_minutes: float = Field(default=5, gt=0)
    duration_minutes: float = Field(default=120, gt=0)
    return_period_years: float = Field(default=3, gt=0)
    huff_quartile: Literal[1, 2, 3, 4] = 1

    @model_validator(mode="after")
    def _whole_steps(self):
        count = round(self.duration_minutes / self.step_minutes)
        if count < 1 or abs(count * self.step_minutes - self.duration_minutes) > 1e-9:
            raise ValueError(
                f"duration_minutes = {self.duration_minutes:g} is not a whole "
                f"multiple of step_minutes = {self.step_minutes:g}"
            )
        return self


class RainfallConfig(BaseModel):
    """The contents of a rainfall.toml: ``.formula`` (a storm formula object) and design-storm
    defaults; :meth:`design_storm` builds a hyetograph from them."""

    model_config = _STRICT
    formula_spec: FormulaSpec = Field(alias="formula")
    design: DesignStormSpec = Field(default_factory=DesignStormSpec, alias="design_storm")
    long_duration: LongDurationSpec | None = None
    _formula: StormFormula = PrivateAttr()

    def model_post_init(self, context, /) -> None:
        short = self.formula_spec.build()
        self._formula = short if self.long_duration is None else self.long_duration.build(short)

    @property
    def formula(self) -> StormFormula:
        return self._formula

    @property
    def is_placeholder(self) -> bool:
        """True when the file marks its formula as a placeholder, not the city's official one."""
        return self.formula_spec.placeholder

    def design_storm(
        self,
        *,
        return_period: float | None = None,
        duration: float | None = None,
        step: float | None = None,
        pattern: str | None = None,
        peak_position: float | None = None,
        quartile: int | None = None,
    ) -> Hyetograph:
        """A design storm from this city's formula; unset arguments take the file's defaults.

        ``return_period`` in years, ``duration`` and ``step`` in seconds, ``pattern`` one of
        'chicago', 'alternating_block', 'huff'; ``peak_position`` for the first two,
        ``quartile`` for Huff.
        """
        d = self.design
        pattern = d.pattern if pattern is None else pattern
        if pattern not in PATTERNS:
            raise ScenarioError(
                f"design storm: pattern {pattern!r} is unknown; {suggest(pattern, PATTERNS)}"
            )
        p = d.return_period_years if return_period is None else return_period
        duration = d.duration_minutes * 60.0 if duration is None else duration
        step = d.step_minutes * 60.0 if step is None else step
        if pattern == "huff":
            quartile = d.huff_quartile if quartile is None else quartile
            return huff(
                self.formula, return_period=p, duration=duration, step=step, quartile=quartile
            )
        r = d.peak_position if peak_position is None else peak_position
        build = chicago if pattern == "chicago" else alternating_block
        return build(self.formula, return_period=p, duration=duration, step=step, peak_position=r)


def _known_keys(loc: tuple) -> list[str]:
    """The keys allowed beside the one at ``loc`` (for "unknown key" messages)."""
    parent = loc[:-1]
    if not parent:
        return ["formula", "design_storm", "long_duration"]
    if parent[0] == "design_storm":
        return list(DesignStormSpec.model_fields)
    if parent[0] == "long_duration":
        return list(LongDurationSpec.model_fields)
    if "rows" in parent:
        return list(PowerLawRow.model_fields)
    spec = TabulatedFormulaSpec if "tabulated" in parent else ChineseFormulaSpec
    return list(spec.model_fields)


def _message(path: Path, err: ValidationError) -> str:
    """One line for the first problem pydantic found: file, key, what was expected."""
    # An unknown key is usually a typo of the missing one: report it first.
    first = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = tuple(first["loc"])
    key = ".".join(str(k) for k in loc if k not in ("chinese", "tabulated")) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        text = f"unknown key {key}; {suggest(str(loc[-1]), _known_keys(loc))}"
    elif kind == "missing":
        text = f"key {key} is missing"
    else:
        text = f"key {key}: {first['msg'].removeprefix('Value error, ')}"
        if not isinstance(first.get("input"), (dict, list)) and kind != "value_error":
            text += f", got {first['input']!r}"
    more = f" (and {err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
    return f"{path}: {text}{more}"


def load_rainfall_config(path: str | Path) -> RainfallConfig:
    """Read and validate a rainfall.toml; errors are :class:`InputError` naming file and key."""
    path = Path(path)
    data = read_bytes(path, what="rainfall configuration file", kind="scenario")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err})") from None
    try:
        config = RainfallConfig.model_validate(raw)
    except ValidationError as err:
        raise InputError(_message(path, err)) from None
    return config
