"""Primitive parsers: single bytes, strings, greedy loops, lookahead, position and commit.

Byte predicates are either a *byte class* (a `bytes` object meaning "any of these bytes")
or a callable on the byte's `int` value. A callable must be a pure function of that value:
it is evaluated once for each of the 256 byte values when the parser is built, and the
resulting table is what runs (and what the compiler turns into a regular expression).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._choice import _Choice
from ._errors import show_bytes, show_class
from ._machine import Machine, Suspend
from ._parser import Parser, _Fail, _intern

__all__ = [
    "BytePredicate",
    "advance",
    "length_error",
    "any_char",
    "at_end_of_input",
    "available",
    "char",
    "commit",
    "end_of_input",
    "end_of_line",
    "not_char",
    "peek_char",
    "peek_char_fail",
    "peek_string",
    "pos",
    "satisfy",
    "scan",
    "skip",
    "skip_while",
    "string",
    "string_ci",
    "take",
    "take_till",
    "take_while",
    "take_while1",
]

BytePredicate = bytes | Callable[[int], bool]
"""A byte class (``b"0123456789"``) or a pure function of the byte's int value."""

# One-byte `bytes` objects, so results share them instead of allocating.
BYTES = [bytes([i]) for i in range(256)]


def byte_table(pred: BytePredicate) -> bytes:
    """Evaluate a predicate into a 256-entry 0/1 membership table."""
    if isinstance(pred, bytes | bytearray):
        table = bytearray(256)
        for b in pred:
            table[b] = 1
        return bytes(table)
    if callable(pred):
        return bytes(1 if pred(i) else 0 for i in range(256))
    raise TypeError(f"a byte predicate is bytes or a callable on int, not {type(pred).__name__}")


def class_regex(table: bytes) -> bytes:
    """A regex character class for a table (``[^\\x00-\\xff]`` when it is empty)."""
    members = [i for i in range(256) if table[i]]
    if not members:
        return rb"[^\x00-\xff]"
    parts: list[bytes] = []
    start = prev = members[0]
    for b in [*members[1:], -2]:
        if b == prev + 1:
            prev = b
            continue
        parts.append(b"\\x%02x" % start if prev == start else b"\\x%02x-\\x%02x" % (start, prev))
        start = prev = b
    return b"[" + b"".join(parts) + b"]"


def _describe(pred: BytePredicate, table: bytes) -> Label:
    if callable(pred) and not isinstance(pred, bytes):
        name = getattr(pred, "__name__", "predicate")
        if name != "<lambda>":
            return f"a byte satisfying {name}"
    return _ClassLabel(table)


class _ClassLabel:
    """A byte class's description, rendered when an error needs it (rendering costs
    more than building the parser, which grammars do at run time)."""

    __slots__ = ("table",)

    def __init__(self, table: bytes) -> None:
        self.table = table

    def __str__(self) -> str:
        return "a byte in " + show_class(self.table)


Label = str | _ClassLabel
"""A primitive's description: text, or a byte class rendered when an error needs it."""


class Satisfy(Parser[Any]):
    """One byte in a class; its value is the byte (1-byte `bytes`), or `None` for `skip`."""

    __slots__ = ("keep", "label", "table")
    leaf = True
    inl = True
    clean = True

    def __init__(self, table: bytes, label: Label, keep: bool = True) -> None:
        super().__init__()
        self.table = table
        self.label = label
        self.keep = keep

    def enter(self, m: Machine) -> None:
        pos = m.pos
        if pos < m.lim:
            b = m.buf[pos]
            if self.table[b]:
                m.pos = pos + 1
                m.value = BYTES[b] if self.keep else None
                m.ok = True
                return None
        elif not m.complete:
            raise Suspend(self)
        m.fail(pos, self)
        return None

    def expected(self) -> str:
        return str(self.label)


class Str(Parser[bytes]):
    """A literal, optionally ASCII-case-insensitive. Fails as soon as a prefix mismatches."""

    __slots__ = ("ci", "folded", "s")
    leaf = True
    inl = True
    clean = True

    def __init__(self, s: bytes, ci: bool) -> None:
        super().__init__()
        self.s = s
        self.ci = ci
        self.folded = s.lower()

    def enter(self, m: Machine) -> None:
        pos = m.pos
        s = self.s
        end = pos + len(s)
        if end <= m.lim:
            if self.ci:
                got = m.take(pos, end)
                if got.lower() == self.folded:
                    m.pos = end
                    m.value = got
                    m.ok = True
                    return None
            elif m.buf[pos:end] == s:
                m.pos = end
                m.value = s
                m.ok = True
                return None
        elif not m.complete:
            got = m.take(pos, m.lim)
            if (self.folded if self.ci else s).startswith(got.lower() if self.ci else got):
                raise Suspend(self)
        m.fail(pos, self)
        return None

    def expected(self) -> str:
        return show_bytes(self.s) + (" (any case)" if self.ci else "")


class TakeWhile(Parser[Any]):
    """The longest run of bytes in a class (at least ``least``); bytes, or `None` to skip."""

    __slots__ = ("keep", "label", "least", "rx", "table")
    leaf = True
    inl = True
    clean = True

    def __init__(self, table: bytes, least: int, keep: bool, label: Label) -> None:
        super().__init__()
        self.table = table
        self.least = least
        self.keep = keep
        self.label = label
        self.rx = re.compile(class_regex(table) + b"*+")

    def enter(self, m: Machine) -> None:
        pos = m.pos
        lim = m.lim
        if pos < lim and not self.table[m.buf[pos]]:
            # An empty run, decided by its first byte: no call into the regex engine,
            # whose fixed cost is many times this test's (runs of whitespace between
            # tokens are often empty).
            if self.least:
                m.fail(pos, self)
            else:
                m.value = b"" if self.keep else None
                m.ok = True
            return None
        start = pos
        hint = m.hint
        if hint is not None:
            hint_node, hint_pos, upto = hint
            if hint_node is self and hint_pos == pos:
                start = upto  # bytes up to there were already found to be members
        end = self.rx.match(m.buf, start, lim).end()  # type: ignore[union-attr]
        if end == lim and not m.complete:
            m.hint = (self, pos, end)
            raise Suspend(self)  # a greedy loop decides only on a non-member byte or EOF
        if end - pos < self.least:
            m.fail(pos, self)
            return None
        m.pos = end
        m.value = m.take(pos, end) if self.keep else None
        m.ok = True
        return None

    def expected(self) -> str:
        return str(self.label)


class Take(Parser[Any]):
    """Exactly ``n`` bytes (`take`), `None` when skipping (`advance`), or without moving
    (`peek_string`)."""

    __slots__ = ("keep", "move", "n")
    leaf = True
    inl = True
    clean = True

    def __init__(self, n: int, keep: bool, move: bool = True) -> None:
        super().__init__()
        if n < 0:
            raise ValueError(f"a byte count must not be negative, got {n}")
        self.n = n
        self.keep = keep
        self.move = move

    def enter(self, m: Machine) -> None:
        pos = m.pos
        end = pos + self.n
        if end <= m.lim:
            if self.move:
                m.pos = end
            m.value = m.take(pos, end) if self.keep else None
            m.ok = True
            return None
        if not m.complete:
            raise Suspend(self)
        m.fail(pos, self)
        return None

    def expected(self) -> str:
        return f"{self.n} more bytes" if self.n != 1 else "1 more byte"


class PeekChar(Parser[Any]):
    """The next byte without consuming it; at the end of input `None` (or a failure)."""

    __slots__ = ("must",)
    leaf = True
    inl = True

    def __init__(self, must: bool) -> None:
        super().__init__()
        self.must = must

    def enter(self, m: Machine) -> None:
        pos = m.pos
        if pos < m.lim:
            m.value = BYTES[m.buf[pos]]
            m.ok = True
        elif not m.complete:
            raise Suspend(self)
        elif self.must:
            m.fail(pos, self)
        else:
            m.value = None
            m.ok = True
        return None

    def expected(self) -> str:
        return "any byte"


class EndOfInput(Parser[Any]):
    """Succeeds at the end of input: with `None` (``test=False``) or tells whether the
    input is at its end (``test=True``, never fails). Both wait for more input to know."""

    __slots__ = ("test",)
    leaf = True
    inl = True

    def __init__(self, test: bool) -> None:
        super().__init__()
        self.test = test

    def enter(self, m: Machine) -> None:
        at_end = m.pos >= m.lim
        if at_end and not m.complete:
            raise Suspend(self)
        if self.test:
            m.value = at_end
            m.ok = True
        elif at_end:
            m.value = None
            m.ok = True
        else:
            m.fail(m.pos, self)
        return None

    def expected(self) -> str:
        return "end of input"


class Query(Parser[int]):
    """``pos`` (absolute offset) or ``available`` (bytes in the current window); both
    succeed at once without consuming."""

    __slots__ = ("what",)
    leaf = True
    inl = True

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def enter(self, m: Machine) -> None:
        m.value = m.absolute(m.pos) if self.what == "pos" else m.lim - m.pos
        m.ok = True
        return None

    def expected(self) -> str:
        return self.what


class Commit(Parser[None]):
    """Release the input before this point and cut pending alternatives."""

    __slots__ = ()
    leaf = True
    inl = True

    def enter(self, m: Machine) -> None:
        pos = m.commit_pos = m.pos
        m.commits += 1
        m.log = None  # no diagnostic re-run once input has been released
        last_ok = m.last_ok
        if last_ok is not None and last_ok[0] < pos:  # (its position: see `LastOk`)
            # Its bytes may be gone by the time an error is reported: what it recorded
            # is settled now, while they are here (however the input was split).
            m.settle_last_ok()
        m.value = None
        m.ok = True
        return None

    def expected(self) -> str:
        return "commit"


class Scan(Parser[tuple[bytes, Any]]):
    """Angstrom's ``scan``: feed bytes to ``f(state, byte)`` until it returns `None`."""

    __slots__ = ("f", "state")
    leaf = True
    inl = True

    def __init__(self, state: Any, f: Callable[[Any, int], Any]) -> None:
        super().__init__()
        self.state = state
        self.f = f

    def enter(self, m: Machine) -> None:
        buf, pos, lim, f = m.buf, m.pos, m.lim, self.f
        state = self.state
        i = pos
        while i < lim:
            nxt = f(state, buf[i])
            if nxt is None:
                break
            state = nxt
            i += 1
        else:
            if not m.complete:
                raise Suspend(self)  # restarted from the initial state on resume
        m.value = (m.take(pos, i), state)
        m.pos = i
        m.ok = True
        return None

    def expected(self) -> str:
        return "scan"


# --------------------------------------------------------------------------------
# Public constructors
# --------------------------------------------------------------------------------
def length_error(what: str, n: int) -> Parser[Any]:
    """What a negative length or count read from the wire gives: a parser that fails
    where it stands, naming ``what`` and ``n``."""
    return _Fail(f"a {what} of at least 0 (got {n})")


# A tuple, not ``bytes | bytearray``: that expression builds a union object on every call,
# and these constructors run inside generators and binds, once per use.
_BYTES_LIKE = (bytes, bytearray)


def _one(b: bytes, what: str) -> int:
    if not isinstance(b, _BYTES_LIKE) or len(b) != 1:
        raise TypeError(f"{what} takes a single byte as bytes of length 1, got {b!r}")
    return b[0]


def char(c: bytes) -> Parser[bytes]:
    """Accept exactly the byte ``c`` (e.g. ``char(b":")``); returns it. Fails otherwise."""
    # (Built inside generators once per use: one lookup for the usual call. The class
    # test keeps other types out of the dict, where b"a" and "a" hash alike.)
    if c.__class__ is bytes:
        try:
            return _CHAR_OF[c]
        except KeyError:
            pass
    return _CHARS[_one(c, "char")]


def not_char(c: bytes) -> Parser[bytes]:
    """Accept any byte except ``c``; returns it. Fails on ``c`` or at end of input."""
    v = _one(c, "not_char")
    return _intern(("not_char", v), lambda: _not_char(v))


def _char(v: int) -> Satisfy:
    table = bytearray(256)
    table[v] = 1
    return Satisfy(bytes(table), show_bytes(bytes([v])))


def _not_char(v: int) -> Satisfy:
    table = bytearray(b"\x01" * 256)
    table[v] = 0
    return Satisfy(bytes(table), f"any byte but {show_bytes(bytes([v]))}")


_CHARS = [_char(v) for v in range(256)]
_CHAR_OF = {bytes([v]): p for v, p in enumerate(_CHARS)}  # char(b":") for one lookup


def satisfy(pred: BytePredicate) -> Parser[bytes]:
    """Accept one byte for which ``pred`` holds; returns it (1-byte `bytes`)."""
    if isinstance(pred, bytes):
        return _intern(("satisfy", pred), lambda: _satisfy(pred, True))
    return _satisfy(pred, True)


def _satisfy(pred: BytePredicate, keep: bool) -> Parser[Any]:
    table = byte_table(pred)
    return Satisfy(table, _describe(pred, table), keep)


def skip(pred: BytePredicate) -> Parser[None]:
    """Like `satisfy`, returning `None`."""
    if isinstance(pred, bytes):
        return _intern(("skip", pred), lambda: _satisfy(pred, False))
    return _satisfy(pred, False)


def string(s: bytes) -> Parser[bytes]:
    """Accept exactly ``s``; returns it. Fails at the first mismatching byte (it does not
    wait for ``len(s)`` bytes to reject a wrong prefix)."""
    if not isinstance(s, _BYTES_LIKE):
        raise TypeError(f"string takes bytes, got {type(s).__name__}")
    b = bytes(s)
    return _intern(("string", b), lambda: Str(b, ci=False))


def string_ci(s: bytes) -> Parser[bytes]:
    """Accept ``s`` ignoring ASCII case; returns the input's own casing."""
    if not isinstance(s, _BYTES_LIKE):
        raise TypeError(f"string_ci takes bytes, got {type(s).__name__}")
    b = bytes(s)
    return _intern(("string_ci", b), lambda: Str(b, ci=True))


def take(n: int) -> Parser[bytes]:
    """Exactly ``n`` bytes. Fails (at end of input) if fewer remain, or where it stands
    if ``n`` is negative (a length read from the wire)."""
    if n < 0:
        return length_error("length", n)
    if n < len(_TAKES):
        return _TAKES[n]
    return Take(n, keep=True)


def advance(n: int) -> Parser[None]:
    """Skip exactly ``n`` bytes. Fails (at end of input) if fewer remain."""
    if n < 0:
        return length_error("length", n)
    if n < len(_ADVANCES):
        return _ADVANCES[n]
    return Take(n, keep=False)


def peek_string(n: int) -> Parser[bytes]:
    """The next ``n`` bytes without consuming them. Fails if fewer remain."""
    if n < 0:
        return length_error("length", n)
    return Take(n, keep=True, move=False)


_TAKES = [Take(n, keep=True) for n in range(256)]
_ADVANCES = [Take(n, keep=False) for n in range(256)]


def take_while(pred: BytePredicate) -> Parser[bytes]:
    """The longest (possibly empty) run of bytes satisfying ``pred``. Never fails; at the
    end of a chunk it waits for more input before deciding."""
    table = byte_table(pred)
    return TakeWhile(table, 0, True, _describe(pred, table))


def take_while1(pred: BytePredicate) -> Parser[bytes]:
    """Like `take_while`, but fails unless at least one byte matches."""
    table = byte_table(pred)
    return TakeWhile(table, 1, True, _describe(pred, table))


def take_till(pred: BytePredicate) -> Parser[bytes]:
    """The longest (possibly empty) run of bytes *not* satisfying ``pred``."""
    table = bytes(1 - b for b in byte_table(pred))
    return TakeWhile(table, 0, True, _ClassLabel(table))


def skip_while(pred: BytePredicate) -> Parser[None]:
    """Skip the longest run of bytes satisfying ``pred``. Never fails."""
    table = byte_table(pred)
    return TakeWhile(table, 0, False, _describe(pred, table))


def scan(state: Any, f: Callable[[Any, int], Any]) -> Parser[tuple[bytes, Any]]:
    """Run ``f(state, byte)`` over the input until it returns `None`.

    Returns ``(scanned bytes, final state)``; ``byte`` is the int value. Never fails.
    """
    return Scan(state, f)


any_char: Parser[bytes] = Satisfy(b"\x01" * 256, "any byte")
"""Any single byte. Fails at end of input."""

peek_char: Parser[bytes | None] = PeekChar(must=False)
"""The next byte without consuming it, or `None` at the end of input."""

peek_char_fail: Parser[bytes] = PeekChar(must=True)
"""The next byte without consuming it; fails at the end of input."""

end_of_input: Parser[None] = EndOfInput(test=False)
"""Succeeds only at the end of input."""

at_end_of_input: Parser[bool] = EndOfInput(test=True)
"""`True` at the end of input, `False` otherwise. Never fails."""

end_of_line: Parser[None] = _Choice((Str(b"\n", False), Str(b"\r\n", False)), None).result(None)
"""``\\n`` or ``\\r\\n``."""

pos: Parser[int] = Query("pos")
"""The absolute byte offset of the current position. Never fails."""

available: Parser[int] = Query("available")
"""How many input bytes are available after the current position right now (never waits)."""

commit: Parser[None] = Commit()
"""Release all input before this point and cut every alternative that began before it."""
