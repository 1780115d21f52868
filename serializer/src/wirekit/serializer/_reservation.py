"""Reservations: holes in the output that are filled in later.

A reservation is a fixed number of bytes set aside at the current position of
a serializer's output, typically for a length prefix that is only known once
the payload has been written. The serializer keeps everything from the first
unfilled reservation onwards out of ``operation()`` results, so a hole is
never sent. Filling writes straight into the serializer's buffer, so a
reserved prefix and the payload after it still leave as one iovec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from . import _packing
from ._operations import BytesLike, ReservationError

if TYPE_CHECKING:
    from ._serializer import Serializer

__all__ = ["Reservation"]

_PENDING: Final = 0
_FILLED: Final = 1
_DISCARDED: Final = 2


class Reservation:
    """A hole of fixed size in a serializer's output. Made by ``Serializer.reserve``.

    Fill it exactly once, with exactly ``size`` bytes, using ``fill`` or one
    of the ``fill_uint*`` helpers (or ``Serializer.backfill``). Until then the
    serializer hands out no byte at or after the reservation. If the
    serializer's output is discarded by ``drain()`` before the reservation is
    filled, the reservation is discarded too and filling it does nothing.

    Examples:
        >>> from wirekit.serializer import Serializer, serialize_to_bytes
        >>> s = Serializer()
        >>> prefix = s.reserve(2)
        >>> s.write_bytes(b"payload")
        >>> prefix.fill_uint16_be(s.position - prefix.end)
        >>> serialize_to_bytes(s)
        b'\\x00\\x07payload'
    """

    __slots__ = ("_offset", "_owner", "_state", "_view")

    def __init__(self, owner: Serializer, view: memoryview, offset: int) -> None:
        # Made by Serializer.reserve only; `view` is the reserved region of the
        # serializer's buffer and `offset` its position in the output stream.
        self._owner = owner
        self._view = view
        self._offset = offset
        self._state = _PENDING

    @property
    def size(self) -> int:
        """Number of bytes reserved."""
        return len(self._view)

    @property
    def offset(self) -> int:
        """Position of the first reserved byte in the serializer's output stream."""
        return self._offset

    @property
    def end(self) -> int:
        """Position just after the reserved bytes (``offset + size``).

        ``serializer.position - reservation.end`` is the number of bytes
        written since the reservation was made.
        """
        return self._offset + len(self._view)

    @property
    def filled(self) -> bool:
        """Whether the reservation has been filled."""
        return self._state == _FILLED

    @property
    def discarded(self) -> bool:
        """Whether the output holding this reservation was dropped by ``drain()``."""
        return self._state == _DISCARDED

    def fill(self, data: BytesLike) -> None:
        """Write ``data`` into the reserved bytes (a copy is taken).

        Filling the first unfilled reservation releases the output held back
        behind it. Reservations may be filled in any order, and also after the
        serializer was closed.

        Args:
            data: Exactly ``size`` bytes.

        Raises:
            ReservationError: The reservation was already filled.
            ValueError: ``data`` is not exactly ``size`` bytes long.
            TypeError: ``data`` is not bytes-like.
        """
        state = self._state
        if state != _PENDING:
            if state == _DISCARDED:
                return
            raise ReservationError("this reservation has already been filled")
        view = self._view
        try:
            view[:] = data
        except (TypeError, ValueError):
            source = _packing.byte_view(data, "Reservation.fill", contiguous=False)
            if source.nbytes != len(view):
                raise ValueError(
                    f"a reservation of {len(view)} bytes cannot be filled with {source.nbytes} bytes"
                ) from None
            view[:] = source
        self._state = _FILLED
        self._owner._reservation_filled()

    def fill_uint8(self, value: int) -> None:
        """Fill a 1-byte reservation with an unsigned 8-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..255, or ``size`` is not 1.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U8, value, "fill_uint8"))

    def fill_uint16_be(self, value: int) -> None:
        """Fill a 2-byte reservation with a big-endian unsigned 16-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..65535, or ``size`` is not 2.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U16_BE, value, "fill_uint16_be"))

    def fill_uint16_le(self, value: int) -> None:
        """Fill a 2-byte reservation with a little-endian unsigned 16-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..65535, or ``size`` is not 2.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U16_LE, value, "fill_uint16_le"))

    def fill_uint32_be(self, value: int) -> None:
        """Fill a 4-byte reservation with a big-endian unsigned 32-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..2**32-1, or ``size`` is not 4.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U32_BE, value, "fill_uint32_be"))

    def fill_uint32_le(self, value: int) -> None:
        """Fill a 4-byte reservation with a little-endian unsigned 32-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..2**32-1, or ``size`` is not 4.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U32_LE, value, "fill_uint32_le"))

    def fill_uint64_be(self, value: int) -> None:
        """Fill an 8-byte reservation with a big-endian unsigned 64-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..2**64-1, or ``size`` is not 8.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U64_BE, value, "fill_uint64_be"))

    def fill_uint64_le(self, value: int) -> None:
        """Fill an 8-byte reservation with a little-endian unsigned 64-bit integer.

        Raises:
            ValueError: ``value`` is outside 0..2**64-1, or ``size`` is not 8.
            TypeError: ``value`` is not an integer.
            ReservationError: The reservation was already filled.
        """
        self.fill(_packing.pack_uint(_packing.U64_LE, value, "fill_uint64_le"))

    def _discard(self) -> None:
        # Called by Serializer.drain(): the bytes this reservation belongs to
        # are gone, and its buffer may be reused, so it must never write again.
        if self._state == _PENDING:
            self._state = _DISCARDED

    def __repr__(self) -> str:
        state = ("pending", "filled", "discarded")[self._state]
        return f"<Reservation size={self.size} offset={self._offset} {state}>"
