"""Static analysis of parser descriptions: lookahead bounds of regular trees (for
trusting a fused match at a chunk boundary) and the bytes a parser can start with (for
first-byte dispatch of choices). See `_compile` for how both are used."""

from __future__ import annotations

from typing import Any

from ._combinators import Consumed, Look, Many, SepBy
from ._parser import Parser, _Bind, _Choice, _Desc, _Fail, _Map, _Pure, _Ref, _Seq
from ._primitives import EndOfInput, Satisfy, Str, Take, TakeWhile

__all__ = ["INF", "NotRegular", "dispatch_table", "first", "measure"]

INF = 1 << 62


class NotRegular(Exception):
    """The tree is not regular (it cannot be one pattern)."""


# --------------------------------------------------------------------------------
# Lookahead bounds
# --------------------------------------------------------------------------------
def _add(a: int, b: int) -> int:
    return INF if a >= INF or b >= INF else a + b


Bounds = tuple[int, int, int, int, bool]
"""(min length, max length, freach, k, can fail); INF for unbounded.

``freach``: how many bytes past its start a *failing* run may have inspected;
``k``: how many bytes past its end a *successful* run may have inspected."""


def measure(p: Parser[Any]) -> Bounds:
    """Bounds for a regular tree (see `Bounds`)."""
    if isinstance(p, Satisfy):
        return 1, 1, 1, 0, True
    if isinstance(p, Str):
        n = len(p.s)
        return n, n, n, 0, n > 0
    if isinstance(p, TakeWhile):
        return p.least, INF, p.least, 1, p.least > 0
    if isinstance(p, Take):
        return (p.n, p.n, p.n, 0, p.n > 0) if p.move else (0, 0, p.n, p.n, p.n > 0)
    if isinstance(p, EndOfInput):
        return 0, 0, 1, 1, True
    if isinstance(p, _Pure):
        return 0, 0, 0, 0, False
    if isinstance(p, _Fail):
        return 0, 0, 0, 0, True
    if isinstance(p, _Map | _Desc | Consumed):
        return measure(p.p)
    if isinstance(p, SepBy):
        return measure(p.tree)
    if isinstance(p, Look):
        cmin, cmax, cfreach, ck, cfail = measure(p.p)
        if p.negate:
            return 0, 0, _add(cmax, ck), cfreach, True
        return 0, 0, cfreach, _add(cmax, ck), cfail
    if isinstance(p, _Seq):
        minl = maxl = freach = k = 0
        seen = 0  # how far the children before this one may have looked
        canfail = False
        children = p.parsers
        for i, child in enumerate(children):
            cmin, cmax, cfreach, ck, cfail = measure(child)
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
        return minl, maxl, freach, k, canfail
    if isinstance(p, _Choice):
        stats = [measure(a) for a in p.alternatives]
        if not stats:
            return 0, 0, 0, 0, True
        k = 0
        failed = 0  # how far the alternatives before this one may have looked
        for cmin, _, cfreach, ck, _ in stats:
            k = max(k, ck, failed - cmin if failed < INF else INF)
            failed = max(failed, cfreach)
        return (
            min(s[0] for s in stats),
            max(s[1] for s in stats),
            max(s[2] for s in stats),
            k,
            all(s[4] for s in stats),
        )
    if isinstance(p, Many):
        cmin, cmax, cfreach, ck, cfail = measure(p.p)
        maxl = INF if p.most >= INF or cmax >= INF else cmax * p.most
        k = max(ck, cfreach)
        if p.least == 0 or not cfail:
            return 0 if p.least == 0 else cmin * p.least, maxl, 0, k, False
        before = INF if cmax >= INF else cmax * (p.least - 1)
        return cmin * p.least, maxl, _add(before, max(cfreach, ck)), k, True
    raise NotRegular


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
        return max(measure(item)[3], 1)
    except (NotRegular, RecursionError):
        return ck


# --------------------------------------------------------------------------------
# First-byte dispatch for choices
# --------------------------------------------------------------------------------
_ALL = frozenset(range(256))
First = tuple[frozenset[int] | None, bool]  # (possible first bytes or None=unknown, nullable)


def first(p: Parser[Any], active: set[int] | None = None) -> First:
    """The bytes ``p`` can start with, and whether it can succeed without consuming."""
    if active is None:
        active = set()
    if id(p) in active:
        return None, True
    active.add(id(p))
    try:
        if isinstance(p, Satisfy):
            return frozenset(i for i in range(256) if p.table[i]), False
        if isinstance(p, Str):
            if not p.s:
                return None, True
            b = p.s[0]
            if p.ci:
                return frozenset({b, bytes([b]).lower()[0], bytes([b]).upper()[0]}), False
            return frozenset({b}), False
        if isinstance(p, TakeWhile):
            if p.least == 0:
                return None, True
            return frozenset(i for i in range(256) if p.table[i]), False
        if isinstance(p, Take):
            return (_ALL, False) if p.n > 0 and p.move else (None, True)
        if isinstance(p, _Map | _Desc | Consumed):
            return first(p.p, active)
        if isinstance(p, SepBy):
            return first(p.tree, active)
        if isinstance(p, _Bind):
            fs, nullable = first(p.p, active)
            return (None, True) if nullable else (fs, False)
        if isinstance(p, _Ref):
            return first(p.target, active) if p.target is not None else (None, True)
        if isinstance(p, Many):
            fs, nullable = first(p.p, active)
            return (None, True) if p.least == 0 or nullable else (fs, False)
        if isinstance(p, _Seq):
            acc: set[int] = set()
            for child in p.parsers:
                fs, nullable = first(child, active)
                if fs is None:
                    return None, True
                acc |= fs
                if not nullable:
                    return frozenset(acc), False
            return None, True
        if isinstance(p, _Choice):
            acc = set()
            any_null = False
            for alt in p.alternatives:
                fs, nullable = first(alt, active)
                if fs is None:
                    return None, True
                acc |= fs
                any_null = any_null or nullable
            return (None, True) if any_null else (frozenset(acc), False)
        return None, True  # lookahead, commit, queries, generate, fail: try them always
    finally:
        active.discard(id(p))


def dispatch_table(
    alternatives: tuple[Parser[Any], ...], compiled_alts: tuple[Parser[Any], ...]
) -> list[tuple[Parser[Any], ...]] | None:
    """Per next byte (and 256 for end of input), the compiled alternatives worth trying;
    `None` when no alternative can be ruled out by its first byte."""
    firsts = [first(a) for a in alternatives]
    if all(fs is None for fs, _ in firsts):
        return None
    memo: dict[tuple[int, ...], tuple[Parser[Any], ...]] = {}
    table: list[tuple[Parser[Any], ...]] = []
    for b in range(257):
        idx = tuple(
            i for i, (fs, _) in enumerate(firsts) if fs is None or (b < 256 and b in fs)
        )
        entry = memo.get(idx)
        if entry is None:
            entry = memo[idx] = tuple(compiled_alts[i] for i in idx)
        table.append(entry)
    return table
