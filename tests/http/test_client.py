"""`ClientConnection`: persistent and pipelined requests, response framing (HEAD, 204,
304, chunked with trailers, close-delimited, 1xx), request bodies, and errors.
http/af's client cases (lib_test and the anmonteiro fork) re-expressed for this API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from wirekit.http import (
    READ,
    YIELD,
    BodyReader,
    BodyWriter,
    ClientConnection,
    Close,
    Config,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    Version,
    Write,
)

from tests.http.runtime import Runtime, WriteSize, half


@dataclass
class Got:
    """What the handlers of one request saw."""

    response: Response | None = None
    body: bytes = b""
    eof: bool = False
    trailers: list[tuple[bytes, bytes]] | None = None
    error: Exception | None = None
    body_error: Exception | None = None
    events: list[str] = field(default_factory=list)

    def summary(self) -> tuple[object, ...]:
        status = None if self.response is None else int(self.response.status)
        headers = None if self.response is None else list(self.response.headers)
        return (
            status,
            headers,
            self.body,
            self.eof,
            self.trailers,
            type(self.error).__name__ if self.error else None,
            type(self.body_error).__name__ if self.body_error else None,
        )


class Client:
    """A client connection in a `Runtime`, with recording handlers."""

    def __init__(self, config: Config | None = None, read: bool = True, write_size: WriteSize | None = None) -> None:
        self.conn = ClientConnection(config)
        self.rt = Runtime(self.conn, write_size)
        self.rt.pump()
        self.auto_read = read
        self.bodies: list[BodyReader] = []

    def request(self, request: Request) -> tuple[Got, BodyWriter]:
        got = Got()

        def on_response(response: Response, body: BodyReader) -> None:
            got.response = response
            got.events.append("response")
            self.bodies.append(body)
            if self.auto_read:
                read(body, got)

        def on_error(exc: Exception) -> None:
            got.error = exc
            got.events.append("error")

        writer = self.conn.request(request, on_response, on_error)
        self.rt.pump()
        return got, writer

    def get(self, target: str = "/", method: str = "GET", *headers: tuple[str, str]) -> Got:
        got, _ = self.request(Request(method, target, [("Host", "a"), *headers]))
        return got


def read(body: BodyReader, got: Got) -> None:
    def on_read(data: bytes) -> None:
        got.body += data
        body.schedule_read(on_read, on_eof, on_error)

    def on_eof() -> None:
        got.eof = True
        got.trailers = None if body.trailers is None else list(body.trailers)
        got.events.append("eof")

    def on_error(exc: Exception) -> None:
        got.body_error = exc
        got.events.append("body-error")

    body.schedule_read(on_read, on_eof, on_error)


def run_client(
    requests: Sequence[Request], chunks: Sequence[bytes], eof: bool = False
) -> tuple[list[tuple[object, ...]], bytes, bool]:
    c = Client()
    gots = [c.request(r)[0] for r in requests]
    c.rt.feed(chunks, eof)
    return [g.summary() for g in gots], bytes(c.rt.output), c.rt.closed


def check_client_splits(
    requests: Sequence[Request], data: bytes, eof: bool = False
) -> tuple[list[tuple[object, ...]], bytes, bool]:
    """The same handler-observed results at every split point and one byte at a time."""
    ref = run_client(requests, [data], eof)
    ways = [[data[:i], data[i:]] for i in range(len(data) + 1)]
    ways.append([data[i : i + 1] for i in range(len(data))])
    for chunks in ways:
        assert run_client(requests, chunks, eof) == ref, [len(c) for c in chunks]
    return ref


def GET(target: str = "/", *headers: tuple[str, str], method: str = "GET") -> Request:
    return Request(method, target, [("Host", "a"), *headers])


def test_initial_state() -> None:
    conn = ClientConnection()
    assert conn.next_read_operation() is READ
    assert conn.next_write_operation() is YIELD
    assert not conn.is_closed and conn.in_flight == 0 and conn.is_persistent


def test_get() -> None:
    c = Client()
    got = c.get("/index")
    assert c.rt.take_output() == b"GET /index HTTP/1.1\r\nHost: a\r\n\r\n"
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!")
    assert got.response is not None and got.response.status == 200
    assert (got.body, got.eof, got.error) == (b"Hello, world!", True, None)
    assert c.rt.next_read == "read" and not c.conn.is_closed and c.conn.in_flight == 0


def test_persistent_connection_multiple_gets() -> None:
    c = Client()
    for i in range(3):
        got = c.get(f"/{i}")
        assert c.rt.take_output() == f"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n".encode()
        c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d" % i)
        assert got.body == b"%d" % i and got.eof
    assert c.conn.is_persistent and not c.rt.closed


def test_pipelining() -> None:
    c = Client()
    gots = [c.get(f"/{i}") for i in range(3)]
    assert c.rt.take_output() == b"".join(f"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n".encode() for i in range(3))
    assert c.conn.in_flight == 3
    c.rt.send(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"
        b"HTTP/1.1 202 Accepted\r\nContent-Length: 1\r\n\r\nc"
    )
    assert [(g.response.status if g.response else None, g.body) for g in gots] == [(200, b"a"), (201, b"b"), (202, b"c")]
    assert c.conn.in_flight == 0


def test_pipelined_responses_every_split() -> None:
    requests = [GET("/1"), GET("/2", method="HEAD"), GET("/3"), GET("/4")]
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n0\r\nT: 1\r\n\r\n"
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
    )
    results, _, closed = check_client_splits(requests, data)
    assert [r[2] for r in results] == [b"hello", b"", b"ab", b""]
    assert [r[0] for r in results] == [200, 200, 200, 304]
    assert results[2][4] == [(b"T", b"1")]
    assert not closed


def test_head_has_no_body() -> None:
    c = Client()
    head = c.get("/", "HEAD")
    after = c.get("/")
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert (head.body, head.eof) == (b"", True)
    assert head.response is not None and head.response.headers.get("content-length") == b"10"
    assert (after.body, after.eof) == (b"ok", True)


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    c = Client()
    first = c.get()
    second = c.get()
    c.rt.send(b"HTTP/1.1 %d X\r\nContent-Length: 4\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody" % status)
    assert (first.body, first.eof) == (b"", True)
    assert (second.body, second.eof) == (b"body", True)


def test_chunked_response_with_trailers() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, world!\r\n0\r\nX-Checksum: abc\r\n\r\n"
    [(status, headers, body, eof, trailers, error, _)], _, _ = check_client_splits([GET()], data)
    assert (status, body, eof, error) == (200, b"Hello, world!", True, None)
    assert trailers == [(b"X-Checksum", b"abc")]
    assert headers == [(b"Transfer-Encoding", b"chunked")]  # trailers never merged


def test_close_delimited_response() -> None:
    c = Client()
    got = c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\n\r\nsome ")
    assert got.body == b"some " and not got.eof
    c.rt.send(b"bytes")
    c.rt.send_eof(b" more")
    assert (got.body, got.eof) == (b"some bytes more", True)
    assert c.rt.closed and c.conn.is_closed


def test_close_delimited_every_split() -> None:
    data = b"HTTP/1.0 200 OK\r\nX: y\r\n\r\nuntil the end"
    [(status, _, body, eof, _, error, _)], _, closed = check_client_splits([GET()], data, eof=True)
    assert (status, body, eof, error, closed) == (200, b"until the end", True, None, True)


def test_interim_responses_are_skipped() -> None:
    c = Client()
    got = c.get()
    c.rt.send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n")
    assert got.response is None
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert got.response is not None and got.response.status == 200 and got.body == b"ok"
    assert got.events == ["response", "eof"]


def test_connection_close_response() -> None:
    c = Client()
    first = c.get()
    second = c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na")
    assert first.body == b"a" and first.eof
    assert isinstance(second.error, RemoteProtocolError)
    assert c.rt.closed and c.conn.is_closed and not c.conn.is_persistent
    with pytest.raises(LocalProtocolError):
        c.get()


def test_connection_close_request() -> None:
    c = Client()
    got = c.get("/", "GET", ("Connection", "close"))
    assert not c.conn.is_persistent
    with pytest.raises(LocalProtocolError):
        c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
    assert got.body == b"a" and c.rt.closed


def test_http10_response_closes() -> None:
    c = Client()
    got = c.get()
    c.rt.send(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na")
    assert got.eof and c.rt.closed
    c2 = Client()
    got2 = c2.get()
    c2.rt.send(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na")
    assert got2.eof and not c2.rt.closed


def test_response_header_order_preserved() -> None:
    c = Client()
    got = c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\nA: 1\r\nb: 2\r\nC: 3\r\nb: 4\r\nContent-Length: 0\r\n\r\n")
    assert got.response is not None
    assert list(got.response.headers) == [(b"A", b"1"), (b"b", b"2"), (b"C", b"3"), (b"b", b"4"), (b"Content-Length", b"0")]
    assert got.response.reason == b"OK" and got.response.version is Version.HTTP_1_1


def test_streamed_chunked_request_body() -> None:
    c = Client()
    got, w = c.request(Request("POST", "/", [("Host", "a"), ("Transfer-Encoding", "chunked")]))
    assert c.rt.take_output() == b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    w.write(b"hello")
    w.flush()
    c.rt.pump()
    assert c.rt.take_output() == b"5\r\nhello\r\n"
    w.write(b"world")
    w.close()
    c.rt.pump()
    assert c.rt.take_output() == b"5\r\nworld\r\n0\r\n\r\n"
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert got.body == b"ok"


def test_fixed_request_body_and_pipelining_after_it() -> None:
    c = Client()
    got1, w = c.request(Request("PUT", "/x", [("Host", "a"), ("Content-Length", "5")]))
    got2 = c.get("/after")
    assert c.rt.take_output() == b"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
    with pytest.raises(LocalProtocolError):
        w.write(b"too long")
    w.write(b"12345")
    w.close()
    c.rt.pump()
    # The next request goes out only after this body.
    assert c.rt.take_output() == b"12345GET /after HTTP/1.1\r\nHost: a\r\n\r\n"
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert got1.eof and got2.eof


def test_short_request_body_closes() -> None:
    c = Client()
    _, w = c.request(Request("PUT", "/x", [("Host", "a"), ("Content-Length", "5")]))
    w.write(b"12")
    w.close()
    c.rt.pump()
    assert not c.conn.is_persistent
    assert c.rt.write_closed


def test_invalid_requests_refused() -> None:
    c = Client()
    for bad in (
        Request("GET", "/"),  # no Host on 1.1
        Request("GET", "/", [("Host", "a"), ("Host", "b")]),
        Request("POST", "/", [("Host", "a"), ("Content-Length", "1"), ("Transfer-Encoding", "chunked")]),
        Request("POST", "/", [("Host", "a"), ("Transfer-Encoding", "gzip, chunked")]),
        Request("POST", "/", [("Host", "a"), ("Content-Length", "x")]),
        Request("GET", "/\r\nX: y", [("Host", "a")]),
        Request("GET", "/", [("Host", "a\r\nX: y")]),
    ):
        with pytest.raises(LocalProtocolError):
            c.conn.request(bad, lambda r, b: None, lambda e: None)
    assert c.rt.output == b"" and c.conn.in_flight == 0
    Request("GET", "/", version=Version.HTTP_1_0)  # no Host needed
    c.conn.request(Request("GET", "/", version=Version.HTTP_1_0), lambda r, b: None, lambda e: None)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\na",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"garbage\r\n\r\n",
    ],
)
def test_malformed_response(data: bytes) -> None:
    c = Client()
    got = c.get()
    other = c.get()
    c.rt.send(data)
    # Reported once: to the error handler, or to the body's reader once the response
    # handler has the response.
    if got.response is None:
        assert isinstance(got.error, RemoteProtocolError) and got.body_error is None, got
    else:
        assert isinstance(got.body_error, RemoteProtocolError) and got.error is None, got
    assert isinstance(other.error, RemoteProtocolError)
    assert c.rt.read_closed and c.rt.write_closed


def test_eof_while_requests_in_flight() -> None:
    c = Client()
    first = c.get()
    second = c.get()
    c.rt.send_eof(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
    assert first.eof and first.error is None
    assert isinstance(second.error, RemoteProtocolError)
    assert c.rt.closed


def test_eof_before_any_response() -> None:
    c = Client()
    got = c.get()
    c.rt.send_eof()
    assert isinstance(got.error, RemoteProtocolError) and c.rt.closed


def test_eof_inside_response_head() -> None:
    c = Client()
    got = c.get()
    c.rt.send_eof(b"HTTP/1.1 200 OK\r\nContent-Le")
    assert isinstance(got.error, RemoteProtocolError) and c.rt.closed


def test_eof_inside_body() -> None:
    c = Client()
    got = c.get()
    c.rt.send_eof(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    assert got.body == b"ab" and not got.eof
    assert isinstance(got.body_error, RemoteProtocolError)  # never a clean end
    assert c.rt.closed


def test_report_exn() -> None:
    c = Client()
    got = c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Le")
    boom = RuntimeError("socket broke")
    c.conn.report_exn(boom)
    c.rt.pump()
    assert got.error is boom
    assert c.rt.closed and c.conn.is_closed


def test_shutdown_delivers_an_error_to_response_bodies() -> None:
    c = Client()
    got = c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    c.conn.shutdown()
    c.rt.pump()
    assert isinstance(got.body_error, RemoteProtocolError) and not got.eof
    assert c.rt.closed


def test_unexpected_bytes_without_request() -> None:
    c = Client()
    c.rt.send(b"HTTP/1.1 200 OK\r\n\r\n")
    assert c.rt.read_closed


def test_upgrade_response() -> None:
    c = Client()
    got = c.get("/chat", "GET", ("Connection", "upgrade"), ("Upgrade", "websocket"))
    pipelined = c.get("/after")
    c.rt.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi")
    assert got.response is not None and got.response.status == 101 and got.error is None
    assert c.rt.read_upgraded and c.rt.write_upgraded and c.rt.unread == b"\x81\x02hi"
    assert isinstance(pipelined.error, RemoteProtocolError)  # never answered: not HTTP any more
    assert c.conn.in_flight == 0
    with pytest.raises(LocalProtocolError):
        c.get("/no-more-http")


def test_connect_tunnel_response() -> None:
    c = Client()
    got, _ = c.request(Request("CONNECT", "a:443", [("Host", "a:443")]))
    c.rt.send(b"HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03")
    assert got.response is not None and got.response.status == 200
    assert c.rt.read_upgraded and c.rt.unread == b"\x16\x03"


def test_response_body_backpressure() -> None:
    c = Client(Config(request_body_buffer_size=10), read=False)
    got = c.get()
    c.rt.send(b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n" + b"x" * 30)
    body = c.bodies[0]
    assert c.rt.reader_yielded and body.buffered == 10
    read(body, got)
    c.rt.pump()
    assert got.body == b"x" * 30 and got.eof


def test_blocked_writes() -> None:
    c = Client(write_size=half)
    c.get("/" + "a" * 100)
    assert c.rt.output == b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    assert len(c.rt.writes) > 3


def test_writer_unexpected_eof() -> None:
    c = Client()
    c.rt.peer_gone = True
    c.get("/")
    assert c.rt.write_closed and c.rt.drained == len(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert not c.conn.is_persistent
    assert isinstance(c.rt.conn.next_write_operation(), Close)


def test_response_before_the_request_body_is_sent() -> None:
    c = Client()
    got, w = c.request(Request("POST", "/upload", [("Host", "a"), ("Content-Length", "10")]))
    after = c.get("/after")
    w.write(b"01234")
    w.flush()
    c.rt.pump()
    c.rt.send(b"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert got.response is not None and got.response.status == 413 and got.eof
    assert isinstance(after.error, RemoteProtocolError)
    assert not c.rt.write_closed  # the body being written is finished first
    w.write(b"56789")
    w.close()
    c.rt.pump()
    assert c.rt.closed
    assert c.rt.output.endswith(b"0123456789")
    assert b"/after" not in c.rt.output


def test_connect_tunnel_wakes_the_writer() -> None:
    c = Client()
    c.request(Request("CONNECT", "a:443", [("Host", "a:443")]))
    c.rt.send(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    assert c.rt.read_upgraded and c.rt.write_upgraded


# -----------------------------------------------------------------------------------------
# Interim responses and Expect: 100-continue
# -----------------------------------------------------------------------------------------
def _written(conn: ClientConnection) -> bytes:
    out = b""
    while isinstance(op := conn.next_write_operation(), Write):
        out += b"".join(bytes(v) for v in op.iovecs)
        conn.report_write_result(op.nbytes)
    return out


def _expecting(conn: ClientConnection, seen: list[object]) -> BodyWriter:
    request = Request("PUT", "/up", [("Host", "a"), ("Content-Length", "5"), ("Expect", "100-continue")])
    return conn.request(
        request, lambda r, b: seen.append(int(r.status)), seen.append, lambda r: seen.append(("interim", int(r.status)))
    )


def test_interim_responses_reach_their_hook() -> None:
    conn = ClientConnection()
    seen: list[object] = []
    conn.request(Request("GET", "/", [("Host", "a")]), lambda r, b: seen.append(int(r.status)), seen.append,
                 lambda r: seen.append(("interim", int(r.status), r.headers.get(b"link"))))
    _written(conn)
    conn.read(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert seen == [("interim", 103, b"</a.css>"), 204]


@pytest.mark.parametrize("split", [False, True])
def test_expect_100_continue_withholds_the_body_until_100(split: bool) -> None:
    conn = ClientConnection()
    seen: list[object] = []
    flushed: list[object] = []
    writer = _expecting(conn, seen)
    writer.write(b"hello")
    writer.flush(flushed.append)
    writer.close()
    head = _written(conn)
    assert head.startswith(b"PUT /up HTTP/1.1\r\n") and head.endswith(b"\r\n\r\n")  # no body yet
    assert flushed == []
    cont = b"HTTP/1.1 100 Continue\r\n\r\n"
    for piece in ([cont[:7], cont[7:]] if split else [cont]):
        conn.read(piece)
    assert seen == [("interim", 100)]
    assert _written(conn) == b"hello" and len(flushed) == 1  # out, and its flush fired
    conn.read(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert seen == [("interim", 100), 201] and conn.is_persistent


def test_a_final_response_before_100_drops_the_body_and_closes() -> None:
    conn = ClientConnection()
    seen: list[object] = []
    writer = _expecting(conn, seen)
    writer.write(b"hel")
    _written(conn)
    conn.read(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
    assert seen == [417] and not conn.is_persistent
    assert _written(conn) == b""  # the body never goes out
    with pytest.raises(LocalProtocolError):
        writer.write(b"lo")
    assert isinstance(conn.next_write_operation(), Close)


def test_release_body_stops_waiting_for_100() -> None:
    conn = ClientConnection()
    seen: list[object] = []
    writer = _expecting(conn, seen)
    writer.write(b"hel")
    _written(conn)
    conn.release_body()  # the client's own timer expired (RFC 9110 §10.1.1)
    writer.write(b"lo")
    writer.close()
    assert _written(conn) == b"hello"
    conn.read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert seen == [("interim", 100), 200] and conn.is_persistent
