"""ASGI ``websocket`` scopes (ASGI spec 2.4) on `WebSocketConnection`.

The handshake is checked before the app runs (400, or 426 with
``Sec-WebSocket-Version: 13``). The app receives ``websocket.connect``; it answers with
``websocket.accept`` (the 101 goes out through `Reqd.respond_with_upgrade`, and the
transport is handed to a `WebSocketProtocol`), ``websocket.close`` (HTTP 403), or its own
HTTP response (the ``websocket.http.response`` extension). After the accept,
``websocket.receive`` carries each message and ``websocket.disconnect`` the close code
(the peer's; 1005 when its close frame had none; 1006 when the connection dropped).
``send`` after the close raises `ClientDisconnected` (an `OSError`). An app that raises
before accepting gets a 500; after, the socket is closed with 1011; an app that returns
without closing closes with 1000, without accepting: 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from typing import TYPE_CHECKING

from .. import FlushReason, LocalProtocolError, Reqd, Response
from ..websocket import (
    ClientHello,
    Closed,
    ConnectionState,
    HandshakeError,
    WebSocketConfig,
    WebSocketConnection,
    accept_headers,
    check_request,
    reject_headers,
    server_deflate,
)
from ._asgi import ASGIApp, ClientDisconnected, Message, Scope
from ._websocket import WebSocketProtocol

if TYPE_CHECKING:
    from ._protocol import HttpProtocol

__all__ = ["serve_websocket"]

logger = logging.getLogger("wirekit.error")


class _Phase(enum.Enum):
    CONNECTING = "connecting"  # the app has not answered the handshake yet
    RESPONDING = "responding"  # the app denies it with its own HTTP response
    ACCEPTED = "accepted"
    CLOSED = "closed"  # the handshake was refused, or the socket is closed


class _WebSocketCycle:
    """One WebSocket session with the app."""

    def __init__(self, reqd: Reqd, protocol: HttpProtocol, hello: ClientHello) -> None:
        self.reqd = reqd
        self.protocol = protocol
        self.hello = hello
        self.loop = asyncio.get_running_loop()
        self.phase = _Phase.CONNECTING
        self.connect_sent = False
        self.conn: WebSocketConnection | None = None
        self.driver: WebSocketProtocol | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.disconnected: Message | None = None  # the websocket.disconnect given to the app
        self.response_status = 200
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.response_body: list[bytes] = []

    # -- receive -----------------------------------------------------------------------
    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = self.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def receive(self) -> Message:
        if not self.connect_sent:
            self.connect_sent = True
            return {"type": "websocket.connect"}
        while True:
            if self.phase is _Phase.ACCEPTED or (self.phase is _Phase.CLOSED and self.conn is not None):
                assert self.conn is not None
                event = self.conn.next_event()
                if event is not None:
                    if isinstance(event, Closed):
                        self.phase = _Phase.CLOSED
                        self.disconnected = {"type": "websocket.disconnect", "code": event.code, "reason": event.reason}
                        return dict(self.disconnected)
                    data = event.data
                    if type(data) is str:
                        return {"type": "websocket.receive", "text": data}
                    return {"type": "websocket.receive", "bytes": data}
                if self.disconnected is not None:
                    return dict(self.disconnected)  # asked again: the same answer
            elif (self.phase is not _Phase.CONNECTING and self.phase is not _Phase.RESPONDING) or self.protocol.disconnected.done():
                return {"type": "websocket.disconnect", "code": 1006, "reason": ""}
            await self._wait()

    # -- send --------------------------------------------------------------------------
    async def send(self, message: Message) -> None:
        kind = message["type"]
        phase = self.phase
        if phase is _Phase.CONNECTING or phase is _Phase.RESPONDING:
            self._send_before_open(phase, kind, message)
            return
        conn = self.conn
        if phase is _Phase.CLOSED or conn is None or conn.state is not ConnectionState.OPEN:
            raise ClientDisconnected("the WebSocket is closed")
        if kind == "websocket.send":
            text = message.get("text")
            data = message.get("bytes") or b""

            def queue() -> None:
                if text is not None:
                    conn.send_text(text)
                else:
                    conn.send_binary(data)

            driver = self.driver
            if driver is not None and driver.transport is not None:
                if driver.send_now(queue):
                    return  # the transport took it all: nothing to wait for
            else:
                queue()  # before the transport is ours: written once it is
            await self._flushed(conn)
            return
        if kind == "websocket.close":
            conn.close(int(message.get("code", 1000) or 1000), message.get("reason") or "")
            return
        raise RuntimeError(f"ASGI: unexpected message type {kind!r}")

    def _send_before_open(self, phase: _Phase, kind: str, message: Message) -> None:
        """`send` during the handshake: accept, refuse (403), or the app's own response."""
        if phase is _Phase.RESPONDING:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"ASGI: {kind!r} in a websocket.http.response")
            self.response_body.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self._respond(self.response_status, self.response_headers, b"".join(self.response_body))
            return
        if kind == "websocket.accept":
            self._accept(message)
            return
        if kind == "websocket.close":
            self._respond(403, [(b"content-type", b"text/plain; charset=utf-8")], b"403 Forbidden\n")
            return
        if kind == "websocket.http.response.start":
            self.phase = _Phase.RESPONDING
            self.response_status = int(message["status"])
            self.response_headers = list(message.get("headers", ()))
            return
        raise RuntimeError(f"ASGI: {kind!r} before websocket.accept")

    async def _flushed(self, conn: WebSocketConnection) -> None:
        """Backpressure: return once the frame was handed to the transport."""
        if not conn.has_pending_output:
            return
        done: asyncio.Future[FlushReason] = self.loop.create_future()

        def on_flush(reason: FlushReason) -> None:
            if not done.done():
                done.set_result(reason)

        conn.flush(on_flush)
        if await done is FlushReason.DRAIN:
            raise ClientDisconnected("the WebSocket is closed")

    def _respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.phase = _Phase.CLOSED
        try:
            self.reqd.respond_with_bytes(Response(status, headers), body)
        except LocalProtocolError:
            raise ClientDisconnected("the client is gone") from None

    def _accept(self, message: Message) -> None:
        config = self.protocol._state.config
        deflate = server_deflate(self.hello, config.ws_per_message_deflate)
        extra = [(bytes(n), bytes(v)) for n, v in message.get("headers", ())]
        headers = accept_headers(self.hello, message.get("subprotocol"), deflate, extra)
        conn = self.conn = WebSocketConnection(
            client=False,
            config=WebSocketConfig(max_message_size=config.ws_max_size, max_queue=config.ws_max_queue),
            deflate=deflate,
        )
        driver = self.driver = WebSocketProtocol(
            conn, self._wake, config.ws_ping_interval, config.ws_ping_timeout, state=self.protocol._state
        )
        self.phase = _Phase.ACCEPTED
        try:
            self.reqd.respond_with_upgrade(headers, lambda: self.protocol.switch_protocol(driver))
        except LocalProtocolError:
            self.phase = _Phase.CLOSED
            raise ClientDisconnected("the client is gone") from None

    # -- the app's end -----------------------------------------------------------------
    def finish(self, exc: BaseException | None) -> None:
        """The app returned (``exc`` None) or raised."""
        phase = self.phase
        if phase is _Phase.CONNECTING or phase is _Phase.RESPONDING:
            self.phase = _Phase.CLOSED
            status = 500 if exc is not None or phase is _Phase.RESPONDING else 403
            with contextlib.suppress(LocalProtocolError):  # the client is gone
                self.reqd.respond_with_bytes(Response(status, [(b"content-type", b"text/plain; charset=utf-8")]), f"{status}\n".encode())
            return
        conn = self.conn
        if conn is not None and conn.state is ConnectionState.OPEN:
            conn.close(1011 if exc is not None else 1000)


def serve_websocket(app: ASGIApp, reqd: Reqd, scope: Scope, protocol: HttpProtocol, running: set[asyncio.Task[None]]) -> None:
    """Serve the WebSocket upgrade request ``reqd``: refuse a bad handshake (400/426),
    else run ``app`` with a ``websocket`` scope made from the request's ``http`` one."""
    request = reqd.request
    assert request is not None
    try:
        hello = check_request(request)
    except HandshakeError as e:
        reqd.respond_with_bytes(Response(e.status, reject_headers(e)), f"{e}\n".encode())
        return
    scope["type"] = "websocket"
    scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
    scope.pop("method", None)
    scope["subprotocols"] = hello.subprotocols
    scope["extensions"] = {"websocket.http.response": {}}
    cycle = _WebSocketCycle(reqd, protocol, hello)
    protocol.disconnected.add_done_callback(lambda _: cycle._wake())  # gone before the accept
    task = asyncio.get_running_loop().create_task(_run(app, scope, cycle))
    running.add(task)
    task.add_done_callback(running.discard)


async def _run(app: ASGIApp, scope: Scope, cycle: _WebSocketCycle) -> None:
    try:
        await app(scope, cycle.receive, cycle.send)
    except ClientDisconnected:
        cycle.finish(None)
    except asyncio.CancelledError:
        cycle.finish(None)
        raise
    except Exception as exc:
        logger.exception("ASGI websocket app failed")
        cycle.finish(exc)
    else:
        cycle.finish(None)
