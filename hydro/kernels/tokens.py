"""Compiled pieces of the INP element parse (:mod:`hydro.supply.inp`), over the file's UTF-8 bytes.

The parse runs in a thread beside the engine's own read and solve of the same file. In Python it
held the GIL for ~50 ms on a 12,500-node model and made every return of the main thread from a
toolkit call wait; here the token spans, the ID lookups, the type words and the numbers are found
without the GIL, and Python only turns the spans of the IDs into strings.

Rows are split as EPANET's reader splits them (input2.c): it reads a line with
``fgets(line, 1024, ...)``, so a line of 1,023 bytes or more goes on as a new line after each
1,023 bytes (its length check never fires); gettokens then cuts it at ";" and separates tokens by
spaces, tabs and carriage returns. (A quoted token is not followed: see hydro.supply.inp.)
"""

from __future__ import annotations

import numba
import numpy as np

NEWLINE, COMMENT = 10, 59  # "\n", ";"
LINE = 1023  # bytes EPANET's fgets reads at most per line (MAXLINE 1024, input2.c)
FNV_OFFSET, FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)
# Decimal significands and powers of ten that doubles hold exactly (Clinger's fast path).
EXACT_SIGNIFICAND = 2**53
EXACT_POWERS = np.array([10.0**k for k in range(23)])


@numba.njit(cache=True, nogil=True, inline="always")
def _separator(c: int) -> bool:
    return c == 32 or c == 9 or c == 13  # " ", "\t", "\r"


def strtod(token: str) -> float:
    """A whole token as EPANET's getfloat reads it (C's strtod), NaN where it cannot: the rule
    for the few tokens :func:`numbers` leaves, hexadecimal too, but neither Python's digit
    separators nor non-ASCII digits."""
    if not token.isascii() or "_" in token:
        return float("nan")
    try:
        return float(token)
    except ValueError:
        pass
    try:
        return float.fromhex(token) if token.lstrip("+-")[:2].lower() == "0x" else float("nan")
    except ValueError:
        return float("nan")


@numba.njit(cache=True, nogil=True)
def row_spans(buf: np.ndarray, start: int, end: int, wanted: int, minimum: int) -> np.ndarray:
    """Byte spans [from, to) of the first ``wanted`` tokens of each data row of ``buf[start:end]``
    (rows, wanted, 2): a row is a line (as fgets reads it, see the module text) with at least
    ``minimum`` (>= 1) tokens before any comment; a token it lacks has the span (-1, -1)."""
    lines = 1
    for i in range(start, end):
        if buf[i] == NEWLINE:
            lines += 1
    spans = np.full((lines + (end - start) // LINE, wanted, 2), -1, np.int64)
    n, i = 0, start
    while i < end:
        stop = min(end, i + LINE)  # where fgets would stop reading this line
        k = 0
        while i < stop and buf[i] != NEWLINE and buf[i] != COMMENT:
            if _separator(buf[i]):
                i += 1
                continue
            first = i
            while i < stop and buf[i] != NEWLINE and buf[i] != COMMENT and not _separator(buf[i]):
                i += 1
            if k < wanted:
                spans[n, k, 0], spans[n, k, 1] = first, i
            k += 1
        while i < stop and buf[i] != NEWLINE:  # the comment
            i += 1
        if i < stop:
            i += 1  # the newline
        if k >= minimum:
            n += 1
        else:
            spans[n] = -1
    return spans[:n]


@numba.njit(cache=True, nogil=True)
def joined(buf: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """The bytes of the spans, one after another with a newline between (no token holds one):
    one decode and one split in Python then make all the strings."""
    size = max(len(spans) - 1, 0)
    for r in range(len(spans)):
        size += spans[r, 1] - spans[r, 0]
    out = np.empty(size, np.uint8)
    k = 0
    for r in range(len(spans)):
        if r > 0:
            out[k] = NEWLINE
            k += 1
        for j in range(spans[r, 0], spans[r, 1]):
            out[k] = buf[j]
            k += 1
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _slot(buf: np.ndarray, span: np.ndarray, size: int) -> int:
    """Where a span's bytes start their search in a table of ``size`` (a power of two) slots:
    their FNV-1a hash."""
    h = FNV_OFFSET
    for j in range(span[0], span[1]):
        h = (h ^ np.uint64(buf[j])) * FNV_PRIME
    return np.int64(h & np.uint64(size - 1))  # type: ignore[return-value]


@numba.njit(cache=True, nogil=True, inline="always")
def _same(buf: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    if a[1] - a[0] != b[1] - b[0]:
        return False
    for j in range(a[1] - a[0]):  # noqa: SIM110 (a loop numba compiles)
        if buf[a[0] + j] != buf[b[0] + j]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def hash_table(buf: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """An open-addressing hash table of the key spans' bytes, for :func:`find`; a key that
    repeats keeps its last index, as a dict built in order does."""
    size = 2
    while size < 2 * len(keys):
        size *= 2
    table = np.full(size, -1, np.int64)
    for i in range(len(keys)):
        at = _slot(buf, keys[i], size)
        while table[at] >= 0 and not _same(buf, keys[table[at]], keys[i]):
            at = (at + 1) & (size - 1)
        table[at] = i
    return table


@numba.njit(cache=True, nogil=True)
def find(buf: np.ndarray, keys: np.ndarray, table: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query span, the index of the key span with the same bytes, or -1."""
    out = np.full(len(queries), -1, np.int64)
    for q in range(len(queries)):
        at = _slot(buf, queries[q], len(table))
        while table[at] >= 0:
            if _same(buf, keys[table[at]], queries[q]):
                out[q] = table[at]
                break
            at = (at + 1) & (len(table) - 1)
    return out


@numba.njit(cache=True, nogil=True)
def word_codes(buf: np.ndarray, spans: np.ndarray, words: np.ndarray) -> np.ndarray:
    """For each span, the first row of ``words`` (upper-case ASCII, zero-padded) that its token
    begins with, in any case (EPANET's match(): "cvx" is CV), or -1 (also for an absent token)."""
    out = np.full(len(spans), -1, np.int64)
    for r in range(len(spans)):
        first, stop = spans[r, 0], spans[r, 1]
        for w in range(len(words)):
            length = 0
            while length < words.shape[1] and words[w, length] != 0:
                length += 1
            if stop - first < length or first < 0:
                continue
            same = True
            for j in range(length):
                c = buf[first + j]
                if 97 <= c <= 122:  # a-z
                    c -= 32
                if c != words[w, j]:
                    same = False
                    break
            if same:
                out[r] = w
                break
    return out


@numba.njit(cache=True, nogil=True)
def numbers(buf: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The value of each span's decimal number and whether it was read here.

    Read here when the token is [sign] digits [. digits] [e [sign] digits] with a significand
    under 2**53 and a power of ten up to 22 either way: then the significand and the power are
    exact doubles and one IEEE multiplication or division rounds correctly (Clinger's fast path),
    so the value equals Python's float(). Any other token (NaN here) is for the caller to read.
    """
    values = np.full(len(spans), np.nan)
    done = np.zeros(len(spans), np.bool_)
    for r in range(len(spans)):
        j, stop = spans[r, 0], spans[r, 1]
        if j < 0 or j == stop:
            continue
        negative = buf[j] == 45  # "-"
        if buf[j] == 45 or buf[j] == 43:
            j += 1
        significand, scale, digits, fraction = 0, 0, 0, False
        while j < stop:
            c = buf[j]
            if 48 <= c <= 57:
                significand = significand * 10 + (c - 48)
                if significand > EXACT_SIGNIFICAND:
                    digits = -1  # too many digits for the fast path
                    break
                digits += 1
                scale -= 1 if fraction else 0
            elif c == 46 and not fraction:  # "."
                fraction = True
            else:
                break
            j += 1
        if digits <= 0:
            continue
        if j < stop and (buf[j] == 101 or buf[j] == 69):  # "e", "E"
            j += 1
            sign = -1 if j < stop and buf[j] == 45 else 1
            if j < stop and (buf[j] == 45 or buf[j] == 43):
                j += 1
            power, power_digits = 0, 0
            while j < stop and 48 <= buf[j] <= 57 and power_digits < 4:
                power = power * 10 + (buf[j] - 48)
                power_digits += 1
                j += 1
            if power_digits == 0:
                continue
            scale += sign * power
        if j != stop or abs(scale) > 22:
            continue
        value = float(significand)
        value = value * EXACT_POWERS[scale] if scale >= 0 else value / EXACT_POWERS[-scale]
        values[r] = -value if negative else value
        done[r] = True
    return values, done
