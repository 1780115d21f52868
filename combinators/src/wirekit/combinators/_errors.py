"""Parse errors: the furthest failure, the labels around it and what was expected there."""

from __future__ import annotations

__all__ = ["ParseError"]


class ParseError(Exception):
    """A parse failed.

    Attributes:
        position: absolute byte offset (from the start of the stream) of the furthest
            failure seen, the parsy convention.
        marks: the `Parser.desc` labels enclosing that failure, outermost first
            (Angstrom's mark stack).
        expected: what would have been accepted at `position`, in the order tried.
        line: the 1-based line of `position` (lines end with ``\n``), counted over the
            whole stream, committed input included.
        column: the 1-based column of `position` in bytes from the start of its line.
        message: the rendered text, e.g. ``at offset 17 (line 2, column 5): expected ':'
            (in header > name)``; the line and column are shown when the input had a
            newline before the failure.
    """

    def __init__(
        self,
        position: int,
        expected: list[str],
        marks: list[str],
        line: int = 1,
        column: int | None = None,
    ) -> None:
        self.position = position
        self.expected = expected
        self.marks = marks
        self.line = line
        self.column = position + 1 if column is None else column
        self.message = render(position, expected, marks, line, self.column)
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[ParseError], tuple[int, list[str], list[str], int, int]]:
        return (ParseError, (self.position, self.expected, self.marks, self.line, self.column))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ParseError)
            and other.position == self.position
            and other.expected == self.expected
            and other.marks == self.marks
            and other.line == self.line
            and other.column == self.column
        )

    def __hash__(self) -> int:
        return hash((self.position, tuple(self.expected), tuple(self.marks)))


def render(position: int, expected: list[str], marks: list[str], line: int = 1, column: int = 0) -> str:
    """Render an error as one line of text."""
    if not expected:
        what = "parse failed"
    elif len(expected) == 1:
        what = "expected " + expected[0]
    else:
        what = "expected one of " + ", ".join(expected)
    where = f" (in {' > '.join(marks)})" if marks else ""
    at = f" (line {line}, column {column})" if line > 1 else ""
    return f"at offset {position}{at}: {what}{where}"


def show_bytes(data: bytes) -> str:
    """Show bytes the way users write them in a grammar: ``'HTTP/'``, ``'\\r\\n'``."""
    return repr(data)[1:]


def show_class(table: bytes) -> str:
    """Describe a 256-entry membership table compactly, e.g. ``[0-9a-f]``."""
    members = [i for i in range(256) if table[i]]
    if not members:
        return "[]"
    if len(members) == 256:
        return "any byte"
    negate = len(members) > 128
    if negate:
        members = [i for i in range(256) if not table[i]]
    parts: list[str] = []
    start = prev = members[0]
    for b in [*members[1:], -2]:
        if b == prev + 1:
            prev = b
            continue
        lo, hi = _show1(start), _show1(prev)
        if prev == start:
            parts.append(lo)
        elif prev == start + 1:
            parts.append(lo + hi)
        else:
            parts.append(f"{lo}-{hi}")
        start = prev = b
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _show1(b: int) -> str:
    text = repr(bytes([b]))[2:-1]
    return "\\-" if text == "-" else "\\]" if text == "]" else text
