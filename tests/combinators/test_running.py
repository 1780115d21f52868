"""Running parsers (`_running.py`): one shot with `parse`, `Buffered`, `Unbuffered`,
`parse_many` and `parse_many_async`; Angstrom's incremental-input tests re-expressed."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator, Sequence
from typing import Any, Protocol, cast

import pytest
from wirekit.combinators import (
    Buffered,
    Consume,
    Done,
    Fail,
    ParseError,
    Parser,
    Partial,
    State,
    Unbuffered,
    any_char,
    at_end_of_input,
    available,
    char,
    commit,
    consumed,
    count,
    end_of_input,
    fail,
    generate,
    many,
    not_followed_by,
    option,
    parse,
    parse_many,
    parse_many_async,
    peek_char,
    pure,
    skip_many,
    skip_while,
    string,
    take,
    take_till,
    take_while,
    take_while1,
)

from tests.combinators.helpers import check, run_buffered, run_unbuffered

PREFIX = Consume.PREFIX
DIGITS = b"0123456789"


class Retaining(Protocol):
    """What a Buffered `Partial` tells about its buffer."""

    @property
    def retained(self) -> int: ...

    @property
    def buffer_size(self) -> int: ...


def feed_all(state: State[Any], chunks: Sequence[bytes | bytearray | memoryview]) -> State[Any]:
    for chunk in chunks:
        state = state.feed(chunk)
    return state


# --------------------------------------------------------------------------------
# One shot
# --------------------------------------------------------------------------------
def test_prefix_versus_all() -> None:
    # Angstrom's consume test.
    p = many(char(b"a"))
    assert parse(p, b"aaabbb", Consume.PREFIX) == [b"a", b"a", b"a"]
    with pytest.raises(ParseError) as info:
        parse(p, b"aaabbb", Consume.ALL)
    assert info.value.position == 3
    assert "end of input" in info.value.expected
    with pytest.raises(ParseError):
        parse(p, b"aaabbb")  # ALL is the default
    check(p, b"aaabbb", [b"a"] * 3, consume=PREFIX, rest=b"bbb")


def test_parse_accepts_bytes_like_input() -> None:
    p = take_while1(DIGITS).map(int)
    assert parse(p, b"123") == 123
    assert parse(p, bytearray(b"123")) == 123
    assert parse(p, memoryview(b"xx123yy")[2:5]) == 123
    assert parse(take(2), memoryview(bytearray(b"abc"))[1:]) == b"bc"
    assert type(parse(take(2), bytearray(b"ab"))) is bytes
    assert type(parse(take_while(b"a"), memoryview(b"aa"))) is bytes


# --------------------------------------------------------------------------------
# Buffered
# --------------------------------------------------------------------------------
def test_buffered_states() -> None:
    state = Buffered.parse(take(3))
    assert isinstance(state, Partial)
    state = state.feed(b"ab")
    assert isinstance(state, Partial)
    done = state.feed(b"cde")
    assert isinstance(done, Done)
    assert done.value == b"abc"
    assert done.unconsumed == b"de"
    # Feeding a Done appends to its unconsumed input; the end of input is a no-op.
    more = done.feed(b"fg")
    assert isinstance(more, Done)
    assert more.value == b"abc"
    assert more.unconsumed == b"defg"
    assert more.feed_eof().unconsumed == b"defg"
    assert more.feed(bytearray(b"h")).unconsumed == b"defgh"


def test_buffered_fail_keeps_the_input_from_the_last_commit() -> None:
    p = count(2, take(2) << commit) >> char(b"!")
    state = Buffered.parse(p)
    assert isinstance(state, Partial)
    failed = state.feed(b"aabbX")
    assert isinstance(failed, Fail)
    assert failed.error.position == 4
    assert failed.error.expected == ["'!'"]
    assert failed.unconsumed == b"X"
    more = failed.feed(b"yz")
    assert isinstance(more, Fail)
    assert more.unconsumed == b"Xyz"
    assert more.error == failed.error
    assert more.feed_eof().unconsumed == b"Xyz"


def test_buffered_fail_at_end_of_input() -> None:
    state = Buffered.parse(take(3))
    assert isinstance(state, Partial)
    state = state.feed(b"ab")
    assert isinstance(state, Partial)
    failed = state.feed_eof()
    assert isinstance(failed, Fail)
    assert failed.error.position == 0
    assert failed.unconsumed == b"ab"


def test_buffered_done_without_input() -> None:
    state = Buffered.parse(pure(5))
    assert isinstance(state, Done)
    assert state.value == 5
    assert state.unconsumed == b""
    assert state.feed(b"x").unconsumed == b"x"


def test_buffered_feed_eof_on_a_greedy_loop() -> None:
    # Angstrom's count_while regression: take_while / take_while1, then eof (["asdf"; ""]).
    for p in (take_while(lambda c: True), take_while1(lambda c: True)):
        state = feed_all(Buffered.parse(p), [b"asdf", b""])
        assert isinstance(state, Partial)
        done = state.feed_eof()
        assert isinstance(done, Done)
        assert done.value == b"asdf"
        assert done.unconsumed == b""


def test_buffered_accepts_bytes_like_chunks() -> None:
    state = Buffered.parse(take(6), initial_buffer_size=2)
    state = feed_all(state, [b"a", bytearray(b"bc"), memoryview(b"xdef")[1:]])
    assert isinstance(state, Done)
    assert state.value == b"abcdef"


def test_a_partial_is_continued_once() -> None:
    state = Buffered.parse(take(2))
    assert isinstance(state, Partial)
    state.feed(b"a")
    with pytest.raises(RuntimeError):
        state.feed(b"b")
    with pytest.raises(RuntimeError):
        state.feed_eof()


def test_buffered_rejects_a_zero_buffer() -> None:
    with pytest.raises(ValueError):
        Buffered.parse(take(1), initial_buffer_size=0)


def test_buffered_and_unbuffered_partials_are_not_interchangeable() -> None:
    buffered = Buffered.parse(take(1))
    unbuffered = Unbuffered.parse(take(1))
    assert isinstance(buffered, Partial)
    assert isinstance(unbuffered, Partial)
    with pytest.raises(TypeError):
        buffered.resume(b"a")
    with pytest.raises(TypeError):
        unbuffered.feed(b"a")
    with pytest.raises(TypeError):
        unbuffered.feed_eof()


def test_buffered_retains_only_uncommitted_bytes() -> None:
    for chunk_size in (10, 7, 1):
        state: State[None] = Buffered.parse(skip_many(take(10) << commit), initial_buffer_size=16)
        total = 0
        for i in range(1000):
            state = state.feed(bytes([i % 256]) * chunk_size)
            total += chunk_size
            assert isinstance(state, Partial)
            partial = cast(Retaining, state)
            assert partial.retained == total % 10, f"after {total} bytes"
            assert partial.buffer_size <= 16
        done = state.feed_eof()
        assert isinstance(done, Done)
        assert done.unconsumed == b""


def test_buffered_grows_for_uncommitted_input() -> None:
    state: State[list[bytes]] = Buffered.parse(many(take(10)), initial_buffer_size=4)
    for _ in range(100):
        state = state.feed(b"0123456789")
        assert isinstance(state, Partial)
    assert cast(Retaining, state).retained == 1000
    done = state.feed_eof()
    assert isinstance(done, Done)
    assert done.value == [b"0123456789"] * 100


# --------------------------------------------------------------------------------
# Decisions wait for input at the end of a chunk
# --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "chunk", "final"),
    [
        (take_while(b"a"), b"aa", b"aa"),
        (skip_while(b"a"), b"aa", None),
        (many(char(b"a")), b"aa", [b"a", b"a"]),
        (peek_char, b"", None),
        (at_end_of_input, b"", True),
        (take(2) >> at_end_of_input, b"ab", True),
        (any_char >> peek_char, b"a", None),
        (take_till(b"\n"), b"abc", b"abc"),
    ],
)
def test_greedy_loops_and_peeks_wait_at_a_chunk_end(
    p: Parser[Any], chunk: bytes, final: Any
) -> None:
    state = Buffered.parse(p)
    assert isinstance(state, Partial)
    state = state.feed(chunk)
    assert isinstance(state, Partial), f"decided early: {state!r}"
    state = state.feed(b"")
    assert isinstance(state, Partial), f"decided early on an empty chunk: {state!r}"
    done = state.feed_eof()
    assert isinstance(done, Done)
    assert done.value == final


def test_peek_char_sees_the_next_chunk() -> None:
    state = Buffered.parse(any_char >> peek_char)
    state = feed_all(state, [b"a", b"", b"bc"])
    assert isinstance(state, Done)
    assert state.value == b"b"
    assert state.unconsumed == b"bc"


# --------------------------------------------------------------------------------
# Angstrom's incremental input tests
# --------------------------------------------------------------------------------
SIZES = (4096, 3, 4, 1)


def run_chunks(p: Parser[Any], chunks: Sequence[bytes]) -> list[Any]:
    """The value of ``p`` on ``chunks`` through Buffered (every size) and Unbuffered."""
    values = []
    for size in SIZES:
        out = run_buffered(p, chunks, size)
        assert out.error is None, out.describe()
        values.append(out.value)
    out = run_unbuffered(p, chunks, "bytearray", off=2)
    assert out.error is None, out.describe()
    values.append(out.value)
    return values


@pytest.mark.parametrize(
    "chunks",
    [
        [b"this", b"that"],
        [b"thi", b"sthat"],
        [b"this", b"th", b"at"],
        [b"th", b"is", b"that"],
        [b"t", b"hist", b"hat"],
        [b"thisth", b"a", b"t"],
        [b"t", b"hi", b"st", b"ha", b"t"],
    ],
)
def test_strings_within_and_across_chunk_boundaries(chunks: list[bytes]) -> None:
    assert run_chunks(string(b"this") >> string(b"that"), chunks) == [b"that"] * 5
    with_commit = string(b"this") >> commit >> string(b"that")
    assert run_chunks(with_commit, chunks) == [b"that"] * 5


@generate
def whole_lotta_decoder() -> Generator[Parser[Any], Any, bytes]:
    """Take whatever is available, commit it, until the end of input."""
    pieces: list[bytes] = []
    while True:
        n = yield available
        if n:
            pieces.append((yield take(n) << commit))
        elif (yield peek_char) is None:
            return b"".join(pieces)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"Whole Lotta Love", b"", b"", b""],
        [b"Whole", b" ", b"", b"Lotta Love", b""],
        [b"W", b"hole Lotta Lov", b"e"],
    ],
)
def test_whole_lotta_love(chunks: list[bytes]) -> None:
    assert run_chunks(whole_lotta_decoder, chunks) == [b"Whole Lotta Love"] * 5
    check(whole_lotta_decoder, b"Whole Lotta Love", b"Whole Lotta Love")


def test_whole_lotta_love_commits_each_piece() -> None:
    state = Buffered.parse(whole_lotta_decoder, initial_buffer_size=3)
    assert isinstance(state, Partial)
    state = state.feed(b"Whole Lotta Love")
    assert isinstance(state, Partial)
    assert cast(Retaining, state).retained == 0
    for _ in range(3):
        state = state.feed(b"")
        assert isinstance(state, Partial)
    done = state.feed_eof()
    assert isinstance(done, Done)
    assert done.value == b"Whole Lotta Love"


def test_commit_between_strings_releases_input() -> None:
    p = string(b"GET ") >> commit >> take_till(b" ") << commit << string(b" HTTP/1.1")
    state = Buffered.parse(p, initial_buffer_size=4)
    assert isinstance(state, Partial)
    state = state.feed(b"GET /in")
    assert isinstance(state, Partial)
    assert cast(Retaining, state).retained == 3  # "/in": the path is not committed yet
    state = state.feed(b"dex HTTP/1.")
    assert isinstance(state, Partial)
    assert cast(Retaining, state).retained == len(b" HTTP/1.")
    done = state.feed(b"1")
    assert isinstance(done, Done)
    assert done.value == b"/index"


# --------------------------------------------------------------------------------
# Unbuffered
# --------------------------------------------------------------------------------
def test_unbuffered_offset_and_length_are_respected() -> None:
    # Angstrom's input test.
    state = Unbuffered.parse(take(2))
    assert isinstance(state, Partial)
    assert state.committed == 0
    done = state.resume(b"abcd", off=1, length=2)
    assert isinstance(done, Done)
    assert done.value == b"bc"
    assert done.consumed == 2
    assert done.unconsumed == b""


def test_unbuffered_reports_committed_bytes() -> None:
    p = count(3, take(2) << commit)
    state = Unbuffered.parse(p)
    assert isinstance(state, Partial)
    assert state.committed == 0
    state = state.resume(b"abc")
    assert isinstance(state, Partial)
    assert state.committed == 2
    # Drop the 2 committed bytes, present the rest plus new input (at an offset).
    buf = bytearray(b"__cde")
    state = state.resume(buf, off=2, length=3)
    assert isinstance(state, Partial)
    assert state.committed == 2
    done = state.resume(memoryview(b"ef!"), 0, 2, complete=False)
    assert isinstance(done, Done)
    assert done.value == [b"ab", b"cd", b"ef"]
    assert done.consumed == 2


def test_unbuffered_done_consumed_counts_from_the_last_buffer() -> None:
    state = Unbuffered.parse(string(b"ab") >> string(b"cd"))
    assert isinstance(state, Partial)
    state = state.resume(b"abc")
    assert isinstance(state, Partial)
    assert state.committed == 0
    done = state.resume(b"xxabcdef", off=2, length=5)
    assert isinstance(done, Done)
    assert done.value == b"cd"
    assert done.consumed == 4
    assert done.unconsumed == b"e"


def test_unbuffered_done_value_survives_reuse_of_the_buffer() -> None:
    # Once a state is returned the caller owns its buffer again and may reuse it: the
    # value is a copy. `unconsumed` is zero-copy until read (documented on `Done`), so
    # it is read before the buffer is reused.
    for p in (take(2), string(b"ab"), consumed(take(1) >> take(1))):
        buf = bytearray(b"abcdef")
        state = Unbuffered.parse(p)
        assert isinstance(state, Partial)
        done = state.resume(buf, 0, 6)
        assert isinstance(done, Done)
        assert done.consumed == 2
        rest = done.unconsumed
        buf[:] = b"XXXXXX"
        assert done.value == b"ab"
        assert rest == b"cdef"
        assert done.unconsumed == b"cdef"  # once read, it is a copy


def test_unbuffered_fail() -> None:
    state = Unbuffered.parse(take(2) >> commit >> char(b"!"))
    assert isinstance(state, Partial)
    failed = state.resume(b"_abX", off=1, length=3)
    assert isinstance(failed, Fail)
    assert failed.error.position == 2
    assert failed.consumed == 2
    assert failed.unconsumed == b"X"


def test_unbuffered_error_is_the_same_as_parse() -> None:
    p = not_followed_by(take_while1(b"a")).optional()
    with pytest.raises(ParseError) as info:
        parse(p, b"a")
    assert info.value.expected == ["end of input", "not a byte in [a]"]  # sorted
    state: State[Any] = Unbuffered.parse(p << end_of_input)
    assert isinstance(state, Partial)
    state = state.resume(b"a")
    if isinstance(state, Partial):
        state = state.resume(b"a", complete=True)
    assert isinstance(state, Fail)
    assert state.error == info.value, state.error.message


def test_unbuffered_resume_with_fewer_bytes_raises() -> None:
    state = Unbuffered.parse(take(4))
    assert isinstance(state, Partial)
    state = state.resume(b"abc")
    assert isinstance(state, Partial)
    assert state.committed == 0
    with pytest.raises(ValueError):
        state.resume(b"ab")
    with pytest.raises(ValueError):
        state.resume(b"abcd", off=2, length=3)  # does not fit the buffer
    # The state is still usable with the right input.
    done = state.resume(b"abcd")
    assert isinstance(done, Done)
    assert done.value == b"abcd"


def test_unbuffered_same_bytes_again() -> None:
    state = Unbuffered.parse(take_while(b"a"))
    assert isinstance(state, Partial)
    state = state.resume(b"aa")
    assert isinstance(state, Partial)
    state = state.resume(b"aa")  # no new input, not complete: ask again
    assert isinstance(state, Partial)
    done = state.resume(b"aa", complete=True)
    assert isinstance(done, Done)
    assert done.value == b"aa"


def test_unbuffered_complete_with_nothing() -> None:
    state = Unbuffered.parse(at_end_of_input)
    assert isinstance(state, Partial)
    done = state.resume(b"", complete=True)
    assert isinstance(done, Done)
    assert done.value is True
    assert done.consumed == 0


# --------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------
line = take_till(b"\n") << char(b"\n")


def test_parse_many() -> None:
    chunks = [b"ab\ncd", b"\n", b"", b"e", b"f\n"]
    assert list(parse_many(line, chunks)) == [b"ab", b"cd", b"ef"]
    assert list(parse_many(line, [])) == []
    assert list(parse_many(line, [b"", b""])) == []
    assert list(parse_many(line, [bytearray(b"x\n"), memoryview(b"y\n")])) == [b"x", b"y"]


def test_parse_many_yields_each_value_as_soon_as_it_is_complete() -> None:
    fed: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b"one\ntw", b"o\nthr", b"ee\n"):
            fed.append(chunk)
            yield chunk

    values = parse_many(line, chunks())
    assert next(values) == b"one"
    assert fed == [b"one\ntw"]
    assert next(values) == b"two"
    assert len(fed) == 2
    assert list(values) == [b"three"]


def test_parse_many_error() -> None:
    got: list[bytes] = []
    with pytest.raises(ParseError) as info:
        for value in parse_many(line, [b"ab\ncd", b"e"]):
            got.append(value)
    assert got == [b"ab"]
    assert info.value.position == 6
    assert info.value.expected == ["'\\n'"]

    records = take_while1(DIGITS).map(int) << char(b";")
    got_ints: list[int] = []
    with pytest.raises(ParseError) as info:
        for n in parse_many(records, [b"1;22;", b"33", b"3;x;"]):
            got_ints.append(n)
    assert got_ints == [1, 22, 333]
    assert info.value.position == 9


def test_a_loop_on_the_stack_resumes_an_item_left_by_a_handed_over_fused_block() -> None:
    # The loop of `parse_many` runs on the machine's stack and each item in the direct
    # form. Here an item's fused block cannot decide before the input ends and hands its
    # general form over; that fails at once, over the frames of the bind it was in: the
    # bind must see the failure (its function is never called), found by a RESP fuzz test.
    header = char(b">") >> take_while1(b"0123456789") << string(b"\r\n")
    calls: list[bytes] = []

    def body(n: bytes) -> Parser[bytes]:
        calls.append(n)
        return take(int(n))

    item = header.bind(body)
    for chunks in ([b">\x00"], [b">1\r\nx>\x00"], [b">1\r\nx", b">", b"\x00"]):
        calls.clear()
        got: list[bytes] = []
        with pytest.raises(ParseError) as info:
            got.extend(parse_many(item, chunks))
        assert info.value.expected == ["a byte in [0-9]"]
        assert info.value.position == (1 if len(chunks[0]) == 2 else 6)
        assert got == ([] if len(chunks[0]) == 2 else [b"x"]) and calls == [b"1"] * len(got)
    check(many(item), b">1\r\nx>2\r\nyz", [b"x", b"yz"])
    check(many(item) << char(b">"), b">1\r\nx>", [b"x"])


def test_parse_many_long_stream() -> None:
    chunks = [b"%d\n" % i for i in range(5000)]
    joined = b"".join(chunks)
    pieces = [joined[i : i + 333] for i in range(0, len(joined), 333)]
    assert list(parse_many(line, pieces)) == [b"%d" % i for i in range(5000)]


def test_parse_many_async() -> None:
    async def scenario() -> list[bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"ab\ncd")
        values = parse_many_async(line, reader, chunk_size=4)
        got = [await anext(values)]
        reader.feed_data(b"\ne")
        reader.feed_data(b"f\n")
        reader.feed_eof()
        got += [value async for value in values]
        return got

    assert asyncio.run(scenario()) == [b"ab", b"cd", b"ef"]


def test_parse_many_async_default_chunk_size_and_empty_stream() -> None:
    async def scenario(data: bytes) -> list[bytes]:
        reader = asyncio.StreamReader()
        if data:
            reader.feed_data(data)
        reader.feed_eof()
        return [value async for value in parse_many_async(line, reader)]

    assert asyncio.run(scenario(b"")) == []
    assert asyncio.run(scenario(b"a\nb\n" * 1000)) == [b"a", b"b"] * 1000


def test_parse_many_async_waits_for_data() -> None:
    async def scenario() -> list[bytes]:
        reader = asyncio.StreamReader()
        values = parse_many_async(line, reader, chunk_size=2)
        pending = asyncio.ensure_future(anext(values))
        await asyncio.sleep(0)
        assert not pending.done()
        reader.feed_data(b"hello\n")
        first = await pending
        reader.feed_eof()
        return [first] + [value async for value in values]

    assert asyncio.run(scenario()) == [b"hello"]


def test_parse_many_async_error() -> None:
    async def scenario() -> list[bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"ok\nbroken")
        reader.feed_eof()
        got: list[bytes] = []
        with pytest.raises(ParseError) as info:
            async for value in parse_many_async(line, reader, chunk_size=3):
                got.append(value)
        assert info.value.position == 9
        return got

    assert asyncio.run(scenario()) == [b"ok"]


def test_parse_many_async_of_a_parser_with_end_of_input() -> None:
    async def scenario() -> list[bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"abc")
        reader.feed_eof()
        return [value async for value in parse_many_async(take(3) << end_of_input, reader)]

    assert asyncio.run(scenario()) == [b"abc"]


def test_parse_prefix_is_unbuffered_resume_in_one_call() -> None:
    from wirekit.combinators import parse_prefix

    buf = bytearray(b"__ab;rest")
    done = parse_prefix(take_while1(b"ab") << char(b";"), buf, 2, 7)
    assert isinstance(done, Done) and done.value == b"ab" and done.consumed == 3
    assert done.unconsumed == b"rest"
    partial = parse_prefix(take_while1(b"ab") << char(b";"), b"ab", 0, 2)
    assert isinstance(partial, Partial) and partial.committed == 0
    finished = partial.resume(b"ab;", 0, 3)
    assert isinstance(finished, Done) and finished.value == b"ab"
    failed = parse_prefix(char(b"x"), b"y", complete=True)
    assert isinstance(failed, Fail) and failed.error.position == 0


# --------------------------------------------------------------------------------
# A failure known before the bytes that place its error
# --------------------------------------------------------------------------------
def test_a_failure_waits_for_the_bytes_that_place_its_error() -> None:
    # `option` gives up on an alternative that can never succeed; the end-of-input check
    # after it then fails for good on the first byte. But the furthest failure, the one
    # reported, is where the abandoned alternative's loop stops: after every "a". Fed
    # b"a" then b"a", the state stays Partial until that place is known, so the error is
    # at offset 2 however the input is split (it was at offset 1, the end of the first
    # chunk, before the fix: found by hypothesis).
    p = option(None, (take_while(b"ab") >> fail("x")).map(lambda v: v))
    check(p, b"aa")
    check(p, b"aab", consume=Consume.ALL)
    state = Buffered.parse(p << end_of_input)
    state = state.feed(b"a")
    assert isinstance(state, Partial)  # failing, but not yet placed
    state = state.feed(b"ac")  # "c" ends the loop at offset 2: the error is placed
    assert isinstance(state, Fail)
    assert state.error.position == 2 and state.error.expected == ["x"]  # where "c" stopped the loop
