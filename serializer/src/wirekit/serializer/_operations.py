"""The values a serializer hands to its driver, and the errors it raises.

The IO contract is a closed set of three operations (``Writev``, ``Yield``,
``Close``) plus one verb (``Serializer.shift``). Everything in this module is
plain data: no IO, no state.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeAlias, final

__all__ = [
    "CLOSED",
    "BytesLike",
    "Close",
    "FlushReason",
    "Operation",
    "PeerClosed",
    "ReservationError",
    "SerializerClosedError",
    "WritevResult",
    "Writev",
    "Yield",
]

if TYPE_CHECKING:
    BytesLike: TypeAlias = bytes | bytearray | memoryview[Any]
    """The byte containers the serializer accepts: ``bytes``, ``bytearray`` or a
    ``memoryview`` of any format (its raw bytes are used)."""
else:  # memoryview cannot be subscripted at run time on Python 3.11
    BytesLike = bytes | bytearray | memoryview


class SerializerClosedError(RuntimeError):
    """Raised when something is written to a serializer after ``close()``."""


class ReservationError(RuntimeError):
    """Raised on misuse of a reservation.

    That is: filling a reservation twice, backfilling a reservation through a
    serializer that does not own it, or collecting the output with
    ``serialize_to_bytes`` while a reservation is still unfilled.
    """


class FlushReason(enum.Enum):
    """Why a flush callback was called. Each callback is called exactly once."""

    #: Every byte written before the callback was registered has been shifted,
    #: that is, reported as written by the driver.
    SHIFT = "shift"
    #: The pending output was discarded by ``Serializer.drain()``.
    DRAIN = "drain"
    #: Nothing was pending when ``flush`` was called, so the callback ran at once.
    NOTHING_PENDING = "nothing_pending"


class PeerClosed(enum.Enum):
    """Type of the ``CLOSED`` sentinel a ``writev`` function may return."""

    CLOSED = "closed"


CLOSED: Final = PeerClosed.CLOSED
"""Returned by a ``writev`` function given to ``serialize`` when the other end
can no longer receive anything (broken pipe, reset connection ...)."""

WritevResult: TypeAlias = int | Literal[PeerClosed.CLOSED]
"""What a ``writev`` function passed to ``serialize`` returns: the number of
bytes it wrote (possibly 0), or ``CLOSED``."""


@final
class Writev:
    """Write these buffers, in order, then report the count with ``shift``.

    ``iovecs`` is a list of non-empty ``bytes`` objects or unsigned-byte,
    C-contiguous ``memoryview`` objects, ready for ``socket.sendmsg``,
    ``os.writev`` or ``transport.writelines``. Views into the serializer's
    internal buffer are only valid until the bytes they cover are shifted: copy
    anything you need to keep longer.

    Args:
        iovecs: The buffers to write.
        nbytes: Their total length; computed from ``iovecs`` when omitted.
    """

    __slots__ = ("iovecs", "nbytes")
    __match_args__ = ("iovecs",)

    iovecs: list[bytes | memoryview]
    """The buffers to write, in order."""
    nbytes: int
    """Total number of bytes in ``iovecs``."""

    def __init__(self, iovecs: list[bytes | memoryview], nbytes: int | None = None) -> None:
        self.iovecs = iovecs
        self.nbytes = sum(map(len, iovecs)) if nbytes is None else nbytes

    def __eq__(self, other: object) -> bool:
        # memoryview == bytes compares contents, so this is equality of bytes.
        if not isinstance(other, Writev):
            return NotImplemented
        return self.nbytes == other.nbytes and self.iovecs == other.iovecs

    __hash__ = None  # type: ignore[assignment]  # mutable list inside

    def __repr__(self) -> str:
        shown = ", ".join(
            repr(bytes(v[:16])) + ("..." if len(v) > 16 else "") for v in self.iovecs[:4]
        )
        more = f", ... {len(self.iovecs) - 4} more" if len(self.iovecs) > 4 else ""
        return f"Writev([{shown}{more}], nbytes={self.nbytes})"


@final
class Yield:
    """Nothing to write right now (or the writer asked to batch more).

    The driver should wait until more output is produced, then ask for the
    next operation again. ``Yield()`` always returns the same instance, so
    both ``op is Yield()`` and ``isinstance(op, Yield)`` work, as does the
    ``case Yield():`` pattern.
    """

    __slots__ = ()
    _instance: ClassVar[Yield | None] = None

    def __new__(cls) -> Yield:
        inst = cls._instance
        if inst is None:
            inst = cls._instance = super().__new__(cls)
        return inst

    def __repr__(self) -> str:
        return "Yield()"


@final
class Close:
    """The serializer is closed and all its output has been written or drained.

    The driver should release the underlying connection. ``Close()`` always
    returns the same instance.
    """

    __slots__ = ()
    _instance: ClassVar[Close | None] = None

    def __new__(cls) -> Close:
        inst = cls._instance
        if inst is None:
            inst = cls._instance = super().__new__(cls)
        return inst

    def __repr__(self) -> str:
        return "Close()"


Operation: TypeAlias = Writev | Yield | Close
"""What ``Serializer.operation()`` returns."""

YIELD: Final = Yield()
CLOSE: Final = Close()
