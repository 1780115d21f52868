"""`ServerConnection` under the faults of issue 17 (server hardening), at the core: every
case runs sans IO, through the fake runtime, at every split point of its input where the
input is what varies.

- A client that pipelines requests and never reads: the output waiting to be written
  stays bounded (`Config.max_pending_output`), the reader yields and is woken once the
  output drained (defect 1).
- Request targets with the bytes browsers leave unencoded (defect 3).
- EOF after pipelined requests: every complete request is answered, then the connection
  closes (defect 5; issue 18, item 1), also when the handlers answer later.
- A response's Content-Length goes out as one field with one value; conflicting values
  are the handler's error (defect 6).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wirekit.http import (
    CLOSE,
    READ,
    YIELD,
    Close,
    Config,
    HeaderInput,
    LocalProtocolError,
    Reqd,
    Response,
    ServerConnection,
    Write,
)

from tests.http.runtime import (
    Runtime,
    WriteSize,
    check_splits,
    get,
    half,
    parse_responses,
    statuses,
)

# -----------------------------------------------------------------------------------------
# Defect 1: bounded output for a client that does not read
# -----------------------------------------------------------------------------------------
BODY = b"x" * 1000
BOUND = 8192


def answer(reqd: Reqd) -> None:
    reqd.respond_with_bytes(Response(200), BODY)


def pending(conn: ServerConnection) -> int:
    """The bytes the connection offers to write now (without writing them)."""
    op = conn.next_write_operation()
    return op.nbytes if isinstance(op, Write) else 0


@pytest.mark.parametrize("write_size", [None, half], ids=["whole-writes", "half-writes"])
def test_a_client_that_never_reads_gets_a_yield_and_bounded_output(write_size: WriteSize | None) -> None:
    conn = ServerConnection(answer, config=Config(max_pending_output=BOUND))
    rt = Runtime(conn, write_size)
    rt.write_paused = True  # the socket never becomes writable: nothing is reported written
    rt.pump()
    data = get("/") * 2000  # 2000 responses of ~1 KiB: 2 MB if they were all taken
    rt.send(data)
    assert rt.reader_yielded and conn.next_read_operation() is YIELD
    held = pending(conn)
    assert BOUND < held <= BOUND + 1100  # at most one response beyond the bound
    assert len(rt.unread) > len(data) - 20 * len(get("/"))  # the rest waits, unparsed
    for _ in range(3):  # more input changes nothing while the reader yields
        rt.send(get("/"))
        assert pending(conn) == held
    # The client reads: each write that brings the output down to the bound wakes the
    # reader, which takes more requests; all of them are answered, in order, and the
    # output never exceeds the bound by more than one response.
    rt.write_paused = False
    while rt.unread or pending(conn):
        assert rt.write_step()
        rt.write_paused = True
        rt.pump()
        assert pending(conn) <= BOUND + 1100
        rt.write_paused = False
    assert rt.reader_wakeups > 1
    responses = parse_responses(rt.take_output())
    assert len(responses) == 2003 and {(r.status, r.body) for r in responses} == {(200, BODY)}
    assert conn.next_read_operation() is READ


def test_the_reader_is_woken_when_the_output_drains_to_the_bound() -> None:
    conn = ServerConnection(answer, config=Config(max_pending_output=BOUND))
    data = get("/") * 20
    assert conn.read(data) == len(data)  # taken whole: what waits is held by the connection
    held = len(conn.unconsumed)
    assert 0 < held < len(data) and conn.next_read_operation() is YIELD
    woken: list[bool] = []
    conn.yield_reader(lambda: woken.append(True))
    op = conn.next_write_operation()
    assert isinstance(op, Write)
    over = op.nbytes - BOUND
    conn.report_write_result(over - 1)  # still one byte over: no wakeup
    assert woken == []
    conn.report_write_result(1)  # at the bound: the reader may go on
    assert woken == [True]
    # Asked again, the connection goes on with the requests it held (no new bytes).
    conn.next_read_operation()
    assert len(conn.unconsumed) < held


def test_bounded_output_changes_nothing_of_what_is_sent() -> None:
    # With a tiny bound the reader yields after nearly every request; the output is the
    # same whatever the bound and however the input is split.
    data = b"".join(get(f"/{i}") for i in range(12)) + get("/echo", "Content-Length: 5", method="POST") + b"hello"
    tight = check_splits(data, config=Config(max_pending_output=1), exhaustive=False)
    loose = check_splits(data, config=Config())
    assert tight.output == loose.output and len(parse_responses(tight.output)) == 13
    assert [s.target for s in tight.seen] == [s.target for s in loose.seen]


def test_max_pending_output_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pending_output"):
        Config(max_pending_output=0)
    assert Config().max_pending_output == 256 * 1024


# -----------------------------------------------------------------------------------------
# Defect 3: request targets as browsers send them
# -----------------------------------------------------------------------------------------
# Captured from headless Chromium's request lines (for /?filter={"a":1}, /?q={a} and
# /?q=`x`^|\y<z>), then what curl and urllib send as typed.
BROWSER_TARGETS = [
    b"/?filter={%22a%22:1}",
    b"/?q={a}",
    b"/?q=`x`^|\\y%3Cz%3E",
    b"/a|b",
    b'/?a="b"',
    b"/{}|^\\`",
]


@pytest.mark.parametrize("target", BROWSER_TARGETS)
def test_browser_targets_are_served(target: bytes) -> None:
    data = get(target.decode("latin-1")) + get("/after", "Connection: close")
    ref = check_splits(data)
    assert [s.target for s in ref.seen] == [target, b"/after"]
    assert statuses(ref.output) == [200, 200]
    assert ref.closed


@pytest.mark.parametrize("byte", [0x00, 0x09, 0x1F, 0x7F, *b"#<>", 0x80, 0xFF], ids=lambda b: f"0x{b:02x}")
def test_other_target_bytes_are_still_400(byte: int) -> None:
    data = b"GET /a" + bytes([byte]) + b" HTTP/1.1\r\nHost: a\r\n\r\n" + get("/never")
    ref = check_splits(data)
    assert ref.seen == []
    responses = parse_responses(ref.output)
    assert [r.status for r in responses] == [400]
    assert ref.closed


# -----------------------------------------------------------------------------------------
# Defect 5: a half-close after pipelined requests answers them all
# -----------------------------------------------------------------------------------------
class Later:
    """Reads each request's whole body, then holds the request: the test answers later
    (as an asynchronous handler, an ASGI app in a task, would)."""

    def __init__(self) -> None:
        self.reqds: list[Reqd] = []
        self.bodies: dict[int, bytes] = {}

    def __call__(self, reqd: Reqd) -> None:
        self.reqds.append(reqd)
        parts: list[bytes] = []
        body = reqd.request_body
        key = len(self.reqds) - 1

        def on_read(data: bytes) -> None:
            parts.append(data)
            body.schedule_read(on_read, on_eof, lambda e: None)

        def on_eof() -> None:
            self.bodies[key] = b"".join(parts)

        body.schedule_read(on_read, on_eof, lambda e: None)

    def answer_all(self, rt: Runtime) -> None:
        """Answer each request in turn (its target and body as the body), pumping between."""
        answered = 0
        while answered < len(self.reqds):
            reqd = self.reqds[answered]
            assert reqd.request is not None
            reqd.respond_with_bytes(Response(200), reqd.request.target + b":" + self.bodies.get(answered, b"?"))
            answered += 1
            rt.pump()


def half_closed(chunks: list[bytes]) -> tuple[bytes, Runtime]:
    """Feed ``chunks`` (the last one with EOF), then answer every request later."""
    app = Later()
    rt = Runtime(ServerConnection(app))
    rt.pump()
    for chunk in chunks[:-1]:
        rt.send(chunk)
    rt.send_eof(chunks[-1])
    app.answer_all(rt)
    return rt.take_output(), rt


def every_split_with_eof(data: bytes) -> bytes:
    """``half_closed`` at every split point and one byte at a time; the output, the same
    every time."""
    ref, rt = half_closed([data])
    assert rt.closed, "the connection did not close after the last response"
    runs = [[data[:i], data[i:]] for i in range(len(data) + 1)] + [[data[i : i + 1] for i in range(len(data))] + [b""]]
    for chunks in runs:
        got, rt = half_closed(chunks)
        assert got == ref, f"fed as {[len(c) for c in chunks][:6]}: {got!r} != {ref!r}"
        assert rt.closed
    return ref


def post(target: str, body: bytes) -> bytes:
    return get(target, f"Content-Length: {len(body)}", method="POST") + body


def chunked(target: str, body: bytes) -> bytes:
    return get(target, "Transfer-Encoding: chunked", method="POST") + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def test_issue_18_read_then_eof_answers_both() -> None:
    # Exactly the report: c.read(GET1 + GET2); c.read_eof(b""), then answering GET1.
    app = Later()
    conn = ServerConnection(app)
    data = get("/1") + get("/2")
    assert conn.read(data) == len(data)
    assert conn.read_eof(b"") == 0
    assert conn.next_read_operation() is CLOSE
    app.reqds[0].respond_with_bytes(Response(200), b"one")
    assert len(app.reqds) == 2, "GET2's handler was never called"
    app.reqds[1].respond_with_bytes(Response(200), b"two")
    op = conn.next_write_operation()
    assert isinstance(op, Write)
    responses = parse_responses(b"".join(bytes(v) for v in op.iovecs))
    assert [(r.status, r.body, r.header(b"connection")) for r in responses] == [(200, b"one", None), (200, b"two", b"close")]
    conn.report_write_result(op.nbytes)
    assert conn.next_write_operation() == Close(0)
    assert conn.is_closed


def test_issue_18_read_eof_with_the_last_request() -> None:
    # The second shape of the report: c.read(GET1); c.read_eof(GET2).
    app = Later()
    conn = ServerConnection(app)
    assert conn.read(get("/1")) == len(get("/1"))
    assert conn.read_eof(get("/2")) == len(get("/2"))
    app.reqds[0].respond_with_bytes(Response(200), b"one")
    app.reqds[1].respond_with_bytes(Response(200), b"two")
    op = conn.next_write_operation()
    assert isinstance(op, Write)
    assert [r.body for r in parse_responses(b"".join(bytes(v) for v in op.iovecs))] == [b"one", b"two"]


@pytest.mark.parametrize(
    "data",
    [
        get("/1") + get("/2") + get("/3"),
        get("/1") + post("/2", b"hello") + chunked("/3", b"chunky"),
        post("/1", b"a" * 40) + get("/2", "Connection: keep-alive", version="1.0") + get("/3"),
    ],
    ids=["three-gets", "with-bodies", "http10-keep-alive-between"],
)
def test_half_close_after_pipelined_requests_answers_every_one(data: bytes) -> None:
    out = every_split_with_eof(data)
    responses = parse_responses(out)
    assert [r.status for r in responses] == [200, 200, 200]
    assert [r.body.split(b":")[0] for r in responses] == [b"/1", b"/2", b"/3"]
    assert responses[0].body.split(b":")[1] == (b"a" * 40 if b"POST /1" in data else b"")
    # Only the last says the connection closes (to an HTTP/1.0 client, the one before
    # says keep-alive).
    first, second, last = (r.header(b"connection") for r in responses)
    assert (first, last) == (None, b"close") and second in (None, b"keep-alive")


def test_half_close_with_a_truncated_head_answers_the_complete_requests_first() -> None:
    out = every_split_with_eof(get("/1") + get("/2") + b"GET /3 HTTP/1.1\r\nHo")
    responses = parse_responses(out)
    assert [(r.status, r.header(b"connection")) for r in responses] == [(200, None), (200, None), (400, b"close")]


def test_half_close_inside_a_body_answers_the_complete_requests_first() -> None:
    out = every_split_with_eof(get("/1") + get("/2", "Content-Length: 10", method="POST") + b"short")
    responses = parse_responses(out)
    assert [(r.status, r.header(b"connection")) for r in responses] == [(200, None), (400, b"close")]


def test_a_malformed_request_after_pipelined_ones_is_answered_after_them() -> None:
    # Not at EOF: the requests before the bad one arrived whole and are answered.
    app = Later()
    rt = Runtime(ServerConnection(app))
    rt.pump()
    rt.send(get("/1") + get("/2") + b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n" + get("/never"))
    assert rt.read_closed
    app.answer_all(rt)
    responses = parse_responses(rt.take_output())
    assert [(r.status, r.header(b"connection")) for r in responses] == [(200, None), (200, None), (400, b"close")]
    assert len(app.reqds) == 2 and rt.closed


def test_eof_with_nothing_pending_closes_at_once() -> None:
    conn = ServerConnection(Later())
    assert conn.next_read_operation() is READ
    conn.read_eof(b"")
    assert conn.next_read_operation() is CLOSE and conn.next_write_operation() == Close(0)



# -----------------------------------------------------------------------------------------
# Defect 6: the response's Content-Length, normalised
# -----------------------------------------------------------------------------------------
SAME_LENGTHS: list[HeaderInput] = [
    [(b"content-length", b"5, 5")],
    [(b"Content-Length", b"5"), (b"content-length", b"5")],
    [(b"content-length", b"5 ,5,  5")],
    [(b"content-length", b"5"), (b"Content-Length", b"5, 5")],
    [(b"content-length", b"005")],
]


def respond(how: str, headers: HeaderInput, body: bytes = b"hello") -> Callable[[Reqd], None]:
    def handler(reqd: Reqd) -> None:
        response = Response(200, [(b"x-before", b"1"), *headers, (b"x-after", b"2")])
        if how == "bytes":
            reqd.respond_with_bytes(response, body)
        else:
            writer = reqd.respond_with_streaming(response)
            writer.write(body)
            writer.close()

    return handler


@pytest.mark.parametrize("how", ["bytes", "streaming"])
@pytest.mark.parametrize("headers", SAME_LENGTHS, ids=lambda h: repr(h)[:40])
def test_a_repeated_or_listed_content_length_goes_out_as_one_field(how: str, headers: HeaderInput) -> None:
    for _attempt in range(2):  # the second time, the header lines come from the cache
        ref = check_splits(get("/") + get("/", "Connection: close"), app=lambda: respond(how, headers), exhaustive=False)
        responses = parse_responses(ref.output)
        assert len(responses) == 2
        for r in responses:
            lengths = [(n, v) for n, v in r.headers if n.lower() == b"content-length"]
            assert [v for _, v in lengths] == [b"5"], r.headers
            # In place of the first one, between the fields around it.
            assert r.header_names()[:3] == [b"x-before", b"content-length", b"x-after"]
            assert r.body == b"hello" and r.complete


@pytest.mark.parametrize("headers", SAME_LENGTHS[:2], ids=["list", "repeated"])
def test_head_and_304_keep_one_normalised_content_length(headers: HeaderInput) -> None:
    def handler(reqd: Reqd) -> None:
        status = 304 if reqd.request is not None and reqd.request.target == b"/304" else 200
        reqd.respond_with_bytes(Response(status, headers))

    ref = check_splits(get("/", method="HEAD") + get("/304"), app=lambda: handler, exhaustive=False)
    responses = parse_responses(ref.output, ["HEAD", "GET"])
    assert [r.status for r in responses] == [200, 304]
    for r in responses:
        assert [v for n, v in r.headers if n.lower() == b"content-length"] == [b"5"], r.headers


CONFLICTS: list[HeaderInput] = [
    [(b"content-length", b"5, 6")],
    [(b"content-length", b"5"), (b"content-length", b"6")],
    [(b"content-length", b"5"), (b"Content-Length", b"5, 6")],
]


@pytest.mark.parametrize("how", ["bytes", "streaming"])
@pytest.mark.parametrize("headers", CONFLICTS, ids=["list", "repeated", "mixed"])
def test_conflicting_content_lengths_are_the_handlers_error(how: str, headers: HeaderInput) -> None:
    errors: list[Exception] = []

    def handler(reqd: Reqd) -> None:
        try:
            respond(how, headers)(reqd)
        except LocalProtocolError as e:
            errors.append(e)
            reqd.respond_with_bytes(Response(200), b"fine")  # nothing was sent: it may answer

    ref = check_splits(get("/"), app=lambda: handler, exhaustive=False)
    assert errors and "Content-Length" in str(errors[0])
    [response] = parse_responses(ref.output)
    assert response.body == b"fine" and response.header(b"content-length") == b"4"


@pytest.mark.parametrize("headers", CONFLICTS, ids=["list", "repeated", "mixed"])
def test_a_handler_that_lets_the_conflict_raise_gets_a_500(headers: HeaderInput) -> None:
    ref = check_splits(get("/") + get("/never"), app=lambda: respond("bytes", headers), exhaustive=False)
    assert [(r.status, r.header(b"connection")) for r in parse_responses(ref.output)] == [(500, b"close")]
    assert ref.closed
