"""Timeouts decided by the connection, timed by the runtime.

A connection knows which deadline applies in its current state -- a request head
arriving, a request body arriving, a keep-alive connection idle, output the peer does
not take -- and since when; the runtime owns the clock. After each operation it
performs, the runtime asks ``conn.deadline(now)`` and arms one timer for the answer's
``at``; when the timer fires it calls ``conn.timeout(now)``, and then pumps both
directions as usual (the connection may have queued a 408, or a `Close`). A stale timer
is harmless: `timeout` acts only on a deadline that is still current and has passed.

The clock behind each deadline restarts when the connection makes progress of that
kind: a complete request head (HEAD), body bytes (BODY), bytes written (WRITE); IDLE
starts when the last response went out.
"""

from __future__ import annotations

import enum

__all__ = ["Clock", "Deadline", "TimeoutKind"]


class TimeoutKind(enum.Enum):
    """Which timeout applies, and what `timeout` then does."""

    HEAD = "head"
    """A request head is arriving (``Config.timeout_header``): 408, then close."""
    BODY = "body"
    """A request body is arriving (``Config.timeout_body``): the body fails with 408 (the
    response, if not started, is a 408), then close."""
    IDLE = "idle"
    """Keep-alive, nothing in flight (``Config.timeout_keep_alive``): close quietly."""
    WRITE = "write"
    """Output waits and the peer takes none of it (``Config.timeout_write``): drop it
    and close."""


class Deadline:
    """The deadline that applies now: its ``kind`` and the time ``at`` which it passes,
    on the runtime's clock (the ``now`` it passes in)."""

    __slots__ = ("at", "kind")
    __match_args__ = ("kind", "at")

    def __init__(self, kind: TimeoutKind, at: float) -> None:
        self.kind = kind
        self.at = at

    def __repr__(self) -> str:
        return f"Deadline({self.kind.name}, at={self.at!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Deadline) and other.kind is self.kind and other.at == self.at

    def __hash__(self) -> int:
        return hash((self.kind, self.at))


class Clock:
    """The clock of the deadline in force: it restarts when the kind changes or when
    ``progress`` (a counter of that kind's progress) moves."""

    __slots__ = ("_deadline", "_progress")

    def __init__(self) -> None:
        self._deadline: Deadline | None = None
        self._progress = -1

    def deadline(self, kind: TimeoutKind | None, progress: int, now: float, seconds: float) -> Deadline | None:
        """The deadline for ``kind`` (None: no deadline applies), restarted at ``now``
        if ``kind`` or ``progress`` changed since the last call."""
        if kind is None:
            self._deadline = None
            return None
        current = self._deadline
        if current is None or current.kind is not kind or progress != self._progress:
            self._deadline = current = Deadline(kind, now + seconds)
            self._progress = progress
        return current

    def due(self, now: float) -> TimeoutKind | None:
        """The kind of the current deadline if it has passed at ``now``."""
        current = self._deadline
        if current is not None and now >= current.at:
            return current.kind
        return None
