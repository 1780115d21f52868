"""The parse tracer: events for labelled rules, the same however the input is split."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    Buffered,
    Fail,
    ParseError,
    Parser,
    TraceEvent,
    Tracer,
    Unbuffered,
    any_uint8,
    char,
    commit,
    end_of_input,
    generate,
    isolate,
    many,
    parse,
    print_trace,
    string,
    take,
    take_while1,
)

DIGITS = b"0123456789"
number = take_while1(DIGITS).map(int).desc("number")
pair = (number << char(b",") >> number).desc("pair")
pairs = many((pair << char(b";") << commit).desc("item"))


@generate
def frame() -> Generator[Parser[Any], Any, bytes]:
    n: int = yield any_uint8.desc("length")
    body: bytes = yield isolate(n, take(n).desc("body"))
    yield commit
    return body


GRAMMARS: list[tuple[str, Parser[Any], bytes]] = [
    ("pairs", pairs, b"1,2;33,4;5,66;"),
    ("pairs-failing", pairs << end_of_input, b"1,2;3,x;"),
    ("frames", many(frame.desc("frame")), b"\x02ab\x00\x03xyz"),
    ("method", (string(b"GET").desc("get") | string(b"HEAD").desc("head")) << char(b" "), b"HEAD "),
]


def _whole(p: Parser[Any], data: bytes) -> list[TraceEvent]:
    events: list[TraceEvent] = []
    tracer: Tracer = events.append
    with contextlib.suppress(ParseError):
        parse(p, data, trace=tracer)
    return events


def _buffered(p: Parser[Any], chunks: list[bytes]) -> list[TraceEvent]:
    events: list[TraceEvent] = []
    state = Buffered.parse(p << end_of_input, 2, trace=events.append)
    for chunk in chunks:
        state = state.feed(chunk)
    state.feed_eof()
    return events


def _unbuffered(p: Parser[Any], chunks: list[bytes]) -> list[TraceEvent]:
    events: list[TraceEvent] = []
    state = Unbuffered.parse(p << end_of_input, trace=events.append)
    held = b""
    for i, chunk in enumerate([*chunks, b""]):
        held += chunk
        state = state.resume(held, 0, len(held), complete=i == len(chunks))
        if isinstance(state, Fail) or not hasattr(state, "committed"):
            break
        held = held[state.committed :]
    return events


@pytest.mark.parametrize(("name", "p", "data"), GRAMMARS, ids=[g[0] for g in GRAMMARS])
def test_events_do_not_depend_on_the_split(name: str, p: Parser[Any], data: bytes) -> None:
    want = _whole(p, data)
    assert want, "a traced parse reports its labelled rules"
    bytewise = [data[i : i + 1] for i in range(len(data))]
    assert _buffered(p, bytewise) == want
    assert _unbuffered(p, bytewise) == want
    for i in range(len(data) + 1):
        assert _buffered(p, [data[:i], data[i:]]) == want, i
        assert _unbuffered(p, [data[:i], data[i:]]) == want, i


def test_events_carry_spans_values_and_expectations() -> None:
    events = _whole(pairs << end_of_input, b"1,2;3,x;")
    assert events[0] == TraceEvent("enter", "item", 0, depth=0)
    assert TraceEvent("success", "number", 0, 1, 1, depth=2) in events
    assert TraceEvent("success", "pair", 0, 3, 2, depth=1) in events
    failures = [e for e in events if e.kind == "failure"]
    assert failures[0] == TraceEvent("failure", "number", 6, at=6, expected=("a byte in [0-9]",), depth=2)
    assert [e.label for e in failures] == ["number", "pair", "item"]


def test_tracing_changes_neither_value_nor_error() -> None:
    assert parse(pairs, b"1,2;3,4;", trace=lambda e: None) == parse(pairs, b"1,2;3,4;")
    with pytest.raises(ParseError) as plain:
        parse(pairs << end_of_input, b"1,2;3,x;")
    with pytest.raises(ParseError) as traced:
        parse(pairs << end_of_input, b"1,2;3,x;", trace=lambda e: None)
    assert traced.value == plain.value


def test_print_trace_prints_an_indented_tree() -> None:
    out = io.StringIO()
    parse(pair, b"1,22", trace=print_trace(out))
    assert out.getvalue().splitlines() == [
        "pair @0",
        "  number @0",
        "  number @0-1 = 1",
        "  number @2",
        "  number @2-4 = 22",
        "pair @0-4 = 22",
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99)), max_size=4), st.data())
def test_events_are_split_invariant_on_random_input(items: list[tuple[int, int]], data: st.DataObject) -> None:
    text = b"".join(b"%d,%d;" % ab for ab in items)
    cut = data.draw(st.integers(0, len(text)))
    assert _buffered(pairs, [text[:cut], text[cut:]]) == _whole(pairs, text)
