"""The RESP grammar on canned bytes: every type, every way of splitting the input.

`check` (from the combinators' tests) runs the parser in one shot, through `Buffered`
split at every point and one byte at a time, and through `Unbuffered`, and asserts that
every run gives the same value (types included) or the same error.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from wirekit.combinators import Buffered, Done, Fail, ParseError, Partial, State, parse, parse_many

from tests.combinators.helpers import Err, check
from tests.examples.resp.support import CANNED, resp, same

reply = resp.reply


@pytest.mark.parametrize(("data", "expected"), [(d, v) for _, d, v in CANNED], ids=[n for n, _, _ in CANNED])
def test_every_type_at_every_split_point(data: bytes, expected: Any) -> None:
    check(reply, data, expected)


def test_value_types() -> None:
    assert type(resp.parse_reply(b"+OK\r\n")) is str
    assert type(resp.parse_reply(b"$2\r\nok\r\n")) is bytes
    assert type(resp.parse_reply(b":1\r\n")) is int
    assert type(resp.parse_reply(b",1\r\n")) is float
    assert type(resp.parse_reply(b"#t\r\n")) is bool
    assert type(resp.parse_reply(b"~0\r\n")) is frozenset
    error = resp.parse_reply(b"-WRONGTYPE Operation against a key\r\n")
    assert isinstance(error, resp.RespError)
    assert error.kind == "WRONGTYPE"
    assert error.message == "WRONGTYPE Operation against a key"
    assert str(error) == error.message


def test_all_replies_back_to_back_in_random_chunks() -> None:
    stream = b"".join(d for _, d, _ in CANNED)
    expected = [v for _, _, v in CANNED]
    rng = random.Random(7)
    for _ in range(30):
        cuts = sorted(rng.sample(range(len(stream)), rng.randint(0, 40)))
        chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        assert same(list(parse_many(reply, chunks)), expected)
    one_by_one = [stream[i : i + 1] for i in range(len(stream))]
    assert same(list(parse_many(reply, one_by_one)), expected)


def test_one_byte_at_a_time_waits_until_the_reply_is_complete() -> None:
    for name, data, expected in CANNED:
        state: State[Any] = Buffered.parse(reply, initial_buffer_size=1)
        for i in range(len(data)):
            assert isinstance(state, Partial), f"{name}: finished after {i} of {len(data)} bytes"
            state = state.feed(data[i : i + 1])
        # Nothing more is needed (a reply ends with CR LF, never with a loop).
        assert isinstance(state, Done), name
        assert same(state.value, expected), name
        assert state.unconsumed == b""


def test_large_and_deep_replies() -> None:
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value, CR LF included
    data = b"$%d\r\n%b\r\n" % (len(big), big)
    assert parse(reply, data) == big
    for size in (1, 1000, 4096, 65536):  # in pieces (one at a time: see below)
        if size == 1:
            pieces = [data[:3], data[3:-3], data[-3:]]
        else:
            pieces = [data[i : i + size] for i in range(0, len(data), size)]
        assert list(parse_many(reply, pieces)) == [big]
    for n in (1023, 1024, 1025, 5000):  # both sides of the per-length parser switch
        body = b"\r\n" * (n // 2) + b"x" * (n % 2)
        check(reply, b"$%d\r\n%b\r\n" % (n, body), body, exhaustive=False)
        check(reply, b"!%d\r\n%b\r\n" % (n, body), resp.RespError(body.decode()), exhaustive=False)
        text = "t" * (n - 4)
        check(reply, b"=%d\r\ntxt:%b\r\n" % (n, text.encode()), resp.Verbatim("txt", text), exhaustive=False)
    depth = 10_000  # nesting costs the parser heap, not Python stack
    value = parse(reply, b"*1\r\n" * (depth - 1) + b"*0\r\n")
    for _ in range(depth - 1):  # (comparing such lists would recurse: walk it)
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == []
    items = parse(reply, b"*100000\r\n" + b":1\r\n" * 100_000)
    assert items == [1] * 100_000


def test_ints_beyond_the_str_digit_limit() -> None:
    digits = b"7" * 5000  # int(digits) alone would raise ValueError
    value = resp.parse_reply(b"(-" + digits + b"\r\n")
    assert isinstance(value, int) and value < 0 and value.bit_length() > 16000
    assert value % 10**20 == 10**20 - 77777777777777777777
    assert resp.parse_reply(b":" + digits + b"\r\n") == -value


BAD = [
    # (input, error position, text in the message)
    (b"x", 0, "a RESP type byte"),
    (b"+OK\n", 3, "'\\r\\n'"),
    (b"+O\rK\r\n", 2, "'\\r\\n'"),
    (b":\r\n", 1, "[0-9]"),
    (b":1.5\r\n", 2, "'\\r\\n'"),
    (b"$-2\r\n", 1, "'-1'"),
    (b"$5\r\nhi\r\n", 4, "5 more bytes"),
    (b"$2\r\nhello\r\n", 6, "'\\r\\n'"),
    (b"$2000\r\n" + b"y" * 2001 + b"\r\n", 2007, "'\\r\\n'"),
    (b"$99999999999999999999\r\n", 23, "at most 18 digits"),
    (b"*-2\r\n", 1, "'-1'"),
    (b"*2\r\n:1\r\n", 8, "a RESP type byte"),
    (b"%-1\r\n", 1, "[0-9]"),
    (b"#x\r\n", 1, "'t'"),
    (b",1.\r\n", 3, "[0-9]"),
    (b",infinity\r\n", 4, "'\\r\\n'"),
    (b",.5\r\n", 1, "'inf'"),
    (b"(1e5\r\n", 2, "'\\r\\n'"),
    (b"=3\r\nabc\r\n", 4, "at least 4 bytes"),
    (b"=5\r\ntxtx\r\n\r\n", 7, "':'"),
    (b"_x\r\n", 0, "a RESP type byte"),
]


@pytest.mark.parametrize(("data", "position", "text"), BAD, ids=[repr(b[:12]) for b, _, _ in BAD])
def test_malformed_replies_fail_at_the_same_place_however_split(data: bytes, position: int, text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(reply, data)
    assert info.value.position == position, str(info.value)
    assert text in str(info.value), str(info.value)
    check(reply, data, expect_error=Err(position), exhaustive=len(data) < 64)


def test_a_malformed_reply_in_a_stream_is_reported_after_the_good_ones() -> None:
    values: list[Any] = []
    with pytest.raises(ParseError) as info:
        for v in parse_many(reply, [b"+OK\r\n:1\r\n", b"$3\r\nab", b"cd\r\n+later\r\n"]):
            values.append(v)
    assert values == ["OK", 1]
    assert info.value.position == 16  # "abcd": the fourth byte is not CR


def test_truncated_replies_wait_then_fail_at_the_end() -> None:
    data = b"*2\r\n$5\r\nhello\r\n%1\r\n+k\r\n,2.5\r\n"
    for cut in range(len(data)):
        state: State[Any] = Buffered.parse(reply, initial_buffer_size=2)
        state = state.feed(data[:cut])
        assert isinstance(state, Partial), f"cut at {cut}: {state!r}"
        failed = state.feed_eof()
        assert isinstance(failed, Fail)
        assert failed.error.position <= cut


def test_deeply_nested_map_keys_do_not_crash() -> None:
    # Hashing a tuple nested 100 000 deep overflows the C stack: such a key is not frozen.
    depth = 100_000
    data = b"%1\r\n" + b"*1\r\n" * depth + b":1\r\n" + b"+v\r\n"
    value = parse(reply, data)
    assert isinstance(value, list) and len(value) == 1 and value[0][1] == "v"
    shallow = parse(reply, b"%1\r\n" + b"*1\r\n" * 3 + b":1\r\n" + b"+v\r\n")
    assert shallow == {((((1,),),)): "v"}
    deep_set = parse(reply, b"~1\r\n" * depth + b"~0\r\n")  # frozensets cache their hash
    assert isinstance(deep_set, frozenset)
