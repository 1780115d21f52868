"""Finding and starting the app (`wirekit.http.aio._loading`, the lifespan modes, reload):
``--factory``, ``--interface`` (ASGI 3, ASGI 2, WSGI, native), ``--app-dir``,
``--env-file``, ``--lifespan auto|on|off`` with exit code 3 for a failed or hanging
startup, ``--version``, ``WEB_CONCURRENCY`` and ``--reload``; all through the real
command line and sockets."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.http.aio.support import ServerProcess, wait_until, wirekit

OPS = "tests.http.aio.apps_ops"


def get_json(server: ServerProcess, path: str = "/", **kwargs: object) -> object:
    with httpx.Client(timeout=10) as client:
        response = client.request(str(kwargs.pop("method", "GET")), server.url + path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([f"{OPS}:make_app", "--factory"], "factory"),
        ([f"{OPS}:zero_arg_factory"], "factory"),  # detected (with a warning)
        ([f"{OPS}:Asgi2App"], {"asgi2": "/p"}),
        ([f"{OPS}:Asgi2App", "--interface", "asgi2"], {"asgi2": "/p"}),
        ([f"{OPS}:scope_app", "--interface", "asgi3"], None),
    ],
    ids=["factory", "auto-factory", "asgi2-auto", "asgi2", "asgi3"],
)
def test_app_kinds_are_served(args: list[str], expected: object) -> None:
    with ServerProcess(*args) as server:
        got = get_json(server, "/p")
        assert server.stop() == 0
    if expected is None:
        assert isinstance(got, dict) and got["path"] == "/p"
    else:
        assert got == expected
    if args[0].endswith("zero_arg_factory"):
        assert "--factory" in server.stderr


@pytest.mark.parametrize("interface", [[], ["--interface", "wsgi"]], ids=["auto", "wsgi"])
def test_a_wsgi_app(interface: list[str]) -> None:
    with ServerProcess(f"{OPS}:wsgi_app", "--root-path", "/pre", *interface) as server:
        got = get_json(server, "/a/b?x=1", method="POST", content=b"hello", headers={"X-Test": "yes"})
        assert server.stop() == 0
    assert got == {
        "method": "POST", "script_name": "/pre", "path_info": "/a/b", "query": "x=1", "scheme": "http",
        "body": "hello", "x_test": "yes",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([f"{OPS}:three_args"], "takes 3 arguments"),
        ([f"{OPS}:scope_app", "--interface", "wsgi"], "not a WSGI app"),
        ([f"{OPS}:scope_app", "--factory"], "app factory"),
        ([f"{OPS}:scope_app", "--app-dir", "/nonexistent-dir"], "--app-dir"),
        ([f"{OPS}:scope_app", "--env-file", "/nonexistent.env"], "--env-file"),
    ],
)
def test_unusable_apps_are_refused_in_one_line(args: list[str], message: str) -> None:
    result = wirekit("serve", *args, "--port", "0")
    assert result.returncode == 2, result
    assert result.stderr.startswith("wirekit: ") and message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "listening" not in result.stdout


def test_app_dir(tmp_path: Path) -> None:
    (tmp_path / "elsewhere_app.py").write_text(
        "async def app(scope, receive, send):\n"
        "    if scope['type'] == 'http':\n"
        "        await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "        await send({'type': 'http.response.body', 'body': b'\"from app dir\"'})\n"
    )
    with ServerProcess("elsewhere_app:app", "--app-dir", str(tmp_path)) as server:
        assert get_json(server) == "from app dir"
        assert server.stop() == 0


def test_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text('# settings\nexport WIREKIT_TEST_VALUE="from file"\nWIREKIT_TEST_KEPT=file # comment\n')
    monkeypatch.setenv("WIREKIT_TEST_KEPT", "environment")
    monkeypatch.delenv("WIREKIT_TEST_VALUE", raising=False)
    with ServerProcess(f"{OPS}:env_app", "--env-file", str(env)) as server:
        assert get_json(server) == {"value": "from file", "kept": "environment"}
        assert server.stop() == 0
    bad = tmp_path / "bad.env"
    bad.write_text("no equals sign\n")
    result = wirekit("serve", f"{OPS}:env_app", "--env-file", str(bad), "--port", "0")
    assert result.returncode == 2 and "line 1" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_failed_startup_is_one_line_and_exit_code_3(workers: str) -> None:
    result = wirekit("serve", f"{OPS}:failing_startup", "--port", "0", "--workers", workers, timeout=60)
    assert result.returncode == 3, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("wirekit: ")]
    assert len(errors) == 1 and errors[0].endswith("ConnectionError: database unreachable"), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if workers == "1":
        assert result.stderr.count("\n") == 1 and "listening" not in result.stdout


def test_a_hanging_startup_is_visible_and_bounded() -> None:
    started = time.monotonic()
    result = wirekit("serve", f"{OPS}:hanging_startup", "--port", "0", "--timeout-lifespan", "6", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 3, result
    assert "waiting for the app's lifespan startup (5 s so far)" in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1] == "wirekit: the app's lifespan startup did not finish within 6 s"
    assert 5.5 < elapsed < 30


def test_lifespan_modes() -> None:
    # off: a failing startup is never run.
    with ServerProcess(f"{OPS}:failing_startup", "--lifespan", "off") as server:
        assert get_json(server) == "never"
        assert server.stop() == 0
    with ServerProcess(f"{OPS}:lifespan_counter", "--lifespan", "off") as server:
        assert get_json(server)["started"] == "no"  # type: ignore[index]
        assert server.stop() == 0
    with ServerProcess(f"{OPS}:lifespan_counter", "--lifespan", "on") as server:
        assert get_json(server)["started"] == "yes"  # type: ignore[index]
        assert server.stop() == 0
    # auto: an app that raises for the lifespan scope is served without it; on: refused.
    with ServerProcess(f"{OPS}:raising_lifespan") as server:
        assert get_json(server) == "served"
        assert server.stop() == 0
    result = wirekit("serve", f"{OPS}:raising_lifespan", "--lifespan", "on", "--port", "0")
    assert result.returncode == 3 and "ValueError: no lifespan here" in result.stderr, result


def test_version() -> None:
    for args in (["--version"], ["serve", "--version"]):
        result = wirekit(*args)
        assert result.returncode == 0 and re.fullmatch(r"wirekit \d+\.\d+\.\d+\S* \(Python 3\.\d+\.\d+\)\n", result.stdout), result


def test_web_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    with ServerProcess(f"{OPS}:lifespan_counter") as server:
        assert server.stdout.strip().endswith("(2 workers)"), server.stdout
        pids = {get_json(server)["pid"] for _ in range(30)}  # type: ignore[index]
        assert server.stop() == 0
    assert 1 <= len(pids) <= 2


RELOAD_APP = """
async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'"VERSION"'})
"""


def test_reload_picks_up_an_edited_app(tmp_path: Path) -> None:
    app = tmp_path / "reloaded_app.py"
    app.write_text(RELOAD_APP.replace("VERSION", "one"))
    with ServerProcess("reloaded_app:app", "--app-dir", str(tmp_path), "--reload", "--reload-dir", str(tmp_path)) as server:
        assert "wirekit reloader watching" in server.stdout
        assert get_json(server) == "one"
        first_child = server.stdout.count("wirekit listening on")
        time.sleep(0.5)  # the watcher is set up
        app.write_text(RELOAD_APP.replace("VERSION", "two"))

        def sees_two() -> bool:
            try:
                return get_json(server) == "two"
            except (httpx.HTTPError, AssertionError, json.JSONDecodeError):
                return False

        assert wait_until(sees_two, timeout=20, interval=0.2), server.stderr
        assert server.stdout.count("wirekit listening on") == first_child + 1
        assert "reloaded_app.py changed; restarting" in server.stderr
        # Other files are not watched by default.
        (tmp_path / "notes.txt").write_text("x")
        time.sleep(1.5)
        assert server.stdout.count("wirekit listening on") == first_child + 1
        assert server.stop() == 0
        assert wait_until(lambda: not any(p.isdigit() and _is_child(int(p)) for p in os.listdir("/proc")), timeout=5)


def _is_child(pid: int) -> bool:
    """Whether ``pid`` is a wirekit child serving reloaded_app (left running)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"reloaded_app:app" in cmdline and b"--no-reload" in cmdline


def test_a_wsgi_app_streaming_a_body() -> None:
    with ServerProcess(f"{OPS}:wsgi_stream", "--interface", "wsgi") as server:
        with httpx.Client(timeout=10) as client:
            response = client.get(server.url + "/")
        assert server.stop() == 0
    assert response.status_code == 200 and response.text == "one two three "
    assert response.headers.get("transfer-encoding") == "chunked"  # a generator: length unknown
    assert response.headers["content-type"] == "text/plain"
