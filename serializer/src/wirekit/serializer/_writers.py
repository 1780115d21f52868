"""Writers for single bytes, fixed-width numbers and varints (a mixin of ``Serializer``).

Each fixed-width writer packs its value with a precompiled ``struct.Struct.pack``
and appends the result to the serializer's write-combining stage, one C call.
Whatever makes that fail (a closed serializer, a bad value) sends the call to
a slow path that checks everything in turn and raises the right exception,
so a failed write never leaves anything behind. ``write_varint`` does the same
for the one- and two-byte encodings, the common case for lengths and tags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from . import _packing
from ._operations import BytesLike, SerializerClosedError

if TYPE_CHECKING:
    import io
    import struct

__all__ = ["CLOSED_MESSAGE", "FixedWidthWriters"]

CLOSED_MESSAGE: Final = "cannot write to a closed serializer"

_PACK_ERRORS: Final = _packing.PACK_ERRORS
_U8: Final = _packing.U8.pack
_U16_BE: Final = _packing.U16_BE.pack
_U16_LE: Final = _packing.U16_LE.pack
_U32_BE: Final = _packing.U32_BE.pack
_U32_LE: Final = _packing.U32_LE.pack
_U64_BE: Final = _packing.U64_BE.pack
_U64_LE: Final = _packing.U64_LE.pack
_I8: Final = _packing.I8.pack
_I16_BE: Final = _packing.I16_BE.pack
_I16_LE: Final = _packing.I16_LE.pack
_I32_BE: Final = _packing.I32_BE.pack
_I32_LE: Final = _packing.I32_LE.pack
_I64_BE: Final = _packing.I64_BE.pack
_I64_LE: Final = _packing.I64_LE.pack
_F32_BE: Final = _packing.F32_BE.pack
_F32_LE: Final = _packing.F32_LE.pack
_F64_BE: Final = _packing.F64_BE.pack
_F64_LE: Final = _packing.F64_LE.pack
# The one-byte varints (0..127) as ready-made bytes objects.
_VARINT1: Final = tuple(bytes([i]) for i in range(0x80))


class FixedWidthWriters:
    """``write_char``, the big/little-endian number writers and ``write_varint``.

    Base class of ``Serializer``; it also declares the serializer's slots.
    """

    __slots__ = (
        "_buf",
        "_closed",
        "_flushes",
        "_holds",
        "_pos",
        "_queue",
        "_received",
        "_size",
        "_spare",
        "_spare_free_at",
        "_stage",
        "_start",
        "_tail",
        "_view",
        "_w",
        "_written",
        "_yield",
        "write",
    )

    # Set by Serializer.__init__ (see the theory of operation in _serializer.py).
    _closed: bool
    _stage: io.BytesIO
    _w: Callable[[BytesLike], int]  # _stage.write while open
    write: Callable[[BytesLike], object]
    """``write(data)``: copy a whole bytes-like object into the output.

    The fastest writer: while the serializer is open it is a C-level call (the staging
    buffer's own ``write``), so writing a response piece by piece costs about as much as
    appending the pieces to a list. Raises `SerializerClosedError` once closed.
    """

    def write_bytes(self, data: BytesLike, off: int = 0, length: int | None = None) -> None:
        """Implemented by `Serializer`."""
        raise NotImplementedError

    def write_char(self, char: bytes | bytearray) -> None:
        """Write one byte given as a ``bytes`` object of length 1.

        Args:
            char: For example ``b"A"``.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``char`` is not ``bytes``/``bytearray`` (use
                ``write_uint8`` for an ``int``).
            ValueError: ``char`` is not exactly one byte long.
        """
        if not isinstance(char, bytes | bytearray):
            raise TypeError(
                f"write_char expects a bytes object of length 1, not {type(char).__name__}"
            )
        if len(char) != 1:
            raise ValueError(f"write_char expects exactly one byte, got {len(char)}")
        self.write_bytes(char)

    def write_uint8(self, value: int) -> None:
        """Write an unsigned 8-bit integer (1 byte).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..255.
        """
        try:
            self._w(_U8(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U8, value, "write_uint8")

    def write_uint16_be(self, value: int) -> None:
        """Write an unsigned 16-bit integer, big-endian (2 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..65535.
        """
        try:
            self._w(_U16_BE(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U16_BE, value, "write_uint16_be")

    def write_uint16_le(self, value: int) -> None:
        """Write an unsigned 16-bit integer, little-endian (2 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..65535.
        """
        try:
            self._w(_U16_LE(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U16_LE, value, "write_uint16_le")

    def write_uint32_be(self, value: int) -> None:
        """Write an unsigned 32-bit integer, big-endian (4 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..2**32-1.
        """
        try:
            self._w(_U32_BE(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U32_BE, value, "write_uint32_be")

    def write_uint32_le(self, value: int) -> None:
        """Write an unsigned 32-bit integer, little-endian (4 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..2**32-1.
        """
        try:
            self._w(_U32_LE(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U32_LE, value, "write_uint32_le")

    def write_uint48_be(self, value: int) -> None:
        """Write an unsigned 48-bit integer, big-endian (6 bytes).

        Unlike Faraday's (issue inhabitedtype/faraday#79), both byte orders
        are correct: ``0x010203040506`` is written as ``01 02 03 04 05 06``.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..2**48-1.
        """
        if self._closed:
            raise SerializerClosedError(CLOSED_MESSAGE)
        self._w(_packing.pack_uint48(value, "big", "write_uint48_be"))

    def write_uint48_le(self, value: int) -> None:
        """Write an unsigned 48-bit integer, little-endian (6 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..2**48-1.
        """
        if self._closed:
            raise SerializerClosedError(CLOSED_MESSAGE)
        self._w(_packing.pack_uint48(value, "little", "write_uint48_le"))

    def write_uint64_be(self, value: int) -> None:
        """Write an unsigned 64-bit integer, big-endian (8 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..2**64-1.
        """
        try:
            self._w(_U64_BE(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U64_BE, value, "write_uint64_be")

    def write_uint64_le(self, value: int) -> None:
        """Write an unsigned 64-bit integer, little-endian (8 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside 0..2**64-1.
        """
        try:
            self._w(_U64_LE(value))
        except _PACK_ERRORS:
            self._write_uint_slow(_packing.U64_LE, value, "write_uint64_le")

    def write_int8(self, value: int) -> None:
        """Write a signed 8-bit integer (1 byte), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -128..127.
        """
        try:
            self._w(_I8(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I8, value, "write_int8")

    def write_int16_be(self, value: int) -> None:
        """Write a signed 16-bit integer, big-endian (2 bytes), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -32768..32767.
        """
        try:
            self._w(_I16_BE(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I16_BE, value, "write_int16_be")

    def write_int16_le(self, value: int) -> None:
        """Write a signed 16-bit integer, little-endian (2 bytes), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -32768..32767.
        """
        try:
            self._w(_I16_LE(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I16_LE, value, "write_int16_le")

    def write_int32_be(self, value: int) -> None:
        """Write a signed 32-bit integer, big-endian (4 bytes), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -2**31..2**31-1.
        """
        try:
            self._w(_I32_BE(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I32_BE, value, "write_int32_be")

    def write_int32_le(self, value: int) -> None:
        """Write a signed 32-bit integer, little-endian (4 bytes), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -2**31..2**31-1.
        """
        try:
            self._w(_I32_LE(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I32_LE, value, "write_int32_le")

    def write_int64_be(self, value: int) -> None:
        """Write a signed 64-bit integer, big-endian (8 bytes), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -2**63..2**63-1.
        """
        try:
            self._w(_I64_BE(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I64_BE, value, "write_int64_be")

    def write_int64_le(self, value: int) -> None:
        """Write a signed 64-bit integer, little-endian (8 bytes), two's complement.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is outside -2**63..2**63-1.
        """
        try:
            self._w(_I64_LE(value))
        except _PACK_ERRORS:
            self._write_int_slow(_packing.I64_LE, value, "write_int64_le")

    def write_varint(self, value: int) -> None:
        """Write an unsigned base-128 varint (LEB128), as protobuf and MQTT do.

        Seven bits per byte, least significant group first, the high bit set
        on every byte but the last: 0..127 take 1 byte, 128..16383 take 2, a
        value below 2**64 at most 10. Larger values are written too (one more
        byte per 7 bits), though readers of 64-bit varints, such as
        ``wirekit.combinators.varint``, refuse them.

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not an integer.
            ValueError: ``value`` is negative.
        """
        try:
            if 0 <= value < 0x80:
                self._w(_VARINT1[value])
                return
            if 0x80 <= value < 0x4000:
                # Two bytes: the low group with the continuation bit, then the high group.
                self._w(_U16_LE((value & 0x7F) | 0x80 | (value >> 7 << 8)))
                return
        except _PACK_ERRORS:
            pass
        self._write_varint_slow(value)

    def write_float_be(self, value: float) -> None:
        """Write an IEEE 754 single-precision float, big-endian (4 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not a real number.
            ValueError: ``value`` is finite but too large for 32 bits.
        """
        try:
            self._w(_F32_BE(value))
        except _PACK_ERRORS:
            self._write_float_slow(_packing.F32_BE, value, "write_float_be")

    def write_float_le(self, value: float) -> None:
        """Write an IEEE 754 single-precision float, little-endian (4 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not a real number.
            ValueError: ``value`` is finite but too large for 32 bits.
        """
        try:
            self._w(_F32_LE(value))
        except _PACK_ERRORS:
            self._write_float_slow(_packing.F32_LE, value, "write_float_le")

    def write_double_be(self, value: float) -> None:
        """Write an IEEE 754 double-precision float, big-endian (8 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not a real number.
        """
        try:
            self._w(_F64_BE(value))
        except _PACK_ERRORS:
            self._write_float_slow(_packing.F64_BE, value, "write_double_be")

    def write_double_le(self, value: float) -> None:
        """Write an IEEE 754 double-precision float, little-endian (8 bytes).

        Raises:
            SerializerClosedError: The serializer was closed.
            TypeError: ``value`` is not a real number.
        """
        try:
            self._w(_F64_LE(value))
        except _PACK_ERRORS:
            self._write_float_slow(_packing.F64_LE, value, "write_double_le")

    # -- slow paths: the fast path failed because the serializer is closed or
    # the value is bad; report which.

    def _write_uint_slow(self, packer: struct.Struct, value: int, what: str) -> None:
        if self._closed:
            raise SerializerClosedError(CLOSED_MESSAGE)
        self._w(_packing.pack_uint(packer, value, what))  # raises TypeError/ValueError

    def _write_int_slow(self, packer: struct.Struct, value: int, what: str) -> None:
        if self._closed:
            raise SerializerClosedError(CLOSED_MESSAGE)
        self._w(_packing.pack_int(packer, value, what))  # raises TypeError/ValueError

    def _write_varint_slow(self, value: int) -> None:
        # Also the path of every varint longer than 2 bytes (a short loop in Python).
        if self._closed:
            raise SerializerClosedError(CLOSED_MESSAGE)
        self._w(_packing.pack_varint(value, "write_varint"))

    def _write_float_slow(self, packer: struct.Struct, value: float, what: str) -> None:
        if self._closed:
            raise SerializerClosedError(CLOSED_MESSAGE)
        self._w(_packing.pack_float(packer, value, what))
