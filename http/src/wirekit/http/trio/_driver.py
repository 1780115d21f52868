"""The loop that drives one connection (server or client) in one trio task.

Each turn asks for the next write operation and the next read operation and performs
what can be done without waiting: a `Write` is one non-blocking ``sendmsg`` of at most
``IOV_MAX`` buffers, then ``report_write_result``. What arrives while the reader says
`READ` goes to ``read`` (EOF to ``read_eof``); the connection keeps what it cannot use
yet, so the driver holds no input. When neither can progress the task waits,
in a cancel scope whose deadline is the connection's next deadline, for what they wait
on: the socket writable (a short write: while it is full nothing is read either, so a
client that does not read stops being served -- backpressure), else readable (the reader
said `READ`; one ``recv`` is tried first, as under load the bytes are often there), else
only a wakeup. The connection's wakeup callbacks cancel that scope (from another thread,
through ``run_sync_soon``). The deadline is asked before every wait (so after the turn's
operations); once passed, ``timeout`` is called and the loop goes on.

The socket is a plain non-blocking stdlib socket owned by the driver (taken from trio's
with ``detach``), so a turn that needs no waiting costs no trip through the scheduler; a
busy connection still checkpoints every `TURNS` turns so others are served.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
from collections.abc import Callable
from typing import Protocol

import trio
from wirekit.serializer import BytesLike, PeerClosed, socket_writev

from .. import CLOSED, READ, YIELD, Close, Deadline, ReadOperation, Write, WriteOperation

__all__ = ["LINGER", "Driver", "own"]

LINGER = 2.0
"""Seconds a closed connection keeps reading (and discarding) what the peer still sends."""

RECV_SIZE = 65536
TURNS = 64
"""Turns a connection runs without waiting before it lets other tasks run."""


class Timed(Protocol):
    """A connection that reports deadlines (a `ServerConnection`)."""

    def deadline(self, now: float) -> Deadline | None: ...
    def timeout(self, now: float) -> None: ...


class _Connection(Protocol):
    def next_read_operation(self) -> ReadOperation: ...
    def read(self, data: BytesLike) -> int: ...
    def read_eof(self, data: BytesLike = b"") -> int: ...
    def yield_reader(self, k: Callable[[], None]) -> None: ...
    def next_write_operation(self) -> WriteOperation: ...
    def report_write_result(self, result: int | PeerClosed) -> None: ...
    def yield_writer(self, k: Callable[[], None]) -> None: ...
    def report_exn(self, exc: Exception) -> None: ...


def own(sock: trio.socket.SocketType) -> socket.socket:
    """Take the OS socket out of a trio socket (which is left closed), non-blocking,
    with ``TCP_NODELAY``."""
    plain = socket.socket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    plain.setblocking(False)
    with contextlib.suppress(OSError):
        plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return plain


class Driver:
    """Moves bytes between ``sock`` (see `own`) and ``conn``; ``timers``: the
    connection's deadlines (servers)."""

    def __init__(self, conn: _Connection, sock: socket.socket, timers: Timed | None = None) -> None:
        self.conn = conn
        self.sock = sock
        self.timers = timers
        self.eof = False  # the peer sent EOF
        self.reset = False  # the peer reset the connection
        self._writev = socket_writev(sock)
        self._token = trio.lowlevel.current_trio_token()
        self._thread = threading.get_ident()
        self._woken = False
        self._waiting: trio.CancelScope | None = None

    def _wake(self) -> None:
        """The connection's wakeup callback (both directions)."""
        if threading.get_ident() != self._thread:
            self._token.run_sync_soon(self._wake)
            return
        self._woken = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def run(self) -> bool:
        """Serve until the writer says `Close`; whether the peer may still be sending
        (then call `linger`)."""
        conn, timers = self.conn, self.timers
        read_closed = False
        turns = 0
        while True:
            self._woken = progress = want_read = want_write = False
            op = conn.next_write_operation()
            if type(op) is Write:
                n = self._writev(op.iovecs)  # one sendmsg, IOV_MAX iovecs at most
                if n is CLOSED or n:
                    conn.report_write_result(n)
                    progress = True
                else:
                    want_write = True
            elif type(op) is Close:
                return self._shut_write()
            else:  # Yield (or Upgrade, which these runtimes do not hand over)
                conn.yield_writer(self._wake)
            if not read_closed:
                rop = conn.next_read_operation()
                if rop is READ:
                    want_read = not self.eof  # (after EOF it soon says Close)
                elif rop is YIELD:
                    conn.yield_reader(self._wake)
                else:  # Close (or Upgrade)
                    read_closed = True
            if progress or self._woken:
                turns += 1
                if turns >= TURNS:
                    turns = 0
                    await trio.lowlevel.checkpoint()
                continue
            if want_read and not want_write and self._recv():
                turns += 1  # (counted as a turn: a client that always has bytes waiting)
                continue  # the next bytes were there already: no wait
            at = self._wait_until(timers)
            if at is None:
                continue  # a deadline passed: acted on, no wait
            turns = 0
            await self._wait(want_read, want_write, at)

    @staticmethod
    def _wait_until(timers: Timed | None) -> float | None:
        """Until when to wait (trio time): the connection's next deadline, or forever;
        None if one has passed (acted on here). Only asked before a wait: only a wait
        can outlast a deadline."""
        if timers is None:
            return math.inf
        now = trio.current_time()
        deadline = timers.deadline(now)
        if deadline is None:
            return math.inf
        if now >= deadline.at:
            timers.timeout(now)
            return None
        at: float = deadline.at
        return at

    def _shut_write(self) -> bool:
        """The writer said `Close`: our side is shut; whether the peer may still be
        sending (then call `linger`)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.reset = True
        return not self.eof and not self.reset

    async def _wait(self, want_read: bool, want_write: bool, at: float) -> None:
        """Wait until the socket is ready as wanted (and read what came), a wakeup
        (`_wake` cancels the wait) or ``at``. (Only where the task would block: a call
        here costs nothing next to the scheduler's round.)"""
        with trio.CancelScope(deadline=at) as self._waiting:
            if want_write:
                await trio.lowlevel.wait_writable(self.sock)
            elif want_read:
                await trio.lowlevel.wait_readable(self.sock)
                self._recv()
            else:
                await trio.sleep_forever()
        self._waiting = None

    def _recv(self) -> bool:
        """Pass what the socket has to the connection (the reader said `READ`); whether
        there was anything (bytes, EOF, a reset)."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            self.reset = self.eof = True
            conn = self.conn
            conn.report_write_result(CLOSED)  # pending output is dropped: flushes fire
            conn.report_exn(exc)
            return True
        if data:
            self.conn.read(data)  # it takes every byte, keeping what it cannot use yet
        else:
            self.eof = True
            self.conn.read_eof()
        return True

    async def linger(self) -> None:
        """Read and discard until the peer closes too, or `LINGER` seconds."""
        with trio.move_on_after(LINGER):
            while True:
                await trio.lowlevel.wait_readable(self.sock)
                try:
                    if not self.sock.recv(RECV_SIZE):
                        return
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    return
