"""Running parsers: one shot, buffered (`Buffered`), zero-copy (`Unbuffered`), streams.

The states follow the IO contract shared by every wirekit package: a run is `Partial`
(needs more input; says how many bytes it has committed), `Done` or `Fail`.
"""

from __future__ import annotations

import enum
from typing import Any, Generic, TypeVar

from ._choice import spelled_out
from ._compile import Fused
from ._errors import ParseError
from ._machine import NOPOS, Machine, Marks, NoReplay
from ._parser import ABOVE, Parser, compiled
from ._primitives import end_of_input
from ._trace import Tracer

__all__ = [
    "Buffered",
    "Consume",
    "Done",
    "Fail",
    "Partial",
    "State",
    "Unbuffered",
    "parse",
    "parse_prefix",
]

T = TypeVar("T")
BytesLike = bytes | bytearray | memoryview


class Consume(enum.Enum):
    """How much of the input a one-shot `parse` must use."""

    ALL = "all"
    """The parser must consume the whole input (it is followed by `end_of_input`)."""
    PREFIX = "prefix"
    """The parser may stop before the end; the rest is ignored."""


_WHOLE: dict[int, tuple[Parser[Any], Parser[Any]]] = {}


def _whole(p: Parser[Any]) -> Parser[Any]:
    """``p << end_of_input``, built once per parser."""
    hit = _WHOLE.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    whole = p << end_of_input
    if len(_WHOLE) > 4096:
        _WHOLE.clear()
    _WHOLE[id(p)] = (p, whole)
    return whole


def parse(p: Parser[T], data: BytesLike, consume: Consume = Consume.ALL, trace: Tracer | None = None) -> T:
    """Parse ``data`` (complete input) with ``p`` and return the value.

    ``trace``, if given, is called with a `TraceEvent` for each labelled rule entered,
    matched or failed (see `print_trace`).

    Raises:
        ParseError: at the furthest failure, with the labels around it.
    """
    q = _whole(p) if consume is Consume.ALL else p
    c = compiled(q)
    if type(c) is Fused and trace is None:
        # A regular grammar on complete input is one match; only a failure needs the
        # machine (to report where and why).
        r = c.match(data, 0, len(data))
        if r is not None:
            value: T = c.const if c.extract is None else c.extract(r)
            return value
    m = Machine(data, 0, len(data), complete=True)
    m.root = c
    if trace is None:
        m.run_direct(c)
    else:
        m.set_trace(trace)
        m.run(c)
    m.drop_windows()
    if not m.ok:
        raise error_of(m)
    return m.value  # type: ignore[no-any-return]


def error_of(m: Machine) -> ParseError:
    """The `ParseError` for a failed machine: the furthest failure and what was expected
    there. Fused blocks record no inner failures on the fast path, so the ones involved
    are re-run byte by byte here."""
    if m.commits == 0 and m.root is not None and not m.diag:
        exact = _rerun_report(m)
        if exact is not None:
            return exact
    found = _failures(m)
    if not found:
        return ParseError(m.absolute(m.pos), [], [], *m.line_column(m.pos))
    best = max(found)
    return _report(m, best, found[best])


def _rerun_report(m: Machine) -> ParseError | None:
    """The report of the whole parse re-run in its exact general form (no fused blocks,
    no dispatch), for a machine that committed nothing (all input since the start is
    here): the same however the input was split and however the grammar is written.
    (Should a node decide a failure that the general form would wait for more input to
    see, the re-run treats the bytes at hand as all there is.) None if it gives none."""
    assert m.root is not None
    for complete in (m.complete, True):
        d = _exact_rerun(m, complete)
        try:
            rerun = d.run(m.root)
        except Exception:  # a user function disagreed with itself: plain report
            return None
        if rerun is None:
            if not d.ok and d.err_pos > NOPOS // 2:
                return _report(d, d.err_pos, d.err_list)
            return None
    return None


def _exact_rerun(m: Machine, complete: bool) -> Machine:
    """A machine to re-run ``m``'s parse from its start in the exact general form (the
    diagnostic mode), on the same input, replaying what user functions gave."""
    d = Machine(m.buf, m.origin, m.lim, complete, diag=True)
    d.base = m.base
    d.log = m.log
    return d


def _failures(m: Machine) -> dict[int, list[tuple[Parser[Any], Marks]]]:
    """The failures a machine recorded, by position: fused blocks re-run byte by byte
    for their inner ones, the last fused success's, the alternatives a dispatch skipped."""
    found: dict[int, list[tuple[Parser[Any], Marks]]] = {}

    def add(pos: int, records: list[tuple[Parser[Any], Marks]]) -> None:
        if pos > NOPOS // 2 and records:
            found.setdefault(pos, []).extend(records)

    for node, marks in m.err_list:
        if node.fused:
            pos, records = m.diagnose(node, m.err_pos, marks)
            add(pos, records)
            if pos <= NOPOS // 2:
                add(m.err_pos, [(node, marks)])
        else:
            add(m.err_pos, [(node, marks)])
    if m.last_ok is not None:
        start, node, marks = m.last_ok
        add(*m.diagnose(node, start, marks))
    if m.skipped is not None:
        pos, choice, marks, tried = m.skipped
        if choice.msg is None:
            add(pos, [(alt, marks) for alt, c in zip(choice.alternatives, choice.compiled_parts, strict=True) if c not in tried])
    return found


def _report(m: Machine, best: int, records: list[tuple[Parser[Any], Marks]]) -> ParseError:
    at = m.absolute(best)
    records = spelled_out(records)
    chains = [_labels(marks) for _, marks in records]
    if any(c != chains[0] for c in chains):
        # Alternatives under different labels failed here: below the labels they share
        # (where it happened), a label whose parser began right here names what was
        # expected (parsy's `desc`), so every label tried is named.
        common = _common_prefix(chains)
        texts: list[str] = []
        for (node, marks), chain in zip(records, chains, strict=True):
            starts = [start for _, start in _marks(marks)]
            own = next((i for i in range(len(common), len(chain)) if starts[i] == at), None)
            texts.append(node.expected() if own is None else chain[own])
        return ParseError(at, sorted(dict.fromkeys(texts)), common, *m.line_column(best))
    expected = sorted(dict.fromkeys(node.expected() for node, _ in records))
    return ParseError(at, expected, chains[0], *m.line_column(best))


def _marks(marks: Marks) -> list[tuple[str, int]]:
    """A mark chain as (label, where its parser began), outermost first."""
    out: list[tuple[str, int]] = []
    while marks is not None:
        label, marks, start = marks
        out.append((label, start))
    out.reverse()
    return out


def _labels(marks: Marks) -> list[str]:
    """The labels of a mark chain, outermost first."""
    return [label for label, _ in _marks(marks)]


def _common_prefix(chains: list[list[str]]) -> list[str]:
    out: list[str] = []
    for column in zip(*chains, strict=False):
        if any(label != column[0] for label in column):
            break
        out.append(column[0])
    return out


# --------------------------------------------------------------------------------
# States
# --------------------------------------------------------------------------------
class State(Generic[T]):
    """Base class of `Partial`, `Done` and `Fail`."""

    __slots__ = ()

    def feed(self, chunk: BytesLike) -> State[T]:
        """Buffered runs: add ``chunk`` and continue; returns the next state.

        On `Done`/`Fail` it appends to ``unconsumed``.
        """
        raise TypeError(f"{type(self).__name__} cannot be fed")

    def feed_eof(self) -> State[T]:
        """Buffered runs: the input has ended; returns `Done` or `Fail`."""
        raise TypeError(f"{type(self).__name__} cannot be fed")

    def resume(
        self, buffer: BytesLike, off: int = 0, length: int | None = None, complete: bool = False
    ) -> State[T]:
        """Unbuffered runs: continue on ``buffer[off:off+length]`` (see `Partial.resume`)."""
        raise TypeError(f"{type(self).__name__} cannot be resumed")


class Partial(State[T]):
    """The parser needs more input.

    ``committed`` is how many bytes, from the start of the input last given, the parser
    will never look at again: an `Unbuffered` caller drops them before `resume`.
    Buffered runs continue with `feed` / `feed_eof`; unbuffered ones with `resume`.
    Each `Partial` may be continued once.
    """

    __slots__ = ("_used", "committed")

    def __init__(self, committed: int) -> None:
        self.committed = committed
        self._used = False

    def _use(self) -> None:
        if self._used:
            raise RuntimeError("this Partial state was already continued; use the state it returned")
        self._used = True

    def feed(self, chunk: BytesLike) -> State[T]:
        """Buffered: add ``chunk`` and continue. Returns the next state."""
        raise TypeError("feed() is for Buffered parses; an Unbuffered Partial uses resume()")

    def feed_eof(self) -> State[T]:
        """Buffered: there is no more input; finish. Returns `Done` or `Fail`."""
        raise TypeError("feed_eof() is for Buffered parses; an Unbuffered Partial uses resume()")

    def resume(
        self, buffer: BytesLike, off: int = 0, length: int | None = None, complete: bool = False
    ) -> State[T]:
        """Unbuffered: continue on ``buffer[off:off+length]``, which must hold every byte
        not committed so far plus any new ones; ``complete`` says no more will follow.

        Raises:
            ValueError: if fewer bytes are given than the parser still needs.
        """
        raise TypeError("resume() is for Unbuffered parses; a Buffered Partial uses feed()")

    def __repr__(self) -> str:
        return f"Partial(committed={self.committed})"


class Done(State[T]):
    """The parser succeeded with ``value``.

    ``unconsumed`` holds the input after the parsed value; ``consumed`` is how many bytes of
    the last buffer given were used. Feeding a `Done` appends to its ``unconsumed``.
    """

    __slots__ = ("_buf", "_end", "_start", "_unconsumed", "consumed", "value")

    def __init__(
        self,
        value: T,
        unconsumed: bytes | None,
        consumed: int,
        rest: tuple[BytesLike, int, int] | None = None,
    ) -> None:
        self.value = value
        self._unconsumed = unconsumed
        self.consumed = consumed
        # ``unconsumed`` is copied from ``_buf[_start:_end]`` only if asked for.
        if rest is None:
            self._buf = None
        else:
            self._buf, self._start, self._end = rest

    @property
    def unconsumed(self) -> bytes:
        """The input after the parsed value (as `bytes`).

        For `Unbuffered` runs it is copied from your buffer the first time it is read
        (nothing is copied if you only use ``consumed``): read it before reusing the
        buffer.
        """
        u = self._unconsumed
        if u is None:
            buf = self._buf
            assert buf is not None
            u = self._unconsumed = bytes(buf[self._start : self._end])
            self._buf = None
        return u

    def feed(self, chunk: BytesLike) -> Done[T]:
        """Append ``chunk`` to ``unconsumed`` (for the next parser to use)."""
        return Done(self.value, self.unconsumed + bytes(chunk), self.consumed)

    def feed_eof(self) -> Done[T]:
        """No-op: the parse is already over."""
        return self

    def __repr__(self) -> str:
        return f"Done({self.value!r}, unconsumed={self.unconsumed!r})"


class Fail(State[Any]):
    """The parser failed with ``error`` (a `ParseError`).

    ``unconsumed`` holds the input from the last commit point on, so nothing is lost;
    ``consumed`` counts the bytes of the last buffer before it.
    """

    __slots__ = ("consumed", "error", "unconsumed")

    def __init__(self, error: ParseError, unconsumed: bytes, consumed: int) -> None:
        self.error = error
        self.unconsumed = unconsumed
        self.consumed = consumed

    def feed(self, chunk: BytesLike) -> Fail:
        """Append ``chunk`` to ``unconsumed``."""
        return Fail(self.error, self.unconsumed + bytes(chunk), self.consumed)

    def feed_eof(self) -> Fail:
        """No-op: the parse is already over."""
        return self

    def __repr__(self) -> str:
        return f"Fail({self.error.message!r})"


# --------------------------------------------------------------------------------
# Unbuffered: the caller owns the buffer
# --------------------------------------------------------------------------------
class Unbuffered:
    """Zero-copy incremental parsing over buffers the caller owns (Angstrom's Unbuffered).

    Start with ``state = Unbuffered.parse(p)``; on each `Partial`, drop ``committed`` bytes
    from the front of your buffer, append new input, and call
    ``state.resume(buffer, off, length, complete)``. Nothing is copied but the values.
    """

    @staticmethod
    def parse(p: Parser[T], trace: Tracer | None = None) -> State[T]:
        """Start parsing; returns a `Partial` (with ``committed == 0``) to `resume` with
        the first input. ``trace``: see `parse`."""
        return _FreshPartial(compiled(p), trace)


def _check_window(buffer: BytesLike, off: int, length: int | None) -> int:
    if length is None:
        length = len(buffer) - off
    if off < 0 or length < 0 or off + length > len(buffer):
        raise ValueError(f"off={off}, length={length} do not fit a buffer of {len(buffer)}")
    return length


def parse_prefix(
    p: Parser[T],
    buffer: BytesLike,
    off: int = 0,
    length: int | None = None,
    complete: bool = False,
    trace: Tracer | None = None,
) -> State[T]:
    """Parse a ``p`` at the start of ``buffer[off:off+length]``, zero-copy.

    The same as ``Unbuffered.parse(p).resume(buffer, off, length, complete)``, for the
    common case of a message that usually arrives whole: `Done` (``consumed`` bytes used),
    `Fail`, or a `Partial` to resume when more input arrived. A regular grammar is one
    regular-expression match here.
    """
    # The fast path for a regular grammar is one match: every step is inlined here, as
    # the HTTP layer pays this per request head and per chunk line.
    if length is None:
        length = len(buffer) - off
    end = off + length
    if off < 0 or length < 0 or end > len(buffer):
        raise ValueError(f"off={off}, length={length} do not fit a buffer of {len(buffer)}")
    root = p._c
    if type(root) is not Fused:
        root = compiled(p)
    if type(root) is Fused and trace is None:
        r = root.match(buffer, off, end)
        if r is not None:
            stop = r.end()
            if complete or stop + root.k <= end or root.decided(buffer, off, end, r):
                ex = root.extract
                # `Done(...)` without its __init__ call: same attributes, less overhead.
                done: Done[T] = _new(Done)
                done.value = root.const if ex is None else ex(r)
                done._unconsumed = None
                done.consumed = stop - off
                done._buf = buffer
                done._start = stop
                done._end = end
                return done
    m = Machine(buffer, off, end, complete)
    m.root = root
    if complete and trace is None:
        m.run_direct(root)
        node = None
    else:
        m.set_trace(trace)
        node = m.run(root)
    return _unbuffered_state(m, node, off)


_new = object.__new__


class _FreshPartial(Partial[T]):
    """Nothing has run yet: the first `resume` starts at the root, so a regular grammar
    gets its one-match fast path."""

    __slots__ = ("_root", "_trace")

    def __init__(self, root: Parser[Any], trace: Tracer | None) -> None:
        super().__init__(0)
        self._root = root
        self._trace = trace

    def resume(
        self, buffer: BytesLike, off: int = 0, length: int | None = None, complete: bool = False
    ) -> State[T]:
        self._use()
        return parse_prefix(self._root, buffer, off, length, complete, self._trace)


class _UnbufferedPartial(Partial[T]):
    __slots__ = ("_m", "_need", "_node")

    def __init__(self, m: Machine, node: Parser[Any], off: int) -> None:
        super().__init__(m.commit_pos - off)
        m.count_lines(m.commit_pos)  # the caller drops these bytes before resuming
        self._m = m
        self._node = node
        self._need = m.lim - m.commit_pos

    def resume(
        self, buffer: BytesLike, off: int = 0, length: int | None = None, complete: bool = False
    ) -> State[T]:
        length = _check_window(buffer, off, length)
        if length < self._need:
            raise ValueError(
                f"resume: given {length} bytes, but the parser still needs the {self._need} "
                "uncommitted bytes it was given before (plus any new input)"
            )
        self._use()
        m = self._m
        m.rebase(buffer, off, off + length, m.commit_pos)
        m.set_complete(complete)
        node = _run_on(m, self._node)
        return _unbuffered_state(m, node, off)


def _unbuffered_state(m: Machine, node: Parser[Any] | None, off: int) -> State[Any]:
    if node is not None:
        return _UnbufferedPartial(m, node, off)
    m.drop_windows()
    if m.ok:
        return Done(m.value, None, m.pos - off, (m.buf, m.pos, m.lim))
    placing = _placing_error(m)
    if placing is not None:
        return _UnbufferedPartial(*placing, off)
    return Fail(error_of(m), m.take(m.commit_pos, m.lim), m.commit_pos - off)


# --------------------------------------------------------------------------------
# Buffered: wirekit owns a growable buffer
# --------------------------------------------------------------------------------
class Buffered:
    """Incremental parsing with an internal buffer (Angstrom's Buffered).

    ``state = Buffered.parse(p)``, then ``state = state.feed(chunk)`` as input arrives and
    ``state.feed_eof()`` at the end. Only uncommitted bytes are kept: before each feed the
    committed prefix is dropped (the buffer is compacted, or grown by half when full).
    """

    @staticmethod
    def parse(p: Parser[T], initial_buffer_size: int = 4096, trace: Tracer | None = None) -> State[T]:
        """Start parsing with an empty buffer of ``initial_buffer_size`` bytes.
        ``trace``: see `parse`."""
        if initial_buffer_size < 1:
            raise ValueError("initial_buffer_size must be at least 1")
        buf = bytearray(initial_buffer_size)
        m = Machine(buf, 0, 0, complete=False)
        m.set_trace(trace)
        m.root = compiled(p)
        node = m.run(m.root)
        return _buffered_state(m, node)


class _BufferedPartial(Partial[T]):
    __slots__ = ("_m", "_node")

    def __init__(self, m: Machine, node: Parser[Any]) -> None:
        super().__init__(m.commit_pos)
        self._m = m
        self._node = node

    @property
    def retained(self) -> int:
        """How many bytes the buffer holds now (all of them uncommitted)."""
        return self._m.lim - self._m.commit_pos

    @property
    def buffer_size(self) -> int:
        """The internal buffer's capacity."""
        return len(self._m.buf)

    def __repr__(self) -> str:
        return f"Partial(committed={self.committed}, retained={self.retained})"

    def feed(self, chunk: BytesLike) -> State[T]:
        self._use()
        m = self._m
        buf: bytearray = m.buf
        keep_from, end = m.commit_pos, m.lim
        kept = end - keep_from
        if keep_from:
            m.count_lines(keep_from)  # released now
        n = len(chunk)
        if end + n <= len(buf) and keep_from == 0:
            new = buf
        elif kept + n <= len(buf):
            buf[0:kept] = buf[keep_from:end]  # compact in place
            new = buf
        else:
            new = bytearray(max(kept + n, len(buf) * 3 // 2))
            new[0:kept] = buf[keep_from:end]
        new[kept : kept + n] = chunk
        m.rebase(new, 0, kept + n, keep_from)
        node = _run_on(m, self._node)
        return _buffered_state(m, node)

    def feed_eof(self) -> State[T]:
        self._use()
        m = self._m
        m.set_complete(True)
        node = _run_on(m, self._node)
        return _buffered_state(m, node)


def _buffered_state(m: Machine, node: Parser[Any] | None) -> State[Any]:
    if node is not None:
        return _BufferedPartial(m, node)
    m.drop_windows()
    if m.ok:
        return Done(m.value, m.take(m.pos, m.lim), m.pos)
    placing = _placing_error(m)
    if placing is not None:
        return _BufferedPartial(*placing)
    return Fail(error_of(m), m.take(m.commit_pos, m.lim), m.commit_pos)


def _run_on(m: Machine, node: Parser[Any]) -> Parser[Any] | None:
    """Continue a suspended parse (`Machine.run`). A re-run placing an error (see
    `_placing_error`) that reaches user code the first run never got to stops there:
    its error is the furthest failure found so far (only such a re-run raises
    `NoReplay`; a `try` costs nothing until it does)."""
    try:
        return m.run(node)
    except NoReplay:
        m.stack.clear()
        m.ok = False
        return None


def _placing_error(m: Machine) -> tuple[Machine, Parser[Any]] | None:
    """For a parse that failed before its input ended: the exact re-run that reports its
    error (see `_rerun_report`), if that re-run needs more input to place the error; None
    when the report is decided by the bytes at hand.

    The parse may know it fails before it knows where its furthest failure is (an
    alternative it gave up on was still reading when another part failed for good): the
    state then stays `Partial` until the bytes that place the error have arrived, so
    that the error, like a value, does not depend on how the input was split."""
    if m.complete or m.commits or m.root is None or m.diag:
        return None
    d = _exact_rerun(m, False)
    try:
        node = d.run(m.root)
    except Exception:  # a user function disagreed with itself: report now
        return None
    if node is None:
        return None
    d.commit_pos = m.commit_pos
    return d, node


def _parse_method(p: Parser[Any], data: BytesLike, consume: Consume | None) -> Any:
    return parse(p, data, Consume.ALL if consume is None else consume)


ABOVE.parse = _parse_method  # `Parser.parse` (the node layer does not import this module)
