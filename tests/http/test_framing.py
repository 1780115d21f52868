"""Framing and the semantic checks on a parsed head (`wirekit.http._framing`):
RFC 9112 §6.3 body length, Host and target rules, persistence, Expect and Upgrade."""

from __future__ import annotations

import pytest
from wirekit.http import Headers, Method, RemoteProtocolError, Request, Response, Status, Version
from wirekit.http._framing import (
    BodyKind,
    connection_options,
    content_length,
    request_framing,
    response_body_kind,
    transfer_codings,
)


def req(
    *fields: tuple[str, str],
    method: str = "POST",
    target: str = "/",
    version: Version = Version.HTTP_1_1,
    host: bool = True,
) -> Request:
    headers = [("Host", "a")] if host and version is Version.HTTP_1_1 else []
    headers.extend(fields)
    return Request(method, target, headers, version)


def refused(request: Request, status: int = 400, max_body: int | None = None) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        request_framing(request, max_body)
    assert info.value.status == status, info.value
    return info.value


# -- Content-Length -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "length"),
    [([], None), (["0"], 0), (["10"], 10), (["007"], 7), (["5", "5"], 5), (["5, 5"], 5), (["5,5", "5"], 5)],
)
def test_content_length_values(values: list[str], length: int | None) -> None:
    assert content_length(Headers([("Content-Length", v) for v in values])) == length


@pytest.mark.parametrize(
    "values",
    [["1", "2"], ["1, 2"], ["+1"], ["-1"], ["0x1"], ["1_0"], ["1 0"], [""], ["1" * 19], ["9" * 30], ["1", "01"]],
)
def test_content_length_refused(values: list[str]) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        content_length(Headers([("Content-Length", v) for v in values]))
    assert info.value.status == 400


def test_content_length_bound_keeps_precision() -> None:
    assert content_length(Headers([("Content-Length", "9" * 18)])) == 10**18 - 1


def test_content_length_status_for_responses() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        content_length(Headers([("Content-Length", "x")]), Status.BAD_GATEWAY)
    assert info.value.status == 502


def test_transfer_codings_over_lines() -> None:
    h = Headers([("Transfer-Encoding", "gzip"), ("transfer-encoding", "CHUNKED")])
    assert transfer_codings(h) == [b"gzip", b"chunked"]


def test_connection_options_over_lines() -> None:
    h = Headers([("Connection", "Keep-Alive"), ("connection", "foo, Close")])
    assert connection_options(h) == [b"keep-alive", b"foo", b"close"]
    assert connection_options(Headers()) == []
    with pytest.raises(RemoteProtocolError):
        connection_options(Headers([("Connection", "a b")]))


# -- request body length (RFC 9112 §6.3) ----------------------------------------------
def test_no_length_means_empty_body() -> None:
    f = request_framing(req(), None)
    assert (f.body, f.length) == (BodyKind.NONE, 0)
    f = request_framing(req(("Content-Length", "0")), None)
    assert (f.body, f.length) == (BodyKind.NONE, 0)


def test_fixed_and_chunked() -> None:
    f = request_framing(req(("Content-Length", "12")), None)
    assert (f.body, f.length) == (BodyKind.FIXED, 12)
    f = request_framing(req(("Transfer-Encoding", "chunked")), None)
    assert f.body is BodyKind.CHUNKED
    f = request_framing(req(("Transfer-Encoding", "Chunked")), None)
    assert f.body is BodyKind.CHUNKED


def test_te_and_cl_refused() -> None:
    refused(req(("Content-Length", "3"), ("Transfer-Encoding", "chunked")))
    refused(req(("Transfer-Encoding", "chunked"), ("Content-Length", "3")))


@pytest.mark.parametrize(
    ("codings", "status"),
    [
        (["chunked, gzip"], 400),  # chunked not last
        (["gzip"], 400),
        (["identity"], 400),
        (["xchunked"], 400),
        (["chunked", "chunked"], 400),  # chunked twice, two lines
        (["chunked, chunked"], 400),
        (["gzip, chunked"], 501),  # a coding we do not implement
        (["gzip", "chunked"], 501),
        (["\x0bchunked"], 400),
        ([""], 400),
    ],
)
def test_transfer_encoding_rules(codings: list[str], status: int) -> None:
    refused(req(*[("Transfer-Encoding", c) for c in codings]), status)


def test_te_in_http10_refused() -> None:
    refused(req(("Transfer-Encoding", "chunked"), version=Version.HTTP_1_0))


def test_body_limit() -> None:
    refused(req(("Content-Length", "11")), 413, max_body=10)
    f = request_framing(req(("Content-Length", "10")), 10)
    assert f.length == 10


# -- Host -----------------------------------------------------------------------------
def test_host_rules() -> None:
    refused(req(host=False))
    refused(req(("Host", "b")))  # two Host lines
    for bad in ("u@a", "a/b", "a, b", "a b"):
        refused(Request("GET", "/", [("Host", bad)]))
    request_framing(Request("GET", "/", [("Host", "[::1]:8080")]), None)
    request_framing(Request("GET", "/", [("Host", "")]), None)  # RFC 9110 §7.2: empty is allowed
    # HTTP/1.0 may omit it, but not send two or an invalid one.
    request_framing(req(version=Version.HTTP_1_0), None)
    refused(Request("GET", "/", [("Host", "a"), ("Host", "a")], Version.HTTP_1_0))
    refused(Request("GET", "/", [("Host", "a/b")], Version.HTTP_1_0))


# -- request-target forms -------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "target", "ok"),
    [
        ("GET", "/", True),
        ("GET", "/a?b", True),
        ("GET", "http://a/b", True),
        ("OPTIONS", "*", True),
        ("GET", "*", False),
        ("CONNECT", "a:443", True),
        ("CONNECT", "[::1]:443", True),
        ("CONNECT", "/", False),
        ("CONNECT", "a", False),
        ("GET", "a/b", False),
        ("GET", "?a", False),
    ],
)
def test_target_forms(method: str, target: str, ok: bool) -> None:
    request = Request(method, target, [("Host", "a")])
    if ok:
        request_framing(request, None)
    else:
        refused(request)


# -- persistence, Expect, Upgrade -----------------------------------------------------
@pytest.mark.parametrize(
    ("version", "connection", "persistent"),
    [
        (Version.HTTP_1_1, None, True),
        (Version.HTTP_1_1, "close", False),
        (Version.HTTP_1_1, "CLOSE", False),
        (Version.HTTP_1_1, "foo, Close", False),
        (Version.HTTP_1_1, "keep-alive", True),
        (Version.HTTP_1_0, None, False),
        (Version.HTTP_1_0, "keep-alive", True),
        (Version.HTTP_1_0, "Keep-Alive, foo", True),
        (Version.HTTP_1_0, "close", False),
    ],
)
def test_persistence(version: Version, connection: str | None, persistent: bool) -> None:
    fields = [("Connection", connection)] if connection is not None else []
    assert request_framing(req(*fields, method="GET", version=version), None).persistent is persistent


def test_expect_continue() -> None:
    f = request_framing(req(("Expect", "100-continue"), ("Content-Length", "1")), None)
    assert f.expect_continue
    f = request_framing(req(("Expect", "100-Continue"), ("Transfer-Encoding", "chunked")), None)
    assert f.expect_continue
    # Nothing to wait for without a body, and never for HTTP/1.0 (RFC 9110 §10.1.1).
    assert not request_framing(req(("Expect", "100-continue")), None).expect_continue
    f = request_framing(req(("Expect", "100-continue"), ("Content-Length", "1"), version=Version.HTTP_1_0), None)
    assert not f.expect_continue
    refused(req(("Expect", "something-else"), ("Content-Length", "1")), 417)


def test_upgrade_detection() -> None:
    f = request_framing(req(("Connection", "Upgrade"), ("Upgrade", "websocket"), method="GET"), None)
    assert f.upgrade
    assert not request_framing(req(("Upgrade", "websocket"), method="GET"), None).upgrade
    assert not request_framing(req(("Connection", "upgrade"), method="GET"), None).upgrade
    f = request_framing(
        req(("Connection", "upgrade"), ("Upgrade", "websocket"), method="GET", version=Version.HTTP_1_0), None
    )
    assert not f.upgrade  # RFC 9110 §7.8: ignored in HTTP/1.0
    assert request_framing(Request("CONNECT", "a:443", [("Host", "a:443")]), None).upgrade


# -- response body length (clients) ---------------------------------------------------
@pytest.mark.parametrize(
    ("method", "status", "fields", "kind", "length"),
    [
        (Method.HEAD, 200, [("Content-Length", "10")], BodyKind.NONE, 0),
        (Method.GET, 204, [], BodyKind.NONE, 0),
        (Method.GET, 304, [("Content-Length", "10")], BodyKind.NONE, 0),
        (Method.GET, 100, [], BodyKind.NONE, 0),
        (Method.CONNECT, 200, [], BodyKind.TUNNEL, 0),
        (Method.CONNECT, 407, [("Content-Length", "1")], BodyKind.FIXED, 1),
        (Method.GET, 200, [], BodyKind.CLOSE, 0),
        (Method.GET, 200, [("Content-Length", "10")], BodyKind.FIXED, 10),
        (Method.GET, 200, [("Content-Length", "0")], BodyKind.NONE, 0),
        (Method.GET, 200, [("Transfer-Encoding", "chunked")], BodyKind.CHUNKED, 0),
        (Method.GET, 200, [("Transfer-Encoding", "chunked"), ("Content-Length", "3")], BodyKind.CHUNKED, 0),
        (Method.GET, 200, [("Transfer-Encoding", "gzip")], BodyKind.CLOSE, 0),
        (Method.GET, 200, [("Transfer-Encoding", "chunked, gzip")], BodyKind.CLOSE, 0),
    ],
)
def test_response_body_kind(
    method: Method, status: int, fields: list[tuple[str, str]], kind: BodyKind, length: int
) -> None:
    assert response_body_kind(method, Response(status, fields)) == (kind, length)


@pytest.mark.parametrize(
    "fields",
    [[("Content-Length", "-1")], [("Content-Length", "1"), ("Content-Length", "2")], [("Transfer-Encoding", "gzip, chunked")]],
)
def test_response_body_kind_errors(fields: list[tuple[str, str]]) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        response_body_kind(Method.GET, Response(200, fields))
    assert info.value.status == 502


# -- the framing cache: one decision per combination of fields, never a stale one --------
def test_the_body_limit_applies_to_a_framing_decided_before() -> None:
    assert request_framing(req(("Content-Length", "1024")), None).length == 1024  # decided, cached
    refused(req(("Content-Length", "1024")), 413, max_body=1000)  # the same fields, a lower limit
    assert request_framing(req(("Content-Length", "1024")), 2048).length == 1024


def test_cached_framings_are_shared_and_distinct_per_version_and_fields() -> None:
    a = request_framing(req(("Connection", "keep-alive")), None)
    b = request_framing(req(("Host", "b"), ("Connection", "keep-alive"), host=False), None)
    assert a is b  # Host does not bear on the decision
    old = Request("GET", "/", [("Connection", "keep-alive")], Version.HTTP_1_0)
    assert request_framing(old, None).persistent and a.persistent
    closing = request_framing(req(("Connection", "close")), None)
    assert not closing.persistent


def test_a_field_name_in_any_case_is_recognised_every_time() -> None:
    for spelling in ("content-length", "Content-Length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"):
        for _ in range(2):  # the second time from the cache of raw names
            f = request_framing(req((spelling, "3")), None)
            assert (f.body, f.length) == (BodyKind.FIXED, 3)
    refused(req(("HOST", "b")))


def test_an_error_is_not_cached_as_a_decision() -> None:
    for _ in range(2):
        refused(req(("Transfer-Encoding", "gzip")))
        refused(req(("Content-Length", "1"), ("Content-Length", "2")))
