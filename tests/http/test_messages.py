"""Messages (`Version`, `Method`, `Status`, `Headers`, `Request`, `Response`) and the
head writer (`wirekit.http._writer`): outgoing heads are validated before anything is
written, so response splitting is impossible."""

from __future__ import annotations

import pytest
from wirekit.http import Headers, LocalProtocolError, Method, Request, Response, Status, Version
from wirekit.http._status import reason_phrase, status_of
from wirekit.http._writer import field_bytes, head_bytes, request_head_bytes, status_line


# -- Version, Method, Status ----------------------------------------------------------
def test_version() -> None:
    assert Version.HTTP_1_1.raw == b"HTTP/1.1"
    assert str(Version.HTTP_1_0) == "HTTP/1.0"
    assert (Version.HTTP_1_1.major, Version.HTTP_1_1.minor) == (1, 1)
    assert Version.HTTP_1_0.value < Version.HTTP_1_1.value


SAFE = {Method.GET, Method.HEAD, Method.OPTIONS, Method.TRACE}


@pytest.mark.parametrize("method", list(Method))
def test_method_properties(method: Method) -> None:
    # http/af's truth table (RFC 9110 §9.2), plus PATCH.
    assert method.is_safe is (method in SAFE)
    assert method.is_idempotent is (method in SAFE | {Method.PUT, Method.DELETE})
    assert method.is_cacheable is (method in {Method.GET, Method.HEAD, Method.POST})


def test_method_lookup_is_case_sensitive() -> None:
    assert Method.lookup(b"GET") is Method.GET
    assert Method.lookup(b"get") == b"get"
    assert not isinstance(Method.lookup(b"get"), Method)
    assert Method.lookup(b"some-other-verb") == b"some-other-verb"
    assert Request("PATCH", "/").method is Method.PATCH


def test_status() -> None:
    assert Status.NOT_FOUND.phrase == "Not Found"
    assert int(Status.OK) == 200
    assert status_of(404) is Status.NOT_FOUND and status_of(299) is None
    assert reason_phrase(431) == "Request Header Fields Too Large" and reason_phrase(299) == ""
    assert Status.SWITCHING_PROTOCOLS.is_informational and Status.NO_CONTENT.is_success
    assert Status.NOT_MODIFIED.is_redirection and Status.REQUEST_HEADER_FIELDS_TOO_LARGE.is_client_error
    assert Status.HTTP_VERSION_NOT_SUPPORTED.is_server_error and not Status.OK.is_client_error
    assert Response(200).reason == b"OK"
    assert Response(599).status == 599 and Response(599).reason == b""
    assert Response(418, reason="Short and stout").reason == b"Short and stout"
    assert isinstance(Response(404).status, Status)


# -- Headers --------------------------------------------------------------------------
def test_headers_case_insensitive_ordered_multimap() -> None:
    h = Headers([(b"Content-Type", b"text/plain"), ("Set-Cookie", "a=1")])
    h.add("set-cookie", "b=2")
    h.add(b"X-N", 5)
    assert h.get("CONTENT-TYPE") == b"text/plain"
    assert h.get_all(b"SET-COOKIE") == [b"a=1", b"b=2"]
    assert h.get(b"missing") is None and h.get(b"missing", b"d") == b"d"
    assert h.count("set-cookie") == 2 and b"x-n" in h and "X-n" in h and 5 not in h
    assert list(h) == [
        (b"Content-Type", b"text/plain"),
        (b"Set-Cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"X-N", b"5"),
    ]
    assert h.lowered()[1] == (b"set-cookie", b"a=1")
    assert len(h) == 4


def test_headers_set_remove_copy() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3"), ("C", "4")])
    h.set("a", "x")  # replaces all, at the first one's place
    assert list(h) == [(b"a", b"x"), (b"B", b"2"), (b"C", b"4")]
    h.set("D", "5")  # appended when absent
    assert h.raw()[-1] == (b"D", b"5")
    c = h.copy()
    c.remove("b")
    c.remove("nothing")
    assert b"b" in h and b"b" not in c
    assert h.get("b") == b"2"


def test_headers_equality_and_inputs() -> None:
    assert Headers([("A", "1")]) == Headers([(b"a", b"1")])
    assert Headers([("A", "1"), ("B", "2")]) != Headers([("B", "2"), ("A", "1")])
    mapping: dict[bytes | str, bytes | str] = {"A": "1", b"B": b"2"}
    assert Headers(mapping) == Headers([("A", "1"), ("B", "2")])
    h = Headers([("A", "1")])
    assert Headers(h) == h and Headers(h) is not h
    with pytest.raises(TypeError):
        Headers([("A", 1.5)])  # type: ignore[list-item]
    assert Headers([("X", "\xe9")]).get("x") == b"\xe9"  # str is ISO-8859-1


def test_headers_ci_equal_all_bytes() -> None:
    # http/af's "CI equal": lookups agree with ASCII case folding, and only with it.
    for a in range(256):
        name = bytes([a])
        h = Headers([(name, b"v")])
        for b in range(256):
            other = bytes([b])
            assert (other in h) == (name.lower() == other.lower()), (name, other)


def test_request_response_equality() -> None:
    assert Request("GET", "/", [("Host", "a")]) == Request(b"GET", b"/", Headers([(b"host", b"a")]))
    assert Request("GET", "/") != Request("GET", "/", version=Version.HTTP_1_0)
    assert Response(200, [("A", "1")]) == Response(200, [("a", "1")])
    assert Response(200) != Response(200, reason="Fine")
    assert "Request(b'GET'" in repr(Request("GET", "/"))


# -- writing heads --------------------------------------------------------------------
def test_status_line() -> None:
    assert status_line(200, b"OK") == b"HTTP/1.1 200 OK\r\n"
    assert status_line(599, b"") == b"HTTP/1.1 599 \r\n"
    for code in (99, 1000, -1):
        with pytest.raises(LocalProtocolError):
            status_line(code, b"X")


@pytest.mark.parametrize("reason", [b"OK\r\nX: y", b"OK\n", b"O\rK", b"OK\x00", b"OK\x7f", b"OK\x01"])
def test_reason_phrase_validated(reason: bytes) -> None:
    with pytest.raises(LocalProtocolError):
        status_line(200, reason)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"X", b"a\r\nSet-Cookie: evil"),
        (b"X", b"a\nb"),
        (b"X", b"a\rb"),
        (b"X", b"a\x00"),
        (b"X", b"a\x01"),
        (b"X", b"\x7f"),
        (b"X\r\nY", b"a"),
        (b"X:", b"a"),
        (b"X Y", b"a"),
        (b"", b"a"),
        (b"X\x00", b"a"),
        (b"\xe9", b"a"),
        (b"X", b" leading"),  # a value never starts or ends with whitespace
        (b"X", b"trailing\t"),
    ],
)
def test_fields_validated(name: bytes, value: bytes) -> None:
    with pytest.raises(LocalProtocolError):
        field_bytes(name, value)
    with pytest.raises(LocalProtocolError):
        head_bytes(b"HTTP/1.1 200 OK\r\n", Headers([(name, value)]), None)


def test_head_bytes() -> None:
    h = Headers([("Content-Type", "text/plain"), ("X-Empty", ""), ("X-Obs", "\xe9t\xe9")])
    out = head_bytes(b"HTTP/1.1 200 OK\r\n", h, [(b"content-length", b"0")])
    assert out == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Empty: \r\nX-Obs: \xe9t\xe9\r\n"
        b"content-length: 0\r\n\r\n"
    )


def test_request_head_bytes() -> None:
    r = Request("GET", "/a?b", [("Host", "a")])
    assert request_head_bytes(r) == b"GET /a?b HTTP/1.1\r\nHost: a\r\n\r\n"
    r10 = Request(b"custom-verb", "*", version=Version.HTTP_1_0)
    assert request_head_bytes(r10) == b"custom-verb * HTTP/1.0\r\n\r\n"
    for bad in (Request("GET", "/a b"), Request("GET", "/\r\nX: y"), Request("G T", "/"), Request("GET", "")):
        with pytest.raises(LocalProtocolError):
            request_head_bytes(bad)
