"""Message framing and the semantic checks RFC 9112/9110 put on a parsed head.

Everything here works on values the grammar already matched; field values that have an
inner syntax (Content-Length, Transfer-Encoding, Connection, Host) are parsed with the
grammar's rules, never with `int()`, `split` or `strip` on raw input.
"""

from __future__ import annotations

import enum

from wirekit.combinators import Consume, ParseError, Parser, parse

from . import _grammar as g
from ._errors import RemoteProtocolError
from ._messages import Headers, Method, Request, Response, Version
from ._status import Status

__all__ = [
    "BodyKind",
    "RequestFraming",
    "connection_options",
    "request_framing",
    "response_body_kind",
]

# Enum members bound to module names for the hot paths: on CPython 3.11 reading
# `Enum.MEMBER` goes through the enum's metaclass (about 70 ns); a global is ~10 ns.
_HTTP_1_0 = Version.HTTP_1_0
_HTTP_1_1 = Version.HTTP_1_1
_METHOD_CONNECT = Method.CONNECT


class BodyKind(enum.Enum):
    """How a message body is delimited."""

    NONE = "none"  # no body at all
    FIXED = "fixed"  # Content-Length bytes
    CHUNKED = "chunked"  # chunked transfer coding
    CLOSE = "close"  # until the connection closes (responses to HTTP/1.0, or no length)
    TUNNEL = "tunnel"  # after a 2xx to CONNECT / a 101: not HTTP any more


# Longest Content-Length accepted: 18 digits stay far below 2**63, no bignums.
MAX_LENGTH_DIGITS = 18
# Header fields a sender must not put in a trailer section (RFC 9110 §6.5.1): framing,
# routing, and request modifiers. Such trailers are rejected.
FORBIDDEN_TRAILERS = frozenset(
    {
        b"content-length",
        b"transfer-encoding",
        b"host",
        b"trailer",
        b"te",
        b"connection",
        b"keep-alive",
        b"upgrade",
        b"expect",
        b"authorization",
        b"proxy-authorization",
        b"cookie",
        b"set-cookie",
        b"content-type",
        b"content-encoding",
        b"content-range",
        b"range",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"max-forwards",
        b"cache-control",
    }
)


def connection_options(headers: Headers) -> list[bytes]:
    """The lower-cased options of every ``Connection`` field (RFC 9110 §7.6.1).

    Raises:
        RemoteProtocolError: a value that is not a list of tokens.
    """
    return _options_of(headers._lookup().get(b"connection"))


def content_length(headers: Headers, status: int = Status.BAD_REQUEST) -> int | None:
    """The Content-Length, or None; differing or malformed values raise (RFC 9110 §8.6).

    Identical repeated values, as separate lines or as a list, are collapsed.
    """
    values = headers.get_all(b"content-length")
    return _length_of(values, status) if values else None


def _length_of(values: list[bytes], status: int) -> int:
    """The length the Content-Length field lines ``values`` agree on."""
    if len(values) == 1:
        known = _LENGTHS.get(values[0])
        if known is not None:
            return known
    digits: set[bytes] = set()
    for value in values:
        try:
            digits.update(parse(g.content_length, value))
        except ParseError:
            raise RemoteProtocolError(f"invalid Content-Length {value!r}", status) from None
    if len(digits) != 1:
        raise RemoteProtocolError("conflicting Content-Length values", status)
    (only,) = digits
    if len(only) > MAX_LENGTH_DIGITS:
        raise RemoteProtocolError("Content-Length too large", status)
    length = int(only)  # digits only: the grammar matched 1*DIGIT
    if len(values) == 1 and len(_LENGTHS) < _CACHE_LIMIT:
        _LENGTHS[values[0]] = length
    return length


def transfer_codings(headers: Headers) -> list[bytes]:
    """The lower-cased transfer codings, over every Transfer-Encoding line, in order."""
    return _codings_of(headers.get_all(b"transfer-encoding"))


def _codings_of(values: list[bytes]) -> list[bytes]:
    """The codings of the Transfer-Encoding field lines ``values`` (cached per value)."""
    return _elements(values, g.transfer_codings, _CODINGS, "transfer-encoding")


def _elements(
    values: list[bytes], rule: Parser[list[bytes]], cache: dict[bytes, tuple[bytes, ...]], name: str
) -> list[bytes]:
    """The elements of a comma-list field over its lines ``values``; each distinct value
    is parsed by ``rule`` once (the cache is bounded, then simply not added to)."""
    out: list[bytes] = []
    for value in values:
        elements = cache.get(value)
        if elements is None:
            try:
                elements = tuple(parse(rule, value))
            except ParseError as e:
                raise RemoteProtocolError(
                    f"invalid {name} value {value!r}: {e.message}", Status.BAD_REQUEST
                ) from None
            if len(cache) < _CACHE_LIMIT:
                cache[value] = elements
        out.extend(elements)
    return out


class RequestFraming:
    """What the server learned from a request head beyond the head itself (read-only:
    common values are shared between requests)."""

    __slots__ = ("body", "expect_continue", "length", "persistent", "upgrade")

    def __init__(
        self, body: BodyKind, length: int, persistent: bool, expect_continue: bool, upgrade: bool
    ) -> None:
        self.body = body
        self.length = length
        self.persistent = persistent
        self.expect_continue = expect_continue
        self.upgrade = upgrade


# Field values already checked by a grammar rule; servers see the same few again and
# again (Host, Connection), so each is parsed once. Bounded, then simply not added to.
_CACHE_LIMIT = 1024
# False: every request goes through `_framing_of` (the oracle mode, `_oracle`).
_FAST = True
_VALID_HOSTS: set[bytes] = set()
_CONNECTION_OPTIONS: dict[bytes, tuple[bytes, ...]] = {}
_LENGTHS: dict[bytes, int] = {}  # single Content-Length values already validated
_CODINGS: dict[bytes, tuple[bytes, ...]] = {}  # Transfer-Encoding values, parsed
# Request framings by (version, CONNECT?, the fields but Host that bear on framing); the
# RequestFraming objects are shared, never changed.
_FRAMINGS: dict[tuple[Version, bool, tuple[tuple[int, bytes], ...]], RequestFraming] = {}


def _two_hosts(version: Version) -> RemoteProtocolError:
    return RemoteProtocolError(
        "an HTTP/1.1 request needs exactly one Host header" if version is _HTTP_1_1 else "more than one Host header"
    )


def _check_host(value: bytes | None, version: Version) -> None:
    """Validate a Host value not seen before (and remember it, up to a bound); a
    missing one is an error on HTTP/1.1 only."""
    if value is None:
        if version is _HTTP_1_1:
            raise RemoteProtocolError("missing Host header")
        return
    try:
        parse(g.host, value)
    except ParseError:
        raise RemoteProtocolError(f"invalid Host {value!r}") from None
    if len(_VALID_HOSTS) < _CACHE_LIMIT:
        _VALID_HOSTS.add(value)


def _options_of(values: list[bytes] | None) -> list[bytes]:
    """The options of the Connection field lines ``values`` (cached per value)."""
    return _elements(values, g.connection_options, _CONNECTION_OPTIONS, "connection") if values else []


def _check_target(request: Request) -> None:
    # RFC 9112 §3.2: origin-form ("/..."), absolute-form, authority-form (CONNECT only),
    # asterisk-form (OPTIONS only).
    target = request.target
    method = request.method
    if method is _METHOD_CONNECT:
        try:
            parse(g.authority_form, target)
        except ParseError:
            raise RemoteProtocolError("CONNECT needs an authority-form target (host:port)") from None
        return
    if target == b"*":
        if method is not Method.OPTIONS:
            raise RemoteProtocolError("the asterisk-form target is only for OPTIONS")
        return
    if target[:1] == b"/":
        return
    try:
        parse(g.absolute_form, target)
        scheme = parse(g.scheme, target, Consume.PREFIX)
    except ParseError:
        raise RemoteProtocolError(f"invalid request-target {target!r}") from None
    if scheme.lower() not in (b"http", b"https"):
        return  # another scheme: the handler sees the target as it came
    # RFC 9112 §3.2.2: servers MUST accept absolute-form. Handlers get the origin-form
    # target (RFC 9112 §3.3: an empty path is "/") and the authority, which stands for the
    # Host header (the Host field is still required on HTTP/1.1, and still checked).
    try:
        authority, rest = parse(g.http_absolute_form, target)
    except ParseError:
        raise RemoteProtocolError(f"invalid {scheme.decode()} URI as request-target {target!r}") from None
    request.authority = authority
    if not rest and method is Method.OPTIONS:
        request.target = b"*"  # RFC 9112 §3.2.4: OPTIONS to the server as a whole
    else:
        request.target = rest if rest[:1] == b"/" else b"/" + rest


# The fields framing looks at, by lower-cased name; every other name is 0. Raw names
# seen on the wire are classified once (bounded cache) so a head costs a lookup per field.
_HOST, _CONNECTION, _CONTENT_LENGTH, _TRANSFER_ENCODING, _EXPECT, _UPGRADE = range(1, 7)
_FRAMING_CODES = {
    b"host": _HOST,
    b"connection": _CONNECTION,
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"expect": _EXPECT,
    b"upgrade": _UPGRADE,
}
_NAME_CODES: dict[bytes, int] = dict(_FRAMING_CODES)


def _code_of(name: bytes) -> int:
    """Classify a raw field name not seen before (and remember it, up to a bound)."""
    code = _FRAMING_CODES.get(name.lower(), 0)
    if len(_NAME_CODES) < _CACHE_LIMIT:
        _NAME_CODES[name] = code
    return code


def request_framing(request: Request, max_body: int | None) -> RequestFraming:  # noqa: C901 (why: below)
    """Check a parsed request head and work out its body framing (RFC 9112 §6.3).

    Raises:
        RemoteProtocolError: with the status to answer (400, 413, 417, 501).
    """
    # One pass over the fields: the Host, and the other fields that bear on framing
    # (usually none, or the same few the client always sends). Inline, not a helper:
    # this runs once per request (a helper call measured +0.9 % of the minimal GET
    # cycle), so the function stays above complexity 12.
    version = request.version
    host: bytes | None = None
    others: list[tuple[int, bytes]] | None = None
    codes = _NAME_CODES
    for name, value in request.headers._fields:
        code = codes.get(name)
        if code is None:
            code = _code_of(name)
        if code:
            if code == _HOST:
                if host is not None:  # RFC 9112 §3.2: exactly one Host
                    raise _two_hosts(version)
                host = value
            elif others is None:
                others = [(code, value)]
            else:
                others.append((code, value))
    if host is None or host not in _VALID_HOSTS:
        _check_host(host, version)
    connect = request.method is _METHOD_CONNECT
    if request.target[:1] != b"/" or connect:
        _check_target(request)
    if others is None and not connect and _FAST:  # nothing else bears on framing: the usual GET
        return _PLAIN_1_1 if version is _HTTP_1_1 else _PLAIN_1_0
    # The outcome depends on these fields alone: decided once per combination.
    key = (version, connect, tuple(others) if others else ())
    framing = _FRAMINGS.get(key)
    if framing is None:
        framing = _framing_of(version, connect, others or [])
        if len(_FRAMINGS) >= _CACHE_LIMIT:
            _FRAMINGS.clear()
        if _CACHE_LIMIT:
            _FRAMINGS[key] = framing
    if max_body is not None and framing.length > max_body:
        raise RemoteProtocolError("request body too large", Status.CONTENT_TOO_LARGE)
    return framing


def _framing_of(version: Version, connect: bool, others: list[tuple[int, bytes]]) -> RequestFraming:
    """The framing a request's fields (but Host) call for; errors raise."""
    found: dict[int, list[bytes]] = {}
    for code, value in others:
        found.setdefault(code, []).append(value)
    options = _options_of(found.get(_CONNECTION))
    persistent = b"close" not in options if version is _HTTP_1_1 else b"keep-alive" in options
    body, length = BodyKind.NONE, 0
    if _TRANSFER_ENCODING in found:
        if version is _HTTP_1_0:
            raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 request")
        if _CONTENT_LENGTH in found:
            raise RemoteProtocolError("both Transfer-Encoding and Content-Length")
        codings = _codings_of(found[_TRANSFER_ENCODING])
        if not codings or codings[-1] != b"chunked":
            raise RemoteProtocolError("the final transfer coding of a request must be chunked")
        if codings.count(b"chunked") > 1:
            raise RemoteProtocolError("chunked applied more than once")
        if len(codings) > 1:
            raise RemoteProtocolError(
                f"unsupported transfer coding {codings[0]!r}", Status.NOT_IMPLEMENTED
            )
        body = BodyKind.CHUNKED
    elif _CONTENT_LENGTH in found:
        n = _length_of(found[_CONTENT_LENGTH], Status.BAD_REQUEST)
        if n:
            body, length = BodyKind.FIXED, n
    expect_continue = False
    expects = found.get(_EXPECT)
    if expects is not None and version is _HTTP_1_1:
        # RFC 9110 §10.1.1: 100-continue is the only expectation; others may get 417.
        expect = expects[0]
        if len(expects) > 1 or expect.lower() != b"100-continue":
            raise RemoteProtocolError(f"unsupported expectation {expect!r}", Status.EXPECTATION_FAILED)
        expect_continue = body is not BodyKind.NONE
    upgrade = (
        version is _HTTP_1_1 and b"upgrade" in options and _UPGRADE in found
    ) or connect
    return RequestFraming(body, length, persistent, expect_continue, upgrade)


# The framing of a request with no body and no Connection field, shared (never changed).
_PLAIN_1_1 = RequestFraming(BodyKind.NONE, 0, True, False, False)
_PLAIN_1_0 = RequestFraming(BodyKind.NONE, 0, False, False, False)


# Final statuses whose responses never carry a body (RFC 9112 §6.3): the one home of this
# rule for both sides (a server's responses, a client's reading of them).
BODYLESS_STATUSES = frozenset({204, 304})


def response_body_kind(request_method: Method | bytes, response: Response) -> tuple[BodyKind, int]:
    """How a *received* response is delimited (RFC 9112 §6.3), for clients.

    Raises:
        RemoteProtocolError: a malformed length (the client reports it; 502 for proxies).
    """
    status = response.status
    if request_method is Method.HEAD or status < 200 or status in BODYLESS_STATUSES:
        return BodyKind.NONE, 0
    if request_method is _METHOD_CONNECT and 200 <= status < 300:
        return BodyKind.TUNNEL, 0
    headers = response.headers
    if b"transfer-encoding" in headers:
        codings = transfer_codings(headers)
        if codings and codings[-1] == b"chunked" and codings.count(b"chunked") == 1:
            if len(codings) > 1:
                raise RemoteProtocolError("unsupported transfer coding in response", Status.BAD_GATEWAY)
            return BodyKind.CHUNKED, 0
        return BodyKind.CLOSE, 0
    n = content_length(headers, Status.BAD_GATEWAY)
    if n is None:
        return BodyKind.CLOSE, 0
    return (BodyKind.FIXED, n) if n else (BodyKind.NONE, 0)
