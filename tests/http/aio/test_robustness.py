"""``wirekit serve`` under abuse: many concurrent keep-alive connections, clients that
reset mid-upload or mid-download, slowloris, handlers that raise, malformed requests,
SIGTERM in the middle of streaming responses; and the server's file descriptors return to
their baseline afterwards.

The tests of this module share one server (``--timeout-header 1``); the descriptor check
comes last (pytest runs a module's tests in file order)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from tests.http.aio.support import RawConnection, ServerProcess, arun, fd_count, get, wait_until

BASELINE: dict[int, int] = {}  # server pid -> open file descriptors after warming up


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess("tests.http.aio.apps:robust_handler", "--timeout-header", "1") as proc:

        async def warm_up() -> None:
            conn = await RawConnection.open(proc.address)
            assert (await conn.request(get("/", "Connection: close"))).status == 200
            assert await conn.closed_by_peer()
            conn.close()

        arun(warm_up())
        time.sleep(0.1)
        BASELINE[proc.pid] = fd_count(proc.pid)
        yield proc
        assert proc.alive(), proc.stderr
        assert proc.stop() == 0


def test_200_concurrent_connections_with_20_keep_alive_requests_each(server: ServerProcess) -> None:
    async def client(i: int) -> int:
        conn = await RawConnection.open(server.address, timeout=20)
        ok = 0
        for j in range(20):
            kind = (i + j) % 3
            if kind == 0:
                r = await conn.request(get("/"), timeout=20)
                ok += r.body == b"Hello, world!"
            elif kind == 1:
                r = await conn.request(get(f"/bytes/{100 + j}"), timeout=20)
                ok += r.body == b"x" * (100 + j)
            else:
                payload = b"%d-%d" % (i, j)
                r = await conn.request(get("/echo", f"Content-Length: {len(payload)}", method="POST") + payload, timeout=20)
                ok += r.body == payload
            assert r.status == 200
        conn.close()
        return ok

    async def main() -> list[int]:
        return await asyncio.gather(*(client(i) for i in range(200)))

    assert arun(main(), timeout=60) == [20] * 200


def test_clients_that_reset_mid_upload(server: ServerProcess) -> None:
    async def main() -> None:
        for _ in range(5):
            conn = await RawConnection.open(server.address)
            await conn.send(get("/echo", f"Content-Length: {1 << 20}", method="POST") + b"u" * 200_000)
            await asyncio.sleep(0.02)
            conn.reset()
        after = await RawConnection.open(server.address)
        assert (await after.request(get("/"))).body == b"Hello, world!"
        after.close()

    arun(main())
    assert server.alive()


def test_clients_that_reset_mid_download(server: ServerProcess) -> None:
    async def main() -> None:
        for target in ("/bytes/50000000", "/stream/1000000"):
            conn = await RawConnection.open(server.address)
            await conn.send(get(target))
            await asyncio.wait_for(conn.reader.readexactly(100_000), 5)
            conn.reset()
        after = await RawConnection.open(server.address)
        assert (await after.request(get("/bytes/10"))).body == b"x" * 10
        after.close()

    arun(main())
    assert server.alive()


def test_half_a_request_line_then_silence_is_cut_off_by_the_header_timeout(server: ServerProcess) -> None:
    async def main() -> float:
        conn = await RawConnection.open(server.address)
        started = time.monotonic()
        await conn.send(b"GET /slowloris HT")
        data = await conn.rest(timeout=5)
        assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"connection: close" in data
        return time.monotonic() - started

    assert 0.9 <= arun(main()) < 3.0


def test_a_head_that_trickles_in_is_cut_off_too(server: ServerProcess) -> None:
    async def main() -> float:
        conn = await RawConnection.open(server.address)
        started = time.monotonic()
        first = b""
        for i in range(100):  # one header line every 50 ms: never done within a second
            await conn.send(b"GET / HTTP/1.1\r\n" if i == 0 else b"X-Drip: %d\r\n" % i)
            try:
                first = await asyncio.wait_for(conn.reader.read(1), 0.05)
            except TimeoutError:
                continue
            break  # the server answered
        data = first + await conn.rest(timeout=5)
        assert data.startswith(b"HTTP/1.1 408")
        return time.monotonic() - started

    assert arun(main()) < 3.0


def test_a_handler_that_raises_gets_a_500(server: ServerProcess) -> None:
    async def main() -> None:
        conn = await RawConnection.open(server.address)
        response = await conn.request(get("/boom"))
        assert response.status == 500 and response.header(b"connection") == b"close"
        assert response.body == b"500 Internal Server Error\n"
        assert await conn.closed_by_peer()
        again = await RawConnection.open(server.address)
        assert (await again.request(get("/"))).status == 200
        again.close()

    arun(main())
    assert wait_until(lambda: "RuntimeError: boom" in server.stderr, timeout=2), "the traceback is logged"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64), 400),  # a TLS ClientHello
    ],
)
def test_malformed_requests_are_answered_and_closed(server: ServerProcess, request_bytes: bytes, status: int) -> None:
    async def main() -> None:
        conn = await RawConnection.open(server.address)
        response = await conn.request(request_bytes)
        assert response.status == status
        assert await conn.closed_by_peer()

    arun(main())


def test_many_short_connections(server: ServerProcess) -> None:
    for _ in range(50):
        with socket.create_connection(server.address, timeout=5) as sock:
            sock.sendall(get("/", "Connection: close"))
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            assert data.endswith(b"Hello, world!")


def test_file_descriptors_return_to_the_baseline(server: ServerProcess) -> None:
    baseline = BASELINE[server.pid]
    assert wait_until(lambda: fd_count(server.pid) == baseline, timeout=8), (fd_count(server.pid), baseline)


# ------------------------------------------------------------------------------------
# SIGTERM while responses stream
# ------------------------------------------------------------------------------------
def test_sigterm_during_a_large_response_finishes_it_and_exits_0() -> None:
    size = 30_000_000
    with ServerProcess() as server:

        async def main() -> None:
            idle = await RawConnection.open(server.address)
            assert (await idle.request(get("/"))).status == 200
            slow = await RawConnection.open(server.address)
            await slow.send(get(f"/bytes/{size}"))
            head = await asyncio.wait_for(slow.reader.readuntil(b"\r\n\r\n"), 5)
            assert b"content-length: %d" % size in head
            received = len(await asyncio.wait_for(slow.reader.readexactly(100_000), 5))
            server.send_signal(signal.SIGTERM)
            assert await idle.closed_by_peer(timeout=3), "idle connections are closed at once"
            with pytest.raises(OSError):
                await RawConnection.open(server.address, timeout=2)
            await asyncio.sleep(0.3)  # a slow consumer
            while received < size:
                chunk = await asyncio.wait_for(slow.reader.read(1 << 20), 5)
                assert chunk, f"the response was cut at {received} bytes"
                received += len(chunk)
            assert received == size
            assert await slow.closed_by_peer(timeout=5)

        arun(main(), timeout=40)
        assert server.wait(10) == 0


def test_sigterm_during_an_asgi_stream_finishes_it_and_exits_0() -> None:
    with ServerProcess("tests.http.aio.apps:slow_stream_app") as server:

        async def main() -> None:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/slow/10"))
            await asyncio.wait_for(conn.reader.readuntil(b"tick 0\n"), 5)
            server.send_signal(signal.SIGTERM)
            rest = await conn.rest(timeout=10)
            assert rest.endswith(b"tick 9\n\r\n0\r\n\r\n"), rest

        arun(main())
        assert server.wait(10) == 0
    assert "lifespan: lifespan.shutdown" in server.stderr
