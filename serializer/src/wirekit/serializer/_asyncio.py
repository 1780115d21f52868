"""The asyncio driver: feed a serializer's output to an ``asyncio`` transport.

``asyncio`` is imported lazily, so that importing ``wirekit.serializer`` stays
cheap for code that never uses this driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._operations import CLOSE, YIELD, Close, FlushReason, Writev, Yield

if TYPE_CHECKING:
    import asyncio

    from ._serializer import Serializer

__all__ = ["TransportWriter"]


class TransportWriter:
    """Hands a serializer's output to an ``asyncio`` transport, honouring flow control.

    Create it in your protocol's ``connection_made`` and forward the
    protocol's ``pause_writing``, ``resume_writing`` and ``connection_lost``
    calls to it. After writing to the serializer, call ``pump()`` (hand the
    output over now) or ``wakeup()`` (hand it over once, later in this
    event-loop iteration, so that writes made meanwhile are batched)::

        class Echo(asyncio.Protocol):
            def connection_made(self, transport):
                self.out = Serializer()
                self.writer = TransportWriter(self.out, transport)

            def data_received(self, data):
                self.out.write_bytes(data)
                self.writer.wakeup()

            def pause_writing(self):
                self.writer.pause_writing()

            def resume_writing(self):
                self.writer.resume_writing()

            def connection_lost(self, exc):
                self.writer.connection_lost(exc)

    Each ``Writev`` goes to the transport in one ``writelines`` call and is
    then shifted, so flush callbacks run once their bytes have been handed to
    the transport (not necessarily sent yet). While the transport is paused
    nothing is handed over: output stays in the serializer, and callbacks
    wait, which is how producers learn to slow down (see ``flush``).

    Transports may keep references to the buffers they are given after
    ``writelines`` returns (CPython 3.12+ sends them later with ``sendmsg``
    without copying), and the serializer reuses its buffer once its bytes are
    shifted. So this driver passes only immutable data: ``bytes`` objects
    scheduled by the caller go through untouched, everything else (the
    serializer's own buffer, scheduled ``bytearray``/``memoryview`` objects)
    is copied to ``bytes`` first.

    Args:
        serializer: The serializer whose output to write.
        transport: The transport to write to.
        close_transport: Whether to close the transport once the serializer is
            closed and all its output has been handed over (``transport.close()``
            still sends what the transport has buffered).
    """

    __slots__ = ("_close_transport", "_lost", "_paused", "_scheduled", "_serializer", "_transport")

    def __init__(
        self,
        serializer: Serializer,
        transport: asyncio.WriteTransport,
        *,
        close_transport: bool = True,
    ) -> None:
        self._serializer = serializer
        self._transport = transport
        self._close_transport = close_transport
        self._paused = False
        self._lost = False
        self._scheduled: asyncio.Handle | None = None

    @property
    def serializer(self) -> Serializer:
        """The serializer being written out."""
        return self._serializer

    @property
    def transport(self) -> asyncio.WriteTransport:
        """The transport written to."""
        return self._transport

    @property
    def paused(self) -> bool:
        """Whether the transport asked us to stop writing (``pause_writing``)."""
        return self._paused

    def pump(self) -> Yield | Close:
        """Hand all the serializer's pending output to the transport now.

        Does nothing while paused. If the connection is lost or the transport
        is closing, the serializer is closed and drained (flush callbacks get
        ``FlushReason.DRAIN``).

        Returns:
            ``Close()`` once the serializer is closed and everything has been
            handed over or dropped, else ``Yield()``.
        """
        serializer = self._serializer
        transport = self._transport
        while True:
            if self._lost or transport.is_closing():
                return self._shut_down()
            if self._paused:
                return YIELD
            op = serializer.operation()
            if isinstance(op, Writev):
                transport.writelines([v if type(v) is bytes else bytes(v) for v in op.iovecs])
                serializer.shift(op.nbytes)
            elif isinstance(op, Close):
                if self._close_transport:
                    transport.close()
                return op
            else:
                return op

    def wakeup(self) -> None:
        """Arrange for ``pump()`` to run soon, once, in the running event loop.

        Calling it after every write is cheap: writes made before the pump runs
        are coalesced and handed over together.

        Raises:
            RuntimeError: No event loop is running in this thread.
        """
        if self._scheduled is None:
            import asyncio

            self._scheduled = asyncio.get_running_loop().call_soon(self._scheduled_pump)

    async def flush(self) -> FlushReason:
        """Wait until everything written so far has been handed to the transport.

        Use it for backpressure: a producer that awaits ``flush()`` after a
        chunk waits while the transport is paused. Output held back by an
        unfilled reservation is waited for too.

        Returns:
            ``FlushReason.NOTHING_PENDING`` if nothing was pending,
            ``FlushReason.SHIFT`` once it was handed over, or
            ``FlushReason.DRAIN`` if the connection was lost first.
        """
        import asyncio

        future: asyncio.Future[FlushReason] = asyncio.get_running_loop().create_future()

        def done(reason: FlushReason) -> None:
            if not future.done():
                future.set_result(reason)

        self._serializer.flush(done)
        self.pump()
        return await future

    def pause_writing(self) -> None:
        """Forward ``Protocol.pause_writing`` here: stop handing output over."""
        self._paused = True

    def resume_writing(self) -> None:
        """Forward ``Protocol.resume_writing`` here: hand pending output over again."""
        self._paused = False
        self.pump()

    def connection_lost(self, exc: BaseException | None) -> None:
        """Forward ``Protocol.connection_lost`` here: close and drain the serializer.

        Args:
            exc: The exception ``connection_lost`` received (unused).
        """
        self._lost = True
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        self._shut_down()

    def _scheduled_pump(self) -> None:
        self._scheduled = None
        self.pump()

    def _shut_down(self) -> Close:
        self._serializer.close()
        self._serializer.drain()
        return CLOSE
