"""Shared helpers for the WebSocket tests: drive sans-IO connections in memory."""

from __future__ import annotations

from wirekit.http import CLOSE, READ, Close, Write
from wirekit.http.websocket import Closed, Message, WebSocketConnection
from wirekit.serializer import Serializer, serialize_to_bytes

__all__ = ["Peer", "frame_bytes", "output"]


def output(conn: WebSocketConnection) -> tuple[bytes, bool]:
    """Everything ``conn`` has to write now, and whether its writer then says `Close`."""
    out = []
    while True:
        op = conn.next_write_operation()
        if type(op) is Write:
            data = b"".join(bytes(v) for v in op.iovecs)
            out.append(data)
            conn.report_write_result(len(data))
            continue
        return b"".join(out), isinstance(op, Close)


class Peer:
    """A connection and a reader loop that presents unconsumed bytes again, in chunks."""

    def __init__(self, conn: WebSocketConnection) -> None:
        self.conn = conn
        self.events: list[Message | Closed] = []

    def feed(self, data: bytes, chunk: int | None = None, eof: bool = False) -> None:
        """Give ``data`` in chunks of ``chunk`` bytes (all at once: None), each after
        `READ` as a runtime would, taking events as they come (the application), so the
        queue bound never stalls the loop."""
        pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
        for i, piece in enumerate(pieces):
            last = eof and i == len(pieces) - 1
            for _ in range(10_000):
                op = self.conn.next_read_operation()
                if op is READ:
                    n = self.conn.read_eof(piece) if last else self.conn.read(piece)
                    # All taken, unless the reader closed inside this piece.
                    assert n == len(piece) or self.conn.next_read_operation() is CLOSE
                    break
                if op is CLOSE:
                    break  # the connection reads no more: the bytes are not wanted
                assert self.conn.pending_events, "YIELD with nothing to take: output is piling up"
                self.take()  # YIELD: the queue is full; the application takes events
            self.take()
        while self.conn.next_read_operation() is not READ and self.conn.pending_events:
            self.take()  # held frames that waited for room

    def take(self) -> None:
        while (event := self.conn.next_event()) is not None:
            self.events.append(event)

    @property
    def messages(self) -> list[str | bytes]:
        return [e.data for e in self.events if isinstance(e, Message)]

    @property
    def closed(self) -> Closed | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, Closed) else None


def frame_bytes(b0: int, payload: bytes, key: bytes | None = None, length: int | None = None) -> bytes:
    """A frame written by hand (for violations the connection itself never writes):
    ``length`` overrides the payload length field (7-bit values and 126/127 forms)."""
    out = Serializer()
    n = len(payload) if length is None else length
    out.write_uint8(b0)
    bit = 0x80 if key is not None else 0
    if n < 126:
        out.write_uint8(bit | n)
    elif n < 0x10000:
        out.write_uint8(bit | 126)
        out.write_uint16_be(n)
    else:
        out.write_uint8(bit | 127)
        out.write_uint64_be(n)
    if key is not None:
        out.write_bytes(key)
        from wirekit.http.websocket import mask

        payload = mask(payload, key)
    out.write_bytes(payload)
    return serialize_to_bytes(out)
