"""Fuzz targets for the HTTP layer's input and output validation (issue 17, "also").

Each target takes arbitrary bytes and either returns or raises. An exception means a bug
found, except for the library's own errors where the target says so:

- `server_connection`: a `ServerConnection` (with an echo handler) fed arbitrary bytes,
  whole and cut at arbitrary points. It must never raise (the asyncio runtime does not
  catch: a protocol error must become a response), and the split run must give the same
  output, the same requests seen by the handler and the same closing as the whole run.
- `chunked_decoder`: the chunked body decoder fed arbitrary bytes in arbitrary pieces,
  with arbitrary room (backpressure). `RemoteProtocolError` is its answer to bad input;
  anything else is a bug, and so is a result (body, trailers, done, error or not) that
  differs from decoding the same bytes in one piece, or a decoder that consumes more
  than it was given.
- `response_validation`: a response head made of arbitrary status, reason and header
  fields, sent through a `ServerConnection`. `LocalProtocolError` (an invalid field) is
  the expected refusal; what it lets through must be a well-formed head whose every
  field is one line (no header injection).

The bytes are interpreted by `Draw` (lengths and choices from the front), so every
target works with any fuzzer: atheris (``python -m tests.fuzz.run``), hypothesis, or
random bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from wirekit.http import (
    BodyReader,
    Config,
    LocalProtocolError,
    RemoteProtocolError,
    Reqd,
    Response,
    ServerConnection,
)
from wirekit.http._body import ChunkedDecoder

from tests.http.runtime import run_server

__all__ = ["TARGETS", "Draw", "chunked_decoder", "response_validation", "server_connection"]


class Draw:
    """Reads choices off the front of the fuzzer's bytes; `rest` is what is left."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        """The next byte (0 once the input is used up)."""
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer at the end)."""
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def rest(self) -> bytes:
        """Everything not drawn yet."""
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out

    def cuts(self, payload: bytes, most: int) -> list[bytes]:
        """``payload`` cut into at most ``most`` + 1 pieces at points drawn from the front."""
        n = self.byte() % (most + 1)
        points = sorted({int.from_bytes(self.take(2), "big") % (len(payload) + 1) for _ in range(n)})
        pieces, start = [], 0
        for p in points:
            pieces.append(payload[start:p])
            start = p
        pieces.append(payload[start:])
        return pieces


# Small limits reach the 413/414/431 and backpressure paths with short inputs.
TIGHT = Config(
    max_request_line=64, max_header_bytes=256, max_headers=4, max_chunk_extension_bytes=16,
    max_body_bytes=64, max_pipelined_requests=2, request_body_buffer_size=8, response_buffer_size=16,
    max_drain_bytes=32, max_leading_empty_lines=1, max_pending_output=64,
)


def server_connection(data: bytes) -> None:
    """A `ServerConnection` on arbitrary input: whole, then cut; see the module docstring."""
    draw = Draw(data)
    flags = draw.byte()
    config = TIGHT if flags & 1 else None
    eof = bool(flags & 2)
    cut_bytes = draw.take(17)  # the cut points are drawn from these (the payload stays whole)
    payload = draw.rest()
    ref = run_server([payload], eof, config)
    got = run_server(Draw(cut_bytes).cuts(payload, 8), eof, config)
    assert got.output == ref.output, f"output differs when cut: {got.output[:200]!r} != {ref.output[:200]!r}"
    assert got.seen == ref.seen, "the handler saw other requests when the input was cut"
    assert (got.closed, got.read_closed) == (ref.closed, ref.read_closed), "closing differs when cut"


def _decode(pieces: list[bytes], rooms: list[int], limits: tuple[int, int, int, int | None]) -> tuple[object, ...]:
    """Feed ``pieces`` (then EOF) the way a connection does; the outcome."""
    dec = ChunkedDecoder(*limits)
    body = BodyReader()
    received: list[bytes] = []

    def on_read(chunk: bytes) -> None:
        received.append(chunk)

    inbox = b""
    error: str | None = None
    try:
        for i, piece in enumerate([*pieces, b""]):
            inbox += piece
            last = i == len(pieces)
            while not dec.done:
                room = rooms[i % len(rooms)] if rooms else 1 << 30
                n = dec.feed(inbox, 0, len(inbox), last, room, body)
                assert 0 <= n <= len(inbox), f"consumed {n} of {len(inbox)} bytes"
                inbox = inbox[n:]
                # The handler reads whatever was delivered (room opens up again).
                while body.buffered:
                    body.schedule_read(on_read, lambda: None)
                if n == 0:
                    if last and not dec.done:
                        raise AssertionError("the decoder stopped at EOF without finishing or failing")
                    break
            if dec.done:
                inbox += b"".join(pieces[i + 1 :])  # what follows the body, not fed
                break
    except RemoteProtocolError as e:
        error = e.message
    trailers = None if dec.trailers is None else list(dec.trailers)
    return b"".join(received), dec.done, error is not None, trailers, inbox if dec.done else b""


def chunked_decoder(data: bytes) -> None:
    """The chunked decoder on arbitrary input; see the module docstring."""
    draw = Draw(data)
    flags = draw.byte()
    limits = (16, 128, 4, 64) if flags & 1 else (4096, 65536, 100, None)
    rooms = [draw.byte() % 17 + 1 for _ in range(flags >> 5)]  # small rooms: backpressure
    cut_bytes = draw.take(6)
    payload = draw.rest()
    ref = _decode([payload], [], limits)
    got = _decode(Draw(cut_bytes).cuts(payload, 3), rooms, limits)
    if ref[2] and got[2]:
        return  # both refused the input (possibly after delivering a different prefix)
    assert got == ref, f"decoding differs when cut: {got!r} != {ref!r}"


_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS_LINE = re.compile(rb"HTTP/1\.1 [1-9][0-9]{2} [\t\x20-\x7e\x80-\xff]*")
_FIELD_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ((?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?)")


def response_validation(data: bytes) -> None:
    """A response head from arbitrary parts; see the module docstring."""
    draw = Draw(data)
    status = int.from_bytes(draw.take(2), "big") % 1100
    reason = draw.take(draw.byte() % 24) if draw.byte() & 1 else None
    fields = []
    for _ in range(draw.byte() % 6):
        fields.append((draw.take(draw.byte() % 12), draw.take(draw.byte() % 24)))
    body = draw.rest()
    refused: list[Exception] = []

    def handler(reqd: Reqd) -> None:
        try:
            reqd.respond_with_bytes(Response(status, fields, reason=reason), body)
        except LocalProtocolError as e:
            refused.append(e)
            reqd.respond_with_bytes(Response(500), b"")

    conn = ServerConnection(handler)
    conn.read(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    out = b""
    while True:
        op = conn.next_write_operation()
        iovecs = getattr(op, "iovecs", None)
        if iovecs is None:
            break
        chunk = b"".join(bytes(v) for v in iovecs)
        out += chunk
        conn.report_write_result(len(chunk))
    head, sep, _ = out.partition(b"\r\n\r\n")
    assert sep, f"no complete head: {out[:200]!r}"
    lines = head.split(b"\r\n")
    assert _STATUS_LINE.fullmatch(lines[0]), f"bad status line {lines[0]!r}"
    parsed = []
    for line in lines[1:]:
        m = _FIELD_LINE.fullmatch(line)
        assert m, f"bad field line {line!r} in {head!r}"
        parsed.append((m.group(1), m.group(2)))
    if refused:
        assert lines[0].startswith(b"HTTP/1.1 500 "), "a refused response is answered 500"
        return
    assert lines[0].startswith(b"HTTP/1.1 %d " % status), f"sent status {lines[0]!r}, not {status}"
    framing = {b"content-length", b"transfer-encoding", b"connection"}
    for name, value in fields:
        if name.lower() not in framing:
            assert (name, value) in parsed, f"field {(name, value)!r} not sent as given: {head!r}"


TARGETS: dict[str, Callable[[bytes], None]] = {
    "server_connection": server_connection,
    "chunked_decoder": chunked_decoder,
    "response_validation": response_validation,
}
