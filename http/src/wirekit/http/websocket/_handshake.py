"""The opening handshake (RFC 6455 §4): the server's checks of an upgrade request and
its 101 response, and the client's request and checks of the response.

Server side: `check_request` validates a `Request` (GET, HTTP/1.1, Host, ``Upgrade:
websocket``, ``Connection: upgrade`` -- tokens compared case-insensitively, in lists --
a ``Sec-WebSocket-Key`` that decodes to 16 bytes, ``Sec-WebSocket-Version: 13``) and
raises `HandshakeError` (400, or 426 with ``Sec-WebSocket-Version: 13``) otherwise;
`accept_headers` builds the 101 response's fields. Client side: `client_request` and
`check_response`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wirekit.combinators import ParseError, char, option, parse, sep_by1, skip_while, take_while1

from .._grammar import TCHAR
from .._messages import Method, Request, Response, Version
from ._deflate import (
    DeflateParams,
    Extension,
    accept_deflate_response,
    deflate_offer,
    negotiate_deflate,
    parse_extensions,
)

__all__ = [
    "ClientHello",
    "HandshakeError",
    "accept_headers",
    "accept_key",
    "check_request",
    "check_response",
    "client_request",
    "reject_headers",
    "server_deflate",
]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# 1#element with the empty elements recipients must accept (RFC 9110 §5.6.1); an element
# is a token, or protocol "/" version for Upgrade.
_ows = skip_while(b" \t")
_element = take_while1(TCHAR + b"/")
_list = _ows >> sep_by1(_ows >> char(b",") >> _ows, option(b"", _element)) << _ows


def _tokens(values: Iterable[bytes]) -> list[bytes]:
    """The elements of comma-separated list fields.

    Raises:
        ValueError: a value that is not such a list.
    """
    out: list[bytes] = []
    for value in values:
        try:
            out.extend(e for e in parse(_list, value) if e)
        except ParseError as e:
            raise ValueError(f"not a comma-separated list of tokens: {value!r} ({e.message})") from None
    return out


class HandshakeError(Exception):
    """The handshake is refused: answer with ``status`` (400, 426) and ``headers``."""

    def __init__(self, message: str, status: int = 400, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


@dataclass(frozen=True)
class ClientHello:
    """What a valid upgrade request asks for."""

    key: bytes
    subprotocols: list[str]
    extensions: list[Extension]


def accept_key(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def check_request(request: Request) -> ClientHello:
    """Check an upgrade request (§4.2.1).

    Raises:
        HandshakeError: 400 for a malformed request, 426 (with
            ``Sec-WebSocket-Version: 13``) for another version.
    """
    h = request.headers
    if request.method is not Method.GET:
        raise HandshakeError("a WebSocket handshake is a GET request")
    if request.version is not Version.HTTP_1_1:
        raise HandshakeError("a WebSocket handshake needs HTTP/1.1")
    if h.count(b"host") != 1:
        raise HandshakeError("a WebSocket handshake needs one Host field")
    try:
        upgrade = [t.lower() for t in _tokens(h.get_all(b"upgrade"))]
        connection = [t.lower() for t in _tokens(h.get_all(b"connection"))]
        protocols = [t.decode("ascii") for t in _tokens(h.get_all(b"sec-websocket-protocol"))]
        extensions = parse_extensions(h.get_all(b"sec-websocket-extensions"))
    except ValueError as e:
        raise HandshakeError(str(e)) from None
    if b"websocket" not in upgrade:
        raise HandshakeError("Upgrade does not name websocket")
    if b"upgrade" not in connection:
        raise HandshakeError("Connection does not contain upgrade")
    versions = h.get_all(b"sec-websocket-version")
    if versions != [b"13"]:
        raise HandshakeError(
            "unsupported Sec-WebSocket-Version", 426, [(b"sec-websocket-version", b"13")]
        ) if versions else HandshakeError("no Sec-WebSocket-Version")
    keys = h.get_all(b"sec-websocket-key")
    if len(keys) != 1:
        raise HandshakeError("a WebSocket handshake needs one Sec-WebSocket-Key")
    key = keys[0].strip(b" \t")
    try:
        raw = base64.b64decode(key, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 16:
        raise HandshakeError("Sec-WebSocket-Key is not the base64 of 16 bytes")
    return ClientHello(key, protocols, extensions)


def accept_headers(
    hello: ClientHello,
    subprotocol: str | None = None,
    deflate: DeflateParams | None = None,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> list[tuple[bytes, bytes]]:
    """The fields of the 101 response accepting ``hello``: ``subprotocol`` (one the
    client offered) and the negotiated ``deflate`` (from `negotiate_deflate`), then
    ``extra`` fields.

    Raises:
        ValueError: ``subprotocol`` was not offered by the client.
    """
    if subprotocol is not None and subprotocol not in hello.subprotocols:
        raise ValueError(f"subprotocol {subprotocol!r} was not offered by the client")
    headers = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-accept", accept_key(hello.key)),
    ]
    if subprotocol is not None:
        headers.append((b"sec-websocket-protocol", subprotocol.encode("ascii")))
    if deflate is not None:
        headers.append((b"sec-websocket-extensions", deflate.header()))
    headers.extend(extra)
    return headers


def server_deflate(hello: ClientHello, enabled: bool = True) -> DeflateParams | None:
    """The permessage-deflate parameters to accept from ``hello`` (None: declined)."""
    return negotiate_deflate(hello.extensions) if enabled else None


def reject_headers(error: HandshakeError) -> list[tuple[bytes, bytes]]:
    """The fields of the refusal response for ``error`` (its own, and a text body's type)."""
    return [*error.headers, (b"content-type", b"text/plain; charset=utf-8")]


def client_request(
    host: str,
    target: str = "/",
    subprotocols: Sequence[str] = (),
    deflate: bool = True,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> tuple[Request, bytes]:
    """The client's upgrade request for ``target`` on ``host`` (``host[:port]``), and
    the key to check the response with."""
    key = base64.b64encode(os.urandom(16))
    headers = [
        (b"host", host.encode("idna") if not host.isascii() else host.encode()),
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", key),
        (b"sec-websocket-version", b"13"),
    ]
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode("ascii")))
    if deflate:
        headers.append((b"sec-websocket-extensions", deflate_offer()))
    headers.extend(extra)
    return Request(Method.GET, target, headers), key


def check_response(
    response: Response, key: bytes, subprotocols: Sequence[str] = ()
) -> tuple[str | None, DeflateParams | None]:
    """Check the server's answer to `client_request` (§4.1): 101, Upgrade and Connection,
    the accept key, a subprotocol among those offered, extensions among those offered.
    Returns the subprotocol and the permessage-deflate parameters (or None).

    Raises:
        HandshakeError: the server refused or answered wrongly (``status`` is the
            response's).
    """
    h = response.headers
    status = int(response.status)
    if status != 101:
        raise HandshakeError(f"the server answered {status}, not 101", status)
    try:
        upgrade = [t.lower() for t in _tokens(h.get_all(b"upgrade"))]
        connection = [t.lower() for t in _tokens(h.get_all(b"connection"))]
        extensions = parse_extensions(h.get_all(b"sec-websocket-extensions"))
        deflate = accept_deflate_response(extensions)
    except ValueError as e:
        raise HandshakeError(str(e), status) from None
    if upgrade != [b"websocket"] or b"upgrade" not in connection:
        raise HandshakeError("the response lacks Upgrade: websocket / Connection: upgrade", status)
    if h.get_all(b"sec-websocket-accept") != [accept_key(key)]:
        raise HandshakeError("wrong Sec-WebSocket-Accept", status)
    chosen = h.get_all(b"sec-websocket-protocol")
    if len(chosen) > 1 or (chosen and chosen[0].decode("latin-1") not in subprotocols):
        raise HandshakeError("the server chose a subprotocol we did not offer", status)
    return (chosen[0].decode("ascii") if chosen else None), deflate
