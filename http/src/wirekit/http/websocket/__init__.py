"""wirekit.http.websocket: WebSocket (RFC 6455) and permessage-deflate (RFC 7692), sans IO.

* `WebSocketConnection`: the connection after the handshake, for both roles, with the
  read/write operation contract of `ServerConnection`.
* The frame grammar (`frame_header`, `frame`), written with `wirekit.combinators`, and
  `write_frame`, on a `wirekit.serializer.Serializer`; `mask`.
* Handshake helpers (§4): `check_request` checks an upgrade request (`HandshakeError`:
  400/426), `accept_headers` builds the 101 response; `client_request` and
  `check_response` for a client.
"""

from ._connection import WebSocketConnection
from ._deflate import (
    DeflateParams,
    accept_deflate_response,
    deflate_offer,
    negotiate_deflate,
    parse_extensions,
)
from ._events import Closed, ConnectionState, Message, WebSocketConfig
from ._frames import (
    Frame,
    FrameHeader,
    Opcode,
    close_payload,
    frame,
    frame_header,
    mask,
    parse_close,
    valid_close_code,
    write_frame,
)
from ._handshake import (
    ClientHello,
    HandshakeError,
    accept_headers,
    accept_key,
    check_request,
    check_response,
    client_request,
    reject_headers,
    server_deflate,
)

__all__ = [
    "ClientHello",
    "Closed",
    "ConnectionState",
    "DeflateParams",
    "Frame",
    "HandshakeError",
    "FrameHeader",
    "Message",
    "Opcode",
    "WebSocketConfig",
    "WebSocketConnection",
    "accept_deflate_response",
    "accept_headers",
    "accept_key",
    "check_request",
    "check_response",
    "client_request",
    "close_payload",
    "deflate_offer",
    "frame",
    "frame_header",
    "mask",
    "negotiate_deflate",
    "parse_close",
    "parse_extensions",
    "reject_headers",
    "server_deflate",
    "valid_close_code",
    "write_frame",
]
