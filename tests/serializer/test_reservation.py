"""Reservations (``_reservation.py``): holes filled in later, never sent unfilled."""

from __future__ import annotations

import pytest
from wirekit.serializer import (
    Close,
    FlushReason,
    Reservation,
    ReservationError,
    Serializer,
    Writev,
    Yield,
    serialize_to_bytes,
)


def iovecs(s: Serializer) -> list[bytes]:
    op = s.operation()
    assert isinstance(op, Writev), op
    assert op.nbytes == sum(len(v) for v in op.iovecs)
    return [bytes(v) for v in op.iovecs]


def test_length_prefix() -> None:
    s = Serializer()
    prefix = s.reserve(4)
    assert (prefix.size, prefix.offset, prefix.end) == (4, 0, 4)
    s.write_bytes(b"payload")
    prefix.fill_uint32_be(s.position - prefix.end)
    assert prefix.filled
    assert iovecs(s) == [b"\x00\x00\x00\x07payload"]  # one iovec: filled in place


def test_nothing_from_an_unfilled_reservation_on_is_handed_out() -> None:
    s = Serializer()
    s.write_bytes(b"head")
    r = s.reserve(2)
    s.write_bytes(b"tail")
    s.schedule(b"scheduled")
    assert s.pending_bytes == 19
    assert iovecs(s) == [b"head"]
    s.shift(4)
    assert s.operation() is Yield()
    with pytest.raises(ValueError):
        s.shift(1)
    r.fill(b"RR")
    assert iovecs(s) == [b"RRtail", b"scheduled"]


def test_reservation_made_while_output_is_in_flight() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    assert iovecs(s) == [b"abc"]
    r = s.reserve(2)  # the driver has not shifted "abc" yet
    s.shift(3)
    s.write_bytes(b"z")
    assert s.position == 6
    r.fill(b"xy")
    assert iovecs(s) == [b"xyz"]


def test_reservation_after_staged_writes() -> None:
    s = Serializer()
    s.write_bytes(b"ab")
    r = s.reserve(1)
    assert r.offset == 2
    s.write_bytes(b"d")
    r.fill(b"c")
    assert iovecs(s) == [b"abcd"]


def test_reservation_first_yields() -> None:
    s = Serializer()
    r = s.reserve(1)
    s.write_bytes(b"x")
    assert s.operation() is Yield()
    r.fill_uint8(7)
    assert iovecs(s) == [b"\x07x"]


def test_gate_inside_a_merged_iovec_after_partial_shift() -> None:
    s = Serializer()
    s.write_bytes(b"abcdef")
    assert iovecs(s) == [b"abcdef"]
    s.shift(2)
    r = s.reserve(3)
    s.write_bytes(b"gh")
    assert iovecs(s) == [b"cdef"]
    r.fill(b"123")
    assert iovecs(s) == [b"cdef123gh"]


def test_out_of_order_fill() -> None:
    s = Serializer()
    outer = s.reserve(2)
    s.write_bytes(b"a")
    inner = s.reserve(2)
    s.write_bytes(b"b")
    inner.fill_uint16_le(1)
    assert s.operation() is Yield()
    outer.fill_uint16_be(inner.end - outer.end + 1)
    assert serialize_to_bytes(s) == b"\x00\x04a\x01\x00b"


def test_second_gate_holds_back_after_first_is_filled() -> None:
    s = Serializer()
    first = s.reserve(1)
    s.write_bytes(b"a")
    second = s.reserve(1)
    s.write_bytes(b"b")
    first.fill(b"1")
    assert iovecs(s) == [b"1a"]
    s.shift(2)
    second.fill(b"2")
    assert iovecs(s) == [b"2b"]


def test_flush_waits_for_the_reservation() -> None:
    s = Serializer()
    reasons: list[FlushReason] = []
    r = s.reserve(2)
    s.flush(reasons.append)
    assert s.operation() is Yield()
    assert reasons == []
    r.fill(b"ok")
    s.shift(2)
    assert reasons == [FlushReason.SHIFT]


def test_reservation_across_buffers_and_large_reservations() -> None:
    s = Serializer(8)
    s.write_bytes(b"abcdef")
    small = s.reserve(4)  # does not fit after "abcdef"
    big = s.reserve(20)  # larger than a buffer: an iovec of its own
    s.write_bytes(b"z")
    small.fill(b"SSSS")
    big.fill(b"B" * 20)
    assert iovecs(s) == [b"abcdef", b"SSSS", b"B" * 20, b"z"]


def test_fill_after_close() -> None:
    s = Serializer()
    r = s.reserve(1)
    s.write_bytes(b"x")
    s.close()
    assert s.operation() is Yield()  # not Close: output is pending
    r.fill(b"!")
    assert iovecs(s) == [b"!x"]
    s.shift(2)
    assert s.operation() is Close()


def test_serialize_to_bytes_refuses_unfilled() -> None:
    s = Serializer()
    s.write_bytes(b"x")
    s.reserve(1)
    with pytest.raises(ReservationError):
        serialize_to_bytes(s)


def test_drain_discards_reservations() -> None:
    s = Serializer(16)
    r = s.reserve(4)
    s.write_bytes(b"abcd")
    assert s.drain() == 8
    assert r.discarded and not r.filled
    s.write_bytes(b"fresh data")
    r.fill(b"XXXX")  # ignored: must not scribble over the reused buffer
    assert iovecs(s) == [b"fresh data"]
    assert s.operation() is not Yield()


def test_fill_errors() -> None:
    s = Serializer()
    r = s.reserve(2)
    with pytest.raises(ValueError):
        r.fill(b"abc")
    with pytest.raises(ValueError):
        r.fill_uint32_be(1)
    with pytest.raises(ValueError):
        r.fill_uint16_be(1 << 16)
    with pytest.raises(TypeError):
        r.fill("ab")  # type: ignore[arg-type]
    assert not r.filled
    r.fill(memoryview(bytearray(b"\x00a")).cast("c"))  # any format: its raw bytes
    with pytest.raises(ReservationError):
        r.fill(b"ab")
    with pytest.raises(ValueError):
        s.reserve(0)


def test_backfill_checks_the_owner() -> None:
    s, other = Serializer(), Serializer()
    r = s.reserve(1)
    with pytest.raises(ReservationError):
        other.backfill(r, b"x")
    s.backfill(r, b"x")
    assert serialize_to_bytes(s) == b"x"


@pytest.mark.parametrize(
    ("method", "size", "value", "expected"),
    [
        ("fill_uint8", 1, 255, b"\xff"),
        ("fill_uint16_be", 2, 0x0102, b"\x01\x02"),
        ("fill_uint16_le", 2, 0x0102, b"\x02\x01"),
        ("fill_uint32_be", 4, 0x01020304, b"\x01\x02\x03\x04"),
        ("fill_uint32_le", 4, 0x01020304, b"\x04\x03\x02\x01"),
        ("fill_uint64_be", 8, 1, b"\x00" * 7 + b"\x01"),
        ("fill_uint64_le", 8, 1, b"\x01" + b"\x00" * 7),
    ],
)
def test_fill_helpers(method: str, size: int, value: int, expected: bytes) -> None:
    s = Serializer()
    r = s.reserve(size)
    getattr(r, method)(value)
    assert serialize_to_bytes(s) == expected
    r2 = Serializer().reserve(size)
    with pytest.raises(ValueError):
        getattr(r2, method)(-1)


def test_repr() -> None:
    r: Reservation = Serializer().reserve(3)
    assert repr(r) == "<Reservation size=3 offset=0 pending>"
