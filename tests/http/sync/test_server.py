"""`wirekit.http.sync.Server` against real peers (curl, http.client, httpx, nginx) and
raw sockets: keep-alive, pipelining, half-close, 100-continue, chunked both ways,
backpressure both ways, resets, graceful stop, timeouts. Each test starts its own
server on 127.0.0.1 and a free port, and stops it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http import runtime_checks as checks
from tests.http.runtime_checks import Running, sync_server


@pytest.fixture
def server() -> Iterator[Running]:
    with sync_server() as running:
        yield running


def test_curl(server: Running, tmp_path: Path) -> None:
    checks.check_curl(server, tmp_path)


def test_http_client(server: Running) -> None:
    checks.check_http_client(server)


def test_httpx(server: Running) -> None:
    checks.check_httpx(server)


def test_nginx_proxy(server: Running) -> None:
    checks.check_nginx(server)


def test_pipelining(server: Running) -> None:
    checks.check_pipelining(server)


def test_iov_max_and_a_failing_handler(server: Running) -> None:
    checks.check_iov_max(server)


def test_half_close_after_pipelining(server: Running) -> None:
    checks.check_half_close_after_pipelining(server)


def test_upload_echo_backpressure(server: Running) -> None:
    checks.check_upload_backpressure(server)


def test_streaming_to_a_slow_reader(server: Running) -> None:
    checks.check_slow_reader(server)


def test_pipelining_client_that_never_reads(server: Running) -> None:
    checks.check_pipelining_client_that_never_reads(server)


def test_client_resets(server: Running) -> None:
    checks.check_client_resets(server)


def test_reset_while_the_handler_works(server: Running) -> None:
    checks.check_reset_while_the_handler_works(server)


def test_graceful_stop(server: Running) -> None:
    checks.check_graceful_stop(server)


@pytest.fixture
def short_timeouts() -> Iterator[Running]:
    with sync_server(checks.TIMEOUTS) as running:
        yield running


def test_header_timeout(short_timeouts: Running) -> None:
    checks.check_header_timeout(short_timeouts)


def test_idle_timeout(short_timeouts: Running) -> None:
    checks.check_idle_timeout(short_timeouts)


def test_body_timeout(short_timeouts: Running) -> None:
    checks.check_body_timeout(short_timeouts)


def test_write_timeout(short_timeouts: Running) -> None:
    checks.check_write_timeout(short_timeouts)
