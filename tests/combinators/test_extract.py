"""Values rebuilt from a fused match (`_extract.py`) and the one-match fast path of
`parse_prefix`: both must change nothing but speed.

Each grammar here is fused whole; its value is compared with that of its opaque twin
(wrapped in ``.bind(pure)``, so nothing can be fused) and checked every way of feeding
it (`check`).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from wirekit.combinators import (
    Done,
    Fail,
    Parser,
    Partial,
    Unbuffered,
    char,
    choice,
    consumed,
    explain,
    lift2,
    lift3,
    many,
    many1,
    option,
    parse,
    parse_prefix,
    pure,
    satisfy,
    sep_by,
    seq,
    string,
    string_ci,
    take_while,
    take_while1,
)
from wirekit.combinators._extract import MAX_CHAIN, MAX_DEPTH
from wirekit.combinators._parser import compiled

from tests.combinators.helpers import check

_DIGIT = satisfy(b"0123456789")


def _fused_and_checked(p: Parser[Any], data: bytes, expected: object) -> None:
    assert explain(p).fused
    assert parse(p.bind(pure), data) == expected
    check(p, data, expected)


def test_small_sequences_maps_and_choices() -> None:
    ab = take_while1(b"ab")
    _fused_and_checked(seq(ab), b"ab", (b"ab",))
    _fused_and_checked(seq(ab, char(b";")), b"ab;", (b"ab", b";"))
    _fused_and_checked(seq(ab, string(b";"), ab), b"a;b", (b"a", b";", b"b"))
    _fused_and_checked(lift2(lambda a, b: a + b, ab, char(b";") >> ab), b"a;b", b"ab")
    _fused_and_checked(lift3(lambda *v: v[::-1], ab, char(b";"), ab), b"a;b", (b"b", b";", b"a"))
    _fused_and_checked(seq(_DIGIT.map(int), _DIGIT.map(int)), b"42", (4, 2))
    _fused_and_checked(seq(ab.map(len)), b"aba", (3,))
    _fused_and_checked(seq(string_ci(b"x"), ab, pure(7)), b"Xb", (b"X", b"b", 7))
    _fused_and_checked(option(None, ab) >> char(b";"), b";", b";")
    _fused_and_checked(seq(option(None, ab), char(b";")), b";", (None, b";"))
    _fused_and_checked(seq(option(b"-", ab), char(b";")), b"b;", (b"b", b";"))
    _fused_and_checked(seq(ab | string(b"c").map(len), char(b";")), b"c;", (1, b";"))


def _tagged(i: int, s: bytes) -> tuple[int, bytes]:
    return (i, s)


def test_a_choice_of_many_alternatives() -> None:
    words = [
        string(bytes([0x61 + i]) * 2).map(functools.partial(_tagged, i))
        for i in range(MAX_CHAIN + 3)
    ]
    p = seq(choice(words), char(b";"))
    for i in range(MAX_CHAIN + 3):
        _fused_and_checked(p, bytes([0x61 + i]) * 2 + b";", ((i, bytes([0x61 + i]) * 2), b";"))


def test_a_wide_sequence() -> None:
    p = seq(*[_DIGIT.map(int) if i % 2 else take_while1(b"ab") << char(b",") for i in range(300)])
    data = b"".join(b"a," if i % 2 == 0 else b"7" for i in range(300))
    _fused_and_checked(p, data, tuple(7 if i % 2 else b"a" for i in range(300)))


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 3 * MAX_DEPTH])
def test_deeply_nested_values(depth: int) -> None:
    # Maps, sequences and choices nested deeper than one expression may go: the deeper
    # parts become functions of their own. (Compiling is quadratic in the depth: keep it
    # small.)
    p: Parser[Any] = take_while1(b"ab")
    for i in range(depth):
        if i % 3 == 0:
            p = p.map(_listed)
        elif i % 3 == 1:
            p = seq(p, char(b";").map(len))
        else:
            p = option(None, char(b"!")) >> (p | string(b"zz"))
    data = b"ab" + b";" * sum(1 for i in range(depth) if i % 3 == 1)
    _fused_and_checked(p, data, parse(p.bind(pure), data))
    if depth > MAX_DEPTH:
        extract = compiled(p).extract  # type: ignore[attr-defined]
        called = [extract.__globals__.get(name) for name in extract.__code__.co_names]
        assert any(getattr(f, "__name__", "").startswith("_f") for f in called)


def _listed(v: object) -> list[object]:
    return [v]


def test_many_values_with_and_without_lookarounds() -> None:
    line = seq(
        take_while1(b"ab") << char(b":"),
        consumed(option(None, take_while1(b"xy"))) << string(b"\r\n"),
    )
    head = seq(many(line), string(b"\r\n"))
    data = b"a:x\r\nbb:\r\nab:yx\r\n\r\n"
    _fused_and_checked(head, data, ([(b"a", b"x"), (b"bb", b""), (b"ab", b"yx")], b"\r\n"))
    # Items whose value is not just their groups, or that hold a lookahead.
    mapped = many1(take_while1(b"ab").map(len) << char(b","))
    _fused_and_checked(mapped, b"ab,a,", [2, 1])
    listed = sep_by(char(b","), take_while(b"ab"))
    _fused_and_checked(listed << char(b";"), b"a,,b;", [b"a", b"", b"b"])


# --------------------------------------------------------------------------------
# parse_prefix: the one-match fast path
# --------------------------------------------------------------------------------
_HEAD = seq(
    take_while1(b"ABC") << char(b" "),
    many(seq(take_while1(b"ab") << char(b":"), take_while(b"xy") << string(b"\r\n")))
    << string(b"\r\n"),
)
_HEAD_DATA = b"AB a:x\r\nb:\r\n\r\nbody"


def _outcome(state: Any) -> tuple[Any, ...]:
    if isinstance(state, Done):
        return ("done", state.value, state.consumed, state.unconsumed)
    if isinstance(state, Fail):
        return (
            "fail",
            state.error.position,
            state.error.expected,
            state.consumed,
            state.unconsumed,
        )
    assert isinstance(state, Partial)
    return ("partial", state.committed)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
@pytest.mark.parametrize("complete", [False, True])
def test_parse_prefix_agrees_with_the_general_form_at_every_split(
    kind: Any, complete: bool
) -> None:
    assert explain(_HEAD).fused
    opaque = _HEAD.bind(pure)
    for data in (_HEAD_DATA, b"AB a:x\r\nb:?\r\n\r\n", b"AB\r\n"):
        for n in range(len(data) + 1):
            buf = kind(b"##" + data + b"%%")
            fast = parse_prefix(_HEAD, buf, 2, n, complete)
            slow = parse_prefix(opaque, buf, 2, n, complete)
            assert _outcome(fast) == _outcome(slow), (data, n)
            resumed = Unbuffered.parse(_HEAD).resume(buf, 2, n, complete)
            assert _outcome(resumed) == _outcome(fast)


def test_parse_prefix_done_attributes() -> None:
    buf = bytearray(b"#" + _HEAD_DATA)
    done = parse_prefix(_HEAD, buf, 1)
    assert isinstance(done, Done) and type(done) is Done
    assert done.value == (b"AB", [(b"a", b"x"), (b"b", b"")])
    assert done.consumed == len(_HEAD_DATA) - 4
    assert repr(done) == f"Done({done.value!r}, unconsumed=b'body')"
    assert done.unconsumed == b"body"
    buf[-4:] = b"XXXX"  # the rest was copied when first read
    assert done.unconsumed == b"body"
    more = done.feed(b"!")
    assert (
        more.unconsumed == b"body!" and more.value == done.value and more.consumed == done.consumed
    )
    assert done.feed_eof() is done


@pytest.mark.parametrize(
    ("off", "length"), [(-1, 1), (0, -1), (0, 6), (3, 3), (6, None), (7, None)]
)
def test_parse_prefix_rejects_a_window_outside_the_buffer(off: int, length: int | None) -> None:
    with pytest.raises(ValueError, match="do not fit a buffer of 5"):
        parse_prefix(_HEAD, b"AB \r\n", off, length)
    with pytest.raises(ValueError, match="do not fit a buffer of 5"):
        Unbuffered.parse(_HEAD).resume(b"AB \r\n", off, length)


def test_parse_prefix_empty_window_at_the_end() -> None:
    state = parse_prefix(_HEAD, b"AB \r\n", 5, None)
    assert isinstance(state, Partial) and state.committed == 0


def test_tracebacks_through_generated_extractors_show_their_code() -> None:
    import traceback

    from wirekit.combinators import char, parse, take_while1

    def boom(_: bytes) -> int:
        raise ZeroDivisionError("in the user's function")

    p = (take_while1(b"ab") << char(b"=")).map(boom)
    with pytest.raises(ZeroDivisionError) as info:
        parse(p, b"ab=")
    text = "".join(traceback.format_exception(info.value))
    # The generated function's frame names its source and shows the line that ran.
    assert "<wirekit extractor " in text and "return " in text.split("<wirekit extractor ", 1)[1]
