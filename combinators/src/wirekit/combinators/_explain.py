"""`explain`: the engine's view of a parser, to see why a grammar is fast or slow.

The compiler (`_compile`) turns each maximal regular sub-tree into one `re` pattern, gives
choices a first-byte dispatch table and leaves the rest to the interpreter. `explain`
compiles a parser and walks the *compiled* forms -- what actually runs -- reporting each
fused pattern with its lookahead bounds, each dispatch table, and, for every node that is
interpreted, why. It only reads the engine's structures; it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ._analysis import INF, MAX_REGULAR_DEPTH, NotRegular, regular_depth
from ._binary import _Unpack
from ._checked import Isolate, TryMap
from ._choice import _Choice
from ._combinators import Consumed, Look
from ._compile import Fused, _Builder, is_regular_primitive
from ._errors import show_class
from ._explain_text import render_report
from ._generate import Generate
from ._nodeclass import ByClass
from ._parser import Parser, _Pure, _Seq, compiled
from ._primitives import Commit, EndOfInput, PeekChar, Query, Scan
from ._repeat import Many, ManyTill, SepBy
from ._unary import _Bind, _Desc, _Map, _Ref

__all__ = ["DispatchRoute", "ExplainedNode", "Explanation", "NodeKind", "explain"]

NodeKind = Literal[
    "fused", "primitive", "sequence", "choice", "loop", "label", "map", "bind", "generate",
    "try_map", "commit", "lookahead", "consumed", "isolate", "sep_by", "many_till",
    "reference", "other",
]  # fmt: skip
"""What an `ExplainedNode` is: ``"fused"`` (one compiled pattern), ``"primitive"`` (a
primitive run directly), ``"reference"`` (a node shown earlier in the report, reached
again through recursion or sharing), or the combinator an interpreted node comes from."""


@dataclass(frozen=True, slots=True)
class DispatchRoute:
    """One row of a choice's first-byte dispatch table.

    Attributes:
        alternatives: the positions (0-based, in `ExplainedNode.children`) of the
            alternatives tried when the next byte is in this row, in order; empty when
            none can start there (the choice fails at once).
        byte_class: the bytes of this row, as a class (``[0-9]``, ``[^GP]``); empty when
            the row is for the end of input only.
        ranges: the same bytes as inclusive ``(low, high)`` ranges.
        at_end: whether this row is also taken at the end of input.
    """

    alternatives: tuple[int, ...]
    byte_class: str
    ranges: tuple[tuple[int, int], ...]
    at_end: bool


@dataclass(frozen=True, slots=True, eq=False)
class ExplainedNode:
    """One node of the compiled parser, as `explain` reports it.

    Attributes:
        number: this entry's number in the report (``#3``), unique, in pre-order.
        kind: see `NodeKind`.
        text: what the node is about: its label, else what it expects first (``'GET'``),
            or a short description (``3 steps``).
        label: the node's own label (`Parser.desc`), if it has one.
        fused: whether the node runs as one compiled pattern.
        pattern: the pattern text, for a fused node.
        groups: the pattern's group count (0 unless fused).
        reach: how many bytes past its start a failing match may look (`None`:
            unbounded; a fused node only).
        k: how many bytes past its end a successful match may look (`None`: unbounded;
            a fused node only).
        probe: whether a fused node has a boundary probe (used when ``reach`` or ``k``
            is unbounded, to tell whether a match at the end of a chunk saw its end).
        labels: the labels inside a fused pattern (its named places), outermost first.
        reason: why the node runs on the interpreter, not as (part of) a fused pattern;
            `None` for fused nodes, references, and primitives that run directly on
            their own (`take_while`, `char`, ... alone: as fast as a pattern).
        dispatch: a choice's first-byte dispatch table, one row per set of alternatives
            (empty: every alternative is tried in order).
        notes: further facts the engine uses (a loop over a fused item, say).
        target: for a reference, the number of the node it refers to.
        children: the nodes this one runs, in order (a reference has none).

    Compared by identity (the tree may be deep); `repr` shows one level.
    """

    number: int
    kind: NodeKind
    text: str
    label: str | None = None
    fused: bool = False
    pattern: bytes | None = None
    groups: int = 0
    reach: int | None = None
    k: int | None = None
    probe: bool = False
    labels: tuple[str, ...] = ()
    reason: str | None = None
    dispatch: tuple[DispatchRoute, ...] = ()
    notes: tuple[str, ...] = ()
    target: int | None = None
    children: tuple[ExplainedNode, ...] = ()

    def __repr__(self) -> str:
        return (
            f"ExplainedNode(#{self.number} {self.kind} {self.text!r}, "
            f"reason={self.reason!r}, children={len(self.children)})"
        )

    def walk(self) -> Iterator[ExplainedNode]:
        """This node and every node under it, in pre-order (without recursion)."""
        todo = [self]
        while todo:
            node = todo.pop()
            yield node
            todo.extend(reversed(node.children))


@dataclass(frozen=True, slots=True, eq=False)
class Explanation:
    """What `explain` returns: the compiled parser as a tree of `ExplainedNode`.

    ``str(explanation)`` is an indented report, one entry per node; `render` does the
    same with a chosen width for patterns.

    Attributes:
        root: the node the parse starts at.
    """

    root: ExplainedNode

    @property
    def fused(self) -> bool:
        """Whether the whole parser runs as one compiled pattern."""
        return self.root.fused

    def nodes(self) -> Iterator[ExplainedNode]:
        """Every node of the report, in pre-order."""
        return self.root.walk()

    def fused_nodes(self) -> list[ExplainedNode]:
        """The fused patterns, in report order."""
        return [n for n in self.nodes() if n.fused]

    def interpreted(self) -> list[ExplainedNode]:
        """The nodes that run on the interpreter (each with its ``reason``), in report
        order: not fused, and not a primitive run directly on its own."""
        return [n for n in self.nodes() if n.reason is not None]

    def place(self, label: str) -> ExplainedNode | None:
        """Where the rule labelled ``label`` runs: its own (interpreted) node, or the
        fused pattern it is part of; `None` if no such label was reached."""
        for n in self.nodes():
            if n.label == label or (n.fused and label in n.labels):
                return n
        return None

    def render(self, width: int | None = 100) -> str:
        """The report as text; patterns longer than ``width`` characters are cut
        (``None``: shown whole)."""
        return render_report(self.root, width)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Explanation({self.root!r})"


def explain(p: Parser[Any]) -> Explanation:
    """How the engine runs ``p``: compiles it (as the first parse would, once; the
    compiled forms are cached) and reports what it became.

    The report shows which sub-trees were fused into one regular expression (the pattern,
    its group count, its lookahead bounds ``reach`` and ``k``, whether it has a boundary
    probe, the labels inside it), each choice's first-byte dispatch table, and every node
    that runs on the interpreter with the reason (``bind: depends on a value``, ``fix:
    recursion``, ...). A node reached again (through `fix`, or a parser used in several
    places) is shown once and then referred to by its number.

        >>> from wirekit.combinators import char, explain, take_while1
        >>> explain(take_while1(b"0123456789") << char(b";")).fused
        True

    Never fails on a valid parser and never recurses deeply, whatever the grammar's
    depth. What a `bind` or `generate` builds while parsing cannot be seen here (it
    depends on the input); `explain` a parser built the same way to see it.
    """
    return Explanation(_Walker().run(compiled(p)))


# --------------------------------------------------------------------------------
# Walking the compiled forms
# --------------------------------------------------------------------------------
@dataclass(slots=True)
class _Info:
    """A node's facts before its children are explained."""

    kind: NodeKind
    text: str
    kids: tuple[Parser[Any], ...] = ()
    label: str | None = None
    reason: str | None = None
    notes: tuple[str, ...] = ()
    table: list[tuple[Parser[Any], ...]] | None = None

    def make(self, number: int, children: tuple[ExplainedNode, ...], alts: tuple[Parser[Any], ...]) -> ExplainedNode:
        return ExplainedNode(
            number=number,
            kind=self.kind,
            text=self.text,
            label=self.label,
            reason=self.reason,
            notes=self.notes,
            dispatch=_routes(self.table, alts) if self.table is not None else (),
            children=children,
        )


@dataclass(slots=True)
class _Open:
    node: Parser[Any]
    number: int
    info: _Info
    done: list[ExplainedNode]
    i: int = 0


class _Walker:
    def __init__(self) -> None:
        self.numbers: dict[int, int] = {}
        self.on_path: set[int] = set()
        self.count = 0
        self.regular = _Regularity()

    def run(self, root: Parser[Any]) -> ExplainedNode:
        frames: list[_Open] = []
        first = self.start(root, frames)
        if first is not None:
            return first
        while True:
            f = frames[-1]
            if f.i < len(f.info.kids):
                child = f.info.kids[f.i]
                f.i += 1
                done = self.start(child, frames)
                if done is not None:
                    f.done.append(done)
                continue
            frames.pop()
            self.on_path.discard(id(f.node))
            node = f.info.make(f.number, tuple(f.done), f.info.kids)
            if not frames:
                return node
            frames[-1].done.append(node)

    def start(self, c: Parser[Any], frames: list[_Open]) -> ExplainedNode | None:
        """Explain ``c`` at once (a leaf or a reference), or open a frame for it."""
        via_ref = False
        while type(c) is _Ref and c.ct is not None:
            c, via_ref = c.ct, True
        key = id(c)
        self.count += 1
        number = self.count
        seen = self.numbers.get(key)
        if seen is not None:
            cycle = key in self.on_path
            what = "fix: recursion, back to" if cycle or via_ref else "the same parser as"
            return ExplainedNode(number, "reference", f"{what} #{seen}", target=seen)
        if type(c) is Fused:
            self.numbers[key] = number
            return _fused(number, c)
        if c.leaf:
            return _leaf(number, c)  # primitives are repeated, not referred to
        info = self.info(c)
        self.numbers[key] = number
        if not info.kids and info.table is None:
            return info.make(number, (), ())
        self.on_path.add(key)
        frames.append(_Open(c, number, info, []))
        return None

    def info(self, c: Parser[Any]) -> _Info:
        """Kind, text, runnable children and the reason ``c`` is interpreted."""
        reason = self.regular.reason(c)
        make = _INFO[type(c)]
        if make is not None:
            return make(c, reason)
        kids = tuple(compiled(ch) for ch in c.children())
        return _Info("other", type(c).__name__, kids, reason=reason)


def _choice_info(c: _Choice, reason: str | None) -> _Info:
    text = c.msg if c.msg is not None else f"{len(c.compiled_parts)} alternatives"
    plain = ("no dispatch table: every alternative is tried in order",)
    return _Info("choice", text, c.compiled_parts, reason=reason, notes=() if c.table else plain, table=c.table)


def _many_info(c: Many, reason: str | None) -> _Info:
    most = "" if c.most >= INF else str(c.most)
    text = f"{c.least}..{most or 'any'} items, {'kept' if c.keep else 'skipped'}"
    notes: tuple[str, ...] = ()
    if type(c.compiled_child) is Fused:
        notes = ("each item is one match of its pattern, looped without the stack",)
    return _Info("loop", text, (c.compiled_child,), reason=reason, notes=notes)


# `_Walker.info` per node class: (the node, why it is interpreted) -> its facts.
_INFO: ByClass[Callable[[Any, str | None], _Info]] = ByClass({
    _Desc: lambda c, reason: _Info("label", c.label, (c.compiled_child,), label=c.label, reason=reason),
    _Seq: lambda c, reason: _Info("sequence", f"{len(c.compiled_parts)} steps", c.compiled_parts, reason=reason),
    _Choice: _choice_info,
    Many: _many_info,
    TryMap: lambda c, reason: _Info("try_map", _name(c.f), (c.compiled_child,), reason=reason),
    _Bind: lambda c, reason: _Info("bind", _name(c.f), (c.compiled_child,), reason=reason),
    Isolate: lambda c, reason: _Info("isolate", f"{c.n} bytes", (c.compiled_child,), reason=reason),
    Look: lambda c, reason: _Info(
        "lookahead", "not followed by" if c.negate else "followed by", (c.compiled_child,), reason=reason
    ),
    Consumed: lambda c, reason: _Info("consumed", "the bytes matched", (c.compiled_child,), reason=reason),
    _Map: lambda c, reason: _Info("map", _name(c.f), (c.compiled_child,), reason=reason),
    Generate: lambda c, reason: _Info("generate", _name(c.fn), reason=reason),
    SepBy: lambda c, reason: _Info("sep_by", "items and separators", (c.compiled_child, c.compiled_sep), reason=reason),
    ManyTill: lambda c, reason: _Info("many_till", "items until the end", (c.compiled_end, c.compiled_child), reason=reason),
    _Ref: lambda c, reason: _Info("other", "fix, not linked", reason="fix: recursion"),
})


def _name(f: Any) -> str:
    return str(getattr(f, "__name__", type(f).__name__))


def _fused(number: int, c: Fused) -> ExplainedNode:
    orig = c.orig
    label = orig.label if isinstance(orig, _Desc) else None
    return ExplainedNode(
        number=number,
        kind="fused",
        text=label if label is not None else _head_text(orig),
        label=label,
        fused=True,
        pattern=c.rx.pattern,
        groups=c.rx.groups,
        reach=None if c.reach >= INF else c.reach,
        k=None if c.k >= INF else c.k,
        probe=c.probe is not None,
        labels=_labels_inside(orig),
    )


def _leaf(number: int, c: Parser[Any]) -> ExplainedNode:
    if isinstance(c, _Unpack):
        note = f"a {c.size}-byte number: one struct call on its own (fused inside larger patterns)"
        return ExplainedNode(number, "primitive", f"{c.size}-byte number", notes=(note,))
    if isinstance(c, Commit):
        return ExplainedNode(number, "commit", "commit", reason="commit: releases input and cuts alternatives")
    if is_regular_primitive(c):
        text = "pure" if isinstance(c, _Pure) else _safe_expected(c)
        return ExplainedNode(number, "primitive", text, notes=("runs directly: a lone primitive needs no pattern",))
    if isinstance(c, EndOfInput):
        reason = "at_end_of_input: its value says whether the input ended"
    elif isinstance(c, PeekChar):
        reason = "peek_char: its value may be the end of input"
    elif isinstance(c, Query):
        reason = f"{c.what}: its value is a position, not bytes"
    elif isinstance(c, Scan):
        reason = "scan: runs Python code on each byte"
    else:
        reason = f"{type(c).__name__}: runs its own code"
    return ExplainedNode(number, "primitive", _safe_expected(c), reason=reason)


def _safe_expected(c: Parser[Any]) -> str:
    try:
        return c.expected()
    except RecursionError:
        return type(c).__name__


def _head_text(p: Parser[Any]) -> str:
    """What a tree expects first, found without deep recursion (a budget of nodes)."""
    budget = [24]

    def text(p: Parser[Any]) -> str:
        budget[0] -= 1
        if budget[0] < 0:
            return "..."
        if isinstance(p, _Desc):
            return p.label
        if isinstance(p, _Choice):
            if p.msg is not None:
                return p.msg
            shown = [text(a) for a in p.alternatives[:3]]
            return " or ".join(shown + (["..."] if len(p.alternatives) > 3 else []))
        if isinstance(p, _Seq):
            return text(p.parsers[0]) if p.parsers else "nothing"
        if isinstance(p, SepBy):
            return text(p.p)
        if isinstance(p, Look):
            return ("not " if p.negate else "") + text(p.p)
        if isinstance(p, _Map | Consumed | Many):
            return text(p.p)
        if isinstance(p, _Pure):
            return "nothing"
        return _safe_expected(p)

    return text(p)


def _labels_inside(orig: Parser[Any]) -> tuple[str, ...]:
    """The labels in a fused tree, in pre-order, each once (the root's own excluded)."""
    out: dict[str, None] = {}
    seen: set[int] = set()
    todo = list(reversed(orig.children()))
    while todo:
        p = todo.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        if isinstance(p, _Desc):
            out[p.label] = None
        todo.extend(reversed(p.tree.children() if isinstance(p, SepBy) else p.children()))
    if isinstance(orig, _Desc):
        out.pop(orig.label, None)
    return tuple(out)


def _routes(table: list[tuple[Parser[Any], ...]], alts: tuple[Parser[Any], ...]) -> tuple[DispatchRoute, ...]:
    """Group a 257-entry dispatch table into rows of bytes going to the same alternatives."""

    def positions(entry: tuple[Parser[Any], ...]) -> tuple[int, ...]:
        # An entry is a subsequence of the alternatives, in order (a parser may repeat).
        out: list[int] = []
        i = 0
        for c in entry:
            while alts[i] is not c:
                i += 1
            out.append(i)
            i += 1
        return tuple(out)

    rows: dict[tuple[int, ...], list[int]] = {}
    try:
        for b in range(256):
            rows.setdefault(positions(table[b]), []).append(b)
        end = positions(table[256])
    except IndexError:  # not the table of these alternatives: nothing to report
        return ()
    rows.setdefault(end, [])
    routes = []
    for idx, members in rows.items():
        member_table = bytearray(256)
        for b in members:
            member_table[b] = 1
        routes.append(
            DispatchRoute(
                alternatives=idx,
                byte_class=show_class(bytes(member_table)) if members else "",
                ranges=_ranges(members),
                at_end=idx == end,
            )
        )
    # Rows that lead somewhere first, by their lowest byte; the row that fails, last.
    routes.sort(key=lambda r: (not r.alternatives, r.ranges[0][0] if r.ranges else 256))
    return tuple(routes)


def _ranges(members: list[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for b in members:
        if out and out[-1][1] == b - 1:
            out[-1] = (out[-1][0], b)
        else:
            out.append((b, b))
    return tuple(out)


# --------------------------------------------------------------------------------
# Why a node is interpreted
# --------------------------------------------------------------------------------
_OWN_REASONS: dict[type[Any], str] = {
    _Bind: "bind: depends on a value",
    Generate: "generate: runs Python code",
    TryMap: "try_map: may reject a value",
    Isolate: "isolate: a window of a given length",
    ManyTill: "many_till: runs its end and its item in turn",
    _Ref: "fix: recursion",
}
_REGULAR_KINDS = (_Seq, _Choice, _Map, _Desc, Consumed, Look, Many, SepBy)
_CULPRIT_NAMES: dict[type[Any], str] = {
    _Bind: "bind",
    Generate: "generate",
    TryMap: "try_map",
    Isolate: "isolate",
    ManyTill: "many_till",
    _Ref: "fix",
    Commit: "commit",
    EndOfInput: "at_end_of_input",
    PeekChar: "peek_char",
    Query: "pos/available",
    Scan: "scan",
}


class _Regularity:
    """Which parser descriptions are regular by their make-up (every node a kind the
    compiler fuses), and which non-regular kinds a description holds. Memoised, and
    computed without recursion."""

    def __init__(self) -> None:
        self.culprits: dict[int, frozenset[str]] = {}

    def holds(self, p: Parser[Any]) -> frozenset[str]:
        """The non-regular kinds in ``p`` (nearest ones; empty: ``p`` is regular)."""
        memo = self.culprits
        todo: list[tuple[Parser[Any], bool]] = [(p, False)]
        while todo:
            node, expanded = todo.pop()
            if id(node) in memo and not expanded:
                continue
            if not isinstance(node, _REGULAR_KINDS):
                memo[id(node)] = frozenset() if is_regular_primitive(node) else frozenset({_culprit(node)})
                continue
            kids = node.children()
            if expanded:
                acc: set[str] = set()
                for kid in kids:
                    acc |= memo.get(id(kid), frozenset())
                memo[id(node)] = frozenset(acc)
                continue
            memo[id(node)] = frozenset()  # provisional (no cycles without `fix`, which stops)
            todo.append((node, True))
            todo.extend((kid, False) for kid in kids)
        return memo[id(p)]

    def reason(self, c: Parser[Any]) -> str:
        """Why the compiled node ``c`` (not a fused pattern) runs on the interpreter."""
        for kind, text in _OWN_REASONS.items():
            if isinstance(c, kind):
                return text
        if c._rt:
            return "made while parsing: linked without fusing"
        if not isinstance(c, _REGULAR_KINDS):
            return f"{type(c).__name__}: not a kind the compiler fuses"
        held = self.holds(c)
        if held:
            return "holds parts that are not regular: " + ", ".join(sorted(held))
        if regular_depth(c) > MAX_REGULAR_DEPTH:
            return f"a regular tree too deep for one pattern (more than {MAX_REGULAR_DEPTH} levels)"
        # Regular by its make-up, yet not fused: ask the pattern builder why.
        try:
            _Builder().build(c, True)
        except NotRegular:
            # The one case `holds` cannot see: a list of items that can be empty (a
            # pattern cannot count empty repeats).
            return "a loop keeps the values of items that may match nothing: not one pattern"
        except RecursionError:
            return "a regular tree too deep for one pattern"
        return "a regular tree too large for one pattern"


def _culprit(p: Parser[Any]) -> str:
    for kind, name in _CULPRIT_NAMES.items():
        if isinstance(p, kind) and not (kind is EndOfInput and not p.test):
            return name
    return type(p).__name__
