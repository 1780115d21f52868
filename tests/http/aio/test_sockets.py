"""Listening on a unix domain socket (``--uds``) and on an inherited socket (``--fd``, as
systemd socket activation hands one over): curl ``--unix-socket``, httpx, raw sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.http.aio.support import ROOT, STARTUP, ServerProcess, require_tool

DEMO = b"Hello, world!"


def socket_path() -> str:
    # Short: AF_UNIX paths are limited to 107 bytes.
    return os.path.join(tempfile.mkdtemp(prefix="wk-"), "s.sock")


def curl_unix(path: str, url: str = "http://localhost/") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [require_tool("curl"), "-sS", "--max-time", "10", "--unix-socket", path, url], capture_output=True, timeout=30
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_uds_with_curl_and_httpx(workers: str) -> None:
    path = socket_path()
    with ServerProcess("--uds", path, "--workers", workers) as server:
        assert server.uds == path, server.stdout
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o666)
        result = curl_unix(path)
        assert result.returncode == 0 and result.stdout == DEMO, result
        with httpx.Client(transport=httpx.HTTPTransport(uds=path), timeout=10) as client:
            for _ in range(5):
                assert client.get("http://localhost/bytes/3").content.__len__() == 3
        assert server.stop() == 0
    assert not os.path.exists(path), "the socket file is removed on exit"


def test_uds_asgi_scope() -> None:
    path = socket_path()
    with ServerProcess("tests.http.aio.apps_ops:scope_app", "--uds", path) as server:
        with httpx.Client(transport=httpx.HTTPTransport(uds=path), timeout=10) as client:
            scope = client.get("http://localhost/x").json()
        assert server.stop() == 0
    # No address on a unix socket (as uvicorn): the client is unknown.
    assert scope["client"] is None and scope["path"] == "/x" and scope["scheme"] == "http"


def test_a_stale_socket_file_is_replaced() -> None:
    path = socket_path()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # the file stays, nobody listens
    with ServerProcess("--uds", path, "--workers", "2") as server:
        assert curl_unix(path).stdout == DEMO
        assert server.stop() == 0


def spawn_with_fd(sock: socket.socket, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``wirekit serve --fd N`` with ``sock`` inherited (as systemd's LISTEN_FDS)."""
    out = Path(tempfile.mkdtemp(prefix="wk-fd-"))
    fd = sock.fileno()
    env = dict(os.environ, PYTHONPATH=str(ROOT), LISTEN_FDS="1", PYTHONUNBUFFERED="1")
    with open(out / "stdout", "wb") as stdout, open(out / "stderr", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wirekit.http", "serve", "--fd", str(fd), *args],
            pass_fds=(fd,), cwd=ROOT, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 20
    while "wirekit listening on" not in (out / "stdout").read_text():
        assert proc.poll() is None, (out / "stderr").read_text()
        assert time.monotonic() < deadline, "no startup line"
        time.sleep(0.02)
    return proc, out


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(20)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_fd_tcp_socket_handed_over(workers: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    proc, out = spawn_with_fd(sock, "--workers", workers)
    try:
        sock.close()  # the server holds it now
        m = STARTUP.search((out / "stdout").read_text())
        assert m is not None and int(m.group("port")) == port
        with httpx.Client(timeout=10) as client:
            assert client.get(f"http://127.0.0.1:{port}/").content == DEMO
        result = subprocess.run([require_tool("curl"), "-sS", f"http://127.0.0.1:{port}/bytes/4"], capture_output=True, timeout=30)
        assert len(result.stdout) == 4
    finally:
        assert stop(proc) == 0, (out / "stderr").read_text()


def test_fd_unix_socket_handed_over() -> None:
    path = socket_path()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.listen(128)
    proc, out = spawn_with_fd(sock)
    try:
        sock.close()
        assert curl_unix(path).stdout == DEMO
        with httpx.Client(transport=httpx.HTTPTransport(uds=path), timeout=10) as client:
            assert client.get("http://localhost/").content == DEMO
    finally:
        assert stop(proc) == 0, (out / "stderr").read_text()


def test_uds_and_fd_together_are_refused() -> None:
    from tests.http.aio.support import wirekit

    result = wirekit("serve", "--uds", "/tmp/x.sock", "--fd", "3")
    assert result.returncode == 2 and "--uds and --fd" in result.stderr
