"""A model-based test of the whole serializer with hypothesis' stateful testing.

Random interleavings of writes, schedules, reservations and fills, flushes,
yields, operations with partial shifts, drains and close are checked against
a model of the output stream. Invariants:

* every ``Writev`` hands out exactly the next unconsumed bytes of the stream,
  up to the first unfilled reservation, and the expected operation is
  returned (``Writev`` / ``Yield`` / ``Close``);
* everything shifted out, concatenated, equals everything written, in order,
  minus what ``drain`` dropped;
* each flush callback fires exactly once, in registration order, never
  before all the bytes written before it were consumed, and as soon as they
  are.
"""

from __future__ import annotations

import struct

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from wirekit.serializer import (
    Close,
    FlushReason,
    Reservation,
    Serializer,
    SerializerClosedError,
    Writev,
    Yield,
)

chunks = st.binary(max_size=40)
kinds = st.sampled_from(["bytes", "bytearray", "memoryview"])


def as_kind(data: bytes, kind: str) -> bytes | bytearray | memoryview:
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(bytearray(data))
    return data


class SerializerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.s = Serializer()
        self.stream = bytearray()  # every byte ever written, by stream position
        self.consumed = 0  # stream bytes shifted or dropped
        self.dropped: list[tuple[int, int]] = []
        self.out = bytearray()  # every byte shifted, in order
        self.unfilled: list[Reservation] = []
        self.flushes: list[tuple[int, int]] = []  # (callback id, threshold), registration order
        self.fired: list[tuple[int, FlushReason, int]] = []  # (id, reason, consumed at the time)
        self.yield_flag = False
        self.closed = False
        self.keep_alive: list[object] = []  # scheduled objects must stay unchanged
        self.handed = 0  # bytes handed out by the last operation and not shifted since

    @initialize(buffer_size=st.sampled_from([1, 3, 8, 64, 4096]))
    def create(self, buffer_size: int) -> None:
        self.s = Serializer(buffer_size)

    # -- writes ----------------------------------------------------------------------------

    @precondition(lambda self: not self.closed)
    @rule(data=chunks, kind=kinds, cut=st.tuples(st.integers(0, 40), st.integers(0, 40)))
    def write_bytes(self, data: bytes, kind: str, cut: tuple[int, int]) -> None:
        off = min(cut[0], len(data))
        length = min(cut[1], len(data) - off)
        if cut[0] % 3 == 0:
            self.s.write_bytes(as_kind(data, kind))
            self.stream += data
        else:
            self.s.write_bytes(as_kind(data, kind), off, length)
            self.stream += data[off : off + length]

    @precondition(lambda self: not self.closed)
    @rule(pieces=st.lists(chunks, max_size=5))
    def writelines(self, pieces: list[bytes]) -> None:
        self.s.writelines(pieces)
        self.stream += b"".join(pieces)

    @precondition(lambda self: not self.closed)
    @rule(value=st.integers(0, 2**32 - 1), which=st.integers(0, 3))
    def write_number(self, value: int, which: int) -> None:
        if which == 0:
            self.s.write_uint32_be(value)
            self.stream += struct.pack(">I", value)
        elif which == 1:
            self.s.write_uint16_le(value & 0xFFFF)
            self.stream += struct.pack("<H", value & 0xFFFF)
        elif which == 2:
            self.s.write_uint48_be(value << 16)
            self.stream += (value << 16).to_bytes(6, "big")
        else:
            self.s.write_uint8(value & 0xFF)
            self.stream.append(value & 0xFF)

    @precondition(lambda self: not self.closed)
    @rule(data=st.binary(max_size=100), kind=kinds, off=st.integers(0, 100))
    def schedule(self, data: bytes, kind: str, off: int) -> None:
        obj = as_kind(data, kind)
        self.keep_alive.append(obj)
        off = min(off, len(data))
        self.s.schedule(obj, off)
        self.stream += data[off:]

    @precondition(lambda self: not self.closed)
    @rule(size=st.integers(1, 10))
    def reserve(self, size: int) -> None:
        r = self.s.reserve(size)
        assert r.offset == len(self.stream)
        self.stream += bytes(size)  # placeholder, replaced when filled
        self.unfilled.append(r)

    @precondition(lambda self: self.unfilled)
    @rule(data=st.data())
    def fill(self, data: st.DataObject) -> None:
        r = self.unfilled.pop(data.draw(st.integers(0, len(self.unfilled) - 1)))
        content = data.draw(st.binary(min_size=r.size, max_size=r.size))
        r.fill(content)
        self.stream[r.offset : r.end] = content

    @precondition(lambda self: self.closed)
    @rule()
    def write_after_close(self) -> None:
        try:
            self.s.write_bytes(b"x")
        except SerializerClosedError:
            return
        raise AssertionError("write after close did not raise")

    # -- control ---------------------------------------------------------------------------

    @rule()
    def flush(self) -> None:
        ident = len(self.flushes)
        self.flushes.append((ident, len(self.stream)))
        self.yield_flag = False
        self.s.flush(lambda reason: self.fired.append((ident, reason, self.consumed)))

    @rule()
    def yield_(self) -> None:
        self.s.yield_()
        self.yield_flag = True

    @rule(dice=st.integers(0, 9))
    def close(self, dice: int) -> None:
        if dice:  # rare, or little would be written after it
            return
        self.s.close()
        self.closed = True
        self.yield_flag = False

    @rule(dice=st.integers(0, 4))
    def drain(self, dice: int) -> None:
        if dice:
            return
        end = len(self.stream)
        dropped = self.s.drain()
        assert dropped == end - self.consumed
        if dropped:
            self.dropped.append((self.consumed, end))
        self.consumed = end
        self.unfilled.clear()
        self.handed = 0

    @rule(data=st.data(), shift_now=st.booleans())
    def operate(self, data: st.DataObject, shift_now: bool) -> None:
        gate = min((r.offset for r in self.unfilled), default=len(self.stream))
        ready = gate - self.consumed
        op = self.s.operation()
        self.handed = 0
        if self.yield_flag and not self.closed:
            assert op is Yield()
        elif ready > 0:
            assert isinstance(op, Writev)
            assert op.nbytes == ready == sum(len(v) for v in op.iovecs)
            assert b"".join(op.iovecs) == self.stream[self.consumed : gate]
            self.handed = ready
            if shift_now:
                self.shift(data)
        elif self.closed and self.consumed == len(self.stream):
            assert op is Close()
        else:
            assert op is Yield()
        self.yield_flag = False

    @precondition(lambda self: self.handed > 0)
    @rule(data=st.data())
    def shift(self, data: st.DataObject) -> None:
        # Shift part of what the last operation handed out, possibly after
        # more writes, fills and flushes happened in between.
        n = data.draw(st.integers(0, self.handed), label="shift")
        shifted = self.stream[self.consumed : self.consumed + n]
        self.consumed += n  # before shift(): callbacks record it
        self.handed -= n
        self.s.shift(n)
        self.out += shifted

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def counters_agree(self) -> None:
        assert self.s.position == len(self.stream)
        assert self.s.pending_bytes == len(self.stream) - self.consumed
        assert self.s.has_pending_output == (self.s.pending_bytes > 0)

    @invariant()
    def callbacks_fire_once_in_order_and_on_time(self) -> None:
        fired_ids = [ident for ident, _, _ in self.fired]
        assert fired_ids == list(range(len(fired_ids)))  # once each, in order
        thresholds = dict(self.flushes)
        for ident, reason, consumed in self.fired:
            if reason is not FlushReason.DRAIN:
                assert consumed >= thresholds[ident]
        for ident, threshold in self.flushes[len(self.fired) :]:
            assert threshold > self.consumed, f"callback {ident} is late"

    def teardown(self) -> None:
        for r in self.unfilled:
            r.fill(bytes(r.size))
        self.s.close()
        for _ in range(10_000):
            op = self.s.operation()
            if not isinstance(op, Writev):
                break
            assert op.nbytes > 0 and op.nbytes == sum(len(v) for v in op.iovecs)
            self.out += b"".join(op.iovecs)
            self.consumed += op.nbytes
            self.s.shift(op.nbytes)
        assert self.s.operation() is Close()
        expected = bytearray()
        start = 0
        for begin, end in self.dropped:
            expected += self.stream[start:begin]
            start = end
        expected += self.stream[start:]
        assert self.out == expected
        assert len(self.fired) == len(self.flushes)


SerializerMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
TestSerializerMachine = SerializerMachine.TestCase
