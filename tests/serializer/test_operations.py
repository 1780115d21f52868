"""Operation values and sentinels (``_operations.py``)."""

from __future__ import annotations

import pytest
from wirekit.serializer import CLOSED, Close, FlushReason, Operation, PeerClosed, Writev, Yield


def test_yield_and_close_are_singletons() -> None:
    assert Yield() is Yield()
    assert Close() is Close()
    assert Yield() != Close()  # type: ignore[comparison-overlap]
    assert repr(Yield()) == "Yield()"
    assert repr(Close()) == "Close()"


def describe(op: Operation) -> str:
    match op:
        case Writev(iovecs):
            return f"writev {len(iovecs)}"
        case Yield():
            return "yield"
        case Close():
            return "close"


def test_operations_work_with_match() -> None:
    assert describe(Writev([b"a", b"b"])) == "writev 2"
    assert describe(Yield()) == "yield"
    assert describe(Close()) == "close"


def test_writev_nbytes_and_equality() -> None:
    op = Writev([b"ab", memoryview(b"cde")])
    assert op.nbytes == 5
    assert op == Writev([b"ab", b"cde"])
    assert op != Writev([b"abc", b"de"])
    assert op != "not an operation"
    assert Writev([b"x"], nbytes=1).nbytes == 1
    with pytest.raises(TypeError):
        hash(op)


def test_writev_repr_is_short() -> None:
    op = Writev([b"x" * 100] * 6)
    text = repr(op)
    assert text.startswith("Writev([b'xxxxxxxxxxxxxxxx'...")
    assert "2 more" in text and "nbytes=600" in text


def test_sentinels() -> None:
    assert CLOSED is PeerClosed.CLOSED
    assert {r.name for r in FlushReason} == {"SHIFT", "DRAIN", "NOTHING_PENDING"}
