"""Streams of values: `parse_many` over an iterable of chunks and `parse_many_async` over
an `asyncio.StreamReader`, both Angstrom's ``parse_many``: one item, a commit, and again,
so memory holds at most the item being read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._machine import Frame, Machine
from ._parser import Parser, _Seq
from ._primitives import commit, end_of_input
from ._repeat import INF, Many
from ._running import Buffered, BytesLike, Fail
from ._unary import _Unary

if TYPE_CHECKING:
    import asyncio

__all__ = ["parse_many", "parse_many_async"]

T = TypeVar("T")


# --------------------------------------------------------------------------------
# Streams of values
# --------------------------------------------------------------------------------
class _Collect(_Unary):
    """Run ``p`` and append its value to ``out`` (never fused, never repeated by a
    diagnostic re-run, so each value is delivered exactly once)."""

    __slots__ = ("out",)

    def __init__(self, p: Parser[Any], out: list[Any]) -> None:
        super().__init__(p)
        self.out = out

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _CollectFrame()
        f.start = m.pos
        f.out = self.out
        m.stack.append(f)
        return self.cp


class _CollectFrame(Frame):
    __slots__ = ("out",)

    out: list[Any]

    def resume(self, m: Machine) -> None:
        # An item that consumed nothing ends the stream's loop, and `many` drops its
        # value: so does the stream.
        if m.ok and not m.diag and m.pos != self.start:
            self.out.append(m.value)
        return None


def _stream_parser(p: Parser[Any], out: list[Any]) -> Parser[None]:
    # Angstrom's parse_many: skip_many (p <* commit >>| k), then the end of input.
    item = _Seq((_Collect(p, out), commit), 0, None)
    return Many(item, 0, INF, keep=False) << end_of_input


def parse_many(p: Parser[T], chunks: Iterable[BytesLike]) -> Iterator[T]:
    """Parse a stream of back-to-back values from an iterable of chunks.

    Yields each value as soon as it is complete; the input is committed after each one,
    so memory stays bounded by the largest value.

    Raises:
        ParseError: when the stream holds something that is not a ``p``.
    """
    out: list[Any] = []
    state = Buffered.parse(_stream_parser(p, out), 65536)
    for chunk in chunks:
        state = state.feed(chunk)
        if out:
            yield from out
            out.clear()
        if isinstance(state, Fail):
            raise state.error
    state = state.feed_eof()
    yield from out
    if isinstance(state, Fail):
        raise state.error


async def parse_many_async(
    p: Parser[T], reader: asyncio.StreamReader, chunk_size: int = 65536
) -> AsyncIterator[T]:
    """Parse back-to-back values from an `asyncio.StreamReader` as they arrive.

    Reading is driven by the consumer (backpressure): the next chunk is read only once the
    values parsed so far have been taken.

    Raises:
        ParseError: when the stream holds something that is not a ``p``.
    """
    out: list[Any] = []
    state = Buffered.parse(_stream_parser(p, out), chunk_size)
    while True:
        chunk = await reader.read(chunk_size)
        if not chunk:
            break
        state = state.feed(chunk)
        for v in out:
            yield v
        out.clear()
        if isinstance(state, Fail):
            raise state.error
    state = state.feed_eof()
    for v in out:
        yield v
    if isinstance(state, Fail):
        raise state.error
