"""An asyncio WebSocket client: `connect` (the handshake through `ClientConnection`,
then the transport handed to a client-role `WebSocketConnection`).

    async with await connect("ws://127.0.0.1:8080/ws") as ws:
        await ws.send("hello")
        print(await ws.recv())
        async for message in ws:   # until the server closes normally
            ...
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlsplit

from .. import BodyReader, FlushReason, HeaderInput, Headers, Response
from ..websocket import (
    Closed,
    ConnectionState,
    HandshakeError,
    Message,
    WebSocketConfig,
    WebSocketConnection,
    check_response,
    client_request,
)
from ._client import _Connection
from ._websocket import WebSocketProtocol

__all__ = ["WebSocketClosed", "WebSocket", "connect"]


class WebSocketClosed(OSError):
    """The WebSocket is closed: ``code`` and ``reason`` of the closing handshake (1006:
    the connection dropped without one)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"WebSocket closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason


class WebSocket:
    """An open client WebSocket (from `connect`)."""

    def __init__(self, conn: WebSocketConnection, response: Response, subprotocol: str | None) -> None:
        self._conn = conn
        self.response = response
        """The server's 101 response."""
        self.subprotocol = subprotocol
        """The subprotocol the server chose, or None."""
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._pongs: dict[bytes, asyncio.Future[None]] = {}
        self._closed: Closed | None = None
        self.driver: WebSocketProtocol | None = None

    # -- events from the driver -------------------------------------------------------
    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _pong(self, payload: bytes) -> None:
        fut = self._pongs.pop(payload, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    @property
    def close_code(self) -> int | None:
        """The close code once the connection closed (else None)."""
        return self._closed.code if self._closed is not None else None

    @property
    def close_reason(self) -> str | None:
        """The close reason once the connection closed (else None)."""
        return self._closed.reason if self._closed is not None else None

    # -- the API ----------------------------------------------------------------------
    async def recv(self) -> str | bytes:
        """The next message (``str`` for text, ``bytes`` for binary).

        Raises:
            WebSocketClosed: the connection closed (its code and reason).
        """
        while True:
            if self._closed is not None:
                raise WebSocketClosed(self._closed.code, self._closed.reason)
            event = self._conn.next_event()
            if isinstance(event, Message):
                return event.data
            if isinstance(event, Closed):
                self._closed = event
                self._fail_pongs()
                continue
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary message; returns once the transport took it.

        Raises:
            WebSocketClosed: the connection is closing or closed.
        """
        conn = self._conn
        if conn.state is not ConnectionState.OPEN:
            raise WebSocketClosed(*self._code())
        if isinstance(data, str):
            conn.send_text(data)
        else:
            conn.send_binary(data)
        await self._flushed()

    async def ping(self, payload: bytes | None = None) -> float:
        """Send a ping and wait for its pong; returns the round-trip time in seconds.

        Raises:
            WebSocketClosed: the connection closed first.
        """
        if self._conn.state is not ConnectionState.OPEN:
            raise WebSocketClosed(*self._code())
        payload = os.urandom(4) if payload is None else payload
        fut = self._pongs[payload] = self._loop.create_future()
        started = self._loop.time()
        self._conn.ping(payload)
        await fut
        return self._loop.time() - started

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 10.0) -> None:
        """Close: send a close frame and wait for the server's (and the TCP close), at
        most ``timeout`` seconds, after which the connection is aborted."""
        conn = self._conn
        if conn.state is ConnectionState.OPEN:
            conn.close(code, reason)
        driver = self.driver
        if driver is not None:
            try:
                await asyncio.wait_for(asyncio.shield(driver.disconnected), timeout)
            except TimeoutError:
                driver.abort()
        while self._closed is None:
            event = conn.next_event()
            if event is None:
                break
            if isinstance(event, Closed):
                self._closed = event
        self._fail_pongs()

    async def __aenter__(self) -> WebSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        """The messages until the connection closes normally (1000, 1001); another
        close code raises `WebSocketClosed`."""
        while True:
            try:
                yield await self.recv()
            except WebSocketClosed as e:
                if e.code in (1000, 1001):
                    return
                raise

    # -- helpers ----------------------------------------------------------------------
    def _code(self) -> tuple[int, str]:
        return (self._closed.code, self._closed.reason) if self._closed is not None else (1006, "closing")

    def _fail_pongs(self) -> None:
        for fut in self._pongs.values():
            if not fut.done():
                fut.set_exception(WebSocketClosed(*self._code()))
        self._pongs.clear()

    async def _flushed(self) -> None:
        conn = self._conn
        done: asyncio.Future[FlushReason] = self._loop.create_future()

        def on_flush(reason: FlushReason) -> None:
            if not done.done():
                done.set_result(reason)

        conn.flush(on_flush)
        if await done is FlushReason.DRAIN:
            raise WebSocketClosed(*self._code())


async def connect(
    url: str,
    subprotocols: Sequence[str] = (),
    headers: HeaderInput | None = None,
    compression: bool = True,
    config: WebSocketConfig | None = None,
    open_timeout: float = 10.0,
    ping_interval: float = 0.0,
    ping_timeout: float = 0.0,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocket:
    """Open a WebSocket to a ``ws://`` or ``wss://`` ``url``: the opening handshake
    (offering ``subprotocols`` and, with ``compression``, permessage-deflate), then the
    open socket. ``wss://`` uses TLS with ``ssl_context`` (default: the system's trusted
    CAs and hostname checking, `ssl.create_default_context`).

    Raises:
        ValueError: not a ``ws://`` or ``wss://`` URL.
        HandshakeError: the server refused (``status``) or answered wrongly.
        OSError, TimeoutError: the connection failed or took longer than ``open_timeout``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"a ws:// or wss:// URL is needed, got {url!r}")
    secure = parts.scheme == "wss"
    host, port = parts.hostname, parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    extra = Headers(headers).raw()
    request, key = client_request(parts.netloc, target, subprotocols, compression, extra)
    loop = asyncio.get_running_loop()
    http = _Connection(None)
    tls = (ssl_context or ssl.create_default_context()) if secure else None
    opening = loop.create_connection(lambda: http, host, port, ssl=tls, server_hostname=host if tls else None)
    await asyncio.wait_for(opening, open_timeout)
    got: asyncio.Future[tuple[Response, BodyReader]] = loop.create_future()

    def on_response(response: Response, body: BodyReader) -> None:
        if not got.done():
            got.set_result((response, body))

    def on_error(exc: Exception) -> None:
        if not got.done():
            got.set_exception(exc)

    http.cc.request(request, on_response, on_error).close()
    http.pump()
    try:
        response, _body = await asyncio.wait_for(got, open_timeout)
    except BaseException:
        if http.transport is not None:
            http.transport.close()
        raise
    transport = http.transport
    assert transport is not None
    try:
        subprotocol, deflate = check_response(response, key, subprotocols)
    except HandshakeError:
        transport.close()
        raise
    conn = WebSocketConnection(client=True, config=config, deflate=deflate)
    ws = WebSocket(conn, response, subprotocol)
    driver = ws.driver = WebSocketProtocol(conn, ws._wake, ping_interval, ping_timeout, on_pong=ws._pong)
    # The transport switches from HTTP to WebSocket; bytes after the 101 go with it.
    buf, eof = http.cc.unconsumed, http.cc.held_eof
    http.closed = True
    transport.set_protocol(driver)
    driver.connection_made(transport)
    if buf:
        driver.data_received(buf)
    if eof:
        driver.eof_received()
    if http.paused:
        transport.resume_reading()
    return ws
