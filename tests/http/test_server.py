"""`ServerConnection`: http/af's server test cases (lib_test and the anmonteiro fork)
re-expressed for wirekit's API, plus the framing duties wirekit takes on (HEAD/204/304,
chunked vs close-delimited, Content-Length enforcement, 100-continue, upgrades)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wirekit.http import (
    CLOSE,
    READ,
    YIELD,
    BodyReader,
    BodyWriter,
    Close,
    Config,
    FlushReason,
    HeaderInput,
    LocalProtocolError,
    RemoteProtocolError,
    Reqd,
    Request,
    Response,
    ServerConnection,
    Write,
)

from tests.http.runtime import (
    EchoApp,
    Runtime,
    WriteSize,
    check_splits,
    get,
    half,
    parse_responses,
    statuses,
)

Handler = Callable[[Reqd], None]
OK_EMPTY = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


def server(handler: Handler, config: Config | None = None, write_size: WriteSize | None = None) -> Runtime:
    rt = Runtime(ServerConnection(handler, config=config), write_size)
    rt.pump()
    return rt


class Held:
    """A handler that keeps every Reqd for the test to answer later."""

    def __init__(self) -> None:
        self.reqds: list[Reqd] = []

    def __call__(self, reqd: Reqd) -> None:
        self.reqds.append(reqd)

    @property
    def last(self) -> Reqd:
        return self.reqds[-1]


def ok(body: bytes = b"") -> Handler:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200), body)

    return handler


def post(body: bytes, *headers: str, chunked: bool = False, version: str = "1.1") -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    return get("/", framing, *headers, method="POST", version=version) + (
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if chunked and body else b"0\r\n\r\n" if chunked else body
    )


def read_all(body: BodyReader, sink: list[bytes], done: Callable[[], None] | None = None) -> None:
    """Schedule reads until the end of ``body``, appending to ``sink``."""

    def on_read(data: bytes) -> None:
        sink.append(data)
        body.schedule_read(on_read, on_eof)

    def on_eof() -> None:
        if done is not None:
            done()

    body.schedule_read(on_read, on_eof)


# -----------------------------------------------------------------------------------------
# Startup, EOF and basic requests
# -----------------------------------------------------------------------------------------
def test_initial_reader_state() -> None:
    conn = ServerConnection(ok())
    assert conn.next_read_operation() is READ
    assert conn.next_write_operation() is YIELD
    assert not conn.is_closed


@pytest.mark.parametrize("empty_read_first", [False, True])
def test_shutdown_reader_closed(empty_read_first: bool) -> None:
    conn = ServerConnection(ok())
    if empty_read_first:
        assert conn.read(b"") == 0
        assert conn.next_read_operation() is READ
    assert conn.read_eof(b"") == 0
    assert conn.next_read_operation() is CLOSE
    assert conn.next_write_operation() == Close(0)
    assert conn.is_closed


def test_shutdown_closes_both_sides_and_wakes() -> None:
    rt = server(Held())
    assert rt.writer_yielded
    rt.conn.shutdown()
    assert rt.writer_wakeups == 1
    rt.pump()
    assert rt.closed and rt.conn.is_closed and rt.output == b""


def test_single_get() -> None:
    rt = server(ok())
    rt.send(get())
    assert rt.take_output() == OK_EMPTY
    assert rt.next_read == "read" and rt.next_write == "yield"  # keep-alive
    assert not rt.conn.is_closed


def test_single_get_connection_close() -> None:
    rt = server(ok())
    rt.send(get("/", "Connection: close"))
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    assert rt.closed and rt.conn.is_closed and rt.drained == 0


def test_single_get_with_body() -> None:
    rt = server(ok(b"This is a test"))
    rt.send(get("/", "Connection: close"))
    [resp] = parse_responses(rt.take_output())
    assert (resp.status, resp.body, resp.header(b"content-length")) == (200, b"This is a test", b"14")
    assert rt.closed


def test_multiple_gets() -> None:
    rt = server(ok(b"x"))
    for i in range(3):
        rt.send(get(f"/{i}"))
        assert statuses(rt.take_output()) == [200]
    assert rt.read_ops == ["read"]


def test_asynchronous_response() -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    assert rt.output == b"" and rt.writer_yielded and rt.next_write == "yield"
    writer = app.last.respond_with_streaming(Response(200, [("Content-Length", "5")]))
    writer.write(b"hello")
    writer.close()
    assert rt.writer_wakeups == 1
    rt.pump()
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    rt.send(get("/2"))
    app.last.respond_with_bytes(Response(200))
    rt.pump()
    assert rt.take_output() == OK_EMPTY


# -----------------------------------------------------------------------------------------
# Streaming
# -----------------------------------------------------------------------------------------
def echo_streaming(reqd: Reqd) -> None:
    """Echo the request body as it arrives, one chunk per read (the headers of the
    response: the request's Content-Type)."""
    headers = [(b"content-type", ct)] if (ct := _ct(reqd)) is not None else []
    out = reqd.respond_with_streaming(Response(200, headers))
    body = reqd.request_body

    def on_read(data: bytes) -> None:
        out.write(data)
        out.flush()
        body.schedule_read(on_read, out.close)

    body.schedule_read(on_read, out.close)


def _ct(reqd: Reqd) -> bytes | None:
    assert reqd.request is not None
    return reqd.request.headers.get(b"content-type")


def test_echo_post_chunked() -> None:
    rt = server(echo_streaming)
    rt.send(get("/", "Transfer-Encoding: chunked", method="POST"))
    rt.send(b"5\r\nhello\r\n")
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"
    rt.send(b"6\r\n world\r\n")
    assert rt.take_output() == b"6\r\n world\r\n"
    rt.send(b"0\r\n\r\n")
    assert rt.take_output() == b"0\r\n\r\n"
    assert rt.next_read == "read" and not rt.conn.is_closed


def test_echo_post_fixed() -> None:
    rt = server(echo_streaming)
    rt.send(get("/", "Content-Length: 11", "Content-Type: text/x", method="POST") + b"hello")
    rt.send(b" world")
    [resp] = parse_responses(rt.take_output())
    assert (resp.status, resp.body, resp.chunked, resp.header(b"content-type")) == (200, b"hello world", True, b"text/x")


def test_echo_post_http10_is_close_delimited() -> None:
    rt = server(echo_streaming)
    rt.send(post(b"hello", version="1.0"))
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello"
    assert rt.closed


@pytest.mark.parametrize("chunked", [False, True])
def test_echo_post_every_split(chunked: bool) -> None:
    data = post(b"hello world", chunked=chunked) + post(b"", chunked=chunked) + get("/last")
    ref = check_splits(data, app=lambda: EchoApp())
    assert [s.body for s in ref.seen] == [b"hello world", b"", b""]
    assert [r.body for r in parse_responses(ref.output)] == [b"hello world", b"", b""]


def test_streaming_response() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200))
        w.write(b"Hello ")
        w.flush()
        w.write(b"world!")
        w.close()

    rt = server(handler)
    rt.send(get())
    out = rt.take_output()
    assert out == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nHello \r\n6\r\nworld!\r\n0\r\n\r\n"
    assert rt.writer_yielded and not rt.conn.is_closed


def test_asynchronous_streaming_response() -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    w = app.last.respond_with_streaming(Response(200, [("Content-Length", "12")]))
    wakeups = rt.writer_wakeups
    w.write(b"Hello ")
    assert rt.writer_wakeups == wakeups  # a write does not wake the writer
    w.flush()
    assert rt.writer_wakeups == wakeups + 1
    rt.pump()
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello "
    w.write(b"world!")
    rt.pump()
    assert rt.output == b""
    w.close()
    rt.pump()
    assert rt.take_output() == b"world!"
    assert rt.next_write == "yield" and rt.next_read == "read"


def test_asynchronous_streaming_response_immediate_flush() -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    w = app.last.respond_with_streaming(Response(200), flush_headers_immediately=True)
    rt.pump()
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    w.write(b"abc")
    w.close()
    rt.pump()
    assert rt.take_output() == b"3\r\nabc\r\n0\r\n\r\n"


def test_immediate_flush_with_empty_body_does_not_stall() -> None:
    # http/af #162: the reader was not woken after an immediate flush and an empty body.
    app = Held()
    rt = server(app)
    rt.send(get())
    w = app.last.respond_with_streaming(Response(200, [("Content-Length", "0")]), flush_headers_immediately=True)
    rt.pump()
    w.close()
    rt.pump()
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    rt.send(get("/2"))
    assert len(app.reqds) == 2


def test_empty_fixed_streaming_response() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_streaming(Response(200, [("Content-Length", "0")])).close()

    rt = server(handler)
    rt.send(get())
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    assert rt.next_write == "yield"
    rt.send(get())
    assert statuses(rt.take_output()) == [200]


def test_empty_chunked_streaming_response() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_streaming(Response(200)).close()

    rt = server(handler)
    rt.send(get())
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"


def test_flush_callback_fires_after_the_bytes_are_written() -> None:
    app = Held()
    rt = server(app, write_size=half)
    rt.send(get())
    reasons: list[FlushReason] = []
    w = app.last.respond_with_streaming(Response(200))
    w.write(b"x" * 100)
    rt.write_paused = True
    w.flush(reasons.append)
    rt.pump()
    assert reasons == []
    rt.write_paused = False
    rt.pump()
    assert reasons == [FlushReason.SHIFT]
    assert len(rt.writes) > 1  # written in halves


def test_a_body_writer_says_how_much_output_waits_to_be_written() -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    w = app.last.respond_with_streaming(Response(200))
    head = w.pending  # the response head, not written yet
    assert head > 0
    w.write(b"x" * 100)
    assert w.pending == head + len(b"64\r\n") + 100 + 2  # the chunk with its framing
    rt.write_paused = True
    w.flush()
    rt.pump()
    assert w.pending == head + 106
    rt.write_paused = False
    rt.pump()
    assert w.pending == 0


# -----------------------------------------------------------------------------------------
# Errors
# -----------------------------------------------------------------------------------------
def test_connection_error_on_an_idle_connection_closes_without_a_response() -> None:
    # (http/af answers 500 here; a keep-alive client racing its next request would take
    # that unsolicited 500 as the answer.)
    for exc in (RuntimeError("got an error"), ConnectionResetError(), TimeoutError()):
        rt = server(Held())
        rt.conn.report_exn(exc)
        rt.pump()
        assert rt.take_output() == b""
        assert rt.closed


def test_connection_error_after_a_response_closes_without_another() -> None:
    rt = server(lambda reqd: reqd.respond_with_bytes(Response(200), b"ok"))
    rt.feed([b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"])
    [resp] = parse_responses(rt.take_output())
    assert resp.status == 200
    rt.conn.report_exn(RuntimeError("idle again"))
    rt.pump()
    assert rt.take_output() == b""
    assert rt.closed


def test_connection_error_while_a_head_arrives() -> None:
    rt = server(Held())
    rt.feed([b"GET / HTTP/1.1\r\nHo"])
    rt.conn.report_exn(RuntimeError("got an error"))
    rt.pump()
    [resp] = parse_responses(rt.take_output())
    assert resp.status == 500 and resp.header(b"connection") == b"close"
    assert rt.closed
    # The peer gone (an OSError) mid-head: nobody to answer.
    rt = server(Held())
    rt.feed([b"GET / HTTP/1.1\r\nHo"])
    rt.conn.report_exn(ConnectionResetError())
    rt.pump()
    assert rt.take_output() == b""
    assert rt.closed


def test_synchronous_error_synchronous_handling() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.report_exn(RuntimeError("boom"))

    rt = server(handler)
    rt.send(get())
    [resp] = parse_responses(rt.take_output())
    assert resp.status == 500 and rt.closed


def test_exception_in_handler_is_500() -> None:
    def handler(reqd: Reqd) -> None:
        raise ValueError("bug")

    rt = server(handler)
    rt.send(get() + get("/never"))
    assert statuses(rt.take_output()) == [500]
    assert rt.closed


def test_asynchronous_error_synchronous_handling() -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    assert rt.writer_yielded
    app.last.report_exn(RuntimeError("late"))
    rt.pump()
    assert statuses(rt.take_output()) == [500]
    assert rt.closed


def test_error_handler_responds_asynchronously() -> None:
    later: list[Callable[[], None]] = []
    errors: list[tuple[Request | None, Exception]] = []

    def error_handler(
        request: Request | None, exc: Exception, respond: Callable[[HeaderInput | None], BodyWriter]
    ) -> None:
        errors.append((request, exc))

        def answer() -> None:
            w = respond([("content-type", "text/plain")])
            w.write(b"got an error")
            w.close()

        later.append(answer)

    app = Held()
    rt = Runtime(ServerConnection(app, error_handler))
    rt.pump()
    rt.send(get())
    app.last.report_exn(RuntimeError("boom"))
    rt.pump()
    assert rt.output == b"" and rt.writer_yielded and not rt.closed
    later[0]()
    rt.pump()
    [resp] = parse_responses(rt.take_output())
    assert (resp.status, resp.body) == (500, b"got an error")
    assert resp.chunked  # streamed with chunked framing
    assert rt.closed
    [(request, exc)] = errors
    assert request is not None and request.target == b"/" and str(exc) == "boom"


def test_failing_error_handler_falls_back_to_default() -> None:
    def error_handler(
        request: Request | None, exc: Exception, respond: Callable[[HeaderInput | None], BodyWriter]
    ) -> None:
        raise RuntimeError("the error handler is broken too")

    rt = Runtime(ServerConnection(ok(), error_handler))
    rt.pump()
    rt.send(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n")
    assert statuses(rt.take_output()) == [400]
    assert rt.closed


@pytest.mark.parametrize("length", [None, 100])
def test_error_after_streaming_started_aborts(length: int | None) -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    headers = [] if length is None else [("Content-Length", str(length))]
    w = app.last.respond_with_streaming(Response(200, headers))
    w.write(b"partial")
    w.flush()
    rt.pump()
    app.last.report_exn(RuntimeError("failed mid-stream"))
    rt.pump()
    out = rt.take_output()
    [resp] = parse_responses(out)
    assert resp.body == b"partial" and not resp.complete
    if length is None:
        assert not out.endswith(b"0\r\n\r\n")  # no last chunk: the body is not "complete"
    assert rt.closed
    with pytest.raises(LocalProtocolError):
        w.write(b"more")


def test_streaming_error_before_flush_sends_nothing_complete() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200))
        w.write(b"data")
        raise RuntimeError("boom")

    rt = server(handler)
    rt.send(get())
    out = rt.take_output()
    assert not out.endswith(b"0\r\n\r\n")
    assert rt.closed


def test_report_exn_twice() -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    app.last.report_exn(RuntimeError("one"))
    app.last.report_exn(RuntimeError("two"))
    rt.conn.report_exn(RuntimeError("three"))
    rt.pump()
    assert statuses(rt.take_output()) == [500]
    assert rt.closed


@pytest.mark.parametrize(
    "data",
    [
        b"  X\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n X: y\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    ],
)
def test_malformed_request(data: bytes) -> None:
    rt = server(ok())
    rt.send(data + get("/after"))
    assert statuses(rt.take_output()) == [400]
    assert rt.closed
    assert rt.conn.read(b"GET / HTTP/1.1\r\n") == 0


def test_malformed_request_error_handler_sees_the_request() -> None:
    seen: list[Request | None] = []

    def error_handler(
        request: Request | None, exc: Exception, respond: Callable[[HeaderInput | None], BodyWriter]
    ) -> None:
        seen.append(request)
        assert isinstance(exc, RemoteProtocolError) and exc.status == 400
        respond(None).close()

    rt = Runtime(ServerConnection(ok(), error_handler))
    rt.pump()
    rt.send(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n")
    assert seen[0] is not None and seen[0].target == b"/"
    rt2 = Runtime(ServerConnection(ok(), error_handler))
    rt2.send(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n")
    assert seen[1] is None
    assert rt.take_output().startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_malformed_request_at_eof() -> None:
    rt = server(ok())
    rt.send_eof(b"GET / HTTP/1.1\r\nHost: a\r\n")
    assert statuses(rt.take_output()) == [400]
    assert rt.closed


def test_eof_in_body_is_an_error() -> None:
    app = EchoApp()
    rt = server(app)
    rt.send_eof(get("/", "Content-Length: 10", method="POST") + b"short")
    assert statuses(rt.take_output()) == [400]
    assert rt.closed
    [seen] = app.seen
    assert not seen.complete and seen.error == "RemoteProtocolError" and seen.body == b"short"


def test_eof_in_body_after_response_closes() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/", "Content-Length: 10", method="POST") + b"short")
    errors: list[Exception] = []
    app.last.request_body.schedule_read(lambda d: None, lambda: None, errors.append)
    app.last.respond_with_bytes(Response(200), b"early")
    rt.send_eof()
    assert statuses(rt.take_output()) == [200]
    assert rt.closed


def test_blocked_write_on_chunked_encoding() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200))
        w.write(b"First chunk")
        w.flush()
        w.write(b"Second chunk")
        w.close()

    full = server(handler)
    full.send(get())
    blocked = server(handler, write_size=lambda n: min(n, 16))
    blocked.send(get())
    assert blocked.output == full.output
    assert all(len(w) <= 16 for w in blocked.writes) and len(blocked.writes) > 3
    assert full.output.endswith(b"b\r\nFirst chunk\r\nc\r\nSecond chunk\r\n0\r\n\r\n")


def test_writer_unexpected_eof() -> None:
    rt = server(ok(b"hello world"))
    rt.peer_gone = True
    rt.send(get())
    assert rt.drained == len(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world")
    assert rt.write_ops[-1] == f"close({rt.drained})"
    assert rt.read_closed and rt.conn.is_closed


def test_writer_unexpected_eof_fails_request_bodies() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/", "Content-Length: 10", method="POST") + b"abc")
    errors: list[Exception] = []
    body = app.last.request_body
    body.schedule_read(lambda d: None, lambda: None, errors.append)  # gets "abc" at once
    body.schedule_read(lambda d: None, lambda: None, errors.append)  # waits
    w = app.last.respond_with_streaming(Response(200))
    w.write(b"x")
    rt.peer_gone = True
    w.flush()
    rt.pump()
    assert rt.write_closed and rt.drained is not None and rt.drained > 0
    assert len(errors) == 1 and rt.conn.is_closed


def test_input_shrunk() -> None:
    app = Held()
    rt = server(app)
    head = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
    rt.send(head[:30])
    # The connection keeps the partial head (the runtime holds nothing) and asks for more.
    assert app.reqds == [] and rt.unread == head[:30]
    assert rt.conn.next_read_operation() is READ and isinstance(rt.conn, ServerConnection) and rt.conn.head_in_progress
    rt.send(head[30:])
    req = app.last.request
    assert req is not None
    assert [n for n, _ in req.headers] == [b"Host", b"Connection", b"Accept"]
    assert rt.read_closed  # Connection: close, the head is complete: nothing more to read
    assert rt.output == b""
    app.last.respond_with_bytes(Response(200))
    rt.pump()
    assert statuses(rt.take_output()) == [200]
    assert rt.closed


# -----------------------------------------------------------------------------------------
# Pipelining
# -----------------------------------------------------------------------------------------
def test_multiple_requests_in_single_read() -> None:
    rt = server(ok(b"r"))
    rt.send(get("/1") + get("/2") + get("/3"))
    assert statuses(bytes(rt.output)) == [200, 200, 200]
    assert len(rt.writes) == 1  # every response in one Write
    assert rt.reads == [(len(get("/1")) * 3, len(get("/1")) * 3)]


def test_multiple_async_requests_in_single_read() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/1") + get("/2"))
    assert [r.request.target for r in app.reqds if r.request] == [b"/1"]  # one at a time
    app.reqds[0].respond_with_bytes(Response(200), b"1")
    rt.pump()
    assert [r.request.target for r in app.reqds if r.request] == [b"/1", b"/2"]
    app.reqds[1].respond_with_bytes(Response(200), b"2")
    rt.pump()
    assert [r.body for r in parse_responses(rt.take_output())] == [b"1", b"2"]
    assert rt.next_read == "read"


def test_responses_in_order_even_if_bodies_arrive_later() -> None:
    data = post(b"a" * 30) + get("/x") + post(b"b" * 7, chunked=True) + get("/y", "Connection: close")
    ref = check_splits(data)
    assert [s.target for s in ref.seen] == [b"/", b"/x", b"/", b"/y"]
    assert [r.body for r in parse_responses(ref.output)] == [b"a" * 30, b"", b"b" * 7, b""]
    assert ref.closed


def test_pipelined_requests_after_connection_close_are_dropped() -> None:
    app = EchoApp()
    rt = server(app)
    rt.send(get("/1", "Connection: close") + get("/2"))
    assert [s.target for s in app.seen] == [b"/1"]
    assert statuses(rt.take_output()) == [200]
    assert rt.closed


def test_multiple_requests_with_eof() -> None:
    rt = server(ok())
    rt.send_eof(get("/1") + get("/2"))
    assert statuses(rt.take_output()) == [200, 200]
    assert rt.closed


def test_max_pipelined_requests_bounds_the_queue() -> None:
    app = Held()
    rt = server(app, Config(max_pipelined_requests=2))
    rt.send(b"".join(get(f"/{i}") for i in range(5)))
    assert rt.reader_yielded and len(rt.unread) == 3 * len(get("/0"))
    for i in range(5):
        app.reqds[i].respond_with_bytes(Response(200), b"%d" % i)
        rt.pump()
    assert [r.body for r in parse_responses(rt.take_output())] == [b"0", b"1", b"2", b"3", b"4"]
    assert rt.unread == b"" and rt.next_read == "read"


# -----------------------------------------------------------------------------------------
# Request bodies: responding early, backpressure
# -----------------------------------------------------------------------------------------
def test_response_finished_before_body_read() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200), b"early")

    rt = server(handler)
    rt.send(get("/", "Content-Length: 12", method="POST") + b"hello")
    assert statuses(rt.take_output()) == [200]
    rt.send(b" world!")  # the rest of the body is read and dropped
    rt.send(get("/next"))
    assert statuses(rt.take_output()) == [200]
    assert not rt.conn.is_closed


def test_response_finished_before_body_read_body_still_delivered() -> None:
    got: list[bytes] = []

    def handler(reqd: Reqd) -> None:
        read_all(reqd.request_body, got)
        reqd.respond_with_bytes(Response(200))

    rt = server(handler)
    rt.send(get("/", "Content-Length: 12", method="POST") + b"hello")
    rt.send(b" world!" + get("/next"))
    assert b"".join(got) == b"hello world!"
    assert statuses(rt.take_output()) == [200, 200]


def test_unread_body_beyond_the_drain_limit_closes() -> None:
    rt = server(ok(), Config(max_drain_bytes=10))
    rt.send(get("/", "Content-Length: 100", method="POST") + b"x" * 100 + get("/next"))
    assert statuses(rt.take_output()) == [200]
    assert rt.closed


def test_backpressure_when_no_read_is_scheduled() -> None:
    app = Held()
    rt = server(app, Config(request_body_buffer_size=10))
    rt.send(get("/", "Content-Length: 100", method="POST") + b"x" * 60)
    body = app.last.request_body
    assert rt.reader_yielded and body.buffered == 10 and len(rt.unread) == 50
    got: list[bytes] = []
    done: list[bool] = []
    read_all(body, got, lambda: done.append(True))
    rt.pump()
    assert b"".join(got) == b"x" * 60 and rt.unread == b""
    rt.send(b"y" * 40)
    assert done == [True] and b"".join(got) == b"x" * 60 + b"y" * 40


def test_backpressure_chunked() -> None:
    app = Held()
    rt = server(app, Config(request_body_buffer_size=8))
    rt.send(get("/", "Transfer-Encoding: chunked", method="POST") + b"20\r\n" + b"z" * 32 + b"\r\n0\r\n\r\n")
    assert rt.reader_yielded and app.last.request_body.buffered == 8
    got: list[bytes] = []
    read_all(app.last.request_body, got)
    rt.pump()
    assert b"".join(got) == b"z" * 32 and app.last.request_body.is_complete


def test_backpressure_every_split() -> None:
    config = Config(request_body_buffer_size=4)
    data = post(b"0123456789" * 3) + post(b"abcdefghij" * 2, chunked=True)
    ref = check_splits(data, config=config)
    assert [s.body for s in ref.seen] == [b"0123456789" * 3, b"abcdefghij" * 2]


def test_shutdown_delivers_an_error_to_request_bodies() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/", "Content-Length: 10", method="POST") + b"abc")
    events: list[object] = []
    body = app.last.request_body
    body.schedule_read(events.append, lambda: events.append("eof"), events.append)
    events.clear()
    body.schedule_read(events.append, lambda: events.append("eof"), events.append)
    rt.conn.shutdown()
    assert len(events) == 1 and isinstance(events[0], RemoteProtocolError)
    rt.pump()
    assert rt.closed


def test_body_limit_is_413() -> None:
    rt = server(EchoApp(), Config(max_body_bytes=5))
    rt.send(post(b"123456"))
    assert statuses(rt.take_output()) == [413]
    rt2 = server(EchoApp(), Config(max_body_bytes=5))
    rt2.send(post(b"123456", chunked=True))
    assert statuses(rt2.take_output()) == [413]
    assert rt.closed and rt2.closed


# -----------------------------------------------------------------------------------------
# Expect: 100-continue
# -----------------------------------------------------------------------------------------
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_100_continue_sent_on_first_body_read() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/", "Expect: 100-continue", "Content-Length: 5", method="POST"))
    assert rt.output == b""  # not before the handler asks for the body
    got: list[bytes] = []
    read_all(app.last.request_body, got)
    rt.pump()
    assert rt.take_output() == CONTINUE
    rt.send(b"hello")
    assert got == [b"hello"]
    app.last.respond_with_bytes(Response(200))
    rt.pump()
    assert rt.take_output() == OK_EMPTY
    assert not rt.conn.is_closed


def test_100_continue_only_once() -> None:
    rt = server(EchoApp())
    rt.send(get("/", "Expect: 100-continue", "Content-Length: 5", method="POST"))
    rt.send(b"he")
    rt.send(b"llo")
    assert statuses(rt.take_output()) == [100, 200]


def test_no_100_continue_for_http10() -> None:
    rt = server(EchoApp())
    rt.send(get("/", "Expect: 100-continue", "Content-Length: 5", method="POST", version="1.0") + b"hello")
    assert statuses(rt.take_output()) == [200]


def test_respond_without_reading_after_expect_closes() -> None:
    rt = server(ok(b"no thanks"))
    rt.send(get("/", "Expect: 100-continue", "Content-Length: 5", method="POST"))
    out = rt.take_output()
    assert statuses(out) == [200] and CONTINUE not in out
    assert rt.closed


# -----------------------------------------------------------------------------------------
# Upgrades
# -----------------------------------------------------------------------------------------
UPGRADE_REQUEST = get("/chat", "Connection: Upgrade", "Upgrade: websocket")


def upgrade_handler(log: list[str]) -> Handler:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_upgrade([("Upgrade", "websocket"), ("Connection", "Upgrade")], lambda: log.append("upgraded"))

    return handler


def test_respond_with_upgrade() -> None:
    log: list[str] = []
    rt = server(upgrade_handler(log))
    rt.send(UPGRADE_REQUEST + b"\x81\x05hello")
    assert rt.take_output() == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    assert log == ["upgraded"]
    assert rt.read_upgraded and rt.write_upgraded
    assert rt.unread == b"\x81\x05hello"  # left for the new protocol
    assert isinstance(rt.conn, ServerConnection) and rt.conn.upgraded_request is not None


def test_upgrade_waits_for_the_head_to_be_written() -> None:
    log: list[str] = []
    rt = server(upgrade_handler(log), write_size=half)
    rt.write_paused = True
    rt.send(UPGRADE_REQUEST)
    assert log == [] and not rt.read_upgraded
    rt.write_paused = False
    rt.pump()
    assert log == ["upgraded"] and rt.read_upgraded and rt.write_upgraded


def test_upgrade_on_plain_request_is_refused() -> None:
    errors: list[Exception] = []

    def handler(reqd: Reqd) -> None:
        try:
            reqd.respond_with_upgrade([("Upgrade", "websocket")], lambda: None)
        except LocalProtocolError as e:
            errors.append(e)
            reqd.respond_with_bytes(Response(426))

    rt = server(handler)
    rt.send(get())
    assert len(errors) == 1 and statuses(rt.take_output()) == [426]


def test_upgrade_request_answered_normally() -> None:
    rt = server(ok(b"plain"))
    rt.send(UPGRADE_REQUEST + get("/next"))
    assert statuses(rt.take_output()) == [200, 200]
    assert not rt.read_upgraded


def test_connect_tunnel() -> None:
    log: list[str] = []

    def handler(reqd: Reqd) -> None:
        reqd.respond_with_upgrade([], lambda: log.append("tunnel"), status=200)

    rt = server(handler)
    rt.send(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01")
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\n\r\n"
    assert log == ["tunnel"] and rt.unread == b"\x16\x03\x01"


# -----------------------------------------------------------------------------------------
# Framing duties
# -----------------------------------------------------------------------------------------
def test_head_has_no_body() -> None:
    rt = server(ok(b"hello"))
    rt.send(get(method="HEAD") + get())
    out = rt.take_output()
    assert out == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"


def test_head_streaming_writes_nothing() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200, [("Content-Length", "3")]))
        w.write(b"abc")
        w.close()

    rt = server(handler)
    rt.send(get(method="HEAD"))
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize("streaming", [False, True])
def test_204_304_have_no_body(status: int, streaming: bool) -> None:
    def handler(reqd: Reqd) -> None:
        headers = [("Content-Length", "3"), ("Transfer-Encoding", "chunked")]
        if streaming:
            w = reqd.respond_with_streaming(Response(status, headers))
            w.write(b"abc")
            w.close()
        else:
            reqd.respond_with_bytes(Response(status, headers), b"abc")

    rt = server(handler)
    rt.send(get() + get())
    [first, second] = parse_responses(rt.take_output())
    assert first.status == status and first.body == b""
    assert b"transfer-encoding" not in first.header_names()
    if status == 204:
        assert b"content-length" not in first.header_names()  # RFC 9110 §8.6
    assert second.status == status  # the stream is still in sync


def test_1xx_cannot_be_sent_by_the_handler() -> None:
    errors: list[Exception] = []

    def handler(reqd: Reqd) -> None:
        try:
            reqd.respond_with_bytes(Response(100))
        except LocalProtocolError as e:
            errors.append(e)
        reqd.respond_with_bytes(Response(200))

    rt = server(handler)
    rt.send(get())
    assert len(errors) == 1 and statuses(rt.take_output()) == [200]


def test_streaming_without_length_http11_is_chunked() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200, [("Transfer-Encoding", "gzip")]))
        w.write(b"abc")
        w.close()

    rt = server(handler)
    rt.send(get())
    [resp] = parse_responses(rt.take_output())
    assert resp.header_names() == [b"transfer-encoding"] and resp.chunked and resp.body == b"abc"
    assert not rt.closed


@pytest.mark.parametrize("keep_alive", [False, True])
def test_streaming_without_length_http10_is_close_delimited(keep_alive: bool) -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200))
        w.write(b"abc")
        w.close()

    rt = server(handler)
    rt.send(get("/", *(["Connection: keep-alive"] if keep_alive else []), version="1.0"))
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc"
    assert rt.closed


def test_http10_keep_alive() -> None:
    rt = server(ok(b"x"))
    rt.send(get("/", "Connection: keep-alive", version="1.0"))
    [resp] = parse_responses(rt.take_output())
    assert resp.header(b"connection") == b"keep-alive" and not rt.closed
    rt.send(get("/", version="1.0"))
    [resp] = parse_responses(rt.take_output())
    assert resp.header(b"connection") == b"close" and rt.closed


def test_writing_more_than_content_length_raises() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200, [("Content-Length", "3")]))
        with pytest.raises(LocalProtocolError):
            w.write(b"abcd")
        w.write(b"abc")
        with pytest.raises(LocalProtocolError):
            w.write(b"d")
        w.close()

    rt = server(handler)
    rt.send(get() + get())
    assert [r.body for r in parse_responses(rt.take_output())] == [b"abc", b"abc"]
    assert not rt.closed


def test_writing_less_than_content_length_closes() -> None:
    def handler(reqd: Reqd) -> None:
        w = reqd.respond_with_streaming(Response(200, [("Content-Length", "10")]))
        w.write(b"abc")
        w.close()

    rt = server(handler)
    rt.send(get() + get())
    [resp] = parse_responses(rt.take_output())
    assert not resp.complete
    assert rt.closed


def test_respond_with_bytes_checks_content_length() -> None:
    def handler(reqd: Reqd) -> None:
        with pytest.raises(LocalProtocolError):
            reqd.respond_with_bytes(Response(200, [("Content-Length", "3")]), b"ab")
        with pytest.raises(LocalProtocolError):
            reqd.respond_with_bytes(Response(200, [("Content-Length", "x")]), b"ab")
        reqd.respond_with_bytes(Response(200, [("Content-Length", "2")]), b"ab")

    rt = server(handler)
    rt.send(get())
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"


def test_only_one_response() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200))
        with pytest.raises(LocalProtocolError):
            reqd.respond_with_bytes(Response(200))
        with pytest.raises(LocalProtocolError):
            reqd.respond_with_streaming(Response(200))

    rt = server(handler)
    rt.send(get())
    assert statuses(rt.take_output()) == [200]


def test_large_body_is_scheduled_not_copied() -> None:
    big = b"B" * 100_000

    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200), big)

    conn = ServerConnection(handler)
    conn.read(get())
    op = conn.next_write_operation()
    assert isinstance(op, Write)
    assert any(v is big or (isinstance(v, memoryview) and v.obj is big) for v in op.iovecs)


@pytest.mark.parametrize(
    "response",
    [
        Response(200, [("X", "a\r\nSet-Cookie: evil")]),
        Response(200, [("X", "a\nb")]),
        Response(200, [("X", "a\rb")]),
        Response(200, [("X", "a\x00b")]),
        Response(200, [("X\r\nY", "a")]),
        Response(200, [("X Y", "a")]),
        Response(200, [("", "a")]),
        Response(200, reason=b"OK\r\nSet-Cookie: evil"),
        Response(200, reason=b"OK\n"),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
def test_response_splitting_is_impossible(response: Response, streaming: bool) -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    with pytest.raises(LocalProtocolError):
        if streaming:
            app.last.respond_with_streaming(response, flush_headers_immediately=True)
        else:
            app.last.respond_with_bytes(response, b"body")
    rt.pump()
    assert rt.output == b""  # nothing was written
    app.last.respond_with_bytes(Response(500))  # the request can still be answered
    rt.pump()
    assert statuses(rt.take_output()) == [500]


def test_yield_writer_on_closed_connection_calls_back_at_once() -> None:
    conn = ServerConnection(ok())
    conn.read_eof(b"")
    called: list[int] = []
    conn.yield_writer(lambda: called.append(1))
    assert called == [1]


def test_respond_without_reading_after_expect_says_close() -> None:
    rt = server(ok(b"no thanks"))
    rt.send(get("/", "Expect: 100-continue", "Content-Length: 5", method="POST"))
    [resp] = parse_responses(rt.take_output())
    assert resp.header(b"connection") == b"close"


def test_upgrade_request_async_keeps_the_following_bytes() -> None:
    app = Held()
    rt = server(app)
    rt.send(UPGRADE_REQUEST + b"\x81\x05hello")
    # Bytes after an upgrade request are not parsed as HTTP while it is unanswered.
    assert rt.unread == b"\x81\x05hello" and rt.reader_yielded and not rt.read_closed
    log: list[str] = []
    app.last.respond_with_upgrade([("Upgrade", "websocket"), ("Connection", "Upgrade")], lambda: log.append("up"))
    rt.pump()
    assert log == ["up"] and rt.read_upgraded and rt.write_upgraded
    assert rt.unread == b"\x81\x05hello"
    assert statuses(rt.take_output()) == [101]


def test_upgrade_request_answered_normally_async() -> None:
    app = Held()
    rt = server(app)
    rt.send(UPGRADE_REQUEST + get("/next"))
    assert len(app.reqds) == 1 and rt.reader_yielded
    app.last.respond_with_bytes(Response(200), b"no upgrade")
    rt.pump()
    assert len(app.reqds) == 2
    app.last.respond_with_bytes(Response(200), b"next")
    rt.pump()
    assert [r.body for r in parse_responses(rt.take_output())] == [b"no upgrade", b"next"]


def test_report_exn_after_response_while_body_arrives() -> None:
    app = Held()
    rt = server(app, Config(request_body_buffer_size=16))
    rt.send(get("/", "Content-Length: 1000", method="POST") + b"abc")
    got: list[bytes] = []
    read_all(app.last.request_body, got)
    app.last.respond_with_bytes(Response(200), b"early")
    rt.pump()
    app.last.report_exn(RuntimeError("late failure"))
    rt.send(b"x" * 100)
    assert statuses(rt.take_output()) == [200]
    assert rt.closed  # nothing more is read, and the connection does not hang


def test_report_exn_after_close_does_not_raise() -> None:
    rt = server(ok())
    rt.send(get("/", "Connection: close"))
    assert rt.closed
    rt.conn.report_exn(RuntimeError("socket error after the end"))
    rt.conn.report_exn(RuntimeError("again"))
    assert rt.conn.is_closed
    rt2 = server(ok())
    rt2.peer_gone = True
    rt2.send(get())
    rt2.conn.report_exn(BrokenPipeError())
    assert rt2.conn.is_closed


def test_reader_closes_after_a_close_request() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/1", "Connection: close") + b"GARBAGE\r\n\r\n")
    assert rt.read_closed and len(app.reqds) == 1
    assert rt.unread == b"GARBAGE\r\n\r\n"  # never parsed
    app.last.respond_with_bytes(Response(200))
    rt.pump()
    assert statuses(rt.take_output()) == [200] and rt.closed


def test_2xx_to_connect_needs_respond_with_upgrade() -> None:
    errors: list[Exception] = []

    def handler(reqd: Reqd) -> None:
        for attempt in (lambda: reqd.respond_with_bytes(Response(200)), lambda: reqd.respond_with_streaming(Response(204))):
            try:
                attempt()
            except LocalProtocolError as e:
                errors.append(e)
        reqd.respond_with_bytes(Response(407), b"auth first")

    rt = server(handler)
    rt.send(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
    assert len(errors) == 2
    [resp] = parse_responses(rt.take_output())
    assert (resp.status, resp.body) == (407, b"auth first")


def test_upgrade_response_never_carries_a_length() -> None:
    def handler(reqd: Reqd) -> None:
        headers = [("Upgrade", "websocket"), ("Content-Length", "5"), ("Transfer-Encoding", "chunked")]
        reqd.respond_with_upgrade(headers, lambda: None)

    rt = server(handler)
    rt.send(UPGRADE_REQUEST)
    assert rt.take_output() == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"


@pytest.mark.parametrize("how", ["shutdown", "peer-gone"])
def test_streaming_after_the_connection_closed(how: str) -> None:
    app = Held()
    rt = server(app)
    rt.send(get())
    w = app.last.respond_with_streaming(Response(200), flush_headers_immediately=True)
    w.write(b"abc")
    if how == "shutdown":
        rt.conn.shutdown()
    else:
        rt.peer_gone = True
        w.flush()
    rt.pump()
    with pytest.raises(LocalProtocolError):  # an HttpError, not the serializer's own
        w.write(b"more")
    w.close()  # never raises: cleanup code must be able to call it
    assert rt.conn.is_closed


def test_respond_after_shutdown_with_output_pending() -> None:
    app = Held()
    rt = server(app)
    rt.write_paused = True
    rt.send(get("/1") + get("/2"))
    app.last.respond_with_bytes(Response(200), b"first")
    second = app.last
    rt.send(b"")
    rt.conn.shutdown()
    for respond in (
        lambda: second.respond_with_bytes(Response(200)),
        lambda: second.respond_with_streaming(Response(200)),
        lambda: second.respond_with_upgrade([], lambda: None),
    ):
        with pytest.raises(LocalProtocolError):
            respond()
    rt.write_paused = False
    rt.pump()
    assert rt.write_closed


@pytest.mark.parametrize(
    ("request_head", "header", "expected", "closes"),
    [
        (get(), "close", [b"close"], True),
        (get("/", "Connection: keep-alive", version="1.0"), "keep-alive", [b"keep-alive"], False),
        (get("/", "Connection: close"), "keep-alive", [b"close"], True),
        (get(), "keep-alive", [], False),
        (get(), "Upgrade", [b"Upgrade"], False),
    ],
)
def test_one_consistent_connection_field(
    request_head: bytes, header: str, expected: list[bytes], closes: bool
) -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200, [("Connection", header)]))

    rt = server(handler)
    rt.send(request_head)
    [resp] = parse_responses(rt.take_output())
    assert [v for n, v in resp.headers if n.lower() == b"connection"] == expected
    assert rt.closed == closes


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_reused_read_buffer_is_never_kept(kind: type) -> None:
    app = Held()
    conn = ServerConnection(app)
    buf = bytearray(get("/x", "X: y", "Content-Length: 5", method="POST") + b"hello")
    assert conn.read(kind(buf)) == len(buf)
    buf[:] = b"E" * len(buf)  # the runtime reuses its buffer
    req = app.last.request
    assert req is not None
    assert (req.target, list(req.headers)) == (b"/x", [(b"Host", b"a"), (b"X", b"y"), (b"Content-Length", b"5")])
    assert all(type(v) is bytes for pair in req.headers for v in pair) and type(req.target) is bytes
    got: list[bytes] = []
    read_all(app.last.request_body, got)
    assert got == [b"hello"] and type(got[0]) is bytes


def test_backpressure_with_eof() -> None:
    app = Held()
    rt = server(app, Config(request_body_buffer_size=4))
    rt.send_eof(post(b"0123456789"))
    body = app.last.request_body
    assert body.buffered == 4 and rt.reader_yielded and not rt.read_closed
    got: list[bytes] = []
    done: list[bool] = []
    read_all(body, got, lambda: done.append(True))
    rt.pump()
    assert b"".join(got) == b"0123456789" and done == [True]
    app.last.respond_with_bytes(Response(200))
    rt.pump()
    assert statuses(rt.take_output()) == [200] and rt.closed


@pytest.mark.parametrize("write_size", [half, lambda n: 1, lambda n: min(n, 4095)])
def test_partial_writes_give_the_same_bytes(write_size: WriteSize) -> None:
    big = bytes(range(256)) * 40  # scheduled, not copied

    def handler(reqd: Reqd) -> None:
        assert reqd.request is not None
        if reqd.request.target == b"/big":
            reqd.respond_with_bytes(Response(200), big)
        else:
            w = reqd.respond_with_streaming(Response(200))
            for part in (b"a", b"bc", b"def"):
                w.write(part)
                w.flush()
            w.close()

    data = get("/big") + get("/small") + get("/big")
    full = server(handler)
    full.send(data)
    part = server(handler, write_size=write_size)
    part.send(data)
    assert part.output == full.output
    assert [r.body for r in parse_responses(bytes(full.output))] == [big, b"abcdef", big]


# -----------------------------------------------------------------------------------------
# The common-case paths: a body that came with its head, cached response heads
# -----------------------------------------------------------------------------------------
def test_a_body_that_came_with_its_head_is_complete_when_the_handler_runs() -> None:
    seen: list[tuple[bool, int]] = []

    def handler(reqd: Reqd) -> None:
        body = reqd.request_body
        seen.append((body.is_complete, body.buffered))
        sink: list[bytes] = []
        read_all(body, sink, lambda: reqd.respond_with_bytes(Response(200), b"".join(sink)))

    rt = server(handler)
    rt.send(post(b"hello world"))
    assert parse_responses(rt.take_output())[0].body == b"hello world"
    rt.send(post(b"chunked too", chunked=True))
    assert parse_responses(rt.take_output())[0].body == b"chunked too"
    assert seen == [(True, 11), (True, 11)]
    # In pieces, the handler runs first and the same bytes arrive later.
    message = post(b"hello world")
    cut = message.index(b"\r\n\r\n") + 4
    rt.feed([message[:cut], message[cut:]])
    assert parse_responses(rt.take_output())[0].body == b"hello world"
    assert seen[2] == (False, 0)


def test_a_changed_header_list_is_never_answered_from_the_cache() -> None:
    fields = [(b"x-a", b"1"), (b"x-b", b"2")]
    sent: list[Response] = []

    def handler(reqd: Reqd) -> None:
        response = Response(200, fields)
        if len(sent) == 1:
            response.headers.add(b"x-c", b"3")
        if len(sent) == 2:
            response.headers.set(b"x-a", b"9")
        sent.append(response)
        reqd.respond_with_bytes(response, b"ok")

    rt = server(handler)
    outputs = []
    for _ in range(3):
        rt.send(get())
        outputs.append(rt.take_output())
    assert b"x-a: 1\r\nx-b: 2\r\ncontent-length" in outputs[0]
    assert b"x-a: 1\r\nx-b: 2\r\nx-c: 3\r\ncontent-length" in outputs[1]
    assert b"x-a: 9\r\nx-b: 2\r\ncontent-length" in outputs[2]


def test_framing_fields_in_a_cached_header_list_are_still_checked() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200, [(b"content-length", b"5"), (b"x", b"y")]), b"12345")

    rt = server(handler)
    for _ in range(2):
        rt.send(get())
        [resp] = parse_responses(rt.take_output())
        assert resp.body == b"12345" and resp.header(b"content-length") == b"5"

    def wrong(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200, [(b"content-length", b"5"), (b"x", b"y")]), b"123")

    rt = server(wrong)
    rt.send(get())
    assert statuses(rt.take_output()) == [500]


def test_closing_a_request_without_a_body_changes_nothing_for_the_next() -> None:
    seen: list[bool] = []

    def handler(reqd: Reqd) -> None:
        seen.append(reqd.request_body.is_complete)
        reqd.request_body.close()
        reqd.respond_with_bytes(Response(200), b"")

    rt = server(handler)
    for _ in range(2):
        rt.send(get())
        assert statuses(rt.take_output()) == [200]
    assert seen == [True, True]


def test_a_response_with_its_own_content_length_has_it_once() -> None:
    def handler(reqd: Reqd) -> None:
        reqd.respond_with_bytes(Response(200, [(b"x", b"y"), (b"Content-Length", b"5")]), b"12345")

    rt = server(handler)
    for _ in range(2):  # the second time from the cache
        rt.send(get())
        assert rt.take_output() == b"HTTP/1.1 200 OK\r\nx: y\r\nContent-Length: 5\r\n\r\n12345"


def test_is_upgrade_says_whether_respond_with_upgrade_applies() -> None:
    app = Held()
    rt = server(app)
    rt.send(get("/", "Connection: Upgrade", "Upgrade: websocket"))
    assert app.last.is_upgrade
    app.last.respond_with_bytes(Response(400), b"")
    rt.take_output()
    rt = server(app)
    rt.send(get("/", "Upgrade: websocket"))  # no "Connection: upgrade": not an upgrade
    assert not app.last.is_upgrade


def test_a_request_s_own_headers_can_be_sent_back() -> None:
    def handler(reqd: Reqd) -> None:
        assert reqd.request is not None
        reqd.respond_with_bytes(Response(200, reqd.request.headers), b"x")

    rt = server(handler)
    rt.send(get("/", "X-Echo: 1"))
    [resp] = parse_responses(rt.take_output())
    assert (resp.status, resp.header(b"x-echo"), resp.body) == (200, b"1", b"x")
