"""`explain`: the engine's view of a parser, read back from what the compiler built.

Each grammar here is also run with `check` (every split, one byte at a time), so what the
report says is fused or interpreted is a grammar that really parses that way; reported
patterns are matched against input to show they are the ones that run.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Generator
from typing import Any

from wirekit.combinators import (
    BE,
    DispatchRoute,
    ExplainedNode,
    Explanation,
    NodeKind,
    Parser,
    at_end_of_input,
    char,
    commit,
    explain,
    fix,
    generate,
    many,
    option,
    parse,
    pure,
    seq,
    string,
    take,
    take_while1,
    varint,
)
from wirekit.http import _grammar as http

from tests.combinators.helpers import Err, check

DIGITS = b"0123456789"
number = take_while1(DIGITS).map(int)


# --------------------------------------------------------------------------------
# Fully fused
# --------------------------------------------------------------------------------
def test_a_regular_grammar_is_one_pattern() -> None:
    pair = seq(number.desc("left") << char(b","), number.desc("right")) << char(b";")
    check(pair, b"12,345;", (12, 345))
    e = explain(pair)
    assert e.fused and e.root.kind == "fused" and e.root.children == ()
    assert e.interpreted() == []
    root = e.root
    assert root.labels == ("left", "right")
    assert root.groups == 2  # the two numbers; the dropped ',' and ';' need none
    # It ends with a literal: nothing past a success was looked at.
    assert root.k == 0
    # A failure may come after any number of digits: unbounded, hence the probe.
    assert root.reach is None and root.probe
    # The reported pattern is the one that runs.
    assert root.pattern is not None
    rx = re.compile(root.pattern, re.DOTALL)
    m = rx.match(b"12,345;rest")
    assert m is not None and m.end() == 7 and m.groups() == (b"12", b"345")
    assert rx.match(b"12;") is None


def test_bounded_lookahead_needs_no_probe() -> None:
    magic = string(b"WK") >> BE.any_uint16
    check(magic, b"WK\x01\x02", 0x0102)
    root = explain(magic).root
    assert root.fused and not root.probe
    assert (root.reach, root.k) == (4, 0)


def test_a_label_around_a_fused_tree_names_it() -> None:
    e = explain(varint)
    assert e.fused and e.root.label == "varint" and e.root.text == "varint"
    assert e.place("varint") is e.root


# --------------------------------------------------------------------------------
# Partly fused
# --------------------------------------------------------------------------------
header = (string(b"LEN ") >> number << string(b"\r\n")).desc("header")
length_prefixed = header.bind(take)


def test_bind_is_interpreted_around_a_fused_header() -> None:
    check(length_prefixed, b"LEN 3\r\nabc", b"abc")
    e = explain(length_prefixed)
    assert not e.fused
    assert [n.kind for n in e.interpreted()] == ["bind"]
    bind = e.root
    assert bind.reason == "bind: depends on a value"
    assert bind.text == "take"  # the function's name
    (head,) = bind.children
    assert head.fused and head.label == "header" and e.place("header") is head


def test_a_commit_splits_a_sequence_into_fused_runs() -> None:
    word = take_while1(b"abc")
    line = (seq(word, char(b":"), word) << char(b"\n")).desc("line") << commit
    messages = many(line)
    check(messages, b"ab:c\nb:a\n", [(b"ab", b":", b"c"), (b"b", b":", b"a")])
    e = explain(messages)
    loop = e.root
    assert loop.kind == "loop" and loop.reason is not None and "commit" in loop.reason
    (seq_node,) = loop.children
    assert seq_node.kind == "sequence"
    kinds: list[NodeKind] = [c.kind for c in seq_node.children]
    assert kinds == ["fused", "commit"]
    fused = seq_node.children[0]
    # Two groups, for the words: the ':' is one byte, its value known without one.
    assert fused.label == "line" and fused.groups == 2 and fused.k == 0
    assert seq_node.children[1].reason is not None and seq_node.children[1].reason.startswith("commit")


def test_try_map_and_at_end_of_input_are_named() -> None:
    decoded = take_while1(b"ab").try_map(bytes.decode) << char(b";")
    check(decoded, b"ab;", "ab")
    e = explain(decoded)
    reasons = [n.reason for n in e.interpreted()]
    assert "try_map: may reject a value" in reasons
    assert e.root.reason is not None and "try_map" in e.root.reason
    ended = seq(take_while1(b"ab"), at_end_of_input)
    check(ended, b"ab", (b"ab", True))
    e = explain(ended)
    assert e.root.reason is not None and "at_end_of_input" in e.root.reason
    run, at_end = e.root.children
    # A lone primitive runs directly, as fast as a pattern: not counted as interpreted.
    assert run.kind == "primitive" and run.reason is None and run.notes
    assert at_end.kind == "primitive" and at_end.reason is not None
    assert e.interpreted() == [e.root, at_end]


def test_a_loop_over_a_fused_item_says_so() -> None:
    items = many(number << char(b","))
    check(items, b"1,22,", [1, 22])
    e = explain(items)
    # A list of items is one pattern here (items are re-matched inside its span).
    assert e.fused
    maybe = many(option(None, char(b"a")))
    check(maybe, b"aa", [b"a", b"a"])
    loop = explain(maybe).root
    # Items that can be empty: the list cannot come from one pattern.
    assert loop.kind == "loop" and loop.reason is not None and "may match nothing" in loop.reason
    assert loop.children[0].fused
    assert any("looped without the stack" in note for note in loop.notes)


def test_a_parser_used_twice_is_shown_once() -> None:
    item = (take_while1(b"a") << char(b",")).bind(pure)
    both_items = item >> item
    check(both_items, b"a,aa,", b"aa")
    e = explain(both_items)
    first, second = e.root.children
    assert first.kind == "bind" and second.kind == "reference"
    assert second.target == first.number and second.children == ()
    assert "same parser" in second.text


# --------------------------------------------------------------------------------
# Not fused at all
# --------------------------------------------------------------------------------
@generate
def counted() -> Generator[Parser[Any], Any, list[bytes]]:
    n: int = yield number << char(b":")
    items: list[bytes] = []
    for _ in range(n):
        items.append((yield take(1)))
    return items


def test_generate_runs_python_code() -> None:
    check(counted, b"2:ab", [b"a", b"b"])
    e = explain(counted)
    assert e.root.kind == "generate" and e.root.text == "counted"
    assert e.root.reason == "generate: runs Python code"
    assert e.fused_nodes() == []  # what it yields is built while parsing: not visible here


def test_recursion_through_fix_is_a_reference() -> None:
    nested: Parser[int] = fix(lambda inner: (char(b"(") >> inner << char(b")")).map(lambda d: d + 1) | pure(0))
    check(nested, b"((()))", 3)
    e = explain(nested)
    assert not e.fused
    refs = [n for n in e.nodes() if n.kind == "reference"]
    assert len(refs) == 1
    ref = refs[0]
    assert ref.target == e.root.number and ref.text.startswith("fix: recursion")
    assert all(n.reason is not None and "fix" in n.reason for n in e.interpreted() if n.kind != "primitive")
    assert f"back to #{e.root.number}" in str(e)


def test_made_while_parsing_is_linked_without_fusing() -> None:
    seen: list[Explanation] = []

    def body(n: int) -> Parser[bytes]:
        p = take(n) << char(b";")  # a sequence built during the parse
        seen.append(explain(p))
        return p

    p = number.bind(body)
    assert parse(p, b"2ab;") == b"ab"
    (e,) = seen
    assert e.root.kind == "sequence"
    assert e.root.reason == "made while parsing: linked without fusing"
    # Built outside a parse, the same grammar fuses.
    assert explain(take(2) << char(b";")).fused


# --------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------
def test_a_choice_dispatches_on_the_first_byte() -> None:
    get = string(b"GET ") >> number
    put = string(b"PUT ") >> number << char(b" ") << commit
    patch = string(b"PATCH ") >> number
    ping = string(b"PING").result(0)
    command = get | put | patch | ping
    check(command, b"PUT 7 ", 7)
    check(command, b"PATCH 7", 7)
    check(command, b"DEL", expect_error=Err(0))
    e = explain(command)
    choice_node = e.root
    assert choice_node.kind == "choice" and choice_node.reason is not None
    assert "commit" in choice_node.reason  # `put` holds a commit
    assert all(isinstance(r, DispatchRoute) for r in choice_node.dispatch)
    routes = {r.alternatives: r for r in choice_node.dispatch}
    # Each row: the alternatives whose first byte is in it, in order.
    firsts = [b"G", b"P", b"P", b"P"]
    for b in range(256):
        (row,) = [r for r in choice_node.dispatch if any(lo <= b <= hi for lo, hi in r.ranges)]
        assert row.alternatives == tuple(i for i, f in enumerate(firsts) if f[0] == b)
    assert routes[(0,)].byte_class == "[G]"
    assert routes[(1, 2, 3)].byte_class == "[P]"
    assert routes[()].at_end and not routes[(0,)].at_end
    # The rows name the children by their numbers in the report.
    text = str(e)
    nums = [c.number for c in choice_node.children]
    assert f"[P] -> #{nums[1]}, #{nums[2]}, #{nums[3]}" in text
    assert "end of input -> none (fails)" in text


def test_a_choice_without_known_first_bytes_has_no_table() -> None:
    nothing: list[bytes] = []
    either = counted | pure(nothing)
    check(either, b"1:x", [b"x"])
    node = explain(either).root
    assert node.kind == "choice" and node.dispatch == ()
    assert any("no dispatch table" in note for note in node.notes)


# --------------------------------------------------------------------------------
# The HTTP request head
# --------------------------------------------------------------------------------
HEAD = b"GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"


def test_the_http_request_head_is_one_pattern() -> None:
    check(http.request_head, HEAD, ((b"", b"GET", b"/a", b"1", b"1"), [(b"Host", b"x"), (b"Accept", b"*/*")]))
    e = explain(http.request_head)
    assert e.fused and e.interpreted() == []
    head = e.root
    for label in ("request-line", "method", "request-target", "field-line", "field-name", "field-value", "CRLF"):
        assert label in head.labels
        assert e.place(label) is head
    # The head ends with CRLF: trusted as soon as its last byte is there.
    assert head.k == 0
    assert head.pattern is not None
    m = re.compile(head.pattern, re.DOTALL).match(HEAD + b"BODY")
    assert m is not None and m.end() == len(HEAD)


def test_a_message_with_a_body_names_its_non_regular_part() -> None:
    def body(head: Any) -> Parser[bytes]:
        sizes = [int(v) for k, v in head[1] if k.lower() == b"content-length"]
        return take(sizes[0] if sizes else 0)

    message = http.request_head.bind(body)
    data = b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
    check(message, data, b"hi")
    e = explain(message)
    assert not e.fused
    (bind,) = e.interpreted()
    assert bind.kind == "bind" and bind.reason == "bind: depends on a value" and bind.text == "body"
    (head,) = bind.children
    assert head.fused and "request-line" in head.labels
    report = str(e)
    assert "bind (body) -- bind: depends on a value" in report
    assert "fused" in report and "labels inside: request-line" in report


# --------------------------------------------------------------------------------
# Deep grammars and the report's text
# --------------------------------------------------------------------------------
def test_a_deep_grammar_is_explained_without_recursion() -> None:
    depth = 3 * sys.getrecursionlimit()
    p: Parser[Any] = char(b"x")
    for _ in range(depth):
        p = (char(b"(") >> p << char(b")")).bind(pure)  # interpreted at every level
    data = b"(" * depth + b"x" + b")" * depth
    assert parse(p, data) == b"x"
    e = explain(p)
    assert sum(1 for n in e.nodes() if n.kind == "bind") == depth
    text = str(e)
    assert text.count("bind (pure)") == depth
    deepest = max(len(line) - len(line.lstrip(" ")) for line in text.splitlines())
    assert deepest >= 2 * 2 * depth  # two levels (bind, sequence) per nesting
    assert "depth" not in repr(e.root) and repr(e.root).startswith("ExplainedNode(#1 bind")


def test_patterns_are_shown_readably_and_cut_to_the_width() -> None:
    e = explain(http.request_head)
    assert e.root.pattern is not None
    full = e.render(width=None)
    short = e.render(width=40)
    assert "\\r\\n" in full  # CR LF shown as the escapes a reader would write
    (long_line,) = [line for line in full.splitlines() if "pattern (" in line]
    (cut_line,) = [line for line in short.splitlines() if "pattern (" in line]
    assert cut_line.endswith("...") and len(cut_line) < len(long_line)
    assert f"pattern ({len(e.root.pattern)} bytes)" in cut_line
    assert str(e) == e.render()


def test_every_node_has_a_unique_number_in_report_order() -> None:
    e = explain(length_prefixed | counted)
    numbers = [n.number for n in e.nodes()]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert all(isinstance(n, ExplainedNode) for n in e.nodes())
    for n in e.nodes():
        assert f"#{n.number} " in str(e)
