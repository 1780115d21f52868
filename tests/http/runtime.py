"""A fake runtime for the wirekit.http tests (http/af's lib_test ``Runtime``, in Python).

`Runtime` drives a `ServerConnection` or a `ClientConnection` the way a real runtime
does: two loops, one per direction, that honour `Yield` (a loop only polls again after
its ``yield_reader``/``yield_writer`` callback fired), hand every received byte to
the connection once (it keeps what it cannot use yet), and collect everything written (optionally accepting only part
of each `Write`, or reporting the peer gone). It records the operations it saw.

`EchoApp` is a request handler that reads every request's whole body and answers
``200`` with it, recording what it saw (`Seen`). `run_server` and `check_splits` feed a
byte string to a fresh server in one piece, split at every point, and one byte at a time,
and assert the output bytes and the handler-observed requests are the same every time.

`parse_responses` splits a server's output into responses (a small, independent parser:
it trusts nothing of the code under test).

Import as ``from tests.http.runtime import Runtime`` (pytest's importlib mode registers
the ``tests.http`` package when it collects the tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wirekit.http import (
    CLOSED,
    READ,
    UPGRADE,
    YIELD,
    ClientConnection,
    Close,
    Config,
    Method,
    Reqd,
    Response,
    ServerConnection,
    Upgrade,
    Write,
    Yield,
)

__all__ = [
    "EchoApp",
    "ParsedResponse",
    "Result",
    "Runtime",
    "Seen",
    "WriteSize",
    "check_splits",
    "get",
    "half",
    "parse_responses",
    "run_server",
    "statuses",
]

Connection = ServerConnection | ClientConnection
WriteSize = Callable[[int], int]


def half(n: int) -> int:
    """Accept half of each write (at least one byte): a blocked socket."""
    return max(1, n // 2)


def get(target: str = "/", *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    """A request head with ``Host: a`` (for 1.1) and the given ``Name: value`` lines."""
    lines = [f"{method} {target} HTTP/{version}"]
    if version == "1.1":
        lines.append("Host: a")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Runtime:
    """Drives one connection; see the module docstring.

    Args:
        conn: the connection.
        write_size: how many bytes of a ``Write`` of n bytes the "socket" accepts
            (default: all of them).
        auto: pump after every call that may make progress (`send`, `send_eof`, `wake`).
    """

    def __init__(self, conn: Connection, write_size: WriteSize | None = None) -> None:
        self.conn = conn
        self.write_size = write_size
        self.inbox = bytearray()
        """Input received and not consumed yet."""
        self.eof = False
        self._eof_delivered = False
        self.output = bytearray()
        self.writes: list[bytes] = []
        """The bytes of each `Write` actually written, in order."""
        self.read_ops: list[str] = []
        self.write_ops: list[str] = []
        self.reads: list[tuple[int, int]] = []
        """(bytes presented, bytes consumed) of each ``read``/``read_eof`` call."""
        self.reader_yielded = False
        self.writer_yielded = False
        self.reader_wakeups = 0
        self.writer_wakeups = 0
        self.read_closed = False
        self.write_closed = False
        self.read_upgraded = False
        self.write_upgraded = False
        self.drained: int | None = None
        """``n`` of the ``Close(n)`` the writer got."""
        self.peer_gone = False
        """Report `CLOSED` for every further write."""
        self.write_paused = False
        """Do not poll the writer (a socket that is not writable)."""

    @property
    def unread(self) -> bytes:
        """Input nobody used yet: what the connection holds, then what arrived since
        (after `Upgrade`, the runtime took the connection's part into `inbox`)."""
        if self.read_upgraded:
            return bytes(self.inbox)
        return self.conn.unconsumed + bytes(self.inbox)

    # -- feeding ----------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Bytes arrive from the peer."""
        self.inbox += data
        self.pump()

    def send_eof(self, data: bytes = b"") -> None:
        """The last bytes arrive, then end of stream."""
        self.inbox += data
        self.eof = True
        self.pump()

    def feed(self, chunks: Sequence[bytes], eof: bool = False) -> None:
        """`send` each chunk in turn (then `send_eof` if asked). Once the reader stopped
        (`Close`/`Upgrade`) the rest only piles up in `inbox`, so it is added at once."""
        for i, chunk in enumerate(chunks):
            if self.read_closed or self.read_upgraded:
                self.send(b"".join(chunks[i:]))
                break
            self.send(chunk)
        if eof:
            self.send_eof()

    # -- the loops --------------------------------------------------------------------
    def pump(self) -> None:
        """Run both loops until neither makes progress."""
        for _ in range(1_000_000):
            progress = self.read_step()
            progress = self.write_step() or progress
            if not progress:
                return
        raise AssertionError("the connection keeps asking for work (livelock)")

    def _log(self, ops: list[str], name: str) -> None:
        if not ops or ops[-1] != name:
            ops.append(name)

    def read_step(self) -> bool:
        """One turn of the reader loop; whether it made progress."""
        if self.reader_yielded or self.read_closed or self.read_upgraded:
            return False
        op = self.conn.next_read_operation()
        if op is READ:
            self._log(self.read_ops, "read")
            if self.eof:
                if self._eof_delivered:
                    return False
                presented = len(self.inbox)
                n = self.conn.read_eof(bytes(self.inbox))
                self._eof_delivered = True
            elif self.inbox:
                presented = len(self.inbox)
                n = self.conn.read(bytes(self.inbox))
            else:
                return False
            # The connection takes every byte (it keeps what it cannot use yet), unless
            # its reader closed: then the rest is not wanted.
            assert n == presented or isinstance(self.conn.next_read_operation(), Close), f"read took {n} of {presented} bytes"
            self.reads.append((presented, n))
            del self.inbox[:]
            return True
        if isinstance(op, Yield):
            self._log(self.read_ops, "yield")
            self.reader_yielded = True
            self.conn.yield_reader(self._wake_reader)
            return not self.reader_yielded  # the callback may fire at once
        if isinstance(op, Close):
            self._log(self.read_ops, "close")
            self.read_closed = True
            return True
        assert isinstance(op, Upgrade), op
        self._log(self.read_ops, "upgrade")
        self.read_upgraded = True
        # What followed the upgrade request belongs to the new protocol: the runtime
        # hands it over with the socket, ahead of anything received since.
        self.inbox[0:0] = self.conn.unconsumed
        return True

    def write_step(self) -> bool:
        """One turn of the writer loop; whether it made progress."""
        if self.writer_yielded or self.write_closed or self.write_upgraded or self.write_paused:
            return False
        op = self.conn.next_write_operation()
        if isinstance(op, Write):
            data = b"".join(bytes(v) for v in op.iovecs)
            assert len(data) == op.nbytes, "Write.nbytes disagrees with its iovecs"
            assert op.nbytes > 0, "an empty Write"
            if self.peer_gone:
                self._log(self.write_ops, "write-closed")
                self.conn.report_write_result(CLOSED)
                return True
            n = op.nbytes if self.write_size is None else self.write_size(op.nbytes)
            self.write_ops.append(f"write({n})")
            self.output += data[:n]
            self.writes.append(data[:n])
            self.conn.report_write_result(n)
            return n > 0
        if isinstance(op, Yield):
            self._log(self.write_ops, "yield")
            self.writer_yielded = True
            self.conn.yield_writer(self._wake_writer)
            return not self.writer_yielded
        if isinstance(op, Close):
            self._log(self.write_ops, f"close({op.drained})")
            self.write_closed = True
            self.drained = op.drained
            return True
        assert op is UPGRADE, op
        self._log(self.write_ops, "upgrade")
        self.write_upgraded = True
        return True

    def _wake_reader(self) -> None:
        assert self.reader_yielded, "reader woken twice (or without yielding)"
        self.reader_yielded = False
        self.reader_wakeups += 1

    def _wake_writer(self) -> None:
        assert self.writer_yielded, "writer woken twice (or without yielding)"
        self.writer_yielded = False
        self.writer_wakeups += 1

    # -- looking at the result --------------------------------------------------------
    def take_output(self) -> bytes:
        """The bytes written since the last call."""
        out = bytes(self.output)
        self.output.clear()
        return out

    @property
    def closed(self) -> bool:
        """Both loops saw `Close`."""
        return self.read_closed and self.write_closed

    @property
    def next_read(self) -> str:
        """The connection's next read operation, by name (does not record it)."""
        op = self.conn.next_read_operation()
        return "read" if op is READ else "yield" if op is YIELD else "upgrade" if op is UPGRADE else "close"

    @property
    def next_write(self) -> str:
        """The connection's next write operation, by name (does not perform it)."""
        op = self.conn.next_write_operation()
        if isinstance(op, Write):
            return "write"
        if isinstance(op, Close):
            return f"close({op.drained})"
        return "yield" if op is YIELD else "upgrade"


# -----------------------------------------------------------------------------------------
# A recording request handler
# -----------------------------------------------------------------------------------------
@dataclass
class Seen:
    """What a handler observed of one request."""

    method: bytes
    target: bytes
    version: str
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    complete: bool = False
    trailers: list[tuple[bytes, bytes]] | None = None
    error: str | None = None


def method_bytes(m: Method | bytes) -> bytes:
    """A request method as bytes."""
    return m.value if isinstance(m, Method) else m


class EchoApp:
    """Reads each request's whole body, then answers 200 with it (``Content-Length``).

    Args:
        respond: if given, called instead of the echo once the body is complete.
    """

    def __init__(self, respond: Callable[[Reqd, bytes], None] | None = None) -> None:
        self.seen: list[Seen] = []
        self.respond = respond

    def __call__(self, reqd: Reqd) -> None:
        req = reqd.request
        assert req is not None
        seen = Seen(method_bytes(req.method), req.target, str(req.version), list(req.headers))
        self.seen.append(seen)
        body = reqd.request_body
        parts: list[bytes] = []

        def on_read(data: bytes) -> None:
            assert isinstance(data, bytes)
            parts.append(data)
            body.schedule_read(on_read, on_eof, on_error)

        def on_eof() -> None:
            seen.body = b"".join(parts)
            seen.complete = True
            seen.trailers = None if body.trailers is None else list(body.trailers)
            if self.respond is not None:
                self.respond(reqd, seen.body)
            else:
                reqd.respond_with_bytes(Response(200, [(b"content-type", b"text/plain")]), seen.body)

        def on_error(exc: Exception) -> None:
            seen.body = b"".join(parts)
            seen.error = type(exc).__name__

        body.schedule_read(on_read, on_eof, on_error)


# -----------------------------------------------------------------------------------------
# Every split point
# -----------------------------------------------------------------------------------------
@dataclass
class Result:
    """What one run of a server on some input produced."""

    output: bytes
    seen: list[Seen]
    closed: bool
    read_closed: bool
    rt: Runtime = field(repr=False, compare=False)


def run_server(
    chunks: Sequence[bytes],
    eof: bool = False,
    config: Config | None = None,
    app: Callable[[], Callable[[Reqd], None]] | None = None,
) -> Result:
    """Run a fresh `ServerConnection` with an `EchoApp` (or ``app()``) on ``chunks``."""
    handler = app() if app is not None else EchoApp()
    conn = ServerConnection(handler, config=config)
    rt = Runtime(conn)
    rt.pump()
    rt.feed(chunks, eof)
    seen = handler.seen if isinstance(handler, EchoApp) else []
    return Result(bytes(rt.output), seen, rt.closed, rt.read_closed, rt)


def check_splits(
    data: bytes,
    eof: bool = False,
    config: Config | None = None,
    app: Callable[[], Callable[[Reqd], None]] | None = None,
    exhaustive: bool = True,
) -> Result:
    """Run ``data`` in one piece, at every split point and one byte at a time; assert the
    output, the handler-observed requests and the closing are the same each time.

    With ``exhaustive=False`` (long inputs) only a few split points are tried, plus fixed
    chunk sizes (1, 7 and 4096 bytes), the one-byte run included.
    """
    ref = run_server([data], eof, config, app)
    n = len(data)
    if exhaustive:
        splits: list[list[bytes]] = [[data[:i], data[i:]] for i in range(n + 1)]
    else:
        points = sorted({0, 1, n // 3, n // 2, n - 1, n} - {-1})
        splits = [[data[:i], data[i:]] for i in points if 0 <= i <= n]
    sizes = (1, 7, 4096) if not exhaustive else (1, 3)
    for size in sizes:
        splits.append([data[i : i + size] for i in range(0, n, size)])
    for chunks in splits:
        got = run_server(chunks, eof, config, app)
        cut = [len(c) for c in chunks]
        assert got.output == ref.output, f"output differs when fed as {cut[:8]}...: {got.output[:300]!r} != {ref.output[:300]!r}"
        assert got.seen == ref.seen, f"handler saw something else when fed as {cut[:8]}..."
        assert got.closed == ref.closed, f"closing differs when fed as {cut[:8]}..."
        assert got.read_closed == ref.read_closed, f"reader closing differs when fed as {cut[:8]}..."
    return ref


# -----------------------------------------------------------------------------------------
# Reading what a server wrote (independent of the code under test)
# -----------------------------------------------------------------------------------------
@dataclass
class ParsedResponse:
    """One response found in a server's output."""

    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunked: bool = False
    complete: bool = True
    """False for a chunked body without its last chunk, or a short fixed body."""
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (case-insensitive)."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def header_names(self) -> list[bytes]:
        """The lower-cased header names."""
        return [n.lower() for n, _ in self.headers]


_STATUS_LINE = re.compile(rb"(HTTP/\d\.\d) (\d{3}) ?([^\r\n]*)\Z")
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]+)\Z")


def parse_responses(data: bytes, methods: Sequence[bytes | str] = ()) -> list[ParsedResponse]:
    """Split a server's output into responses. ``methods[i]`` is the method of the i-th
    request (``GET`` when missing): HEAD responses have no body. Interim (1xx) responses
    are listed too (they do not use up a method)."""
    out: list[ParsedResponse] = []
    pos = 0
    final = 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        assert end >= 0, f"incomplete response head: {data[pos:pos + 200]!r}"
        lines = data[pos:end].split(b"\r\n")
        m = _STATUS_LINE.match(lines[0])
        assert m is not None, f"bad status line {lines[0]!r}"
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            assert sep and name and b" " not in name, f"bad header line {line!r}"
            headers.append((name, value.strip(b" \t")))
        resp = ParsedResponse(m.group(1), int(m.group(2)), m.group(3), headers, b"")
        pos = end + 4
        out.append(resp)
        status = resp.status
        if status < 200:
            continue
        method = methods[final] if final < len(methods) else b"GET"
        if isinstance(method, str):
            method = method.encode()
        final += 1
        if method == b"HEAD" or status in (204, 304):
            continue
        te = resp.header(b"transfer-encoding")
        cl = resp.header(b"content-length")
        if te is not None:
            assert te.lower() == b"chunked", te
            resp.chunked = True
            body = bytearray()
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    resp.complete = False
                    pos = len(data)
                    break
                sm = _CHUNK_SIZE.match(data[pos:eol])
                assert sm is not None, f"bad chunk size line {data[pos:eol]!r}"
                size = int(sm.group(1), 16)
                pos = eol + 2
                if size == 0:
                    tend = data.find(b"\r\n\r\n", pos - 2)
                    assert tend >= 0, "incomplete trailer section"
                    for line in data[pos:tend].split(b"\r\n"):
                        if line:
                            name, _, value = line.partition(b":")
                            resp.trailers.append((name, value.strip(b" \t")))
                    pos = tend + 4
                    break
                if pos + size + 2 > len(data):
                    body += data[pos : pos + size]
                    resp.complete = False
                    pos = len(data)
                    break
                body += data[pos : pos + size]
                assert data[pos + size : pos + size + 2] == b"\r\n", "chunk data not followed by CRLF"
                pos += size + 2
            resp.body = bytes(body)
        elif cl is not None:
            n = int(cl)
            resp.body = data[pos : pos + n]
            resp.complete = len(resp.body) == n
            pos += n
        else:  # close-delimited
            resp.body = data[pos:]
            pos = len(data)
    return out


def statuses(data: bytes, methods: Sequence[bytes | str] = ()) -> list[int]:
    """The status codes of the responses in ``data``."""
    return [r.status for r in parse_responses(data, methods)]
