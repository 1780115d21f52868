"""`ReceivedResponse`: what the blocking and trio clients share of a received response
(its head, and its body collected through the `BodyReader`); each runtime adds only how
it waits (`read`, `iter_chunks`)."""

from __future__ import annotations

from collections.abc import Callable

from ._body import BodyReader
from ._messages import Headers, Response, Version

__all__ = ["ReceivedResponse"]


def _nothing() -> None:
    return None


class ReceivedResponse:
    """A response: ``status``, ``reason``, ``headers``, ``version``; ``body`` once read.

    Unless ``stream``, the body is collected as it arrives; ``notify()`` is called whenever
    something arrived, so the runtime can wake whoever waits for it."""

    def __init__(self, response: Response, reader: BodyReader, stream: bool, notify: Callable[[], None] = _nothing) -> None:
        self.status = int(response.status)
        self.reason = response.reason
        self.headers: Headers = response.headers
        self.version: Version = response.version
        self.body: bytes | None = None
        self._reader = reader
        self._stream = stream
        self._notify = notify
        self._chunks: list[bytes] = []
        self._done = False
        self._error: Exception | None = None
        if not stream:
            self._collect()

    def _collect(self) -> None:
        def on_read(data: bytes) -> None:
            self._chunks.append(data)
            self._reader.schedule_read(on_read, on_eof, on_error)

        def on_eof() -> None:
            self._done = True
            self.body = b"".join(self._chunks)
            self._chunks = []
            self._notify()

        def on_error(exc: Exception) -> None:
            self._error = exc
            self._notify()

        self._reader.schedule_read(on_read, on_eof, on_error)

    def _finished(self) -> bool:
        """Whether the collected body is complete, or failed."""
        return self._done or self._error is not None

    def _whole(self) -> bytes:
        """The collected body, once `_finished`.

        Raises:
            RemoteProtocolError: the body ended in a framing error, or the connection closed.
        """
        if self._error is not None:
            raise self._error
        assert self.body is not None
        return self.body

    def _ask_chunk(self, got: list[bytes], ended: list[Exception | None]) -> None:
        """Ask for the next chunk: it is appended to ``got``, or the end (None) or the
        error to ``ended``."""

        def on_read(data: bytes) -> None:
            got.append(data)
            self._notify()

        def on_end(exc: Exception | None = None) -> None:
            ended.append(exc)
            self._notify()

        self._reader.schedule_read(on_read, on_end, on_end)

    def _take_chunk(self, got: list[bytes], ended: list[Exception | None]) -> bytes | None:
        """The chunk asked for, or None at the end of the body.

        Raises:
            RemoteProtocolError: the body ended in a framing error, or the connection closed.
        """
        if got:
            return got.pop()
        if ended[0] is not None:
            raise ended[0]
        self._done = True
        return None

    @property
    def trailers(self) -> Headers | None:
        """Trailer fields of a chunked body, once it has been read."""
        return self._reader.trailers

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status}>"
