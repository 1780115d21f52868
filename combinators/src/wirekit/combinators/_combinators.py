"""Combinators: repetition, lookahead, ``consumed``, ``fix``, ``generate`` and friends."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any, Never, TypeVar, overload

from ._machine import NOPOS, Frame, Machine, NoReplay
from ._parser import (
    Parser,
    _Choice,
    _Fail,
    _Map,
    _Pure,
    _Ref,
    _Seq,
    _Unary,
    compiled,
    has_effects,
    quiet,
)

__all__ = [
    "both",
    "choice",
    "consumed",
    "count",
    "fail",
    "fix",
    "generate",
    "lift2",
    "lift3",
    "lift4",
    "lookahead",
    "many",
    "many1",
    "many_till",
    "not_followed_by",
    "option",
    "pure",
    "sep_by",
    "sep_by1",
    "seq",
    "skip_many",
    "skip_many1",
]

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")

_INF = 1 << 62


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
        self.cp = compiled(item)
        self.post = None if not fs else fs[0] if len(fs) == 1 else _Compose(tuple(reversed(fs)))

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _ManyFrame()
        f.start = m.pos
        f.node = self
        f.vals = [] if self.keep else None
        f.n = 0
        return f.step(m)


class _ManyFrame(Frame):
    __slots__ = ("n", "node", "vals")

    node: Many
    vals: list[Any] | None
    n: int

    def step(self, m: Machine) -> Parser[Any] | None:
        """Run iterations; fused children loop here without touching the stack."""
        node = self.node
        cp = node.cp
        most = node.most
        if cp.fused and not m.diag and m.trace is None:
            match = cp.match  # type: ignore[attr-defined]
            extract = cp.extract  # type: ignore[attr-defined]
            if extract is None:
                extract = _none
            buf, lim, complete = m.buf, m.lim, m.complete
            reach, k = cp.reach, cp.k  # type: ignore[attr-defined]
            post = node.post
            quiet = m.quiet or m.diag
            fx = cp.effects or post is not None  # type: ignore[attr-defined]
            vals = self.vals
            pos = m.pos
            n = self.n
            while n < most:
                r = match(buf, pos, lim)
                if r is None:
                    if complete or pos + reach <= lim:  # as `Fused.decided` trusts a failure
                        m.fail(pos, cp)
                        break
                    self.start, self.n = pos, n
                    m.pos = pos
                    m.stack.append(self)
                    return cp  # cannot decide here: the fused node falls back
                end = r.end()
                if not complete and end + k > lim and not cp.decided(buf, pos, lim, r):  # type: ignore[attr-defined]
                    self.start, self.n = pos, n
                    m.pos = pos
                    m.stack.append(self)
                    return cp
                # Every success is the last fused one so far, the empty one that ends
                # the loop included (as in the general form, see `_ScopeFrame`): its
                # inner failures belong in the report if the parse fails right here.
                m.last_ok = (pos, cp, m.marks)
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
        while self.n < most:
            start = self.start = m.pos
            stack.append(self)
            if not cp.leaf:
                return cp  # composites go through the machine loop (no recursion)
            nxt = cp.enter(m)
            if nxt is not None:
                return nxt
            stack.pop()
            if m.ok:
                if m.pos == start and self.n >= node.least:
                    return self.finish(m)
                self.kept(m)
                self.n += 1
                continue
            if start < m.commit_pos:
                return None  # the item committed, then failed: no backtracking past it
            m.pos = start
            return self.finish(m)
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

    __slots__ = ("cend", "cp", "end", "p")

    def __init__(self, p: Parser[Any], end: Parser[Any]) -> None:
        super().__init__()
        self.p = p
        self.end = end
        self.cp: Parser[Any] = p
        self.cend: Parser[Any] = end

    def children(self) -> tuple[Parser[Any], ...]:
        return (self.end, self.p)

    def link(self) -> None:
        self.cp = compiled(self.p)
        self.cend = compiled(self.end)

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _ManyTillFrame()
        f.start = m.pos
        f.node = self
        f.vals = []
        f.trying_end = True
        m.stack.append(f)
        return self.cend

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
            return self.node.cp
        if not m.ok:
            return None
        self.vals.append(m.value)
        self.start = m.pos
        self.trying_end = True
        m.stack.append(self)
        return self.node.cend


class Look(_Unary):
    """Positive (`lookahead`) or negative (`not_followed_by`) lookahead."""

    __slots__ = ("negate",)

    def __init__(self, p: Parser[Any], negate: bool) -> None:
        super().__init__(p)
        self.negate = negate

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _LookFrame()
        f.start = m.pos
        f.node = self
        # Failures inside a negative lookahead are what it wants, not errors to report.
        f.err = (m.err_pos - m.pos, m.err_list) if self.negate else None
        m.stack.append(f)
        return self.cp

    def expected(self) -> str:
        return ("not " if self.negate else "") + self.p.expected()


class _LookFrame(Frame):
    __slots__ = ("err", "node")

    node: Look
    err: tuple[int, Any] | None

    def resume(self, m: Machine) -> None:
        start = self.start
        if self.err is not None:
            rel, errs = self.err
            m.err_pos = start + rel if rel > NOPOS // 2 else NOPOS
            m.err_list = errs
            if m.ok:
                m.fail(start, self.node)
            else:
                m.value = None
                m.ok = True
        m.pos = start
        return None


class Consumed(_Unary):
    """The input ``p`` consumed. Fails if ``p`` commits (the bytes may be gone)."""

    __slots__ = ()


    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _ConsumedFrame()
        f.start = m.pos
        f.node = self
        f.commits = m.commits
        m.stack.append(f)
        return self.cp


class _ConsumedFrame(Frame):
    __slots__ = ("commits", "node")

    node: Consumed
    commits: int

    def resume(self, m: Machine) -> None:
        if m.ok:
            if m.commits != self.commits:
                m.fail(self.start, _COMMITTED_IN_CONSUMED)
            else:
                m.value = m.take(self.start, m.pos)
        return None


_COMMITTED_IN_CONSUMED = _Fail("consumed: the parser inside committed")


class Generate(Parser[Any]):
    """Do-notation: a generator function that yields parsers and receives their results."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], Generator[Parser[Any], Any, Any]]) -> None:
        super().__init__()
        self.fn = fn

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _GenFrame()
        f.start = m.pos
        f.node = self
        log = m.log
        if m.diag:
            # A diagnostic re-run replays what the generator yielded the first time.
            if log is None or (self, m.pos + m.base) not in log:
                raise NoReplay
            f.gen = None
            f.steps = log[(self, m.pos + m.base)]
            f.i = 0
            return f.replay(m)
        f.gen = self.fn()
        steps: list[Any] = []
        f.steps = steps
        if log is not None:
            log[(self, m.pos + m.base)] = steps
        return f.advance(m, None)

    def expected(self) -> str:
        return getattr(self.fn, "__name__", "generate")


class _Tail:
    """A generator's returned parser, in the replay log (it runs as a tail call)."""

    __slots__ = ("p",)

    def __init__(self, p: Parser[Any]) -> None:
        self.p = p


class _GenFrame(Frame):
    __slots__ = ("gen", "i", "node", "steps")

    node: Generate
    gen: Generator[Parser[Any], Any, Any] | None
    steps: list[Any]
    i: int

    def advance(self, m: Machine, value: Any) -> Parser[Any] | None:
        """Send ``value`` in and run what the generator yields. A yielded primitive is
        entered here, its result sent straight back, saving a trip through the machine
        loop; the frame stays below anything that does not finish at once."""
        gen = self.gen
        assert gen is not None
        send = gen.send
        steps = self.steps
        stack = m.stack
        while True:
            try:
                nxt = send(value)
            except StopIteration as stop:
                if isinstance(stop.value, Parser):
                    c = compiled(stop.value)
                    steps.append(_Tail(c))
                    return c
                m.value = stop.value
                m.ok = True
                return None
            if not isinstance(nxt, Parser):
                gen.close()
                raise TypeError(f"generate: yielded {type(nxt).__name__}, not a Parser")
            known = nxt._c
            c = compiled(nxt) if known is None or type(known) is _Ref else known
            steps.append(c)
            stack.append(self)
            if not c.leaf:
                return c
            after = c.enter(m)
            if after is not None:
                return after  # a fused block falls back to its general form
            stack.pop()
            if not m.ok:
                gen.close()
                return None
            value = m.value

    def replay(self, m: Machine) -> Parser[Any] | None:
        steps, i = self.steps, self.i
        if i >= len(steps):
            m.value = None
            m.ok = True
            return None
        step = steps[i]
        self.i = i + 1
        if type(step) is _Tail:
            return step.p
        m.stack.append(self)
        return step  # type: ignore[no-any-return]

    def resume(self, m: Machine) -> Parser[Any] | None:
        gen = self.gen
        if not m.ok:
            if gen is not None:
                gen.close()
            return None
        if gen is None:
            return self.replay(m)
        return self.advance(m, m.value)


# --------------------------------------------------------------------------------
# Public constructors
# --------------------------------------------------------------------------------
def pure(value: T) -> Parser[T]:
    """Succeed with ``value`` without consuming input (Angstrom ``return``)."""
    return _Pure(value)


def fail(msg: str) -> Parser[Never]:
    """Always fail; ``msg`` is what the error says was expected.

    A ``Parser[Never]`` (it never produces a value), so it fits where any parser does:
    ``p | fail("x")`` is still a ``Parser[T]``, ``pure(n) if ok else fail("x")`` a
    ``Parser[int]``, and in a `generate` generator ``yield fail("bad length")`` type-checks
    whatever the generator returns (the generator is closed there, never resumed).
    """
    return _Fail(msg)


def option(default: T, p: Parser[A]) -> Parser[T | A]:
    """``p``, or ``default`` (without consuming input) if ``p`` fails without committing."""
    return _Choice((p, _Pure(default)), None)


def both(p: Parser[A], q: Parser[B]) -> Parser[tuple[A, B]]:
    """Run ``p`` then ``q``; return both results as a pair."""
    return _Seq((p, q), -1, None)


@overload
def seq(p1: Parser[A], p2: Parser[B], /) -> Parser[tuple[A, B]]: ...
@overload
def seq(p1: Parser[A], p2: Parser[B], p3: Parser[C], /) -> Parser[tuple[A, B, C]]: ...
@overload
def seq(
    p1: Parser[A], p2: Parser[B], p3: Parser[C], p4: Parser[D], /
) -> Parser[tuple[A, B, C, D]]: ...
@overload
def seq(*ps: Parser[Any]) -> Parser[tuple[Any, ...]]: ...
def seq(*ps: Parser[Any]) -> Parser[tuple[Any, ...]]:
    """Run the parsers in order; return their results as a tuple."""
    return _Seq(tuple(ps), -1, None)


def lift2(f: Callable[[A, B], T], p1: Parser[A], p2: Parser[B]) -> Parser[T]:
    """Run two parsers in order and combine their results with ``f``."""
    return _Seq((p1, p2), -1, f)


def lift3(
    f: Callable[[A, B, C], T], p1: Parser[A], p2: Parser[B], p3: Parser[C]
) -> Parser[T]:
    """Run three parsers in order and combine their results with ``f``."""
    return _Seq((p1, p2, p3), -1, f)


def lift4(
    f: Callable[[A, B, C, D], T], p1: Parser[A], p2: Parser[B], p3: Parser[C], p4: Parser[D]
) -> Parser[T]:
    """Run four parsers in order and combine their results with ``f``."""
    return _Seq((p1, p2, p3, p4), -1, f)


def count(n: int, p: Parser[T]) -> Parser[list[T]]:
    """Exactly ``n`` repetitions of ``p``. A negative ``n`` (a count read from the
    wire) fails with a `ParseError` where it stands."""
    if n < 0:
        return _Fail(f"a count of at least 0 (got {n})")
    return Many(p, n, n, keep=True)


def many(p: Parser[T]) -> Parser[list[T]]:
    """Zero or more repetitions of ``p``, greedily. Never fails unless ``p`` fails after
    a `commit`."""
    return Many(p, 0, _INF, keep=True)


def many1(p: Parser[T]) -> Parser[list[T]]:
    """One or more repetitions of ``p``."""
    return Many(p, 1, _INF, keep=True)


def skip_many(p: Parser[Any]) -> Parser[None]:
    """Zero or more repetitions of ``p``, discarding the results (constant memory)."""
    return Many(p, 0, _INF, keep=False)


def skip_many1(p: Parser[Any]) -> Parser[None]:
    """One or more repetitions of ``p``, discarding the results."""
    return Many(p, 1, _INF, keep=False)


def many_till(p: Parser[T], end: Parser[Any]) -> Parser[list[T]]:
    """``p`` repeated until ``end`` succeeds; ``end`` is tried before each ``p`` and is
    consumed. Fails if ``p`` fails before ``end`` matches."""
    return ManyTill(p, end)


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

    __slots__ = ("cp", "csep", "least", "p", "sep", "tree")

    def __init__(self, sep: Parser[Any], p: Parser[Any], least: int) -> None:
        super().__init__()
        self.sep = sep
        self.p = p
        self.least = least
        one_or_more = _Seq((p, Many(_Seq((sep, p), 1, None), 0, _INF, keep=True)), -1, _cons)
        self.tree: Parser[Any] = (
            one_or_more if least else _Choice((one_or_more, _Pure(_Empty())), None).map(_fresh_list)
        )
        self.cp: Parser[Any] = p
        self.csep: Parser[Any] = sep

    def children(self) -> tuple[Parser[Any], ...]:
        return (self.p, self.sep)

    def link(self) -> None:
        self.cp = compiled(self.p)
        self.csep = compiled(self.sep)

    def enter(self, m: Machine) -> Parser[Any] | None:
        f = _SepByFrame()
        f.start = m.pos
        f.node = self
        f.vals = []
        return f.run(m, 0)

    def expected(self) -> str:
        return self.p.expected()


class _SepByFrame(Frame):
    # phase 0: the first item; 1: a separator; 2: the item after a separator.
    __slots__ = ("node", "phase", "vals")

    node: SepBy
    vals: list[Any]
    phase: int

    def run(self, m: Machine, phase: int) -> Parser[Any] | None:
        stack = m.stack
        node = self.node
        while True:
            if phase == 1:
                self.start = m.pos  # where to come back to if "sep p" fails
                c = node.csep
            else:
                c = node.cp
            self.phase = phase
            stack.append(self)
            if not c.leaf:
                return c  # composites go through the machine loop (no recursion)
            nxt = c.enter(m)
            if nxt is not None:
                return nxt
            stack.pop()
            phase = self.step(m)
            if phase < 0:
                return None

    def step(self, m: Machine) -> int:
        """Take the result of the current phase; the next phase, or -1 when finished."""
        if m.ok:
            if self.phase == 1:
                return 2
            if self.phase == 2 and m.pos == self.start:
                m.value = self.vals  # neither separator nor item consumed: stop
                return -1
            self.vals.append(m.value)
            return 1
        if self.start < m.commit_pos:
            return -1  # committed inside, then failed: the failure stands
        m.pos = self.start
        if self.phase == 0 and self.node.least:
            return -1
        m.value = self.vals
        m.ok = True
        return -1

    def resume(self, m: Machine) -> Parser[Any] | None:
        phase = self.step(m)
        return None if phase < 0 else self.run(m, phase)


def sep_by1(sep: Parser[Any], p: Parser[T]) -> Parser[list[T]]:
    """One or more ``p`` separated by ``sep`` (a trailing separator is not consumed)."""
    return SepBy(sep, p, 1)


def sep_by(sep: Parser[Any], p: Parser[T]) -> Parser[list[T]]:
    """Zero or more ``p`` separated by ``sep``."""
    return SepBy(sep, p, 0)


def choice(ps: Iterable[Parser[Any]], failure_msg: str | None = None) -> Parser[Any]:
    """Try each parser in order (ordered choice). When all fail, the error names
    ``failure_msg`` if given, else what the alternatives expected."""
    alts = tuple(ps)
    return _Choice(alts, failure_msg)


def fix(f: Callable[[Parser[T]], Parser[T]]) -> Parser[T]:
    """A recursive parser: ``f`` receives the parser being defined and returns its body.

    Nesting depth is limited by memory, not by Python's recursion limit.
    """
    ref = _Ref()
    body = f(ref)
    ref.target = body
    return body


def lookahead(p: Parser[T]) -> Parser[T]:
    """Run ``p`` and return its result without consuming input."""
    return Look(p, negate=False)


def not_followed_by(p: Parser[Any]) -> Parser[None]:
    """Succeed (with `None`, consuming nothing) only if ``p`` fails here."""
    return Look(p, negate=True)


def consumed(p: Parser[Any]) -> Parser[bytes]:
    """Run ``p`` and return the bytes it consumed instead of its result. Fails if ``p``
    commits."""
    return Consumed(p)


@overload
def generate(fn: Callable[[], Generator[Parser[Any], Any, Parser[T]]]) -> Parser[T]: ...
@overload
def generate(fn: Callable[[], Generator[Parser[Any], Any, T | Parser[T]]]) -> Parser[T]: ...
def generate(fn: Callable[[], Generator[Parser[Any], Any, Any]]) -> Parser[Any]:
    """Decorator for parsy-style do-notation.

    The generator yields parsers and receives each one's result; its return value (or the
    parser it returns, which then runs in its place) is the result::

        @generate
        def pair() -> Generator[Parser[Any], Any, tuple[bytes, bytes]]:
            key: bytes = yield take_while1(b"abc")
            yield char(b"=")
            return key, (yield take_while(b"0123456789"))

    Typing: a generator annotated ``Generator[Parser[Any], Any, T]`` gives a ``Parser[T]``;
    one that returns a parser (``Generator[Parser[Any], Any, Parser[T]]``, or
    ``T | Parser[T]`` when it returns both) gives a ``Parser[T]`` too. The values sent
    back are typed ``Any``, so annotate the names that receive them. To fail from inside,
    ``yield fail(msg)``. Returns a parser that can fail or suspend wherever the parsers it
    yields can.
    """
    return Generate(fn)
