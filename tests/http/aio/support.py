"""Shared helpers for the `wirekit.http.aio` tests.

- `arun(coro)`: run a coroutine in a fresh event loop, bounded in time.
- `running(app, **options)`: an in-process `Server` on 127.0.0.1 and a free port.
- `RawConnection`: a client socket (asyncio streams) that sends raw bytes and reads
  responses with `read_response`, a small parser independent of the code under test.
- `ServerProcess`: ``python -m wirekit.http serve ...`` as a subprocess on port 0; the
  port is parsed from the startup line ``wirekit listening on http://HOST:PORT``.
- `Nginx`: nginx as a non-daemon subprocess with its own prefix directory and config.
- `require_tool`, `free_port`, `fd_count`, `wait_until`.

Import as ``from tests.http.aio.support import ...`` (pytest's importlib mode registers
the ``tests.http.aio`` package when it collects the tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from wirekit.http import Config
from wirekit.http.aio import ServeConfig, Server
from wirekit.http.aio._server import App

__all__ = [
    "ROOT",
    "Nginx",
    "RawConnection",
    "RawResponse",
    "ServerProcess",
    "arun",
    "fd_count",
    "free_port",
    "get",
    "read_response",
    "require_tool",
    "running",
    "wait_until",
    "wirekit",
]

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[3]  # the workspace root (tests import from it)
STARTUP = re.compile(r"wirekit listening on http://(\[[^\]]+\]|[^\s:]+):(\d+)")
APPS = "tests.http.aio.apps"


_open: list[RawConnection] = []  # closed when `arun` ends


def arun(coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    """Run ``coro`` in a new event loop; fail if it takes longer than ``timeout``.
    Raw connections it opened and left open are closed at the end."""

    async def main() -> T:
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            while _open:
                _open.pop().close()
            await asyncio.sleep(0)  # let the transports close

    return asyncio.run(main())


def require_tool(name: str) -> str:
    """The path of an installed program; fails loudly (no skip) when it is missing."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        raise AssertionError(f"{name} is not installed: the interop tests need it (CI installs it)")
    return path


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fd_count(pid: int) -> int:
    """How many file descriptors process ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# ------------------------------------------------------------------------------------
# In-process servers and raw connections
# ------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def running(
    app: App | None = None, http_config: Config | None = None, **options: Any
) -> AsyncIterator[Server]:
    """An in-process server on 127.0.0.1 and a free port, stopped gracefully afterwards."""
    # Connection timeouts and limits are `Config` fields; the rest is `ServeConfig`.
    http_fields = {f.name for f in dataclasses.fields(Config)}
    http_options = {k: options.pop(k) for k in list(options) if k in http_fields}
    if http_options:
        http_config = dataclasses.replace(http_config or Config(), **http_options)
    config = ServeConfig(port=0, **options)
    server = Server(app, config, http_config)
    await server.start()
    try:
        yield server
    finally:
        await asyncio.wait_for(server.stop(), config.timeout_graceful + 5)


@dataclass
class RawResponse:
    """One response as read off the wire."""

    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunks: list[bytes] = field(default_factory=list)  # the chunks of a chunked body
    interim: list[int] = field(default_factory=list)  # 1xx statuses received before it
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def header(self, name: bytes) -> bytes | None:
        """The value of the first field called ``name`` (case-insensitive)."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    @property
    def names(self) -> list[bytes]:
        """Lower-cased header names, in order."""
        return [n.lower() for n, _ in self.headers]


async def _read_head(reader: asyncio.StreamReader) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    version, status, reason = ([*lines[0].split(b" ", 2), b""])[:3]
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name, value.strip(b" \t")))
    return version, int(status), reason, headers


async def read_response(reader: asyncio.StreamReader, head: bool = False) -> RawResponse:
    """Read one response (after any 1xx); ``head``: it answers a HEAD request.

    Raises:
        asyncio.IncompleteReadError: the connection closed inside the response.
    """
    interim: list[int] = []
    while True:
        version, status, reason, headers = await _read_head(reader)
        if 100 <= status < 200 and status != 101:
            interim.append(status)
            continue
        break
    response = RawResponse(version, status, reason, headers, b"", interim=interim)
    te = response.header(b"transfer-encoding")
    cl = response.header(b"content-length")
    if head or status in (101, 204, 304):
        return response
    if te is not None and te.lower().endswith(b"chunked"):
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line[:-2].split(b";")[0], 16)
            if size == 0:
                break
            response.chunks.append(await reader.readexactly(size))
            assert await reader.readexactly(2) == b"\r\n", "chunk data not followed by CRLF"
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line[:-2].partition(b":")
            response.trailers.append((name, value.strip()))
        response.body = b"".join(response.chunks)
    elif cl is not None:
        response.body = await reader.readexactly(int(cl))
    else:
        response.body = await reader.read()  # close-delimited
    return response


class RawConnection:
    """A client connection that writes raw bytes and parses what comes back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: tuple[str, int] | None, timeout: float = 5.0) -> RawConnection:
        """Connect to ``address`` (a server's (host, port))."""
        assert address is not None
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*address, limit=1 << 20), timeout)
        conn = cls(reader, writer)
        _open.append(conn)
        return conn

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait until it is handed to the socket."""
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, head: bool = False, timeout: float = 5.0) -> RawResponse:
        """The next response (see `read_response`)."""
        return await asyncio.wait_for(read_response(self.reader, head), timeout)

    async def request(self, data: bytes, head: bool = False, timeout: float = 5.0) -> RawResponse:
        """Send ``data`` and read one response."""
        await self.send(data)
        return await self.response(head, timeout)

    async def rest(self, timeout: float = 5.0) -> bytes:
        """Everything until the server closes the connection."""
        return await asyncio.wait_for(self.reader.read(), timeout)

    async def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """Whether the server closes the connection (EOF, no more bytes) within ``timeout``."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), timeout)
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return data == b""

    def close(self) -> None:
        """Close the socket."""
        if not self.writer.transport.is_closing():
            self.writer.close()

    def reset(self) -> None:
        """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.writer.transport.abort()


def get(target: str = "/", *headers: str, method: str = "GET", version: str = "1.1", host: str = "test") -> bytes:
    """A request head (``Host`` first, then ``headers``)."""
    lines = [f"{method} {target} HTTP/{version}", f"Host: {host}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ------------------------------------------------------------------------------------
# Subprocesses
# ------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerProcess:
    """``python -m wirekit.http serve ARGS --port 0`` (or another command) in a subprocess.

    Starts on enter and waits for the startup line; stops on exit (SIGTERM, then SIGKILL
    if it does not stop in time). Output goes to files, so nothing blocks.
    """

    def __init__(self, *args: str, command: list[str] | None = None, startup_timeout: float = 20.0) -> None:
        self.args = list(args)
        self.command = command or [sys.executable, "-m", "wirekit.http", "serve"]
        if "--port" not in self.args:
            self.args += ["--port", "0"]
        self.startup_timeout = startup_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="wirekit-serve-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.host = ""
        self.port = 0
        self._kept: tuple[str, str] | None = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self._kept = (self.stdout, self.stderr)  # still readable after the exit
            shutil.rmtree(self.dir, ignore_errors=True)

    def start(self) -> None:
        """Start the server and wait for ``wirekit listening on http://HOST:PORT``."""
        with open(self.dir / "stdout", "wb") as out, open(self.dir / "stderr", "wb") as err:
            self.proc = subprocess.Popen(
                [*self.command, *self.args], cwd=ROOT, env=_env(), stdout=out, stderr=err,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            m = STARTUP.search(self.stdout)
            if m:
                self.host, self.port = m.group(1).strip("[]"), int(m.group(2))
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode}) before listening:\n{self.stderr}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"no startup line within {self.startup_timeout} s:\n{self.stderr}")
            time.sleep(0.02)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def stdout(self) -> str:
        if self._kept is not None:
            return self._kept[0]
        return (self.dir / "stdout").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        if self._kept is not None:
            return self._kept[1]
        return (self.dir / "stderr").read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> int:
        """Wait for the process to exit; its exit code."""
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait; SIGKILL if it does not exit in time. The exit code."""
        proc = self.proc
        assert proc is not None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
                raise AssertionError(f"the server did not stop within {timeout} s:\n{self.stderr}") from None
        return proc.returncode


def wirekit(*args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m wirekit.http ARGS`` to completion (for commands that exit)."""
    return subprocess.run(
        [sys.executable, "-m", "wirekit.http", *args], cwd=ROOT, env=_env(), capture_output=True,
        text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


class Nginx:
    """nginx in the foreground, with a generated config in its own prefix directory.

    ``servers`` is the inside of the ``http {}`` block with ``{port}`` for the port nginx
    listens on (chosen here) and ``{dir}`` for the prefix directory. Access logs go to
    ``{dir}/access.log`` with the connection serial number and request count
    (``$connection $connection_requests``) so tests can check keep-alive.
    """

    def __init__(self, servers: str, files: dict[str, bytes] | None = None) -> None:
        self.binary = require_tool("nginx")
        self.servers = servers
        self.dir = Path(tempfile.mkdtemp(prefix="wirekit-nginx-"))
        self.dir.chmod(0o755)
        self.root = self.dir / "html"
        self.root.mkdir(mode=0o755)
        for name, data in (files or {}).items():
            (self.root / name).write_bytes(data)
            (self.root / name).chmod(0o644)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def _conf(self) -> str:
        d = self.dir
        user = "user root;\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes 1;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            "  default_type application/octet-stream;\n"
            "  log_format conn '$remote_addr $connection $connection_requests \"$request\" $status $body_bytes_sent';\n"
            f"  access_log {d}/access.log conn;\n"
            f"  client_body_temp_path {d}/client_body;\n"
            f"  proxy_temp_path {d}/proxy;\n"
            f"  fastcgi_temp_path {d}/fastcgi;\n"
            f"  uwsgi_temp_path {d}/uwsgi;\n"
            f"  scgi_temp_path {d}/scgi;\n"
            + self.servers.replace("{port}", str(self.port)).replace("{dir}", str(d))
            + "\n}\n"
        )

    def __enter__(self) -> Nginx:
        for _attempt in range(5):
            self.port = free_port()
            conf = self.dir / "nginx.conf"
            conf.write_text(self._conf())
            with open(self.dir / "stderr", "wb") as err:
                self.proc = subprocess.Popen(
                    [self.binary, "-e", "stderr", "-p", str(self.dir), "-c", str(conf),
                     "-g", f"daemon off; pid {self.dir}/nginx.pid; error_log stderr;"],
                    stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                )
            if wait_until(self._listening, timeout=10):
                return self
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(5)
            if "Address already in use" not in self.stderr:
                break
        raise AssertionError(f"nginx did not start:\n{self.stderr}")

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            return True  # exited: __enter__ finds out
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True
        return False

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        return (self.dir / "stderr").read_text(errors="replace")

    def access_log(self) -> list[list[str]]:
        """The access log lines, split on spaces (nginx writes them per request)."""
        path = self.dir / "access.log"
        return [line.split(" ") for line in path.read_text().splitlines()] if path.exists() else []
