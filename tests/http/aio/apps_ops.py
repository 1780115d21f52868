"""Apps for the operator tests (``wirekit serve`` options): run by ``ServerProcess`` as
``tests.http.aio.apps_ops:NAME``.

- `scope_app`: ASGI; answers JSON with the scope's client, scheme, path, raw_path,
  root_path and server; ``/own-headers`` answers with its own Date and Server.
- `native_own_headers`: native; its own Date and Server.
- `make_app`: a factory (``--factory``) of an ASGI app answering ``factory``.
- `zero_arg_factory`: a factory taking no arguments, not marked (auto-detected).
- `Asgi2App`: an ASGI 2 app (a class: ``Asgi2App(scope)`` then ``await (receive, send)``).
- `wsgi_app`: a WSGI app echoing method, SCRIPT_NAME, PATH_INFO, query, scheme, body.
- `wsgi_stream`: a WSGI app whose body is a generator.
- `failing_startup`, `hanging_startup`, `lifespan_counter`: lifespan behaviours.
- `starlette_mounted`: Starlette with a ``Mount("/sub", ...)`` holding ``/items/{name}``,
  reporting ``request.url`` (served under a proxy's prefix with ``--root-path``).
- `env_app`: answers the value of ``WIREKIT_TEST_VALUE`` from the environment.
- `three_args`: a callable of three arguments that is not async (refused).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from wirekit.http import Reqd
from wirekit.http import Response as HttpResponse
from wirekit.http.aio._asgi import Receive, Scope, Send


async def _json(send: Send, data: object, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"].endswith("/own-headers"):
        own = [(b"Date", b"Thu, 01 Jan 2026 00:00:00 GMT"), (b"Server", b"my-app/1.0")]
        await _json(send, {"own": True}, own)
        return
    client = scope.get("client")
    await _json(
        send,
        {
            "client": list(client) if client else None,
            "scheme": scope["scheme"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "root_path": scope["root_path"],
            "server": list(scope["server"]) if scope.get("server") else None,
        },
    )


def native_own_headers(reqd: Reqd) -> None:
    own = [(b"content-type", b"text/plain"), (b"Date", b"Thu, 01 Jan 2026 00:00:00 GMT"), (b"server", b"mine")]
    reqd.respond_with_bytes(HttpResponse(200, own), b"native")


def make_app() -> Callable[..., Any]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await _json(send, "factory")

    return app


def zero_arg_factory() -> Callable[..., Any]:
    return make_app()


class Asgi2App:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        if self.scope["type"] == "http":
            await _json(send, {"asgi2": self.scope["path"]})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    data = {
        "method": environ["REQUEST_METHOD"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "scheme": environ["wsgi.url_scheme"],
        "body": body.decode(),
        "x_test": environ.get("HTTP_X_TEST"),
    }
    out = json.dumps(data).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


def wsgi_stream(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    for word in ("one", "two", "three"):
        yield word.encode() + b" "


async def failing_startup(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "Traceback (most recent call last):\n  ...\nConnectionError: database unreachable"})
        return
    await _json(send, "never")


async def hanging_startup(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await asyncio.sleep(3600)
        return
    await _json(send, "never")


async def raising_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        raise ValueError("no lifespan here")
    await _json(send, "served")


async def lifespan_counter(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers whether the lifespan startup ran (in this process)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                os.environ["WIREKIT_TEST_STARTED"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await _json(send, {"started": os.environ.get("WIREKIT_TEST_STARTED", "no"), "pid": os.getpid()})


async def env_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _json(send, {"value": os.environ.get("WIREKIT_TEST_VALUE"), "kept": os.environ.get("WIREKIT_TEST_KEPT")})


def three_args(a: object, b: object, c: object) -> None:
    """Not an app of any kind."""


async def _where(request: Request) -> JSONResponse:
    return JSONResponse({"url": str(request.url), "path": request.url.path, "root_path": request.scope["root_path"]})


starlette_mounted = Starlette(routes=[Mount("/sub", routes=[Route("/items/{name}", _where)])])
