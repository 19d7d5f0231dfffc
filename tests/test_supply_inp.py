"""The fast INP element reader agrees with the EPANET toolkit, element by element."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hydro.supply.epanet import EpanetProject
from hydro.supply.inp import Parsing, Tables, read_elements
from tests.conftest import corpus_params
from tests.test_supply_engine import SMALL


def check_against_engine(path: Path) -> None:
    published: list[Tables] = []
    with EpanetProject.open(path) as project:
        parsed = read_elements(project.source.text, tables=published.append)
        engine = project._elements_from_engine()
        early = project.tables  # what the transport starts with, checked against the engine
    # the tables published before the coordinates are the elements' own
    assert len(published) == 1
    for name in ("node_ids", "node_types", "link_ids", "link_types", "link_start", "link_end"):
        assert getattr(published[0], name) is getattr(parsed, name)
        np.testing.assert_array_equal(getattr(early, name), getattr(engine, name))
    assert parsed.node_ids == engine.node_ids
    assert parsed.link_ids == engine.link_ids
    np.testing.assert_array_equal(parsed.node_types, engine.node_types)
    np.testing.assert_array_equal(parsed.link_types, engine.link_types)
    np.testing.assert_array_equal(parsed.link_start, engine.link_start)
    np.testing.assert_array_equal(parsed.link_end, engine.link_end)
    np.testing.assert_allclose(parsed.x, engine.x, rtol=1e-7, equal_nan=True)
    np.testing.assert_allclose(parsed.y, engine.y, rtol=1e-7, equal_nan=True)


@pytest.mark.parametrize("inp", corpus_params("epanet", exclude=("Net1broken.inp",)))
def test_reader_matches_toolkit_on_corpus(inp: Path):
    check_against_engine(inp)


def test_reader_keeps_file_order_across_interleaved_sections(tmp_path: Path):
    """Tanks before reservoirs, names out of order, a check valve, a valve, case-sensitive IDs."""
    text = SMALL.replace("[RESERVOIRS]\nR1   60\n", "[RESERVOIRS]\nR9  60\nr1  61\n")
    text = text.replace("P1   R1  J1", "P1   R9  J1").replace(
        "P4   J1  J3  900     150   120    0     Open", "P4   J1  J3  900     150   120    0     CV"
    )
    text = text.replace(
        "[PATTERNS]", "[VALVES]\nV1 J2 J3 200 PRV 30 0\n\n[TANKS]\nT0 40 2 1 5 10 0\n\n[PATTERNS]"
    )
    path = tmp_path / "order.inp"
    path.write_text(text)
    # The TANKS section now appears twice (before and after the reservoirs); EPANET accepts it.
    check_against_engine(path)
    parsed = read_elements(text)
    assert parsed.node_ids[-4:] == ["R9", "r1", "T1", "T0"]
    assert parsed.link_types[parsed.link_ids.index("P4")] == 0  # CVPIPE
    assert parsed.link_types[parsed.link_ids.index("V1")] == 3  # PRV


def test_parsing_hands_out_the_tables_then_the_elements():
    parsing = Parsing(SMALL)
    tables = parsing.tables()
    assert parsing.tables_done()
    elements = parsing.result()
    assert tables.node_ids is elements.node_ids and tables.link_end is elements.link_end
    assert not hasattr(tables, "x")  # the coordinates come with the elements only


def test_a_failed_check_reaches_whoever_waits_for_the_tables():
    def refuse() -> None:
        raise ValueError("not a finite number")

    parsing = Parsing(SMALL, check=refuse)
    with pytest.raises(ValueError, match="finite"):
        parsing.tables()
    assert parsing.tables_done()


def test_reader_follows_epanets_quirks(tmp_path: Path):
    """What EPANET 2.3.5's reader does that a plain split does not (input2.c, input3.c):
    CV as a pipe's 7th token, words matched by their start (CVX, PRVX), a line longer than
    fgets' 1,023 bytes read on as a new line, nothing read after [END], a coordinate row it
    cannot read skipped, hexadecimal numbers (strtod) but no digit separators."""
    text = SMALL.replace("P2   J1  J2  800     200   120    0     Open", "P2 J1 J2 800 200 120 CV")
    text = text.replace(
        "P3   J2  J3  600     150   120    0     Open", "P3 J2 J3 600 150 120 0 cvx"
    )
    text = text.replace(
        "P4   J1  J3  900     150   120    0     Open",
        "P4   J1  J3  900     150   120    0 " + " " * 1030 + "CV",
    )
    text = text.replace("[PATTERNS]", "[VALVES]\nV1 J2 J3 200 PRVX 30 0\n\n[PATTERNS]")
    text = text.replace(
        "J3 100 100\n", "J3 100 100\nJ2 1,5 7\nT1 0x1A 1_000\nR1 0x10 -0\n"
    ).replace("[END]\n", "[END]\n[COORDINATES]\nJ1 99 99\n")
    path = tmp_path / "quirks.inp"
    path.write_text(text)
    check_against_engine(path)
    parsed = read_elements(text)
    types = dict(zip(parsed.link_ids, parsed.link_types.tolist(), strict=True))
    assert (types["P2"], types["P3"], types["P4"], types["V1"]) == (0, 0, 1, 3)
    at = {name: i for i, name in enumerate(parsed.node_ids)}
    assert (parsed.x[at["J1"]], parsed.x[at["J2"]], parsed.y[at["J2"]]) == (0, 100, 0)
    assert np.isnan(parsed.x[at["T1"]]) and (parsed.x[at["R1"]], parsed.y[at["R1"]]) == (16, 0)


def test_quoted_ids_are_left_to_the_engine(tmp_path: Path):
    """EPANET reads "J 1" as one ID; this read does not follow quotes, so it says it is not
    exact and a project takes the engine's tables."""
    text = SMALL.replace("J1", '"J 1"')
    path = tmp_path / "quoted.inp"
    path.write_text(text)
    assert not read_elements(text).exact
    with EpanetProject.open(path) as project:
        assert project.node_ids[0] == "J 1"
