"""Drivers: loops that move a serializer's output somewhere.

``serialize`` drives a serializer with any ``writev`` function,
``serialize_to_bytes`` collects everything (for tests and debugging), and
``write_to_socket`` writes to a socket with ``socket.sendmsg``, one system
call per ``Writev``. The asyncio driver lives in ``_asyncio.py``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ._operations import (
    CLOSE,
    CLOSED,
    YIELD,
    Close,
    ReservationError,
    Writev,
    WritevResult,
    Yield,
)

if TYPE_CHECKING:
    import socket

    from ._serializer import Serializer

__all__ = ["IOV_MAX", "serialize", "serialize_to_bytes", "socket_writev", "write_to_socket"]


def _iov_max() -> int:
    try:
        value = os.sysconf("SC_IOV_MAX")
    except (AttributeError, ValueError, OSError):  # not POSIX, or unknown name
        value = -1
    return value if value > 0 else 1024


IOV_MAX: Final = _iov_max()
"""Most iovecs passed to one ``sendmsg`` call (the system's ``IOV_MAX``, 1024
on Linux). More make ``sendmsg`` fail with ``EMSGSIZE``, so the socket drivers
write longer ``Writev`` lists in several calls."""

# errno values that mean "the peer is gone, nothing more can be sent".
_DISCONNECTED: Final = frozenset(
    {
        errno.EPIPE,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ESHUTDOWN,
        errno.ENOTCONN,
        errno.EBADF,
    }
)

WritevFunction = Callable[[list[bytes | memoryview]], WritevResult]


def serialize(serializer: Serializer, writev: WritevFunction) -> Yield | Close:
    """Hand the serializer's output to ``writev`` until it has to wait.

    Loops over ``operation()``: each ``Writev`` goes to ``writev``, and the
    count it returns is shifted. After a partial write (including 0 bytes)
    this returns ``Yield()`` instead of retrying at once, so the caller can
    wait until the destination is writable again. When ``writev`` returns
    ``CLOSED``, the serializer is closed and drained (flush callbacks get
    ``FlushReason.DRAIN``) and ``Close()`` is returned.

    Args:
        serializer: The serializer to drive.
        writev: Called with a list of buffers; returns how many bytes of
            them it wrote, or ``CLOSED``.

    Returns:
        ``Yield()`` when there is nothing more to write for now or the last
        write was partial; ``Close()`` when the serializer is closed and all
        its output was written or dropped.

    Raises:
        ValueError: ``writev`` reported more bytes than it was given.
    """
    while True:
        op = serializer.operation()
        if not isinstance(op, Writev):
            return op
        result = writev(op.iovecs)
        if result is CLOSED:
            serializer.close()
            serializer.drain()
            return CLOSE
        serializer.shift(result)
        if result < op.nbytes:
            return YIELD


def serialize_to_bytes(serializer: Serializer) -> bytes:
    """Close the serializer and return all its pending output as one ``bytes``.

    Meant for tests and debugging, not for production IO. Flush callbacks run
    with ``FlushReason.SHIFT`` as the output is collected.

    Returns:
        Every byte written or scheduled and not yet shifted, in order.

    Raises:
        ReservationError: A reservation is still unfilled, so the output
            cannot be completed.
    """
    serializer.close()
    chunks: list[bytes] = []
    while True:
        op = serializer.operation()
        if isinstance(op, Writev):
            chunks.append(b"".join(op.iovecs))
            serializer.shift(op.nbytes)
        elif isinstance(op, Close):
            return b"".join(chunks)
        else:
            raise ReservationError("the output is held back by an unfilled reservation")


def _is_disconnect(exc: OSError) -> bool:
    return isinstance(exc, ConnectionError) or exc.errno in _DISCONNECTED


def _sender(sock: socket.socket) -> Callable[[list[bytes | memoryview]], int]:
    sendmsg = getattr(sock, "sendmsg", None)
    if sendmsg is not None:
        return sendmsg  # type: ignore[no-any-return]
    send = sock.send  # no sendmsg (Windows): one copy, then one send

    def send_joined(iovecs: list[bytes | memoryview]) -> int:
        return send(b"".join(iovecs))

    return send_joined


def socket_writev(sock: socket.socket) -> WritevFunction:
    """Make a ``writev`` function for ``serialize`` that writes to ``sock``.

    Each call is a single ``sendmsg`` of at most ``IOV_MAX`` iovecs. A full
    send buffer (``EAGAIN``/``EWOULDBLOCK`` on a non-blocking socket) is
    reported as 0 bytes written; a vanished peer (``EPIPE``, ``ECONNRESET``,
    ``EBADF`` ...) as ``CLOSED``. Other errors, including ``TimeoutError``
    from a socket with a timeout, propagate.

    Args:
        sock: A connected stream socket, blocking or not.

    Returns:
        The ``writev`` function.
    """
    send = _sender(sock)

    def writev(iovecs: list[bytes | memoryview]) -> WritevResult:
        try:
            return send(iovecs[:IOV_MAX] if len(iovecs) > IOV_MAX else iovecs)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            if _is_disconnect(exc):
                return CLOSED
            raise

    return writev


def write_to_socket(serializer: Serializer, sock: socket.socket) -> Yield | Close:
    """Write as much of the serializer's output to ``sock`` as it takes now.

    One ``sendmsg`` per ``Writev`` (at most ``IOV_MAX`` iovecs each). Works
    with both kinds of socket:

    * blocking: returns once everything pending has been written;
    * non-blocking: also returns ``Yield()`` when the send buffer is full
      (``EAGAIN``) or took only part of the data. Wait until the socket is
      writable (``selectors``, ``loop.add_writer`` ...) and call again.

    If the peer has gone away (``EPIPE``, ``ECONNRESET``, ``EBADF`` ...), the
    serializer is closed and drained, and ``Close()`` is returned.

    Args:
        serializer: The serializer whose output to write.
        sock: A connected stream socket.

    Returns:
        ``Yield()`` when nothing more can be written for now (nothing is
        pending, or the socket is full), ``Close()`` when the serializer is
        closed and all its output is written or dropped.

    Raises:
        OSError: Any other socket error, including ``TimeoutError`` from a
            socket with a timeout. The serializer is left as it was.
    """
    send = _sender(sock)
    while True:
        op = serializer.operation()
        if not isinstance(op, Writev):
            return op
        iovecs = op.iovecs
        offered = op.nbytes
        if len(iovecs) > IOV_MAX:
            iovecs = iovecs[:IOV_MAX]
            offered = sum(map(len, iovecs))
        try:
            sent = send(iovecs)
        except (BlockingIOError, InterruptedError):
            return YIELD
        except OSError as exc:
            if not _is_disconnect(exc):
                raise
            serializer.close()
            serializer.drain()
            return CLOSE
        serializer.shift(sent)
        if sent < offered:
            return YIELD
