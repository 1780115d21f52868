"""The server benchmark's accept-queue sampler (``benchmarks/bench_server.py``) reads the
queue of connections the kernel completed but the server has not accepted yet: the wait
that shows up in wrk's latency at 1 000 connections on uvloop (docs/benchmarks.md)."""

from __future__ import annotations

import importlib.util
import socket
import sys
import time
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_server.py"
_SPEC = importlib.util.spec_from_file_location("wirekit_bench_server", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
sys.modules["wirekit_bench_server"] = bench
_SPEC.loader.exec_module(bench)

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux's /proc/net/tcp")


def test_the_sampler_sees_connections_waiting_to_be_accepted() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        sampler = bench.AcceptQueue(port, every=0.01)
        assert sampler.length() == 0
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        try:
            assert sampler.length() == 3
            sampler.start()
            time.sleep(0.05)
            for _ in range(3):
                listener.accept()[0].close()
            time.sleep(0.05)
            sampler.stop()
            assert sampler.length() == 0
            assert sampler.max == 3
            assert 0 < sampler.until < 0.5
        finally:
            for c in clients:
                c.close()
