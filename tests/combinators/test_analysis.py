"""The static analysis behind trusting a fused match at a chunk boundary.

A fused match on a buffer that stops at ``lim`` is trusted when it ended at least ``k``
bytes before ``lim``. If ``k`` were too small, a match on a truncated buffer could differ
from the match on the whole input: these tests look for exactly that, on random regular
grammars built from runs, options and loops of a tiny alphabet (so that runs, separators
and terminators collide often), and on the HTTP shapes the analysis was sharpened for.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    Done,
    ParseError,
    Parser,
    char,
    choice,
    consumed,
    many,
    option,
    parse,
    parse_prefix,
    pure,
    seq,
    skip_many,
    skip_while,
    string,
    take_while,
    take_while1,
)
from wirekit.combinators._analysis import (
    INF,
    MAX_REGULAR_DEPTH,
    first,
    measure,
    regular_depth,
    tail_k,
)
from wirekit.combinators._choice import _Choice
from wirekit.combinators._compile import Fused
from wirekit.combinators._parser import compiled

ALPHABET = b"ab ;\r"
CLASSES = [b"a", b"ab", b" ", b" ;", b"a ", b"ab;"]

RUNS = [take_while(c) for c in CLASSES] + [take_while1(c) for c in CLASSES]

leaves: st.SearchStrategy[Parser[Any]] = st.one_of(
    st.sampled_from([char(bytes([c])) for c in ALPHABET]),
    st.sampled_from([string(s) for s in (b"\r\r", b"a;", b" a")]),
    st.sampled_from([take_while(c) for c in CLASSES]),
    st.sampled_from([take_while1(c) for c in CLASSES]),
    st.sampled_from([skip_while(c) for c in CLASSES]),
)


def _extend(children: st.SearchStrategy[Parser[Any]]) -> st.SearchStrategy[Parser[Any]]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=4).map(lambda ps: seq(*ps)),
        st.tuples(children, children).map(lambda ab: ab[0] | ab[1]),
        children.map(lambda p: option(None, p)),
        children.map(many),
        children.map(skip_many),
        children.map(consumed),
        # What the analysis reasons about: a loop (or option) whose item starts with a
        # run, followed by a run and something else.
        st.tuples(st.sampled_from(RUNS), children, st.sampled_from(RUNS), children, st.booleans()).map(
            lambda t: seq((skip_many if t[4] else _option)(seq(t[0], t[1])), t[2], t[3])
        ),
    )


def _option(p: Parser[Any]) -> Parser[Any]:
    return option(None, p)


grammars = st.recursive(leaves, _extend, max_leaves=8)


def _fused(p: Parser[Any]) -> Fused | None:
    c = compiled(p)
    return c if isinstance(c, Fused) else None


def _value(f: Fused, r: Any) -> Any:
    return None if f.extract is None else f.extract(r)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar=grammars, data=st.binary(max_size=14).map(lambda b: bytes(ALPHABET[x % 5] for x in b)))
def test_a_trusted_match_on_a_truncated_buffer_is_the_whole_inputs_match(grammar: Parser[Any], data: bytes) -> None:
    f = _fused(grammar)
    if f is None or f.k >= INF:
        return
    whole = f.match(data, 0, len(data))
    for lim in range(len(data) + 1):
        r = f.match(data, 0, lim)
        if r is not None and r.end() + f.k <= lim:
            assert whole is not None, (lim, r)
            assert whole.end() == r.end(), (lim, r, whole)
            assert _value(f, whole) == _value(f, r)


def test_a_header_like_line_is_decided_without_the_probe() -> None:
    # field-line shape: a value made of runs joined by whitespace, then OWS and CRLF.
    vchars = take_while1(b"ab")
    value = consumed(option(None, vchars >> skip_many(take_while1(b" ") >> vchars)))
    line = seq(take_while1(b"ab") << char(b";") << skip_while(b" "), value << skip_while(b" ") << string(b"\r\n"))
    assert measure(value)[3] >= INF  # on its own, its end depends on what follows
    assert tail_k(line) == 0
    f = _fused(many(line) << string(b"\r\n"))
    assert f is not None and f.k == 0


def test_a_loop_followed_by_a_run_of_the_same_bytes_is_not_trusted_early() -> None:
    # "ab ab  " then more: whether the trailing spaces start another item depends on the
    # byte after them, so a match ending before them is only trusted with that byte seen.
    item = take_while1(b" ") >> take_while1(b"ab")
    p = consumed(take_while1(b"ab") >> skip_many(item))
    f = _fused(p)
    assert f is not None
    assert f.k >= INF  # nothing follows inside the tree: no cover
    q = _fused(seq(p, skip_while(b" "), char(b";")))
    assert q is not None and q.k == 0


def test_a_covered_attempt_that_failed_late_still_counts() -> None:
    # The loop's last attempt took " a" and failed on the byte after; the follower takes
    # " a" too. A buffer cut after " a" must not be trusted: the next byte decides.
    p = seq(skip_many(seq(skip_while(b" "), string(b"a;"))), skip_while(b" "), char(b"a"))
    f = _fused(p)
    assert f is not None and f.k < INF
    data = b" a;"
    whole = f.match(data, 0, len(data))
    for lim in range(len(data) + 1):
        r = f.match(data, 0, lim)
        if r is not None and r.end() + f.k <= lim:
            assert whole is not None and whole.end() == r.end()


def _nested(depth: int) -> Parser[Any]:
    """``depth`` sequences nested around one primitive: a regular tree ``depth + 1`` deep."""
    p: Parser[Any] = char(b"x")
    for _ in range(depth):
        p = seq(char(b"("), p, char(b")"))
    return p


def test_regular_depth_is_counted_without_recursion_and_saturates() -> None:
    assert regular_depth(char(b"x")) == 1
    assert regular_depth(seq(char(b"a"), many(string(b"bc")).map(len))) == 4  # seq, map, many, string
    assert regular_depth(_nested(MAX_REGULAR_DEPTH - 1)) == MAX_REGULAR_DEPTH
    # Deeper than the bound (and than Python's recursion limit): it counts as bound + 1.
    assert regular_depth(_nested(MAX_REGULAR_DEPTH)) == MAX_REGULAR_DEPTH + 1
    assert regular_depth(_nested(5_000)) == MAX_REGULAR_DEPTH + 1
    assert regular_depth(_nested(30), bound=10) == 11
    # Shared nodes are counted once with a memo, and the memo gives the same answers.
    shared = _nested(50)
    both_sides = seq(shared, char(b"|"), shared)
    memo: dict[int, int] = {}
    assert regular_depth(both_sides, memo) == 52 and memo[id(shared)] == 51
    assert regular_depth(shared, memo) == 51
    # A node that is not regular ends the count there (the analysis stops at it).
    assert regular_depth(seq(char(b"a"), char(b"b").bind(lambda _: _nested(40)))) == 2


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar=grammars, data=st.binary(max_size=8).map(lambda b: bytes(ALPHABET[x % 5] for x in b)))
def test_first_is_sound_for_what_the_parser_matches(grammar: Parser[Any], data: bytes) -> None:
    # Dispatch rules alternatives out by `first`: whatever a parser matches must start
    # with a byte of its set, and an empty match needs `nullable` (a nullable parser
    # keeps its byte set: ``option(x) >> y`` starts with x's bytes or y's).
    fs, nullable = first(grammar)
    state = parse_prefix(grammar, data, complete=True)
    if not isinstance(state, Done):
        return
    used = state.consumed
    if used == 0:
        assert nullable, (grammar, data)
    elif fs is not None:
        assert data[0] in fs, (grammar, data, fs)


def test_a_nullable_prefix_keeps_the_byte_set_of_what_follows_it() -> None:
    assert first(option(None, char(b"-")) >> take_while1(b"0123456789")) == (
        frozenset(b"-0123456789"),
        False,
    )
    assert first(many(char(b"a"))) == (frozenset(b"a"), True)
    assert first(pure(1)) == (frozenset(), True)
    # In a choice, such an alternative is ruled out by its first byte; a nullable one is
    # tried on every byte (it can succeed before any), in its order.
    number = option(None, char(b"-")) >> take_while1(b"0123456789")
    word = take_while1(b"abc")
    maybe = option(b"?", char(b"!"))
    p = choice([number, word, maybe])
    c = _Choice((number, word, maybe), None)  # (unfused, as inside a grammar that cannot be)
    c.link()
    assert c.table is not None
    assert compiled(number) not in c.table[ord("a")]
    assert compiled(maybe) in c.table[ord("a")]
    assert compiled(maybe) in c.table[256]
    assert parse(p, b"-12") == b"12"
    assert parse(p, b"ab") == b"ab"
    assert parse(p, b"") == b"?"
    with pytest.raises(ParseError) as e:
        parse(p, b"%")
    assert "end of input" in str(e.value) or "expected" in str(e.value)
