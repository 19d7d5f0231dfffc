"""The compiled INP tokeniser (hydro.kernels.tokens) against its plain-Python twins, and the whole
element parse against its twin on generated model texts (the corpus test in test_supply_inp.py
checks it against the EPANET toolkit)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro.kernels import _reference as ref
from hydro.kernels import tokens
from hydro.supply.inp import _numbers, read_elements

# Bytes that matter to the tokeniser, and some that do not (UTF-8 of a Chinese ID, a form feed
# that EPANET keeps inside a token).
_PIECES = [
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b";",
    b"J",
    b"cv",
    b"CV",
    b"1",
    b"-",
    b".",
    b"e",
    b"\xe5\xae\xa3",
    b"\x0c",
]
texts = st.lists(st.sampled_from(_PIECES), max_size=60).map(b"".join)


def _buf(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8)


@given(texts, st.integers(1, 4), st.integers(1, 4))
def test_row_spans_match_a_regular_expression_split(data: bytes, wanted: int, minimum: int):
    minimum = min(minimum, wanted)
    for start, end in ((0, len(data)), (len(data) // 3, len(data) - len(data) // 4)):
        got = tokens.row_spans(_buf(data), start, end, wanted, minimum)
        np.testing.assert_array_equal(got, ref.row_spans(data, start, end, wanted, minimum))


def test_row_spans_by_hand():
    data = b"  J1 10 ; a comment\n\nJ2\t20\r\n;J3 30\nJ4"
    spans = tokens.row_spans(_buf(data), 0, len(data), 2, 1)
    assert [[data[a:b] for a, b in row if a >= 0] for row in spans] == [
        [b"J1", b"10"],
        [b"J2", b"20"],
        [b"J4"],
    ]
    assert spans[2, 1].tolist() == [-1, -1]  # J4 has no second token


ids = st.text(st.sampled_from("Jj-_1\u5ba3"), min_size=1, max_size=6).map(str.encode)


@given(st.lists(ids, max_size=40), st.lists(ids, max_size=40))
def test_find_matches_a_dict(keys: list[bytes], queries: list[bytes]):
    data = b" ".join(keys + queries)
    spans, at = [], 0
    for word in keys + queries:
        spans.append((at, at + len(word)))
        at += len(word) + 1
    spans = np.array(spans, np.int64).reshape(-1, 2)
    key_spans, query_spans = spans[: len(keys)].copy(), spans[len(keys) :].copy()
    table = tokens.hash_table(_buf(data), key_spans)
    got = tokens.find(_buf(data), key_spans, table, query_spans)
    np.testing.assert_array_equal(got, ref.find(data, key_spans, query_spans))


numbers_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-1e6, 1e6).map(lambda v: f"{v:.6f}"),
    st.integers(-(10**20), 10**20).map(str),
    st.text(st.sampled_from("0123456789.eE+-x_"), min_size=1, max_size=12),
    st.sampled_from(
        [
            "nan",
            "-inf",
            "Infinity",
            "1e309",
            "-0",
            "1e23",
            "9007199254740993",
            "0.0000000000000000000000001",
            "5.",
            ".5",
            "1e",
            "+",
        ]
    ),
)


@given(st.lists(numbers_text, min_size=1, max_size=20))
def test_numbers_equal_python_float_bit_for_bit(words: list[str]):
    data = " ".join(words).encode()
    spans, at = [], 0
    for word in words:
        spans.append((at, at + len(word)))
        at += len(word) + 1
    spans = np.array(spans, np.int64)
    expected = ref.numbers(data, spans)
    values, done = tokens.numbers(_buf(data), spans)
    # what the fast path reads is float()'s value to the bit (the sign of zero too)
    np.testing.assert_array_equal(values[done].view(np.int64), expected[done].view(np.int64))
    together = _numbers(data, _buf(data), spans)
    np.testing.assert_array_equal(np.isnan(together), np.isnan(expected))
    same = ~np.isnan(expected)
    np.testing.assert_array_equal(together[same].view(np.int64), expected[same].view(np.int64))


def test_the_fast_path_takes_plain_decimals_only():
    """Up to 2**53 and 10**22 (exact doubles); past them float() rounds once where two roundings
    could differ (9007199254740993, 1e23 = 99999999999999991611392)."""
    words = [
        "80426.500000",
        "-0.25",
        "1e22",
        "9007199254740992",
        "9007199254740993",
        "1e23",
        "1e-30",
        "abc",
    ]
    data = " ".join(words).encode()
    ends = np.cumsum([len(w) + 1 for w in words]) - 1
    spans = np.stack([ends - [len(w) for w in words], ends], axis=1)
    values, done = tokens.numbers(_buf(data), spans)
    assert done.tolist() == [True] * 4 + [False] * 4
    assert values[:4].tolist() == [80426.5, -0.25, 1e22, 2.0**53]


def test_word_codes_match_the_start_of_a_token_in_any_case():
    """As EPANET's match(): "cvx" is CV, "c" is not."""
    data = b"cv Cv CV cvx prv Gpv c"
    spans = np.array(
        [(0, 2), (3, 5), (6, 8), (9, 12), (13, 16), (17, 20), (21, 22), (-1, -1)], np.int64
    )
    words = np.frombuffer(b"CV\0PRVGPV", np.uint8).reshape(3, 3)
    assert tokens.word_codes(_buf(data), spans, words).tolist() == [0, 0, 0, 0, 1, 2, -1, -1]


def test_find_tells_ids_that_share_a_prefix():
    data = b"J1 J10 J1 J10 J J100"
    spans = np.array([(0, 2), (3, 6), (7, 9), (10, 13), (14, 15), (16, 20)], np.int64)
    keys, queries = spans[:2].copy(), spans[2:].copy()
    table = tokens.hash_table(_buf(data), keys)
    assert tokens.find(_buf(data), keys, table, queries).tolist() == [0, 1, -1, -1]


# --- the whole element parse -----------------------------------------------------------------

_NAMES = st.text(st.sampled_from("JRTPVab1\u5ba3-"), min_size=1, max_size=4)


@st.composite
def model_texts(draw) -> str:
    """INP-like texts: node and link sections in any order and number, rows of any length,
    comments, blank lines, odd spacing, IDs that repeat or are missing."""
    names = draw(st.lists(_NAMES, min_size=1, max_size=8))
    sections = []
    for _ in range(draw(st.integers(0, 7))):
        section = draw(
            st.sampled_from(
                [
                    "JUNCTIONS",
                    "RESERVOIRS",
                    "TANKS",
                    "PIPES",
                    "PUMPS",
                    "VALVES",
                    "COORDINATES",
                    "TITLE",
                    "END",
                ]
            )
        )
        rows = []
        for _ in range(draw(st.integers(0, 4))):
            words = draw(
                st.lists(
                    st.one_of(
                        st.sampled_from(names),
                        st.sampled_from(
                            ["cv", "CVx", "PRV", "tcvz", "xyz", "1.5", "-3e2", "0x1A", "1_0", '"q']
                        ),
                    ),
                    max_size=9,
                )
            )
            space = draw(st.sampled_from([" ", "\t", "  ", " \r"]))
            # a comment, or a line past fgets' 1,023 bytes that EPANET reads on as a new line
            comment = draw(st.sampled_from(["", " ;note", ";", " " * 1030 + "CV J1", ";" * 1100]))
            rows.append(draw(st.sampled_from(["", " "])) + space.join(words) + comment)
        header = draw(st.sampled_from(["[{}]", " [{}] ;c", "[{}]\r"])).format(
            draw(st.sampled_from([section, section.lower()]))
        )
        sections.append("\n".join([header, *rows]))
    return "\n".join(sections)


@settings(max_examples=300)
@given(model_texts())
def test_read_elements_matches_its_twin(text: str):
    parsed = read_elements(text)
    expected = ref.read_elements(text)
    assert parsed.node_ids == expected["node_ids"]
    assert parsed.link_ids == expected["link_ids"]
    for name in ("node_types", "link_types", "link_start", "link_end"):
        np.testing.assert_array_equal(getattr(parsed, name), expected[name], err_msg=name)
    np.testing.assert_array_equal(parsed.x, expected["x"])
    np.testing.assert_array_equal(parsed.y, expected["y"])
    assert parsed.exact == expected["exact"]


@pytest.mark.parametrize("header", ["[JUNCTIONS] J9 1", "[JUNCTIONS]J9"])
def test_nothing_after_a_header_is_read(header: str):
    """EPANET reads no data from a header's line (a token glued to it included)."""
    assert read_elements(f"{header}\nJ1 5\n").node_ids == ["J1"]
