"""Issue 17 (server hardening), the ASGI path, over real sockets on 127.0.0.1; each test
starts its own server, is bounded in time, and stops the server.

- A cancelled ``receive()`` loses nothing: the next one gets the body (defect 8).
- A client dropping a Starlette StreamingResponse: nothing logged, and the app task is
  cancelled at once, so the generator's ``finally`` runs within a second (defect 10).
- Shutdown: request tasks are cancelled and awaited before the lifespan shutdown, which
  also runs when the server cannot listen after the lifespan startup (defect 11).
"""

from __future__ import annotations

import asyncio
import re
import socket
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wirekit.http.aio._asgi import Receive, Scope, Send

from tests.http.aio.support import (
    RawConnection,
    ServerProcess,
    arun,
    get,
    running,
    wait_until,
    wirekit,
)

BODY = b"x" * 1000 + b"the end"


# ------------------------------------------------------------------------------------
# Defect 8: a cancelled receive()
# ------------------------------------------------------------------------------------
async def impatient_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Gives up on a first receive() after 50 ms, then reads the body; answers the body
    and what the first look-ahead gave."""
    if scope["type"] != "http":
        return
    first = "timeout"
    body = b""
    more = True
    try:
        message = await asyncio.wait_for(receive(), 0.05)
        first = message["type"]
        body, more = message.get("body", b""), message.get("more_body", False)
    except TimeoutError:
        pass
    while more:
        message = await receive()
        assert message["type"] == "http.request", message
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-first", first.encode())]})
    await send({"type": "http.response.body", "body": body})


async def slow_upload(address: tuple[str, int] | None, target: str = "/") -> tuple[int, bytes, bytes | None]:
    """POST ``BODY`` with the body sent 0.2 s after the head; (status, body, x-first)."""
    conn = await RawConnection.open(address)
    await conn.send(get(target, f"Content-Length: {len(BODY)}", method="POST"))
    await asyncio.sleep(0.2)
    await conn.send(BODY[:500])
    await asyncio.sleep(0.05)
    await conn.send(BODY[500:])
    response = await conn.response()
    conn.close()
    return response.status, response.body, response.header(b"x-first")


def test_a_receive_cancelled_by_a_timeout_loses_nothing() -> None:
    # Before the fix the second receive() returned http.disconnect (the read scheduled by
    # the cancelled one was still pending): the app failed, the client got a 500.
    async def main() -> None:
        async with running(impatient_app) as server:
            status, body, first = await slow_upload(server.address)
            assert status == 200
            assert first == b"timeout"  # the body was not there yet
            assert body == BODY
            # The connection is fine afterwards: a second request on a new one too.
            status, body, _ = await slow_upload(server.address)
            assert (status, body) == (200, BODY)

    arun(main())


def test_a_receive_cancelled_when_the_body_is_there_keeps_its_message() -> None:
    # The body arrives with the head: the first receive() gets it at once; the app sees
    # the message there or, if the timeout won the race, in the next receive().
    async def main() -> None:
        async with running(impatient_app) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/", f"Content-Length: {len(BODY)}", method="POST") + BODY)
            assert response.status == 200
            assert response.header(b"x-first") in (b"timeout", b"http.request")
            assert response.body == BODY

    arun(main())


async def _is_disconnected_then_body(request: Request) -> Response:
    if await request.is_disconnected():
        return PlainTextResponse("disconnected?", status_code=499)
    body = await request.body()
    return PlainTextResponse(body)


starlette_upload = Starlette(routes=[Route("/upload", _is_disconnected_then_body, methods=["POST"])])


def test_starlette_is_disconnected_before_body_on_a_slow_upload() -> None:
    # Starlette's is_disconnected() calls receive() in a cancelled scope. Before the fix
    # the body was lost and request.body() raised ClientDisconnect: 500.
    async def main() -> None:
        async with running(starlette_upload) as server:
            status, body, _ = await slow_upload(server.address, "/upload")
            assert (status, body) == (200, BODY)

    arun(main())


def test_starlette_is_disconnected_is_true_once_the_client_left() -> None:
    # The look-ahead still reports a disconnect: the client sends its head and closes.
    seen: list[bool] = []

    async def check(request: Request) -> Response:
        for _ in range(100):
            if await request.is_disconnected():
                seen.append(True)
                break
            await asyncio.sleep(0.02)
        return PlainTextResponse("done")

    app = Starlette(routes=[Route("/", check, methods=["POST"])])

    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/", "Content-Length: 10", method="POST"))
            await asyncio.sleep(0.1)
            conn.close()
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.02)
            assert seen == [True]

    arun(main())


# ------------------------------------------------------------------------------------
# Defect 10: a client drops a streaming response
# ------------------------------------------------------------------------------------
STREAM_APP = "tests.http.aio.apps_hardening:stream_app"


def marks(stderr: str, what: str) -> list[float]:
    """The times the app printed as ``WHAT TIME`` (see apps_hardening)."""
    return [float(t) for t in re.findall(rf"^{re.escape(what)} (\d+\.\d+)$", stderr, re.M)]


def read_then_close(address: tuple[str, int], target: bytes, nbytes: int) -> float:
    """Ask for ``target``, read ``nbytes`` of the response, close; the time of the close."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target)
        got = 0
        while got < nbytes:
            data = sock.recv(65536)
            assert data, "the server closed first"
            got += len(data)
    return time.time()


@pytest.mark.parametrize(("target", "nbytes"), [(b"/sse", 200), (b"/fast", 1 << 20)], ids=["sse", "fast"])
def test_a_dropped_stream_is_not_logged_and_its_generator_ends_at_once(target: bytes, nbytes: int) -> None:
    # Before the fix: an ERROR traceback (ClientDisconnect) per dropped stream, and the
    # generator's finally ran at garbage collection, 11-18 s later, or never.
    with ServerProcess(STREAM_APP) as server:
        path = target.decode()
        closes = []
        for _ in range(5):
            closes.append(read_then_close(server.address, target, nbytes))
            assert wait_until(lambda: len(marks(server.stderr, f"finally {path}")) == len(closes), 3.0), (
                f"the generator's finally did not run within 3 s:\n{server.stderr}"
            )
        delays = [end - close for end, close in zip(marks(server.stderr, f"finally {path}"), closes, strict=True)]
        assert max(delays) < 1.0, delays
        assert server.stop() == 0
    assert "ERROR" not in server.stderr and "Traceback" not in server.stderr, server.stderr


# ------------------------------------------------------------------------------------
# Defect 11: shutdown ordering
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/sse", "/sse-cleanup"])
def test_sigterm_ends_request_tasks_before_the_lifespan_shutdown(path: str) -> None:
    # An event stream is still going when the 0.5 s grace period ends: its task is
    # cancelled and awaited (its finally, with a 0.3 s async cleanup for /sse-cleanup,
    # ends), and only then the lifespan shutdown runs. Before the fix the lifespan
    # shutdown ran first and the cleanup was cut off by the exit.
    with ServerProcess(STREAM_APP, "--timeout-graceful", "0.5") as server:
        sock = socket.create_connection(server.address, timeout=5)
        try:
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
            assert b"data: 0" in sock.recv(4096)  # streaming; the client reads no more
            start = time.monotonic()
            server.send_signal()
            assert server.wait(10) == 0
            took = time.monotonic() - start
        finally:
            sock.close()
    finally_at = marks(server.stderr, f"finally {path}")
    shutdown_at = marks(server.stderr, "lifespan shutdown")
    assert len(finally_at) == 1 and len(shutdown_at) == 1, server.stderr
    assert finally_at[0] < shutdown_at[0], server.stderr
    assert took < 0.5 + 2.0, took
    assert "ERROR" not in server.stderr and "Traceback" not in server.stderr, server.stderr


def test_the_lifespan_shutdown_runs_when_the_port_is_taken() -> None:
    # The lifespan startup ran, then binding failed: the shutdown releases what the
    # startup acquired (before: it never ran).
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = wirekit("serve", STREAM_APP, "--port", str(port))
    assert result.returncode == 1, result.stderr
    assert "cannot listen" in result.stderr
    startup_at = marks(result.stderr, "lifespan startup")
    shutdown_at = marks(result.stderr, "lifespan shutdown")
    assert len(startup_at) == 1 and len(shutdown_at) == 1, result.stderr
    assert startup_at[0] <= shutdown_at[0]
