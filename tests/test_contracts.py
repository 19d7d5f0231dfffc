"""Contracts every registered piece keeps: scenario operations and result variables.

A new operation or variable is one registration; these tests run over the registries so that the
new piece is checked without anyone writing a test for it.
"""

from __future__ import annotations

import inspect
import re
import typing

import pytest
from pydantic import ValidationError

import hydro.drainage.scenario
import hydro.supply.scenario  # registers the supply operations
from hydro.scenario.schema import OPERATIONS
from hydro.variables import DIMENSIONS, VARIABLES, register

# The domain's method that turns an operation into an edit of the model
METHOD = {"supply": "edits", "drainage": "apply"}

OPERATION_CASES = [
    pytest.param(domain, name, cls, id=f"{domain}.{name}")
    for domain, registry in OPERATIONS.items()
    for name, cls in registry.items()
]


def test_both_domains_have_operations():
    assert len(OPERATIONS["supply"]) >= 8 and len(OPERATIONS["drainage"]) >= 6


@pytest.mark.parametrize(("domain", "name", "cls"), OPERATION_CASES)
def test_operation_is_documented_strict_and_complete(domain, name, cls):
    assert (cls.__doc__ or "").strip(), f"{cls.__name__} needs a docstring saying what it does"
    assert cls.model_config.get("extra") == "forbid", "unknown keys must be refused"
    field = cls.model_fields["type"]
    assert field.default == name
    assert typing.get_args(field.annotation) == (name,), "`type` must be Literal[name]"
    method = getattr(cls, METHOD[domain])
    assert inspect.isfunction(method)
    assert method is not getattr(cls.__mro__[-3], METHOD[domain], None) or domain == "supply"
    if domain == "drainage":
        assert cls.describe is not hydro.drainage.operations.DrainageOperation.describe


@pytest.mark.parametrize(("domain", "name", "cls"), OPERATION_CASES)
def test_operation_refuses_an_unknown_key(domain, name, cls):
    with pytest.raises(ValidationError) as err:
        cls.model_validate({"type": name, "no_such_key": 1})
    assert any(
        e["type"] == "extra_forbidden" and e["loc"] == ("no_such_key",) for e in err.value.errors()
    )


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_variable_is_registered_completely(name):
    var = VARIABLES[name]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", name), "plain snake_case names, no units in them"
    assert not re.search(r"_(m3s|mm|cm|kw|lps|cms)$", name), "units live in attrs, not names"
    assert var.units.strip(), "every variable states its units ('1' when dimensionless)"
    assert var.long_name.strip() and not var.long_name.endswith(".")
    assert set(var.dims) <= set(DIMENSIONS), f"unknown dims {set(var.dims) - set(DIMENSIONS)}"
    assert len(set(var.dims)) == len(var.dims)
    if "time" in var.dims:
        assert var.dims[:2] == ("scenario", "time"), "time series are (scenario, time, ...)"


def test_a_variable_on_an_unregistered_dimension_is_refused():
    with pytest.raises(ValueError, match=r"unregistered dimension.*'nodes'"):
        register("contract_probe", "m", ("scenario", "nodes"), "a probe")
