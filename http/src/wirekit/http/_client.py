"""`ClientConnection`: a persistent, pipelined HTTP/1.1 client connection, sans IO.

``request(req, response_handler, error_handler)`` writes a request (pipelined after any in
flight) and returns the `BodyWriter` of its body. Responses are matched to requests in
order; each one's framing follows from the request method and the status (HEAD, CONNECT,
1xx, 204, 304, close-delimited). The runtime drives it exactly as a server connection.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable

from wirekit.combinators import Done, Fail, Partial, State, Unbuffered
from wirekit.serializer import CLOSED, BytesLike, FlushReason, PeerClosed, Serializer, Writev
from wirekit.serializer import Close as SClose

from . import _grammar as g
from ._body import BodyReader, BodyWriter, ChunkedDecoder, CloseDecoder, Decoder, FixedDecoder
from ._config import DEFAULT_CONFIG, Config
from ._errors import LocalProtocolError, RemoteProtocolError
from ._framing import (
    BodyKind,
    connection_options,
    content_length,
    response_body_kind,
    transfer_codings,
)
from ._input import HeldInput
from ._messages import Headers, Request, Response, Version
from ._operations import CLOSE, READ, UPGRADE, YIELD, Close, ReadOperation, WriteOperation
from ._status import Status
from ._wakeups import Wakeups
from ._writer import request_head_bytes

__all__ = ["ClientConnection", "InformationalHandler", "ResponseErrorHandler", "ResponseHandler", "Respd"]

ResponseHandler = Callable[[Response, BodyReader], None]
ResponseErrorHandler = Callable[[Exception], None]
InformationalHandler = Callable[[Response], None]


class _Reader(enum.Enum):
    HEAD = "head"
    BODY = "body"
    CLOSED = "closed"
    UPGRADED = "upgraded"


class Respd:
    """One request on a client connection and, in time, its response."""

    __slots__ = (
        "_body_kind", "_error_handler", "_handler", "_head", "_on_informational", "_withheld", "_writer",
        "body_done", "request", "response", "response_body",
    )

    def __init__(
        self,
        request: Request,
        handler: ResponseHandler,
        error_handler: ResponseErrorHandler,
        on_informational: InformationalHandler | None = None,
    ) -> None:
        self.request = request
        self._handler = handler
        self._error_handler = error_handler
        self._on_informational = on_informational
        # The body's own output while it waits for 100 Continue (`Expect: 100-continue`).
        self._withheld: Serializer | None = None
        self.response: Response | None = None
        self.response_body: BodyReader | None = None
        self._writer: BodyWriter | None = None
        self._head = b""
        self._body_kind = BodyKind.NONE
        self.body_done = False  # the request body was completely written

    def fail(self, error: Exception) -> None:
        """Report ``error`` for this request, once: to the error handler before the
        response head arrived, else to the response body's reader (the response handler
        owns the response from then on)."""
        handler, self._error_handler = self._error_handler, _ignore
        if self.response_body is not None:
            self.response_body.fail(error)
        else:
            handler(error)


def _ignore(_: Exception) -> None:
    return None


class ClientConnection(HeldInput, Wakeups):
    """One HTTP/1.1 client connection, sans IO (see the module docstring)."""

    def __init__(self, config: Config | None = None) -> None:
        self._config = config = config or DEFAULT_CONFIG
        self._out = Serializer(config.response_buffer_size)
        self._waiting: deque[Respd] = deque()  # requests whose response has not ended
        self._unsent: deque[Respd] = deque()  # requests written only after the current body
        self._sending: Respd | None = None  # the request whose body is being written
        self._reader = _Reader.HEAD
        self._head_parse: State[object] | None = None
        self._decoder: Decoder | None = None
        self._wake_read: Callable[[], None] | None = None
        self._wake_write: Callable[[], None] | None = None
        self._persistent = True
        self._drained = 0

    # ---------------------------------------------------------------------------------
    # Requests
    # ---------------------------------------------------------------------------------
    def request(
        self,
        request: Request,
        response_handler: ResponseHandler,
        error_handler: ResponseErrorHandler,
        on_informational: InformationalHandler | None = None,
    ) -> BodyWriter:
        """Send ``request`` and return the writer of its body.

        The body is delimited by the request's headers: ``Content-Length`` (exactly that
        many bytes) or ``Transfer-Encoding: chunked``; with neither, the request has no
        body. ``response_handler(response, body)`` runs when the response head arrives;
        ``error_handler(exc)`` if it cannot (a failure after that, such as a body cut
        short, goes to the body's reader instead: each error is reported once).
        ``on_informational(response)`` gets each 1xx response before the final one
        (100 Continue, 103 Early Hints).

        With ``Expect: 100-continue`` the body is withheld (written into the writer,
        sent later) until the server answers 100 Continue, or until `release_body`
        (the RFC lets a client stop waiting after a while of its choosing). A final
        response that comes first means the body is not sent at all: it is dropped
        (its flush callbacks get ``DRAIN``) and the connection closes after that
        response, since the server cannot tell where the next request would start.

        Raises:
            LocalProtocolError: the connection is closing, or the request is invalid.
        """
        if not self._persistent or self._out.is_closed or self._reader is _Reader.UPGRADED:
            raise LocalProtocolError("the connection is closed or closing")
        headers = request.headers
        if request.version is Version.HTTP_1_1 and headers.count(b"host") != 1:
            raise LocalProtocolError("an HTTP/1.1 request needs exactly one Host header")
        respd = Respd(request, response_handler, error_handler, on_informational)
        if b"transfer-encoding" in headers:
            if b"content-length" in headers:
                raise LocalProtocolError("a request cannot have both Content-Length and Transfer-Encoding")
            if transfer_codings(headers) != [b"chunked"]:
                raise LocalProtocolError("only Transfer-Encoding: chunked is supported")
            respd._body_kind, length = BodyKind.CHUNKED, 0
        else:
            try:
                n = content_length(headers)
            except RemoteProtocolError as e:
                raise LocalProtocolError(e.message) from None
            respd._body_kind, length = (BodyKind.FIXED, n) if n else (BodyKind.NONE, 0)
        respd._head = request_head_bytes(request)
        out = self._out
        if respd._body_kind is not BodyKind.NONE and (headers.get(b"expect") or b"").lower() == b"100-continue":
            out = respd._withheld = Serializer(self._config.response_buffer_size)
        writer = BodyWriter(out, respd._body_kind, length, self._wake_writer, lambda complete: self._body_closed(respd, complete))
        respd._writer = writer
        if b"close" in connection_options(headers):
            self._persistent = False
        self._waiting.append(respd)
        if self._sending is None:
            self._send(respd)
        else:
            self._unsent.append(respd)
        self._wake_reader()
        return writer

    def _send(self, respd: Respd) -> None:
        self._sending = respd
        self._out.write(respd._head)
        if respd._body_kind is BodyKind.NONE:
            assert respd._writer is not None
            respd._writer.close()
        self._wake_writer()

    def _body_closed(self, respd: Respd, complete: bool) -> None:
        respd.body_done = True
        if respd._withheld is not None:
            return  # it goes out (or is dropped) when the server answers
        if not complete:
            self._persistent = False  # a short body: the server cannot find the next request
        if self._sending is respd:
            self._sending = None
            if self._unsent:
                self._send(self._unsent.popleft())
            elif not self._persistent:
                self._maybe_close_writer()

    def release_body(self) -> None:
        """Send the body of the request waiting for 100 Continue now (no-op if none)."""
        if self._sending is not None:
            self._release(self._sending)

    def _release(self, respd: Respd) -> None:
        """Move a withheld body into the output; its writer writes there from now on."""
        held, respd._withheld = respd._withheld, None
        if held is None:
            return
        writer = respd._writer
        assert writer is not None
        writer._out = self._out
        op = held.operation()
        if type(op) is Writev:
            n = op.nbytes
            self._out.writelines(op.iovecs)
            # The body's flush callbacks fire when its bytes are really written.
            self._out.flush(lambda reason: held.shift(n) if reason is FlushReason.SHIFT else held.drain())
        self._wake_writer()
        if respd.body_done and writer._closed:
            self._body_closed(respd, writer._remaining == 0 or respd._body_kind is not BodyKind.FIXED)

    def _drop_withheld(self, respd: Respd) -> None:
        """A final response came before 100 Continue: the body is never sent, and the
        connection closes after this response."""
        held, respd._withheld = respd._withheld, None
        if held is None:
            return
        held.close()
        held.drain()
        self._persistent = False
        self._body_closed(respd, False)

    # ---------------------------------------------------------------------------------
    # Reading responses
    # ---------------------------------------------------------------------------------
    def next_read_operation(self) -> ReadOperation:
        """`READ` while responses are expected (or to notice the server closing),
        `YIELD` while a response body's buffer is full, `CLOSE`, or `UPGRADE`.

        Input received earlier and held (see `read`) is used first, so response
        handlers may run inside this call."""
        if self._held and not self._held_blocked:
            self._resume_held()
        return self._read_operation()

    def _reading(self) -> bool:
        return self._read_operation() is READ

    def _input_closed(self) -> bool:
        return self._reader is _Reader.CLOSED

    def _read_operation(self) -> ReadOperation:
        reader = self._reader
        if reader is _Reader.CLOSED:
            return CLOSE
        if reader is _Reader.UPGRADED:
            return UPGRADE
        if reader is _Reader.BODY and self._waiting:
            body = self._waiting[0].response_body
            if body is not None and body.room(self._config.request_body_buffer_size) == 0:
                return YIELD
        return READ

    def _read(self, data: BytesLike, eof: bool) -> int:
        n = len(data)
        off = 0
        while True:
            reader = self._reader
            if reader is _Reader.HEAD:
                if off == n and (not eof or self._head_parse is None):
                    if eof:
                        self._close_reader(RemoteProtocolError("the server closed the connection") if self._waiting else None)
                    break
                if not self._waiting:
                    self._close_reader(None)
                    self._fail_all(RemoteProtocolError("unexpected bytes from the server"))
                    break
                used = self._read_head(data, off, n, eof)
                if used < 0:
                    break
                off += used
            elif reader is _Reader.BODY:
                respd = self._waiting[0]
                body = respd.response_body
                decoder = self._decoder
                assert body is not None and decoder is not None
                try:
                    used = decoder.feed(data, off, n, eof, body.room(self._config.request_body_buffer_size), body)
                except RemoteProtocolError as e:
                    self._close_reader(None)
                    self._fail_all(e)
                    break
                off += used
                if decoder.done:
                    self._response_done()
                    body.finish(decoder.trailers)
                    continue
                if used == 0:
                    break
            else:
                break
        return off

    def _read_head(self, data: BytesLike, off: int, n: int, eof: bool) -> int:
        config = self._config
        state = self._head_parse or Unbuffered.parse(g.response_head)
        avail = n - off
        capped = avail > config.max_header_bytes
        state = state.resume(data, off, min(avail, config.max_header_bytes), eof and not capped)
        if isinstance(state, Partial):
            if capped:
                self._head_parse = None
                self._close_reader(None)
                self._fail_all(RemoteProtocolError("response head too large", Status.BAD_GATEWAY))
                return -1
            self._head_parse = state
            return -1
        self._head_parse = None
        if isinstance(state, Fail):
            self._close_reader(None)
            self._fail_all(RemoteProtocolError(f"malformed response: {state.error.message}", Status.BAD_GATEWAY, state.error.position))
            return -1
        assert isinstance(state, Done)
        ((major, minor), status, reason), fields = state.value
        if major != 1:
            self._close_reader(None)
            self._fail_all(RemoteProtocolError(f"HTTP/{major}.{minor} response", Status.BAD_GATEWAY))
            return -1
        response = Response(status, Headers.from_wire(fields), Version.HTTP_1_1 if minor else Version.HTTP_1_0, reason)
        respd = self._waiting[0]
        if status < 200 and status != 101:
            # An interim response (100 Continue, 103 ...): the final one is still to come.
            if status == 100 and respd._withheld is not None:
                self._release(respd)
            if respd._on_informational is not None:
                try:
                    respd._on_informational(response)
                except Exception as exc:
                    self._close_reader(None)
                    self._fail_all(exc)
                    return -1
            return state.consumed
        if respd._withheld is not None:
            self._drop_withheld(respd)
        try:
            kind, length = response_body_kind(respd.request.method, response)
        except RemoteProtocolError as e:
            self._close_reader(None)
            self._fail_all(e)
            return -1
        options = connection_options(response.headers)
        if b"close" in options or (response.version is Version.HTTP_1_0 and b"keep-alive" not in options) or kind is BodyKind.CLOSE:
            self._persistent = False
        respd.response = response
        if status == 101 or kind is BodyKind.TUNNEL:
            respd.response_body = BodyReader(done=True)
            self._reader = _Reader.UPGRADED
            # It is answered; requests pipelined after it never will be (not HTTP any more).
            self._waiting.popleft()
            later = list(self._waiting)
            self._waiting.clear()
            self._unsent.clear()
            self._call(respd)
            for other in later:
                other.fail(RemoteProtocolError("the connection switched protocols"))
            self._wake_writer()  # its next operation is UPGRADE
            return state.consumed
        if kind is BodyKind.NONE:
            respd.response_body = BodyReader(done=True)
            self._call(respd)
            self._response_done()
            return state.consumed
        respd.response_body = BodyReader(on_schedule=self._wake_reader)
        if kind is BodyKind.FIXED:
            self._decoder = FixedDecoder(length)
        elif kind is BodyKind.CHUNKED:
            self._decoder = ChunkedDecoder(config.max_chunk_extension_bytes, config.max_header_bytes, config.max_headers, None)
        else:
            self._decoder = CloseDecoder()
        self._reader = _Reader.BODY
        self._call(respd)
        return state.consumed

    def _call(self, respd: Respd) -> None:
        assert respd.response is not None and respd.response_body is not None
        try:
            respd._handler(respd.response, respd.response_body)
        except Exception as exc:
            self._close_reader(None)
            self._fail_all(exc)

    def _response_done(self) -> None:
        if self._waiting:
            self._waiting.popleft()
        self._decoder = None
        if self._reader is _Reader.BODY or self._reader is _Reader.HEAD:
            self._reader = _Reader.HEAD
        if not self._persistent:
            self._close_reader(None)
            self._fail_all(RemoteProtocolError("the connection closed before this request was answered"))

    def _close_reader(self, error: Exception | None) -> None:
        self._reader = _Reader.CLOSED
        self._persistent = False
        if error is not None:
            self._fail_all(error)
        self._maybe_close_writer()

    def _fail_all(self, error: Exception) -> None:
        waiting = list(self._waiting)
        self._waiting.clear()
        self._unsent.clear()
        self._persistent = False
        for respd in waiting:
            respd.fail(error)
        self._maybe_close_writer()

    # ---------------------------------------------------------------------------------
    # Writing requests
    # ---------------------------------------------------------------------------------
    def _maybe_close_writer(self) -> None:
        if not self._persistent and self._sending is None and not self._out.is_closed:
            self._out.close()
            self._wake_writer()

    def next_write_operation(self) -> WriteOperation:
        """`Write(iovecs)`, `YIELD`, `Close(n)` or `UPGRADE`."""
        op = self._out.operation()
        if type(op) is Writev:
            return op
        if type(op) is SClose:
            return Close(self._drained) if self._drained else CLOSE
        if self._reader is _Reader.UPGRADED:
            return UPGRADE
        return YIELD

    def report_write_result(self, result: int | PeerClosed) -> None:
        """How many bytes of the last `Write` were written, or `CLOSED`."""
        if result is CLOSED:
            if not self._out.is_closed:
                self._out.close()
            self._drained += self._out.drain()
            self._persistent = False
            return
        assert isinstance(result, int)
        self._out.shift(result)

    # ---------------------------------------------------------------------------------
    def report_exn(self, exc: Exception) -> None:
        """Fail every outstanding request with ``exc`` and close."""
        self._close_reader(None)
        self._fail_all(exc)
        self.shutdown()

    def shutdown(self) -> None:
        """Close both directions now."""
        self._reader = _Reader.CLOSED
        self._persistent = False
        self._fail_all(RemoteProtocolError("the connection was shut down"))
        self._sending = None
        if not self._out.is_closed:
            self._out.close()
        self._wake_reader()
        self._wake_writer()

    @property
    def is_closed(self) -> bool:
        """True when both directions are closed."""
        return self._reader is _Reader.CLOSED and self._out.is_closed and not self._out.has_pending_output

    @property
    def in_flight(self) -> int:
        """Requests sent (or queued) whose response has not ended."""
        return len(self._waiting)

    @property
    def is_persistent(self) -> bool:
        """Whether more requests may be sent on this connection."""
        return self._persistent and not self._out.is_closed
