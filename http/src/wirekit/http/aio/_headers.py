"""Fields the server adds to every response: ``Date`` (RFC 9110 §6.6.1: an origin server
with a clock must send it), ``Server``, and the operator's ``--header NAME:VALUE``.

The Date value is formatted once per second, not per response. A field the response
already has (the app's own ``Date`` or ``Server``) is left alone: it is sent once, the
app's. ASGI apps get them through `DefaultHeaders.add_to` (on ``http.response.start``);
native handlers through `stamped`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from email.utils import formatdate
from typing import Any

from wirekit.serializer import BytesLike

from .. import BodyWriter, Reqd, RequestHandler, Response
from .._messages import Headers

__all__ = ["SERVER", "DefaultHeaders", "stamped"]

SERVER = b"wirekit"


class DefaultHeaders:
    """The fields to add: ``date`` and ``server`` switches and ``extra`` ``NAME:VALUE`` strings.

    Raises:
        ValueError: from the constructor, for an ``extra`` item without a colon.
    """

    __slots__ = ("_cache", "_current", "_date", "_names", "_second", "_static")

    # Stamped responses kept per second (keyed by the response's own head).
    CACHE_SIZE = 256

    def __init__(self, date: bool = True, server: bool = True, extra: Sequence[str] = ()) -> None:
        static: list[tuple[bytes, bytes]] = [(b"server", SERVER)] if server else []
        for item in extra:
            name, sep, value = item.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"a header must look like NAME:VALUE, got {item!r}")
            static.append((name.strip().encode("latin-1"), value.strip().encode("latin-1")))
        self._static = static
        self._date = date
        self._second = -1
        self._current: list[tuple[bytes, bytes]] = list(static)
        # Lower-cased names, for the check against a response's own fields.
        self._names = frozenset(n.lower() for n, _ in static) | ({b"date"} if date else frozenset())
        self._cache: dict[tuple[object, ...], Response] = {}

    def __bool__(self) -> bool:
        return bool(self._names)

    def current(self) -> list[tuple[bytes, bytes]]:
        """The fields now (the Date value changes once a second). Do not modify the list."""
        if self._date:
            now = int(time.time())
            if now != self._second:
                self._second = now
                date = formatdate(now, usegmt=True).encode("ascii")
                self._current = [(b"date", date), *self._static]
                self._cache.clear()
        return self._current

    def add_to(self, headers: list[Any]) -> bool:
        """Append to an ASGI header list (``(name, value)`` pairs, bytes or str) the fields
        it does not have; whether it has a Content-Length."""
        fields = self.current()
        if not headers:
            headers.extend(fields)
            return False
        present = {(n if type(n) is bytes else str(n).encode("latin-1")).lower() for n, _ in headers}
        if present & self._names:
            headers.extend(pair for pair in fields if pair[0].lower() not in present)
        else:
            headers.extend(fields)
        return b"content-length" in present

    def response(self, response: Response) -> Response:
        """``response`` with the fields it does not have added (a new `Response`).

        A handler that answers with the same head each time (the common case) costs a
        dictionary lookup here: the stamped `Response` is kept, and shared, until the
        Date changes (the connection never modifies a response it is given).
        """
        if not self._names:
            return response
        fields = self.current()
        headers: Headers = response.headers
        key = headers._key  # the fields as a tuple, when the writer has validated them
        if key is not None:
            cache_key = (key, response.status, response.reason, response.version)
            cached = self._cache.get(cache_key)
            if cached is not None:
                return cached
        missing = [pair for pair in fields if pair[0] not in headers]
        if not missing:
            return response
        stamped = Response(response.status, [*headers, *missing], response.version, response.reason)
        if key is not None:
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            self._cache[cache_key] = stamped
        return stamped


class _StampedReqd(Reqd):
    """A `Reqd` whose responses get the server's default fields (same layout: see `stamped`)."""

    __slots__ = ()
    defaults: DefaultHeaders  # set on the subclass made for each server
    sizes: dict[Reqd, int] | None  # where whole bodies' sizes go for the access log

    def respond_with_bytes(self, response: Response, data: BytesLike = b"") -> None:
        sizes = self.sizes
        if sizes is not None:
            sizes[self] = len(data)
        super().respond_with_bytes(self.defaults.response(response), data)

    def respond_with_streaming(self, response: Response, flush_headers_immediately: bool = False) -> BodyWriter:
        return super().respond_with_streaming(self.defaults.response(response), flush_headers_immediately)


def stamped(handler: RequestHandler, defaults: DefaultHeaders, sizes: dict[Reqd, int] | None = None) -> RequestHandler:
    """A native handler whose responses get ``defaults``' fields, and whose whole bodies'
    sizes are put in ``sizes`` (for the access log, which takes them out).

    The `Reqd` given to ``handler`` is the connection's own, its class switched to a
    subclass with no state of its own (so it stays a `Reqd`, the handler may keep it and
    answer later, and nothing is copied per request).
    """
    cls = type("StampedReqd", (_StampedReqd,), {"__slots__": (), "defaults": defaults, "sizes": sizes})

    def handle(reqd: Reqd) -> None:
        reqd.__class__ = cls
        handler(reqd)

    return handle
