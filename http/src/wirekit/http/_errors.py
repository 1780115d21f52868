"""Errors of the HTTP layer. Every protocol error carries the status a server should send."""

from __future__ import annotations

from ._status import Status

__all__ = ["HttpError", "LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class HttpError(Exception):
    """Base class of every error raised by `wirekit.http`."""


class ProtocolError(HttpError):
    """A violation of HTTP/1.1.

    Attributes:
        status: the response status this error calls for (400, 413, 414, 431, 501, 505…).
        position: for parse errors, the byte offset in the connection's input (else None).
    """

    def __init__(self, message: str, status: int = Status.BAD_REQUEST, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.position = position


class RemoteProtocolError(ProtocolError):
    """The peer sent something HTTP/1.1 does not allow (or more than the limits allow)."""


class LocalProtocolError(ProtocolError):
    """The caller asked for something HTTP/1.1 does not allow (e.g. a header value with a
    line break, or more body bytes than the declared Content-Length)."""

    def __init__(self, message: str, status: int = Status.INTERNAL_SERVER_ERROR) -> None:
        super().__init__(message, status)
