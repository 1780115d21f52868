"""`describe` (a grammar as ABNF) and `railroad` (as SVG diagrams).

Small grammars are checked against exact text; generated grammars against the ABNF
syntax of RFC 5234 (with RFC 7405's ``%s``), parsed by a grammar written with the
combinators; the HTTP request head against a checked-in expected file.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    BE,
    Parser,
    any_char,
    at_end_of_input,
    char,
    commit,
    count,
    describe,
    end_of_input,
    fail,
    fix,
    generate,
    isolate,
    lookahead,
    many,
    many1,
    many_till,
    not_followed_by,
    option,
    parse,
    peek_char,
    peek_char_fail,
    peek_string,
    pos,
    pure,
    railroad,
    satisfy,
    sep_by,
    sep_by1,
    skip_many,
    skip_while,
    string,
    string_ci,
    take,
    take_till,
    take_while,
    take_while1,
    varint,
)
from wirekit.combinators._describe import rule_text
from wirekit.combinators._rules import Cls, Rep

DATA = Path(__file__).resolve().parent / "data"
DIGITS = b"0123456789"


def rules(p: Parser[Any], **kw: Any) -> str:
    """``describe`` without its core-rule section (checked on its own below)."""
    return describe(p, **kw).split("\n\n; core rules")[0].rstrip("\n")


# --------------------------------------------------------------------------------
# Literals and byte classes
# --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "text"),
    [
        (string(b"GET"), '%s"GET"'),  # case matters: RFC 7405
        (string_ci(b"chunked"), '"chunked"'),  # ABNF strings ignore case
        (string(b"1.0"), '"1.0"'),  # no letters: case cannot matter
        (string(b'say "hi"'), '%s"say " DQUOTE %s"hi" DQUOTE'),
        (string(b"\r\n"), "CR LF"),
        (string(b"_\r\n"), '"_" CR LF'),
        (string(b"\x00\x01\xff"), "%x00.01.FF"),
        (string(b" "), "SP"),
        (string(b""), '""'),
        (char(b"t"), '%s"t"'),
        (char(b":"), '":"'),
        (char(b"\t"), "HTAB"),
        (satisfy(b"eE"), '"E"'),  # both cases: one case-insensitive string
        (satisfy(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "%x41-5A"),
        (satisfy(bytes(range(0, 3)) + bytes(range(0x10, 0x14))), "%x00-02 / %x10-13"),
        (satisfy(b"+-"), '"+" / "-"'),
        (satisfy(DIGITS), "DIGIT"),
        (satisfy(DIGITS + b"abcdefABCDEF"), "HEXDIG"),
        (satisfy(lambda c: 0x21 <= c <= 0x7E or c >= 0x80), "VCHAR / %x80-FF"),
        (any_char, "OCTET"),
        (take_while1(DIGITS), "1*DIGIT"),
        (take_while(b" \t"), "*( HTAB / SP )"),
        (skip_while(b" "), "*SP"),
        (take_till(b"\r\n"), "*( %x00-09 / %x0B-0C / %x0E-FF )"),
        (take(4), "4OCTET"),
        (take(1), "OCTET"),
        (BE.any_uint32, "4OCTET"),  # a fixed-width reader is take(n) and a conversion
    ],
)
def test_leaves(p: Parser[Any], text: str) -> None:
    assert rules(p) == f"grammar = {text}"


def test_token_class_reads_like_rfc_9110() -> None:
    tchar = b"!#$%&'*+-.^_`|~" + DIGITS + b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert rules(take_while1(tchar).desc("token")) == (
        'token = 1*( "!" / "#" / "$" / "%" / "&" / "\'" / "*" / "+" / "-" / "."\n'
        '        / DIGIT / ALPHA / "^" / "_" / "`" / "|" / "~" )'
    )


def test_core_rules_used_are_defined_at_the_end() -> None:
    assert describe(take_while1(DIGITS) >> string(b"\r\n")) == (
        "grammar = 1*DIGIT CR LF\n"
        "\n"
        "; core rules (RFC 5234, appendix B.1)\n"
        "CR = %x0D\n"
        "DIGIT = %x30-39\n"
        "LF = %x0A\n"
    )
    # HEXDIG's definition refers to DIGIT; a grammar without core rules has no section.
    assert describe(satisfy(b"0123456789abcdefABCDEF")).endswith('DIGIT = %x30-39\nHEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"\n')
    assert describe(string(b"x")) == 'grammar = %s"x"\n'


# --------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "text"),
    [
        (char(b"a") >> char(b"b") << char(b"c"), '%s"a" %s"b" %s"c"'),
        (char(b"a") | char(b"b") | string(b"cd"), '%s"a" / %s"b" / %s"cd"'),
        ((char(b"a") | char(b"b")) >> char(b"c"), '( %s"a" / %s"b" ) %s"c"'),
        (many(char(b"a")), '*%s"a"'),
        (many1(char(b"a") >> char(b"b")), '1*( %s"a" %s"b" )'),
        (skip_many(take_while1(DIGITS)), "*( 1*DIGIT )"),  # ABNF has no `*1*x`
        (count(3, satisfy(DIGITS)), "3DIGIT"),
        (satisfy(DIGITS) >> satisfy(DIGITS) >> satisfy(DIGITS), "3DIGIT"),  # runs are counted
        (option(None, char(b"-")) >> take_while1(DIGITS), '[ "-" ] 1*DIGIT'),
        (option(None, char(b"a") | char(b"b")), '[ %s"a" / %s"b" ]'),
        (sep_by(char(b","), take_while1(DIGITS)), '[ 1*DIGIT *( "," 1*DIGIT ) ]'),
        (sep_by1(char(b","), take_while1(DIGITS)), '1*DIGIT *( "," 1*DIGIT )'),
        (many_till(any_char, string(b"--")), '*( <not followed by:> "--" OCTET ) "--"'),
        (pure(1), '""'),
        (pure(1) >> char(b"a"), '%s"a"'),  # an empty step vanishes
    ],
)
def test_structure(p: Parser[Any], text: str) -> None:
    assert rules(p) == f"grammar = {text}"


def test_varint_bounds() -> None:
    # At most 8 continuation bytes then a last one, or exactly 9 then a 10th of 0 or 1.
    assert rules(varint) == "varint = *8%x80-FF %x00-7F / 9%x80-FF %x00-01"


def test_bounded_repetition() -> None:
    # No public combinator builds n*m with 0 < n < m; the renderer spells it RFC 5234's way.
    digit = Cls(bytes(1 if 0x30 <= b <= 0x39 else 0 for b in range(256)))
    assert rule_text("x", Rep(digit, 2, 5), {}) == "x = 2*5DIGIT"
    assert rule_text("x", Rep(digit, 0, 5), {}) == "x = *5DIGIT"
    assert rule_text("x", Rep(digit, 2, None), {}) == "x = 2*DIGIT"


def test_map_and_result_do_not_show() -> None:
    base = take_while1(DIGITS) >> char(b".")
    assert describe(base.map(len)) == describe(base)
    assert describe(base.result(1)) == describe(base)


def test_special_steps() -> None:
    assert rules(lookahead(string(b"ab")) >> not_followed_by(char(b"x") | char(b"y"))) == (
        'grammar = <followed by:> %s"ab" <not followed by:> ( %s"x" / %s"y" )'
    )
    assert rules(string(b"end") >> end_of_input) == 'grammar = %s"end" <end of input>'
    assert rules(char(b";") >> commit >> at_end_of_input) == 'grammar = ";" <commit> <at end of input?>'
    assert rules(isolate(3, many(any_char))) == "grammar = <isolate 3 bytes:> *OCTET"
    assert rules(many(isolate(3, any_char))) == "grammar = *( <isolate 3 bytes:> OCTET )"
    assert rules(peek_string(2) >> peek_char_fail >> peek_char >> pos) == (
        "grammar = <followed by:> 2OCTET <followed by:> OCTET\n"
        "          <peek: a byte or the end> <position>"
    )
    assert rules(fail("a > b")) == "grammar = <fail: a ? b>"  # a prose-val holds no ">"


def test_bind_generate_and_try_map_are_opaque_named_steps() -> None:
    def body(n: bytes) -> Parser[bytes]:
        return take(int(n))

    length = take_while1(DIGITS)
    assert rules(length.bind(body)) == "grammar = 1*DIGIT <bind body: depends on the value>"
    assert rules(length.bind(lambda n: take(int(n)))) == "grammar = 1*DIGIT <bind: depends on the value>"
    assert rules(length.try_map(int)) == "grammar = 1*DIGIT <try_map int: may reject the value>"

    @generate
    def pair() -> Generator[Parser[Any], Any, bytes]:
        key: bytes = yield take_while1(b"abc")
        return key

    assert rules(char(b"(") >> pair) == 'grammar = "(" <generate pair: depends on the values>'


# --------------------------------------------------------------------------------
# Rules: labels, names, recursion
# --------------------------------------------------------------------------------
def test_labels_become_rules_root_first_then_breadth_first() -> None:
    digits = take_while1(DIGITS).desc("digits")
    number = (option(None, char(b"-")) >> digits).desc("number")
    ws = take_while(b" ").desc("ws")
    pair = (number << ws << char(b",") << ws).desc("pair")
    assert rules(many(pair) << end_of_input) == (
        "grammar = *pair <end of input>\n"
        'pair = number ws "," ws\n'
        'number = [ "-" ] digits\n'
        "ws = *SP\n"
        "digits = 1*DIGIT"
    )
    # The root's own label names the first rule; `name` overrides it.
    assert rules(number).splitlines()[0] == 'number = [ "-" ] digits'
    assert rules(number, name="n").splitlines()[0] == 'n = [ "-" ] digits'
    # A label on a label: the outer rule refers to the inner one.
    assert rules(digits.desc("count")) == "count = digits\ndigits = 1*DIGIT"
    # Labels that are not ABNF rule names are made into ones.
    assert rules(digits.desc("chunk size line")) == "chunk-size-line = digits\ndigits = 1*DIGIT"


def test_same_label_twice() -> None:
    a = take_while1(DIGITS).desc("x")
    b = take_while1(DIGITS).desc("x")  # another node, the same grammar: one rule
    c = take_while1(b"xyz").desc("x")  # another grammar: a numbered rule
    assert rules(a >> b >> c) == "grammar = x x x-2\nx = 1*DIGIT\nx-2 = 1*%x78-7A"


def test_names_name_parts_without_labels() -> None:
    ows = take_while(b" \t")
    item = take_while1(DIGITS)
    p = item >> many(ows >> char(b",") >> ows >> item)
    assert rules(p, name="list", names={"OWS": ows, "item": item}) == (
        'list = item *( OWS "," OWS item )\nitem = 1*DIGIT\nOWS = *( HTAB / SP )'
    )
    # A labelled parser keeps its label.
    labelled = item.desc("digits")
    assert rules(labelled >> char(b"."), names={"num": labelled}) == 'grammar = digits "."\ndigits = 1*DIGIT'
    # The names are for display only: parsing is unchanged.
    assert parse(p, b"1, 2") == [b"2"]


def test_fix_is_a_rule_reference() -> None:
    def nested(e: Parser[Any]) -> Parser[Any]:
        return char(b"x") | (char(b"(") >> sep_by(char(b","), e) << char(b")"))

    expr = fix(nested)
    assert rules(expr) == 'grammar = %s"x" / "(" [ grammar *( "," grammar ) ] ")"'
    assert rules(char(b"[") >> expr) == (
        'grammar = "[" fix-1\nfix-1 = %s"x" / "(" [ fix-1 *( "," fix-1 ) ] ")"'
    )
    assert rules(char(b"[") >> fix(lambda e: nested(e).desc("expr"))) == (
        'grammar = "[" expr\nexpr = %s"x" / "(" [ expr *( "," expr ) ] ")"'
    )
    assert rules(char(b"[") >> expr, names={"expr": expr}).splitlines()[1].startswith("expr = ")


# --------------------------------------------------------------------------------
# Layout and depth
# --------------------------------------------------------------------------------
def test_long_rules_wrap_with_indented_continuations() -> None:
    words = [string(w) for w in (b"alpha", b"bravo", b"charlie", b"delta", b"echo", b"foxtrot")]
    p = (words[0] | words[1] | words[2]) >> many(words[3] | words[4] | words[5]) >> words[0] >> words[1]
    assert rules(p) == (
        'grammar = ( %s"alpha" / %s"bravo" / %s"charlie" ) *( %s"delta"\n'
        '          / %s"echo" / %s"foxtrot" ) %s"alpha" %s"bravo"'
    )


def test_deep_grammars_need_no_recursion() -> None:
    depth = 5 * sys.getrecursionlimit()
    nested: Parser[Any] = char(b"a")
    for _ in range(depth):
        nested = char(b"a") | (char(b"(") >> nested)
    text = rules(nested)
    assert text.count('"("') == depth
    assert text.count(")") == depth - 1  # each level but the outermost is a group
    loops: Parser[Any] = char(b"a")
    for _ in range(depth):
        loops = many(loops)
    flat = " ".join(rules(loops).split())
    assert flat == "grammar = " + "*( " * (depth - 1) + '*%s"a"' + " )" * (depth - 1)


# --------------------------------------------------------------------------------
# Every output is ABNF: checked with an RFC 5234 grammar written with the combinators
# --------------------------------------------------------------------------------
def _abnf() -> Parser[Any]:
    wsp = satisfy(b" \t")
    alpha = satisfy(bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)))
    nl = char(b"\n")
    comment = char(b";") >> take_while(bytes(range(0x20, 0x7F)) + b"\t") >> nl
    c_nl = comment | nl
    c_wsp = wsp | (c_nl >> wsp)
    rulename = alpha >> take_while(bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)) + DIGITS + b"-")
    hexdigs = take_while1(DIGITS + b"ABCDEF")
    num_val = string(b"%x") >> hexdigs >> option(None, (char(b"-") >> hexdigs) | many1(char(b".") >> hexdigs))
    char_val = option(None, string(b"%s") | string(b"%i")) >> char(b'"') >> take_while(bytes(range(0x20, 0x7F)).replace(b'"', b"")) >> char(b'"')
    prose_val = char(b"<") >> take_while(bytes(range(0x20, 0x7F)).replace(b">", b"")) >> char(b">")
    repeat = (take_while(DIGITS) >> char(b"*") >> take_while(DIGITS)) | take_while1(DIGITS)

    def alternation(alt: Parser[Any]) -> Parser[Any]:
        group = char(b"(") >> many(c_wsp) >> alt >> many(c_wsp) >> char(b")")
        opt = char(b"[") >> many(c_wsp) >> alt >> many(c_wsp) >> char(b"]")
        element = rulename | group | opt | char_val | num_val | prose_val
        repetition = option(None, repeat) >> element
        concatenation = repetition >> many(many1(c_wsp) >> repetition)
        return concatenation >> many(many(c_wsp) >> char(b"/") >> many(c_wsp) >> concatenation)

    alternation_p = fix(alternation)
    rule = rulename >> many(c_wsp) >> char(b"=") >> many(c_wsp) >> alternation_p >> many(c_wsp) >> c_nl
    return many1(rule | (many(c_wsp) >> c_nl)) >> end_of_input


ABNF = _abnf()
CORE = {"ALPHA", "CR", "DIGIT", "DQUOTE", "HEXDIG", "HTAB", "LF", "OCTET", "SP", "VCHAR"}


def assert_abnf(text: str) -> None:
    parse(ABNF, text.encode())
    defined = set(re.findall(r"^([A-Za-z][A-Za-z0-9-]*) =", text, re.M))
    body = re.sub(r'(%[si])?"[^"]*"|<[^>]*>|%x[0-9A-F.-]+|;.*', " ", text)
    used = set(re.findall(r"(?<![\w-])[A-Za-z][A-Za-z0-9-]*", body))
    assert used <= defined, used - defined
    assert all(len(line) <= 72 or " " not in line.strip() for line in text.splitlines())


BYTE_SETS = st.sampled_from([DIGITS, b"abc", b" \t", b'"', b"\r\n", b"\x00\xff", bytes(range(0x21, 0x7F)), b"eE"])
LEAVES: st.SearchStrategy[Parser[Any]] = st.one_of(
    st.binary(max_size=4).map(string),
    st.binary(max_size=4).map(string_ci),
    BYTE_SETS.map(satisfy),
    BYTE_SETS.map(take_while),
    BYTE_SETS.map(take_while1),
    st.integers(0, 3).map(take),
    st.sampled_from([end_of_input, commit, peek_char, pos, any_char, pure(None)]),
)


def _extend(inner: st.SearchStrategy[Parser[Any]]) -> st.SearchStrategy[Parser[Any]]:
    label = st.sampled_from(["a", "b-c", "two words", "HTTP-version"])
    return st.one_of(
        st.tuples(inner, inner).map(lambda t: t[0] >> t[1]),
        st.tuples(inner, inner).map(lambda t: t[0] | t[1]),
        inner.map(many),
        inner.map(many1),
        inner.map(lambda p: option(None, p)),
        st.tuples(inner, inner).map(lambda t: sep_by(t[0], t[1])),
        st.tuples(inner, inner).map(lambda t: many_till(t[0], t[1])),
        st.tuples(st.integers(0, 4), inner).map(lambda t: count(t[0], t[1])),
        st.tuples(inner, label).map(lambda t: t[0].desc(t[1])),
        inner.map(lookahead),
        inner.map(not_followed_by),
        inner.map(lambda p: p.map(repr)),
        inner.map(lambda p: p.bind(pure)),
        st.tuples(st.integers(0, 4), inner).map(lambda t: isolate(t[0], t[1])),
        inner.map(lambda p: fix(lambda r: p | (char(b"(") >> r))),
    )


@settings(max_examples=300, deadline=None)
@given(st.recursive(LEAVES, _extend, max_leaves=12))
def test_output_is_abnf(p: Parser[Any]) -> None:
    assert_abnf(describe(p))


def test_abnf_checker_rejects_what_is_not_abnf() -> None:
    assert_abnf('a = "x" / b\nb = 1*DIGIT\n\n; core\nDIGIT = %x30-39\n')
    for bad in ['a = "x" /\n', "a = 1*1*b\nb = %x30\n", 'a = ( "x"\n', 'a = "x" c\n', 'a = "x\n']:
        with pytest.raises((AssertionError, Exception)):
            assert_abnf(bad)


# --------------------------------------------------------------------------------
# The HTTP request head reads like RFC 9112
# --------------------------------------------------------------------------------
def test_http_request_head() -> None:
    from wirekit.http._grammar import request_head

    text = describe(request_head, "request-head")
    assert text == (DATA / "http_request_head.abnf").read_text()
    assert_abnf(text)


# --------------------------------------------------------------------------------
# Railroad diagrams
# --------------------------------------------------------------------------------
SVG = "{http://www.w3.org/2000/svg}"


def test_railroad_has_one_diagram_per_rule() -> None:
    digits = take_while1(DIGITS).desc("digits")
    number = (option(None, char(b"-")) >> digits).desc("number")
    p = many(number << char(b",")) << end_of_input
    diagrams = railroad(p, "numbers")
    assert list(diagrams) == ["numbers", "number", "digits"]
    texts = {}
    for name, svg in diagrams.items():
        root = ET.fromstring(svg)  # a standalone SVG document
        assert root.tag == f"{SVG}svg"
        texts[name] = [t.text for t in root.iter(f"{SVG}text")]
    assert "number" in texts["numbers"] and '","' in texts["numbers"]
    assert "<end of input>"[1:-1] in texts["numbers"]
    assert "digits" in texts["number"] and '"-"' in texts["number"]
    assert texts["digits"] == ["DIGIT"]
    # References link to the anchor a heading of the rule's name gets.
    links = [a.get("{http://www.w3.org/1999/xlink}href") for a in ET.fromstring(diagrams["numbers"]).iter(f"{SVG}a")]
    assert links == ["#number"]


def test_railroad_shapes() -> None:
    d = railroad(count(3, satisfy(DIGITS)) >> lookahead(char(b"x")) >> isolate(2, take(2)) >> take_while1(b"!#$%&'*+-.^_`|~" + DIGITS))
    texts = [t.text for t in ET.fromstring(d["grammar"]).iter(f"{SVG}text")]
    assert "3 times" in texts and "followed by" in texts and "isolate 2 bytes" in texts
    # A long byte class is drawn as rows of alternatives.
    assert any(t is not None and " / " in t for t in texts)


def test_railroad_deep_grammar_is_drawn_up_to_a_depth() -> None:
    nested: Parser[Any] = char(b"a")
    for _ in range(5 * sys.getrecursionlimit()):
        nested = char(b"a") | (char(b"(") >> nested)
    svg = railroad(nested)["grammar"]
    assert "nested too deeply to draw" in svg


def test_railroad_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "railroad", None)  # makes `import railroad` fail
    with pytest.raises(ImportError, match=r"wirekit-combinators\[diagrams\]"):
        railroad(char(b"a"))
    assert describe(char(b"a")) == 'grammar = %s"a"\n'  # describe needs nothing
