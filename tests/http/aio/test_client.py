"""`Client`: the asyncio client with keep-alive pools, against our server (in-process),
small raw servers that misbehave, and nginx serving static files."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from wirekit.http import RemoteProtocolError, Reqd, Response
from wirekit.http.aio import Client
from wirekit.http.aio._asgi import Receive, Scope, Send

from tests.http.aio import apps
from tests.http.aio.support import Nginx, arun, running

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def url(address: tuple[str, int] | None, path: str = "/") -> str:
    assert address is not None
    return f"http://{address[0]}:{address[1]}{path}"


def scope_of(body: bytes | None) -> dict[str, Any]:
    """The scope `apps.scope_app` answered with."""
    assert body is not None
    scope: dict[str, Any] = json.loads(body)
    return scope


def client_port(body: bytes | None) -> int:
    port: int = scope_of(body)["client"][1]
    return port


async def slow_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """`apps.scope_app` after 100 ms (requests overlap)."""
    if scope["type"] == "http":
        await asyncio.sleep(0.1)
    await apps.scope_app(scope, receive, send)


# ------------------------------------------------------------------------------------
# Against our server
# ------------------------------------------------------------------------------------
def test_get_returns_status_headers_and_body() -> None:
    async def main() -> None:
        async with running() as server, Client(timeout=5) as client:
            response = await client.request("GET", url(server.address))
            assert (response.status, response.reason) == (200, b"OK")
            assert response.headers.get(b"content-length") == b"13"
            assert response.body == b"Hello, world!" and await response.read() == b"Hello, world!"
            assert str(response.version) == "HTTP/1.1"
            assert repr(response) == "<ClientResponse 200>"
            missing = await client.get(url(server.address, "/nope"))
            assert missing.status == 404 and missing.body == b"Not Found\n"
            head = await client.request("HEAD", url(server.address))
            assert head.status == 200 and head.body == b"" and head.headers.get(b"content-length") == b"13"

    arun(main())


def test_requests_reuse_one_keep_alive_connection() -> None:
    async def main() -> None:
        async with running(apps.scope_app) as server, Client(timeout=5) as client:
            ports = {client_port((await client.get(url(server.address, f"/{i}"))).body) for i in range(5)}
            assert len(ports) == 1
            assert len(server.state.connections) == 1

    arun(main())


def test_request_headers_and_bytes_body() -> None:
    async def main() -> None:
        async with running(apps.scope_app) as server, Client(timeout=5) as client:
            response = await client.post(url(server.address, "/p?q=1"), b"x" * 1000, headers=[(b"X-Test", b"yes")])
            scope = scope_of(response.body)
            headers = dict(scope["headers"])
            assert scope["method"] == "POST" and scope["query_string"] == "q=1"
            assert headers["content-length"] == "1000" and headers["x-test"] == "yes"
            assert server.address is not None
            assert headers["host"] == f"{server.address[0]}:{server.address[1]}"
            assert scope["body_size"] == 1000

    arun(main())


async def chunks(n: int, size: int) -> AsyncIterator[bytes]:
    for i in range(n):
        yield bytes([65 + i % 26]) * size
        await asyncio.sleep(0)


def test_streaming_request_body_is_sent_chunked() -> None:
    async def main() -> None:
        expected = b"".join([bytes([65 + i % 26]) * 5000 for i in range(40)])
        async with running(apps.scope_app) as server, Client(timeout=5) as client:
            scope = scope_of((await client.post(url(server.address), chunks(40, 5000))).body)
            assert dict(scope["headers"])["transfer-encoding"] == "chunked"
            assert scope["body_size"] == len(expected)
        async with running() as server, Client(timeout=5) as client:
            echoed = await client.request("PUT", url(server.address, "/echo"), body=chunks(40, 5000))
            assert echoed.body == expected

    arun(main())


def test_streaming_response_body() -> None:
    async def main() -> None:
        async with running() as server, Client(timeout=5) as client:
            response = await client.request("GET", url(server.address, "/stream/50"), stream=True)
            assert response.status == 200 and response.body is None
            parts = [part async for part in response.iter_chunks()]
            assert b"".join(parts) == b"".join(b"chunk %d\n" % i for i in range(50))
            big = await client.request("GET", url(server.address, "/bytes/3000000"), stream=True)
            total = 0
            async for part in big.iter_chunks():
                total += len(part)
            assert total == 3_000_000
            again = await client.get(url(server.address, "/"))  # the connection is reusable
            assert again.body == b"Hello, world!"

    arun(main())


def test_a_slow_stream_consumer_holds_the_server_back() -> None:
    blocks = [0]

    def producer(reqd: Reqd) -> None:
        writer = reqd.respond_with_streaming(Response(200))
        block = b"z" * 65536

        def more(_reason: object = None) -> None:
            if blocks[0] == 800:  # 50 MiB
                writer.close()
                return
            blocks[0] += 1
            writer.write(block)
            writer.flush(more)

        more()

    async def main() -> None:
        async with running(producer) as server, Client(timeout=5) as client:
            response = await client.request("GET", url(server.address), stream=True)
            parts = response.iter_chunks()
            await parts.__anext__()
            await asyncio.sleep(0.5)
            assert blocks[0] < 400, "the client must stop reading when its consumer does"
            total = 0
            async for part in parts:
                total += len(part)
            assert blocks[0] == 800

    arun(main(), timeout=30)


def test_a_streaming_upload_waits_for_a_slow_server() -> None:
    produced = [0]

    async def blocks() -> AsyncIterator[bytes]:
        for _ in range(200):  # 200 MiB if nobody stopped it
            produced[0] += 1
            yield b"u" * (1 << 20)

    async def main() -> None:
        release = asyncio.Event()

        async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await release.wait()
            writer.transport.abort()

        server, address = await raw_server(never_reads)
        async with server, Client(timeout=10) as client:
            upload = asyncio.ensure_future(client.post(address, blocks()))
            await asyncio.sleep(0.5)
            assert produced[0] < 50, "the body must not be produced faster than it is sent"
            release.set()
            with pytest.raises((ConnectionError, RemoteProtocolError)):
                await asyncio.wait_for(upload, 5)  # the lost connection ends the upload
        assert produced[0] < 50

    arun(main())


def test_concurrent_requests_open_more_connections() -> None:
    async def main() -> None:
        async with running(slow_scope) as server, Client(timeout=5) as client:
            responses = await asyncio.gather(*(client.get(url(server.address, f"/{i}")) for i in range(3)))
            assert len({client_port(r.body) for r in responses}) == 3

    arun(main())


def test_pipelining_sends_requests_on_one_connection() -> None:
    async def main() -> None:
        async with running(slow_scope) as server, Client(timeout=5, pipelining=True) as client:
            first = await client.get(url(server.address, "/warm"))
            responses = await asyncio.gather(*(client.get(url(server.address, f"/{i}")) for i in range(4)))
            assert [scope_of(r.body)["path"] for r in responses] == ["/0", "/1", "/2", "/3"]
            assert {client_port(r.body) for r in responses} == {client_port(first.body)}

    arun(main())


def test_connections_closed_by_the_server_are_replaced() -> None:
    async def main() -> None:
        async with running(apps.scope_app, timeout_keep_alive=0.1) as server, Client(timeout=5) as client:
            first = client_port((await client.get(url(server.address))).body)
            for _ in range(100):  # until the server closed the idle connection
                await asyncio.sleep(0.02)
                if not server.state.connections:
                    break
            await asyncio.sleep(0.05)
            second = client_port((await client.get(url(server.address))).body)
            assert first != second
            closing = await client.get(url(server.address), headers=[(b"Connection", b"close")])
            third = client_port((await client.get(url(server.address))).body)
            assert client_port(closing.body) == second and third != second

    arun(main())


def never_or_fast(reqd: Reqd) -> None:
    request = reqd.request
    assert request is not None
    if request.target == b"/fast":
        reqd.respond_with_bytes(Response(200), b"fast")


@pytest.mark.parametrize("pipelining", [False, True])
def test_timeout_waiting_for_the_response_head(pipelining: bool) -> None:
    async def main() -> None:
        async with running(never_or_fast, timeout_graceful=0.5) as server:
            async with Client(timeout=0.2, pipelining=pipelining) as client:
                loop = asyncio.get_running_loop()
                started = loop.time()
                with pytest.raises(TimeoutError):
                    await client.get(url(server.address, "/never"))
                assert loop.time() - started < 1.0
                # The timed-out connection is not reused (nothing waits behind it).
                assert (await client.get(url(server.address, "/fast"))).body == b"fast"
            for _ in range(100):  # the server sees the client close every connection
                if all(p.disconnected.done() for p in server.state.connections):
                    break
                await asyncio.sleep(0.01)
            assert all(p.disconnected.done() for p in server.state.connections)

    arun(main())


def test_only_http_urls() -> None:
    async def main() -> None:
        async with Client() as client:
            for bad in ("https://example.org/", "ftp://x/", "http:///path"):
                with pytest.raises(ValueError):
                    await client.get(bad)

    arun(main())


async def raw_server(serve: Serve) -> tuple[asyncio.AbstractServer, str]:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/"


def replying(data: bytes) -> Serve:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(data)
        await writer.drain()
        writer.close()

    return serve


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 2OO OK\r\n\r\n",  # not a status code
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # truncated
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",  # truncated chunk
        b"",  # closed without a response
    ],
)
def test_malformed_or_truncated_responses_raise(reply: bytes) -> None:
    async def main() -> None:
        server, address = await raw_server(replying(reply))
        async with server, Client(timeout=5) as client:
            with pytest.raises(RemoteProtocolError):
                await client.get(address)

    arun(main())


def test_close_delimited_and_http_1_0_responses() -> None:
    async def main() -> None:
        server, address = await raw_server(replying(b"HTTP/1.0 200 OK\r\nX-Old: 1\r\n\r\nuntil the end"))
        async with server, Client(timeout=5) as client:
            response = await client.get(address)
            assert response.body == b"until the end" and str(response.version) == "HTTP/1.0"

    arun(main())


# ------------------------------------------------------------------------------------
# Against nginx serving static files
# ------------------------------------------------------------------------------------
STATIC = """
server {
    listen 127.0.0.1:{port};
    root {dir}/html;
    keepalive_requests 1000;
    location / { }
}
"""


def test_against_nginx_as_an_origin() -> None:
    big = os.urandom(700_000)
    files: dict[str, bytes] = {"index.html": b"<h1>static</h1>\n", "big.bin": big, "data.json": b'{"a": 1}'}
    with Nginx(STATIC, files) as nginx:

        async def main() -> None:
            async with Client(timeout=10) as client:
                index = await client.get(nginx.url + "/")
                assert index.status == 200 and index.body == b"<h1>static</h1>\n"
                assert (index.headers.get(b"server") or b"").startswith(b"nginx")
                assert (await client.get(nginx.url + "/big.bin")).body == big
                head = await client.request("HEAD", nginx.url + "/big.bin")
                assert head.body == b"" and head.headers.get(b"content-length") == b"700000"
                streamed = await client.request("GET", nginx.url + "/big.bin", stream=True)
                assert b"".join([part async for part in streamed.iter_chunks()]) == big
                missing = await client.get(nginx.url + "/missing")
                assert missing.status == 404 and b"nginx" in await missing.read()
                data = await client.get(nginx.url + "/data.json")
                assert json.loads(await data.read()) == {"a": 1}
                concurrent = await asyncio.gather(*(client.get(nginx.url + "/big.bin") for _ in range(4)))
                assert all(r.body == big for r in concurrent)

        arun(main(), timeout=30)
        log = nginx.access_log()
    assert len(log) == 10, log
    # $remote_addr $connection $connection_requests: the first six requests were sent one
    # after another on a single keep-alive connection.
    serials = [line[1] for line in log[:6]]
    assert len(set(serials)) == 1 and [int(line[2]) for line in log[:6]] == [1, 2, 3, 4, 5, 6]
