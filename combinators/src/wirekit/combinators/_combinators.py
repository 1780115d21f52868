"""Combinators: repetition, lookahead, ``consumed``, ``fix``, ``generate`` and friends."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any, Never, TypeVar, overload

from ._choice import _Choice
from ._generate import Generate as Generate
from ._machine import NOPOS, RUNNING, Frame, Machine
from ._parser import _INTERNED, ABOVE, Parser, _Fail, _intern, _Pure, _Seq, made_while_parsing
from ._primitives import length_error
from ._repeat import INF as _INF
from ._repeat import Many as Many
from ._repeat import ManyTill as ManyTill
from ._repeat import SepBy as SepBy
from ._unary import _Ref, _Unary

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
        return self.compiled_child

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
        return self.compiled_child


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
    return made_while_parsing(("seq", (p, q), -1), lambda: _Seq((p, q), -1, None))


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
    parts = tuple(ps)
    return made_while_parsing(("seq", parts, -1), lambda: _Seq(parts, -1, None))


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
        return length_error("count", n)
    # Shared like the primitives (counts read from the wire repeat): one lookup, no
    # node to build and link for each use.
    key = ("count", p, n, RUNNING[0] > 0)  # (made while parsing: linked, not fused)
    hit = _INTERNED.get(key)
    if hit is None:
        hit = _intern(key, lambda: Many(p, n, n, keep=True))
    return hit


def many(p: Parser[T]) -> Parser[list[T]]:
    """Zero or more repetitions of ``p``, greedily. Never fails unless ``p`` fails after
    a `commit`."""
    return made_while_parsing(("many", p, 0, True), lambda: Many(p, 0, _INF, keep=True))


def many1(p: Parser[T]) -> Parser[list[T]]:
    """One or more repetitions of ``p``."""
    return made_while_parsing(("many", p, 1, True), lambda: Many(p, 1, _INF, keep=True))


def skip_many(p: Parser[Any]) -> Parser[None]:
    """Zero or more repetitions of ``p``, discarding the results (constant memory)."""
    return made_while_parsing(("many", p, 0, False), lambda: Many(p, 0, _INF, keep=False))


def skip_many1(p: Parser[Any]) -> Parser[None]:
    """One or more repetitions of ``p``, discarding the results."""
    return made_while_parsing(("many", p, 1, False), lambda: Many(p, 1, _INF, keep=False))


def many_till(p: Parser[T], end: Parser[Any]) -> Parser[list[T]]:
    """``p`` repeated until ``end`` succeeds; ``end`` is tried before each ``p`` and is
    consumed. Fails if ``p`` fails before ``end`` matches."""
    return ManyTill(p, end)


def sep_by1(sep: Parser[Any], p: Parser[T]) -> Parser[list[T]]:
    """One or more ``p`` separated by ``sep`` (a trailing separator is not consumed)."""
    return made_while_parsing(("sep_by", sep, p, 1), lambda: SepBy(sep, p, 1))


def sep_by(sep: Parser[Any], p: Parser[T]) -> Parser[list[T]]:
    """Zero or more ``p`` separated by ``sep``."""
    return made_while_parsing(("sep_by", sep, p, 0), lambda: SepBy(sep, p, 0))


def choice(ps: Iterable[Parser[Any]], failure_msg: str | None = None) -> Parser[Any]:
    """Try each parser in order (ordered choice). When all fail, the error names
    ``failure_msg`` if given, else what the alternatives expected."""
    alts = tuple(ps)
    return made_while_parsing(("choice", alts, failure_msg), lambda: _Choice(alts, failure_msg))


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


# `Parser`'s methods of the same names (the node layer does not import this module).
ABOVE.many = many
ABOVE.many1 = many1
ABOVE.count = count
ABOVE.sep_by = sep_by
ABOVE.option = option
