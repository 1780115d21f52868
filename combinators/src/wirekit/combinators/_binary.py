"""Binary readers: fixed-width integers and floats in either byte order (`BE`, `LE`),
and unsigned base-128 varints (`varint`)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ._combinators import Consumed
from ._compiled import python_class
from ._machine import Machine, Suspend
from ._parser import Parser, quiet
from ._primitives import Satisfy, Str, Take
from ._repeat import Many
from ._unary import _Map

__all__ = ["BE", "LE", "any_int8", "any_uint8", "int8", "varint"]


class _Unpack(_Map):
    """A fixed-width number: ``take(n).map(convert)`` as the compiler sees it (so it fuses
    into larger regular grammars), read with one `struct` call where it runs alone."""

    __slots__ = ("size", "unpack_from")
    leaf = True
    clean = True

    def __init__(self, fmt: str, convert: Callable[[bytes], Any]) -> None:
        st = struct.Struct(fmt)
        super().__init__(Take(st.size, keep=True), quiet(convert))
        self.size = st.size
        self.unpack_from = st.unpack_from
        self.inl = True  # it reads its bytes itself

    def link(self) -> None:
        pass  # its form is its own

    def enter(self, m: Machine) -> None:
        pos = m.pos
        end = pos + self.size
        if end <= m.lim:
            m.value = self.unpack_from(m.buf, pos)[0]
            m.pos = end
            m.ok = True
            return None
        if not m.complete:
            raise Suspend(self)
        m.fail(pos, self.p)
        return None


def _reader(fmt: str) -> Parser[int]:
    unpack = struct.Struct(fmt).unpack

    def convert(data: bytes) -> int:
        return unpack(data)[0]  # type: ignore[no-any-return]

    convert.__name__ = f"unpack_{fmt}"
    return _Unpack(fmt, convert)


def _freader(fmt: str) -> Parser[float]:
    unpack = struct.Struct(fmt).unpack

    def convert(data: bytes) -> float:
        return unpack(data)[0]  # type: ignore[no-any-return]

    return _Unpack(fmt, convert)


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


@python_class  # a namespace (see _compiled)
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


@python_class  # a namespace (see _compiled)
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


# -- varint ---------------------------------------------------------------------------
# A varint is regular: at most 9 bytes with the high bit set, then one without it; a
# 10th byte may only be 0x00 or 0x01, as 9 * 7 + 1 = 64 bits. Written as a grammar of
# byte classes it compiles to one pattern (see `_compile`), so the bytes are matched in
# C, suspension at a chunk end comes for free, and `_decode` sees only a whole match.

_VARINT_MAX = 10  # bytes in the longest varint of a 64-bit value


def _table(members: range) -> bytes:
    return bytes(1 if b in members else 0 for b in range(256))


_more = Satisfy(_table(range(0x80, 0x100)), "a varint continuation byte [\\x80-\\xff]", keep=False)
_last = Satisfy(_table(range(0x80)), "a varint's final byte [\\x00-\\x7f]", keep=False)
# The 10th byte: anything else is a varint longer than 10 bytes or above 2**64-1.
_last10 = Satisfy(
    _table(range(2)),
    "a varint's 10th and final byte, \\x00 or \\x01 (a varint is at most 10 bytes, 64 bits)",
    keep=False,
)


def _decode(data: bytes) -> int:
    # The bytes of one matched varint (at most 10), least significant group first.
    if len(data) == 1:
        return data[0]  # the common case: a small length or tag
    value = 0
    for b in reversed(data):  # most significant group first: one shift per byte
        value = (value << 7) | (b & 0x7F)
    return value


def _varint() -> Parser[int]:
    # 1 to 9 bytes, or exactly 10 with the 64-bit limit on the last one.
    short = Many(_more, 0, _VARINT_MAX - 2, keep=False) >> _last
    full = Many(_more, _VARINT_MAX - 1, _VARINT_MAX - 1, keep=False) >> _last10
    return Consumed(short | full).map(quiet(_decode)).desc("varint")


varint: Parser[int] = _varint()
"""An unsigned base-128 varint (LEB128), as protobuf and MQTT's remaining length use.

Seven bits per byte, least significant group first; every byte but the last has its
high bit set. Returns the value, 0..2**64-1. Non-minimal encodings (``b"\\x80\\x00"``
for 0) are accepted, as protobuf does.

Fails, with a `ParseError` inside the label ``varint``, on input that ends inside the
varint, on a varint longer than 10 bytes, and on a 10-byte varint above 2**64-1 (its
10th byte must be 0x00 or 0x01). At the end of a chunk it waits for more input before
deciding. It compiles to one regular expression; `wirekit.serializer`'s
``Serializer.write_varint`` writes the same encoding.
"""
