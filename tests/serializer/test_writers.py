"""Fixed-width writers (``_writers.py``) checked against ``struct`` and ``int.to_bytes``."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
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
    ]
    for _ in range(3):
        for method, value, encoded in calls:
            method(value)
            expected += encoded
        s.write_double_le(0.5)
        expected += struct.pack("<d", 0.5)
    assert serialize_to_bytes(s) == bytes(expected)
