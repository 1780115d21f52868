"""`Config`: every buffer size and limit of the HTTP layer, in one frozen dataclass.

The runtime's command line is derived from this class's fields (see `wirekit serve`),
so a limit is described once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["DEFAULT_CONFIG", "Config"]


@dataclass(frozen=True)
class Config:
    """Buffer sizes and limits of a connection. All sizes are in bytes.

    Limits apply to the total bytes of a message part however the input is split into
    reads, and exceeding one gets the matching status: 414 (request line), 431 (header
    section, header count, trailers), 413 (body), 400 (chunk extensions).

    ``max_pending_output`` bounds the memory a client that sends requests but does not
    read the responses can make the server hold: while more response bytes than this
    wait to be written, the connection parses no further request (its reader yields),
    and reads again once the output drained to the bound.

    The ``timeout_*`` fields (seconds) are the deadlines a connection reports through
    ``deadline(now)``; the runtime times them (see `TimeoutKind`).
    """

    max_request_line: int = field(default=8192, metadata={"help": "longest request line (414 beyond)"})
    max_header_bytes: int = field(
        default=65536, metadata={"help": "largest request head, request line included (431 beyond)"}
    )
    max_headers: int = field(default=100, metadata={"help": "most header fields in a head (431 beyond)"})
    max_chunk_extension_bytes: int = field(
        default=4096, metadata={"help": "chunk-extension bytes allowed per body (400 beyond)"}
    )
    max_body_bytes: int | None = field(
        default=None, metadata={"help": "largest request body, or no limit (413 beyond)"}
    )
    max_pipelined_requests: int = field(
        default=16, metadata={"help": "requests queued before the reader pauses"}
    )
    request_body_buffer_size: int = field(
        default=65536,
        metadata={"help": "request-body bytes buffered for a handler that is not reading"},
    )
    response_buffer_size: int = field(
        default=1024, metadata={"help": "output buffer per connection (larger output bypasses it)"}
    )
    max_drain_bytes: int = field(
        default=65536,
        metadata={"help": "unread request body discarded to keep a connection alive"},
    )
    max_leading_empty_lines: int = field(
        default=4, metadata={"help": "empty lines ignored before a request line"}
    )
    max_pending_output: int = field(
        default=262144,
        metadata={"help": "unsent response bytes per connection beyond which no further request is read"},
    )

    timeout_keep_alive: float = field(
        default=5.0, metadata={"help": "close a keep-alive connection idle this long (seconds)"}
    )
    timeout_header: float = field(
        default=10.0, metadata={"help": "answer 408 and close when a request head takes longer (seconds)"}
    )
    timeout_body: float = field(
        default=30.0, metadata={"help": "answer 408 and close when a request body stalls this long (seconds)"}
    )
    timeout_write: float = field(
        default=30.0, metadata={"help": "close when the client takes no response bytes this long (seconds)"}
    )

    def __post_init__(self) -> None:
        for name in (
            "max_request_line",
            "max_header_bytes",
            "max_headers",
            "max_pipelined_requests",
            "request_body_buffer_size",
            "response_buffer_size",
            "max_pending_output",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"Config.{name} must be positive")
        for name in ("timeout_keep_alive", "timeout_header", "timeout_body", "timeout_write"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Config.{name} must be positive")
        if self.max_request_line > self.max_header_bytes:
            raise ValueError("Config.max_request_line cannot exceed max_header_bytes")


DEFAULT_CONFIG: Final = Config()
"""The defaults, shared by every connection made without a config (it is immutable)."""
