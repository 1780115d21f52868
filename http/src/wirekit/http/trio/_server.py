"""A trio HTTP/1.1 server: one task group per connection (reader, writer, timer; see
`Driver`) over a `ServerConnection`, native handlers, graceful shutdown.

    server = Server(handler, port=8080)
    async with trio.open_nursery() as nursery:
        host, port = await nursery.start(server.run)
        ...
        server.stop()  # stop accepting, finish in-flight responses, close

Handlers run inside the connection's task (called from ``read``); one that needs to await
starts a task with `spawn` and answers from it (the task belongs to the connection and
is cancelled when the connection ends).
"""

from __future__ import annotations

import contextvars
import logging
import signal
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from .. import Config, ErrorHandler, RequestHandler, ServerConnection
from ._driver import Driver, own

__all__ = ["Server", "serve", "spawn"]

logger = logging.getLogger("wirekit.error")

_nursery: contextvars.ContextVar[trio.Nursery] = contextvars.ContextVar("wirekit_trio_nursery")


def spawn(fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """From inside a request handler: start ``fn(*args)`` as a task of the handler's
    connection (use it to answer after awaiting something).

    Raises:
        RuntimeError: not called from a request handler of this runtime.
    """
    try:
        nursery = _nursery.get()
    except LookupError:
        raise RuntimeError("wirekit.http.trio.spawn() is only available in a request handler") from None
    nursery.start_soon(fn, *args)


class Server:
    """A trio server for a native request handler.

    Args:
        handler: called with a `Reqd` for each request, in the connection's task.
        host, port: where to listen (port 0: any free port; `run` reports the address).
        config: limits, buffer sizes and timeouts of each connection.
        error_handler: how requests that cannot be served are answered.
        timeout_graceful: on `stop`, how long in-flight responses may take.
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
        self.connections: set[ServerConnection] = set()
        self._stop = trio.Event()

    async def run(self, *, task_status: trio.TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve until `stop`; reports the bound (host, port) to
        ``nursery.start``. Returns once every connection is closed."""
        listeners = await trio.open_tcp_listeners(self.port, host=self.host, backlog=self.backlog)
        name = listeners[0].socket.getsockname()
        self.address = (str(name[0]), int(name[1]))
        async with trio.open_nursery() as connections:
            async with trio.open_nursery() as accepting:
                accepting.start_soon(partial(trio.serve_listeners, self._serve_stream, listeners, handler_nursery=connections))
                task_status.started(self.address)
                await self._stop.wait()
                accepting.cancel_scope.cancel()
            for conn in list(self.connections):
                conn.close_when_idle()
            # Leaving the block waits for the connections; past the grace period they
            # are cancelled (closed).
            connections.cancel_scope.deadline = trio.current_time() + self.timeout_graceful

    def stop(self) -> None:
        """Graceful shutdown: stop accepting, close idle connections, let in-flight
        responses finish within ``timeout_graceful``, then close what is left."""
        self._stop.set()

    async def _serve_stream(self, stream: trio.SocketStream) -> None:
        sock = own(stream.socket)
        conn = ServerConnection(self.handler, self.error_handler, self.config)
        driver = Driver(conn, sock, conn)
        self.connections.add(conn)
        try:
            async with trio.open_nursery() as nursery:
                _nursery.set(nursery)  # (copied into the tasks started below)
                linger = await driver.run()
                if linger:
                    await driver.linger()
                nursery.cancel_scope.cancel()  # tasks the handlers spawned
        except Exception:
            logger.exception("connection failed")
        finally:
            self.connections.discard(conn)
            sock.close()


async def serve(
    handler: RequestHandler,
    host: str = "127.0.0.1",
    port: int = 8080,
    config: Config | None = None,
    error_handler: ErrorHandler | None = None,
    timeout_graceful: float = 10.0,
    announce: Callable[[str], None] | None = print,
) -> None:
    """Serve ``handler`` until SIGINT or SIGTERM, then shut down gracefully."""
    server = Server(handler, host, port, config, error_handler, timeout_graceful)
    async with trio.open_nursery() as nursery:
        host, port = await nursery.start(server.run)
        if announce is not None:
            announce(f"wirekit (trio) listening on http://{host}:{port}")
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                server.stop()
                break
