"""WebSocket benchmarks (issue 12), side by side in one run.

Run with ``uv run python benchmarks/bench_websocket.py`` (or ``benchmarks/run.py
websocket``).

1. Frame parsing + unmasking, sans IO: the same buffer of masked client frames (binary
   32-byte and 16 KiB payloads, and 32-byte text), fed in 64 KiB reads to a server-role
   connection of wirekit (`WebSocketConnection`), wsproto (``Connection``) and the
   websockets library (``Protocol``; its unmasking runs in its C extension
   ``websockets.speedups`` when that is built, which is reported). Every message is
   taken out as the application would and checked. Best of 5, the implementations
   interleaved; frames per second.
2. Echo round trips over loopback: 64 connections, each sending a message and waiting
   for its echo in a loop for a few seconds (the servers run at once and are measured
   in turn, several rounds, the median kept: the load of a shared machine drifts), 32-byte and 16 KiB binary messages, against
   `wirekit serve`, uvicorn ``--ws websockets`` and uvicorn ``--ws wsproto``, all
   running the same ASGI echo app (``apps_ws.py``) without compression. The client is
   the same raw asyncio program for every server (pre-masked frames, a fixed-size read
   per echo, on uvloop), pinned to another CPU than the server when there are two.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from wirekit.http import READ
from wirekit.http.websocket import Message, WebSocketConfig, WebSocketConnection, mask

from benchmarks.bench_server import PY, ServerSpec, running

KEY = b"\x12\x34\x56\x78"
READ_SIZE = 65536


def client_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + KEY + mask(payload, KEY)


# -- 1. sans-IO parsing -------------------------------------------------------------------
def parse_wirekit(data: bytes, count: int) -> int:
    conn = WebSocketConnection(config=WebSocketConfig(max_queue=1 << 30))
    got = 0
    for i in range(0, len(data), READ_SIZE):
        conn.read(data[i : i + READ_SIZE])
        while (event := conn.next_event()) is not None:
            assert isinstance(event, Message)
            got += 1
    assert conn.next_read_operation() is READ
    return got


def parse_wsproto(data: bytes, count: int) -> int:
    from wsproto.connection import Connection, ConnectionType
    from wsproto.events import BytesMessage, TextMessage

    conn = Connection(ConnectionType.SERVER)
    got = 0
    for i in range(0, len(data), READ_SIZE):
        conn.receive_data(data[i : i + READ_SIZE])
        for event in conn.events():
            assert isinstance(event, BytesMessage | TextMessage)
            got += event.message_finished  # wsproto hands out a message's pieces as they come
    return got


def parse_websockets(data: bytes, count: int) -> int:
    from websockets.frames import Frame
    from websockets.protocol import Protocol, Side, State

    proto = Protocol(Side.SERVER, state=State.OPEN, max_size=None)
    got = 0
    for i in range(0, len(data), READ_SIZE):
        proto.receive_data(data[i : i + READ_SIZE])
        for event in proto.events_received():
            assert isinstance(event, Frame) and event.fin
            got += 1
    return got


PARSERS: dict[str, Callable[[bytes, int], int]] = {
    "wirekit": parse_wirekit,
    "wsproto": parse_wsproto,
    "websockets": parse_websockets,
}


def bench_parsing(repeat: int) -> None:
    try:
        import websockets.speedups  # noqa: F401

        speedups = "built (C unmasking)"
    except ImportError:
        speedups = "not built (pure Python)"
    print(f"websockets.speedups: {speedups}\n")
    cases = [
        ("binary 32 B", 2, os.urandom(32), 100_000),
        ("text 32 B", 1, b"wirekit websocket frame, 32 B ok", 100_000),
        ("binary 16 KiB", 2, os.urandom(16384), 4_000),
    ]
    print("| frames | " + " | ".join(f"{name} frames/s" for name in PARSERS) + " | wirekit / wsproto | wirekit / websockets |")
    print("|---|" + "---|" * (len(PARSERS) + 2))
    for label, opcode, payload, count in cases:
        data = client_frame(opcode, payload) * count
        best = dict.fromkeys(PARSERS, float("inf"))
        for _ in range(repeat):  # interleaved: a drift in the machine's load hits all alike
            for name, f in PARSERS.items():
                t = time.perf_counter()
                assert f(data, count) == count
                best[name] = min(best[name], time.perf_counter() - t)
        rates = {name: count / t for name, t in best.items()}
        cells = " | ".join(f"{rates[n]:,.0f}" for n in PARSERS)
        print(f"| {label} | {cells} | {rates['wirekit'] / rates['wsproto']:.2f}x | {rates['wirekit'] / rates['websockets']:.2f}x |")


# -- 2. echo round trips ------------------------------------------------------------------
HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + base64.b64encode(b"0123456789abcdef") + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def _one(port: int, frame: bytes, answer: int, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HANDSHAKE)
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    n = 0
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        writer.write(frame)
        await reader.readexactly(answer)
        n += 1
    counts.append(n)
    writer.write(b"\x88\x82" + KEY + mask(b"\x03\xe8", KEY))
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.read(), 2)
    writer.close()


async def _drive(port: int, size: int, connections: int, seconds: float) -> float:
    payload = os.urandom(size)
    frame = client_frame(2, payload)
    answer = size + (2 if size < 126 else 4)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    counts: list[int] = []
    start = loop.time()
    # Bounded: a server that stops answering is reported as failed, not waited for.
    await asyncio.wait_for(
        asyncio.gather(*(_one(port, frame, answer, deadline, counts) for _ in range(connections))), seconds + 30
    )
    return sum(counts) / (loop.time() - start)


def _run(coro: Any) -> float:
    """The client runs on uvloop when it is installed (the client's own cost is then
    smaller, for every server alike)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)  # type: ignore[no-any-return]
    return uvloop.run(coro)  # type: ignore[no-any-return]


def echo_servers(loop: str) -> list[ServerSpec]:
    uvicorn = [PY, "-m", "uvicorn", "apps_ws:ws_echo_app", "--no-access-log", "--log-level", "warning", "--loop", loop,
               "--ws-per-message-deflate", "false", "--port", "{port}"]
    return [
        ServerSpec(f"wirekit serve ({loop})", [PY, "-m", "wirekit.http", "serve", "apps_ws:ws_echo_app", "--loop", loop,
                                               "--no-ws-per-message-deflate", "--port", "{port}"]),
        ServerSpec(f"uvicorn --ws websockets ({loop})", [*uvicorn, "--ws", "websockets"]),
        ServerSpec(f"uvicorn --ws wsproto ({loop})", [*uvicorn, "--ws", "wsproto"]),
    ]


def bench_echo(seconds: float, loops: list[str], connections: int, rounds: int) -> None:
    if (os.cpu_count() or 1) > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})  # the client; the servers run on CPU 0 (bench_server._pin)
    print(
        f"\n{connections} connections, binary messages, no compression; the three servers run at once and"
        f" are measured in turn, {rounds} rounds of {seconds:g} s each; the median round is shown\n"
    )
    print("| server | 32 B round trips/s | 16 KiB round trips/s | 32 B vs uvicorn+websockets | 16 KiB vs uvicorn+websockets |")
    print("|---|---|---|---|---|")
    for loop in loops:
        specs = echo_servers(loop)
        samples: dict[str, list[tuple[float, float]]] = {spec.name: [] for spec in specs}
        failed: dict[str, str] = {}
        with contextlib.ExitStack() as stack:
            ports = {}
            for spec in specs:
                try:
                    ports[spec.name] = stack.enter_context(running(spec))[0]
                except (OSError, RuntimeError) as e:
                    failed[spec.name] = f"{type(e).__name__}: {e}"
            for _ in range(rounds):
                for name, port in ports.items():
                    if name in failed:
                        continue
                    try:
                        small = _run(_drive(port, 32, connections, seconds))
                        big = _run(_drive(port, 16384, connections, seconds))
                    except (OSError, AssertionError, asyncio.IncompleteReadError, TimeoutError) as e:
                        failed[name] = f"{type(e).__name__}: {e}"
                        continue
                    samples[name].append((small, big))
        medians = {
            name: (statistics.median(s for s, _ in runs), statistics.median(b for _, b in runs))
            for name, runs in samples.items()
            if runs and name not in failed
        }
        ref = medians.get(f"uvicorn --ws websockets ({loop})")
        for spec in specs:
            if spec.name in failed:
                print(f"| {spec.name} | failed: {failed[spec.name]} | | | |")
                continue
            small, big = medians[spec.name]
            ratio = f"{small / ref[0]:.2f}x | {big / ref[1]:.2f}x" if ref else "- | -"
            print(f"| {spec.name} | {small:,.0f} | {big:,.0f} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description="WebSocket benchmarks")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each echo run")
    parser.add_argument("--rounds", type=int, default=3, help="echo rounds (each server measured once per round)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--loops", default="asyncio,uvloop", help="event loops for the echo runs")
    parser.add_argument("--repeat", type=int, default=5, help="parsing runs per implementation (best kept)")
    parser.add_argument("--only", choices=["parsing", "echo"], default=None)
    args = parser.parse_args()
    if args.only != "echo":
        bench_parsing(args.repeat)
    if args.only != "parsing":
        bench_echo(args.seconds, args.loops.split(","), args.connections, args.rounds)


if __name__ == "__main__":
    main()
