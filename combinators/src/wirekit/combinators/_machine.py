"""The interpreter: an explicit stack of frames, so nesting costs heap, not C stack.

Every parser node implements ``enter(m)``. It reads its start position from ``m.pos`` and
either finishes at once (sets ``m.ok``, ``m.pos``, ``m.value`` and returns ``None``), or
pushes a frame onto ``m.stack`` and returns the next node to enter (a tail call when it
pushes nothing), or raises `Suspend` when it needs bytes that have not arrived yet.
When a node finishes, the loop pops the top frame and calls ``frame.resume(m)``, which
follows the same protocol. Suspending is just returning with the stack intact.

Positions are indexes into the current buffer (``m.buf``), whose readable part ends at
``m.lim``. ``m.base`` converts them to absolute stream offsets. When the caller re-presents
the input with committed bytes dropped, every stored position is shifted (`Machine.rebase`).

**The direct form.** Most of a parse never suspends, so nodes also have ``go(m)``, which
runs the node to its end by calling its children's ``go``: the same registers, failure
records, replay log and order of user calls as ``enter`` and its frames, without the
frames or the trips through the loop. `Machine.run` runs nodes that way, and so does
`Machine.run_direct` for complete input. A node that must wait for input raises `Suspend`
as ever; on its way out through the ``go`` calls it was made in, each node adds the
frame, with its state, that it would have had on the stack, and the machine puts them
there (`Machine.go_from_stack`): the parse resumes from frames. Where ``go`` cannot go on
by itself on incomplete input (a fused block's general form, a node without a direct
form or nested past `DIRECT_DEPTH`) it raises `Handoff`, the same way, and the machine
enters that node at once. The direct form is never used with a tracer or in a
diagnostic re-run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._parser import Parser

__all__ = [
    "DIRECT",
    "DIRECT_DEPTH",
    "NOPOS",
    "RUNNING",
    "Frame",
    "Handoff",
    "Machine",
    "Marks",
    "NoReplay",
    "Suspend",
]

# How many parses are running right now (a hint for the compiler, see `Parser._rt`; a
# race between threads only changes what gets fused, never a result).
RUNNING = [0]

# An immutable linked list of `desc` labels, innermost first: (label, outer, absolute
# offset where the labelled parser began) or None.
Marks = tuple[str, Any, int] | None

# The machine's records are plain tuples, not NamedTuples: they are made on the hot path
# (a fused loop notes its last success per item), where a NamedTuple's Python-level
# ``__new__`` would cost. Read by unpacking (`commit` alone reads ``last_ok[0]``, its
# position, on its way in).
# (where it matched, the fused node, the marks there): the last fused success.
LastOk = tuple[int, Any, Marks]
# (where, the choice, the marks there, the alternatives tried): a dispatch's skip.
Skipped = tuple[int, Any, Marks, tuple[Any, ...]]


def shift_last_ok(last_ok: LastOk | None, delta: int) -> LastOk | None:
    """``last_ok`` with its position moved by ``delta`` (see `Machine.rebase`)."""
    if last_ok is None:
        return None
    pos, node, marks = last_ok
    return (pos + delta, node, marks)


def shift_skipped(skipped: Skipped | None, delta: int) -> Skipped | None:
    """``skipped`` with its position moved by ``delta`` (see `Machine.rebase`)."""
    if skipped is None:
        return None
    pos, node, marks, tried = skipped
    return (pos + delta, node, marks, tried)

# How many composite nodes may be open in the direct form (each is a Python call; a
# recursive grammar nests them once per level of its input) before the rest of the parse
# below that point runs on the machine's stack. Every composite ``go`` opens with the same
# four lines that count this, and builds its frame in the same few lines when suspended,
# written out in each: a shared helper is one more Python call per node on the hottest
# path (measured for the depth check on two node kinds: +4.6 % instructions, natural JSON).
DIRECT_DEPTH = 100
# What a nested run of the machine counts for in that bound (its Python calls).
_NESTED_COST = 4
# Whether parses use the direct form at all: the tests switch it off to run the same
# inputs on the stack form alone and compare (`tests/combinators/helpers.stack_form`).
DIRECT = [True]

# "No failure yet": far below any position, and still so after shifting.
NOPOS = -(1 << 60)

# How many distinct expectations are kept for the furthest failure position.
_MAX_EXPECTED = 32

# Up to how many bytes `Machine.take` copies a bytearray's slice (twice) rather than
# make a memoryview to copy once.
_SMALL_TAKE = 4096


class Suspend(Exception):
    """Raised by a node that needs more input; the node is re-entered on resume.

    On its way out through nodes running in the direct form it collects their frames,
    innermost first, in ``frames``: the machine puts them on its stack (`Machine.run`),
    where the stack form would have had them."""

    __slots__ = ("frames", "node")

    def __init__(self, node: Parser[Any]) -> None:
        self.node = node
        self.frames: list[Frame] = []


class Handoff(Suspend):
    """Raised in the direct form where it cannot go on by itself on input that may be
    incomplete (a fused block that must run its general form, a node too deep or without
    a direct form): the machine enters ``node`` on its stack next, without waiting."""

    __slots__ = ()


class NoReplay(Exception):
    """A diagnostic re-run reached user code the first run did not record (it then gives
    up rather than call the function a second time)."""


class Frame:
    """A pending continuation on the machine's stack.

    ``start`` is the buffer position the frame may return to (0 when it has none); it is
    the one field `Machine.rebase` shifts.
    """

    __slots__ = ("start",)

    start: int

    def resume(self, m: Machine) -> Parser[Any] | None:
        """Receive the result of the node run for this frame (in ``m``'s registers)."""
        raise NotImplementedError


class Machine:
    """The registers, the stack and the failure record of one running parse."""

    __slots__ = (
        "base",
        "buf",
        "commit_pos",
        "commits",
        "complete",
        "diag",
        "err_list",
        "err_pos",
        "general",
        "hint",
        "in_complete",
        "in_lim",
        "last_ok",
        "lim",
        "log",
        "marks",
        "need_bytes",
        "nesting",
        "nl_count",
        "nl_last",
        "nl_upto",
        "ok",
        "origin",
        "pos",
        "quiet",
        "replays",
        "root",
        "skipped",
        "stack",
        "tdepth",
        "trace",
        "value",
        "windows",
    )

    def __init__(self, buf: Any, pos: int, lim: int, complete: bool, diag: bool = False) -> None:
        self.buf = buf
        self.need_bytes = type(buf) is not bytes
        self.pos = pos
        self.lim = lim
        self.complete = complete
        self.base = -pos
        self.value: Any = None
        self.ok = True
        self.stack: list[Frame] = []
        self.commit_pos = pos
        self.commits = 0  # how many commits ran (`consumed` must see none inside it)
        # Where and with what the parse started: without commits, the input from there
        # is still at hand, so a failed parse can be re-run exactly to explain itself.
        self.origin = pos
        self.root: Parser[Any] | None = None
        # A greedy loop that suspended remembers how far its run was already checked,
        # so input arriving byte by byte is scanned once, not again from the start:
        # (node, start position, checked up to).
        self.hint: tuple[Any, int, int] | None = None
        self.err_pos = NOPOS
        self.err_list: list[tuple[Parser[Any], Marks]] = []
        self.marks: Marks = None
        # For error reports: the last fused block that succeeded (its inner failures are
        # not recorded on the fast path) and the last choice that skipped alternatives by
        # their first byte: (position, node, marks[, alternatives tried]).
        self.last_ok: LastOk | None = None
        self.skipped: Skipped | None = None
        # In diagnostic mode fused regular parsers run their general form so that
        # failures are recorded at the exact byte (used to refine the final error).
        self.diag = diag
        # > 0 while the general form of a fused block runs: its functions are not called
        # (the block's match computes its value once it has succeeded, see `_ScopeFrame`).
        self.quiet = 0
        # A tracer (see `_trace`) and how many traced rules are open; with a tracer the
        # parse runs in its general form (``Fused.enter``, dispatch and loop fast paths
        # test ``general``).
        self.trace: Any = None
        self.tdepth = 0
        # ``diag or trace is not None``, kept in one register: the fast paths test it on
        # every fused block, dispatch and loop (see `set_trace`).
        self.general = diag
        # Line counting for errors, over input that is released before a failure is
        # reported: newlines before absolute offset ``nl_upto``, and where the last was.
        self.nl_count = 0
        self.nl_last = -1
        self.nl_upto = 0
        # What user functions did, so that the diagnostic re-run of a failed parse
        # (`_running.error_of`) replays `bind`, `generate` and `try_map` instead of calling
        # them twice: one flat list of (node, absolute start, record) triples, in the order
        # the runs began (`logged` indexes it when a re-run first needs it; the last entry
        # for a node and start wins). Only kept until the first commit: after it there is
        # no re-run. (Appending three items is the cheapest record measured: a dict per
        # node keyed by start cost 4 % more on a JSON grammar of generators, one dict keyed
        # by (node, start) tuples 10 % more, each tuple tracked by the cyclic collector.)
        self.log: list[Any] | None = None if diag else []
        self.replays: dict[tuple[Any, int], Any] | None = None
        # `isolate` windows: absolute ends, innermost (smallest) last. While any is open,
        # ``lim``/``complete`` describe the window and ``in_lim``/``in_complete`` the
        # caller's input; see `open_window`.
        self.windows: list[int] | None = None
        self.in_lim = lim
        self.in_complete = complete
        # How many composite nodes are open in the direct form (see `run_direct`); at
        # DIRECT_DEPTH from the start when the direct form is off, which keeps it off.
        self.nesting = 0 if DIRECT[0] else DIRECT_DEPTH

    def set_trace(self, trace: Any) -> None:
        """Install a tracer (or ``None``): the parse then runs in its general form."""
        self.trace = trace
        self.general = self.diag or trace is not None

    # -- isolate windows ----------------------------------------------------------------
    def open_window(self, n: int) -> None:
        """Limit the input to the next ``n`` bytes (nested windows only shrink)."""
        end = self.pos + self.base + n
        ws = self.windows
        if ws is None:
            self.in_lim, self.in_complete = self.lim, self.complete
            self.windows = ws = []
        elif ws[-1] < end:
            end = ws[-1]
        ws.append(end)
        self._apply_window()

    def close_window(self) -> None:
        """Undo the innermost `open_window`."""
        ws = self.windows
        assert ws
        ws.pop()
        self._apply_window()

    def _apply_window(self) -> None:
        ws = self.windows
        if not ws:
            self.windows = None
            self.lim, self.complete = self.in_lim, self.in_complete
            return
        end = ws[-1] - self.base
        if end <= self.in_lim:
            self.lim, self.complete = end, True
        else:
            self.lim, self.complete = self.in_lim, self.in_complete

    def set_complete(self, complete: bool) -> None:
        """The caller says whether its input has ended (windows stay in force)."""
        if self.windows is None:
            self.complete = complete
        else:
            self.in_complete = complete
            self._apply_window()

    def drop_windows(self) -> None:
        """The parse is over: ``lim``/``complete`` describe the caller's input again."""
        if self.windows is not None:
            self.windows.clear()
            self._apply_window()

    def run(self, node: Parser[Any] | None) -> Parser[Any] | None:
        """Run until the stack is empty (returns ``None``) or a node suspends.

        On suspension returns the node to re-enter once more input arrived.
        """
        stack = self.stack
        pop = stack.pop
        RUNNING[0] += 1
        try:
            while True:
                while node is not None:
                    if self.general or self.quiet or self.nesting >= DIRECT_DEPTH:
                        node = node.enter(self)
                    else:
                        node = self.go_from_stack(node)
                if not stack:
                    return None
                node = pop().resume(self)
        except Suspend as s:
            return s.node
        finally:
            RUNNING[0] -= 1

    def go_from_stack(self, node: Parser[Any]) -> Parser[Any] | None:
        """Run ``node`` in the direct form for the loop of `run`. If it suspends, the
        frames of the nodes it was in go on the stack and the suspension goes on; on a
        `Handoff`, the node handed over is entered here and its continuation returned."""
        stack = self.stack
        below = len(stack)
        depth = self.nesting
        try:
            node.go(self)
            return None
        except Suspend as s:
            self.nesting = depth
            frames = s.frames
            if frames:
                # Below anything pushed by the nodes they were running: those are inner.
                frames.reverse()
                stack[below:below] = frames
                s.frames = []
            if type(s) is Handoff:
                return s.node.enter(self)
            raise

    def run_direct(self, node: Parser[Any]) -> None:
        """Run ``node`` to its end in the direct form (see the module docstring): the
        input must be complete and no tracer installed. The result is in the registers."""
        if self.nesting >= DIRECT_DEPTH:
            self.run_nested(node)  # (the direct form is off)
            return
        RUNNING[0] += 1
        try:
            node.go(self)
        finally:
            RUNNING[0] -= 1

    def run_nested(self, node: Parser[Any]) -> None:
        """Run ``node`` to its end on a stack of its own (a direct-form node that has no
        direct form, or is nested too deep for one): complete input never suspends. On
        input that may be incomplete, hand ``node`` over to the machine's own stack."""
        if not self.complete:
            raise Handoff(node)  # the stack form can suspend; this run could not
        outer = self.stack
        self.stack = []
        depth = self.nesting
        # The Python calls this takes count towards the bound on the direct form's depth
        # (below the bound, this run's loop runs nodes in the direct form again).
        self.nesting = depth + _NESTED_COST
        try:
            rest = self.run(node)
            assert rest is None, "suspended on complete input"
        finally:
            self.stack = outer
            self.nesting = depth

    def logged(self, node: Parser[Any], start: int) -> Any:
        """In a diagnostic re-run: what ``node``'s user function did at buffer position
        ``start`` in the first run. Raises `NoReplay` if it did not run there."""
        replays = self.replays
        if replays is None:
            log = self.log
            if log is None:
                raise NoReplay
            # (A run logs when it begins, so a run nested in another of the same node at
            # the same start, an `isolate` window, say, comes later and wins there.)
            replays = self.replays = {(log[i], log[i + 1]): log[i + 2] for i in range(0, len(log), 3)}
        try:
            return replays[node, start + self.base]
        except KeyError:
            raise NoReplay from None

    def note(self, pos: int, node: Parser[Any]) -> None:
        """Record an expectation at ``pos`` without failing (as `fail` would)."""
        self.record(pos, (node, self.marks))

    def record(self, pos: int, rec: tuple[Parser[Any], Marks]) -> None:
        """Keep ``rec`` (an expectation and its labels) if ``pos`` is the furthest yet."""
        if pos >= self.err_pos:
            if pos > self.err_pos:
                self.err_pos = pos
                self.err_list = [rec]
            elif len(self.err_list) < _MAX_EXPECTED:
                self.err_list.append(rec)

    def fail(self, pos: int, node: Parser[Any]) -> None:
        """Fail at ``pos`` and remember ``node``'s expectation if this is the furthest."""
        self.ok = False
        if pos >= self.err_pos:
            if pos > self.err_pos:
                self.err_pos = pos
                self.err_list = [(node, self.marks)]
            elif len(self.err_list) < _MAX_EXPECTED:
                self.err_list.append((node, self.marks))

    def diagnose(self, node: Any, pos: int, marks: Marks) -> tuple[int, list[tuple[Parser[Any], Marks]]]:
        """Re-run a fused block's general form from ``pos``, recording every failure
        (the fast path records none); returns the furthest position and its records."""
        d = Machine(self.buf, pos, self.lim, self.complete, diag=True)
        d.base = self.base  # absolute offsets (labels record where they began) as ours
        d.marks = marks
        d.log = self.log
        try:
            d.run(node.orig)
        except Exception:
            return NOPOS, []
        return d.err_pos, d.err_list

    def settle_last_ok(self) -> None:
        """Before a commit releases its bytes, fold the failures recorded inside the last
        fused success into the failure record (they may lie at or after the commit, so
        they can still be the furthest). Only needed when it looked past its end."""
        start, node, marks = self.last_ok  # type: ignore[misc]
        self.last_ok = None
        if node.k:
            pos, records = self.diagnose(node, start, marks)
            for rec in records:
                self.record(pos, rec)

    def count_lines(self, upto: int) -> None:
        """Count the newlines of the input up to buffer position ``upto`` (called before
        released bytes go, and for an error's line and column)."""
        start = self.nl_upto - self.base
        if upto <= start:
            return
        buf = self.buf
        if type(buf) is memoryview:
            buf = bytes(buf[start:upto])
            start, end = 0, len(buf)
        else:
            end = upto
        n = buf.count(b"\n", start, end)
        if n:
            self.nl_count += n
            self.nl_last = buf.rfind(b"\n", start, end) + (upto - end) + self.base
        self.nl_upto = upto + self.base

    def line_column(self, pos: int) -> tuple[int, int]:
        """The 1-based line and column of buffer position ``pos``."""
        self.count_lines(pos)
        return self.nl_count + 1, pos + self.base - self.nl_last

    def take(self, start: int, end: int) -> bytes:
        """The input between two positions, as `bytes`."""
        if self.need_bytes:
            if end - start <= _SMALL_TAKE:
                # Slicing a bytearray copies twice, but for a field that costs less than
                # making a memoryview (measured: 1.7k against 3.1k instructions).
                return bytes(self.buf[start:end])
            return bytes(memoryview(self.buf)[start:end])  # one copy
        return self.buf[start:end]  # type: ignore[no-any-return]

    def rebase(self, buf: Any, off: int, lim: int, dropped_to: int) -> None:
        """Continue on a new buffer whose index ``off`` holds old position ``dropped_to``."""
        delta = off - dropped_to
        self.buf = buf
        self.need_bytes = type(buf) is not bytes
        self.lim = lim
        if self.windows is not None:
            self.in_lim = lim
        if delta:
            self.pos += delta
            self.base -= delta
            self.commit_pos += delta
            self.origin += delta
            self.err_pos += delta
            for frame in self.stack:
                frame.start += delta
            self.last_ok = shift_last_ok(self.last_ok, delta)
            self.skipped = shift_skipped(self.skipped, delta)
            if self.hint is not None:
                node, p, upto = self.hint
                self.hint = (node, p + delta, upto + delta)
        if self.windows is not None:
            self._apply_window()

    def absolute(self, pos: int) -> int:
        """The absolute stream offset of a buffer position."""
        return pos + self.base
