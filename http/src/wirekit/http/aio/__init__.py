"""wirekit.http.aio: the asyncio runtime for `wirekit.http` connections.

`serve` / `Server` run a server for an ASGI 3 app, a native handler (a callable taking a
`Reqd`), or the built-in demo (`WSGIAdapter` makes a WSGI app an ASGI one,
`ProxyHeaders` applies a trusted proxy's X-Forwarded-For/-Proto); `Client` is an asyncio
HTTP/1.1 client with keep-alive pools; `connect` opens a WebSocket (`WebSocket`:
``send``, ``recv``, ``ping``, ``close``, ``async for``), and `accept_websocket` gives
native handlers the same object on the server side. This is the only part of
wirekit.http that imports asyncio: the protocol just moves
bytes between sockets and the sans-IO connections.
"""

from ._asgi import ASGIApp, Lifespan, asgi_handler
from ._client import Client, ClientResponse
from ._config import ServeConfig
from ._demo import demo_handler
from ._protocol import HttpProtocol, ServerState
from ._proxy import ProxyHeaders
from ._server import AppError, Server, StartupError, load_app, run, serve
from ._simple import SimpleHandler, simple_handler
from ._ws_client import WebSocket, WebSocketClosed, connect
from ._ws_native import accept_websocket
from ._wsgi import WSGIAdapter

__all__ = [
    "ASGIApp",
    "AppError",
    "Client",
    "ClientResponse",
    "HttpProtocol",
    "Lifespan",
    "ProxyHeaders",
    "ServeConfig",
    "Server",
    "ServerState",
    "SimpleHandler",
    "StartupError",
    "WSGIAdapter",
    "WebSocket",
    "WebSocketClosed",
    "accept_websocket",
    "asgi_handler",
    "connect",
    "demo_handler",
    "load_app",
    "run",
    "serve",
    "simple_handler",
]
