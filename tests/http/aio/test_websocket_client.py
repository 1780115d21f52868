"""`wirekit.http.aio.connect`: our WebSocket client against the `websockets` library's
server (and against `wirekit serve`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from wirekit.http.aio import WebSocketClosed, connect
from wirekit.http.websocket import HandshakeError

from tests.http.aio.support import arun

seen: list[Any] = []


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else ""
    seen.append(("request", ws.request))
    if path == "/close-4001":
        await ws.close(4001, "server says bye")
        return
    if path == "/stream":
        for i in range(3):
            await ws.send(f"item {i}")
        await ws.close(1000)
        return
    try:
        async for message in ws:
            await ws.send(message)
    finally:
        seen.append(("closed", ws.close_code, ws.close_reason))


def reject(connection: ServerConnection, request: WsRequest) -> WsResponse | None:
    if request.path == "/forbidden":
        return connection.respond(403, "no\n")
    return None


@asynccontextmanager
async def ws_server(compression: str | None = "deflate") -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, subprotocols=["chat", "superchat"], process_request=reject, compression=compression) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


@pytest.mark.parametrize("compression", [True, False])
def test_echo_ping_and_close(compression: bool) -> None:
    seen.clear()

    async def main() -> None:
        async with ws_server() as base:
            async with await connect(base + "/echo?x=1", subprotocols=["superchat"], headers=[("x-token", "t")], compression=compression) as ws:
                assert ws.subprotocol == "superchat"
                ext = ws.response.headers.get(b"sec-websocket-extensions")
                assert (ext is not None and ext.startswith(b"permessage-deflate")) is compression
                await ws.send("héllo")
                assert await ws.recv() == "héllo"
                data = bytes(range(256)) * 1000
                await ws.send(data)
                assert await ws.recv() == data
                rtt = await ws.ping(b"abc")
                assert 0 <= rtt < 5
                await ws.close(4000, "client done")
                assert ws.close_code == 4000
            for _ in range(100):
                if any(s[0] == "closed" for s in seen):
                    break
                await asyncio.sleep(0.01)
            assert ("closed", 4000, "client done") in seen
            request = seen[0][1]
            assert request.path == "/echo?x=1" and request.headers["x-token"] == "t"

    arun(main())


def test_server_close_and_iteration() -> None:
    async def main() -> None:
        async with ws_server() as base:
            ws = await connect(base + "/stream", subprotocols=["chat"])
            assert [m async for m in ws] == ["item 0", "item 1", "item 2"]
            assert ws.close_code == 1000
            with pytest.raises(WebSocketClosed):
                await ws.send("late")
            ws = await connect(base + "/close-4001", subprotocols=["chat"])
            with pytest.raises(WebSocketClosed) as info:
                await ws.recv()
            assert (info.value.code, info.value.reason) == (4001, "server says bye")
            assert isinstance(info.value, OSError)
            with pytest.raises(WebSocketClosed):
                async for _ in ws:
                    pass

    arun(main())


def test_refused_handshake() -> None:
    async def main() -> None:
        async with ws_server() as base:
            with pytest.raises(HandshakeError) as info:
                await connect(base + "/forbidden", subprotocols=["chat"])
            assert info.value.status == 403
        with pytest.raises(ValueError):
            await connect("http://127.0.0.1/")

    arun(main())


def test_against_wirekit_serve() -> None:
    from tests.http.aio.support import running

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": (message.get("text") or "").upper()})

    async def main() -> None:
        async with running(app) as server:
            assert server.address is not None
            host, port = server.address
            async with await connect(f"ws://{host}:{port}/") as ws:
                for word in ("a", "bc", "déf" * 10_000):
                    await ws.send(word)
                    assert await ws.recv() == word.upper()

    arun(main())




def test_wss_with_a_test_ca() -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, ssl=server_ctx) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            async with await connect(f"wss://127.0.0.1:{port}/", ssl_context=client_ctx) as ws:
                await ws.send("over tls")
                assert await ws.recv() == "over tls"
            with pytest.raises(ssl.SSLCertVerificationError):  # a CA the client does not trust
                await connect(f"wss://127.0.0.1:{port}/", ssl_context=ssl.create_default_context())
        with pytest.raises(ValueError, match="wss://"):
            await connect("http://127.0.0.1/")

    arun(main())
