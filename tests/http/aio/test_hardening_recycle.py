"""Issue 17 (server hardening), defect 9: ``--limit-max-requests`` recycles a worker
without dropping a request. Real ``wirekit serve`` processes on 127.0.0.1 and a free
port; every client operation is bounded in time.

- Under ``--workers 2 --limit-max-requests 5``, 30 sequential requests, each on a new
  connection, are all answered 200 (before: 6 failures, the connections queued at a
  leaving worker's own SO_REUSEPORT socket were reset); the planned recycle is logged at
  INFO, never as a worker that "exited".
- With 8 clients at once (each request on a new connection), every request is answered
  too: a connection the leaving worker accepted just before it stopped accepting gets
  its first request answered (before: closed as idle, ~16 % empty replies).
- A single process with ``--limit-max-requests 3`` answers its third request before it
  exits, native and ASGI (before: the ASGI app's last response was complete but not yet
  written when the graceful stop closed the idle connection: an empty reply).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import threading

import pytest

from tests.http.aio.support import RawConnection, ServerProcess, arun, get

TIMEOUT = 5.0


async def sequential_requests(address: tuple[str, int], n: int) -> list[int | str]:
    """``n`` GETs one after another, each on a new (keep-alive, as curl's) connection:
    the status of each, or what went wrong."""
    results: list[int | str] = []
    for _ in range(n):
        try:
            conn = await RawConnection.open(address, timeout=TIMEOUT)
            response = await conn.request(get("/"), timeout=TIMEOUT)
            results.append(response.status)
            conn.close()
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as e:
            results.append(type(e).__name__)
    return results


@pytest.mark.parametrize("app", [[], ["tests.http.aio.apps:starlette_app"]], ids=["native", "asgi"])
def test_workers_recycle_without_dropping_a_request(app: list[str]) -> None:
    args = [*app, "--workers", "2", "--limit-max-requests", "5", "--access-log"]
    with ServerProcess(*args) as server:
        results = arun(sequential_requests(server.address, 30), timeout=60)
        assert results == [200] * 30, results
        assert server.stop() == 0
    log = server.stderr
    recycles = [line for line in log.splitlines() if "reached --limit-max-requests" in line]
    assert len(recycles) >= 4, log  # 30 requests, 5 per worker: at least 4 were replaced
    assert all(line.startswith("INFO:") for line in recycles), recycles
    assert "exited" not in log and "WARNING" not in log, log


def concurrent_requests(address: tuple[str, int], clients: int, each: int) -> collections.Counter[str]:
    """``clients`` threads, each sending ``each`` GETs on new connections: how the
    responses began (``HTTP/1.1 200``), or what went wrong."""
    results: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def client() -> None:
        for _ in range(each):
            try:
                with socket.create_connection(address, timeout=TIMEOUT) as sock:
                    sock.sendall(get("/"))
                    first = sock.recv(12)
                    outcome = first.decode("latin-1") or "empty reply"
            except OSError as e:
                outcome = type(e).__name__
            with lock:
                results[outcome] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("app", [[], ["tests.http.aio.apps:starlette_app"]], ids=["native", "asgi"])
def test_workers_recycle_under_concurrent_clients(app: list[str]) -> None:
    with ServerProcess(*app, "--workers", "2", "--limit-max-requests", "5") as server:
        results = concurrent_requests(server.address, clients=8, each=25)
        assert results == {"HTTP/1.1 200": 200}, results
        assert server.stop() == 0


@pytest.mark.parametrize("app", [[], ["tests.http.aio.apps:starlette_app"], ["tests.http.aio.apps:page_app"]],
                         ids=["native", "starlette", "asgi"])
def test_a_single_process_answers_its_last_request_then_exits(app: list[str]) -> None:
    with ServerProcess(*app, "--limit-max-requests", "3") as server:
        results = arun(sequential_requests(server.address, 3), timeout=30)
        assert results == [200] * 3, results
        assert server.wait(10) == 0, "the server stops by itself after 3 requests"
