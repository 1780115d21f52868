"""HTTP messages: `Version`, `Method`, `Headers`, `Request`, `Response`.

Names, values, targets and reason phrases are `bytes` (HTTP is a byte protocol); `str`
arguments are accepted and encoded as ISO-8859-1. Outgoing messages are validated before
anything is written, so response splitting is impossible (see `_writer`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Union

from ._compiled import python_class
from ._status import Status, status_of

__all__ = ["HeaderInput", "Headers", "Method", "Request", "Response", "Version"]


class Version(enum.Enum):
    """The HTTP versions this layer speaks."""

    HTTP_1_0 = (1, 0)
    HTTP_1_1 = (1, 1)

    @property
    def major(self) -> int:
        """The major version number."""
        return self.value[0]

    @property
    def minor(self) -> int:
        """The minor version number."""
        return self.value[1]

    @property
    def raw(self) -> bytes:
        """As on the wire: ``b"HTTP/1.1"``."""
        return b"HTTP/%d.%d" % self.value

    def __str__(self) -> str:
        return f"HTTP/{self.value[0]}.{self.value[1]}"


class Method(bytes, enum.Enum):
    """The methods of RFC 9110 (plus PATCH). Other token methods stay plain `bytes`."""

    GET = b"GET"
    HEAD = b"HEAD"
    POST = b"POST"
    PUT = b"PUT"
    DELETE = b"DELETE"
    CONNECT = b"CONNECT"
    OPTIONS = b"OPTIONS"
    TRACE = b"TRACE"
    PATCH = b"PATCH"

    @property
    def is_safe(self) -> bool:
        """GET, HEAD, OPTIONS and TRACE (RFC 9110 §9.2.1)."""
        return self in _SAFE

    @property
    def is_idempotent(self) -> bool:
        """Safe methods plus PUT and DELETE (RFC 9110 §9.2.2)."""
        return self in _SAFE or self in (Method.PUT, Method.DELETE)

    @property
    def is_cacheable(self) -> bool:
        """GET, HEAD and POST (RFC 9110 §9.2.3)."""
        return self in (Method.GET, Method.HEAD, Method.POST)

    @classmethod
    def lookup(cls, raw: bytes) -> Method | bytes:
        """The member for ``raw`` (case-sensitive), or ``raw`` itself."""
        return _METHODS.get(raw, raw)


_SAFE = frozenset({Method.GET, Method.HEAD, Method.OPTIONS, Method.TRACE})
_METHODS: dict[bytes, Method] = {m.value: m for m in Method}

HeaderInput = Union["Headers", Mapping[bytes | str, bytes | str], Iterable[tuple[bytes | str, bytes | str]]]


def _b(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return b"%d" % value
    raise TypeError(f"header names and values are bytes or str, not {type(value).__name__}")


# Every (name, value) pair ever validated for output, with its encoded field line
# (filled by `_writer`, bounded there). A pair found here is known to be two `bytes`.
FIELD_LINES: dict[tuple[bytes, bytes], bytes] = {}
# Those of them that do not bear on framing (not Content-Length, Transfer-Encoding or
# Connection): a response made of these needs no further checks.
PLAIN_FIELDS: set[tuple[bytes, bytes]] = set()


# Whole header lists already validated for output (as tuples, which hash in C): their
# encoded field lines, and what they say about framing (see `_writer.field_lines`). A
# handler that sends the same headers again pays one lookup. Cleared when full.
HEAD_LINES: dict[tuple[tuple[bytes, bytes], ...], tuple[bytes, int]] = {}


_first = itemgetter(0)
_second = itemgetter(1)


@python_class  # `Headers.from_wire`, `_server`: made without `__init__`
class Headers:
    """An ordered, case-insensitive multi-map of header fields.

    Iteration yields ``(name, value)`` pairs in transmission order, with the names in the
    case they were given or received. Lookups ignore ASCII case. ``str`` input is encoded
    as ISO-8859-1.

        >>> h = Headers([(b"Content-Type", b"text/plain"), (b"Set-Cookie", b"a=1")])
        >>> h.add(b"set-cookie", b"b=2")
        >>> h.get(b"content-type"), h.get_all(b"SET-COOKIE")
        (b'text/plain', [b'a=1', b'b=2'])
    """

    __slots__ = ("_fields", "_index", "_key")

    def __init__(self, fields: HeaderInput | None = None) -> None:
        self._index: dict[bytes, list[bytes]] | None = None
        if type(fields) is list:
            key = tuple(fields)
            try:
                known = key in HEAD_LINES or all(map(FIELD_LINES.__contains__, key))
            except TypeError:  # an unhashable item (a list pair): sorted out below
                known = False
            if known:  # pairs the writer already validated: bytes
                self._fields: list[tuple[bytes, bytes]] = list(fields)
                # The fields as a tuple while they are unchanged since they were known valid.
                self._key: tuple[tuple[bytes, bytes], ...] | None = key
                return
        self._key = None
        if fields is None:
            self._fields = []
        elif isinstance(fields, Headers):
            self._fields = list(fields._fields)
        elif isinstance(fields, Mapping):
            self._fields = [(_b(k), _b(v)) for k, v in fields.items()]
        else:
            self._fields = [
                (k, v) if type(k) is bytes and type(v) is bytes else (_b(k), _b(v)) for k, v in fields
            ]

    @classmethod
    def from_wire(cls, fields: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap a list of already-valid ``(name, value)`` pairs without copying it."""
        h = cls.__new__(cls)
        h._fields = fields
        h._index = None
        h._key = None
        return h

    def _lookup(self) -> dict[bytes, list[bytes]]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._fields:
                key = name.lower()
                found = index.get(key)
                if found is None:
                    index[key] = [value]
                else:
                    found.append(value)
            self._index = index
        return index

    def get(self, name: bytes | str, default: bytes | None = None) -> bytes | None:
        """The first value of field ``name``, or ``default``."""
        found = self._lookup().get(_b(name).lower())
        return found[0] if found else default

    def get_all(self, name: bytes | str) -> list[bytes]:
        """Every value of field ``name``, in transmission order."""
        return list(self._lookup().get(_b(name).lower(), ()))

    def count(self, name: bytes | str) -> int:
        """How many fields are named ``name``."""
        return len(self._lookup().get(_b(name).lower(), ()))

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, bytes | str):
            return False
        return _b(name).lower() in self._lookup()

    def add(self, name: bytes | str, value: bytes | str | int) -> None:
        """Append a field (after any with the same name)."""
        self._fields.append((_b(name), _b(value)))
        self._index = self._key = None

    def set(self, name: bytes | str, value: bytes | str | int) -> None:
        """Replace every field named ``name`` by one, at the first one's place (or the end)."""
        key = _b(name)
        lower = key.lower()
        out: list[tuple[bytes, bytes]] = []
        placed = False
        for n, v in self._fields:
            if n.lower() == lower:
                if not placed:
                    out.append((key, _b(value)))
                    placed = True
            else:
                out.append((n, v))
        if not placed:
            out.append((key, _b(value)))
        self._fields = out
        self._index = self._key = None

    def remove(self, name: bytes | str) -> None:
        """Remove every field named ``name`` (no error if there is none)."""
        lower = _b(name).lower()
        self._fields = [(n, v) for n, v in self._fields if n.lower() != lower]
        self._index = self._key = None

    def copy(self) -> Headers:
        """A shallow copy."""
        return Headers.from_wire(list(self._fields))

    def raw(self) -> list[tuple[bytes, bytes]]:
        """The fields as a new list of ``(name, value)`` pairs, original case."""
        return list(self._fields)

    def lowered(self) -> list[tuple[bytes, bytes]]:
        """The fields with lower-cased names (as ASGI wants them)."""
        fields = self._fields
        # zip/map iterate in C: no Python frame per field.
        return list(zip(map(bytes.lower, map(_first, fields)), map(_second, fields), strict=True))

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return [(n.lower(), v) for n, v in self._fields] == [
                (n.lower(), v) for n, v in other._fields
            ]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


@python_class  # `_server`: made without `__init__`
class Request:
    """A request head: method, target, version and headers.

    ``method`` is a `Method` member for standard methods, else the raw token bytes.

    ``authority`` is None, except on a request a server received in absolute-form with an
    ``http``/``https`` URI (``GET http://example.com:8080/a?b HTTP/1.1``, RFC 9112 §3.2.2):
    then it is the URI's authority (``b"example.com:8080"``), which a server uses in place
    of the Host header, and ``target`` is the origin-form rest (``b"/a?b"``; ``b"/"`` when
    the path is empty, ``b"*"`` for an OPTIONS request with an empty path).
    """

    __slots__ = ("authority", "headers", "method", "target", "version")

    def __init__(
        self,
        method: Method | bytes | str,
        target: bytes | str,
        headers: HeaderInput | None = None,
        version: Version = Version.HTTP_1_1,
    ) -> None:
        self.method: Method | bytes = Method.lookup(_b(method))
        self.target: bytes = _b(target)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.version = version
        self.authority: bytes | None = None

    def __repr__(self) -> str:
        m = self.method.value if isinstance(self.method, Method) else self.method
        return f"Request({m!r}, {self.target!r}, {self.headers!r}, {self.version})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (self.method, self.target, self.authority, self.version, self.headers) == (
            other.method,
            other.target,
            other.authority,
            other.version,
            other.headers,
        )

    __hash__ = None  # type: ignore[assignment]


# status -> (the `Status` member or the int, its encoded standard reason phrase)
_STATUSES: dict[int, tuple[Status | int, bytes]] = {}


def _status_entry(status: int) -> tuple[Status | int, bytes]:
    member = status_of(status)
    # No conditional expression: mypy types `member if ... else int(status)` as `int`
    # (`Status` is an `int`), and compiled code would keep only the number, dropping the
    # member (`Response(404).status` would not be `Status.NOT_FOUND`).
    entry: tuple[Status | int, bytes]
    if member is not None:  # noqa: SIM108
        entry = member, member.phrase.encode()
    else:
        entry = int(status), b""  # (no standard phrase for an unregistered code)
    if len(_STATUSES) < 2048:
        _STATUSES[status] = entry
    return entry


class Response:
    """A response head: status, headers, version and reason phrase.

    ``status`` is an int (a `Status` member when registered); ``reason`` defaults to the
    standard phrase.
    """

    __slots__ = ("headers", "reason", "status", "version")

    def __init__(
        self,
        status: int,
        headers: HeaderInput | None = None,
        version: Version = Version.HTTP_1_1,
        reason: bytes | str | None = None,
    ) -> None:
        known = _STATUSES.get(status)
        if known is None:
            known = _status_entry(status)
        # Unpacked, not `known[0]`: mypy types an item of that tuple `int` (a `Status` is an
        # `int`), and compiled code would keep only the number, not the member.
        code, phrase = known
        self.status: Status | int = code
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.version = version
        self.reason: bytes = phrase if reason is None else _b(reason)

    def __repr__(self) -> str:
        return f"Response({int(self.status)}, {self.headers!r}, {self.version}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return (self.status, self.reason, self.version, self.headers) == (
            other.status,
            other.reason,
            other.version,
            other.headers,
        )

    __hash__ = None  # type: ignore[assignment]
