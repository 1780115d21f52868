"""`wirekit.http.sync.Connection` against nginx (a static origin: keep-alive,
pipelining, a 5 MB download streamed), the sync server (chunked upload echoed
chunked) and raw servers (a body cut short, a close-delimited body, silence)."""

from __future__ import annotations

import hashlib

import pytest
from wirekit.http import RemoteProtocolError
from wirekit.http.sync import Connection

from tests.http.aio.support import wait_until
from tests.http.runtime_checks import (
    BIG_FILE,
    canned_server,
    nginx_connections,
    nginx_origin,
    sync_server,
)


def test_keep_alive_and_pipelining_against_nginx() -> None:
    with nginx_origin() as nginx, Connection("127.0.0.1", nginx.port, timeout=10) as conn:
        for _ in range(5):
            response = conn.request("GET", "/hello.txt")
            assert (response.status, response.body) == (200, b"hello from nginx\n")
        pending = [conn.send("GET", "/hello.txt" if i % 2 else "/missing") for i in range(20)]
        results = [p.result() for p in pending]
        assert [r.status for r in results] == [404 if i % 2 == 0 else 200 for i in range(20)]
        assert all(r.body == b"hello from nginx\n" for r in results if r.status == 200)
        assert conn.reusable
        assert wait_until(lambda: len(nginx_connections(nginx)) == 25)
        assert len(set(nginx_connections(nginx))) == 1  # one connection for all 25


def test_streamed_download_against_nginx() -> None:
    with nginx_origin() as nginx, Connection("127.0.0.1", nginx.port, timeout=10) as conn:
        response = conn.send("GET", "/big.bin", stream=True).result()
        assert response.headers.get(b"content-length") == str(len(BIG_FILE)).encode()
        digest = hashlib.sha256()
        pieces = 0
        for piece in response.iter_chunks():
            digest.update(piece)
            pieces += 1
        assert digest.digest() == hashlib.sha256(BIG_FILE).digest() and pieces > 1
        assert conn.request("GET", "/hello.txt").body == b"hello from nginx\n"  # still usable


def test_chunked_upload_echoed() -> None:
    data = [bytes([i]) * 7000 for i in range(50)]
    with sync_server() as server, Connection(*server.address, timeout=10) as conn:
        response = conn.request("PUT", "/echo", [("content-type", "x/y")], iter(data))
        assert response.status == 200 and response.body == b"".join(data)
        assert response.headers.get(b"transfer-encoding") == b"chunked"
        assert response.headers.get(b"content-type") == b"x/y"
        assert conn.request("POST", "/echo", body=b"plain").body == b"plain"
        # Expect: 100-continue: the body waits for the server's 100, then goes.
        expecting = conn.request("POST", "/echo", [("expect", "100-continue")], b"after 100")
        assert (expecting.status, expecting.body) == (200, b"after 100")
        assert conn.reusable


def test_body_cut_short() -> None:
    with canned_server(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b") as (host, port):
        conn = Connection(host, port, timeout=10)
        with pytest.raises(RemoteProtocolError):
            conn.request("GET", "/")
        conn.close()


def test_close_delimited_body() -> None:
    with canned_server(b"HTTP/1.0 200 OK\r\n\r\nuntil the end") as (host, port), Connection(host, port, timeout=10) as conn:
        response = conn.request("GET", "/")
        assert response.body == b"until the end" and not conn.reusable


def test_silent_server_times_out() -> None:
    with canned_server(None) as (host, port):
        conn = Connection(host, port, timeout=0.5)
        with pytest.raises(TimeoutError):
            conn.request("GET", "/")
