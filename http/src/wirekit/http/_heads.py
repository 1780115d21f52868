"""Request heads off the common path, for `ServerConnection`: the general parse
(incremental, bounded by the limits) and the error for a head that a limit refuses.

The common path -- a whole head in one read -- is one match of `REQUEST_HEAD`.
"""

from __future__ import annotations

from typing import Any

from wirekit.combinators import Done, Fail, Partial, State, Unbuffered, fast_prefix, parse_prefix
from wirekit.serializer import BytesLike

from . import _grammar as g
from ._config import Config
from ._errors import RemoteProtocolError
from ._status import Status

__all__ = ["REQUEST_HEAD", "head_error", "parse_head"]

# A whole request head in one match (see `fast_prefix`); anything else takes `parse_head`.
REQUEST_HEAD = fast_prefix(g.request_head)

Parsed = tuple[Any, int]
"""The grammar's value for a request head, and the position after it."""


def parse_head(
    state: State[Any] | None, data: BytesLike, off: int, n: int, eof: bool, config: Config
) -> tuple[Parsed | None, State[Any] | None, RemoteProtocolError | None]:
    """Parse a request head from ``data[off:n]`` (``eof``: no more bytes follow),
    resuming ``state`` (the parse so far, or None), within ``config.max_header_bytes``.

    Returns ``(parsed, state, error)``: the parsed head when it is complete; else the
    parse to resume with the same bytes and more (None once it ended), or the error to
    answer (400 malformed, 414 request line too long, 431 head too large). Never raises.
    """
    avail = n - off
    cap = config.max_header_bytes
    capped = avail > cap
    if state is None:
        state = parse_prefix(g.request_head, data, off, min(avail, cap), eof and not capped)
    else:
        state = state.resume(data, off, min(avail, cap), eof and not capped)
    if isinstance(state, Partial):
        if not capped:
            return None, state, None
        # Over the limit: which part is too long decides the status.
        line = Unbuffered.parse(g.request_line).resume(data, off, min(avail, config.max_request_line))
        if isinstance(line, Partial):
            return None, None, RemoteProtocolError("request line too long", Status.URI_TOO_LONG)
        return None, None, RemoteProtocolError("request header section too large", Status.REQUEST_HEADER_FIELDS_TOO_LARGE)
    if isinstance(state, Fail):
        e = state.error
        return None, None, RemoteProtocolError(f"malformed request head: {e.message}", Status.BAD_REQUEST, e.position)
    assert isinstance(state, Done)
    return (state.value, off + state.consumed), None, None


def head_error(
    empty_lines: bytes, method: bytes, target: bytes, major: bytes, minor: bytes, config: Config
) -> RemoteProtocolError:
    """The error for a head the grammar matched but a limit (or the version) refuses:
    400 (empty lines), 414 (request line), 505 (version) or 431 (header count)."""
    if len(empty_lines) > 2 * config.max_leading_empty_lines:  # CRLFs matched by the grammar
        return RemoteProtocolError("too many empty lines before the request line")
    if len(method) + len(target) + 12 > config.max_request_line:
        return RemoteProtocolError("request line too long", Status.URI_TOO_LONG)
    if major != b"1":
        return RemoteProtocolError(
            f"HTTP/{major.decode()}.{minor.decode()} is not supported", Status.HTTP_VERSION_NOT_SUPPORTED
        )
    return RemoteProtocolError("too many header fields", Status.REQUEST_HEADER_FIELDS_TOO_LARGE)
