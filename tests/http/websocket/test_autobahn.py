"""The Autobahn|Testsuite categories re-expressed against the sans-IO server role (the
suite itself needs Python 2): 1 framing, 2 pings/pongs, 5 fragmentation, 6 UTF-8, 7
closing, 9 limits, 12-13 permessage-deflate. Categories 3 (reserved bits) and 4
(opcodes) are in the violation table of ``test_connection.py``."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import parse_many
from wirekit.http.websocket import (
    Closed,
    DeflateParams,
    WebSocketConfig,
    WebSocketConnection,
    frame,
)

from tests.http.websocket.support import Peer, frame_bytes, output

KEY = b"\x9a\x41\x07\xe3"


def cf(b0: int, payload: bytes = b"") -> bytes:
    return frame_bytes(b0, payload, KEY)


def frames_out(conn: WebSocketConnection) -> list[tuple[int, bytes]]:
    return [(f.header.b0, f.payload) for f in parse_many(frame, [output(conn)[0]])]


def closed_with(peer: Peer, code: int) -> None:
    sent = frames_out(peer.conn)
    assert sent and sent[-1][0] == 0x88 and int.from_bytes(sent[-1][1][:2], "big") == code, sent
    assert peer.closed is not None and peer.closed.code == code


# -- 1 framing --------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 125, 126, 127, 128, 65535, 65536, 1 << 20])
@pytest.mark.parametrize("opcode", [0x1, 0x2])
def test_1_sizes(n: int, opcode: int) -> None:
    payload = b"*" * n
    for chunk in (None, 997):
        peer = Peer(WebSocketConnection())
        peer.feed(cf(0x80 | opcode, payload), chunk)
        assert peer.messages == [payload.decode() if opcode == 1 else payload]
        # The echo goes out in one frame with the shortest length encoding.
        peer.conn.send_text(payload.decode()) if opcode == 1 else peer.conn.send_binary(payload)
        assert frames_out(peer.conn) == [(0x80 | opcode, payload)]


# -- 2 pings and pongs ------------------------------------------------------------------
def test_2_pings() -> None:
    peer = Peer(WebSocketConnection())
    payloads = [b"", b"hello", os.urandom(125), bytes(range(125))]
    peer.feed(b"".join(cf(0x89, p) for p in payloads), 1)
    assert frames_out(peer.conn) == [(0x8A, p) for p in payloads]
    peer.feed(cf(0x8A, b"unsolicited"))  # an unsolicited pong is ignored
    assert frames_out(peer.conn) == [] and peer.closed is None
    peer.feed(cf(0x89, b"x" * 126))
    closed_with(peer, 1002)


def test_2_ten_pings_in_one_read() -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(b"".join(cf(0x89, b"%d" % i) for i in range(10)))
    assert frames_out(peer.conn) == [(0x8A, b"%d" % i) for i in range(10)]


# -- 5 fragmentation --------------------------------------------------------------------
def test_5_fragments_with_pings_and_pongs_between() -> None:
    data = cf(0x01, b"frag") + cf(0x89, b"p1") + cf(0x00, b"ment") + cf(0x8A, b"") + cf(0x80, b"ed")
    for chunk in (None, 1):
        peer = Peer(WebSocketConnection())
        peer.feed(data, chunk)
        assert peer.messages == ["fragmented"]
        assert frames_out(peer.conn) == [(0x8A, b"p1")]


def test_5_one_byte_fragments_and_empty_ones() -> None:
    text = "fragments, one byte each"
    data = cf(0x01, b"") + b"".join(cf(0x00, bytes([c])) for c in text.encode()) + cf(0x80, b"")
    peer = Peer(WebSocketConnection())
    peer.feed(data)
    assert peer.messages == [text]


@pytest.mark.parametrize(
    "data",
    [
        cf(0x81, b"a") + cf(0x80, b"b"),  # continuation after the final fragment
        cf(0x01, b"a") + cf(0x09, b"ping") + cf(0x80, b"b"),  # a fragmented ping
        cf(0x00, b"a") + cf(0x80, b"b"),  # starts with a continuation
    ],
)
def test_5_bad_fragmentation(data: bytes) -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(data)
    closed_with(peer, 1002)


# -- 6 UTF-8 ----------------------------------------------------------------------------
@settings(max_examples=200)
@given(st.text(), st.lists(st.integers(0, 400), max_size=6), st.sampled_from([None, 1, 3]))
def test_6_valid_text_split_anywhere(text: str, cuts: list[int], chunk: int | None) -> None:
    data = text.encode()
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    wire = b"".join(cf((0x80 if i == len(pieces) - 1 else 0) | (1 if i == 0 else 0), p) for i, p in enumerate(pieces))
    peer = Peer(WebSocketConnection())
    peer.feed(wire, chunk)
    assert peer.messages == [text]


INVALID_UTF8 = [
    b"\x80",  # a lone continuation byte
    b"\xc0\x80",  # overlong NUL
    b"\xe0\x80\xaf",  # overlong
    b"\xed\xbf\xbf",  # a surrogate
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf8\x88\x80\x80\x80",  # 5-byte form
    b"\xfe",
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",  # Autobahn 6.3.1
]


@pytest.mark.parametrize("bad", INVALID_UTF8)
@pytest.mark.parametrize("fragmented", [False, True])
def test_6_invalid_utf8(bad: bytes, fragmented: bool) -> None:
    peer = Peer(WebSocketConnection())
    if fragmented:
        data = b"".join(cf(0x01 if i == 0 else 0x00, bad[i : i + 1]) for i in range(len(bad))) + cf(0x80)
    else:
        data = cf(0x81, bad)
    peer.feed(data)
    closed_with(peer, 1007)


def test_6_text_may_not_end_inside_a_character() -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(cf(0x81, "€".encode()[:2]))
    closed_with(peer, 1007)


# -- 7 closing --------------------------------------------------------------------------
@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])
def test_7_valid_codes_are_echoed(code: int) -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(cf(0x88, code.to_bytes(2, "big") + b"reason"))
    assert peer.closed == Closed(code, "reason", by_peer=True)
    assert frames_out(peer.conn) == [(0x88, code.to_bytes(2, "big"))]


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
def test_7_invalid_codes(code: int) -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(cf(0x88, code.to_bytes(2, "big")))
    closed_with(peer, 1002)


def test_7_close_with_the_longest_reason_and_too_long() -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(cf(0x88, b"\x03\xe8" + b"r" * 123))
    assert peer.closed == Closed(1000, "r" * 123)
    peer = Peer(WebSocketConnection())
    peer.feed(cf(0x88, b"\x03\xe8" + b"r" * 124))  # a 126-byte control frame
    closed_with(peer, 1002)


def test_7_nothing_after_close() -> None:
    peer = Peer(WebSocketConnection())
    peer.feed(cf(0x88, b"\x03\xe8") + cf(0x81, b"after") + cf(0x89, b"after"))
    assert peer.messages == [] and frames_out(peer.conn) == [(0x88, b"\x03\xe8")]


# -- 9 limits ---------------------------------------------------------------------------
@pytest.mark.parametrize("frame_size", [65536, 1 << 20, 4 << 20])
def test_9_large_message_in_fragments(frame_size: int) -> None:
    data = os.urandom(4 << 20)
    wire = b"".join(
        cf((0x80 if i + frame_size >= len(data) else 0) | (2 if i == 0 else 0), data[i : i + frame_size])
        for i in range(0, len(data), frame_size)
    )
    peer = Peer(WebSocketConnection())
    peer.feed(wire, 65536)
    assert peer.messages == [data]


# -- 12-13 permessage-deflate -----------------------------------------------------------
PARAMS = [
    DeflateParams(),
    DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
    DeflateParams(server_max_window_bits=9, client_max_window_bits=9),
    DeflateParams(client_no_context_takeover=True, server_max_window_bits=12),
]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("size", [0, 16, 64, 256, 1024, 4096, 65536, 262144])
@pytest.mark.parametrize("fragment", [None, 1000])
def test_12_13_compressed_messages(params: DeflateParams, size: int, fragment: int | None) -> None:
    client = WebSocketConnection(client=True, deflate=params, config=WebSocketConfig(fragment_size=fragment))
    server = Peer(WebSocketConnection(deflate=params))
    texts = [("wirekit " * (size // 8 + 1))[:size], os.urandom(size).hex()[:size]]
    for _ in range(2):  # twice: context takeover (or not) across messages
        for t in texts:
            client.send_text(t)
    server.feed(output(client)[0], 4093)
    assert server.messages == texts * 2
    back = Peer(client)
    for t in texts:
        server.conn.send_binary(t.encode())
    back.feed(output(server.conn)[0], 4093)
    assert back.messages == [t.encode() for t in texts]
