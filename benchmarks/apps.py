"""The apps the server benchmark runs: one minimal ASGI app for every ASGI server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

HELLO = b"Hello, world!"
# http/af's benchmark answers with a 2 053-byte body; any bytes of that size will do.
ALICE = (b"CHAPTER I. Down the Rabbit-Hole. Alice was beginning to get very tired of sitting "
         b"by her sister on the bank, and of having nothing to do. " * 30)[:2053]
TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


async def asgi_app(
    scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    """``/`` hello, ``/bytes/2053`` the 2 053-byte body, ``/echo`` echoes the body."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    path = scope["path"]
    if path == "/echo":
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
    elif path == "/bytes/2053":
        body = ALICE
    else:
        body = HELLO
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [*TEXT, (b"content-length", b"%d" % len(body))],
    })
    await send({"type": "http.response.body", "body": body})
