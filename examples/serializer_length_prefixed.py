"""Length-prefixed frames with wirekit.serializer's reserve/backfill.

Each frame is a 1-byte type, a 4-byte big-endian payload length and the
payload. The length is not known when the frame starts (the payload is written
in pieces), so the example reserves the 4 bytes, writes the payload, and fills
the reservation in afterwards. The serializer never hands out a reserved byte
before it is filled, and the finished frames still leave as a single iovec.

Run it with ``uv run python examples/serializer_length_prefixed.py``.
"""

from __future__ import annotations

from wirekit.serializer import Serializer, Writev, serialize_to_bytes

FRAME_TEXT = 1
FRAME_NUMBERS = 2


def write_frame(out: Serializer, frame_type: int, pieces: list[bytes]) -> None:
    """Write one frame whose payload is the concatenation of ``pieces``."""
    out.write_uint8(frame_type)
    length = out.reserve(4)
    for piece in pieces:
        out.write_bytes(piece)
    length.fill_uint32_be(out.position - length.end)


def main() -> None:
    out = Serializer()
    write_frame(out, FRAME_TEXT, [b"hello", b", ", b"world"])

    # Output before an unfilled reservation is handed out; the rest waits.
    out.write_uint8(FRAME_NUMBERS)
    length = out.reserve(4)
    op = out.operation()
    assert isinstance(op, Writev)
    print("ready while the second frame is open:", b"".join(op.iovecs).hex(" "))

    for number in (1, 2, 3):
        out.write_uint16_be(number)
    length.fill_uint32_be(out.position - length.end)

    data = serialize_to_bytes(out)
    print("all frames:", data.hex(" "))

    # Read the frames back to show the prefixes are right.
    offset = 0
    while offset < len(data):
        frame_type = data[offset]
        size = int.from_bytes(data[offset + 1 : offset + 5], "big")
        payload = data[offset + 5 : offset + 5 + size]
        print(f"frame type={frame_type} length={size} payload={payload!r}")
        offset += 5 + size
    assert offset == len(data)


if __name__ == "__main__":
    main()
