"""The examples run as tests: every ``examples/*.py`` and every example package
``examples/<name>/`` with a ``main()`` is run, and the binary example
(``examples/length_prefixed.py``) is checked in depth. (The RESP package has its own
tests in ``tests/examples/resp/``.)"""

from __future__ import annotations

import inspect
import struct
from typing import Any

import pytest
from wirekit.combinators import Buffered, Done, Fail, ParseError, Partial, State, parse

from tests.combinators.helpers import EXAMPLES, Err, check, load_example

EXAMPLE_NAMES = sorted(
    [path.stem for path in EXAMPLES.glob("*.py")]
    + [path.parent.name for path in EXAMPLES.glob("*/__init__.py")]
)


def test_there_are_examples() -> None:
    assert "json" in EXAMPLE_NAMES
    assert "length_prefixed" in EXAMPLE_NAMES
    assert "resp" in EXAMPLE_NAMES


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_main_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = load_example(name)
    main = getattr(module, "main", None)
    if main is None:
        pytest.skip(f"example {name} has no main()")
    if inspect.signature(main).parameters:
        main([])  # argv: no command-line arguments
    else:
        main()
    assert capsys.readouterr().out.strip(), f"example {name} printed nothing"


# --------------------------------------------------------------------------------
# examples/json.py
# --------------------------------------------------------------------------------
def test_json_example() -> None:
    example = load_example("json")
    assert example.loads(b'{"a": [1, 2.5, "x\\n"]}') == {"a": [1, 2.5, "x\n"]}
    check(example.json_text, b' [1, {"k": null}] ', [1, {"k": None}])
    with pytest.raises(ParseError) as info:
        example.loads(b"[1, 2,]")
    assert info.value.position == 6


def test_json_example_main_with_an_argument(capsys: pytest.CaptureFixture[str]) -> None:
    load_example("json").main(['{"x": [true, false]}'])
    assert capsys.readouterr().out.strip() == "{'x': [True, False]}"


# --------------------------------------------------------------------------------
# examples/length_prefixed.py
# --------------------------------------------------------------------------------
lp = load_example("length_prefixed")
PAYLOADS = [b"hello", b"", b"wire\x00kit", bytes(range(4))]


def test_length_prefixed_sample() -> None:
    value = parse(lp.archive, lp.SAMPLE)
    assert value == lp.Archive(1, PAYLOADS)
    assert lp.SAMPLE[:5] == b"WK\x01\x00\x04"


def test_length_prefixed_at_every_split_point() -> None:
    check(lp.archive, lp.SAMPLE, lp.Archive(1, PAYLOADS))
    check(lp.archive, lp.build(7, []), lp.Archive(7, []))
    check(lp.archive, lp.build(255, [b"x" * 300]), lp.Archive(255, [b"x" * 300]), exhaustive=False)


def test_length_prefixed_truncated_input_waits_for_more() -> None:
    for cut in range(len(lp.SAMPLE)):
        state: State[Any] = Buffered.parse(lp.archive, initial_buffer_size=4)
        state = state.feed(lp.SAMPLE[:cut])
        assert isinstance(state, Partial), f"cut at {cut}: {state!r}"
        failed = state.feed_eof()
        assert isinstance(failed, Fail)
        assert failed.error.position <= cut
        # Had the rest arrived instead, the parse would have finished.
    state = Buffered.parse(lp.archive)
    for i in range(len(lp.SAMPLE)):
        state = state.feed(lp.SAMPLE[i : i + 1])
    assert isinstance(state, Done)
    assert state.value == lp.Archive(1, PAYLOADS)


def test_length_prefixed_bad_magic() -> None:
    bad = b"XK" + lp.SAMPLE[2:]
    check(lp.archive, bad, expect_error=Err(0, ["'WK'"], ["magic"], "at offset 0"))
    state = Buffered.parse(lp.archive)
    assert isinstance(state, Partial)
    failed = state.feed(b"X")
    assert isinstance(failed, Fail)
    assert failed.error.position == 0


def test_length_prefixed_short_payload_and_trailing_bytes() -> None:
    short = struct.pack(">2sBHI", b"WK", 1, 1, 10) + b"only6!"
    check(lp.archive, short, expect_error=Err(9, marks=["record"]))
    check(lp.archive, lp.SAMPLE + b"!", expect_error=Err(len(lp.SAMPLE), ["end of input"]))
    missing_record = struct.pack(">2sBH", b"WK", 1, 2) + struct.pack(">I", 1) + b"a"
    check(lp.archive, missing_record, expect_error=Err(len(missing_record), marks=["record"]))
