"""Input the connection received but could not use yet, kept by the connection.

The runtime hands every byte it receives to ``read`` (or ``read_eof``) once: the
connection keeps what it cannot consume now -- the start of a head still arriving, or
requests that wait while the pipelining queue is full -- and uses it as soon as it can,
when the runtime next asks ``next_read_operation``. So the runtime holds nothing, and
`READ` always means "bytes from the peer are needed".

The held bytes are bounded by one ``read`` call while the connection yields (the runtime
reads only after `READ`), and by ``Config.max_header_bytes`` for a head in progress.
"""

from __future__ import annotations

from wirekit.serializer import BytesLike

from ._compiled import trait

__all__ = ["HeldInput"]


@trait  # a mixin: mypyc's native classes have one base class and traits
class HeldInput:
    """Mixin for the connections: ``read``/``read_eof`` over ``_read(data, eof) -> used``.

    ``_held`` are the bytes not consumed yet; ``_held_eof`` says the stream ended after
    them; ``_held_blocked`` says the connection could not use them in its current state
    and needs more bytes (so asking again before new input would only parse them again).
    """

    _held: bytes = b""
    _held_eof: bool = False
    _held_blocked: bool = False
    _received: int = 0  # bytes passed to read/read_eof so far (progress for timeouts)

    def _read(self, data: BytesLike, eof: bool) -> int:
        raise NotImplementedError

    def _reading(self) -> bool:
        """Whether the reader would take bytes now (its next operation is `READ`)."""
        raise NotImplementedError

    def _input_closed(self) -> bool:
        """Whether the reader stopped for good (its next operation is `CLOSE`)."""
        raise NotImplementedError

    def read(self, data: BytesLike) -> int:
        """Take bytes received from the peer; returns ``len(data)``: all are taken.
        Once the reader has closed the bytes are not wanted: it returns how many were
        used (0 if it had closed before) and keeps nothing.

        Call it after `next_read_operation` returned `READ`. Whatever cannot be used yet
        is kept and used before any later input; handlers of the requests (or
        responses) completed by these bytes run inside this call."""
        return self._feed(data, False)

    def read_eof(self, data: BytesLike = b"") -> int:
        """Like `read`, for the last bytes of the stream (possibly none): the peer sends
        nothing more. Returns what `read` returns."""
        return self._feed(data, True)

    def _feed(self, data: BytesLike, eof: bool) -> int:
        n = len(data)
        self._received += n
        held = self._held
        if held:
            data = held + data
            eof = eof or self._held_eof
            self._held = b""
        used = self._read(data, eof)
        if used < len(data):
            # What `read` reports counts only this call's bytes (the held ones were
            # taken by an earlier call).
            return max(0, self._keep(data, used, eof) - len(held))
        return n

    def _keep(self, data: BytesLike, used: int, eof: bool) -> int:
        """Keep ``data[used:]`` for later, unless the reader has closed (then the rest
        is not wanted); returns the bytes taken."""
        if self._input_closed():
            return used
        # A copy: the runtime may reuse its receive buffer.
        self._held = bytes(data[used:])
        self._held_eof = eof
        self._held_blocked = self._reading()
        return len(data)

    def _resume_held(self) -> None:
        """Use held input the connection can take now (from ``next_read_operation``)."""
        while self._held and not self._held_blocked and self._reading():
            held = self._held
            self._held = b""
            used = self._read(held, self._held_eof)
            if used < len(held):
                self._held = held[used:]
                self._held_blocked = self._reading()

    @property
    def unconsumed(self) -> bytes:
        """Bytes received and not consumed: after `UPGRADE`, the start of the new
        protocol's stream (hand them over with the socket); otherwise input waiting
        for its turn."""
        return self._held

    @property
    def held_eof(self) -> bool:
        """Whether the peer ended its stream after the `unconsumed` bytes."""
        return self._held_eof
