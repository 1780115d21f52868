"""The asyncio driver of a `WebSocketConnection`: it moves bytes between a transport and
the sans-IO connection (as `HttpProtocol` does for HTTP), sends keepalive pings, and
bounds the closing handshake. The server's ASGI adapter and the client both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import cast

from .. import CLOSE, CLOSED, READ, Close, Write
from ..websocket import ConnectionState, WebSocketConnection
from ._protocol import ServerState

__all__ = ["WebSocketProtocol"]

logger = logging.getLogger("wirekit.error")


class WebSocketProtocol(asyncio.Protocol):
    """Runs ``conn`` on a transport. ``on_event()`` is called whenever events may be
    waiting in ``conn.next_event()`` (received messages, the final `Closed`).

    Args:
        ping_interval: send a ping when this many seconds passed since the last one
            (0: never); ``ping_timeout``: fail the connection (1011) when it is not
            answered in that many seconds (0: never).
        close_timeout: after our close frame, how long the peer has to answer before
            the transport is aborted.
        state: the server's shared state (for graceful shutdown and the connection
            count), or None (a client).
        on_pong: called with each pong's payload.
    """

    def __init__(
        self,
        conn: WebSocketConnection,
        on_event: Callable[[], None],
        ping_interval: float = 0.0,
        ping_timeout: float = 0.0,
        close_timeout: float = 5.0,
        state: ServerState | None = None,
        on_pong: Callable[[bytes], None] | None = None,
    ) -> None:
        self.conn = conn
        self._on_event = on_event
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._close_timeout = close_timeout
        self._state = state
        self._on_pong = on_pong
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self._closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._write_scheduled = False
        self._busy = False  # inside `send_now`: writer wakeups need no loop turn
        self._ping_handle: asyncio.TimerHandle | None = None
        self._ping_payload: bytes | None = None  # the ping we wait an answer for
        self._close_handle: asyncio.TimerHandle | None = None
        self.disconnected: asyncio.Future[None] = self.loop.create_future()
        conn.on_pong = self._pong

    # -- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        if self._state is not None:
            self._state.add(self)
        if self._ping_interval > 0:
            self._ping_handle = self.loop.call_later(self._ping_interval, self._send_ping)
        self._pump_write()

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        # Only after READ, as a rule; a chunk delivered after pause_reading is kept by
        # the connection like any input it cannot use yet.
        self.conn.read(data)
        self._pump_read()
        self._pump_write()

    def eof_received(self) -> bool:
        if not self._closed:
            self.conn.read_eof()
            self._on_event()
            self._pump_write()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._cancel_timers()
        if self._state is not None:
            self._state.connections.discard(self)
        if not self.conn.is_closed:
            self.conn.shutdown()  # 1006 unless the closing handshake was done
        # Flush callbacks waiting for output that will never go out fire (DRAIN).
        self.conn.report_write_result(CLOSED)
        if not self.disconnected.done():
            self.disconnected.set_result(None)
        self._on_event()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._pump_write()

    # -- moving bytes ------------------------------------------------------------------
    def _pump_read(self) -> None:
        """Read from the socket while the connection wants bytes; else pause it."""
        conn = self.conn
        if not self._closed:
            op = conn.next_read_operation()  # (may use input the connection held)
            if op is READ:
                self._resume_reading()
            elif op is CLOSE:
                self._pause_reading()  # the transport closes after the writer's `Close`
            else:  # YIELD: the application has not taken its messages (or output piles up)
                self._pause_reading()
                conn.yield_reader(self._wake_reader)
        if conn.pending_events:
            self._on_event()

    def _wake_reader(self) -> None:
        if not self._closed:
            self.loop.call_soon(self._after_wakeup)

    def _after_wakeup(self) -> None:
        if not self._closed:
            self._pump_read()
            self._pump_write()

    def _pump_write(self) -> None:
        transport = self.transport
        if transport is None or self._closed:
            return
        conn = self.conn
        while not self._writing_paused:
            op = conn.next_write_operation()
            if type(op) is Write:
                iovecs = op.iovecs
                transport.write(bytes(iovecs[0]) if len(iovecs) == 1 else b"".join(iovecs))
                conn.report_write_result(op.nbytes)
                continue
            if type(op) is Close:
                self._finish()
                return
            conn.yield_writer(self._wake_writer)
            break
        if conn.state is ConnectionState.CLOSING and self._close_handle is None:
            self._close_handle = self.loop.call_later(self._close_timeout, self.abort)

    def send_now(self, send: Callable[[], None]) -> bool:
        """Run ``send`` (which queues frames on the connection) and write its output at
        once, in this turn of the event loop; whether everything was written."""
        self._busy = True
        try:
            send()
        finally:
            self._busy = False
        self._pump_write()
        return not self.conn.has_pending_output

    def _wake_writer(self) -> None:
        if self._busy:
            return  # `send_now` writes right after
        if not self._closed and not self._write_scheduled:
            self._write_scheduled = True
            self.loop.call_soon(self._after_write_wakeup)

    def _after_write_wakeup(self) -> None:
        self._write_scheduled = False
        self._pump_write()

    def _finish(self) -> None:
        """The connection's output is done: close the transport (its buffer is still sent)."""
        if self._closed:
            return
        self._closed = True
        self._cancel_timers()
        if self._state is not None:
            self._state.connections.discard(self)
        transport = self.transport
        if transport is not None:
            transport.close()
        self._on_event()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None and not self._closed:
            self._reading_paused = False
            self.transport.resume_reading()

    # -- keepalive ---------------------------------------------------------------------
    def _send_ping(self) -> None:
        self._ping_handle = None
        if self._closed or self.conn.state is not ConnectionState.OPEN:
            return
        if self._ping_payload is not None and self._ping_timeout > 0:
            return  # still waiting for the previous one: `_ping_expired` decides
        payload = os.urandom(4)
        self._ping_payload = payload
        self.conn.ping(payload)
        self._pump_write()
        if self._ping_timeout > 0:
            self._ping_handle = self.loop.call_later(self._ping_timeout, self._ping_expired, payload)
        else:
            self._ping_payload = None
            self._ping_handle = self.loop.call_later(self._ping_interval, self._send_ping)

    def _pong(self, payload: bytes) -> None:
        if self._on_pong is not None:
            self._on_pong(payload)
        if payload == self._ping_payload:
            self._ping_payload = None
            if self._ping_handle is not None:
                self._ping_handle.cancel()
            self._ping_handle = self.loop.call_later(self._ping_interval, self._send_ping)

    def _ping_expired(self, payload: bytes) -> None:
        self._ping_handle = None
        if self._ping_payload == payload and not self._closed:
            logger.info("WebSocket keepalive ping not answered in %.1f s: closing", self._ping_timeout)
            with contextlib.suppress(ValueError):
                self.conn.close(1011, "keepalive ping timeout")
            self._pump_write()

    def _cancel_timers(self) -> None:
        for handle in (self._ping_handle, self._close_handle):
            if handle is not None:
                handle.cancel()
        self._ping_handle = self._close_handle = None

    # -- server lifecycle --------------------------------------------------------------
    def check_deadline(self, now: float) -> None:
        """The server's sweep: the WebSocket's timers are its own (nothing to do)."""

    def shutdown_gracefully(self) -> None:
        """Server shutdown: close with 1001 (going away), or 1012 (service restart) when
        the worker retires to be replaced."""
        if self._closed:
            return
        retiring = self._state is not None and self._state.retiring
        self.conn.close(1012 if retiring else 1001)
        self._pump_write()

    def abort(self) -> None:
        """Close the transport now."""
        if self.transport is not None and not self._closed:
            self._closed = True
            self._cancel_timers()
            self.transport.abort()
