"""Errors (`_errors.py` and how the engine fills them): the furthest failure's absolute
offset, the `desc` labels around it (outermost first), the expected set (a union at
ties), the rendered message; the same however the input is split and however the
grammar is written (``p >> q`` or ``p.bind(lambda _: q)``)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
from wirekit.combinators import (
    Buffered,
    Fail,
    ParseError,
    Parser,
    Partial,
    State,
    any_char,
    char,
    choice,
    commit,
    count,
    many,
    option,
    parse,
    pure,
    string,
    take,
    take_till,
    take_while1,
)

from tests.combinators.helpers import Err, check

DIGITS = b"0123456789"


def test_parse_error_attributes_and_message() -> None:
    p = (string(b"Host") >> char(b":")).desc("field-name").desc("header")
    with pytest.raises(ParseError) as info:
        parse(p, b"Host;")
    e = info.value
    assert e.position == 4
    assert e.expected == ["':'"]
    assert e.marks == ["header", "field-name"]
    assert "at offset 4: expected ':' (in header > field-name)" in e.message
    assert str(e) == e.message
    check(
        p,
        b"Host;",
        expect_error=Err(
            4,
            ["':'"],
            ["header", "field-name"],
            "at offset 4: expected ':' (in header > field-name)",
        ),
    )


def test_message_without_marks() -> None:
    with pytest.raises(ParseError) as info:
        parse(char(b"="), b"x")
    assert info.value.message == "at offset 0: expected '='"
    with pytest.raises(ParseError) as info:
        parse(string(b"ab") >> char(b"="), b"abx")
    assert info.value.message == "at offset 2: expected '='"


def test_message_with_several_expectations() -> None:
    e = ParseError(3, ["'a'", "'b'"], [])
    assert e.message == "at offset 3: expected one of 'a', 'b'"
    assert ParseError(0, ["x"], ["outer", "inner"]).message == (
        "at offset 0: expected x (in outer > inner)"
    )


def test_parse_error_equality_hash_and_pickle() -> None:
    a = ParseError(4, ["':'"], ["header"])
    b = ParseError(4, ["':'"], ["header"])
    assert a == b
    assert hash(a) == hash(b)
    assert a != ParseError(5, ["':'"], ["header"])
    assert a != ParseError(4, ["'='"], ["header"])
    assert a != ParseError(4, ["':'"], [])
    copy = pickle.loads(pickle.dumps(a))
    assert copy == a
    assert copy.message == a.message
    assert isinstance(a, Exception)


def test_buffered_fail_carries_the_same_error_as_parse() -> None:
    p = string(b"ab") >> char(b"c")
    with pytest.raises(ParseError) as info:
        parse(p, b"abx")
    state = Buffered.parse(p)
    assert isinstance(state, Partial)
    failed = state.feed(b"abx")
    assert isinstance(failed, Fail)
    assert failed.error == info.value
    assert failed.error.message == info.value.message


# --------------------------------------------------------------------------------
# Marks
# --------------------------------------------------------------------------------
def test_marks_are_outermost_first() -> None:
    p = char(b"a").desc("inner").desc("middle").desc("outer")
    check(p, b"x", expect_error=Err(0, ["'a'"], ["outer", "middle", "inner"]))


def test_marks_only_cover_failures_inside_the_label() -> None:
    p = string(b"ab").desc("first") >> char(b"c").desc("second")
    check(p, b"abx", expect_error=Err(2, ["'c'"], ["second"]))
    check(p, b"ax", expect_error=Err(0, ["'ab'"], ["first"]))
    q = char(b"a").desc("a") >> char(b"b")
    check(q, b"ax", expect_error=Err(1, ["'b'"], []))


def test_marks_of_the_furthest_failure() -> None:
    key = take_while1(b"abcdefghijklmnopqrstuvwxyz").desc("key")
    value = take_while1(DIGITS).map(int).desc("value")
    pair = (key << char(b"=") >> value).desc("pair")
    check(pair, b"port=x", expect_error=Err(5, marks=["pair", "value"]))
    check(pair, b"port:1", expect_error=Err(4, ["'='"], ["pair"]))
    check(count(2, pair << char(b";")), b"a=1;b=", expect_error=Err(6, marks=["pair", "value"]))


def test_desc_on_a_choice() -> None:
    p = (char(b"a") | char(b"b")).desc("a-or-b")
    check(p, b"c", expect_error=Err(0, marks=["a-or-b"]))


# --------------------------------------------------------------------------------
# Furthest failure and absolute offsets
# --------------------------------------------------------------------------------
def test_furthest_failure_wins() -> None:
    p = (string(b"ab") >> char(b"c")) | string(b"a")
    check(p >> char(b"!"), b"abX", expect_error=Err(2, ["'c'"]))
    check(
        many(take_while1(DIGITS) << char(b";")) >> char(b"."),
        b"1;23x",
        expect_error=Err(4, ["';'"]),
    )


def test_absolute_offsets_across_commits() -> None:
    item = take_while1(DIGITS) << char(b";") << commit
    check(count(4, item), b"1;22;333;4x", expect_error=Err(10, ["';'"]))
    check(count(4, item), b"1;22;333;4;", [b"1", b"22", b"333", b"4"])


def test_absolute_offsets_after_much_committed_input() -> None:
    record = take(10) << char(b"\n") << commit
    p = count(1001, record)
    state: State[list[bytes]] = Buffered.parse(p, initial_buffer_size=8)
    for _ in range(1000):
        state = state.feed(b"0123456789\n")
        assert isinstance(state, Partial)
    failed = state.feed(b"0123456789?")
    assert isinstance(failed, Fail)
    assert failed.error.position == 11_000 + 10
    assert failed.error.expected == ["'\\n'"]
    assert failed.unconsumed == b"0123456789?"


# --------------------------------------------------------------------------------
# Expected sets
# --------------------------------------------------------------------------------
def test_expected_union_of_sequenced_failures_at_a_tie() -> None:
    check(many(char(b"a")) >> char(b"b"), b"aac", expect_error=Err(2, ["'a'", "'b'"]))
    check(many(char(b"a")), b"aac", expect_error=Err(2, ["'a'", "end of input"]))


def test_expected_union_of_alternatives_at_a_tie() -> None:
    check(string(b"ab") | string(b"ac"), b"ad", expect_error=Err(0, ["'ab'", "'ac'"]))
    check(
        (string(b"ab") >> char(b"c")) | (string(b"ab") >> char(b"d")),
        b"abe",
        expect_error=Err(2, ["'c'", "'d'"]),
    )


def test_expected_union_when_no_alternative_can_start() -> None:
    # The same union as when the alternatives start and fail (above), not one
    # "'ab' or 'ac'" entry.
    check(string(b"ab") | string(b"ac"), b"x", expect_error=Err(0, ["'ab'", "'ac'"]))
    check(
        char(b"a") | char(b"b"),
        b"c",
        expect_error=Err(0, ["'a'", "'b'"], [], "expected one of 'a', 'b'"),
    )


def test_expected_includes_an_alternative_skipped_before_a_success() -> None:
    # parsy: string("a").optional() >> string("b") on "c" -> expected one of 'a', 'b'.
    check(option(None, char(b"a")) >> char(b"b"), b"c", expect_error=Err(0, ["'a'", "'b'"]))


def test_choice_failure_msg_names_the_choice() -> None:
    p = choice([string(b"ab"), string(b"ac")], failure_msg="ab or ac")
    check(p, b"x", expect_error=Err(0, ["ab or ac"]))
    check(p, b"ax", expect_error=Err(0, ["ab or ac"]))


def test_no_expectation_from_a_position_already_passed() -> None:
    # The stream parser's end-of-input check failed at offset 3, not at 5 where the
    # input does end: only the missing newline is expected at 5.
    line = take_till(b"\n") << char(b"\n")
    check(many(line.bind(pure)), b"ab\ncd", expect_error=Err(5, ["'\\n'"]))


# --------------------------------------------------------------------------------
# The error does not depend on how the grammar is written
# --------------------------------------------------------------------------------
Then = Callable[[Parser[Any], Parser[Any]], Parser[Any]]

SEQUENCINGS: list[tuple[str, Then]] = [
    (">>", lambda p, q: p >> q),
    ("bind", lambda p, q: p.bind(lambda _: q)),
    ("commit", lambda p, q: p >> commit >> q),
]

CASES: list[tuple[str, Parser[Any], Parser[Any], bytes, Err]] = [
    (
        "failed-alternative-went-further",
        (string(b"ab") >> char(b"c")) | string(b"a"),
        char(b"!"),
        b"abX",
        Err(2, ["'c'"]),
    ),
    ("many-then", many(char(b"a")), char(b"b"), b"aac", Err(2, ["'a'", "'b'"])),
    (
        "option-went-further",
        option(None, string(b"ab") >> char(b"c")),
        char(b"x"),
        b"abd",
        Err(2, ["'c'"]),
    ),
    ("any-then", any_char, char(b"b"), b"ac", Err(1, ["'b'"])),
]


@pytest.mark.parametrize(("how", "then"), SEQUENCINGS, ids=[s[0] for s in SEQUENCINGS])
@pytest.mark.parametrize(("name", "p", "q", "data", "err"), CASES, ids=[c[0] for c in CASES])
def test_error_does_not_depend_on_how_a_sequence_is_written(
    how: str, then: Then, name: str, p: Parser[Any], q: Parser[Any], data: bytes, err: Err
) -> None:
    check(then(p, q), data, expect_error=err)


# --------------------------------------------------------------------------------
# Line and column
# --------------------------------------------------------------------------------
def test_line_and_column_of_an_error() -> None:
    line = take_till(b"\n") << char(b"\n")
    kv = take_while1(b"abc") << char(b"=")
    p = many(kv >> line)
    out = check(p, b"a=1\nbb=2\ncx3\n", expect_error=Err(10, None))
    assert out.error is not None
    assert (out.error.line, out.error.column) == (3, 2)
    assert "(line 3, column 2)" in out.error.message


def test_line_and_column_count_committed_input() -> None:
    # Committed lines are released before the failure; they still count.
    record = (take_till(b"\n") << char(b"\n") << commit)
    p = many(record) >> char(b"!")
    out = check(p, b"one\ntwo\nthree", expect_error=Err(13, ["'\\n'"]))
    assert out.error is not None
    assert (out.error.line, out.error.column) == (3, 6)


def test_no_line_in_the_message_without_a_newline() -> None:
    out = check(string(b"abc"), b"abx", expect_error=Err(0, None))
    assert out.error is not None
    assert (out.error.line, out.error.column) == (1, 1)
    assert "line" not in out.error.message
