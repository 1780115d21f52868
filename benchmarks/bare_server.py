"""The physical limit: an asyncio Protocol that answers every request head with a canned
response, without parsing (it counts blank lines). Not HTTP-correct; a yardstick."""

from __future__ import annotations

import argparse
import asyncio
from typing import cast

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 13\r\n\r\nHello, world!"


class Canned(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport: uvloop's are not asyncio.Transport subclasses (no isinstance).
        self.transport = cast(asyncio.Transport, transport)
        self.tail = b""

    def data_received(self, data: bytes) -> None:
        data = self.tail + data
        n = data.count(b"\r\n\r\n")
        self.tail = data[data.rfind(b"\r\n\r\n") + 4 :] if n else data[-3:]
        if n:
            self.transport.write(RESPONSE * n)


async def main(port: int, loop_kind: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Canned, "127.0.0.1", port, backlog=2048)
    print(f"bare listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--loop", default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        uvloop.install()
    asyncio.run(main(args.port, args.loop))
