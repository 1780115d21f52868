"""The demo: parse a canned reply stream the way the client does, and write commands.

No server is needed: the bytes a Redis server would send arrive in small pieces, and
`parse_many` yields each reply as soon as its last byte is in.
"""

from __future__ import annotations

from wirekit.combinators import parse_many
from wirekit.serializer import Writev

from .grammar import reply
from .writer import CommandWriter, encode_value

# What a server answers to: SET, GET, GET of a missing key, INCR on a string, LRANGE,
# and, in RESP3, HGETALL, SMEMBERS, ZSCORE and a CLIENT TRACKING invalidation.
CANNED = (
    b"+OK\r\n"
    b"$12\r\nhello\r\nworld\r\n"
    b"$-1\r\n"
    b"-ERR value is not an integer or out of range\r\n"
    b"*3\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n:1\r\n_\r\n"
    b"%2\r\n$4\r\nname\r\n$3\r\nAda\r\n$4\r\nborn\r\n$4\r\n1815\r\n"
    b"~2\r\n$1\r\nx\r\n$1\r\ny\r\n"
    b",-inf\r\n"
    b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
)


def main() -> None:
    """Parse `CANNED` in 7-byte pieces, then write a pipeline of commands."""
    chunks = [CANNED[i : i + 7] for i in range(0, len(CANNED), 7)]
    print(f"{len(CANNED)} bytes in {len(chunks)} chunks:")
    for value in parse_many(reply, chunks):
        print(f"  {value!r}")

    w = CommandWriter(schedule_threshold=1024)
    big = b"x" * 4096
    w.commands([("SET", "greeting", "hello\r\nworld"), ("SET", "big", big), ("GET", "greeting")])
    op = w.serializer.operation()
    assert isinstance(op, Writev)
    print(f"3 commands, {op.nbytes} bytes in {len(op.iovecs)} iovecs:")
    for iov in op.iovecs:
        text = bytes(iov)
        scheduled = " (scheduled, not copied)" if iov is big else ""
        print(f"  {text[:60]!r}{'...' if len(text) > 60 else ''}{scheduled}")
    w.serializer.shift(op.nbytes)
    print(f"a reply written back: {encode_value({'k': [1, 2.5, None]})!r}")


if __name__ == "__main__":
    main()
