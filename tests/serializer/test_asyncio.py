"""The asyncio driver (``_asyncio.py``): a fake transport, then real loopback connections."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from wirekit.serializer import (
    Close,
    FlushReason,
    Serializer,
    SerializerClosedError,
    TransportWriter,
    Yield,
)

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def with_timeout() -> T:
        return await asyncio.wait_for(coro, timeout=10)

    return asyncio.run(with_timeout())


class FakeTransport(asyncio.WriteTransport):
    """Records what it is given; can pretend to be closing."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[Any]] = []
        self.closing = False
        self.closed = False

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(list(list_of_data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closed = self.closing = True


# -- with a fake transport ------------------------------------------------------------------


def test_pump_hands_over_immutable_bytes_only() -> None:
    s = Serializer()
    transport = FakeTransport()
    writer = TransportWriter(s, transport)
    body = b"immutable body" * 10
    mutable = bytearray(b"mutable")
    s.write_bytes(b"head")
    s.schedule(body)
    s.schedule(mutable)
    reasons: list[FlushReason] = []
    s.flush(reasons.append)
    assert reasons == []
    assert writer.pump() is Yield()
    [chunks] = transport.calls
    assert all(type(c) is bytes for c in chunks)
    assert chunks[1] is body  # bytes pass through without a copy
    assert b"".join(chunks) == b"head" + body + b"mutable"
    assert reasons == [FlushReason.SHIFT]  # fired once handed over
    mutable[0:1] = b"M"  # allowed now: the transport has its own copy
    assert chunks[2] == b"mutable"


def test_paused_writer_keeps_output_and_callbacks_wait() -> None:
    s = Serializer()
    transport = FakeTransport()
    writer = TransportWriter(s, transport)
    writer.pause_writing()
    assert writer.paused
    reasons: list[FlushReason] = []
    s.write_bytes(b"data")
    s.flush(reasons.append)
    assert writer.pump() is Yield()
    assert transport.calls == []
    assert reasons == []
    assert s.pending_bytes == 4
    writer.resume_writing()
    assert not writer.paused
    assert transport.calls == [[b"data"]]
    assert reasons == [FlushReason.SHIFT]


def test_close_closes_the_transport_once_everything_is_handed_over() -> None:
    s = Serializer()
    transport = FakeTransport()
    writer = TransportWriter(s, transport)
    s.write_bytes(b"bye")
    s.close()
    assert writer.pump() is Close()
    assert transport.calls == [[b"bye"]]
    assert transport.closed


def test_close_transport_false_leaves_the_transport_open() -> None:
    s = Serializer()
    transport = FakeTransport()
    writer = TransportWriter(s, transport, close_transport=False)
    s.close()
    assert writer.pump() is Close()
    assert not transport.closed
    assert writer.serializer is s
    assert writer.transport is transport


def test_closing_transport_drains_the_serializer() -> None:
    s = Serializer()
    transport = FakeTransport()
    writer = TransportWriter(s, transport)
    reasons: list[FlushReason] = []
    s.write_bytes(b"lost")
    s.flush(reasons.append)
    transport.closing = True
    assert writer.pump() is Close()
    assert transport.calls == []
    assert reasons == [FlushReason.DRAIN]
    assert s.is_closed


def test_connection_lost_drains() -> None:
    s = Serializer()
    writer = TransportWriter(s, FakeTransport())
    reasons: list[FlushReason] = []
    s.write_bytes(b"lost")
    s.flush(reasons.append)
    writer.connection_lost(ConnectionResetError())
    assert reasons == [FlushReason.DRAIN]
    assert s.is_closed and not s.has_pending_output


def test_wakeup_batches_writes_into_one_writelines() -> None:
    async def main() -> FakeTransport:
        s = Serializer()
        transport = FakeTransport()
        writer = TransportWriter(s, transport)
        for i in range(10):
            s.write_bytes(b"%d;" % i)
            writer.wakeup()
        assert transport.calls == []
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return transport

    transport = run(main())
    assert transport.calls == [[b"0;1;2;3;4;5;6;7;8;9;"]]


def test_wakeup_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        TransportWriter(Serializer(), FakeTransport()).wakeup()


def test_flush_reasons() -> None:
    async def main() -> list[FlushReason]:
        s = Serializer()
        transport = FakeTransport()
        writer = TransportWriter(s, transport)
        reasons = [await writer.flush()]
        s.write_bytes(b"x")
        reasons.append(await writer.flush())
        writer.pause_writing()
        s.write_bytes(b"y")
        waiting = asyncio.ensure_future(writer.flush())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        writer.connection_lost(None)
        reasons.append(await waiting)
        return reasons

    assert run(main()) == [FlushReason.NOTHING_PENDING, FlushReason.SHIFT, FlushReason.DRAIN]


# -- over loopback TCP ----------------------------------------------------------------------


class ServerProtocol(asyncio.Protocol):
    """Writes with a Serializer through a TransportWriter; forwards flow control."""

    def __init__(self, ready: asyncio.Future[ServerProtocol]) -> None:
        self.ready = ready
        self.out = Serializer()
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
        transport.set_write_buffer_limits(high=32 * 1024, low=8 * 1024)
        self.writer = TransportWriter(self.out, transport)
        self.ready.set_result(self)

    def pause_writing(self) -> None:
        self.writer.pause_writing()

    def resume_writing(self) -> None:
        self.writer.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writer.connection_lost(exc)
        self.lost.set_result(None)


class ClientProtocol(asyncio.Protocol):
    def __init__(self, start_paused: bool) -> None:
        self.data = bytearray()
        self.start_paused = start_paused
        self.eof = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.start_paused:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        self.eof.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.eof.done():
            self.eof.set_result(None)


async def connect(
    start_paused: bool,
) -> tuple[asyncio.Server, ServerProtocol, ClientProtocol]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[ServerProtocol] = loop.create_future()
    server = await loop.create_server(lambda: ServerProtocol(ready), "127.0.0.1", 0)
    address = server.sockets[0].getsockname()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setblocking(False)
    await loop.sock_connect(sock, address)
    make_client: Callable[[], ClientProtocol] = lambda: ClientProtocol(start_paused)  # noqa: E731
    _, client = await loop.create_connection(make_client, sock=sock)
    return server, await ready, client


def test_loopback_round_trip() -> None:
    async def main() -> tuple[bytes, bytes, list[FlushReason]]:
        server, proto, client = await connect(start_paused=False)
        reasons: list[FlushReason] = []
        expected = bytearray()
        for i in range(100):
            line = b"line %d\n" % i
            proto.out.write_bytes(line)
            expected += line
            proto.writer.wakeup()
        body = bytes(range(256)) * 100
        proto.out.schedule(body)
        expected += body
        proto.out.flush(reasons.append)
        proto.out.close()
        proto.writer.wakeup()
        await client.eof
        server.close()
        await server.wait_closed()
        return bytes(client.data), bytes(expected), reasons

    received, expected, reasons = run(main())
    assert received == expected
    assert reasons == [FlushReason.SHIFT]


def test_loopback_flow_control() -> None:
    chunk = bytes(range(256)) * 64  # 16 KiB
    count = 128  # 2 MiB in all

    async def main() -> tuple[bytes, list[FlushReason], bool]:
        server, proto, client = await connect(start_paused=True)
        writer, out = proto.writer, proto.out
        # The client does not read: the transport fills up and pauses us.
        written = 0
        while not writer.paused and written < count:
            out.write_bytes(chunk)
            written += 1
            writer.pump()
        assert writer.paused, "the transport never paused"
        # While paused, output stays in the serializer and flush waits.
        for _ in range(written, count):
            out.write_bytes(chunk)
        assert writer.pump() is Yield()
        held = out.pending_bytes
        assert held >= (count - written) * len(chunk)
        flushed = asyncio.ensure_future(writer.flush())
        await asyncio.sleep(0.05)
        still_waiting = not flushed.done()
        assert out.pending_bytes == held
        # The client reads: the transport drains, resumes us, and we finish.
        client.transport.resume_reading()
        reason = await flushed
        out.close()
        writer.pump()
        await client.eof
        server.close()
        await server.wait_closed()
        return bytes(client.data), [reason], still_waiting

    received, reasons, still_waiting = run(main())
    assert still_waiting
    assert reasons == [FlushReason.SHIFT]
    assert received == chunk * count


def test_loopback_peer_gone_drains() -> None:
    async def main() -> FlushReason:
        server, proto, client = await connect(start_paused=False)
        proto.writer.pause_writing()  # keep the output in the serializer
        proto.out.write_bytes(b"never sent")
        flushed = asyncio.ensure_future(proto.writer.flush())
        client.transport.abort()
        await proto.lost
        reason = await flushed
        with pytest.raises(SerializerClosedError):
            proto.out.write_bytes(b"too late")
        server.close()
        await server.wait_closed()
        return reason

    assert run(main()) is FlushReason.DRAIN
