"""`fast_prefix`: the one-match fast path of `parse_prefix`, without a `State`.

Whenever it answers, its answer is `parse_prefix`'s (same value, same end) on the same
window, whatever comes after the window; when it cannot be sure it says None.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    Done,
    FastPrefix,
    Parser,
    any_uint8,
    char,
    consumed,
    explain,
    fast_prefix,
    many,
    option,
    parse_prefix,
    sep_by,
    seq,
    skip_while,
    string,
    take,
    take_while1,
)

from tests.combinators.test_analysis import grammars

word = take_while1(b"ab")
header = seq(word << char(b":") << skip_while(b" "), consumed(option(None, word >> many(take_while1(b" ") >> word))) << skip_while(b" ") << string(b"\r\n"))
head = seq(word << char(b"\n"), many(header) << string(b"\r\n"))
SAMPLE = b"ab\na: b a  \r\nbb:a\r\n\r\nrest"


def agrees(p: Parser[Any], data: bytes) -> None:
    """At every window end, and with any bytes after it, fast_prefix agrees with parse_prefix."""
    fast = fast_prefix(p)
    for end in range(len(data) + 1):
        got = fast(data, 0, end)
        if got is None:
            continue
        value, stop = got
        for complete in (False, True):
            state = parse_prefix(p, data, 0, end, complete)
            assert type(state) is Done, (end, state)
            assert state.value == value and state.consumed == stop
        # More input cannot change a fast answer.
        for more in (b"", b"a", b" ", b"\r\n", b":"):
            longer = data[:end] + more
            again = parse_prefix(p, longer, 0, len(longer), False)
            assert not isinstance(again, Done) or (again.value, again.consumed) == (value, stop)


def test_a_whole_head_is_one_match() -> None:
    assert explain(head).fused
    fast: FastPrefix = fast_prefix(head)
    got = fast(SAMPLE, 0, len(SAMPLE))
    assert got == ((b"ab", [(b"a", b"b a"), (b"bb", b"a")]), len(SAMPLE) - 4)
    agrees(head, SAMPLE)


def test_offsets_and_buffer_kinds() -> None:
    fast = fast_prefix(head)
    padded = b"xyz" + SAMPLE
    for buf in (padded, bytearray(padded), memoryview(padded)):
        assert fast(buf, 3, len(padded)) == ((b"ab", [(b"a", b"b a"), (b"bb", b"a")]), len(padded) - 4)


@pytest.mark.parametrize("cut", range(len(SAMPLE) - 4))
def test_an_incomplete_head_is_left_to_parse_prefix(cut: int) -> None:
    assert fast_prefix(head)(SAMPLE, 0, cut) is None


def test_no_match_is_left_to_parse_prefix() -> None:
    assert fast_prefix(head)(b"ab\n:x\r\n\r\n", 0, 10) is None


def test_a_grammar_that_is_not_regular_always_defers() -> None:
    length_prefixed = any_uint8.bind(take)
    assert not explain(length_prefixed).fused
    fast = fast_prefix(length_prefixed)
    assert fast(b"\x02ab", 0, 3) is None
    state = parse_prefix(length_prefixed, b"\x02ab")
    assert isinstance(state, Done) and state.value == b"ab"


def test_values_of_lists_and_separators() -> None:
    numbers = sep_by(char(b","), take_while1(b"0123456789"))
    fast = fast_prefix(numbers << char(b";"))
    assert fast(b"1,22,333;", 0, 9) == ([b"1", b"22", b"333"], 9)
    agrees(numbers << char(b";"), b"1,22,333;")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar=grammars, data=st.binary(max_size=12).map(lambda b: bytes(b"ab ;\r"[x % 5] for x in b)))
def test_random_grammars_agree_with_parse_prefix(grammar: Parser[Any], data: bytes) -> None:
    agrees(grammar, data)


def test_complete_input_makes_every_match_final() -> None:
    digits = take_while1(b"0123456789")
    fast = fast_prefix(digits)
    assert fast(b"123", 0, 3) is None  # more digits may follow
    assert fast(b"123", 0, 3, True) == (b"123", 3)
    state = parse_prefix(digits, b"123", 0, 3, True)
    assert isinstance(state, Done) and (state.value, state.consumed) == (b"123", 3)
    assert fast(b"x", 0, 1, True) is None  # no match: parse_prefix reports it
    assert fast_prefix(any_uint8.bind(take))(b"\x01a", 0, 2, True) is None  # not regular
