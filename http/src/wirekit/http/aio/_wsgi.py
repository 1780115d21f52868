"""`WSGIAdapter`: a WSGI (PEP 3333) app as an ASGI 3 app, for ``--interface wsgi``.

The request body is read whole first (WSGI reads it synchronously; the server's
``--max-body-bytes`` bounds it), then the app runs in a worker thread of the event
loop's default executor; its body chunks are sent as they come, each one waiting for the
transport (backpressure reaches the thread). ``SCRIPT_NAME`` is the ASGI ``root_path`` and
``PATH_INFO`` the rest of the path, so proxy headers and ``--root-path`` apply.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ._asgi import Message, Receive, Scope, Send

__all__ = ["WSGIAdapter", "environ_from_scope"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_from_scope(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ of an ASGI ``http`` scope with its whole ``body``."""
    root = scope.get("root_path", "")
    path: str = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8", "surrogateescape").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
            environ[key] = text
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ


class WSGIAdapter:
    """An ASGI 3 app that runs the WSGI app ``app`` (see the module's docstring)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan, no WebSocket: the server carries on without them
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        loop = asyncio.get_running_loop()
        environ = environ_from_scope(scope, bytes(body))
        await loop.run_in_executor(None, self._run, environ, loop, send)

    def _run(self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send) -> None:
        """In a worker thread: call the app and send what it returns."""
        response = _Response(loop, send)
        result = self.app(environ, response.start_response)
        if isinstance(result, (list, tuple)) and response.head and not response.sent_head:
            # A whole body (the common case): one message, so it gets a Content-Length.
            _close(result)
            response.emit(response.head[0])
            response.emit({"type": "http.response.body", "body": b"".join(result), "more_body": False})
            return
        try:
            for chunk in result:
                if chunk:
                    response.write(chunk)
        finally:
            _close(result)
        response.send_head()
        response.emit({"type": "http.response.body", "body": b"", "more_body": False})


def _close(result: Iterable[bytes]) -> None:
    """PEP 3333: the server calls the result's ``close``, if it has one."""
    close = getattr(result, "close", None)
    if close is not None:
        close()


class _Response:
    """One WSGI response on its worker thread: ``start_response``, ``write``, and the
    ASGI messages they become, sent on the event loop's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Send) -> None:
        self.loop = loop
        self.send = send
        self.head: list[Message] = []  # the response start, sent with the first body bytes
        self.sent_head = False

    async def _sending(self, message: Message) -> None:
        await self.send(message)

    def emit(self, message: Message) -> None:
        asyncio.run_coroutine_threadsafe(self._sending(message), self.loop).result()

    def send_head(self) -> None:
        if not self.head:
            raise RuntimeError("WSGI: the app sent body bytes before calling start_response")
        if not self.sent_head:
            self.sent_head = True
            self.emit(self.head[0])

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.sent_head:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.head:
            raise RuntimeError("WSGI: start_response called twice without exc_info")
        code = int(status.split(" ", 1)[0])
        fields = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
        self.head[:] = [{"type": "http.response.start", "status": code, "headers": fields}]
        return self.write

    def write(self, data: bytes) -> None:
        self.send_head()
        if data:
            self.emit({"type": "http.response.body", "body": bytes(data), "more_body": True})
