"""The interpreter (`_machine.py`): stack safety (deep recursion through `fix`, `bind` and
`generate`, loops over a million items, without RecursionError and without touching
``sys.getrecursionlimit()``), and the direct form one-shot parses run in, which must give
what the machine gives: values, errors, and the same calls of user functions in the same
order, also where it hands a deep part of the input over to the machine."""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterator
from functools import reduce
from typing import Any

import pytest
import wirekit.combinators as wc
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    BE,
    Buffered,
    Done,
    Fail,
    ParseError,
    Parser,
    Partial,
    State,
    Unbuffered,
    any_char,
    any_uint8,
    char,
    choice,
    commit,
    count,
    end_of_input,
    fix,
    generate,
    isolate,
    lift2,
    many,
    many_till,
    option,
    parse,
    pure,
    satisfy,
    sep_by,
    sep_by1,
    skip_many,
    string,
    take_while,
    take_while1,
)
from wirekit.combinators._machine import DIRECT_DEPTH, Machine
from wirekit.combinators._parser import compiled
from wirekit.combinators._running import _whole, error_of

from tests.combinators.helpers import Err, check, stack_form

DEPTH = 10_000
NESTED = b"[" * DEPTH + b"]" * DEPTH
MILLION = 1_000_000


@pytest.fixture(autouse=True)
def recursion_limit_untouched() -> Iterator[None]:
    before = sys.getrecursionlimit()
    yield
    assert sys.getrecursionlimit() == before


def brackets() -> Parser[int]:
    return fix(lambda p: (char(b"[") >> p << char(b"]")).map(lambda d: d + 1) | pure(0))


def feed_in_chunks(p: Parser[Any], data: bytes, size: int, buffer: int = 16) -> State[Any]:
    state: State[Any] = Buffered.parse(p, initial_buffer_size=buffer)
    for i in range(0, len(data), size):
        state = state.feed(data[i : i + size])
    return state.feed_eof()


# --------------------------------------------------------------------------------
# Deep recursion
# --------------------------------------------------------------------------------
def test_fix_ten_thousand_levels_one_shot() -> None:
    nest: Parser[int] = fix(lambda p: (char(b"[") >> p << char(b"]")) | pure(0))
    assert parse(nest, NESTED) == 0
    assert parse(brackets(), NESTED) == DEPTH


@pytest.mark.parametrize("size", [7, 4096])
def test_fix_ten_thousand_levels_buffered(size: int) -> None:
    done = feed_in_chunks(brackets(), NESTED, size)
    assert isinstance(done, Done)
    assert done.value == DEPTH


def test_fix_ten_thousand_levels_unbuffered_byte_by_byte() -> None:
    state: State[int] = Unbuffered.parse(brackets() << end_of_input)
    pending = b""
    for i in range(len(NESTED)):
        assert isinstance(state, Partial)
        pending = pending[state.committed :] + NESTED[i : i + 1]
        state = state.resume(pending)
    assert isinstance(state, Partial)
    done = state.resume(pending[state.committed :], complete=True)
    assert isinstance(done, Done)
    assert done.value == DEPTH


def test_fix_ten_thousand_levels_failing() -> None:
    with pytest.raises(ParseError) as info:
        parse(brackets(), b"[" * DEPTH)
    assert info.value.position == DEPTH
    assert "']'" in info.value.expected
    data = b"[" * DEPTH + b"]" * (DEPTH - 1) + b"x"
    failed = feed_in_chunks(brackets() << end_of_input, data, 100)
    assert isinstance(failed, Fail)
    assert failed.error.position == 2 * DEPTH - 1


def test_deep_recursion_through_bind() -> None:
    parens: Parser[int] = fix(
        lambda p: char(b"(").bind(lambda _: p.map(lambda d: d + 1) << char(b")")) | pure(0)
    )
    assert parse(parens, b"(" * DEPTH + b")" * DEPTH) == DEPTH


@generate
def nested_list() -> Generator[Parser[Any], Any, int]:
    yield char(b"[")
    depth: int = yield option(-1, nested_list)
    yield char(b"]")
    return depth + 1


def test_deep_recursion_through_generate() -> None:
    assert parse(nested_list, NESTED) == DEPTH - 1


def test_deep_right_nested_values() -> None:
    # A value nested 10 000 deep, built without recursion in the parser.
    cons: Parser[Any] = fix(
        lambda p: (char(b"[") >> p << char(b"]")).map(lambda v: (v,)) | pure(())
    )
    value = parse(cons, NESTED)
    depth = 0
    while value:
        (value,) = value
        depth += 1
    assert depth == DEPTH


# --------------------------------------------------------------------------------
# Long loops
# --------------------------------------------------------------------------------
def test_many_over_a_million_items() -> None:
    data = b"a" * MILLION
    assert len(parse(many(char(b"a")), data)) == MILLION
    values = parse(many(any_char.bind(lambda c: pure(c))), data)
    assert len(values) == MILLION
    assert values[0] == b"a"
    assert values[-1] == b"a"


def test_skip_many_over_a_million_items() -> None:
    assert parse(skip_many(char(b"a")), b"a" * MILLION) is None
    assert parse(skip_many(any_char.map(lambda c: c)), b"a" * MILLION) is None


def test_count_with_a_large_count() -> None:
    # Angstrom #221: count overflowed the stack for large n.
    assert len(parse(count(100_000, any_char.bind(pure)), b"x" * 100_000)) == 100_000
    assert len(parse(count(100_000, char(b"x")), b"x" * 100_000)) == 100_000


def test_sep_by_and_many_till_over_many_items() -> None:
    n = 100_000
    numbers = b",".join(b"%d" % (i % 1000) for i in range(n))
    number = take_while1(b"0123456789").map(int)
    assert parse(sep_by(char(b","), number), numbers)[-1] == (n - 1) % 1000
    assert len(parse(many_till(any_char, char(b"!")), b"a" * n + b"!")) == n


def test_many_over_many_items_buffered() -> None:
    n = 200_000
    done = feed_in_chunks(many(any_char.bind(pure)), b"b" * n, 4096, buffer=4096)
    assert isinstance(done, Done)
    assert len(done.value) == n


def test_long_chain_of_combinators_built_programmatically() -> None:
    # A record of 2 000 one-byte fields folded with lift2: the description itself is
    # 2 000 levels deep.
    fields = 2_000
    record = reduce(lambda acc, p: lift2(lambda a, b: a + b, acc, p), [any_uint8] * fields)
    assert parse(record, b"\x01" * fields) == fields


def test_a_long_chain_of_binds_does_not_deepen_the_python_stack() -> None:
    # Each byte's continuation is a new bind: the chain is as long as the input.
    from wirekit.combinators import any_char, parse, pure

    def upto_semicolon(n: int) -> Parser[int]:
        return any_char.bind(lambda c: pure(n) if c == b";" else upto_semicolon(n + 1))

    data = b"x" * 20_000 + b";"
    assert parse(upto_semicolon(0), data) == 20_000
    wrapped = upto_semicolon(0).map(lambda n: n + 1).desc("count")
    assert parse(wrapped, data) == 20_001


# --------------------------------------------------------------------------------
# The direct form against the machine
# --------------------------------------------------------------------------------
def on_the_machine(p: Parser[Any], data: bytes) -> Any:
    """``parse(p, data)`` run on the machine's stack (no direct form), as `parse` did
    before it had one: the reference the direct form must agree with."""
    c = compiled(_whole(p))
    with stack_form():
        m = Machine(data, 0, len(data), complete=True)
    m.root = c
    assert m.run(c) is None
    m.drop_windows()
    if not m.ok:
        raise error_of(m)
    return m.value


def outcome(run: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", run()
    except ParseError as e:
        return "error", (e.position, e.expected, e.marks, e.message)


def user_grammar(calls: list[Any]) -> Parser[Any]:
    """Nested lists and records with every kind of node that has a direct form, each user
    function noting its calls: ``[`` items ``]``, ``{k:v;...}`` records with a commit
    after each key, ``#n:`` length-prefixed fields run in `isolate`, numbers checked by
    `try_map`, ``'`` quoted strings read by a generator."""

    def note(tag: str) -> Callable[[Any], Any]:
        def f(v: Any) -> Any:
            calls.append((tag, v))
            return v

        return f

    def digits_to_int(b: bytes) -> int:
        calls.append(("int", b))
        if len(b) > 3:
            raise ValueError("at most three digits")
        return int(b)

    # (The optional "." notes a failure past the digits: a rejected value must not
    # leave it in the report.)
    digits = take_while1(b"0123456789") << option(None, char(b"."))
    number = digits.try_map(digits_to_int).desc("number")

    @generate
    def quoted() -> Generator[Parser[Any], Any, bytes]:
        yield char(b"'")
        body: bytes = yield take_while(lambda c: c != ord("'"))
        yield char(b"'")
        calls.append(("quoted", body))
        return body

    def value(v: Parser[Any]) -> Parser[Any]:
        items = (char(b"[") >> sep_by(char(b","), v) << char(b"]")).map(note("list"))
        key = take_while1(b"abc").map(note("key"))
        member = lift2(lambda k, x: (k, x), key << char(b":") << commit, v)
        record = (char(b"{") >> sep_by(char(b";"), member) << char(b"}")).map(note("record"))
        field = (char(b"#") >> number << char(b":")).bind(
            lambda n: isolate(n, many(satisfy(b"xy").map(note("field byte"))))
        )
        tagged = (string(b"@") >> BE.any_uint8).map(note("tag"))
        # A loop whose item can match nothing, a cut, a list of at least one.
        zs = char(b"!") >> many(take_while(b"z").map(note("zs")))
        cut = (char(b"%") >> commit >> char(b"!")) | string(b"%%")
        ones = char(b"<") >> sep_by1(char(b","), number) << char(b">")
        return choice([items, record, field, number, quoted, tagged.desc("tag"), zs, cut, ones])

    return fix(value)


TOKENS = [b"[", b"]", b",", b"{", b"}", b":", b";", b"a", b"bc", b"#", b"2", b"12", b"0",
          b"x", b"y", b"'", b"'q'", b"1234", b"@", b"\x07", b"z", b"[[", b"]]", b"!", b"%",
          b"<", b">"]
# Inputs where a direct form that skipped a rule would be seen (each was checked to fail
# with the rule taken out): a rejected value after a commit, a loop's empty last match,
# a cut, an empty list that must not be.
CASES = [b"{a:1234}", b"{a:[1,{b:12345}]}", b"!", b"!zz", b"[!,!z]", b"%%", b"%!", b"<>",
         b"<1,2>", b"[<>]", b"#3:xyx", b"#3:xy", b"#1:xy", b"[@\x07,'q']", b"{a:1;bc:[]}"]


def agrees_with_the_machine(data: bytes) -> tuple[tuple[str, Any], list[Any]]:
    """Parse ``data`` in both forms; assert the same outcome and the same user calls, in
    the same order; return them."""
    direct_calls: list[Any] = []
    machine_calls: list[Any] = []
    direct = outcome(lambda: parse(user_grammar(direct_calls), data))
    machine = outcome(lambda: on_the_machine(user_grammar(machine_calls), data))
    assert direct == machine
    assert direct_calls == machine_calls
    return direct, direct_calls


@pytest.mark.parametrize("data", CASES)
def test_the_direct_form_agrees_with_the_machine(data: bytes) -> None:
    agrees_with_the_machine(data)


@pytest.mark.parametrize("data", [*CASES, b"[12,x]", b"{a:#2:x}", b"[{a:1},<1,2,>]"])
def test_the_direct_form_suspends_into_the_frames_the_stack_form_has(data: bytes) -> None:
    # Fed at every split point and byte by byte, every node of the grammar suspends in
    # the direct form with its state in its frame (a label's frame restores the labels
    # after it: a failure past "12" must not name "number").
    check(user_grammar([]), data)


def rejected(_: bytes) -> bytes:
    raise ValueError("rejected")


def test_a_labelled_choice_left_one_candidate_keeps_its_error_in_both_forms() -> None:
    # Dispatch leaves one alternative: the stack form enters it as a tail call, so its
    # own error stands, not the choice's label (found by a differential fuzzer: the
    # direct form put the label on it, in one shot and for some splits only).
    labelled = choice([char(b"a").try_map(rejected), string(b"cd").map(bytes.upper)], "thing")
    grammar = string(b"x") >> commit >> labelled
    check(grammar, b"xa", expect_error=Err(1, ["rejected"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_the_direct_form_agrees_with_the_machine_on_random_input(tokens: list[bytes]) -> None:
    agrees_with_the_machine(b"".join(tokens))


@pytest.mark.parametrize("depth", [DIRECT_DEPTH // 4, DIRECT_DEPTH, 3 * DIRECT_DEPTH])
@pytest.mark.parametrize("ending", [b"", b"x", b"#5:xy]"])
def test_the_direct_form_hands_deep_input_to_the_machine_and_agrees(depth: int, ending: bytes) -> None:
    # Deeper than DIRECT_DEPTH, the rest of the parse runs on the machine's stack: the
    # same values, errors and calls, and each user function called once per match.
    direct, direct_calls = agrees_with_the_machine(
        b"[{a:" * depth + b"#2:xy" + b"}]" * depth + ending
    )
    if not ending:
        assert direct[0] == "value"
        assert [tag for tag, _ in direct_calls].count("record") == depth


def test_every_node_class_runs_its_own_enter_in_the_direct_form() -> None:
    # A class that defines its own `enter` must not inherit a `go` written for its base
    # (that `go` would run the base's logic): its `go` is its own, or `Parser.go`, which
    # runs `enter` itself (a leaf) or the machine.
    classes: list[type[Any]] = []
    todo: list[type[Any]] = [Parser]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    checked = 0
    for cls in classes:
        if not cls.__module__.startswith("wirekit."):
            continue
        mro = cls.__mro__
        go_owner = next(c for c in mro if "go" in vars(c))
        enter_owner = next(c for c in mro if "enter" in vars(c))
        assert go_owner is Parser or mro.index(go_owner) <= mro.index(enter_owner), cls
        checked += 1
    assert checked > 20


def test_the_direct_form_is_not_used_with_a_tracer() -> None:
    events: list[Any] = []
    grammar = user_grammar([])
    assert parse(grammar, b"[1,2]", trace=events.append) == [1, 2]
    assert parse(grammar.desc("doc"), b"[1,2]", trace=events.append) == [1, 2]
    assert events  # the labelled rules were traced (the machine's general form)
    assert wc.parse(grammar, b"[1,2]") == [1, 2]
