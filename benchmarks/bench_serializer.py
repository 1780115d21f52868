"""Benchmarks for ``wirekit.serializer``.

Run with ``uv run python benchmarks/bench_serializer.py`` (or through
``benchmarks/run.py serializer``). Three measurements, all in one run:

1. Throughput: 100 000 HTTP-response-like messages (a status line, 6 headers
   written as name / ": " / value / CRLF, a blank line and a 16-byte body)
   written piece by piece with ``Serializer.write_bytes``, handing the output
   out with ``operation()`` + ``shift()`` every 16 messages as a server
   would, against the usual Python idiom: append the same pieces to a list
   and ``b"".join`` it every 16 messages. Also shown: ``Serializer.writelines``
   (one call per message), and the cost floor of any per-piece Python method
   (a method whose whole body is ``list.append``). Best of several repeats;
   every variant is checked to produce exactly the baseline's bytes.
2. Allocation: bytes allocated (``tracemalloc``) when a 1 MiB body is given
   to ``schedule``.
3. Batching: how many ``Writev`` operations and iovecs 16 small responses
   written back to back come out as.
"""

from __future__ import annotations

import platform
import sys
import time
import tracemalloc
from collections.abc import Callable

from wirekit.serializer import Serializer, Writev

MESSAGES = 100_000
BATCH = 16  # messages between two operation()/shift() (or join) rounds
REPEATS = 5

STATUS = b"HTTP/1.1 200 OK\r\n"
HEADERS = [
    (b"Content-Type", b"text/plain; charset=utf-8"),
    (b"Content-Length", b"16"),
    (b"Date", b"Thu, 27 Nov 2025 07:01:00 GMT"),
    (b"Server", b"wirekit"),
    (b"Connection", b"keep-alive"),
    (b"X-Request-Id", b"4f1c2b7e9a3d5c60"),
]
BODY = b"0123456789abcdef"
PIECES = [STATUS]
for _name, _value in HEADERS:
    PIECES += [_name, b": ", _value, b"\r\n"]
PIECES += [b"\r\n", BODY]
MESSAGE = b"".join(PIECES)

Sink = Callable[[object], object]


def with_join(sink: Sink) -> None:
    """The baseline: append every piece to a list, join every BATCH messages."""
    parts: list[bytes] = []
    append = parts.append
    status, headers, body = STATUS, HEADERS, BODY
    for i in range(MESSAGES):
        append(status)
        for name, value in headers:
            append(name)
            append(b": ")
            append(value)
            append(b"\r\n")
        append(b"\r\n")
        append(body)
        if i % BATCH == BATCH - 1:
            sink(b"".join(parts))
            parts.clear()
    if parts:
        sink(b"".join(parts))


def _drain(s: Serializer, sink: Sink) -> None:
    op = s.operation()
    while isinstance(op, Writev):
        sink(op.iovecs)
        s.shift(op.nbytes)
        op = s.operation()


def with_write_bytes(sink: Sink) -> None:
    """The serializer, one ``write_bytes`` call per piece."""
    s = Serializer()
    write = s.write_bytes
    status, headers, body = STATUS, HEADERS, BODY
    for i in range(MESSAGES):
        write(status)
        for name, value in headers:
            write(name)
            write(b": ")
            write(value)
            write(b"\r\n")
        write(b"\r\n")
        write(body)
        if i % BATCH == BATCH - 1:
            _drain(s, sink)
    _drain(s, sink)


def with_write(sink: Sink) -> None:
    """The serializer, one ``write`` call per piece (its C-level fast writer)."""
    s = Serializer()
    write = s.write
    status, headers, body = STATUS, HEADERS, BODY
    for i in range(MESSAGES):
        write(status)
        for name, value in headers:
            write(name)
            write(b": ")
            write(value)
            write(b"\r\n")
        write(b"\r\n")
        write(body)
        if i % BATCH == BATCH - 1:
            _drain(s, sink)
    _drain(s, sink)


def with_writelines(sink: Sink) -> None:
    """The serializer, one ``writelines`` call per message."""
    s = Serializer()
    writelines = s.writelines
    status, headers, body = STATUS, HEADERS, BODY
    for i in range(MESSAGES):
        parts = [status]
        for name, value in headers:
            parts += (name, b": ", value, b"\r\n")
        parts += (b"\r\n", body)
        writelines(parts)
        if i % BATCH == BATCH - 1:
            _drain(s, sink)
    _drain(s, sink)


class _AppendOnly:
    """The cheapest possible per-piece method: its body is one ``list.append``."""

    __slots__ = ("_append", "parts")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self._append = self.parts.append

    def write_bytes(self, data: bytes) -> None:
        self._append(data)


def with_method_floor(sink: Sink) -> None:
    """Not a serializer: the cost of one Python method call per piece, plus the join."""
    w = _AppendOnly()
    write, parts = w.write_bytes, w.parts
    status, headers, body = STATUS, HEADERS, BODY
    for i in range(MESSAGES):
        write(status)
        for name, value in headers:
            write(name)
            write(b": ")
            write(value)
            write(b"\r\n")
        write(b"\r\n")
        write(body)
        if i % BATCH == BATCH - 1:
            sink(b"".join(parts))
            parts.clear()
    if parts:
        sink(b"".join(parts))


def _collect(run: Callable[[Sink], None]) -> bytes:
    out: list[bytes] = []

    def sink(item: object) -> None:
        if isinstance(item, list):
            out.append(b"".join(item))  # iovecs: copy before they are shifted
        else:
            assert isinstance(item, bytes)
            out.append(item)

    run(sink)
    return b"".join(out)


def _best_time(run: Callable[[Sink], None]) -> float:
    def sink(item: object) -> None:
        pass

    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        run(sink)
        best = min(best, time.perf_counter() - start)
    return best


def throughput() -> list[str]:
    variants: list[tuple[str, Callable[[Sink], None]]] = [
        ('b"".join of a list (baseline)', with_join),
        ("Serializer.write per piece", with_write),
        ("Serializer.write_bytes per piece", with_write_bytes),
        ("Serializer.writelines per message", with_writelines),
        ("floor: a method that only appends", with_method_floor),
    ]
    expected = MESSAGE * MESSAGES
    for label, run in variants:
        if _collect(run) != expected:
            raise AssertionError(f"{label} produced different bytes")
    times = {label: _best_time(run) for label, run in variants}
    baseline = times[variants[0][0]]
    size = len(expected)
    lines = [
        f"{MESSAGES} messages of {len(MESSAGE)} bytes, {len(PIECES)} pieces each, "
        f"output taken every {BATCH} messages; best of {REPEATS} (identical bytes checked)",
        f"  {'variant':<36} {'time':>9} {'MB/s':>8} {'msg/s':>11} {'vs join':>8}",
    ]
    for label, _ in variants:
        t = times[label]
        lines.append(
            f"  {label:<36} {t * 1e3:7.1f}ms {size / t / 1e6:8.1f} "
            f"{MESSAGES / t:11,.0f} {baseline / t:7.2f}x"
        )
    return lines


def schedule_allocations() -> list[str]:
    body = bytes(1 << 20)
    rounds = 1000
    s = Serializer()
    s.write_bytes(b"warm-up")
    s.schedule(body)
    _drain(s, lambda item: None)
    tracemalloc.start()
    try:
        # Retained: schedule the same 1 MiB body many times, shifting nothing.
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            s.schedule(body)
        retained = (tracemalloc.get_traced_memory()[0] - before) / rounds
        s.drain()
        # Peak of one server-like round: headers, body, operation, shift.
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        s.write_bytes(STATUS)
        s.schedule(body)
        op = s.operation()
        assert isinstance(op, Writev) and op.iovecs[1] is body
        s.shift(op.nbytes)
        del op
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return [
        f"schedule() of a 1 MiB body (tracemalloc): {retained:.1f} bytes retained per schedule; "
        f"peak {peak} bytes for write + schedule + operation + shift (target < 1024)",
    ]


def batching() -> list[str]:
    s = Serializer()
    for _ in range(16):
        for piece in PIECES:
            s.write_bytes(piece)
    ops = iovecs = 0
    nbytes = 0
    op = s.operation()
    while isinstance(op, Writev):
        ops += 1
        iovecs += len(op.iovecs)
        nbytes += op.nbytes
        s.shift(op.nbytes)
        op = s.operation()
    return [
        f"16 small responses ({16 * len(PIECES)} write_bytes calls, {nbytes} bytes) "
        f"come out as {ops} Writev with {iovecs} iovec(s) (target: 1 and 1)"
    ]


def main() -> None:
    """Run the serializer benchmarks and print a plain-text report."""
    print(f"wirekit.serializer benchmarks - Python {platform.python_version()} on {sys.platform}")
    for line in throughput() + schedule_allocations() + batching():
        print(line)


if __name__ == "__main__":
    main()
