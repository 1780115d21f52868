"""A convenience layer: ``async def handler(request, body) -> (response, body)``.

For handlers that want the whole request body and produce the whole response body,
`simple_handler` turns such a coroutine function into a native `RequestHandler`:

    @simple_handler
    async def hello(request: Request, body: bytes) -> tuple[Response, bytes]:
        return Response(200, [(b"content-type", b"text/plain")]), b"hello"

It costs one task per request (the coroutine must run somewhere) and reads the body
fully before calling; streaming handlers use `Reqd` directly or ASGI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from wirekit.serializer import BytesLike

from .. import Reqd, Request, RequestHandler, Response

__all__ = ["SimpleHandler", "simple_handler"]

SimpleHandler = Callable[[Request, bytes], Awaitable[tuple[Response, BytesLike]]]
logger = logging.getLogger("wirekit.error")


def simple_handler(fn: SimpleHandler) -> RequestHandler:
    """Wrap ``async def fn(request, body) -> (response, body)`` as a native handler.

    An exception raised by ``fn`` becomes a 500 (logged); a request body that ends in a
    framing error is answered by the connection (400) without calling ``fn``.
    """
    tasks: set[asyncio.Task[None]] = set()

    async def run(reqd: Reqd, request: Request, body: bytes) -> None:
        try:
            response, data = await fn(request, body)
        except Exception as exc:
            logger.exception("handler failed")
            reqd.report_exn(exc)
            return
        reqd.respond_with_bytes(response, data)

    def handle(reqd: Reqd) -> None:
        request = reqd.request
        assert request is not None
        chunks: list[bytes] = []
        reader = reqd.request_body

        def start() -> None:
            task = asyncio.get_running_loop().create_task(run(reqd, request, b"".join(chunks)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def on_read(data: bytes) -> None:
            chunks.append(data)
            reader.schedule_read(on_read, start, reqd.report_exn)

        reader.schedule_read(on_read, start, reqd.report_exn)

    return handle
