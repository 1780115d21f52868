"""Ordered choice (`_Choice`): PEG choice with Angstrom's cut, dispatched on the next byte
when the compiler could build a table; and the failure records a choice leaves.

Import `_Choice` from here; ``p | q`` reaches it through `_parser.ABOVE`.
"""

from __future__ import annotations

from typing import Any

from ._machine import DIRECT_DEPTH, Frame, Machine, Suspend
from ._parser import ABOVE, INLINE_DEPTH, Parser, compiled, made_while_parsing

__all__ = ["_Choice", "either", "spelled_out"]


class _Choice(Parser[Any]):
    """PEG ordered choice with Angstrom's cut: alternatives that began before a `commit`
    are not tried. ``table`` (set by the compiler) maps the next byte (or 256 for the end
    of input) to the alternatives that can start with it."""

    __slots__ = ("alternatives", "compiled_parts", "depth", "inl", "msg", "table")

    def __init__(self, alternatives: tuple[Parser[Any], ...], msg: str | None) -> None:
        super().__init__()
        self.alternatives = alternatives
        self.msg = msg
        self.compiled_parts: tuple[Parser[Any], ...] = ()
        self.table: list[tuple[Parser[Any], ...]] | None = None
        self.inl = False
        self.depth = 0

    def children(self) -> tuple[Parser[Any], ...]:
        return self.alternatives

    def link(self) -> None:
        self.compiled_parts = tuple(compiled(p) for p in self.alternatives)
        table = None if self._rt else ABOVE.dispatch_table(self.alternatives, self.compiled_parts)
        if table is not None:
            # Entries naming every alternative are `compiled_parts` itself: `enter` tells a cut by
            # identity.
            parts = self.compiled_parts
            table = [parts if t == parts else t for t in table]
        self.table = table
        # A choice enters at most one alternative itself (the only candidate, when that
        # one may be entered directly), so it may be entered directly too, a bounded
        # number of levels deep.
        depth = 1 + max((c.depth for c in self.compiled_parts if c.inl), default=0)
        if depth <= INLINE_DEPTH:
            self.inl, self.depth = True, depth

    def enter(self, m: Machine) -> Parser[Any] | None:
        pos = m.pos
        table = self.table
        cands: tuple[Parser[Any], ...]
        if table is not None and not m.general:
            if pos < m.lim:
                cands = table[m.buf[pos]]
            elif m.complete:
                cands = table[256]
            else:
                raise Suspend(self)
            if cands is not self.compiled_parts:  # (entries naming every alternative are `compiled_parts`)
                # The others cannot start with this byte; say so if the parse fails here.
                m.skipped = (pos, self, m.marks, cands)
        else:
            cands = self.compiled_parts
        n = len(cands)
        if not n:
            self.none_can_start(m, pos)
            return None
        if n == 1:
            # Only one alternative can match: a tail call (a primitive is entered here,
            # saving a trip through the machine loop).
            c = cands[0]
            return c.enter(m) if c.inl else c
        m.stack.append(self.frame_at(pos, cands, 0))
        return cands[0]

    def go(self, m: Machine) -> None:
        depth = m.nesting
        if depth >= DIRECT_DEPTH:
            m.run_nested(self)
            return
        pos = m.pos
        table = self.table
        cands: tuple[Parser[Any], ...]
        if table is not None:  # (never with a tracer: see `Machine.run`)
            if pos < m.lim:
                cands = table[m.buf[pos]]
            elif m.complete:
                cands = table[256]
            else:
                raise Suspend(self)
            if cands is not self.compiled_parts:
                m.skipped = (pos, self, m.marks, cands)
        else:
            cands = self.compiled_parts
        if not cands:
            self.none_can_start(m, pos)
            return
        m.nesting = depth + 1
        if len(cands) == 1:
            # A tail call, as in `enter`: no frame, so the one candidate's error stands
            # (a label's own message replaces only errors of alternatives it tried).
            cands[0].go(m)
            m.nesting = depth
            return
        i = 0  # (the alternative running, for a suspension's frame)
        try:
            for c in cands:
                m.pos = pos
                c.go(m)
                if m.ok or pos < m.commit_pos:
                    m.nesting = depth
                    return  # success, or a commit inside the branch cut the alternatives
                i += 1
        except Suspend as s:
            s.frames.append(self.frame_at(pos, cands, i))
            raise
        m.nesting = depth
        if self.msg is not None and m.err_pos <= pos:
            _replace(m, pos, self)

    def frame_at(self, pos: int, cands: tuple[Parser[Any], ...], i: int) -> _ChoiceFrame:
        """The frame of this choice at ``pos``, trying alternative ``i`` of ``cands``."""
        f = _ChoiceFrame()
        f.start = pos
        f.node = self
        f.alts = cands
        f.i = i
        return f

    def none_can_start(self, m: Machine, pos: int) -> None:
        """Fail at ``pos``, where no alternative can start."""
        if self.msg is None:
            # One record for all the alternatives (the report names each of them, see
            # `_running.error_of`): a loop's last iteration often ends here.
            m.fail(pos, self)
        else:
            m.ok = False
            if m.err_pos <= pos:
                _replace(m, pos, self)  # its label replaces what they expected

    def expected(self) -> str:
        if self.msg is not None:
            return self.msg
        return " or ".join(p.expected() for p in self.alternatives) or "nothing"


class _ChoiceFrame(Frame):
    __slots__ = ("alts", "i", "node")

    node: _Choice
    alts: tuple[Parser[Any], ...]
    i: int

    def resume(self, m: Machine) -> Parser[Any] | None:
        if m.ok or self.start < m.commit_pos:
            return None  # success, or a commit inside the branch cut the alternatives
        i = self.i + 1
        if i < len(self.alts):
            self.i = i
            m.pos = self.start
            m.stack.append(self)
            return self.alts[i]
        if self.node.msg is not None and m.err_pos <= self.start:
            # No alternative got past the start: the choice's own message replaces theirs.
            _replace(m, self.start, self.node)
        return None


def spelled_out(records: list[tuple[Parser[Any], Any]]) -> list[tuple[Parser[Any], Any]]:
    """Failure records with each choice that failed as a whole (no alternative could
    start, see `_Choice.enter`) replaced by a record for each of its alternatives."""
    out: list[tuple[Parser[Any], Any]] = []
    for node, marks in records:
        if type(node) is _Choice and node.msg is None and node.alternatives:
            out.extend((alt, marks) for alt in node.alternatives)
        else:
            out.append((node, marks))
    return out


def _replace(m: Machine, pos: int, node: Parser[Any]) -> None:
    """Make ``node`` the only expectation at ``pos`` (a choice's ``failure_msg``)."""
    m.err_pos = pos
    m.err_list = [(node, m.marks)]
    if m.skipped is not None:
        skipped_at, _, _, _ = m.skipped
        if skipped_at >= pos:
            m.skipped = None
    if m.last_ok is not None:
        ok_at, _, _ = m.last_ok
        if ok_at >= pos:
            m.last_ok = None


def either(left: Parser[Any], right: Parser[Any]) -> Parser[Any]:
    """``left | right``: one choice of both sides' alternatives (a labelled choice is kept
    as one alternative: its label must still name it)."""
    lefts = left.alternatives if isinstance(left, _Choice) and left.msg is None else (left,)
    rights = right.alternatives if isinstance(right, _Choice) and right.msg is None else (right,)
    alts = (*lefts, *rights)
    return made_while_parsing(("choice", alts, None), lambda: _Choice(alts, None))


ABOVE.either = either
