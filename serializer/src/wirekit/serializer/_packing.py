"""Fixed-width encoders, argument checks and buffer normalisation.

Shared by the serializer's writers and by reservations. Every encoder checks
its value: an out-of-range integer raises ``ValueError`` and a value of the
wrong type raises ``TypeError``; nothing is ever truncated or wrapped.
"""

from __future__ import annotations

import operator
import struct
from typing import Final, Literal

U8: Final[struct.Struct] = struct.Struct("B")
U16_BE: Final[struct.Struct] = struct.Struct(">H")
U16_LE: Final[struct.Struct] = struct.Struct("<H")
U32_BE: Final[struct.Struct] = struct.Struct(">I")
U32_LE: Final[struct.Struct] = struct.Struct("<I")
U64_BE: Final[struct.Struct] = struct.Struct(">Q")
U64_LE: Final[struct.Struct] = struct.Struct("<Q")
I8: Final[struct.Struct] = struct.Struct("b")
I16_BE: Final[struct.Struct] = struct.Struct(">h")
I16_LE: Final[struct.Struct] = struct.Struct("<h")
I32_BE: Final[struct.Struct] = struct.Struct(">i")
I32_LE: Final[struct.Struct] = struct.Struct("<i")
I64_BE: Final[struct.Struct] = struct.Struct(">q")
I64_LE: Final[struct.Struct] = struct.Struct("<q")
F32_BE: Final[struct.Struct] = struct.Struct(">f")
F32_LE: Final[struct.Struct] = struct.Struct("<f")
F64_BE: Final[struct.Struct] = struct.Struct(">d")
F64_LE: Final[struct.Struct] = struct.Struct("<d")

#: What the fast paths catch before handing over to a checked slow path.
PACK_ERRORS: Final[tuple[type[Exception], ...]] = (struct.error, TypeError, ValueError, OverflowError)

_U48_LIMIT: Final = 1 << 48


def pack_uint(packer: struct.Struct, value: int, what: str) -> bytes:
    """Encode an unsigned integer with ``packer``, refusing out-of-range values.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` does not fit in ``packer.size`` bytes unsigned.
    """
    try:
        return packer.pack(value)
    except struct.error:
        pass
    index = operator.index(value)  # raises TypeError for non-integers
    top = (1 << (8 * packer.size)) - 1
    raise ValueError(f"{what}: {index} is out of range 0..{top}")


def pack_int(packer: struct.Struct, value: int, what: str) -> bytes:
    """Encode a signed (two's complement) integer with ``packer``, refusing out-of-range values.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` does not fit in ``packer.size`` bytes signed.
    """
    try:
        return packer.pack(value)
    except struct.error:
        pass
    index = operator.index(value)  # raises TypeError for non-integers
    half = 1 << (8 * packer.size - 1)
    raise ValueError(f"{what}: {index} is out of range {-half}..{half - 1}")


def pack_varint(value: int, what: str) -> bytes:
    """Encode a non-negative integer as an unsigned base-128 varint (LEB128).

    Seven bits per byte, least significant group first; every byte but the
    last has its high bit set (protobuf varints, MQTT's remaining length).
    Any size is accepted: values below 2**64 take at most 10 bytes.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is negative.
    """
    n = operator.index(value)
    if n < 0:
        raise ValueError(f"{what}: {n} is negative; a varint is unsigned")
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def pack_uint48(value: int, byteorder: Literal["big", "little"], what: str) -> bytes:
    """Encode a 48-bit unsigned integer in 6 bytes.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is negative or at least 2**48.
    """
    index = operator.index(value)
    if not 0 <= index < _U48_LIMIT:
        raise ValueError(f"{what}: {index} is out of range 0..{_U48_LIMIT - 1}")
    return index.to_bytes(6, byteorder)


def pack_float(packer: struct.Struct, value: float, what: str) -> bytes:
    """Encode a float with ``packer`` (``f`` or ``d`` format).

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` is finite but too large for a 32-bit float.
    """
    try:
        return packer.pack(value)
    except OverflowError:
        raise ValueError(
            f"{what}: {value!r} is too large for a {8 * packer.size}-bit float"
        ) from None
    except struct.error:
        raise TypeError(f"{what} expects a float, not {type(value).__name__}") from None


def byte_view(data: object, what: str, *, contiguous: bool) -> memoryview:
    """Return a one-dimensional unsigned-byte view of a bytes-like object.

    A memoryview that already is one is returned as it is.
    Views of another format or shape are cast to bytes. A non-contiguous view
    is copied when ``contiguous`` is false and refused otherwise.

    Raises:
        TypeError: ``data`` does not support the buffer protocol (``str``,
            ``int``, ``list`` ...).
        ValueError: ``contiguous`` is true and ``data`` is not C-contiguous.
    """
    if type(data) is memoryview and data.format == "B" and data.ndim == 1 and data.c_contiguous:
        return data
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{what} expects bytes, bytearray or memoryview, not {type(data).__name__}"
        ) from None
    if view.format != "B" or view.ndim != 1 or not view.c_contiguous:
        if view.c_contiguous:
            view = view.cast("B")
        elif contiguous:
            raise ValueError(f"{what} needs a C-contiguous buffer; use write_bytes to copy it")
        else:
            view = memoryview(view.tobytes())
    return view


def check_slice(total: int, off: int, length: int | None, what: str) -> tuple[int, int]:
    """Validate ``off``/``length`` against a buffer of ``total`` bytes.

    Returns:
        ``(off, length)`` with ``length`` resolved (``None`` means "to the end").

    Raises:
        TypeError: ``off`` or ``length`` is not an integer.
        ValueError: the range does not lie within the buffer.
    """
    off = operator.index(off)
    length = total - off if length is None else operator.index(length)
    if off < 0 or length < 0 or off + length > total:
        raise ValueError(f"{what}: off={off}, length={length} is outside a buffer of {total} bytes")
    return off, length
