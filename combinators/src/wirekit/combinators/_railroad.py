"""Railroad diagrams of the intermediate form built by `_describe`, drawn with the optional
``railroad-diagrams`` package (imported only when a diagram is asked for)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._rules import (
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
    class_items,
    literal_items,
)

__all__ = ["MAX_DEPTH", "render"]

MAX_DEPTH = 100
"""Levels of nesting drawn in one diagram: the package lays out recursively."""

_ROW = 5  # class alternatives per row of a long byte class


def _module() -> Any:
    try:
        import railroad  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError(
            "railroad() needs the railroad-diagrams package: "
            "pip install 'wirekit-combinators[diagrams]'"
        ) from exc
    return railroad


def render(body: Node, names: Mapping[int, str]) -> str:
    """One rule's body as a standalone SVG document."""
    rr = _module()
    item = _convert(rr, body, names)
    parts: list[str] = []
    rr.Diagram(item).writeStandalone(parts.append)
    return "".join(parts)


def _convert(rr: Any, body: Node, names: Mapping[int, str]) -> Any:
    """Diagram items for ``body``, built bottom-up with an explicit stack."""
    # Frames: [node, depth, children (None until visited), their converted items].
    stack: list[list[Any]] = [[body, 0, None, []]]
    result: Any = None
    while stack:
        frame = stack[-1]
        node, depth, kids, done = frame
        if kids is None:
            kids = frame[2] = _kids(node) if depth < MAX_DEPTH else ()
        if len(done) < len(kids):
            stack.append([kids[len(done)], depth + 1, None, []])
            continue
        stack.pop()
        item = _item(rr, node, done, names) if depth < MAX_DEPTH else rr.NonTerminal("nested too deeply to draw")
        if stack:
            stack[-1][3].append(item)
        else:
            result = item
    return result


def _kids(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Cat | Alt):
        return node.items
    if isinstance(node, Rep | Look | Within):
        return (node.item,)
    return ()


def _item(rr: Any, node: Node, done: list[Any], names: Mapping[int, str]) -> Any:
    if isinstance(node, Cat):
        return rr.Sequence(*done) if done else rr.Skip()
    if isinstance(node, Alt):
        return rr.Choice(0, *done)
    if isinstance(node, Lit):
        return rr.Terminal(" ".join(literal_items(node.data, node.ci)))
    if isinstance(node, Cls):
        texts = class_items(node.table) or ("<no byte>",)
        if len(texts) <= _ROW:
            return rr.Choice(0, *(rr.Terminal(t) for t in texts)) if len(texts) > 1 else rr.Terminal(texts[0])
        rows = [" / ".join(texts[i : i + _ROW]) for i in range(0, len(texts), _ROW)]
        return rr.Choice(0, *(rr.Terminal(r) for r in rows))
    if isinstance(node, Ref):
        name = names.get(node.key, f"rule-{node.key}")
        return rr.NonTerminal(name, href="#" + name.lower())
    if isinstance(node, Prose):
        return rr.NonTerminal(node.text, cls="prose")
    if isinstance(node, Look):
        return rr.Group(done[0], "not followed by" if node.negate else "followed by")
    if isinstance(node, Within):
        return rr.Group(done[0], f"isolate {node.n} bytes")
    return _repeat(rr, node, done[0])


def _repeat(rr: Any, node: Rep, item: Any) -> Any:
    least, most = node.least, node.most
    if (least, most) == (0, 1):
        return rr.Optional(item)
    if most is None and least <= 1:
        return rr.OneOrMore(item) if least else rr.ZeroOrMore(item)
    if most == least:
        return rr.Group(item, f"{least} times")
    if most is None:
        return rr.Group(rr.OneOrMore(item), f"at least {least} times")
    if least == 0:
        return rr.Optional(rr.Group(rr.OneOrMore(item), f"at most {most} times"))
    return rr.Group(rr.OneOrMore(item), f"{least} to {most} times")
