"""The server-side rows of the RFC 9112/9110 strictness checklist
(reference/python-http-ecosystem.md §4.3) as one table: raw request bytes -> the status
codes answered, whether the connection closes, and the bodies the handler saw complete.

Every row is run through `check_splits`: in one piece, split at every point (a few points
for the long rows) and one byte at a time, with the same outcome each time, so the limits
hold however the input is chunked. Test ids read ``NN-RFC§-what``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from wirekit.http import Config, LocalProtocolError, Reqd, Response

from tests.http.runtime import EchoApp, Result, check_splits, get, parse_responses

# Every test here runs with the common paths and caches, and in the oracle mode.
pytestmark = pytest.mark.usefixtures("both_paths")

Handler = Callable[[Reqd], None]
AppFactory = Callable[[], Handler]


def post(*headers: str, body: bytes = b"", version: str = "1.1", target: str = "/") -> bytes:
    return get(target, *headers, method="POST", version=version) + body


def chunked_post(body: bytes, *headers: str) -> bytes:
    return post("Transfer-Encoding: chunked", *headers, body=body)


GET = get()
GET2 = get("/2")


# -- apps for the rows that need one --------------------------------------------------
def respond_with(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> AppFactory:
    def make() -> Handler:
        def respond(reqd: Reqd, _: bytes) -> None:
            reqd.respond_with_bytes(Response(status, headers or []), body)

        return EchoApp(respond)

    return make


def early_responder() -> Handler:
    """Answers before reading the body (the body is then drained or the connection closed)."""

    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200), b"early")

    return handler


def streaming() -> Handler:
    def respond(reqd: Reqd, _: bytes) -> None:
        w = reqd.respond_with_streaming(Response(200))
        w.write(b"streamed")
        w.close()

    return EchoApp(respond)


def splitting() -> Handler:
    """Tries to put CRLF into a header value; falls back to 500."""

    def respond(reqd: Reqd, _: bytes) -> None:
        try:
            reqd.respond_with_bytes(Response(200, [("Location", "/a\r\nSet-Cookie: evil=1")]))
        except LocalProtocolError:
            reqd.respond_with_bytes(Response(500), b"refused")

    return EchoApp(respond)


def upgrader(status: int = 101) -> AppFactory:
    def make() -> Handler:
        def respond(reqd: Reqd, _: bytes) -> None:
            try:
                headers = [("Upgrade", "websocket"), ("Connection", "Upgrade")] if status == 101 else []
                reqd.respond_with_upgrade(headers, lambda: None, status=status)
            except LocalProtocolError:
                reqd.respond_with_bytes(Response(200), b"not upgraded")

        return EchoApp(respond)

    return make


# -- the table ------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    num: int
    rfc: str
    what: str
    data: bytes
    statuses: tuple[int, ...]
    closes: bool
    bodies: tuple[bytes, ...] | None = ()
    """Bodies of the requests the handler saw complete (None: not checked)."""
    eof: bool = False
    config: Config | None = None
    app: AppFactory | None = None
    methods: tuple[str, ...] = ()
    check: Callable[[Result], None] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return f"{self.num:02d}-{self.rfc}-{self.what}"


def seen_headers(result: Result) -> list[tuple[bytes, bytes]]:
    return result.seen[0].headers


def no_trailer_in_headers(result: Result) -> None:
    [seen] = result.seen
    assert seen.trailers == [(b"X-T", b"1")]
    assert [n for n, _ in seen.headers] == [b"Host", b"Transfer-Encoding"]


def xa0_kept(result: Result) -> None:
    assert (b"X", b"\xa0a\xa0") in seen_headers(result)


def ows_trimmed(result: Result) -> None:
    assert (b"X", b"a \t b") in seen_headers(result)


def head_in_sync(result: Result) -> None:
    head, after = parse_responses(result.output, ["HEAD", "GET"])
    assert head.header(b"content-length") == b"5" and head.body == b""
    assert after.body == b"hello"


def no_length_on_204(result: Result) -> None:
    for r in parse_responses(result.output):
        assert b"content-length" not in r.header_names() and b"transfer-encoding" not in r.header_names()


def chunked_to_11(result: Result) -> None:
    [r] = parse_responses(result.output)
    assert r.chunked and r.body == b"streamed"


def close_delimited_to_10(result: Result) -> None:
    assert result.output == b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nstreamed"


def not_split(result: Result) -> None:
    assert b"evil" not in result.output


def connection_close_sent(result: Result) -> None:
    assert parse_responses(result.output)[-1].header(b"connection") == b"close"


def upgraded(result: Result) -> None:
    assert result.rt.read_upgraded and result.rt.write_upgraded
    assert result.rt.unread == b"\x81\x00"


def in_order(result: Result) -> None:
    assert [r.body for r in parse_responses(result.output)] == [b"1", b"22", b"", b"4444"]


SMALL_QUEUE = Config(max_pipelined_requests=2)

ROWS: list[Row] = [
    # -- message framing and smuggling -------------------------------------------------
    Row(1, "9112s6.1", "te-and-cl", post("Content-Length: 3", "Transfer-Encoding: chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(1, "9112s6.1", "cl-and-te", post("Transfer-Encoding: chunked", "Content-Length: 3", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(2, "9112s6.3", "cl-differing-lines", post("Content-Length: 1", "Content-Length: 2", body=b"ab"), (400,), True),
    Row(2, "9112s6.3", "cl-differing-list", post("Content-Length: 1, 2", body=b"ab"), (400,), True),
    Row(3, "9110s8.6", "cl-identical-lines", post("Content-Length: 1", "Content-Length: 1", body=b"a") + GET, (200, 200), False, (b"a", b"")),
    Row(3, "9110s8.6", "cl-identical-list", post("Content-Length: 1, 1", body=b"a") + GET, (200, 200), False, (b"a", b"")),
    Row(4, "9110s8.6", "cl-plus", post("Content-Length: +1", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-minus", post("Content-Length: -1", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-hex", post("Content-Length: 0x1", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-underscore", post("Content-Length: 1_0", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-inner-space", post("Content-Length: 1 0", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-empty", post("Content-Length: ", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-octal", post("Content-Length: 0o5", body=b"a"), (400,), True),
    Row(4, "9110s8.6", "cl-unicode-digit", post("Content-Length: \xd9\xa1", body=b"a"), (400,), True),
    Row(5, "9110s8.6", "cl-30-digits", post("Content-Length: " + "1" * 30, body=b"a"), (400,), True),
    Row(5, "9110s8.6", "cl-19-digits", post("Content-Length: " + "9" * 19, body=b"a"), (400,), True),
    Row(6, "9112s6.3", "te-chunked-not-last", post("Transfer-Encoding: chunked, gzip", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(6, "9112s6.3", "te-identity", post("Transfer-Encoding: identity", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(6, "9112s6.3", "te-xchunked", post("Transfer-Encoding: xchunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(7, "9112s6.1", "te-unknown-gzip", post("Transfer-Encoding: gzip, chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (501,), True),
    Row(7, "9112s6.1", "te-unknown-identity", post("Transfer-Encoding: identity, chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (501,), True),
    Row(7, "9112s6.1", "te-unknown-two-lines", post("Transfer-Encoding: gzip", "Transfer-Encoding: chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (501,), True),
    Row(8, "9112s6.1", "te-chunked-twice-lines", post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(8, "9112s6.1", "te-chunked-twice-list", post("Transfer-Encoding: chunked, chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(9, "9110s5.6.1", "te-case-insensitive", post("Transfer-Encoding: CHUNKED", body=b"1\r\nx\r\n0\r\n\r\n"), (200,), False, (b"x",)),
    Row(9, "9110s5.6.1", "te-empty-element", post("Transfer-Encoding: ,chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (200,), False, (b"x",)),
    Row(9, "9110s5.5", "te-vt", post("Transfer-Encoding: \x0bchunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(9, "9110s5.5", "te-nbsp", post("Transfer-Encoding: \xa0chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(10, "9112s6.1", "te-in-http10", post("Transfer-Encoding: chunked", body=b"1\r\nx\r\n0\r\n\r\n", version="1.0"), (400,), True),
    Row(11, "9112s6.3", "no-length-empty-body", post() + GET2, (200, 200), False, (b"", b"")),
    Row(12, "9112s6.2", "short-body-eof", post("Content-Length: 5", body=b"ab"), (400,), True, eof=True),
    Row(12, "9112s6.2", "short-chunk-eof", chunked_post(b"5\r\nab"), (400,), True, eof=True),
    Row(13, "9112s7.1", "chunk-size-hex-prefix", chunked_post(b"0x1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-plus", chunked_post(b"+1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-minus", chunked_post(b"-1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-leading-sp", chunked_post(b" 1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-trailing-sp", chunked_post(b"1 \r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-empty", chunked_post(b"\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-17-hex", chunked_post(b"0" * 16 + b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(13, "9112s7.1", "chunk-size-overflow", chunked_post(b"f" * 40 + b"\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(14, "9112s7.1", "chunk-data-bad-terminator", chunked_post(b"1\r\nxXX0\r\n\r\n"), (400,), True),
    Row(14, "9112s7.1", "chunk-data-cr-x", chunked_post(b"1\r\nx\rX0\r\n\r\n"), (400,), True),
    Row(15, "9112s7.1", "chunk-size-bare-lf", chunked_post(b"1\nx\r\n0\r\n\r\n"), (400,), True),
    Row(15, "9112s7.1", "chunk-data-bare-lf", chunked_post(b"1\r\nx\n0\r\n\r\n"), (400,), True),
    Row(15, "9112s7.1", "last-chunk-bare-lf", chunked_post(b"1\r\nx\r\n0\n\r\n"), (400,), True),
    Row(15, "9112s7.1", "trailer-bare-lf", chunked_post(b"1\r\nx\r\n0\r\nX-T: 1\n\r\n"), (400,), True),
    Row(16, "9112s7.1.1", "chunk-ext-ok", chunked_post(b"1;a=b\r\nx\r\n0;c=\"d\"\r\n\r\n"), (200,), False, (b"x",)),
    Row(16, "9112s7.1.1", "chunk-ext-bare-semicolon", chunked_post(b"1;\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(16, "9112s7.1.1", "chunk-ext-ctl", chunked_post(b"1;a=\x01\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(16, "9112s7.1.1", "chunk-ext-64k", chunked_post(b"1;a=" + b"b" * 65536 + b"\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(17, "9112s7.1", "last-chunk-zeros", chunked_post(b"2\r\nxy\r\n000\r\n\r\n") + GET2, (200, 200), False, (b"xy", b"")),
    Row(17, "9112s7.1", "missing-final-crlf-eof", chunked_post(b"1\r\nx\r\n0\r\n"), (400,), True, eof=True),
    Row(18, "9112s7.1.2", "trailers-separate", chunked_post(b"1\r\nx\r\n0\r\nX-T: 1\r\n\r\n"), (200,), False, (b"x",), check=no_trailer_in_headers),
    Row(18, "9110s6.5.1", "trailer-host-forbidden", chunked_post(b"1\r\nx\r\n0\r\nHost: b\r\n\r\n"), (400,), True),
    Row(18, "9110s6.5.1", "trailer-cl-forbidden", chunked_post(b"1\r\nx\r\n0\r\nContent-Length: 9\r\n\r\n"), (400,), True),
    Row(18, "9112s7.1.2", "trailer-bad-field", chunked_post(b"1\r\nx\r\n0\r\nX-T : 1\r\n\r\n"), (400,), True),
    Row(19, "9112s9.3", "pipelined-remainder", post("Content-Length: 3", body=b"abc") + GET2, (200, 200), False, (b"abc", b"")),
    Row(19, "9112s9.6", "nothing-after-close", get("/", "Connection: close") + GET2, (200,), True, (b"",)),
    Row(20, "9112s8", "error-then-valid-request", chunked_post(b"1\r\nxXX") + GET2, (400,), True),
    Row(20, "9112s8", "bad-head-then-valid-request", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n" + GET2, (400,), True),
    Row(21, "9112s9.3", "early-response-drains-body", post("Content-Length: 5", body=b"hello") + GET2, (200, 200), False, None, app=early_responder),
    Row(21, "9112s9.3", "early-response-closes-beyond-drain", post("Content-Length: 50", body=b"x" * 50) + GET2, (200,), True, None, config=Config(max_drain_bytes=10), app=early_responder),
    # -- field syntax ------------------------------------------------------------------
    Row(22, "9112s5.1", "space-before-colon", get("/", "X : a"), (400,), True),
    Row(22, "9112s5.1", "tab-before-colon", get("/", "X\t: a"), (400,), True),
    Row(23, "9110s5.6.2", "empty-field-name", get("/", ": a"), (400,), True),
    Row(23, "9110s5.6.2", "non-ascii-field-name", get("/", "X\xff: a"), (400,), True),
    Row(23, "9110s5.6.2", "paren-field-name", get("/", "X(: a"), (400,), True),
    Row(24, "9112s5", "no-colon", get("/", "Xa"), (400,), True),
    Row(25, "9112s5.2", "obs-fold", get("/", "X: a", " b"), (400,), True),
    Row(25, "9112s5.2", "obs-fold-te", post("Transfer-Encoding: gzip,", " chunked", body=b"1\r\nx\r\n0\r\n\r\n"), (400,), True),
    Row(26, "9112s2.2", "whitespace-led-first-field", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", (400,), True),
    Row(27, "9110s5.5", "nul-in-value", get("/", "X: a\x00b"), (400,), True),
    Row(27, "9110s5.5", "lf-in-value", get("/", "X: a\nb"), (400,), True),
    Row(28, "9110s5.5", "ctl-01-in-value", get("/", "X: a\x01b"), (400,), True),
    Row(28, "9110s5.5", "ctl-vt-in-value", get("/", "X: a\x0bb"), (400,), True),
    Row(28, "9110s5.5", "del-in-value", get("/", "X: a\x7fb"), (400,), True),
    Row(29, "9112s2.2", "bare-cr-in-value", get("/", "X: a\rb"), (400,), True),
    Row(29, "9112s2.2", "bare-cr-in-request-line", b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(29, "9112s2.2", "cr-line-ending", b"GET / HTTP/1.1\rHost: a\r\r", (400,), True),
    Row(30, "9112s2.2", "bare-lf-everywhere", b"GET / HTTP/1.1\nHost: a\n\n", (400,), True),
    Row(30, "9112s2.2", "bare-lf-one-field", b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", (400,), True),
    Row(30, "9112s2.2", "bare-lf-end-of-head", b"GET / HTTP/1.1\r\nHost: a\r\n\n", (400,), True),
    Row(31, "9110s5.5", "ows-only-sp-htab", get("/", "X: \t a \t b \t"), (200,), False, (b"",), check=ows_trimmed),
    Row(31, "9110s5.5", "nbsp-is-value", get("/", "X: \xa0a\xa0"), (200,), False, (b"",), check=xa0_kept),
    Row(32, "9110s5.4", "1mb-header", get("/", "X: " + "a" * 1_000_000), (431,), True),
    Row(32, "9110s5.4", "head-over-limit", get("/", *[f"X-{i}: {'v' * 90}" for i in range(12)]), (431,), True, config=Config(max_header_bytes=1024, max_request_line=512)),
    Row(32, "9110s5.4", "too-many-headers", get("/", *["X: a"] * 101), (431,), True),
    Row(32, "9112s3", "long-request-line", get("/" + "a" * 9000), (414,), True),
    Row(32, "9112s3", "long-request-line-unfinished", b"GET /" + b"a" * 9000, (414,), True, config=Config(max_header_bytes=8192)),
    # -- start-line --------------------------------------------------------------------
    Row(34, "9112s3", "double-sp", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(34, "9112s3", "tab-separator", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(34, "9112s3", "missing-target", b"GET HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(34, "9112s3", "trailing-sp", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", (400,), True),
    Row(35, "9112s3.1", "method-not-token", b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(35, "9112s3.1", "method-case-sensitive-token", b"get / HTTP/1.1\r\nHost: a\r\n\r\n", (200,), False, (b"",)),
    Row(36, "9112s2.3", "version-1.10", b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", (400,), True),
    Row(36, "9112s2.3", "version-lower-case", b"GET / http/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(36, "9112s2.3", "version-no-minor", b"GET / HTTP/1\r\nHost: a\r\n\r\n", (400,), True),
    Row(36, "9110s15.6.6", "version-2.0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", (505,), True),
    Row(36, "9110s15.6.6", "version-0.9-numbered", b"GET / HTTP/0.9\r\n\r\n", (505,), True),
    Row(36, "9112s2.3", "http-0.9", b"GET /\r\n\r\n", (400,), True),
    Row(37, "9112s3.2.1", "origin-form", get("/a/b?c=d&e"), (200,), False, (b"",)),
    Row(37, "9112s3.2.2", "absolute-form", get("http://a/b?c"), (200,), False, (b"",)),
    Row(37, "9112s3.2.4", "asterisk-options", get("*", method="OPTIONS"), (200,), False, (b"",)),
    Row(37, "9112s3.2.4", "asterisk-get", get("*"), (400,), True),
    Row(37, "9112s3.2.3", "authority-connect", b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x81\x00", (200,), False, (b"",), app=upgrader(200), check=upgraded),
    Row(37, "9112s3.2.3", "authority-not-connect", get("a:443", method="PUT"), (200,), False, (b"",)),
    Row(37, "9112s3.2.3", "connect-origin-form", b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(37, "9112s3.2", "target-non-ascii", b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(37, "9112s3.2", "target-fragment", b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(37, "9112s3.2", "target-ctl", b"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True),
    Row(38, "9112s2.2", "leading-empty-line", b"\r\n" + GET, (200,), False, (b"",)),
    Row(38, "9112s2.2", "leading-empty-lines-between", GET + b"\r\n\r\n" + GET2, (200, 200), False, (b"", b"")),
    Row(38, "9112s2.2", "too-many-leading-empty-lines", b"\r\n" * 5 + GET, (400,), True),
    Row(38, "9112s2.2", "leading-bare-lf", b"\n" + GET, (400,), True),
    Row(39, "9112s3.2", "host-missing", b"GET / HTTP/1.1\r\n\r\n", (400,), True),
    Row(39, "9112s3.2", "host-duplicate", get("/", "Host: a"), (400,), True),
    Row(39, "9112s3.2", "host-userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", (400,), True),
    Row(39, "9112s3.2", "host-path", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", (400,), True),
    Row(39, "9112s3.2", "host-list", b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", (400,), True),
    Row(39, "9112s3.2", "host-optional-http10", get(version="1.0"), (200,), True, (b"",)),
    Row(40, "9112s3", "target-8000-octets", get("/" + "a" * 8000), (200,), False, (b"",)),
    Row(40, "9110s15.5.15", "target-too-long", get("/" + "a" * 8200), (414,), True),
    # -- connection management ---------------------------------------------------------
    Row(41, "9112s9.3", "http11-keep-alive", GET + GET2, (200, 200), False, (b"", b"")),
    Row(41, "9110s7.6.1", "connection-close", get("/", "Connection: close"), (200,), True, (b"",), check=connection_close_sent),
    Row(41, "9110s7.6.1", "connection-close-case", get("/", "Connection: CLOSE"), (200,), True, (b"",)),
    Row(41, "9110s7.6.1", "connection-close-in-list", get("/", "Connection: foo, Close"), (200,), True, (b"",)),
    Row(41, "9110s7.6.1", "connection-close-second-line", get("/", "Connection: foo", "Connection: close"), (200,), True, (b"",)),
    Row(41, "9112s9.3", "http10-closes", get(version="1.0") + get(version="1.0"), (200,), True, (b"",), check=connection_close_sent),
    Row(41, "9112s9.3", "http10-keep-alive", get("/", "Connection: keep-alive", version="1.0") + GET2, (200, 200), False, (b"", b"")),
    Row(42, "9112s9.6", "close-discards-pipelined", get("/", "Connection: close") + GET2 + GET2, (200,), True, (b"",)),
    Row(43, "9112s9.3.2", "pipelined-in-order", post("Content-Length: 1", body=b"1", target="/1") + post("Content-Length: 2", body=b"22", target="/2") + GET + chunked_post(b"4\r\n4444\r\n0\r\n\r\n"), (200, 200, 200, 200), False, (b"1", b"22", b"", b"4444"), check=in_order),
    Row(43, "9112s9.3.2", "pipelined-bounded-queue", b"".join(get(f"/{i}") for i in range(6)), (200,) * 6, False, (b"",) * 6, config=SMALL_QUEUE),
    # -- response side -----------------------------------------------------------------
    Row(45, "9110s9.3.2", "head-no-content", get(method="HEAD") + GET2, (200, 200), False, (b"", b""), app=respond_with(200, b"hello"), methods=("HEAD", "GET"), check=head_in_sync),
    Row(45, "9110s15.3.5", "204-no-content", GET + GET2, (204, 204), False, (b"", b""), app=respond_with(204, b"ignored", [("Content-Length", "7")]), check=no_length_on_204),
    Row(45, "9110s15.4.5", "304-no-content", GET + GET2, (304, 304), False, (b"", b""), app=respond_with(304, b"ignored")),
    Row(46, "9110s8.6", "no-length-on-204", GET, (204,), False, (b"",), app=respond_with(204, b"", [("Transfer-Encoding", "chunked")]), check=no_length_on_204),
    Row(47, "9112s6.1", "chunked-to-http11", GET, (200,), False, (b"",), app=streaming, check=chunked_to_11),
    Row(47, "9112s6.1", "close-delimited-to-http10", get("/", "Connection: keep-alive", version="1.0"), (200,), True, (b"",), app=streaming, check=close_delimited_to_10),
    Row(48, "9112s11.1", "response-splitting", GET, (500,), False, (b"",), app=splitting, check=not_split),
    Row(49, "9110s10.1.1", "100-continue", post("Expect: 100-continue", "Content-Length: 2", body=b"ok"), (100, 200), False, (b"ok",)),
    Row(49, "9110s15.2", "no-100-to-http10", post("Expect: 100-continue", "Content-Length: 2", body=b"ok", version="1.0"), (200,), True, (b"ok",)),
    Row(49, "9110s10.1.1", "100-continue-without-body", get("/", "Expect: 100-continue"), (200,), False, (b"",)),
    Row(49, "9110s10.1.1", "unknown-expectation", post("Expect: fly", "Content-Length: 2", body=b"ok"), (417,), True),
    Row(50, "9110s7.8", "upgrade", get("/", "Connection: Upgrade", "Upgrade: websocket") + b"\x81\x00", (101,), False, (b"",), app=upgrader(), check=upgraded),
    Row(50, "9110s7.8", "upgrade-needs-connection-option", get("/", "Upgrade: websocket"), (200,), False, (b"",), app=upgrader()),
    Row(50, "9110s7.8", "upgrade-ignored-on-http10", get("/", "Connection: Upgrade, keep-alive", "Upgrade: websocket", version="1.0"), (200,), False, (b"",), app=upgrader()),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_checklist(row: Row) -> None:
    result = check_splits(row.data, row.eof, row.config, row.app, exhaustive=len(row.data) <= 300)
    got = [r.status for r in parse_responses(result.output, row.methods)]
    assert tuple(got) == row.statuses, f"answered {got}: {result.output[:400]!r}"
    assert result.closed == row.closes, f"closed={result.closed}, expected {row.closes}"
    if row.bodies is not None:
        complete = tuple(s.body for s in result.seen if s.complete)
        assert complete == row.bodies, f"handler saw {complete}"
    if row.statuses and row.statuses[-1] >= 400 and row.bodies == ():
        assert not any(s.complete for s in result.seen), "a rejected request was dispatched as complete"
    if row.check is not None:
        row.check(result)


def test_every_checklist_row_is_covered() -> None:
    covered = {r.num for r in ROWS}
    wanted = set(range(1, 33)) | set(range(34, 44)) | set(range(45, 51))
    assert wanted <= covered, sorted(wanted - covered)
