"""Binary readers: fixed-width integers and floats in either byte order (`BE`, `LE`)."""

from __future__ import annotations

import struct
from collections.abc import Callable

from ._parser import Parser
from ._primitives import Str, Take

__all__ = ["BE", "LE", "any_int8", "any_uint8", "int8"]


def _reader(fmt: str) -> Parser[int]:
    unpack = struct.Struct(fmt).unpack

    def convert(data: bytes) -> int:
        return unpack(data)[0]  # type: ignore[no-any-return]

    convert.__name__ = f"unpack_{fmt}"
    return Take(struct.calcsize(fmt), keep=True).map(convert)


def _freader(fmt: str) -> Parser[float]:
    unpack = struct.Struct(fmt).unpack

    def convert(data: bytes) -> float:
        return unpack(data)[0]  # type: ignore[no-any-return]

    return Take(struct.calcsize(fmt), keep=True).map(convert)


def _matcher(size: int, order: str) -> Callable[[int], Parser[int]]:
    bits = size * 8

    def matcher(v: int) -> Parser[int]:
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            raise ValueError(f"{v} does not fit in {bits} bits")
        raw = (v & ((1 << bits) - 1)).to_bytes(size, order)  # type: ignore[arg-type]
        return Str(raw, ci=False).result(v)

    matcher.__name__ = f"int{bits}"
    matcher.__doc__ = (
        f"Match the {bits}-bit integer ``v`` ({order}-endian, signed or unsigned range);"
        " returns ``v``. Fails on any other bytes."
    )
    return matcher


any_uint8: Parser[int] = _reader("B")
"""One byte as an unsigned integer (0..255)."""

any_int8: Parser[int] = _reader("b")
"""One byte as a signed integer (-128..127)."""

int8: Callable[[int], Parser[int]] = _matcher(1, "big")
"""Match one byte equal to ``v`` (-128..255); returns ``v``."""


class BE:
    """Big-endian (network order) readers. Each reads a fixed number of bytes and fails
    at the end of input if fewer remain."""

    any_uint8: Parser[int] = any_uint8
    """One byte, unsigned (the same in both orders; here for symmetry)."""
    any_int8: Parser[int] = any_int8
    """One byte, signed."""
    any_int16: Parser[int] = _reader(">h")
    """A signed 16-bit integer."""
    any_uint16: Parser[int] = _reader(">H")
    """An unsigned 16-bit integer."""
    any_int32: Parser[int] = _reader(">i")
    """A signed 32-bit integer."""
    any_uint32: Parser[int] = _reader(">I")
    """An unsigned 32-bit integer."""
    any_int64: Parser[int] = _reader(">q")
    """A signed 64-bit integer."""
    any_uint64: Parser[int] = _reader(">Q")
    """An unsigned 64-bit integer."""
    any_float: Parser[float] = _freader(">f")
    """An IEEE 754 single-precision (32-bit) float."""
    any_double: Parser[float] = _freader(">d")
    """An IEEE 754 double-precision (64-bit) float."""
    int16 = staticmethod(_matcher(2, "big"))
    int32 = staticmethod(_matcher(4, "big"))
    int64 = staticmethod(_matcher(8, "big"))


class LE:
    """Little-endian readers; the same set as `BE`."""

    any_uint8: Parser[int] = any_uint8
    """One byte, unsigned (the same in both orders; here for symmetry)."""
    any_int8: Parser[int] = any_int8
    """One byte, signed."""
    any_int16: Parser[int] = _reader("<h")
    """A signed 16-bit integer."""
    any_uint16: Parser[int] = _reader("<H")
    """An unsigned 16-bit integer."""
    any_int32: Parser[int] = _reader("<i")
    """A signed 32-bit integer."""
    any_uint32: Parser[int] = _reader("<I")
    """An unsigned 32-bit integer."""
    any_int64: Parser[int] = _reader("<q")
    """A signed 64-bit integer."""
    any_uint64: Parser[int] = _reader("<Q")
    """An unsigned 64-bit integer."""
    any_float: Parser[float] = _freader("<f")
    """An IEEE 754 single-precision (32-bit) float."""
    any_double: Parser[float] = _freader("<d")
    """An IEEE 754 double-precision (64-bit) float."""
    int16 = staticmethod(_matcher(2, "little"))
    int32 = staticmethod(_matcher(4, "little"))
    int64 = staticmethod(_matcher(8, "little"))
