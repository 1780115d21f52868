"""An asyncio Redis client: the RESP grammar reading, the command writer writing.

::

    async with RespClient("127.0.0.1", 6379) as r:
        await r.execute("SET", "k", "v")
        value = await r.execute("GET", "k")                 # b"v"
        replies = await r.pipeline([("INCR", "n")] * 1000)  # one write, 1000 replies

The connection is an `asyncio.Protocol`, so bytes go straight from the socket to the
parser and from the serializer to the socket, without streams in between.

Reading: one `Buffered` parse runs for the whole connection, over
``skip_many(reply.map(deliver) << commit)``: each chunk received is fed to it, every
reply is handed to the oldest waiting request as soon as its last byte is in, and the
commit after each reply lets the parser drop the bytes it has finished with, so memory
stays bounded by the largest reply. (`parse_many_async` does the same over an
`asyncio.StreamReader`.) Requests are answered in the order they were sent, which is
what lets any number of them be in flight.

Writing: commands go through a `CommandWriter` into a `Serializer` (large values are
scheduled, not copied). The protocol drives the serializer itself (``operation()``,
write the iovecs, ``shift(n)``), handing over large buffers in slices and stopping
whenever the transport starts buffering (a write-buffer high-water mark of 0); it
continues on ``resume_writing``. Commands written in the same event-loop iteration
(concurrent ``execute`` calls) leave together; a pipeline starts leaving at once.

With ``protocol=3`` the client says ``HELLO 3`` first and the server answers with RESP3
types (maps, sets, doubles, …). RESP3 push messages (``CLIENT TRACKING`` invalidations)
go to ``on_push``; subscribing to pub/sub channels is not supported by this small client.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from wirekit.combinators import Buffered, Fail, State, commit, end_of_input, skip_many
from wirekit.serializer import Serializer, Writev

from .grammar import Push, RespError, reply
from .writer import Arg, CommandWriter

__all__ = ["ConnectionClosedError", "RespClient"]

SLICE = 256 * 1024
"""The most handed to the transport in one write."""

# Python 3.12+ transports may keep the buffers they are given (and send them later); the
# serializer reuses its own buffer once shifted, so those bytes are copied first. Older
# transports copy whatever they cannot send at once.
_COPY_BUFFERS = sys.version_info >= (3, 12)


class ConnectionClosedError(ConnectionError):
    """The connection ended (or failed) before the reply arrived."""


class _Waiter:
    """The replies expected for one request (one command, or a pipeline)."""

    __slots__ = ("count", "future", "replies")

    def __init__(self, count: int, future: asyncio.Future[list[Any]]) -> None:
        self.count = count
        self.future = future
        self.replies: list[Any] = []


class _Connection(asyncio.Protocol):
    """The protocol of one connection: bytes in, replies out; commands in, bytes out."""

    def __init__(self, on_push: Callable[[Push], object] | None, read_size: int) -> None:
        self.on_push = on_push
        self.waiters: deque[_Waiter] = deque()
        self.out = Serializer(65536)
        self.commands = CommandWriter(self.out)
        # One parse for the whole connection: each reply is delivered, then committed.
        stream = skip_many(reply.map(self.deliver) << commit) << end_of_input
        self.state: State[None] = Buffered.parse(stream, read_size)
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.pump_handle: asyncio.Handle | None = None
        self.error: BaseException | None = None  # why the connection ended
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- reading -------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        state = self.state.feed(data)  # calls `deliver` for each complete reply
        self.state = state
        if isinstance(state, Fail):
            self.abort(state.error)

    def deliver(self, value: Any) -> None:
        if type(value) is Push:
            if self.on_push is not None:
                try:
                    self.on_push(value)
                except Exception as e:  # a callback's bug must not break the parse
                    asyncio.get_running_loop().call_exception_handler(
                        {"message": "RespClient on_push callback failed", "exception": e}
                    )
            return
        waiters = self.waiters
        if not waiters:
            self.abort(ConnectionClosedError(f"the server sent a reply nobody asked for: {value!r}"))
            return
        waiter = waiters[0]
        replies = waiter.replies
        replies.append(value)
        if len(replies) == waiter.count:
            waiters.popleft()
            if not waiter.future.done():  # (the caller may have been cancelled)
                waiter.future.set_result(replies)

    # -- writing -------------------------------------------------------------------
    def send(self, commands: Sequence[Sequence[Arg]], count: int) -> asyncio.Future[list[Any]]:
        """Write commands and return the future of their ``count`` replies."""
        if self.error is not None or self.transport is None:
            raise ConnectionClosedError("not connected") from self.error
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.commands.commands(commands)  # raises on a bad argument before any waiter
        self.waiters.append(_Waiter(count, future))
        return future

    def wakeup(self) -> None:
        """Pump soon, once: commands written meanwhile leave together."""
        if self.pump_handle is None:
            self.pump_handle = asyncio.get_running_loop().call_soon(self.pump)

    def pump(self) -> None:
        """Hand pending output to the transport until it starts buffering."""
        self.pump_handle = None
        out, transport = self.out, self.transport
        if transport is None:
            return
        write = transport.write
        while not self.paused:
            op = out.operation()
            if type(op) is not Writev:
                return  # Yield: nothing pending
            sent = 0
            for v in op.iovecs:
                size = len(v)
                if size <= SLICE:
                    write(bytes(v) if _COPY_BUFFERS and type(v) is not bytes else v)
                    sent += size
                else:  # a large scheduled buffer: in slices, so that what the transport
                    # cannot send at once (and copies) stays small
                    view = memoryview(v)
                    off = 0
                    while off < size and not self.paused:
                        piece = view[off : off + SLICE]
                        write(bytes(piece) if _COPY_BUFFERS and type(v) is not bytes else piece)
                        off += len(piece)
                    sent += off
                if self.paused:
                    break
            out.shift(sent)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.pump()

    # -- the connection -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # Pause as soon as the transport has to keep anything: the rest waits in the
        # serializer (scheduled buffers uncopied) until the socket can take more.
        transport.set_write_buffer_limits(high=0)

    def abort(self, error: BaseException) -> None:
        """Fail every waiting request with ``error`` and close the connection."""
        if self.error is None:
            self.error = error
        while self.waiters:
            future = self.waiters.popleft().future
            if not future.done():
                future.set_exception(self.error)
        self.out.close()
        self.out.drain()
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.abort(ConnectionClosedError(str(exc)))
        else:
            self.abort(ConnectionClosedError("the connection was closed"))
        self.transport = None
        if self.pump_handle is not None:
            self.pump_handle.cancel()
            self.pump_handle = None
        if not self.closed.done():
            self.closed.set_result(None)


class RespClient:
    """An asyncio client for one connection to a Redis (or any RESP) server.

    Args:
        host: Server address.
        port: Server port.
        protocol: 2, or 3 to switch with ``HELLO 3`` on connecting (`hello` then holds
            the server's answer).
        username: With ``password``: authenticate on connecting.
        password: Authenticate on connecting (``AUTH`` or ``HELLO … AUTH``).
        on_push: Called with each RESP3 `Push` message; they are dropped without it.
        read_size: The parser's initial buffer size.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        *,
        protocol: int = 2,
        username: str | None = None,
        password: str | None = None,
        on_push: Callable[[Push], object] | None = None,
        read_size: int = 65536,
    ) -> None:
        if protocol not in (2, 3):
            raise ValueError(f"protocol must be 2 or 3, not {protocol!r}")
        self.host = host
        self.port = port
        self.protocol = protocol
        self.username = username
        self.password = password
        self.on_push = on_push
        self.read_size = read_size
        self.hello: Any = None
        self._conn: _Connection | None = None

    # -- connection ----------------------------------------------------------------
    async def connect(self) -> RespClient:
        """Open the connection (and switch protocol / authenticate)."""
        if self._conn is not None:
            raise RuntimeError("already connected")
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(
            lambda: _Connection(self.on_push, self.read_size), self.host, self.port
        )
        self._conn = conn
        try:
            if self.protocol == 3:
                auth: list[Arg] = []
                if self.password is not None:
                    auth = ["AUTH", self.username or "default", self.password]
                self.hello = await self.execute("HELLO", 3, *auth)
            elif self.password is not None:
                user: list[Arg] = [] if self.username is None else [self.username]
                await self.execute("AUTH", *user, self.password)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Close the connection; requests still waiting fail with `ConnectionClosedError`."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if conn.transport is not None:
            conn.transport.close()
        await conn.closed

    @property
    def is_connected(self) -> bool:
        """Whether the connection is open."""
        return self._conn is not None and self._conn.error is None

    async def __aenter__(self) -> RespClient:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- requests -------------------------------------------------------------------
    async def execute(self, *args: Arg) -> Any:
        """Send one command and return its reply.

        Raises:
            RespError: the server answered with an error.
            ConnectionClosedError: the connection ended first.
            ParseError: the server sent something that is not RESP (the connection is
                closed then).
        """
        conn = self._connection()
        future = conn.send((args,), 1)
        conn.wakeup()  # commands written in this loop iteration leave together
        value = (await future)[0]
        if type(value) is RespError:
            raise value
        return value

    async def pipeline(
        self, commands: Iterable[Sequence[Arg]], *, raise_on_error: bool = True
    ) -> list[Any]:
        """Send many commands in one write and return their replies, in order.

        The replies are parsed as they arrive, while the rest is still being sent.

        Args:
            commands: Each command is a sequence of arguments.
            raise_on_error: Raise the first `RespError` among the replies (after all
                have arrived); otherwise error replies are returned in the list.

        Raises:
            RespError: see ``raise_on_error``.
            ConnectionClosedError: the connection ended first.
            ParseError: the server sent something that is not RESP.
        """
        batch = commands if isinstance(commands, list | tuple) else list(commands)
        if not batch:
            return []
        conn = self._connection()
        future = conn.send(batch, len(batch))
        conn.pump()
        replies = await future
        if raise_on_error:
            for value in replies:
                if type(value) is RespError:
                    raise value
        return replies

    def _connection(self) -> _Connection:
        conn = self._conn
        if conn is None:
            raise ConnectionClosedError("not connected")
        return conn
