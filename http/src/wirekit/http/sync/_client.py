"""A blocking HTTP/1.1 client connection: keep-alive and pipelining over `ClientConnection`.

    with Connection("127.0.0.1", 8080) as conn:
        print(conn.request("GET", "/").body)
        pending = [conn.send("GET", f"/bytes/{n}") for n in range(10)]  # pipelined
        bodies = [p.result().body for p in pending]

Every call that waits drives the connection in the calling thread: it writes what the
connection hands out (one ``sendmsg`` of at most ``IOV_MAX`` buffers at a time) and reads
responses, until what it waits for happened. A response body is collected in memory as
it arrives, unless the request was sent with ``stream=True``: then the body is read as
`ClientResponse.iter_chunks` asks, and while nobody asks the connection stops reading
(backpressure). A request body given as an iterable is sent chunked, each chunk once the
previous one was written.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable, Iterable, Iterator

from wirekit.serializer import socket_writev

from .. import (
    CLOSED,
    READ,
    YIELD,
    BodyReader,
    ClientConnection,
    Close,
    Config,
    HeaderInput,
    Headers,
    LocalProtocolError,
    Request,
    Response,
    Write,
)
from .._received import ReceivedResponse

__all__ = ["ClientResponse", "Connection", "PendingResponse"]

RECV_SIZE = 65536
_IN = select.POLLIN | select.POLLHUP | select.POLLERR


class ClientResponse(ReceivedResponse):
    """A response: ``status``, ``reason``, ``headers``, ``version``; ``body`` once read."""

    def __init__(self, conn: Connection, response: Response, reader: BodyReader, stream: bool) -> None:
        self._conn = conn
        super().__init__(response, reader, stream)

    def read(self) -> bytes:
        """The whole body (also kept as ``body``).

        Raises:
            RemoteProtocolError: the body ended in a framing error, or the connection closed.
            TimeoutError: nothing arrived for the connection's ``timeout``.
        """
        if self.body is None and self._error is None:
            if self._stream:
                self.body = b"".join(self.iter_chunks())
            else:
                self._conn._drive(self._finished)
        return self._whole()

    def iter_chunks(self) -> Iterator[bytes]:
        """The body as it arrives (for ``stream=True``; each chunk is asked for only
        once the previous one was taken).

        Raises:
            RemoteProtocolError: the body ended in a framing error, or the connection closed.
        """
        got: list[bytes] = []
        ended: list[Exception | None] = []
        while True:
            self._ask_chunk(got, ended)
            self._conn._drive(lambda: bool(got or ended))
            chunk = self._take_chunk(got, ended)
            if chunk is None:
                return
            yield chunk


class PendingResponse:
    """A request that was sent (or queued); `result` waits for its response."""

    def __init__(self, conn: Connection, stream: bool) -> None:
        self._conn = conn
        self._stream = stream
        self.response: ClientResponse | None = None
        self.error: Exception | None = None

    def _on_response(self, response: Response, reader: BodyReader) -> None:
        self.response = ClientResponse(self._conn, response, reader, self._stream)

    def _on_error(self, exc: Exception) -> None:
        if self.response is None:
            self.error = exc
        else:
            self.response._error = self.response._error or exc

    def result(self) -> ClientResponse:
        """Wait for the response (and its whole body, unless sent with ``stream=True``).

        Raises:
            RemoteProtocolError: a malformed response, or the connection closed first.
            TimeoutError: nothing arrived for the connection's ``timeout``.
        """
        self._conn._drive(lambda: self.response is not None or self.error is not None)
        if self.error is not None:
            raise self.error
        assert self.response is not None
        if not self._stream:
            self.response.read()
        return self.response


class Connection:
    """One blocking HTTP/1.1 client connection to ``host:port``.

    Args:
        timeout: seconds without any progress (connect, send or receive) before an
            operation raises `TimeoutError` (the connection is then closed).
        config: limits and buffer sizes of the connection.
    """

    def __init__(self, host: str, port: int, timeout: float = 30.0, config: Config | None = None) -> None:
        self.host, self.port = host, port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.cc = ClientConnection(config)
        self._writev = socket_writev(self.sock)
        self._eof = self._read_closed = self._write_closed = False
        self._poller = select.poll()
        self._poller.register(self.sock, 0)
        self._events = 0
        self._authority = f"{host}:{port}".encode("idna")

    def send(
        self,
        method: str,
        target: str,
        headers: HeaderInput | None = None,
        body: bytes | Iterable[bytes] | None = None,
        stream: bool = False,
    ) -> PendingResponse:
        """Send a request (pipelined after those in flight) and return its
        `PendingResponse`. ``body``: bytes (with ``Content-Length``) or an iterable of
        bytes (sent chunked, each chunk once the previous one was written).

        Raises:
            LocalProtocolError: the connection is closing, or the request is invalid.
        """
        fields = Headers(headers)
        if b"host" not in fields:
            fields.add(b"host", self._authority)
        if isinstance(body, bytes | bytearray | memoryview):
            if b"content-length" not in fields and b"transfer-encoding" not in fields:
                fields.add(b"content-length", len(body))
        elif body is not None and b"transfer-encoding" not in fields and b"content-length" not in fields:
            fields.add(b"transfer-encoding", b"chunked")
        pending = PendingResponse(self, stream)
        writer = self.cc.request(Request(method, target, fields), pending._on_response, pending._on_error)
        if isinstance(body, bytes | bytearray | memoryview):
            if body:
                writer.write(body)
            writer.close()
        elif body is not None:
            flushed: list[object] = []
            for chunk in body:
                try:
                    writer.write(chunk)
                except LocalProtocolError:
                    break  # the connection closed: the response reports why
                flushed.clear()
                writer.flush(flushed.append)
                self._drive(lambda: bool(flushed))  # backpressure: one chunk in flight
            writer.close()
        self._drive(lambda: True)  # hand out what can be written now
        return pending

    def request(
        self, method: str, target: str, headers: HeaderInput | None = None, body: bytes | Iterable[bytes] | None = None
    ) -> ClientResponse:
        """Send a request and return its response, body read."""
        return self.send(method, target, headers, body).result()

    # -- the loop ------------------------------------------------------------------------
    def _drive(self, done: Callable[[], bool]) -> None:
        """Move bytes until ``done()`` (checked after every step that made progress) or
        both directions wait on nothing.

        Raises:
            TimeoutError: no progress for ``timeout`` seconds (the connection is closed).
        """
        cc, sock = self.cc, self.sock
        last = time.monotonic()
        while True:
            progress = want_read = want_write = False
            if not self._write_closed:
                op = cc.next_write_operation()
                if type(op) is Write:
                    n = self._writev(op.iovecs)
                    if n is CLOSED or n:
                        cc.report_write_result(n)
                        progress = True
                    else:
                        want_write = True
                elif type(op) is Close:
                    self._write_closed = True
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_WR)
            if not self._read_closed:
                rop = cc.next_read_operation()
                if rop is READ:
                    # (an idle connection's close is noticed with the next request)
                    want_read = cc.in_flight > 0 and not self._eof
                elif rop is not YIELD:
                    self._read_closed = True
            if done():
                return
            if progress:
                last = time.monotonic()
                continue
            if not want_read and not want_write:
                return  # nothing can happen: the caller's condition is decided
            last = self._wait(want_read, want_write, last)

    def _wait(self, want_read: bool, want_write: bool, last: float) -> float:
        """Wait (for ``timeout`` after ``last``, the last progress) until the socket is
        ready as wanted, and read what came; returns the time of the last progress.

        Raises:
            TimeoutError: the wait ran out (the connection is closed).
        """
        left = last + self.timeout - time.monotonic()
        if left <= 0:
            self.close()
            raise TimeoutError(f"no progress for {self.timeout} s")
        wanted = (_IN if want_read else 0) | (select.POLLOUT if want_write else 0)
        if wanted != self._events:
            self._poller.modify(self.sock, wanted)
            self._events = wanted
        if self._poller.poll(int(left * 1000) + 1) and want_read:
            self._recv()
            return time.monotonic()
        return last

    def _recv(self) -> None:
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.cc.report_write_result(CLOSED)
            self.cc.report_exn(exc)
            self._read_closed = self._write_closed = True
            return
        if data:
            self.cc.read(data)  # it takes every byte, keeping what it cannot use yet
        else:
            self._eof = True
            self.cc.read_eof()

    @property
    def reusable(self) -> bool:
        """Whether more requests may be sent."""
        return self.cc.is_persistent and not self._write_closed

    def close(self) -> None:
        """Close the connection (requests still waiting fail)."""
        if not self.cc.is_closed:
            self.cc.shutdown()
        self._read_closed = self._write_closed = True
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
