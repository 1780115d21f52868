"""Fields the server adds to every response: ``Date`` (RFC 9110 §6.6.1: an origin server
with a clock must send it), ``Server``, and the operator's ``--header NAME:VALUE``.

The Date value is formatted once per second, not per response. A field the response
already has (the app's own ``Date`` or ``Server``) is left alone: it is sent once, the
app's. ASGI apps get them through `DefaultHeaders.add_to` (on ``http.response.start``);
native handlers through `ServerHooks`, the connection's `ResponseHooks`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from email.utils import formatdate
from typing import Any

from .. import Reqd, Response
from .._messages import Headers

__all__ = ["SERVER", "DefaultHeaders", "ServerHooks"]

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


class ServerHooks:
    """The `ResponseHooks` of a server whose handlers are native: ``defaults``' fields on
    every response (error responses included), and each whole body's size put in
    ``sizes`` (for the access log, which takes them out; None: not kept)."""

    __slots__ = ("defaults", "sizes")

    def __init__(self, defaults: DefaultHeaders, sizes: dict[Reqd, int] | None = None) -> None:
        self.defaults = defaults
        self.sizes = sizes

    def stamp(self, response: Response) -> Response:
        """``response`` with the default fields it does not have (`DefaultHeaders.response`)."""
        return self.defaults.response(response)

    def body_size(self, reqd: Reqd, size: int) -> None:
        """Keep ``size`` for ``reqd``'s access log line, if sizes are kept."""
        sizes = self.sizes
        if sizes is not None:
            sizes[reqd] = size
