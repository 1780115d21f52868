"""Message bodies: `BodyReader` (incoming), `BodyWriter` (outgoing) and the decoders
that turn framed input (Content-Length, chunked, close-delimited) into body bytes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from wirekit.combinators import Done, Fail, Partial, State, fast_prefix, parse_prefix
from wirekit.serializer import BytesLike, FlushReason, Serializer

from . import _grammar as g
from ._errors import LocalProtocolError, RemoteProtocolError
from ._framing import FORBIDDEN_TRAILERS, BodyKind
from ._messages import Headers
from ._status import Status

__all__ = ["BodyReader", "BodyWriter", "ChunkedDecoder", "CloseDecoder", "Decoder", "FixedDecoder"]


class _ReaderState(enum.Enum):
    OPEN = "open"  # more bytes may arrive
    DONE = "done"  # the whole body arrived
    FAILED = "failed"  # the body ended in a framing error (or the connection died)
    CLOSED = "closed"  # the application closed the reader


# Enum members bound to module names for the hot paths: on CPython 3.11 reading
# `Enum.MEMBER` goes through the enum's metaclass (about 70 ns); a global is ~10 ns.
_OPEN = _ReaderState.OPEN
_DONE = _ReaderState.DONE
_FAILED = _ReaderState.FAILED
_CLOSED = _ReaderState.CLOSED

OnRead = Callable[[bytes], None]
OnEof = Callable[[], None]
OnError = Callable[[Exception], None]


# The room of a reader that takes everything at once (larger than any input).
_UNBOUNDED = 1 << 62


class BodyReader:
    """An incoming body (a request body on a server, a response body on a client).

    Bytes are delivered through one-shot callbacks: `schedule_read` registers ``on_read``
    (called with the bytes that arrived, possibly at once if some are buffered) and
    ``on_eof`` (called once the whole body arrived). Call `schedule_read` again from
    ``on_read`` for more. A body that ends in a framing error is never reported as a clean
    end: ``on_error`` gets the error instead (or `schedule_read` raises it).
    While no read is scheduled, at most the configured buffer size is held before the
    connection stops reading (backpressure).

    ``on_schedule`` (the connection's) is called after each `schedule_read`: the handler
    wants bytes, or has just taken buffered ones, so a reader that yielded may go on.
    """

    __slots__ = ("_buffered", "_chunks", "_error", "_on_eof", "_on_error", "_on_read", "_on_schedule", "_state", "trailers")

    def __init__(self, on_schedule: Callable[[], None] | None = None, done: bool = False) -> None:
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._state = _DONE if done else _OPEN
        self._on_read: OnRead | None = None
        self._on_eof: OnEof | None = None
        self._on_error: OnError | None = None
        self._error: Exception | None = None
        self._on_schedule = on_schedule
        self.trailers: Headers | None = None
        """The trailer fields of a chunked body (never merged into the headers)."""

    @classmethod
    def _whole(cls, data: bytes) -> BodyReader:
        """A body that arrived whole (with its head): complete, ``data`` buffered."""
        body = cls(done=True)
        body._chunks.append(data)
        body._buffered = len(data)
        return body

    # -- application side ------------------------------------------------------------
    def schedule_read(self, on_read: OnRead, on_eof: OnEof, on_error: OnError | None = None) -> None:
        """Ask for the next bytes of the body.

        ``on_read(data)`` gets the next bytes (as soon as any are available: synchronously
        if some are buffered). ``on_eof()`` is called when the body is complete. Only one
        read may be pending.

        Raises:
            RuntimeError: a read is already scheduled, or the reader was closed.
            RemoteProtocolError: the body ended in a framing error and no ``on_error``
                was given.
        """
        if self._on_read is not None:
            raise RuntimeError("BodyReader.schedule_read: a read is already scheduled")
        if self._state is _CLOSED:
            raise RuntimeError("BodyReader.schedule_read: the reader is closed")
        if self._chunks:
            data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
            self._chunks = []
            self._buffered = 0
            on_read(data)
            if self._on_schedule is not None:
                self._on_schedule()  # room again: a reader that yielded may go on
            return
        if self._state is _DONE:
            on_eof()
            return
        if self._state is _FAILED:
            assert self._error is not None
            if on_error is None:
                raise self._error
            on_error(self._error)
            return
        self._on_read, self._on_eof, self._on_error = on_read, on_eof, on_error
        if self._on_schedule is not None:
            self._on_schedule()

    def close(self) -> None:
        """Stop reading: buffered and later bytes of this body are discarded. (A body
        that was complete and fully delivered stays complete.)"""
        if self._state is _DONE and not self._chunks:
            return
        if self._state is not _CLOSED:
            self._state = _CLOSED
            self._chunks = []
            self._buffered = 0
            self._on_read = self._on_eof = self._on_error = None

    @property
    def is_closed(self) -> bool:
        """True once the body is complete, failed, or closed by the application."""
        return self._state is not _OPEN

    @property
    def is_complete(self) -> bool:
        """True when the whole body arrived intact."""
        return self._state is _DONE

    @property
    def read_scheduled(self) -> bool:
        """Whether the application is waiting for bytes."""
        return self._on_read is not None

    @property
    def buffered(self) -> int:
        """Bytes received and not yet delivered."""
        return self._buffered

    # -- connection side -------------------------------------------------------------
    def room(self, limit: int) -> int:
        """How many more bytes the connection may deliver now (backpressure)."""
        if self._on_read is not None or self._state is _CLOSED:
            return _UNBOUNDED  # delivered (or discarded) at once: no buffer to fill
        return max(0, limit - self._buffered)

    def push(self, data: bytes) -> None:
        """Deliver body bytes (called by the connection)."""
        if self._state is _CLOSED or not data:
            return
        on_read = self._on_read
        if on_read is not None:
            self._on_read = self._on_eof = self._on_error = None
            on_read(data)
        else:
            self._chunks.append(data)
            self._buffered += len(data)

    def finish(self, trailers: Headers | None = None) -> None:
        """The body is complete (called by the connection)."""
        self.trailers = trailers
        if self._state is not _OPEN:
            return
        self._state = _DONE
        on_eof = self._on_eof
        if on_eof is not None and not self._chunks:
            self._on_read = self._on_eof = self._on_error = None
            on_eof()

    def fail(self, error: Exception) -> None:
        """The body cannot complete (framing error, connection lost)."""
        if self._state is not _OPEN:
            return
        self._state = _FAILED
        self._error = error
        on_error = self._on_error
        self._on_read = self._on_eof = self._on_error = None
        if on_error is not None:
            on_error(error)


def empty_body() -> BodyReader:
    """A reader for a message without a body (already complete). It is shared: nothing
    changes the state of a complete body with nothing buffered."""
    return _NO_BODY


_NO_BODY = BodyReader(done=True)


class BodyWriter:
    """An outgoing body (a streaming response on a server, a request body on a client).

    Bytes go straight into the connection's output buffer, framed as the head declared:
    `write` copies, `schedule` queues the caller's buffer without copying (keep it unchanged
    until a later `flush` callback), `flush(callback)` makes the bytes available to the
    runtime and calls ``callback(reason)`` once they have all been written (`FlushReason`:
    ``SHIFT``) or dropped because the peer went away (``DRAIN``). `close` ends the body.

    When bytes go out: whatever is in the output goes with the connection's next `Write`,
    so written bytes may leave before `flush` (with a response head, or when the runtime
    next writes for any reason); `flush` wakes the writer so that they leave now, and is
    the only way to learn when they are out. Writing is never refused for lack of room:
    backpressure is `flush`'s callback -- write the next piece when it fires.
    """

    __slots__ = ("_closed", "_kind", "_on_close", "_out", "_remaining", "_wake", "written")

    def __init__(
        self,
        out: Serializer,
        kind: BodyKind,
        length: int,
        wake: Callable[[], None],
        on_close: Callable[[bool], None],
    ) -> None:
        self._out = out
        self._kind = kind
        self._remaining = length
        self._wake = wake
        self._on_close = on_close
        self._closed = False
        self.written = 0
        """Body bytes accepted so far."""

    def _check(self, n: int) -> bool:
        """Account for ``n`` body bytes; whether they are to be sent at all."""
        if self._closed:
            raise LocalProtocolError("cannot write to a closed body")
        if self._out.is_closed:  # shut down, or the peer went away
            raise LocalProtocolError("cannot write: the connection is closed")
        kind = self._kind
        if kind is _KIND_FIXED:
            if n > self._remaining:
                raise LocalProtocolError(
                    f"{n} bytes exceed the declared Content-Length by {n - self._remaining}"
                )
            self._remaining -= n
        self.written += n  # only bytes actually accepted
        return kind is not _KIND_NONE and n > 0

    def write(self, data: BytesLike) -> None:
        """Copy ``data`` into the body.

        Raises:
            LocalProtocolError: the body is closed, or this exceeds the Content-Length.
        """
        self._put(data, self._out.write_bytes)

    def schedule(self, data: BytesLike) -> None:
        """Queue ``data`` without copying it (do not change it until a later flush
        callback fires).

        Raises:
            LocalProtocolError: the body is closed, or this exceeds the Content-Length.
        """
        self._put(data, self._out.schedule)

    def _put(self, data: BytesLike, put: Callable[[BytesLike], object]) -> None:
        """Frame ``data`` as the head declared and hand it to ``put`` (copy or schedule)."""
        n = len(data)
        if not self._check(n):
            return
        if self._kind is _KIND_CHUNKED:
            out = self._out
            out.write(b"%x\r\n" % n)
            put(data)
            out.write(b"\r\n")
        else:
            put(data)

    def flush(self, callback: Callable[[FlushReason], Any] | None = None) -> None:
        """Send what was written; ``callback(reason)`` fires once it is all written."""
        if callback is not None:
            self._out.flush(callback)
        self._wake()

    def close(self) -> None:
        """End the body (for chunked bodies this writes the last chunk). A body shorter
        than its Content-Length makes the connection close after it (the peer must not
        take it for complete)."""
        if self._closed:
            return
        self._closed = True
        complete = True
        if self._out.is_closed:  # the connection is gone: nothing more can be sent
            complete = False
        elif self._kind is _KIND_CHUNKED:
            self._out.write(b"0\r\n\r\n")
        elif self._kind is _KIND_FIXED and self._remaining:
            complete = False
        self._on_close(complete)
        self._wake()

    def abort(self) -> None:
        """End the body without ending it properly (no last chunk): the connection will
        close, so the peer sees a truncated message, never a complete one."""
        if self._closed:
            return
        self._closed = True
        self._on_close(False)
        self._wake()

    @property
    def is_closed(self) -> bool:
        """Whether `close` (or an abort) happened."""
        return self._closed

    @property
    def pending(self) -> int:
        """How many bytes of the connection's output (this body's and anything queued
        before it) are waiting to be written: what a producer that wants bounded memory
        compares with its limit before it waits for a `flush` callback."""
        return self._out.pending_bytes


# --------------------------------------------------------------------------------
# Decoders: framed input -> body bytes
# --------------------------------------------------------------------------------
class Decoder:
    """Reads one body's framing from the input. `feed` returns the bytes consumed.

    When ``done`` is set the owner calls ``body.finish(decoder.trailers)``.
    """

    done = False
    trailers: Headers | None = None

    def feed(self, data: BytesLike, off: int, end: int, eof: bool, room: int, body: BodyReader) -> int:
        """Consume framing and body bytes from ``data[off:end]``, delivering at most
        ``room`` body bytes to ``body``. Sets ``done`` at the end of the body.

        Raises:
            RemoteProtocolError: bad framing, the input ended early, or a limit.
        """
        raise NotImplementedError


def _take(data: BytesLike, start: int, end: int) -> bytes:
    chunk = data[start:end]
    return chunk if type(chunk) is bytes else bytes(chunk)


class FixedDecoder(Decoder):
    """A Content-Length body."""

    __slots__ = ("done", "remaining")

    def __init__(self, length: int) -> None:
        self.remaining = length
        self.done = length == 0

    def feed(self, data: BytesLike, off: int, end: int, eof: bool, room: int, body: BodyReader) -> int:
        n = end - off
        if n > room:
            n = room
        if n > self.remaining:
            n = self.remaining
        if n:
            body.push(_take(data, off, off + n))
            self.remaining -= n
        if not self.remaining:
            self.done = True
        elif eof and off + n == end:
            raise RemoteProtocolError(
                f"the body ended {self.remaining} bytes short of its Content-Length"
            )
        return n


class CloseDecoder(Decoder):
    """A body delimited by the end of the connection (responses only)."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False

    def feed(self, data: BytesLike, off: int, end: int, eof: bool, room: int, body: BodyReader) -> int:
        n = min(end - off, room)
        if n:
            body.push(_take(data, off, off + n))
        if eof and off + n == end:
            self.done = True
        return n


class _Chunk(enum.Enum):
    LINE = "line"
    DATA = "data"
    DATA_END = "data-end"
    TRAILERS = "trailers"
    DONE = "done"


# (Enum members as module names, as above.)
_LINE = _Chunk.LINE
_DATA = _Chunk.DATA
_DATA_END = _Chunk.DATA_END
_TRAILERS = _Chunk.TRAILERS
_CHUNKS_DONE = _Chunk.DONE
_KIND_NONE = BodyKind.NONE
_KIND_FIXED = BodyKind.FIXED
_KIND_CHUNKED = BodyKind.CHUNKED
# Chunk-size lines and an empty trailer section in one match when whole (`fast_prefix`).
_CHUNK_LINE = fast_prefix(g.chunk_line)
_NEXT_CHUNK_LINE = fast_prefix(g.next_chunk_line)
_TRAILER_SECTION = fast_prefix(g.trailer_section)


# A chunk size has at most 16 hex digits (sizes up to 2**64 - 1).
_MAX_SIZE_DIGITS = 16
# The longest chunk-size line read as a whole (besides its extensions): the CRLF ending
# the chunk before, more than 16 digits (so that "too large" is reported as such), CRLF.
_SIZE_LINE = 2 + _MAX_SIZE_DIGITS + 2 + 2
# What a state's step returns: the new position, the next state, the data bytes taken.
_Step = tuple[int, "_Chunk", int]


def _slice(data: BytesLike, off: int, n: int) -> bytes:
    """``data[off:off + n]`` as bytes (a slice of a bytearray or memoryview is copied)."""
    return data[off : off + n] if type(data) is bytes else bytes(data[off : off + n])


class ChunkedDecoder(Decoder):
    """A chunked body (RFC 9112 §7.1): chunk-size lines, data, CRLF, trailers."""

    __slots__ = ("_ext_budget", "_max_body", "_max_headers", "_max_trailer_bytes", "_parse", "_remaining", "_state", "_total", "done", "trailers")

    def __init__(self, max_extension_bytes: int, max_trailer_bytes: int, max_headers: int, max_body: int | None) -> None:
        self.done = False
        self.trailers = None
        self._state = _LINE
        self._parse: State[Any] | None = None
        self._remaining = 0
        self._ext_budget = max_extension_bytes
        self._max_trailer_bytes = max_trailer_bytes
        self._max_headers = max_headers
        self._max_body = max_body
        self._total = 0

    def _step(self, rule: Any, data: BytesLike, off: int, end: int, eof: bool, cap: int) -> tuple[Any, int] | None:
        """Run ``rule`` incrementally on at most ``cap`` bytes; (value, consumed) or None."""
        avail = end - off
        capped = avail > cap
        if self._parse is None:
            state = parse_prefix(rule, data, off, cap if capped else avail, eof and not capped)
        else:
            state = self._parse.resume(data, off, cap if capped else avail, eof and not capped)
        if type(state) is Done:
            self._parse = None
            return state.value, state.consumed
        if isinstance(state, Fail):
            raise RemoteProtocolError(f"malformed chunked body: {state.error.message}")
        assert isinstance(state, Partial)
        if capped:
            raise RemoteProtocolError("chunk-size line or trailer section too long")
        self._parse = state
        return None

    def _check_line(self, digits: bytes, ext: bytes) -> None:
        """The limits on a chunk-size line: the size's digits and the extensions' bytes."""
        if len(digits) > _MAX_SIZE_DIGITS:
            raise RemoteProtocolError("chunk size too large")
        self._ext_budget -= len(ext)
        if self._ext_budget < 0:
            raise RemoteProtocolError("too many chunk-extension bytes")

    def feed(self, data: BytesLike, off: int, end: int, eof: bool, room: int, body: BodyReader) -> int:
        # Size lines (with the chunks that are all here) are read in this loop, the
        # common case; a chunk's data that spans reads (`_data`) and the trailer section
        # (`_trailer_section`) have their own steps. The chunks' data found in this input
        # is handed to ``body`` as one piece at the end.
        start = off
        state = self._state
        pieces: list[bytes] = []
        max_body = self._max_body
        copy = type(data) is not bytes  # slices of a bytearray or memoryview are copied out
        try:
            while off < end or (eof and state is not _CHUNKS_DONE):
                if state is _DATA_END or state is _LINE:
                    line = None
                    if self._parse is None:  # the usual case: the whole line is here, one match
                        limit = off + _SIZE_LINE + self._ext_budget
                        line = (_NEXT_CHUNK_LINE if state is _DATA_END else _CHUNK_LINE)(data, off, end if end <= limit else limit)
                    if line is None:
                        line = self._size_line(state, data, off, end, eof)
                        if line is None:
                            break
                    (digits, ext), off = line
                    if ext or len(digits) > _MAX_SIZE_DIGITS:
                        self._check_line(digits, ext)
                    size = int(digits, 16)  # hex digits only: the grammar matched 1*HEXDIG
                    if max_body is not None and size:
                        self._count(size, max_body)
                    if not size:
                        state = _TRAILERS
                    elif size <= room and off + size <= end:  # the whole chunk is here too
                        # (`_slice`, inlined: once per chunk)
                        pieces.append(data[off : off + size] if copy is False else bytes(data[off : off + size]))  # type: ignore[arg-type]
                        off += size
                        room -= size
                        state = _DATA_END
                    else:
                        self._remaining = size
                        state = _DATA
                    continue
                step = (
                    self._data(data, off, end, eof, room, pieces) if state is _DATA
                    else self._trailer_section(data, off, end, eof) if state is _TRAILERS
                    else None
                )
                if step is None:
                    break
                off, state, taken = step
                room -= taken
        finally:
            self._state = state
            if pieces:
                body.push(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        return off - start

    def _size_line(self, state: _Chunk, data: BytesLike, off: int, end: int, eof: bool) -> tuple[Any, int] | None:
        """LINE / DATA_END when the line is not all here: (the CRLF ending a chunk and) a
        chunk-size line read incrementally: ((digits, extensions), position after it),
        or None to wait for more input."""
        rule = g.next_chunk_line if state is _DATA_END else g.chunk_line
        got = self._step(rule, data, off, end, eof, _SIZE_LINE + self._ext_budget)
        if got is None:
            return None
        value, used = got
        return value, off + used

    def _count(self, size: int, max_body: int) -> None:
        """The body limit: ``size`` more bytes announced."""
        self._total += size
        if self._total > max_body:
            raise RemoteProtocolError("request body too large", Status.CONTENT_TOO_LARGE)

    def _data(
        self, data: BytesLike, off: int, end: int, eof: bool, room: int, pieces: list[bytes]
    ) -> _Step | None:
        """DATA: the rest of a chunk's data, as much as is here and fits in ``room``."""
        remaining = self._remaining
        n = min(end - off, remaining, room)
        if n:
            pieces.append(_slice(data, off, n))
            remaining -= n
            self._remaining = remaining
        if not remaining:
            return off + n, _DATA_END, n
        if eof and off + n == end:
            raise RemoteProtocolError("the input ended inside a chunk")
        return (off + n, _DATA, n) if n else None

    def _trailer_section(self, data: BytesLike, off: int, end: int, eof: bool) -> _Step | None:
        """TRAILERS: the trailer section (usually empty), checked; the body is done."""
        got = None
        if self._parse is None:  # usually no trailers: one match
            cap = self._max_trailer_bytes
            got = _TRAILER_SECTION(data, off, end if end - off <= cap else off + cap)
        if got is not None:
            fields, off = got
        else:
            got = self._step(g.trailer_section, data, off, end, eof, self._max_trailer_bytes)
            if got is None:
                return None
            fields, used = got
            off += used
        if len(fields) > self._max_headers:
            raise RemoteProtocolError("too many trailer fields", Status.REQUEST_HEADER_FIELDS_TOO_LARGE)
        for name, _ in fields:
            if name.lower() in FORBIDDEN_TRAILERS:
                raise RemoteProtocolError(f"{name.decode()} is not allowed in a trailer")
        self.done = True
        self.trailers = Headers.from_wire(fields) if fields else None
        return off, _CHUNKS_DONE, 0
