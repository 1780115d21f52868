"""`describe` and `railroad`: a parser's grammar as ABNF-like text and as railroad diagrams.

Both render one intermediate form (see `_rules`), built here by walking the parser's node
tree: labelled parsers (`Parser.desc`) become rules, `map` and `consumed` vanish, and what
a grammar cannot show statically (`bind`, `generate`, `commit` ...) becomes prose.

The walk and the text renderer use explicit stacks, so a grammar of any depth is described
without touching Python's recursion limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._checked import Isolate, TryMap
from ._choice import _Choice
from ._combinators import Consumed, Generate, Many, ManyTill, SepBy
from ._combinators import Look as _Look
from ._limits import INF as _INF  # what `many` uses for "no upper bound"
from ._nodeclass import ByClass
from ._parser import Parser, _Fail, _Pure, _Seq
from ._primitives import (
    Commit,
    EndOfInput,
    PeekChar,
    Query,
    Satisfy,
    Scan,
    Str,
    Take,
    TakeWhile,
)
from ._rules import (
    ALL,
    CORE,
    EMPTY,
    Alt,
    Cat,
    Cls,
    Lit,
    Look,
    Node,
    Prose,
    Ref,
    Rep,
    Within,
    alt,
    cat,
    class_items,
    literal_items,
    prose,
    rep,
)
from ._unary import _Bind, _Desc, _Map, _Ref

__all__ = ["Grammar", "describe", "grammar", "railroad"]



# --------------------------------------------------------------------------------
# From parsers to rules
# --------------------------------------------------------------------------------
def _fname(f: Any) -> str:
    """A function's name, if it is a meaningful one (not a lambda or a dunder)."""
    name = getattr(f, "__name__", "")
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("__"):
        return ""
    return name


@dataclass
class Grammar:
    """A parser's grammar as rules: ``rules`` maps each rule name to its body, the root
    (named ``root``) first, then the rules in the order they are first referenced
    (breadth first). ``names`` maps a rule node's ``id`` to its rule name, for `Ref`."""

    root: str
    rules: dict[str, Node]
    names: dict[int, str]


class _Builder:
    def __init__(self, root: Parser[Any], name: str | None, names: Mapping[str, Parser[Any]]) -> None:
        self.root = root
        self.given: dict[int, str] = {id(q): n for n, q in list(names.items())[::-1]}
        targets: set[int] = set()
        seen: set[int] = set()
        stack = [root]
        while stack:  # every node reachable, through `fix` references too
            p = stack.pop()
            if id(p) in seen:
                continue
            seen.add(id(p))
            if isinstance(p, _Ref) and p.target is not None:
                targets.add(id(p.target))
            stack.extend(p.children())  # a `fix` reference's child is its target
        self.targets = targets
        self.root_name = name

    def is_rule(self, p: Parser[Any]) -> bool:
        return isinstance(p, _Desc) or id(p) in self.given or id(p) in self.targets

    def wanted_name(self, p: Parser[Any], counter: list[int]) -> str:
        if p is self.root and self.root_name is not None:
            return self.root_name
        if isinstance(p, _Desc):
            return _rule_name(p.label)
        if id(p) in self.given:
            return self.given[id(p)]
        if p is self.root:
            return "grammar"
        counter[0] += 1
        return f"fix-{counter[0]}"  # an unlabelled `fix` target

    def body(self, top: Parser[Any]) -> tuple[Node, list[Parser[Any]]]:
        """The rule ``top``'s body, and the rule nodes it refers to, in order."""
        refs: list[Parser[Any]] = []
        # Frames: [node, its children to convert (None until first visit), their results].
        stack: list[list[Any]] = [[top, None, []]]
        result: Node = EMPTY
        while stack:
            frame = stack[-1]
            p, kids, done = frame
            if kids is None:
                if p is not top and self.is_rule(p):
                    node: Node | None = Ref(id(p))
                    refs.append(p)
                elif isinstance(p, _Ref) and p.target is not None:
                    node = Ref(id(p.target))
                    refs.append(p.target)
                else:
                    node = _leaf(p)
                if node is None:
                    kids = frame[1] = _kids(p)
                else:
                    stack.pop()
                    if stack:
                        stack[-1][2].append(node)
                    else:
                        result = node
                    continue
            if len(done) < len(kids):
                stack.append([kids[len(done)], None, []])
                continue
            stack.pop()
            node = _combine(p, done)
            if stack:
                stack[-1][2].append(node)
            else:
                result = node
        return result, refs


def _rule_name(label: str) -> str:
    """An ABNF rulename from a label: ALPHA *( ALPHA / DIGIT / "-" )."""
    out = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-" for c in label)
    out = "-".join(part for part in out.split("-") if part) or "rule"
    return out if out[0].isalpha() else "r-" + out


# The forms of the nodes without children (`_leaf`).
_LEAVES: ByClass[Callable[[Any], Node]] = ByClass({
    Satisfy: lambda p: Cls(p.table),
    TakeWhile: lambda p: rep(Cls(p.table), p.least, None),
    Str: lambda p: Lit(p.s, p.ci),
    Take: lambda p: rep(Cls(ALL), p.n, p.n) if p.move else Look(rep(Cls(ALL), p.n, p.n), False),
    _Pure: lambda p: EMPTY,
    _Fail: lambda p: prose(f"fail: {p.msg}"),
    Commit: lambda p: Prose("commit"),
    EndOfInput: lambda p: Prose("at end of input?" if p.test else "end of input"),
    PeekChar: lambda p: Look(Cls(ALL), False) if p.must else Prose("peek: a byte or the end"),
    Query: lambda p: Prose("position" if p.what == "pos" else "bytes available"),
    Scan: lambda p: prose(" ".join(filter(None, ("scan", _fname(p.f))))),
    Generate: lambda p: prose(
        " ".join(filter(None, ("generate", _fname(p.fn)))) + ": depends on the values"
    ),
    _Ref: lambda p: Prose("fix: unfinished"),
})
# The nodes with children, converted from their children's forms (`_combine`).
_COMPOSITES = (
    _Desc, _Map, _Bind, TryMap, Isolate, Many, _Look, Consumed, _Seq, _Choice, ManyTill, SepBy
)


def _leaf(p: Parser[Any]) -> Node | None:
    """The form of a node without children to convert (None if it has some)."""
    make = _LEAVES[type(p)]
    if make is not None:
        return make(p)
    if isinstance(p, _COMPOSITES):
        return None
    kids = p.children()
    return None if kids else prose(p.expected())


def _kids(p: Parser[Any]) -> tuple[Parser[Any], ...]:
    if isinstance(p, SepBy):
        return (p.sep, p.p)
    if isinstance(p, ManyTill):
        return (p.end, p.p)
    return p.children()


def _combine(p: Parser[Any], done: list[Node]) -> Node:
    """A composite node's form from its children's forms (in `_kids` order)."""
    if isinstance(p, _Seq):
        return cat(done)
    if isinstance(p, _Choice):
        return alt(done)
    if isinstance(p, Many):
        return rep(done[0], p.least, None if p.most >= _INF else p.most)
    if isinstance(p, _Look):
        return Look(done[0], p.negate)
    if isinstance(p, Isolate):
        return Within(p.n, done[0])
    if isinstance(p, _Bind):
        what = " ".join(filter(None, ("bind", _fname(p.f))))
        return cat([done[0], prose(f"{what}: depends on the value")])
    if isinstance(p, TryMap):
        what = " ".join(filter(None, ("try_map", _fname(p.f))))
        return cat([done[0], prose(f"{what}: may reject the value")])
    if isinstance(p, SepBy):
        sep, item = done
        more = cat([item, rep(cat([sep, item]), 0, None)])
        return more if p.least else rep(more, 0, 1)
    if isinstance(p, ManyTill):
        end, item = done
        return cat([rep(cat([Look(end, True), item]), 0, None), end])
    if len(done) == 1:  # _Desc at the top of its rule, _Map, Consumed: transparent
        return done[0]
    return cat(done)


def grammar(
    p: Parser[Any], name: str | None = None, names: Mapping[str, Parser[Any]] | None = None
) -> Grammar:
    """The rules of ``p`` (see `describe` for ``name`` and ``names``)."""
    b = _Builder(p, name, names or {})
    counter = [0]
    rules: dict[str, Node] = {}
    key_names: dict[int, str] = {}
    queue: deque[Parser[Any]] = deque([p])
    texts: dict[str, str] = {}
    while queue:
        q = queue.popleft()
        if id(q) in key_names:
            continue
        body, refs = b.body(q)
        wanted = b.wanted_name(q, counter)
        rule_name = wanted
        k = 1
        while rule_name in rules:
            # Two rules labelled alike: one rule if they read alike, else numbered.
            if rule_name not in texts:
                texts[rule_name] = _flat_text(rules[rule_name])
            if texts[rule_name] == _flat_text(body):
                break
            k += 1
            rule_name = f"{wanted}-{k}"
        key_names[id(q)] = rule_name
        if rule_name not in rules:
            rules[rule_name] = body
        queue.extend(r for r in refs if id(r) not in key_names)
    return Grammar(next(iter(rules)), rules, key_names)


# --------------------------------------------------------------------------------
# ABNF text
# --------------------------------------------------------------------------------
# Binding strength: alternation < concatenation < repetition < element.
_ALT, _CAT, _REP, _ELEM = 0, 1, 2, 3


def _level(n: Node) -> int:
    if isinstance(n, Alt):
        return _ALT
    if isinstance(n, Cls):
        return _ALT if len(class_items(n.table)) > 1 else _ELEM
    if isinstance(n, Lit):
        return _CAT if len(literal_items(n.data, n.ci)) > 1 else _ELEM
    if isinstance(n, Cat):
        return _CAT if n.items else _ELEM
    if isinstance(n, Look | Within):
        return _REP  # a prose prefix and the element it applies to
    if isinstance(n, Rep):
        return _ELEM if (n.least, n.most) == (0, 1) else _REP
    return _ELEM


def _rep_prefix(least: int, most: int | None) -> str:
    if most == least:
        return str(least)
    return ("" if least == 0 else str(least)) + "*" + ("" if most is None else str(most))


Token = tuple[str, bool]  # text, and whether the next token follows without a space


# An entry of `tokens`' stack: (a node, the binding its place needs) or (a token's text,
# glue 0/1: whether the next token follows without a space).
_Entry = tuple[Node | str, int]


def _items_entries(n: Alt | Cat, names: Mapping[int, str]) -> list[_Entry]:
    parts: list[_Entry] = []
    sub = _CAT if isinstance(n, Alt) else _REP
    for i, it in enumerate(n.items):
        if i and isinstance(n, Alt):
            parts.append(("/", 0))
        # A literal's pieces ("_" CR LF) are a concatenation: no group needed.
        parts.append((it, _CAT if isinstance(it, Lit) else sub))
    if not n.items:
        parts.append(('""', 0))
    return parts


def _cls_entries(n: Cls, names: Mapping[int, str]) -> list[_Entry]:
    texts = class_items(n.table) or ("<no byte>",)
    parts: list[_Entry] = []
    for i, t in enumerate(texts):
        if i:
            parts.append(("/", 0))
        parts.append((t, 0))
    return parts


def _rep_entries(n: Rep, names: Mapping[int, str]) -> list[_Entry]:
    if (n.least, n.most) == (0, 1):
        return [("[", 0), (n.item, _ALT), ("]", 0)]
    return [(_rep_prefix(n.least, n.most), 1), (n.item, _ELEM)]


def _look_entries(n: Look, names: Mapping[int, str]) -> list[_Entry]:
    return [("<not followed by:>" if n.negate else "<followed by:>", 0), (n.item, _REP)]


# Per kind of rule node, its entries in reading order (`tokens` pushes them reversed).
_ENTRIES: dict[type, Callable[[Any, Mapping[int, str]], list[_Entry]]] = {
    Alt: _items_entries,
    Cat: _items_entries,
    Cls: _cls_entries,
    Lit: lambda n, names: [(t, 0) for t in literal_items(n.data, n.ci)],
    Rep: _rep_entries,
    Ref: lambda n, names: [(names.get(n.key, f"rule-{n.key}"), 0)],
    Prose: lambda n, names: [(f"<{n.text}>", 0)],
    Look: _look_entries,
    Within: lambda n, names: [(f"<isolate {n.n} bytes:>", 0), (n.item, _REP)],
}


def tokens(node: Node, names: Mapping[int, str]) -> list[Token]:
    """``node`` as ABNF tokens (iterative: any depth)."""
    out: list[Token] = []
    stack: list[_Entry] = [(node, _ALT)]
    while stack:
        n, ctx = stack.pop()
        if isinstance(n, str):
            out.append((n, bool(ctx)))
        elif _level(n) < ctx:
            stack += [(")", 0), (n, _ALT), ("(", 0)]
        else:
            stack.extend(reversed(_ENTRIES[type(n)](n, names)))
    return out


def _flat_text(node: Node) -> str:
    return " ".join(t for t, _ in tokens(node, {}))


WIDTH = 72


_OPENERS = ("(", "[", "/")


def _words(body: Node, names: Mapping[int, str]) -> list[str]:
    """The tokens of ``body`` with each repetition prefix joined to what it repeats."""
    words: list[str] = []
    glue = False
    for text, g in tokens(body, names):
        if glue:
            words[-1] += text
        else:
            words.append(text)
        glue = g
    return words


def rule_text(name: str, body: Node, names: Mapping[int, str], width: int = WIDTH) -> str:
    """One rule, ``name = body``, wrapped at ``width`` columns; continuation lines are
    indented under the body (RFC 5234 requires them to start with white space) and begin
    with the ``/`` or the bracket that opens what follows, as RFCs write them."""
    head = f"{name} = "
    indent = " " * (len(head) if len(head) <= 24 else 8)
    lines: list[tuple[str, list[str]]] = [(head, [])]
    for word in _words(body, names):
        prefix, line = lines[-1]
        if line and len(prefix) + len(" ".join([*line, word])) > width:
            carry: list[str] = []
            if len(line) > 1 and line[-1].endswith(_OPENERS) and not line[-1].startswith("<"):
                carry.append(line.pop())
            lines.append((indent, carry))
            line = carry
        line.append(word)
    return "\n".join(prefix + " ".join(line) for prefix, line in lines)


def _cores_used(rules: Mapping[str, Node]) -> list[str]:
    """The core rules a grammar's text names (and the ones their definitions name)."""
    used: set[str] = set()
    for body in rules.values():
        used.update(t for t, _ in tokens(body, {}) if t in CORE)
    if "HEXDIG" in used:
        used.add("DIGIT")  # HEXDIG's definition refers to it
    return sorted(used - set(rules))


def describe(
    p: Parser[Any], name: str | None = None, *, names: Mapping[str, Parser[Any]] | None = None
) -> str:
    """The grammar of ``p`` as ABNF (RFC 5234, with RFC 7405's ``%s``), one rule a line.

    The first rule is ``p`` itself, named ``name`` (default: its label if it has one, else
    ``grammar``); the others follow in the order they are first referred to. Every
    labelled sub-parser (`Parser.desc`) is a rule of its own, named after its label (made
    into an ABNF rule name: ``"chunk-size line"`` is ``chunk-size-line``) and referred to
    by that name; so is each parser in ``names``, a mapping of rule name to parser for
    naming parts of a grammar without labelling them (a label also appears in parse
    errors, a name given here does not; a labelled parser keeps its label). A `fix`
    recursion is a rule reference; an unlabelled recursion point is named ``fix-1``,
    ``fix-2`` ... Two different rules with one label are numbered (``x``, ``x-2``).

    Notation: concatenation by space, ``/`` between alternatives (ordered, as the
    choice tries them), ``*x``, ``1*x``, ``n*mx``, ``nx`` (exactly n), ``[ x ]``
    (optional), ``( )`` for grouping. Literals are quoted: ``"..."`` (case-insensitive,
    or without letters), ``%s"..."`` when case matters, ``%x0D.0A`` or core names (CR,
    LF, SP, HTAB, DQUOTE) for other bytes; ``take(n)`` is ``nOCTET``. A byte class is an
    alternation of characters, ``%x41-5A`` ranges and RFC 5234 core rules (DIGIT, ALPHA,
    HEXDIG, VCHAR ...), whichever is shortest; the core rules used are defined at the end.
    `map`, `result` and `consumed` do not show. What a grammar cannot show statically is
    prose (RFC 5234 prose-val): ``<bind f: depends on the value>``, ``<generate f:
    depends on the values>``, ``<try_map f: may reject the value>`` after its parser,
    ``<commit>``, ``<end of input>``, ``<position>``; and the prefixes ``<followed by:>``,
    ``<not followed by:>`` (`lookahead`, `not_followed_by`) and ``<isolate n bytes:>``
    (`isolate`) apply to the element after them.

    Never fails and never runs the parser; it walks the grammar with explicit stacks, so
    any nesting depth is fine. Returns the text, ending with a newline.

        >>> from wirekit.combinators import describe, take_while1, char
        >>> print(describe(take_while1(b"0123456789").desc("digits") << char(b";")), end="")
        grammar = digits ";"
        digits = 1*DIGIT
        <BLANKLINE>
        ; core rules (RFC 5234, appendix B.1)
        DIGIT = %x30-39
    """
    g = grammar(p, name, names)
    text = "\n".join(rule_text(n, body, g.names) for n, body in g.rules.items())
    cores = _cores_used(g.rules)
    if cores:
        text += "\n\n; core rules (RFC 5234, appendix B.1)\n"
        text += "\n".join(f"{n} = {CORE[n][1]}" for n in cores)
    return text + "\n"


def railroad(
    p: Parser[Any], name: str | None = None, *, names: Mapping[str, Parser[Any]] | None = None
) -> dict[str, str]:
    """Railroad diagrams of ``p``'s grammar: one standalone SVG document per rule, keyed by
    rule name, in `describe`'s order and with its rules (same ``name`` and ``names``).

    A reference to another rule is a box linking to ``#<rule name in lower case>`` (the
    anchor a page heading of that name gets). Sub-trees nested more than 100 levels deep
    in one rule are drawn as a "nested too deeply" box.

    Needs the optional ``railroad-diagrams`` package (``pip install
    'wirekit-combinators[diagrams]'``); raises `ImportError` saying so without it.
    """
    from ._railroad import render

    g = grammar(p, name, names)
    return {n: render(body, g.names) for n, body in g.rules.items()}
