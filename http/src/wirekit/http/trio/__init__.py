"""wirekit.http.trio: a trio runtime for `wirekit.http` connections (``pip install
'wirekit-http[trio]'``).

`Server` / `serve` run a native request handler, each connection one task (a `Driver`)
over a `ServerConnection`; `connect` opens a client `Connection`
(keep-alive, pipelining) over a `ClientConnection`. Both use the same `Driver`, which
works on a plain socket taken from trio's with `own`.
"""

from ._client import ClientResponse, Connection, PendingResponse, connect
from ._driver import LINGER, Driver, own
from ._server import Server, serve, spawn

__all__ = ["LINGER", "ClientResponse", "Connection", "Driver", "PendingResponse", "Server", "connect", "own", "serve", "spawn"]
