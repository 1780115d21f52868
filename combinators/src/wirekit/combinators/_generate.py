"""Do-notation: `generate` runs a generator function that yields parsers and receives
their results (`Generate`), recording what it yielded so that a diagnostic re-run of a
failed parse replays it instead of running the generator again."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, NoReturn

from ._machine import DIRECT_DEPTH, Frame, Machine, Suspend
from ._parser import Parser, compiled

__all__ = ["Generate"]


class Generate(Parser[Any]):
    """Do-notation: a generator function that yields parsers and receives their results."""

    __slots__ = ("fn", "usual")

    def __init__(self, fn: Callable[[], Generator[Parser[Any], Any, Any]]) -> None:
        super().__init__()
        self.fn = fn
        # What a finished run yielded, shared by the replay log of every run that yields
        # the same (most do: a generator's code usually takes one path). Never appended
        # to: only a finished run's list becomes it.
        self.usual: list[Any] = []

    def enter(self, m: Machine) -> Parser[Any] | None:
        if m.diag:
            # A diagnostic re-run replays what the generator yielded the first time.
            return self.frame_at(m.pos, None, m.logged(self, m.pos)).replay(m)
        steps: list[Any] = []
        f = self.frame_at(m.pos, self.fn(), steps)
        if m.log is not None:
            m.log += (self, m.pos + m.base, steps)
        # Registers as `resume` reads them: the generator is started with None.
        m.ok = True
        m.value = None
        return f.resume(m)

    def go(self, m: Machine) -> None:  # noqa: C901 (a run, written out: see DIRECT_DEPTH)
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        m.nesting = depth + 1
        start = m.pos
        gen = self.fn()
        steps: list[Any] = []
        log = m.log
        if log is not None:
            # Logged as the run begins, as `enter` does: a run of this generator nested in
            # this one at the same start (an `isolate` window, say) logs after it, and the
            # innermost run's entry is the one replayed there (see `Machine.logged`).
            at = len(log) + 2
            log += (self, start + m.base, steps)
        tail = None
        value = None
        while True:
            try:
                nxt = gen.send(value)
            except StopIteration as stop:
                result = stop.value
                if isinstance(result, Parser):
                    tail = _tail(result, steps)  # run below, once logged
                else:
                    m.value = result
                    m.ok = True
                break
            try:
                c = nxt._c  # (every parser has one: this is also the type check)
            except AttributeError:
                _not_a_parser(gen, nxt)
            if c is None:
                c = compiled(nxt)
            steps.append(c)
            try:
                c.go(m)
            except Suspend as s:
                s.frames.append(self.frame_at(start, gen, steps))
                raise
            if not m.ok:
                gen.close()
                break
            value = m.value
        if log is not None:
            # A run that yielded what the last finished one did logs that list instead
            # of its own: no list per run kept alive until the parse ends, for the cyclic
            # collector to walk.
            usual = self.usual
            if steps == usual:
                log[at] = usual
            elif m.ok:
                self.usual = steps
        if tail is not None:
            tail.go(m)  # (suspended there: no frame, a tail call)
        m.nesting = depth

    def frame_at(
        self, start: int, gen: Generator[Parser[Any], Any, Any] | None, steps: list[Any]
    ) -> _GenFrame:
        """The frame of a run begun at ``start``, before its first step: driving ``gen``
        (which appends to ``steps``, the list logged for the run), or replaying ``steps``
        when ``gen`` is None."""
        f = _GenFrame()
        f.start = start
        f.gen = gen
        f.steps = steps
        f.i = 0
        return f

    def expected(self) -> str:
        return getattr(self.fn, "__name__", "generate")


def _tail(returned: Parser[Any], steps: list[Any]) -> Parser[Any]:
    """The parser a generator returned, compiled (run as a tail call, and logged as one)."""
    c = compiled(returned)
    steps.append(_Tail(c))
    return c


def _not_a_parser(gen: Generator[Any, Any, Any], nxt: object) -> NoReturn:
    """A generator yielded something else: close it and raise the `TypeError`."""
    gen.close()
    raise TypeError(f"generate: yielded {type(nxt).__name__}, not a Parser")


class _Tail:
    """A generator's returned parser, in the replay log (it runs as a tail call)."""

    __slots__ = ("p",)

    def __init__(self, p: Parser[Any]) -> None:
        self.p = p


class _GenFrame(Frame):
    __slots__ = ("gen", "i", "steps")

    gen: Generator[Parser[Any], Any, Any] | None
    steps: list[Any]
    i: int

    def resume(self, m: Machine) -> Parser[Any] | None:
        """Send the result in ``m`` to the generator and run what it yields. A yielded
        primitive is entered here, its result sent straight back, saving a trip through
        the machine loop; the frame stays below anything that does not finish at once."""
        gen = self.gen
        if not m.ok:
            if gen is not None:
                gen.close()
            return None
        if gen is None:
            return self.replay(m)
        value = m.value
        send = gen.send
        steps = self.steps
        stack = m.stack
        while True:
            try:
                nxt = send(value)
            except StopIteration as stop:
                result = stop.value
                if isinstance(result, Parser):
                    return _tail(result, steps)
                m.value = result
                m.ok = True
                return None
            if not isinstance(nxt, Parser):
                _not_a_parser(gen, nxt)
            known = nxt._c
            c = compiled(nxt) if known is None else known
            # (A linked `fix` reference's ``_c`` is its target: see `_unary._Ref.link`.)
            steps.append(c)
            stack.append(self)
            if not c.inl:
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

