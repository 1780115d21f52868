"""`RespClient` against a real redis-server (started for this module; see conftest)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from wirekit.combinators import ParseError

from tests.examples.resp.support import resp, run

RespClient = resp.RespClient

SIZES = [0, 1, 1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024]


def binary_value(size: int) -> bytes:
    """``size`` bytes with every byte value, and CR LF pairs (also split ones) inside."""
    pattern = b"\r\n" + bytes(range(256)) + b"\r\n\r" + b"$5\r\n*-1\r\n"
    return (pattern * (size // len(pattern) + 1))[:size]


@pytest.mark.parametrize("size", SIZES)
def test_set_and_get_binary_values(redis_port: int, size: int) -> None:
    value = binary_value(size)

    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as r:
            assert await r.execute("SET", f"size:{size}", value) == "OK"
            got = await r.execute("GET", f"size:{size}")
            assert type(got) is bytes and len(got) == size and got == value
            assert await r.execute("STRLEN", f"size:{size}") == size

    run(go())


def test_all_sizes_in_one_pipeline(redis_port: int) -> None:
    values = {size: binary_value(size)[::-1] for size in SIZES}

    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as r:
            sets = await r.pipeline([("SET", f"p:{n}", v) for n, v in values.items()])
            assert sets == ["OK"] * len(SIZES)
            gets = await r.pipeline([("GET", f"p:{n}") for n in values])
            assert gets == list(values.values())

    run(go())


def test_pipelining_10000_commands(redis_port: int) -> None:
    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as r:
            await r.execute("DEL", "counter")
            n = 10_000
            replies = await r.pipeline([("INCR", "counter")] * n)
            assert replies == list(range(1, n + 1))
            mixed: list[tuple[Any, ...]] = []
            for i in range(n // 4):
                mixed += [("SET", f"k{i}", i), ("GET", f"k{i}"), ("GET", "missing"), ("LPUSH", "list", i)]
            out = await r.pipeline(mixed)
            await r.execute("DEL", "list")
            for i in range(n // 4):
                assert out[4 * i : 4 * i + 3] == ["OK", str(i).encode(), None]
                assert out[4 * i + 3] == i + 1

    run(go())


def test_concurrent_requests_share_the_connection(redis_port: int) -> None:
    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as r:
            await r.execute("DEL", "c")
            results = await asyncio.gather(*(r.execute("INCR", "c") for _ in range(500)))
            assert sorted(results) == list(range(1, 501))
            # requests are answered in the order they were sent
            assert results == list(range(1, 501))
            both = await asyncio.gather(
                r.pipeline([("GET", "c")] * 3), r.execute("ECHO", "x"), r.pipeline([("PING",)])
            )
            assert both == [[b"500"] * 3, b"x", ["PONG"]]

    run(go())


def test_error_replies(redis_port: int) -> None:
    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as r:
            await r.execute("SET", "text", "not a number")
            with pytest.raises(resp.RespError) as info:
                await r.execute("INCR", "text")
            assert info.value.kind == "ERR"
            assert info.value.message == "ERR value is not an integer or out of range"
            with pytest.raises(resp.RespError) as info:
                await r.execute("LPUSH", "text", "x")
            assert info.value.kind == "WRONGTYPE"
            with pytest.raises(resp.RespError, match="unknown command"):
                await r.execute("NO-SUCH-COMMAND")
            # in a pipeline: every reply arrives, then the first error is raised...
            with pytest.raises(resp.RespError, match="not an integer"):
                await r.pipeline([("INCR", "text"), ("SET", "after", "1")])
            assert await r.execute("GET", "after") == b"1"
            # ...or the errors are returned in place
            out = await r.pipeline([("PING",), ("INCR", "text"), ("PING",)], raise_on_error=False)
            assert out[0] == out[2] == "PONG"
            assert out[1] == resp.RespError("ERR value is not an integer or out of range")
            assert r.is_connected  # an error reply is not a broken connection

    run(go())


def test_resp3_types(redis_port: int) -> None:
    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port, protocol=3) as r:
            assert isinstance(r.hello, dict)
            assert r.hello[b"proto"] == 3 and r.hello[b"server"] == b"redis"
            await r.execute("DEL", "h", "s", "z")
            await r.execute("HSET", "h", "name", "Ada", "born", 1815)
            assert await r.execute("HGETALL", "h") == {b"name": b"Ada", b"born": b"1815"}
            await r.execute("SADD", "s", "a", "b", "c")
            members = await r.execute("SMEMBERS", "s")
            assert type(members) is frozenset and members == {b"a", b"b", b"c"}
            await r.execute("ZADD", "z", 1.5, "m", "inf", "top")
            score = await r.execute("ZSCORE", "z", "m")
            assert type(score) is float and score == 1.5
            assert await r.execute("ZSCORE", "z", "top") == math.inf
            assert await r.execute("ZSCORE", "z", "nobody") is None  # RESP3 null
            assert await r.execute("EXISTS", "z") == 1
            info = await r.execute("CLIENT", "INFO")
            assert isinstance(info, resp.Verbatim) and info.format == "txt"
            assert "resp=3" in info.text
            with_scores = await r.execute("ZRANGE", "z", 0, -1, "WITHSCORES")
            assert with_scores == [[b"m", 1.5], [b"top", math.inf]]
            with pytest.raises(resp.RespError, match="WRONGTYPE"):
                await r.execute("HGETALL", "s")

    run(go())


def test_resp2_shapes_of_the_same_commands(redis_port: int) -> None:
    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as r:
            await r.execute("DEL", "h")
            await r.execute("HSET", "h", "name", "Ada")
            assert await r.execute("HGETALL", "h") == [b"name", b"Ada"]
            assert await r.execute("GET", "nothing") is None  # $-1
            assert await r.execute("BLPOP", "nothing", 0.01) is None  # *-1

    run(go())


def test_push_messages_go_to_on_push(redis_port: int) -> None:
    pushes: list[Any] = []

    async def go() -> None:
        async with (
            RespClient("127.0.0.1", redis_port, protocol=3, on_push=pushes.append) as r,
            RespClient("127.0.0.1", redis_port) as other,
        ):
            await r.execute("SET", "tracked", "1")
            assert await r.execute("CLIENT", "TRACKING", "ON") == "OK"
            assert await r.execute("GET", "tracked") == b"1"
            await other.execute("SET", "tracked", "2")  # invalidates r's cached key
            for _ in range(100):
                if pushes:
                    break
                assert await r.execute("PING") == "PONG"  # replies still match requests
                await asyncio.sleep(0.01)
            assert pushes and pushes[0] == resp.Push([b"invalidate", [b"tracked"]])
            assert pushes[0].kind == b"invalidate"

    run(go())


def test_closing(redis_port: int) -> None:
    async def go() -> None:
        r = RespClient("127.0.0.1", redis_port)
        with pytest.raises(resp.ConnectionClosedError):
            await r.execute("PING")
        await r.connect()
        with pytest.raises(RuntimeError):
            await r.connect()
        pending = asyncio.ensure_future(r.execute("BLPOP", "never", 5))
        await asyncio.sleep(0.05)
        await r.close()
        with pytest.raises(resp.ConnectionClosedError):
            await pending
        with pytest.raises(resp.ConnectionClosedError):
            await r.execute("PING")
        await r.close()  # twice is harmless
        assert not r.is_connected
        # the server closing the connection fails what is waiting
        async with RespClient("127.0.0.1", redis_port) as killer, RespClient("127.0.0.1", redis_port) as r2:
            await r2.execute("CLIENT", "SETNAME", "victim")
            waiting = asyncio.ensure_future(r2.execute("BLPOP", "never", 5))
            await asyncio.sleep(0.05)
            assert await killer.execute("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal") >= 1
            with pytest.raises(resp.ConnectionClosedError):
                await waiting
            assert not r2.is_connected
            with pytest.raises(resp.ConnectionClosedError):
                await r2.execute("PING")

    run(go())


def test_garbage_from_the_server_is_a_parse_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"+OK\r\n?what\r\n")
        await writer.drain()
        await reader.read(100)  # until the client hangs up
        writer.close()

    async def go() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, RespClient("127.0.0.1", port) as r:
            results = await asyncio.gather(r.execute("PING"), r.execute("PING"), return_exceptions=True)
            assert results[0] == "OK"
            assert isinstance(results[1], ParseError)
            assert results[1].position == 5
            assert not r.is_connected

    run(go(), timeout=10)


def test_authentication(redis_port: int) -> None:
    async def go() -> None:
        async with RespClient("127.0.0.1", redis_port) as admin:
            await admin.execute("ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all")
            for protocol in (2, 3):
                async with RespClient(
                    "127.0.0.1", redis_port, protocol=protocol, username="alice", password="secret"
                ) as r:
                    assert await r.execute("ACL", "WHOAMI") == b"alice"
            refused = RespClient("127.0.0.1", redis_port, username="alice", password="nope")
            with pytest.raises(resp.RespError, match="WRONGPASS"):
                await refused.connect()
            assert not refused.is_connected  # a failed handshake closes the connection
            await admin.execute("ACL", "DELUSER", "alice")

    run(go())
