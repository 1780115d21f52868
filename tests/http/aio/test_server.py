"""`Server` / `serve` / `run`: listening, graceful shutdown, lifespan, max requests,
loading apps, and ``--workers N`` (SO_REUSEPORT workers under a supervisor)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import signal
import time
from typing import Any

import psutil
import pytest
from wirekit.http import Reqd, Response
from wirekit.http.aio import AppError, ServeConfig, Server, load_app
from wirekit.http.aio._asgi import Receive, Scope, Send
from wirekit.http.aio._server import is_asgi

from tests.http.aio import apps
from tests.http.aio.support import RawConnection, ServerProcess, arun, get, running, wait_until


def process_running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (one that ends while it is
    looked at is not running: no race between the two questions)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def slow_stream_handler(reqd: Reqd) -> None:
    """Five chunks, 50 ms apart (a response in flight for a while)."""
    loop = asyncio.get_running_loop()
    writer = reqd.respond_with_streaming(Response(200))
    sent = [0]

    def more() -> None:
        if sent[0] == 5:
            writer.close()
            return
        writer.write(b"part %d\n" % sent[0])
        writer.flush()
        sent[0] += 1
        loop.call_later(0.05, more)

    more()


def router(reqd: Reqd) -> None:
    request = reqd.request
    assert request is not None
    if request.target == b"/slow":
        slow_stream_handler(reqd)
    elif request.target == b"/never":
        pass  # never answered
    else:
        reqd.respond_with_bytes(Response(200), b"native " + request.target)


def test_start_listens_on_a_free_port_and_stop_closes_it() -> None:
    async def main() -> None:
        async with running() as server:
            assert server.address is not None
            host, port = server.address
            assert host == "127.0.0.1" and port > 0
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/"))
            assert response.status == 200 and response.body == b"Hello, world!"
            conn.close()
        with pytest.raises(OSError):
            await asyncio.open_connection(host, port)

    arun(main())


def test_a_native_handler_is_served() -> None:
    async def main() -> None:
        async with running(router) as server:
            conn = await RawConnection.open(server.address)
            for target in ("/a", "/b?c=d"):
                response = await conn.request(get(target))
                assert response.body == b"native " + target.encode()
            conn.close()

    arun(main())


def test_graceful_stop_finishes_in_flight_responses_and_closes_idle_ones() -> None:
    async def main() -> None:
        async with running(router, timeout_graceful=5) as server:
            idle = await RawConnection.open(server.address)
            assert (await idle.request(get("/x"))).status == 200
            busy = await RawConnection.open(server.address)
            await busy.send(get("/slow"))
            first = await asyncio.wait_for(busy.reader.readuntil(b"part 0\n"), 5)
            assert first.startswith(b"HTTP/1.1 200 OK\r\n")
            loop = asyncio.get_running_loop()
            started = loop.time()
            stopping = asyncio.ensure_future(server.stop())
            assert await idle.closed_by_peer(timeout=1.0), "idle keep-alive connections close at once"
            with pytest.raises(OSError):  # no longer accepting
                await RawConnection.open(server.address)
            rest = await busy.rest(timeout=5)
            assert rest.endswith(b"part 4\n\r\n0\r\n\r\n"), "the in-flight response is finished"
            await asyncio.wait_for(stopping, 5)
            assert loop.time() - started < 2.0
            assert not server.state.connections

    arun(main())


def test_the_grace_period_bounds_the_shutdown() -> None:
    async def main() -> None:
        async with running(router, timeout_graceful=0.3) as server:
            stuck = await RawConnection.open(server.address)
            await stuck.send(get("/never"))
            await asyncio.sleep(0.05)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await asyncio.wait_for(server.stop(), 5)
            assert 0.25 <= loop.time() - started < 2.0
            assert await stuck.closed_by_peer(timeout=1.0)
            assert not server.state.connections

    arun(main())


def test_max_requests_stops_the_server_after_answering() -> None:
    async def main() -> None:
        async with running(router, limit_max_requests=3) as server:
            conn = await RawConnection.open(server.address)
            for i in range(3):
                response = await conn.request(get(f"/{i}"))
                assert response.body == b"native /%d" % i
            await asyncio.wait_for(server.wait_stopped(), 5)
            assert await conn.closed_by_peer(timeout=1.0)

    arun(main())


class LifespanApp:
    """Records lifespan events; answers http requests with its state."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[str] = []
        self.fail = fail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    if self.fail:
                        await send({"type": "lifespan.startup.failed", "message": "no database"})
                        return
                    scope["state"]["db"] = "connected"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})


def test_lifespan_runs_around_serving() -> None:
    app = LifespanApp()

    async def main() -> None:
        async with running(app) as server:
            assert app.events == ["lifespan.startup"]
            conn = await RawConnection.open(server.address)
            assert (await conn.request(get("/"))).body == b"connected"
            conn.close()
        assert app.events == ["lifespan.startup", "lifespan.shutdown"]

    arun(main())


def test_a_failed_lifespan_startup_stops_the_server_from_starting() -> None:
    async def main() -> None:
        server = Server(LifespanApp(fail=True), ServeConfig(port=0))
        with pytest.raises(RuntimeError, match="no database"):
            await server.start()

    arun(main())


async def no_lifespan_raises(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def no_lifespan_returns(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize("app", [no_lifespan_raises, no_lifespan_returns])
def test_apps_without_lifespan_support_are_served(app: Any) -> None:
    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            assert (await conn.request(get("/"))).body == b"ok"
            conn.close()

    arun(main(), timeout=10)


# ------------------------------------------------------------------------------------
# Loading apps
# ------------------------------------------------------------------------------------
def test_load_app_imports_module_attribute() -> None:
    assert load_app("tests.http.aio.apps:scope_app") is apps.scope_app
    assert load_app("tests.http.aio.apps:starlette_app.router") is apps.starlette_app.router
    assert load_app("wirekit.http.aio:demo_handler") is not None


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("justamodule", "module:attribute"),
        (":app", "module:attribute"),
        ("tests.http.aio.apps:", "module:attribute"),
        ("no_such_module_xyz:app", "'no_such_module_xyz'"),
        ("tests.http.aio.apps:missing_app", "'missing_app'"),
        ("tests.http.aio.apps:starlette_app.nope", "'starlette_app.nope'"),
        ("tests.http.aio.apps:NOT_CALLABLE", "not callable"),
    ],
)
def test_load_app_errors_name_what_failed(spec: str, names: str) -> None:
    with pytest.raises(AppError) as info:
        load_app(spec)
    message = str(info.value)
    assert names in message and "\n" not in message


def test_asgi_apps_are_told_from_native_handlers() -> None:
    assert is_asgi(apps.scope_app)
    assert is_asgi(LifespanApp())
    assert is_asgi(apps.starlette_app)
    assert not is_asgi(apps.robust_handler)
    assert not is_asgi(router)


# ------------------------------------------------------------------------------------
# Workers
# ------------------------------------------------------------------------------------
def fetch(address: tuple[str, int], target: str = "/") -> bytes:
    conn = http.client.HTTPConnection(*address, timeout=5)
    try:
        conn.request("GET", target)
        return conn.getresponse().read()
    finally:
        conn.close()


def answering_pids(server: ServerProcess, n: int) -> set[int]:
    """The pids that answered ``n`` requests on fresh connections (failures skipped)."""
    pids = set()
    for _ in range(n):
        with contextlib.suppress(OSError, http.client.HTTPException):
            pids.add(int(fetch(server.address)))
    return pids


def worker_pids(server: ServerProcess) -> set[int]:
    return {p.pid for p in psutil.Process(server.pid).children() if p.status() != psutil.STATUS_ZOMBIE}


def test_workers_share_the_port_and_a_crashed_worker_is_restarted() -> None:
    with ServerProcess("tests.http.aio.apps:pid_handler", "--workers", "2") as server:
        assert server.stdout.strip().endswith("(2 workers)")
        workers = worker_pids(server)
        assert len(workers) == 2
        seen = {int(fetch(server.address)) for _ in range(40)}
        assert seen == workers, "both workers accept connections"
        # Crash one worker: the supervisor starts another.
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            fetch(server.address, "/crash")
        assert wait_until(lambda: len(worker_pids(server)) == 2 and worker_pids(server) != workers, timeout=10)
        new = worker_pids(server)
        assert len(new & workers) == 1
        assert wait_until(lambda: answering_pids(server, 20) == new, timeout=10)
        assert server.stop(signal.SIGTERM) == 0
        assert not any(process_running(pid) for pid in new)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_supervisor_forwards_signals_and_workers_finish_responses(sig: int) -> None:
    with ServerProcess("tests.http.aio.apps:slow_stream_app", "--workers", "2") as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/slow/8")
        response = conn.getresponse()
        assert response.readline() == b"tick 0\n"
        started = time.monotonic()
        server.send_signal(sig)
        rest = response.read()
        assert rest.endswith(b"tick 7\n"), "the in-flight response finished"
        assert server.wait(10) == 0
        assert time.monotonic() - started < 5
        conn.close()
        assert server.stderr.count("lifespan: lifespan.shutdown") == 2, server.stderr


def test_workers_that_reach_max_requests_are_replaced() -> None:
    with ServerProcess("tests.http.aio.apps:pid_handler", "--workers", "2", "--limit-max-requests", "3") as server:
        seen: set[int] = set()
        answered = 0
        deadline = time.monotonic() + 15
        while len(seen) < 4 and time.monotonic() < deadline:
            try:
                seen.add(int(fetch(server.address)))
                answered += 1
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # a worker that just stopped: its queued connection was reset
        assert len(seen) >= 4, f"workers were restarted after 3 requests each: {seen}"
        assert answered >= 7
        assert server.stop() == 0
