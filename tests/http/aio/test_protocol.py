"""`HttpProtocol`: it only moves bytes between a transport and a `ServerConnection`.

The protocol runs on a real event loop against `FakeTransport`, a transport that records
what is written, delivers the peer's bytes only while reading is not paused (as a socket
transport does), and can emulate a full socket buffer (``pause_writing``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from wirekit.http import BodyWriter, Config, FlushReason, Reqd, Response, ServerConnection
from wirekit.http.aio import HttpProtocol, ServeConfig, ServerState, demo_handler

from tests.http.aio.support import arun, get

Handler = Callable[[Reqd], None]


class FakeTransport(asyncio.Transport):
    """A socket transport stand-in; see the module docstring."""

    def __init__(self, protocol: HttpProtocol, high_water: int | None = None) -> None:
        super().__init__()
        self.protocol = protocol
        self.loop = asyncio.get_running_loop()
        self.buffer = bytearray()  # written and not yet taken by the peer
        self.total = 0
        self.reading = True
        self.pauses = 0
        self.closing = False
        self.lost = False
        self.eof_written = False
        self.high_water = high_water
        self.write_paused = False
        self.inbound = bytearray()  # sent by the peer, not delivered yet
        self.peer_eof = False
        self._eof_delivered = False

    # -- what the protocol calls ------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing and not self.eof_written, "write after close"
        assert type(data) is bytes, "the protocol writes bytes objects only"
        self.buffer += data
        self.total += len(data)
        if self.high_water is not None and len(self.buffer) > self.high_water and not self.write_paused:
            self.write_paused = True
            self.protocol.pause_writing()

    def pause_reading(self) -> None:
        self.reading = False
        self.pauses += 1

    def resume_reading(self) -> None:
        if not self.reading:
            self.reading = True
            self.loop.call_soon(self._deliver)

    def is_reading(self) -> bool:
        return self.reading

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.loop.call_soon(self._lose, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        assert not self.eof_written, "write_eof twice"
        self.eof_written = True

    def get_write_buffer_size(self) -> int:
        return len(self.buffer)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    # -- what the test (the peer) does ----------------------------------------------------
    def send(self, data: bytes) -> None:
        """The peer sends ``data``; it is delivered while reading is not paused."""
        assert not self.lost, "the connection is gone"
        self.inbound += data
        self._deliver()

    def send_eof(self) -> None:
        self.peer_eof = True
        self._deliver()

    def _deliver(self) -> None:
        if not self.reading or self.closing:
            return
        if self.inbound:
            data = bytes(self.inbound)
            self.inbound.clear()
            self.protocol.data_received(data)
        if self.peer_eof and not self.inbound and self.reading and not self._eof_delivered:
            self._eof_delivered = True
            if not self.protocol.eof_received():
                self.close()  # as asyncio's transports do

    @property
    def shut(self) -> bool:
        """Whether the server closed its side (EOF written, or the transport closed)."""
        return self.eof_written or self.closing

    def take(self) -> bytes:
        """The peer reads everything written so far (the socket buffer empties)."""
        data = bytes(self.buffer)
        self.buffer.clear()
        if self.write_paused:
            self.write_paused = False
            self.protocol.resume_writing()
        return data

    def _lose(self, exc: Exception | None) -> None:
        if not self.lost:
            self.lost = True
            self.protocol.connection_lost(exc)

    def reset(self) -> None:
        """The peer resets the connection."""
        self.closing = True
        self._lose(ConnectionResetError("reset by peer"))


def fast_sweep(state: ServerState) -> ServerState:
    """Check deadlines every 10 ms (instead of every 250 ms) so timeouts are exact."""
    state.SWEEP_INTERVAL = 0.01
    return state


def connect(
    handler: Handler = demo_handler,
    http_config: Config | None = None,
    state: ServerState | None = None,
    high_water: int | None = None,
    **options: Any,
) -> tuple[HttpProtocol, FakeTransport]:
    """A protocol with a fake transport (call inside a running loop)."""
    # Timeouts and limits are `Config` fields (the connection's); the rest `ServeConfig`.
    http_fields = {f.name for f in dataclasses.fields(Config)}
    http_options = {k: options.pop(k) for k in list(options) if k in http_fields}
    if http_options:
        http_config = dataclasses.replace(http_config or Config(), **http_options)
    state = state or fast_sweep(ServerState(ServeConfig(**options)))
    protocol = HttpProtocol(lambda _p: handler, state, http_config)
    transport = FakeTransport(protocol, high_water)
    protocol.connection_made(transport)
    return protocol, transport


async def settle(rounds: int = 50) -> None:
    """Let every pending callback run."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait until ``predicate()`` holds (fail after ``timeout``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


class Held:
    """A handler that keeps each `Reqd` for the test to answer."""

    def __init__(self) -> None:
        self.reqds: list[Reqd] = []

    def __call__(self, reqd: Reqd) -> None:
        self.reqds.append(reqd)


PIPELINE = (
    get("/")
    + get("/echo", "Content-Type: text/x-test", "Content-Length: 11", method="POST")
    + b"hello world"
    + get("/bytes/5")
    + get("/stream/2")
    + get("/nope", method="DELETE")
)


async def output_for(chunks: list[bytes]) -> bytes:
    _protocol, transport = connect()
    for chunk in chunks:
        transport.send(chunk)
        await settle(5)
    await settle()
    return transport.take()


# ------------------------------------------------------------------------------------
# Reads
# ------------------------------------------------------------------------------------
def test_output_does_not_depend_on_how_the_input_is_split() -> None:
    async def main() -> None:
        whole = await output_for([PIPELINE])
        assert whole.count(b"HTTP/1.1 200 OK") == 4 and whole.count(b"HTTP/1.1 404") == 1
        assert b"hello world" in whole and b"chunk 1\n" in whole
        for i in range(1, len(PIPELINE)):
            assert await output_for([PIPELINE[:i], PIPELINE[i:]]) == whole, f"split at {i}"
        assert await output_for([PIPELINE[i : i + 1] for i in range(len(PIPELINE))]) == whole

    arun(main(), timeout=60)


def test_input_split_anywhere_reaches_the_connection_whole_and_in_order() -> None:
    # Every byte delivered goes to the connection once, in order: what it cannot use yet
    # (the rest of a head, a pipelined request behind one in flight) it holds and uses
    # later. Observed from outside (the connection's own methods are not patched: the
    # compiled build's native classes cannot be).
    async def main() -> None:
        held = Held()
        protocol, transport = connect(held)
        conn = protocol.conn
        assert conn is not None
        request = get("/a") + get("/b")
        assert 20 < len(get("/a")) < 41  # cuts inside the first head and inside the second
        pieces = [request[:5], request[5:20], request[20:41], request[41:]]
        for piece in pieces:
            transport.send(piece)
        assert transport.inbound == b"", "all delivered: reading was never paused"
        assert conn.in_flight == 2  # /a with its handler, /b parsed and queued behind it
        assert [r.request.target for r in held.reqds if r.request is not None] == [b"/a"]
        held.reqds[0].respond_with_bytes(Response(200), b"a")
        assert [r.request.target for r in held.reqds if r.request is not None] == [b"/a", b"/b"]
        held.reqds[1].respond_with_bytes(Response(200), b"b")
        assert conn.in_flight == 0 and conn.unconsumed == b""
        await settle()
        responses = transport.take()
        assert responses.count(b"HTTP/1.1 200 OK\r\n") == 2 and responses.endswith(b"\r\n\r\nb")

    arun(main())


def test_pipelined_requests_beyond_the_queue_pause_reading() -> None:
    async def main() -> None:
        held = Held()
        _protocol, transport = connect(held, Config(max_pipelined_requests=2))
        transport.send(b"".join(get(f"/{i}") for i in range(6)))
        await settle()
        assert not transport.reading, "Yield must pause the transport"
        assert len(held.reqds) == 1  # one handler at a time
        answered = 0
        while answered < 6:
            assert len(held.reqds) == answered + 1
            held.reqds[answered].respond_with_bytes(Response(200), b"%d" % answered)
            answered += 1
            await settle()
        assert transport.reading
        out = transport.take()
        assert out.count(b"HTTP/1.1 200 OK") == 6
        assert transport.pauses >= 1

    arun(main())


def test_an_unread_body_pauses_reading_until_the_handler_reads() -> None:
    async def main() -> None:
        held = Held()
        _protocol, transport = connect(held, Config(request_body_buffer_size=1024))
        body = bytes(range(256)) * 40  # 10240 bytes
        transport.send(get("/", f"Content-Length: {len(body)}", method="POST"))
        for i in range(0, len(body), 512):
            transport.send(body[i : i + 512])
        await settle()
        assert len(held.reqds) == 1
        assert not transport.reading
        assert len(transport.inbound) >= len(body) - 1024 - 512, "at most about one buffer is read ahead"
        reqd = held.reqds[0]
        got: list[bytes] = []
        done = asyncio.get_running_loop().create_future()

        def on_read(data: bytes) -> None:
            got.append(data)
            reqd.request_body.schedule_read(on_read, on_eof)

        def on_eof() -> None:
            done.set_result(None)

        reqd.request_body.schedule_read(on_read, on_eof)
        await asyncio.wait_for(done, 5)
        assert b"".join(got) == body
        assert transport.reading and not transport.inbound
        reqd.respond_with_bytes(Response(204))
        await settle()
        assert transport.take().startswith(b"HTTP/1.1 204")

    arun(main())


# ------------------------------------------------------------------------------------
# Writes and flow control
# ------------------------------------------------------------------------------------
def test_a_full_socket_buffer_stops_the_body_writer() -> None:
    async def main() -> None:
        size = 1_000_000
        _protocol, transport = connect(high_water=50_000)
        transport.send(get(f"/bytes/{size}"))
        await settle()
        received = bytearray()
        rounds = 0
        while True:
            # The demo writes 64 KiB blocks, each once the previous one was flushed: with
            # the transport paused, at most one more block is pending.
            assert len(transport.buffer) <= 50_000 + 65536 + 200
            if not transport.buffer:
                break
            received += transport.take()
            rounds += 1
            await settle()
        head, _, body = bytes(received).partition(b"\r\n\r\n")
        assert b"content-length: 1000000" in head
        assert len(body) == size and body == b"x" * size
        assert rounds > 5, "the writer was paused and resumed several times"
        assert not transport.shut

    arun(main())


def streaming_handler(reasons: list[FlushReason]) -> Handler:
    def handler(reqd: Reqd) -> None:
        writer = reqd.respond_with_streaming(Response(200))
        writer.write(b"a" * 1000)
        writer.flush(reasons.append)

    return handler


def test_flush_callbacks_wait_while_writing_is_paused() -> None:
    async def main() -> None:
        reasons: list[FlushReason] = []
        protocol, transport = connect(streaming_handler(reasons))
        protocol.pause_writing()
        protocol.data_received(get("/"))  # bytes the transport had read before it paused
        await settle()
        assert transport.total == 0 and reasons == []
        protocol.resume_writing()
        await settle()
        assert reasons == [FlushReason.SHIFT]
        assert transport.take().endswith(b"3e8\r\n" + b"a" * 1000 + b"\r\n")

    arun(main())


def test_no_request_is_read_while_writing_is_paused() -> None:
    # A client that does not read our responses gets no more of its requests read
    # (issue 17, defect 1): the socket is paused until the transport's buffer drains.
    async def main() -> None:
        _protocol, transport = connect(high_water=4096)
        transport.send(get("/bytes/5000"))
        await settle()
        assert transport.write_paused and not transport.reading
        transport.send(get("/") * 3)
        await settle()
        assert transport.inbound and transport.total < 5200  # not delivered, not answered
        data = transport.take()  # the client reads: writing resumes, then reading
        await settle()
        assert transport.reading and not transport.inbound
        data += transport.take()
        assert data.count(b"HTTP/1.1 200 OK") == 4

    arun(main())


def test_a_lost_connection_releases_flush_callbacks() -> None:
    async def main() -> None:
        reasons: list[FlushReason] = []
        protocol, transport = connect(streaming_handler(reasons))
        protocol.pause_writing()
        protocol.data_received(get("/"))  # bytes the transport had read before it paused
        await settle()
        transport.reset()
        await settle()
        assert reasons == [FlushReason.DRAIN]
        assert protocol.disconnected.done()

    arun(main())


def test_a_lost_connection_stops_the_demo_streams() -> None:
    async def main() -> None:
        protocol, transport = connect(high_water=10_000)
        transport.send(get("/bytes/10000000"))
        await settle()
        transport.take()
        await settle()
        transport.reset()
        await settle()
        assert transport.total < 300_000
        assert not protocol._state.connections

    arun(main())


def test_half_closed_client_still_gets_its_response() -> None:
    async def main() -> None:
        _protocol, transport = connect()
        transport.send(get("/"))
        transport.send_eof()
        await settle()
        assert transport.take().endswith(b"Hello, world!")
        assert transport.eof_written and transport.shut

    arun(main())


def test_lingering_close_discards_what_the_client_still_sends() -> None:
    async def main() -> None:
        protocol, transport = connect()
        transport.send(get("/nope", "Content-Length: 1000000", method="POST") + b"x" * 1000)
        for _ in range(10):  # more than the connection drains: it gives up and closes
            transport.send(b"y" * 10_000)
        await settle()
        assert transport.take().startswith(b"HTTP/1.1 404")
        assert transport.eof_written and not transport.closing, "the server half-closed and lingers"
        transport.send(b"z" * 100_000)  # still arriving: read and discarded, no reset
        await settle()
        assert transport.reading and not transport.closing and not protocol._state.connections
        transport.send_eof()
        await settle()
        assert transport.closing

    arun(main())


def test_lingering_close_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HttpProtocol, "LINGER", 0.1)

    async def main() -> None:
        _protocol, transport = connect()
        transport.send(get("/", "Connection: close"))
        await settle()
        assert transport.take().endswith(b"Hello, world!") and transport.eof_written
        assert not transport.closing
        await eventually(lambda: transport.closing, timeout=2)

    arun(main())


def test_no_lingering_when_the_client_closed_first() -> None:
    async def main() -> None:
        _protocol, transport = connect()
        transport.send(get("/"))
        transport.send_eof()
        await settle()
        assert transport.take().endswith(b"Hello, world!")
        assert transport.closing

    arun(main())


# ------------------------------------------------------------------------------------
# Timeouts
# ------------------------------------------------------------------------------------
def test_a_partial_head_gets_408_after_the_header_timeout() -> None:
    async def main() -> None:
        _protocol, transport = connect(timeout_header=0.3)
        transport.send(b"GET /slow HT")
        await asyncio.sleep(0.05)
        assert not transport.shut
        await eventually(lambda: transport.shut)
        out = transport.take()
        assert out.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"connection: close" in out

    arun(main())


def test_the_header_timeout_counts_from_the_first_byte() -> None:
    async def main() -> None:
        _protocol, transport = connect(timeout_header=0.15, timeout_keep_alive=5)
        loop = asyncio.get_running_loop()
        start = loop.time()
        head = get("/", *[f"X-Drip-{i}: {'y' * 20}" for i in range(20)])
        for byte in head:  # a drip that keeps the connection busy: slowloris
            if transport.shut:
                break
            transport.send(bytes([byte]))
            await asyncio.sleep(0.005)
        assert transport.shut, "a head that trickles in must be cut off"
        assert loop.time() - start < 1.5
        assert transport.take().startswith(b"HTTP/1.1 408")

    arun(main())


def test_an_idle_keep_alive_connection_is_closed_quietly() -> None:
    async def main() -> None:
        _protocol, transport = connect(timeout_keep_alive=0.3)
        transport.send(get("/"))
        await settle()
        assert transport.take().endswith(b"Hello, world!")
        await asyncio.sleep(0.05)
        assert not transport.shut
        await eventually(lambda: transport.shut)
        assert transport.take() == b""

    arun(main())


def test_a_silent_new_connection_is_closed_by_the_idle_timeout() -> None:
    async def main() -> None:
        _protocol, transport = connect(timeout_keep_alive=0.1, timeout_header=5)
        await eventually(lambda: transport.shut)
        assert transport.total == 0

    arun(main())


def test_a_stalled_body_is_cut_off() -> None:
    async def main() -> None:
        held = Held()
        _protocol, transport = connect(held, timeout_body=0.5, timeout_keep_alive=5)
        transport.send(get("/", "Content-Length: 100", method="POST") + b"0123456789")
        await asyncio.sleep(0.3)
        transport.send(b"more")  # progress restarts the body timer
        await asyncio.sleep(0.3)
        assert not transport.shut
        await eventually(lambda: transport.shut)
        assert held.reqds[0].request_body.is_closed

    arun(main())


def test_a_handler_that_does_not_read_the_body_yet_is_not_timed_out() -> None:
    """The body timeout is for a client that stops sending, not for backpressure."""

    async def main() -> None:
        held = Held()
        _protocol, transport = connect(held, Config(request_body_buffer_size=1024), timeout_body=0.1)
        body = b"b" * 10_000
        transport.send(get("/", f"Content-Length: {len(body)}", method="POST") + body)
        await asyncio.sleep(0.4)
        assert not transport.shut and not transport.reading
        reqd = held.reqds[0]
        got: list[bytes] = []
        done = asyncio.get_running_loop().create_future()

        def on_read(data: bytes) -> None:
            got.append(data)
            reqd.request_body.schedule_read(on_read, lambda: done.set_result(None))

        reqd.request_body.schedule_read(on_read, lambda: done.set_result(None))
        await asyncio.wait_for(done, 5)
        assert b"".join(got) == body
        reqd.respond_with_bytes(Response(200), b"read it all")
        await settle()
        assert transport.take().endswith(b"read it all")

    arun(main())


def test_a_slow_handler_is_not_timed_out() -> None:
    async def main() -> None:
        held = Held()
        _protocol, transport = connect(held, timeout_keep_alive=0.05, timeout_header=0.05)
        transport.send(get("/"))
        await asyncio.sleep(0.2)
        assert not transport.shut
        held.reqds[0].respond_with_bytes(Response(200), b"late")
        await settle()
        assert transport.take().endswith(b"late")
        await eventually(lambda: transport.shut)  # then idle

    arun(main())


# ------------------------------------------------------------------------------------
# Limits, logs, shutdown
# ------------------------------------------------------------------------------------
def test_connections_beyond_the_limit_get_503() -> None:
    async def main() -> None:
        state = fast_sweep(ServerState(ServeConfig(limit_concurrency=2)))
        _first, t1 = connect(state=state)
        _second, t2 = connect(state=state)
        _third, t3 = connect(state=state)
        assert t3.take().startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and t3.shut
        assert not t1.shut and not t2.shut
        assert len(state.connections) == 2
        t1.send(get("/", "Connection: close"))
        await settle()
        assert t1.shut and len(state.connections) == 1
        _fourth, t4 = connect(state=state)
        t4.send(get("/"))
        await settle()
        assert t4.take().endswith(b"Hello, world!")

    arun(main())


def test_max_requests_calls_the_server_back() -> None:
    async def main() -> None:
        state = fast_sweep(ServerState(ServeConfig(limit_max_requests=3)))
        calls: list[int] = []
        state.on_max_requests = lambda: calls.append(state.requests)
        _protocol, transport = connect(state=state)
        transport.send(get("/") * 2)
        await settle()
        assert calls == []
        transport.send(get("/"))
        await settle()
        assert calls == [3]

    arun(main())


CLF = re.compile(
    r'^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "(?P<line>[^"]*)" (?P<status>\d{3}) (?P<size>\d+|-) \d+\.\d{3}ms$'
)


def test_access_log_uses_the_common_log_format(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        _protocol, transport = connect(access_log=True)
        transport.send(get("/") + get("/missing?x=1", method="HEAD") + get("/bytes/3", version="1.0"))
        await settle()

    with caplog.at_level(logging.INFO, logger="wirekit.access"):
        arun(main())
    lines = [r.getMessage() for r in caplog.records if r.name == "wirekit.access"]
    assert len(lines) == 3
    matches = [CLF.match(line) for line in lines]
    assert all(matches), lines
    assert [(m.group("line"), m.group("status")) for m in matches if m] == [
        ("GET / HTTP/1.1", "200"),
        ("HEAD /missing?x=1 HTTP/1.1", "404"),
        ("GET /bytes/3 HTTP/1.0", "200"),
    ]


def test_access_log_can_be_turned_off(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        _protocol, transport = connect(access_log=False)
        transport.send(get("/"))
        await settle()

    with caplog.at_level(logging.INFO, logger="wirekit.access"):
        arun(main())
    assert not [r for r in caplog.records if r.name == "wirekit.access"]


def test_graceful_shutdown_of_one_connection() -> None:
    async def main() -> None:
        idle, t_idle = connect()
        t_idle.send(get("/"))
        await settle()
        held = Held()
        busy, t_busy = connect(held)
        t_busy.send(get("/"))
        await settle()
        idle.shutdown_gracefully()
        busy.shutdown_gracefully()
        await settle()
        assert t_idle.shut
        assert not t_busy.shut
        held.reqds[0].respond_with_bytes(Response(200), b"done")
        await settle()
        out = t_busy.take()
        assert out.endswith(b"done") and b"connection: close" in out
        assert t_busy.shut

    arun(main())


def test_client_and_server_addresses_come_from_the_transport() -> None:
    async def main() -> None:
        protocol, _transport = connect()
        assert protocol.client == ("127.0.0.1", 50000)
        assert protocol.server == ("127.0.0.1", 8080)
        assert isinstance(protocol.conn, ServerConnection)

    arun(main())


def test_writer_is_only_driven_by_the_connection() -> None:
    """Body bytes reach the transport only through the connection's write operations."""

    async def main() -> None:
        writers: list[BodyWriter] = []

        def handler(reqd: Reqd) -> None:
            writers.append(reqd.respond_with_streaming(Response(200)))

        _protocol, transport = connect(handler)
        transport.send(get("/"))
        await settle()
        assert transport.take().endswith(b"transfer-encoding: chunked\r\n\r\n")
        writers[0].write(b"abc")
        await settle()
        assert transport.total == len(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        assert not transport.buffer, "body bytes wait for a flush"
        writers[0].flush()
        await settle()
        assert transport.take().endswith(b"3\r\nabc\r\n")
        writers[0].close()
        await settle()
        assert transport.take() == b"0\r\n\r\n"

    arun(main())
