"""The compile step (`_compile.py`): regular sub-grammars fused into one pattern and
first-byte dispatch must change nothing but speed.

Random grammars are built from every primitive and combinator over a small alphabet and
checked two ways: every way of feeding the input agrees (`check`), and the grammar gives
the same result as its *opaque* twin, in which every node is wrapped in
``.bind(pure)`` (a monad law: same meaning) so that nothing can be fused or dispatched.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    BE,
    Consume,
    ParseError,
    Parser,
    any_char,
    any_uint8,
    at_end_of_input,
    both,
    char,
    choice,
    commit,
    consumed,
    count,
    end_of_input,
    explain,
    fail,
    fast_prefix,
    generate,
    lookahead,
    many,
    many1,
    many_till,
    not_char,
    not_followed_by,
    option,
    parse,
    peek_char,
    peek_char_fail,
    peek_string,
    pos,
    pure,
    satisfy,
    scan,
    sep_by,
    seq,
    skip_many,
    skip_while,
    string,
    string_ci,
    take,
    take_till,
    take_while,
    take_while1,
)
from wirekit.combinators._analysis import MAX_REGULAR_DEPTH

from tests.combinators.helpers import Err, check


# --------------------------------------------------------------------------------
# Cases found by the random grammars below, kept as plain tests
# --------------------------------------------------------------------------------
def test_peek_string_needs_its_bytes_even_when_its_value_is_unused() -> None:
    # Fused, a peek whose value is dropped must still require the bytes.
    assert explain(peek_string(2) >> char(b"b")).fused
    check(peek_string(2) >> char(b"b"), b"b", expect_error=Err(0))
    check(consumed(peek_string(2)), b"", expect_error=Err(0))
    check(count(2, peek_string(2) >> char(b"b")), b"bb", expect_error=Err(1))


def test_peek_string_with_its_value_used() -> None:
    check(both(peek_string(2), char(b"b")), b"b", expect_error=Err(0))
    check(both(peek_string(2), take(2)), b"ab", (b"ab", b"ab"))


def test_an_empty_fused_item_ending_a_loop_after_a_commit_reports_its_expectations() -> None:
    # After a commit the error comes from the failure records, not from a re-run. The
    # empty match that ends a loop of a fused nullable item is a fused success like any
    # other: what its item expected there is reported, whether the loop ran it as one
    # match (complete input) or in its general form (input that might continue).
    a_or_nothing = option(None, char(b"a"))
    assert explain(a_or_nothing).fused
    expected = ["'a'", "end of input"]
    for loop in (many, many1, skip_many):
        check(commit >> loop(a_or_nothing), b"b", expect_error=Err(0, expected))
        check(commit >> loop(a_or_nothing), b"aab", expect_error=Err(2, expected))
        check(commit >> loop(a_or_nothing), b"aa", [b"a", b"a"] if loop is not skip_many else None)
    # A label whose parser began where it failed names the expectation (see _report).
    check(commit >> many(a_or_nothing.desc("A")), b"ab", expect_error=Err(1, ["A", "end of input"], []))
    ab_or_nothing = option(None, string(b"ab"))
    check(commit >> many(ab_or_nothing), b"b", expect_error=Err(0, ["'ab'", "end of input"]))
    check(commit >> many(ab_or_nothing), b"abac", expect_error=Err(2, ["'ab'", "end of input"]))
    check(commit >> skip_many(take_while(b"a")), b"aab", expect_error=Err(2, ["end of input"]))
    check(commit >> many(take_while(b"a")), b"b", expect_error=Err(0, ["end of input"]))


def test_a_fused_item_run_in_its_general_form_keeps_its_skipped_alternatives_to_itself() -> None:
    # Run in its general form (the input might continue), the fused item's choice skips
    # `char(b"a") | string(b"bc")` by the first byte; that must not add the skipped
    # alternative as a whole ("'a' or 'bc'") to what the one match reports.
    item = option(None, char(b"a") | string(b"bc"))
    assert explain(item).fused
    check(
        char(b"a") >> commit >> many(item),
        b"ac",
        expect_error=Err(1, ["'a'", "'bc'", "end of input"]),
    )
    check(char(b"a") >> commit >> item, b"ac", expect_error=Err(1, ["'a'", "'bc'", "end of input"]))


def test_a_fused_failure_waits_for_the_bytes_that_decide_where_it_is() -> None:
    # On b"a" with more to come, no continuation can match, but the furthest failure
    # is only known once `take(2)` has its bytes: the parse must not fail before then
    # with "2 more bytes" at 0 when complete input says "x" at 2.
    p = option(None, many(take(2) >> fail("x")))
    assert explain(p).fused
    check(p, b"aa", expect_error=Err(2, ["x"]))


# --------------------------------------------------------------------------------
# Random grammars
# --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grammar:
    """A grammar, its opaque twin (nothing fusable), and how it was written."""

    parser: Parser[Any]
    opaque: Parser[Any]
    text: str

    def __repr__(self) -> str:
        return self.text


def _opaque(p: Parser[Any]) -> Parser[Any]:
    return p.bind(pure)


def _leaf(p: Parser[Any], text: str) -> Grammar:
    return Grammar(p, _opaque(p), text)


def _upto_two(n: int, byte: int) -> int | None:
    return None if n >= 2 or byte == ord("c") else n + 1


LEAVES = [
    _leaf(char(b"a"), 'char(b"a")'),
    _leaf(char(b"b"), 'char(b"b")'),
    _leaf(not_char(b"a"), 'not_char(b"a")'),
    _leaf(satisfy(b"bc"), 'satisfy(b"bc")'),
    _leaf(any_char, "any_char"),
    _leaf(string(b"ab"), 'string(b"ab")'),
    _leaf(string(b"ba"), 'string(b"ba")'),
    _leaf(string(b"abc"), 'string(b"abc")'),
    _leaf(string_ci(b"aB"), 'string_ci(b"aB")'),
    _leaf(take(1), "take(1)"),
    _leaf(take(2), "take(2)"),
    _leaf(take_while(b"ab"), 'take_while(b"ab")'),
    _leaf(take_while1(b"a"), 'take_while1(b"a")'),
    _leaf(take_till(b"c"), 'take_till(b"c")'),
    _leaf(skip_while(b"b"), 'skip_while(b"b")'),
    _leaf(peek_char, "peek_char"),
    _leaf(peek_char_fail, "peek_char_fail"),
    _leaf(peek_string(2), "peek_string(2)"),
    _leaf(end_of_input, "end_of_input"),
    _leaf(at_end_of_input, "at_end_of_input"),
    _leaf(pos, "pos"),
    _leaf(pure(0), "pure(0)"),
    _leaf(fail("x"), 'fail("x")'),
    _leaf(scan(0, _upto_two), "scan(0, upto_two)"),
    _leaf(BE.int16(0x6162), "BE.int16(0x6162)"),
    _leaf(any_uint8, "any_uint8"),
]

Unary = Callable[[Parser[Any]], Parser[Any]]
Binary = Callable[[Parser[Any], Parser[Any]], Parser[Any]]


def _wrap_list(v: Any) -> list[Any]:
    return [v]


UNARY: list[tuple[str, Unary]] = [
    ("option(None, {})", lambda a: option(None, a)),
    ("many({})", many),
    ("many1({})", many1),
    ("skip_many({})", skip_many),
    ("count(2, {})", lambda a: count(2, a)),
    ('many_till(satisfy(b"ab"), {})', lambda a: many_till(satisfy(b"ab"), a)),
    ("{}.map(wrap_list)", lambda a: a.map(_wrap_list)),
    ("{}.desc('L')", lambda a: a.desc("L")),
]
LOOKING: list[tuple[str, Unary]] = [
    ("lookahead({})", lookahead),
    ("not_followed_by({})", not_followed_by),
    ("consumed({})", consumed),
]
COMMITTING: list[tuple[str, Unary]] = [
    ("({} >> commit)", lambda a: a >> commit),
    ("(commit >> {})", lambda a: commit >> a),
]
BINARY: list[tuple[str, Binary]] = [
    ("({} >> {})", lambda a, b: a >> b),
    ("({} << {})", lambda a, b: a << b),
    ("both({}, {})", both),
    ("({} | {})", lambda a, b: a | b),
    ("choice([{}, {}], failure_msg='M')", lambda a, b: choice([a, b], failure_msg="M")),
    ("sep_by({}, {})", sep_by),
    ("{}.bind(lambda _: {})", lambda a, b: a.bind(lambda _: b)),
]


def _unary(name: str, f: Unary) -> Callable[[Grammar], Grammar]:
    return lambda g: Grammar(f(g.parser), _opaque(f(g.opaque)), name.format(g.text))


def _binary(name: str, f: Binary) -> Callable[[tuple[Grammar, Grammar]], Grammar]:
    return lambda t: Grammar(
        f(t[0].parser, t[1].parser),
        _opaque(f(t[0].opaque, t[1].opaque)),
        name.format(t[0].text, t[1].text),
    )


def grammars(with_commit: bool) -> st.SearchStrategy[Grammar]:
    """Random grammars; with commits, or with lookahead and `consumed` (a commit inside
    those is a misuse, as in Angstrom)."""
    unary = UNARY + (COMMITTING if with_commit else LOOKING)

    def extend(children: st.SearchStrategy[Grammar]) -> st.SearchStrategy[Grammar]:
        pairs = st.tuples(children, children)
        return st.one_of(
            [children.map(_unary(name, f)) for name, f in unary]
            + [pairs.map(_binary(name, f)) for name, f in BINARY]
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=6)


INPUTS = st.lists(st.sampled_from([b"a", b"b", b"c", b"A", b"B"]), max_size=7).map(b"".join)
RANDOM = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RANDOM
@given(g=grammars(with_commit=False), data=INPUTS, prefix=st.booleans())
def test_random_grammars_agree_however_fed(g: Grammar, data: bytes, prefix: bool) -> None:
    check(g.parser, data, consume=Consume.PREFIX if prefix else Consume.ALL)


@RANDOM
@given(g=grammars(with_commit=True), data=INPUTS, prefix=st.booleans())
def test_random_grammars_with_commits_agree_however_fed(
    g: Grammar, data: bytes, prefix: bool
) -> None:
    check(g.parser, data, consume=Consume.PREFIX if prefix else Consume.ALL)


def _result(p: Parser[Any], data: bytes, consume: Consume) -> tuple[bool, Any]:
    try:
        return True, parse(p, data, consume)
    except ParseError:
        return False, None


@RANDOM
@given(g=grammars(with_commit=False), data=INPUTS, prefix=st.booleans())
def test_random_grammars_match_their_opaque_twin(g: Grammar, data: bytes, prefix: bool) -> None:
    consume = Consume.PREFIX if prefix else Consume.ALL
    assert _result(g.parser, data, consume) == _result(g.opaque, data, consume)


@RANDOM
@given(g=grammars(with_commit=True), data=INPUTS, prefix=st.booleans())
def test_random_grammars_with_commits_match_their_opaque_twin(
    g: Grammar, data: bytes, prefix: bool
) -> None:
    consume = Consume.PREFIX if prefix else Consume.ALL
    assert _result(g.parser, data, consume) == _result(g.opaque, data, consume)


def test_a_kept_byte_in_a_fused_block_is_a_constant() -> None:
    # `char` needs no group in a pattern: its value is the byte, kept on the node. Every
    # way a fused block's value is made gives it: one match, the fused loop, a sequence,
    # the general form when a split leaves the match undecided (`check` feeds every
    # split), `fast_prefix`; and the same as the block not fused.
    comma = char(b",") << skip_while(b" ")
    assert explain(comma).root.kind == "fused" and explain(comma).root.groups == 0
    check(comma, b",  ", b",")
    check(many(comma), b", ,,", [b",", b",", b","])
    check(seq(comma, take_while1(b"ab")), b", ab", (b",", b"ab"))
    check(choice([comma, string(b";")]), b"x", expect_error=Err(0, ["','", "';'"]))
    assert fast_prefix(comma)(b", x", 0, 3) == (b",", 2)
    opaque = char(b",").bind(pure) << skip_while(b" ")
    assert explain(opaque).root.kind != "fused"
    for data in (b",", b", ,", b"x"):
        for p in (comma, many(comma)):
            twin = many(opaque) if p is not comma else opaque
            assert _result(p, data, Consume.PREFIX) == _result(twin, data, Consume.PREFIX)


def test_a_loop_of_kept_bytes_still_collects_its_items_in_one_call() -> None:
    # In a loop's item a kept byte stays a group (not a constant): the items' values are
    # then all groups, and `findall` collects them in C. With constants the loop re-matched
    # each item in Python (2.3-3.6x slower, found by review).
    cases: list[tuple[Parser[Any], bytes, Any]] = [
        (many(char(b"a")), b"aaa", [b"a"] * 3),
        (many(seq(char(b"a"), char(b"b"))), b"abab", [(b"a", b"b")] * 2),
        (sep_by(char(b","), char(b"a")), b"a,a,a", [b"a"] * 3),
    ]
    for p, data, value in cases:
        check(p, data, value)
        fused = p._c
        assert fused is not None and fused.fused
        gen, _ = fused.source  # type: ignore[attr-defined]
        assert any(getattr(v, "__name__", "") == "findall" for v in gen.env.values())


def test_parsers_made_while_parsing_are_linked_in_place_or_compiled() -> None:
    # Made inside a generator, a parser whose parts are compiled or made there too (up to
    # a few levels) is linked in place, nothing fused; one deeper, or with a part made
    # before the parse and never run, goes through the compiler. Values are the same.
    word = take_while1(b"ab")
    before = take_while1(b"c") << char(b";")  # made before the parse, not yet compiled
    made: dict[str, Parser[Any]] = {}

    @generate
    def g() -> Generator[Parser[Any], Any, tuple[Any, ...]]:
        made["shallow"] = many(word | char(b","))
        deep: Parser[Any] = word
        for _ in range(6):
            deep = deep.map(bytes.upper)
        made["deep"] = deep
        made["nested"] = (char(b"x") >> char(b"y")) << char(b"z")  # not flattened
        made["list"] = sep_by(char(b","), word)
        made["mixed"] = many(before)
        shallow = yield made["shallow"]
        yield char(b" ")
        upper = yield made["deep"]
        yield char(b" ")
        y = yield made["nested"]
        items = yield made["list"]
        mixed = yield made["mixed"]
        return shallow, upper, y, items, mixed

    expected = ([b"ab", b",", b"b"], b"BA", b"y", [b"a", b"b"], [b"c", b"cc"])
    check(g, b"ab,b ba xyza,bc;cc;", expected)
    assert all(p._c is p for name, p in made.items() if name != "mixed")
    assert type(before._c).__name__ == "Fused"  # compiled when first met, as before the parse


def test_the_depth_bound_decides_what_is_fused() -> None:
    # A counted bound, not Python's recursion limit: a regular tree up to the bound is one
    # pattern, one level more is not (its parts within the bound still are), whatever the
    # depth of the caller's stack and in the compiled build alike; the values are the same.
    def deep_call(frames: int, f: Callable[[], bool]) -> bool:
        return f() if frames == 0 else deep_call(frames - 1, f)

    depth = MAX_REGULAR_DEPTH  # sequences around one primitive: one level too many
    beyond: Parser[Any] = char(b"x")
    for _ in range(depth):
        beyond = seq(char(b"("), beyond, char(b")"))
    inner = beyond.parsers[1]  # type: ignore[attr-defined]
    assert deep_call(100, lambda: not explain(beyond).fused)  # (compiled here, 100 frames down)
    assert explain(inner).fused, "the part within the bound is one pattern"
    reasons = [n.reason for n in explain(beyond).nodes() if n.reason]
    assert f"a regular tree too deep for one pattern (more than {MAX_REGULAR_DEPTH} levels)" in reasons
    data = b"(" * depth + b"x" + b")" * depth
    assert parse(beyond, data) == parse(beyond.bind(pure), data)  # (the opaque twin: nothing fused)
    bad = data[:-1] + b"]"
    with pytest.raises(ParseError) as fused_error:
        parse(beyond, bad)
    with pytest.raises(ParseError) as opaque_error:
        parse(beyond.bind(pure), bad)
    assert fused_error.value.position == opaque_error.value.position == len(data) - 1


def test_a_very_deep_regular_description_parses() -> None:
    # Too deep to analyse in one piece (`MAX_REGULAR_DEPTH`): it runs in its general form,
    # with no RecursionError and nothing left half-linked.
    q: Parser[Any] = char(b"x")
    for _ in range(3000):
        q = seq(char(b"("), q, char(b")"))
    data = b"(" * 3000 + b"x" + b")" * 3000
    value = parse(q, data)
    for _ in range(3000):
        assert isinstance(value, tuple) and value[0] == b"("
        value = value[1]
    assert value == b"x"
