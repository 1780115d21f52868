"""`WebSocketConnection`: the sans-IO RFC 6455 connection, for both roles.

The same contract as `ServerConnection`: the runtime asks ``next_read_operation()``
(`READ`, `YIELD`, `CLOSE`) and, on `READ`, hands the bytes it received to ``read(data)``
(``read_eof`` at end of stream), which takes them all: what cannot be used yet (a frame
cut by the chunk's end, frames waiting for room in the message queue) is kept by the
connection (`HeldInput`); it asks ``next_write_operation()`` (`Write(iovecs)`, `YIELD`,
`Close(n)`) and reports ``report_write_result(n)``. ``yield_reader``/``yield_writer``
register wakeups.

What the application sees: ``next_event()`` returns the received messages (`Message`,
text as ``str``, binary as ``bytes``) and, last, `Closed` (the peer's code; 1005 when its
close frame had none, 1006 when the stream ended without one, or the code we failed the
connection with). It sends with ``send_text``/``send_binary`` (``final=False`` to
fragment), ``ping``/``pong`` and ``close(code, reason)``. Pings are answered with pongs
by the connection.

A protocol violation by the peer never raises: the connection sends a close frame with
the code (1002 protocol error, 1007 invalid data, 1009 too big), stops reading and then
closes the transport. The server closes TCP first once the close handshake is done.
"""

from __future__ import annotations

import codecs
import os
import zlib
from collections import deque
from collections.abc import Callable

from wirekit.combinators import Done, Partial, fast_prefix, parse_prefix
from wirekit.serializer import CLOSED, BytesLike, FlushReason, PeerClosed, Serializer, Writev
from wirekit.serializer import Close as SClose

from .._errors import LocalProtocolError
from .._input import HeldInput
from .._operations import CLOSE, READ, YIELD, Close, ReadOperation, WriteOperation
from .._wakeups import Wakeups
from ._deflate import Deflate, DeflateParams, MessageTooBig
from ._events import Closed, ConnectionState, Message, WebSocketConfig, _message
from ._frames import (
    FrameHeader,
    close_payload,
    frame_header,
    mask,
    parse_close,
    write_frame,
)

__all__ = ["WebSocketConnection"]

_HEADER = fast_prefix(frame_header)
_utf8 = codecs.getincrementaldecoder("utf-8")


_OPEN, _CLOSING, _CLOSED = ConnectionState.OPEN, ConnectionState.CLOSING, ConnectionState.CLOSED
_TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class _Fail(Exception):
    """Internal: fail the connection with a close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class WebSocketConnection(HeldInput, Wakeups):
    """One WebSocket connection after the handshake, sans IO.

    Args:
        client: True for the client role (our frames are masked, the peer's must not
            be), False for the server role (the reverse).
        config: limits and buffer sizes.
        deflate: the negotiated permessage-deflate parameters, if any.
        on_ping: called with each ping's payload (the pong is sent regardless).
        on_pong: called with each pong's payload.
    """

    def __init__(
        self,
        client: bool = False,
        config: WebSocketConfig | None = None,
        deflate: DeflateParams | None = None,
        on_ping: Callable[[bytes], None] | None = None,
        on_pong: Callable[[bytes], None] | None = None,
    ) -> None:
        self.client = client
        self.config = config = config or WebSocketConfig()
        self._max_frame = config.max_frame_size if config.max_frame_size is not None else config.max_message_size
        self._deflate = Deflate(deflate, client) if deflate is not None else None
        self.on_ping = on_ping
        self.on_pong = on_pong
        self._out = Serializer(config.write_buffer_size)
        self._wake_read: Callable[[], None] | None = None
        self._wake_write: Callable[[], None] | None = None
        self._events: deque[Message | Closed] = deque()
        self._messages = 0  # `Message`s in `_events`
        self.state = _OPEN
        self._in_open = True
        self._final: Closed | None = None  # the last event, once queued
        # The frame being received (`_header` None between frames).
        self._pos = 0  # where the frame being parsed starts, in the current `_read`
        self._header: FrameHeader | None = None
        self._remaining = 0
        self._got = 0  # payload bytes of this frame so far (the masking key's phase)
        # The data message being received (`_kind` 0: none).
        self._kind = 0
        self._compressed = False
        self._parts: list[bytes] | list[str] = []
        self._size = 0
        self._decoder: codecs.IncrementalDecoder | None = None
        # The message being sent (fragmented with final=False): its opcode, or 0.
        self._sending = 0

    # ---------------------------------------------------------------------------------
    # Reading
    # ---------------------------------------------------------------------------------
    def next_read_operation(self) -> ReadOperation:
        """`READ`, `YIELD` (the message queue is full, or output piles up) or `CLOSE`.
        Input held back by backpressure is used here first, once there is room."""
        if self._held:
            self._resume_held()
        if not self._in_open:
            return CLOSE
        if self._backpressure():
            return YIELD
        return READ

    # `read(data)` and `read_eof(data)` come from `HeldInput`: every byte is taken (a
    # frame cut by the chunk's end, or frames waiting for room in the queue, are kept);
    # they never raise on input: a violation fails the connection (a close frame, then
    # `Close`). After `read_eof` the connection closes (1006 unless the closing
    # handshake was done).

    def _reading(self) -> bool:
        return self._in_open and not self._backpressure()

    def _input_closed(self) -> bool:
        return not self._in_open

    def _backpressure(self) -> bool:
        return self._messages >= self.config.max_queue or self._out.pending_bytes > self.config.max_pending_output

    def _read(self, data: BytesLike, eof: bool) -> int:
        """Parse what can be parsed now; returns the bytes used (`HeldInput` keeps the rest)."""
        if not self._in_open:
            return 0  # nothing more is read
        n = len(data)
        self._pos = 0
        try:
            off = self._frames(data, n)
        except _Fail as f:
            self._fail(f.code, f.reason)
            return self._pos  # up to the frame that failed; the rest is not wanted
        if not self._in_open:
            return off  # a close frame ended the input
        if eof and (off == n or not self._backpressure()):
            # The stream ended (frames held for want of room are parsed first, then this).
            self._in_open = False
            self._finish(Closed(1006, "the connection ended without a close frame"))
            self._out.close()
            self._wake_writer()
        return off

    def _frames(self, data: BytesLike, n: int) -> int:
        off = 0
        config = self.config
        max_queue = config.max_queue
        # The whole-message fast path: an unfragmented, uncompressed text or binary frame
        # whose payload is all here, within the limits, on an open connection.
        fast_limit = min(self._max_frame, config.max_message_size)
        masked = not self.client
        events = self._events
        output_full = self._out.pending_bytes > config.max_pending_output
        while off < n and self._in_open:
            self._pos = off
            header = self._header
            if header is None:
                if self._messages >= max_queue or output_full:
                    break  # backpressure: the application takes messages first
                got = _HEADER(data, off, n)
                if got is None:
                    got = _parse_header(data, off, n)
                    if got is None:
                        break  # a header cut by the chunk's end: wait for more
                header, stop = got
                b0, length, key = header
                if (
                    (b0 == 0x82 or b0 == 0x81)
                    and not self._kind
                    and stop + length <= n
                    and length <= fast_limit
                    and (key is not None) is masked
                    and self.state is _OPEN
                ):
                    off = stop + length
                    payload = data[stop:off]
                    value: str | bytes = mask(payload, key) if key is not None else bytes(payload)
                    if b0 == 0x81:
                        try:
                            value = value.decode()  # type: ignore[union-attr]
                        except UnicodeDecodeError:
                            raise _Fail(1007, "a text message that is not UTF-8") from None
                    events.append(_message(value))
                    self._messages += 1
                    continue
                self._check(header)
                if header.b0 & 0x08 and stop + header.length > n:
                    break  # a control frame is handled whole (at most 125 bytes)
                off = stop
                self._header, self._remaining, self._got = header, header.length, 0
                if not header.length:
                    self._frame_done(header, b"")
                    continue
            off = self._payload(data, off, n, header)
            if header.b0 & 0x08:  # a control frame (answered whole): output may have grown
                output_full = self._out.pending_bytes > config.max_pending_output
        return off

    def _payload(self, data: BytesLike, off: int, n: int, header: FrameHeader) -> int:
        """Take what is here of the current frame's payload (from ``off``, up to ``n``),
        unmasked; act on a control frame (here whole) or a data frame's end. Returns the
        offset after what was taken."""
        take = min(self._remaining, n - off)
        piece = bytes(data[off : off + take])
        off += take
        key = header.key
        if key is not None:
            piece = mask(piece, key, self._got)
        self._got += take
        self._remaining -= take
        if header.b0 & 0x08:  # a control frame: here whole
            self._frame_done(header, piece)
        else:
            self._data(piece, header)
            if not self._remaining:
                self._frame_done(header, b"")
        return off

    def _check(self, h: FrameHeader) -> None:
        """The header's rules (§5.2-5.5): raises `_Fail` with the close code."""
        b0 = h.b0
        opcode = b0 & 0x0F
        if (h.key is None) is not self.client:
            raise _Fail(1002, "an unmasked frame from a client" if not self.client else "a masked frame from a server")
        rsv = b0 & 0x70
        if opcode >= 0x8:
            _check_control(h, opcode, rsv)
            return
        if opcode > _BINARY:
            raise _Fail(1002, f"reserved opcode {opcode}")
        if opcode == 0:
            if not self._kind:
                raise _Fail(1002, "a continuation frame with no message to continue")
            if rsv:
                raise _Fail(1002, "reserved bits set on a continuation frame")
        else:
            self._start_message(opcode, rsv)
        if h.length > self._max_frame:
            raise _Fail(1009, f"a frame of {h.length} bytes (at most {self._max_frame})")
        if not self._compressed and self._size + h.length > self.config.max_message_size:
            raise _Fail(1009, f"a message over {self.config.max_message_size} bytes")

    def _start_message(self, opcode: int, rsv: int) -> None:
        """The first frame of a message (text or binary): checked, and the message begun."""
        if self._kind:
            raise _Fail(1002, "a new message inside a fragmented one")
        if rsv & 0x30 or (rsv and self._deflate is None):
            raise _Fail(1002, "reserved bits set without an extension that defines them")
        self._kind = opcode
        self._compressed = bool(rsv)
        self._size = 0
        self._parts = []
        self._decoder = _utf8() if opcode == _TEXT else None

    def _data(self, piece: bytes, header: FrameHeader) -> None:
        """A piece of a data frame's payload (unmasked)."""
        if self._compressed:
            assert self._deflate is not None
            room = self.config.max_message_size - self._size
            try:
                piece = self._deflate.decompress(piece, room)
            except MessageTooBig:
                raise _Fail(1009, f"a message inflating over {self.config.max_message_size} bytes") from None
            except zlib.error as e:
                raise _Fail(1007, f"invalid compressed data: {e}") from None
        self._add(piece, False)

    def _add(self, piece: bytes, final: bool) -> None:
        self._size += len(piece)
        decoder = self._decoder
        if decoder is not None:
            try:
                text = decoder.decode(piece, final)
            except UnicodeDecodeError:
                raise _Fail(1007, "a text message that is not UTF-8") from None
            if text:
                self._parts.append(text)  # type: ignore[arg-type]
        elif piece:
            self._parts.append(piece)  # type: ignore[arg-type]

    def _frame_done(self, header: FrameHeader, payload: bytes) -> None:
        self._header = None
        b0 = header.b0
        opcode = b0 & 0x0F
        if opcode >= 0x8:
            self._control(opcode, payload)
            return
        if not b0 & 0x80:
            return  # more fragments follow
        if self._compressed:
            assert self._deflate is not None
            try:
                tail = self._deflate.end_message(self.config.max_message_size - self._size)
            except MessageTooBig:
                raise _Fail(1009, f"a message inflating over {self.config.max_message_size} bytes") from None
            except zlib.error as e:
                raise _Fail(1007, f"invalid compressed data: {e}") from None
            self._add(tail, True)
        elif self._decoder is not None:
            self._add(b"", True)
        parts = self._parts
        value: str | bytes
        if self._kind == _TEXT:
            value = parts[0] if len(parts) == 1 else "".join(parts)  # type: ignore[arg-type]
        else:
            value = parts[0] if len(parts) == 1 else b"".join(parts)  # type: ignore[arg-type]
            if not parts:
                value = b""
        if not parts and self._kind == _TEXT:
            value = ""
        self._kind = 0
        self._parts = []
        self._decoder = None
        if self.state is _OPEN:  # after our close frame, messages are read and dropped
            self._events.append(Message(value))
            self._messages += 1

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == _PING:
            if self.state is _OPEN:
                write_frame(self._out, 0x80 | _PONG, payload, self._key())
                self._wake_writer()
            if self.on_ping is not None:
                self.on_ping(payload)
        elif opcode == _PONG:
            if self.on_pong is not None:
                self.on_pong(payload)
        else:
            try:
                code, reason = parse_close(payload)
            except UnicodeDecodeError:
                raise _Fail(1007, "a close reason that is not UTF-8") from None
            except ValueError as e:
                raise _Fail(1002, str(e)) from None
            self._in_open = False
            if self.state is _OPEN:
                # Echo the code (§5.5.1); an empty close is answered with an empty one.
                write_frame(self._out, 0x80 | _CLOSE, close_payload(None if code == 1005 else code), self._key())
                self._finish(Closed(code, reason, by_peer=True))
            else:  # the answer to our close frame
                self._finish(Closed(code, reason, by_peer=False))
            self.state = _CLOSED
            self._out.close()
            self._wake_writer()

    def _finish(self, event: Closed) -> None:
        """Queue the final event (once)."""
        if self._final is None:
            self._final = event
            self._events.append(event)

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (§7.1.7): a close frame with ``code``, then close."""
        self._in_open = False
        if self.state is _OPEN:
            write_frame(self._out, 0x80 | _CLOSE, close_payload(code, reason[:120]), self._key())
        self.state = _CLOSED
        self._finish(Closed(code, reason, by_peer=False))
        self._out.close()
        self._wake_writer()

    def _key(self) -> bytes | None:
        return os.urandom(4) if self.client else None

    # ---------------------------------------------------------------------------------
    # Events
    # ---------------------------------------------------------------------------------
    def next_event(self) -> Message | Closed | None:
        """The next received message, then `Closed` once the connection closed; None
        when there is nothing yet (the reader may wake up: the queue has room)."""
        if not self._events:
            return None
        event = self._events.popleft()
        if type(event) is Message:
            self._messages -= 1
            if self._messages + 1 == self.config.max_queue:
                self._wake_reader()
        return event

    @property
    def pending_events(self) -> int:
        """How many events ``next_event`` would return now."""
        return len(self._events)

    # ---------------------------------------------------------------------------------
    # Sending
    # ---------------------------------------------------------------------------------
    def _send(self, opcode: int, data: bytes, final: bool) -> None:
        if self.state is not _OPEN:
            raise LocalProtocolError("the WebSocket is closing or closed")
        first = not self._sending
        if not first and opcode != self._sending:
            raise LocalProtocolError("a fragmented message continues with the same type")
        rsv = 0
        deflate = self._deflate
        if deflate is not None:
            data = deflate.compress(data, final)
            if first:
                rsv = 0x40
        self._sending = 0 if final else opcode
        code = opcode if first else 0
        size = self.config.fragment_size
        out = self._out
        if size is None or len(data) <= size:
            write_frame(out, (0x80 if final else 0) | rsv | code, data, self._key())
        else:
            view = memoryview(data)
            for start in range(0, len(data), size):
                last = start + size >= len(data)
                write_frame(out, (0x80 if final and last else 0) | rsv | code, view[start : start + size], self._key())
                rsv = code = 0
        self._wake_writer()

    def send_text(self, text: str, final: bool = True) -> None:
        """Send a text message (or, with ``final=False``, its first or next fragment).

        Raises:
            LocalProtocolError: the connection is closing, or a fragmented binary
                message is unfinished.
        """
        self._send(_TEXT, text.encode("utf-8"), final)

    def send_binary(self, data: BytesLike, final: bool = True) -> None:
        """Send a binary message (or a fragment of one); as `send_text`."""
        self._send(_BINARY, data if type(data) is bytes else bytes(data), final)

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload).

        Raises:
            LocalProtocolError: closing; ValueError: the payload is too long.
        """
        self._control_out(_PING, payload)

    def pong(self, payload: bytes = b"") -> None:
        """Send an unsolicited pong (a heartbeat); as `ping`."""
        self._control_out(_PONG, payload)

    def _control_out(self, opcode: int, payload: bytes) -> None:
        if self.state is not _OPEN:
            raise LocalProtocolError("the WebSocket is closing or closed")
        if len(payload) > 125:
            raise ValueError("a control frame's payload is at most 125 bytes")
        write_frame(self._out, 0x80 | opcode, payload, self._key())
        self._wake_writer()

    def close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the closing handshake (or answer it): send a close frame with ``code``
        (None: no code) and ``reason``. Nothing is sent after it. Calling it again, or
        after the connection closed, does nothing.

        Raises:
            ValueError: a code that may not be sent (1004-1006, 1015, outside the
                registered ranges) or a reason over 123 bytes.
        """
        payload = close_payload(code, reason)
        if self.state is not _OPEN:
            return
        write_frame(self._out, 0x80 | _CLOSE, payload, self._key())
        self.state = _CLOSING
        if not self._in_open:
            self.state = _CLOSED
            self._out.close()
        self._wake_writer()

    def flush(self, callback: Callable[[FlushReason], object]) -> None:
        """Call ``callback`` once everything sent so far was handed to the transport
        (`FlushReason.SHIFT`), or dropped because the peer is gone (`DRAIN`)."""
        self._out.flush(callback)

    # ---------------------------------------------------------------------------------
    # Writing
    # ---------------------------------------------------------------------------------
    def next_write_operation(self) -> WriteOperation:
        """`Write(iovecs)`, `YIELD` or `Close(n)` (``n``: bytes dropped, peer gone)."""
        op = self._out.operation()
        if type(op) is Writev:
            return op
        if type(op) is SClose:
            return Close(self._drained) if self._drained else CLOSE
        return YIELD

    _drained = 0

    def report_write_result(self, result: int | PeerClosed) -> None:
        """How many bytes of the last `Write` were written, or `CLOSED` (the peer is gone:
        the connection closes, 1006 unless the handshake was done)."""
        out = self._out
        if result is CLOSED:
            if not out.is_closed:
                out.close()
            self._drained += out.drain()
            if self._in_open:
                self._in_open = False
                self._finish(Closed(1006, "the connection was lost"))
            self.state = _CLOSED
            self._wake_reader()
            return
        assert isinstance(result, int)
        before = out.pending_bytes
        out.shift(result)
        if before > self.config.max_pending_output >= out.pending_bytes:
            self._wake_reader()

    def shutdown(self) -> None:
        """Abandon the connection now (no close frame): both directions close; the final
        event is `Closed` 1006 unless the handshake was done."""
        if self._in_open:
            self._in_open = False
            self._finish(Closed(1006, "the connection was shut down"))
        self.state = _CLOSED
        if not self._out.is_closed:
            self._out.close()
        self._wake_reader()
        self._wake_writer()

    @property
    def has_pending_output(self) -> bool:
        """Whether frames are waiting to be written."""
        return self._out.has_pending_output

    @property
    def is_closed(self) -> bool:
        """True when both directions are closed and the output is all written."""
        return not self._in_open and self._out.is_closed and not self._out.has_pending_output


def _check_control(h: FrameHeader, opcode: int, rsv: int) -> None:
    """A control frame's rules (§5.5): raises `_Fail` with the close code."""
    if opcode > _PONG:
        raise _Fail(1002, f"reserved opcode {opcode}")
    if rsv:
        raise _Fail(1002, "reserved bits set on a control frame")
    if not h.b0 & 0x80:
        raise _Fail(1002, "a fragmented control frame")
    if h.length > 125:
        raise _Fail(1002, "a control frame longer than 125 bytes")


def _parse_header(data: BytesLike, off: int, n: int) -> tuple[FrameHeader, int] | None:
    """A frame header the fast reader (`_HEADER`) did not take, parsed by the grammar:
    (the header, the offset after it); None if it is cut by the chunk's end.

    Raises:
        _Fail: a payload length with its most significant bit set (1002).
    """
    state = parse_prefix(frame_header, data, off, n - off)
    if isinstance(state, Partial):
        return None
    if not isinstance(state, Done):
        raise _Fail(1002, "payload length with its most significant bit set")
    return state.value, off + state.consumed
