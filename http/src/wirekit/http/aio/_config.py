"""`ServeConfig`: everything `wirekit serve` can be told, in one frozen dataclass.

The command line is generated from these fields (name, type, default and the ``help``
metadata), so an option is described once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ServeConfig"]


@dataclass(frozen=True)
class ServeConfig:
    """How to run a server. Times are in seconds. The connections' timeouts and limits
    are the HTTP layer's `wirekit.http.Config` (``--timeout-keep-alive`` and the others)."""

    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on"})
    port: int = field(default=8080, metadata={"help": "port to listen on (0: any free port)"})
    workers: int = field(default=1, metadata={"help": "worker processes accepting from one listening socket"})
    loop: str = field(
        default="auto",
        metadata={"help": "event loop", "choices": ("auto", "asyncio", "uvloop")},
    )
    timeout_graceful: float = field(
        default=10.0, metadata={"help": "on SIGINT/SIGTERM, wait this long for in-flight responses"}
    )
    limit_concurrency: int | None = field(
        default=None, metadata={"help": "most open connections; beyond it new ones get 503"}
    )
    limit_max_requests: int | None = field(
        default=None, metadata={"help": "a worker stops after serving this many requests (then restarts)"}
    )
    backlog: int = field(default=2048, metadata={"help": "listen backlog"})
    access_log: bool = field(default=False, metadata={"help": "log each request (common log format)"})
    root_path: str = field(default="", metadata={"help": "ASGI root_path (when mounted under a prefix)"})

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in 0..65535")
