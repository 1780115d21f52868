"""ASGI 3 on top of `Reqd`: an app is a handler like any other.

Each request runs the app in a task with an ``http`` scope (every field of the spec),
``receive`` streaming the body as ``http.request`` events (then ``http.disconnect``), and
``send`` mapping ``http.response.start``/``body`` onto ``respond_with_bytes`` (one
complete body: Content-Length) or ``respond_with_streaming`` (more_body: chunked, with
backpressure: ``send`` waits until the bytes were handed to the transport).
Errors follow the spec: an app that raises before starting a response gets a 500; after,
the response is aborted and the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from wirekit.serializer import SerializerClosedError

from .. import BodyWriter, FlushReason, LocalProtocolError, Reqd, RequestHandler, Response
from .._compiled import python_class
from .._messages import Method, Version
from ._headers import DefaultHeaders

if TYPE_CHECKING:
    from ._protocol import HttpProtocol

__all__ = ["ASGIApp", "AppTasks", "ClientDisconnected", "Lifespan", "asgi_handler"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("wirekit.error")
_ASGI = {"version": "3.0", "spec_version": "2.4"}
_HTTP_1_0 = Version.HTTP_1_0
# ASGI's method names, decoded once.
_METHOD_NAMES: dict[Method | bytes, str] = {m: m.value.decode("ascii") for m in Method}

# Unsent output (bytes) up to which a streaming `send` returns without waiting for the
# bytes to be written (asyncio's default high-water mark for a transport's buffer).
SEND_HIGH_WATER = 64 * 1024


@python_class
class ClientDisconnected(OSError):
    """Raised by ``send`` once the client is gone (ASGI spec 2.4: an `OSError`)."""


class _Cycle:
    """One request/response exchange with the app."""

    __slots__ = (
        "body_done", "cancelled", "closed", "defaults", "disconnected", "finished", "has_length", "headers", "loop",
        "pending", "receiving", "reqd", "started", "status", "writer",
    )

    def __init__(
        self,
        reqd: Reqd,
        loop: asyncio.AbstractEventLoop,
        disconnected: asyncio.Future[None],
        defaults: DefaultHeaders | None = None,
    ) -> None:
        self.reqd = reqd
        self.defaults = defaults
        self.has_length = True  # whether the app's headers carry a Content-Length
        self.loop = loop
        self.disconnected = disconnected
        self.body_done = False
        self.started = False
        self.finished = False
        self.status = 200
        self.headers: list[tuple[bytes, bytes]] = []
        self.writer: BodyWriter | None = None
        self.closed = False
        self.pending: asyncio.Future[Message] | None = None  # a scheduled body read
        self.cancelled = False  # the server cancelled the app (client gone, or shutdown)
        self.receiving = False  # the app waits in receive()

    async def receive(self) -> Message:
        self.receiving = True
        try:
            pending = self.pending
            if pending is None:
                if self.body_done or self.finished:
                    await asyncio.shield(self.disconnected) if not self.finished else None
                    return {"type": "http.disconnect"}
                pending = self.pending = self._schedule()
            # A cancelled receive() (``wait_for``, Starlette's ``is_disconnected``) leaves
            # the read scheduled and its message in `pending`: the next receive() gets
            # it, so cancelling receive() loses nothing.
            message = await asyncio.shield(pending)
            self.pending = None
            return message
        finally:
            self.receiving = False

    def _schedule(self) -> asyncio.Future[Message]:
        """Schedule one read of the body; its message arrives in the future."""
        body = self.reqd.request_body
        fut: asyncio.Future[Message] = self.loop.create_future()

        def on_read(data: bytes) -> None:
            more = not (body.is_complete and body.buffered == 0)
            if not more:
                self.body_done = True
            if not fut.done():
                fut.set_result({"type": "http.request", "body": data, "more_body": more})

        def on_eof() -> None:
            self.body_done = True
            if not fut.done():
                fut.set_result({"type": "http.request", "body": b"", "more_body": False})

        def on_error(_: Exception) -> None:
            self.body_done = True
            if not fut.done():
                fut.set_result({"type": "http.disconnect"})

        try:
            body.schedule_read(on_read, on_eof, on_error)
        except RuntimeError:  # the reader was closed (the response already finished)
            self.body_done = True
            if not fut.done():
                fut.set_result({"type": "http.disconnect"})
        return fut

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start" and not self.started:
            self.started = True
            self.status = int(message["status"])
            # Copied as they are now; `Response` checks and normalises them (bytes, or str
            # as ISO-8859-1), and a list the connection has seen before costs one lookup.
            self.headers = list(message.get("headers", ()))
            if self.defaults is not None:  # Date, Server, --header: the app's own win
                self.has_length = self.defaults.add_to(self.headers)
            return
        if kind != "http.response.body" or not self.started or self.finished:
            _refuse(kind, self.started)  # raises, but for trailers (ignored)
            return
        data = message.get("body", b"")
        more = bool(message.get("more_body", False))
        try:
            if self.writer is None and not more:  # the whole body in one message
                if not self.has_length and self.status not in (204, 304):
                    # What the connection would add, said here so the access log knows it.
                    self.headers.append((b"content-length", b"%d" % len(data)))
                self.reqd.respond_with_bytes(Response(self.status, self.headers), data)
                self._finish()  # only now: a response that failed to start gets a 500
                return
            flushed = self._stream(data, more)
        except (LocalProtocolError, SerializerClosedError):
            if self.disconnected.done():  # the connection is gone (ASGI: an OSError)
                raise ClientDisconnected("the client disconnected") from None
            raise
        # The exception is raised here, not stored in the future: a future holding it
        # would make a reference cycle with this frame, and the app's frames (a streaming
        # response's generator) would live until the garbage collector runs.
        if flushed is not None and await flushed is FlushReason.DRAIN:  # the peer went away
            raise ClientDisconnected("the client disconnected")

    def _stream(self, data: bytes, more: bool) -> asyncio.Future[FlushReason] | None:
        """A piece of a streamed body, written; the future of its flush when ``send``
        must wait for it (backpressure: more than `SEND_HIGH_WATER` bytes unsent), else
        None (room left, or the last piece)."""
        writer = self.writer
        if writer is None:
            writer = self.writer = self.reqd.respond_with_streaming(Response(self.status, self.headers))
        if data:
            writer.write(data)
        if not more:
            self._finish()
            writer.close()
            return None
        if writer.pending <= SEND_HIGH_WATER:
            # Room left: send returns at once (the bytes leave with the next write), as
            # on a transport below its high-water mark. The app's own awaits are then
            # its only suspension points, so a cancellation lands in its code, where its
            # `finally` runs in the task, not in send, which would leave a streaming
            # generator suspended at its `yield` for the garbage collector to close.
            writer.flush()
            return None
        # Backpressure: continue once these bytes were handed to the transport.
        flushed: asyncio.Future[FlushReason] = self.loop.create_future()

        def on_flushed(reason: FlushReason) -> None:
            if not flushed.done():
                flushed.set_result(reason)

        writer.flush(on_flushed)
        return flushed

    def _finish(self) -> None:
        self.finished = True
        pending = self.pending
        if pending is not None and not pending.done():
            # The body is discarded now: a receive() waiting for it gets the disconnect.
            pending.set_result({"type": "http.disconnect"})

    def fail(self, exc: BaseException) -> None:
        """The app raised (or returned without finishing)."""
        err = exc if isinstance(exc, Exception) else RuntimeError(str(exc))
        if not self.finished:
            self._finish()
            if isinstance(exc, ClientDisconnected):
                return  # nobody to answer
            with contextlib.suppress(LocalProtocolError):  # closed meanwhile: nobody to answer
                self.reqd.report_exn(err)


def _scope(
    reqd: Reqd,
    client: tuple[str, int] | None,
    server: tuple[str, int] | None,
    root_path: str,
    state: dict[str, Any] | None,
    scheme: str = "http",
) -> Scope:
    request = reqd.request
    assert request is not None
    target = request.target
    # An absolute-form target arrives here in origin-form, its authority apart (the core).
    raw_path, _, query = target.partition(b"?")
    headers = request.headers.lowered()
    authority = request.authority
    if authority is not None:
        # RFC 9112 §3.2.2: the target's authority stands for the Host header, so the
        # app sees it as Host (in the place of the received one, or added on HTTP/1.0).
        # (The core allows at most one Host.)
        headers = [(n, authority if n == b"host" else v) for n, v in headers]
        if request.headers.get(b"host") is None:
            headers.append((b"host", authority))
    method = request.method
    name = _METHOD_NAMES.get(method)
    if name is None:
        name = (method.value if isinstance(method, Method) else method).decode("ascii")
    path = raw_path.decode("latin-1")
    if root_path:
        # ASGI: ``path`` includes ``root_path`` (routers strip it). Behind a proxy that
        # strips the prefix, the prefix is put back (as uvicorn does).
        path = root_path + path
        raw_path = root_path.encode("utf-8") + raw_path
    scope: Scope = {
        "type": "http",
        "asgi": _ASGI,
        "http_version": "1.0" if request.version is _HTTP_1_0 else "1.1",
        "method": name,
        "scheme": scheme,
        "path": unquote(path, encoding="utf-8", errors="surrogateescape") if "%" in path else path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": root_path,
        "headers": headers,
        "client": client,
        "server": server,
        "extensions": {},
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


class AppTasks:
    """The app tasks of one server (each request runs the app in a task): the server
    waits for them when it stops, and cancels those left after the grace period."""

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[None], _Cycle] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def _add(self, task: asyncio.Task[None], cycle: _Cycle) -> None:
        self._tasks[task] = cycle
        task.add_done_callback(self._discard)

    def _discard(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    async def cancel_all(self, timeout: float) -> bool:
        """Cancel every app task still running and wait up to ``timeout`` seconds for
        them to end; whether they all did."""
        tasks = list(self._tasks)
        for task in tasks:
            _cancel(task, self._tasks[task])
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        return not pending


def _cancel(task: asyncio.Task[None], cycle: _Cycle) -> None:
    # Once: a second cancel would interrupt the app's cleanup (an await in a `finally`).
    if not task.done() and not cycle.cancelled:
        cycle.cancelled = True
        task.cancel()


def asgi_handler(
    app: ASGIApp,
    client: tuple[str, int] | None,
    server: tuple[str, int] | None,
    disconnected: asyncio.Future[None],
    root_path: str = "",
    state: dict[str, Any] | None = None,
    lost: asyncio.Future[None] | None = None,
    tasks: AppTasks | None = None,
    scheme: str = "http",
    defaults: DefaultHeaders | None = None,
    upgrades: HttpProtocol | None = None,
) -> RequestHandler:
    """A request handler (for one connection) that runs ``app`` for each request.

    ``lost`` resolves when the connection is gone (reset, or closed): an app task in the
    middle of its response (started, not complete) is then cancelled, as nobody can
    receive the rest (a streaming response's generator is not left waiting for the
    garbage collector), unless it waits in ``receive()``, which gives it
    ``http.disconnect``. Before its response starts, an app learns of the loss from
    ``receive()`` and ``send()``. ``tasks`` collects the app tasks of a whole server.
    ``scheme`` is the scope's (``https`` over TLS); ``defaults`` are the fields added to
    every response the app does not set itself (Date, Server).
    ``upgrades``: the connection's protocol, which can hand its transport over to a
    WebSocket (without it, WebSocket upgrades are answered 501).
    """
    loop = asyncio.get_running_loop()
    running: dict[asyncio.Task[None], _Cycle] = {}  # tasks need a reference until they finish
    websockets: set[asyncio.Task[None]] = set()  # the same for WebSocket sessions

    def handle(reqd: Reqd) -> None:
        request = reqd.request
        assert request is not None
        upgrade = request.headers.get(b"upgrade") if reqd.is_upgrade else None
        if upgrade is not None and upgrade.lower() == b"websocket" and upgrades is not None:
            from ._asgi_ws import serve_websocket

            serve_websocket(app, reqd, _scope(reqd, client, server, root_path, state, scheme), upgrades, websockets)
            return
        if upgrade is not None and upgrade.lower() == b"websocket":
            reqd.respond_with_bytes(
                Response(501, [(b"content-type", b"text/plain; charset=utf-8")]),
                b"WebSocket is not supported by this server\n",
            )
            return
        cycle = _Cycle(reqd, loop, disconnected, defaults)
        scope = _scope(reqd, client, server, root_path, state, scheme)
        task = loop.create_task(_run(app, scope, cycle))
        running[task] = cycle
        task.add_done_callback(lambda t: running.pop(t, None))
        if tasks is not None:
            tasks._add(task, cycle)

    def on_lost(_: asyncio.Future[None]) -> None:
        # A complete response's task goes on (a background task after the response).
        for task, cycle in list(running.items()):
            if cycle.started and not cycle.finished and not cycle.receiving:
                _cancel(task, cycle)

    if lost is not None:
        lost.add_done_callback(on_lost)
    return handle


def _client_left(exc: BaseException, cycle: _Cycle) -> bool:
    """Whether ``exc`` comes from the client leaving: `ClientDisconnected` (from ``send``)
    or an exception raised while handling it (Starlette's ``ClientDisconnect``, from its
    ``except OSError``), or, once the client is gone, a framework's ``ClientDisconnect``."""
    gone = cycle.disconnected.done()
    for e in _chain(exc):
        if isinstance(e, ClientDisconnected):
            return True
        if gone and any(c.__name__ == "ClientDisconnect" for c in type(e).__mro__):
            return True
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and all(e is not c for c in chain):
        chain.append(e)
        e = e.__cause__ or e.__context__
    return chain


async def _run(app: ASGIApp, scope: Scope, cycle: _Cycle) -> None:
    try:
        await app(scope, cycle.receive, cycle.send)
    except BaseException as exc:
        if cycle.cancelled or _client_left(exc, cycle):
            # The client left, or the server cancelled the app (the connection was lost,
            # or shutdown): an expected end, nothing to log (uvicorn logs nothing either).
            logger.debug("ASGI app ended after the client left: %s", type(exc).__name__)
            # A fresh exception: the request keeps the one it is given, and the traceback
            # of this one would keep the app's frames (a streaming response's generator)
            # alive in a reference cycle, until the garbage collector runs.
            ours = any(isinstance(e, ClientDisconnected) for e in _chain(exc))
            cycle.fail(ClientDisconnected("the client disconnected") if ours else RuntimeError("the client left"))
            if isinstance(exc, asyncio.CancelledError) and not cycle.cancelled:
                raise  # a cancellation from elsewhere
            return
        logger.exception("ASGI app failed")
        cycle.fail(exc)
        if not isinstance(exc, Exception):
            raise
        return
    if not cycle.finished:
        if not cycle.disconnected.done():  # an app may stop when the client has left
            logger.error("ASGI app returned without completing its response")
        cycle.fail(RuntimeError("the app returned without completing the response"))


class Lifespan:
    """Runs the ``lifespan`` protocol: startup before serving, shutdown after."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True
        self.error: BaseException | None = None  # what the app raised for the lifespan scope

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except BaseException as e:
            self.supported = False
            self.error = e
            logger.info("the app does not support lifespan events; continuing without them")
            await self._from_app.put({"type": "lifespan.unsupported"})
        else:
            # An app that returns without answering (``if scope["type"] != "http":
            # return``) does not do lifespan: never leave startup waiting for it.
            await self._from_app.put({"type": "lifespan.unsupported"})

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the answer.

        Raises:
            RuntimeError: the app reported ``lifespan.startup.failed``.
        """
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await self._from_app.get()
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {reply.get('message', '')}")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the answer (if supported)."""
        if not self.supported or self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._from_app.get(), timeout=10)
        except TimeoutError:
            logger.warning("lifespan shutdown timed out")


def _refuse(kind: str, started: bool) -> None:
    """A message `send` cannot take now (raises), or trailers (not sent: ignored)."""
    if kind == "http.response.start":
        raise RuntimeError("ASGI: http.response.start sent twice")
    if kind == "http.response.trailers":
        return  # trailers are not sent (the app must have asked for them; ignore)
    if kind != "http.response.body":
        raise RuntimeError(f"ASGI: unexpected message type {kind!r}")
    if not started:
        raise RuntimeError("ASGI: http.response.body before http.response.start")
    raise RuntimeError("ASGI: the response is already complete")
