"""Bodies (`wirekit.http._body`): `BodyReader`, `BodyWriter`, and the decoders for
Content-Length, chunked and close-delimited bodies, fed at every split point."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from wirekit.http import (
    BodyReader,
    BodyWriter,
    FlushReason,
    LocalProtocolError,
    RemoteProtocolError,
)
from wirekit.http._body import ChunkedDecoder, CloseDecoder, Decoder, FixedDecoder, empty_body
from wirekit.http._framing import BodyKind
from wirekit.serializer import Serializer, Writev


class Log:
    """Records a reader's callbacks."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def on_read(self, data: bytes) -> None:
        self.events.append(data)

    def on_eof(self) -> None:
        self.events.append("eof")

    def on_error(self, exc: Exception) -> None:
        self.events.append(exc)


# -- BodyReader -----------------------------------------------------------------------
def test_reader_delivers_buffered_bytes_synchronously() -> None:
    body = BodyReader()
    body.push(b"ab")
    body.push(b"cd")
    assert body.buffered == 4
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    assert log.events == [b"abcd"]
    assert body.buffered == 0 and not body.read_scheduled


def test_reader_pending_read_gets_next_push() -> None:
    body = BodyReader()
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    assert body.read_scheduled
    body.push(b"")  # nothing: no callback
    assert log.events == []
    body.push(b"x")
    assert log.events == [b"x"] and not body.read_scheduled
    body.push(b"y")  # one-shot: buffered until the next schedule_read
    assert log.events == [b"x"] and body.buffered == 1


def test_reader_one_read_at_a_time() -> None:
    body = BodyReader()
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    with pytest.raises(RuntimeError):
        body.schedule_read(log.on_read, log.on_eof)


def test_reader_eof_after_buffered_bytes() -> None:
    body = BodyReader()
    body.push(b"abc")
    body.finish()
    assert body.is_closed and body.is_complete
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    body.schedule_read(log.on_read, log.on_eof)
    assert log.events == [b"abc", "eof"]


def test_reader_eof_fires_for_pending_read() -> None:
    body = BodyReader()
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    body.finish()
    assert log.events == ["eof"]


def test_reader_trailers_are_separate() -> None:
    from wirekit.http import Headers

    body = BodyReader()
    body.finish(Headers([(b"X-T", b"1")]))
    assert body.trailers == Headers([(b"X-T", b"1")])


def test_reader_failure_is_never_a_clean_eof() -> None:
    body = BodyReader()
    log = Log()
    body.schedule_read(log.on_read, log.on_eof, log.on_error)
    err = RemoteProtocolError("bad chunk")
    body.fail(err)
    assert log.events == [err]
    assert body.is_closed and not body.is_complete
    body.finish()  # too late: stays failed
    assert not body.is_complete
    with pytest.raises(RemoteProtocolError):
        body.schedule_read(log.on_read, log.on_eof)
    body.schedule_read(log.on_read, log.on_eof, log.on_error)
    assert log.events == [err, err]


def test_reader_failure_delivers_buffered_bytes_first() -> None:
    body = BodyReader()
    body.push(b"ab")
    body.fail(RemoteProtocolError("short"))
    log = Log()
    body.schedule_read(log.on_read, log.on_eof, log.on_error)
    body.schedule_read(log.on_read, log.on_eof, log.on_error)
    assert log.events[0] == b"ab" and isinstance(log.events[1], RemoteProtocolError)


def test_reader_close_discards() -> None:
    body = BodyReader()
    body.push(b"ab")
    body.close()
    assert body.is_closed and not body.is_complete and body.buffered == 0
    body.push(b"more")
    assert body.buffered == 0
    with pytest.raises(RuntimeError):
        body.schedule_read(Log().on_read, Log().on_eof)


def test_reader_room_is_backpressure() -> None:
    body = BodyReader()
    assert body.room(10) == 10
    body.push(b"1234")
    assert body.room(10) == 6
    body.push(b"123456789")
    assert body.room(10) == 0
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    assert body.room(10) == 10
    body.schedule_read(log.on_read, log.on_eof)
    assert body.room(10) > 10**9  # a reader waits: deliver anything


def test_reader_on_schedule_hook() -> None:
    calls: list[int] = []
    body = BodyReader(on_schedule=lambda: calls.append(1))
    body.push(b"x")
    assert calls == []  # nothing asked yet
    body.schedule_read(Log().on_read, Log().on_eof)  # served from the buffer: room again
    assert calls == [1]
    body.schedule_read(Log().on_read, Log().on_eof)  # waits: the connection may read
    assert calls == [1, 1]


def test_empty_body() -> None:
    body = empty_body()
    assert body.is_complete
    log = Log()
    body.schedule_read(log.on_read, log.on_eof)
    assert log.events == ["eof"]


# -- BodyWriter -----------------------------------------------------------------------
@dataclass
class Sink:
    out: Serializer
    wakes: int = 0
    closed: bool | None = None

    def wake(self) -> None:
        self.wakes += 1

    def on_close(self, complete: bool) -> None:
        self.closed = complete

    def take(self) -> bytes:
        op = self.out.operation()
        if not isinstance(op, Writev):
            return b""
        data = b"".join(bytes(v) for v in op.iovecs)
        self.out.shift(op.nbytes)
        return data


def writer(kind: BodyKind, length: int = 0) -> tuple[BodyWriter, Sink]:
    sink = Sink(Serializer(64))
    return BodyWriter(sink.out, kind, length, sink.wake, sink.on_close), sink


def test_chunked_writer_framing() -> None:
    w, sink = writer(BodyKind.CHUNKED)
    w.write(b"hello")
    w.write(b"")  # an empty write must not end the body (http/af #144)
    w.write(bytearray(b"x" * 26))
    assert sink.wakes == 0  # writes do not wake the writer; flush and close do
    w.flush()
    assert sink.wakes == 1
    w.close()
    assert sink.closed is True and w.is_closed
    assert sink.take() == b"5\r\nhello\r\n1a\r\n" + b"x" * 26 + b"\r\n0\r\n\r\n"
    with pytest.raises(LocalProtocolError):
        w.write(b"late")
    w.close()  # harmless


def test_chunked_abort_has_no_last_chunk() -> None:
    w, sink = writer(BodyKind.CHUNKED)
    w.write(b"abc")
    w.abort()
    assert sink.closed is False
    assert sink.take() == b"3\r\nabc\r\n"


def test_fixed_writer_enforces_length() -> None:
    w, sink = writer(BodyKind.FIXED, 5)
    w.write(b"abc")
    with pytest.raises(LocalProtocolError):
        w.write(b"def")
    w.write(b"de")
    assert w.written == 5
    w.close()
    assert sink.closed is True
    assert sink.take() == b"abcde"


def test_fixed_writer_short_body_is_incomplete() -> None:
    w, sink = writer(BodyKind.FIXED, 5)
    w.write(b"abc")
    w.close()
    assert sink.closed is False


def test_no_body_writer_drops_bytes() -> None:
    w, sink = writer(BodyKind.NONE)
    w.write(b"ignored")
    w.close()
    assert sink.take() == b"" and sink.closed is True


def test_close_delimited_writer() -> None:
    w, sink = writer(BodyKind.CLOSE)
    w.write(b"raw")
    w.close()
    assert sink.take() == b"raw" and sink.closed is True


def test_schedule_is_zero_copy() -> None:
    w, sink = writer(BodyKind.FIXED, 10000)
    big = b"z" * 10000
    w.schedule(big)
    op = sink.out.operation()
    assert isinstance(op, Writev)
    assert any(v is big or (isinstance(v, memoryview) and v.obj is big) for v in op.iovecs)
    with pytest.raises(LocalProtocolError):
        w.schedule(b"!")


def test_schedule_chunked() -> None:
    w, sink = writer(BodyKind.CHUNKED)
    w.schedule(b"q" * 300)
    w.close()
    assert sink.take() == b"12c\r\n" + b"q" * 300 + b"\r\n0\r\n\r\n"


def test_flush_callback_after_shift() -> None:
    w, sink = writer(BodyKind.CHUNKED)
    reasons: list[FlushReason] = []
    w.write(b"abc")
    w.flush(reasons.append)
    assert reasons == []
    sink.take()
    assert reasons == [FlushReason.SHIFT]


# -- decoders, at every split point ---------------------------------------------------
@dataclass
class Decoded:
    body: bytes
    done: bool
    error: str | None
    trailers: list[tuple[bytes, bytes]] | None
    rest: bytes


def decode(make: Callable[[], Decoder], chunks: Sequence[bytes], eof: bool, room: int = 1 << 40) -> Decoded:
    """Feed ``chunks`` the way a connection does (unconsumed bytes presented again)."""
    dec = make()
    body = BodyReader()
    inbox = bytearray()
    error: str | None = None
    steps = [(c, False) for c in chunks] + ([(b"", True)] if eof else [])
    try:
        for chunk, last in steps:
            inbox += chunk
            while not dec.done:
                buf = bytes(inbox)
                n = dec.feed(buf, 0, len(buf), last, room, body)
                del inbox[:n]
                if n == 0:
                    break
            if dec.done:
                break
    except RemoteProtocolError as e:
        error = e.message
    got = b"".join(body._chunks)
    trailers = None if dec.trailers is None else list(dec.trailers)
    rest = bytes(inbox) + b"".join(c for c, _ in steps[len(steps) :])
    return Decoded(got, dec.done, error, trailers, rest if dec.done else b"")


def decode_all_ways(make: Callable[[], Decoder], data: bytes, eof: bool = False) -> Decoded:
    ref = decode(make, [data], eof)
    ways: list[list[bytes]] = [[data[:i], data[i:]] for i in range(len(data) + 1)]
    ways.append([data[i : i + 1] for i in range(len(data))])
    ways.append([b"", *(data[i : i + 3] for i in range(0, len(data), 3)), b""])
    for chunks in ways:
        got = decode(make, chunks, eof)
        assert (got.body, got.done, got.error is None, got.trailers) == (
            ref.body,
            ref.done,
            ref.error is None,
            ref.trailers,
        ), f"{[len(c) for c in chunks]}: {got} != {ref}"
    return ref


def chunked() -> ChunkedDecoder:
    return ChunkedDecoder(max_extension_bytes=64, max_trailer_bytes=256, max_headers=4, max_body=1000)


def test_fixed_decoder() -> None:
    d = decode_all_ways(lambda: FixedDecoder(5), b"helloGET")
    assert (d.body, d.done, d.error) == (b"hello", True, None)
    d = decode_all_ways(lambda: FixedDecoder(0), b"")
    assert d.done


def test_fixed_decoder_short_at_eof() -> None:
    d = decode_all_ways(lambda: FixedDecoder(5), b"hel", eof=True)
    assert not d.done and d.error is not None and "short" in d.error


def test_fixed_decoder_respects_room() -> None:
    dec = FixedDecoder(10)
    body = BodyReader()
    assert dec.feed(b"0123456789", 0, 10, False, 4, body) == 4
    assert dec.feed(b"456789", 0, 6, False, 0, body) == 0
    assert dec.feed(b"456789", 2, 6, False, 100, body) == 4
    assert b"".join(body._chunks) == b"01236789"


def test_close_decoder() -> None:
    d = decode_all_ways(CloseDecoder, b"everything until the end", eof=True)
    assert (d.body, d.done) == (b"everything until the end", True)
    d = decode_all_ways(CloseDecoder, b"no end yet")
    assert (d.body, d.done) == (b"no end yet", False)


@pytest.mark.parametrize(
    ("data", "body", "trailers"),
    [
        (b"0\r\n\r\n", b"", None),
        (b"5\r\nhello\r\n0\r\n\r\n", b"hello", None),
        (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world", None),
        (b"A\r\n0123456789\r\n000\r\n\r\n", b"0123456789", None),
        (b"1;a=b\r\nx\r\n0;c\r\n\r\n", b"x", None),
        (b'1 ;a = "q;\\""\r\nx\r\n0\r\n\r\n', b"x", None),
        (b"1\r\nx\r\n0\r\nX-T: 1\r\nY:2\r\n\r\n", b"x", [(b"X-T", b"1"), (b"Y", b"2")]),
    ],
)
def test_chunked_decoder(data: bytes, body: bytes, trailers: list[tuple[bytes, bytes]] | None) -> None:
    d = decode_all_ways(chunked, data + b"NEXT")
    assert (d.body, d.done, d.error, d.trailers) == (body, True, None, trailers)


@pytest.mark.parametrize(
    "data",
    [
        b"0x1\r\nx\r\n0\r\n\r\n",
        b"+1\r\nx\r\n0\r\n\r\n",
        b"-1\r\nx\r\n0\r\n\r\n",
        b" 1\r\nx\r\n0\r\n\r\n",
        b"1 \r\nx\r\n0\r\n\r\n",
        b"1_0\r\nx\r\n0\r\n\r\n",
        b"\r\nx\r\n0\r\n\r\n",
        b"0" * 16 + b"1\r\nx\r\n0\r\n\r\n",  # more than 16 hex digits
        b"f" * 40 + b"\r\n",
        b"1\r\nxXX0\r\n\r\n",  # data not followed by CRLF
        b"1\r\nx\rX0\r\n\r\n",
        b"1\r\nx\n0\r\n\r\n",
        b"1\nx\r\n0\r\n\r\n",  # bare LF on the size line
        b"1\r\nx\r\n0\n\r\n",
        b"1\r\nx\r\n0\r\n\n",
        b"1;\r\nx\r\n0\r\n\r\n",  # bare ";"
        b"1;a=b \r\nx\r\n0\r\n\r\n",  # whitespace before CRLF
        b"1;a=" + b"b" * 100 + b"\r\nx\r\n0\r\n\r\n",  # extension budget (64)
        b"1;a=b\r\nx\r\n" * 20 + b"0\r\n\r\n",  # the budget is per body
        b"1\r\nx\r\n0\r\nX : 1\r\n\r\n",
        b"1\r\nx\r\n0\r\n X: 1\r\n\r\n",
        b"1\r\nx\r\n0\r\nHost: b\r\n\r\n",  # forbidden trailer fields
        b"1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n",
        b"1\r\nx\r\n0\r\ntransfer-encoding: chunked\r\n\r\n",
        b"1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",  # too many trailers
        b"1\r\nx\r\n0\r\nX: " + b"v" * 300 + b"\r\n\r\n",  # trailer section too large
        b"3e9\r\n",  # body limit (1000)
    ],
)
def test_chunked_decoder_rejects(data: bytes) -> None:
    d = decode_all_ways(chunked, data)
    assert not d.done and d.error is not None


def test_chunked_decoder_incomplete() -> None:
    for data in (b"5\r\nhel", b"5\r\nhello\r\n", b"5\r\nhello\r\n0\r\n", b"0\r\nX: 1\r\n"):
        d = decode_all_ways(chunked, data)
        assert not d.done and d.error is None
        d = decode_all_ways(chunked, data, eof=True)
        assert not d.done and d.error is not None


def test_chunked_decoder_respects_room() -> None:
    dec = chunked()
    body = BodyReader()
    data = b"a\r\n0123456789\r\n0\r\n\r\n"
    n = dec.feed(data, 0, len(data), False, 4, body)
    assert b"".join(body._chunks) == b"0123" and not dec.done
    m = dec.feed(data, n, len(data), False, 100, body)
    assert dec.done and n + m == len(data)
    assert b"".join(body._chunks) == b"0123456789"
