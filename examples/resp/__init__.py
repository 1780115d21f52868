"""RESP (the Redis protocol) on wirekit: a parser, a writer and an asyncio client.

- `grammar`: RESP2 + RESP3 replies parsed with `wirekit.combinators` (`reply`).
- `writer`: commands (and values) written with `wirekit.serializer` (`CommandWriter`).
- `client`: `RespClient`, an asyncio client with pipelining.
- `server`: `redis_server()`, a throwaway redis-server for tests and benchmarks.

Run the demo (no server needed): ``uv run python -m examples.resp``.
"""

from .client import ConnectionClosedError, RespClient
from .demo import main
from .grammar import Push, RespError, RespValue, Verbatim, parse_reply, reply
from .server import redis_server
from .writer import (
    SCHEDULE_THRESHOLD,
    Arg,
    CommandWriter,
    encode_arg,
    encode_command,
    encode_value,
    write_value,
)

__all__ = [
    "SCHEDULE_THRESHOLD",
    "Arg",
    "CommandWriter",
    "ConnectionClosedError",
    "Push",
    "RespClient",
    "RespError",
    "RespValue",
    "Verbatim",
    "encode_arg",
    "encode_command",
    "encode_value",
    "main",
    "parse_reply",
    "redis_server",
    "reply",
    "write_value",
]
