"""The RFC 9112 grammar (`wirekit.http._grammar`), rule by rule.

Every case goes through the combinators' `check`: one shot, and incrementally at every
split point and one byte at a time, and all runs must agree (same value, or a parse error
at the same offset).
"""

from __future__ import annotations

from typing import Any

import pytest
from wirekit.combinators import Parser
from wirekit.http import _grammar as g

from tests.combinators.helpers import Err, check


def request_line_value(value: Any) -> tuple[bytes, bytes, tuple[int, int]]:
    """The request-line rule's value as (method, target, (major, minor)), whether the
    grammar gives it nested or flat ([empty lines,] method, target, major digit, minor
    digit)."""
    if len(value) == 3:
        method, target, version = value
        return method, target, tuple(version)
    if len(value) == 5:  # with the empty lines before it
        empty, *value = value
        assert set(empty.split(b"\r\n")) <= {b""}
    method, target, major, minor = value
    assert isinstance(major, bytes) and isinstance(minor, bytes)
    return method, target, (int(major), int(minor))


def accepts(p: Parser[Any], data: bytes, value: object) -> None:
    check(p, data, value)


def rejects(p: Parser[Any], data: bytes, position: int | None = None) -> None:
    """Every way of feeding ``data`` fails (at ``position``, when given)."""
    if position is None:
        out = check(p, data)
        assert not out.ok, f"{data!r} was accepted as {out.value!r}"
    else:
        check(p, data, expect_error=Err(position))


# -- request-line ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"GET / HTTP/1.1\r\n", (b"GET", b"/", (1, 1))),
        (b"POST /a?b=c HTTP/1.0\r\n", (b"POST", b"/a?b=c", (1, 0))),
        (b"OPTIONS * HTTP/1.1\r\n", (b"OPTIONS", b"*", (1, 1))),
        (b"CONNECT a:443 HTTP/1.1\r\n", (b"CONNECT", b"a:443", (1, 1))),
        (b"GET http://a/b HTTP/1.1\r\n", (b"GET", b"http://a/b", (1, 1))),
        (b"some-verb! /%20 HTTP/1.1\r\n", (b"some-verb!", b"/%20", (1, 1))),
        (b"GET / HTTP/2.0\r\n", (b"GET", b"/", (2, 0))),  # 505 is the server's call
        (b"\r\nGET / HTTP/1.1\r\n", (b"GET", b"/", (1, 1))),  # RFC 9112 §2.2
    ],
)
def test_request_line_accepts(data: bytes, value: tuple[bytes, bytes, tuple[int, int]]) -> None:
    out = check(g.request_line, data)
    assert out.ok, out.describe()
    assert request_line_value(out.value) == value


@pytest.mark.parametrize(
    "data",
    [
        b"GET  / HTTP/1.1\r\n",  # two SP
        b"GET\t/ HTTP/1.1\r\n",  # HTAB is not SP
        b"GET / HTTP/1.1 \r\n",  # trailing SP
        b" GET / HTTP/1.1\r\n",  # whitespace first
        b"GET HTTP/1.1\r\n",  # no target
        b"GET /\r\n",  # HTTP/0.9
        b"G(T / HTTP/1.1\r\n",  # method is a token
        b"GET / http/1.1\r\n",  # case-sensitive
        b"GET / HTTP/1.10\r\n",
        b"GET / HTTP/1\r\n",
        b"GET / HTTP/11.1\r\n",
        b"GET / HTTP/1.1\n",  # bare LF
        b"GET / HTTP/1.1\r\r\n",  # bare CR
        b"GET /\xff HTTP/1.1\r\n",  # non-ASCII target
        b"GET /a#b HTTP/1.1\r\n",  # fragment
        b"GET /a\x00 HTTP/1.1\r\n",
        b"\nGET / HTTP/1.1\r\n",
    ],
)
def test_request_line_rejects(data: bytes) -> None:
    rejects(g.request_line, data)


def test_request_line_error_position() -> None:
    rejects(g.request_line, b"GET  / HTTP/1.1\r\n", 4)
    rejects(g.request_line, b"GET / HTTP/1.10\r\n", 14)


# -- request targets as browsers send them (issue 17, defect 3) -------------------------
# The exact bytes headless Chromium sends for a URL typed with these characters (captured
# from its request lines): it leaves { } | ^ \ ` unencoded in a query, and encodes " < >.
CHROMIUM_TARGETS = [
    b"/?filter={%22a%22:1}",  # for /?filter={"a":1}
    b"/?q={a}",
    b"/?q=`x`^|\\y%3Cz%3E",  # for /?q=`x`^|\y<z>
]
# What other clients send as typed (curl '/a|b', curl -g '/?q={a}', urllib).
OTHER_TARGETS = [b"/a|b", b'/?a="b"', b"/`cmd`", b"/p{a}^b\\c", b"/{}|^\\`\""]


@pytest.mark.parametrize("target", CHROMIUM_TARGETS + OTHER_TARGETS)
def test_request_line_accepts_what_browsers_leave_unencoded(target: bytes) -> None:
    out = check(g.request_line, b"GET " + target + b" HTTP/1.1\r\n")
    assert out.ok, out.describe()
    assert request_line_value(out.value) == (b"GET", target, (1, 1))
    accepts(g.request_target, target, target)
    accepts(g.absolute_form, b"http://a" + target, b"http://a" + target)


# Every byte outside printable ASCII, and the printable ones still refused.
STILL_REJECTED = [*range(0x00, 0x21), 0x7F, *b"#<>", 0x80, 0xC3, 0xFF]


@pytest.mark.parametrize("byte", STILL_REJECTED, ids=lambda b: f"0x{b:02x}")
def test_request_target_still_rejects(byte: int) -> None:
    # The target ends before the byte; what follows must then be SP, which it is not
    # (for SP itself: the version is expected and "b" is not it).
    line = b"GET /a" + bytes([byte]) + b"b HTTP/1.1\r\n"
    rejects(g.request_line, line, 6 if byte != 0x20 else 7)
    rejects(g.request_target, b"/a" + bytes([byte]), 2)


def test_request_target_is_printable_ascii_but_sp_hash_lt_gt() -> None:
    printable = {b for b in range(0x21, 0x7F)}
    assert set(g.TARGET_CHARS) == printable - set(b"#<>")


# -- field lines ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"Host: a\r\n", (b"Host", b"a")),
        (b"X:a\r\n", (b"X", b"a")),
        (b"X:\r\n", (b"X", b"")),
        (b"X:   \t \r\n", (b"X", b"")),
        (b"X: \t a  b \t \r\n", (b"X", b"a  b")),  # OWS is trimmed, inner SP kept
        (b"X: a\tb\r\n", (b"X", b"a\tb")),
        (b"X: \xa0a\xa0\r\n", (b"X", b"\xa0a\xa0")),  # obs-text is value, never OWS
        (b"X: \x85\r\n", (b"X", b"\x85")),
        (b"!#$%&'*+-.^_`|~09azAZ: v\r\n", (b"!#$%&'*+-.^_`|~09azAZ", b"v")),
        (b'X: "quoted, value"\r\n', (b"X", b'"quoted, value"')),
    ],
)
def test_field_line_accepts(data: bytes, value: object) -> None:
    accepts(g.field_line, data, value)


@pytest.mark.parametrize(
    "data",
    [
        b"X : a\r\n",  # whitespace before the colon (RFC 9112 §5.1)
        b"X\t: a\r\n",
        b" X: a\r\n",  # obs-fold / whitespace-led line
        b"\tX: a\r\n",
        b": a\r\n",  # empty name
        b"X\xff: a\r\n",  # non-token name
        b"X(: a\r\n",
        b"X[: a\r\n",
        b"Xa\r\n",  # no colon
        b"X: a\x00b\r\n",  # NUL
        b"X: a\rb\r\n",  # bare CR
        b"X: a\nb\r\n",
        b"X: a\x01b\r\n",  # other CTLs
        b"X: a\x0bb\r\n",
        b"X: a\x0cb\r\n",
        b"X: a\x1fb\r\n",
        b"X: a\x7fb\r\n",
        b"X: \x0ba\r\n",
        b"X: a\n",  # bare LF
        b"X: a\r\n b\r\n",  # obs-fold: the rest is not CRLF-terminated field content
    ],
)
def test_field_line_rejects(data: bytes) -> None:
    if data == b"X: a\r\n b\r\n":
        # As a prefix the line parses; the fold is caught by the header section.
        rejects(g.header_section, data + b"\r\n")
    else:
        rejects(g.field_line, data)


def test_header_section() -> None:
    accepts(g.header_section, b"\r\n", [])
    accepts(g.header_section, b"A: 1\r\nb: 2\r\nA: 3\r\n\r\n", [(b"A", b"1"), (b"b", b"2"), (b"A", b"3")])
    rejects(g.header_section, b"A: 1\r\n\n")
    rejects(g.header_section, b"A: 1\n\r\n")


def test_request_head() -> None:
    out = check(g.request_head, b"GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n")
    assert out.ok, out.describe()
    line, fields = out.value
    assert request_line_value(line) == (b"GET", b"/x", (1, 1))
    assert fields == [(b"Host", b"a"), (b"Accept", b"*/*")]
    rejects(g.request_head, b"GET /x HTTP/1.1\r\n Host: a\r\n\r\n", 17)


# -- status-line ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"HTTP/1.1 200 OK\r\n", ((1, 1), 200, b"OK")),
        (b"HTTP/1.0 404 Not  Found\r\n", ((1, 0), 404, b"Not  Found")),
        (b"HTTP/1.1 200 \r\n", ((1, 1), 200, b"")),
        (b"HTTP/1.1 200\r\n", ((1, 1), 200, b"")),  # lenient: a missing SP before no reason
        (b"HTTP/1.1 599 \xe9t\xe9\r\n", ((1, 1), 599, b"\xe9t\xe9")),
    ],
)
def test_status_line_accepts(data: bytes, value: object) -> None:
    accepts(g.status_line, data, value)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 20 OK\r\n",
        b"HTTP/1.1 2000 OK\r\n",
        b"HTTP/1.1 OK\r\n",
        b"HTTP/1.1  200 OK\r\n",
        b"HTTP/1.1 200 O\rK\r\n",
        b"HTTP/1.1 200 OK\n",
        b"HTTP/1.1 200 O\x00K\r\n",
        b"http/1.1 200 OK\r\n",
    ],
)
def test_status_line_rejects(data: bytes) -> None:
    rejects(g.status_line, data)


# -- Content-Length -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"0", [b"0"]),
        (b"0123", [b"0123"]),
        (b"1, 1", [b"1", b"1"]),
        (b"1,1 ,\t1", [b"1", b"1", b"1"]),
        (b"1, 2", [b"1", b"2"]),  # differing: refused by the framing, not the grammar
        (b"9" * 30, [b"9" * 30]),  # bounded by the framing
    ],
)
def test_content_length_accepts(data: bytes, value: object) -> None:
    accepts(g.content_length, data, value)


@pytest.mark.parametrize(
    "data",
    [b"", b"+1", b"-1", b"0x1", b"1_0", b"1 0", b" 1", b"1 ", b"0o5", b"1\x00", b"\xd9\xa1", b"1,", b",1", b"1.0", b"1e3"],
)
def test_content_length_rejects(data: bytes) -> None:
    rejects(g.content_length, data)


# -- Transfer-Encoding, Connection ----------------------------------------------------
@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"chunked", [b"chunked"]),
        (b"CHUNKED", [b"chunked"]),
        (b"gzip, chunked", [b"gzip", b"chunked"]),
        (b",chunked", [b"chunked"]),  # empty list elements are ignored (RFC 9110 §5.6.1)
        (b"chunked , ,", [b"chunked"]),
        (b"foo;a=b ; c=\"d e\", chunked", [b"foo", b"chunked"]),
        (b"", []),
    ],
)
def test_transfer_codings_accepts(data: bytes, value: object) -> None:
    accepts(g.transfer_codings, data, value)


@pytest.mark.parametrize(
    "data",
    [b"\x0bchunked", b"\x0cchunked", b"\xa0chunked", b"chunked\xa0", b"chunked\x00", b"chu nked", b'"chunked"', b"chunked;"],
)
def test_transfer_codings_rejects(data: bytes) -> None:
    rejects(g.transfer_codings, data)


def test_connection_options() -> None:
    accepts(g.connection_options, b"close", [b"close"])
    accepts(g.connection_options, b"Keep-Alive, Upgrade", [b"keep-alive", b"upgrade"])
    accepts(g.connection_options, b"foo,,CLOSE", [b"foo", b"close"])
    rejects(g.connection_options, b"clo se")
    rejects(g.connection_options, b"close\x0b")


# -- Host, target forms ---------------------------------------------------------------
@pytest.mark.parametrize(
    "data", [b"a", b"example.com", b"a:80", b"a:", b"[::1]", b"[::1]:8080", b"1.2.3.4:5", b"", b"xn--d-ya.com"]
)
def test_host_accepts(data: bytes) -> None:
    accepts(g.host, data, data)


@pytest.mark.parametrize("data", [b"u@a", b"a/b", b"a, b", b"a b", b"a:b", b"a\x00", b"[::1", b"a\xff"])
def test_host_rejects(data: bytes) -> None:
    rejects(g.host, data)


def test_authority_form() -> None:
    accepts(g.authority_form, b"a:443", b"a:443")
    accepts(g.authority_form, b"[::1]:443", b"[::1]:443")
    for bad in (b"a", b"a:", b"/a:1", b":443", b"u@a:1"):
        rejects(g.authority_form, bad)


def test_absolute_form() -> None:
    accepts(g.absolute_form, b"http://a/b?c", b"http://a/b?c")
    accepts(g.absolute_form, b"urn:x", b"urn:x")
    for bad in (b"/a", b"1http://a", b"http//a", b"*"):
        rejects(g.absolute_form, bad)


# -- chunked framing ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"0\r\n", (b"0", b"")),
        (b"1a\r\n", (b"1a", b"")),
        (b"Ff\r\n", (b"Ff", b"")),
        (b"000\r\n", (b"000", b"")),
        (b"1;a=b\r\n", (b"1", b";a=b")),
        (b"1 ; a = b;c\r\n", (b"1", b" ; a = b;c")),
        (b'1;a="b c\\"d"\r\n', (b"1", b';a="b c\\"d"')),
    ],
)
def test_chunk_line_accepts(data: bytes, value: object) -> None:
    accepts(g.chunk_line, data, value)


@pytest.mark.parametrize(
    "data",
    [
        b"\r\n",
        b"0x1\r\n",
        b"+1\r\n",
        b"-1\r\n",
        b" 1\r\n",
        b"1 \r\n",  # whitespace not followed by ";"
        b"1_0\r\n",
        b"g\r\n",
        b"1\n",
        b"1\r",
        b"1\rX",
        b"1;\r\n",  # bare ";"
        b"1;=b\r\n",
        b"1;a=\r\n",
        b'1;a="b\r\n',
        b"1;a=b\x00\r\n",
        b"1;a\rb\r\n",
    ],
)
def test_chunk_line_rejects(data: bytes) -> None:
    rejects(g.chunk_line, data)


def test_trailer_section() -> None:
    accepts(g.trailer_section, b"\r\n", [])
    accepts(g.trailer_section, b"X-T: 1\r\nY: 2\r\n\r\n", [(b"X-T", b"1"), (b"Y", b"2")])
    rejects(g.trailer_section, b"X-T: 1\n\r\n")
    rejects(g.trailer_section, b"X-T : 1\r\n\r\n")


def test_crlf() -> None:
    accepts(g.crlf, b"\r\n", b"\r\n")
    rejects(g.crlf, b"\n", 0)
    rejects(g.crlf, b"\rX")
