"""The serializer's state machine (``_serializer.py``), starting with Faraday's own tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wirekit.serializer import (
    Close,
    FlushReason,
    Serializer,
    SerializerClosedError,
    Writev,
    Yield,
    serialize_to_bytes,
)


def iovecs(s: Serializer) -> list[bytes]:
    """The contents of the next operation's iovecs (the operation must be a Writev)."""
    op = s.operation()
    assert isinstance(op, Writev), op
    assert op.nbytes == sum(len(v) for v in op.iovecs)
    return [bytes(v) for v in op.iovecs]


def recorder() -> tuple[list[FlushReason], Callable[[FlushReason], None]]:
    reasons: list[FlushReason] = []
    return reasons, reasons.append


# -- Faraday: empty output ------------------------------------------------------------------


def test_fresh_serializer_yields() -> None:
    assert Serializer().operation() is Yield()


def test_yield_with_nothing_pending() -> None:
    s = Serializer()
    s.yield_()
    assert s.operation() is Yield()


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_empty_writes_yield(empty: bytes) -> None:
    s = Serializer()
    s.write_bytes(empty)
    s.write_bytes(b"abc", 1, 0)
    s.writelines([])
    assert s.operation() is Yield()
    assert not s.has_pending_output


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_empty_schedule_yields(empty: bytes) -> None:
    s = Serializer()
    s.schedule(empty)
    s.schedule(b"abc", 3)
    assert s.operation() is Yield()


# -- Faraday: write -------------------------------------------------------------------------


def test_write_char() -> None:
    s = Serializer()
    s.write_char(b"A")
    assert iovecs(s) == [b"A"]


@pytest.mark.parametrize("buffer_size", [4096, 1])
@pytest.mark.parametrize("make", [bytes, bytearray, memoryview])
def test_single_write_with_and_without_room(
    buffer_size: int, make: Callable[[bytes], bytes]
) -> None:
    s = Serializer(buffer_size)
    s.write_bytes(make(b"test"))
    assert iovecs(s) == [b"test"]


def test_multiple_writes_coalesce() -> None:
    s = Serializer(256)
    for chunk in (b"te", b"st", b"te", b"st", b"te", b""):
        s.write_bytes(chunk)
    assert iovecs(s) == [b"testtestte"]


def test_multiple_writes_without_room() -> None:
    # Output taken after each write: with a 1-byte buffer, nothing fits in a
    # buffer, so every batch is an iovec of its own.
    s = Serializer(1)
    for chunk in (b"te", b"st", b"te", b"st", b"te", b""):
        s.write_bytes(chunk)
        s.operation()
    assert iovecs(s) == [b"te", b"st", b"te", b"st", b"te"]


def test_writes_coalesce_even_beyond_the_buffer_size() -> None:
    # Unlike Faraday, iovec boundaries are decided when output is taken, not
    # at each write: the same writes with no operation in between coalesce.
    s = Serializer(1)
    for chunk in (b"te", b"st", b"te", b"st", b"te", b""):
        s.write_bytes(chunk)
    assert iovecs(s) == [b"testtestte"]


def test_writes_fill_a_buffer_then_move_on() -> None:
    s = Serializer(4)
    for batch in ([b"ab", b"cd"], [b"ef", b"g"], [b"hij"]):
        for chunk in batch:
            s.write_bytes(chunk)
        s.operation()
    assert iovecs(s) == [b"abcd", b"efg", b"hij"]


# -- Faraday: schedule ----------------------------------------------------------------------


def test_schedule_first() -> None:
    s = Serializer()
    s.schedule(b"one")
    s.write_bytes(b"two")
    assert iovecs(s) == [b"one", b"two"]


def test_schedule_last() -> None:
    s = Serializer()
    s.write_bytes(b"one")
    s.schedule(b"two")
    assert iovecs(s) == [b"one", b"two"]


WRITES: dict[str, Callable[[Serializer], None]] = {
    "bytes": lambda s: s.write_bytes(b"written"),
    "bytearray": lambda s: s.write_bytes(bytearray(b"written")),
    "memoryview": lambda s: s.write_bytes(memoryview(b"xwrittenx")[1:-1]),
    "char": lambda s: s.write_char(b"w"),
    "uint8": lambda s: s.write_uint8(0x77),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("scheduled", [b"sched", bytearray(b"sched"), memoryview(b"sched")])
def test_interleaved_writes_and_schedules(
    write: Callable[[Serializer], None], scheduled: bytes
) -> None:
    # Faraday's interleaved-calls suites: every writer with a schedule, in
    # both orders, gives two iovecs and the same bytes via serialize_to_bytes.
    reference = Serializer()
    write(reference)
    alone = serialize_to_bytes(reference)

    s = Serializer()
    write(s)
    s.schedule(scheduled)
    assert iovecs(s) == [alone, b"sched"]
    assert serialize_to_bytes(s) == alone + b"sched"

    s = Serializer()
    s.schedule(scheduled)
    write(s)
    assert iovecs(s) == [b"sched", alone]
    assert serialize_to_bytes(s) == b"sched" + alone


# -- Faraday: flush -------------------------------------------------------------------------


def test_flush_with_nothing_pending() -> None:
    reasons, callback = recorder()
    Serializer().flush(callback)
    assert reasons == [FlushReason.NOTHING_PENDING]


def test_flush_fires_only_after_all_its_bytes() -> None:
    s = Serializer()
    reasons, callback = recorder()
    s.write_bytes(b"hello world")  # 11 bytes
    s.flush(callback)
    assert iovecs(s) == [b"hello world"]
    s.shift(5)
    assert reasons == []
    assert iovecs(s) == [b" world"]
    s.shift(6)
    assert reasons == [FlushReason.SHIFT]


def test_one_shift_fires_two_callbacks_in_order() -> None:
    s = Serializer()
    fired: list[str] = []
    s.write_bytes(b"hello")
    s.flush(lambda r: fired.append("first"))
    s.write_bytes(b" world")
    s.flush(lambda r: fired.append("second"))
    s.write_bytes(b"!")
    s.flush(lambda r: fired.append("third"))
    s.shift(11)
    assert fired == ["first", "second"]
    s.shift(1)
    assert fired == ["first", "second", "third"]


def test_callbacks_one_byte_apart() -> None:
    s = Serializer()
    fired: list[str] = []
    s.write_bytes(b"a")
    s.flush(lambda r: fired.append("a"))
    s.write_bytes(b"b")
    s.flush(lambda r: fired.append("b"))
    s.shift(1)
    assert fired == ["a"]
    s.shift(1)
    assert fired == ["a", "b"]


def test_flush_drained_after_close() -> None:
    s = Serializer()
    reasons, callback = recorder()
    s.write_bytes(b"hello world")
    s.flush(callback)
    s.close()
    assert s.drain() == 11
    assert reasons == [FlushReason.DRAIN]
    assert s.operation() is Close()


# -- yield, close, drain --------------------------------------------------------------------


def test_yield_hides_pending_output_once() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    s.yield_()
    assert s.operation() is Yield()
    assert iovecs(s) == [b"abc"]


@pytest.mark.parametrize("cancel", ["flush", "close"])
def test_yield_is_cancelled_by_flush_and_close(cancel: str) -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    s.yield_()
    if cancel == "flush":
        s.flush(lambda r: None)
    else:
        s.close()
    assert iovecs(s) == [b"abc"]


def test_close_hands_out_pending_output_then_closes() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    s.close()
    assert s.is_closed
    assert iovecs(s) == [b"abc"]
    s.shift(3)
    assert s.operation() is Close()
    assert s.operation() is Close()
    s.close()  # twice is harmless
    assert s.operation() is Close()


def test_close_with_nothing_pending() -> None:
    s = Serializer()
    assert not s.is_closed
    s.close()
    assert s.operation() is Close()
    assert s.free_bytes_in_buffer == 0


def test_drain_discards_everything_and_counts() -> None:
    s = Serializer()
    reasons, callback = recorder()
    body = bytearray(b"x" * 100)
    s.write_bytes(b"abc")
    s.schedule(body)
    s.flush(callback)
    s.write_bytes(b"def")
    assert s.pending_bytes == 106
    assert s.drain() == 106
    assert reasons == [FlushReason.DRAIN]
    assert s.pending_bytes == 0
    assert s.operation() is Yield()
    # The serializer is still usable, and the scheduled bytearray was released.
    body.extend(b"can resize again")
    s.write_bytes(b"more")
    assert iovecs(s) == [b"more"]


def test_drain_with_nothing_pending() -> None:
    assert Serializer().drain() == 0


def test_drain_callbacks_registered_during_drain_wait_for_new_output() -> None:
    s = Serializer()
    reasons, callback = recorder()

    def on_drain(reason: FlushReason) -> None:
        s.write_bytes(b"new")
        s.flush(callback)

    s.write_bytes(b"old")
    s.flush(on_drain)
    assert s.drain() == 3
    assert reasons == []
    assert iovecs(s) == [b"new"]
    s.shift(3)
    assert reasons == [FlushReason.SHIFT]


# -- shift ----------------------------------------------------------------------------------


def test_partial_shift_inside_an_iovec() -> None:
    s = Serializer()
    s.write_bytes(b"abcdef")
    s.schedule(b"ghij")
    s.write_bytes(b"klm")
    assert iovecs(s) == [b"abcdef", b"ghij", b"klm"]
    s.shift(2)
    assert iovecs(s) == [b"cdef", b"ghij", b"klm"]
    s.shift(6)
    assert iovecs(s) == [b"ij", b"klm"]
    s.shift(1)
    assert iovecs(s) == [b"j", b"klm"]
    s.shift(4)
    assert s.operation() is Yield()


def test_shift_zero_and_bad_counts() -> None:
    s = Serializer()
    s.shift(0)
    s.write_bytes(b"abc")
    s.shift(0)
    assert iovecs(s) == [b"abc"]
    with pytest.raises(ValueError):
        s.shift(4)
    with pytest.raises(ValueError):
        s.shift(-1)
    with pytest.raises(TypeError):
        s.shift(1.0)  # type: ignore[arg-type]
    assert iovecs(s) == [b"abc"]


def test_operation_repeats_until_shifted() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    assert iovecs(s) == [b"abc"]
    assert iovecs(s) == [b"abc"]


def test_writes_after_operation_merge_into_the_same_iovec() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    assert iovecs(s) == [b"abc"]
    s.write_bytes(b"def")
    assert iovecs(s) == [b"abcdef"]
    s.shift(2)
    s.write_bytes(b"gh")
    assert iovecs(s) == [b"cdefgh"]
    s.shift(6)
    assert s.operation() is Yield()


# -- buffers --------------------------------------------------------------------------------


def buffer_of(s: Serializer) -> object:
    op = s.operation()
    assert isinstance(op, Writev)
    view = op.iovecs[0]
    assert isinstance(view, memoryview)
    return view.obj


def test_buffer_is_reused_after_a_full_shift() -> None:
    s = Serializer(64)
    s.write_bytes(b"x" * 40)
    first = buffer_of(s)
    s.shift(40)
    assert s.free_bytes_in_buffer == 64
    for _ in range(10):
        s.write_bytes(b"y" * 40)
        assert buffer_of(s) is first
        s.shift(40)


def test_full_buffer_with_unshifted_views_moves_to_another_buffer() -> None:
    # Aliasing: bytes handed out and not yet shifted are never overwritten.
    s = Serializer(8)
    s.write_bytes(b"abcdef")
    op = s.operation()
    assert isinstance(op, Writev)
    held = op.iovecs[0]
    s.write_bytes(b"ghijkl")  # does not fit: must not go over "abcdef"
    assert bytes(held) == b"abcdef"
    assert iovecs(s) == [b"abcdef", b"ghijkl"]
    assert bytes(held) == b"abcdef"


def test_spare_buffer_is_reused_once_shifted() -> None:
    s = Serializer(8)
    s.write_bytes(b"aaaaaa")
    first = buffer_of(s)
    s.write_bytes(b"bbbbbb")  # second buffer
    assert iovecs(s) == [b"aaaaaa", b"bbbbbb"]
    s.shift(6)  # the first buffer is now free, the second is not
    s.write_bytes(b"cccccc")  # does not fit in the second: back to the first
    op = s.operation()
    assert isinstance(op, Writev)
    assert [bytes(v) for v in op.iovecs] == [b"bbbbbb", b"cccccc"]
    third = op.iovecs[1]
    assert isinstance(third, memoryview)
    assert third.obj is first


def test_batches_larger_than_a_buffer_get_their_own_iovec() -> None:
    s = Serializer(8)
    big = b"0123456789abcdef"
    s.write_bytes(b"ab")
    s.operation()
    s.write_bytes(big)
    s.operation()
    s.write_bytes(b"cd")
    op = s.operation()
    assert isinstance(op, Writev)
    assert [bytes(v) for v in op.iovecs] == [b"ab", big, b"cd"]
    assert type(op.iovecs[1]) is bytes  # a copy, not laid into 8-byte buffers
    mutable = bytearray(big)
    s.shift(op.nbytes)
    s.write_bytes(mutable)
    mutable[:] = b"changed"
    assert iovecs(s) == [big]


def test_a_burst_does_not_stay_allocated() -> None:
    s = Serializer()
    for _ in range(100):
        s.write_bytes(bytes(1000))
    assert iovecs(s) == [bytes(100_000)]
    s.shift(100_000)
    s.write_bytes(b"small again")
    assert iovecs(s) == [b"small again"]
    assert len(s._stage.getvalue()) < 1000  # the 100 kB stage was let go


def test_write_bytes_copies() -> None:
    s = Serializer()
    data = bytearray(b"abc")
    s.write_bytes(data)
    data[0] = ord("X")
    assert iovecs(s) == [b"abc"]


def test_write_bytes_off_and_length() -> None:
    s = Serializer()
    s.write_bytes(b"0123456789", 2, 3)
    s.write_bytes(bytearray(b"0123456789"), 7)
    s.write_bytes(memoryview(b"0123456789"), 0, 1)
    s.write_bytes(b"0123456789", length=2)
    assert iovecs(s) == [b"234789001"]
    for off, length in [(-1, None), (11, None), (0, 11), (5, 6), (0, -1)]:
        with pytest.raises(ValueError):
            s.write_bytes(b"0123456789", off, length)


def test_write_bytes_of_other_formats_and_shapes() -> None:
    import array

    s = Serializer()
    words = array.array("H", [1, 2])
    s.write_bytes(words)  # type: ignore[arg-type]
    s.write_bytes(memoryview(b"abcdef")[::2])  # strided
    s.write_bytes(memoryview(b"abcd").cast("B", (2, 2)))  # two-dimensional
    assert iovecs(s) == [words.tobytes() + b"ace" + b"abcd"]
    with pytest.raises(TypeError):
        s.write_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.write_bytes([1, 2])  # type: ignore[arg-type]


def test_writelines() -> None:
    s = Serializer(8)
    s.write_bytes(b"<")
    s.writelines([b"ab", bytearray(b"cd"), memoryview(b"ef")])
    s.writelines(iter([b"gh", b"ij"]))
    s.writelines([])
    with pytest.raises(TypeError):
        s.writelines([b"all", b"or", "nothing"])  # type: ignore[list-item]
    s.write_bytes(b">")
    assert iovecs(s) == [b"<abcdefghij>"]


def test_buffer_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Serializer(0)
    assert Serializer(10).buffer_size == 10


# -- schedule -------------------------------------------------------------------------------


def test_schedule_is_zero_copy() -> None:
    big = bytes(1 << 20)
    s = Serializer()
    s.schedule(big)
    op = s.operation()
    assert isinstance(op, Writev)
    assert op.iovecs == [big]
    assert op.iovecs[0] is big


@pytest.mark.parametrize("make", [bytearray, lambda b: memoryview(bytearray(b))])
def test_schedule_mutable_is_a_view_of_the_caller_object(
    make: Callable[[bytes], bytearray | memoryview],
) -> None:
    data = make(b"0123456789")
    owner = data.obj if isinstance(data, memoryview) else data
    assert isinstance(owner, bytearray)
    s = Serializer()
    s.schedule(data)
    s.schedule(data, 2, 3)
    op = s.operation()
    assert isinstance(op, Writev)
    for view in op.iovecs:
        assert isinstance(view, memoryview)
        assert view.obj is owner
    assert [bytes(v) for v in op.iovecs] == [b"0123456789", b"234"]
    owner[0] = ord("X")  # the caller broke the contract: the change shows
    assert bytes(op.iovecs[0])[:1] == b"X"


def test_schedule_passes_a_byte_memoryview_through() -> None:
    view = memoryview(b"abc")
    s = Serializer()
    s.schedule(view)
    op = s.operation()
    assert isinstance(op, Writev)
    assert op.iovecs[0] is view


def test_schedule_part_of_bytes_and_partial_shift_keep_the_object() -> None:
    big = b"0123456789"
    s = Serializer()
    s.schedule(big, 1, 8)
    s.shift(0)
    op = s.operation()
    assert isinstance(op, Writev)
    first = op.iovecs[0]
    assert isinstance(first, memoryview) and first.obj is big
    s.shift(3)
    op = s.operation()
    assert isinstance(op, Writev)
    rest = op.iovecs[0]
    assert isinstance(rest, memoryview) and rest.obj is big and bytes(rest) == b"45678"


def test_schedule_rejects_bad_input() -> None:
    s = Serializer()
    with pytest.raises(TypeError):
        s.schedule("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        s.schedule(memoryview(b"abcdef")[::2])
    with pytest.raises(ValueError):
        s.schedule(b"abc", 2, 2)
    assert s.operation() is Yield()


def test_scheduled_bytearray_is_pinned_until_shifted() -> None:
    body = bytearray(b"body")
    s = Serializer()
    s.schedule(body)
    with pytest.raises(BufferError):
        body.extend(b"!")
    op = s.operation()
    assert isinstance(op, Writev)
    s.shift(op.nbytes)
    del op
    body.extend(b"!")


# -- state queries --------------------------------------------------------------------------


def test_pending_free_and_position() -> None:
    s = Serializer(16)
    assert (s.pending_bytes, s.has_pending_output, s.free_bytes_in_buffer, s.position) == (
        0,
        False,
        16,
        0,
    )
    s.write_bytes(b"abcd")
    assert (s.pending_bytes, s.has_pending_output, s.free_bytes_in_buffer, s.position) == (
        4,
        True,
        12,
        4,
    )
    s.schedule(b"0123456789")
    assert (s.pending_bytes, s.free_bytes_in_buffer, s.position) == (14, 12, 14)
    s.operation()
    s.shift(6)
    assert (s.pending_bytes, s.position) == (8, 14)
    s.shift(8)
    assert (s.pending_bytes, s.has_pending_output, s.free_bytes_in_buffer, s.position) == (
        0,
        False,
        16,
        14,
    )


def test_free_bytes_count_staged_writes() -> None:
    s = Serializer(4)
    s.write_bytes(b"ab")
    assert s.free_bytes_in_buffer == 2
    s.write_bytes(b"cdefgh")
    assert s.free_bytes_in_buffer == 0
    assert s.pending_bytes == s.position == 8


def test_repr() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    assert repr(s) == "<Serializer open pending=3 iovecs=0>"


# -- flush callbacks, more ------------------------------------------------------------------


def test_flush_waits_for_scheduled_bytes_too() -> None:
    s = Serializer()
    reasons, callback = recorder()
    s.schedule(b"abc")
    s.flush(callback)
    s.shift(2)
    assert reasons == []
    s.shift(1)
    assert reasons == [FlushReason.SHIFT]


def test_flush_from_a_callback_keeps_order() -> None:
    s = Serializer()
    fired: list[str] = []

    def first(reason: FlushReason) -> None:
        fired.append("first")
        s.flush(lambda r: fired.append(f"nested {r.name}"))

    s.write_bytes(b"abc")
    s.flush(first)
    s.flush(lambda r: fired.append("second"))
    s.shift(3)
    assert fired == ["first", "second", "nested SHIFT"]


def test_callback_exception_propagates_and_later_callbacks_still_run() -> None:
    s = Serializer()
    fired: list[str] = []

    def boom(reason: FlushReason) -> None:
        raise RuntimeError("boom")

    s.write_bytes(b"abc")
    s.flush(boom)
    s.flush(lambda r: fired.append(r.name))
    with pytest.raises(RuntimeError):
        s.shift(3)
    assert fired == []
    s.shift(0)
    assert fired == ["SHIFT"]


def test_callbacks_may_write_during_shift() -> None:
    s = Serializer(8)
    fired: list[FlushReason] = []

    def refill(reason: FlushReason) -> None:
        fired.append(reason)
        if len(fired) < 3:
            s.write_bytes(b"abcdef")
            s.flush(refill)

    s.write_bytes(b"abcdef")
    s.flush(refill)
    out = bytearray()
    while isinstance(op := s.operation(), Writev):
        out += b"".join(op.iovecs)
        s.shift(op.nbytes)
    assert out == b"abcdef" * 3
    assert fired == [FlushReason.SHIFT] * 3


def test_fast_write_coalesces_with_the_other_writers() -> None:
    s = Serializer(buffer_size=64)
    s.write(b"HTTP/1.1 ")
    s.write_bytes(b"200 OK")
    s.write(bytearray(b"\r\n"))
    s.write(memoryview(b"\r\nbody"))
    op = s.operation()
    assert isinstance(op, Writev)
    assert [bytes(v) for v in op.iovecs] == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_fast_write_survives_a_burst_larger_than_the_retained_stage() -> None:
    s = Serializer(buffer_size=16)
    big = b"x" * (200 * 1024)
    s.write(big)
    assert serialize_to_bytes_after(s, b"tail") == big + b"tail"


def serialize_to_bytes_after(s: Serializer, more: bytes) -> bytes:
    out = []
    op = s.operation()
    while isinstance(op, Writev):
        out.append(b"".join(bytes(v) for v in op.iovecs))
        s.shift(op.nbytes)
        op = s.operation()
    s.write(more)  # the writer still works after the stage was replaced
    op = s.operation()
    assert isinstance(op, Writev)
    out.append(b"".join(bytes(v) for v in op.iovecs))
    return b"".join(out)


def test_fast_write_refuses_after_close() -> None:
    s = Serializer()
    s.close()
    with pytest.raises(SerializerClosedError):
        s.write(b"late")
