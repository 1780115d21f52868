"""``serialize``, ``serialize_to_bytes`` and the socket driver (``_drivers.py``), over real sockets."""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from wirekit.serializer import (
    CLOSED,
    IOV_MAX,
    Close,
    FlushReason,
    Serializer,
    Writev,
    WritevResult,
    Yield,
    serialize,
    serialize_to_bytes,
    socket_writev,
    write_to_socket,
)


class RecordingSocket(socket.socket):
    """A socket that records how many iovecs each ``sendmsg`` got."""

    calls: list[int]

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        self.calls.append(len(buffers))
        return super().sendmsg(buffers, *args)


def recording(sock: socket.socket) -> RecordingSocket:
    wrapped = RecordingSocket(fileno=sock.detach())
    wrapped.calls = []
    return wrapped


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    b.settimeout(5)  # a test waiting for bytes that never come fails instead of hanging
    with a, b:
        yield a, b


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "unexpected EOF"
        data += chunk
    return bytes(data)


# -- serialize ------------------------------------------------------------------------------


def test_serialize_writes_everything_then_yields() -> None:
    s = Serializer()
    s.write_bytes(b"hello ")
    s.schedule(b"world")
    seen: list[bytes] = []

    def writev(iovecs: list[bytes | memoryview]) -> WritevResult:
        data = b"".join(iovecs)
        seen.append(data)
        return len(data)

    assert serialize(s, writev) is Yield()
    assert seen == [b"hello world"]
    s.close()
    assert serialize(s, writev) is Close()


def test_serialize_yields_after_a_partial_write() -> None:
    s = Serializer()
    s.write_bytes(b"0123456789")
    calls: list[int] = []

    def three_at_a_time(iovecs: list[bytes | memoryview]) -> WritevResult:
        calls.append(sum(map(len, iovecs)))
        return min(3, calls[-1])

    assert serialize(s, three_at_a_time) is Yield()
    assert calls == [10]  # no retry in the same call
    assert s.pending_bytes == 7
    while s.has_pending_output:
        assert serialize(s, three_at_a_time) is Yield()
    assert calls == [10, 7, 4, 1]


def test_serialize_zero_bytes_written_yields() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    assert serialize(s, lambda iovecs: 0) is Yield()
    assert s.pending_bytes == 3


def test_serialize_closed_closes_and_drains() -> None:
    s = Serializer()
    reasons: list[FlushReason] = []
    s.write_bytes(b"abc")
    s.flush(reasons.append)
    assert serialize(s, lambda iovecs: CLOSED) is Close()
    assert s.is_closed
    assert not s.has_pending_output
    assert reasons == [FlushReason.DRAIN]


def test_serialize_rejects_overreporting_writev() -> None:
    s = Serializer()
    s.write_bytes(b"abc")
    with pytest.raises(ValueError):
        serialize(s, lambda iovecs: 4)


def test_serialize_to_bytes_closes_and_fires_callbacks() -> None:
    s = Serializer(4)
    reasons: list[FlushReason] = []
    s.write_bytes(b"abcdef")
    s.flush(reasons.append)
    s.schedule(b"ghi")
    assert serialize_to_bytes(s) == b"abcdefghi"
    assert s.is_closed
    assert reasons == [FlushReason.SHIFT]
    assert serialize_to_bytes(s) == b""


# -- sockets --------------------------------------------------------------------------------


def test_write_to_blocking_socket(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    s = Serializer()
    reasons: list[FlushReason] = []
    body = bytes(range(256)) * 64
    s.write_bytes(b"HEADER\r\n")
    s.schedule(body)
    s.write_uint32_be(0xCAFEBABE)
    s.flush(reasons.append)
    assert write_to_socket(s, a) is Yield()
    assert reasons == [FlushReason.SHIFT]
    expected = b"HEADER\r\n" + body + b"\xca\xfe\xba\xbe"
    assert read_exactly(b, len(expected)) == expected
    s.close()
    assert write_to_socket(s, a) is Close()


def test_one_sendmsg_per_writev(pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    sock = recording(a)
    with sock:
        s = Serializer()
        for i in range(16):
            s.write_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            s.write_bytes(b"%02d" % i)
        assert write_to_socket(s, sock) is Yield()
        assert sock.calls == [1]  # one syscall, one iovec


def test_iov_max_is_respected(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    sock = recording(a)
    with sock:
        s = Serializer()
        pieces = [bytes([i % 256]) for i in range(2 * IOV_MAX + 100)]
        for piece in pieces:
            s.schedule(piece)  # each scheduled object is an iovec of its own
        assert write_to_socket(s, sock) is Yield()
        assert sock.calls == [IOV_MAX, IOV_MAX, 100]
        assert read_exactly(b, len(pieces)) == b"".join(pieces)


def test_socket_writev_with_serialize(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    s = Serializer()
    for i in range(IOV_MAX + 5):
        s.schedule(b"x%d," % i)
    expected = b"".join(b"x%d," % i for i in range(IOV_MAX + 5))
    writev = socket_writev(a)
    # A capped write looks partial to serialize, which then yields: call again.
    while s.has_pending_output:
        assert serialize(s, writev) is Yield()
    assert read_exactly(b, len(expected)) == expected


def test_peer_closed_is_epipe_and_closes(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    b.close()
    s = Serializer()
    reasons: list[FlushReason] = []
    s.write_bytes(b"nobody listens")
    s.schedule(bytearray(1000))
    s.flush(reasons.append)
    assert write_to_socket(s, a) is Close()
    assert s.is_closed
    assert not s.has_pending_output
    assert reasons == [FlushReason.DRAIN]
    assert socket_writev(a)([b"x"]) is CLOSED


def test_closed_socket_object_counts_as_closed() -> None:
    a, b = socket.socketpair()
    a.close()
    b.close()
    s = Serializer()
    s.write_bytes(b"x")
    assert write_to_socket(s, a) is Close()  # EBADF


def test_connection_reset_over_tcp() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        with client:
            # Abortive close: the peer sends RST instead of FIN.
            peer.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            peer.close()
            s = Serializer()
            result: Yield | Close = Yield()
            deadline = time.monotonic() + 5
            while result is Yield() and time.monotonic() < deadline:
                s.write_bytes(b"are you there?")
                result = write_to_socket(s, client)
                time.sleep(0.01)
            assert result is Close()
            assert s.is_closed


def test_other_errors_propagate(pair: tuple[socket.socket, socket.socket]) -> None:
    class Failing(socket.socket):
        def sendmsg(self, *args: Any) -> int:
            raise OSError(errno.EIO, "I/O error")

    a, _ = pair
    with Failing(fileno=a.detach()) as sock:
        s = Serializer()
        s.write_bytes(b"abc")
        with pytest.raises(OSError):
            write_to_socket(s, sock)
        assert s.pending_bytes == 3
        assert not s.is_closed


def test_non_blocking_socket_with_full_buffer(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.setblocking(False)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s = Serializer()
    reasons: list[FlushReason] = []
    body = bytes(range(256)) * 4096  # 1 MiB
    s.write_bytes(b"start:")
    s.schedule(body)
    s.write_bytes(b":end")
    s.flush(reasons.append)
    total = s.pending_bytes

    assert write_to_socket(s, a) is Yield()  # the socket took only part of it
    first = s.pending_bytes
    assert 0 < first < total
    assert write_to_socket(s, a) is Yield()  # EAGAIN: no progress, no error
    assert s.pending_bytes == first
    assert reasons == []

    received = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(a, selectors.EVENT_WRITE)
        while s.has_pending_output:
            received += b.recv(65536)
            if selector.select(timeout=5):
                assert write_to_socket(s, a) is Yield()
    assert reasons == [FlushReason.SHIFT]
    received += read_exactly(b, total - len(received))
    assert received == b"start:" + body + b":end"


def test_write_to_socket_waits_for_reservations(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    s = Serializer()
    s.write_bytes(b"a")
    r = s.reserve(1)
    s.write_bytes(b"c")
    assert write_to_socket(s, a) is Yield()
    assert read_exactly(b, 1) == b"a"
    r.fill(b"b")
    assert write_to_socket(s, a) is Yield()
    assert read_exactly(b, 2) == b"bc"


def test_serialize_output_is_writev_ready() -> None:
    # Every iovec works with the C-level consumers: sendmsg, os.writev, join.
    import os

    s = Serializer(8)
    s.write_bytes(b"abcdef")
    s.schedule(bytearray(b"ghij"))
    s.schedule(memoryview(b"klmnop")[1:3])
    s.write_uint16_be(0x7172)
    op = s.operation()
    assert isinstance(op, Writev)
    read_end, write_end = os.pipe()
    try:
        assert os.writev(write_end, op.iovecs) == op.nbytes
        assert os.read(read_end, 100) == b"abcdefghijlmqr"
    finally:
        os.close(read_end)
        os.close(write_end)
