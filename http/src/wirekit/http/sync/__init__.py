"""wirekit.http.sync: a blocking runtime for `wirekit.http` connections (stdlib only).

`Server` / `serve` run a native request handler with one thread per connection;
`Connection` is a blocking HTTP/1.1 client connection (keep-alive, pipelining). Both are
thin loops over the sans-IO `ServerConnection` / `ClientConnection`: they move bytes,
wait in ``poll`` and apply the connection's deadlines.
"""

from ._client import ClientResponse, Connection, PendingResponse
from ._server import LINGER, Server, caller, serve

__all__ = ["LINGER", "ClientResponse", "Connection", "PendingResponse", "Server", "caller", "serve"]
