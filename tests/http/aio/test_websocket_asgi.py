"""ASGI ``websocket`` in `wirekit serve`, with the `websockets` library as the client:
the scope, accept/receive/send/close/disconnect with their codes, rejection (403), the
``websocket.http.response`` extension, send after close, shutdown (1001), limits,
permessage-deflate, and a Starlette WebSocket endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from wirekit.http.aio._asgi import ClientDisconnected

from tests.http.aio.support import RawConnection, arun, running

Scope = MutableMapping[str, Any]
events: list[Any] = []


async def echo_app(scope: Scope, receive: Any, send: Any) -> None:
    """Echoes messages; records the scope and the disconnect; obeys a few commands."""
    if scope["type"] != "websocket":
        return
    assert (await receive()) == {"type": "websocket.connect"}
    events.append(("scope", scope))
    path = scope["path"]
    if path == "/reject":
        await send({"type": "websocket.close"})
        return
    if path == "/deny":
        await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-why", b"token")]})
        await send({"type": "websocket.http.response.body", "body": b"no", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b" entry"})
        return
    if path == "/fail-before":
        raise RuntimeError("boom")
    subprotocol = scope["subprotocols"][0] if scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": [(b"x-extra", b"1")]})
    if path == "/fail-after":
        raise RuntimeError("boom")
    if path == "/close-4000":
        await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
        try:
            await send({"type": "websocket.send", "text": "late"})
        except ClientDisconnected as e:
            events.append(("send-after-close", isinstance(e, OSError)))
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            events.append(("disconnect", message["code"], message.get("reason", "")))
            try:
                await send({"type": "websocket.send", "text": "late"})
            except OSError as e:
                events.append(("send-after-disconnect", type(e).__name__))
            return
        if message.get("text") == "close-me":
            await send({"type": "websocket.close", "code": 1000})
            continue
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def url(server: Any, path: str = "/ws") -> str:
    host, port = server.address
    return f"ws://{host}:{port}{path}"


def wait_for_event(kind: str) -> Any:
    async def wait() -> Any:
        for _ in range(300):
            for e in events:
                if e[0] == kind:
                    return e
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {kind} event in {events}")

    return wait()


def test_echo_scope_and_client_close() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            async with connect(url(server, "/ws/p%20q?x=1"), subprotocols=["chat"], additional_headers={"X-A": "b"}) as ws:  # type: ignore[list-item]
                assert ws.subprotocol == "chat"
                assert ws.response is not None and ws.response.headers["x-extra"] == "1"
                await ws.send("héllo")
                assert await ws.recv() == "héllo"
                await ws.send(b"\x00\x01" * 40_000)
                assert await ws.recv() == b"\x00\x01" * 40_000
                await ws.send(["frag", "ments"])  # a fragmented message
                assert await ws.recv() == "fragments"
                await ws.close(4001, "done")
            _, code, reason = await wait_for_event("disconnect")
            assert (code, reason) == (4001, "done")
            assert (await wait_for_event("send-after-disconnect"))[1] == "ClientDisconnected"
            scope = (await wait_for_event("scope"))[1]
            assert scope["type"] == "websocket" and scope["scheme"] == "ws"
            assert scope["path"] == "/ws/p q" and scope["raw_path"] == b"/ws/p%20q" and scope["query_string"] == b"x=1"
            assert scope["subprotocols"] == ["chat"] and scope["http_version"] == "1.1"
            assert scope["asgi"]["spec_version"] == "2.4"
            assert scope["extensions"] == {"websocket.http.response": {}}
            assert (b"x-a", b"b") in scope["headers"]
            assert server.address is not None
            assert scope["client"][0] == "127.0.0.1" and scope["server"][1] == server.address[1]
            assert "method" not in scope and scope["root_path"] == ""

    arun(main())


def test_compression_negotiated() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            async with connect(url(server)) as ws:
                assert ws.response is not None
                assert "permessage-deflate" in ws.response.headers.get("sec-websocket-extensions", "")
                text = "compress me " * 1000
                await ws.send(text)
                assert await ws.recv() == text
            async with running(echo_app, ws_per_message_deflate=False) as server2, connect(url(server2)) as ws2:
                assert ws2.response is not None and "sec-websocket-extensions" not in ws2.response.headers
                await ws2.send("x")
                assert await ws2.recv() == "x"

    arun(main())


def test_rejection_is_403_and_denial_response() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            with pytest.raises(InvalidStatus) as info:
                async with connect(url(server, "/reject")):
                    pass
            assert info.value.response.status_code == 403
            with pytest.raises(InvalidStatus) as info:
                async with connect(url(server, "/deny")):
                    pass
            assert info.value.response.status_code == 401
            assert info.value.response.body == b"no entry"
            assert info.value.response.headers["x-why"] == "token"
            with pytest.raises(InvalidStatus) as info:
                async with connect(url(server, "/fail-before")):
                    pass
            assert info.value.response.status_code == 500

    arun(main())


def test_server_close_codes_and_send_after_close() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            async with connect(url(server, "/close-4000")) as ws:
                with pytest.raises(ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None and (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "bye")
            assert (await wait_for_event("send-after-close"))[1] is True
            async with connect(url(server, "/fail-after")) as ws:
                with pytest.raises(ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None and info.value.rcvd.code == 1011

    arun(main())


def test_message_too_big_is_1009() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app, ws_max_size=1000) as server:
            async with connect(url(server), compression=None) as ws:
                await ws.send("x" * 1000)
                assert await ws.recv() == "x" * 1000
                await ws.send("x" * 1001)
                with pytest.raises(ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None and info.value.rcvd.code == 1009
            _, code, _ = await wait_for_event("disconnect")
            assert code == 1009

    arun(main())


def test_shutdown_closes_with_1001() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            ws = await connect(url(server))
            await ws.send("a")
            assert await ws.recv() == "a"
            stop = asyncio.create_task(server.stop())
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001
            await asyncio.wait_for(stop, 5)

    arun(main())


def test_dropped_connection_is_1006() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(
                b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            response = await conn.response(head=True)
            assert response.status == 101
            assert response.header(b"sec-websocket-accept") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
            conn.reset()
            _, code, _ = await wait_for_event("disconnect")
            assert code == 1006

    arun(main())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n", 426),
        (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n", 400),
    ],
)
def test_bad_handshakes(headers: bytes, status: int) -> None:
    async def main() -> None:
        async with running(echo_app) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(b"GET /ws HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
            assert response.status == status
            if status == 426:
                assert response.header(b"sec-websocket-version") == b"13"

    arun(main())


def test_starlette_websocket_endpoint() -> None:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        name = await websocket.receive_text()
        await websocket.send_json({"hello": name})
        data = await websocket.receive_bytes()
        await websocket.send_bytes(data[::-1])
        await websocket.close(code=4002)

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])

    async def main() -> None:
        async with running(app) as server, connect(url(server)) as ws:
            await ws.send("ann")
            assert await ws.recv() == '{"hello":"ann"}'
            await ws.send(b"abc")
            assert await ws.recv() == b"cba"
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 4002

    arun(main())




def test_retiring_worker_closes_with_1012() -> None:
    events.clear()

    async def main() -> None:
        async with running(echo_app) as server:
            ws = await connect(url(server))
            await ws.send("a")
            assert await ws.recv() == "a"
            server.state.retiring = True  # as after --limit-max-requests
            stop = asyncio.create_task(server.stop())
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1012
            await asyncio.wait_for(stop, 5)

    arun(main())


def test_unanswered_keepalive_ping_closes_with_1011() -> None:
    from wirekit.combinators import parse_many
    from wirekit.http.websocket import frame

    events.clear()

    async def main() -> None:
        async with running(echo_app, ws_ping_interval=0.1, ws_ping_timeout=0.3) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(
                b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert (await conn.response(head=True)).status == 101
            # A client that never answers: a ping comes, then the close (1011), then EOF.
            rest = await conn.rest(timeout=10)
            frames = list(parse_many(frame, [rest]))
            assert [f.header.opcode for f in frames] == [0x9, 0x8], frames
            assert frames[1].payload[:2] == (1011).to_bytes(2, "big")

    arun(main())


def test_native_handler_accept_websocket() -> None:
    from wirekit.http import Reqd
    from wirekit.http import Response as HttpResponse
    from wirekit.http.aio import WebSocket, accept_websocket

    closed: list[tuple[int | None, str | None]] = []

    async def echo(ws: WebSocket) -> None:
        try:
            async for message in ws:
                if message == "fail":
                    raise RuntimeError("the session fails")
                await ws.send(message)
        finally:
            closed.append((ws.close_code, ws.close_reason))

    def handler(reqd: Reqd) -> None:
        if reqd.is_upgrade:
            accept_websocket(reqd, echo, subprotocol="v1" if b"v1" in (reqd.request.headers.get(b"sec-websocket-protocol") or b"") else None)  # type: ignore[union-attr]
        else:
            reqd.respond_with_bytes(HttpResponse(200), b"plain")

    async def main() -> None:
        async with running(handler) as server:
            async with connect(url(server), subprotocols=["v1"]) as ws:  # type: ignore[list-item]
                assert ws.subprotocol == "v1"
                await ws.send("one")
                assert await ws.recv() == "one"
                await ws.send(b"\x00" * 100_000)
                assert await ws.recv() == b"\x00" * 100_000
            async with connect(url(server)) as ws:
                await ws.send("fail")  # the session raises: 1011
                with pytest.raises(ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None and info.value.rcvd.code == 1011
            conn = await RawConnection.open(server.address)
            assert (await conn.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")).body == b"plain"
            response = await conn.request(
                b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert response.status == 400
        assert closed[0] == (1000, "")

    arun(main())
