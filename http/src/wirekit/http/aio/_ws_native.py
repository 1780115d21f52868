"""WebSocket for native handlers under `wirekit serve` (or `Server`): `accept_websocket`
checks the handshake, answers 101 through `Reqd.respond_with_upgrade`, hands the socket
over to a `WebSocketConnection` and runs an async session with a `WebSocket` (the same
object the client gets: ``send``, ``recv``, ``ping``, ``close``, ``async for``).

    def handler(reqd: Reqd) -> None:
        if reqd.is_upgrade:
            accept_websocket(reqd, echo)
        ...

    async def echo(ws: WebSocket) -> None:
        async for message in ws:
            await ws.send(message)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .. import Reqd, Response
from ..websocket import (
    HandshakeError,
    WebSocketConfig,
    WebSocketConnection,
    accept_headers,
    check_request,
    reject_headers,
    server_deflate,
)
from ._protocol import protocol_of
from ._websocket import WebSocketProtocol
from ._ws_client import WebSocket, WebSocketClosed

__all__ = ["accept_websocket"]

logger = logging.getLogger("wirekit.error")
_sessions: set[asyncio.Task[None]] = set()  # running sessions need a reference


def accept_websocket(
    reqd: Reqd,
    session: Callable[[WebSocket], Awaitable[None]],
    subprotocol: str | None = None,
    config: WebSocketConfig | None = None,
) -> bool:
    """Accept the WebSocket handshake of ``reqd`` and run ``session(ws)`` in a task.

    A handshake that is not valid is answered here (400, or 426 with
    ``Sec-WebSocket-Version: 13``) and False is returned. Limits, keepalive pings and
    compression follow the server's ``--ws-*`` options (``config`` replaces the limits).
    When the session returns, the socket is closed with 1000 (if still open); when it
    raises, with 1011.

    Raises:
        RuntimeError: ``reqd`` is not served by the asyncio runtime of `wirekit serve`.
        ValueError: ``subprotocol`` was not offered by the client.
    """
    # The request's connection (package-internal: a `Reqd` knows it through its link).
    protocol = protocol_of(reqd.connection)
    request = reqd.request
    if protocol is None or request is None:
        raise RuntimeError("accept_websocket needs a request served by wirekit.http.aio")
    try:
        hello = check_request(request)
    except HandshakeError as e:
        reqd.respond_with_bytes(Response(e.status, reject_headers(e)), f"{e}\n".encode())
        return False
    options = protocol._state.config
    deflate = server_deflate(hello, options.ws_per_message_deflate)
    headers = accept_headers(hello, subprotocol, deflate)
    conn = WebSocketConnection(
        client=False,
        config=config or WebSocketConfig(max_message_size=options.ws_max_size, max_queue=options.ws_max_queue),
        deflate=deflate,
    )
    ws = WebSocket(conn, Response(101, headers), subprotocol)
    driver = ws.driver = WebSocketProtocol(
        conn, ws._wake, options.ws_ping_interval, options.ws_ping_timeout, state=protocol._state, on_pong=ws._pong
    )
    reqd.respond_with_upgrade(headers, lambda: protocol.switch_protocol(driver))
    task = asyncio.get_running_loop().create_task(_run(session, ws))
    _sessions.add(task)
    task.add_done_callback(_sessions.discard)
    return True


async def _run(session: Callable[[WebSocket], Awaitable[None]], ws: WebSocket) -> None:
    code = 1000
    try:
        await session(ws)
    except WebSocketClosed:
        pass  # the peer left: nothing to close
    except Exception:
        logger.exception("WebSocket session failed")
        code = 1011
    await ws.close(code)  # (nothing to do if the socket closed already)
