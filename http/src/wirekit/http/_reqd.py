"""`Reqd`: one request on a server connection, and the ways to answer it."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from wirekit.serializer import BytesLike

from ._body import BodyReader, BodyWriter
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._framing import (
    BODYLESS_STATUSES,
    BodyKind,
    RequestFraming,
    connection_options,
    content_length,
)
from ._messages import HEAD_LINES, HeaderInput, Headers, Method, Request, Response, Version
from ._status import Status, reason_phrase
from ._writer import _STATUS_LINES, PLAIN, field_lines, head_bytes, status_line

if TYPE_CHECKING:
    from ._server import ServerConnection, _Link

__all__ = ["ErrorHandler", "Reqd", "RequestHandler", "ResponseHooks", "ResponseState", "default_error_handler"]

# Bodies at least this large are scheduled (zero-copy) instead of copied.
SCHEDULE_THRESHOLD = 4096
# A response made into one bytes object at least this large is queued without a copy;
# smaller ones are copied, so that pipelined responses coalesce into one buffer.
COPY_LIMIT = 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# False: every response takes the general path (the oracle mode, `_oracle`).
_FAST = True



class ResponseState(enum.Enum):
    """Where a request's response stands."""

    WAITING = "waiting"  # nothing sent yet
    STREAMING = "streaming"  # head sent, body being written
    COMPLETE = "complete"  # everything handed to the connection's output
    UPGRADED = "upgraded"  # 101 (or 2xx to CONNECT) sent; not HTTP any more


# Enum members bound to module names for the hot paths: on CPython 3.11 reading
# `Enum.MEMBER` goes through the enum's metaclass (about 70 ns); a global is ~10 ns.
_WAITING = ResponseState.WAITING
_STREAMING = ResponseState.STREAMING
_COMPLETE = ResponseState.COMPLETE
_UPGRADED = ResponseState.UPGRADED
_KIND_NONE = BodyKind.NONE
_KIND_FIXED = BodyKind.FIXED
_KIND_CHUNKED = BodyKind.CHUNKED
_KIND_CLOSE = BodyKind.CLOSE
_HTTP_1_0 = Version.HTTP_1_0
_HTTP_1_1 = Version.HTTP_1_1
_METHOD_HEAD = Method.HEAD
_METHOD_CONNECT = Method.CONNECT
# Requests whose responses are framed differently (no body; a tunnel).
_SPECIAL_METHODS = frozenset({_METHOD_HEAD, _METHOD_CONNECT})
# Final statuses whose responses carry a body and a Content-Length.
_SIZED_STATUSES = frozenset(range(200, 1000)) - BODYLESS_STATUSES
# The field line for each `Reqd._connection_option`.
_CONNECTION_LINES = {None: b"", b"close": b"connection: close\r\n", b"keep-alive": b"connection: keep-alive\r\n"}


def _framing_fields(headers: Headers, status: int) -> tuple[int | None, Headers]:
    """A response's own Content-Length (checked) and its headers with the framing fields
    the connection owns taken out or normalised (a copy when anything changes).

    Raises:
        LocalProtocolError: an invalid Content-Length.
    """
    length: int | None = None
    if b"content-length" not in headers and b"transfer-encoding" not in headers:
        return length, headers
    if b"content-length" in headers:
        try:  # parsed by the grammar, once per distinct value
            length = content_length(headers)
        except RemoteProtocolError as e:
            raise LocalProtocolError(e.message) from None
    # The connection owns Transfer-Encoding; 204 (and 1xx) carry no length at all.
    headers = headers.copy()
    headers.remove(b"transfer-encoding")
    if status == 204:
        headers.remove(b"content-length")
        length = None
    elif length is not None and headers.get_all(b"content-length") != [b"%d" % length]:
        # One field, one value (RFC 9110 §8.6: a recipient may collapse identical values;
        # a sender sends one): "5, 5" or a repeated line becomes "5", where the first was.
        headers.set(b"content-length", b"%d" % length)
    return length, headers


class ResponseHooks(Protocol):
    """What a server adds to every response of a connection (`ServerConnection`'s
    ``hooks``): its own header fields (Date, Server), and where the size of each whole
    body goes (an access log). `Reqd` calls them when a response starts, before it is
    checked and written; they must not raise."""

    def stamp(self, response: Response) -> Response:
        """The response to send for ``response``: ``response`` itself, or a new one (with
        fields added); ``response`` is never modified, it may be shared."""
        ...

    def body_size(self, reqd: Reqd, size: int) -> None:
        """``reqd`` is answered with a whole body of ``size`` bytes (`Reqd.respond_with_bytes`;
        a streamed body's size is its writer's ``written``)."""
        ...


class Reqd:
    """A request descriptor: the request, its body, and how to respond.

    Exactly one response per request: `respond_with_bytes`, `respond_with_streaming` or
    `respond_with_upgrade`. The connection frames the response correctly whatever the
    headers say: no body for HEAD, 204 and 304; ``Content-Length`` added or checked;
    chunked to HTTP/1.1 clients and close-delimited to HTTP/1.0 when the length is unknown.

    Attributes: ``request`` (None only for a connection-level error), ``request_body``
    (a `BodyReader`), ``response`` (set once a response is started), ``response_state``
    (a `ResponseState`: WAITING until a ``respond_with_*`` call), ``handler_called``
    (whether the request or error handler has been called for it: a pipelined request
    waits for the ones before it), ``persistent`` (whether the connection stays open
    after it), ``error`` (why it failed, if it did).
    """

    __slots__ = (
        "_continue",
        "_framing",
        "_link",
        "_state",
        "_writer",
        "error",
        "handler_called",
        "input_done",
        "persistent",
        "request",
        "request_body",
        "response",
    )

    def __init__(
        self,
        link: _Link,
        request: Request | None,
        framing: RequestFraming | None,
        body: BodyReader,
        error: Exception | None = None,
    ) -> None:
        self._link = link
        self.request = request  # None only for a connection-level error
        self._framing = framing
        self.request_body = body
        self.error = error
        if framing is None:
            self.persistent = self._continue = False
        else:
            self.persistent = framing.persistent and error is None
            self._continue = framing.expect_continue
        self._state = _WAITING
        self._writer: BodyWriter | None = None
        self.response: Response | None = None
        self.input_done = body.is_complete  # (a body that came with the head, or none)
        self.handler_called = False  # whether its handler (or the error handler) ran

    # -- responding --------------------------------------------------------------------
    def _head(self, response: Response) -> tuple[bool, int | None, Headers]:
        """(no body allowed, the response's own Content-Length, headers to send)."""
        status = response.status
        self._check_respond(status)
        request = self.request
        is_head = request is not None and request.method is _METHOD_HEAD
        no_body = is_head or status in BODYLESS_STATUSES
        headers = response.headers
        if field_lines(headers)[1] == PLAIN:
            return no_body, None, headers  # nothing for the connection to check or fix
        length, headers = _framing_fields(headers, status)
        options = _options(response.headers)
        if b"close" in options:
            self.persistent = False
        if options and set(options) <= {b"close", b"keep-alive"}:
            # Persistence is the connection's to announce (see `_extra`): no duplicate or
            # contradicting Connection field.
            if headers is response.headers:
                headers = headers.copy()
            headers.remove(b"connection")
        return no_body, length, headers

    def _check_respond(self, status: int) -> None:
        """Whether a response with ``status`` may start now.

        Raises:
            LocalProtocolError: a response was already started, the connection is closed,
                a 1xx, or a 2xx to CONNECT (an upgrade).
        """
        if self._state is not _WAITING:
            raise LocalProtocolError("a response was already started for this request")
        if self._link.out.is_closed:  # shut down or the peer went away (maybe output pending)
            raise LocalProtocolError("the connection is closed")
        if status < 200:
            raise LocalProtocolError(
                "interim (1xx) responses are sent by the connection; use respond_with_upgrade for 101"
            )
        request = self.request
        if request is not None and request.method is _METHOD_CONNECT and status < 300:
            # RFC 9110 §9.3.6: a 2xx to CONNECT turns the connection into a tunnel.
            raise LocalProtocolError("a 2xx to CONNECT opens a tunnel: use respond_with_upgrade(..., status=200)")

    def _connection_option(self) -> bytes | None:
        """The Connection option the response must carry: ``close`` (and the request is
        then the last), ``keep-alive`` to an HTTP/1.0 client, or none."""
        # A final response before 100 Continue was sent means the body will not be read:
        # the connection closes after it (see `ServerConnection._response_complete`).
        if not self.persistent or self._link.closing or (self._continue and not self.input_done):
            self.persistent = False
            return b"close"
        request = self.request
        if request is not None and request.version is _HTTP_1_0:
            return b"keep-alive"
        return None

    def _extra(self) -> list[tuple[bytes, bytes]]:
        option = self._connection_option()
        return [] if option is None else [(b"connection", option)]

    def _write_body(self, data: BytesLike, n: int) -> None:
        """A whole body after its head: scheduled (zero-copy) if large, else copied."""
        out = self._link.out
        if n >= SCHEDULE_THRESHOLD:
            out.schedule(data)
        else:
            out.write_bytes(data)

    def respond_with_bytes(self, response: Response, data: BytesLike = b"") -> None:
        """Send ``response`` with ``data`` as its whole body.

        ``Content-Length`` is added (or checked, if the headers carry one).

        Raises:
            LocalProtocolError: a response was already sent, a header is invalid, or the
                declared Content-Length does not match ``data``.
        """
        link = self._link
        n = len(data)
        if link.hooks is not None:  # (read twice: cheaper than a local when there are none)
            hooks = link.hooks
            response = hooks.stamp(response)
            hooks.body_size(self, n)
        # The common case in one step: a response with a body to a GET/POST-like request,
        # whose fields (validated once, then cached) say nothing about framing but, at
        # most, a Content-Length that matches the body.
        headers = response.headers
        # (field_lines' and status_line's own cache lookups, inlined: this runs per response)
        lines, framing = HEAD_LINES.get(headers._key) or field_lines(headers)  # type: ignore[arg-type]
        status = response.status
        request = self.request
        if (
            _FAST
            and framing in (PLAIN, n)  # no framing field, or the right Content-Length
            and status in _SIZED_STATUSES
            and self._state is _WAITING
            and not link.closing  # (the output only closes once the connection is closing)
            and request is not None
            and request.method not in _SPECIAL_METHODS
        ):
            first = _STATUS_LINES.get((status, response.reason)) or status_line(status, response.reason)
            persistence = _CONNECTION_LINES[self._connection_option()]
            sized = b"content-length: %d\r\n\r\n" % n if framing == PLAIN else b"\r\n"
            out = link.out
            if n < SCHEDULE_THRESHOLD and type(data) is bytes:
                whole = b"".join((first, lines, persistence, sized, data))
                # Ours and immutable: a larger one is queued as it is, not copied again.
                if len(whole) >= COPY_LIMIT:
                    out.schedule(whole)
                else:
                    out.write(whole)
            else:
                out.write(b"".join((first, lines, persistence, sized)))
                self._write_body(data, n)
            self.response = response
            self._state = _COMPLETE  # (`_finish_response`, inlined: once per response)
            link.response_complete(self)
            return
        no_body, length, headers = self._head(response)
        extra = self._extra()
        if status not in BODYLESS_STATUSES:
            if length is None:
                extra.append((b"content-length", b"%d" % n))
            elif length != n and not no_body:
                raise LocalProtocolError(f"Content-Length is {length} but the body has {n} bytes")
        link.out.write(head_bytes(status_line(status, response.reason), headers, extra))
        if n and not no_body:
            self._write_body(data, n)
        self.response = response
        self._finish_response()

    def respond_with_streaming(self, response: Response, flush_headers_immediately: bool = False) -> BodyWriter:
        """Start ``response`` and return the writer for its body.

        With a ``Content-Length`` the body must have exactly that many bytes (more raises,
        fewer makes the connection close after it). Without one the body is chunked for
        HTTP/1.1 clients and delimited by closing the connection for HTTP/1.0 ones.
        The head is written into the output at once; the runtime is woken to send it at
        the first flush (or at once with ``flush_headers_immediately``), and sends it
        with whatever it finds when it next asks for a write operation anyway.

        Raises:
            LocalProtocolError: a response was already sent, or a header is invalid.
        """
        link = self._link
        if link.hooks is not None:
            response = link.hooks.stamp(response)
        no_body, length, headers = self._head(response)
        request = self.request
        if no_body:
            kind, size = _KIND_NONE, 0
        elif length is not None:
            kind, size = _KIND_FIXED, length
        elif request is None or request.version is _HTTP_1_1:
            kind, size = _KIND_CHUNKED, 0
        else:
            kind, size = _KIND_CLOSE, 0
            self.persistent = False
        extra = self._extra()
        if kind is _KIND_CHUNKED:
            extra.append((b"transfer-encoding", b"chunked"))
        link.out.write(head_bytes(status_line(response.status, response.reason), headers, extra))
        self.response = response
        self._state = _STREAMING
        self._writer = BodyWriter(link.out, kind, size, link.wake_writer, self._body_closed)
        if flush_headers_immediately:
            link.wake_writer()
        return self._writer

    def respond_with_upgrade(
        self, headers: HeaderInput, on_upgrade: Callable[[], None], status: int = Status.SWITCHING_PROTOCOLS
    ) -> None:
        """Switch protocols: send ``status`` (101, or a 2xx to CONNECT) with ``headers``
        and stop parsing HTTP. Once the head has been written, ``on_upgrade()`` is
        called and the connection's operations become `Upgrade`: the runtime hands the
        socket and any unconsumed input to the new protocol.

        Raises:
            LocalProtocolError: a response was already sent, or the request was not an
                upgrade (or CONNECT) request.
        """
        if self._state is not _WAITING:
            raise LocalProtocolError("a response was already started for this request")
        if self._link.out.is_closed:
            raise LocalProtocolError("the connection is closed")
        if self._framing is None or not self._framing.upgrade:
            raise LocalProtocolError("this request did not ask for an upgrade")
        if not (status == 101 or (200 <= status < 300 and self.request is not None and self.request.method is _METHOD_CONNECT)):
            raise LocalProtocolError("an upgrade answers with 101, or with a 2xx to CONNECT")
        response = Response(status, headers)
        link = self._link
        sent = response.headers.copy()
        sent.remove(b"content-length")  # never in a 1xx or a 2xx to CONNECT (RFC 9110 §8.6,
        sent.remove(b"transfer-encoding")  # RFC 9112 §6.1)
        link.out.write(head_bytes(status_line(status, response.reason), sent, None))
        self.response = response
        self._state = _UPGRADED
        link.upgrade(self, on_upgrade)

    def report_exn(self, exc: Exception) -> None:
        """Report that handling this request failed.

        Before a response started, the error handler answers (500, or the error's own
        status for a `ProtocolError`); after, the response is aborted (a chunked body gets
        no last chunk) and the connection closes. Either way nothing more is read.
        """
        self.persistent = False
        link = self._link
        link.stop_serving()
        if self.error is None:
            self.error = exc
        if not self.request_body.is_closed:
            self.request_body.fail(exc)
        if self._state is _WAITING:
            link.answer_error(self, exc)
        elif self._state is _STREAMING and self._writer is not None:
            self._writer.abort()
        elif link.receiving(self):
            # Answered already, but its body is still arriving: stop reading it (the
            # failed body would otherwise buffer it until the reader stalls).
            link.stop_reading(self)
        link.wake_writer()
        link.wake_reader()

    # -- internal ------------------------------------------------------------------------
    def _body_closed(self, complete: bool) -> None:
        if not complete:
            self.persistent = False
        self._finish_response()

    def _finish_response(self) -> None:
        self._state = _COMPLETE
        self._link.response_complete(self)

    def _send_continue(self) -> None:
        """Called when the handler first asks for the body: send 100 Continue if due."""
        if self._continue and self._state is _WAITING:
            self._continue = False
            self._link.out.write(CONTINUE)
            self._link.wake_writer()
        self._link.wake_reader()

    @property
    def connection(self) -> ServerConnection:
        """The connection this request arrived on (a runtime maps it to its socket)."""
        return self._link.connection()

    @property
    def is_upgrade(self) -> bool:
        """Whether the request asks to switch protocols (``Connection: upgrade`` with an
        ``Upgrade`` field on HTTP/1.1) or is a CONNECT: `respond_with_upgrade` accepts it."""
        return self._framing is not None and self._framing.upgrade

    @property
    def continue_pending(self) -> bool:
        """Whether the client waits for 100 Continue that was not sent."""
        return self._continue

    @property
    def response_state(self) -> ResponseState:
        """Where the response stands."""
        return self._state

    @property
    def error_status(self) -> int:
        """The status an error on this request calls for."""
        err = self.error
        return err.status if isinstance(err, ProtocolError) else Status.INTERNAL_SERVER_ERROR


def _options(headers: Headers) -> list[bytes]:
    """The Connection options of an outgoing head (a bad value is the caller's error)."""
    try:
        return connection_options(headers)
    except RemoteProtocolError as e:
        raise LocalProtocolError(e.message) from None


RequestHandler = Callable[[Reqd], None]
ErrorHandler = Callable[[Request | None, Exception, Callable[[HeaderInput | None], BodyWriter]], None]


def default_error_handler(
    request: Request | None, error: Exception, respond: Callable[[HeaderInput | None], BodyWriter]
) -> None:
    """Answer with the status the error calls for and a one-line text body."""
    status = error.status if isinstance(error, ProtocolError) else Status.INTERNAL_SERVER_ERROR
    phrase = reason_phrase(status) or "Error"
    body = f"{int(status)} {phrase}\n".encode()
    writer = respond([(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))])
    writer.write(body)
    writer.close()
