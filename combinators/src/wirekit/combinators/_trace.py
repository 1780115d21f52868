"""Watching a parse: events for each labelled rule (`Parser.desc`) as the parse runs.

``parse(p, data, trace=callback)`` (and the same keyword on `Buffered.parse`,
`Unbuffered.parse` and `parse_prefix`) calls ``callback`` with a `TraceEvent` when a
labelled rule is entered, when it succeeds (with its span and value) and when it fails
(with what was expected). A traced parse runs every rule in its general form, byte by
byte (no fused patterns, no first-byte dispatch), so the events are the same however
the input is split, across chunk boundaries and commits. With no tracer nothing changes:
a label costs one test of an attribute.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Literal

from ._choice import spelled_out
from ._errors import show_bytes
from ._machine import Frame, Machine

__all__ = ["TraceEvent", "Tracer", "print_trace"]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One step of a traced parse.

    Attributes:
        kind: ``"enter"``, ``"success"`` or ``"failure"``.
        label: the rule's label (its `Parser.desc`).
        start: the absolute offset where the rule began.
        end: on success, the absolute offset after its match; else `None`.
        value: on success, the rule's value; else `None`.
        at: on failure, the absolute offset of the furthest failure inside it.
        expected: on failure, what was expected there (possibly empty).
        depth: how many labelled rules enclose this one.
    """

    kind: Literal["enter", "success", "failure"]
    label: str
    start: int
    end: int | None = None
    value: Any = None
    at: int | None = None
    expected: tuple[str, ...] = ()
    depth: int = 0


Tracer = Callable[[TraceEvent], None]
"""What the ``trace`` keyword takes: a function called with each `TraceEvent`."""


def print_trace(file: IO[str] | None = None, width: int = 60) -> Tracer:
    """A tracer that prints the parse as an indented tree, one line per event::

        request-line @0
          method @0
          method @0-3 = b'GET'
          ...

    Values are shown with `repr`, cut to ``width`` characters. Prints to ``file``
    (standard output by default).
    """

    def show(event: TraceEvent) -> None:
        out = file if file is not None else sys.stdout
        indent = "  " * event.depth
        if event.kind == "enter":
            line = f"{event.label} @{event.start}"
        elif event.kind == "success":
            text = repr(event.value)
            if isinstance(event.value, bytes):
                text = show_bytes(event.value)
            if len(text) > width:
                text = text[: width - 3] + "..."
            line = f"{event.label} @{event.start}-{event.end} = {text}"
        else:
            what = ", ".join(event.expected) or "no match"
            line = f"{event.label} @{event.start} failed at {event.at}: expected {what}"
        print(indent + line, file=out)

    return show


def trace_enter(label: str, m: Machine) -> Frame:
    """Report entering a labelled rule; returns the frame that reports how it ended."""
    f = _TracedFrame()
    f.start = m.pos
    f.saved = m.marks
    f.label = label
    f.depth = depth = m.tdepth
    m.tdepth = depth + 1
    m.trace(TraceEvent("enter", label, m.pos + m.base, depth=depth))
    return f


class _TracedFrame(Frame):
    __slots__ = ("depth", "label", "saved")

    saved: Any
    label: str
    depth: int

    def resume(self, m: Machine) -> None:
        m.marks = self.saved
        m.tdepth = self.depth
        start = self.start + m.base
        trace = m.trace
        assert trace is not None
        if m.ok:
            trace(TraceEvent("success", self.label, start, m.pos + m.base, m.value, depth=self.depth))
        else:
            inside = m.err_pos >= self.start
            expected = tuple(dict.fromkeys(n.expected() for n, _ in spelled_out(m.err_list))) if inside else ()
            at = m.err_pos + m.base if inside else start
            trace(TraceEvent("failure", self.label, start, at=at, expected=expected, depth=self.depth))
        return None
