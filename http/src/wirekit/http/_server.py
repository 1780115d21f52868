"""`ServerConnection`: the sans-IO HTTP/1.1 server state machine.

The runtime drives two loops and moves bytes; the connection never does IO.

Reading: ``op = next_read_operation()``. On `Read`, receive bytes and pass them to
``read(data)`` (``read_eof`` at end of stream); the connection takes them all and keeps
what it cannot use yet (`HeldInput`). On `Yield`, call ``yield_reader(k)``; ``k()`` says
when to ask again. `Close`: stop reading.

Writing: ``op = next_write_operation()``. On `Write`, write ``op.iovecs`` (one writev) and
call ``report_write_result(n)`` (or `CLOSED`). On `Yield`, ``yield_writer(k)``. On
``Close(n)``: shut down the sending side.

Timeouts: ``deadline(now)`` says which deadline applies and when it passes; the runtime
calls ``timeout(now)`` then (`_timeouts`).

Requests are handled strictly one at a time in arrival order (pipelined requests wait in
a bounded queue, their bodies buffered with backpressure); the next handler runs once the
previous response was handed to the output and its request body was consumed.

State of the reader: HEAD (between messages, or inside a head) → BODY (inside a body) →
HEAD …; CLOSED after ``Connection: close``, an error or EOF; UPGRADED after a switch.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable

from wirekit.combinators import State
from wirekit.serializer import CLOSED, BytesLike, PeerClosed, Serializer, Writev
from wirekit.serializer import Close as SClose

from ._body import (
    _NO_BODY,
    BodyReader,
    BodyWriter,
    ChunkedDecoder,
    Decoder,
    FixedDecoder,
    _ReaderState,
    _take,
    empty_body,
)
from ._config import DEFAULT_CONFIG, Config
from ._errors import LocalProtocolError, RemoteProtocolError
from ._framing import BodyKind, RequestFraming, request_framing
from ._heads import REQUEST_HEAD, head_error, parse_head
from ._input import HeldInput
from ._messages import _METHODS, HeaderInput, Headers, Request, Response, Version
from ._operations import CLOSE, READ, UPGRADE, YIELD, Close, ReadOperation, WriteOperation
from ._reqd import (
    ErrorHandler,
    Reqd,
    RequestHandler,
    ResponseHooks,
    ResponseState,
    default_error_handler,
)
from ._status import Status
from ._timeouts import Clock, Deadline, TimeoutKind
from ._wakeups import Wakeups

__all__ = ["ServerConnection", "default_error_handler"]

class _Reader(enum.Enum):
    HEAD = "head"
    BODY = "body"
    CLOSED = "closed"
    UPGRADED = "upgraded"


# Every change of the reader's state, and why it happens. `_set_reader` refuses any
# other; docs/http/state-machine.md is checked against this table by the tests.
READER_TRANSITIONS: dict[tuple[_Reader, _Reader], str] = {
    (_Reader.HEAD, _Reader.BODY): "a head with a body still to come",
    (_Reader.BODY, _Reader.HEAD): "the body is complete",
    (_Reader.HEAD, _Reader.CLOSED): "no more requests: Connection: close, end of stream, an error, a shutdown",
    (_Reader.BODY, _Reader.CLOSED): "the body failed or is given up, the peer is gone, a shutdown",
    (_Reader.HEAD, _Reader.UPGRADED): "a 101, or a 2xx to CONNECT",
    (_Reader.BODY, _Reader.UPGRADED): "a 101 to a request whose body is still arriving",
    (_Reader.UPGRADED, _Reader.CLOSED): "a shutdown after a protocol switch",
}

# Enum members bound to module names for the hot paths: on CPython 3.11 reading
# `Enum.MEMBER` goes through the enum's metaclass (about 70 ns); a global is ~10 ns.
_AT_HEAD = _Reader.HEAD
_IN_BODY = _Reader.BODY
_READ_CLOSED = _Reader.CLOSED
_READ_UPGRADED = _Reader.UPGRADED
_WAITING = ResponseState.WAITING
_STREAMING = ResponseState.STREAMING
_COMPLETE = ResponseState.COMPLETE
_KIND_NONE = BodyKind.NONE
_KIND_FIXED = BodyKind.FIXED
_HTTP_1_0 = Version.HTTP_1_0
_HTTP_1_1 = Version.HTTP_1_1
_BODY_DONE = _ReaderState.DONE
_BODY_CLOSED = _ReaderState.CLOSED
_HEAD_TIMEOUT = TimeoutKind.HEAD
_BODY_TIMEOUT = TimeoutKind.BODY
_IDLE_TIMEOUT = TimeoutKind.IDLE
_WRITE_TIMEOUT = TimeoutKind.WRITE
# False: the common paths (a whole head in one match, a small body taken with its head,
# the usual retirement of an answered request) give way to the general ones (`_oracle`).
_FAST = True


class _Link:
    """What a `Reqd` uses of its connection, and nothing more: the output, the wakeups,
    and the connection-level effects of what happens to a request (its response is
    complete, it switched protocols, it failed). `Reqd` never touches the connection's
    own state."""

    __slots__ = ("_conn", "closing", "hooks", "out")

    def __init__(self, conn: ServerConnection, hooks: ResponseHooks | None) -> None:
        self._conn = conn
        self.out = conn._out  # the connection's output (for its whole life)
        self.hooks = hooks  # what the server adds to each response (None: nothing)
        # No request after the current ones will be served: the connection's one flag
        # for it, kept here so that `Reqd` reads it without a call (set only by
        # `ServerConnection._stop_serving`).
        self.closing = False

    def connection(self) -> ServerConnection:
        """The connection itself (for `Reqd.connection`)."""
        return self._conn

    def wake_reader(self) -> None:
        self._conn._wake_reader()

    def wake_writer(self) -> None:
        self._conn._wake_writer()

    def response_complete(self, reqd: Reqd) -> None:
        """``reqd``'s response is all in the output."""
        self._conn._response_complete(reqd)

    def upgrade(self, reqd: Reqd, on_upgrade: Callable[[], None]) -> None:
        """``reqd`` was answered with a protocol switch."""
        self._conn._upgrade(reqd, on_upgrade)

    def stop_serving(self) -> None:
        """No request after the current ones will be served (a request failed)."""
        self._conn._stop_serving("a request failed")

    def answer_error(self, reqd: Reqd, error: Exception) -> None:
        """Answer ``reqd`` (whose response has not started) through the error handler."""
        self._conn._run_error_handler(reqd, error)

    def receiving(self, reqd: Reqd) -> bool:
        """Whether ``reqd``'s body is still arriving."""
        return self._conn._receiving is reqd

    def stop_reading(self, reqd: Reqd) -> None:
        """Give up on the rest of ``reqd``'s body: close after the response."""
        self._conn._stop_reading(reqd)


class ServerConnection(HeldInput, Wakeups):
    """One HTTP/1.1 server connection, sans IO.

    Args:
        request_handler: called with a `Reqd` for each request, in order, once the
            previous one is answered. It may respond at once or later.
        error_handler: called as ``error_handler(request_or_None, error, respond)`` when a
            request cannot be served (parse or framing errors, handler exceptions);
            ``respond(headers)`` starts the error response (status from the error) and
            returns its `BodyWriter`. The connection closes afterwards.
        config: buffer sizes and limits.
        hooks: what the server adds to every response, error responses included (its
            Date and Server fields, an access log's body sizes: `ResponseHooks`); none
            by default.
    """

    def __init__(
        self,
        request_handler: RequestHandler,
        error_handler: ErrorHandler | None = None,
        config: Config | None = None,
        hooks: ResponseHooks | None = None,
    ) -> None:
        self._handler = request_handler
        self._error_handler = error_handler or default_error_handler
        self._config = config = config or DEFAULT_CONFIG
        self._out = Serializer(config.response_buffer_size)
        # A list, not a deque: it is short (bounded by max_pipelined_requests) and an
        # empty deque already holds a 0.5 KiB block, per connection.
        self._queue: list[Reqd] = []
        self._reader = _AT_HEAD
        self._head_parse: State[object] | None = None
        self._receiving: Reqd | None = None
        self._decoder: Decoder | None = None
        self._discarded = 0
        self._wake_read: Callable[[], None] | None = None
        self._wake_write: Callable[[], None] | None = None
        self._upgraded: Reqd | None = None
        self._on_upgrade: Callable[[], None] | None = None
        self._upgrade_ready = False
        self._drained = 0
        self._writer_done = False
        self._output_full = False  # the reader yields until the output drains
        self._heads = 0  # request heads received whole (progress of the head clock)
        self._sent = 0  # bytes reported written (progress of the write clock)
        self._clock = Clock()
        self._link = _Link(self, hooks)
        self.runtime: object = None
        """Free for the runtime that drives this connection (the asyncio runtime keeps
        its protocol object here, so a handler can reach the socket it came from)."""

    # ---------------------------------------------------------------------------------
    # State changes: the reader's state and "no more requests" change only here
    # ---------------------------------------------------------------------------------
    def _set_reader(self, state: _Reader, why: str) -> None:
        """Move the reader to ``state`` (``why``: the reason, as in `READER_TRANSITIONS`;
        for the reader of this code). Setting the current state again changes nothing."""
        if state is not self._reader:
            assert (self._reader, state) in READER_TRANSITIONS, f"reader {self._reader.name} -> {state.name} ({why})"
            self._reader = state

    def _stop_serving(self, why: str) -> None:
        """No request after the ones received will be served (``why``: the reason); the
        output closes once they are answered (`_maybe_close_writer`)."""
        self._link.closing = True

    # ---------------------------------------------------------------------------------
    # Reading
    # ---------------------------------------------------------------------------------
    def next_read_operation(self) -> ReadOperation:
        """What the reader should do: `READ` (bytes from the peer are needed: pass them
        to `read`), `YIELD`, `CLOSE` or `UPGRADE`.

        Input received earlier and held (see `read`) is used first, so request handlers
        may run inside this call."""
        if self._held and not self._held_blocked:
            self._resume_held()
        return self._read_operation()

    def _reading(self) -> bool:
        return self._read_operation() is READ

    def _input_closed(self) -> bool:
        return self._reader is _READ_CLOSED

    def _read_operation(self) -> ReadOperation:
        reader = self._reader
        if reader is _AT_HEAD:
            if self._queue or self._link.closing:
                wait = self._wait_before_head()
                if wait is not READ:
                    if wait is CLOSE:
                        self._set_reader(_READ_CLOSED, "no request after the current ones")
                        self._maybe_close_writer()
                    return wait
            if self._out.pending_bytes > self._config.max_pending_output:
                # Responses pile up unsent (a client that sends requests but does not read
                # the answers): parse no more until they drain (`report_write_result`).
                self._output_full = True
                return YIELD
            return READ
        if reader is _IN_BODY:
            reqd = self._receiving
            assert reqd is not None
            if reqd.request_body.room(self._config.request_body_buffer_size) == 0:
                return YIELD
            return READ
        if reader is _READ_UPGRADED:
            return UPGRADE if self._upgrade_ready else YIELD
        return CLOSE

    def _wait_before_head(self) -> ReadOperation:
        """Between requests: `READ` if the next bytes may be parsed as a request, `CLOSE`
        if no further request will be served, `YIELD` to wait."""
        if self._link.closing:
            return CLOSE
        queue = self._queue
        if queue:
            last = queue[-1]
            if not last.persistent:
                return CLOSE  # RFC 9112 §9.6: no request after a "close" one is processed
            if len(queue) >= self._config.max_pipelined_requests:
                return YIELD
            if last._framing is not None and last._framing.upgrade and last.response_state is not _COMPLETE:
                return YIELD  # what follows an upgrade request may not be HTTP
        return READ

    def _read(self, data: BytesLike, eof: bool) -> int:
        n = len(data)
        off = 0
        config = self._config
        while True:
            reader = self._reader
            if reader is _AT_HEAD:
                if off == n and not eof:
                    break
                if (self._queue or self._link.closing) and self._wait_before_head() is not READ:
                    break
                if off == n and self._head_parse is None:
                    self._input_ended()  # a clean end of stream between requests
                    break
                if off and off < n and self._out.pending_bytes > config.max_pending_output:
                    # Too much output unsent: the reader yields (`next_read_operation`,
                    # which also checked this before the first request of this read).
                    break
                used = self._read_head(data, off, n, eof)
                if used < 0:
                    break
                off += used
            elif reader is _IN_BODY:
                used = self._read_body(data, off, n, eof)
                if used < 0:
                    break
                off += used
            else:
                break
        if eof and self._reader is _AT_HEAD and not self._link.closing and off == n:
            self._input_ended()
        if self._queue or self._link.closing:
            self._advance()
        return off

    def _read_body(self, data: BytesLike, off: int, n: int, eof: bool) -> int:
        """Feed the body being received; the bytes used, or -1 to stop reading (the
        buffer is full, more input is needed, or the body failed or is given up)."""
        config = self._config
        reqd = self._receiving
        decoder = self._decoder
        assert reqd is not None and decoder is not None
        body = reqd.request_body
        try:
            used = decoder.feed(data, off, n, eof, body.room(config.request_body_buffer_size), body)
        except RemoteProtocolError as e:
            self._body_failed(reqd, e)
            return -1
        if body.is_closed and not body.is_complete:
            self._discarded += used
            if self._discarded > config.max_drain_bytes:
                self._stop_reading(reqd)  # (the reader is closed: the loop stops)
                return used if used else -1
        if decoder.done:
            self._receiving = None
            self._decoder = None
            self._set_reader(_AT_HEAD, "the body is complete")
            reqd.input_done = True
            body.finish(decoder.trailers)
            self._advance()
            return used
        return used if used else -1

    def _input_ended(self) -> None:
        """The client sends nothing more (EOF between requests). EOF means "no more
        requests", not "abort": every request already received is still answered, the
        last one with ``connection: close``, and then the connection closes."""
        self._set_reader(_READ_CLOSED, "end of stream")
        queue = self._queue
        if queue:
            queue[-1].persistent = False
        else:
            self._stop_serving("end of stream")

    def _read_head(self, data: BytesLike, off: int, n: int, eof: bool) -> int:
        """Parse (part of) a request head; the bytes used, or -1 to wait or stop."""
        config = self._config
        cap = config.max_header_bytes
        got = None
        if self._head_parse is None and _FAST:  # the usual case: a whole head, one match
            got = REQUEST_HEAD(data, off, n if n - off <= cap else off + cap)
        if got is None:
            got, self._head_parse, error = parse_head(self._head_parse, data, off, n, eof, config)
            if got is None:
                if error is not None:
                    self._fail(error)
                return -1
        (empty_lines, method, target, major, minor), fields = got[0]
        used = got[1] - off
        self._heads += 1
        if (
            major != b"1"
            or len(fields) > config.max_headers
            or len(method) + len(target) + 12 > config.max_request_line
            or len(empty_lines) > 2 * config.max_leading_empty_lines  # CRLFs matched by the grammar
        ):
            self._fail(head_error(empty_lines, method, target, major, minor, config))
            return -1
        headers = Headers.__new__(Headers)  # (`Headers.from_wire`, inlined: once per request)
        headers._fields = fields
        headers._index = headers._key = None
        request = Request.__new__(Request)
        request.method = _METHODS.get(method, method)
        request.target, request.authority = target, None  # (absolute-form: `request_framing`)
        request.headers = headers
        request.version = _HTTP_1_0 if minor == b"0" else _HTTP_1_1
        try:
            framing = request_framing(request, config.max_body_bytes)
        except RemoteProtocolError as e:
            self._fail(e, request)
            return -1
        kind = framing.body
        if kind is _KIND_NONE:
            reqd = Reqd(self._link, request, framing, _NO_BODY)
        elif (
            _FAST
            and kind is _KIND_FIXED
            and off + used + framing.length <= n
            and framing.length <= config.request_body_buffer_size
            and not framing.expect_continue
        ):
            # A small body that came whole with its head: it is complete from the start.
            start = off + used
            used += framing.length
            reqd = Reqd(self._link, request, framing, BodyReader._whole(_take(data, start, off + used)))
            self._discarded = 0
        else:
            got = self._receive_body(request, framing, data, off + used, n, eof)
            if got is None:
                return used  # the body failed at once: the request is queued with its error
            reqd, taken = got
            used += taken
        queue = self._queue  # (`_enqueue`, inlined: once per request)
        queue.append(reqd)
        if len(queue) == 1:
            self._start(reqd)
        return used

    def _receive_body(
        self, request: Request, framing: RequestFraming, data: BytesLike, off: int, n: int, eof: bool
    ) -> tuple[Reqd, int] | None:
        """Set up the reading of a request's body, taking what came with the head:
        (its `Reqd`, the body bytes taken), or None when they already fail (the request
        is then queued, to be answered with the error)."""
        config = self._config
        body = BodyReader()
        reqd = Reqd(self._link, request, framing, body)
        body._on_schedule = reqd._send_continue
        decoder: Decoder
        if framing.body is _KIND_FIXED:
            decoder = FixedDecoder(framing.length)
        else:
            decoder = ChunkedDecoder(
                config.max_chunk_extension_bytes, config.max_header_bytes, config.max_headers, config.max_body_bytes
            )
        taken = 0
        if not framing.expect_continue and off < n:
            # The body (or its start) came with the head, as small bodies do: take what
            # is here (within the buffer bound) before the handler runs, so a body that is
            # all here is complete when the handler first sees it.
            try:
                taken = decoder.feed(data, off, n, eof, config.request_body_buffer_size, body)
            except RemoteProtocolError as e:
                # As if it came in pieces: the handler sees the request, then the error.
                self._receiving = reqd
                self._enqueue(reqd)
                if self._receiving is reqd:
                    self._body_failed(reqd, e)
                return None
            if decoder.done:
                reqd.input_done = True
                body.finish(decoder.trailers)
        self._discarded = 0
        if not reqd.input_done:
            self._receiving = reqd
            self._decoder = decoder
            self._set_reader(_IN_BODY, "a head with a body still to come")
        return reqd, taken

    def _body_failed(self, reqd: Reqd, error: RemoteProtocolError) -> None:
        """The body of ``reqd`` has bad framing (or ended early): report, then close."""
        self._receiving = None
        self._decoder = None
        self._set_reader(_READ_CLOSED, "the body failed")
        reqd.persistent = False
        reqd.input_done = True  # nothing more of it will be read: let the queue move on
        reqd.request_body.fail(error)
        if reqd.handler_called:
            self._stop_serving("a body failed")
            if reqd.response_state in (_WAITING, _STREAMING):
                reqd.report_exn(error)
        else:
            # Answered with an error when its turn comes: the requests before it are
            # answered first (they arrived whole), as after `_fail`.
            reqd.error = error
        self._advance()

    def _stop_reading(self, reqd: Reqd) -> None:
        """Give up on the rest of a body nobody reads: close after the response."""
        self._receiving = None
        self._decoder = None
        self._set_reader(_READ_CLOSED, "a body given up")
        self._stop_serving("a body given up")
        reqd.persistent = False
        reqd.input_done = True
        self._advance()

    # ---------------------------------------------------------------------------------
    # Handling
    # ---------------------------------------------------------------------------------
    def _start(self, reqd: Reqd) -> None:
        reqd.handler_called = True
        if reqd.error is not None:
            self._run_error_handler(reqd, reqd.error)
            return
        try:
            self._handler(reqd)
        except Exception as exc:  # the handler's failure is this request's 500
            reqd.report_exn(exc)

    def _run_error_handler(self, reqd: Reqd, error: Exception) -> None:
        reqd.persistent = False
        self._stop_serving("an error response")
        reqd.error = error
        status = reqd.error_status

        def respond(headers: HeaderInput | None = None) -> BodyWriter:
            return reqd.respond_with_streaming(Response(status, headers), flush_headers_immediately=True)

        if self._out.is_closed:
            return  # shut down, or the peer is gone: there is nobody to answer
        try:
            self._error_handler(reqd.request, error, respond)
        except Exception:
            if reqd.response_state is _WAITING:
                with contextlib.suppress(LocalProtocolError):  # closed meanwhile
                    default_error_handler(reqd.request, error, respond)
            elif reqd._writer is not None:
                reqd._writer.abort()

    def _fail(self, error: RemoteProtocolError, request: Request | None = None) -> None:
        """A connection-level error: nothing more is read; the requests received before
        it are answered, then the error (which closes the connection)."""
        self._set_reader(_READ_CLOSED, "a connection-level error")
        self._enqueue(Reqd(self._link, request, None, empty_body(), error))

    def _enqueue(self, reqd: Reqd) -> None:
        """Queue ``reqd`` behind the requests in flight; its handler runs when it is first."""
        queue = self._queue
        queue.append(reqd)
        if len(queue) == 1:
            self._start(reqd)

    def _response_complete(self, reqd: Reqd) -> None:
        body = reqd.request_body
        queue = self._queue
        if (
            _FAST
            and reqd.input_done
            and reqd.persistent
            and not self._link.closing
            and queue
            and queue[0] is reqd
            and (body is _NO_BODY or (body._state is _BODY_DONE and not body._chunks))
        ):
            # The usual end of a request: answered, its body all read. Retire it.
            del queue[0]
            if self._wake_write is not None:
                self._wake_writer()
            if self._wake_read is not None:
                self._wake_reader()
            if queue:
                self._advance()  # start the next pipelined request
            return
        if body is not _NO_BODY:
            self._discard_unread(reqd, body)
        if self._wake_write is not None:
            self._wake_writer()
        self._advance()
        if self._wake_read is not None:
            self._wake_reader()

    def _discard_unread(self, reqd: Reqd, body: BodyReader) -> None:
        """The response is out: the body the handler did not read is discarded, within
        ``max_drain_bytes`` (bytes that arrived with the head count too), else the
        connection closes after the response."""
        receiving = not reqd.input_done and reqd is self._receiving
        if receiving and (reqd.continue_pending or not reqd.persistent):
            # The client waits for 100 (or we close anyway): do not read the body.
            self._stop_reading(reqd)
            return
        if body.read_scheduled or body._state is _BODY_CLOSED:
            return
        unread = body.buffered
        if not unread and not receiving:
            return
        body.close()
        self._discarded += unread
        if self._discarded > self._config.max_drain_bytes:
            if receiving:
                self._stop_reading(reqd)
            else:
                reqd.persistent = False

    def _advance(self) -> None:
        """Retire answered requests and start the next handler."""
        queue = self._queue
        while queue:
            head = queue[0]
            if not head.handler_called:
                self._start(head)
                continue
            if head._state is _COMPLETE and head.input_done:
                del queue[0]
                if not head.persistent:
                    self._stop_serving("a response that closes the connection")
                    if self._reader is not _READ_UPGRADED:
                        self._set_reader(_READ_CLOSED, "a response that closes the connection")
                    for later in queue:  # pipelined requests after a close are dropped
                        later.request_body.close()
                    queue.clear()
                    break
                if self._wake_read is not None:
                    self._wake_reader()
                continue
            break
        if self._link.closing:
            self._maybe_close_writer()

    def _maybe_close_writer(self) -> None:
        if self._link.closing and not self._queue and not self._out.is_closed and self._reader is not _READ_UPGRADED:
            self._out.close()
            self._wake_writer()

    def _upgrade(self, reqd: Reqd, on_upgrade: Callable[[], None]) -> None:
        self._set_reader(_READ_UPGRADED, "a protocol switch")
        self._upgraded = reqd
        self._on_upgrade = on_upgrade

        def flushed(_: object) -> None:
            self._upgrade_ready = True
            callback, self._on_upgrade = self._on_upgrade, None
            if callback is not None:
                callback()
            self._wake_reader()
            self._wake_writer()

        self._out.flush(flushed)
        self._wake_writer()

    # ---------------------------------------------------------------------------------
    # Writing
    # ---------------------------------------------------------------------------------
    def next_write_operation(self) -> WriteOperation:
        """What the writer should do: `Write(iovecs)`, `YIELD`, `Close(n)` or `UPGRADE`."""
        op = self._out.operation()
        if type(op) is Writev:
            return op
        if type(op) is SClose:
            self._writer_done = True
            return Close(self._drained) if self._drained else CLOSE
        if self._upgrade_ready:
            return UPGRADE
        return YIELD

    def report_write_result(self, result: int | PeerClosed) -> None:
        """Report how many bytes of the last `Write` were written, or `CLOSED`."""
        if result is CLOSED:
            out = self._out
            if not out.is_closed:
                out.close()
            self._drained += out.drain()
            self._stop_serving("the peer is gone")
            if self._reader is not _READ_UPGRADED:
                self._set_reader(_READ_CLOSED, "the peer is gone")
            for reqd in self._queue:
                reqd.request_body.fail(RemoteProtocolError("the connection closed"))
            self._queue.clear()
            self._wake_reader()
            return
        assert isinstance(result, int)
        out = self._out
        out.shift(result)
        self._sent += result
        if self._output_full and out.pending_bytes <= self._config.max_pending_output:
            self._output_full = False
            self._wake_reader()

    # ---------------------------------------------------------------------------------
    # Errors and shutdown
    # ---------------------------------------------------------------------------------
    def report_exn(self, exc: Exception) -> None:
        """The runtime failed (or wants to fail) this connection with ``exc``.

        The request being answered gets an error response (or its response is cut off).
        With no request in flight: when part of a request head has arrived, that request
        is answered (``exc``'s status if it is a `RemoteProtocolError`, else 500), unless
        ``exc`` is an `OSError` (the peer is gone, or a timeout); an idle connection is
        closed without a response, which a client racing a new request would take as
        its answer (issue 18)."""
        if self._queue:
            self._queue[0].report_exn(exc)
        elif self._link.closing or self._out.is_closed:
            self.shutdown()  # nothing left to answer (and maybe no way to)
        elif self._head_parse is None or isinstance(exc, OSError):
            self.shutdown()  # idle, or nobody to answer: close quietly
        else:
            err = exc if isinstance(exc, RemoteProtocolError) else RemoteProtocolError(str(exc) or type(exc).__name__, Status.INTERNAL_SERVER_ERROR)
            self._fail(err)
        self._wake_writer()

    def shutdown(self) -> None:
        """Close both directions now: pending output is still offered, then `Close`."""
        self._set_reader(_READ_CLOSED, "shutdown")
        self._stop_serving("shutdown")
        for reqd in self._queue:
            reqd.request_body.fail(RemoteProtocolError("the connection was shut down"))
        self._queue.clear()
        if not self._out.is_closed:
            self._out.close()
        self._wake_reader()
        self._wake_writer()

    # ---------------------------------------------------------------------------------
    # Timeouts (`_timeouts`)
    # ---------------------------------------------------------------------------------
    def deadline(self, now: float) -> Deadline | None:
        """The deadline that applies now, or None; ``now`` is the runtime's clock.

        Ask after every operation: the clock restarts with progress (see `TimeoutKind`).
        When ``at`` passes, call `timeout`."""
        config = self._config
        if self._out.has_pending_output and not self._writer_done:
            return self._clock.deadline(_WRITE_TIMEOUT, self._sent, now, config.timeout_write)
        kind: TimeoutKind | None = None
        progress = 0
        seconds = 0.0
        reader = self._reader
        if (reader is _IN_BODY or reader is _AT_HEAD) and self._read_operation() is READ:
            if reader is _IN_BODY:
                kind, progress, seconds = _BODY_TIMEOUT, self._received, config.timeout_body
            elif self._head_parse is not None or self._held:
                kind, progress, seconds = _HEAD_TIMEOUT, self._heads, config.timeout_header
            elif not self._queue:
                kind, progress, seconds = _IDLE_TIMEOUT, self._heads, config.timeout_keep_alive
            # else a handler is working on a request: the handler's own business
        # A reader that yields (backpressure: a handler not reading its body, or
        # responses waiting to go out) waits for the application, not for the peer.
        return self._clock.deadline(kind, progress, now, seconds)

    def timeout(self, now: float) -> None:
        """Act on the deadline if it passed by ``now``: a head or body that is late gets
        408 and the connection closes; an idle keep-alive connection closes quietly; an
        output the peer does not take is dropped and the connection closes. A deadline
        that no longer applies (progress was made since) is ignored. Never raises;
        afterwards pump both directions as usual."""
        self.deadline(now)
        kind = self._clock.due(now)
        if kind is None:
            return
        if kind is _WRITE_TIMEOUT:
            self.report_write_result(CLOSED)  # as if the peer had gone
        elif kind is _IDLE_TIMEOUT:
            self.shutdown()
        elif kind is _BODY_TIMEOUT:
            reqd = self._receiving
            assert reqd is not None
            self._body_failed(reqd, RemoteProtocolError("request body timed out", Status.REQUEST_TIMEOUT))
        elif self._queue:
            self.shutdown()  # a pipelined head stalls behind requests in flight
        else:
            self._held = b""
            self._fail(RemoteProtocolError("request head timed out", Status.REQUEST_TIMEOUT))
        self._wake_reader()
        self._wake_writer()

    @property
    def config(self) -> Config:
        """The connection's limits and timeouts."""
        return self._config

    @property
    def is_closed(self) -> bool:
        """True when both directions are closed."""
        return self._reader is _READ_CLOSED and self._out.is_closed and not self._out.has_pending_output

    @property
    def upgraded_request(self) -> Reqd | None:
        """The request that switched protocols, if any."""
        return self._upgraded

    @property
    def in_flight(self) -> int:
        """Requests received and not yet retired (answered and their bodies consumed)."""
        return len(self._queue)

    @property
    def reading_body(self) -> bool:
        """Whether the reader is inside a request body."""
        return self._reader is _IN_BODY

    @property
    def head_in_progress(self) -> bool:
        """Whether part of a request head has been received (and not yet parsed whole)."""
        return self._head_parse is not None

    @property
    def heads_received(self) -> int:
        """How many request heads were received whole (a head timer restarts when it grows)."""
        return self._heads

    def close_when_idle(self) -> None:
        """Serve the requests already received, then close (graceful shutdown)."""
        self._stop_serving("graceful shutdown")
        if not self._queue:
            self._set_reader(_READ_CLOSED, "graceful shutdown")
        self._maybe_close_writer()
        self._wake_reader()
        self._wake_writer()
