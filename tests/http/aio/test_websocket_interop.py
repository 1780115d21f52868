"""WebSocket with real peers over loopback, `wirekit serve` in a subprocess: headless
Chromium (a page that exchanges text and binary and closes), nginx as a reverse proxy
(the upgrade passed through), and the `websockets` client with compression."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.http.aio.support import Nginx, ServerProcess, arun, require_tool

APP = "tests.http.aio.apps_ws:ws_page_app"


def test_chromium_exchanges_text_and_binary_and_closes() -> None:
    chromium = require_tool("chromium")
    profile = tempfile.mkdtemp(prefix="wirekit-chromium-")
    try:
        with ServerProcess(APP) as server:
            result = subprocess.run(
                [
                    chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--dump-dom", server.url + "/",
                ],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert server.stop() == 0
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    # The echoes came back, and the close handshake was clean with the page's code.
    assert '<p id="out">text:echo:hello ✓|binary:250,3,2,1|close:4321:true</p>' in result.stdout, result.stdout
    assert "ws-disconnect: 4321 done" in server.stderr, server.stderr


PROXY = """
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream wirekit { server 127.0.0.1:{upstream}; }
  server {
    listen 127.0.0.1:{port};
    location / {
      proxy_pass http://wirekit;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host wirekit;
      proxy_read_timeout 30s;
    }
  }
"""


@pytest.mark.parametrize("compression", ["deflate", None])
def test_through_nginx(compression: str | None) -> None:
    with ServerProcess(APP) as upstream, Nginx(PROXY.replace("{upstream}", str(upstream.port))) as nginx:

        async def main() -> None:
            async with connect(f"ws://127.0.0.1:{nginx.port}/ws", compression=compression) as ws:
                await ws.send("through nginx")
                assert await ws.recv() == "echo:through nginx"
                big = bytes(range(256)) * 4096  # 1 MiB, many TCP segments both ways
                await ws.send(big)
                assert await ws.recv() == big[::-1]
                await ws.ping(b"are you there")
                await ws.close(4100, "bye")
            assert ws.close_code == 4100

        arun(main(), timeout=30)
        assert upstream.stop() == 0
    assert "ws-disconnect: 4100 bye" in upstream.stderr, upstream.stderr


def test_many_clients_at_once() -> None:
    with ServerProcess(APP) as server:

        async def one(i: int) -> None:
            async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
                for j in range(20):
                    await ws.send(f"{i}:{j}")
                    assert await ws.recv() == f"echo:{i}:{j}"

        async def main() -> None:
            await asyncio.gather(*(one(i) for i in range(50)))

        arun(main(), timeout=60)

        async def shutdown() -> None:
            ws = await connect(f"ws://127.0.0.1:{server.port}/ws")
            server.send_signal()  # SIGTERM: open sockets are closed with 1001
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001

        arun(shutdown())
        assert server.wait() == 0
