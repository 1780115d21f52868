"""The frame grammar (at every split point and byte at a time), masking, close payloads
and the frame writer."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import Consume, explain, parse, parse_many
from wirekit.http.websocket import (
    Frame,
    FrameHeader,
    close_payload,
    frame,
    frame_header,
    mask,
    parse_close,
    valid_close_code,
    write_frame,
)
from wirekit.serializer import Serializer, serialize_to_bytes

from tests.combinators.helpers import Err, check

KEY = b"\x37\xfa\x21\x3d"


def written(b0: int, payload: bytes, key: bytes | None = None) -> bytes:
    out = Serializer()
    write_frame(out, b0, payload, key)
    return serialize_to_bytes(out)


def test_header_is_one_fused_pattern() -> None:
    # The header is a regular language: the engine runs it as one regular expression.
    assert str(explain(frame_header)).startswith("the whole parser is one fused pattern")


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (b"\x81\x05", FrameHeader(0x81, 5, None)),
        (b"\x01\x00", FrameHeader(0x01, 0, None)),
        (b"\x82\x7d", FrameHeader(0x82, 125, None)),
        (b"\x82\x7e\x00\x7e", FrameHeader(0x82, 126, None)),
        (b"\x82\x7e\xff\xff", FrameHeader(0x82, 65535, None)),
        (b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", FrameHeader(0x82, 65536, None)),
        (b"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", FrameHeader(0x82, 2**63 - 1, None)),
        (b"\x89\x80" + KEY, FrameHeader(0x89, 0, KEY)),
        (b"\x81\xfd" + KEY, FrameHeader(0x81, 125, KEY)),
        (b"\x80\xfe\x01\x00" + KEY, FrameHeader(0x80, 256, KEY)),
        (b"\xf2\xff\x00\x00\x00\x01\x00\x00\x00\x00" + KEY, FrameHeader(0xF2, 2**32, KEY)),
    ],
)
def test_header_every_split(data: bytes, header: FrameHeader) -> None:
    check(frame_header, data, header)


def test_header_rejects_64_bit_length_with_msb_set() -> None:
    # The error stands at the length's first byte, labelled.
    marks = ["frame header", "64-bit payload length"]
    check(frame_header, b"\x82\x7f\x80" + bytes(7), expect_error=Err(2, marks=marks))
    check(frame_header, b"\x82\xff\xff" + bytes(7) + KEY, expect_error=Err(2, marks=marks))


def test_header_fields() -> None:
    h = parse(frame_header, b"\x71\x00")
    assert (h.fin, h.rsv, h.opcode) == (False, 0b111, 1)


@pytest.mark.parametrize("n", [0, 1, 5, 125, 126, 300])
@pytest.mark.parametrize("key", [None, KEY])
def test_whole_frame_every_split(n: int, key: bytes | None) -> None:
    payload = bytes(range(256)) * 2
    payload = payload[:n]
    data = written(0x82, payload, key)
    check(frame, data, Frame(parse(frame_header, data, Consume.PREFIX), payload), exhaustive=n < 130)


def test_frames_in_a_stream_any_chunking() -> None:
    frames = [written(0x01, b"abc", KEY), written(0x89, b"", KEY), written(0x80, b"d" * 200, KEY)]
    wire = b"".join(frames)
    for size in (1, 2, 7, 100, len(wire)):
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        got = list(parse_many(frame, chunks))
        assert [f.payload for f in got] == [b"abc", b"", b"d" * 200]
        assert [f.header.b0 for f in got] == [0x01, 0x89, 0x80]


@pytest.mark.parametrize(("n", "prefix"), [(0, b"\x82\x00"), (125, b"\x82\x7d"), (126, b"\x82\x7e\x00\x7e"), (65535, b"\x82\x7e\xff\xff"), (65536, b"\x82\x7f" + (65536).to_bytes(8, "big"))])
def test_writer_uses_the_shortest_length(n: int, prefix: bytes) -> None:
    data = written(0x82, b"x" * n)
    assert data.startswith(prefix) and len(data) == len(prefix) + n


def test_writer_masks() -> None:
    data = written(0x81, b"Hello", b"\x37\xfa\x21\x3d")
    assert data == bytes.fromhex("818537fa213d7f9f4d5158")  # RFC 6455 §5.7's example


@given(st.binary(max_size=3000), st.binary(min_size=4, max_size=4), st.integers(0, 7))
def test_mask_is_xor_with_the_key_stream(data: bytes, key: bytes, offset: int) -> None:
    expected = bytes(b ^ key[(i + offset) % 4] for i, b in enumerate(data))
    assert mask(data, key, offset) == expected
    assert mask(mask(data, key, offset), key, offset) == data


def test_mask_large_in_pieces() -> None:
    data = os.urandom(200_003)
    whole = mask(data, KEY)
    assert mask(whole, KEY) == data
    assert mask(memoryview(data)[70_001:], KEY, 70_001) == whole[70_001:]


@settings(max_examples=200)
@given(st.integers(0, 15), st.booleans(), st.binary(max_size=70_000), st.booleans())
def test_write_then_parse(opcode: int, fin: bool, payload: bytes, masked: bool) -> None:
    b0 = (0x80 if fin else 0) | opcode
    key = os.urandom(4) if masked else None
    f = parse(frame, written(b0, payload, key))
    assert f.header.b0 == b0 and f.header.key == key and f.payload == payload


def test_close_codes() -> None:
    ok = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]
    bad = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]
    assert all(valid_close_code(c) for c in ok)
    assert not any(valid_close_code(c) for c in bad)


def test_close_payloads() -> None:
    assert parse_close(b"") == (1005, "")
    assert parse_close(close_payload(1000, "bye ✓")) == (1000, "bye ✓")
    assert close_payload(None) == b""
    with pytest.raises(ValueError):
        parse_close(b"\x03")
    with pytest.raises(ValueError):
        parse_close((1005).to_bytes(2, "big"))
    with pytest.raises(UnicodeDecodeError):
        parse_close(b"\x03\xe8\xc3")
    for code in (1005, 1006, 1004, 1015, 2000):
        with pytest.raises(ValueError):
            close_payload(code)
    with pytest.raises(ValueError):
        close_payload(1000, "x" * 124)
    with pytest.raises(ValueError):
        close_payload(None, "reason without code")
