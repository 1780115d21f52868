"""Combinators (`_combinators.py`, and the operators and methods of `Parser` in
`_parser.py`). Every case runs through `check`: one shot, Buffered and Unbuffered, at
every split of the input."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from functools import reduce
from typing import Any

import pytest
from wirekit.combinators import (
    Buffered,
    Consume,
    ParseError,
    Parser,
    any_char,
    any_int8,
    any_uint8,
    both,
    char,
    choice,
    commit,
    consumed,
    count,
    end_of_input,
    explain,
    fail,
    fix,
    generate,
    lift2,
    lift3,
    lift4,
    lookahead,
    many,
    many1,
    many_till,
    not_followed_by,
    option,
    parse,
    pure,
    satisfy,
    sep_by,
    sep_by1,
    seq,
    skip_many,
    skip_many1,
    skip_while,
    string,
    take,
    take_till,
    take_while,
    take_while1,
)

from tests.combinators.helpers import Err, check, stack_form

PREFIX = Consume.PREFIX
DIGITS = b"0123456789"
number: Parser[int] = take_while1(DIGITS).map(int)


# --------------------------------------------------------------------------------
# Monad: pure, fail, bind, map
# --------------------------------------------------------------------------------
def test_pure() -> None:
    check(pure(1), b"", 1)
    check(pure("x"), b"abc", "x", consume=PREFIX, rest=b"abc")
    check(pure(None) >> char(b"a"), b"a", b"a")


def test_fail() -> None:
    check(fail("no way"), b"", expect_error=Err(0, ["no way"], [], "at offset 0: expected no way"))
    check(char(b"a") >> fail("boom"), b"ab", expect_error=Err(1, ["boom"]))
    check(fail("left") | pure(2), b"", 2)


def test_bind_data_dependency() -> None:
    # Angstrom: take 2 >>= string.
    p = take(2).bind(string)
    check(p, b"abab", b"ab")
    check(p, b"abac", expect_error=Err(2, ["'ab'"]))
    length_prefixed = satisfy(DIGITS).bind(lambda n: take(int(n)))
    check(length_prefixed, b"3abc", b"abc")
    check(length_prefixed, b"0", b"")
    check(length_prefixed, b"3ab", expect_error=Err(1))


def test_map_and_result() -> None:
    check(number.map(lambda n: n * 2), b"21", 42)
    check(char(b"t").result(True), b"t", True)
    check(string(b"null").result(None), b"null", None)
    check(many(char(b"a").result(1)), b"aaa", [1, 1, 1])


# --------------------------------------------------------------------------------
# Sequencing: operators, both, seq, lift
# --------------------------------------------------------------------------------
def test_keep_right_and_keep_left() -> None:
    check(char(b"a") >> char(b"b"), b"ab", b"b")
    check(char(b"a") << char(b"b"), b"ab", b"a")
    check(char(b"a") >> char(b"b") << char(b"c"), b"abc", b"b")
    check(char(b"a") << char(b"b") << char(b"c"), b"abc", b"a")
    check((char(b"a") >> char(b"b")) >> (char(b"c") >> char(b"d")), b"abcd", b"d")
    check(char(b"a") << (char(b"b") >> char(b"c")), b"abc", b"a")
    check(char(b"a") >> char(b"b"), b"ax", expect_error=Err(1, ["'b'"]))
    check(char(b"a") << char(b"b"), b"xb", expect_error=Err(0, ["'a'"]))


def test_then_and_skip_methods() -> None:
    check(char(b"a").then(char(b"b")), b"ab", b"b")
    check(char(b"a").skip(char(b"b")), b"ab", b"a")
    check(string(b"key").skip(char(b"=")).then(number), b"key=7", 7)


def test_both_and_seq() -> None:
    check(both(char(b"a"), number), b"a12", (b"a", 12))
    check(seq(char(b"a"), char(b"b"), number), b"ab3", (b"a", b"b", 3))
    check(seq(char(b"a")), b"a", (b"a",))
    check(seq(), b"", ())
    check(both(char(b"a"), char(b"b")), b"ac", expect_error=Err(1))


def test_lift() -> None:
    check(lift2(lambda a, b: a + b, number << char(b"+"), number), b"2+3", 5)
    check(
        lift3(lambda a, b, c: (c, b, a), any_char, any_char, any_char), b"xyz", (b"z", b"y", b"x")
    )
    check(
        lift4(lambda a, b, c, d: a + b + c + d, take(1), take(2), take(3), take(4)),
        b"abbcccdddd",
        b"abbcccdddd",
    )
    check(lift2(lambda a, b: a, any_char, any_char), b"a", expect_error=Err(1))


# --------------------------------------------------------------------------------
# Alternatives
# --------------------------------------------------------------------------------
def test_or_on_chars_and_strings_in_both_orders() -> None:
    check(char(b"a") | char(b"b"), b"a", b"a")
    check(char(b"a") | char(b"b"), b"b", b"b")
    check(char(b"b") | char(b"a"), b"a", b"a")
    check(string(b"ab") | string(b"a"), b"ab", b"ab")
    check(string(b"ab") | string(b"a"), b"a", b"a")
    check(string(b"a") | string(b"ab"), b"ab", b"a", consume=PREFIX, rest=b"b")
    # PEG ordered choice: the first success is final, there is no going back into it.
    check(string(b"a") | string(b"ab"), b"ab", expect_error=Err(1))


def test_or_backtracks_after_a_partial_match() -> None:
    p = (string(b"ab") >> char(b"c")) | (string(b"ab") >> char(b"d"))
    check(p, b"abd", b"d")
    check(p, b"abc", b"c")
    check(p, b"abe", expect_error=Err(2, ["'c'", "'d'"]))
    q = (take(3) >> char(b"!")) | take(2)
    check(q, b"abcd", b"ab", consume=PREFIX, rest=b"cd")


def test_choice() -> None:
    p = choice([string(b"GET"), string(b"POST"), string(b"PUT")])
    check(p, b"GET", b"GET")
    check(p, b"POST", b"POST")
    check(p, b"PUT", b"PUT")
    check(p, b"PATCH", expect_error=Err(0))
    check(choice([pure(1)]), b"", 1)
    check(choice(iter([char(b"x"), char(b"y")])), b"y", b"y")


def test_empty_choice_fails() -> None:
    # Angstrom: choice [] fails ("no more choices").
    check(choice([]), b"", expect_error=Err(0))
    check(choice([], failure_msg="a command"), b"x", expect_error=Err(0, ["a command"]))
    check(choice([]) | pure(1), b"", 1)


def test_choice_failure_msg() -> None:
    p = choice([char(b"a"), char(b"b")], failure_msg="a or b")
    check(p, b"b", b"b")
    check(p, b"c", expect_error=Err(0, ["a or b"], [], "at offset 0: expected a or b"))
    check(p, b"", expect_error=Err(0, ["a or b"]))
    # A failure further in than the choice's start is reported as it is.
    q = choice([string(b"ab") >> char(b"x"), string(b"ac")], failure_msg="ab or ac")
    check(q, b"abz", expect_error=Err(2, ["'x'"]))


def test_choice_and_commit() -> None:
    # Angstrom's choice_commit: the commit inside the first branch cuts the second.
    p = choice([string(b"@@") >> commit >> char(b"*"), string(b"@") >> commit >> char(b"!")])
    check(p, b"@@^", expect_error=Err(2, ["'*'"], [], "at offset 2: expected '*'"))
    check(p, b"@@*", b"*")
    check(p, b"@!", b"!")


def test_commit_inside_a_choice_inside_a_choice() -> None:
    inner = (char(b"a") >> commit >> char(b"b")) | char(b"a")
    outer = inner | string(b"ac")
    check(outer, b"ab", b"b")
    check(outer, b"ac", expect_error=Err(1, ["'b'"]))


def test_option_and_optional() -> None:
    check(option(b"x", char(b"a")), b"a", b"a")
    check(option(b"x", char(b"a")), b"", b"x")
    check(option(b"x", char(b"a")), b"b", b"x", consume=PREFIX, rest=b"b")
    check(option(None, string(b"ab")), b"ac", None, consume=PREFIX, rest=b"ac")
    check(char(b"-").optional() >> number, b"-5", 5)
    check(char(b"-").optional(), b"", None)
    check(char(b"-").optional(b"+"), b"", b"+")
    # A commit inside the parser cuts the default.
    check(option(None, char(b"a") >> commit >> char(b"b")), b"ac", expect_error=Err(1, ["'b'"]))


# --------------------------------------------------------------------------------
# Repetition
# --------------------------------------------------------------------------------
def test_many() -> None:
    check(many(char(b"a")), b"", [])
    check(many(char(b"a")), b"a", [b"a"])
    check(many(char(b"a")), b"aa", [b"a", b"a"])
    check(many(number << char(b";")), b"1;22;333;", [1, 22, 333])
    check(char(b"a").many(), b"aaa", [b"a", b"a", b"a"])


def test_many_backtracks_a_failed_item() -> None:
    check(many(string(b"ab")), b"ababa", [b"ab", b"ab"], consume=PREFIX, rest=b"a")
    check(many(char(b"a") >> char(b"b")), b"aba", [b"b"], consume=PREFIX, rest=b"a")
    check(many(take(2)), b"abcde", [b"ab", b"cd"], consume=PREFIX, rest=b"e")


def test_many_of_a_parser_that_matches_nothing_terminates() -> None:
    check(many(pure(1)), b"", [])
    check(many(char(b"x").optional()), b"xx", [b"x", b"x"])


def test_repetition_of_a_greedy_loop() -> None:
    check(many(take_while(b"a")), b"aab", [b"aa"], consume=PREFIX, rest=b"b")
    check(count(2, take_till(b",")), b"ab", [b"ab", b""])
    check(many1(skip_while(b" ")), b"  ", [None])
    check(many(take_while1(b"a")), b"aa", [b"aa"])
    check(skip_many(skip_while(b" ")), b"  ", None)


def test_many_fails_when_an_item_fails_after_committing() -> None:
    item = char(b"a") >> commit >> char(b"b")
    check(many(item), b"abab", [b"b", b"b"])
    check(many(item), b"abac", expect_error=Err(3, ["'b'"]))
    check(many(item), b"aba", expect_error=Err(3, ["'b'"]))


def test_many_results_are_fresh_lists() -> None:
    parsers: list[Parser[list[Any]]] = [
        many(char(b"a")),
        many(any_char.map(lambda c: c)),
        sep_by(char(b","), number),
    ]
    for p in parsers:
        first = parse(p, b"")
        first.append(0)
        assert parse(p, b"") == []


def test_many1() -> None:
    check(many1(char(b"a")), b"a", [b"a"])
    check(many1(char(b"a")), b"aaa", [b"a", b"a", b"a"])
    check(many1(char(b"a")), b"", expect_error=Err(0, ["'a'"]))
    check(many1(char(b"a")), b"b", expect_error=Err(0))
    check(char(b"a").many1(), b"aa", [b"a", b"a"])


def test_count() -> None:
    check(count(0, char(b"a")), b"", [])
    check(count(0, char(b"a")), b"a", [], consume=PREFIX, rest=b"a")
    check(count(2, char(b"a")), b"aa", [b"a", b"a"])
    check(count(2, char(b"a")), b"aaa", [b"a", b"a"], consume=PREFIX, rest=b"a")
    check(count(2, char(b"a")), b"ab", expect_error=Err(1, ["'a'"]))
    check(count(3, pure(7)), b"", [7, 7, 7])
    check(any_char.times(3), b"xyz", [b"x", b"y", b"z"])
    check(count(2, number << char(b",")), b"1,22,", [1, 22])


def test_a_negative_count_from_the_wire_is_a_parse_error() -> None:
    # A count read from the input (here a signed byte) that is negative fails where it
    # stands, with a ParseError, not a ValueError out of the grammar.
    items = any_int8.bind(lambda n: count(n, any_char))
    check(items, b"\x02ab", [b"a", b"b"])
    check(items, b"\xffab", expect_error=Err(1, ["a count of at least 0 (got -1)"]))
    check(count(-3, any_char), b"", expect_error=Err(0, ["a count of at least 0 (got -3)"]))


def test_counts_built_while_parsing_are_shared_and_prebuilt_ones_still_fuse() -> None:
    # count(n, p) made inside a bind is looked up, not built and linked again for each
    # use; one made outside a parse is a separate node that the compiler may fuse.
    digit = satisfy(b"0123456789")
    made: dict[int, set[int]] = {}
    kept: list[Parser[Any]] = []  # (keeps the ids unique)

    def digits(n: int) -> Parser[list[bytes]]:
        p = count(n, digit)
        made.setdefault(n, set()).add(id(p))
        kept.append(p)
        return p

    items = many(any_uint8.bind(digits))
    check(items, b"\x0212\x00\x013", [[b"1", b"2"], [], [b"3"]])
    assert sorted(made) == [0, 1, 2] and all(len(ids) == 1 for ids in made.values())
    assert len(kept) > 3  # check() ran the grammar many times
    prebuilt = count(2, digit)
    assert id(prebuilt) not in made[2] and prebuilt is count(2, digit)
    assert explain(prebuilt).fused
    check(prebuilt, b"12", [b"1", b"2"])


def test_combinators_made_while_parsing_are_shared_and_written_ones_are_not() -> None:
    # Inside a generator (a parse running) `many`, `sep_by`, `|`, `choice`, `>>`, `<<`,
    # `both` and `seq` of the same parts give the same node: a lookup, not a node to build
    # and link for each use. Outside a parse each call makes its own node, as written.
    word = take_while1(b"ab")
    comma = char(b",")
    made: dict[str, set[int]] = {}
    kept: list[Parser[Any]] = []  # (keeps the ids unique)

    def note(name: str, p: Parser[Any]) -> Parser[Any]:
        made.setdefault(name, set()).add(id(p))
        kept.append(p)
        return p

    @generate
    def g() -> Generator[Parser[Any], Any, tuple[Any, ...]]:
        items = yield note("sep_by", sep_by(comma, word))
        rest = yield note("many", many(note("|", char(b"-") | word)))
        pair = yield note("both", both(char(b";"), word))
        tail = yield note("<<", note(">>", char(b"!") >> word) << char(b"."))
        alt = yield note("choice", choice([char(b"x"), char(b"y")], failure_msg="x or y"))
        rest2 = yield note("seq", seq(char(b"#"), word))
        return items, rest, pair, tail, alt, rest2

    expected = ([b"a", b"b"], [b"-", b"ab"], (b";", b"b"), b"a", b"x", (b"#", b"a"))
    check(g, b"a,b-ab;b!a.x#a", expected)
    assert len(kept) > 9  # check() ran the generator many times
    assert all(len(ids) == 1 for ids in made.values()), made
    assert many(word) is not many(word) and (comma | word) is not (comma | word)
    assert sep_by(comma, word) is not sep_by(comma, word) and seq(word, comma) is not seq(word, comma)


def test_many_till() -> None:
    # Angstrom's many_till test: non-greedy, the terminator is consumed.
    check(many_till(any_char, char(b"-")), b"ab-ab-", [b"a", b"b"], consume=PREFIX, rest=b"ab-")
    check(many_till(any_char, string(b"-->")), b"a-b-->", [b"a", b"-", b"b"])
    check(many_till(any_char, char(b"-")), b"-", [])
    check(many_till(any_char, char(b"-")), b"abc", expect_error=Err(3))
    check(many_till(char(b"a"), char(b"-")), b"ab-", expect_error=Err(1))


def test_sep_by1() -> None:
    p = sep_by1(char(b","), number)
    check(p, b"1", [1])
    check(p, b"1,2,3", [1, 2, 3])
    # A trailing separator is not consumed.
    check(p, b"1,2,", [1, 2], consume=PREFIX, rest=b",")
    check(p, b"1,2,x", [1, 2], consume=PREFIX, rest=b",x")
    check(p, b"", expect_error=Err(0))
    # The furthest failure is the missing item after the separator.
    check(p, b"1,2,", expect_error=Err(4))


def test_sep_by() -> None:
    p = sep_by(char(b","), number)
    check(p, b"", [])
    check(p, b"7", [7])
    check(p, b"7,8", [7, 8])
    check(p, b"x", [], consume=PREFIX, rest=b"x")
    check(p, b"7,", [7], consume=PREFIX, rest=b",")
    check(number.sep_by(string(b", ")), b"1, 2, 3", [1, 2, 3])


def test_skip_many() -> None:
    check(skip_many(char(b" ")), b"", None)
    check(skip_many(char(b" ")) >> char(b"x"), b"   x", b"x")
    check(skip_many(string(b"ab")), b"ababa", None, consume=PREFIX, rest=b"a")
    check(skip_many(char(b"a") >> commit >> char(b"b")), b"aba", expect_error=Err(3, ["'b'"]))


def test_skip_many1() -> None:
    check(skip_many1(char(b" ")) >> char(b"x"), b" x", b"x")
    check(skip_many1(char(b" ")) >> char(b"x"), b"x", expect_error=Err(0))
    check(skip_many1(take(2)), b"abcd", None)


# --------------------------------------------------------------------------------
# Recursion
# --------------------------------------------------------------------------------
def test_fix_nested_brackets() -> None:
    depth = fix(lambda p: (char(b"[") >> p << char(b"]")).map(lambda d: d + 1) | pure(0))
    check(depth, b"", 0)
    check(depth, b"[]", 1)
    check(depth, b"[[[]]]", 3)
    check(depth, b"[[]", expect_error=Err(3))
    check(depth, b"[]]", expect_error=Err(2))


def _calculator(expr: Parser[int]) -> Parser[int]:
    atom: Parser[int] = number | (char(b"(") >> expr << char(b")"))
    term = lift2(
        lambda first, rest: reduce(lambda a, b: a * b, rest, first), atom, many(char(b"*") >> atom)
    )
    return lift2(lambda first, rest: first + sum(rest), term, many(char(b"+") >> term))


def test_fix_expression_grammar() -> None:
    expr = fix(_calculator)
    check(expr, b"2*(3+4)+5", 19)
    check(expr, b"((1))", 1)
    check(expr, b"2*(3+4", expect_error=Err(6))
    check(expr, b"2+", expect_error=Err(2))


def test_fix_list_of_lists() -> None:
    value: Parser[Any] = fix(lambda v: (char(b"[") >> sep_by(char(b","), v) << char(b"]")) | number)
    check(value, b"[1,[2,[]],3]", [1, [2, []], 3])
    check(value, b"[1,,2]", expect_error=Err(3))


# --------------------------------------------------------------------------------
# Lookahead and consumed
# --------------------------------------------------------------------------------
def test_lookahead() -> None:
    check(lookahead(string(b"ab")), b"abc", b"ab", consume=PREFIX, rest=b"abc")
    check(lookahead(string(b"ab")) >> take(2), b"ab", b"ab")
    check(lookahead(take(3)) >> take(1), b"abc", b"a", consume=PREFIX, rest=b"bc")
    check(lookahead(string(b"ab")), b"ax", expect_error=Err(0, ["'ab'"]))
    check(
        char(b"x") >> lookahead(many(char(b"y"))), b"xyy", [b"y", b"y"], consume=PREFIX, rest=b"yy"
    )


def test_not_followed_by() -> None:
    check(not_followed_by(string(b"ab")) >> take(2), b"ac", b"ac")
    check(not_followed_by(string(b"ab")) >> take(2), b"ab", expect_error=Err(0))
    check(not_followed_by(any_char), b"", None)
    keyword = string(b"if") << not_followed_by(satisfy(lambda c: chr(c).isalnum()))
    check(keyword, b"if(", b"if", consume=PREFIX, rest=b"(")
    check(keyword, b"iffy", expect_error=Err(2))


def test_not_followed_by_failures_inside_are_not_expectations() -> None:
    p = not_followed_by(char(b"x")) >> char(b"a")
    outcome = check(p, b"b", expect_error=Err(0))
    assert outcome.error is not None
    assert "'x'" not in outcome.error.expected
    assert "'a'" in outcome.error.expected


def test_consumed() -> None:
    check(consumed(string(b"ab") >> take_while(DIGITS)), b"ab12", b"ab12")
    check(char(b"x") >> consumed(take(2)), b"xab", b"ab")
    check(both(consumed(take(2)), take(1)), b"abc", (b"ab", b"c"))
    # With backtracking inside.
    check(consumed(string(b"abc") | string(b"ab")), b"abd", b"ab", consume=PREFIX, rest=b"d")
    check(consumed(many(char(b"a") >> char(b"b"))), b"ababa", b"abab", consume=PREFIX, rest=b"a")
    # An integer, via the text it spans.
    check(consumed(skip_while(DIGITS)).map(int), b"123", 123)
    check(consumed(char(b"-").optional() >> take_while1(DIGITS)).map(int), b"-42", -42)
    check(consumed(char(b"a")), b"b", expect_error=Err(0))


def test_consumed_fails_if_its_parser_commits() -> None:
    check(consumed(char(b"a") >> commit >> char(b"b")), b"ab", expect_error=Err(0))
    check(consumed(commit >> char(b"a")), b"a", expect_error=Err(0))
    # A commit before `consumed` is fine.
    check(char(b"x") >> commit >> consumed(take(2)), b"xab", b"ab")


# --------------------------------------------------------------------------------
# Do-notation
# --------------------------------------------------------------------------------
@generate
def key_value() -> Generator[Parser[Any], Any, tuple[bytes, int]]:
    key = yield take_while1(b"abcdefghijklmnopqrstuvwxyz")
    yield char(b"=")
    value = yield number
    return key, value


@generate
def tagged() -> Generator[Parser[Any], Any, Parser[bytes]]:
    tag = yield any_char
    # Returning a parser runs it next (a tail call).
    return take(int(tag))


def test_generate() -> None:
    check(key_value, b"port=8080", (b"port", 8080))
    check(key_value, b"port:8080", expect_error=Err(4, ["'='"]))
    check(sep_by(char(b"&"), key_value), b"a=1&bb=22", [(b"a", 1), (b"bb", 22)])
    check(tagged, b"3abc", b"abc")


def test_generate_is_rerun_from_the_start_on_backtracking() -> None:
    p = (key_value << char(b";")) | key_value.map(lambda kv: (kv[0], -kv[1]))
    check(p, b"a=1;", (b"a", 1))
    check(p, b"a=1", (b"a", -1))


def test_generate_with_loops_and_state() -> None:
    @generate
    def csv_row() -> Generator[Parser[Any], Any, list[int]]:
        values: list[int] = [(yield number)]
        while (yield option(None, char(b","))) is not None:
            values.append((yield number))
        yield end_of_input
        return values

    check(csv_row, b"1,2,3", [1, 2, 3])
    check(csv_row, b"1,2,", expect_error=Err(4))


def test_generate_must_yield_parsers() -> None:
    @generate
    def bad() -> Generator[Any, Any, None]:
        yield "not a parser"

    with pytest.raises(TypeError):
        parse(bad, b"")


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "stack"])
def test_bind_must_return_a_parser(direct: bool) -> None:
    p: Parser[Any] = any_char.bind(lambda c: len(c))  # type: ignore[arg-type,return-value]
    # (The compiled build checks the declared return type itself: "... Parser object
    # expected; got int".)
    with contextlib.nullcontext() if direct else stack_form():
        with pytest.raises(TypeError, match=r"int"):
            parse(p, b"a")
        with pytest.raises(TypeError, match=r"int"):
            Buffered.parse(p).feed(b"a").feed_eof()


# --------------------------------------------------------------------------------
# Labels and the Parser.parse method
# --------------------------------------------------------------------------------
def test_desc_labels_failures() -> None:
    header = (string(b"Host") >> char(b":")).desc("field-name").desc("header")
    check(header, b"Host:", b":")
    check(header, b"Host;", expect_error=Err(4, ["':'"], ["header", "field-name"]))
    # A label only applies to failures inside it.
    p = char(b"a").desc("first") >> char(b"b")
    check(p, b"ac", expect_error=Err(1, ["'b'"], []))


def test_parser_parse_method() -> None:
    assert number.parse(b"12") == 12
    assert number.parse(b"12abc", Consume.PREFIX) == 12
    with pytest.raises(ParseError):
        number.parse(b"12abc")
    assert repr(number).startswith("<Parser")
