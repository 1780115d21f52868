"""Parsers that check what was parsed: `isolate` (a length from the wire) and
`Parser.try_map` (a conversion that may reject the value).

Both are the pieces length-prefixed protocols need: a message body parsed on exactly the
bytes its header announced, and a field decoded (UTF-8, a number) with a parse error,
not a stray exception, when the decoding fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._machine import (
    DIRECT_DEPTH,
    RUNNING,
    Frame,
    Machine,
    Suspend,
    shift_last_ok,
    shift_skipped,
)
from ._parser import _INTERNED, ABOVE, Parser, _Fail, _intern
from ._primitives import Take, length_error
from ._unary import _Unary

__all__ = ["Isolate", "TryMap", "isolate"]

T = TypeVar("T")


class Isolate(_Unary):
    """``p`` on exactly the next ``n`` bytes (see `isolate`)."""

    __slots__ = ("n",)

    def __init__(self, n: int, p: Parser[Any]) -> None:
        super().__init__(p)
        self.n = n

    def enter(self, m: Machine) -> Parser[Any] | None:
        m.stack.append(self.frame_at(m.pos, m.pos + m.base + self.n))
        m.open_window(self.n)
        return self.compiled_child

    def frame_at(self, start: int, end: int) -> _IsolateFrame:
        """The frame of this window, from ``start`` to absolute offset ``end``."""
        f = _IsolateFrame()
        f.start = start
        f.end = end
        f.node = self
        return f

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        start = m.pos
        end = start + m.base + self.n
        m.open_window(self.n)
        try:
            self.compiled_child.go(m)
        except Suspend as s:
            s.frames.append(self.frame_at(start, end))
            raise
        _window_closed(m, self, end)
        m.nesting = depth

    def expected(self) -> str:
        return f"the end of the {self.n}-byte field"


class _IsolateFrame(Frame):
    __slots__ = ("end", "node")

    node: Isolate
    end: int  # absolute offset where the window ends

    def resume(self, m: Machine) -> None:
        _window_closed(m, self.node, self.end)


def _window_closed(m: Machine, node: Isolate, end: int) -> None:
    """``node``'s parser is done on its window, which ended at absolute offset ``end``:
    close the window, and fail unless the parser used all of it."""
    m.close_window()
    if not m.ok:
        return
    rel = end - m.base
    if m.pos == rel:
        return
    if m.pos < rel:
        if m.pos >= m.lim and m.complete:
            # The input ended inside the window.
            m.fail(m.pos, Take(rel - m.pos, keep=False))  # "k more bytes"
        else:
            m.fail(m.pos, node)


def isolate(n: int, p: Parser[T]) -> Parser[T]:
    """Run ``p`` on exactly the next ``n`` bytes and return its value.

    ``p`` sees the end of input after ``n`` bytes (so `take_while`, `many` and
    `end_of_input` stop there); the result fails unless ``p`` consumed all ``n``.
    Incremental like every parser: the bytes may arrive in any split, and ``p`` may
    `commit` inside. A negative ``n`` (a length read from the wire) fails with a
    `ParseError` where it stands.
    """
    if n < 0:
        return length_error("length", n)
    # Shared like the primitives (lengths read from the wire repeat), see `count`.
    key = ("isolate", p, n, RUNNING[0] > 0)  # (made while parsing: linked, not fused)
    hit = _INTERNED.get(key)
    if hit is None:
        hit = _intern(key, lambda: Isolate(n, p))
    return hit


class TryMap(_Unary):
    """``p`` with a conversion that may fail (see `Parser.try_map`)."""

    __slots__ = ("f",)

    def __init__(self, p: Parser[Any], f: Callable[[Any], Any]) -> None:
        super().__init__(p)
        self.f = f

    wraps_inline = True

    def enter(self, m: Machine) -> Parser[Any] | None:
        pos = m.pos
        if self.inl:
            child = self.compiled_child
            if child.clean:
                # A primitive's success (or suspension) leaves the failure records as they
                # are: nothing to save for a rejection to restore.
                try:
                    child.enter(m)
                except Suspend:
                    m.stack.append(self.frame(pos, (m.err_pos - pos, m.err_list), (pos, m.last_ok, m.skipped)))
                    raise
                if m.ok:
                    msg = _convert(m, self, pos)
                    if msg is not None:
                        _reject(m, pos, msg)
                return None
            # The records as they are now, kept in locals: a failure restores them.
            err_pos, err_list, last_ok, skipped = m.err_pos, m.err_list, m.last_ok, m.skipped
            stack = m.stack
            n = len(stack)
            try:
                after = self.compiled_child.enter(m)
            except Suspend:
                stack.insert(n, self.frame(pos, (err_pos - pos, err_list), (pos, last_ok, skipped)))
                raise
            if after is not None:
                stack.insert(n, self.frame(pos, (err_pos - pos, err_list), (pos, last_ok, skipped)))
                return after
            if m.ok:
                msg = _convert(m, self, pos)
                if msg is not None:
                    m.err_pos, m.err_list, m.last_ok, m.skipped = err_pos, err_list, last_ok, skipped
                    _reject(m, pos, msg)
            return None
        m.stack.append(self.frame(pos, (m.err_pos - pos, m.err_list), (pos, m.last_ok, m.skipped)))
        return self.compiled_child

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        pos = m.pos
        # The records as they are now: a rejected value restores them.
        err_pos, err_list, last_ok, skipped = m.err_pos, m.err_list, m.last_ok, m.skipped
        try:
            self.compiled_child.go(m)
        except Suspend as s:
            s.frames.append(self.frame(pos, (err_pos - pos, err_list), (pos, last_ok, skipped)))
            raise
        m.nesting = depth
        if m.ok:
            # `_convert` outside a diagnostic re-run (which never runs this), written out:
            # a call less per converted field (-3 % instructions, the PostgreSQL example).
            try:
                m.value = self.f(m.value)
                msg = None
            except ValueError as exc:
                msg = _message(exc)
            if m.log is not None:
                m.log += (self, pos + m.base, msg)
            if msg is not None:
                m.err_pos, m.err_list, m.last_ok, m.skipped = err_pos, err_list, last_ok, skipped
                _reject(m, pos, msg)

    def frame(self, pos: int, err: tuple[int, list[Any]], seen: tuple[int, Any, Any]) -> _TryMapFrame:
        f = _TryMapFrame()
        f.start = pos
        f.node = self
        f.err = err
        f.seen = seen
        return f


class _TryMapFrame(Frame):
    __slots__ = ("err", "node", "seen")

    node: TryMap
    err: tuple[int, list[Any]]
    seen: tuple[int, Any, Any]

    def resume(self, m: Machine) -> None:
        if not m.ok:
            return None
        start = self.start
        msg = _convert(m, self.node, start)
        if msg is None:
            return None
        # The match was fine, its value was not: what was noted inside the match (a
        # loop's stop, say) is not the reason, so the records are as before it began.
        rel, errs = self.err
        m.err_pos, m.err_list = start + rel, errs
        entered, last_ok, skipped = self.seen
        delta = start - entered  # how far `Machine.rebase` shifted positions since
        if delta:
            last_ok, skipped = shift_last_ok(last_ok, delta), shift_skipped(skipped, delta)
        m.last_ok, m.skipped = last_ok, skipped
        _reject(m, start, msg)
        return None


def _convert(m: Machine, node: TryMap, start: int) -> str | None:
    """Apply ``node.f`` to the match at ``start`` (in ``m.value``): None when it took the
    value, else the message of the `ValueError` it raised."""
    if m.diag:
        msg: str | None = m.logged(node, start)
        m.value = None
        return msg
    try:
        m.value = node.f(m.value)
        msg = None
    except ValueError as exc:
        msg = _message(exc)
    if m.log is not None:
        m.log += (node, start + m.base, msg)
    return msg


def _message(exc: ValueError) -> str:
    """What a rejected value's failure says: the exception's message, else its type."""
    return str(exc) or type(exc).__name__


def _reject(m: Machine, start: int, msg: str) -> None:
    """Fail at ``start`` with ``msg`` (the failure records already restored)."""
    m.pos = start
    m.fail(start, _Fail(msg))


ABOVE.try_map = TryMap  # `Parser.try_map` (the node layer does not import this module)
