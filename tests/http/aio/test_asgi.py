"""The ASGI 3 adapter: the ``http`` scope, ``http.request`` / ``http.response.*`` streaming,
``http.disconnect``, lifespan state, the error rules, and the WebSocket refusal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine

import pytest
from wirekit.http.aio._asgi import Message, Receive, Scope, Send

from tests.http.aio.support import RawConnection, arun, get, running

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class App:
    """An ASGI app around an ``http`` handler: records scopes and messages; lifespan
    startup puts ``{"db": "ready"}`` into the state."""

    def __init__(self, http: Handler) -> None:
        self.http = http
        self.scopes: list[Scope] = []
        self.received: list[Message] = []
        self.errors: list[BaseException] = []
        self.changed = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["db"] = "ready"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.scopes.append(scope)

        async def recording_receive() -> Message:
            message = await receive()
            self.received.append(message)
            self.changed.set()
            return message

        try:
            await self.http(scope, recording_receive, send)
        except BaseException as e:
            self.errors.append(e)
            self.changed.set()
            raise

    async def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)


async def read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        body += bytes(message.get("body", b""))
        if not message.get("more_body", False):
            return body


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"got %d" % len(body)})


# ------------------------------------------------------------------------------------
# The scope
# ------------------------------------------------------------------------------------
def test_the_http_scope_has_every_field() -> None:
    app = App(ok)

    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            request = get("/caf%C3%A9/a%2Fb?x=1&y=%20z", "X-Custom: Value", "x-dup: 1", "X-Dup: 2", host="example.org:8080")
            response = await conn.request(request)
            assert response.status == 200
            local = conn.writer.get_extra_info("sockname")
            conn.close()
            scope = app.scopes[0]
            assert scope["type"] == "http"
            assert scope["asgi"]["version"] == "3.0"
            assert scope["http_version"] == "1.1"
            assert scope["method"] == "GET"
            assert scope["scheme"] == "http"
            assert scope["path"] == "/café/a/b"
            assert scope["raw_path"] == b"/caf%C3%A9/a%2Fb"
            assert scope["query_string"] == b"x=1&y=%20z"
            assert scope["root_path"] == ""
            assert list(scope["headers"]) == [
                (b"host", b"example.org:8080"),
                (b"x-custom", b"Value"),
                (b"x-dup", b"1"),
                (b"x-dup", b"2"),
            ]
            assert tuple(scope["client"]) == (local[0], local[1])
            assert tuple(scope["server"]) == server.address
            assert scope["state"] == {"db": "ready"}

    arun(main())


def test_scope_details_for_other_request_forms() -> None:
    app = App(ok)

    async def main() -> None:
        async with running(app, root_path="/api") as server:
            conn = await RawConnection.open(server.address)
            await conn.request(get("/one", version="1.0", host="h"))
            conn.close()
            conn = await RawConnection.open(server.address)
            await conn.request(get("http://example.org/abs?q=1", method="PURGE"))
            await conn.request(get("/", "Content-Length: 3", method="POST") + b"abc")
            conn.close()
        first, second, third = app.scopes
        # ASGI: the path includes root_path (the server puts the prefix back).
        assert first["http_version"] == "1.0" and first["path"] == "/api/one"
        assert second["method"] == "PURGE" and second["path"] == "/api/abs" and second["query_string"] == b"q=1"
        assert second["raw_path"] == b"/api/abs"
        assert third["method"] == "POST" and third["query_string"] == b""
        assert all(s["root_path"] == "/api" for s in app.scopes)

    arun(main())


def test_each_request_gets_its_own_copy_of_the_lifespan_state() -> None:
    async def mutate(scope: Scope, receive: Receive, send: Send) -> None:
        seen = scope["state"].get("count", 0)
        scope["state"]["count"] = seen + 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"%d" % seen})

    async def main() -> None:
        async with running(App(mutate)) as server:
            conn = await RawConnection.open(server.address)
            assert [(await conn.request(get("/"))).body for _ in range(3)] == [b"0", b"0", b"0"]
            conn.close()

    arun(main())


# ------------------------------------------------------------------------------------
# Request bodies
# ------------------------------------------------------------------------------------
def test_http_request_streams_the_body_as_it_arrives() -> None:
    app = App(ok)

    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/up", "Transfer-Encoding: chunked", method="POST") + b"3\r\naaa\r\n")
            await app.wait(lambda: len(app.received) == 1)
            assert app.received[0] == {"type": "http.request", "body": b"aaa", "more_body": True}
            await conn.send(b"4\r\nbbbb\r\n")
            await app.wait(lambda: len(app.received) == 2)
            assert app.received[1] == {"type": "http.request", "body": b"bbbb", "more_body": True}
            await conn.send(b"0\r\n\r\n")
            response = await conn.response()
            assert response.body == b"got 7"
            assert app.received[-1]["more_body"] is False
            assert b"".join(m["body"] for m in app.received) == b"aaabbbb"
            conn.close()

    arun(main())


def test_a_large_body_arrives_in_several_messages() -> None:
    app = App(ok)
    body = bytes(range(256)) * 4096  # 1 MiB

    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/", f"Content-Length: {len(body)}", method="POST") + body)
            assert response.body == b"got %d" % len(body)
            conn.close()
        assert len(app.received) > 1
        assert all(m["more_body"] for m in app.received[:-1]) and not app.received[-1]["more_body"]

    arun(main())


def test_a_request_without_body_is_one_empty_message() -> None:
    app = App(ok)

    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            await conn.request(get("/"))
            conn.close()
        assert app.received == [{"type": "http.request", "body": b"", "more_body": False}]

    arun(main())


def test_expect_100_continue_is_sent_when_the_app_reads() -> None:
    async def main() -> None:
        async with running(App(ok)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/", "Content-Length: 5", "Expect: 100-continue", method="POST"))
            interim = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5)
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            await conn.send(b"hello")
            assert (await conn.response()).body == b"got 5"
            conn.close()

    arun(main())


# ------------------------------------------------------------------------------------
# Responses
# ------------------------------------------------------------------------------------
def test_a_single_body_message_gets_a_content_length() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"X-Out", b"1"), (b"transfer-encoding", b"chunked")]})
        await send({"type": "http.response.body", "body": b"created"})

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/"))
            assert response.status == 201 and response.reason == b"Created"
            assert response.header(b"content-length") == b"7" and response.body == b"created"
            assert response.header(b"transfer-encoding") is None, "the app's Transfer-Encoding is ignored"
            assert response.header(b"x-out") == b"1"
            head = await conn.request(get("/", method="HEAD"), head=True)
            assert head.header(b"content-length") == b"7" and head.body == b""
            assert (await conn.request(get("/"))).body == b"created", "no body bytes were left after HEAD"
            conn.close()

    arun(main())


def test_http_response_body_streams_chunked() -> None:
    gate = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first ", "more_body": True})
        await gate.wait()  # the client has the first part before the second is sent
        await send({"type": "http.response.body", "body": b"second", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/"))
            head = await asyncio.wait_for(conn.reader.readuntil(b"first \r\n"), 5)
            assert b"transfer-encoding: chunked" in head.lower()
            gate.set()
            assert await asyncio.wait_for(conn.reader.readuntil(b"0\r\n\r\n"), 5) == b"6\r\nsecond\r\n0\r\n\r\n"
            gate.clear()
            await conn.send(get("/", version="1.0"))
            await asyncio.sleep(0.05)
            gate.set()
            old = await conn.response()
            assert old.header(b"transfer-encoding") is None and old.body == b"first second"
            assert await conn.closed_by_peer(), "a close-delimited body ends with the connection"

    arun(main())


def test_a_streamed_response_with_content_length_is_not_chunked() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        for part in (b"01234", b"56789"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/"))
            assert response.header(b"transfer-encoding") is None and response.body == b"0123456789"
            assert (await conn.request(get("/"))).body == b"0123456789"  # still keep-alive
            conn.close()

    arun(main())


def test_send_waits_for_the_transport_backpressure() -> None:
    # 400 chunks of 64 KiB (25 MiB) against what the sockets and the client's reader can
    # hold (a few MiB, the kernel's autotuning included): while the client reads nothing,
    # the app must come to a stop well before its last chunk.
    chunks = 400
    sent: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(chunks):
            await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
            sent.append(i)
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/"))
            # The client reads nothing: wait until the app stops making progress.
            before = -1
            for _ in range(50):
                await asyncio.sleep(0.1)
                if len(sent) == before:
                    break
                before = len(sent)
            assert len(sent) == before < chunks // 2, f"send() must wait while the socket is full ({len(sent)} sent)"
            response = await conn.response(timeout=20)
            assert len(response.body) == chunks * 65536
            conn.close()

    arun(main())


def test_send_below_the_high_water_mark_returns_without_suspending() -> None:
    # A small chunk is taken at once (the bytes leave with the next write): send() does
    # not suspend the app, so a cancellation lands in the app's own awaits, where a
    # streaming generator's `finally` runs in its task. (When send() waited for every
    # chunk to be written, a shutdown could cancel the app inside send and leave the
    # generator suspended at its `yield`, its cleanup left to the garbage collector.)
    from wirekit.http.aio._asgi import SEND_HIGH_WATER

    steps: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for size in (10, 1000, SEND_HIGH_WATER // 2):
            chunk = send({"type": "http.response.body", "body": b"x" * size, "more_body": True})
            assert isinstance(chunk, Coroutine)
            try:
                chunk.send(None)  # one step: it must finish, not wait for the loop
            except StopIteration:
                steps.append(f"{size} taken at once")
            else:
                steps.append(f"{size} suspended")
                chunk.close()
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/"))
            response = await conn.response(timeout=10)
            assert len(response.body) == 10 + 1000 + SEND_HIGH_WATER // 2
            conn.close()

    arun(main())
    assert steps == [f"{n} taken at once" for n in (10, 1000, SEND_HIGH_WATER // 2)]


# ------------------------------------------------------------------------------------
# http.disconnect
# ------------------------------------------------------------------------------------
def test_receive_after_the_response_is_a_disconnect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await ok(scope, receive, send)
        await receive()

    recorder = App(app)

    async def main() -> None:
        async with running(recorder) as server:
            conn = await RawConnection.open(server.address)
            await conn.request(get("/"))
            await recorder.wait(lambda: len(recorder.received) == 2)
            assert recorder.received[-1] == {"type": "http.disconnect"}
            conn.close()

    arun(main())


def test_a_client_that_leaves_is_a_disconnect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        await receive()  # a long poll: wait for the client to go away

    recorder = App(app)

    async def main() -> None:
        async with running(recorder) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/poll"))
            await recorder.wait(lambda: len(recorder.received) == 1)
            conn.close()
            await recorder.wait(lambda: len(recorder.received) == 2, timeout=3)
            assert recorder.received[-1] == {"type": "http.disconnect"}

    arun(main())


def test_a_client_that_leaves_mid_body_is_a_disconnect() -> None:
    recorder = App(ok)

    async def main() -> None:
        async with running(recorder) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/", "Content-Length: 100", method="POST") + b"x" * 10)
            await recorder.wait(lambda: len(recorder.received) == 1)
            conn.reset()
            await recorder.wait(lambda: len(recorder.received) == 2, timeout=3)
            assert recorder.received[-1] == {"type": "http.disconnect"}

    arun(main())


def test_a_half_closed_client_still_gets_the_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        assert await receive() == {"type": "http.disconnect"}  # it sends nothing more
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"still here", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/"))
            conn.writer.write_eof()
            response = await conn.response()
            assert response.body == b"still here"
            assert await conn.closed_by_peer()

    arun(main())


def test_send_raises_oserror_once_the_client_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []
    sending = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"y" * 65536, "more_body": True})
                sending.set()
        except OSError as e:
            errors.append(e)
            raise

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/"))
            await asyncio.wait_for(sending.wait(), 5)
            conn.reset()
            deadline = asyncio.get_running_loop().time() + 3
            while not errors:
                assert asyncio.get_running_loop().time() < deadline, "send() kept waiting"
                await asyncio.sleep(0.01)
            assert not server.state.connections

    with caplog.at_level(logging.ERROR, logger="wirekit.error"):
        arun(main())
    assert isinstance(errors[0], OSError)
    assert not [r for r in caplog.records if r.name == "wirekit.error"], "a client leaving is not an app error"


# ------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------
async def raise_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("before start")


async def raise_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise RuntimeError("after start, before any body")


async def return_without_response(scope: Scope, receive: Receive, send: Send) -> None:
    return None


async def bad_header(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-bad", b"a\r\nInjected: yes")]})
    await send({"type": "http.response.body", "body": b"no"})


async def body_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.body", "body": b"no"})


@pytest.mark.parametrize("handler", [raise_before_start, raise_after_start, return_without_response, bad_header, body_before_start])
def test_an_app_that_fails_before_responding_gets_a_500(handler: Handler, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with running(App(handler)) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(get("/"))
            assert response.status == 500
            assert response.header(b"connection") == b"close"
            assert b"Injected" not in b"".join(n for n, _ in response.headers)
            assert await conn.closed_by_peer()

    with caplog.at_level(logging.ERROR, logger="wirekit.error"):
        arun(main())
    assert [r for r in caplog.records if r.name == "wirekit.error"], "the failure is logged"


def test_an_app_that_fails_mid_response_truncates_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("mid-body")

    async def fixed(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("mid-body")

    async def main(handler: Handler) -> None:
        async with running(App(handler)) as server:
            conn = await RawConnection.open(server.address)
            await conn.send(get("/"))
            with pytest.raises(asyncio.IncompleteReadError):
                await conn.response()
            assert await conn.closed_by_peer()

    arun(main(app))
    arun(main(fixed))


def test_app_protocol_errors_are_raised_in_the_app() -> None:
    outcomes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        except RuntimeError:
            outcomes.append("start twice")
        await send({"type": "http.response.body", "body": b"done"})
        try:
            await send({"type": "http.response.body", "body": b"again"})
        except RuntimeError:
            outcomes.append("body after the end")
        try:
            await send({"type": "http.nonsense"})
        except RuntimeError:
            outcomes.append("unknown type")

    async def main() -> None:
        async with running(App(app)) as server:
            conn = await RawConnection.open(server.address)
            assert (await conn.request(get("/"))).body == b"done"
            assert (await conn.request(get("/"))).body == b"done"
            conn.close()

    arun(main())
    assert outcomes == ["start twice", "body after the end", "unknown type"] * 2


# ------------------------------------------------------------------------------------
# WebSocket
# ------------------------------------------------------------------------------------
def test_websocket_upgrade_to_an_http_only_app_is_a_500() -> None:
    # Issue 12: upgrades reach the app as websocket scopes; an app that answers one with
    # http.response.start fails (ASGI: only websocket.* messages), which is a 500.
    app = App(ok)

    async def main() -> None:
        async with running(app) as server:
            conn = await RawConnection.open(server.address)
            response = await conn.request(
                get(
                    "/ws",
                    "Connection: Upgrade",
                    "Upgrade: websocket",
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                    "Sec-WebSocket-Version: 13",
                )
            )
            assert response.status == 500
            assert (await conn.request(get("/after"))).status == 200, "the connection stays usable"
            conn.close()
        assert [(s["type"], s["path"]) for s in app.scopes] == [("websocket", "/ws"), ("http", "/after")]

    arun(main())
