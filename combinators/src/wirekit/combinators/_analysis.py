"""Static analysis of parser descriptions: lookahead bounds of regular trees (for
trusting a fused match at a chunk boundary) and the bytes a parser can start with (for
first-byte dispatch of choices). See `_compile` for how both are used."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from ._checked import TryMap
from ._choice import _Choice
from ._combinators import Consumed, Look
from ._limits import INF
from ._nodeclass import ByClass
from ._parser import Parser, _Fail, _Pure, _Seq
from ._primitives import EndOfInput, Satisfy, Str, Take, TakeWhile
from ._repeat import Many, SepBy
from ._unary import _Bind, _Desc, _Map, _Ref

__all__ = ["INF", "MAX_REGULAR_DEPTH", "NotRegular", "dispatch_table", "first", "measure", "regular_depth", "tail_k"]



class NotRegular(Exception):
    """The tree is not regular (it cannot be one pattern)."""


# --------------------------------------------------------------------------------
# Depth
# --------------------------------------------------------------------------------
# The deepest regular tree analysed and fused in one piece (levels of nesting); a deeper
# one runs in its general form, its parts within the bound still fused. A count, not
# Python's recursion limit: the analysis and the pattern builder recurse up to three
# frames per level (200 levels stay well inside the default limit of 1 000), and compiled
# (mypyc) they run without that limit, so both builds stop at the same depth.
MAX_REGULAR_DEPTH = 200


def _regular_children(p: Parser[Any]) -> Sequence[Parser[Any]]:
    """The nodes the pattern builder and `measure` recurse into from ``p``."""
    if isinstance(p, _Seq):
        return p.parsers
    if isinstance(p, _Choice):
        return p.alternatives
    if isinstance(p, SepBy):
        return (p.tree,)
    if isinstance(p, _Map | _Desc | Consumed | Many | Look):
        return (p.p,)
    return ()  # a primitive, or a node that is not regular (the analysis stops there)


def regular_depth(p: Parser[Any], memo: dict[int, int] | None = None, bound: int = MAX_REGULAR_DEPTH) -> int:
    """How many levels deep ``p``'s regular tree is (1 for a primitive), counted without
    recursion and only up to ``bound + 1``: a deeper tree counts as ``bound + 1`` (and the
    count stops at the first node found below the bound).

    ``memo`` (node id -> depth) keeps what was counted, for many calls on the nodes of
    one tree (the compiler asks for every node: each is then counted once).
    """
    known = {} if memo is None else memo
    todo: list[tuple[Parser[Any], bool, int]] = [(p, False, 1)]  # (node, children counted, level)
    while todo:
        node, ready, level = todo.pop()
        key = id(node)
        if key in known:
            continue
        if level > bound:
            return bound + 1  # a node this far down: deeper than the bound (no need to go on)
        children = _regular_children(node)
        if ready:
            deepest = 0
            for child in children:
                deepest = max(deepest, known[id(child)])
            known[key] = min(deepest + 1, bound + 1)
            continue
        todo.append((node, True, level))
        for child in children:
            if id(child) not in known:
                todo.append((child, False, level + 1))
    return known[id(p)]


# --------------------------------------------------------------------------------
# Lookahead bounds
# --------------------------------------------------------------------------------
def _add(a: int, b: int) -> int:
    return INF if a >= INF or b >= INF else a + b


def _sub(a: int, b: int) -> int:
    return INF if a >= INF else a - b


class Bounds(NamedTuple):
    """What a regular tree may match and look at; `INF` for unbounded."""

    least: int
    """The fewest bytes a match takes."""
    most: int
    """The most bytes a match takes."""
    freach: int
    """How many bytes past its start a *failing* run may have inspected."""
    k: int
    """How many bytes past its end a *successful* run may have inspected."""
    can_fail: bool
    """Whether a run may fail."""


# `measure` of the primitives (no children: a call per kind costs no depth).
_BOUNDS_OF_PRIMITIVE: ByClass[Callable[[Any], Bounds]] = ByClass({
    Satisfy: lambda p: Bounds(1, 1, 1, 0, True),
    Str: lambda p: Bounds(len(p.s), len(p.s), len(p.s), 0, len(p.s) > 0),
    TakeWhile: lambda p: Bounds(p.least, INF, p.least, 1, p.least > 0),
    Take: lambda p: (
        Bounds(p.n, p.n, p.n, 0, p.n > 0) if p.move else Bounds(0, 0, p.n, p.n, p.n > 0)
    ),
    EndOfInput: lambda p: Bounds(0, 0, 1, 1, True),
    _Pure: lambda p: Bounds(0, 0, 0, 0, False),
    _Fail: lambda p: Bounds(0, 0, 0, 0, True),
})
# Nodes that look and match as their one child does.
_BOUNDS_OF_CHILD: ByClass[Callable[[Any], Parser[Any]]] = ByClass({
    _Map: attrgetter("p"),
    _Desc: attrgetter("p"),
    Consumed: attrgetter("p"),
    SepBy: attrgetter("tree"),
})


def measure(p: Parser[Any]) -> Bounds:
    """Bounds for a regular tree (see `Bounds`).

    The kinds with children recurse here, in this function, and combine their children's
    bounds in helpers called once those are measured: a level of the tree costs one
    frame, not two (the compiler measures trees of at most `MAX_REGULAR_DEPTH` levels;
    fewer frames per level keep a caller's deep stack from mattering).

    Raises:
        NotRegular: the tree has a node that is not regular.
    """
    primitive = _BOUNDS_OF_PRIMITIVE[type(p)]
    if primitive is not None:
        return primitive(p)
    inner = _BOUNDS_OF_CHILD[type(p)]
    if inner is not None:
        return measure(inner(p))
    if isinstance(p, Look):
        return _look_bounds(p.negate, measure(p.p))
    if isinstance(p, _Seq | _Choice):
        stats: list[Bounds] = []
        for part in p.parsers if isinstance(p, _Seq) else p.alternatives:
            stats.append(measure(part))
        return _seq_bounds(p.parsers, stats) if isinstance(p, _Seq) else _choice_bounds(stats)
    if isinstance(p, Many):
        return _many_bounds(p, measure(p.p))
    raise NotRegular


def _look_bounds(negate: bool, c: Bounds) -> Bounds:
    """A lookahead's bounds from its parser's (it matches nothing)."""
    if negate:
        return Bounds(0, 0, _add(c.most, c.k), c.freach, True)
    return Bounds(0, 0, c.freach, _add(c.most, c.k), c.can_fail)


def _seq_bounds(children: tuple[Parser[Any], ...], stats: list[Bounds]) -> Bounds:
    """A sequence's bounds from its children's."""
    minl = maxl = freach = k = 0
    seen = 0  # how far the children before this one may have looked
    canfail = False
    for i, (child, (cmin, cmax, cfreach, ck, cfail)) in enumerate(zip(children, stats, strict=True)):
        if cfail:
            freach = max(freach, seen, _add(maxl, cfreach))
            canfail = True
        seen = max(seen, _add(_add(maxl, cmax), ck))
        if i + 1 < len(children):
            ck = _followed_k(child, children[i + 1], ck)
        # what earlier children saw past their end is covered by this child's bytes
        k = max(ck, k - cmin if k < INF else INF)
        minl = _add(minl, cmin)
        maxl = _add(maxl, cmax)
    return Bounds(minl, maxl, freach, k, canfail)


def _many_bounds(p: Many, item: Bounds) -> Bounds:
    """A repetition's bounds from its item's."""
    cmin, cmax, cfreach, ck, cfail = item
    maxl = INF if p.most >= INF or cmax >= INF else cmax * p.most
    k = max(ck, cfreach)
    if p.least == 0 or not cfail:
        return Bounds(0 if p.least == 0 else cmin * p.least, maxl, 0, k, False)
    before = INF if cmax >= INF else cmax * (p.least - 1)
    return Bounds(cmin * p.least, maxl, _add(before, max(cfreach, ck)), k, True)


def _choice_bounds(stats: list[Bounds]) -> Bounds:
    """A choice's bounds from its alternatives' (not a recursion: no frame per level)."""
    if not stats:
        return Bounds(0, 0, 0, 0, True)
    k = 0
    failed = 0  # how far the alternatives before this one may have looked
    for s in stats:
        k = max(k, s.k, failed - s.least if failed < INF else INF)
        failed = max(failed, s.freach)
    return Bounds(
        min(s.least for s in stats),
        max(s.most for s in stats),
        max(s.freach for s in stats),
        k,
        all(s.can_fail for s in stats),
    )


def _followed_k(child: Parser[Any], follower: Parser[Any], ck: int) -> int:
    """A tighter ``k`` for a loop or option that is followed by ``follower``.

    A repetition (or an option) ends with an attempt of its item that fails. If the whole
    sequence matched, ``follower`` matched right there, so the byte there is one
    ``follower`` can start with; when no item can start with such a byte, that attempt
    failed on its first byte. It looked at one byte, not at ``freach`` bytes.
    """
    while isinstance(child, _Map | _Desc | Consumed):
        child = child.p
    if isinstance(child, Many):
        item = child.p
    elif isinstance(child, _Choice) and len(child.alternatives) == 2 and isinstance(child.alternatives[1], _Pure):
        item = child.alternatives[0]
    else:
        return ck
    try:
        next_first, next_nullable = first(follower)
        item_first, item_nullable = first(item)
        if next_first is None or next_nullable or item_first is None or item_nullable:
            return ck
        if item_first & next_first:
            return ck
        return max(measure(item).k, 1)
    except (NotRegular, RecursionError):
        return ck


# --------------------------------------------------------------------------------
# Lookahead past a success, knowing what follows
# --------------------------------------------------------------------------------
Follow = frozenset[int] | None  # the bytes that can come right after (None: anything, or the end)


def _bare(p: Parser[Any]) -> Parser[Any]:
    while isinstance(p, _Map | _Desc | Consumed | SepBy):
        p = p.tree if isinstance(p, SepBy) else p.p
    return p


def starts(p: Parser[Any]) -> First:
    """(the bytes ``p`` can consume first, whether it can succeed empty) for a regular
    tree; unlike `first`, a nullable parser keeps its byte set. None: unknown."""
    p = _bare(p)
    if isinstance(p, Satisfy):
        return frozenset(i for i in range(256) if p.table[i]), False
    if isinstance(p, TakeWhile):
        return frozenset(i for i in range(256) if p.table[i]), p.least == 0
    if isinstance(p, Str | Take):
        return first(p)
    if isinstance(p, _Seq | _Choice | Many):
        return _starts_composite(p)
    if isinstance(p, _Pure):
        return frozenset(), True
    if isinstance(p, _Fail):
        return frozenset(), False
    return None, True


def _starts_composite(p: _Seq | _Choice | Many) -> First:
    if isinstance(p, Many):
        fs, nullable = starts(p.p)
        return fs, nullable or p.least == 0
    acc: set[int] = set()
    if isinstance(p, _Seq):
        for child in p.parsers:
            fs, nullable = starts(child)
            if fs is None:
                return None, True
            acc |= fs
            if not nullable:
                return frozenset(acc), False
        return frozenset(acc), True
    any_null = False
    for alt in p.alternatives:
        fs, nullable = starts(alt)
        if fs is None:
            return None, True
        acc |= fs
        any_null = any_null or nullable
    return frozenset(acc), any_null


def _fails_at_once(item: Parser[Any], follow: Follow) -> bool:
    """Whether ``item`` fails on its first byte whenever that byte is in ``follow``."""
    fs, nullable = starts(item)
    return follow is not None and fs is not None and not nullable and not (fs & follow)


def tail_k(p: Parser[Any], follow: Follow = None, run: Follow = None, after: Follow = None) -> int:
    """A bound on how far past its end a success of the regular tree ``p`` looked,
    sharper than `measure`'s ``k`` because it knows what follows.

    A repetition ends with an attempt of its item that fails. That attempt looked at one
    byte only if no item starts with a byte in ``follow``. When ``p`` is directly
    followed by a run of the bytes ``run`` (as ``field-value`` is by ``OWS``), the result
    counts from the end of that run instead, and an attempt that failed after its own run
    of such bytes (``1*( SP / HTAB ) field-vchar`` meeting CR) is covered by it;
    ``after`` is what may follow that run.
    """
    p = _bare(p)
    if isinstance(p, TakeWhile):
        return 1
    if isinstance(p, _Seq):
        return _seq_tail_k(p.parsers, follow, run, after)
    if isinstance(p, _Choice):
        alts = p.alternatives
        k = 0
        failed = 0  # how far the alternatives before this one looked past the start
        covered = 0  # ... or past the end of the following run
        for alt in alts:
            cmin, _, cfreach, _, _ = measure(alt)
            k = max(k, tail_k(alt, follow, run, after), _sub(failed, cmin), covered)
            if _fails_at_once(alt, follow):
                failed = max(failed, 1)
                continue
            cover = _covered(alt, run, after)
            if cover is None:
                failed = max(failed, cfreach)
            else:
                covered = max(covered, cover)
        return k
    if isinstance(p, Many):
        item = p.p
        imin, _, ifreach, _, _ = measure(item)
        k_last = tail_k(item, follow, run, after)
        # An earlier item is followed by the next one (which may start with a run).
        inner_follow, inner_null = starts(item)
        lead = _lead_run(item)
        if lead is not None:
            run_bytes, rest = lead
            rest_fs, rest_null = starts(rest) if rest is not None else (None, True)
            k_earlier = tail_k(
                item, None if inner_null else inner_follow, run_bytes, None if rest_null else rest_fs
            )
        else:
            k_earlier = _sub(tail_k(item, None if inner_null else inner_follow), imin)
        cover = 1 if _fails_at_once(item, follow) else _covered(item, run, after)
        k_fail = ifreach if cover is None else cover
        return max(k_last, k_earlier, k_fail)
    return measure(p).k


def _seq_tail_k(children: tuple[Parser[Any], ...], follow: Follow, run: Follow, after: Follow) -> int:
    n = len(children)
    follows: list[Follow] = [None] * n
    f = follow
    for i in range(n - 1, -1, -1):
        follows[i] = f
        fs, nullable = starts(children[i])
        f = fs if not nullable else (fs | f if fs is not None and f is not None else None)
    k = 0  # relative to the end of the children so far
    carry: int | None = None  # the previous child's, relative to the end of this one
    for i, child in enumerate(children):
        k = _sub(k, measure(child).least)
        if carry is not None:
            k = max(k, carry)
            carry = None
        nxt = _bare(children[i + 1]) if i + 1 < n else None
        if isinstance(nxt, TakeWhile):
            carry = tail_k(child, follows[i], starts(nxt)[0], follows[i + 1])
        elif nxt is None:
            k = max(k, tail_k(child, follows[i], run, after))
        else:
            k = max(k, tail_k(child, follows[i]))
    return max(k, 0)


def _covered(item: Parser[Any], run: Follow, after: Follow) -> int | None:
    """For an item that starts with a run of bytes all in ``run``: how far past the end
    of the following ``run`` its failed attempt looked (None if the rule does not apply).
    ``after``: what may follow that run."""
    if run is None:
        return None
    lead = _lead_run(item)
    if lead is None or not lead.run <= run:
        return None
    fs, tail = lead
    # The failed attempt took the item's run (the follower takes at least as much), then
    # the rest failed within its reach -- on its first byte when that byte can only be
    # one that follows the run (or one of the run's own that the item's run stops at).
    if tail is None:
        return 1
    if after is not None and _fails_at_once(tail, after | (run - fs)):
        return 1
    return max(1, measure(tail).freach)


class LeadRun(NamedTuple):
    """An item that is a sequence starting with a run of bytes (see `_lead_run`)."""

    run: frozenset[int]
    """The bytes of the run."""
    rest: _Seq | None
    """The rest of the item (None if nothing follows the run)."""


def _lead_run(item: Parser[Any]) -> LeadRun | None:
    """For an item that is a sequence starting with a run (a `take_while`): the run's
    bytes and the rest of the item (None if nothing follows), else None."""
    item = _bare(item)
    if not isinstance(item, _Seq) or not item.parsers:
        return None
    head = _bare(item.parsers[0])
    if not isinstance(head, TakeWhile):
        return None
    rest = item.parsers[1:]
    return LeadRun(frozenset(i for i in range(256) if head.table[i]), _Seq(rest, -1, None) if rest else None)


# --------------------------------------------------------------------------------
# First-byte dispatch for choices
# --------------------------------------------------------------------------------
_ALL = frozenset(range(256))
First = tuple[frozenset[int] | None, bool]  # (possible first bytes or None=unknown, nullable)


def _first_satisfy(p: Satisfy) -> First:
    return frozenset(i for i in range(256) if p.table[i]), False


def _first_str(p: Str) -> First:
    if not p.s:
        return frozenset(), True
    b = p.s[0]
    if p.ci:
        return frozenset({b, bytes([b]).lower()[0], bytes([b]).upper()[0]}), False
    return frozenset({b}), False


def _first_take_while(p: TakeWhile) -> First:
    return frozenset(i for i in range(256) if p.table[i]), p.least == 0


def _first_take(p: Take) -> First:
    return (_ALL, False) if p.n > 0 and p.move else (None, True)


# `first` of the primitives (they have no children, so a call per kind costs no depth).
_FIRST_OF_PRIMITIVE: ByClass[Callable[[Any], First]] = ByClass({
    Satisfy: _first_satisfy,
    Str: _first_str,
    TakeWhile: _first_take_while,
    Take: _first_take,
    _Pure: lambda p: (frozenset(), True),
})
# Nodes that start as their one child does (`attrgetter`: a C call, no Python frame).
_FIRST_OF_CHILD: ByClass[Callable[[Any], Parser[Any]]] = ByClass({
    _Map: attrgetter("p"),
    _Desc: attrgetter("p"),
    Consumed: attrgetter("p"),
    TryMap: attrgetter("p"),
    SepBy: attrgetter("tree"),
})


def first(p: Parser[Any], active: set[int] | None = None) -> First:
    """The bytes ``p`` can start with, and whether it can succeed without consuming.

    A nullable parser keeps its byte set (``option(x) >> y`` starts with x's bytes or
    y's); None means unknown (a generator, a lookahead, a recursion being analysed).

    The kinds with children recurse here, in this function, so that a level of the
    description costs one frame (the primitives' tables add none).
    """
    if active is None:
        active = set()
    if id(p) in active:
        return None, True
    active.add(id(p))
    try:
        primitive = _FIRST_OF_PRIMITIVE[type(p)]
        if primitive is not None:
            return primitive(p)
        inner = _FIRST_OF_CHILD[type(p)]
        if inner is not None:
            return first(inner(p), active)
        if isinstance(p, _Bind):
            fs, nullable = first(p.p, active)
            return (None, True) if nullable else (fs, False)
        if isinstance(p, _Ref):
            return first(p.target, active) if p.target is not None else (None, True)
        if isinstance(p, Many):
            fs, nullable = first(p.p, active)
            return (None, True) if fs is None else (fs, p.least == 0 or nullable)
        if isinstance(p, _Seq | _Choice):
            # A sequence starts as its children up to the first that must consume; a
            # choice as any of its alternatives.
            in_seq = isinstance(p, _Seq)
            acc: set[int] = set()
            any_null = False
            for part in p.parsers if isinstance(p, _Seq) else p.alternatives:
                fs, nullable = first(part, active)
                if fs is None:
                    return None, True
                acc |= fs
                if in_seq and not nullable:
                    return frozenset(acc), False
                any_null = any_null or nullable
            return frozenset(acc), in_seq or any_null
        return None, True  # lookahead, commit, queries, generate, fail: try them always
    finally:
        active.discard(id(p))


def dispatch_table(
    alternatives: tuple[Parser[Any], ...], compiled_alts: tuple[Parser[Any], ...]
) -> list[tuple[Parser[Any], ...]] | None:
    """Per next byte (and 256 for end of input), the compiled alternatives worth trying;
    `None` when no alternative can be ruled out by its first byte."""
    firsts = [first(a) for a in alternatives]
    if all(fs is None or nullable for fs, nullable in firsts):
        return None
    memo: dict[tuple[int, ...], tuple[Parser[Any], ...]] = {}
    table: list[tuple[Parser[Any], ...]] = []
    for b in range(257):
        # (A nullable alternative can succeed before any byte: worth trying at all.)
        idx = tuple(
            i
            for i, (fs, nullable) in enumerate(firsts)
            if fs is None or nullable or (b < 256 and b in fs)
        )
        entry = memo.get(idx)
        if entry is None:
            entry = memo[idx] = tuple(compiled_alts[i] for i in idx)
        table.append(entry)
    return table
