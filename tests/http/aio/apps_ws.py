"""WebSocket apps for the interop tests (run in a `wirekit serve` subprocess).

- `ws_page_app`: ASGI; ``/`` is a page whose script opens a WebSocket to ``/ws``, sends
  a text and a binary message, closes with 4321 after both echoes, and writes what it
  saw into ``#out``; ``/ws`` echoes (``echo:`` + text; binary reversed) and logs the
  disconnect to stderr as ``ws-disconnect: <code> <reason>``. ``/wait`` answers once a
  WebSocket session ended (the page's image: it holds the page's load event).
"""

from __future__ import annotations

import asyncio
import sys

from wirekit.http.aio._asgi import Receive, Scope, Send

__all__ = ["ws_page_app"]

PAGE = b"""<!doctype html>
<html><head><title>ws</title><script>
const log = [];
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.binaryType = "arraybuffer";
ws.onopen = () => { ws.send("hello \\u2713"); ws.send(new Uint8Array([1, 2, 3, 250])); };
ws.onmessage = (e) => {
  log.push(typeof e.data === "string" ? "text:" + e.data : "binary:" + Array.from(new Uint8Array(e.data)).join(","));
  if (log.length === 2) ws.close(4321, "done");
};
ws.onclose = (e) => {
  const out = document.getElementById("out");
  out.textContent = log.join("|") + "|close:" + e.code + ":" + e.wasClean;
};
</script></head><body><p id="out">pending</p><img src="/wait"></body></html>
"""

_ended = asyncio.Event()


async def ws_page_app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI: see the module docstring."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                print(f"ws-disconnect: {message['code']} {message.get('reason', '')}", file=sys.stderr, flush=True)
                _ended.set()
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": "echo:" + message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
    if scope["type"] != "http":
        return
    if scope["path"] == "/wait":
        await asyncio.wait_for(_ended.wait(), 20)
        await asyncio.sleep(0.2)  # the page's close handler runs meanwhile
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
    await send({"type": "http.response.body", "body": PAGE})
