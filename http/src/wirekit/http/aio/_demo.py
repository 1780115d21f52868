"""The built-in demo served by ``wirekit serve`` with no APP (a native handler).

| request | response |
|---|---|
| ``GET /``, ``HEAD /`` | 200, ``text/plain``, ``Hello, world!`` with Content-Length |
| ``POST /echo``, ``PUT /echo`` | 200, the request body streamed back as it arrives |
| ``GET /bytes/N`` | 200, N bytes, ``Content-Length: N`` |
| ``GET /stream/N`` | 200, N chunks of ``chunk <i>\\n`` (chunked) |
| anything else | 404 |
"""

from __future__ import annotations

from ...combinators import FastPrefix, fast_prefix, string, take_while1
from .. import BodyWriter, FlushReason, Method, Reqd, Response
from .._messages import Headers

__all__ = ["MAX_DEMO_BYTES", "demo_handler"]

MAX_DEMO_BYTES = 1 << 30
_HELLO = b"Hello, world!"
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_NOT_FOUND = b"Not Found\n"
_BLOCK = b"x" * 65536

# The routes' numbers are parsed with the combinators too: "/bytes/" 1*DIGIT
_count = take_while1(b"0123456789").map(int)
_bytes_route = string(b"/bytes/") >> _count
_stream_route = string(b"/stream/") >> _count


_bytes_prefix = fast_prefix(_bytes_route)
_stream_prefix = fast_prefix(_stream_route)


def _number(route: FastPrefix, target: bytes) -> int | None:
    # The whole target must be the route: one match, then a check that nothing is left.
    got = route(target, 0, len(target), True)
    if got is None or got[1] != len(target):
        return None
    n: int = got[0]
    return n if n <= MAX_DEMO_BYTES else None


def demo_handler(reqd: Reqd) -> None:
    """Answer the demo routes (see the module docstring)."""
    request = reqd.request
    assert request is not None
    method, target = request.method, request.target
    if target == b"/" and method in (Method.GET, Method.HEAD):
        reqd.respond_with_bytes(Response(200, _TEXT), _HELLO)
        return
    if target == b"/echo" and method in (Method.POST, Method.PUT):
        _echo(reqd)
        return
    if method is Method.GET:
        n = _number(_bytes_prefix, target)
        if n is not None:
            _send_bytes(reqd, n)
            return
        n = _number(_stream_prefix, target)
        if n is not None:
            _send_stream(reqd, n)
            return
    reqd.respond_with_bytes(Response(404, _TEXT), _NOT_FOUND)


def _echo(reqd: Reqd) -> None:
    request = reqd.request
    assert request is not None
    headers = Headers()
    content_type = request.headers.get(b"content-type")
    if content_type is not None:
        headers.add(b"content-type", content_type)
    length = request.headers.get(b"content-length")
    if length is not None:
        headers.add(b"content-length", length)  # already validated by the connection
    body = reqd.request_body
    # Read first: asking for the body is what sends "100 Continue" to a client that
    # waits for it; the response starts with the first bytes.
    writers: list[BodyWriter] = []

    def writer() -> BodyWriter:
        if not writers:
            writers.append(reqd.respond_with_streaming(Response(200, headers)))
        return writers[0]

    def on_read(data: bytes) -> None:
        w = writer()
        w.write(data)
        w.flush(lambda reason: None if reason is FlushReason.DRAIN else body.schedule_read(on_read, on_eof, on_error))

    def on_eof() -> None:
        writer().close()

    def on_error(exc: Exception) -> None:
        reqd.report_exn(exc)

    body.schedule_read(on_read, on_eof, on_error)


_OCTETS = [(b"content-type", b"application/octet-stream")]


def _send_bytes(reqd: Reqd, n: int) -> None:
    if n <= len(_BLOCK):  # respond_with_bytes adds the Content-Length
        reqd.respond_with_bytes(Response(200, _OCTETS), _BLOCK[:n])
        return
    writer = reqd.respond_with_streaming(Response(200, [*_OCTETS, (b"content-length", b"%d" % n)]))
    remaining = [n]

    def more(reason: object = None) -> None:
        # Send in blocks, each after the previous one was handed to the transport.
        if reason is FlushReason.DRAIN:
            return  # the client went away
        left = remaining[0]
        if left == 0:
            writer.close()
            return
        size = min(left, len(_BLOCK))
        remaining[0] = left - size
        writer.schedule(_BLOCK if size == len(_BLOCK) else memoryview(_BLOCK)[:size])
        writer.flush(more)

    more()


def _send_stream(reqd: Reqd, n: int) -> None:
    writer = reqd.respond_with_streaming(Response(200, _TEXT))
    i = [0]

    def more(reason: object = None) -> None:
        if reason is FlushReason.DRAIN:
            return  # the client went away
        if i[0] >= n:
            writer.close()
            return
        writer.write(b"chunk %d\n" % i[0])
        i[0] += 1
        writer.flush(more)

    more()
