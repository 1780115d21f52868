"""HTTP/1.1 parse + respond cycles, sans IO, side by side: wirekit vs h11 (vs httptools).

For each request shape, every library runs the same server cycle in one process:
receive the request bytes, parse the head and body, produce a 200 response with eight
realistic headers plus Content-Length and a 1 000-byte body, and hand the bytes out. h11 runs its documented server
cycle (events + ``start_next_cycle``). httptools only parses (it has no serializer), so its
figure is a reference for parsing alone. The table shows requests/s and the wirekit/h11
ratio per shape, with the geometric mean; then 16 pipelined requests per read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import h11
import httptools
from wirekit.http import READ, Reqd, Response, ServerConnection, Write

BROWSER_GET = (
    b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
    b"Host: www.kittyhell.com\r\n"
    b"User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_3; ja-JP-mac; rv:1.9.2.3) "
    b"Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    b"Accept-Encoding: gzip,deflate\r\n"
    b"Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
    b"Keep-Alive: 115\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
    b"__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
    b"__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n"
    b"\r\n"
)
MINIMAL_GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
POST_1K = (
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: 1024\r\n\r\n" + b"a" * 1024
)
CHUNKED_POST = (
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"100\r\n" + b"b" * 256 + b"\r\n"
    + b"100\r\n" + b"c" * 256 + b"\r\n"
    + b"100\r\n" + b"d" * 256 + b"\r\n"
    + b"100\r\n" + b"e" * 256 + b"\r\n"
    + b"0\r\n\r\n"
)
SHAPES = [
    ("browser GET (9 headers)", BROWSER_GET),
    ("minimal GET", MINIMAL_GET),
    ("POST 1 KiB body", POST_1K),
    ("chunked POST 4x256 B", CHUNKED_POST),
]
RESPONSE_BODY = b"x" * 1000
# A realistic response head (like h11's own benchmark): the same fields for every library;
# each adds Content-Length (h11 is given it explicitly).
RESPONSE_HEADERS = [
    (b"date", b"Thu, 26 Nov 2026 12:00:00 GMT"),
    (b"server", b"bench/1.0"),
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"private, max-age=0"),
    (b"vary", b"Accept-Encoding"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"etag", b'"5d8c72a5edda8d6a"'),
]


# --------------------------------------------------------------------------------------
# wirekit
# --------------------------------------------------------------------------------------
def _handler(reqd: Reqd) -> None:
    # Every request body is read to its end (as h11's cycle receives every Data event).
    body = reqd.request_body
    response = Response(200, RESPONSE_HEADERS)
    if body.is_complete and not body.buffered:  # no body at all: nothing to read
        reqd.respond_with_bytes(response, RESPONSE_BODY)
        return
    received: list[bytes] = []

    def on_read(data: bytes) -> None:
        received.append(data)
        body.schedule_read(on_read, on_eof)

    def on_eof() -> None:
        reqd.respond_with_bytes(response, RESPONSE_BODY)

    body.schedule_read(on_read, on_eof)


class WirekitServer:
    """One persistent server connection answering every request given to it."""

    def __init__(self) -> None:
        self.conn = ServerConnection(_handler)
        self.sent = 0

    def cycle(self, data: bytes) -> int:
        conn = self.conn
        assert conn.next_read_operation() is READ
        consumed = conn.read(data)
        assert consumed == len(data), (consumed, len(data))
        op = conn.next_write_operation()
        assert isinstance(op, Write), op
        conn.report_write_result(op.nbytes)
        self.sent += op.nbytes
        return op.nbytes


# --------------------------------------------------------------------------------------
# h11
# --------------------------------------------------------------------------------------
class H11Server:
    """h11's server cycle: events in, Response + Data + EndOfMessage out."""

    def __init__(self) -> None:
        self.conn = h11.Connection(h11.SERVER)
        self.sent = 0

    def cycle(self, data: bytes) -> int:
        conn = self.conn
        conn.receive_data(data)
        out: list[bytes] = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            if isinstance(event, h11.EndOfMessage):
                out.append(conn.send(h11.Response(status_code=200, headers=[*RESPONSE_HEADERS, (b"content-length", b"1000")])))
                out.append(conn.send(h11.Data(data=RESPONSE_BODY)))
                out.append(conn.send(h11.EndOfMessage()))
                conn.start_next_cycle()
        n = sum(len(b) for b in out if b)
        self.sent += n
        return n


# --------------------------------------------------------------------------------------
# httptools (parse only)
# --------------------------------------------------------------------------------------
class _Callbacks:
    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.url = b""
        self.done = 0

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done += 1


class HttptoolsParser:
    """httptools (llhttp) parsing only: no response is produced."""

    def __init__(self) -> None:
        self.cb = _Callbacks()
        self.parser = httptools.HttpRequestParser(self.cb)

    def cycle(self, data: bytes) -> int:
        self.parser.feed_data(data)
        return 0


# --------------------------------------------------------------------------------------
def rate(make: Callable[[], object], data: bytes, per_call: int, min_time: float = 0.25, repeat: int = 5) -> float:
    """Best requests/second over ``repeat`` rounds on one persistent connection."""
    best = 0.0
    for _ in range(repeat):
        server = make()
        cycle = server.cycle  # type: ignore[attr-defined]
        cycle(data)  # warm up (and check it works)
        n = 0
        t0 = time.perf_counter()
        while True:
            for _ in range(50):
                cycle(data)
            n += 50
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time:
                break
        best = max(best, n * per_call / elapsed)
    return best


def check_same_output() -> None:
    """wirekit and h11 answer every shape (both produce a full response)."""
    for _, data in SHAPES:
        assert WirekitServer().cycle(data) > 1000
        assert H11Server().cycle(data) > 1000


def main() -> None:
    """Print the table."""
    check_same_output()
    print(f"{'request shape':<28} {'wirekit req/s':>14} {'h11 req/s':>11} {'ratio':>7} {'httptools parse-only':>22}")
    ratios = []
    for name, data in SHAPES:
        wk = rate(WirekitServer, data, 1)
        hh = rate(H11Server, data, 1)
        ht = rate(HttptoolsParser, data, 1)
        ratios.append(wk / hh)
        print(f"{name:<28} {wk:14,.0f} {hh:11,.0f} {wk / hh:6.1f}x {ht:22,.0f}")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"{'geometric mean (wirekit/h11)':<28} {'':>14} {'':>11} {geo:6.1f}x")
    pipelined = MINIMAL_GET * 16
    wk = rate(WirekitServer, pipelined, 16)
    hh = rate(H11Server, pipelined, 16)
    ht = rate(HttptoolsParser, pipelined, 16)
    print(f"{'16 pipelined minimal GETs':<28} {wk:14,.0f} {hh:11,.0f} {wk / hh:6.1f}x {ht:22,.0f}")


if __name__ == "__main__":
    main()
