"""Real clients and servers around ``wirekit serve`` (each started here on 127.0.0.1 and a
free port, and stopped): curl, ``http.client``, ``urllib.request``, httpx, nginx as a
reverse proxy in front of wirekit, a Starlette app, and headless Chromium."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.aio.support import Nginx, ServerProcess, require_tool

TIMEOUT = 20


@pytest.fixture(scope="module")
def demo() -> Iterator[ServerProcess]:
    """``python -m wirekit.http serve`` (the demo), shared by the client tests."""
    with ServerProcess() as server:
        yield server
        assert server.alive(), server.stderr
        assert server.stop() == 0


# ------------------------------------------------------------------------------------
# curl
# ------------------------------------------------------------------------------------
def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        [require_tool("curl"), "--silent", "--show-error", "--max-time", str(TIMEOUT), *args],
        capture_output=True, timeout=TIMEOUT + 5, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


def test_curl_get_and_head(demo: ServerProcess) -> None:
    out = curl("--include", demo.url + "/").stdout
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\nHello, world!")
    assert b"content-length: 13\r\n" in out
    head = curl("--head", demo.url + "/").stdout
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 13" in head and head.endswith(b"\r\n\r\n")


def test_curl_reuses_the_connection(demo: ServerProcess) -> None:
    result = curl("--verbose", demo.url + "/", demo.url + "/bytes/5", demo.url + "/stream/2")
    assert result.stdout == b"Hello, world!xxxxxchunk 0\nchunk 1\n"
    log = result.stderr.decode(errors="replace")
    assert len(re.findall(r"Re-?using existing connection", log, re.I)) == 2, log


def test_curl_posts_one_mebibyte(demo: ServerProcess, tmp_path: Path) -> None:
    data = os.urandom(1 << 20)
    (tmp_path / "in.bin").write_bytes(data)
    result = curl(
        "--data-binary", f"@{tmp_path / 'in.bin'}", "--header", "Content-Type: application/x-test",
        "--output", str(tmp_path / "out.bin"), "--write-out", "%{http_code} %{content_type}", demo.url + "/echo",
    )
    assert result.stdout == b"200 application/x-test"
    assert (tmp_path / "out.bin").read_bytes() == data


def test_curl_gets_the_answer_to_an_upload_nobody_reads(demo: ServerProcess, tmp_path: Path) -> None:
    """The server answers 404 without reading a 4 MB body and closes; lingering close
    lets curl finish sending and read the answer instead of a reset (broken pipe)."""
    (tmp_path / "in.bin").write_bytes(os.urandom(4_000_000))
    for _ in range(20):
        result = curl(
            "--header", "Expect:", "--data-binary", f"@{tmp_path / 'in.bin'}", "--output", os.devnull,
            "--write-out", "%{http_code}", demo.url + "/nope",
        )
        assert result.stdout == b"404"


def test_curl_chunked_upload(demo: ServerProcess, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    (tmp_path / "in.bin").write_bytes(data)
    result = curl(
        "--verbose", "--request", "PUT", "--header", "Transfer-Encoding: chunked", "--data-binary",
        f"@{tmp_path / 'in.bin'}", "--output", str(tmp_path / "out.bin"), demo.url + "/echo",
    )
    assert b"transfer-encoding: chunked" in result.stderr.lower()
    assert (tmp_path / "out.bin").read_bytes() == data


def test_curl_http_1_0(demo: ServerProcess) -> None:
    out = curl("--http1.0", "--include", demo.url + "/stream/3").stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"transfer-encoding" not in head.lower()
    assert body == b"chunk 0\nchunk 1\nchunk 2\n"
    once = curl("--http1.0", "--include", demo.url + "/").stdout
    assert b"connection: close\r\n" in once and once.endswith(b"content-length: 13\r\n\r\nHello, world!")
    # An HTTP/1.0 client asking for keep-alive gets it.
    kept = curl("--http1.0", "--verbose", "--header", "Connection: keep-alive", demo.url + "/", demo.url + "/bytes/3")
    assert kept.stdout == b"Hello, world!xxx"
    assert b"< connection: keep-alive" in kept.stderr
    assert re.search(rb"Re-?using existing connection", kept.stderr, re.I), kept.stderr


def test_curl_expect_100_continue(demo: ServerProcess, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"expecting" * 100)
    result = curl(
        "--verbose", "--header", "Expect: 100-continue", "--data-binary", f"@{tmp_path / 'in.txt'}", demo.url + "/echo",
    )
    assert b"HTTP/1.1 100 Continue" in result.stderr, result.stderr
    assert result.stdout == b"expecting" * 100


# ------------------------------------------------------------------------------------
# The standard library and httpx
# ------------------------------------------------------------------------------------
def test_http_client_keep_alive(demo: ServerProcess) -> None:
    conn = http.client.HTTPConnection(demo.host, demo.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"Hello, world!")
        sock = conn.sock
        conn.request("HEAD", "/")
        head = conn.getresponse()
        assert head.getheader("content-length") == "13" and head.read() == b""
        conn.request("POST", "/echo", body=b"abc", headers={"Content-Type": "text/x"})
        echo = conn.getresponse()
        assert echo.read() == b"abc" and echo.getheader("content-type") == "text/x"
        conn.request("POST", "/echo", body=iter([b"one ", b"two ", b"three"]), encode_chunked=True)
        assert conn.getresponse().read() == b"one two three"
        conn.request("GET", "/stream/4")
        assert conn.getresponse().read() == b"chunk 0\nchunk 1\nchunk 2\nchunk 3\n"
        conn.request("GET", "/missing")
        missing = conn.getresponse()
        assert missing.status == 404 and missing.read() == b"Not Found\n"
        assert conn.sock is sock, "every request used one connection"
    finally:
        conn.close()


def test_urllib_request(demo: ServerProcess) -> None:
    with urllib.request.urlopen(demo.url + "/bytes/100000", timeout=TIMEOUT) as response:
        assert response.status == 200 and response.read() == b"x" * 100000
    request = urllib.request.Request(demo.url + "/echo", data=b"posted", method="PUT", headers={"Content-Type": "a/b"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        assert response.read() == b"posted" and response.headers["Content-Type"] == "a/b"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(demo.url + "/nope", timeout=TIMEOUT)
    assert info.value.code == 404
    info.value.close()


def test_httpx(demo: ServerProcess) -> None:
    with httpx.Client(base_url=demo.url, timeout=TIMEOUT) as client:
        response = client.get("/")
        assert response.status_code == 200 and response.text == "Hello, world!"
        assert response.http_version == "HTTP/1.1"
        assert client.head("/").headers["content-length"] == "13"

        def body() -> Iterator[bytes]:
            for i in range(50):
                yield b"%03d," % i

        echoed = client.post("/echo", content=body())
        assert echoed.content == b"".join(b"%03d," % i for i in range(50))
        with client.stream("GET", "/stream/100") as stream:
            assert stream.headers["transfer-encoding"] == "chunked"
            lines = list(stream.iter_lines())
        assert lines == [f"chunk {i}" for i in range(100)]
        big = client.get("/bytes/2000000")
        assert len(big.content) == 2_000_000 and big.headers["content-length"] == "2000000"
        assert client.get("/bytes/nope").status_code == 404


# ------------------------------------------------------------------------------------
# nginx in front of wirekit
# ------------------------------------------------------------------------------------
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
    }
    location /streaming/ {
        proxy_pass http://wirekit/;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_request_buffering off;
    }
}
"""


def test_nginx_reverse_proxy_in_front_of_wirekit() -> None:
    with ServerProcess("tests.http.aio.apps:proxy_app") as upstream, Nginx(PROXY.replace("{upstream}", str(upstream.port))) as nginx:
        with httpx.Client(base_url=nginx.url, timeout=TIMEOUT) as client:
            # Upstream keep-alive: nginx sends every request on one connection to wirekit.
            who = [client.get("/whoami").json() for _ in range(5)]
            assert len({w["port"] for w in who}) == 1, who
            headers = dict(who[0]["headers"])
            assert "connection" not in headers and headers["host"] == "wirekit"
            # Bodies both ways: buffered by nginx ...
            data = os.urandom(1 << 20)
            assert client.post("/echo", content=data).content == data
            assert client.get("/big").content == bytes(range(256)) * 8192
            assert client.head("/big").headers["content-length"] == str(256 * 8192)
            assert client.get("/missing").status_code == 404
            # ... and streamed through (no buffering): the first line arrives long before
            # the last one is written.
            with client.stream("GET", "/streaming/slow/10") as stream:
                started = time.monotonic()
                lines = stream.iter_lines()
                assert next(lines) == "line 0"
                first = time.monotonic() - started
                rest = list(lines)
                total = time.monotonic() - started
            assert rest == [f"line {i}" for i in range(1, 10)]
            assert total - first > 0.6, (first, total)

            def upload() -> Iterator[bytes]:
                for i in range(20):
                    yield b"%04d" % i * 1000

            echoed = client.post("/streaming/echo", content=upload())
            assert echoed.content == b"".join(b"%04d" % i * 1000 for i in range(20))
            assert len({client.get("/whoami").json()["port"] for _ in range(3)}) == 1
        log = nginx.stderr
    assert "upstream prematurely closed" not in log and "[error]" not in log, log
    errors = [line for line in upstream.stderr.splitlines() if not line.startswith("INFO:wirekit.access:")]
    assert errors == [], upstream.stderr  # nothing but the access log


# ------------------------------------------------------------------------------------
# A Starlette app
# ------------------------------------------------------------------------------------
def test_starlette_app() -> None:
    with ServerProcess("tests.http.aio.apps:starlette_app") as server, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        home = client.get("/")
        assert home.status_code == 200 and home.text == "Hello from Starlette"
        assert home.headers["content-type"].startswith("text/plain")
        assert client.get("/items/42", params={"q": "x y"}).json() == {"id": 42, "q": "x y"}
        created = client.post("/json", json={"name": "wirekit", "tags": [1, 2]})
        assert created.status_code == 201 and created.json() == {"received": {"name": "wirekit", "tags": [1, 2]}}
        data = os.urandom(700_000)
        upload = client.put("/upload", content=data).json()
        assert upload == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "chunked": False}

        def parts() -> Iterator[bytes]:
            for i in range(10):
                yield data[i * 70_000 : (i + 1) * 70_000]

        chunked = client.post("/upload", content=parts()).json()
        assert chunked == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "chunked": True}
        with client.stream("GET", "/stream/200") as stream:
            assert stream.headers["transfer-encoding"] == "chunked"
            assert list(stream.iter_lines()) == [f"line {i}" for i in range(200)]
        assert client.get("/state").json() == {"greeting": "hello from lifespan", "path": "/state"}
        assert client.get("/nope").status_code == 404
        assert client.post("/").status_code == 405
        head = client.head("/")
        assert head.status_code == 200 and head.content == b""
        assert server.stop() == 0
    assert "Traceback" not in server.stderr, server.stderr


# ------------------------------------------------------------------------------------
# Headless Chromium
# ------------------------------------------------------------------------------------
def test_chromium_loads_a_page_with_subresources() -> None:
    chromium = require_tool("chromium")
    profile = tempfile.mkdtemp(prefix="wirekit-chromium-")
    try:
        with ServerProcess("tests.http.aio.apps:page_app") as server:
            result = subprocess.run(
                [
                    chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--dump-dom", server.url + "/",
                ],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert server.stop() == 0
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    dom = result.stdout
    assert "<li>item:alpha</li><li>item:beta</li><li>item:gamma</li>" in dom, dom  # data.js + app.js ran
    assert 'data-color="rgb(1, 2, 3)"' in dom, dom  # style.css applied
    assert 'data-loaded="yes 1x1"' in dom, dom  # pixel.gif decoded
    assert 'data-state="loaded"' in dom, dom  # the load event fired
    requests = [line.split()[1:] for line in server.stderr.splitlines() if line.startswith("page: ")]
    paths = {path for _port, path in requests}
    assert {"/", "/style.css", "/data.js", "/app.js", "/pixel.gif"} <= paths, requests
    ports = [port for port, _path in requests]
    assert len(set(ports)) < len(ports), f"some connection was kept alive and reused: {requests}"
