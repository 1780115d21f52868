"""The operations a connection asks its runtime to perform (the IO contract).

Reading: `next_read_operation()` returns `READ`, `YIELD`, `CLOSE` or `UPGRADE`.
Writing: `next_write_operation()` returns `Write(iovecs)`, `YIELD`, `Close(n)` or `UPGRADE`.
"""

from __future__ import annotations

from typing import Final

from wirekit.serializer import CLOSED, Writev

__all__ = ["CLOSE", "CLOSED", "READ", "UPGRADE", "YIELD", "Close", "Read", "ReadOperation", "Upgrade", "Write", "WriteOperation", "Yield"]


class Read:
    """Read bytes and pass them to ``read`` (or ``read_eof`` at end of stream)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Read()"


class Yield:
    """Nothing to do now: register a callback with ``yield_reader``/``yield_writer``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Yield()"


class Close:
    """Stop this direction and shut it down. For writes, ``drained`` counts the bytes
    that could not be delivered (the peer had gone)."""

    __slots__ = ("drained",)

    def __init__(self, drained: int = 0) -> None:
        self.drained = drained

    def __repr__(self) -> str:
        return f"Close({self.drained})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Close) and other.drained == self.drained

    def __hash__(self) -> int:
        return hash(("Close", self.drained))


class Upgrade:
    """The connection switched protocols: hand the socket (and any unconsumed input) to
    the upgrade handler."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Upgrade()"


Write = Writev
"""Write these buffers (one ``writev``/``sendmsg``), then ``report_write_result``: the
serializer's own `Writev` (``iovecs``, ``nbytes``), handed out as it is."""


READ: Final = Read()
YIELD: Final = Yield()
CLOSE: Final = Close(0)
UPGRADE: Final = Upgrade()

ReadOperation = Read | Yield | Close | Upgrade
WriteOperation = Write | Yield | Close | Upgrade
