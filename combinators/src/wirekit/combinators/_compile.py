"""The compile step: fuse regular sub-grammars into one `re` pattern, dispatch choices on
their first byte.

**Fusion.** A tree of strings, byte classes, greedy loops, sequences, choices, options,
skipped repetitions, maps, labels, lookaheads and ``consumed`` is a regular language. With
every choice an atomic group ``(?>a|b)`` and every loop possessive (``*+``), Python's
backtracking engine gives exactly PEG semantics, so such a tree runs as one C-level
``match`` and its value is rebuilt from the groups (by one generated function, see
`_extract`).

**Chunk boundaries.** A match on an incomplete buffer is only trusted when it cannot depend
on bytes that have not arrived: for each fused tree we compute ``reach`` (how far past its
start it may look) and ``k`` (how far past the end of a success it may have looked). A
success ending at ``end`` is trusted when ``end + k <= lim``; a failure at ``pos`` when
``pos + reach <= lim``. Otherwise the node runs its general (byte-exact) form, which
suspends properly; its inner failures are then reported as the fused node's, so errors are
the same however the input is split.

**Dispatch.** A choice whose alternatives have known first bytes gets a 257-entry table
(256 bytes + end of input) of the alternatives worth trying; skipping the others changes
nothing but speed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any, Protocol

from . import _parser
from ._analysis import (
    INF,
    MAX_REGULAR_DEPTH,
    NotRegular,
    dispatch_table,
    measure,
    regular_depth,
    tail_k,
)
from ._binary import _Unpack
from ._choice import _Choice
from ._combinators import Consumed, Look
from ._extract import Code, Extract, Fn, Gen
from ._machine import Frame, Handoff, Machine, shift_last_ok, shift_skipped
from ._nodeclass import ByClass
from ._parser import Parser, _Fail, _Pure, _Seq, has_effects
from ._primitives import BYTES, EndOfInput, Satisfy, Str, Take, TakeWhile, class_regex
from ._repeat import Many, SepBy
from ._unary import _Desc, _Map

__all__ = ["FastPrefix", "Fused", "compile_parser", "dispatch_table", "fast_prefix"]

# `_Unpack` is `take(n).map(f)` to the builder, but alone it runs as one struct call.
_PRIMITIVES = (Satisfy, Str, TakeWhile, Take, EndOfInput, _Pure, _Fail, _Unpack)


def compile_parser(root: Parser[Any]) -> Parser[Any]:
    """Compile ``root`` and everything under it (once; results are cached on the nodes)
    and return its runnable form.

    Children are compiled before their parents with an explicit stack, so a parser
    description of any depth compiles without recursion. A node's provisional compiled
    form is itself, which is what a cycle through `fix` sees.
    """
    if root.leaf and root._c is None:
        root._c = root  # a primitive: nothing to link or fuse
        return root
    if root._rt and root._c is None and _link_made_while_parsing(root, _RUN_TIME_LEVELS):
        return root
    c = root._c
    if c is not None:
        return c  # compiled before (or being compiled: a cycle through `fix`)
    return _compile_tree(root)


# How deep `_link_made_while_parsing` goes (``yield many(a | b)`` is two levels).
_RUN_TIME_LEVELS = 4


def _link_made_while_parsing(node: Parser[Any], levels: int) -> bool:
    """Link ``node``, made while parsing, and the parts of it made while parsing too (at
    most ``levels`` below it), children first, with nothing more: those are usually run
    once, and fusing costs more than it would save. False, ``node`` left for the
    compiler, if a part was made before the parse and never compiled, or is deeper."""
    for child in node.children():  # (a loop: no generator object, this runs per use)
        if child._c is None:
            if child.leaf:
                child._c = child
            elif not (child._rt and levels and _link_made_while_parsing(child, levels - 1)):
                return False
    node._c = node
    node.link()
    return True


def _compile_tree(root: Parser[Any]) -> Parser[Any]:
    """`compile_parser` for a tree with parts not yet compiled: children first, then
    each node linked and, if regular, fused."""
    order: list[Parser[Any]] = []
    todo: list[tuple[Parser[Any], bool]] = [(root, False)]
    while todo:
        node, expanded = todo.pop()
        if expanded:
            order.append(node)
            continue
        if node._c is not None:
            continue
        node._c = node
        todo.append((node, True))
        for child in node.children():
            if child._c is None:
                todo.append((child, False))
    depths: dict[int, int] = {}  # (each node's depth counted once: `fuse`)
    for node in order:
        node.link()
        if not node._rt and not isinstance(node, _PRIMITIVES):
            fused = fuse(node, depths)
            if fused is not None:
                node._c = fused
    c = root._c
    assert c is not None
    return c


def is_regular_primitive(p: Parser[Any]) -> bool:
    """A primitive that `fuse` can put into a pattern."""
    return isinstance(p, _PRIMITIVES) and not (isinstance(p, EndOfInput) and p.test)


class Fused(Parser[Any]):
    """A regular sub-grammar run as one compiled pattern (see the module docstring)."""

    fused = True
    leaf = True
    inl = True

    __slots__ = ("const", "effects", "extract", "k", "match", "orig", "probe", "reach", "rx", "source")

    def __init__(
        self,
        orig: Parser[Any],
        rx: re.Pattern[bytes],
        extract: Fn | None,
        reach: int,
        k: int,
        probe: re.Pattern[bytes] | None,
        source: tuple[Gen, Extract] | None = None,
        effects: bool = False,
        const: Any = None,
    ) -> None:
        super().__init__()
        # Whether its value calls user functions: then it is computed even when dropped.
        self.effects = effects
        self.orig = orig
        self.source = source  # how `extract` was generated, for `fast_prefix`
        self.rx = rx
        self.match = rx.match
        self.extract = extract  # None: the value is ``const``
        self.const = const
        self.reach = reach
        self.k = k
        self.probe = probe

    def decided(self, buf: Any, pos: int, lim: int, r: re.Match[bytes] | None) -> bool:
        """Whether a match result on an incomplete buffer cannot change with more input.

        The static bounds answer most cases; otherwise, for a success, the probe pattern
        (the same pattern, but every byte test also succeeds at the end of input,
        capturing a marker) tells exactly whether the engine looked at the end: if it
        never did, the probe retraces the same path (same end, no marker).

        A failure is trusted by the static bound alone. A failing probe may show that
        more input cannot help, but not where the furthest failure will be once it has
        arrived (the general form waits for those bytes): the error, like the value,
        must not depend on how the input was split.
        """
        if r is None:
            return pos + self.reach <= lim
        end = r.end()
        if end + self.k <= lim:
            return True
        probe = self.probe
        if probe is None:
            return False
        q = probe.match(buf, pos, lim)
        return q is not None and q.lastindex is None and q.end() == end

    def enter(self, m: Machine) -> Parser[Any] | None:
        if m.general:
            return self.orig  # byte by byte, every failure (and label) on record
        pos = m.pos
        r = self.match(m.buf, pos, m.lim)
        if m.complete or self.decided(m.buf, pos, m.lim, r):
            if r is not None:
                m.pos = r.end()
                ex = self.extract
                m.value = None if m.quiet else self.const if ex is None else ex(r)
                m.ok = True
                m.last_ok = (pos, self, m.marks)
            else:
                m.fail(pos, self)
            return None
        f = _ScopeFrame()
        f.start = pos
        f.node = self
        f.err = (m.err_pos - pos, m.err_list)
        f.seen = (pos, m.last_ok, m.skipped)
        m.stack.append(f)
        m.quiet += 1
        return self.orig

    def go(self, m: Machine) -> None:
        # `enter` where the match decides (never with a tracer: see `Machine.run`): on
        # complete input, or when more input cannot change it (`decided`, whose first
        # test is written out here: a stream's blocks usually end well before its end).
        pos = m.pos
        lim = m.lim
        r = self.match(m.buf, pos, lim)
        if r is not None:
            end = r.end()
            if m.complete or end + self.k <= lim or self.decided(m.buf, pos, lim, r):
                m.pos = end
                ex = self.extract
                m.value = self.const if ex is None else ex(r)
                m.ok = True
                m.last_ok = (pos, self, m.marks)
                return
        elif m.complete or pos + self.reach <= lim:
            m.fail(pos, self)
            return
        after = self.enter(m)  # (undecided: its general form)
        if after is not None:
            raise Handoff(after)  # byte by byte, on the stack

    def expected(self) -> str:
        return self.orig.expected()


class _ScopeFrame(Frame):
    """Around the general form of a fused node: leave the failure records as the one
    match would have (`Fused.enter`), so that errors do not depend on which form ran.

    What happened inside is the node's own: its inner failures, the fused blocks that
    succeeded in it (``last_ok``) and the alternatives its choices skipped by their first
    byte (``skipped``) are dropped; a success becomes ``last_ok`` and a failure is
    recorded at the node's start, both re-run byte by byte by `error_of` if needed.
    """

    __slots__ = ("err", "node", "seen")

    node: Fused
    err: tuple[int, list[Any]]
    seen: tuple[int, tuple[int, Any, Any] | None, tuple[int, Any, Any, Any] | None]
    """(start when entered, ``last_ok`` and ``skipped`` then): restored at the end."""

    def resume(self, m: Machine) -> None:
        m.quiet -= 1
        start = self.start
        if m.ok:
            # The general form found where the match ends, with no function called; the
            # pattern, now decided on these bytes, gives the value, calling each function
            # once, as the one match would have.
            node = self.node
            ex = node.extract
            if m.quiet:
                m.value = None
            elif ex is None:
                m.value = node.const
            else:
                r = node.match(m.buf, start, m.lim)
                if r is None or r.end() != m.pos:
                    raise AssertionError(f"fused block and its general form disagree: {node.orig!r}")
                m.value = ex(r)
        rel, errs = self.err
        m.err_pos = start + rel
        m.err_list = errs
        entered, last_ok, skipped = self.seen
        delta = start - entered  # how far `Machine.rebase` shifted positions since
        m.skipped = shift_skipped(skipped, delta) if delta else skipped
        if m.ok:
            m.last_ok = (start, self.node, m.marks)
        else:
            m.last_ok = shift_last_ok(last_ok, delta) if delta else last_ok
            m.fail(start, self.node)
        return None


class _Builder:
    """Turns a regular tree into pattern text plus a function rebuilding its value."""

    def __init__(self, probe: bool = False, consts: bool = True) -> None:
        self.groups = 0
        self.looks = False  # whether the pattern has lookarounds or anchors
        # Probe mode builds the boundary probe (see `Fused`): every test of a byte also
        # succeeds at the end of the input, capturing an empty marker group.
        self.probe = probe
        self.gen = Gen()
        self.fx: dict[int, bool] = {}
        # > 0 while building a pattern whose groups are not used (a loop's body, whose
        # items are re-matched on their own): no values, so no groups for effects.
        self.bare = 0
        # Whether a kept single byte is a constant rather than a group: not in a loop's
        # item, whose values `findall` collects in C only when every value is a group.
        self.consts = consts

    def effects(self, p: Parser[Any]) -> bool:
        """Whether ``p``'s value calls a user function (which must run once per match,
        even where the value is dropped)."""
        hit = self.fx.get(id(p))
        if hit is None:
            if isinstance(p, _Map):
                hit = has_effects(p.f) or self.effects(p.p)
            elif isinstance(p, _Seq):
                hit = (p.fn is not None and has_effects(p.fn)) or any(self.effects(c) for c in p.parsers)
            elif isinstance(p, _Choice):
                hit = any(self.effects(c) for c in p.alternatives)
            elif isinstance(p, _Desc | Many | Consumed):
                hit = self.effects(p.p)
            elif isinstance(p, Look):
                hit = not p.negate and self.effects(p.p)
            elif isinstance(p, SepBy):
                hit = self.effects(p.tree)
            else:
                hit = False
            self.fx[id(p)] = hit
        return hit

    def group(self) -> int:
        self.groups += 1
        return self.groups

    def build(self, p: Parser[Any], need: bool) -> tuple[bytes, Extract]:
        if not need and not self.probe and not self.bare and self.effects(p):
            need = True  # a dropped value still calls its functions
        if self.probe:
            need = False
            probed = self._probe_atom(p)
            if probed is not None:
                return probed, None
        make = _BUILD[type(p)]
        if make is None:
            raise NotRegular
        return make(self, p, need)

    # One method per node kind (see `_BUILD`): the pattern text and how to get its value.
    def _satisfy(self, p: Satisfy, need: bool) -> tuple[bytes, Extract]:
        cls = class_regex(p.table)
        if need and p.keep:
            if self.consts and p.table.count(1) == 1:
                # One byte (`char`): its value is known without a group.
                return cls, self.gen.const(BYTES[p.table.index(1)])
            g = self.group()
            return b"(" + cls + b")", g
        return cls, None

    def _str(self, p: Str, need: bool) -> tuple[bytes, Extract]:
        lit = re.escape(p.s)
        if p.ci:
            lit = b"(?i:" + lit + b")"
            if need:
                g = self.group()
                return b"(" + lit + b")", g
            return lit, None
        s = p.s
        return lit, self.gen.const(s) if need else None

    def _take_while(self, p: TakeWhile, need: bool) -> tuple[bytes, Extract]:
        body = class_regex(p.table) + (b"*+" if p.least == 0 else b"{%d,}+" % p.least)
        if need and p.keep:
            g = self.group()
            return b"(" + body + b")", g
        return body, None

    def _take(self, p: Take, need: bool) -> tuple[bytes, Extract]:
        body = rb"[\x00-\xff]{%d}" % p.n
        if not p.move:
            self.looks = True
        if need and p.keep:
            g = self.group()
            pat: bytes = b"(" + body + b")"
            if not p.move:
                pat = b"(?=" + pat + b")"
            return pat, g
        return (body if p.move else b"(?=" + body + b")"), None

    def _end_of_input(self, p: EndOfInput, need: bool) -> tuple[bytes, Extract]:
        if p.test:
            raise NotRegular  # `at_end()` has a value that depends on the input
        self.looks = True
        return rb"\Z", None

    def _pure(self, p: _Pure[Any], need: bool) -> tuple[bytes, Extract]:
        v = p.value
        return b"", self.gen.const(v) if need else None

    def _fail(self, p: _Fail, need: bool) -> tuple[bytes, Extract]:
        return b"(?!)", None

    def _map(self, p: _Map, need: bool) -> tuple[bytes, Extract]:
        pat, ex = self.build(p.p, need)
        if not need:
            return pat, None
        return pat, self.gen.call(p.f, ex)

    def _desc(self, p: _Desc, need: bool) -> tuple[bytes, Extract]:
        return self.build(p.p, need)

    def _sep_by(self, p: SepBy, need: bool) -> tuple[bytes, Extract]:
        return self.build(p.tree, need)

    def _many(self, p: Many, need: bool) -> tuple[bytes, Extract]:
        self.bare += 1
        pat, _ = self.build(p.p, False)
        self.bare -= 1
        hi = b"" if p.most >= INF else b"%d" % p.most
        rep = b"(?:" + pat + b"){%d,%s}+" % (p.least, hi)
        if need and p.keep:
            return self._many_values(p, rep)
        if need and self.effects(p.p):
            rep, items = self._many_values(p, rep)
            src, d = self.gen.src(items)
            return rep, Code(f"({src}, None)[1]", d + 1)  # the items' functions run
        return rep, None

    def _consumed(self, p: Consumed, need: bool) -> tuple[bytes, Extract]:
        inner = self.effects(p.p)
        if not need:
            return self.build(p.p, False)[0], None
        g = self.group()  # numbered before the groups inside: it opens first
        pat, ex = self.build(p.p, inner)
        if inner:
            src, d = self.gen.src(ex)
            return b"(" + pat + b")", Code(f"({src}, r.group({g}))[1]", d + 1)
        return b"(" + pat + b")", g

    def _look(self, p: Look, need: bool) -> tuple[bytes, Extract]:
        self.looks = True
        pat, ex = self.build(p.p, need and not p.negate)
        if p.negate:
            return b"(?!" + pat + b")", None
        return b"(?=" + pat + b")", ex

    def _probe_atom(self, p: Parser[Any]) -> bytes | None:
        """The probe form of a primitive (None for composites, built as usual)."""
        eos = rb"\Z()"
        if isinstance(p, Satisfy):
            return b"(?:" + class_regex(p.table) + b"|" + eos + b")"
        if isinstance(p, Str):
            parts = []
            for b in p.s:
                lit = re.escape(bytes([b]))
                parts.append(b"(?:" + (b"(?i:" + lit + b")" if p.ci else lit) + b"|" + eos + b")")
            return b"".join(parts)
        if isinstance(p, TakeWhile):
            cls = class_regex(p.table)
            if p.least == 0:
                return cls + b"*+(?:" + eos + b")?+"
            return b"(?:" + cls + b"{%d,}+(?:" % p.least + eos + b")?+|" + cls + b"*+" + eos + b")"
        if isinstance(p, Take):
            if not p.move:
                raise NotRegular  # see Look below
            return rb"(?:[\x00-\xff]|" + eos + b"){%d}" % p.n
        if isinstance(p, EndOfInput) and not p.test:
            return eos
        if isinstance(p, Look):
            # Seeing the end inside a lookaround does not move the match to the end, so
            # the probe's "everything succeeds from there on" no longer holds: no probe.
            raise NotRegular
        return None

    def _many_values(self, p: Many, rep: bytes) -> tuple[bytes, Extract]:
        # The whole repetition is matched in one go; its items are then re-matched one by
        # one inside the span to build the list (a regex keeps only a group's last repeat).
        if measure(p.p).least == 0:
            raise NotRegular  # items that can be empty: their count is not in the span
        sub = _Builder(consts=False)
        item_pat, item_ex = sub.build(p.p, True)
        item_rx = re.compile(item_pat, re.DOTALL)
        match = item_rx.match
        g = self.group()
        every_group = item_ex == tuple(range(1, sub.groups + 1)) or (item_ex == 1 == sub.groups)
        if every_group and not sub.looks:
            # Collect the items with `findall` over the span, entirely in C. The items tile
            # the span, so the leftmost match at each step is the next item; and without
            # lookarounds or anchors, cutting the input at the span's end cannot change
            # the last item (bytes it saw beyond it only ever stopped a loop or failed an
            # alternative, and still do).
            findall = self.gen.name(item_rx.findall)
            return b"(" + rep + b")", Code(f"{findall}(r.string, *r.span({g}))", 2)

        ex = sub.gen.function(item_ex)

        # (Match[Any]: the subject is the caller's buffer, a bytes, bytearray or memoryview.)
        def extract(r: re.Match[Any]) -> list[Any]:
            buf, lim = r.string, r.endpos
            pos, end = r.span(g)
            out = []
            while pos < end:
                item = match(buf, pos, lim)
                assert item is not None
                out.append(ex(item))
                pos = item.end()
            return out

        return b"(" + rep + b")", self.gen.fn(extract)

    def _seq(self, p: _Seq, need: bool) -> tuple[bytes, Extract]:
        parts: list[bytes] = []
        exs: list[Extract] = []
        for i, child in enumerate(p.parsers):
            child_need = need and (p.pick < 0 or p.pick == i)
            pat, ex = self.build(child, child_need)
            parts.append(pat)
            exs.append(ex)
        pat = b"".join(parts)
        if not need:
            return pat, None
        if p.pick >= 0:
            kept = [(i, ex) for i, ex in enumerate(exs) if i == p.pick or ex is not None]
            if len(kept) == 1:
                return pat, exs[p.pick]
            # Dropped values that call functions are computed too, in order.
            at = next(j for j, (i, _) in enumerate(kept) if i == p.pick)
            code = self.gen.seq([ex for _, ex in kept], None)
            return pat, Code(f"{code.src}[{at}]", code.depth + 1)
        fn = p.fn
        if len(exs) > 1 and all(isinstance(ex, int) for ex in exs):
            gs = tuple(ex for ex in exs if isinstance(ex, int))
            if fn is None:
                return pat, gs  # `match.group(*gs)` builds the tuple in C
            return pat, self.gen.call(fn, gs, star=True)
        return pat, self.gen.seq(exs, fn)

    def _choice(self, p: _Choice, need: bool) -> tuple[bytes, Extract]:
        parts: list[bytes] = []
        branches: list[tuple[int, Extract]] = []
        for alt in p.alternatives:
            if need:
                g = self.group()
                pat, ex = self.build(alt, True)
                parts.append(b"(" + pat + b")")
                branches.append((g, ex))
            else:
                parts.append(self.build(alt, False)[0])
        pat = b"(?>" + b"|".join(parts) + b")" if parts else b"(?!)"
        if not need:
            return pat, None
        return pat, self.gen.choice(branches)


# What `_Builder.build` does per node class (a subclass finds its nearest base's entry).
_BUILD: ByClass[Callable[[_Builder, Any, bool], tuple[bytes, Extract]]] = ByClass({
    Satisfy: _Builder._satisfy,
    Str: _Builder._str,
    TakeWhile: _Builder._take_while,
    Take: _Builder._take,
    EndOfInput: _Builder._end_of_input,
    _Pure: _Builder._pure,
    _Fail: _Builder._fail,
    _Seq: _Builder._seq,
    _Choice: _Builder._choice,
    _Map: _Builder._map,
    _Desc: _Builder._desc,
    SepBy: _Builder._sep_by,
    Many: _Builder._many,
    Consumed: _Builder._consumed,
    Look: _Builder._look,
})


def fuse(p: Parser[Any], depths: dict[int, int] | None = None) -> Fused | None:
    """A `Fused` node for ``p`` when it is regular and at most `MAX_REGULAR_DEPTH` levels
    deep, else `None` (``depths``: `regular_depth`'s memo, for many calls on one tree)."""
    if regular_depth(p, depths) > MAX_REGULAR_DEPTH:
        return None  # too deep to analyse in one piece: the general machinery runs it
    builder = _Builder()
    try:
        pat, ex = builder.build(p, True)
    except NotRegular:
        return None
    # RecursionError: only when called from deep in the stack already (the depth bound
    # keeps the analysis itself well inside the limit); the general machinery runs it.
    except RecursionError:
        return None
    _, _, reach, k, _ = measure(p)
    if k >= INF:
        with contextlib.suppress(RecursionError):  # very deep: keep the plain bound
            k = min(k, tail_k(p))
    try:
        rx = re.compile(pat, re.DOTALL)
    except (re.error, OverflowError):
        return None
    probe: re.Pattern[bytes] | None = None
    if k >= INF or reach >= INF:
        try:
            probe = re.compile(_Builder(probe=True).build(p, False)[0], re.DOTALL)
        except (NotRegular, re.error, OverflowError, RecursionError):
            probe = None
    try:
        effects = builder.effects(p)
    except RecursionError:  # very deep: leave it to the general machinery
        return None
    gen = builder.gen
    if isinstance(ex, Code) and gen.is_const(ex):
        # A constant value (``lexeme(char(b","))``): no call per match.
        return Fused(p, rx, None, reach, k, probe, (gen, ex), effects, gen.env[ex.src])
    fn = None if ex is None else gen.function(ex)
    return Fused(p, rx, fn, reach, k, probe, (gen, ex), effects)


class FastPrefix(Protocol):
    """What `fast_prefix` returns: ``(buffer, off, end, complete=False) -> (value, stop)
    | None``."""

    def __call__(self, buffer: Any, off: int, end: int, complete: bool = False) -> tuple[Any, int] | None: ...


def _no_fast_path(buffer: Any, off: int, end: int, complete: bool = False) -> None:
    return None


def fast_prefix(p: Parser[Any]) -> FastPrefix:
    """The one-match fast path of `parse_prefix` for ``p``, as a function
    ``(buffer, off, end, complete=False) -> (value, stop) | None``.

    For a message that usually arrives whole, parsed again and again (a request head, a
    chunk-size line), this skips building a `State`: it returns the value and the
    position after it when a regular ``p`` matches ``buffer[off:end]`` and more input
    could not change that (the same trust rule as `parse_prefix`; with ``complete`` the
    input is known to end at ``end``, so every match is final). ``None`` means
    "ask `parse_prefix`": the input may be incomplete, does not match, or ``p`` is not
    regular. It never raises on input; ``0 <= off <= end <= len(buffer)`` is the
    caller's to ensure. ``p`` is compiled when this is called.
    """
    root = compile_parser(p)
    if type(root) is not Fused and is_regular_primitive(root):
        root = fuse(root) or root  # a lone primitive is not fused for the machine; here it is
    if type(root) is not Fused or root.source is None:
        return _no_fast_path
    gen, ex = root.source
    f: FastPrefix = gen.prefix_function(ex, root.match, root.k, root.decided)
    return f


def fuse_candidate(p: Parser[Any]) -> bool:
    """Whether ``p`` compiles to a fused regular expression (or is a regular primitive)."""
    return type(_parser.compiled(p)) is Fused or is_regular_primitive(p)


# The node layer's hooks (it does not import this module): see `_parser.compiled` and
# `_parser.ABOVE`.
_parser.compile_parser = compile_parser
_parser.ABOVE.dispatch_table = dispatch_table
_parser.ABOVE.fuse_candidate = fuse_candidate
