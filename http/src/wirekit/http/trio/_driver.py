"""The two loops that drive one connection (server or client) over a trio socket.

The reader task asks ``next_read_operation()``: on `READ` it passes held input to
``read`` (``read_eof`` after the peer's EOF) or receives more; on `YIELD` it registers a
wakeup and waits for it; on `Close` it ends. The writer task asks
``next_write_operation()``: a `Write` is one ``sendmsg`` of at most ``IOV_MAX`` buffers
(trio waits while the socket is full: that wait is the backpressure that holds flush
callbacks, and with them streaming producers), then ``report_write_result``; `YIELD`
waits for a wakeup; `Close` shuts the sending side down and ends the connection. A
timer task sleeps until the connection's deadline (asked again after every operation)
and calls ``timeout``.

Wakeup callbacks set a `trio.Event`; one fired from another thread (a handler working
there) is passed to the trio thread with ``run_sync_soon``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Protocol

import trio
from wirekit.serializer import IOV_MAX, BytesLike, PeerClosed

from .. import CLOSED, READ, YIELD, Close, ReadOperation, Write, WriteOperation
from .._rt_timeouts import Timed

__all__ = ["LINGER", "Driver"]

LINGER = 2.0
"""Seconds a closed connection keeps reading (and discarding) what the peer still sends."""

RECV_SIZE = 65536


class _Connection(Protocol):
    def next_read_operation(self) -> ReadOperation: ...
    def read(self, data: BytesLike) -> int: ...
    def read_eof(self, data: BytesLike = b"") -> int: ...
    def yield_reader(self, k: Callable[[], None]) -> None: ...
    def next_write_operation(self) -> WriteOperation: ...
    def report_write_result(self, result: int | PeerClosed) -> None: ...
    def yield_writer(self, k: Callable[[], None]) -> None: ...
    def report_exn(self, exc: Exception) -> None: ...


class Driver:
    """Moves bytes between ``sock`` and ``conn`` (see the module docstring)."""

    def __init__(self, conn: _Connection, sock: trio.socket.SocketType, timers: Timed | None = None) -> None:
        self.conn = conn
        self.sock = sock
        self.timers = timers
        self.buf = b""  # input received and not consumed yet (empty with the new contract)
        self.eof = False  # the peer sent EOF
        self.reset = False  # the peer reset the connection
        self._token = trio.lowlevel.current_trio_token()
        self._thread = threading.get_ident()
        self._timer: trio.CancelScope | None = None

    def _waker(self, event: trio.Event) -> Callable[[], None]:
        def wake() -> None:
            if threading.get_ident() == self._thread:
                event.set()
            else:
                self._token.run_sync_soon(event.set)

        return wake

    def refresh(self) -> None:
        """Point the timer at the connection's current deadline."""
        if self.timers is not None and self._timer is not None:
            deadline = self.timers.deadline(trio.current_time())
            self._timer.deadline = math.inf if deadline is None else deadline.at

    async def run(self) -> bool:
        """Serve until the writer says `Close`; whether the peer may still be sending
        (then the caller lingers)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.reader)
            if self.timers is not None:
                nursery.start_soon(self.timer)
            await self.writer()
            nursery.cancel_scope.cancel()
        return not self.eof and not self.reset

    async def reader(self) -> None:
        conn = self.conn
        eof_fed = False
        while True:
            op = conn.next_read_operation()
            if op is READ:
                if self.buf or self.eof:
                    n = conn.read_eof(self.buf) if self.eof else conn.read(self.buf)
                    self.buf = self.buf[n:]
                    self.refresh()
                    if n or (self.eof and not eof_fed):
                        eof_fed = self.eof
                        continue
                    if self.eof:
                        return  # nothing more will come
                try:
                    data = await self.sock.recv(RECV_SIZE)
                except OSError as exc:
                    self.reset = True
                    conn.report_write_result(CLOSED)  # pending output is dropped: flushes fire
                    conn.report_exn(exc)
                    return
                if data:
                    self.buf = self.buf + data if self.buf else data
                else:
                    self.eof = True
            elif op is YIELD:
                event = trio.Event()
                conn.yield_reader(self._waker(event))
                await event.wait()
            else:  # Close (or Upgrade, which these runtimes do not hand over)
                return

    async def writer(self) -> None:
        conn, sock = self.conn, self.sock
        while True:
            op = conn.next_write_operation()
            if type(op) is Write:
                iovecs = op.iovecs
                try:
                    n: int | PeerClosed = await sock.sendmsg(iovecs[:IOV_MAX] if len(iovecs) > IOV_MAX else iovecs)
                except OSError:
                    n = CLOSED  # the peer is gone: what is left is drained
                conn.report_write_result(n)
                self.refresh()
            elif type(op) is Close:
                try:
                    sock.shutdown(trio.socket.SHUT_WR)
                except OSError:
                    self.reset = True
                return
            else:
                event = trio.Event()
                conn.yield_writer(self._waker(event))
                self.refresh()
                await event.wait()

    async def timer(self) -> None:
        timers = self.timers
        assert timers is not None
        while True:
            with trio.CancelScope() as self._timer:
                self.refresh()
                await trio.sleep_forever()
            self._timer = None
            now = trio.current_time()
            deadline = timers.deadline(now)
            if deadline is not None and now >= deadline.at:
                timers.timeout(now)

    async def linger(self) -> None:
        """Read and discard until the peer closes too, or `LINGER` seconds."""
        with trio.move_on_after(LINGER):
            try:
                while await self.sock.recv(RECV_SIZE):
                    pass
            except OSError:
                pass
