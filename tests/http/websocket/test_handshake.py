"""The opening handshake helpers (RFC 6455 §4) and permessage-deflate negotiation
(RFC 7692 §5-7)."""

from __future__ import annotations

import pytest
from wirekit.http import Request, Response
from wirekit.http.websocket import (
    DeflateParams,
    HandshakeError,
    accept_headers,
    accept_key,
    check_request,
    check_response,
    client_request,
    negotiate_deflate,
    parse_extensions,
    server_deflate,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
GOOD = [
    (b"Host", b"server.example.com"),
    (b"Upgrade", b"websocket"),
    (b"Connection", b"Upgrade"),
    (b"Sec-WebSocket-Key", KEY),
    (b"Sec-WebSocket-Version", b"13"),
]


def request(headers: list[tuple[bytes, bytes]], method: str = "GET") -> Request:
    return Request(method, "/chat", headers)


def replace(name: bytes, value: bytes | None) -> list[tuple[bytes, bytes]]:
    out = [(n, v) for n, v in GOOD if n.lower() != name.lower()]
    return out if value is None else [*out, (name, value)]


def test_accept_key_rfc_example() -> None:
    assert accept_key(KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_valid_request_tokens_case_insensitive_in_lists() -> None:
    headers = [(n, v) for n, v in replace(b"Connection", b"keep-alive, UPGRADE") if n != b"Upgrade"]
    hello = check_request(request([*headers, (b"Upgrade", b"h2c, WebSocket")]))
    assert hello.key == KEY


@pytest.mark.parametrize(
    ("headers", "method", "status"),
    [
        (GOOD, "POST", 400),
        (replace(b"Host", None), "GET", 400),
        (replace(b"Upgrade", None), "GET", 400),
        (replace(b"Upgrade", b"h2c"), "GET", 400),
        (replace(b"Connection", b"keep-alive"), "GET", 400),
        (replace(b"Sec-WebSocket-Key", None), "GET", 400),
        (replace(b"Sec-WebSocket-Key", b"c2hvcnQ="), "GET", 400),  # 5 bytes
        (replace(b"Sec-WebSocket-Key", b"not base64!!!!!!!!!!!!=="), "GET", 400),
        (replace(b"Sec-WebSocket-Version", None), "GET", 400),
        (replace(b"Sec-WebSocket-Version", b"8"), "GET", 426),
        ([*GOOD, (b"Sec-WebSocket-Key", KEY)], "GET", 400),
    ],
)
def test_invalid_requests(headers: list[tuple[bytes, bytes]], method: str, status: int) -> None:
    with pytest.raises(HandshakeError) as info:
        check_request(request(headers, method))
    assert info.value.status == status
    if status == 426:
        assert (b"sec-websocket-version", b"13") in info.value.headers


def test_http_1_0_is_refused() -> None:
    from wirekit.http import Version

    with pytest.raises(HandshakeError):
        check_request(Request("GET", "/", GOOD, Version.HTTP_1_0))


def test_subprotocols() -> None:
    hello = check_request(request([*GOOD, (b"Sec-WebSocket-Protocol", b"chat, superchat"), (b"sec-websocket-protocol", b"v2")]))
    assert hello.subprotocols == ["chat", "superchat", "v2"]
    headers = accept_headers(hello, "superchat")
    assert (b"sec-websocket-protocol", b"superchat") in headers
    assert (b"sec-websocket-accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") in headers
    with pytest.raises(ValueError):
        accept_headers(hello, "other")


def test_client_round_trip() -> None:
    req, key = client_request("example.com:8000", "/ws?x=1", ["a", "b"])
    hello = check_request(req)
    assert hello.subprotocols == ["a", "b"]
    params = server_deflate(hello)
    assert params == DeflateParams()
    response = Response(101, accept_headers(hello, "b", params))
    assert check_response(response, key, ["a", "b"]) == ("b", DeflateParams())


@pytest.mark.parametrize(
    "headers",
    [
        [(b"upgrade", b"websocket"), (b"connection", b"upgrade"), (b"sec-websocket-accept", b"wrong")],
        [(b"connection", b"upgrade"), (b"sec-websocket-accept", accept_key(KEY))],
        [(b"upgrade", b"websocket"), (b"connection", b"upgrade"), (b"sec-websocket-accept", accept_key(KEY)), (b"sec-websocket-protocol", b"zzz")],
        [(b"upgrade", b"websocket"), (b"connection", b"upgrade"), (b"sec-websocket-accept", accept_key(KEY)), (b"sec-websocket-extensions", b"x-unknown")],
    ],
)
def test_client_rejects_bad_responses(headers: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(HandshakeError):
        check_response(Response(101, headers), KEY, ["a"])


def test_client_rejects_non_101() -> None:
    with pytest.raises(HandshakeError) as info:
        check_response(Response(403), KEY)
    assert info.value.status == 403


@pytest.mark.parametrize(
    ("offer", "params"),
    [
        (b"permessage-deflate", DeflateParams()),
        (b"permessage-deflate; client_max_window_bits", DeflateParams()),
        (b"permessage-deflate; client_max_window_bits=10", DeflateParams(client_max_window_bits=10)),
        (b"permessage-deflate; server_max_window_bits=12", DeflateParams(server_max_window_bits=12)),
        (b"permessage-deflate; server_no_context_takeover; client_no_context_takeover", DeflateParams(True, True)),
        (b'permessage-deflate; server_max_window_bits="10"', DeflateParams(server_max_window_bits=10)),
        # Invalid offers are declined; a later valid one is taken.
        (b"permessage-deflate; server_max_window_bits=8", None),
        (b"permessage-deflate; server_max_window_bits=8, permessage-deflate", DeflateParams()),
        (b"permessage-deflate; server_max_window_bits", None),
        (b"permessage-deflate; client_max_window_bits=16", None),
        (b"permessage-deflate; foo=1", None),
        (b"permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
        (b"x-webkit-deflate-frame", None),
    ],
)
def test_deflate_negotiation(offer: bytes, params: DeflateParams | None) -> None:
    assert negotiate_deflate(parse_extensions([offer])) == params


def test_deflate_response_header_round_trips() -> None:
    p = DeflateParams(True, True, 10, 11)
    assert parse_extensions([p.header()]) == [
        ("permessage-deflate", [("server_no_context_takeover", None), ("client_no_context_takeover", None), ("server_max_window_bits", "10"), ("client_max_window_bits", "11")])
    ]


def test_extension_grammar_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_extensions([b"permessage-deflate;;"])
