"""`isolate` and `Parser.try_map`: every test runs whole, at every split point and byte
by byte, through Buffered and Unbuffered (see `helpers.check`)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wirekit.combinators import (
    BE,
    Parser,
    any_char,
    any_uint8,
    char,
    commit,
    count,
    end_of_input,
    generate,
    isolate,
    many,
    parse,
    pure,
    string,
    take,
    take_while,
    take_while1,
)

from tests.combinators.helpers import Err, check

DIGITS = b"0123456789"


# --------------------------------------------------------------------------------
# isolate
# --------------------------------------------------------------------------------
def test_isolate_runs_the_parser_on_exactly_n_bytes() -> None:
    # take_while stops at the window's end, not at the input's.
    check(isolate(3, take_while(b"ab")) >> take(2), b"abaab", b"ab")
    check(isolate(0, take_while(b"a")), b"", b"")
    check(isolate(2, many(any_char)), b"xy", [b"x", b"y"])


def test_isolate_end_of_input_is_the_window_end() -> None:
    check(isolate(2, take(2) << end_of_input) >> char(b"!"), b"ab!", b"!")


def test_isolate_fails_unless_the_parser_used_all_n_bytes() -> None:
    check(isolate(3, string(b"ab")), b"abc", expect_error=Err(2, ["the end of the 3-byte field"]))


def test_isolate_when_the_input_ends_inside_the_window() -> None:
    check(isolate(5, take_while(b"ab")), b"aba", expect_error=Err(3, ["2 more bytes"]))


def test_isolate_the_parser_cannot_read_past_the_window() -> None:
    check(isolate(2, take(3)), b"abcd", expect_error=Err(0, ["3 more bytes"]))


def test_nested_windows_only_shrink() -> None:
    check(isolate(3, isolate(2, take(2)) >> take(1)), b"abc", b"c")
    check(
        isolate(2, isolate(3, take_while(b"abc"))),
        b"abc",
        expect_error=Err(2, ["1 more byte"]),  # the outer window ends inside the inner
    )


def test_isolate_with_lengths_from_the_wire_and_commit() -> None:
    message = any_uint8.bind(lambda n: isolate(n, take_while1(DIGITS).map(int))) << commit
    check(many(message), b"\x0212\x013\x03456", [12, 3, 456])
    check(many(message), b"\x0212\x02x3", expect_error=Err(4, None))


def test_isolate_inside_a_generator_with_count() -> None:
    @generate
    def record() -> Generator[Parser[Any], Any, tuple[int, list[bytes]]]:
        size = yield BE.any_uint16
        body: tuple[int, list[bytes]] = yield isolate(size, any_uint8.bind(lambda k: count(k, take(2)).map(lambda xs: (k, xs))))
        return body

    check(record, b"\x00\x05\x02abcd", (2, [b"ab", b"cd"]))
    check(record, b"\x00\x04\x02abcd", expect_error=Err(5, ["2 more bytes"]))


def test_isolate_built_while_parsing_is_shared() -> None:
    # isolate(n, p) made inside a bind is looked up, not built and linked for each use.
    body = many(any_char)
    made: list[Parser[Any]] = []

    def field(n: int) -> Parser[list[bytes]]:
        p = isolate(n, body)
        made.append(p)
        return p

    check(many(any_uint8.bind(field)), b"\x02ab\x02cd", [[b"a", b"b"], [b"c", b"d"]])
    assert len(made) > 2 and all(p is made[0] for p in made)


def test_isolate_negative_length_is_a_parse_error() -> None:
    check(isolate(-1, take(1)), b"a", expect_error=Err(0, ["a length of at least 0 (got -1)"]))


@given(st.lists(st.binary(max_size=6), max_size=5))
def test_isolate_frames_round_trip(items: list[bytes]) -> None:
    data = b"".join(bytes([len(x)]) + x for x in items)
    frame = any_uint8.bind(lambda n: isolate(n, take_while(lambda b: True)))
    assert parse(many(frame), data) == items


# --------------------------------------------------------------------------------
# try_map
# --------------------------------------------------------------------------------
def test_try_map_converts() -> None:
    check(take_while1(DIGITS).try_map(int), b"42", 42)


def test_try_map_failure_is_a_parse_error_at_the_match_start() -> None:
    text = char(b"<") >> take_while(lambda b: b != 0x3E).try_map(bytes.decode) << char(b">")
    check(text, "<caf\u00e9>".encode(), "caf\u00e9")
    out = check(text, b"<ab\xffc>", expect_error=Err(1, None, message="can't decode byte 0xff"))
    assert out.error is not None and "utf-8" in out.error.message


def test_try_map_failure_lets_an_alternative_run() -> None:
    small = take_while1(DIGITS).try_map(_byte_value)
    check(small | take_while1(DIGITS).map(lambda b: -1), b"300", -1)
    check(small | take_while1(DIGITS).map(lambda b: -1), b"30", 30)


def test_try_map_only_catches_value_errors() -> None:
    def boom(_: bytes) -> int:
        raise KeyError("not a parse failure")

    try:
        parse(take(1).try_map(boom), b"a")
    except KeyError:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("a KeyError must escape try_map")


def test_try_map_is_called_once_per_match_even_on_failure() -> None:
    calls: list[bytes] = []

    def decode(b: bytes) -> str:
        calls.append(b)
        return b.decode()

    p = take(2).try_map(decode) >> char(b"!")
    check(p, b"ok?", expect_error=Err(2, ["'!'"]))
    calls.clear()
    with contextlib.suppress(Exception):
        parse(p, b"ok?")
    assert calls == [b"ok"]


def test_try_map_in_a_regular_grammar_keeps_the_rest_compiled() -> None:
    number = take_while1(DIGITS).try_map(_byte_value)
    pair = number << char(b",") >> number
    check(pair, b"12,34", 34)
    check(pair, b"12,345", expect_error=Err(3, ["value out of range"]))


def _byte_value(b: bytes) -> int:
    n = int(b)
    if n > 255:
        raise ValueError("value out of range")
    return n


def test_try_map_after_pure() -> None:
    check(pure(b"x").try_map(bytes.decode), b"", "x")


def _no(_: Any) -> Any:
    raise ValueError("rejected")


@pytest.mark.parametrize(
    ("primitive", "data"),
    [
        (take(2), b"aa12"),
        (take_while1(DIGITS), b"aa12"),
        (BE.any_int16, b"aa12"),
        (string(b"12"), b"aa12"),
        (any_char, b"aa1"),
        (pure(b"x"), b"aa"),
    ],
)
def test_try_map_rejection_over_a_primitive_and_over_a_fused_block_agree(
    primitive: Parser[Any], data: bytes
) -> None:
    # A primitive child takes the path that saves no failure records (its success changes
    # none); the same child behind a map is a fused block, which saves and restores them.
    # Both must report the loop's stop, the rejection and the other alternative.
    fused = primitive.map(lambda v: v)
    expected = Err(2, ["'a'", "'zz'", "rejected"])
    for inner in (primitive, fused):
        p = many(char(b"a")) >> (inner.try_map(_no) | string(b"zz"))
        check(p, data, expect_error=expected)
