"""Hypothesis properties over several grammars (regular and not, with commits, lookahead,
recursion, bind and generate), and the JSON example grammar:

* random bytes raise nothing but `ParseError` (and incremental runs end in `Done`/`Fail`);
* `Buffered` under random chunkings and buffer sizes, and `Unbuffered` under random
  chunkings, agree with one-shot `parse` (same value, or same error);
* JSON documents made by `json.dumps` parse to what `json.loads` gives, also in chunks.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    BE,
    Consume,
    Parser,
    any_char,
    any_uint8,
    at_end_of_input,
    char,
    commit,
    consumed,
    count,
    end_of_line,
    fix,
    generate,
    lookahead,
    many,
    many1,
    many_till,
    not_followed_by,
    option,
    peek_char,
    peek_char_fail,
    pure,
    satisfy,
    scan,
    sep_by,
    skip_many,
    skip_while,
    string,
    string_ci,
    take,
    take_till,
    take_while,
    take_while1,
)

from tests.combinators.helpers import (
    agree,
    check,
    incremental,
    load_example,
    run_buffered,
    run_parse,
    run_unbuffered,
    same_value,
    split_at,
    stack_form,
)

EXAMPLE_JSON = load_example("json")
json_text: Parser[Any] = EXAMPLE_JSON.json_text

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DIGITS = b"0123456789"
number: Parser[int] = take_while1(DIGITS).map(int)


# --------------------------------------------------------------------------------
# Grammars, each with the tokens its interesting inputs are made of
# --------------------------------------------------------------------------------
numbers = sep_by(char(b",") << skip_while(b" "), number)

nested: Parser[Any] = fix(lambda v: (char(b"[") >> sep_by(char(b","), v) << char(b"]")) | number)

quoted = (
    char(b'"')
    >> many(take_while1(lambda c: c not in b'"\\') | (char(b"\\") >> any_char))
    << char(b'"')
).map(b"".join)

committed_records = many(string(b"ab") >> commit >> take_while(b"c") << char(b";"))

comments = many(
    (string(b"<!--") >> many_till(any_char, string(b"-->")).map(b"".join))
    | take_while1(lambda c: c != ord("<"))
)

words_until_end = many(not_followed_by(string(b"end")) >> any_char) << string(b"end")

length_prefixed = many(any_uint8.bind(take))


@generate
def header() -> Generator[Parser[Any], Any, tuple[bytes, bytes]]:
    name = yield take_while1(lambda c: c > 0x20 and c != ord(":")).desc("name")
    yield char(b":")
    yield skip_while(b" ")
    value = yield take_till(b"\r\n")
    yield end_of_line
    return name, value


headers = many(header) << end_of_line

dispatched = many(
    peek_char_fail.bind(
        lambda c: take_while1(b"a") if c == b"a" else (string(b"bb") | string_ci(b"BC"))
    )
)

with_lookahead = many(lookahead(take(2)).bind(lambda two: string(two) >> pure(two[:1])))

until_eof = many(any_char.bind(lambda c: at_end_of_input.map(lambda end: (c, end))))

binary = count(2, BE.any_uint16) >> many(any_uint8.bind(lambda tag: option(0, BE.int16(tag))))

scanned = many1(scan(0, lambda n, b: None if b == ord(";") or n >= 3 else n + 1) << char(b";"))

mixed = skip_many(consumed(satisfy(b"xy") >> option(None, char(b"z"))) << commit) >> (
    peek_char.map(lambda c: c is None)
)

GRAMMARS: dict[str, tuple[Parser[Any], list[bytes]]] = {
    "numbers": (numbers, [b"1", b"23", b",", b" ", b"x"]),
    "nested": (nested, [b"[", b"]", b",", b"1", b"42"]),
    "quoted": (quoted, [b'"', b"\\", b"a", b"bc", b'\\"']),
    "committed": (committed_records, [b"ab", b"c", b";", b"a", b"b"]),
    "comments": (comments, [b"<!--", b"-->", b"-", b"x", b"<", b"!"]),
    "words_until_end": (words_until_end, [b"e", b"n", b"d", b"x", b"end"]),
    "length_prefixed": (length_prefixed, [b"\x00", b"\x01", b"\x02", b"a", b"bc"]),
    "headers": (headers, [b"Host", b":", b" ", b"x", b"\r\n", b"\n", b"\r"]),
    "dispatched": (dispatched, [b"a", b"bb", b"b", b"Bc", b"c"]),
    "with_lookahead": (with_lookahead, [b"a", b"b", b"ab"]),
    "until_eof": (until_eof, [b"a", b"b"]),
    "binary": (binary, [b"\x00", b"\x01", b"\xff", b"\x00\x01"]),
    "scanned": (scanned, [b"a", b";", b"bcd"]),
    "mixed": (mixed, [b"x", b"y", b"z", b"q"]),
    "json": (
        json_text,
        [
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b'"',
            b"\\",
            b"u",
            b"00e9",
            b"1",
            b"-",
            b".",
            b"e",
            b"0",
            b"true",
            b"null",
            b" ",
            b"a",
            b"\xc3\xa9",
        ],
    ),
}
NAMES = sorted(GRAMMARS)


def agree_everywhere(p: Parser[Any], data: bytes, draw: st.DataObject) -> None:
    """One-shot `parse` and incremental runs on drawn chunkings agree (both Consume modes),
    also with the same chunks on the machine's stack alone (no direct form)."""
    consume = draw.draw(st.sampled_from([Consume.ALL, Consume.PREFIX]))
    q = incremental(p, consume)
    runs = [run_parse(p, data, consume)]
    for _ in range(2):
        cuts = draw.draw(st.lists(st.integers(0, len(data)), max_size=6))
        chunks = split_at(data, cuts)
        size = draw.draw(st.sampled_from([1, 2, 3, 4, 7, 64, 4096]))
        kind = draw.draw(st.sampled_from(["bytes", "bytearray", "memoryview"]))
        runs.append(run_buffered(q, chunks, size, kind))
        runs.append(run_unbuffered(q, chunks, kind, off=draw.draw(st.integers(0, 3))))
        with stack_form():  # the reference: the machine's stack alone, same chunks
            runs.append(run_buffered(q, chunks, size, kind))
    agree(runs)


@st.composite
def grammar_input(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(NAMES))
    tokens = GRAMMARS[name][1]
    return name, b"".join(draw(st.lists(st.sampled_from(tokens), max_size=20)))


@PROPERTY
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=48), rest=st.data())
def test_random_bytes_raise_only_parse_errors(name: str, data: bytes, rest: st.DataObject) -> None:
    # Any exception but ParseError (or a run that does not finish) fails the test.
    agree_everywhere(GRAMMARS[name][0], data, rest)


@PROPERTY
@given(case=grammar_input(), rest=st.data())
def test_incremental_runs_agree_with_parse(case: tuple[str, bytes], rest: st.DataObject) -> None:
    name, data = case
    agree_everywhere(GRAMMARS[name][0], data, rest)


@pytest.mark.parametrize("name", NAMES)
def test_every_grammar_has_accepted_inputs(name: str) -> None:
    # Guards the properties against grammars that reject everything.
    samples = {
        "numbers": b"1, 23,4",
        "nested": b"[1,[2,[]],3]",
        "quoted": b'"a\\"b"',
        "committed": b"abcc;ab;",
        "comments": b"x<!--a-b-->y",
        "words_until_end": b"xenend",
        "length_prefixed": b"\x02ab\x00\x01c",
        "headers": b"Host: x\r\nA:b\n\r\n",
        "dispatched": b"aabbBc",
        "with_lookahead": b"abab",
        "until_eof": b"ab",
        "binary": b"\x00\x01\x00\x02\x05\x00\x05\x07",
        "scanned": b"ab;abc;",
        "mixed": b"xzyx",
        "json": b'{"a": [1, -2.5e3, "\\u00e9\xc3\xa9", true, null]}',
    }
    outcome = run_parse(GRAMMARS[name][0], samples[name], Consume.ALL)
    assert outcome.ok, outcome.describe()


# --------------------------------------------------------------------------------
# JSON round trip
# --------------------------------------------------------------------------------
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=25,
)


@PROPERTY
@given(
    value=JSON_VALUES,
    indent=st.sampled_from([None, 0, 2, "\t"]),
    ensure_ascii=st.booleans(),
    rest=st.data(),
)
def test_json_round_trip(
    value: Any, indent: int | str | None, ensure_ascii: bool, rest: st.DataObject
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii).encode("utf-8")
    expected = json.loads(text)
    got = EXAMPLE_JSON.loads(text)
    assert same_value(got, expected), f"{text!r}: {got!r} != {expected!r}"
    # And in chunks, with surrounding whitespace.
    padded = b" \n" + text + b"\t "
    cuts = rest.draw(st.lists(st.integers(0, len(padded)), max_size=8))
    size = rest.draw(st.sampled_from([1, 3, 16, 4096]))
    out = run_buffered(incremental(json_text, Consume.ALL), split_at(padded, cuts), size)
    assert out.ok, out.describe()
    assert same_value(out.value, expected), out.describe()


@PROPERTY
@given(value=JSON_VALUES, cut=st.integers(min_value=1))
def test_json_truncated_documents_fail_the_same_way(value: Any, cut: int) -> None:
    text = json.dumps(value).encode("utf-8")
    broken = text[: cut % len(text)]
    q = incremental(json_text, Consume.ALL)
    runs = [run_parse(json_text, broken, Consume.ALL)]
    runs.append(run_buffered(q, split_at(broken, [cut % 5, cut % 11]), 3))
    runs.append(run_unbuffered(q, [broken[i : i + 1] for i in range(len(broken))], "bytes"))
    outcome = agree(runs)
    # The grammar accepts a truncated document exactly when json.loads does.
    try:
        expected = json.loads(broken)
    except ValueError:
        assert not outcome.ok, f"{broken!r} accepted: {outcome.value!r}"
    else:
        assert outcome.ok, f"{broken!r} rejected: {outcome.describe()}"
        assert same_value(outcome.value, expected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=grammar_input())
def test_every_split_agrees(case: tuple[str, bytes]) -> None:
    # The full check: every split point, byte by byte, Unbuffered with committed bytes dropped.
    name, data = case
    check(GRAMMARS[name][0], data[:40], consume=Consume.PREFIX)
