"""Properties (hypothesis): round trips between `ClientConnection` and `ServerConnection`,
robustness against arbitrary bytes, agreement with h11 on valid requests, and pipelining
(concatenated requests in every order answer exactly as one by one)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirekit.http import (
    BodyReader,
    ClientConnection,
    Method,
    Reqd,
    Request,
    Response,
    ServerConnection,
)

from tests.http.runtime import EchoApp, Runtime, check_splits, parse_responses, run_server

# Every test here runs with the common paths and caches, and in the oracle mode.
pytestmark = pytest.mark.usefixtures("both_paths")

SETTINGS = settings(
    deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# -- strategies -----------------------------------------------------------------------
TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHAR = bytes(range(0x21, 0x7F))
OBS_TEXT = bytes(range(0x80, 0x100))
# Fields the connections manage themselves (framing, persistence, protocol switches).
RESERVED = {
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"expect",
    b"upgrade",
    b"te",
    b"trailer",
    b"keep-alive",
}

tokens = st.text(TCHARS, min_size=1, max_size=12).map(str.encode)
methods = tokens.filter(lambda m: m not in (b"CONNECT", b"HEAD"))
field_names = tokens.filter(lambda n: n.lower() not in RESERVED)
words = st.lists(st.sampled_from(VCHAR + OBS_TEXT), min_size=1, max_size=8).map(bytes)
separators = st.sampled_from([b" ", b"\t", b"  ", b" \t "])


@st.composite
def field_values(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(words, max_size=4))
    out = parts[0] if parts else b""
    for part in parts[1:]:
        out += draw(separators) + part
    return out


fields = st.lists(st.tuples(field_names, field_values()), max_size=6)
SEGMENT_CHARS = "abcXYZ019-._~!$&'()*+,;=:@"
segments = st.text(SEGMENT_CHARS, max_size=8)
targets = st.builds(
    lambda segs, query: ("/" + "/".join(segs) + (f"?{query}" if query is not None else "")).encode(),
    st.lists(segments, max_size=4),
    st.none() | st.text(SEGMENT_CHARS + "/?", max_size=10),
)
bodies = st.binary(max_size=300)
chunk_lists = st.lists(st.binary(max_size=80), max_size=5)
reasons = st.lists(st.sampled_from(b"\t " + VCHAR + OBS_TEXT), max_size=20).map(bytes)
statuses = st.integers(200, 599)


@dataclass
class Received:
    response: Response | None = None
    body: bytes = b""
    eof: bool = False


def receive(got: Received) -> tuple[object, object]:
    def on_response(response: Response, body: BodyReader) -> None:
        got.response = response

        def on_read(data: bytes) -> None:
            got.body += data
            body.schedule_read(on_read, on_eof)

        def on_eof() -> None:
            got.eof = True

        body.schedule_read(on_read, on_eof)

    def on_error(exc: Exception) -> None:
        raise AssertionError(f"unexpected client error {exc!r}")

    return on_response, on_error


# -- (a) round trips ------------------------------------------------------------------
@SETTINGS
@given(methods, targets, fields, chunk_lists, st.booleans())
def test_request_round_trip(
    method: bytes, target: bytes, extra: list[tuple[bytes, bytes]], chunks: list[bytes], chunked: bool
) -> None:
    body = b"".join(chunks)
    framing = [(b"Transfer-Encoding", b"chunked")] if chunked else [(b"Content-Length", b"%d" % len(body))]
    headers = [(b"Host", b"example.com"), *extra, *framing]
    client = ClientConnection()
    crt = Runtime(client)
    got = Received()
    on_response, on_error = receive(got)
    writer = client.request(Request(method, target, headers), on_response, on_error)  # type: ignore[arg-type]
    assert writer.is_closed == (not chunked and not body)  # no body: closed already
    for chunk in chunks:
        if not writer.is_closed:
            writer.write(chunk)
    writer.close()
    crt.pump()
    # The server sees exactly what the client was asked to send, however it arrives.
    app = EchoApp()
    srt = Runtime(ServerConnection(app))
    wire = bytes(crt.output)
    srt.feed([wire[i : i + 37] for i in range(0, len(wire), 37)])
    [seen] = app.seen
    assert (seen.method, seen.target, seen.version) == (method, target, "HTTP/1.1")
    assert seen.headers == headers
    assert seen.body == body and seen.complete
    # And the echo comes back to the client.
    crt.send(bytes(srt.output))
    assert got.response is not None and got.response.status == 200
    assert (got.body, got.eof) == (body, True)


@SETTINGS
@given(statuses, reasons, fields, chunk_lists, st.booleans(), st.booleans())
def test_response_round_trip(
    status: int, reason: bytes, extra: list[tuple[bytes, bytes]], chunks: list[bytes], streaming: bool, head: bool
) -> None:
    body = b"".join(chunks)

    def handler(reqd: Reqd) -> None:
        response = Response(status, extra, reason=reason)
        if streaming:
            w = reqd.respond_with_streaming(response)
            for chunk in chunks:
                w.write(chunk)
                w.flush()
            w.close()
        else:
            reqd.respond_with_bytes(response, body)

    srt = Runtime(ServerConnection(handler))
    client = ClientConnection()
    crt = Runtime(client)
    got = Received()
    on_response, on_error = receive(got)
    method = "HEAD" if head else "GET"
    client.request(Request(method, "/", [("Host", "a")]), on_response, on_error)  # type: ignore[arg-type]
    crt.pump()
    srt.send(bytes(crt.output))
    wire = bytes(srt.output)
    for i in range(0, len(wire), 41):
        crt.send(wire[i : i + 41])
    assert got.response is not None
    assert (got.response.status, got.response.reason) == (status, reason)
    managed = {b"content-length", b"transfer-encoding", b"connection"}
    assert [(n, v) for n, v in got.response.headers if n.lower() not in managed] == extra
    expected = b"" if head or status in (204, 304) else body
    assert (got.body, got.eof) == (expected, True)
    assert client.is_persistent


# -- (b) arbitrary bytes ------------------------------------------------------------------
SEEDS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """Valid requests, concatenated and then mangled a little."""
    data = bytearray(b"".join(draw(st.lists(st.sampled_from(SEEDS), min_size=1, max_size=3))))
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(st.sampled_from(b"\r\n \t:;,0a\x00\x7f\xff"))
        if op == "insert":
            data.insert(pos, byte)
        elif pos < len(data):
            if op == "delete":
                del data[pos]
            else:
                data[pos] = byte
    return bytes(data)


def cut(data: bytes, points: Sequence[int]) -> list[bytes]:
    marks = sorted({min(max(p, 0), len(data)) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(marks)]


def survives(data: bytes, points: list[int], eof: bool) -> None:
    result = run_server(cut(data, points), eof)  # the runtime checks every `consumed`
    methods = [s.method for s in result.seen]
    responses = parse_responses(result.output, methods)  # well-formed output
    if any(r.status >= 400 for r in responses):
        assert result.closed, "an error response must close the connection"
    if eof:
        assert result.closed, "end of input must end the connection"


@SETTINGS
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6), st.booleans())
def test_random_bytes_never_raise(data: bytes, points: list[int], eof: bool) -> None:
    survives(data, points, eof)


@SETTINGS
@given(mutated(), st.lists(st.integers(0, 400), max_size=6), st.booleans())
def test_mutated_requests_never_raise(data: bytes, points: list[int], eof: bool) -> None:
    survives(data, points, eof)


# -- (c) differential: h11 ------------------------------------------------------------
def h11_parse(data: bytes) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes]:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    request: h11.Request | None = None
    body = b""
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            break
        else:
            raise AssertionError(f"h11 stopped at {event!r}")
    assert request is not None
    return bytes(request.method), bytes(request.target), [(bytes(n), bytes(v)) for n, v in request.headers], body


@SETTINGS
@given(tokens.filter(lambda m: m != b"CONNECT"), targets, fields, st.none() | bodies, st.sampled_from([b"", b" ", b"\t "]))
def test_agrees_with_h11(
    method: bytes, target: bytes, extra: list[tuple[bytes, bytes]], body: bytes | None, ows: bytes
) -> None:
    headers = [(b"Host", b"a.example:8080"), *extra]
    if body is not None:
        headers.append((b"Content-Length", b"%d" % len(body)))
    head = b"%s %s HTTP/1.1\r\n" % (method, target)
    head += b"".join(b"%s:%s%s%s\r\n" % (n, ows, v, ows) for n, v in headers)
    data = head + b"\r\n" + (body or b"")
    h_method, h_target, h_headers, h_body = h11_parse(data)
    result = run_server([data[: len(data) // 2], data[len(data) // 2 :]])
    [seen] = result.seen
    assert seen.complete
    assert seen.method == h_method and seen.target == h_target
    assert [(n.lower(), v) for n, v in seen.headers] == h_headers
    assert seen.body == h_body == (body or b"")


# -- (d) splits and pipelining --------------------------------------------------------
CANONICAL = [
    b"GET /a?b=c HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Long: one two  three\r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
    b"PUT /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 6\r\n\r\n",
    b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
]


@pytest.mark.parametrize("data", CANONICAL, ids=["get", "post", "chunked", "head"])
def test_canonical_messages_every_split(data: bytes) -> None:
    alone = run_server([data])
    ref = check_splits(data)
    assert ref.output == alone.output and len(ref.seen) == 1 and ref.seen[0].complete


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=lambda o: "".join(map(str, o)))
def test_pipelined_in_every_order(order: tuple[int, ...]) -> None:
    one_by_one = [run_server([CANONICAL[i]]) for i in order]
    ref = check_splits(b"".join(CANONICAL[i] for i in order))
    assert ref.output == b"".join(r.output for r in one_by_one)
    assert ref.seen == [s for r in one_by_one for s in r.seen]


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from([b"GET", b"POST", b"DELETE", b"OPTIONS", b"HEAD"]) | methods)
    headers = [(b"Host", b"a"), *draw(fields)]
    body = draw(bodies)
    chunked = draw(st.booleans())
    head = b"%s %s HTTP/1.1\r\n" % (method, draw(targets))
    if chunked:
        headers.append((b"Transfer-Encoding", b"chunked"))
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in draw(chunk_lists) if c) + b"0\r\n\r\n"
    else:
        headers.append((b"Content-Length", b"%d" % len(body)))
        payload = body
    return head + b"".join(b"%s: %s\r\n" % (n, v) for n, v in headers) + b"\r\n" + payload


@SETTINGS
@given(st.lists(requests(), min_size=3, max_size=3), st.lists(st.integers(0, 2000), max_size=4))
def test_generated_requests_pipelined_in_every_order(reqs: list[bytes], points: list[int]) -> None:
    for order in itertools.permutations(range(3)):
        singles = [run_server([reqs[i]]) for i in order]
        data = b"".join(reqs[i] for i in order)
        together = run_server(cut(data, points))
        assert together.output == b"".join(r.output for r in singles)
        assert together.seen == [s for r in singles for s in r.seen]
        methods = [s.method for s in together.seen]
        assert [r.status for r in parse_responses(together.output, methods)] == [200, 200, 200]


def test_head_method_is_a_member() -> None:
    # parse_responses needs the method of each request; the server hands standard
    # methods out as `Method` members and others as bytes.
    app = EchoApp()
    Runtime(ServerConnection(app)).send(CANONICAL[3])
    assert app.seen[0].method == Method.HEAD.value
