"""Issue 17 (server hardening), continued, over real sockets on 127.0.0.1; each test
starts its own server, is bounded in time, and stops the server.

- A client reading a native streaming response as fast as it can does not hold up the
  other connections, nor a SIGTERM (defect 2).
- A client that pipelines continuously, with sends that end mid-request, is not cut off
  by the request-head timeout (defect 4).
- Absolute-form request targets: native handlers get the origin-form path and the
  authority; ASGI apps see the origin-form path and the target's authority as Host
  (defect 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from typing import Any

import pytest

from tests.http.aio.apps import scope_app
from tests.http.aio.support import RawConnection, ServerProcess, arun, get, read_response, running

TIMEOUT = 20


# ------------------------------------------------------------------------------------
# Defect 2: one fast reader of a streaming response
# ------------------------------------------------------------------------------------
class FastReader:
    """A thread that asks for ``target`` and reads the response as fast as it can."""

    def __init__(self, address: tuple[str, int], target: bytes) -> None:
        self.sock = socket.create_connection(address, timeout=TIMEOUT)
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target)
        self.received = 0
        self.ended = False  # the server closed, or the response ended
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(1 << 20)
            except OSError:  # reset by the server, or `stop`
                data = b""
            if not data or data.endswith(b"\r\n0\r\n\r\n"):
                self.ended = True
                return
            self.received += len(data)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread's recv
        self._thread.join(TIMEOUT)
        self.sock.close()


def hello_latency(address: tuple[str, int]) -> float:
    """Seconds from connecting to reading the whole answer to ``GET /``."""
    start = time.monotonic()
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while not data.endswith(b"Hello, world!"):
            chunk = sock.recv(4096)
            assert chunk, data
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
    return time.monotonic() - start


def test_a_fast_reader_of_a_stream_does_not_hold_up_other_connections() -> None:
    with ServerProcess() as server:
        # 2 million chunks: many seconds of streaming, longer than this test runs.
        reader = FastReader(server.address, b"/stream/2000000")
        try:
            deadline = time.monotonic() + 5
            while reader.received < 100_000 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert reader.received >= 100_000, "the stream did not start"
            # Before the fix the first GET / waited for the whole stream (8.3 s for
            # /stream/400000 here); now each is answered within a loop turn or so.
            latencies = []
            for _ in range(5):
                before = reader.received
                latencies.append(hello_latency(server.address))
                assert not reader.ended
                time.sleep(0.02)
                assert reader.received > before, "the stream stalled"
            assert max(latencies) < 0.25, latencies
        finally:
            reader.stop()
        assert server.stop() == 0


def test_sigterm_during_a_fast_stream_honours_the_graceful_timeout() -> None:
    with ServerProcess("--timeout-graceful", "1") as server:
        reader = FastReader(server.address, b"/stream/2000000")
        try:
            deadline = time.monotonic() + 5
            while reader.received < 100_000 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert reader.received >= 100_000, "the stream did not start"
            start = time.monotonic()
            server.send_signal()
            server.wait(TIMEOUT)
            # The stream is cut after the 1 s grace period (before the fix: at its end,
            # tens of seconds later).
            assert time.monotonic() - start < 2.5
        finally:
            reader.stop()


# ------------------------------------------------------------------------------------
# Defect 4: the head timer and a pipelining client whose sends end mid-request
# ------------------------------------------------------------------------------------
HEAD_TIMEOUT = 0.5


@pytest.mark.parametrize("app", [None, scope_app], ids=["native-demo", "asgi"])
def test_pipelining_with_sends_split_mid_request_outlives_the_head_timeout(app: Any) -> None:
    # Each send is the end of one request and the start of the next (as TCP segments cut
    # a stream anywhere), 5 ms apart, for 5 head timeouts, reading every response. Before
    # the fix the buffer was never empty, so the head timer never restarted: 408 and
    # close after one timeout (native), a close with no response (ASGI).
    request = get("/")
    half = len(request) // 2
    piece = request[half:] + request[:half]

    async def main() -> None:
        async with running(app, timeout_header=HEAD_TIMEOUT) as server:
            conn = await RawConnection.open(server.address)
            statuses: list[int] = []
            closed = False

            async def read() -> None:
                nonlocal closed
                try:
                    while True:
                        statuses.append((await read_response(conn.reader)).status)
                except (asyncio.IncompleteReadError, ConnectionError):
                    closed = True

            reader = asyncio.create_task(read())
            loop = asyncio.get_running_loop()
            end = loop.time() + 5 * HEAD_TIMEOUT
            await conn.send(request[:half])
            count = 0  # requests sent whole
            while loop.time() < end and not closed:
                await conn.send(piece)
                count += 1
                await asyncio.sleep(0.005)
            if not closed:
                await conn.send(request[half:])
                count += 1
            deadline = loop.time() + 5
            while len(statuses) < count and not closed and loop.time() < deadline:
                await asyncio.sleep(0.01)
            reader.cancel()
            assert not closed, f"closed after {len(statuses)} responses: {set(statuses)}"
            assert count > 100, count  # the client did pipeline for that long
            assert statuses == [200] * count
            # Still open and served.
            assert (await conn.request(request)).status == 200

    arun(main())


def test_a_slow_head_after_pipelined_requests_still_gets_408() -> None:
    # The clock restarts with each head, and still times each: three requests, then a
    # head that trickles in (a byte every 50 ms) for longer than the timeout.
    request = get("/")

    async def main() -> None:
        async with running(None, timeout_header=HEAD_TIMEOUT) as server:
            conn = await RawConnection.open(server.address)
            loop = asyncio.get_running_loop()
            await conn.send(request * 3 + request[:5])
            start = loop.time()

            async def trickle() -> None:
                for byte in request[5:-1]:
                    await asyncio.sleep(0.05)
                    await conn.send(bytes([byte]))

            sender = asyncio.create_task(trickle())
            statuses = [(await conn.response()).status for _ in range(4)]
            elapsed = loop.time() - start
            sender.cancel()
            assert statuses == [200, 200, 200, 408]
            # One timeout, plus up to one sweep interval (and some slack).
            assert HEAD_TIMEOUT <= elapsed < HEAD_TIMEOUT + 0.6, elapsed
            assert await conn.closed_by_peer(timeout=3)

    arun(main())


# ------------------------------------------------------------------------------------
# Defect 7: absolute-form targets
# ------------------------------------------------------------------------------------
def test_the_demo_answers_absolute_form_targets() -> None:
    # Before the fix the demo saw "http://localhost/" as its target and answered 404.
    async def main() -> None:
        async with running(None) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(
                b"GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n"
                b"GET HTTP://localhost:8080/bytes/7 HTTP/1.1\r\nHost: x\r\n\r\n"
                b"HEAD http://localhost HTTP/1.1\r\nHost: localhost\r\n\r\n"
                b"GET http://localhost/nothing HTTP/1.1\r\nHost: localhost\r\n\r\n"
            )
            first = await conn.response()
            assert (first.status, first.body) == (200, b"Hello, world!")
            second = await conn.response()
            assert (second.status, len(second.body)) == (200, 7)
            third = await conn.response(head=True)
            assert (third.status, third.header(b"content-length")) == (200, b"13")
            assert (await conn.response()).status == 404
            # userinfo in an http URI is an error (RFC 9110 §4.2.4), then the close.
            bad = await RawConnection.open(server.address)
            assert (await bad.request(b"GET http://u@localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n")).status == 400

    arun(main())


def test_asgi_apps_see_the_origin_form_path_and_the_authority_as_host() -> None:
    async def main() -> None:
        async with running(scope_app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(
                b"GET http://example.com:8080/a%20b/c?x=1&y={2} HTTP/1.1\r\nHost: other\r\nAccept: */*\r\n\r\n"
                b"GET https://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n"
                b"GET http://h.test/p HTTP/1.0\r\n\r\n"
            )
            scopes = [json.loads((await conn.response()).body) for _ in range(3)]
            assert [(s["path"], s["raw_path"], s["query_string"]) for s in scopes] == [
                ("/a b/c", "/a%20b/c", "x=1&y={2}"),
                ("/", "/", ""),
                ("/p", "/p", ""),
            ]
            assert scopes[0]["headers"] == [["host", "example.com:8080"], ["accept", "*/*"]]
            assert scopes[1]["headers"] == [["host", "example.org"]]
            assert scopes[2]["headers"] == [["host", "h.test"]]  # HTTP/1.0: added

    arun(main())
