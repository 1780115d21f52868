"""Apps the tests serve with ``wirekit serve tests.http.aio.apps:NAME`` (subprocesses) or
in-process.

- `starlette_app`: a Starlette app (routes, JSON, StreamingResponse, request bodies,
  lifespan state).
- `scope_app`: a bare ASGI app that answers with its ``http`` scope as JSON.
- `slow_stream_app`: ASGI; ``/slow/N`` streams N lines 50 ms apart; logs lifespan
  events to stderr.
- `robust_handler`: native; the demo, plus ``/boom`` (the handler raises).
- `pid_handler`: native; answers the worker's pid; ``/crash`` kills the worker.
- `page_app`: ASGI; an HTML page with a stylesheet, two scripts and an image for the
  browser test.
- `proxy_app`: ASGI; routes for the tests behind nginx.
- `NOT_CALLABLE`: not an app (for the CLI's error messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from wirekit.http import Reqd
from wirekit.http import Response as HttpResponse
from wirekit.http.aio import demo_handler
from wirekit.http.aio._asgi import Receive, Scope, Send

__all__ = [
    "NOT_CALLABLE",
    "page_app",
    "pid_handler",
    "proxy_app",
    "robust_handler",
    "scope_app",
    "slow_stream_app",
    "starlette_app",
]

NOT_CALLABLE = 42


# ------------------------------------------------------------------------------------
# Starlette
# ------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "hello from lifespan"}


async def _home(request: Request) -> Response:
    return PlainTextResponse("Hello from Starlette")


async def _item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["item_id"], "q": request.query_params.get("q")})


async def _json(request: Request) -> Response:
    data = await request.json()
    return JSONResponse({"received": data}, status_code=201)


async def _upload(request: Request) -> Response:
    digest = hashlib.sha256()
    size = chunks = 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
        chunks += 1 if chunk else 0
    return JSONResponse({"bytes": size, "sha256": digest.hexdigest(), "chunked": "transfer-encoding" in request.headers})


async def _stream(request: Request) -> Response:
    n: int = request.path_params["n"]

    async def lines() -> AsyncIterator[bytes]:
        for i in range(n):
            yield b"line %d\n" % i
            await asyncio.sleep(0)

    return StreamingResponse(lines(), media_type="text/plain")


async def _state(request: Request) -> Response:
    return JSONResponse({"greeting": request.state.greeting, "path": request.url.path})


starlette_app = Starlette(
    routes=[
        Route("/", _home),
        Route("/items/{item_id:int}", _item),
        Route("/json", _json, methods=["POST"]),
        Route("/upload", _upload, methods=["POST", "PUT"]),
        Route("/stream/{n:int}", _stream),
        Route("/state", _state),
    ],
    lifespan=_lifespan,
)


# ------------------------------------------------------------------------------------
# Bare ASGI
# ------------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Scope values as JSON (bytes as latin-1 text, tuples as lists)."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request with its scope (and body size) as JSON."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started"] = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    out = {k: jsonable(v) for k, v in scope.items()}
    out["body_size"] = size
    body = json.dumps(out).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def slow_stream_app(scope: Scope, receive: Receive, send: Send) -> None:
    """``/slow/N``: N lines, 50 ms apart (chunked). Lifespan events go to stderr."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            print(f"lifespan: {message['type']}", file=sys.stderr, flush=True)
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    n = int(scope["path"].rpartition("/")[2] or 0)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    for i in range(n):
        await send({"type": "http.response.body", "body": b"tick %d\n" % i, "more_body": True})
        await asyncio.sleep(0.05)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


# ------------------------------------------------------------------------------------
# Native handlers
# ------------------------------------------------------------------------------------
def robust_handler(reqd: Reqd) -> None:
    """The demo, plus ``/boom`` whose handler raises."""
    request = reqd.request
    assert request is not None
    if request.target == b"/boom":
        raise RuntimeError("boom")
    demo_handler(reqd)


def pid_handler(reqd: Reqd) -> None:
    """Answers the worker's pid; ``/crash`` ends the worker abruptly."""
    request = reqd.request
    assert request is not None
    if request.target == b"/crash":
        os._exit(3)
    reqd.respond_with_bytes(HttpResponse(200, [(b"content-type", b"text/plain")]), str(os.getpid()).encode())


_PAGE = b"""<!DOCTYPE html>
<html><head><title>wirekit page</title><link rel="stylesheet" href="/style.css"></head>
<body>
<h1 id="title">wirekit</h1>
<img id="pixel" src="/pixel.gif" alt="pixel" onload="this.setAttribute('data-loaded', 'yes ' + this.naturalWidth + 'x' + this.naturalHeight)">
<ul id="out"></ul>
<script src="/data.js"></script>
<script src="/app.js"></script>
</body></html>
"""
_DATA_JS = b"window.ITEMS = ['alpha', 'beta', 'gamma'];\n"
_APP_JS = b"""var out = document.getElementById('out');
window.ITEMS.forEach(function (item) {
  var li = document.createElement('li');
  li.textContent = 'item:' + item;
  out.appendChild(li);
});
var color = getComputedStyle(document.getElementById('title')).color;
document.getElementById('title').setAttribute('data-color', color);
window.addEventListener('load', function () {
  document.body.setAttribute('data-state', 'loaded');
});
"""
_CSS = b"#title { color: rgb(1, 2, 3); }\n"
# A 1x1 transparent GIF.
_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
_PAGE_ROUTES = {
    b"/": (b"text/html; charset=utf-8", _PAGE),
    b"/data.js": (b"text/javascript", _DATA_JS),
    b"/app.js": (b"text/javascript", _APP_JS),
    b"/style.css": (b"text/css", _CSS),
    b"/pixel.gif": (b"image/gif", _GIF),
}


async def page_app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI: the browser test's page and its subresources (404 for anything else). Each
    request is logged to stderr as ``page: <client port> <path>``."""
    if scope["type"] != "http":
        return
    client = scope["client"]
    print(f"page: {client[1] if client else '-'} {scope['path']}", file=sys.stderr, flush=True)
    route = _PAGE_ROUTES.get(scope["raw_path"])
    if route is None or scope["method"] not in ("GET", "HEAD"):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not found\n"})
        return
    content_type, body = route
    headers = [(b"content-type", content_type), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def proxy_app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI, for the reverse-proxy tests: ``/whoami`` (the client's port), ``/echo``
    (the body streamed back as it arrives), ``/slow/N`` (N lines 100 ms apart), ``/big``
    (2 MiB), else 404."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/whoami":
        body = json.dumps({"port": scope["client"][1], "headers": jsonable(scope["headers"])}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
    elif path == "/echo":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]})
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            more = message.get("more_body", False)
            await send({"type": "http.response.body", "body": message.get("body", b""), "more_body": more})
            if not more:
                return
    elif path.startswith("/slow/"):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(int(path[6:])):
            await send({"type": "http.response.body", "body": b"line %d\n" % i, "more_body": True})
            await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/big":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": bytes(range(256)) * 8192})
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"no such path\n"})
