"""An asyncio HTTP/1.1 client over `ClientConnection`, with keep-alive pools per host.

    async with Client() as client:
        response = await client.request("GET", "http://127.0.0.1:8080/")
        print(response.status, response.body)

Request bodies may be bytes or an async iterable of bytes (sent chunked); response
bodies are read whole (``request``) or streamed (``stream=True`` and
``response.iter_chunks()``). ``pipelining=True`` sends further requests on a busy
connection instead of opening another one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import cast
from urllib.parse import urlsplit

from .. import (
    CLOSE,
    CLOSED,
    READ,
    BodyReader,
    BodyWriter,
    ClientConnection,
    Close,
    Config,
    HeaderInput,
    Headers,
    Request,
    Response,
    Version,
    Write,
)

__all__ = ["Client", "ClientResponse"]


class ClientResponse:
    """A response: status, reason, headers, and the body (``body`` once read)."""

    def __init__(self, response: Response, body: BodyReader) -> None:
        self.status = int(response.status)
        self.reason = response.reason
        self.headers: Headers = response.headers
        self.version: Version = response.version
        self._reader = body
        self._chunks: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self._started = False
        self.body: bytes | None = None

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._schedule()

    def _schedule(self) -> None:
        queue = self._chunks
        self._reader.schedule_read(queue.put_nowait, lambda: queue.put_nowait(None), queue.put_nowait)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives.

        Raises:
            RemoteProtocolError: the body ended in a framing error or the connection died.
        """
        self._start()
        while True:
            item = await self._chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            # Ask for more only once this chunk was taken: a slow consumer leaves the
            # bytes in the connection, which then stops reading (backpressure).
            self._schedule()

    async def read(self) -> bytes:
        """The whole body (also kept as ``body``)."""
        if self.body is None:
            self.body = b"".join([chunk async for chunk in self.iter_chunks()])
        return self.body

    @property
    def trailers(self) -> Headers | None:
        """Trailer fields of a chunked body, once it has been read."""
        return self._reader.trailers

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status}>"


class _Connection(asyncio.Protocol):
    """Moves bytes between a socket and a `ClientConnection`."""

    def __init__(self, config: Config | None) -> None:
        self.cc = ClientConnection(config)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.paused = False
        self.write_paused = False
        self.lost: asyncio.Future[None] = self.loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses: no isinstance).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.cc.read(data)  # (kept by the connection if it cannot take them now)
        self.pump()

    def eof_received(self) -> bool:
        self.cc.read_eof()
        self.pump()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.cc.report_write_result(CLOSED)  # drop pending output: flush callbacks fire (DRAIN)
        if not self.cc.is_closed:
            self.cc.report_exn(ConnectionError("the connection was lost"))
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True  # the socket buffer is full: request body flushes wait

    def resume_writing(self) -> None:
        self.write_paused = False
        self.pump()

    def pump(self) -> None:
        """Run the read and write operations until both wait."""
        cc, transport = self.cc, self.transport
        if transport is None or self.closed:
            return
        while not self.write_paused:
            op = cc.next_write_operation()
            if type(op) is Write:
                transport.write(b"".join(op.iovecs))
                cc.report_write_result(op.nbytes)
                continue
            if type(op) is Close:
                if transport.can_write_eof() and not transport.is_closing():
                    transport.write_eof()
            else:
                cc.yield_writer(self._wake)
            break
        rop = cc.next_read_operation()
        if rop is READ:
            if self.paused:
                self.paused = False
                transport.resume_reading()
        elif rop is CLOSE:
            if cc.is_closed or not cc.in_flight:
                self.closed = True
                transport.close()
        else:
            if not self.paused:
                self.paused = True
                transport.pause_reading()
            cc.yield_reader(self._wake)

    def _wake(self) -> None:
        self.loop.call_soon(self.pump)

    @property
    def reusable(self) -> bool:
        return not self.closed and self.cc.is_persistent


def _resolver(fut: asyncio.Future[None]) -> Callable[[object], None]:
    def resolve(_: object) -> None:
        if not fut.done():
            fut.set_result(None)

    return resolve


class Client:
    """An asyncio HTTP/1.1 client with a keep-alive connection pool per host.

    Args:
        timeout: seconds to wait for connecting and for the response head.
        pipelining: send a request on a connection that is still waiting for responses.
        max_connections: connections kept per host.
        config: limits and buffer sizes of each connection.
    """

    def __init__(
        self, timeout: float = 30.0, pipelining: bool = False, max_connections: int = 10, config: Config | None = None
    ) -> None:
        self.timeout = timeout
        self.pipelining = pipelining
        self.max_connections = max_connections
        self.config = config
        self._pools: dict[tuple[str, int], list[_Connection]] = {}

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every pooled connection."""
        for conns in self._pools.values():
            for conn in conns:
                if conn.transport is not None:
                    conn.transport.close()
        self._pools.clear()

    async def _connection(self, host: str, port: int) -> _Connection:
        pool = self._pools.setdefault((host, port), [])
        pool[:] = [c for c in pool if c.reusable]
        for conn in pool:
            if conn.cc.in_flight == 0 or self.pipelining:
                return conn
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: _Connection(self.config), host, port), self.timeout
        )
        if len(pool) < self.max_connections:
            pool.append(protocol)
        return protocol

    async def request(
        self,
        method: str,
        url: str,
        headers: HeaderInput | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        stream: bool = False,
    ) -> ClientResponse:
        """Send a request and return the response (its body read unless ``stream``).

        Raises:
            ValueError: the URL is not ``http://``.
            RemoteProtocolError: a malformed response.
            TimeoutError: no response head within ``timeout``.
        """
        host, port, target, fields = _request_head(url, headers, body)
        conn = await self._connection(host, port)
        loop = asyncio.get_running_loop()
        result: asyncio.Future[ClientResponse] = loop.create_future()

        def on_response(response: Response, reader: BodyReader) -> None:
            if not result.done():
                result.set_result(ClientResponse(response, reader))

        def on_error(exc: Exception) -> None:
            if not result.done():
                result.set_exception(exc)

        writer = conn.cc.request(Request(method, target, fields), on_response, on_error)
        if isinstance(body, bytes | bytearray | memoryview):
            if body:
                writer.write(body)
            writer.close()
            conn.pump()
        elif body is not None:
            await _send_stream(conn, writer, body)
        else:
            conn.pump()
        try:
            response = await asyncio.wait_for(result, self.timeout)
        except TimeoutError:
            # Its response may still come: the connection cannot be reused (a pipelined
            # request would wait behind it), so close it.
            conn.closed = True
            if conn.transport is not None:
                conn.transport.close()
            raise
        if not stream:
            await response.read()
        return response

    async def get(self, url: str, headers: HeaderInput | None = None) -> ClientResponse:
        """``request("GET", url)``."""
        return await self.request("GET", url, headers)

    async def post(self, url: str, body: bytes | AsyncIterable[bytes], headers: HeaderInput | None = None) -> ClientResponse:
        """``request("POST", url, body=body)``."""
        return await self.request("POST", url, headers, body)


def _request_head(
    url: str, headers: HeaderInput | None, body: bytes | AsyncIterable[bytes] | None
) -> tuple[str, int, str, Headers]:
    """(host, port, target, fields) of a request to ``url``: Host added, and the body's
    framing (Content-Length for bytes, chunked for a stream) unless ``headers`` has it.

    Raises:
        ValueError: the URL is not ``http://``.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// URLs are supported, got {url!r}")
    host, port = parts.hostname, parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fields = Headers(headers)
    if b"host" not in fields:
        fields.add(b"host", parts.netloc.encode("idna") if not parts.port else f"{host}:{port}".encode())
    if isinstance(body, bytes | bytearray | memoryview):
        if b"content-length" not in fields:
            fields.add(b"content-length", len(body))
    elif body is not None and b"transfer-encoding" not in fields and b"content-length" not in fields:
        fields.add(b"transfer-encoding", b"chunked")
    return host, port, target, fields


async def _send_stream(conn: _Connection, writer: BodyWriter, body: AsyncIterable[bytes]) -> None:
    """Write a streamed request body, a chunk at a time (backpressure: the next once the
    socket took this one, or the peer left)."""
    loop = asyncio.get_running_loop()
    conn.pump()
    async for chunk in body:
        if conn.closed:
            break  # the response future has the error
        writer.write(chunk)
        flushed: asyncio.Future[None] = loop.create_future()
        writer.flush(_resolver(flushed))
        conn.pump()
        await flushed  # backpressure: the socket took the chunk (or the peer left)
    if not conn.closed:
        writer.close()
        conn.pump()
