"""Property-based fuzzing of what users hand hydro as text: scenario and ensemble TOML files and
rain series CSV files. Whatever the bytes, hydro answers with a value or a HydroError (never
another exception), and a message never shows the content of a file outside the bundle.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro.errors import HydroError, InputError

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "swmm" / "tiny.inp"
FORMULA = REPO / "networks" / "xuancheng" / "rainfall.toml"
SECRET = "SECRET-f00d"

# ------------------------------------------------------------------------------------------------
# A bundle to fuzz in (made once: the cases only write their own scenario file into it)

_ROOT = Path(tempfile.mkdtemp(prefix="hydro-fuzz-"))
BUNDLE = _ROOT / "bundle"
BUNDLE.mkdir()
(BUNDLE / ".hydro-bundle").write_text("")
shutil.copy(TINY, BUNDLE / "sw.inp")
shutil.copy(FORMULA, BUNDLE / "rainfall.toml")
(BUNDLE / "rain.csv").write_text("time,RG1\n2024-06-01 00:00,1\n2024-06-01 00:05,2\n")
(_ROOT / "secret.csv").write_text(f"time,{SECRET}\n2024-06-01 00:00,{SECRET}\n")
(_ROOT / "secret.toml").write_text(f'network = "{SECRET}"\n')


# ------------------------------------------------------------------------------------------------
# TOML documents: keys hydro knows (and typos), values of every kind, paths that try to escape

KEYS = [
    "network", "name", "include", "time", "duration", "recession", "report_step", "start",
    "rainfall", "design", "series", "return_period", "step", "pattern", "peak_position",
    "file", "gauges", "units", "operations", "type", "source", "factor", "diameter", "stage",
    "river", "outfalls", "fraction", "conduits", "depths", "hotstart", "hydraulics",
    "answers", "service_head", "supply", "drainage", "workers", "address", "netwrok",
]  # fmt: skip
PATHS = [
    "sw.inp", "rain.csv", "../secret.csv", "../secret.toml", "/etc/passwd", "/dev/zero",
    "sub/../sw.inp", "..", "/", "", "nul\x00l", str(_ROOT / "secret.csv"),
]  # fmt: skip
WORDS = ["1h", "30min", "99999999h", "1e30", "06:00", "-5", "nan", "inf", "chicago", "normal",
         "source_outage", "demand_growth", "river_stage", "blockage", "1200 mm", "1e999 mm"]  # fmt: skip

scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.sampled_from(PATHS + WORDS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(document: dict) -> str:
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in document.items())


def load_everything(path: Path) -> None:
    """Every reader of a scenario-like file, as far as it goes without running an engine."""
    from hydro.drainage.scenario import build_input
    from hydro.drainage.scenario import load_scenario as load_drainage
    from hydro.ensemble.plan import load_plan
    from hydro.supply.scenario import load_scenario as load_supply

    for read in (load_supply, lambda p: build_input(load_drainage(p)), load_plan):
        try:
            read(path)
        except HydroError as err:
            assert SECRET not in str(err)
            assert "\n" not in str(err).strip()


# Valid scenarios to mutate: one leaf replaced reaches the checks deep inside (operations, storms).
VALID = [
    {
        "network": "sw.inp",
        "time": {"recession": "1h", "report_step": "5min"},
        "rainfall": {"design": {"return_period": 5, "duration": "1h", "pattern": "chicago"}},
        "operations": [
            {"type": "river_stage", "outfalls": ["O1"], "stage": 9.5},
            {"type": "blockage", "conduits": ["C1"], "fraction": 0.5},
            {"type": "imperviousness", "subcatchments": ["S1"], "factor": 1.2},
            {"type": "initial_state", "depths": {"J1": 0.2}},
        ],
    },
    {
        "network": "sw.inp",
        "rainfall": {"series": {"file": "rain.csv", "units": "mm", "gauges": {"RG1": "RG1"}}},
    },
    {"drainage": ["fuzz.toml"], "workers": 2},
]


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from leaves(item, (*path, k))
    yield path


def replaced(document, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


@st.composite
def mutated(draw):
    document = draw(st.sampled_from(VALID))
    path = draw(st.sampled_from([p for p in leaves(document) if p]))
    return replaced(document, path, draw(values))


@settings(max_examples=300)
@given(documents | mutated())
def test_any_toml_document_gives_a_scenario_or_a_plain_error(document):
    path = BUNDLE / "fuzz.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    load_everything(path)


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_give_a_scenario_or_a_plain_error(data: bytes):
    path = BUNDLE / "fuzz.toml"
    path.write_bytes(data)
    load_everything(path)


# ------------------------------------------------------------------------------------------------
# Rain series

gauge_names = st.text(min_size=0, max_size=8).filter(lambda s: "\n" not in s and "\r" not in s)
times = st.one_of(
    st.datetimes().map(lambda t: t.isoformat(sep=" ")),
    st.sampled_from(["", "later", "2024-06-01", "2024-06-01T00:05+08:00", "24:00", "nan"]),
)
cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "-", "NA", "1e999", "-0", "0x10", " 3 "]),
    st.text(max_size=30),
)


@st.composite
def rain_files(draw) -> str:
    gauges = draw(st.lists(gauge_names, min_size=0, max_size=3))
    rows = ["time," + ",".join(gauges)]
    if draw(st.booleans()):  # a regular series, perturbed
        start = np.datetime64("2024-06-01T00:00")
        for k in range(draw(st.integers(0, 8))):
            stamp = str(start + np.timedelta64(5 * k, "m")).replace("T", " ")
            rows.append(",".join([stamp, *(draw(cells) for _ in gauges)]))
    else:
        rows += [
            ",".join([draw(times), *draw(st.lists(cells, max_size=4))])
            for _ in range(draw(st.integers(0, 5)))
        ]
    return "\n".join(rows) + "\n"


@settings(max_examples=300)
@given(rain_files(), st.sampled_from(["mm", "mm/h"]), st.sampled_from(["start", "end"]))
def test_any_rain_file_gives_a_series_or_a_plain_error(text: str, units: str, label: str):
    from hydro.rain import read_rain_csv

    path = BUNDLE / "fuzz.csv"
    path.write_text(text, encoding="utf-8")
    try:
        series = read_rain_csv(path, units=units, label=label)
    except InputError as err:
        message = str(err)
        assert "\n" not in message.strip()
        assert len(message) < len(str(path)) + 400  # names the problem, does not dump the file
        return
    assert series.intensity.shape == (series.times.size, len(series.gauges))
    assert np.all(np.isfinite(series.intensity)) and np.all(series.intensity >= 0)
    assert series.step > 0 and np.all(np.diff(series.times) > np.timedelta64(0))
