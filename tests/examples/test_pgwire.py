"""examples/pgwire.py: PostgreSQL backend messages, parsed at every split and written back.

Every parse goes through `check` (one shot, every split point, a byte at a time, Buffered
and Unbuffered); hypothesis writes random messages and reads them back, whole and in
random chunks. (``tests/test_examples.py`` runs the example's ``main``.)
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import ParseError, Partial, State, Unbuffered, parse

from tests.combinators.helpers import Err, check, load_example

pg = load_example("pgwire")
SAMPLE_BYTES = pg.encode(pg.SAMPLE)


def frame(kind: bytes, body: bytes) -> bytes:
    """A message by hand: type, length (counting itself) and body."""
    return kind + struct.pack(">i", len(body) + 4) + body


# --------------------------------------------------------------------------------
# Well-formed input
# --------------------------------------------------------------------------------
def test_sample_conversation_at_every_split() -> None:
    check(pg.stream, SAMPLE_BYTES, pg.SAMPLE)


def test_the_writer_produces_the_documented_bytes() -> None:
    assert pg.encode([pg.ReadyForQuery("I")]) == b"Z\x00\x00\x00\x05I"
    assert pg.encode([pg.CommandComplete("SELECT 2")]) == frame(b"C", b"SELECT 2\x00")
    assert pg.encode([pg.DataRow([b"ab", None, b""])]) == frame(
        b"D", struct.pack(">hi", 3, 2) + b"ab" + struct.pack(">ii", -1, 0)
    )
    assert pg.encode([pg.ErrorResponse({"S": "ERROR", "M": "no"})]) == frame(
        b"E", b"SERROR\x00Mno\x00\x00"
    )
    assert pg.encode([pg.EmptyQueryResponse()]) == b"I\x00\x00\x00\x04"


@pytest.mark.parametrize("message", [*pg.SAMPLE, pg.EmptyQueryResponse(), pg.NoticeResponse({})])
def test_each_message_alone(message: Any) -> None:
    check(pg.message, pg.encode([message]), message)


def test_hand_written_messages() -> None:
    salt = frame(b"R", struct.pack(">i", 5) + b"\x01\x02\x03\x04")  # MD5 password request
    check(pg.message, salt, pg.Authentication(5, b"\x01\x02\x03\x04"))
    check(pg.message, frame(b"K", struct.pack(">ii", 7, -1)), pg.BackendKeyData(7, -1))
    check(pg.message, frame(b"D", struct.pack(">h", 0)), pg.DataRow([]))
    check(pg.message, frame(b"N", b"\x00"), pg.NoticeResponse({}))
    check(pg.message, frame(b"C", "crème\x00".encode()), pg.CommandComplete("crème"))


def test_an_empty_stream_has_no_messages() -> None:
    check(pg.stream, b"", [])
    assert list(pg.read_messages([])) == []
    assert list(pg.read_messages([b"", b""])) == []


def test_each_message_is_committed() -> None:
    # Two whole messages and the start of a third: the first two need not be kept.
    two = pg.encode(pg.SAMPLE[:2])
    state: State[Any] = Unbuffered.parse(pg.stream)
    assert isinstance(state, Partial)
    state = state.resume(two + SAMPLE_BYTES[len(two) : len(two) + 3])
    assert isinstance(state, Partial)
    assert state.committed == len(two)


def test_a_body_parser_does_not_read_into_the_next_message() -> None:
    # An Authentication body is "the rest of the body": it stops at the length.
    data = frame(b"R", struct.pack(">i", 10) + b"xyz") + pg.encode([pg.ReadyForQuery("T")])
    check(pg.stream, data, [pg.Authentication(10, b"xyz"), pg.ReadyForQuery("T")])


# --------------------------------------------------------------------------------
# Malformed input: always a ParseError at the offending offset, however it is split
# --------------------------------------------------------------------------------
def test_unknown_message_type() -> None:
    check(pg.message, b"X\x00\x00\x00\x04", expect_error=Err(0))
    error = check(pg.stream, b"X\x00\x00\x00\x04", expect_error=Err(0)).error
    assert error is not None and "message type" in error.expected + error.marks


def test_unknown_message_type_after_a_message() -> None:
    first = pg.encode([pg.ReadyForQuery("I")])
    outcome = check(pg.stream, first + b"X\x00\x00\x00\x04", expect_error=Err(len(first)))
    assert outcome.error is not None
    assert "message type" in outcome.error.expected + outcome.error.marks


@pytest.mark.parametrize("length", [3, 0, -1, -(2**31)])
def test_length_too_short(length: int) -> None:
    data = b"Z" + struct.pack(">i", length) + b"I"
    check(pg.stream, data, expect_error=Err(1, marks=["message length"], message="at least 4"))


def test_bad_utf8_is_a_parse_error_at_the_string() -> None:
    data = frame(b"S", b"name\x00caf\xc3\x00")  # a value cut inside a two-byte character
    error = check(pg.stream, data, expect_error=Err(10, marks=["ParameterStatus", "string"])).error
    assert error is not None and "utf-8" in error.message
    bad_code = frame(b"E", b"\xffvalue\x00\x00")
    check(pg.stream, bad_code, expect_error=Err(5, marks=["ErrorResponse"], message="utf-8"))


def test_a_body_with_bytes_left_over() -> None:
    data = frame(b"C", b"SELECT 1\x00!")
    check(pg.stream, data, expect_error=Err(len(data) - 1))


def test_a_field_running_past_its_body() -> None:
    # A value claims 5 bytes but the body holds 1: the next message is not borrowed.
    data = frame(b"D", struct.pack(">hi", 1, 5) + b"x") + pg.encode([pg.ReadyForQuery("I")])
    check(pg.stream, data, expect_error=Err(11, marks=["DataRow"]))
    unterminated = frame(b"C", b"SELECT")  # no NUL before the body ends
    check(pg.stream, unterminated, expect_error=Err(len(unterminated), marks=["CommandComplete", "string"]))


def test_bad_counts_lengths_and_status() -> None:
    check(
        pg.stream,
        frame(b"D", struct.pack(">hi", 1, -2)),
        expect_error=Err(7, marks=["DataRow", "value length"], message="-2"),
    )
    check(pg.stream, frame(b"T", struct.pack(">h", -1)), expect_error=Err(5, marks=["RowDescription", "count"]))
    check(pg.stream, frame(b"Z", b"X"), expect_error=Err(5, marks=["ReadyForQuery", "transaction status"]))


def test_a_stream_cut_short() -> None:
    for cut in (1, 4, 5, len(SAMPLE_BYTES) - 1):
        with pytest.raises(ParseError) as info:
            list(pg.read_messages([SAMPLE_BYTES[:cut]]))
        assert info.value.position <= cut


def test_the_writer_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="NUL"):
        pg.encode([pg.CommandComplete("a\x00b")])
    with pytest.raises(ValueError, match="status"):
        pg.encode([pg.ReadyForQuery("X")])
    with pytest.raises(ValueError, match="field code"):
        pg.encode([pg.ErrorResponse({"SS": "x"})])
    with pytest.raises(ValueError):
        pg.encode([pg.BackendKeyData(2**31, 0)])


# --------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------
text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12)
int16 = st.integers(-(2**15), 2**15 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
fields = st.dictionaries(st.characters(min_codepoint=1, max_codepoint=127), text, max_size=4)
messages = st.one_of(
    st.builds(pg.Authentication, int32, st.binary(max_size=12)),
    st.builds(pg.ParameterStatus, text, text),
    st.builds(pg.BackendKeyData, int32, int32),
    st.builds(pg.ReadyForQuery, st.sampled_from("ITE")),
    st.builds(
        pg.RowDescription,
        st.lists(st.builds(pg.FieldDescription, text, int32, int16, int32, int16, int32, int16), max_size=4),
    ),
    st.builds(pg.DataRow, st.lists(st.none() | st.binary(max_size=10), max_size=5)),
    st.builds(pg.CommandComplete, text),
    st.just(pg.EmptyQueryResponse()),
    st.builds(pg.ErrorResponse, fields),
    st.builds(pg.NoticeResponse, fields),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, max_size=8), st.data())
def test_round_trip_in_random_chunks(msgs: list[Any], data: st.DataObject) -> None:
    wire = pg.encode(msgs)
    assert parse(pg.stream, wire) == msgs
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    assert list(pg.read_messages(chunks)) == msgs


@settings(max_examples=25, deadline=None)
@given(st.lists(messages, min_size=1, max_size=3))
def test_round_trip_at_every_split(msgs: list[Any]) -> None:
    check(pg.stream, pg.encode(msgs), msgs, exhaustive=len(pg.encode(msgs)) <= 120)
