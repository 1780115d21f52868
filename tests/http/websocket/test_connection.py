"""The sans-IO WebSocket connection: messages, fragmentation, control frames, the
closing handshake, limits, and the RFC 6455 protocol-violation table (each with its
exact close code)."""

from __future__ import annotations

import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import parse, parse_many
from wirekit.http import CLOSE, CLOSED, READ, YIELD, LocalProtocolError
from wirekit.http.websocket import (
    Closed,
    ConnectionState,
    DeflateParams,
    Message,
    WebSocketConfig,
    WebSocketConnection,
    close_payload,
    frame,
)

from tests.http.websocket.support import Peer, frame_bytes, output

KEY = b"\x01\x02\x03\x04"


def server(**config: object) -> Peer:
    return Peer(WebSocketConnection(client=False, config=WebSocketConfig(**config)))  # type: ignore[arg-type]


def client_frame(b0: int, payload: bytes = b"", length: int | None = None) -> bytes:
    return frame_bytes(b0, payload, KEY, length)


def sent_frames(conn: WebSocketConnection) -> list[tuple[int, bytes]]:
    data, _ = output(conn)
    return [(f.header.b0, f.payload) for f in parse_many(frame, [data])]


def assert_failed(peer: Peer, code: int) -> None:
    """The connection sent a close frame with ``code``, closes its output, and reports it."""
    data, closing = output(peer.conn)
    frames = [(f.header.b0, f.payload) for f in parse_many(frame, [data])]
    assert frames[-1][0] == 0x88, frames
    assert int.from_bytes(frames[-1][1][:2], "big") == code, frames
    assert closing
    assert peer.conn.next_read_operation() is CLOSE
    assert peer.closed is not None and peer.closed.code == code and not peer.closed.by_peer


# -- the violation table ----------------------------------------------------------------
TEXT = 0x81
VIOLATIONS = [
    ("unmasked client frame", frame_bytes(0x81, b"hi"), 1002),
    ("reserved opcode 3", client_frame(0x83), 1002),
    ("reserved opcode 7", client_frame(0x87), 1002),
    ("reserved opcode 11", client_frame(0x8B), 1002),
    ("reserved opcode 15", client_frame(0x8F), 1002),
    ("RSV1 without extension", client_frame(0xC1, b"x"), 1002),
    ("RSV2", client_frame(0xA1, b"x"), 1002),
    ("RSV3", client_frame(0x91, b"x"), 1002),
    ("RSV on ping", client_frame(0xC9), 1002),
    ("control frame of 126 bytes", client_frame(0x89, b"x" * 126), 1002),
    ("fragmented ping", client_frame(0x09, b"x"), 1002),
    ("fragmented close", client_frame(0x08, b"\x03\xe8"), 1002),
    ("continuation without a start", client_frame(0x80, b"x"), 1002),
    ("new message inside a fragmented one", client_frame(0x01, b"a") + client_frame(0x81, b"b"), 1002),
    ("binary inside a fragmented text", client_frame(0x01, b"a") + client_frame(0x82, b"b"), 1002),
    ("invalid UTF-8", client_frame(0x81, b"\xff"), 1007),
    ("surrogate in UTF-8", client_frame(0x81, b"\xed\xa0\x80"), 1007),
    ("overlong UTF-8", client_frame(0x81, b"\xc0\xaf"), 1007),
    ("UTF-8 invalid across fragments", client_frame(0x01, b"\xce") + client_frame(0x80, b"\x28"), 1007),
    ("UTF-8 truncated at the end", client_frame(0x01, b"ok\xe2\x82") + client_frame(0x80, b""), 1007),
    ("close reason not UTF-8", client_frame(0x88, b"\x03\xe8\xff"), 1007),
    ("1-byte close payload", client_frame(0x88, b"\x03"), 1002),
    ("close code 1005", client_frame(0x88, (1005).to_bytes(2, "big")), 1002),
    ("close code 1006", client_frame(0x88, (1006).to_bytes(2, "big")), 1002),
    ("close code 1004", client_frame(0x88, (1004).to_bytes(2, "big")), 1002),
    ("close code 999", client_frame(0x88, (999).to_bytes(2, "big")), 1002),
    ("close code 2000", client_frame(0x88, (2000).to_bytes(2, "big")), 1002),
    ("close code 5000", client_frame(0x88, (5000).to_bytes(2, "big")), 1002),
    ("64-bit length with MSB set", b"\x82\xff\x80" + bytes(7) + KEY, 1002),
]


@pytest.mark.parametrize(("name", "data", "code"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
@pytest.mark.parametrize("chunk", [None, 1])
def test_violation(name: str, data: bytes, code: int, chunk: int | None) -> None:
    peer = server()
    peer.feed(data, chunk)
    assert_failed(peer, code)


def test_masked_frame_from_server_fails_the_client() -> None:
    peer = Peer(WebSocketConnection(client=True))
    peer.feed(client_frame(0x81, b"hi"))
    assert_failed(peer, 1002)


def test_invalid_utf8_fails_fast_within_a_frame() -> None:
    # The bad byte is in the first piece of a long frame: no need to wait for the rest.
    peer = server()
    data = client_frame(0x81, b"ok\xff" + b"x" * 1000)
    peer.feed(data[:12])
    assert_failed(peer, 1007)


def test_bytes_after_a_violation_are_discarded() -> None:
    peer = server()
    data = client_frame(0x81, b"ok") + frame_bytes(0x81, b"hi") + client_frame(0x81, b"later")
    assert peer.conn.read(data) == 8  # the first frame; the rest is not wanted
    assert peer.conn.read(b"more") == 0  # closed
    assert peer.conn.next_event() == Message("ok")
    assert peer.conn.next_event() == Closed(1002, "an unmasked frame from a client", by_peer=False)
    assert peer.conn.next_event() is None


# -- limits -----------------------------------------------------------------------------
def test_frame_too_big_is_1009_before_its_payload() -> None:
    peer = server(max_message_size=100)
    peer.feed(client_frame(0x82, b"", length=101)[:8])  # just the header
    assert_failed(peer, 1009)


def test_message_too_big_across_fragments() -> None:
    peer = server(max_message_size=100)
    peer.feed(client_frame(0x02, b"x" * 60) + client_frame(0x80, b"x" * 60))
    assert_failed(peer, 1009)


def test_max_frame_size() -> None:
    peer = server(max_frame_size=10)
    peer.feed(client_frame(0x02, b"x" * 10) + client_frame(0x80, b"x" * 10))
    assert peer.messages == [b"x" * 20] and peer.closed is None  # frames of 10: fine
    peer.feed(client_frame(0x82, b"x" * 11))
    assert_failed(peer, 1009)


def test_queue_bound_gives_backpressure() -> None:
    conn = WebSocketConnection(config=WebSocketConfig(max_queue=2))
    data = b"".join(client_frame(0x81, str(i).encode()) for i in range(5))
    assert conn.read(data) == len(data)  # all taken; three frames are held
    assert conn.pending_events == 2 and conn.next_read_operation() is YIELD
    woken: list[bool] = []
    conn.yield_reader(lambda: woken.append(True))
    got = [conn.next_event()]
    assert woken == [True]
    for _ in range(10):  # the held frames are parsed as room frees up
        while (event := conn.next_event()) is not None:
            got.append(event)
        if conn.next_read_operation() is READ and not conn.pending_events:
            break
    assert got == [Message(str(i)) for i in range(5)]


def test_output_bound_gives_backpressure() -> None:
    conn = WebSocketConnection(config=WebSocketConfig(max_pending_output=100))
    pings = client_frame(0x89, b"p" * 100) * 3
    assert conn.read(pings) == len(pings)
    assert conn.next_read_operation() is YIELD  # the first pong is not written yet
    pongs = []
    while conn.next_read_operation() is not READ:
        pongs += [f.payload for f in parse_many(frame, [output(conn)[0]])]
    pongs += [f.payload for f in parse_many(frame, [output(conn)[0]])]
    assert pongs == [b"p" * 100] * 3


def test_eof_after_held_frames_ends_after_them() -> None:
    conn = WebSocketConnection(config=WebSocketConfig(max_queue=1))
    conn.read_eof(client_frame(0x81, b"a") + client_frame(0x81, b"b"))
    assert conn.next_event() == Message("a")
    assert conn.pending_events == 0
    # "b" is parsed from the held input once there is room; then the stream's end.
    assert conn.next_read_operation() is CLOSE
    assert conn.next_event() == Message("b")
    assert conn.next_event() == Closed(1006, "the connection ended without a close frame")


# -- messages, fragments, control frames ------------------------------------------------
def test_fragmented_text_with_control_frames_between() -> None:
    pings: list[bytes] = []
    pongs: list[bytes] = []
    peer = Peer(WebSocketConnection(on_ping=pings.append, on_pong=pongs.append))
    text = "κόσμε ✓".encode()
    data = (
        client_frame(0x01, text[:1])  # cut inside a character
        + client_frame(0x89, b"ping!")
        + client_frame(0x00, text[1:7])
        + client_frame(0x8A, b"pong")
        + client_frame(0x80, text[7:])
    )
    for chunk in (None, 1, 5):
        peer = Peer(WebSocketConnection(on_ping=pings.append, on_pong=pongs.append))
        peer.feed(data, chunk)
        assert peer.messages == ["κόσμε ✓"]
        assert sent_frames(peer.conn) == [(0x8A, b"ping!")]  # the pong, unmasked (server)
    assert pings == [b"ping!"] * 3 and pongs == [b"pong"] * 3


def test_empty_messages() -> None:
    peer = server()
    peer.feed(client_frame(0x81) + client_frame(0x82) + client_frame(0x01) + client_frame(0x80))
    assert peer.messages == ["", b"", ""]


def test_sending_fragments_and_auto_fragmentation() -> None:
    conn = WebSocketConnection(config=WebSocketConfig(fragment_size=4))
    conn.send_text("abcdefghij")
    conn.send_binary(b"12", final=False)
    with pytest.raises(LocalProtocolError):
        conn.send_text("no")  # a binary message is unfinished
    conn.send_binary(b"34")
    assert sent_frames(conn) == [(0x01, b"abcd"), (0x00, b"efgh"), (0x80, b"ij"), (0x02, b"12"), (0x80, b"34")]


def test_client_masks_its_frames() -> None:
    conn = WebSocketConnection(client=True)
    conn.send_text("hi")
    data, _ = output(conn)
    f = parse(frame, data)
    assert f.header.key is not None and f.payload == b"hi" and data[6:] != b"hi"


# -- closing handshake ------------------------------------------------------------------
def test_peer_initiated_close() -> None:
    peer = server()
    peer.feed(client_frame(0x88, close_payload(4000, "done")))
    assert peer.closed == Closed(4000, "done", by_peer=True)
    data, closing = output(peer.conn)
    assert data == b"\x88\x02" + (4000).to_bytes(2, "big") and closing
    assert peer.conn.is_closed and peer.conn.state is ConnectionState.CLOSED


def test_peer_close_without_code_is_1005_and_answered_empty() -> None:
    peer = server()
    peer.feed(client_frame(0x88))
    assert peer.closed == Closed(1005, "", by_peer=True)
    assert output(peer.conn) == (b"\x88\x00", True)


def test_we_close_then_peer_answers() -> None:
    peer = server()
    peer.conn.close(1001, "going away")
    assert peer.conn.state is ConnectionState.CLOSING
    data, closing = output(peer.conn)
    assert data == b"\x88\x0c\x03\xe9going away" and not closing  # waits for the answer
    with pytest.raises(LocalProtocolError):
        peer.conn.send_text("late")
    peer.conn.close()  # a second close does nothing
    peer.feed(client_frame(0x81, b"in flight") + client_frame(0x88, close_payload(1001)))
    assert peer.messages == []  # dropped after our close
    assert peer.closed == Closed(1001, "", by_peer=False)
    assert output(peer.conn) == (b"", True)


def test_eof_without_close_is_1006() -> None:
    peer = server()
    peer.feed(client_frame(0x81, b"a"), eof=True)
    assert peer.messages == ["a"] and peer.closed is not None and peer.closed.code == 1006
    assert output(peer.conn) == (b"", True)  # nothing sent: the peer is gone


def test_peer_gone_while_writing_is_1006() -> None:
    conn = WebSocketConnection()
    conn.send_text("x")
    conn.report_write_result(CLOSED)
    assert conn.next_event() == Closed(1006, "the connection was lost")
    assert conn.next_read_operation() is CLOSE


def test_close_refuses_local_codes() -> None:
    conn = WebSocketConnection()
    for code in (1005, 1006, 1015, 1004):
        with pytest.raises(ValueError):
            conn.close(code)
    assert conn.state is ConnectionState.OPEN


# -- deflate ----------------------------------------------------------------------------
def deflate_pair(params: DeflateParams, **config: object) -> tuple[Peer, Peer]:
    cfg = WebSocketConfig(**config)  # type: ignore[arg-type]
    return (
        Peer(WebSocketConnection(client=True, config=cfg, deflate=params)),
        Peer(WebSocketConnection(client=False, config=cfg, deflate=params)),
    )


def test_zip_bomb_is_1009() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(bytes(50_000_000)) + bomb.flush(zlib.Z_SYNC_FLUSH)
    assert len(payload) < 60_000
    peer = Peer(WebSocketConnection(deflate=DeflateParams(), config=WebSocketConfig(max_message_size=1 << 20)))
    peer.feed(client_frame(0xC2, payload[:-4]), chunk=8192)
    assert_failed(peer, 1009)


def test_invalid_deflate_data_is_1007() -> None:
    peer = Peer(WebSocketConnection(deflate=DeflateParams()))
    peer.feed(client_frame(0xC2, b"\xff\xff\xff\xff"))
    assert_failed(peer, 1007)


def test_rsv1_on_continuation_is_1002_even_with_deflate() -> None:
    peer = Peer(WebSocketConnection(deflate=DeflateParams()))
    peer.feed(client_frame(0x02, b"") + client_frame(0xC0, b""))
    assert_failed(peer, 1002)


def test_uncompressed_message_with_deflate_negotiated() -> None:
    peer = Peer(WebSocketConnection(deflate=DeflateParams()))
    peer.feed(client_frame(0x81, b"plain"))
    assert peer.messages == ["plain"]


@pytest.mark.parametrize("takeover", [False, True])
def test_deflate_compresses_and_context_takeover(takeover: bool) -> None:
    params = DeflateParams(server_no_context_takeover=not takeover, client_no_context_takeover=not takeover)
    c, s = deflate_pair(params)
    text = "the same words again and again " * 20
    sizes = []
    for _ in range(3):
        c.conn.send_text(text)
        data, _ = output(c.conn)
        sizes.append(len(data))
        s.feed(data, chunk=7)
    assert s.messages == [text] * 3
    assert sizes[0] < len(text) // 4
    if takeover:
        assert sizes[1] < sizes[0]  # the second refers to the first
    else:
        assert sizes[1] == sizes[0]


# -- round trips ------------------------------------------------------------------------
@st.composite
def conversations(draw: st.DrawFn) -> list[tuple[str, object]]:
    steps: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            text: str | bytes = draw(st.text(max_size=300))
        else:
            text = draw(st.binary(max_size=3000))
        steps.append(("message", (text, draw(st.integers(1, 4)))))
        if draw(st.booleans()):
            steps.append(("ping", draw(st.binary(max_size=125))))
    return steps


@settings(max_examples=150, deadline=None)
@given(conversations(), st.booleans(), st.booleans(), st.sampled_from([None, 1, 3, 64, 4096]), st.sampled_from([None, 5, 1000]))
def test_round_trip(
    steps: list[tuple[str, object]], to_server: bool, deflate: bool, chunk: int | None, fragment: int | None
) -> None:
    params = DeflateParams() if deflate else None
    cfg = WebSocketConfig(fragment_size=fragment)
    sender = WebSocketConnection(client=to_server, config=cfg, deflate=params)
    pings: list[bytes] = []
    receiver = Peer(WebSocketConnection(client=not to_server, deflate=params, on_ping=pings.append))
    expected: list[str | bytes] = []
    sent_pings = []
    for kind, value in steps:
        if kind == "ping":
            assert isinstance(value, bytes)
            sender.ping(value)
            sent_pings.append(value)
            continue
        assert isinstance(value, tuple)
        msg: str | bytes = value[0]
        parts: int = value[1]
        expected.append(msg)
        cut = [len(msg) * i // parts for i in range(parts + 1)]
        for i in range(parts):
            if isinstance(msg, str):
                sender.send_text(msg[cut[i] : cut[i + 1]], final=i == parts - 1)
            else:
                sender.send_binary(msg[cut[i] : cut[i + 1]], final=i == parts - 1)
    sender.close(1000, "end")
    data, _ = output(sender)
    receiver.feed(data, chunk)
    assert receiver.messages == expected
    assert pings == sent_pings
    assert receiver.closed == Closed(1000, "end", by_peer=True)
    # The close answer goes back and completes the sender's handshake.
    answer, closing = output(receiver.conn)
    pongs = [f.payload for f in parse_many(frame, [answer]) if f.header.opcode == 0xA]
    assert pongs == sent_pings and closing
    back = Peer(sender)
    back.feed(answer)
    assert back.closed == Closed(1000, "", by_peer=False)  # the echo carries the code only


def test_random_key_per_frame() -> None:
    conn = WebSocketConnection(client=True)
    for _ in range(4):
        conn.send_binary(os.urandom(8))
    keys = {f.header.key for f in parse_many(frame, [output(conn)[0]])}
    assert len(keys) == 4


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.booleans(), st.booleans(), st.sampled_from([None, 1, 7]))
def test_random_input_never_raises(data: bytes, client: bool, deflate: bool, chunk: int | None) -> None:
    # Whatever arrives, the connection never raises to the runtime: it delivers messages,
    # or fails with a close frame whose code may be sent, and closes.
    conn = WebSocketConnection(client=client, deflate=DeflateParams() if deflate else None, config=WebSocketConfig(max_message_size=200))
    peer = Peer(conn)
    peer.feed(data, chunk, eof=True)
    assert peer.closed is not None and conn.next_read_operation() is CLOSE
    sent, closing = output(conn)
    assert closing
    frames = list(parse_many(frame, [sent]))
    closes = [f for f in frames if f.header.opcode == 0x8]
    assert len(closes) <= 1 and (not closes or frames[-1] is closes[0])
    if closes and closes[0].payload:
        code = int.from_bytes(closes[0].payload[:2], "big")
        assert code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011) or 3000 <= code < 5000
        assert peer.closed.code == code or peer.closed.by_peer


random_frames = st.lists(
    st.tuples(
        st.sampled_from([0x00, 0x01, 0x02, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8A, 0xC1, 0x41, 0xC0, 0x83, 0x09]),
        st.binary(max_size=150) | st.text(max_size=40).map(str.encode),
        st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(random_frames, st.booleans(), st.sampled_from([None, 1, 5]))
def test_random_frames_never_raise(frames: list[tuple[int, bytes, bool]], deflate: bool, chunk: int | None) -> None:
    data = b"".join(frame_bytes(b0, payload, KEY if masked else None) for b0, payload, masked in frames)
    conn = WebSocketConnection(deflate=DeflateParams() if deflate else None, config=WebSocketConfig(max_message_size=100))
    peer = Peer(conn)
    peer.feed(data, chunk, eof=True)
    assert peer.closed is not None and conn.next_read_operation() is CLOSE
    assert all(isinstance(e, Message) for e in peer.events[:-1])
    sent, closing = output(conn)
    assert closing
    opcodes = [f.header.opcode for f in parse_many(frame, [sent])]
    assert opcodes.count(0x8) <= 1 and set(opcodes) <= {0x8, 0xA}
