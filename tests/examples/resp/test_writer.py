"""The writer (commands and values) and the grammar against each other: round trips
of generated values, and random bytes that must never raise anything but `ParseError`."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirekit.combinators import Buffered, Done, Fail, ParseError, Partial, State, parse, parse_many
from wirekit.serializer import Serializer, Writev, serialize_to_bytes

from tests.examples.resp.support import CANNED, resp, same

reply = resp.reply


# --------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------
def test_a_command_is_an_array_of_bulk_strings() -> None:
    assert resp.encode_command("SET", "k", "v") == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    assert resp.encode_command("PING") == b"*1\r\n$4\r\nPING\r\n"
    assert resp.encode_command("SET", b"", "é") == b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$2\r\n\xc3\xa9\r\n"


def test_argument_types() -> None:
    cmd = resp.encode_command("X", 42, -7, 1.5, float("inf"), bytearray(b"ba"), memoryview(b"mv"))
    assert parse(reply, cmd) == [b"X", b"42", b"-7", b"1.5", b"inf", b"ba", b"mv"]
    wide = memoryview(bytes(8)).cast("I")  # nbytes, not len, is what counts
    assert parse(reply, resp.encode_command("X", wide)) == [b"X", bytes(8)]
    for bad in (True, None, object(), ["list"]):
        with pytest.raises(TypeError):
            resp.encode_command("X", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one argument"):
        resp.CommandWriter().commands([()])


def test_large_arguments_are_scheduled_not_copied() -> None:
    big = b"\r\n" * 20_000  # 40 000 bytes, over the threshold
    w = resp.CommandWriter()
    assert w.schedule_threshold == resp.SCHEDULE_THRESHOLD <= len(big)
    w.commands([("SET", "a", big), ("SET", "b", big), ("GET", "a")])
    op = w.serializer.operation()
    assert isinstance(op, Writev)
    scheduled = [v for v in op.iovecs if v is big]
    assert len(scheduled) == 2  # the caller's object itself, twice
    wire = b"".join(bytes(v) for v in op.iovecs)
    assert list(parse_many(reply, [wire])) == [[b"SET", b"a", big], [b"SET", b"b", big], [b"GET", b"a"]]
    small = resp.CommandWriter(schedule_threshold=1 << 30)
    small.command("SET", "a", big)
    op = small.serializer.operation()
    assert isinstance(op, Writev) and not any(v is big for v in op.iovecs)


def test_a_pipeline_is_written_in_one_go() -> None:
    out = Serializer(1 << 20)
    w = resp.CommandWriter(out)
    w.commands([("INCR", f"counter:{i}") for i in range(1000)])
    op = out.operation()
    assert isinstance(op, Writev) and len(op.iovecs) == 1
    values = list(parse_many(reply, [bytes(op.iovecs[0])]))
    assert values == [[b"INCR", b"counter:%d" % i] for i in range(1000)]


args = st.lists(st.binary(max_size=40) | st.text(max_size=10) | st.integers(), min_size=1, max_size=6)


@given(st.lists(args, min_size=1, max_size=8), st.integers(0, 64))
def test_commands_round_trip_through_the_reply_grammar(commands: list[list[Any]], threshold: int) -> None:
    w = resp.CommandWriter(schedule_threshold=threshold)
    w.commands(commands)
    wire = serialize_to_bytes(w.serializer)
    expected = [[bytes(resp.encode_arg(a)) for a in c] for c in commands]
    assert list(parse_many(reply, [wire])) == expected


# --------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [v for _, _, v in CANNED], ids=[n for n, _, _ in CANNED])
def test_canned_values_round_trip(value: Any) -> None:
    assert same(parse(reply, resp.encode_value(value)), value)


def test_write_value_bytes() -> None:
    assert resp.encode_value([b"foo", 1, "OK", None]) == b"*4\r\n$3\r\nfoo\r\n:1\r\n+OK\r\n_\r\n"
    assert resp.encode_value({"k": 1.5}) == b"%1\r\n+k\r\n,1.5\r\n"
    assert resp.encode_value(resp.RespError("ERR x")) == b"-ERR x\r\n"
    assert resp.encode_value(resp.RespError("ERR\r\n")) == b"!5\r\nERR\r\n\r\n"
    assert resp.encode_value(2**64) == b"(18446744073709551616\r\n"
    assert resp.encode_value([math.inf, -math.inf, math.nan]) == b"*3\r\n,inf\r\n,-inf\r\n,nan\r\n"
    assert resp.encode_value(resp.Verbatim("txt", "hi")) == b"=6\r\ntxt:hi\r\n"
    assert resp.encode_value(resp.Push([b"message"])) == b">1\r\n$7\r\nmessage\r\n"


def test_write_value_refusals() -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        resp.encode_value("a\r\nb")
    refused: list[Any] = [{}, set(), True, 1.5, resp.Push([]), resp.Verbatim("txt", ""), 2**64]
    for v in refused:
        with pytest.raises(TypeError, match="RESP2"):
            resp.encode_value(v, resp3=False)
    with pytest.raises(TypeError):
        resp.encode_value(object())
    with pytest.raises(ValueError, match="3 bytes"):
        resp.encode_value(resp.Verbatim("text", ""))
    assert resp.encode_value(None, resp3=False) == b"$-1\r\n"
    assert resp.encode_value([1, [b"x", None]], resp3=False) == b"*2\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n"


def test_deep_values_write_without_recursion() -> None:
    value: Any = []
    for _ in range(10_000):
        value = [value]
    data = resp.encode_value(value)
    assert data == b"*1\r\n" * 10_000 + b"*0\r\n"


line_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20)
hashable_leaves = (
    st.binary(max_size=20)
    | line_text
    | st.integers()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.none()
    | st.builds(resp.RespError, st.text(max_size=20))
    | st.builds(resp.Verbatim, st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=3), st.text(max_size=20))
)
leaves = hashable_leaves | st.floats(allow_nan=True)
resp3_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(hashable_leaves, children, max_size=4)
        | st.frozensets(hashable_leaves, max_size=4)
        | st.builds(resp.Push, st.lists(children, max_size=4))
    ),
    max_leaves=20,
)
resp2_values = st.recursive(
    st.binary(max_size=20)
    | line_text
    | st.integers(-(2**63), 2**63 - 1)
    | st.none()
    | st.builds(resp.RespError, line_text),
    lambda children: st.lists(children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(resp3_values)
def test_resp3_values_round_trip(value: Any) -> None:
    data = resp.encode_value(value)
    assert same(parse(reply, data), value), data
    # and the same in two pieces, cut anywhere
    cut = len(data) // 3
    assert same(list(parse_many(reply, [data[:cut], data[cut:]])), [value])


@settings(max_examples=200)
@given(st.lists(resp2_values, min_size=1, max_size=5))
def test_resp2_values_round_trip_as_a_stream(values: list[Any]) -> None:
    data = b"".join(resp.encode_value(v, resp3=False) for v in values)
    chunks = [data[i : i + 5] for i in range(0, len(data), 5)]
    assert same(list(parse_many(reply, chunks)), values)


# --------------------------------------------------------------------------------
# Garbage in: ParseError out, nothing else
# --------------------------------------------------------------------------------
def _parse_anything(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(reply, data)
    state: State[Any] = Buffered.parse(reply, initial_buffer_size=3)
    for i in range(0, len(data), 7):
        state = state.feed(data[i : i + 7])
        if not isinstance(state, Partial):
            break
    state = state.feed_eof()
    assert isinstance(state, Done | Fail)
    try:
        for _ in parse_many(reply, [data]):
            pass
    except ParseError:
        pass


type_bytes = st.sampled_from(list(b"+-:$*_#,(!=%~|>"))
resp_ish = st.lists(
    st.one_of(
        type_bytes.map(lambda b: bytes([b])),
        st.sampled_from([b"\r\n", b"-1", b"0", b"1", b"2", b"3", b"10", b"inf", b"nan", b"t", b"f", b"txt:"]),
        st.binary(max_size=4),
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=400)
@given(st.binary(max_size=200) | resp_ish)
def test_random_bytes_raise_nothing_but_parse_error(data: bytes) -> None:
    _parse_anything(data)


@settings(max_examples=200)
@given(resp3_values, st.data())
def test_damaged_replies_raise_nothing_but_parse_error(value: Any, data: st.DataObject) -> None:
    wire = bytearray(resp.encode_value(value))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(wire)))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "insert" or not wire:
            wire[i:i] = data.draw(st.binary(min_size=1, max_size=3))
        elif action == "delete":
            del wire[min(i, len(wire) - 1)]
        else:
            wire[min(i, len(wire) - 1)] = data.draw(st.integers(0, 255))
    _parse_anything(bytes(wire))


def test_nan_is_a_float_that_survives() -> None:
    value = parse(reply, resp.encode_value([math.nan, -math.inf]))
    assert isinstance(value, list) and math.isnan(value[0]) and value[1] == -math.inf
