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
