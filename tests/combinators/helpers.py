"""The shared check for the wirekit.combinators tests: one parse, every way of feeding it.

`check` runs a parser on the same input

* in one shot with `parse` (over `bytes`, `bytearray` and `memoryview`),
* through `Buffered` split into two chunks at every split point (also with empty chunks
  in between, and into three chunks for short inputs), with small initial buffers so
  the buffer has to grow and compact,
* through `Buffered` one byte at a time,
* through `Unbuffered` one byte at a time and at every split point, honouring
  ``Partial.committed``: the committed bytes are dropped and the rest is presented again
  with the new input, in `bytes`, `bytearray` and `memoryview` buffers at non-zero offsets,
* and some of these again on the machine's stack alone, without the direct form
  (`stack_form`): in one shot, whole, and one byte at a time,

and asserts that every run gives the same outcome: the same value (compared strictly,
types included), or a `ParseError` with the same position, expectations and marks; and,
for the incremental runs, the same unconsumed rest of the input.

Chunks handed to the parser are overwritten after use (as a caller reusing its read
buffer would), so a value that kept a view on the caller's memory shows up as a mismatch.

Import it as ``from tests.combinators.helpers import check`` (pytest's importlib mode
registers the ``tests.combinators`` package when it collects the tests).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from wirekit.combinators import (
    Buffered,
    Consume,
    Done,
    Fail,
    ParseError,
    Parser,
    Partial,
    State,
    Unbuffered,
    _machine,
    end_of_input,
    parse,
)

__all__ = [
    "BUFFER_SIZES",
    "EXAMPLES",
    "NOTHING",
    "Err",
    "Outcome",
    "agree",
    "check",
    "check_error",
    "incremental",
    "load_example",
    "run_buffered",
    "run_parse",
    "run_unbuffered",
    "same_value",
    "split_at",
    "stack_form",
]

EXAMPLES: Final = Path(__file__).resolve().parents[2] / "examples"


class _Nothing:
    """Marks "no value expected / no value produced"."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing()

BUFFER_SIZES: Final = (1, 3, 4, 4096)
"""Initial buffer sizes the Buffered runs rotate through (small ones force growth)."""

_KINDS: Final = ("bytes", "bytearray", "memoryview")
_SCRIBBLE: Final = 0xEE


@dataclass(frozen=True)
class Err:
    """An expected `ParseError`; fields left as `None` are not checked."""

    position: int
    expected: Sequence[str] | None = None
    marks: Sequence[str] | None = None
    message: str | None = None
    """A substring the rendered message must contain."""


@dataclass
class Outcome:
    """What one run produced."""

    label: str
    value: Any = NOTHING
    error: ParseError | None = None
    rest: bytes | None = None
    """The input left unconsumed (`None` when the run cannot tell, as with `parse`)."""
    chunks: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        what = (
            f"value {self.value!r}"
            if self.error is None
            else f"error pos={self.error.position} expected={self.error.expected} "
            f"marks={self.error.marks}"
        )
        rest = "" if self.rest is None else f", rest={self.rest!r}"
        chunks = f" chunks={self.chunks!r}" if self.chunks else ""
        return f"[{self.label}]{chunks}: {what}{rest}"


def same_value(a: object, b: object) -> bool:
    """Equality that also requires the same types all the way down (`bytes` is not
    `bytearray`, ``1`` is not ``1.0`` or ``True``) and treats NaN as equal to NaN."""
    stack: list[tuple[object, object]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            assert isinstance(y, float)
            if not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
        elif isinstance(x, list | tuple):
            assert isinstance(y, list | tuple)
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, dict):
            assert isinstance(y, dict)
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif x != y:
            return False
    return True


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the given offsets (sorted, clamped; empty chunks are kept)."""
    points = sorted(min(max(c, 0), len(data)) for c in cuts)
    out: list[bytes] = []
    prev = 0
    for c in points:
        out.append(data[prev:c])
        prev = c
    out.append(data[prev:])
    return out


def incremental(p: Parser[Any], consume: Consume) -> Parser[Any]:
    """The parser an incremental run uses: ``p << end_of_input`` for `Consume.ALL`."""
    return p << end_of_input if consume is Consume.ALL else p


# --------------------------------------------------------------------------------
# Single runs
# --------------------------------------------------------------------------------
def _as_kind(data: bytes, kind: str, off: int = 0, tail: int = 0) -> bytes | bytearray | memoryview:
    """``data`` as the given buffer type, with ``off`` junk bytes before and ``tail`` after."""
    if kind == "bytes" and not off and not tail:
        return data
    raw = bytes([_SCRIBBLE]) * off + data + bytes([_SCRIBBLE ^ 0xFF]) * tail
    if kind == "bytes":
        return raw
    if kind == "bytearray":
        return bytearray(raw)
    return memoryview(bytearray(raw))


def _scribble(buf: bytes | bytearray | memoryview) -> None:
    """Overwrite a buffer the parser has been given back, as a caller reusing it would."""
    if isinstance(buf, bytearray) or (isinstance(buf, memoryview) and not buf.readonly):
        buf[:] = bytes([_SCRIBBLE]) * len(buf)


def run_parse(p: Parser[Any], data: bytes, consume: Consume, kind: str = "bytes") -> Outcome:
    """One-shot `parse`."""
    label = f"parse({kind}, {consume.name})"
    try:
        value = parse(p, _as_kind(data, kind), consume)
    except ParseError as e:
        return Outcome(label, error=e)
    return Outcome(label, value=value)


def _finished(state: State[Any], label: str) -> Outcome:
    if isinstance(state, Done):
        assert isinstance(state.unconsumed, bytes), f"[{label}] Done.unconsumed is not bytes"
        return Outcome(label, value=state.value, rest=state.unconsumed)
    if isinstance(state, Fail):
        assert isinstance(state.error, ParseError), f"[{label}] Fail.error is not a ParseError"
        assert isinstance(state.unconsumed, bytes), f"[{label}] Fail.unconsumed is not bytes"
        return Outcome(label, error=state.error, rest=state.unconsumed)
    raise AssertionError(f"[{label}] still {type(state).__name__} after the end of input")


def run_buffered(
    q: Parser[Any],
    chunks: Sequence[bytes],
    initial_buffer_size: int = 4096,
    kind: str = "bytes",
) -> Outcome:
    """Feed ``chunks`` to ``Buffered.parse(q)`` then the end of input.

    ``q`` is the parser as run incrementally (see `incremental`). Every chunk is given as
    ``kind`` and overwritten right after it was fed.
    """
    label = f"Buffered(size={initial_buffer_size}, {kind})"
    state: State[Any] = Buffered.parse(q, initial_buffer_size)
    for chunk in chunks:
        given = _as_kind(chunk, kind)
        state = state.feed(given)
        _scribble(given)
    state = state.feed_eof()
    out = _finished(state, label)
    # The end of input is final: feeding it again changes nothing.
    again = _finished(state.feed_eof(), label)
    assert again.rest == out.rest, f"[{label}] feed_eof() on a finished state changed it"
    out.chunks = list(chunks)
    return out


def run_unbuffered(
    q: Parser[Any],
    chunks: Sequence[bytes],
    kind: str = "bytes",
    off: int = 0,
) -> Outcome:
    """Drive ``Unbuffered.parse(q)`` like a zero-copy caller.

    On each `Partial` the ``committed`` bytes are dropped and the uncommitted rest is
    presented again followed by the next chunk, in a fresh ``kind`` buffer at offset
    ``off`` with junk around it; the previous buffer is overwritten first. After the
    chunks, the rest is presented once more with ``complete=True``.
    """
    label = f"Unbuffered({kind}, off={off})"
    data = b"".join(chunks)
    state: State[Any] = Unbuffered.parse(q)
    if isinstance(state, Partial):
        assert state.committed == 0, f"[{label}] committed={state.committed} before any input"
    pending = b""  # the bytes given last time that are not committed yet
    base = 0  # absolute offset of pending[0]
    last: bytes | bytearray | memoryview | None = None
    steps: list[bytes | None] = [*chunks, None]
    for chunk in steps:
        if not isinstance(state, Partial):
            break
        committed = state.committed
        assert 0 <= committed <= len(pending), (
            f"[{label}] committed={committed} but only {len(pending)} bytes were given"
        )
        pending = pending[committed:]
        base += committed
        if chunk is not None:
            pending += chunk
        if last is not None:
            _scribble(last)
        last = _as_kind(pending, kind, off, tail=2)
        state = state.resume(last, off, len(pending), complete=chunk is None)
    out = _finished(state, label)
    if last is not None:
        _scribble(last)  # the values must not depend on the caller's buffer any more
    assert isinstance(state, Done | Fail)
    consumed = state.consumed
    assert 0 <= consumed <= len(pending), f"[{label}] consumed={consumed} out of range"
    assert out.rest == pending[consumed:], (
        f"[{label}] unconsumed={out.rest!r} but consumed={consumed} of {pending!r}"
    )
    out.rest = data[base + consumed :]
    out.chunks = list(chunks)
    return out


# --------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------
def agree(runs: Sequence[Outcome]) -> Outcome:
    """Assert that all runs have the same outcome; returns the first."""
    ref = runs[0]
    ref_rest = next((r for r in runs if r.rest is not None), None)
    for run in runs[1:]:
        if ref.error is None and run.error is None:
            same = same_value(ref.value, run.value)
        elif ref.error is not None and run.error is not None:
            same = (
                ref.error.position == run.error.position
                and ref.error.expected == run.error.expected
                and ref.error.marks == run.error.marks
            )
        else:
            same = False
        assert same, f"runs disagree:\n  {ref.describe()}\n  {run.describe()}"
        if ref_rest is not None and run.rest is not None:
            assert run.rest == ref_rest.rest, (
                f"runs disagree on the unconsumed input:\n  {ref_rest.describe()}\n  "
                f"{run.describe()}"
            )
    return ref


def check_error(error: ParseError, expect: Err) -> None:
    """Assert that ``error`` matches ``expect``."""
    got = f"got position={error.position} expected={error.expected} marks={error.marks}"
    assert error.position == expect.position, f"wrong position: {got}"
    if expect.expected is not None:
        assert error.expected == list(expect.expected), f"wrong expected: {got}"
    if expect.marks is not None:
        assert error.marks == list(expect.marks), f"wrong marks: {got}"
    if expect.message is not None:
        assert expect.message in error.message, f"{expect.message!r} not in {error.message!r}"
    assert error.message == str(error)


@contextlib.contextmanager
def stack_form() -> Iterator[None]:
    """Within the block, parses run on the machine's stack alone, without the direct
    form (`wirekit.combinators._machine`): the reference the direct form must agree with."""
    _machine.DIRECT[0] = False
    try:
        yield
    finally:
        _machine.DIRECT[0] = True


def check(
    p: Parser[Any],
    data: bytes,
    expected_value: object = NOTHING,
    *,
    expect_error: Err | None = None,
    consume: Consume = Consume.ALL,
    rest: bytes | None = None,
    exhaustive: bool = True,
) -> Outcome:
    """Run ``p`` on ``data`` every way (see the module docstring) and assert agreement.

    Args:
        expected_value: the value every run must produce (compared with `same_value`).
        expect_error: the error every run must produce instead.
        consume: `Consume.ALL` (incremental runs use ``p << end_of_input``) or `PREFIX`.
        rest: with `Consume.PREFIX`, the input the parser must leave unconsumed.
        exhaustive: split at every point (else only a few splits: for long inputs).

    Returns:
        The one-shot outcome (its ``rest`` filled in from the incremental runs).
    """
    assert expected_value is NOTHING or expect_error is None, "expect a value or an error"
    q = incremental(p, consume)
    n = len(data)
    runs = [run_parse(p, data, consume, kind) for kind in _KINDS]

    points = list(range(n + 1)) if exhaustive else sorted({0, 1, n // 2, max(n - 1, 0), n})
    for i in points:
        size = BUFFER_SIZES[i % len(BUFFER_SIZES)]
        kind = _KINDS[i % len(_KINDS)]
        runs.append(run_buffered(q, [data[:i], data[i:]], size, kind))
        runs.append(
            run_buffered(q, [b"", data[:i], b"", b"", data[i:], b""], BUFFER_SIZES[-1 - i % 3])
        )
        runs.append(run_unbuffered(q, [data[:i], data[i:]], _KINDS[(i + 1) % 3], off=i % 3))
    if exhaustive and n <= 16:
        for i in range(n + 1):
            for j in range(i, n + 1):
                runs.append(run_buffered(q, [data[:i], data[i:j], data[j:]], 3))

    bytewise = [data[i : i + 1] for i in range(n)]
    for size in (1, 3, 4):
        runs.append(run_buffered(q, bytewise, size, _KINDS[size % 3]))
    with_empties = [c for b in bytewise for c in (b, b"")]
    runs.append(run_buffered(q, with_empties, 2, "memoryview"))
    runs.append(run_unbuffered(q, bytewise, "bytes", off=0))
    runs.append(run_unbuffered(q, bytewise, "bytearray", off=1))
    runs.append(run_unbuffered(q, with_empties, "memoryview", off=3))

    # The same on the machine's stack alone (no direct form): the reference it must match.
    with stack_form():
        runs.append(run_parse(p, data, consume))
        runs.append(run_buffered(q, [data], 4096))
        runs.append(run_buffered(q, bytewise, 1))
        runs.append(run_unbuffered(q, bytewise, "bytes"))

    ref = agree(runs)
    ref.rest = next(r.rest for r in runs if r.rest is not None)
    if consume is Consume.ALL and ref.ok:
        assert ref.rest == b"", f"Consume.ALL left {ref.rest!r} unconsumed"
    if expected_value is not NOTHING:
        assert ref.ok, f"expected {expected_value!r}, {ref.describe()}"
        assert same_value(ref.value, expected_value), (
            f"expected {expected_value!r} ({type(expected_value).__name__}), "
            f"got {ref.value!r} ({type(ref.value).__name__})"
        )
    if expect_error is not None:
        assert ref.error is not None, f"expected an error, {ref.describe()}"
        check_error(ref.error, expect_error)
    if rest is not None:
        assert ref.rest == rest, f"expected {rest!r} unconsumed, got {ref.rest!r}"
    return ref


# --------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------
def load_example(name: str) -> ModuleType:
    """Load ``examples/<name>.py`` by path, as module ``wirekit_example_<name>``.

    (``examples/json.py`` must not be imported as ``json``: it would shadow the stdlib.)
    A package ``examples/<name>/`` is loaded the same way, once: its modules import each
    other relatively, so loading it again would mix two copies of its classes.
    """
    module_name = f"wirekit_example_{name}"
    package = EXAMPLES / name
    if (package / "__init__.py").exists():
        loaded = sys.modules.get(module_name)
        if loaded is not None:
            return loaded
        spec = importlib.util.spec_from_file_location(
            module_name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
    else:
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would (dataclasses look it up)
    spec.loader.exec_module(module)
    return module
