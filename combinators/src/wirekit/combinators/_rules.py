"""The intermediate form of a grammar that `describe` and `railroad` render, and the ABNF
spelling of its leaves (literals and byte classes).

A small algebra: concatenation (`Cat`), ordered alternatives (`Alt`), repetition (`Rep`),
literals (`Lit`), byte classes (`Cls`), rule references (`Ref`), lookahead (`Look`),
`isolate` windows (`Within`) and prose for the steps a grammar cannot show statically
(`Prose`). The constructors `cat`, `alt` and `rep` keep it flat and small.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

__all__ = [
    "ALL",
    "CORE",
    "EMPTY",
    "Alt",
    "Cat",
    "Cls",
    "Lit",
    "Look",
    "Node",
    "Prose",
    "Ref",
    "Rep",
    "Within",
    "alt",
    "cat",
    "class_items",
    "is_empty",
    "literal_items",
    "prose",
    "rep",
]


# --------------------------------------------------------------------------------
# The intermediate form
# --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class Lit:
    """A literal byte string; ``ci``: ASCII-case-insensitive."""

    data: bytes
    ci: bool


@dataclass(frozen=True, slots=True, eq=False)
class Cls:
    """One byte out of a class (a 256-entry 0/1 table)."""

    table: bytes


@dataclass(frozen=True, slots=True, eq=False)
class Cat:
    """Concatenation; empty: matches nothing (``""``)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Alt:
    """Ordered alternatives."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Rep:
    """``item`` ``least`` to ``most`` times (``most`` None: no bound)."""

    item: Node
    least: int
    most: int | None


@dataclass(frozen=True, slots=True, eq=False)
class Ref:
    """A reference to the rule whose node has ``key`` (`id` of the parser)."""

    key: int


@dataclass(frozen=True, slots=True, eq=False)
class Prose:
    """A step shown in words (RFC 5234 prose-val), e.g. ``bind: depends on the value``."""

    text: str


@dataclass(frozen=True, slots=True, eq=False)
class Look:
    """Lookahead: ``item`` must (or, ``negate``, must not) match here; consumes nothing."""

    item: Node
    negate: bool


@dataclass(frozen=True, slots=True, eq=False)
class Within:
    """``item`` run on exactly the next ``n`` bytes (`isolate`)."""

    n: int
    item: Node


Node = Lit | Cls | Cat | Alt | Rep | Ref | Prose | Look | Within

EMPTY = Cat(())


def cat(items: list[Node]) -> Node:
    """A concatenation: nested ones flattened, empty steps dropped, runs of one atom
    counted (``DIGIT DIGIT DIGIT`` is ``3DIGIT``)."""
    flat: list[Node] = []
    for it in items:
        flat.extend(it.items if isinstance(it, Cat) else (it,))
    out: list[Node] = []
    for it in flat:
        prev = out[-1] if out else None
        if isinstance(prev, Rep) and prev.least == prev.most and _same_atom(prev.item, it):
            out[-1] = Rep(it, prev.least + 1, prev.least + 1)
        elif prev is not None and _same_atom(prev, it):
            out[-1] = Rep(it, 2, 2)
        else:
            out.append(it)
    if not out:
        return EMPTY
    return out[0] if len(out) == 1 else Cat(tuple(out))


def _same_atom(a: Node, b: Node) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, Cls) and isinstance(b, Cls):
        return a.table == b.table
    if isinstance(a, Ref) and isinstance(b, Ref):
        return a.key == b.key
    return isinstance(a, Lit) and isinstance(b, Lit) and (a.data, a.ci) == (b.data, b.ci)


def is_empty(n: Node) -> bool:
    return isinstance(n, Cat) and not n.items


def alt(items: list[Node]) -> Node:
    """Alternatives: nested ones flattened; an empty last one makes the rest ``[ ]``."""
    flat: list[Node] = []
    for it in items:
        flat.extend(it.items if isinstance(it, Alt) else (it,))
    # `option`: an empty last alternative makes the rest optional.
    if len(flat) > 1 and is_empty(flat[-1]) and not any(is_empty(x) for x in flat[:-1]):
        rest = flat[:-1]
        return Rep(rest[0] if len(rest) == 1 else Alt(tuple(rest)), 0, 1)
    return flat[0] if len(flat) == 1 else Alt(tuple(flat))


def rep(item: Node, least: int, most: int | None) -> Node:
    """``item`` ``least`` to ``most`` times (None: no bound), simplified where trivial."""
    if most == least == 1:
        return item
    if most == 0 or is_empty(item):
        return EMPTY
    return Rep(item, least, most)


def prose(text: str) -> Prose:
    """A prose step; characters a prose-val cannot hold become ``?``."""
    # A prose-val holds %x20-3D / %x3F-7E: no ">" and nothing outside printable ASCII.
    return Prose("".join(c if " " <= c <= "~" and c != ">" else "?" for c in text))


# --------------------------------------------------------------------------------
# Byte classes and literals in ABNF
# --------------------------------------------------------------------------------
ALL = b"\x01" * 256


def _set(*ranges: tuple[int, int]) -> frozenset[int]:
    return frozenset(b for lo, hi in ranges for b in range(lo, hi + 1))


# RFC 5234 appendix B.1 core rules the renderer uses, with their definitions.
CORE: dict[str, tuple[frozenset[int], str]] = {
    "OCTET": (_set((0, 0xFF)), "%x00-FF"),
    "VCHAR": (_set((0x21, 0x7E)), "%x21-7E"),
    "ALPHA": (_set((0x41, 0x5A), (0x61, 0x7A)), "%x41-5A / %x61-7A"),
    "HEXDIG": (_set((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)), 'DIGIT / "A" / "B" / "C" / "D" / "E" / "F"'),
    "DIGIT": (_set((0x30, 0x39)), "%x30-39"),
    "HTAB": (_set((9, 9)), "%x09"),
    "LF": (_set((10, 10)), "%x0A"),
    "CR": (_set((13, 13)), "%x0D"),
    "SP": (_set((32, 32)), "%x20"),
    "DQUOTE": (_set((34, 34)), "%x22"),
}
_SINGLE = {next(iter(s)): n for n, (s, _) in CORE.items() if len(s) == 1}
_PUNCT = frozenset(b for b in range(0x21, 0x7F) if not chr(b).isalnum() and b != 0x22)


def _single(b: int, members: frozenset[int]) -> tuple[str, int]:
    """One byte as an element, and its cost (see `class_items`)."""
    if b in _SINGLE:
        return _SINGLE[b], 2
    if b in _PUNCT or chr(b).isdigit():
        return f'"{chr(b)}"', 2
    if 0x41 <= b <= 0x5A and b + 32 in members:
        return f'"{chr(b)}"', 2  # ABNF strings ignore case: "A" is A or a
    if 0x61 <= b <= 0x7A and b - 32 in members:
        return "", 0  # covered by its upper case
    if chr(b).isalpha() and b < 0x80:
        return f'%s"{chr(b)}"', 3
    return f"%x{b:02X}", 4


def _remainder(members: frozenset[int]) -> tuple[list[tuple[int, str]], int]:
    items: list[tuple[int, str]] = []
    cost = 0
    bs = sorted(members)
    i = 0
    while i < len(bs):
        j = i
        while j + 1 < len(bs) and bs[j + 1] == bs[j] + 1:
            j += 1
        lo, hi = bs[i], bs[j]
        run = range(lo, hi + 1)
        singles = [(b, *_single(b, members)) for b in run]
        single_cost = sum(c for _, _, c in singles)
        punct = all(b in _PUNCT for b in run) and len(run) <= 8
        if lo == hi or punct or (len(run) == 2 and single_cost <= 6):
            items.extend((b, t) for b, t, _ in singles if t)
            cost += single_cost
        else:
            items.append((lo, f"%x{lo:02X}-{hi:02X}"))
            cost += 6
        i = j + 1
    return items, cost


@lru_cache(maxsize=512)
def class_items(table: bytes) -> tuple[str, ...]:
    """A byte class as ABNF alternatives, in byte order: core rule names (DIGIT, ALPHA,
    VCHAR ...) where they make it shorter, single characters and ``%x`` ranges."""
    members = frozenset(b for b in range(256) if table[b])
    if not members:
        return ()
    cands = [n for n, (s, _) in CORE.items() if len(s) > 1 and s <= members]
    best: tuple[int, int, list[tuple[int, str]]] | None = None
    for k in range(len(cands) + 1):
        for combo in combinations(cands, k):
            sets = [CORE[n][0] for n in combo]
            if sum(len(s) for s in sets) != len(frozenset().union(*sets)):
                continue  # overlapping names
            items, cost = _remainder(members.difference(*sets))
            items += [(min(CORE[n][0]), n) for n in combo]
            cost += 2 * len(combo)
            if best is None or (cost, -k) < (best[0], best[1]):
                best = (cost, -k, items)
    assert best is not None
    return tuple(t for _, t in sorted(best[2]))


def literal_items(data: bytes, ci: bool) -> tuple[str, ...]:
    """A literal as ABNF elements: quoted strings (``%s"..."`` when case matters), core
    names for CR, LF, HTAB, SP and DQUOTE, ``%x`` sequences for other bytes."""
    if not data:
        return ('""',)
    out: list[str] = []
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and 0x20 <= data[j] <= 0x7E and data[j] != 0x22:
            j += 1
        if j > i and data[i:j] != b" ":
            text = data[i:j].decode("ascii")
            cased = not ci and any(c.isalpha() for c in text)
            out.append(f'%s"{text}"' if cased else f'"{text}"')
            i = j
            continue
        j = i
        while j < len(data) and not (0x20 < data[j] <= 0x7E and data[j] != 0x22) and data[j] not in _SINGLE:
            j += 1
        if j == i:
            out.append(_SINGLE[data[i]])
            i += 1
        else:
            out.append("%x" + ".".join(f"{b:02X}" for b in data[i:j]))
            i = j
    return tuple(out)
