"""A blocking HTTP/1.1 server: one thread per connection, each a small loop over a
`ServerConnection`.

The loop of a connection thread asks for the next write operation and the next read
operation, performs what it can without blocking (one ``sendmsg`` of at most ``IOV_MAX``
buffers), and when neither can progress it waits in ``poll`` for what they wait on: the
socket readable (the reader said `READ`: what arrives goes to ``read``, EOF to
``read_eof``; the connection keeps what it cannot use yet, so the runtime holds no
input), writable (the last write was short), a wakeup from another thread (`caller`), or
the connection's deadline (asked before every wait), on which it calls ``timeout`` and
goes on. Handlers run on the connection's thread
(called from inside ``read``), so the connection is only ever touched by that thread.

Backpressure comes from the same loop: while the socket takes no more, no `Write`
finishes, so flush callbacks (a streaming handler's signal to produce more) wait; and
with responses piling up the connection's reader yields, so a client that pipelines
and never reads makes the server hold at most ``Config.max_pending_output`` plus the
kernel's buffers. After `Close` the sending side is shut down and the socket is read and
discarded until the client closes too, or `LINGER` seconds (lingering close), so a
client still sending a body nobody read gets the response instead of a reset.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from wirekit.serializer import socket_writev

from .. import (
    CLOSED,
    READ,
    YIELD,
    Close,
    Config,
    ErrorHandler,
    RequestHandler,
    ServerConnection,
    Write,
)

__all__ = ["LINGER", "Server", "caller", "serve"]

logger = logging.getLogger("wirekit.error")

LINGER = 2.0
"""Seconds a closed connection keeps reading (and discarding) what the client still sends."""

RECV_SIZE = 65536
_IN = select.POLLIN | select.POLLHUP | select.POLLERR
_OUT = select.POLLOUT
_GONE = select.POLLHUP | select.POLLERR
_local = threading.local()


def _pipe() -> tuple[int, int]:
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    return r, w


def _poke(fd: int) -> None:
    with contextlib.suppress(BlockingIOError, OSError):  # full: a wakeup is pending anyway
        os.write(fd, b"x")


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError, OSError):
        while os.read(fd, 512):
            pass


class _Connection:
    """One accepted socket and its connection, served by one thread (`run`)."""

    def __init__(self, server: Server, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = ServerConnection(server.handler, server.error_handler, server.config)
        self.writev = socket_writev(sock)  # one sendmsg, IOV_MAX iovecs at most
        self.eof = False  # the client sent EOF
        self.calls: deque[Callable[[], None]] = deque()  # from other threads (`caller`)
        self.wake_r, self.wake_w = _pipe()
        self.woken = False
        self.events = 0  # the socket's events registered with the poll (`_serve`)
        self.thread = threading.Thread(target=self.run, name="wirekit-conn", daemon=True)

    # -- other threads ---------------------------------------------------------------
    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on this connection's thread (thread-safe)."""
        self.calls.append(fn)
        _poke(self.wake_w)

    def _wake(self) -> None:
        # The connection's yield callback: usually called on our own thread from inside
        # one of its methods (the loop looks again); from another thread, poke the poll.
        self.woken = True
        if threading.current_thread() is not self.thread:
            _poke(self.wake_w)

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> None:
        _local.connection = self
        try:
            if self._serve():
                self._linger()
        except Exception:
            logger.exception("connection thread failed")
        finally:
            self.sock.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            self.server._forget(self)

    def _serve(self) -> bool:
        """Pump both directions until the writer says `Close`; whether to linger."""
        conn, sock = self.conn, self.sock
        poller = select.poll()
        poller.register(self.wake_r, select.POLLIN)
        poller.register(sock, 0)
        self.events = 0
        read_closed = False
        while True:
            self.woken = progress = want_read = want_write = False
            calls = self.calls
            while calls:
                calls.popleft()()
                progress = True
            op = conn.next_write_operation()
            if type(op) is Write:
                n = self.writev(op.iovecs)
                if n is CLOSED or n:
                    conn.report_write_result(n)
                    progress = True
                else:
                    want_write = True  # the socket is full: wait until it drains
            elif type(op) is Close:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                return not self.eof
            else:  # Yield (or Upgrade, which this runtime does not hand over)
                conn.yield_writer(self._wake)
            if not read_closed:
                rop = conn.next_read_operation()
                if rop is READ:
                    want_read = not self.eof  # (after EOF it soon says Close)
                elif rop is YIELD:
                    conn.yield_reader(self._wake)
                else:  # Close (or Upgrade)
                    read_closed = True
            if progress or self.woken:
                continue
            if self._wait(poller, want_read, want_write):
                return False  # reset by the peer

    def _wait(self, poller: select.poll, want_read: bool, want_write: bool) -> bool:
        """Wait for the socket as wanted, a wakeup or the connection's next deadline, and
        take what came (a deadline passed is acted on without a wait); whether the peer
        reset the connection. (Only before a blocking poll: a call here costs nothing
        next to it.)"""
        conn = self.conn
        now = time.monotonic()  # (asked before every wait: only a wait outlasts it)
        deadline = conn.deadline(now)
        if deadline is not None and now >= deadline.at:
            conn.timeout(now)
            return False
        wanted = (_IN if want_read else 0) | (_OUT if want_write else 0)
        if wanted != self.events:
            poller.modify(self.sock, wanted)
            self.events = wanted
        wait = None if deadline is None else max(0, int((deadline.at - now) * 1000) + 1)
        for fd, ready in poller.poll(wait):
            if fd == self.wake_r:
                _drain(fd)
            elif ready & _IN and (want_read or ready & _GONE) and self._recv_now() is None:
                # (poll reports a reset even when not asked: without this recv, a
                # connection whose handler is still working would spin)
                return True
        return False

    def _recv_now(self) -> bool | None:
        """Pass what the socket has to the connection (the reader said `READ`): whether
        there was anything (bytes or EOF); None if the peer reset the connection."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            conn = self.conn
            conn.report_write_result(CLOSED)  # pending output is dropped: flushes fire
            conn.report_exn(exc)
            return None
        if data:
            self.conn.read(data)  # it takes every byte, keeping what it cannot use yet
        else:
            self.eof = True
            self.conn.read_eof()
        return True

    def _linger(self) -> None:
        """Read and discard until the client closes too, or `LINGER` seconds."""
        end = time.monotonic() + LINGER
        poller = select.poll()
        poller.register(self.sock, _IN)
        while (left := end - time.monotonic()) > 0:
            if not poller.poll(int(left * 1000) + 1):
                return
            try:
                if not self.sock.recv(RECV_SIZE):
                    return
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return

    def stop(self, now: bool) -> None:
        """Graceful: serve what was received, then close; ``now``: close at once."""
        conn = self.conn
        self.call_soon(conn.shutdown if now else conn.close_when_idle)


def caller() -> Callable[[Callable[[], None]], None]:
    """From inside a request handler: a thread-safe function that runs a callable on the
    handler's connection thread. A handler that answers from another thread hands its
    calls on the `Reqd` (and its `BodyWriter`) to it, since a connection is only ever
    used by its own thread.

    Raises:
        RuntimeError: not called on a connection thread of this runtime.
    """
    connection: _Connection | None = getattr(_local, "connection", None)
    if connection is None:
        raise RuntimeError("wirekit.http.sync.caller() is only available in a request handler")
    return connection.call_soon


class Server:
    """A listening server, one thread per connection.

    Args:
        handler: the native request handler, called with a `Reqd` on the connection's
            thread (see `caller` to answer from another thread).
        host, port: where to listen (port 0: any free port; see `address`).
        config: limits, buffer sizes and timeouts of each connection.
        error_handler: how requests that cannot be served are answered.
        timeout_graceful: on `stop`, how long in-flight responses may take.

    Use ``with Server(handler) as server:`` (starts, and stops gracefully on exit), or
    `start` / `stop`.
    """

    def __init__(
        self,
        handler: RequestHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        config: Config | None = None,
        error_handler: ErrorHandler | None = None,
        timeout_graceful: float = 10.0,
        backlog: int = 1024,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.config = config
        self.error_handler = error_handler
        self.timeout_graceful = timeout_graceful
        self.backlog = backlog
        self.address: tuple[str, int] | None = None
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._wake_r, self._wake_w = _pipe()
        self._stopping = False
        self._stopped = threading.Event()

    def start(self) -> tuple[str, int]:
        """Listen and start accepting; returns the bound (host, port)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(self.backlog)
        listener.setblocking(False)
        self._listener = listener
        name = listener.getsockname()
        self.address = (str(name[0]), int(name[1]))
        self._accepting = threading.Thread(target=self._accept, name="wirekit-accept", daemon=True)
        self._accepting.start()
        return self.address

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        poller = select.poll()
        poller.register(listener, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping:
            for fd, _ in poller.poll():
                if fd != listener.fileno():
                    continue
                try:
                    sock, _addr = listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    if self._stopping:
                        return
                    logger.exception("accept failed")
                    time.sleep(0.1)  # out of file descriptors: do not spin
                    continue
                connection = _Connection(self, sock)
                with self._lock:
                    if self._stopping:
                        sock.close()
                        return
                    self._connections.add(connection)
                connection.thread.start()

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    @property
    def connections(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._connections)

    def stop(self) -> None:
        """Graceful shutdown: stop accepting, close idle connections, let in-flight
        responses finish within ``timeout_graceful``, then close what is left."""
        with self._lock:
            if self._stopping:
                stopped = True
            else:
                stopped = False
                self._stopping = True
                connections = list(self._connections)
        if stopped:
            self._stopped.wait()
            return
        _poke(self._wake_w)
        if self._accepting is not None:
            self._accepting.join()
        if self._listener is not None:
            self._listener.close()
        for connection in connections:
            connection.stop(now=False)
        end = time.monotonic() + self.timeout_graceful
        for connection in connections:
            connection.thread.join(max(0.0, end - time.monotonic()))
        for connection in connections:
            if connection.thread.is_alive():
                connection.stop(now=True)
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
        for connection in connections:
            connection.thread.join(LINGER + 1)
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._stopped.set()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    handler: RequestHandler,
    host: str = "127.0.0.1",
    port: int = 8080,
    config: Config | None = None,
    error_handler: ErrorHandler | None = None,
    timeout_graceful: float = 10.0,
    announce: Callable[[str], None] | None = print,
) -> None:
    """Serve ``handler`` until SIGINT or SIGTERM, then shut down gracefully.

    Must run on the main thread (signals). ``announce`` gets the line saying where the
    server listens (``None``: say nothing).
    """
    server = Server(handler, host, port, config, error_handler, timeout_graceful)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        host, port = server.start()
        if announce is not None:
            announce(f"wirekit (sync) listening on http://{host}:{port}")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler_ in previous.items():
            signal.signal(sig, handler_)
