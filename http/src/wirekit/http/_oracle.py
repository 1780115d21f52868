"""The oracle mode: the HTTP layer with every common path and cache switched off.

The connection has shortcuts for what is frequent -- a whole request head in one match
of the grammar, a small body taken with its head, a response whose fields say nothing
about framing, the usual retirement of an answered request, the plain framing of a GET
-- and caches of validated field lines, status lines, hosts and framings. Each one
restates a rule that a general path also implements. With `general_paths` on, only the
general paths run, so tests can run the same input both ways and compare the bytes and
events (the property and split tests do).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import _framing, _messages, _reqd, _server, _writer

__all__ = ["general_paths"]


def _set(general: bool) -> None:
    _framing._FAST = _reqd._FAST = _server._FAST = not general
    _framing._CACHE_LIMIT = 0 if general else 1024
    _writer._CACHE_LIMIT = 0 if general else 4096
    # Start empty either way: an entry made in one mode must not serve the other.
    _framing._VALID_HOSTS.clear()
    _framing._CONNECTION_OPTIONS.clear()
    _framing._LENGTHS.clear()
    _framing._CODINGS.clear()
    _framing._FRAMINGS.clear()
    _framing._NAME_CODES.clear()
    _framing._NAME_CODES.update(_framing._FRAMING_CODES)
    _writer._STATUS_LINES.clear()
    _messages.FIELD_LINES.clear()
    _messages.PLAIN_FIELDS.clear()
    _messages.HEAD_LINES.clear()


@contextlib.contextmanager
def general_paths() -> Iterator[None]:
    """Within the block, every common path and cache of the HTTP layer is off."""
    _set(True)
    try:
        yield
    finally:
        _set(False)
