"""The ``async def handler(request, body) -> (response, body)`` convenience layer."""

from __future__ import annotations

import asyncio

from wirekit.http import Request, Response
from wirekit.http.aio import ServeConfig, Server, simple_handler


@simple_handler
async def shout(request: Request, body: bytes) -> tuple[Response, bytes]:
    await asyncio.sleep(0)
    if request.target == b"/boom":
        raise RuntimeError("boom")
    return Response(200, [(b"content-type", b"text/plain")]), body.upper() + request.target


async def _exchange(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    await writer.wait_closed()
    return data


def test_simple_handler_gets_the_whole_body_and_answers() -> None:
    async def main() -> None:
        server = Server(shout, ServeConfig(port=0))
        _, port = await server.start()
        try:
            reply = await _exchange(
                port,
                b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            )
            assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"content-length: 7\r\n" in reply
            assert reply.endswith(b"\r\n\r\nABCDE/x")
            failed = await _exchange(port, b"GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
            assert failed.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        finally:
            await server.stop()

    asyncio.run(asyncio.wait_for(main(), 20))
