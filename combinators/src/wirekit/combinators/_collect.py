"""The parser behind `parse_many` and `parse_many_async` (in `_streams`): each item's
value is collected as soon as it is complete, then the input is committed.

(A module of its own so that the compiled build compiles it: `_streams` holds an async
generator, which mypyc does not compile, and a Python class cannot subclass a compiled
one.)"""

from __future__ import annotations

from typing import Any

from ._machine import Frame, Machine, Suspend
from ._parser import Parser, _Seq
from ._primitives import commit, end_of_input
from ._repeat import INF, Many
from ._unary import _Unary

__all__ = ["stream_parser"]


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
        return self.compiled_child

    def go(self, m: Machine) -> None:
        start = m.pos
        try:
            self.compiled_child.go(m)  # (counted by the item's own ``go``)
        except Suspend as s:
            f = _CollectFrame()
            f.start = start
            f.out = self.out
            s.frames.append(f)
            raise
        if m.ok and m.pos != start:
            self.out.append(m.value)


class _CollectFrame(Frame):
    __slots__ = ("out",)

    out: list[Any]

    def resume(self, m: Machine) -> None:
        # An item that consumed nothing ends the stream's loop, and `many` drops its
        # value: so does the stream.
        if m.ok and not m.diag and m.pos != self.start:
            self.out.append(m.value)
        return None


def stream_parser(p: Parser[Any], out: list[Any]) -> Parser[None]:
    # Angstrom's parse_many: skip_many (p <* commit >>| k), then the end of input.
    item = _Seq((_Collect(p, out), commit), 0, None)
    return Many(item, 0, INF, keep=False) << end_of_input


