"""Issue 17 (server hardening) over real sockets on 127.0.0.1: each test starts its own
server (in-process, or ``wirekit serve`` as a subprocess), is bounded in time, and stops
the server.

- A client that pipelines GETs and never reads: the server's memory stays flat (defect
  1); a pipelining client that does read gets every response.
- Request targets with the bytes browsers leave unencoded: raw bytes, curl, urllib and
  headless Chromium (defect 3).
- Half-close after pipelined requests: every one is answered, native and ASGI (defect 5).
- A response's Content-Length as one field with one value; conflicting values from an
  ASGI app are a 500 (defect 6).
"""

from __future__ import annotations

import asyncio
import json
import select
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from typing import Any

import psutil
import pytest
from wirekit.http import Reqd, Response
from wirekit.http.aio._asgi import Receive, Scope, Send

from tests.http.aio.apps import scope_app
from tests.http.aio.support import RawConnection, ServerProcess, arun, get, require_tool, running

TIMEOUT = 20


# ------------------------------------------------------------------------------------
# Defect 1: a pipelining client that never reads
# ------------------------------------------------------------------------------------
FLOOD = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 100


def flood(address: tuple[str, int], seconds: float) -> int:
    """Send ``FLOOD`` in a loop for ``seconds`` with a 4 KiB receive buffer, never
    reading; the bytes sent. The connection is reset at the end."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(address)
    sock.setblocking(False)
    sent = 0
    data = memoryview(FLOOD)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            _, writable, _ = select.select([], [sock], [], 0.05)
            if writable:
                try:
                    n = sock.send(data)
                except BlockingIOError:
                    continue
                sent += n
                data = data[n:] or memoryview(FLOOD)
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    return sent


@pytest.mark.parametrize("app", [None, "tests.http.aio.apps:scope_app"], ids=["native-demo", "asgi"])
def test_a_pipelining_client_that_never_reads_cannot_grow_the_server(app: str | None) -> None:
    with ServerProcess(*([app] if app else [])) as server:
        process = psutil.Process(server.pid)
        time.sleep(0.2)
        before = process.memory_info().rss
        # Before the fix the server grew 13 MiB/s (demo) and 9 MiB/s (ASGI) here.
        sent = flood(server.address, 2.5)
        after = process.memory_info().rss
        assert sent > 200_000, sent  # the flood happened (into the socket buffers at least)
        growth = (after - before) / 2**20
        assert growth < 6, f"RSS grew {growth:.1f} MiB while a client flooded without reading"
        # The server is still fine, and the flooding connection is gone.
        response = urllib.request.urlopen(server.url + "/", timeout=TIMEOUT)
        assert response.status == 200
        assert server.stop() == 0


def test_a_pipelining_client_that_reads_gets_every_response() -> None:
    # 3000 pipelined requests whose responses (3.3 MB) go well beyond the output bound and
    # the transport's buffer: reading pauses and resumes many times; nothing is lost.
    count, size = 3000, 1000

    async def main() -> None:
        async with running(None) as server:
            conn = await RawConnection.open(server.address)

            async def send() -> None:
                for i in range(0, count, 100):
                    await conn.send(b"".join(get(f"/bytes/{size}") for _ in range(min(100, count - i))))

            sender = asyncio.create_task(send())
            for _ in range(count):
                response = await conn.response(timeout=10)
                assert response.status == 200 and len(response.body) == size
            await sender

    arun(main(), timeout=60)


# ------------------------------------------------------------------------------------
# Defect 3: browser-compatible request targets
# ------------------------------------------------------------------------------------
# (target sent, raw_path, query_string): Chromium's bytes for /?filter={"a":1}, /?q={a}
# and /?q=`x`^|\y<z> (captured from its request lines), then curl's '/a|b'.
TARGETS = [
    (b"/?filter={%22a%22:1}", b"/", b"filter={%22a%22:1}"),
    (b"/?q={a}", b"/", b"q={a}"),
    (b"/?q=`x`^|\\y%3Cz%3E", b"/", b"q=`x`^|\\y%3Cz%3E"),
    (b"/a|b", b"/a|b", b""),
]


def test_browser_targets_reach_the_app_pipelined() -> None:
    async def main() -> None:
        async with running(scope_app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(b"".join(get(target.decode("latin-1")) for target, _, _ in TARGETS))
            for _target, raw_path, query in TARGETS:
                response = await conn.response()
                assert response.status == 200, response
                scope = json.loads(response.body)
                assert (scope["raw_path"], scope["query_string"]) == (raw_path.decode(), query.decode())

    arun(main())


def curl(*args: str) -> bytes:
    result = subprocess.run(
        [require_tool("curl"), "--silent", "--show-error", "--max-time", str(TIMEOUT), *args],
        capture_output=True, timeout=TIMEOUT + 5, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_curl_urllib_and_chromium_targets() -> None:
    chromium = require_tool("chromium")
    profile = tempfile.mkdtemp(prefix="wirekit-chromium-")
    try:
        with ServerProcess("tests.http.aio.apps:scope_app") as server:
            scope: dict[str, Any] = json.loads(curl("-g", server.url + "/?q={a}"))
            assert scope["query_string"] == "q={a}"
            scope = json.loads(curl(server.url + "/a|b"))
            assert scope["raw_path"] == "/a|b"
            with urllib.request.urlopen(server.url + '/x?q={"a":`1`}', timeout=TIMEOUT) as response:
                scope = json.loads(response.read())
            assert scope["query_string"] == '"q={"a":`1`}"'[1:-1]
            result = subprocess.run(
                [
                    chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--dump-dom", server.url + '/?filter={"a":1}',
                ],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert server.stop() == 0
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    # The page is the app's JSON (the scope it saw), as Chromium shows it.
    assert '"query_string": "filter={%22a%22:1}"' in result.stdout, result.stdout[:2000]
    assert '"status": 400' not in result.stdout


@pytest.mark.parametrize("target", [b"/a#b", b"/a<b", b"/a\x7fb", b"/a\xc3\xa9"])
def test_other_target_bytes_are_still_400(target: bytes) -> None:
    async def main() -> None:
        async with running(scope_app) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            assert response.status == 400
            assert await conn.closed_by_peer()

    arun(main())


# ------------------------------------------------------------------------------------
# Defect 5: half-close after pipelined requests
# ------------------------------------------------------------------------------------
def later_handler(reqd: Reqd) -> None:
    """A native handler that answers 10 ms later (with the target), as handlers that do
    some IO first do."""
    request = reqd.request
    assert request is not None
    asyncio.get_running_loop().call_later(0.01, reqd.respond_with_bytes, Response(200), request.target)


@pytest.mark.parametrize("count", [3, 20])
@pytest.mark.parametrize("app", [later_handler, scope_app], ids=["native", "asgi"])
def test_half_close_after_pipelined_requests(app: Any, count: int) -> None:
    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(b"".join(get(f"/{i}") for i in range(count)))
            conn.writer.write_eof()  # shutdown(SHUT_WR): no more requests
            loop = asyncio.get_running_loop()
            start = loop.time()
            responses = [await conn.response() for _ in range(count)]
            # Then the server closes, promptly (not at the keep-alive timeout).
            assert await conn.closed_by_peer(timeout=2)
            assert loop.time() - start < 2
            assert [r.status for r in responses] == [200] * count
            if app is later_handler:
                assert [r.body for r in responses] == [b"/%d" % i for i in range(count)]
            else:
                assert [json.loads(r.body)["path"] for r in responses] == [f"/{i}" for i in range(count)]
            # Only the last may say the connection closes.
            assert [r.header(b"connection") for r in responses[:-1]] == [None] * (count - 1)
            assert responses[-1].header(b"connection") in (None, b"close")

    arun(main())


# ------------------------------------------------------------------------------------
# Defect 6: the response Content-Length, normalised
# ------------------------------------------------------------------------------------
LENGTH_HEADERS = {
    "/list": [(b"content-length", b"5, 5")],
    "/twice": [(b"content-length", b"5"), (b"Content-Length", b"5")],
    "/conflict": [(b"content-length", b"5, 6")],
    "/conflict-twice": [(b"content-length", b"5"), (b"content-length", b"6")],
}


async def length_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers ``hello`` with the Content-Length fields of ``LENGTH_HEADERS[path]``, in one
    body (``?stream``: in two body messages)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"text/plain"), *LENGTH_HEADERS[scope["path"]]]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if scope["query_string"] == b"stream":
        await send({"type": "http.response.body", "body": b"hel", "more_body": True})
        await send({"type": "http.response.body", "body": b"lo"})
    else:
        await send({"type": "http.response.body", "body": b"hello"})


def content_lengths(response: Any) -> list[bytes]:
    return [value for name, value in response.headers if name.lower() == b"content-length"]


@pytest.mark.parametrize("query", ["", "?stream"], ids=["whole", "streamed"])
def test_asgi_content_length_goes_out_as_one_field(query: str) -> None:
    async def main() -> None:
        async with running(length_app) as server:
            conn = await RawConnection.open(server.address)
            for path in ("/list", "/twice"):
                response = await conn.request(get(path + query))
                assert response.status == 200 and response.body == b"hello"
                assert content_lengths(response) == [b"5"], response.headers
            for path in ("/conflict", "/conflict-twice"):  # the app's error: 500, then close
                conn = await RawConnection.open(server.address)
                response = await conn.request(get(path + query))
                assert response.status == 500, response
                assert await conn.closed_by_peer()

    arun(main())


def test_the_demo_echo_does_not_copy_a_listed_content_length() -> None:
    async def main() -> None:
        async with running(None) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/echo", "Content-Length: 5, 5", method="POST") + b"hello")
            assert response.status == 200 and response.body == b"hello"
            assert content_lengths(response) == [b"5"], response.headers
            # The connection is still usable: the response was framed right.
            assert (await conn.request(get("/"))).body == b"Hello, world!"

    arun(main())
