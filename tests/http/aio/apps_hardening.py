"""Apps for the ASGI hardening tests (issue 17), served with ``wirekit serve
tests.http.aio.apps_hardening:NAME``.

- `stream_app`: Starlette; ``/sse`` streams an event every 50 ms, ``/fast`` 64 KiB
  chunks as fast as they are taken, ``/sse-cleanup`` as ``/sse`` with a cleanup that
  takes 0.3 s (awaited in its ``finally``); each generator prints ``finally PATH TIME`` to
  stderr when its ``finally`` ends, and the lifespan prints ``lifespan startup TIME`` and
  ``lifespan shutdown TIME`` (TIME: ``time.time()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

__all__ = ["stream_app"]


def _mark(what: str) -> None:
    print(f"{what} {time.time():.6f}", file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    _mark("lifespan startup")
    yield
    _mark("lifespan shutdown")


async def _sse(request: Request) -> Response:
    path = request.url.path

    async def events() -> AsyncIterator[bytes]:
        try:
            i = 0
            while True:
                yield b"data: %d\n\n" % i
                i += 1
                await asyncio.sleep(0.05)
        finally:
            if path == "/sse-cleanup":
                await asyncio.sleep(0.3)  # say, a database connection closing
            _mark(f"finally {path}")

    return StreamingResponse(events(), media_type="text/event-stream")


async def _fast(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 65536
        finally:
            _mark("finally /fast")

    return StreamingResponse(chunks(), media_type="application/octet-stream")


stream_app = Starlette(
    routes=[Route("/sse", _sse), Route("/sse-cleanup", _sse), Route("/fast", _fast)], lifespan=_lifespan
)
