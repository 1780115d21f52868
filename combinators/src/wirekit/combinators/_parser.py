"""`Parser[T]` and the nodes every grammar is built from: sequence, choice, map, bind, label.

A parser is an immutable *description* (a small node object), not a closure, so the compile
step in `_compile` can analyse it: fuse regular sub-trees into one `re` pattern and give
choices a first-byte dispatch table. Each node also knows how to run itself on the
`Machine` (its general form, used where fusion does not apply).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._machine import DIRECT_DEPTH, RUNNING, Frame, Machine, Suspend

if TYPE_CHECKING:
    from ._running import Consume

__all__ = ["Parser"]

T = TypeVar("T")
U = TypeVar("U")
T_co = TypeVar("T_co", covariant=True)
P = TypeVar("P", bound="Parser[Any]")


INLINE_DEPTH = 8
"""How many levels of direct entry one node may hide (see `Parser.inl`)."""


class _Above:
    """What this layer uses of the modules above it, registered by each of them when it
    loads (`_unary`, `_choice`, `_running`, `_checked`, `_combinators`, `_compile`), so that this module
    imports none of them and the modules form no import cycle. A name is missing (an
    `AttributeError`) only if its module was never loaded, which importing
    `wirekit.combinators` rules out."""

    parse: Callable[[Parser[Any], Any, Consume | None], Any]
    map: Callable[[Parser[Any], Callable[[Any], Any]], Parser[Any]]
    bind: Callable[[Parser[Any], Callable[[Any], Parser[Any]]], Parser[Any]]
    desc: Callable[[Parser[Any], str], Parser[Any]]
    try_map: Callable[[Parser[Any], Callable[[Any], Any]], Parser[Any]]
    many: Callable[[Parser[Any]], Parser[Any]]
    many1: Callable[[Parser[Any]], Parser[Any]]
    count: Callable[[int, Parser[Any]], Parser[Any]]
    sep_by: Callable[[Parser[Any], Parser[Any]], Parser[Any]]
    option: Callable[[Any, Parser[Any]], Parser[Any]]
    either: Callable[[Parser[Any], Parser[Any]], Parser[Any]]
    dispatch_table: Callable[[tuple[Parser[Any], ...], tuple[Parser[Any], ...]], list[tuple[Parser[Any], ...]] | None]
    fuse_candidate: Callable[[Parser[Any]], bool]


ABOVE = _Above()


class Parser(Generic[T_co]):
    """A parser producing a value of type ``T_co`` from bytes.

    Build parsers with the primitives and combinators of `wirekit.combinators`; combine them
    with ``p | q`` (ordered choice), ``p >> q`` (keep right), ``p << q`` (keep left) and the
    methods below. Run them with `parse`, `Buffered.parse` or `Unbuffered.parse`.
    Parsers are immutable and may be shared between threads and reused freely.
    """

    __slots__ = ("_c", "_rt")

    fused = False  # whether this is a compiled regular block (see `_compile.Fused`)
    is_ref = False  # whether this is `fix`'s recursion point (`_unary._Ref`)
    # A leaf's `enter` never enters another node, so frames may call it inline without
    # growing the Python stack.
    leaf = False
    # Whether callers may enter this node directly instead of through the machine loop:
    # its ``enter`` finishes, suspends or hands back a continuation after a bounded number
    # of nested calls (a primitive, or a wrapper of one ``depth`` levels deep).
    inl = False
    depth = 0  # at most INLINE_DEPTH
    # A primitive whose ``enter`` only finishes (never hands back a continuation) and
    # touches the failure records only when it fails: a success or a suspension leaves
    # ``err_pos``, ``err_list``, ``last_ok`` and ``skipped`` as they were.
    clean = False

    def __init__(self) -> None:
        self._c: Parser[Any] | None = None
        # Made while a parse was running (by `bind` or `generate`, usually to run once):
        # such a node is linked without fusing its regular runs into a pattern, since
        # compiling one costs far more than the run it would speed up. Values and errors
        # are the same either way; the parsers it is built from keep their fused forms.
        self._rt = RUNNING[0] > 0

    # -- running -------------------------------------------------------------------
    def enter(self, m: Machine) -> Parser[Any] | None:
        """Run this node's general form on the machine (see `_machine`)."""
        raise NotImplementedError

    def go(self, m: Machine) -> None:
        """Run this node to its end in the direct form (see `_machine`): the result is
        in ``m``'s registers, as after ``enter`` and its frames. May raise `Suspend` (or
        `Handoff`) on input that may be incomplete, collecting the frames of the nodes it
        leaves. A leaf finishes in its ``enter``; a composite node without a direct form
        of its own runs on a stack of its own (or is handed over to the machine's)."""
        if self.leaf:
            self.enter(m)
        else:
            m.run_nested(self)

    def children(self) -> tuple[Parser[Any], ...]:
        """The parsers this one runs (used by the compiler)."""
        return ()

    def link(self) -> None:
        """Resolve compiled children; called once by the compiler."""

    def expected(self) -> str:
        """What this parser wants to see, for error messages."""
        return type(self).__name__.strip("_").lower()

    def parse(self, data: bytes | bytearray | memoryview, consume: Consume | None = None) -> T_co:
        """Parse ``data`` completely (or a prefix of it with ``Consume.PREFIX``).

        Raises:
            ParseError: when the input does not match.
        """
        value: T_co = ABOVE.parse(self, data, consume)  # (`_running.parse`)
        return value

    # -- combinators as methods -----------------------------------------------------
    def map(self, f: Callable[[T_co], U]) -> Parser[U]:
        """Apply ``f`` to the result (Angstrom ``>>|``)."""
        return ABOVE.map(self, f)  # (`_unary._Map`)

    def try_map(self, f: Callable[[T_co], U]) -> Parser[U]:
        """Apply ``f`` to the result, where ``f`` may reject it: a `ValueError` it raises
        (`UnicodeDecodeError` included) is a parse failure at the start of the match,
        with the exception's message, e.g. ``take(n).try_map(bytes.decode)``."""
        return ABOVE.try_map(self, f)  # (`_checked.TryMap`)

    def bind(self, f: Callable[[T_co], Parser[U]]) -> Parser[U]:
        """Run the parser ``f(result)`` next (monadic bind, Angstrom ``>>=``)."""
        return ABOVE.bind(self, f)  # (`_unary._Bind`)

    def desc(self, label: str) -> Parser[T_co]:
        """Label this parser: failures inside it carry ``label`` in `ParseError.marks`."""
        return ABOVE.desc(self, label)  # (`_unary._Desc`)

    def result(self, value: U) -> Parser[U]:
        """Replace the result with ``value``."""
        return ABOVE.map(self, _Const(value))

    def then(self, other: Parser[U]) -> Parser[U]:
        """Run both, keep the right result (same as ``self >> other``)."""
        return self >> other

    def skip(self, other: Parser[Any]) -> Parser[T_co]:
        """Run both, keep the left result (same as ``self << other``)."""
        return self << other

    def many(self) -> Parser[list[T_co]]:
        """Zero or more repetitions (see `many`)."""
        return ABOVE.many(self)

    def many1(self) -> Parser[list[T_co]]:
        """One or more repetitions (see `many1`)."""
        return ABOVE.many1(self)

    def times(self, n: int) -> Parser[list[T_co]]:
        """Exactly ``n`` repetitions (see `count`)."""
        return ABOVE.count(n, self)

    def sep_by(self, sep: Parser[Any]) -> Parser[list[T_co]]:
        """Zero or more, separated by ``sep`` (see `sep_by`)."""
        return ABOVE.sep_by(sep, self)

    def optional(self, default: U = None) -> Parser[T_co | U]:  # type: ignore[assignment]
        """This parser, or ``default`` without consuming input when it fails."""
        return ABOVE.option(default, self)

    def __or__(self, other: Parser[U]) -> Parser[T_co | U]:
        """Ordered choice: try ``self``; if it fails without committing, try ``other``."""
        return ABOVE.either(self, other)  # (`_choice.either`)

    def __rshift__(self, other: Parser[U]) -> Parser[U]:
        """Sequence, keeping the right result (Angstrom ``*>``)."""
        if isinstance(self, _Seq) and self.fn is None and self.pick == len(self.parsers) - 1:
            ps = (*self.parsers, other)
        else:
            ps = (self, other)
        pick = len(ps) - 1
        return made_while_parsing(("seq", ps, pick), lambda: _Seq(ps, pick, None))

    def __lshift__(self, other: Parser[Any]) -> Parser[T_co]:
        """Sequence, keeping the left result (Angstrom ``<*``)."""
        if isinstance(self, _Seq) and self.fn is None and self.pick == 0:
            ps = (*self.parsers, other)
        else:
            ps = (self, other)
        return made_while_parsing(("seq", ps, 0), lambda: _Seq(ps, 0, None))

    def __repr__(self) -> str:
        return f"<Parser {self.expected()}>"


QUIET: set[Any] = set()
"""Library functions given to `map` that have no side effects and cannot fail, so the
compiler may skip calling them where the value is dropped (every other function runs
once for each match, see `has_effects`)."""


def quiet(f: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a library function as free of side effects (see `QUIET`)."""
    QUIET.add(f)
    return f


def leaves_go_by_enter() -> None:
    """In the interpreted build, make each leaf class's ``go`` its ``enter`` itself: one
    Python call per leaf instead of two (`Parser.go` calls ``enter`` for a leaf, so the
    result is the same; a leaf finishes in ``enter`` on complete input). A native class of
    the compiled build cannot take the attribute and keeps the ``go`` it inherits (for
    `_binary._Unpack`, `_Map.go` over its ``take``: the same value, failure and frame)."""
    todo: list[type[Parser[Any]]] = [Parser]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        own = vars(cls)
        # (`getattr`: the compiled build has no class-level ``leaf`` to read.)
        leaf = getattr(cls, "leaf", False)
        if leaf and "enter" in own and "go" not in own:
            with contextlib.suppress(TypeError, AttributeError):
                cls.go = own["enter"]  # type: ignore[method-assign]


def has_effects(f: Any) -> bool:
    """Whether calling ``f`` may be observed (a user function): then it must run once for
    every match, even where its value is dropped."""
    return not (type(f) is _Const or f in QUIET)


class _Const:
    """A picklable constant function (used by `Parser.result`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, _: Any) -> Any:
        return self.value


def _compiler_missing(p: Parser[Any]) -> Parser[Any]:
    raise RuntimeError("wirekit.combinators._compile was not loaded")


compile_parser: Callable[[Parser[Any]], Parser[Any]] = _compiler_missing
"""The compiler (`_compile.compile_parser`), registered by `_compile` when it is loaded:
the node layer calls it without importing it."""


# Primitives are immutable, so equal ones are shared: grammars that build them while
# parsing (``yield char(b'"')`` in a generator, ``take(n)`` for a length from the wire)
# get them for a dictionary lookup. `count` and `isolate` share theirs the same way
# (keyed on the parser they run, which the table then keeps alive), and so do the
# combinators while a parse runs (`made_while_parsing`). Bounded: cleared when it
# grows past the limit.
_INTERNED: dict[tuple[Any, ...], Parser[Any]] = {}
_INTERN_LIMIT = 4096


def _intern(key: tuple[Any, ...], make: Callable[[], Parser[Any]]) -> Parser[Any]:
    p = _INTERNED.get(key)
    if p is None:
        if len(_INTERNED) >= _INTERN_LIMIT:
            _INTERNED.clear()
        p = _INTERNED[key] = make()
    return p


def made_while_parsing(key: tuple[Any, ...], make: Callable[[], P]) -> P:
    """``make()``; while a parse runs, the node made for ``key`` before, if any. Parts of a
    grammar built inside `bind` or `generate` (``yield many(a | b)``) repeat from run to
    run: a lookup replaces building and linking a node for each use. Nodes are immutable
    descriptions, so sharing one changes nothing but the cost. (Outside a parse every
    call makes its own node, as written.)"""
    if RUNNING[0] > 0:
        return _intern(key, make)  # type: ignore[return-value]  # (``make``'s node for this key)
    return make()


def compiled(p: Parser[Any]) -> Parser[Any]:
    """The runnable form of ``p`` (compiled once, cached on the node)."""
    c = p._c
    if c is None:
        if p.leaf:
            p._c = p  # a primitive: nothing to link or fuse
            return p
        c = compile_parser(p)
    if c.is_ref:
        # Skip the indirection of `fix` once its target is known: linked (``ct``), or
        # marked by the compilation of this tree (those parts are all linked before any
        # run; a target fused later is still run right in its general form).
        target: Parser[Any] | None = c.ct  # type: ignore[attr-defined]  # (a `_unary._Ref`)
        if target is None:
            source = c.target  # type: ignore[attr-defined]
            target = None if source is None else source._c
        if target is not None:
            return target
    return c


# --------------------------------------------------------------------------------
# Pure / fail
# --------------------------------------------------------------------------------
class _Pure(Parser[T]):
    __slots__ = ("value",)
    leaf = True
    inl = True
    clean = True

    def __init__(self, value: T) -> None:
        super().__init__()
        self.value = value

    def enter(self, m: Machine) -> None:
        m.value = self.value
        m.ok = True
        return None

    def expected(self) -> str:
        return "nothing"


class _Fail(Parser[Any]):
    __slots__ = ("msg",)
    leaf = True
    inl = True

    def __init__(self, msg: str) -> None:
        super().__init__()
        self.msg = msg

    def enter(self, m: Machine) -> None:
        m.fail(m.pos, self)
        return None

    def expected(self) -> str:
        return self.msg


# --------------------------------------------------------------------------------
# Sequence
# --------------------------------------------------------------------------------
Steps = tuple[Parser[Any], ...]


class _Seq(Parser[Any]):
    """Run parsers in order; keep the result at ``pick``, or all of them (as a tuple, or
    as arguments to ``fn``)."""

    __slots__ = ("around_pick", "compiled_parts", "compiled_pick", "fn", "parsers", "pick")

    def __init__(
        self, parsers: tuple[Parser[Any], ...], pick: int, fn: Callable[..., Any] | None
    ) -> None:
        super().__init__()
        self.parsers = parsers
        self.pick = pick
        self.fn = fn
        # The runnable steps, after flattening nested sequences and fusing regular runs.
        self.compiled_parts: tuple[Parser[Any], ...] = ()
        self.compiled_pick = pick
        # The steps before the kept one, it, and the steps after (for `go`).
        self.around_pick: tuple[Steps, Parser[Any], Steps] | None = None

    def children(self) -> tuple[Parser[Any], ...]:
        return self.parsers

    def link(self) -> None:
        if self.pick < 0:
            self.compiled_parts = tuple(compiled(p) for p in self.parsers)
            return
        if self._rt:
            # Made while parsing (usually to run once): its steps as they are. Flattening
            # nested sequences and fusing regular runs cost more than they would save.
            steps = [compiled(p) for p in self.parsers]
            pick_at = self.pick
        else:
            steps, pick_at = self.fused_steps()
        self.compiled_parts = tuple(steps)
        self.compiled_pick = pick_at
        self.around_pick = _around(steps, pick_at)

    def fused_steps(self) -> tuple[list[Parser[Any]], int]:
        """The steps to run, nested keep-one sequences flattened and each run of adjacent
        regular steps whose values are dropped fused into one; and the kept step's index."""
        items: list[tuple[Parser[Any], bool]] = []

        def expand(p: Parser[Any], picked: bool) -> None:
            if isinstance(p, _Seq) and p.pick >= 0 and p.parsers:
                for j, q in enumerate(p.parsers):
                    expand(q, picked and j == p.pick)
            else:
                items.append((p, picked))

        for i, p in enumerate(self.parsers):
            expand(p, i == self.pick)
        steps: list[Parser[Any]] = []
        run: list[Parser[Any]] = []
        pick_at = 0

        def flush() -> None:
            if len(run) > 1:
                merged = compiled(_Seq(tuple(run), 0, None))
                if type(merged) is not _Seq:
                    steps.append(merged)
                    run.clear()
                    return
            steps.extend(compiled(q) for q in run)
            run.clear()

        for p, picked in items:
            if picked:
                flush()
                pick_at = len(steps)
                steps.append(compiled(p))
            elif ABOVE.fuse_candidate(p):
                run.append(p)
            else:
                flush()
                steps.append(compiled(p))
        flush()
        return steps, pick_at

    def enter(self, m: Machine) -> Parser[Any] | None:
        if not self.compiled_parts:
            m.value = () if self.fn is None else self.fn()
            m.ok = True
            return None
        return self.frame_at(0, [] if self.pick < 0 else None, None).advance(m, 0)

    def go(self, m: Machine) -> None:
        depth = m.nesting
        around = self.around_pick  # (None when keeping every value, or with no steps)
        if depth >= DIRECT_DEPTH or (around is None and not self.compiled_parts):
            m.run_nested(self)
            return
        m.nesting = depth + 1
        if around is None:
            self.go_keeping_all(m, self.compiled_parts, depth)
            return
        before, kept_step, after = around
        i = 0  # (the step running, for a suspension's frame)
        kept = None
        try:
            if before:
                for c in before:
                    c.go(m)
                    if not m.ok:
                        m.nesting = depth
                        return
                    i += 1
            kept_step.go(m)
            if m.ok and after:
                kept = m.value
                i += 1
                for c in after:
                    c.go(m)
                    if not m.ok:
                        break
                    i += 1
                else:
                    m.value = kept
        except Suspend as s:
            s.frames.append(self.frame_at(i, None, kept))
            raise
        m.nesting = depth

    def go_keeping_all(self, m: Machine, steps: Steps, depth: int) -> None:
        """`go` for a sequence that keeps every value (a tuple, or ``fn``'s arguments)."""
        vals: list[Any] = []
        try:
            for c in steps:
                c.go(m)
                if not m.ok:
                    m.nesting = depth
                    return
                vals.append(m.value)
        except Suspend as s:
            s.frames.append(self.frame_at(len(vals), vals, None))
            raise
        m.nesting = depth
        fn = self.fn
        m.value = tuple(vals) if fn is None else fn(*vals)

    def frame_at(self, i: int, vals: list[Any] | None, kept: Any) -> _SeqFrame:
        """The frame of this sequence waiting for step ``i``."""
        f = _SeqFrame()
        f.start = 0
        f.node = self
        f.i = i
        f.vals = vals
        f.kept = kept
        return f

    def expected(self) -> str:
        return self.parsers[0].expected() if self.parsers else "nothing"


def _around(steps: list[Parser[Any]], pick: int) -> tuple[Steps, Parser[Any], Steps] | None:
    """`_Seq.around_pick` of ``steps`` keeping step ``pick``."""
    if not steps:
        return None
    return tuple(steps[:pick]), steps[pick], tuple(steps[pick + 1 :])


class _SeqFrame(Frame):
    __slots__ = ("i", "kept", "node", "vals")

    node: _Seq
    i: int
    vals: list[Any] | None
    kept: Any

    def advance(self, m: Machine, i: int) -> Parser[Any] | None:
        """Run children from ``i`` on. Children that finish at once are entered inline,
        saving a trip through the machine loop; the frame stays below any that do not."""
        node = self.node
        steps = node.compiled_parts
        last = len(steps) - 1
        pick = node.compiled_pick
        vals = self.vals
        stack = m.stack
        while True:
            c = steps[i]
            if i == last and pick == last:
                return c  # tail call: its result is ours
            self.i = i
            stack.append(self)
            if not c.inl:
                return c  # composites go through the machine loop (no recursion)
            nxt = c.enter(m)
            if nxt is not None:
                return nxt  # a fused block falls back to its general form (frame pushed)
            stack.pop()
            if not m.ok:
                return None
            if vals is not None:
                vals.append(m.value)
            elif i == pick:
                self.kept = m.value
            if i == last:
                return self.finish(m)
            i += 1

    def finish(self, m: Machine) -> Parser[Any] | None:
        vals = self.vals
        if vals is None:
            m.value = self.kept
        elif self.node.fn is None:
            m.value = tuple(vals)
        elif m.diag or m.quiet:
            m.value = None  # see `_MapFrame.resume`
        else:
            m.value = self.node.fn(*vals)
        return None

    def resume(self, m: Machine) -> Parser[Any] | None:
        if not m.ok:
            return None
        i = self.i
        vals = self.vals
        if vals is not None:
            vals.append(m.value)
        elif i == self.node.compiled_pick:
            self.kept = m.value
        if i == len(self.node.compiled_parts) - 1:
            return self.finish(m)
        return self.advance(m, i + 1)
