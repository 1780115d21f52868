"""The asyncio protocol: it only moves bytes between a transport and a `ServerConnection`.

Reads: everything received and not consumed is presented to ``read``; a `Yield` pauses
the transport's reading until the connection wakes us. Writes: each `Write` goes to the
transport in one call (``bytes`` only: transports may keep references, and the output
buffer is reused once shifted); while the transport is paused, nothing more is taken, so
body writers' flush callbacks wait (backpressure), and no request is read either: memory
stays bounded (transport buffer + ``Config.max_pending_output``) for a client that
sends requests and does not read. A write pump does a bounded amount of work per
event-loop turn, then continues in the next one: a client that reads a stream as fast as
it is produced does not hold up the other connections. Timers close slow or idle peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import ClassVar, Protocol, cast

from .. import (
    CLOSED,
    READ,
    UPGRADE,
    YIELD,
    BodyWriter,
    Close,
    Config,
    ErrorHandler,
    HeaderInput,
    RemoteProtocolError,
    Reqd,
    Request,
    RequestHandler,
    ResponseHooks,
    ServerConnection,
    Write,
    default_error_handler,
)
from .._reqd import ResponseState
from .._status import reason_phrase
from ._config import ServeConfig
from ._logs import access_line

__all__ = ["HttpProtocol", "ServedConnection", "ServerState", "protocol_of"]

access_logger = logging.getLogger("wirekit.access")
_LOGGABLE = (ResponseState.COMPLETE, ResponseState.UPGRADED)
error_logger = logging.getLogger("wirekit.error")


class ServedConnection(Protocol):
    """What the server's sweep and shutdown call on a connection: an `HttpProtocol`, or
    the protocol that took its transport over after an upgrade (a WebSocket)."""

    @property
    def disconnected(self) -> asyncio.Future[None]:
        """Resolved once the peer stops sending or is gone."""
        ...


    def check_deadline(self, now: float) -> None: ...
    def shutdown_gracefully(self) -> None: ...
    def abort(self) -> None: ...


class ServerState:
    """What the connections of one server share, including the timeout sweep."""

    # How often deadlines are checked: timeouts fire up to this late.
    SWEEP_INTERVAL = 0.25

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.connections: set[ServedConnection] = set()
        self.requests = 0
        self.shutting_down = False
        # Shutting down because `limit_max_requests` was reached (not a signal): another
        # worker takes the new connections, and those this one already accepted are served.
        self.retiring = False
        self.on_max_requests: Callable[[], None] | None = None
        self.lingering: set[asyncio.BaseTransport] = set()  # closed, draining the client
        self._sweep: asyncio.TimerHandle | None = None

    def add(self, protocol: ServedConnection) -> None:
        """Track a connection (and make sure the sweep runs)."""
        self.connections.add(protocol)
        if self._sweep is None:
            loop = asyncio.get_running_loop()
            self._sweep = loop.call_later(self.SWEEP_INTERVAL, self._run_sweep, loop)

    def _run_sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for protocol in list(self.connections):
            protocol.check_deadline(now)
        if self.connections:
            self._sweep = loop.call_later(self.SWEEP_INTERVAL, self._run_sweep, loop)
        else:
            self._sweep = None


class HttpProtocol(asyncio.Protocol):
    """Serves one TCP connection with a `ServerConnection`."""

    # Slots, not a __dict__: one of these per open connection (memory per idle connection).
    __slots__ = (
        "_busy", "_client_gone", "_close_after_first", "_closed", "_deadline", "_disconnected",
        "_error_handler", "_handler", "_hooks", "_http_config", "_lost", "_make_handler", "_peer_eof",
        "_reading_paused", "_state", "_to_log", "_transport_gone", "_write_scheduled",
        "_writing_paused", "client", "conn", "loop", "server", "transport",
    )

    # After closing its side, how long a connection keeps reading (and discarding) what a
    # client still sends before it is closed for good (lingering close).
    LINGER = 2.0
    # The most one write pump does in one event-loop turn: flush callbacks run inside it
    # and may produce more at once (a streaming handler), and a client that reads fast
    # never pauses the transport. Past either bound the pump continues in a later turn,
    # so other connections, timers and signals are served in between.
    WRITES_PER_TURN = 32
    BYTES_PER_TURN: ClassVar[int] = 256 * 1024  # (ClassVar: mypyc keeps only literal instance defaults)

    def __init__(
        self,
        make_handler: Callable[[HttpProtocol], RequestHandler],
        state: ServerState,
        http_config: Config | None = None,
        error_handler: ErrorHandler | None = None,
        hooks: ResponseHooks | None = None,
    ) -> None:
        self._make_handler = make_handler
        self._hooks = hooks  # the connection's (the server's default fields, body sizes)
        self._handler: RequestHandler | None = None
        self._state = state
        self._http_config = http_config
        self._error_handler = error_handler
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.conn: ServerConnection | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._write_scheduled = False
        self._busy = False
        self._closed = False
        self._peer_eof = False
        self._deadline = 0.0  # loop time of the connection's deadline (0: none)
        self._to_log: list[tuple[Reqd, float]] = []  # (request, when its head was complete)
        self._close_after_first = False  # retiring: answer the first request, then close
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        # The `disconnected` and `lost` futures, made when first asked for (most native
        # handlers never ask: two futures per idle connection are ~0.4 KiB).
        self._disconnected: asyncio.Future[None] | None = None
        self._lost: asyncio.Future[None] | None = None
        self._client_gone = False  # EOF or closed: `disconnected` is resolved
        self._transport_gone = False  # connection_lost: `lost` is resolved

    @property
    def disconnected(self) -> asyncio.Future[None]:
        """Resolved once the client stops sending (EOF) or the connection closes."""
        if self._disconnected is None:
            self._disconnected = self.loop.create_future()
            if self._client_gone:
                self._disconnected.set_result(None)
        return self._disconnected

    @property
    def lost(self) -> asyncio.Future[None]:
        """Resolved once the connection is gone (`connection_lost`): nothing more goes out."""
        if self._lost is None:
            self._lost = self.loop.create_future()
            if self._transport_gone:
                self._lost.set_result(None)
        return self._lost

    def _mark_disconnected(self) -> None:
        self._client_gone = True
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_result(None)

    # -- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses: no isinstance).
        self.transport = transport = cast(asyncio.Transport, transport)
        state = self._state
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        self.server = (str(sock[0]), int(sock[1])) if isinstance(sock, tuple) else None
        limit = state.config.limit_concurrency
        refused = state.shutting_down and not state.retiring
        if refused or (limit is not None and len(state.connections) >= limit):
            why = "shutting down" if refused else f"--limit-concurrency {limit} reached"
            error_logger.info("503 Service Unavailable for %s: %s", _address(self.client), why)
            transport.write(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: 24\r\nconnection: close\r\n\r\n503 Service Unavailable\n"
            )
            transport.close()
            self._closed = True
            return
        state.add(self)
        self._handler = self._make_handler(self)
        self.conn = ServerConnection(self._handle, self._log_rejection, self._http_config, self._hooks)
        self.conn.runtime = self  # (`protocol_of`: for handlers that take the socket over)
        self._arm_timer()
        if state.retiring:
            self.shutdown_gracefully()  # accepted just before the server stopped accepting

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None or self._closed:
            return
        self._busy = True
        # Only after READ, as a rule; a transport may still deliver a chunk after
        # pause_reading (TLS), which the connection keeps like any input it cannot use yet.
        conn.read(data)  # writer wakeups during this call need no extra loop turn
        self._pump_read()
        self._busy = False
        self._pump_write()
        self._arm_timer()

    def eof_received(self) -> bool:
        self._peer_eof = True
        if self._closed:
            return False  # the end of a lingering close: the transport closes
        # The client sends nothing more: ASGI apps waiting in receive() get http.disconnect
        # (responses still go out to a half-closed client).
        self._mark_disconnected()
        conn = self.conn
        if conn is not None and not self._closed:
            conn.read_eof()
            self._pump_write()
            self._arm_timer()
        return True  # keep the transport open: responses may still be going out

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self.transport is not None:
            self._state.lingering.discard(self.transport)
        self._mark_disconnected()
        self._transport_gone = True
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self._cancel_timer()
        self._state.connections.discard(self)
        if self._to_log:
            self._flush_log(lost=True)
        conn = self.conn
        if conn is not None:
            # The peer is gone: pending output is dropped, so flush callbacks waiting for
            # it fire (FlushReason.DRAIN) and streaming handlers learn to stop.
            try:
                conn.report_write_result(CLOSED)
            except Exception:
                error_logger.exception("a flush callback failed after the connection was lost")
            if not conn.is_closed:
                conn.shutdown()

    def pause_writing(self) -> None:
        # The client does not read as fast as we answer: stop taking its requests too,
        # or a client that pipelines and never reads would make us hold every response.
        self._writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._pump_write()
        if self._reading_paused and not self._closed and self.conn is not None:
            self._pump_read()
            self._arm_timer()

    # -- moving bytes ------------------------------------------------------------------
    def _log_rejection(
        self, request: Request | None, error: Exception, respond: Callable[[HeaderInput | None], BodyWriter]
    ) -> None:
        """The connection's error handler: a request the client got wrong (400, 408, 413,
        414, 431, 501, 505...) is logged in one line, then answered as usual."""
        if isinstance(error, RemoteProtocolError):
            status = int(error.status)
            error_logger.info(
                "invalid HTTP request from %s: %d %s (%s)",
                _address(self.client), status, reason_phrase(status) or "Error", error,
            )
        (self._error_handler or default_error_handler)(request, error, respond)

    def _handle(self, reqd: Reqd) -> None:
        state = self._state
        state.requests += 1
        if state.config.access_log and access_logger.isEnabledFor(logging.INFO):
            # (A line nobody would see is not built: ~3.5 us of the ~14 us a request takes.)
            self._to_log.append((reqd, self.loop.time()))
        assert self._handler is not None
        try:
            self._handler(reqd)
        except Exception:
            # The connection answers 500; the traceback would otherwise be lost.
            error_logger.exception("request handler failed")
            raise
        finally:
            if self._close_after_first:
                self._close_after_first = False
                self.loop.call_soon(self.shutdown_gracefully)
            limit = state.config.limit_max_requests
            if limit is not None and state.requests >= limit and state.on_max_requests is not None:
                state.on_max_requests()

    def _pump_read(self) -> None:
        """Read from the socket while the connection wants bytes; else pause it."""
        conn = self.conn
        assert conn is not None
        op = conn.next_read_operation()  # (may use input the connection held)
        if op is READ:
            if not self._peer_eof:
                self._resume_reading()
            return
        self._pause_reading()
        if op is YIELD:
            conn.yield_reader(self._on_reader_wakeup)

    def _on_reader_wakeup(self) -> None:
        if not self._closed:
            self.loop.call_soon(self._after_wakeup)

    def _after_wakeup(self) -> None:
        if self._closed or self.conn is None:
            return
        self._pump_read()
        self._pump_write()
        self._arm_timer()

    def _pump_write(self) -> None:
        conn = self.conn
        transport = self.transport
        if conn is None or transport is None or self._closed:
            return
        writes = written = 0
        while not self._writing_paused:
            if writes >= self.WRITES_PER_TURN or written >= self.BYTES_PER_TURN:
                # Enough for this turn: continue after the loop served everyone else.
                if not self._write_scheduled:
                    self._write_scheduled = True
                    self.loop.call_soon(self._after_writer_wakeup)
                return
            if transport.is_closing():
                # Lost (reset, broken pipe): writes would be dropped, and a producer fed by
                # flush callbacks would spin here. connection_lost drains the rest.
                return
            op = conn.next_write_operation()
            if type(op) is Write:
                iovecs = op.iovecs
                if len(iovecs) == 1:
                    first = iovecs[0]
                    transport.write(first if type(first) is bytes else bytes(first))
                else:
                    transport.write(b"".join(iovecs))
                conn.report_write_result(op.nbytes)
                writes += 1
                written += op.nbytes
                if self._to_log:
                    self._flush_log()
                continue
            if op is UPGRADE:
                return
            if type(op) is Close:
                self._close()
                return
            conn.yield_writer(self._on_writer_wakeup)
            return

    def _on_writer_wakeup(self) -> None:
        if self._busy:
            return
        if not self._closed and not self._write_scheduled:
            self._write_scheduled = True
            self.loop.call_soon(self._after_writer_wakeup)

    def _after_writer_wakeup(self) -> None:
        self._write_scheduled = False
        if self._closed:
            return
        self._pump_write()
        if self.conn is not None and self._reading_paused:
            self._pump_read()
        self._arm_timer()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        # While writing is paused the socket stays unread (`resume_writing` reads again);
        # bytes already received are still parsed, within `Config.max_pending_output`.
        if self._reading_paused and self.transport is not None and not self._closed and not self._writing_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._mark_disconnected()
        self._cancel_timer()
        self._state.connections.discard(self)
        transport = self.transport
        if transport is not None:
            if transport.can_write_eof() and not transport.is_closing():
                with contextlib.suppress(OSError):
                    transport.write_eof()  # half-close first so the client reads everything
                if not self._peer_eof:
                    # Lingering close (as nginx's lingering_close): a client still sending
                    # a body nobody reads would get a reset from close() and could lose the
                    # response. Discard its bytes until it closes too, or LINGER seconds.
                    self._state.lingering.add(transport)
                    if self._reading_paused:
                        self._reading_paused = False
                        transport.resume_reading()
                    self.loop.call_later(self.LINGER, transport.close)
                    return
            transport.close()

    # -- timers ------------------------------------------------------------------------
    def _cancel_timer(self) -> None:
        self._deadline = 0.0

    def _arm_timer(self) -> None:
        """Take the connection's deadline (checked by the server's sweep, so activity
        costs an assignment, not a timer handle)."""
        conn = self.conn
        if conn is None or self._closed:
            self._deadline = 0.0
            return
        deadline = conn.deadline(self.loop.time())
        self._deadline = 0.0 if deadline is None else deadline.at

    def check_deadline(self, now: float) -> None:
        """Called by the server's sweep: the connection acts on a deadline that passed
        (408, or a quiet close), then both directions are pumped as after any event."""
        if self._deadline and now >= self._deadline and self.conn is not None and not self._closed:
            self._deadline = 0.0
            self.conn.timeout(now)
            self._pump_read()
            self._pump_write()
            self._arm_timer()

    # -- protocol switch (after a 101) -------------------------------------------------
    def switch_protocol(self, new: asyncio.Protocol) -> None:
        """Hand the transport over to ``new`` once a 101 response went out (call it from
        `Reqd.respond_with_upgrade`'s ``on_upgrade``): the bytes received after the
        request go to ``new.data_received``, and this protocol is done."""
        transport, conn = self.transport, self.conn
        assert transport is not None and conn is not None
        buf, eof = conn.unconsumed, conn.held_eof
        self._closed = True
        self._cancel_timer()
        self._state.connections.discard(self)
        transport.set_protocol(new)
        new.connection_made(transport)
        if self._writing_paused:
            new.pause_writing()
        if buf:
            new.data_received(buf)
        if eof or self._peer_eof:
            new.eof_received()
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()

    # -- graceful shutdown -------------------------------------------------------------
    def shutdown_gracefully(self) -> None:
        """Finish in-flight responses, then close; close at once when idle."""
        conn = self.conn
        if conn is None or self._closed:
            return
        if self._state.retiring and conn.heads_received == 0:
            # Accepted before the server stopped accepting, its first request on the way:
            # the client cannot know the worker is leaving, so that request is answered
            # (then the connection closes). The idle timeout and the grace period bound it.
            self._close_after_first = True
            return
        # Idle or not, through the connection: a response that is complete but not yet
        # written (an ASGI app's last send, whose write waits for the next loop turn) must
        # still go out before `Close`.
        conn.close_when_idle()
        self._pump_write()

    def abort(self) -> None:
        """Close now (after the grace period)."""
        if self.transport is not None and not self._closed:
            self._closed = True
            self.transport.abort()

    # -- access log --------------------------------------------------------------------
    def _flush_log(self, lost: bool = False) -> None:
        """Log the requests whose response is complete (all of them once ``lost``)."""
        now = self.loop.time()
        while self._to_log and (lost or self._to_log[0][0].response_state in _LOGGABLE):
            reqd, started = self._to_log.pop(0)
            line = access_line(reqd, self.client, started, now)
            if line is not None:
                access_logger.info("%s", line)


# The protocol serving each connection, for a native handler that takes the socket over
# after an upgrade (`wirekit.http.aio.accept_websocket`).


def protocol_of(conn: ServerConnection) -> HttpProtocol | None:
    """The `HttpProtocol` that runs ``conn`` (None: not this runtime's connection)."""
    protocol = conn.runtime
    return protocol if isinstance(protocol, HttpProtocol) else None


def _address(client: tuple[str, int] | None) -> str:
    """``host:port`` of a peer for logs (``[host]:port`` for IPv6; ``-`` if unknown)."""
    if client is None:
        return "-"
    host, port = client
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

