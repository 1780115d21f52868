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
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Callable
from typing import Any, cast

from .. import Config, RequestHandler, ResponseHooks
from .._compiled import python_class
from ._asgi import AppTasks, ASGIApp, Lifespan, asgi_handler
from ._config import ServeConfig
from ._demo import demo_handler
from ._headers import DefaultHeaders, ServerHooks
from ._loading import App, AppError, is_asgi, load_app, load_env_file
from ._logs import BODY_SIZES, LogConfigError, configure_logging
from ._protocol import HttpProtocol, ServerState
from ._proxy import ProxyHeaders
from ._tls import TLSConfigError, ssl_context

__all__ = ["App", "AppError", "Server", "StartupError", "is_asgi", "load_app", "run", "serve"]

logger = logging.getLogger("wirekit.error")
STARTUP_FAILED = b"startup failed"  # a worker's message to the supervisor


@python_class  # a RuntimeError (see _compiled)
class StartupError(RuntimeError):
    """The app's lifespan startup failed, or did not finish in time (exit code 3)."""


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
        config = self.config
        # Raises TLSConfigError (a ValueError) for unusable TLS options.
        self.ssl = ssl_context(config)
        self.scheme = "https" if self.ssl is not None else "http"
        defaults = DefaultHeaders(config.date_header, config.server_header, config.headers)
        # The native handlers' hooks also tell the access log each whole body's size.
        self.defaults = defaults if defaults or config.access_log else None
        self.url = ""
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
        app = self.app if self.app is not None else demo_handler
        defaults = self.defaults
        if is_asgi(app):
            asgi_app: ASGIApp = app  # type: ignore[assignment]
            config = self.config
            if config.proxy_headers:
                asgi_app = ProxyHeaders(asgi_app, config.forwarded_allow_ips)
            root, scheme = config.root_path.rstrip("/"), self.scheme

            def make(protocol: HttpProtocol) -> RequestHandler:
                state = self._lifespan.state if self._lifespan is not None else None
                return asgi_handler(
                    asgi_app, protocol.client, protocol.server, protocol.disconnected, root, state,
                    protocol.lost, self._tasks, scheme, defaults, upgrades=protocol,
                )

            return make
        native: RequestHandler = app  # type: ignore[assignment]
        return lambda _protocol: native

    def _hooks(self) -> ResponseHooks | None:
        """The connections' `ResponseHooks`: for native handlers only (an ASGI app's
        responses get the default fields in `asgi_handler`, and its access log sizes from
        the body writer)."""
        app = self.app if self.app is not None else demo_handler
        if self.defaults is None or is_asgi(app):
            return None
        return ServerHooks(self.defaults, BODY_SIZES if self.config.access_log else None)

    async def _startup(self) -> None:
        """The ASGI lifespan startup, as ``--lifespan`` says, bounded by ``timeout_lifespan``.

        Raises:
            StartupError: the app reported a failure, raised (with ``--lifespan on``), or
                took too long; the message is one line.
        """
        config = self.config
        if self.app is None or not is_asgi(self.app) or config.lifespan == "off":
            return
        lifespan = self._lifespan = Lifespan(self.app)  # type: ignore[arg-type]
        task = asyncio.ensure_future(lifespan.startup())
        waited, step = 0.0, 5.0
        while True:
            done, _ = await asyncio.wait({task}, timeout=min(step, config.timeout_lifespan - waited))
            if done:
                break
            waited += step
            if waited >= config.timeout_lifespan:
                task.cancel()
                raise StartupError(f"the app's lifespan startup did not finish within {config.timeout_lifespan:g} s")
            # A slow startup is visible: the server is not listening yet.
            logger.warning("waiting for the app's lifespan startup (%.0f s so far)", waited)
        try:
            task.result()
        except RuntimeError as e:
            detail = [line for line in str(e).splitlines() if line.strip()]
            raise StartupError(detail[-1] if detail else "lifespan startup failed") from None
        if config.lifespan == "on" and not lifespan.supported:
            error = lifespan.error
            why = f"{type(error).__name__}: {error}" if error is not None else "the app returned"
            raise StartupError(f"--lifespan on, but the app's lifespan failed ({why})")

    async def start(self) -> tuple[str, int]:
        """Run lifespan startup (ASGI), then listen; returns the bound (host, port), or
        (path, 0) on a unix socket.

        Raises:
            StartupError: see `_startup`.
            OSError: the address cannot be listened on.
        """
        loop = asyncio.get_running_loop()
        await self._startup()
        make = self._make_handler()
        hooks = self._hooks()
        state = self.state
        state.on_max_requests = self._retire

        def factory() -> HttpProtocol:
            return HttpProtocol(make, state, self.http_config, hooks=hooks)

        config = self.config
        tls = self.ssl
        sock = self.sock
        if sock is None and config.fd is not None:
            sock = self.sock = socket.socket(fileno=config.fd)
        try:
            if sock is not None and sock.family == socket.AF_UNIX:
                self._server = await loop.create_unix_server(factory, sock=sock, backlog=config.backlog, ssl=tls)
            elif sock is not None:
                self._server = await loop.create_server(factory, sock=sock, backlog=config.backlog, ssl=tls)
            elif config.uds is not None:
                self._server = await loop.create_unix_server(factory, config.uds, backlog=config.backlog, ssl=tls)
                os.chmod(config.uds, 0o666)  # a proxy running as another user connects
            else:
                self._server = await loop.create_server(
                    factory, config.host, config.port, backlog=config.backlog, reuse_address=True, ssl=tls
                )
        except BaseException:
            # Started, then could not listen (the port is taken): the app's startup
            # acquired resources that its shutdown releases.
            if self._lifespan is not None:
                await self._lifespan.shutdown()
            raise
        # (Any: uvloop's `sockets` is a list, not the tuple of asyncio's stubs.)
        sockname = cast(Any, self._server).sockets[0].getsockname()
        if isinstance(sockname, tuple):
            self.address = (str(sockname[0]), int(sockname[1]))
            self.url = _url(self.address, self.scheme)
        else:
            path = sockname.decode() if isinstance(sockname, bytes) else str(sockname)
            self.address = (path, 0)
            self.url = f"unix:{path}"
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
        if self.config.uds is not None and self.sock is None:
            with contextlib.suppress(OSError):
                os.unlink(self.config.uds)
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Wait until `stop` finished."""
        await self._stopped.wait()


def _url(address: tuple[str, int], scheme: str = "http") -> str:
    host, port = address
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


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
    (announce or _print)(f"wirekit listening on {server.url or _url(address)}")
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


def _listening_socket(config: ServeConfig) -> socket.socket:
    """The supervisor's listening socket: every worker accepts from it (inherited at fork).
    One accept queue for all: a worker that stops accepting leaves the connections waiting
    in it to the others (with a socket per worker, the kernel would reset them)."""
    if config.fd is not None:
        sock = socket.socket(fileno=config.fd)
    elif config.uds is not None:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.stat(config.uds).st_mode):
                os.unlink(config.uds)  # left by a server that did not stop cleanly
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(config.uds)
        os.chmod(config.uds, 0o666)
    else:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
    sock.listen(config.backlog)
    sock.setblocking(False)
    return sock


def _load(spec: str | None, config: ServeConfig) -> App | None:
    """The app (None: the demo), found as the config says.

    Raises:
        AppError: see `load_app`.
    """
    if not spec:
        return None
    return load_app(spec, config.factory, config.interface, config.app_dir)


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
    reaches ``limit_max_requests`` it sends its pid on ``retiring``. Exits with code 3
    when the app's startup fails."""
    # Forked from the supervisor: drop its SIGTERM handler, so a SIGTERM that comes before
    # `serve` handles it ends this (idle) worker instead of being ignored.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor sends SIGTERM
    _install_loop(config.loop)
    app = _load(spec, config)

    def on_retire() -> None:
        if retiring is not None:
            with contextlib.suppress(OSError):
                retiring.send_bytes(str(os.getpid()).encode())

    def announce(_line: str) -> None:
        if ready is not None:
            ready.set()  # started and serving: the supervisor may announce

    try:
        asyncio.run(serve(app, config, http_config, sock=sock, announce=announce, on_retire=on_retire))
    except StartupError as e:
        # The supervisor says it, once, and stops: another worker would fail too.
        if retiring is not None:
            with contextlib.suppress(OSError):
                retiring.send_bytes(STARTUP_FAILED + str(e).encode())
        os._exit(3)


def run(spec: str | None, config: ServeConfig, http_config: Config | None = None) -> int:
    """Run the server(s) for the CLI (``http_config``: each connection's limits); returns
    the exit code.

    Raises:
        AppError: the app cannot be loaded, ``--env-file``, ``--log-config`` or a TLS
            option is unusable (one-line message).
        StartupError: the app's lifespan startup failed (one worker).
        OSError: the address cannot be listened on.
    """
    if config.env_file is not None:
        load_env_file(config.env_file)
    try:
        # Only wirekit's loggers, before the app is imported: the app's own
        # logging.basicConfig still takes effect.
        configure_logging(config.log_level, config.log_config, config.access_log)
        ssl_context(config)  # a TLS option that cannot work fails now, in one line
    except (LogConfigError, TLSConfigError) as e:
        raise AppError(str(e)) from None
    if config.workers == 1:
        _install_loop(config.loop)
        app = _load(spec, config)
        asyncio.run(serve(app, config, http_config))
        return 0
    _load(spec, config)  # fail fast, with a clear message, before forking
    return _Supervisor(spec, config, http_config).run()


class _Supervisor:
    """The parent of ``config.workers`` worker processes accepting from one listening
    socket: it starts them, replaces one that retires (``--limit-max-requests``) or
    exits, and stops them all on SIGINT or SIGTERM (or a worker's failed startup)."""

    def __init__(self, spec: str | None, config: ServeConfig, http_config: Config | None) -> None:
        self.spec, self.config, self.http_config = spec, config, http_config
        self.listener = _listening_socket(config)
        self.ctx = multiprocessing.get_context("fork")
        self.procs: dict[int, multiprocessing.process.BaseProcess] = {}
        self.leaving: list[multiprocessing.process.BaseProcess] = []  # retired, finishing requests
        # One pipe for all workers: a retiring worker writes its pid (a short message: atomic).
        self.retired_reader, self.retired_writer = self.ctx.Pipe(duplex=False)
        self.stopping = False
        self.code = 0
        self.retired_early: list[bytes] = []  # retirements that came while the workers started

    def run(self) -> int:
        """Supervise until told to stop; returns the exit code."""
        config = self.config
        address = self.listener.getsockname()
        where = f"unix:{config.uds}" if config.uds else _url((config.host, address[1]), "https" if config.is_ssl else "http")
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        readies = [self._start(i) for i in range(config.workers)]
        self._wait_started(readies)
        if not self.stopping:
            _print(f"wirekit listening on {where} ({config.workers} workers)")
        while not self.stopping:
            self._watch()
        self._stop_all()
        return self.code

    def _start(self, i: int) -> multiprocessing.synchronize.Event:
        ready = self.ctx.Event()
        args = (self.spec, self.config, self.listener, i, ready, self.http_config, self.retired_writer)
        p = self.ctx.Process(target=_worker, args=args, daemon=True)
        p.start()
        self.procs[i] = p
        return ready

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def _failed(self, message: bytes) -> bool:
        """Whether ``message`` says a worker's startup failed (then everything stops, with
        exit code 3)."""
        if not message.startswith(STARTUP_FAILED):
            return False
        if not self.stopping:
            print(f"wirekit: {message[len(STARTUP_FAILED):].decode(errors='replace')}", file=sys.stderr, flush=True)
        self.stopping, self.code = True, 3
        return True

    def _wait_started(self, readies: list[multiprocessing.synchronize.Event]) -> None:
        """Until every worker finished its startup (or after the lifespan timeout)."""
        deadline = time.monotonic() + self.config.timeout_lifespan + 10
        reader = self.retired_reader
        while not self.stopping and not all(r.is_set() for r in readies) and time.monotonic() < deadline:
            if reader.poll(0.05):
                message = reader.recv_bytes()
                if not self._failed(message):
                    self.retired_early.append(message)

    def _watch(self) -> None:
        """One round: wait for a retirement or an exit, and act on what happened."""
        sentinels = [p.sentinel for p in self.procs.values()]
        with contextlib.suppress(InterruptedError):
            multiprocessing.connection.wait([self.retired_reader, *sentinels], timeout=0.2)
        self._replace_retired()
        for i, p in list(self.procs.items()):
            if not p.is_alive() and not self.stopping:
                logger.warning("worker %d exited (code %s); restarting it", i, p.exitcode)
                self._start(i)
        for p in [p for p in self.leaving if not p.is_alive()]:
            p.join(0)
            self.leaving.remove(p)

    def _replace_retired(self) -> None:
        """Start a replacement for each worker that said it retires (planned: the new one
        starts now, while the old one finishes its requests)."""
        while not self.stopping and (self.retired_early or self.retired_reader.poll()):
            message = self.retired_early.pop() if self.retired_early else self.retired_reader.recv_bytes()
            if self._failed(message):
                break
            pid = int(message)
            for i, p in list(self.procs.items()):
                if p.pid == pid:
                    logger.info("worker %d (pid %d) reached --limit-max-requests; replacing it", i, pid)
                    self.leaving.append(p)
                    self._start(i)

    def _stop_all(self) -> None:
        """SIGTERM to every worker, SIGKILL to those still running after the graceful
        timeout; the listening socket closed."""
        config = self.config
        everyone = [*self.procs.values(), *self.leaving]
        for p in everyone:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + config.timeout_graceful + 2
        for p in everyone:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        self.listener.close()
        if config.uds is not None:
            with contextlib.suppress(OSError):
                os.unlink(config.uds)
