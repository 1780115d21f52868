"""The ``wirekit`` command: options generated from `ServeConfig`, errors, and the command
run for real (``python -m wirekit.http serve`` and the ``wirekit`` script)."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wirekit.http import Config
from wirekit.http.aio import ServeConfig
from wirekit.http.aio._cli import build_parser, config_from_args, http_config_from_args, main

from tests.http.aio.support import RawConnection, ServerProcess, arun, get, wirekit


@pytest.fixture(autouse=True)
def keep_the_event_loop_policy() -> Iterator[None]:
    """`main` may install uvloop's policy (``--loop auto``): undo it for later tests."""
    policy = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(policy)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def test_every_config_field_is_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for f in dataclasses.fields(ServeConfig):
        assert flag(f.name) in text, f.name
        assert str(f.metadata["help"]).split()[0] in text
    assert "APP" in text and "/stream/N" in text


def test_defaults_are_the_dataclass_defaults() -> None:
    assert config_from_args(build_parser().parse_args(["serve"])) == ServeConfig()


def test_options_are_parsed_into_the_config() -> None:
    args = build_parser().parse_args(
        [
            "serve", "pkg.mod:app", "--host", "0.0.0.0", "--port", "9000", "--workers", "3",
            "--loop", "asyncio", "--timeout-keep-alive", "2.5", "--timeout-header", "1",
            "--limit-concurrency", "50", "--limit-max-requests", "1000", "--access-log",
            "--root-path", "/api",
        ]
    )
    assert args.app == "pkg.mod:app"
    assert config_from_args(args) == ServeConfig(
        host="0.0.0.0", port=9000, workers=3, loop="asyncio",
        limit_concurrency=50, limit_max_requests=1000, access_log=True, root_path="/api",
    )
    assert http_config_from_args(args) == Config(timeout_keep_alive=2.5, timeout_header=1.0)
    assert config_from_args(build_parser().parse_args(["serve", "--no-access-log"])).access_log is False


def test_every_http_config_field_is_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = capsys.readouterr().out
    for f in dataclasses.fields(Config):
        assert flag(f.name) in text, f.name
    assert http_config_from_args(build_parser().parse_args(["serve"])) == Config()
    args = build_parser().parse_args(["serve", "--max-pending-output", "1000", "--max-body-bytes", "10", "--max-headers", "5"])
    assert http_config_from_args(args) == Config(max_pending_output=1000, max_body_bytes=10, max_headers=5)
    assert main(["serve", "--max-pending-output", "0"]) == 2
    assert "max_pending_output" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_http_limits_from_the_command_line_reach_the_connections(workers: str) -> None:
    with ServerProcess("--max-headers", "2", "--workers", workers) as server:

        async def requests() -> None:
            conn = await RawConnection.open(server.address)
            assert (await conn.request(get("/", "A: 1"))).status == 200
            assert (await conn.request(get("/", "A: 1", "B: 2"))).status == 431
            conn.close()

        arun(requests())
        assert server.stop() == 0


@pytest.mark.parametrize("argv", [["serve", "--port", "abc"], ["serve", "--loop", "trio"], ["serve", "a", "b"], [], ["nope"]])
def test_malformed_command_lines_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [(["--workers", "0"], "workers"), (["--port", "70000"], "port")])
def test_invalid_values_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wirekit: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("app", "named"),
    [
        ("no_such_module_xyz:app", "no_such_module_xyz"),
        ("tests.http.aio.apps:missing_app", "missing_app"),
        ("tests.http.aio.apps:NOT_CALLABLE", "NOT_CALLABLE"),
        ("tests.http.aio.apps", "module:attribute"),
    ],
)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_bad_app_strings_are_one_line_errors(app: str, named: str, workers: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", app, "--port", "0", "--workers", workers]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("wirekit: ") and captured.err.count("\n") == 1
    assert named in captured.err


def test_bad_app_from_the_real_command_line() -> None:
    result = wirekit("serve", "no_such_module_xyz:app", "--port", "0")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "no_such_module_xyz" in lines[0], result.stderr


STARTUP_LINE = re.compile(r"^wirekit listening on http://127\.0\.0\.1:(\d+)$")


def test_python_m_wirekit_http_serve_runs_the_demo() -> None:
    with ServerProcess() as server:
        assert STARTUP_LINE.match(server.stdout.strip()), server.stdout
        assert server.port > 0

        async def fetch() -> None:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/"))
            assert response.body == b"Hello, world!"
            conn.close()

        arun(fetch())
        assert server.stop(signal.SIGINT) == 0
        assert server.stderr == "", "nothing is logged by default"


def test_the_wirekit_script() -> None:
    script = Path(sys.executable).parent / "wirekit"
    assert script.exists(), "the wirekit console script is installed with the package"
    with ServerProcess(command=[str(script), "serve"]) as server:
        assert STARTUP_LINE.match(server.stdout.strip())
        assert server.stop(signal.SIGTERM) == 0


def test_a_busy_port_exits_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = wirekit("serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith("wirekit: cannot listen on 127.0.0.1:") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("loop", ["asyncio", "uvloop", "auto"])
def test_loop_option(loop: str) -> None:
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        result = wirekit("serve", "--loop", "uvloop", "--port", "0")
        assert result.returncode == 2 and "uvloop" in result.stderr and result.stderr.count("\n") == 1
        return
    with ServerProcess("--loop", loop) as server:

        async def requests() -> None:
            conn = await RawConnection.open(server.address)
            assert (await conn.request(get("/"))).body == b"Hello, world!"
            echoed = await conn.request(get("/echo", "Transfer-Encoding: chunked", method="POST") + b"3\r\nabc\r\n0\r\n\r\n")
            assert echoed.body == b"abc"
            conn.close()

        arun(requests())
        assert server.stop() == 0
    assert server.stderr == "", server.stderr


def test_access_log_option_logs_requests_in_common_log_format() -> None:
    with ServerProcess("--access-log") as server:

        async def requests() -> None:
            conn = await RawConnection.open(server.address)
            await conn.request(get("/"))
            await conn.request(get("/bytes/7"))
            await conn.request(get("/nope", method="HEAD"), head=True)
            conn.close()

        arun(requests())
        assert server.stop() == 0
    lines = [line for line in server.stderr.splitlines() if '" ' in line]
    pattern = re.compile(r'127\.0\.0\.1 - - \[[^\]]+\] "(GET / HTTP/1\.1" 200|GET /bytes/7 HTTP/1\.1" 200|HEAD /nope HTTP/1\.1" 404) -$')
    assert len(lines) == 3 and all(pattern.search(line) for line in lines), server.stderr


def test_limit_concurrency_and_keep_alive_timeout_options() -> None:
    with ServerProcess("--limit-concurrency", "1", "--timeout-keep-alive", "0.5") as server:

        async def main() -> None:
            first = await RawConnection.open(server.address)
            assert (await first.request(get("/"))).status == 200
            second = await RawConnection.open(server.address)
            refused = await second.response()
            assert refused.status == 503 and await second.closed_by_peer()
            started = time.monotonic()
            assert await first.closed_by_peer(timeout=3), "the idle connection is closed"
            assert time.monotonic() - started < 1.5
            third = await RawConnection.open(server.address)
            assert (await third.request(get("/"))).status == 200
            third.close()

        arun(main())
        assert server.stop() == 0
