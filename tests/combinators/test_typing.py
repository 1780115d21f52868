"""How the public API looks to its users: the types mypy --strict infers for `generate`
and `fail` (checked by running mypy on a small program), and the reprs of `Partial`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from wirekit.combinators import Buffered, Partial, Unbuffered, commit, take

ROOT = Path(__file__).resolve().parent.parent.parent

# Each ``assert_type`` is what mypy must infer; a line ending in ``# E: text`` must give
# exactly one error containing ``text`` (and no other line may give any). The program
# also runs, so the values behind the types are checked too.
PROGRAM = """
from collections.abc import Generator
from typing import Any, assert_type

from wirekit.combinators import (
    Parser, any_uint8, char, count, fail, generate, parse, pure, take, take_while1,
)


@generate
def length() -> Generator[Parser[Any], Any, int]:
    n: int = yield any_uint8
    if n > 3:
        yield fail("a length of at most 3")
    return n


@generate
def counted() -> Generator[Parser[Any], Any, Parser[list[bytes]]]:
    n: int = yield length
    return count(n, take(1))


@generate
def field() -> Generator[Parser[Any], Any, tuple[bytes, int]]:
    key: bytes = yield take_while1(b"abc")
    yield char(b"=")
    return key, (yield length)


@generate
def mixed() -> Generator[Parser[Any], Any, int | Parser[int]]:
    n: int = yield length
    if n == 0:
        return fail("a non-zero length")
    return n if n > 1 else pure(-1)


@generate
def refused() -> Generator[Parser[Any], Any, Parser[bytes]]:
    yield length
    return fail("nothing")


assert_type(length, Parser[int])
assert_type(counted, Parser[list[bytes]])
assert_type(field, Parser[tuple[bytes, int]])
assert_type(mixed, Parser[int])
assert_type(refused, Parser[bytes])
assert_type(take(2) | fail("x"), Parser[bytes])
assert_type(fail("x") | take(2), Parser[bytes])
assert_type(pure(1) if parse(length, b"\\x01") else fail("x"), Parser[int])
assert_type(any_uint8.bind(lambda n: pure(n) if n else fail("zero")), Parser[int])
assert_type(parse(counted, b"\\x02ab"), list[bytes])

wrong: Parser[str] = length  # E: Incompatible types in assignment

assert parse(length, b"\\x03") == 3
assert parse(counted, b"\\x02ab") == [b"a", b"b"]
assert parse(field, b"ab=\\x02") == (b"ab", 2)
assert parse(mixed, b"\\x02") == 2 and parse(mixed, b"\\x01") == -1
for bad in (b"\\x04", b"\\x00"):
    try:
        parse(mixed, bad)
    except Exception as e:
        assert "length" in str(e)
    else:
        raise AssertionError(bad)
assert parse(take(2) | fail("x"), b"ab") == b"ab"
"""


def mypy_errors(tmp_path: Path, source: str) -> dict[int, list[str]]:
    """mypy --strict (the project's config) on ``source``: its errors by line."""
    path = tmp_path / "typed_program.py"
    path.write_text(source)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "error: " in run.stdout or run.returncode == 0, run.stdout + run.stderr
    errors: dict[int, list[str]] = {}
    for line in run.stdout.splitlines():
        m = re.match(r"^[^:]*typed_program\.py:(\d+): error: (.*)$", line)
        if m:
            errors.setdefault(int(m[1]), []).append(m[2])
    return errors


def test_generate_and_fail_types_under_mypy_strict(tmp_path: Path) -> None:
    expected = {
        number: m[1]
        for number, line in enumerate(PROGRAM.splitlines(), 1)
        if (m := re.search(r"# E: (.*)$", line))
    }
    assert expected, "the program must contain a deliberate error, to show mypy ran"
    errors = mypy_errors(tmp_path, PROGRAM)
    unexpected = {n: e for n, e in errors.items() if n not in expected}
    assert not unexpected, f"unexpected mypy errors: {unexpected}"
    for number, text in expected.items():
        got = errors.get(number, [])
        assert len(got) == 1 and text in got[0], f"line {number}: wanted {text!r}, got {got}"


def test_typed_program_runs() -> None:
    exec(compile(PROGRAM, "typed_program.py", "exec"), {"__name__": "typed_program"})


def test_buffered_partial_repr() -> None:
    state = Buffered.parse(take(4))
    assert repr(state) == "Partial(committed=0, retained=0)"
    state = state.feed(b"ab")
    assert isinstance(state, Partial)
    assert repr(state) == "Partial(committed=0, retained=2)"
    state = Buffered.parse((take(2) << commit) >> take(4)).feed(b"abcd")
    assert isinstance(state, Partial)
    assert (state.committed, repr(state)) == (2, "Partial(committed=2, retained=2)")


def test_unbuffered_partial_repr() -> None:
    state = Unbuffered.parse((take(2) << commit) >> take(4))
    assert repr(state) == "Partial(committed=0)"
    state = state.resume(b"abcd")
    assert isinstance(state, Partial)
    assert (state.committed, repr(state)) == (2, "Partial(committed=2)")
