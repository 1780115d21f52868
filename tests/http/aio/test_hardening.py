"""Issue 17 (server hardening) over real sockets on 127.0.0.1: each test starts its own
server (in-process, or ``wirekit serve`` as a subprocess), is bounded in time, and stops
the server.

- Request targets with the bytes browsers leave unencoded: raw bytes, curl, urllib and
  headless Chromium (defect 3).
- Half-close after pipelined requests: every one is answered, native and ASGI (defect 5).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import urllib.request
from typing import Any

import pytest
from wirekit.http import Reqd, Response

from tests.http.aio.apps import scope_app
from tests.http.aio.support import RawConnection, ServerProcess, arun, get, require_tool, running

TIMEOUT = 20


# ------------------------------------------------------------------------------------
# Defect 3: browser-compatible request targets
# ------------------------------------------------------------------------------------
# (target sent, raw_path, query_string): Chromium's bytes for /?filter={"a":1}, /?q={a}
# and /?q=`x`^|\y<z> (captured from its request lines), then curl's '/a|b'.
TARGETS = [
    (b"/?filter={%22a%22:1}", b"/", b"filter={%22a%22:1}"),
    (b"/?q={a}", b"/", b"q={a}"),
    (b"/?q=`x`^|\\y%3Cz%3E", b"/", b"q=`x`^|\\y%3Cz%3E"),
    (b"/a|b", b"/a|b", b""),
]


def test_browser_targets_reach_the_app_pipelined() -> None:
    async def main() -> None:
        async with running(scope_app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(b"".join(get(target.decode("latin-1")) for target, _, _ in TARGETS))
            for _target, raw_path, query in TARGETS:
                response = await conn.response()
                assert response.status == 200, response
                scope = json.loads(response.body)
                assert (scope["raw_path"], scope["query_string"]) == (raw_path.decode(), query.decode())

    arun(main())


def curl(*args: str) -> bytes:
    result = subprocess.run(
        [require_tool("curl"), "--silent", "--show-error", "--max-time", str(TIMEOUT), *args],
        capture_output=True, timeout=TIMEOUT + 5, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_curl_urllib_and_chromium_targets() -> None:
    chromium = require_tool("chromium")
    profile = tempfile.mkdtemp(prefix="wirekit-chromium-")
    try:
        with ServerProcess("tests.http.aio.apps:scope_app") as server:
            scope: dict[str, Any] = json.loads(curl("-g", server.url + "/?q={a}"))
            assert scope["query_string"] == "q={a}"
            scope = json.loads(curl(server.url + "/a|b"))
            assert scope["raw_path"] == "/a|b"
            with urllib.request.urlopen(server.url + '/x?q={"a":`1`}', timeout=TIMEOUT) as response:
                scope = json.loads(response.read())
            assert scope["query_string"] == '"q={"a":`1`}"'[1:-1]
            result = subprocess.run(
                [
                    chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--dump-dom", server.url + '/?filter={"a":1}',
                ],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert server.stop() == 0
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    # The page is the app's JSON (the scope it saw), as Chromium shows it.
    assert '"query_string": "filter={%22a%22:1}"' in result.stdout, result.stdout[:2000]
    assert '"status": 400' not in result.stdout


@pytest.mark.parametrize("target", [b"/a#b", b"/a<b", b"/a\x7fb", b"/a\xc3\xa9"])
def test_other_target_bytes_are_still_400(target: bytes) -> None:
    async def main() -> None:
        async with running(scope_app) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            assert response.status == 400
            assert await conn.closed_by_peer()

    arun(main())


# ------------------------------------------------------------------------------------
# Defect 5: half-close after pipelined requests
# ------------------------------------------------------------------------------------
def later_handler(reqd: Reqd) -> None:
    """A native handler that answers 10 ms later (with the target), as handlers that do
    some IO first do."""
    request = reqd.request
    assert request is not None
    asyncio.get_running_loop().call_later(0.01, reqd.respond_with_bytes, Response(200), request.target)


@pytest.mark.parametrize("count", [3, 20])
@pytest.mark.parametrize("app", [later_handler, scope_app], ids=["native", "asgi"])
def test_half_close_after_pipelined_requests(app: Any, count: int) -> None:
    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(b"".join(get(f"/{i}") for i in range(count)))
            conn.writer.write_eof()  # shutdown(SHUT_WR): no more requests
            loop = asyncio.get_running_loop()
            start = loop.time()
            responses = [await conn.response() for _ in range(count)]
            # Then the server closes, promptly (not at the keep-alive timeout).
            assert await conn.closed_by_peer(timeout=2)
            assert loop.time() - start < 2
            assert [r.status for r in responses] == [200] * count
            if app is later_handler:
                assert [r.body for r in responses] == [b"/%d" % i for i in range(count)]
            else:
                assert [json.loads(r.body)["path"] for r in responses] == [f"/{i}" for i in range(count)]
            # Only the last may say the connection closes.
            assert [r.header(b"connection") for r in responses[:-1]] == [None] * (count - 1)
            assert responses[-1].header(b"connection") in (None, b"close")

    arun(main())
