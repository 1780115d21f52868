"""Repetition: `many` and its kin (`Many`), `many_till` (`ManyTill`) and `sep_by`
(`SepBy`), each with its frame on the machine's stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._choice import _Choice
from ._limits import INF
from ._machine import DIRECT_DEPTH, Frame, Handoff, Machine, Suspend
from ._parser import Parser, _Const, _Pure, _Seq, compiled, has_effects, quiet
from ._unary import _Map, _Unary

__all__ = ["INF", "Many", "ManyTill", "SepBy"]


"""An unbounded repetition count."""


class Many(_Unary):
    """``p`` repeated ``least`` to ``most`` times, greedily (a list, or `None` to skip).

    A repetition that succeeds without consuming input ends the loop once ``least`` is
    reached, so ``many`` of a parser that can match nothing terminates.
    """

    __slots__ = ("keep", "least", "most", "post")

    def __init__(self, p: Parser[Any], least: int, most: int, keep: bool) -> None:
        if least < 0 or most < least:
            raise ValueError(f"bad repetition bounds {least}..{most}")
        super().__init__(p)
        self.least = least
        self.most = most
        self.keep = keep
        # The item's own user functions (``many(x.map(f))``), applied by the loop once it
        # knows the iteration is kept: the empty match that ends a loop is dropped
        # without calling them.
        self.post: Callable[[Any], Any] | None = None

    def link(self) -> None:
        item = self.p
        fs: list[Callable[[Any], Any]] = []
        while type(item) is _Map and has_effects(item.f):
            fs.append(item.f)
            item = item.p
        self.compiled_child = compiled(item)
        self.post = None if not fs else fs[0] if len(fs) == 1 else _Compose(tuple(reversed(fs)))

    def enter(self, m: Machine) -> Parser[Any] | None:
        return self.frame_at(m.pos, [] if self.keep else None, 0).step(m)

    def frame_at(self, start: int, vals: list[Any] | None, n: int) -> _ManyFrame:
        """The frame of this loop at its iteration ``n``, which began at ``start``."""
        f = _ManyFrame()
        f.start = start
        f.node = self
        f.vals = vals
        f.n = n
        return f

    def go(self, m: Machine) -> None:
        item = self.compiled_child
        if item.fused:
            # Its loop in `_ManyFrame.step` (which finishes at once on complete input).
            after = self.enter(m)
            if after is not None:
                raise Handoff(after)  # the item's general form, the loop's frame below it
            return
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        vals: list[Any] | None = [] if self.keep else None
        post = self.post
        least, most = self.least, self.most
        n = 0
        while n < most:
            start = m.pos
            try:
                item.go(m)
            except Suspend as s:
                s.frames.append(self.frame_at(start, vals, n))
                raise
            if m.ok:
                if m.pos == start and n >= least:
                    break  # an empty match ends the loop (and is dropped)
                v = m.value if post is None else post(m.value)
                if vals is not None:
                    vals.append(v)
                n += 1
                continue
            if start < m.commit_pos:
                m.nesting = depth
                return  # the item committed, then failed: no backtracking past it
            m.pos = start
            break
        m.nesting = depth
        if n < least:
            m.ok = False
            return
        m.value = vals
        m.ok = True


class _ManyFrame(Frame):
    __slots__ = ("n", "node", "vals")

    node: Many
    vals: list[Any] | None
    n: int

    # Complexity kept (C901): this is the running machine's innermost loop, entered once
    # per repetition run; the fused and inlined item loops stay in this one frame, since a
    # helper per loop is one more Python call per entry on the hottest path of a parse.
    def step(self, m: Machine) -> Parser[Any] | None:  # noqa: C901 (see the comment above)
        """Run iterations; fused children loop here without touching the stack."""
        node = self.node
        item = node.compiled_child
        most = node.most
        if item.fused and not m.general:
            match = item.match  # type: ignore[attr-defined]
            extract = item.extract  # type: ignore[attr-defined]
            if extract is None:
                const = item.const  # type: ignore[attr-defined]
                extract = _none if const is None else _Const(const)
            buf, lim, complete = m.buf, m.lim, m.complete
            reach, k = item.reach, item.k  # type: ignore[attr-defined]
            post = node.post
            quiet = m.quiet  # (diag runs the general loop below)
            fx = item.effects or post is not None  # type: ignore[attr-defined]
            vals = self.vals
            pos = m.pos
            n = self.n
            while n < most:
                r = match(buf, pos, lim)
                if r is None:
                    if complete or pos + reach <= lim:  # as `Fused.decided` trusts a failure
                        m.fail(pos, item)
                        break
                    self.start, self.n = pos, n
                    m.pos = pos
                    m.stack.append(self)
                    return item  # cannot decide here: the fused node falls back
                end = r.end()
                if not complete and end + k > lim and not item.decided(buf, pos, lim, r):  # type: ignore[attr-defined]
                    self.start, self.n = pos, n
                    m.pos = pos
                    m.stack.append(self)
                    return item
                # Every success is the last fused one so far, the empty one that ends
                # the loop included (as in the general form, see `_ScopeFrame`): its
                # inner failures belong in the report if the parse fails right here.
                m.last_ok = (pos, item, m.marks)
                if end == pos and n >= node.least:
                    break
                if quiet:
                    if vals is not None:
                        vals.append(None)
                elif vals is not None:
                    v = extract(r)
                    vals.append(v if post is None else post(v))
                elif fx:
                    v = extract(r)
                    if post is not None:
                        post(v)
                n += 1
                pos = end
            self.n = n
            m.pos = pos
            return self.finish(m)
        stack = m.stack
        inl = item.inl
        if not inl and (m.general or m.quiet or m.nesting >= DIRECT_DEPTH):
            if self.n < most:
                self.start = m.pos
                stack.append(self)
                return item  # composites go through the machine loop (no recursion)
            return self.finish(m)
        # Items run here, one after another, entered or in the direct form (as the
        # machine's loop would run them: `Machine.run`); the frame is pushed around each
        # call so that a suspension or a continuation finds it below.
        vals = self.vals
        plain = node.post is None
        least = node.least
        n = self.n
        while n < most:
            start = self.start = m.pos
            self.n = n  # kept current: the item may suspend
            stack.append(self)
            nxt = item.enter(m) if inl else m.go_from_stack(item)
            if nxt is not None:
                return nxt
            if stack[-1] is not self:
                # A fused block handed its general form over (`Handoff`), which finished
                # at once, over the frames of the nodes it was in: the machine resumes
                # those, then this frame.
                return None
            stack.pop()
            if m.ok:
                if m.pos == start and n >= least:
                    break
                if plain:
                    if vals is not None:
                        vals.append(m.value)
                else:
                    self.kept(m)
                n += 1
                continue
            self.n = n
            if start < m.commit_pos:
                return None  # the item committed, then failed: no backtracking past it
            m.pos = start
            return self.finish(m)
        self.n = n
        return self.finish(m)

    def finish(self, m: Machine) -> Parser[Any] | None:
        if self.n < self.node.least:
            m.ok = False
            return None
        m.value = self.vals
        m.ok = True
        return None

    def kept(self, m: Machine) -> None:
        """Take an iteration's value (applying the item's own functions, see `Many`)."""
        post = self.node.post
        v = m.value
        if post is not None and not (m.quiet or m.diag):
            v = post(v)
        if self.vals is not None:
            self.vals.append(v)

    def resume(self, m: Machine) -> Parser[Any] | None:
        if m.ok:
            if m.pos == self.start and self.n >= self.node.least:
                return self.finish(m)
            self.kept(m)
            self.n += 1
            return self.step(m)
        if self.start < m.commit_pos:
            return None  # the item committed, then failed: no backtracking past it
        m.pos = self.start
        return self.finish(m)


class _Compose:
    """Functions applied in order (a chain of maps peeled off a loop's item)."""

    __slots__ = ("fs",)

    def __init__(self, fs: tuple[Callable[[Any], Any], ...]) -> None:
        self.fs = fs

    def __call__(self, v: Any) -> Any:
        for f in self.fs:
            v = f(v)
        return v


class ManyTill(Parser[list[Any]]):
    """``p`` repeated until ``end`` succeeds (``end`` is tried first and consumed)."""

    __slots__ = ("compiled_child", "compiled_end", "end", "p")

    def __init__(self, p: Parser[Any], end: Parser[Any]) -> None:
        super().__init__()
        self.p = p
        self.end = end
        self.compiled_child: Parser[Any] = p
        self.compiled_end: Parser[Any] = end

    def children(self) -> tuple[Parser[Any], ...]:
        return (self.end, self.p)

    def link(self) -> None:
        self.compiled_child = compiled(self.p)
        self.compiled_end = compiled(self.end)

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _ManyTillFrame()
        f.start = m.pos
        f.node = self
        f.vals = []
        f.trying_end = True
        m.stack.append(f)
        return self.compiled_end

    def expected(self) -> str:
        return self.end.expected()


class _ManyTillFrame(Frame):
    __slots__ = ("node", "trying_end", "vals")

    node: ManyTill
    vals: list[Any]
    trying_end: bool

    def resume(self, m: Machine) -> Parser[Any] | None:
        if self.trying_end:
            if m.ok:
                m.value = self.vals
                return None
            if self.start < m.commit_pos:
                return None
            m.pos = self.start
            self.trying_end = False
            m.stack.append(self)
            return self.node.compiled_child
        if not m.ok:
            return None
        self.vals.append(m.value)
        self.start = m.pos
        self.trying_end = True
        m.stack.append(self)
        return self.node.compiled_end


@quiet
def _none(_: Any) -> None:
    return None


@quiet
def _cons(first: Any, rest: list[Any]) -> list[Any]:
    rest.insert(0, first)
    return rest


class _Empty:
    """A marker for "no items" that `_fresh_list` turns into a new list each time."""


@quiet
def _fresh_list(v: Any) -> list[Any]:
    return [] if isinstance(v, _Empty) else v


class SepBy(Parser[list[Any]]):
    """``p`` (at least ``least`` times) separated by ``sep``; a separator not followed by a
    ``p`` is not consumed. ``tree`` is the same grammar in basic nodes, for the compiler."""

    __slots__ = ("_tree", "compiled_child", "compiled_sep", "least", "p", "sep")

    def __init__(self, sep: Parser[Any], p: Parser[Any], least: int) -> None:
        super().__init__()
        self.sep = sep
        self.p = p
        self.least = least
        self._tree: Parser[Any] | None = None
        self.compiled_child: Parser[Any] = p
        self.compiled_sep: Parser[Any] = sep

    @property
    def tree(self) -> Parser[Any]:
        """The same grammar in basic nodes, for the compiler and the analyses (built when
        first asked for: a list built while parsing, inside a generator, never is)."""
        tree = self._tree
        if tree is None:
            p, sep = self.p, self.sep
            one_or_more = _Seq((p, Many(_Seq((sep, p), 1, None), 0, INF, keep=True)), -1, _cons)
            tree = one_or_more if self.least else _Choice((one_or_more, _Pure(_Empty())), None).map(_fresh_list)
            self._tree = tree
        return tree

    def children(self) -> tuple[Parser[Any], ...]:
        return (self.p, self.sep)

    def link(self) -> None:
        self.compiled_child = compiled(self.p)
        self.compiled_sep = compiled(self.sep)

    def enter(self, m: Machine) -> Parser[Any] | None:
        return self.frame_at(m.pos, [], 0).run(m, 0, False)

    def frame_at(self, start: int, vals: list[Any], phase: int) -> _SepByFrame:
        """The frame of this list in ``phase`` (see `_SepByFrame`), back to ``start`` if
        that phase fails."""
        f = _SepByFrame()
        f.start = start
        f.node = self
        f.vals = vals
        f.phase = phase
        return f

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        vals: list[Any] = []
        item, sep = self.compiled_child, self.compiled_sep
        start = m.pos
        phase = 0  # as in `_SepByFrame`, for a suspension's frame
        try:
            item.go(m)
            if m.ok:
                vals.append(m.value)
                while True:
                    start = m.pos  # where to come back to if "sep p" fails
                    phase = 1
                    sep.go(m)
                    if not m.ok:
                        break
                    phase = 2
                    item.go(m)
                    if not m.ok:
                        break
                    if m.pos == start:
                        break  # neither separator nor item consumed: stop
                    vals.append(m.value)
        except Suspend as s:
            s.frames.append(self.frame_at(start, vals, phase))
            raise
        m.nesting = depth
        if not m.ok:
            if start < m.commit_pos:
                return  # committed inside, then failed: the failure stands
            m.pos = start
            if not vals and self.least:
                return
        m.value = vals
        m.ok = True

    def expected(self) -> str:
        return self.p.expected()


class _SepByFrame(Frame):
    # phase 0: the first item; 1: a separator; 2: the item after a separator.
    __slots__ = ("node", "phase", "vals")

    node: SepBy
    vals: list[Any]
    phase: int

    def run(self, m: Machine, phase: int, done: bool) -> Parser[Any] | None:
        """Go on from ``phase``; with ``done``, its result is in ``m``'s registers."""
        stack = m.stack
        node = self.node
        while True:
            if done:
                if not m.ok:
                    self.failed(m)
                    return None
                if phase == 1:
                    phase = 2
                elif phase == 2 and m.pos == self.start:
                    m.value = self.vals  # neither separator nor item consumed: stop
                    return None
                else:
                    self.vals.append(m.value)
                    phase = 1
            if phase == 1:
                self.start = m.pos  # where to come back to if "sep p" fails
                c = node.compiled_sep
            else:
                c = node.compiled_child
            self.phase = phase
            stack.append(self)
            if not c.inl:
                return c  # composites go through the machine loop (no recursion)
            nxt = c.enter(m)
            if nxt is not None:
                return nxt
            stack.pop()
            done = True

    def failed(self, m: Machine) -> None:
        """The current phase failed: the list ends (or fails)."""
        if self.start < m.commit_pos:
            return  # committed inside, then failed: the failure stands
        m.pos = self.start
        if self.phase == 0 and self.node.least:
            return
        m.value = self.vals
        m.ok = True

    def resume(self, m: Machine) -> Parser[Any] | None:
        return self.run(m, self.phase, True)
