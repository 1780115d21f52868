"""`ResponseHooks` (`wirekit.http._reqd`): what a server adds to every response of a
connection, through `ServerConnection`'s ``hooks`` (no subclass of `Reqd`): the stamped
response is the one sent, whole bodies' sizes are reported, and error responses are
stamped too."""

from __future__ import annotations

from collections.abc import Callable

from wirekit.http import Headers, Reqd, Response, ResponseHooks, ServerConnection

from tests.http.runtime import Runtime, get, parse_responses


class Recording:
    """Adds ``x-stamp: 1`` to each response it is given (a new `Response`) and records
    what it saw."""

    def __init__(self) -> None:
        self.stamped: list[Response] = []
        self.sizes: list[tuple[Reqd, int]] = []

    def stamp(self, response: Response) -> Response:
        self.stamped.append(response)
        return Response(response.status, [*response.headers, (b"x-stamp", b"1")], response.version, response.reason)

    def body_size(self, reqd: Reqd, size: int) -> None:
        self.sizes.append((reqd, size))


def serve(handler: Callable[[Reqd], None], hooks: ResponseHooks | None) -> Runtime:
    rt = Runtime(ServerConnection(handler, hooks=hooks))
    rt.pump()
    return rt


def test_whole_bodies_are_stamped_and_their_sizes_reported() -> None:
    hooks = Recording()
    seen: list[Reqd] = []
    original = Response(200, [(b"content-type", b"text/plain")])

    def handler(reqd: Reqd) -> None:
        seen.append(reqd)
        reqd.respond_with_bytes(original, b"x" * len(reqd.request.target if reqd.request else b""))

    rt = serve(handler, hooks)
    rt.send(get("/") + get("/abc") + get("/", method="HEAD"))
    responses = parse_responses(rt.take_output(), ["GET", "GET", "HEAD"])
    assert [r.header(b"x-stamp") for r in responses] == [b"1", b"1", b"1"]
    assert [r.body for r in responses] == [b"x", b"xxxx", b""]
    assert hooks.sizes == [(seen[0], 1), (seen[1], 4), (seen[2], 1)]  # (HEAD: what was given)
    assert hooks.stamped == [original] * 3
    assert list(original.headers) == [(b"content-type", b"text/plain")], "the handler's response is not modified"
    assert seen[0].response is not None and seen[0].response.headers.get(b"x-stamp") == b"1"


def test_streamed_and_error_responses_are_stamped() -> None:
    hooks = Recording()

    def handler(reqd: Reqd) -> None:
        assert reqd.request is not None
        if reqd.request.target == b"/fail":
            raise RuntimeError("boom")
        writer = reqd.respond_with_streaming(Response(200))
        writer.write(b"hello")
        writer.close()

    rt = serve(handler, hooks)
    rt.send(get("/") + get("/fail"))
    streamed, failed = parse_responses(rt.take_output())
    assert (streamed.status, streamed.body, streamed.header(b"x-stamp")) == (200, b"hello", b"1")
    assert (failed.status, failed.header(b"x-stamp")) == (500, b"1")
    assert hooks.sizes == [], "a streamed body's size is its writer's, not reported"


def test_without_hooks_nothing_is_added() -> None:
    rt = serve(lambda reqd: reqd.respond_with_bytes(Response(200, Headers([(b"a", b"b")])), b"ok"), None)
    rt.send(get())
    assert rt.take_output() == b"HTTP/1.1 200 OK\r\na: b\r\ncontent-length: 2\r\n\r\nok"
