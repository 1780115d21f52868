"""wirekit.http: a strict, sans-IO HTTP/1.1 layer built from wirekit's combinators
(parsing) and serializer (writing).

A `ServerConnection` (or `ClientConnection`) is a state machine: the runtime asks it what
to do (`next_read_operation`, `next_write_operation`), moves bytes, and reports back
(`read`, `report_write_result`). Handlers get a `Reqd` per request and answer with
`respond_with_bytes`, `respond_with_streaming` or `respond_with_upgrade`.
"""

from wirekit.serializer import CLOSED, FlushReason

from ._body import BodyReader, BodyWriter
from ._client import ClientConnection, Respd
from ._config import Config
from ._errors import HttpError, LocalProtocolError, ProtocolError, RemoteProtocolError
from ._messages import HeaderInput, Headers, Method, Request, Response, Version
from ._operations import (
    CLOSE,
    READ,
    UPGRADE,
    YIELD,
    Close,
    Read,
    ReadOperation,
    Upgrade,
    Write,
    WriteOperation,
    Yield,
)
from ._reqd import ErrorHandler, Reqd, RequestHandler, ResponseHooks, ResponseState
from ._server import ServerConnection, default_error_handler
from ._status import Status
from ._timeouts import Deadline, TimeoutKind

__all__ = [
    "CLOSE",
    "CLOSED",
    "READ",
    "UPGRADE",
    "YIELD",
    "BodyReader",
    "BodyWriter",
    "ClientConnection",
    "Close",
    "Config",
    "Deadline",
    "ErrorHandler",
    "FlushReason",
    "HeaderInput",
    "Headers",
    "HttpError",
    "LocalProtocolError",
    "Method",
    "ProtocolError",
    "Read",
    "ReadOperation",
    "RemoteProtocolError",
    "Reqd",
    "Request",
    "RequestHandler",
    "Respd",
    "Response",
    "ResponseHooks",
    "ResponseState",
    "ServerConnection",
    "Status",
    "TimeoutKind",
    "Upgrade",
    "Version",
    "Write",
    "WriteOperation",
    "Yield",
    "default_error_handler",
]
