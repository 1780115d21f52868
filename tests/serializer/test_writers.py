"""Fixed-width and varint writers (``_writers.py``) checked against ``struct``,
``int.to_bytes`` and a reference varint encoder, and read back with the parser side's
``wirekit.combinators`` readers."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wirekit.combinators import BE, LE, Parser, any_int8, many, parse, varint
from wirekit.serializer import Serializer, SerializerClosedError, serialize_to_bytes

UINT_WRITERS: list[tuple[str, int, str]] = [
    # (method, width in bytes, byte order)
    ("write_uint8", 1, "big"),
    ("write_uint16_be", 2, "big"),
    ("write_uint16_le", 2, "little"),
    ("write_uint32_be", 4, "big"),
    ("write_uint32_le", 4, "little"),
    ("write_uint48_be", 6, "big"),
    ("write_uint48_le", 6, "little"),
    ("write_uint64_be", 8, "big"),
    ("write_uint64_le", 8, "little"),
]

INT_WRITERS: list[tuple[str, str, Parser[int]]] = [
    # (method, struct format, the parser side's reader)
    ("write_int8", "b", any_int8),
    ("write_int16_be", ">h", BE.any_int16),
    ("write_int16_le", "<h", LE.any_int16),
    ("write_int32_be", ">i", BE.any_int32),
    ("write_int32_le", "<i", LE.any_int32),
    ("write_int64_be", ">q", BE.any_int64),
    ("write_int64_le", "<q", LE.any_int64),
]

FLOAT_WRITERS: list[tuple[str, str]] = [
    ("write_float_be", ">f"),
    ("write_float_le", "<f"),
    ("write_double_be", ">d"),
    ("write_double_le", "<d"),
]


def written(method: str, value: object, buffer_size: int = 4096) -> bytes:
    s = Serializer(buffer_size)
    getattr(s, method)(value)
    return serialize_to_bytes(s)


@pytest.mark.parametrize(("method", "width", "order"), UINT_WRITERS)
def test_uint_boundaries(method: str, width: int, order: str) -> None:
    top = (1 << (8 * width)) - 1
    for value in (0, 1, 0x7F, top // 2, top - 1, top):
        assert written(method, value) == value.to_bytes(width, order)  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "width", "order"), UINT_WRITERS)
def test_uint_out_of_range_raises_and_writes_nothing(method: str, width: int, order: str) -> None:
    s = Serializer()
    s.write_bytes(b"<")
    for bad in (-1, 1 << (8 * width), -(1 << 70), 1 << 70):
        with pytest.raises(ValueError):
            getattr(s, method)(bad)
    s.write_bytes(b">")
    assert serialize_to_bytes(s) == b"<>"


@pytest.mark.parametrize(("method", "width", "order"), UINT_WRITERS)
def test_uint_rejects_non_integers(method: str, width: int, order: str) -> None:
    s = Serializer()
    for bad in (1.5, "1", b"\x01", None):
        with pytest.raises(TypeError):
            getattr(s, method)(bad)
    assert not s.has_pending_output


@pytest.mark.parametrize(("method", "width", "order"), UINT_WRITERS)
@given(data=st.data())
def test_uint_matches_to_bytes(method: str, width: int, order: str, data: st.DataObject) -> None:
    value = data.draw(st.integers(0, (1 << (8 * width)) - 1))
    assert written(method, value) == value.to_bytes(width, order)  # type: ignore[arg-type]


def test_uint48_byte_order() -> None:
    # Faraday's uint48 writers are broken (faraday#79); these are not.
    assert written("write_uint48_be", 0x010203040506) == bytes([1, 2, 3, 4, 5, 6])
    assert written("write_uint48_le", 0x010203040506) == bytes([6, 5, 4, 3, 2, 1])


def test_endian_uint16() -> None:
    # Faraday's "endian" test.
    assert written("write_uint16_le", 5) == b"\x05\x00"
    assert written("write_uint16_be", 5) == b"\x00\x05"


def _int_range(fmt: str) -> tuple[int, int]:
    half = 1 << (8 * struct.calcsize(fmt) - 1)
    return -half, half - 1


@pytest.mark.parametrize(("method", "fmt", "reader"), INT_WRITERS)
def test_int_boundaries(method: str, fmt: str, reader: Parser[int]) -> None:
    lo, hi = _int_range(fmt)
    order = "little" if fmt[0] == "<" else "big"
    for value in (lo, lo + 1, -1, 0, 1, 0x7F, hi - 1, hi):
        raw = written(method, value)
        assert raw == struct.pack(fmt, value)
        assert raw == value.to_bytes(struct.calcsize(fmt), order, signed=True)  # type: ignore[arg-type]
        assert parse(reader, raw) == value


@pytest.mark.parametrize(("method", "fmt", "reader"), INT_WRITERS)
def test_int_out_of_range_raises_and_writes_nothing(
    method: str, fmt: str, reader: Parser[int]
) -> None:
    lo, hi = _int_range(fmt)
    s = Serializer()
    s.write_bytes(b"<")
    for bad in (lo - 1, hi + 1, -(1 << 70), 1 << 70):
        with pytest.raises(ValueError, match=rf"{method}: {bad} is out of range {lo}\.\.{hi}"):
            getattr(s, method)(bad)
    s.write_bytes(b">")
    assert serialize_to_bytes(s) == b"<>"


@pytest.mark.parametrize(("method", "fmt", "reader"), INT_WRITERS)
def test_int_rejects_non_integers(method: str, fmt: str, reader: Parser[int]) -> None:
    s = Serializer()
    for bad in (1.5, -1.0, "1", b"\x01", None):
        with pytest.raises(TypeError):
            getattr(s, method)(bad)
    assert not s.has_pending_output


@pytest.mark.parametrize(("method", "fmt", "reader"), INT_WRITERS)
@given(data=st.data())
def test_int_round_trips_with_the_parser(
    method: str, fmt: str, reader: Parser[int], data: st.DataObject
) -> None:
    lo, hi = _int_range(fmt)
    value = data.draw(st.integers(lo, hi))
    raw = written(method, value)
    assert raw == struct.pack(fmt, value)
    assert parse(reader, raw) == value


def reference_varint(n: int) -> bytes:
    """LEB128 by way of the binary digits: 7-digit groups, least significant first."""
    digits = format(n, "b")
    digits = digits.zfill(-(-len(digits) // 7) * 7)
    groups = [int(digits[i : i + 7], 2) for i in range(0, len(digits), 7)][::-1]
    return bytes([0x80 | g for g in groups[:-1]] + groups[-1:])


def test_varint_known_encodings() -> None:
    # From the protobuf encoding guide and MQTT 3.1.1's remaining-length table.
    assert written("write_varint", 0) == b"\x00"
    assert written("write_varint", 1) == b"\x01"
    assert written("write_varint", 150) == b"\x96\x01"
    assert written("write_varint", 300) == b"\xac\x02"
    assert written("write_varint", 16383) == b"\xff\x7f"
    assert written("write_varint", 16384) == b"\x80\x80\x01"
    assert written("write_varint", 2_097_151) == b"\xff\xff\x7f"
    assert written("write_varint", 268_435_455) == b"\xff\xff\xff\x7f"
    assert written("write_varint", 2**64 - 1) == b"\xff" * 9 + b"\x01"


def test_varint_lengths_at_every_group_boundary() -> None:
    for groups in range(1, 13):
        top = (1 << (7 * groups)) - 1  # the largest value of this many bytes
        for value in (top, top + 1):
            raw = written("write_varint", value)
            assert raw == reference_varint(value)
            assert len(raw) == groups + (value > top)
            assert all(b & 0x80 for b in raw[:-1]) and not raw[-1] & 0x80


def test_varint_refuses_negative_values_and_non_integers() -> None:
    s = Serializer()
    s.write_bytes(b"<")
    for bad in (-1, -128, -(1 << 70)):
        with pytest.raises(ValueError, match="negative"):
            s.write_varint(bad)
    for wrong in (1.5, 1.0, 300.0, "1", b"\x01", None):
        with pytest.raises(TypeError):
            s.write_varint(wrong)  # type: ignore[arg-type]
    s.write_bytes(b">")
    assert serialize_to_bytes(s) == b"<>"


@given(st.integers(0, 2**64 - 1))
def test_varint_round_trips_with_the_parser(n: int) -> None:
    raw = written("write_varint", n)
    assert raw == reference_varint(n)
    assert parse(varint, raw) == n


@given(st.integers(0, 2**300))
def test_varint_matches_the_reference_at_any_size(n: int) -> None:
    assert written("write_varint", n) == reference_varint(n)


@given(st.lists(st.integers(0, 2**64 - 1), max_size=20), st.sampled_from([1, 3, 16, 4096]))
def test_varints_in_a_stream(values: list[int], buffer_size: int) -> None:
    s = Serializer(buffer_size)
    for v in values:
        s.write_varint(v)
    raw = serialize_to_bytes(s)
    assert raw == b"".join(reference_varint(v) for v in values)
    assert parse(many(varint), raw) == values


@pytest.mark.parametrize(("method", "fmt"), FLOAT_WRITERS)
def test_floats_match_struct(method: str, fmt: str) -> None:
    values = [0.0, -0.0, 1.0, -2.5, 1e-45, 3.4028234663852886e38, math.inf, -math.inf, 7]
    if "double" in method:
        values += [1e300, 5e-324, math.pi]
    for value in values:
        assert written(method, value) == struct.pack(fmt, value)
    nan = written(method, math.nan)
    assert math.isnan(struct.unpack(fmt, nan)[0])


@pytest.mark.parametrize("method", ["write_float_be", "write_float_le"])
def test_float32_overflow_is_value_error(method: str) -> None:
    s = Serializer()
    with pytest.raises(ValueError):
        getattr(s, method)(1e300)
    assert not s.has_pending_output


@pytest.mark.parametrize(("method", "fmt"), FLOAT_WRITERS)
def test_float_rejects_non_numbers(method: str, fmt: str) -> None:
    with pytest.raises(TypeError):
        getattr(Serializer(), method)("1.0")


@pytest.mark.parametrize(("method", "fmt"), FLOAT_WRITERS)
@given(value=st.floats(allow_nan=False, width=32))
def test_floats_property(method: str, fmt: str, value: float) -> None:
    assert written(method, value) == struct.pack(fmt, value)


def test_write_char() -> None:
    assert written("write_char", b"A") == b"A"
    assert written("write_char", bytearray(b"\xff")) == b"\xff"
    s = Serializer()
    with pytest.raises(ValueError):
        s.write_char(b"AB")
    with pytest.raises(ValueError):
        s.write_char(b"")
    with pytest.raises(TypeError):
        s.write_char(65)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.write_char("A")  # type: ignore[arg-type]


ALL_WRITERS: list[tuple[str, object]] = [
    ("write_char", b"x"),
    ("write_bytes", b"x"),
    ("writelines", [b"x"]),
    ("schedule", b"x"),
    ("reserve", 1),
    *[(name, 1) for name, _, _ in UINT_WRITERS],
    *[(name, -1) for name, _, _ in INT_WRITERS],
    ("write_varint", 1),
    ("write_varint", 300),
    ("write_varint", 2**40),
    *[(name, 1.0) for name, _ in FLOAT_WRITERS],
]


@pytest.mark.parametrize(("method", "value"), ALL_WRITERS)
def test_writing_after_close_raises(method: str, value: object) -> None:
    s = Serializer()
    s.close()
    with pytest.raises(SerializerClosedError, match="closed"):
        getattr(s, method)(value)
    assert isinstance(SerializerClosedError(), RuntimeError)


@pytest.mark.parametrize(("method", "value"), ALL_WRITERS)
def test_empty_or_bad_writes_after_close_still_raise_closed(method: str, value: object) -> None:
    s = Serializer()
    s.close()
    with pytest.raises(SerializerClosedError):
        getattr(s, method)(b"" if method == "write_bytes" else value)


@pytest.mark.parametrize("buffer_size", [1, 2, 3, 5, 7, 8, 9])
def test_values_straddling_buffer_ends(buffer_size: int) -> None:
    # Every writer works whatever room is left in the buffer, including a
    # buffer smaller than the value.
    s = Serializer(buffer_size)
    expected = bytearray()
    calls: list[tuple[Callable[[int], None], int, bytes]] = [
        (s.write_uint8, 200, bytes([200])),
        (s.write_uint16_be, 0x1234, b"\x12\x34"),
        (s.write_uint32_le, 0xDEADBEEF, (0xDEADBEEF).to_bytes(4, "little")),
        (s.write_uint48_be, 0xA1A2A3A4A5A6, (0xA1A2A3A4A5A6).to_bytes(6, "big")),
        (s.write_uint64_be, 2**64 - 2, (2**64 - 2).to_bytes(8, "big")),
        (s.write_int16_le, -2, b"\xfe\xff"),
        (s.write_int64_be, -(2**40), (-(2**40)).to_bytes(8, "big", signed=True)),
        (s.write_varint, 300, b"\xac\x02"),
        (s.write_varint, 2**63, b"\x80" * 9 + b"\x01"),
    ]
    for _ in range(3):
        for method, value, encoded in calls:
            method(value)
            expected += encoded
        s.write_double_le(0.5)
        expected += struct.pack("<d", 0.5)
    assert serialize_to_bytes(s) == bytes(expected)
