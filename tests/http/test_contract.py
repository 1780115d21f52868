"""The operation contract as docs/http/runtime.md states it: callbacks, operation types,
what `Reqd` reports (issue 18, items 5 and 6)."""

from __future__ import annotations

from wirekit.http import (
    CLOSE,
    READ,
    UPGRADE,
    YIELD,
    Close,
    Config,
    Read,
    Reqd,
    Response,
    ResponseState,
    ServerConnection,
    Upgrade,
    Write,
    Yield,
)
from wirekit.serializer import Writev


def get(target: str) -> bytes:
    return b"GET " + target.encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n"


def test_a_second_registration_replaces_the_first() -> None:
    held: list[Reqd] = []
    conn = ServerConnection(held.append, config=Config(max_pipelined_requests=1))
    conn.read(get("/1") + get("/2"))
    assert conn.next_read_operation() is YIELD
    fired: list[str] = []
    conn.yield_reader(lambda: fired.append("first"))
    conn.yield_reader(lambda: fired.append("second"))
    held[0].respond_with_bytes(Response(200), b"x")  # the queue moves: the reader may go on
    assert fired == ["second"]


def test_a_callback_may_fire_inside_the_registration() -> None:
    conn = ServerConnection(lambda reqd: None)
    conn.shutdown()  # the output is closed and empty
    fired: list[bool] = []
    conn.yield_writer(lambda: fired.append(True))
    assert fired == [True]  # synchronously, from yield_writer itself


def test_operations_are_told_apart_by_type_or_identity() -> None:
    assert Write is Writev  # the serializer's operation, handed out as it is
    assert isinstance(READ, Read) and isinstance(YIELD, Yield) and isinstance(UPGRADE, Upgrade)
    assert isinstance(CLOSE, Close) and CLOSE.drained == 0  # reading's Close is a Close too

    def kind(op: object) -> str:
        match op:
            case Writev(iovecs=iovecs):
                return f"write {len(iovecs)}"
            case Close(drained=n):
                return f"close {n}"
            case Yield():
                return "yield"
            case _:
                return "other"

    conn = ServerConnection(lambda reqd: reqd.respond_with_bytes(Response(200), b"hi"))
    conn.read(get("/"))
    assert kind(conn.next_write_operation()) == "write 1"
    assert kind(conn.next_read_operation()) == "other"  # READ
    conn.shutdown()
    op = conn.next_write_operation()
    assert isinstance(op, Write)
    conn.report_write_result(op.nbytes)
    assert kind(conn.next_write_operation()) == "close 0"
    assert kind(conn.next_read_operation()) == "close 0"


def test_handler_called_and_response_state_say_what_they_mean() -> None:
    held: list[Reqd] = []
    seen: list[Reqd] = []

    def handler(reqd: Reqd) -> None:
        held.append(reqd)

    conn = ServerConnection(handler)
    conn.read(get("/1") + get("/2"))
    assert len(held) == 1  # the second waits for the first's answer
    first = held[0]
    assert first.handler_called and first.response_state is ResponseState.WAITING
    assert first.response is None
    first.respond_with_bytes(Response(200), b"1")
    state: ResponseState = first.response_state  # (a property: mypy narrowed it above)
    assert state is ResponseState.COMPLETE and first.response is not None
    seen.extend(held)
    assert len(seen) == 2 and seen[1].handler_called
    assert seen[1].response_state is ResponseState.WAITING
