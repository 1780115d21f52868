"""Serving: listen, run connections, stop gracefully; N workers under a supervisor.

``serve`` runs one server in the current event loop until `Server.stop` (or SIGINT /
SIGTERM): it stops accepting, closes idle keep-alive connections, lets in-flight responses
finish within ``timeout_graceful``, then closes what is left, cancels the ASGI app's
request tasks still running and waits for them, and only then runs the lifespan shutdown.
With ``workers > 1``, `run` starts that many processes that accept from one listening
socket (the supervisor's, inherited); the supervisor restarts a worker that dies, starts a
replacement as soon as one retires (``limit_max_requests``), and forwards signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import Config, RequestHandler
from ._asgi import AppTasks, ASGIApp, Lifespan, asgi_handler
from ._config import ServeConfig
from ._demo import demo_handler
from ._protocol import HttpProtocol, ServerState

__all__ = ["AppError", "Server", "load_app", "run", "serve"]

logger = logging.getLogger("wirekit.error")
App = ASGIApp | RequestHandler


class AppError(Exception):
    """An APP string that does not name an app (the message says what failed)."""


def load_app(spec: str) -> App:
    """Import ``module:attribute`` (the attribute may be dotted).

    Raises:
        AppError: with a one-line message naming the module or attribute that failed.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise AppError(f"APP must look like 'module:attribute', got {spec!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise AppError(f"could not import module {module_name!r}: {e}") from None
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AppError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(target):
        raise AppError(f"{spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def is_asgi(app: Any) -> bool:
    """ASGI apps are coroutine functions (or objects with one as ``__call__``)."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the attribute itself is inspected
    return call is not None and inspect.iscoroutinefunction(call)


class Server:
    """One listening server in the running event loop (use `start`, then `stop`)."""

    # After the grace period, how long `stop` waits for the cancelled app tasks to end.
    CANCEL_WAIT = 5.0

    def __init__(
        self,
        app: App | None = None,
        config: ServeConfig | None = None,
        http_config: Config | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self.app = app
        self.config = config or ServeConfig()
        self.http_config = http_config
        self.sock = sock
        self.state = ServerState(self.config)
        self._server: asyncio.base_events.Server | None = None
        self._lifespan: Lifespan | None = None
        self._tasks = AppTasks()  # the ASGI app's request tasks
        self._stopped = asyncio.Event()
        self.address: tuple[str, int] | None = None
        # Called once when the server retires after `limit_max_requests` (a worker tells
        # its supervisor, which starts the replacement at once).
        self.on_retire: Callable[[], None] | None = None
        self._retiring = False
        self._retire_task: asyncio.Task[None] | None = None

    def _make_handler(self) -> Callable[[HttpProtocol], RequestHandler]:
        app = self.app
        if app is None:
            return lambda _protocol: demo_handler
        if is_asgi(app):
            asgi_app: ASGIApp = app  # type: ignore[assignment]
            root = self.config.root_path

            def make(protocol: HttpProtocol) -> RequestHandler:
                state = self._lifespan.state if self._lifespan is not None else None
                return asgi_handler(
                    asgi_app, protocol.client, protocol.server, protocol.disconnected, root, state,
                    protocol.lost, self._tasks, upgrades=protocol,
                )

            return make
        native: RequestHandler = app  # type: ignore[assignment]
        return lambda _protocol: native

    async def start(self) -> tuple[str, int]:
        """Run lifespan startup (ASGI), then listen; returns the bound (host, port)."""
        loop = asyncio.get_running_loop()
        if self.app is not None and is_asgi(self.app):
            self._lifespan = Lifespan(self.app)  # type: ignore[arg-type]
            await self._lifespan.startup()
        make = self._make_handler()
        state = self.state
        state.on_max_requests = self._retire

        def factory() -> HttpProtocol:
            return HttpProtocol(make, state, self.http_config)

        config = self.config
        try:
            if self.sock is not None:
                self._server = await loop.create_server(factory, sock=self.sock, backlog=config.backlog)
            else:
                self._server = await loop.create_server(
                    factory, config.host, config.port, backlog=config.backlog, reuse_address=True
                )
        except BaseException:
            # Started, then could not listen (the port is taken): the app's startup
            # acquired resources that its shutdown releases.
            if self._lifespan is not None:
                await self._lifespan.shutdown()
            raise
        sockname = self._server.sockets[0].getsockname()
        self.address = (str(sockname[0]), int(sockname[1]))
        return self.address

    def _retire(self) -> None:
        """The request limit is reached: stop accepting now, before the last response is
        written (a client that connects once it has that response must not reach a
        worker that is leaving: with a shared listening socket, another worker accepts
        it), tell the supervisor, and stop gracefully (in-flight requests are answered)."""
        if self.state.shutting_down or self._retiring:
            return
        self._retiring = True
        self.state.retiring = True
        if self._server is not None:
            self._server.close()
        if self.on_retire is not None:
            self.on_retire()
        self._retire_task = asyncio.get_running_loop().create_task(self.stop())

    async def stop(self) -> None:
        """Graceful shutdown: stop accepting, finish in-flight responses, close."""
        if self.state.shutting_down:
            await self._stopped.wait()
            return
        self.state.shutting_down = True
        if self._server is not None:
            self._server.close()
        for protocol in list(self.state.connections):
            protocol.shutdown_gracefully()
        deadline = time.monotonic() + self.config.timeout_graceful
        # App tasks may outlive their connection (work after the response): they get the
        # grace period too.
        while (self.state.connections or self._tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for protocol in list(self.state.connections):
            protocol.abort()
        for transport in list(self.state.lingering):
            transport.close()
        # Then the app's tasks end (cancelled, their `finally` blocks run) before the
        # lifespan shutdown releases what they may still use.
        if not await self._tasks.cancel_all(self.CANCEL_WAIT):
            logger.warning("ASGI app tasks still running %.0f s after they were cancelled", self.CANCEL_WAIT)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=1)
        if self._lifespan is not None:
            await self._lifespan.shutdown()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Wait until `stop` finished."""
        await self._stopped.wait()


def _url(address: tuple[str, int]) -> str:
    host, port = address
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(
    app: App | None,
    config: ServeConfig,
    http_config: Config | None = None,
    sock: socket.socket | None = None,
    announce: Callable[[str], None] | None = None,
    on_retire: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or max requests), then shut down gracefully.
    ``on_retire`` is called when the request limit is reached (before the last response)."""
    server = Server(app, config, http_config, sock)
    server.on_retire = on_retire
    address = await server.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    # Announce only once the signals are handled: a SIGTERM sent as soon as the line
    # appears must stop the server gracefully, not kill it.
    (announce or _print)(f"wirekit listening on {_url(address)}")
    stopper = loop.create_task(stop.wait())
    stopped = loop.create_task(server.wait_stopped())
    await asyncio.wait({stopper, stopped}, return_when=asyncio.FIRST_COMPLETED)
    await server.stop()
    stopper.cancel()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)


def _print(line: str) -> None:
    print(line, flush=True)


def _install_loop(kind: str) -> None:
    if kind == "asyncio":
        return
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        if kind == "uvloop":
            raise AppError("--loop uvloop: uvloop is not installed (pip install 'wirekit-http[uvloop]')") from None
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """The supervisor's listening socket: every worker accepts from it (inherited at fork).
    One accept queue for all: a worker that stops accepting leaves the connections waiting
    in it to the others (with a socket per worker, the kernel would reset them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def _worker(
    spec: str | None,
    config: ServeConfig,
    sock: socket.socket,
    number: int,
    ready: multiprocessing.synchronize.Event | None = None,
    http_config: Config | None = None,
    retiring: multiprocessing.connection.Connection | None = None,
) -> None:
    """A worker process: serves the supervisor's listening socket ``sock``; when it
    reaches ``limit_max_requests`` it sends its pid on ``retiring``."""
    # Forked from the supervisor: drop its SIGTERM handler, so a SIGTERM that comes before
    # `serve` handles it ends this (idle) worker instead of being ignored.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.basicConfig(level=logging.INFO if config.access_log else logging.WARNING, stream=sys.stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor sends SIGTERM
    _install_loop(config.loop)
    app = load_app(spec) if spec else None
    if ready is not None:
        ready.set()  # the supervisor may announce (connections already queue on `sock`)

    def on_retire() -> None:
        if retiring is not None:
            with contextlib.suppress(OSError):
                retiring.send_bytes(str(os.getpid()).encode())

    asyncio.run(serve(app, config, http_config, sock=sock, announce=lambda line: None, on_retire=on_retire))


def run(spec: str | None, config: ServeConfig, http_config: Config | None = None) -> int:
    """Run the server(s) for the CLI (``http_config``: each connection's limits); returns
    the exit code."""
    logging.basicConfig(level=logging.INFO if config.access_log else logging.WARNING, stream=sys.stderr)
    if config.workers == 1:
        _install_loop(config.loop)
        app = load_app(spec) if spec else None
        asyncio.run(serve(app, config, http_config))
        return 0
    if spec:
        load_app(spec)  # fail fast, with a clear message, before forking
    listener = _listening_socket(config.host, config.port, config.backlog)
    port = listener.getsockname()[1]
    ctx = multiprocessing.get_context("fork")
    procs: dict[int, multiprocessing.process.BaseProcess] = {}
    leaving: list[multiprocessing.process.BaseProcess] = []  # retired, finishing requests
    # One pipe for all workers: a retiring worker writes its pid (a short message: atomic).
    retired_reader, retired_writer = ctx.Pipe(duplex=False)
    stopping = False

    def start(i: int) -> multiprocessing.synchronize.Event:
        ready = ctx.Event()
        args = (spec, config, listener, i, ready, http_config, retired_writer)
        p = ctx.Process(target=_worker, args=args, daemon=True)
        p.start()
        procs[i] = p
        return ready

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    readies = [start(i) for i in range(config.workers)]
    for ready in readies:  # announce once every worker runs (or after 10 s)
        ready.wait(10)
    _print(f"wirekit listening on {_url((config.host, port))} ({config.workers} workers)")
    while not stopping:
        sentinels = [p.sentinel for p in procs.values()]
        with contextlib.suppress(InterruptedError):
            multiprocessing.connection.wait([retired_reader, *sentinels], timeout=0.2)
        while not stopping and retired_reader.poll():
            pid = int(retired_reader.recv_bytes())
            for i, p in list(procs.items()):
                if p.pid == pid:
                    # Planned: the replacement starts now, while the old one finishes.
                    logger.info("worker %d (pid %d) reached --limit-max-requests; replacing it", i, pid)
                    leaving.append(p)
                    start(i)
        for i, p in list(procs.items()):
            if not p.is_alive() and not stopping:
                logger.warning("worker %d exited (code %s); restarting it", i, p.exitcode)
                start(i)
        for p in [p for p in leaving if not p.is_alive()]:
            p.join(0)
            leaving.remove(p)
    everyone = [*procs.values(), *leaving]
    for p in everyone:
        if p.is_alive() and p.pid is not None:
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + config.timeout_graceful + 2
    for p in everyone:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
    listener.close()
    return 0
