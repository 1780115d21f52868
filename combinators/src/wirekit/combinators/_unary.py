"""The nodes around one parser: `Parser.map` (`_Map`), `Parser.bind` (`_Bind`),
`Parser.desc` (`_Desc`) and the recursion point of `fix` (`_Ref`).

Import them from `_parser`, which loads this module once `Parser` is defined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from ._machine import DIRECT_DEPTH, Frame, Machine, Suspend
from ._parser import ABOVE, INLINE_DEPTH, Parser, compiled
from ._trace import trace_enter

__all__ = ["_Bind", "_Desc", "_Map", "_Ref", "_Unary"]


# --------------------------------------------------------------------------------
# Map, bind, labels, recursion
# --------------------------------------------------------------------------------
class _Unary(Parser[Any]):
    """A node around one parser ``p``; ``compiled_child`` is ``p``'s runnable form once linked."""

    __slots__ = ("compiled_child", "depth", "inl", "p")

    # Whether this node's ``enter`` runs an inline child itself (see ``inline``).
    wraps_inline = False

    def __init__(self, p: Parser[Any]) -> None:
        super().__init__()
        self.p = p
        self.compiled_child: Parser[Any] = p
        # ``inl`` (see `Parser.inl`): the child may be entered directly, so this node calls
        # it and only pushes its frame if the child suspends or hands back a continuation;
        # callers may then enter this node directly too.
        self.inl = False
        self.depth = 0

    def children(self) -> tuple[Parser[Any], ...]:
        return (self.p,)

    def link(self) -> None:
        self.compiled_child = compiled(self.p)
        self.set_inline()

    # Each wrapper writes out its own direct entry (enter the child, and only if it does
    # not finish put the frame below what it pushed): a shared helper measured 8 % more
    # instructions on the pgwire example. Every check() test runs both the direct and the
    # framed path (a split makes the child suspend).

    def set_inline(self) -> None:
        """Decide ``inline`` from the linked child."""
        child = self.compiled_child
        if self.wraps_inline and child.inl and child.depth < INLINE_DEPTH:
            self.inl, self.depth = True, child.depth + 1


class _Map(_Unary):
    __slots__ = ("f",)

    def __init__(self, p: Parser[Any], f: Callable[[Any], Any]) -> None:
        super().__init__(p)
        self.f = f

    wraps_inline = True

    def enter(self, m: Machine) -> Parser[Any] | None:
        if self.inl:
            stack = m.stack
            n = len(stack)
            try:
                after = self.compiled_child.enter(m)
            except Suspend:
                stack.insert(n, self.frame())
                raise
            if after is not None:
                stack.insert(n, self.frame())
                return after
            if m.ok:
                m.value = None if m.diag or m.quiet else self.f(m.value)
            return None
        m.stack.append(self.frame())
        return self.compiled_child

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        try:
            self.compiled_child.go(m)
        except Suspend as s:
            s.frames.append(self.frame())
            raise
        m.nesting = depth
        if m.ok:
            m.value = self.f(m.value)

    def frame(self) -> _MapFrame:
        f = _MapFrame()
        f.start = 0
        f.f = self.f
        return f


class _MapFrame(Frame):
    __slots__ = ("f",)

    f: Callable[[Any], Any]

    def resume(self, m: Machine) -> None:
        if m.ok:
            # A diagnostic re-run needs no values (binds are replayed), nor does the
            # general form of a fused block (its match gives them): f runs once.
            m.value = None if m.diag or m.quiet else self.f(m.value)
        return None


class _Bind(_Unary):
    __slots__ = ("f",)

    def __init__(self, p: Parser[Any], f: Callable[[Any], Parser[Any]]) -> None:
        super().__init__(p)
        self.f = f

    wraps_inline = True

    def enter(self, m: Machine) -> Parser[Any] | None:
        start = m.pos
        if self.inl:
            stack = m.stack
            n = len(stack)
            try:
                after = self.compiled_child.enter(m)
            except Suspend:
                stack.insert(n, self.frame(start))
                raise
            if after is not None:
                stack.insert(n, self.frame(start))
                return after
            return _then(self, m, start)
        m.stack.append(self.frame(start))
        return self.compiled_child

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        start = m.pos
        try:
            self.compiled_child.go(m)
        except Suspend as s:
            s.frames.append(self.frame(start))
            raise
        if m.ok:
            # `_bound`, written out: a call less per bind (-2 %, the PostgreSQL example).
            nxt = self.f(m.value)
            try:
                c = nxt._c  # (every parser has one: this is also the type check)
            except AttributeError:
                _not_a_parser(nxt)
            if c is None:
                c = compiled(nxt)
            if m.log is not None:
                m.log += (self, start + m.base, c)
            c.go(m)  # (a tail call: suspended there, no frame)
        m.nesting = depth

    def frame(self, start: int) -> _BindFrame:
        f = _BindFrame()
        f.start = start
        f.node = self
        return f


class _BindFrame(Frame):
    __slots__ = ("node",)

    node: _Bind

    def resume(self, m: Machine) -> Parser[Any] | None:
        return _then(self.node, m, self.start)


def _then(node: _Bind, m: Machine, start: int) -> Parser[Any] | None:
    """After ``node``'s parser matched at ``start``: the parser its function gives."""
    if not m.ok:
        return None
    if m.diag:
        # Replay the parser the first run got, rather than call f again.
        return m.logged(node, start)  # type: ignore[no-any-return]
    c = _bound(node, m, start)
    # A primitive runs here (no trip through the machine loop); anything else goes back
    # to the loop, so chains of binds never deepen the Python stack.
    return c.enter(m) if c.leaf else c


def _not_a_parser(nxt: object) -> NoReturn:
    raise TypeError(f"bind: the function returned {type(nxt).__name__}, not a Parser")


def _bound(node: _Bind, m: Machine, start: int) -> Parser[Any]:
    """The parser ``node``'s function gives for the value in ``m`` (matched at
    ``start``), compiled, and kept in the log for a diagnostic re-run to replay."""
    nxt = node.f(m.value)
    if not isinstance(nxt, Parser):
        _not_a_parser(nxt)
    # Usually compiled already (interned primitives, parsers built once; a linked `fix`
    # reference's ``_c`` is its target).
    known = nxt._c
    c = compiled(nxt) if known is None else known
    if m.log is not None:
        m.log += (node, start + m.base, c)
    return c


class _Desc(_Unary):
    __slots__ = ("label",)

    def __init__(self, p: Parser[Any], label: str) -> None:
        super().__init__(p)
        self.label = label

    wraps_inline = True

    def enter(self, m: Machine) -> Parser[Any] | None:
        saved = m.marks
        if m.trace is not None:
            m.stack.append(trace_enter(self.label, m))
            m.marks = (self.label, saved, m.pos + m.base)
            return self.compiled_child
        m.marks = (self.label, saved, m.pos + m.base)
        if self.inl:
            stack = m.stack
            n = len(stack)
            try:
                after = self.compiled_child.enter(m)
            except Suspend:
                stack.insert(n, _desc_frame(saved))
                raise
            if after is not None:
                stack.insert(n, _desc_frame(saved))
                return after
            m.marks = saved
            return None
        m.stack.append(_desc_frame(saved))
        return self.compiled_child

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        saved = m.marks
        m.marks = (self.label, saved, m.pos + m.base)
        try:
            self.compiled_child.go(m)
        except Suspend as s:
            s.frames.append(_desc_frame(saved))
            raise
        m.marks = saved
        m.nesting = depth

    def expected(self) -> str:
        return self.label


def _desc_frame(saved: Any) -> _DescFrame:
    f = _DescFrame()
    f.start = 0
    f.saved = saved
    return f


class _DescFrame(Frame):
    __slots__ = ("saved",)

    saved: Any

    def resume(self, m: Machine) -> None:
        m.marks = self.saved
        return None


class _Ref(Parser[Any]):
    """The recursion point created by `fix`."""

    __slots__ = ("ct", "target")
    is_ref = True  # (`compiled` skips it once its target is known)

    def __init__(self) -> None:
        super().__init__()
        self.target: Parser[Any] | None = None
        self.ct: Parser[Any] | None = None

    def children(self) -> tuple[Parser[Any], ...]:
        return (self.target,) if self.target is not None else ()

    def link(self) -> None:
        if self.target is None:
            raise ValueError("fix: the parser was used before its definition was complete")
        self.ct = compiled(self.target)
        # The reference is its target from now on: a generator yielding it, or a bind
        # returning it, runs the target without a call through `go` here.
        self._c = self.ct

    def enter(self, m: Machine) -> Parser[Any] | None:
        return self.ct

    def go(self, m: Machine) -> None:
        self.ct.go(m)  # type: ignore[union-attr]  # (linked before any run; counted by the target)

    def expected(self) -> str:
        return "recursive parser"


# `Parser.map`, `.bind` and `.desc` (the node layer does not import this module).
ABOVE.map = _Map
ABOVE.bind = _Bind
ABOVE.desc = _Desc
