"""Checks shared by the tests of the blocking (`wirekit.http.sync`) and trio
(`wirekit.http.trio`) runtimes: the same native app on both, each started in-process on
127.0.0.1 and a free port and stopped, and the same real peers against it (curl,
``http.client``, httpx, nginx as a reverse proxy, raw sockets).

The app (`make_app`):

| request | response |
|---|---|
| ``GET /`` | 200 ``Hello, world!`` |
| ``POST``/``PUT /echo`` | 200, the body streamed back chunk by chunk, each read only once the previous chunk was written (backpressure) |
| ``GET /stream/N`` | 200, ``N`` chunks ``chunk i\\n`` (chunked) |
| ``GET /big/N`` | 200, ``N`` bytes with ``Content-Length``, produced 64 KiB at a time as the previous piece is written |
| ``GET /iov/N`` | 200, ``N`` six-digit numbers, each its own buffer (``schedule``) |
| ``GET /fail`` | the handler raises (500) |
| ``GET /later`` | 200 ``later``, answered 0.3 s later from elsewhere (another thread / a task) |
| anything else | 404, body not read |

`Stats` counts what the app produced, so backpressure tests can compare it with what a
slow client received.

Import as ``from tests.http.runtime_checks import ...``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import resource
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from wirekit.http import BodyWriter, Config, FlushReason, Reqd, Response

from tests.http.aio.support import Nginx, require_tool, wait_until
from tests.http.runtime import parse_responses

__all__ = [
    "TIMEOUT",
    "Later",
    "Running",
    "Stats",
    "make_app",
    "sync_server",
    "trio_server",
]

TIMEOUT = 20
PIECE = 65536

Later = Callable[[Reqd, float, Callable[[], None]], None]
"""``later(reqd, delay, fn)``: run ``fn`` on the connection after ``delay`` seconds,
started from another thread or task (how depends on the runtime)."""


@dataclass
class Stats:
    """What the app did, for the tests to compare with what the peers saw."""

    produced: int = 0  # bytes the app handed to body writers (/big, /echo)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, n: int) -> None:
        with self.lock:
            self.produced += n


def make_app(later: Later, stats: Stats) -> Callable[[Reqd], None]:
    """The test app (see the module docstring)."""

    def handler(reqd: Reqd) -> None:
        request = reqd.request
        assert request is not None
        stats.requests += 1
        target, method = request.target, bytes(request.method)
        if target == b"/":
            reqd.respond_with_bytes(Response(200, [(b"content-type", b"text/plain")]), b"Hello, world!")
        elif target == b"/echo" and method in (b"POST", b"PUT"):
            echo(reqd)
        elif target.startswith(b"/stream/"):
            writer = reqd.respond_with_streaming(Response(200))
            for i in range(int(target[8:])):
                writer.write(b"chunk %d\n" % i)
            writer.close()
        elif target.startswith(b"/big/"):
            big(reqd, int(target[5:]))
        elif target.startswith(b"/iov/"):
            # N separate buffers queued without copying: more iovecs than one sendmsg takes.
            n = int(target[5:])
            writer = reqd.respond_with_streaming(Response(200, [(b"content-length", b"%d" % (n * 6))]))
            for i in range(n):
                writer.schedule(b"%06d" % i)
            writer.close()
        elif target == b"/fail":
            raise RuntimeError("the handler failed")
        elif target == b"/later":
            later(reqd, 0.3, lambda: reqd.respond_with_bytes(Response(200), b"later"))
        else:
            reqd.respond_with_bytes(Response(404), b"not found\n")

    def echo(reqd: Reqd) -> None:
        request = reqd.request
        assert request is not None
        ctype = request.headers.get(b"content-type") or b"application/octet-stream"
        body = reqd.request_body
        # The response starts with the first bytes of the body: reading first is what
        # sends "100 Continue" to a client that expects it.
        writers: list[BodyWriter] = []

        def writer() -> BodyWriter:
            if not writers:
                writers.append(reqd.respond_with_streaming(Response(200, [(b"content-type", ctype)])))
            return writers[0]

        def on_read(data: bytes) -> None:
            out = writer()
            out.write(data)
            stats.add(len(data))
            out.flush(next_read)  # the next chunk once this one is written

        def next_read(reason: FlushReason) -> None:
            if reason is FlushReason.DRAIN:
                return  # the client is gone
            body.schedule_read(on_read, on_eof, on_error)

        def on_eof() -> None:
            writer().close()

        def on_error(exc: Exception) -> None:
            if writers:
                writers[0].abort()

        body.schedule_read(on_read, on_eof, on_error)

    def big(reqd: Reqd, size: int) -> None:
        writer = reqd.respond_with_streaming(Response(200, [(b"content-length", b"%d" % size)]))
        left = [size]
        piece = b"x" * PIECE

        def more(reason: FlushReason | None = None) -> None:
            if reason is FlushReason.DRAIN:
                return
            n = min(PIECE, left[0])
            if n == 0:
                writer.close()
                return
            writer.write(piece[:n])
            left[0] -= n
            stats.add(n)
            writer.flush(more)

        more()

    return handler


# ------------------------------------------------------------------------------------
# Running servers
# ------------------------------------------------------------------------------------
class Running(Protocol):
    """An in-process server, whatever the runtime."""

    address: tuple[str, int]
    stats: Stats

    def connections(self) -> int: ...
    def stop(self) -> None: ...


@dataclass
class _SyncRunning:
    server: object
    address: tuple[str, int]
    stats: Stats
    _count: Callable[[], int]
    _stop: Callable[[], None]

    def connections(self) -> int:
        return self._count()

    def stop(self) -> None:
        self._stop()


@contextlib.contextmanager
def sync_server(config: Config | None = None, timeout_graceful: float = 5.0) -> Iterator[Running]:
    """The app on `wirekit.http.sync.Server`."""
    from wirekit.http.sync import Server, caller

    def later(reqd: Reqd, delay: float, fn: Callable[[], None]) -> None:
        call = caller()
        threading.Timer(delay, call, args=(fn,)).start()

    stats = Stats()
    server = Server(make_app(later, stats), config=config, timeout_graceful=timeout_graceful)
    address = server.start()
    running = _SyncRunning(server, address, stats, lambda: server.connections, server.stop)
    try:
        yield running
    finally:
        server.stop()


@contextlib.contextmanager
def trio_server(config: Config | None = None, timeout_graceful: float = 5.0) -> Iterator[Running]:
    """The app on `wirekit.http.trio.Server`, in a trio loop on a thread of its own."""
    import trio
    from wirekit.http.trio import Server, spawn

    def later(reqd: Reqd, delay: float, fn: Callable[[], None]) -> None:
        async def run() -> None:
            await trio.sleep(delay)
            fn()

        spawn(run)

    stats = Stats()
    server = Server(make_app(later, stats), config=config, timeout_graceful=timeout_graceful)
    started: queue.Queue[tuple[tuple[str, int], trio.lowlevel.TrioToken] | BaseException] = queue.Queue()

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.run)
            started.put((address, trio.lowlevel.current_trio_token()))

    def thread() -> None:
        try:
            trio.run(main)
        except BaseException as exc:
            started.put(exc)
            raise

    runner = threading.Thread(target=thread, daemon=True)
    runner.start()
    got = started.get(timeout=10)
    assert not isinstance(got, BaseException), got
    address, token = got

    def stop() -> None:
        if runner.is_alive():
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(server.stop)
            runner.join(timeout_graceful + 5)
            assert not runner.is_alive(), "the trio server did not stop"

    running = _SyncRunning(server, address, stats, lambda: len(server.connections), stop)
    try:
        yield running
    finally:
        stop()


# ------------------------------------------------------------------------------------
# Peers
# ------------------------------------------------------------------------------------
def url(server: Running, path: str = "/") -> str:
    host, port = server.address
    return f"http://{host}:{port}{path}"


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run curl (quiet, bounded in time); asserts it succeeded."""
    result = subprocess.run(
        [require_tool("curl"), "--silent", "--show-error", "--max-time", str(TIMEOUT), *args],
        capture_output=True, timeout=TIMEOUT + 5, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


def connect(server: Running, timeout: float = TIMEOUT) -> socket.socket:
    """A raw client socket."""
    return socket.create_connection(server.address, timeout=timeout)


def recv_all(sock: socket.socket) -> bytes:
    """Everything until the server closes."""
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    return b"".join(chunks)


def get(target: str, *headers: str) -> bytes:
    return ("\r\n".join([f"GET {target} HTTP/1.1", "Host: t", *headers]) + "\r\n\r\n").encode()


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# ------------------------------------------------------------------------------------
# The checks
# ------------------------------------------------------------------------------------
def check_curl(server: Running, tmp_path: Path) -> None:
    """GET and HEAD; three URLs on one connection; a 1 MiB upload echoed; a chunked
    upload; ``Expect: 100-continue``; a 4 MB upload nobody reads still gets its 404
    (lingering close, no reset)."""
    out = curl("--include", url(server)).stdout
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\nHello, world!")
    head = curl("--head", url(server)).stdout
    assert b"content-length: 13" in head and head.endswith(b"\r\n\r\n")
    many = curl("--verbose", url(server), url(server, "/stream/2"), url(server, "/big/5"))
    assert many.stdout == b"Hello, world!chunk 0\nchunk 1\nxxxxx"
    assert len(re.findall(rb"Re-?using existing connection", many.stderr, re.I)) == 2, many.stderr
    data = os.urandom(1 << 20)
    (tmp_path / "in.bin").write_bytes(data)
    echoed = curl("--data-binary", f"@{tmp_path / 'in.bin'}", "--header", "Content-Type: application/x-test",
                  "--output", str(tmp_path / "out.bin"), "--write-out", "%{http_code} %{content_type}", url(server, "/echo"))
    assert echoed.stdout == b"200 application/x-test"
    assert (tmp_path / "out.bin").read_bytes() == data
    chunked = curl("--verbose", "--request", "PUT", "--header", "Transfer-Encoding: chunked", "--data-binary",
                   f"@{tmp_path / 'in.bin'}", "--output", str(tmp_path / "out2.bin"), url(server, "/echo"))
    assert b"> transfer-encoding: chunked" in chunked.stderr.lower()
    assert b"< transfer-encoding: chunked" in chunked.stderr.lower()
    assert (tmp_path / "out2.bin").read_bytes() == data
    (tmp_path / "small.txt").write_bytes(b"expecting" * 100)
    expect = curl("--verbose", "--header", "Expect: 100-continue", "--data-binary", f"@{tmp_path / 'small.txt'}", url(server, "/echo"))
    assert b"HTTP/1.1 100 Continue" in expect.stderr, expect.stderr
    assert expect.stdout == b"expecting" * 100
    (tmp_path / "big.bin").write_bytes(os.urandom(4_000_000))
    for _ in range(5):
        nope = curl("--header", "Expect:", "--data-binary", f"@{tmp_path / 'big.bin'}", "--output", os.devnull,
                    "--write-out", "%{http_code}", url(server, "/nope"))
        assert nope.stdout == b"404"


def check_http_client(server: Running) -> None:
    """``http.client``: keep-alive over many requests, a POST echo, a chunked response,
    a response answered later from elsewhere."""
    import http.client

    host, port = server.address
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        for _ in range(50):
            conn.request("GET", "/")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"Hello, world!")
        sock = conn.sock
        conn.request("POST", "/echo", body=b"abc" * 1000, headers={"Content-Type": "text/x"})
        response = conn.getresponse()
        assert response.read() == b"abc" * 1000 and response.getheader("content-type") == "text/x"
        conn.request("GET", "/stream/5")
        response = conn.getresponse()
        assert response.getheader("transfer-encoding") == "chunked"
        assert response.read() == b"".join(b"chunk %d\n" % i for i in range(5))
        conn.request("GET", "/later")
        assert conn.getresponse().read() == b"later"
        assert conn.sock is sock  # one connection throughout
    finally:
        conn.close()


def check_httpx(server: Running) -> None:
    """httpx: keep-alive, a chunked upload from a generator echoed as a chunked
    response, a streamed download read piece by piece."""
    data = os.urandom(500_000)

    def upload() -> Iterator[bytes]:
        for i in range(0, len(data), 10_000):
            yield data[i : i + 10_000]

    with httpx.Client(base_url=url(server), timeout=TIMEOUT) as client:
        assert [client.get("/").text for _ in range(10)] == ["Hello, world!"] * 10
        response = client.post("/echo", content=upload())
        assert response.status_code == 200 and response.content == data
        assert response.headers["transfer-encoding"] == "chunked"
        digest = hashlib.sha256()
        with client.stream("GET", "/big/3000000") as stream:
            assert stream.headers["content-length"] == "3000000"
            for piece in stream.iter_bytes():
                digest.update(piece)
        assert digest.hexdigest() == hashlib.sha256(b"x" * 3_000_000).hexdigest()
        assert client.get("/missing").status_code == 404


PROXY = """
upstream wirekit {
    server 127.0.0.1:{upstream};
    keepalive 8;
}
server {
    listen 127.0.0.1:{port};
    client_max_body_size 10m;
    location / {
        proxy_pass http://wirekit;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_request_buffering off;
    }
}
"""


def check_nginx(server: Running) -> None:
    """nginx as a reverse proxy (upstream keep-alive, unbuffered both ways): GETs, an
    upload echoed while it streams, a chunked response, a 404."""
    _host, port = server.address
    with Nginx(PROXY.replace("{upstream}", str(port))) as nginx, httpx.Client(base_url=nginx.url, timeout=TIMEOUT) as client:
        before = server.stats.requests
        assert [client.get("/").text for _ in range(5)] == ["Hello, world!"] * 5
        data = os.urandom(2 << 20)
        assert client.post("/echo", content=data).content == data
        assert client.get("/stream/3").content == b"chunk 0\nchunk 1\nchunk 2\n"
        assert client.get("/big/1000000").content == b"x" * 1_000_000
        assert client.get("/nowhere").status_code == 404
        assert server.stats.requests - before == 9
        assert server.connections() >= 1  # nginx keeps its upstream connection open


def check_pipelining(server: Running) -> None:
    """Twenty requests in one write (the last one closing), answered in order on one
    connection."""
    with connect(server) as sock:
        sock.sendall(b"".join(get(f"/stream/{i}") for i in range(19)) + get("/stream/19", "Connection: close"))
        responses = parse_responses(recv_all(sock))
    assert len(responses) == 20
    for i, response in enumerate(responses):
        assert response.status == 200 and response.body == b"".join(b"chunk %d\n" % k for k in range(i))


def check_iov_max(server: Running) -> None:
    """A response made of 5000 separate buffers (more than IOV_MAX, 1024 on Linux, can
    go in one sendmsg) arrives whole; so does a response to a handler that raised (500),
    and the connection then closes."""
    with connect(server) as sock:
        sock.sendall(get("/iov/5000") + get("/fail") + get("/"))
        responses = parse_responses(recv_all(sock))
    assert responses[0].body == b"".join(b"%06d" % i for i in range(5000))
    assert [r.status for r in responses] == [200, 500]
    assert responses[1].header(b"connection") == b"close"


def check_half_close_after_pipelining(server: Running) -> None:
    """Requests pipelined, then the client half-closes: every one is answered (the
    slow one too), the last with ``connection: close``, then the server closes."""
    with connect(server) as sock:
        sock.sendall(get("/") + get("/later") + get("/big/100000") + get("/"))
        sock.shutdown(socket.SHUT_WR)
        responses = parse_responses(recv_all(sock))
    assert [r.status for r in responses] == [200] * 4
    assert [r.body for r in responses] == [b"Hello, world!", b"later", b"x" * 100000, b"Hello, world!"]
    assert responses[-1].header(b"connection") == b"close"


def check_upload_backpressure(server: Running) -> None:
    """A client that uploads to /echo and does not read the echo: the server stops
    reading once its output cannot drain, so the client cannot push the whole body
    (64 MiB) -- it blocks after the buffers filled. Reading then gets every byte."""
    total = 64 << 20
    with connect(server, timeout=1.0) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(f"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {total}\r\n\r\n".encode())
        piece = b"u" * 65536
        sent = 0
        with contextlib.suppress(TimeoutError):
            while sent < total:
                sent += sock.send(piece)
        assert sent < 16 << 20, f"the server took {sent} bytes while its echo was not read"
        produced_while_blocked = server.stats.produced
        assert produced_while_blocked < 16 << 20
        # Now read the echo while sending the rest.
        sock.settimeout(TIMEOUT)
        received = 0
        done = threading.Event()

        def send_rest() -> None:
            nonlocal sent
            while sent < total:
                sent += sock.send(piece[: min(len(piece), total - sent)])
            done.set()

        sender = threading.Thread(target=send_rest, daemon=True)
        sender.start()
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(65536)
        head, _, rest = head.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        # chunked: count payload bytes by parsing the chunk framing
        buf = rest
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            line, _, buf = buf.partition(b"\r\n")
            size = int(line, 16)
            while len(buf) < size + 2:
                more = sock.recv(1 << 20)
                assert more
                buf += more
            assert buf[:size] == b"u" * size
            received += size
            buf = buf[size + 2 :]
            if size == 0:
                break
        sender.join(TIMEOUT)
        assert done.is_set() and received == total


def check_slow_reader(server: Running) -> None:
    """A handler streaming 64 MiB (each piece once the previous one was written) to a
    client reading slowly: what it produced stays a bounded distance ahead of what the
    client received (the socket buffers), never the whole body."""
    size = 64 << 20
    with connect(server) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        start = server.stats.produced
        sock.sendall(get(f"/big/{size}"))
        received = 0
        for _ in range(20):
            received += len(sock.recv(65536))
            time.sleep(0.02)
        ahead = server.stats.produced - start - received
        assert ahead < 12 << 20, f"produced {ahead} bytes ahead of a slow client"
        while received < size:  # the rest, fast; head bytes counted too
            data = sock.recv(1 << 20)
            assert data
            received += len(data)


def check_pipelining_client_that_never_reads(server: Running) -> None:
    """A client pipelining requests for 1 MB responses and never reading: the server
    stops reading, so the client can send only so much (bounded memory)."""
    with connect(server, timeout=1.0) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        request = get("/big/1000000") * 100
        sent = 0
        with contextlib.suppress(TimeoutError):
            while sent < 64 << 20:
                sent += sock.send(request)
        assert sent < 16 << 20, f"the server took {sent} bytes of requests it could not answer"
        assert server.stats.produced < 16 << 20


def check_client_resets(server: Running) -> None:
    """Clients that reset mid-head, mid-body, and while a big response streams: the
    server keeps serving and their connections go away."""
    with connect(server) as sock:
        sock.sendall(b"GET / HT")
        time.sleep(0.05)
        reset(sock)
    with connect(server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n" + b"a" * 5000)
        time.sleep(0.05)
        reset(sock)
    with connect(server) as sock:
        sock.sendall(get("/big/100000000"))
        sock.recv(65536)
        reset(sock)
    assert wait_until(lambda: server.connections() == 0, timeout=5), server.connections()
    with connect(server) as sock:
        sock.sendall(get("/", "Connection: close"))
        assert parse_responses(recv_all(sock))[0].body == b"Hello, world!"


def check_reset_while_the_handler_works(server: Running) -> None:
    """A client resets while its handler is still working elsewhere (``/later``, the
    last request: the server reads no more from it): the server waits for the handler
    without spinning (little CPU time meanwhile), then the connection goes away."""
    with connect(server) as sock:
        sock.sendall(get("/later", "Connection: close"))
        time.sleep(0.05)
        reset(sock)
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(0.25)  # the handler answers 0.3 s after the request
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert used < 0.02, f"{used:.3f} s of CPU while waiting for the handler"
    assert wait_until(lambda: server.connections() == 0, timeout=5), server.connections()


def check_graceful_stop(server: Running) -> None:
    """`stop` while a response is on its way and another connection idles: the idle
    one is closed, the slow response is delivered, then new connections are refused."""
    with connect(server) as idle, connect(server) as busy:
        idle.sendall(get("/"))
        assert parse_responses(idle.recv(65536))[0].status == 200
        busy.sendall(get("/later"))
        time.sleep(0.05)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        assert recv_all(idle) == b""  # closed without a response
        responses = parse_responses(recv_all(busy))
        assert [r.body for r in responses] == [b"later"]
    stopper.join(TIMEOUT)
    try:
        with connect(server, timeout=2):
            raise AssertionError("the stopped server accepted a connection")
    except OSError:
        pass


def nginx_available() -> bool:
    return shutil.which("nginx") is not None


# ------------------------------------------------------------------------------------
# For the client tests
# ------------------------------------------------------------------------------------
ORIGIN = """
server {
    listen 127.0.0.1:{port};
    keepalive_requests 1000;
    location / { root {dir}/html; }
}
"""
BIG_FILE = bytes(range(256)) * 20_000  # 5 MB


@contextlib.contextmanager
def nginx_origin() -> Iterator[Nginx]:
    """nginx serving ``/hello.txt`` and ``/big.bin`` (`BIG_FILE`) as static files."""
    with Nginx(ORIGIN, files={"hello.txt": b"hello from nginx\n", "big.bin": BIG_FILE}) as nginx:
        yield nginx


def nginx_connections(nginx: Nginx) -> list[str]:
    """The nginx connection serial of each request in its access log."""
    return [fields[1] for fields in nginx.access_log()]


@contextlib.contextmanager
def canned_server(answer: bytes | None, close: bool = True) -> Iterator[tuple[str, int]]:
    """A raw server for one connection: reads a request head, writes ``answer`` (none:
    stays silent), then closes (or keeps the socket open until the block ends)."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            sock, _ = listener.accept()
            with sock:
                data = b""
                while b"\r\n\r\n" not in data:
                    more = sock.recv(65536)
                    if not more:
                        return
                    data += more
                if answer is not None:
                    sock.sendall(answer)
                if not close or answer is None:
                    done.wait(TIMEOUT)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        host, port = listener.getsockname()[:2]
        yield str(host), int(port)
    finally:
        done.set()
        listener.close()
        thread.join(5)


# ------------------------------------------------------------------------------------
# Timeouts (the connection's deadlines, applied by the runtime)
# ------------------------------------------------------------------------------------
TIMEOUTS = Config(timeout_header=0.5, timeout_keep_alive=0.5, timeout_body=0.5, timeout_write=0.5)
"""Short timeouts for the timeout checks (the servers get this config)."""


def _timed(sock: socket.socket) -> tuple[bytes, float]:
    started = time.monotonic()
    data = recv_all(sock)
    return data, time.monotonic() - started


def check_header_timeout(server: Running) -> None:
    """A request head that stops half-way: 408, then the server closes; not before
    the header timeout, and well within a few seconds."""
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow:")
        data, elapsed = _timed(sock)
    responses = parse_responses(data)
    assert [r.status for r in responses] == [408] and responses[0].header(b"connection") == b"close"
    assert 0.4 <= elapsed < 5, elapsed


def check_idle_timeout(server: Running) -> None:
    """A connection that sends nothing, and one idle after a response: both closed
    quietly (no bytes) after the keep-alive timeout."""
    with connect(server) as sock:
        data, elapsed = _timed(sock)
    assert data == b"" and 0.4 <= elapsed < 5, (data, elapsed)
    with connect(server) as sock:
        sock.sendall(get("/"))
        first = sock.recv(65536)
        assert parse_responses(first)[0].body == b"Hello, world!"
        data, elapsed = _timed(sock)
    assert data == b"" and 0.4 <= elapsed < 5, (data, elapsed)


def check_body_timeout(server: Running) -> None:
    """A body that stalls after its first bytes (the echo already answering): the
    server closes, and the response is never complete."""
    with connect(server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + b"b" * 10)
        data, elapsed = _timed(sock)
    responses = parse_responses(data)
    assert len(responses) == 1 and not responses[0].complete, data
    assert 0.4 <= elapsed < 5, elapsed


def check_write_timeout(server: Running) -> None:
    """A client that asks for 100 MB and never reads: once the socket is full and the
    write timeout passes, the server drops the connection."""
    with connect(server) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(get("/big/100000000"))
        assert wait_until(lambda: server.connections() == 1, timeout=2)
        assert wait_until(lambda: server.connections() == 0, timeout=8), "the stalled writer was not dropped"
