"""A throwaway ``redis-server`` for tests and benchmarks.

``with redis_server() as port: ...`` starts ``redis-server`` on a free port of 127.0.0.1,
with persistence off, waits until it answers ``PING``, and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

__all__ = ["free_port", "redis_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(executable: str = "redis-server", timeout: float = 10.0) -> Iterator[int]:
    """Run a redis-server for the duration of the ``with`` block; yields its port.

    Raises:
        FileNotFoundError: ``redis-server`` is not installed.
        RuntimeError: it did not start answering within ``timeout`` seconds.
    """
    path = shutil.which(executable)
    if path is None:
        raise FileNotFoundError(f"{executable} not found")
    with tempfile.TemporaryDirectory(prefix="wirekit-redis-") as workdir:
        for _attempt in range(3):  # the free port may be taken before the server binds
            port = free_port()
            proc = subprocess.Popen(
                [
                    path,
                    "--port", str(port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--daemonize", "no",
                    "--dir", workdir,
                    "--logfile", "",
                    "--loglevel", "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + timeout
                while proc.poll() is None and time.monotonic() < deadline:
                    if _ping(port):
                        break
                    time.sleep(0.02)
                else:
                    continue  # exited (port taken?) or too slow: try again
                yield port
                return
            finally:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        raise RuntimeError("redis-server did not start")
