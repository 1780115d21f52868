"""Primitives (`_primitives.py`): single bytes, strings, greedy loops, lookahead, position,
commit. Every case runs through `check`, so it also holds however the input is split."""

from __future__ import annotations

from typing import Any

import pytest
from wirekit.combinators import (
    Buffered,
    BytePredicate,
    Consume,
    Done,
    Fail,
    Parser,
    Partial,
    advance,
    any_char,
    any_int8,
    at_end_of_input,
    available,
    char,
    commit,
    count,
    end_of_input,
    end_of_line,
    many,
    not_char,
    parse,
    peek_char,
    peek_char_fail,
    peek_string,
    pos,
    satisfy,
    scan,
    skip,
    skip_while,
    string,
    string_ci,
    take,
    take_till,
    take_while,
    take_while1,
)

from tests.combinators.helpers import Err, check

PREFIX = Consume.PREFIX
DIGITS = b"0123456789"


def is_digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


# --------------------------------------------------------------------------------
# Single bytes
# --------------------------------------------------------------------------------
def test_char() -> None:
    check(char(b"a"), b"a", b"a")
    check(char(b"a"), b"ab", b"a", consume=PREFIX, rest=b"b")
    check(char(b"a"), b"b", expect_error=Err(0, ["'a'"], [], "at offset 0: expected 'a'"))
    check(char(b"a"), b"", expect_error=Err(0, ["'a'"]))
    check(char(b"\x00") >> char(b"\xff"), b"\x00\xff", b"\xff")


def test_char_result_is_one_byte_bytes() -> None:
    value = check(char(b"z"), b"z").value
    assert type(value) is bytes
    assert value == b"z"


@pytest.mark.parametrize("bad", [b"", b"ab", "a", 97])
def test_char_rejects_anything_but_one_byte(bad: Any) -> None:
    with pytest.raises(TypeError):
        char(bad)


def test_not_char() -> None:
    check(not_char(b"a"), b"b", b"b")
    check(not_char(b"a"), b"a", expect_error=Err(0))
    check(not_char(b"a"), b"", expect_error=Err(0))
    check(many(not_char(b",")), b"ab,c", [b"a", b"b"], consume=PREFIX, rest=b",c")


def test_any_char() -> None:
    check(any_char, b"x", b"x")
    check(any_char, b"\xff\x00", b"\xff", consume=PREFIX, rest=b"\x00")
    check(any_char, b"", expect_error=Err(0))
    check(count(3, any_char), b"abc", [b"a", b"b", b"c"])


@pytest.mark.parametrize("pred", [DIGITS, is_digit, lambda c: 0x30 <= c <= 0x39])
def test_satisfy(pred: BytePredicate) -> None:
    p = satisfy(pred)
    check(p, b"7", b"7")
    check(p, b"x", expect_error=Err(0))
    check(p, b"", expect_error=Err(0))
    check(many(p), b"123x", [b"1", b"2", b"3"], consume=PREFIX, rest=b"x")


def test_satisfy_byte_class_of_every_byte() -> None:
    check(satisfy(bytes(range(256))), b"\x80", b"\x80")
    check(satisfy(b""), b"a", expect_error=Err(0))


def test_satisfy_rejects_a_non_predicate() -> None:
    with pytest.raises(TypeError):
        satisfy("0123456789")  # type: ignore[arg-type]


def test_skip() -> None:
    check(skip(b" \t"), b"\t", None)
    check(skip(lambda c: c == 0x20) >> char(b"x"), b" x", b"x")
    check(skip(b" "), b"x", expect_error=Err(0))


# --------------------------------------------------------------------------------
# Lookahead primitives
# --------------------------------------------------------------------------------
def test_peek_char() -> None:
    check(peek_char, b"t", b"t", consume=PREFIX, rest=b"t")
    check(peek_char, b"true", b"t", consume=PREFIX, rest=b"true")
    check(peek_char, b"", None)
    check(peek_char >> any_char, b"x", b"x")
    check(any_char >> peek_char, b"x", None)
    check(any_char >> peek_char, b"xy", b"y", consume=PREFIX, rest=b"y")


def test_peek_char_fail() -> None:
    check(peek_char_fail, b"t", b"t", consume=PREFIX, rest=b"t")
    check(peek_char_fail >> take(2), b"ab", b"ab")
    check(peek_char_fail, b"", expect_error=Err(0))
    check(any_char >> peek_char_fail, b"a", expect_error=Err(1))


def test_peek_string() -> None:
    check(peek_string(3), b"abcd", b"abc", consume=PREFIX, rest=b"abcd")
    check(peek_string(2) >> take(3), b"abc", b"abc")
    check(peek_string(0), b"", b"")
    check(peek_string(3), b"ab", expect_error=Err(0))
    check(any_char >> peek_string(2), b"abc", b"bc", consume=PREFIX, rest=b"bc")


# --------------------------------------------------------------------------------
# Strings
# --------------------------------------------------------------------------------
def test_string() -> None:
    check(string(b""), b"", b"")
    check(string(b""), b"abc", b"", consume=PREFIX, rest=b"abc")
    check(string(b"asdf"), b"asdf", b"asdf")
    check(string(b"asdf"), b"asdfasdf", b"asdf", consume=PREFIX, rest=b"asdf")
    check(string(b"asdf"), b"asd", expect_error=Err(0, ["'asdf'"]))
    check(string(b"asdf"), b"", expect_error=Err(0, ["'asdf'"]))
    check(string(b"asdf"), b"asdx", expect_error=Err(0, ["'asdf'"], [], "expected 'asdf'"))
    check(string(b"\r\n"), b"\r\n", b"\r\n")


def test_string_rejects_text() -> None:
    with pytest.raises(TypeError):
        string("HTTP")  # type: ignore[arg-type]


def test_string_fails_as_soon_as_a_prefix_mismatches() -> None:
    state = Buffered.parse(string(b"HTTP"))
    assert isinstance(state, Partial)
    failed = state.feed(b"HX")
    assert isinstance(failed, Fail)
    assert failed.error.position == 0
    assert failed.unconsumed == b"HX"

    state = Buffered.parse(string(b"HTTP"))
    assert isinstance(state, Partial)
    state = state.feed(b"HT")
    assert isinstance(state, Partial)
    state = state.feed(b"T")
    assert isinstance(state, Partial)
    done = state.feed(b"P/1.1")
    assert isinstance(done, Done)
    assert done.value == b"HTTP"
    assert done.unconsumed == b"/1.1"


def test_string_prefix_mismatch_in_a_later_chunk() -> None:
    state = Buffered.parse(string(b"abc") >> string(b"HTTP"))
    assert isinstance(state, Partial)
    state = state.feed(b"abcH")
    assert isinstance(state, Partial)
    failed = state.feed(b"TX")
    assert isinstance(failed, Fail)
    assert failed.error.position == 3
    assert failed.error.expected == ["'HTTP'"]


def test_string_ci() -> None:
    check(string_ci(b"asdf"), b"AsDf", b"AsDf")
    check(string_ci(b"AsDf"), b"asdf", b"asdf")
    check(
        string_ci(b"content-length"),
        b"Content-Length:",
        b"Content-Length",
        consume=PREFIX,
        rest=b":",
    )
    check(string_ci(b"asdf"), b"AsD", expect_error=Err(0))
    check(string_ci(b"asdf"), b"asdx", expect_error=Err(0))
    check(string_ci(b"a1-"), b"A1-", b"A1-")
    check(string_ci(b""), b"", b"")


def test_string_ci_fails_early_on_a_prefix_mismatch() -> None:
    state = Buffered.parse(string_ci(b"chunked"))
    assert isinstance(state, Partial)
    partial = state.feed(b"CHu")
    assert isinstance(partial, Partial)
    assert isinstance(partial.feed(b"x"), Fail)


# --------------------------------------------------------------------------------
# Counted and greedy loops
# --------------------------------------------------------------------------------
def test_take() -> None:
    check(take(0), b"", b"")
    check(take(0), b"ab", b"", consume=PREFIX, rest=b"ab")
    check(take(2), b"ab", b"ab")
    check(take(2), b"abcd", b"ab", consume=PREFIX, rest=b"cd")
    check(take(5), b"asdf", expect_error=Err(0))
    check(take(1), b"", expect_error=Err(0))
    check(take(2).bind(string), b"ababab", expect_error=Err(4))
    check(take(2).bind(string), b"abab", b"ab")


@pytest.mark.parametrize("make", [take, advance, peek_string])
def test_a_negative_length_from_the_wire_is_a_parse_error(make: Any) -> None:
    field = any_int8.bind(lambda n: make(n))
    check(field, b"\xfeab", expect_error=Err(1, ["a length of at least 0 (got -2)"]))
    check(make(-1), b"ab", expect_error=Err(0, ["a length of at least 0 (got -1)"]))


def test_take_while() -> None:
    check(take_while(lambda c: True), b"", b"")
    check(take_while(lambda c: True), b"asdf", b"asdf")
    check(take_while(lambda c: False), b"", b"")
    check(take_while(lambda c: False), b"asdf", b"", consume=PREFIX, rest=b"asdf")
    check(take_while(DIGITS), b"123abc", b"123", consume=PREFIX, rest=b"abc")
    check(take_while(DIGITS) >> take_while(b"abc"), b"123abc", b"abc")
    check(take_while(b"a"), b"aaab", expect_error=Err(3))


def test_take_while1() -> None:
    check(take_while1(lambda c: True), b"asdf", b"asdf")
    check(take_while1(lambda c: False), b"asdf", expect_error=Err(0))
    check(take_while1(lambda c: True), b"", expect_error=Err(0))
    check(take_while1(DIGITS), b"0123456789", b"0123456789")
    check(take_while1(DIGITS), b"42,", b"42", consume=PREFIX, rest=b",")
    check(char(b"x") >> take_while1(DIGITS), b"x,", expect_error=Err(1))


def test_take_till() -> None:
    check(take_till(b"\r\n"), b"abc\r\n", b"abc", consume=PREFIX, rest=b"\r\n")
    check(take_till(b"\r\n"), b"\nabc", b"", consume=PREFIX, rest=b"\nabc")
    check(take_till(b"\r\n"), b"abc", b"abc")
    check(take_till(lambda c: c == 0x3A) << char(b":"), b"Host:", b"Host")
    check(take_till(b":"), b"", b"")


def test_skip_while() -> None:
    check(skip_while(b" \t"), b"  \t ", None)
    check(skip_while(b" \t") >> char(b"x"), b" \t x", b"x")
    check(skip_while(b" ") >> char(b"x"), b"x", b"x")
    check(skip_while(lambda c: c < 0x80) >> any_char, b"ab\x80", b"\x80")
    check(skip_while(b" "), b"  a", expect_error=Err(2))


def test_advance() -> None:
    check(advance(3) >> take(1), b"asdf", b"f")
    check(advance(0), b"", None)
    check(advance(2), b"ab", None)
    check(advance(5), b"asdf", expect_error=Err(0))
    check(advance(1), b"", expect_error=Err(0))


def _count_until_comma(n: int, byte: int) -> int | None:
    return None if byte == 0x2C else n + 1


def test_scan() -> None:
    p = scan(0, _count_until_comma)
    check(p, b"abc,d", (b"abc", 3), consume=PREFIX, rest=b",d")
    check(p, b"abcd", (b"abcd", 4))
    check(p, b"", (b"", 0))
    check(p, b",", (b"", 0), consume=PREFIX, rest=b",")


def test_scan_state_is_reset_between_runs() -> None:
    # Angstrom's scan_state test: a stateful filter, run twice by count.
    p = count(2, scan(0, _count_until_comma) << char(b","))
    check(p, b"ab,cde,", [(b"ab", 2), (b"cde", 3)])


def test_scan_stateful_filter() -> None:
    # Stop after the second quote: the state counts quotes seen.
    def quotes(seen: int, byte: int) -> int | None:
        if seen == 2:
            return None
        return seen + 1 if byte == 0x22 else seen

    check(scan(0, quotes), b'x"ab"yz', (b'x"ab"', 2), consume=PREFIX, rest=b"yz")


# --------------------------------------------------------------------------------
# Lines, end of input, position
# --------------------------------------------------------------------------------
def test_end_of_line() -> None:
    check(end_of_line, b"\n", None)
    check(end_of_line, b"\r\n", None)
    check(end_of_line, b"\n\n", None, consume=PREFIX, rest=b"\n")
    check(take_till(b"\r\n") << end_of_line, b"line\r\n", b"line")
    check(end_of_line, b"\r", expect_error=Err(0))
    check(end_of_line, b"\rx", expect_error=Err(0))
    check(end_of_line, b"", expect_error=Err(0))


def test_end_of_input() -> None:
    check(end_of_input, b"", None)
    check(take(2) >> end_of_input, b"ab", None)
    check(end_of_input, b"a", expect_error=Err(0, ["end of input"]))
    check(take(2) >> end_of_input, b"abc", expect_error=Err(2, ["end of input"]))


def test_at_end_of_input() -> None:
    check(at_end_of_input, b"", True)
    check(at_end_of_input, b"a", False, consume=PREFIX, rest=b"a")
    check(take(2) >> at_end_of_input, b"ab", True)
    check(take(2) >> at_end_of_input, b"abc", False, consume=PREFIX, rest=b"c")
    last = any_char.bind(lambda c: at_end_of_input.map(lambda end: (c, end)))
    check(many(last), b"abc", [(b"a", False), (b"b", False), (b"c", True)])


def test_pos() -> None:
    check(pos, b"", 0)
    check(take(3) >> pos, b"abc", 3)
    check(many(any_char >> pos), b"abcd", [1, 2, 3, 4])
    check(take_while(b"a") >> pos, b"aaab", 3, consume=PREFIX, rest=b"b")


def test_pos_is_absolute_across_commits() -> None:
    p = count(5, any_char << commit) >> pos
    check(p, b"abcde", 5)
    check(many(take(2) << commit >> pos), b"aabbccdd", [2, 4, 6, 8])


def test_available_one_shot() -> None:
    # `available` depends on how much input has arrived, so it is not run through `check`.
    assert parse(available, b"") == 0
    assert parse(available, b"abc", PREFIX) == 3
    assert parse(any_char >> available, b"abc", PREFIX) == 2
    assert parse(available.bind(take), b"abcd") == b"abcd"


def test_available_counts_the_current_window_only() -> None:
    # `available` never waits: it tells how much input has arrived after the position.
    state = Buffered.parse(any_char >> available)
    assert isinstance(state, Partial)
    done = state.feed(b"abc")
    assert isinstance(done, Done)
    assert done.value == 2
    assert done.unconsumed == b"bc"

    state = Buffered.parse(take(2) >> available, initial_buffer_size=1)
    assert isinstance(state, Partial)
    state = state.feed(b"a")
    assert isinstance(state, Partial)
    done = state.feed(b"bcdef")
    assert isinstance(done, Done)
    assert done.value == 4


def test_commit() -> None:
    check(commit, b"", None)
    check(char(b"a") >> commit >> char(b"b"), b"ab", b"b")
    check(char(b"a") >> commit >> char(b"b"), b"ax", expect_error=Err(1, ["'b'"]))
    check(commit >> commit >> take(1), b"x", b"x")


def test_commit_cuts_the_alternatives_that_began_before_it() -> None:
    p: Parser[bytes] = (char(b"a") >> commit >> char(b"b")) | string(b"ac")
    check(p, b"ab", b"b")
    check(p, b"ac", expect_error=Err(1, ["'b'"]))
    # A commit before the choice does not cut it.
    q: Parser[bytes] = char(b"a") >> commit >> (string(b"bc") | string(b"bd"))
    check(q, b"abd", b"bd")
