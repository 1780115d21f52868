"""The built-in demo (``wirekit serve`` with no APP), route by route, on the wire."""

from __future__ import annotations

import asyncio

import pytest

from tests.http.aio.support import RawConnection, arun, get, running


def exchange(*requests: bytes, head: bool = False) -> list[tuple[int, dict[bytes, bytes], bytes, int]]:
    """Send each request on one keep-alive connection; (status, headers, body, chunks)."""

    async def main() -> list[tuple[int, dict[bytes, bytes], bytes, int]]:
        out = []
        async with running() as server:
            conn = await RawConnection.open(server.address)
            for request in requests:
                r = await conn.request(request, head=head)
                out.append((r.status, {n.lower(): v for n, v in r.headers}, r.body, len(r.chunks)))
            conn.close()
        return out

    return arun(main())


def test_get_root() -> None:
    [(status, headers, body, _)] = exchange(get("/"))
    assert (status, body) == (200, b"Hello, world!")
    assert headers[b"content-length"] == b"13"
    assert headers[b"content-type"].startswith(b"text/plain")


def test_head_root_has_the_length_and_no_body() -> None:
    [(status, headers, body, _)] = exchange(get("/", method="HEAD"), head=True)
    assert (status, body, headers[b"content-length"]) == (200, b"", b"13")


def test_exact_bytes_of_a_response() -> None:
    async def main() -> bytes:
        # Without the Date and Server fields (on by default; tests/http/aio/test_headers.py).
        async with running(date_header=False, server_header=False) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/", "Connection: close"))
            return await conn.rest()

    assert arun(main()) == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        b"content-length: 13\r\n\r\nHello, world!"
    )


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_echo_with_content_length(method: str) -> None:
    body = b"some text \x00\xff" * 100
    request = get("/echo", "Content-Type: application/x-test", f"Content-Length: {len(body)}", method=method) + body
    [(status, headers, echoed, _)] = exchange(request)
    assert status == 200 and echoed == body
    assert headers[b"content-type"] == b"application/x-test"
    assert headers[b"content-length"] == str(len(body)).encode()


def test_echo_without_content_type_has_none() -> None:
    [(status, headers, echoed, _)] = exchange(get("/echo", "Content-Length: 2", method="POST") + b"hi")
    assert (status, echoed) == (200, b"hi") and b"content-type" not in headers


def test_echo_of_a_chunked_upload_is_chunked() -> None:
    request = get("/echo", "Transfer-Encoding: chunked", "Content-Type: text/x", method="POST")
    request += b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    [(status, headers, echoed, chunks)] = exchange(request)
    assert (status, echoed, headers[b"transfer-encoding"]) == (200, b"hello world", b"chunked")
    assert chunks >= 1


def test_echo_streams_the_body_back_as_it_arrives() -> None:
    async def main() -> None:
        async with running() as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/echo", "Transfer-Encoding: chunked", method="POST") + b"5\r\nfirst\r\n")
            head = await asyncio.wait_for(conn.reader.readuntil(b"first\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            await conn.send(b"6\r\nsecond\r\n")
            assert await asyncio.wait_for(conn.reader.readuntil(b"second\r\n"), 5) == b"6\r\nsecond\r\n"
            await conn.send(b"0\r\n\r\n")
            assert await asyncio.wait_for(conn.reader.readuntil(b"0\r\n\r\n"), 5) == b"0\r\n\r\n"
            conn.close()

    arun(main())


def test_echo_with_expect_100_continue() -> None:
    async def main() -> None:
        async with running() as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/echo", "Content-Length: 4", "Expect: 100-continue", method="PUT"))
            assert await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
            await conn.send(b"data")
            response = await conn.response()
            assert response.body == b"data"
            conn.close()

    arun(main())


@pytest.mark.parametrize("n", [0, 1, 10, 65536, 65537, 300_000])
def test_bytes_n(n: int) -> None:
    [(status, headers, body, _)] = exchange(get(f"/bytes/{n}"))
    assert status == 200 and len(body) == n
    assert headers[b"content-length"] == str(n).encode()
    assert b"transfer-encoding" not in headers


@pytest.mark.parametrize("n", [0, 1, 3, 100])
def test_stream_n(n: int) -> None:
    [(status, headers, body, chunks)] = exchange(get(f"/stream/{n}"))
    assert status == 200 and headers[b"transfer-encoding"] == b"chunked"
    assert body == b"".join(b"chunk %d\n" % i for i in range(n))
    assert chunks == n


def test_stream_to_http_1_0_is_close_delimited() -> None:
    async def main() -> None:
        async with running() as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/stream/3", version="1.0"))
            assert response.body == b"chunk 0\nchunk 1\nchunk 2\n"
            assert response.header(b"transfer-encoding") is None
            assert await conn.closed_by_peer()

    arun(main())


@pytest.mark.parametrize(
    "request_bytes",
    [
        get("/nope"),
        get("/", "Content-Length: 0", method="POST"),
        get("/echo"),
        get("/echo", "Content-Length: 0", method="DELETE"),
        get("/bytes/"),
        get("/bytes/x"),
        get("/bytes/-1"),
        get("/bytes/10x"),
        get("/bytes/99999999999"),
        get("/stream/"),
        get("/stream/3", "Content-Length: 0", method="POST"),
        get("/?a=1"),
    ],
)
def test_anything_else_is_404(request_bytes: bytes) -> None:
    [(status, _headers, body, _)] = exchange(request_bytes)
    assert status == 404 and body == b"Not Found\n"


def test_keep_alive_across_routes() -> None:
    results = exchange(
        get("/"),
        get("/bytes/5"),
        get("/stream/2"),
        get("/echo", "Content-Length: 3", method="POST") + b"abc",
        get("/missing"),
        get("/"),
    )
    assert [r[0] for r in results] == [200, 200, 200, 200, 404, 200]
    assert [r[2] for r in results] == [b"Hello, world!", b"xxxxx", b"chunk 0\nchunk 1\n", b"abc", b"Not Found\n", b"Hello, world!"]


def test_pipelined_requests_are_answered_in_order() -> None:
    async def main() -> None:
        async with running() as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/stream/2") + get("/bytes/3") + get("/echo", "Content-Length: 2", method="POST") + b"ok" + get("/"))
            bodies = [(await conn.response()).body for _ in range(4)]
            assert bodies == [b"chunk 0\nchunk 1\n", b"xxx", b"ok", b"Hello, world!"]
            conn.close()

    arun(main())
