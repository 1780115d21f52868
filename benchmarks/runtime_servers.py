"""The servers of the runtime benchmark (``bench_runtimes.py``): the same tiny app on
wirekit's blocking and trio runtimes, and on h11 written as an h11 user would write it
(a thread per connection over a blocking socket; a trio task per connection over a
``SocketStream``, as in h11's own trio example).

Every server answers ``GET /`` with ``200``, ``content-type: text/plain`` and
``Hello, world!`` (``Content-Length``), anything else with 404; keep-alive; a 10 s idle
timeout.

    python benchmarks/runtime_servers.py KIND --port N   # KIND: see SERVERS
"""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Callable
from functools import partial

import h11
import trio
from wirekit.http import Reqd, Response
from wirekit.http.sync import serve as serve_sync
from wirekit.http.trio import serve as serve_trio

BODY = b"Hello, world!"
IDLE = 10.0


# ------------------------------------------------------------------------------------
# wirekit: a native handler, served by either runtime
# ------------------------------------------------------------------------------------
HELLO = Response(200, [(b"content-type", b"text/plain")])
MISSING = Response(404, [(b"content-type", b"text/plain")])


def wirekit_handler(reqd: Reqd) -> None:
    request = reqd.request
    assert request is not None
    if request.target == b"/" and request.method in (b"GET", b"HEAD"):
        reqd.respond_with_bytes(HELLO, BODY)
    else:
        reqd.respond_with_bytes(MISSING, b"not found\n")


def wirekit_sync(port: int) -> None:
    serve_sync(wirekit_handler, "127.0.0.1", port, announce=None)


def wirekit_trio(port: int) -> None:
    trio.run(partial(serve_trio, wirekit_handler, "127.0.0.1", port, announce=None))


# ------------------------------------------------------------------------------------
# h11: the same app, one blocking thread per connection
# ------------------------------------------------------------------------------------
def _h11_answer(conn: h11.Connection, request: h11.Request) -> bytes:
    """The response to ``request`` as bytes (head, body and end in one buffer)."""
    if request.target == b"/" and request.method in (b"GET", b"HEAD"):
        status, body, ctype = 200, BODY, b"text/plain"
    else:
        status, body, ctype = 404, b"not found\n", b"text/plain"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    out = conn.send(h11.Response(status_code=status, headers=headers, reason=b"OK" if status == 200 else b"Not Found"))
    out += conn.send(h11.Data(data=body)) or b""
    out += conn.send(h11.EndOfMessage()) or b""
    return out or b""


def _h11_thread(sock: socket.socket) -> None:
    sock.settimeout(IDLE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Request):
                while True:  # the body: ignored
                    body_event = conn.next_event()
                    if isinstance(body_event, h11.EndOfMessage):
                        break
                    if body_event is h11.NEED_DATA:
                        conn.receive_data(sock.recv(65536))
                sock.sendall(_h11_answer(conn, event))
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
            else:  # ConnectionClosed, PAUSED after a close
                break
    except (OSError, h11.ProtocolError):
        pass
    finally:
        sock.close()


def h11_sync(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=_h11_thread, args=(sock,), daemon=True).start()


# ------------------------------------------------------------------------------------
# h11: the same app, one trio task per connection
# ------------------------------------------------------------------------------------
async def _h11_trio_connection(stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                with trio.fail_after(IDLE):
                    conn.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Request):
                while True:  # the body: ignored
                    body_event = conn.next_event()
                    if isinstance(body_event, h11.EndOfMessage):
                        break
                    if body_event is h11.NEED_DATA:
                        conn.receive_data(await stream.receive_some(65536))
                await stream.send_all(_h11_answer(conn, event))
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
            else:
                break
    except (trio.BrokenResourceError, trio.TooSlowError, h11.ProtocolError, OSError):
        pass
    finally:
        await stream.aclose()


def h11_trio(port: int) -> None:
    trio.run(partial(trio.serve_tcp, _h11_trio_connection, port, host="127.0.0.1"))


SERVERS: dict[str, Callable[[int], None]] = {
    "wirekit-sync": wirekit_sync,
    "h11-sync": h11_sync,
    "wirekit-trio": wirekit_trio,
    "h11-trio": h11_trio,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=SERVERS)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    SERVERS[args.kind](args.port)


if __name__ == "__main__":
    main()
