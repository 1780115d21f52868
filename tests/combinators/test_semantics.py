"""The semantics protocol authors rely on (issue: exact streaming semantics), checked at
every split point, byte by byte, through Buffered and Unbuffered, compiled and not:

* an error never depends on how the input is split, also after a `commit`;
* `parse_many` yields exactly the items `many` would;
* a function given to `map` / `bind` / `try_map` runs exactly once for each match of its
  parser that is part of the final parse (values dropped by ``>>``/``<<`` included),
  never twice for one match, also when the parse fails;
* a negative count or length read from the wire is a `ParseError`;
* a choice of labelled alternatives names every label it tried.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    Consume,
    ParseError,
    Parser,
    Unbuffered,
    any_char,
    available,
    char,
    commit,
    end_of_line,
    generate,
    isolate,
    many,
    option,
    parse,
    parse_many,
    pure,
    skip_many,
    string,
    take,
    take_till,
    take_while,
    take_while1,
)

from tests.combinators.helpers import (
    Err,
    check,
    incremental,
    run_buffered,
    run_parse,
    run_unbuffered,
    stack_form,
)

DIGITS = b"0123456789"


# --------------------------------------------------------------------------------
# Errors after a commit
# --------------------------------------------------------------------------------
AFTER_COMMIT: list[tuple[str, Parser[Any], bytes, Err]] = [
    (
        "take_till-commit-take",
        (take_till(b";") << char(b";") << commit) >> take(4),
        b"x;..",
        Err(2, ["4 more bytes"]),
    ),
    (
        "crlf-commit-take",
        (take_till(b"\r") << string(b"\r\n") << commit) >> take(4),
        b"abc\r\n..",
        Err(5, ["4 more bytes"]),
    ),
    (
        "end_of_line-commit",
        (take_till(b"\r\n") << end_of_line << commit) >> string(b"next"),
        b"line\r\nnex!",
        Err(6, ["'next'"]),
    ),
    (
        "nul-terminated",
        many((take_till(b"\x00") << char(b"\x00") << commit) >> take(2)),
        b"ab\x00xycd\x00z",
        Err(8, ["2 more bytes"]),
    ),
    (
        "loop-stop-then-commit",
        (many(char(b"a")) << commit) >> char(b"b"),
        b"aac",
        Err(2, ["'a'", "'b'"]),
    ),
]


@pytest.mark.parametrize(("name", "p", "data", "err"), AFTER_COMMIT, ids=[c[0] for c in AFTER_COMMIT])
def test_an_error_after_commit_does_not_depend_on_the_split(
    name: str, p: Parser[Any], data: bytes, err: Err
) -> None:
    check(p, data, expect_error=err)


# --------------------------------------------------------------------------------
# parse_many == many
# --------------------------------------------------------------------------------
def _splits(data: bytes) -> Iterator[list[bytes]]:
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]


STREAMS: list[tuple[Parser[Any], bytes]] = [
    (take_while(b"x"), b""),
    (take_while(b"x"), b"xx"),
    (take_while(b"x") << option(None, char(b";")), b"xx;x;;"),
    (option(b"-", take_while1(DIGITS)), b"12"),
]


@pytest.mark.parametrize(("p", "data"), STREAMS)
def test_parse_many_yields_what_many_gives(p: Parser[Any], data: bytes) -> None:
    from wirekit.combinators import parse

    want = parse(many(p), data)
    for chunks in _splits(data):
        assert list(parse_many(p, chunks)) == want, chunks


# --------------------------------------------------------------------------------
# Functions run once per match
# --------------------------------------------------------------------------------
class Counter:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, v: Any) -> Any:
        self.calls.append(v)
        return v


def _every_way(make: Callable[[Counter], Parser[Any]], data: bytes) -> Iterator[tuple[str, list[Any]]]:
    """(how it was run, the calls made) for each way of running the grammar, compiled
    (prebuilt) and made at run time (inside a bind, so not fused)."""
    for form in ("compiled", "run-time"):
        def build(c: Counter, form: str = form) -> Parser[Any]:
            return make(c) if form == "compiled" else pure(None).bind(lambda _: make(c))

        c = Counter()
        run_parse(build(c), data, Consume.ALL)
        yield f"{form} parse", c.calls
        for i in range(len(data) + 1):
            c = Counter()
            run_buffered(incremental(build(c), Consume.ALL), [data[:i], data[i:]], 3)
            yield f"{form} buffered split {i}", c.calls
            c = Counter()
            run_unbuffered(incremental(build(c), Consume.ALL), [data[:i], data[i:]], "bytearray", off=1)
            yield f"{form} unbuffered split {i}", c.calls
        c = Counter()
        run_buffered(incremental(build(c), Consume.ALL), [data[i : i + 1] for i in range(len(data))], 1)
        yield f"{form} byte by byte", c.calls


ONCE: list[tuple[str, Callable[[Counter], Parser[Any]], bytes, list[Any]]] = [
    ("skip_many", lambda f: skip_many(any_char.map(f)), b"abc", [b"a", b"b", b"c"]),
    ("skip_many-commit", lambda f: skip_many(any_char.map(f)) << commit, b"abc", [b"a", b"b", b"c"]),
    ("many-of-nullable", lambda f: many(take_while(b"x").map(f)), b"xx", [b"xx"]),
    ("dropped-by-rshift", lambda f: take(1).map(f) >> take(1), b"ab", [b"a"]),
    ("dropped-by-lshift", lambda f: take(1) << take_while1(DIGITS).map(f), b"a12", [b"12"]),
    ("bind", lambda f: take(1).bind(lambda v: pure(f(v))) >> any_char, b"ab", [b"a"]),
    ("try_map", lambda f: take(2).try_map(f) << char(b"!"), b"ok!", [b"ok"]),
    ("in-a-choice", lambda f: (string(b"ab").map(f) | string(b"ac")) << char(b";"), b"ac;", []),
]

def _two_paths(f: Counter) -> Parser[Any]:
    """A generator that yields one of two sequences (the replay log shares a finished
    run's list between runs that yielded the same; the other path must keep its own)."""

    @generate
    def item() -> Any:
        c = yield any_char
        if c == b"a":
            return (yield take(1).map(f))  # (a new parser each run: never shared)
        return (yield any_char)

    return item


# When the parse fails there is no final parse: a function runs at most once per match,
# and the same way however the input is split (a compiled block that fails as a whole
# calls none of its functions; the general form may have called them before failing).
FAILING: list[tuple[str, Callable[[Counter], Parser[Any]], bytes]] = [
    ("failing-parse", lambda f: take(2).map(f) >> char(b"!"), b"ok?"),
    ("failing-bind", lambda f: take(1).bind(lambda v: pure(f(v))) >> char(b"!"), b"ab"),
    ("failing-try_map", lambda f: take(2).try_map(f) >> char(b"!"), b"ok?"),
    ("failing-after-commit", lambda f: (take(1).map(f) << commit) >> take(2).map(f) >> char(b"!"), b"abc?"),
    ("failing-after-generators", lambda f: many(_two_paths(f)) >> char(b"!"), b"a1bba2bca3;"),
]


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Fail the test instead of hanging if the block runs longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_generator_nested_in_itself_at_one_position_replays_to_an_end() -> None:
    # The same generator runs inside itself at the same position (each run in a smaller
    # `isolate` window); the re-run that explains the failure replays, there, the
    # innermost run's log entry (an outer run's would nest without end), in both forms.
    def run() -> tuple[str, list[int]]:
        calls: list[int] = []

        @generate
        def nested() -> Any:
            n = yield available
            calls.append(n)
            if n > 0:
                return (yield isolate(n - 1, nested))
            return "bottom"

        with pytest.raises(ParseError) as e:
            parse(nested >> char(b"x"), b"abc")
        return str(e.value), calls

    with _deadline(20):
        direct = run()
        with stack_form():
            stack = run()
    assert direct == stack == ("at offset 0: expected 'x'", [3, 2, 1, 0])


def test_a_failed_parse_after_generator_runs_is_explained_from_their_log() -> None:
    # The error comes from re-running the parse exactly, replaying what each generator
    # run yielded: runs down either path, shared or not, replay to the same report.
    c = Counter()
    check(many(_two_paths(c)) >> char(b"!"), b"a1bba2bca3;", expect_error=Err(11, ["any byte"]))



@pytest.mark.parametrize(("name", "make", "data"), FAILING, ids=[c[0] for c in FAILING])
def test_a_failing_parse_calls_a_function_at_most_once_per_match(
    name: str, make: Callable[[Counter], Parser[Any]], data: bytes
) -> None:
    by_form: dict[str, list[Any]] = {}
    for how, calls in _every_way(make, data):
        assert len(calls) == len(set(calls)), f"{how}: called twice for one match: {calls}"
        form = how.split()[0]
        assert by_form.setdefault(form, calls) == calls, f"{how}: {calls} != {by_form[form]}"


@pytest.mark.parametrize(("name", "make", "data", "want"), ONCE, ids=[c[0] for c in ONCE])
def test_a_function_runs_once_per_match(
    name: str, make: Callable[[Counter], Parser[Any]], data: bytes, want: list[Any]
) -> None:
    for how, calls in _every_way(make, data):
        assert calls == want, f"{how}: {calls}"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"bb", b"", b";"]), max_size=6).map(b"".join))
def test_map_calls_do_not_depend_on_how_it_runs(data: bytes) -> None:
    def make(f: Counter) -> Parser[Any]:
        item = (take_while1(b"ab").map(f) << option(None, char(b";"))) | char(b";").map(f)
        return many(item) << skip_many(any_char.map(f))

    runs = list(_every_way(make, data))
    first = runs[0][1]
    for how, calls in runs:
        assert calls == first, f"{how}: {calls} != {first}"


# --------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------
def test_a_choice_of_labelled_alternatives_names_every_label() -> None:
    method = string(b"GET").desc("get-method") | string(b"HEAD").desc("head-method")
    check(method, b"PATCH", expect_error=Err(0, ["get-method", "head-method"], []))
    # Under a common label, that label stays the place.
    check(method.desc("method"), b"PATCH", expect_error=Err(0, ["get-method", "head-method"], ["method"]))
    # A label whose parser got further is the place, not the expectation.
    further = (string(b"GE") >> char(b"T")).desc("get-method") | string(b"HEAD").desc("head-method")
    check(further, b"GEX", expect_error=Err(2, ["'T'"], ["get-method"]))


def test_unbuffered_start_does_not_compile_a_fresh_grammar_twice() -> None:
    # (a smoke check that the state API still takes a run-time-built grammar)
    state = Unbuffered.parse(pure(1).bind(lambda n: take(n)))
    assert state.resume(b"a", complete=True).value == b"a"  # type: ignore[attr-defined]
