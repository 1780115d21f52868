"""Issue 17 (server hardening), "also": a rejected request (400, 414, 431, 505...) and a
connection refused with 503 (``--limit-concurrency``, or during shutdown) are logged in
one line at INFO on ``wirekit.error``, with the client's address and the reason (as
uvicorn logs "Invalid HTTP request received"). Real sockets on 127.0.0.1; bounded.
"""

from __future__ import annotations

import logging

import pytest

from tests.http.aio.support import RawConnection, ServerProcess, arun, get, running, wait_until

ERROR_LOGGER = "wirekit.error"


def client_address(conn: RawConnection) -> str:
    host, port = conn.writer.get_extra_info("sockname")[:2]
    return f"{host}:{port}"


def lines_from(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ERROR_LOGGER]


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n", 400, "Bad Request"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI Too Long"),
        (get("/", *[f"X-{i}: {i}" for i in range(120)]), 431, "Request Header Fields Too Large"),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP Version Not Supported"),
    ],
    ids=["400", "414", "431", "505"],
)
def test_a_rejected_request_is_logged_in_one_info_line(
    request_bytes: bytes, status: int, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> str:
        async with running() as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(request_bytes)
            assert response.status == status
            return client_address(conn)

    with caplog.at_level(logging.INFO, logger=ERROR_LOGGER):
        client = arun(main())
    records = lines_from(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    line = record.getMessage()
    assert record.levelno == logging.INFO
    assert "\n" not in line
    assert line.startswith(f"invalid HTTP request from {client}: {status} {reason} ("), line
    assert len(line) > len(f"invalid HTTP request from {client}: {status} {reason} ()"), "the parser's reason"


def test_a_good_request_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with running() as server:
            conn = await RawConnection.open(server.address)
            assert (await conn.request(get("/"))).status == 200

    with caplog.at_level(logging.INFO, logger=ERROR_LOGGER):
        arun(main())
    assert lines_from(caplog) == []


def test_a_503_beyond_limit_concurrency_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> str:
        async with running(limit_concurrency=1) as server:
            first = await RawConnection.open(server.address)
            assert (await first.request(get("/"))).status == 200  # holds the one slot
            second = await RawConnection.open(server.address)
            response = await second.response()
            assert response.status == 503
            return client_address(second)

    with caplog.at_level(logging.INFO, logger=ERROR_LOGGER):
        client = arun(main())
    lines = [r.getMessage() for r in lines_from(caplog) if r.levelno == logging.INFO]
    assert lines == [f"503 Service Unavailable for {client}: --limit-concurrency 1 reached"], lines


def test_the_lines_reach_the_servers_stderr() -> None:
    # With --access-log the CLI logs at INFO (by default only warnings and errors).
    with ServerProcess("--access-log", "--limit-concurrency", "1") as server:

        async def main() -> tuple[str, str]:
            bad = await RawConnection.open(server.address)
            assert (await bad.request(b"GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n")).status == 400
            bad_client = client_address(bad)
            bad.close()
            await bad.closed_by_peer(timeout=2)
            assert wait_until(lambda: "invalid HTTP request" in server.stderr, timeout=3), server.stderr
            hold = await RawConnection.open(server.address)
            assert (await hold.request(get("/"))).status == 200
            refused = await RawConnection.open(server.address)
            assert (await refused.response()).status == 503
            return bad_client, client_address(refused)

        bad_client, refused_client = arun(main())
        assert server.stop() == 0
    log = server.stderr.splitlines()
    assert f"INFO:wirekit.error:invalid HTTP request from {bad_client}: 400 Bad Request (" in "\n".join(log), log
    assert (
        f"INFO:wirekit.error:503 Service Unavailable for {refused_client}: --limit-concurrency 1 reached" in log
    ), log
