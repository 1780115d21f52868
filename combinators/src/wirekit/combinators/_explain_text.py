"""The text of an `explain` report (see `Explanation.render`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._explain import ExplainedNode

__all__ = ["render_report", "show_pattern"]


# --------------------------------------------------------------------------------
def _bound(v: int | None) -> str:
    return "unbounded" if v is None else str(v)


def show_pattern(pattern: bytes, width: int | None) -> str:
    """Pattern text for people: escaped control bytes as ``\\r``, others as ``\\xNN``."""
    out: list[str] = []
    i = 0
    named = {9: "\\t", 10: "\\n", 13: "\\r"}
    while i < len(pattern):
        b = pattern[i]
        if b == 0x5C and i + 1 < len(pattern) and not 0x20 <= pattern[i + 1] < 0x7F:
            i += 1  # `\<CR>` as the regular expression `\r`: the same meaning, readable
            b = pattern[i]
        if 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(named.get(b, f"\\x{b:02x}"))
        i += 1
    text = "".join(out)
    if width is not None and len(text) > width:
        text = text[: max(width - 3, 0)] + "..."
    return text


def _head(node: ExplainedNode) -> str:
    if node.kind == "reference":
        return f"#{node.number} -> {node.text}"
    if node.fused:
        what = f'"{node.label}"' if node.label is not None else f"(expects {node.text})"
        groups = f"{node.groups} group" + ("" if node.groups == 1 else "s")
        return f"#{node.number} fused {what}: one pattern, {groups}"
    if node.label is not None:
        name = f'"{node.label}"'
    elif node.text:
        name = f"({node.text})"
    else:
        name = ""
    line = f"#{node.number} {node.kind} {name}".rstrip()
    if node.reason is not None:
        line += f" -- {node.reason}"
    elif node.kind == "primitive" and node.notes:
        line += " -- " + "; ".join(node.notes)  # one line for a leaf
    return line


def _details(node: ExplainedNode, width: int | None) -> list[str]:
    lines: list[str] = []
    if node.fused and node.pattern is not None:
        probe = ", with a boundary probe" if node.probe else ""
        lines.append(f"reach {_bound(node.reach)}, k {_bound(node.k)}{probe}")
        if node.labels:
            lines.append("labels inside: " + ", ".join(node.labels))
        lines.append(f"pattern ({len(node.pattern)} bytes): {show_pattern(node.pattern, width)}")
    if node.dispatch:
        rows = []
        for route in node.dispatch:
            where = route.byte_class
            if route.at_end:
                where = f"{where} or end of input" if where else "end of input"
            to = ", ".join(f"#{node.children[i].number}" for i in route.alternatives) or "none (fails)"
            rows.append(f"{where} -> {to}")
        lines.append("dispatch on the next byte: " + "; ".join(rows))
    if node.kind != "primitive":
        lines.extend(node.notes)
    return lines


def render_report(root: ExplainedNode, width: int | None) -> str:
    """The indented text of `Explanation.render`: a summary line, then one entry per
    node (its details indented under it), children indented under their parent."""
    everything = list(root.walk())
    fused = sum(1 for n in everything if n.fused)
    interpreted = [n for n in everything if n.reason is not None]
    if root.fused:
        summary = "the whole parser is one fused pattern"
    else:
        summary = f"{fused} fused pattern{'s' if fused != 1 else ''}, {len(interpreted)} interpreted node{'s' if len(interpreted) != 1 else ''}"
    lines = [summary]
    todo: list[tuple[ExplainedNode, int]] = [(root, 0)]
    while todo:
        node, depth = todo.pop()
        pad = "  " * depth
        lines.append(pad + _head(node))
        lines.extend(pad + "    " + d for d in _details(node, width))
        todo.extend((child, depth + 1) for child in reversed(node.children))
    return "\n".join(lines)
