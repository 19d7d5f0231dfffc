"""SWMM INP reading and editing: structure, parsed views, encodings and refusals of bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hydro.drainage.inp import (
    SwmmInput,
    format_row,
    parse_clock,
    read_inp,
    si_factors,
    split_tokens,
)
from hydro.errors import InputError, ScenarioError
from tests.conftest import corpus_params

DATA = Path(__file__).parent / "data" / "swmm"
TINY = DATA / "tiny.inp"


def test_text_round_trips_every_line():
    raw = TINY.read_text(encoding="utf-8")
    inp = read_inp(TINY)
    assert inp.text() == raw
    assert inp.section_names[:3] == ("TITLE", "OPTIONS", "RAINGAGES")
    assert inp.encoding == "ascii"
    assert inp.source == TINY


@pytest.mark.parametrize("path", corpus_params("swmm"))
def test_corpus_models_round_trip(path):
    inp = read_inp(path)
    raw = path.read_bytes().decode(inp.encoding if inp.encoding != "ascii" else "utf-8")
    raw = raw.replace("\r\n", "\n")
    assert inp.text() == (raw if raw.endswith("\n") else raw + "\n")
    assert len(inp.junctions()) + len(inp.outfalls()) + len(inp.storage()) > 0


def test_crlf_and_repeated_sections_keep_line_numbers():
    text = "[TITLE]\r\nx\r\n[JUNCTIONS]\r\nJ1 1 2\r\n[OUTFALLS]\r\nO1 0 FREE\r\n[JUNCTIONS]\r\nJ2 3 4\r\n"
    inp = SwmmInput.from_text(text)
    assert inp.text().splitlines() == text.replace("\r\n", "\n").splitlines()
    assert inp.section("junctions") == ("J1 1 2", "J2 3 4")
    assert list(inp.junctions().index) == ["J1", "J2"]


def test_tokens_quotes_and_comments():
    assert split_tokens("  J1  10.5 ; a comment") == ["J1", "10.5"]
    assert split_tokens('TS1 FILE "C:\\My Data\\rain.dat"') == [
        "TS1",
        "FILE",
        "C:\\My Data\\rain.dat",
    ]
    assert split_tokens(";; only a comment") == []
    assert format_row(["TS1", "FILE", "my rain.dat"]) == 'TS1  FILE  "my rain.dat"'


def test_parsed_views_of_tiny_model():
    inp = read_inp(TINY)
    assert inp.flow_units == "CMS"
    assert inp.allow_ponding
    assert inp.start_datetime == dt.datetime(2024, 6, 1, 0, 0)
    assert inp.end_datetime == dt.datetime(2024, 6, 1, 3, 0)
    assert inp.report_step == 10.0 and inp.routing_step == 10.0
    j = inp.junctions()
    assert j.loc["J1", "ponded_area"] == 200.0 and j.loc["J2", "invert_elevation"] == 9.5
    o = inp.outfalls()
    assert o.loc["O1", "outfall_type"] == "FREE" and not o.loc["O1", "gated"]
    s = inp.subcatchments()
    assert s.loc["S1", "rain_gage"] == "RG1" and s.loc["S1", "imperviousness"] == 80.0
    xy = inp.coordinates()
    assert xy.loc["O1", "x"] == 200.0
    assert inp.title.startswith("Tiny hydro test model")


def test_storage_table(corpus_file):
    storage = read_inp(corpus_file("swmm", "Example3.inp")).storage()
    assert len(storage) == 1
    row = storage.iloc[0]
    assert row["shape"] in ("TABULAR", "FUNCTIONAL")
    assert row["max_depth"] > 0


def test_edits_return_new_objects_and_keep_the_original():
    inp = read_inp(TINY)
    raised = inp.replace_rows("JUNCTIONS", {"J1": ["J1", 11, 2.0, 0, 0, 50]})
    assert inp.junctions().loc["J1", "invert_elevation"] == 10.0
    assert raised.junctions().loc["J1", "invert_elevation"] == 11.0
    assert raised.junctions().loc["J1", "ponded_area"] == 50.0
    assert len(raised.text().splitlines()) == len(inp.text().splitlines())
    dropped = inp.replace_rows("COORDINATES", {"O1": None})
    assert list(dropped.coordinates().index) == ["J1", "J2"]
    added = inp.append_rows("JUNCTIONS", [["J3", 9.0, 1.0]])
    assert list(added.junctions().index) == ["J1", "J2", "J3"]
    new = inp.with_section("CURVES", ["C1 STORAGE 0 10"])
    assert new.section_names[-1] == "CURVES" and new.section("curves") == ("C1 STORAGE 0 10",)


def test_with_options_rewrites_or_adds():
    inp = read_inp(TINY).with_options({"report_step": "00:01:00", "THREADS": 1})
    assert inp.report_step == 60.0
    assert inp.options["THREADS"] == "1"
    assert sum(1 for t in inp.rows("OPTIONS") if t[0].upper() == "REPORT_STEP") == 1


def test_replace_rows_of_unknown_element_suggests_names():
    with pytest.raises(ScenarioError, match=r"\[JUNCTIONS\] has no element 'J9'.*J1"):
        read_inp(TINY).replace_rows("JUNCTIONS", {"J9": ["J9", 1, 1]})


def test_write_is_utf8_and_readable(tmp_path):
    inp = SwmmInput.from_text(TINY.read_text().replace("J1", "雨水井1"), encoding="utf-8")
    path = inp.write(tmp_path / "edited.inp")
    back = read_inp(path)
    assert "雨水井1" in back.junctions().index
    assert back.encoding == "utf-8"


def test_gbk_file_keeps_chinese_ids(tmp_path):
    text = TINY.read_text().replace("J1", "雨水井1").replace("O1", "出水口")
    path = tmp_path / "gbk.inp"
    path.write_bytes(text.encode("gbk"))
    inp = read_inp(path)
    assert inp.encoding == "gb18030"
    assert list(inp.junctions().index) == ["雨水井1", "J2"]
    assert list(inp.outfalls().index) == ["出水口"]


def test_units():
    us, si = si_factors("cfs"), si_factors("LPS")
    assert us.unit_system == "US" and si.unit_system == "SI"
    assert us.flow == pytest.approx(0.028316846592)
    assert us.length == 0.3048 and us.land_area == pytest.approx(4046.8564224)
    assert si.flow == 1e-3 and si.land_area == 1e4
    assert si_factors("MLD").flow == pytest.approx(1e3 / 86400)
    assert si_factors("GPM").flow == pytest.approx(6.30901964e-5)
    assert si_factors("MGD").flow == pytest.approx(0.0438126364)
    assert us.rain == pytest.approx(0.0254 / 3600) and si.rain == pytest.approx(1e-3 / 3600)
    with pytest.raises(InputError, match="unknown SWMM flow units 'M3S'"):
        si_factors("M3S")


def test_parse_clock():
    assert parse_clock("0:00:05") == 5.0
    assert parse_clock("01:30") == 5400.0
    assert parse_clock("30") == 30.0


def test_bad_option_value_names_file_and_key(tmp_path):
    path = tmp_path / "bad_date.inp"
    path.write_text(TINY.read_text().replace("06/01/2024", "2024-13-45", 1))
    with pytest.raises(InputError, match=r"bad_date.inp: \[OPTIONS\] START_DATE"):
        _ = read_inp(path).start_datetime


# --- files that are not SWMM models ----------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.inp: no such file"):
        read_inp(tmp_path / "nope.inp")


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.inp", "  \n\n", r"empty.inp: the file is empty"),
        (
            "notes.inp",
            "just some notes\nnothing else\n",
            r"notes.inp: not a SWMM INP file: no \[SECTION\] headers",
        ),
        (
            "net.inp",
            "[JUNCTIONS]\nJ1 10 0\n[RESERVOIRS]\nR1 50\n[PIPES]\nP1 R1 J1 100 200 100\n",
            r"net.inp: this is an EPANET model .*\[PIPES\]",
        ),
        (
            "other.ini",
            "[general]\nname = x\n[paths]\nroot = /\n",
            r"other.ini: not a SWMM INP file: none of its sections",
        ),
        ("garbage.inp", bytes(range(256)) * 8, r"garbage.inp: .*binary"),
    ],
)
def test_files_that_are_not_swmm_models(tmp_path, name, content, words):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError, match=words):
        read_inp(path)
