"""Writing message heads and chunk framing with `wirekit.serializer`.

Outgoing names, values, targets and reason phrases are validated with the grammar's
rules before anything is written, so a value holding CR, LF or NUL can never split a
message. Validated fields and status lines are cached, so a server that sends the same
headers again pays a dictionary lookup.
"""

from __future__ import annotations

from typing import Any

from wirekit.combinators import ParseError, Parser, parse
from wirekit.serializer import Serializer

from . import _grammar as g
from ._errors import LocalProtocolError, RemoteProtocolError
from ._framing import _length_of
from ._messages import FIELD_LINES, HEAD_LINES, PLAIN_FIELDS, Headers, Method, Request, Version
from ._status import Status

__all__ = ["GENERAL", "PLAIN", "field_lines", "head_bytes", "request_head_bytes", "status_line", "write_chunk_header"]

_STATUS_LINES: dict[tuple[int, bytes], bytes] = {}
_CACHE_LIMIT = 4096
FRAMING_NAMES = frozenset({b"content-length", b"transfer-encoding", b"connection"})


def _valid(rule: Parser[Any], data: bytes) -> bool:
    try:
        parse(rule, data)
    except ParseError:
        return False
    return True


def status_line(status: int, reason: bytes) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n``, validated and cached.

    Raises:
        LocalProtocolError: a status outside 100..999 or a reason with CR, LF or a CTL.
    """
    key = (status, reason)
    line = _STATUS_LINES.get(key)
    if line is None:
        if not 100 <= status <= 999:
            raise LocalProtocolError(f"status {status} is not a three-digit code")
        if not _valid(g.reason_phrase, reason):
            raise LocalProtocolError(f"invalid reason phrase {reason!r}")
        line = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        if len(_STATUS_LINES) < _CACHE_LIMIT:
            _STATUS_LINES[key] = line
    return line


def field_bytes(name: bytes, value: bytes) -> bytes:
    """``name: value\\r\\n``, validated (name a token, value a field-value) and cached.

    Raises:
        LocalProtocolError: for anything that could split or corrupt the message.
    """
    key = (name, value)
    line = FIELD_LINES.get(key)
    if line is None:
        if type(name) is not bytes or not _valid(g.token, name):
            raise LocalProtocolError(f"invalid header name {name!r}")
        if type(value) is not bytes or not _valid(g.field_value, value):
            raise LocalProtocolError(f"invalid value for header {name!r}: {value!r}")
        line = b"%s: %s\r\n" % (name, value)
        if len(FIELD_LINES) < _CACHE_LIMIT:
            FIELD_LINES[key] = line
            if name.lower() not in FRAMING_NAMES:
                PLAIN_FIELDS.add(key)
    return line


# What a header list says about framing (the second item of `field_lines`): nothing
# (PLAIN), something the connection must look at (GENERAL), or, as a number >= 0, one
# valid Content-Length and no other framing field.
PLAIN = -1
GENERAL = -2


def field_lines(headers: Headers) -> tuple[bytes, int]:
    """The encoded field lines of ``headers`` (validated, cached as a whole), and what
    they say about framing: `PLAIN`, `GENERAL`, or the one Content-Length they declare.

    Raises:
        LocalProtocolError: for any field that could split or corrupt the message.
    """
    key = headers._key
    if key is not None:
        entry = HEAD_LINES.get(key)
        if entry is not None:
            return entry
    fields = FIELD_LINES
    lines = b"".join([fields.get(pair) or field_bytes(*pair) for pair in headers._fields])
    entry = lines, _framing_of(headers._fields)
    key = headers._key = tuple(headers._fields)
    if len(HEAD_LINES) >= _CACHE_LIMIT:
        HEAD_LINES.clear()  # what is sent now will be cached again
    if _CACHE_LIMIT:
        HEAD_LINES[key] = entry
    return entry


def _framing_of(fields: list[tuple[bytes, bytes]]) -> int:
    framing = [pair for pair in fields if pair not in PLAIN_FIELDS]
    if not framing:
        return PLAIN
    if len(framing) > 1 or framing[0][0].lower() != b"content-length":
        # Transfer-Encoding or Connection (the connection decides), or Content-Length
        # repeated (the general path sends it as one field).
        return GENERAL
    value = framing[0][1]
    try:
        length = _length_of([value], Status.BAD_REQUEST)
    except RemoteProtocolError:
        return GENERAL  # the general path reports it
    # Only one plain number is sent as it is: a list ("5, 5") or leading zeros are
    # normalised by the general path.
    return length if value == b"%d" % length else GENERAL


def head_bytes(first_line: bytes, headers: Headers, extra: list[tuple[bytes, bytes]] | None) -> bytes:
    """A whole head: the first line, the fields, ``extra`` fields, and the blank line."""
    parts = [first_line, field_lines(headers)[0]]
    fields = FIELD_LINES
    if extra:
        for pair in extra:
            line = fields.get(pair)
            parts.append(line if line is not None else field_bytes(*pair))
    parts.append(b"\r\n")
    return b"".join(parts)


def request_head_bytes(request: Request, extra: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """A request head (``Host`` is the caller's to set).

    Raises:
        LocalProtocolError: an invalid method, target or field.
    """
    method = request.method.value if isinstance(request.method, Method) else request.method
    if not _valid(g.token, method):
        raise LocalProtocolError(f"invalid method {method!r}")
    if not _valid(g.request_target, request.target):
        raise LocalProtocolError(f"invalid request-target {request.target!r}")
    version = b"HTTP/1.0" if request.version is Version.HTTP_1_0 else b"HTTP/1.1"
    return head_bytes(b"%s %s %s\r\n" % (method, request.target, version), request.headers, extra)


def write_chunk_header(out: Serializer, size: int) -> None:
    """The ``<hex size>\\r\\n`` line before a chunk's data."""
    out.write(b"%x\r\n" % size)
