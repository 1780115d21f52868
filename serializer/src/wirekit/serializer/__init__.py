"""A buffered serializer that coalesces writes and hands out ``writev``-ready iovecs.

``wirekit.serializer`` is a Python take on OCaml's Faraday. A ``Serializer``
copies small writes into an internal buffer, where consecutive writes
coalesce into one iovec; it queues large buffers given to ``schedule`` without
copying them; and it never does IO itself. A driver asks ``operation()``
what to do next and gets ``Writev(iovecs)``, ``Yield()`` or ``Close()``; after
writing, it reports the number of bytes written with ``shift(n)``. Flush
callbacks say when the bytes written before them are all out.

Examples:
    >>> from wirekit.serializer import Serializer, Writev
    >>> s = Serializer()
    >>> s.write_bytes(b"HTTP/1.1 200 OK\\r\\n")
    >>> s.write_bytes(b"Content-Length: 0\\r\\n\\r\\n")
    >>> op = s.operation()
    >>> [bytes(v) for v in op.iovecs]
    [b'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n']
    >>> s.shift(op.nbytes)
    >>> s.operation()
    Yield()

Beyond Faraday: reservations (``reserve``/``backfill``) for length prefixes,
``writelines`` for many small pieces at once, writers that refuse
out-of-range values, a correct 48-bit writer, and drivers for sockets
(``write_to_socket``) and asyncio transports (``TransportWriter``).

This package imports only the standard library.
"""

from ._asyncio import TransportWriter
from ._drivers import IOV_MAX, serialize, serialize_to_bytes, socket_writev, write_to_socket
from ._operations import (
    CLOSED,
    BytesLike,
    Close,
    FlushReason,
    Operation,
    PeerClosed,
    ReservationError,
    SerializerClosedError,
    Writev,
    WritevResult,
    Yield,
)
from ._reservation import Reservation
from ._serializer import Serializer

__all__ = [
    "CLOSED",
    "IOV_MAX",
    "BytesLike",
    "Close",
    "FlushReason",
    "Operation",
    "PeerClosed",
    "Reservation",
    "ReservationError",
    "Serializer",
    "SerializerClosedError",
    "TransportWriter",
    "Writev",
    "WritevResult",
    "Yield",
    "serialize",
    "serialize_to_bytes",
    "socket_writev",
    "write_to_socket",
]
