"""The servers the runtime benchmark races (``benchmarks/runtime_servers.py``) answer the
same way: so the benchmark compares equal work. Each is started as the benchmark starts
it (a subprocess on a free port) and stopped; nothing is timed."""

from __future__ import annotations

import http.client
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_runtimes.py"
_SPEC = importlib.util.spec_from_file_location("wirekit_bench_runtimes", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
sys.modules["wirekit_bench_runtimes"] = bench
_SPEC.loader.exec_module(bench)
SERVERS: list[Any] = bench.SERVERS


@pytest.mark.parametrize("spec", SERVERS, ids=[spec.name for spec in SERVERS])
def test_the_servers_answer_alike(spec: Any) -> None:
    with bench.running(spec) as (port, _proc):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(3):
                conn.request("GET", "/")
                response = conn.getresponse()
                assert (response.status, response.reason, response.read()) == (200, "OK", b"Hello, world!")
                assert response.getheader("content-type") == "text/plain"
                assert response.getheader("content-length") == "13"
            sock = conn.sock
            conn.request("POST", "/other", body=b"x" * 10_000)
            response = conn.getresponse()
            assert (response.status, response.read()) == (404, b"not found\n")
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"Hello, world!"
            assert conn.sock is sock  # keep-alive throughout
        finally:
            conn.close()
