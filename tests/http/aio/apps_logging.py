"""An ASGI app that sets up logging its own way when imported (``logging.basicConfig``
with its own format), then logs each request: the server must leave that in effect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logging.basicConfig(format="APPLOG|%(levelname)s|%(name)s|%(message)s", level=logging.INFO)
log = logging.getLogger("myapp")


async def app(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[dict[str, Any]], Any]) -> None:
    if scope["type"] != "http":
        return
    log.info("handled %s", scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"logged", "more_body": True})
    await send({"type": "http.response.body", "body": b"!"})
