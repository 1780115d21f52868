"""A trio HTTP/1.1 client connection: keep-alive and pipelining over `ClientConnection`.

    async with connect("127.0.0.1", 8080) as conn:
        response = await conn.request("GET", "/")
        pending = [conn.send("GET", f"/bytes/{n}") for n in range(10)]  # pipelined
        bodies = [(await p.result()).body for p in pending]

The connection's task (`Driver`) runs in the nursery that `connect`
opens. A response body is collected as it arrives, unless the request was sent with
``stream=True``: then it is read as `ClientResponse.iter_chunks` asks, and while nobody
asks the connection stops reading (backpressure). A request body given as an async
iterable is sent chunked, each chunk once the previous one was written.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager

import trio

from .. import (
    BodyReader,
    BodyWriter,
    ClientConnection,
    Config,
    HeaderInput,
    Headers,
    LocalProtocolError,
    Request,
    Response,
)
from .._received import ReceivedResponse
from ._driver import Driver, own

__all__ = ["ClientResponse", "Connection", "PendingResponse", "connect"]


class _Signal:
    """A condition the connection's callbacks change: waiters sleep until it holds."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def notify(self, *_: object) -> None:
        self._event.set()
        self._event = trio.Event()

    async def until(self, done: Callable[[], bool]) -> None:
        while not done():
            await self._event.wait()


class ClientResponse(ReceivedResponse):
    """A response: ``status``, ``reason``, ``headers``, ``version``; ``body`` once read."""

    def __init__(self, response: Response, reader: BodyReader, stream: bool, signal: _Signal) -> None:
        self._signal = signal
        super().__init__(response, reader, stream, signal.notify)

    async def read(self) -> bytes:
        """The whole body (also kept as ``body``).

        Raises:
            RemoteProtocolError: the body ended in a framing error, or the connection closed.
        """
        if self.body is None and self._error is None:
            if self._stream:
                self.body = b"".join([chunk async for chunk in self.iter_chunks()])
            else:
                await self._signal.until(self._finished)
        return self._whole()

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (for ``stream=True``; each chunk is asked for only once
        the previous one was taken).

        Raises:
            RemoteProtocolError: the body ended in a framing error, or the connection closed.
        """
        got: list[bytes] = []
        ended: list[Exception | None] = []
        while True:
            self._ask_chunk(got, ended)
            await self._signal.until(lambda: bool(got or ended))
            chunk = self._take_chunk(got, ended)
            if chunk is None:
                return
            yield chunk


class PendingResponse:
    """A request that was sent (or queued); `result` waits for its response."""

    def __init__(self, stream: bool, signal: _Signal) -> None:
        self._stream = stream
        self._signal = signal
        self.response: ClientResponse | None = None
        self.error: Exception | None = None

    def _on_response(self, response: Response, reader: BodyReader) -> None:
        self.response = ClientResponse(response, reader, self._stream, self._signal)
        self._signal.notify()

    def _on_error(self, exc: Exception) -> None:
        if self.response is None:
            self.error = exc
        else:
            self.response._error = self.response._error or exc
        self._signal.notify()

    async def result(self) -> ClientResponse:
        """Wait for the response (and its whole body, unless sent with ``stream=True``).

        Raises:
            RemoteProtocolError: a malformed response, or the connection closed first.
        """
        await self._signal.until(lambda: self.response is not None or self.error is not None)
        if self.error is not None:
            raise self.error
        assert self.response is not None
        if not self._stream:
            await self.response.read()
        return self.response


class Connection:
    """One HTTP/1.1 client connection (made by `connect`)."""

    def __init__(self, cc: ClientConnection, authority: bytes) -> None:
        self.cc = cc
        self._authority = authority
        self._signal = _Signal()

    def send(
        self,
        method: str,
        target: str,
        headers: HeaderInput | None = None,
        body: bytes | None = None,
        stream: bool = False,
    ) -> PendingResponse:
        """Send a request (pipelined after those in flight); returns its `PendingResponse`.

        Raises:
            LocalProtocolError: the connection is closing, or the request is invalid.
        """
        return self._start(method, target, headers, body, stream)[0]

    def _start(
        self, method: str, target: str, headers: HeaderInput | None, body: bytes | AsyncIterable[bytes] | None, stream: bool
    ) -> tuple[PendingResponse, BodyWriter]:
        fields = Headers(headers)
        if b"host" not in fields:
            fields.add(b"host", self._authority)
        if isinstance(body, bytes | bytearray | memoryview):
            if b"content-length" not in fields and b"transfer-encoding" not in fields:
                fields.add(b"content-length", len(body))
        elif body is not None and b"transfer-encoding" not in fields and b"content-length" not in fields:
            fields.add(b"transfer-encoding", b"chunked")
        pending = PendingResponse(stream, self._signal)
        writer = self.cc.request(Request(method, target, fields), pending._on_response, pending._on_error)
        if isinstance(body, bytes | bytearray | memoryview):
            if body:
                writer.write(body)
            writer.close()
        return pending, writer

    async def request(
        self,
        method: str,
        target: str,
        headers: HeaderInput | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        stream: bool = False,
    ) -> ClientResponse:
        """Send a request and return its response (body read unless ``stream``).
        ``body``: bytes, or an async iterable of bytes (sent chunked, with backpressure)."""
        pending, writer = self._start(method, target, headers, body, stream)
        if body is not None and not isinstance(body, bytes | bytearray | memoryview):
            flushed: list[object] = []

            def on_flush(reason: object) -> None:
                flushed.append(reason)
                self._signal.notify()

            async for chunk in body:
                try:
                    writer.write(chunk)
                except LocalProtocolError:
                    break  # the connection closed: the response reports why
                flushed.clear()
                writer.flush(on_flush)
                await self._signal.until(lambda: bool(flushed))
            writer.close()
        return await pending.result()

    @property
    def reusable(self) -> bool:
        """Whether more requests may be sent."""
        return self.cc.is_persistent


@asynccontextmanager
async def connect(host: str, port: int, config: Config | None = None) -> AsyncIterator[Connection]:
    """Open a connection to ``host:port``; it is closed when the block ends."""
    stream = await trio.open_tcp_stream(host, port)
    sock = own(stream.socket)
    cc = ClientConnection(config)
    driver = Driver(cc, sock)
    connection = Connection(cc, f"{host}:{port}".encode("idna"))
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(driver.run)
            try:
                yield connection
            finally:
                nursery.cancel_scope.cancel()
    finally:
        if not cc.is_closed:
            cc.shutdown()
        sock.close()
