"""Temporary stand-in for the core's timeout API (issue 18, item 3) until it lands:
``deadline(now)`` / ``timeout(now)`` computed from the connection's public state, the
durations read from `Config` when it has them. The runtimes call `timed(conn)`, which
returns the connection itself once it has ``deadline``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from ._errors import RemoteProtocolError
from ._server import ServerConnection
from ._status import Status

__all__ = ["Deadline", "Timed", "TimeoutKind", "timed"]


class TimeoutKind(enum.Enum):
    HEAD = "head"
    BODY = "body"
    IDLE = "idle"
    WRITE = "write"


@dataclass(frozen=True)
class Deadline:
    kind: TimeoutKind
    at: float


class Timed(Protocol):
    def deadline(self, now: float) -> Deadline | None: ...
    def timeout(self, now: float) -> None: ...


class _Shim:
    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn
        config = conn._config
        self.durations = {
            TimeoutKind.IDLE: getattr(config, "timeout_keep_alive", 5.0),
            TimeoutKind.HEAD: getattr(config, "timeout_header", 10.0),
            TimeoutKind.BODY: getattr(config, "timeout_body", 30.0),
        }
        self.key: tuple[TimeoutKind, int] | None = None
        self.since = 0.0
        self.fired = False

    def _kind(self) -> TimeoutKind | None:
        conn = self.conn
        if conn.is_closed:
            return None
        if conn.reading_body:
            return TimeoutKind.BODY
        if conn.head_in_progress:
            return TimeoutKind.HEAD
        if conn.in_flight == 0:
            return TimeoutKind.IDLE
        return None

    def deadline(self, now: float) -> Deadline | None:
        kind = None if self.fired else self._kind()
        if kind is None:
            self.key = None
            return None
        key = (kind, self.conn.heads_received)
        if key != self.key:
            self.key, self.since = key, now
        return Deadline(kind, self.since + self.durations[kind])

    def timeout(self, now: float) -> None:
        d = self.deadline(now)
        if d is None or now < d.at:
            return
        self.fired = True
        if d.kind is TimeoutKind.HEAD:
            self.conn.report_exn(RemoteProtocolError("request head timed out", Status.REQUEST_TIMEOUT))
        else:
            self.conn.shutdown()


def timed(conn: ServerConnection) -> Timed:
    """The connection's deadline API (or the stand-in)."""
    if hasattr(conn, "deadline"):
        return conn  # type: ignore[return-value]
    return _Shim(conn)
