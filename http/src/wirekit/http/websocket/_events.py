"""What a `WebSocketConnection` is configured with and hands out: `WebSocketConfig`,
the events `Message` and `Closed`, and `ConnectionState`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .._compiled import python_class

__all__ = ["Closed", "ConnectionState", "Message", "WebSocketConfig"]


@dataclass(frozen=True)
class WebSocketConfig:
    """Limits and buffer sizes of a WebSocket connection (sizes in bytes)."""

    max_message_size: int = 16 * 1024 * 1024
    """The largest message received (after decompression); larger: close 1009."""
    max_frame_size: int | None = None
    """The largest frame payload received (None: ``max_message_size``); larger: 1009."""
    max_queue: int = 32
    """Messages received and not yet taken with ``next_event``; at this many the
    connection reads no further (backpressure) until the application takes one."""
    max_pending_output: int = 1024 * 1024
    """Output not yet written past which the connection reads no further (a peer that
    sends pings and does not read the pongs)."""
    write_buffer_size: int = 16 * 1024
    """The serializer's buffer."""
    fragment_size: int | None = None
    """Send messages longer than this in frames of this size (None: one frame)."""

    def __post_init__(self) -> None:
        if self.max_message_size < 1 or self.max_queue < 1:
            raise ValueError("max_message_size and max_queue must be at least 1")
        if self.fragment_size is not None and self.fragment_size < 1:
            raise ValueError("fragment_size must be at least 1")


@dataclass(slots=True)
@python_class  # `_message` makes one with object.__new__ (see .._compiled)
class Message:
    """A received message: ``str`` for a text message, ``bytes`` for a binary one."""

    data: str | bytes


def _message(data: str | bytes) -> Message:
    """`Message(data)` without the dataclass ``__init__`` call (once per message)."""
    m = _new_message(Message)
    m.data = data
    return m


_new_message = object.__new__


@dataclass(frozen=True)
class Closed:
    """The connection closed: ``code`` (1005 no status, 1006 no close frame) and
    ``reason``; ``by_peer`` when the peer started the closing handshake or broke off,
    False when we closed or failed the connection (``code`` is then the code we sent)."""

    code: int
    reason: str = ""
    by_peer: bool = True


class ConnectionState(enum.Enum):
    """Where the closing handshake stands."""

    OPEN = "open"
    CLOSING = "closing"  # we sent a close frame and wait for the peer's
    CLOSED = "closed"
