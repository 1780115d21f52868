"""A length-prefixed binary record format, parsed with wirekit.combinators.

Run it: ``uv run python examples/length_prefixed.py``.

The format (integers are big-endian, as on the wire)::

    archive = magic version count record{count}
    magic   = "WK"
    version = uint8
    count   = uint16                  ; how many records follow
    record  = length:uint32 payload   ; payload is `length` bytes

Each length is read first and then decides how many bytes to take, which is what
``bind`` is for; ``count`` repeats the record parser as often as the header says. The
same parser runs on a complete buffer (`parse`) or on input arriving in pieces
(`Buffered`), where it simply waits until a record's bytes are all there.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from wirekit.combinators import (
    BE,
    Buffered,
    Done,
    Parser,
    State,
    any_uint8,
    both,
    count,
    parse,
    string,
    take,
)

MAGIC = b"WK"


@dataclass(frozen=True)
class Archive:
    version: int
    records: list[bytes]


# record = length:uint32 payload
record: Parser[bytes] = BE.any_uint32.bind(take).desc("record")

# magic version count
header: Parser[tuple[int, int]] = string(MAGIC).desc("magic") >> both(
    any_uint8.desc("version"), BE.any_uint16.desc("count")
)

# archive = header record{count}
archive: Parser[Archive] = header.bind(
    lambda vn: count(vn[1], record).map(lambda records: Archive(vn[0], records))
)


def build(version: int, payloads: Iterable[bytes]) -> bytes:
    """Serialise an archive (the inverse of `archive`)."""
    items = list(payloads)
    out = [struct.pack(">2sBH", MAGIC, version, len(items))]
    for payload in items:
        out.append(struct.pack(">I", len(payload)))
        out.append(payload)
    return b"".join(out)


SAMPLE = build(1, [b"hello", b"", b"wire\x00kit", bytes(range(4))])


def main() -> None:
    """Parse a sample archive at once and in 3-byte pieces, and print its records."""
    result = parse(archive, SAMPLE)
    print(f"version {result.version}, {len(result.records)} records")
    for i, payload in enumerate(result.records):
        print(f"  #{i}: {len(payload):3d} bytes {payload!r}")

    state: State[Archive] = Buffered.parse(archive, initial_buffer_size=8)
    for i in range(0, len(SAMPLE), 3):
        state = state.feed(SAMPLE[i : i + 3])
    state = state.feed_eof()
    assert isinstance(state, Done) and state.value == result
    print(f"fed in 3-byte pieces: the same {len(state.value.records)} records")


if __name__ == "__main__":
    main()
