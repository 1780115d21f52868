"""Timeouts in the sans-IO core: which deadline applies in each state, when its clock
restarts, and what `timeout` does (`ServerConnection.deadline` / `timeout`)."""

from __future__ import annotations

from wirekit.http import (
    BodyReader,
    Config,
    Deadline,
    Reqd,
    Response,
    ServerConnection,
    TimeoutKind,
    Write,
)

from tests.http.runtime import parse_responses

CONFIG = Config(timeout_keep_alive=5, timeout_header=10, timeout_body=30, timeout_write=60)


def get(target: str = "/", extra: bytes = b"") -> bytes:
    return b"GET " + target.encode() + b" HTTP/1.1\r\nHost: a\r\n" + extra + b"\r\n"


class Held:
    """A handler that answers only when told."""

    def __init__(self) -> None:
        self.reqds: list[Reqd] = []

    def __call__(self, reqd: Reqd) -> None:
        self.reqds.append(reqd)


def ok(reqd: Reqd) -> None:
    reqd.respond_with_bytes(Response(200), b"ok")


def drain(conn: ServerConnection) -> bytes:
    """Write everything the connection offers (a socket that takes it all)."""
    out = b""
    while isinstance(op := conn.next_write_operation(), Write):
        out += b"".join(bytes(v) for v in op.iovecs)
        conn.report_write_result(op.nbytes)
    return out


def test_a_new_connection_is_idle_and_closes_quietly() -> None:
    conn = ServerConnection(ok, config=CONFIG)
    assert conn.deadline(100.0) == Deadline(TimeoutKind.IDLE, 105.0)
    assert conn.deadline(103.0) == Deadline(TimeoutKind.IDLE, 105.0)  # the clock runs on
    conn.timeout(104.9)  # not yet: nothing happens
    assert conn.next_read_operation().__class__.__name__ == "Read"
    conn.timeout(105.0)
    assert drain(conn) == b"" and conn.is_closed  # no response: a quiet close


def test_the_head_clock_starts_with_the_first_byte_and_ends_with_the_head() -> None:
    conn = ServerConnection(ok, config=CONFIG)
    conn.deadline(0.0)
    conn.read(b"GET / HT")
    assert conn.deadline(1.0) == Deadline(TimeoutKind.HEAD, 11.0)
    conn.read(b"TP/1.1\r\n")  # more bytes of the same head: the clock does not restart
    assert conn.deadline(9.0) == Deadline(TimeoutKind.HEAD, 11.0)
    conn.read(b"Host: a\r\n\r\n")
    drain(conn)
    assert conn.deadline(9.5) == Deadline(TimeoutKind.IDLE, 14.5)  # answered: idle again
    conn.read(b"GET")  # the next head has its own clock
    assert conn.deadline(12.0) == Deadline(TimeoutKind.HEAD, 22.0)


def test_a_late_head_gets_408_then_close() -> None:
    conn = ServerConnection(ok, config=CONFIG)
    conn.read(b"GET / HTTP/1.1\r\nHost")
    conn.deadline(0.0)
    conn.timeout(10.0)
    responses = parse_responses(drain(conn))
    assert [r.status for r in responses] == [408]
    assert conn.is_closed and conn.unconsumed == b""


def test_a_stale_timer_is_ignored() -> None:
    conn = ServerConnection(ok, config=CONFIG)
    conn.read(b"GET / HTTP/1.1\r\n")
    conn.deadline(0.0)  # HEAD at 10
    conn.read(b"Host: a\r\n\r\n")  # the head completed; the runtime's timer still fires
    drain(conn)
    conn.timeout(10.0)  # now IDLE since 10.0 (progress): not due
    assert not conn.is_closed and conn.deadline(10.0) == Deadline(TimeoutKind.IDLE, 15.0)


def test_a_body_clock_restarts_with_each_arrival_and_ends_in_408() -> None:
    app = Held()
    conn = ServerConnection(app, config=CONFIG)
    conn.read(get("/", b"Content-Length: 10\r\n").replace(b"GET", b"PUT") + b"abc")
    errors: list[Exception] = []
    body: BodyReader = app.reqds[0].request_body

    def on_read(_: bytes) -> None:
        body.schedule_read(on_read, lambda: None, errors.append)

    on_read(b"")
    assert conn.deadline(0.0) == Deadline(TimeoutKind.BODY, 30.0)
    conn.read(b"de")
    assert conn.deadline(20.0) == Deadline(TimeoutKind.BODY, 50.0)
    conn.timeout(50.0)
    assert [r.status for r in parse_responses(drain(conn))] == [408]
    assert len(errors) == 1 and "timed out" in str(errors[0]) and conn.is_closed


def test_no_deadline_while_the_handler_works_or_holds_back_the_reader() -> None:
    app = Held()
    conn = ServerConnection(app, config=CONFIG)
    conn.read(get("/1"))
    assert conn.deadline(0.0) is None  # a handler is working: the application's business
    # A body the handler does not read fills its buffer: the reader yields (backpressure).
    app2 = Held()
    small = Config(request_body_buffer_size=4, timeout_body=1)
    conn2 = ServerConnection(app2, config=small)
    conn2.read(get("/", b"Content-Length: 100\r\n").replace(b"GET", b"PUT") + b"x" * 10)
    assert conn2.deadline(0.0) is None


def test_output_the_peer_does_not_take_times_out() -> None:
    conn = ServerConnection(ok, config=CONFIG)
    conn.read(get("/"))
    op = conn.next_write_operation()
    assert isinstance(op, Write)
    assert conn.deadline(0.0) == Deadline(TimeoutKind.WRITE, 60.0)
    conn.report_write_result(1)  # progress restarts the clock
    assert conn.deadline(30.0) == Deadline(TimeoutKind.WRITE, 90.0)
    conn.timeout(90.0)
    op2 = conn.next_write_operation()
    assert op2.__class__.__name__ == "Close" and op2.drained > 0  # type: ignore[union-attr]
    assert conn.is_closed


def test_held_pipelined_requests_go_on_without_new_bytes() -> None:
    app = Held()
    conn = ServerConnection(app, config=Config(max_pipelined_requests=1))
    assert conn.read(get("/1") + get("/2") + get("/3")) == 3 * len(get("/1"))
    assert [r.request.target for r in app.reqds if r.request] == [b"/1"]
    assert conn.unconsumed == get("/2") + get("/3")  # the connection holds them
    assert conn.deadline(0.0) is None  # waiting for the application, not the peer
    app.reqds[0].respond_with_bytes(Response(200), b"1")
    conn.next_read_operation()  # asked again, it takes the next request it holds
    assert [r.request.target for r in app.reqds if r.request] == [b"/1", b"/2"]
    app.reqds[1].respond_with_bytes(Response(200), b"2")
    conn.next_read_operation()
    app.reqds[2].respond_with_bytes(Response(200), b"3")
    assert conn.unconsumed == b"" and [r.body for r in parse_responses(drain(conn))] == [b"1", b"2", b"3"]


def test_eof_while_requests_are_held_answers_them_all() -> None:
    app = Held()
    conn = ServerConnection(app, config=Config(max_pipelined_requests=1))
    conn.read(get("/1") + get("/2"))
    conn.read_eof()  # the client half-closes with /2 still held
    app.reqds[0].respond_with_bytes(Response(200), b"1")
    conn.next_read_operation()
    assert len(app.reqds) == 2
    app.reqds[1].respond_with_bytes(Response(200), b"2")
    responses = parse_responses(drain(conn))
    assert [r.body for r in responses] == [b"1", b"2"]
    assert responses[-1].header(b"connection") == b"close" and conn.is_closed


def test_timeouts_must_be_positive() -> None:
    import pytest

    for name in ("timeout_keep_alive", "timeout_header", "timeout_body", "timeout_write"):
        with pytest.raises(ValueError, match=name):
            Config(**{name: 0})
