"""Stack safety of the interpreter (`_machine.py`): deep recursion through `fix`, `bind`
and `generate`, and loops over a million items, run without RecursionError and without
touching ``sys.getrecursionlimit()``."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from functools import reduce
from typing import Any

import pytest
from wirekit.combinators import (
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
    count,
    end_of_input,
    fix,
    generate,
    lift2,
    many,
    many_till,
    option,
    parse,
    pure,
    sep_by,
    skip_many,
    take_while1,
)

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
