"""permessage-deflate (RFC 7692): the ``Sec-WebSocket-Extensions`` grammar, the
negotiation of its parameters for both roles, and the per-message (de)compression.

A compressed message has RSV1 set on its first frame; its payload is raw DEFLATE data
(zlib with negative ``wbits``) ending in an empty stored block whose last four bytes,
``00 00 ff ff``, are removed by the sender and appended back by the receiver (§7.2.1).
With context takeover the (de)compressor lives across messages; ``*_no_context_takeover``
starts each message afresh. The decompressed size is bounded as it is produced, so a
small message that inflates enormously is refused (1009), never held in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from wirekit.combinators import (
    ParseError,
    Parser,
    both,
    char,
    many,
    option,
    parse,
    sep_by1,
    skip_while,
    take_while,
    take_while1,
)

from .._grammar import TCHAR

__all__ = [
    "Deflate",
    "DeflateParams",
    "MessageTooBig",
    "accept_deflate_response",
    "deflate_offer",
    "negotiate_deflate",
    "parse_extensions",
]

# -- Sec-WebSocket-Extensions (RFC 6455 §9.1) -----------------------------------------
#   extension-list  = 1#extension
#   extension       = extension-token *( ";" extension-param )
#   extension-param = token [ "=" (token | quoted-string) ]
_ows = skip_while(b" \t")
_token = take_while1(TCHAR).map(bytes.decode).desc("token")
_quoted = (char(b'"') >> take_while(TCHAR) << char(b'"')).map(bytes.decode).desc("quoted-string")
_param: Parser[tuple[str, str | None]] = both(_token, option(None, _ows >> char(b"=") >> _ows >> (_token | _quoted)))
_extension: Parser[tuple[str, list[tuple[str, str | None]]]] = both(
    _token, many(_ows >> char(b";") >> _ows >> _param)
)
_extension_list = _ows >> sep_by1(_ows >> char(b",") >> _ows, _extension) << _ows

Extension = tuple[str, list[tuple[str, str | None]]]


def parse_extensions(values: Iterable[bytes]) -> list[Extension]:
    """The extensions of ``Sec-WebSocket-Extensions`` field values, in order:
    ``[(name, [(param, value or None), ...]), ...]``.

    Raises:
        ValueError: a value that does not match the grammar.
    """
    out: list[Extension] = []
    for value in values:
        try:
            out.extend(parse(_extension_list, value))
        except ParseError as e:
            raise ValueError(f"bad Sec-WebSocket-Extensions: {e}") from None
    return out


class MessageTooBig(Exception):
    """A message inflated past the size limit."""


@dataclass(frozen=True)
class DeflateParams:
    """The negotiated parameters (RFC 7692 §7.1). Window bits are 9..15: zlib cannot
    compress with an 8-bit window, so an offer that demands one of us is declined."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15

    def header(self) -> bytes:
        """The extension as it appears in a response (or an offer)."""
        parts = ["permessage-deflate"]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_max_window_bits != 15:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.client_max_window_bits != 15:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        return "; ".join(parts).encode()


def _bits(value: str | None, allow_none: bool) -> int | None:
    if value is None:
        if allow_none:
            return None
        raise ValueError("a window size needs a value")
    if not value.isdigit() or len(value) > 2 or not 8 <= int(value) <= 15:
        raise ValueError(f"window bits {value!r} not in 8..15")
    return int(value)


def _read_params(params: list[tuple[str, str | None]], client_offer: bool) -> dict[str, int | bool | None]:
    """The parameters of one permessage-deflate element, checked (no unknown or repeated
    names, valid values)."""
    seen: dict[str, int | bool | None] = {}
    for name, value in params:
        if name in seen:
            raise ValueError(f"{name} repeated")
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise ValueError(f"{name} takes no value")
            seen[name] = True
        elif name == "server_max_window_bits":
            seen[name] = _bits(value, False)
        elif name == "client_max_window_bits":
            seen[name] = _bits(value, client_offer)
        else:
            raise ValueError(f"unknown parameter {name}")
    return seen


def negotiate_deflate(offers: list[Extension], no_context_takeover: bool = False) -> DeflateParams | None:
    """Server side: the parameters to accept from the client's offers (the first
    acceptable permessage-deflate offer, RFC 7692 §5), or None to decline them all.
    ``no_context_takeover``: also ask the client not to keep its context (less memory
    for us, worse compression)."""
    for name, params in offers:
        if name != "permessage-deflate":
            continue
        try:
            p = _read_params(params, client_offer=True)
        except ValueError:
            continue  # an invalid offer is declined; a later one may do
        server_bits = p.get("server_max_window_bits", 15)
        assert isinstance(server_bits, int)
        if server_bits < 9:
            continue  # zlib cannot compress with a 256-byte window
        client_bits = p.get("client_max_window_bits", 15) or 15
        assert isinstance(client_bits, int)
        return DeflateParams(
            server_no_context_takeover=bool(p.get("server_no_context_takeover", False)),
            client_no_context_takeover=bool(p.get("client_no_context_takeover", False)) or no_context_takeover,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits if "client_max_window_bits" in p else 15,
        )
    return None


def deflate_offer(client_max_window_bits: bool = True) -> bytes:
    """Client side: the offer to send (``client_max_window_bits`` says we accept a
    limit on our window)."""
    return b"permessage-deflate; client_max_window_bits" if client_max_window_bits else b"permessage-deflate"


def accept_deflate_response(extensions: list[Extension]) -> DeflateParams | None:
    """Client side: the parameters of the server's response to `deflate_offer`, or None
    when it accepted no extension.

    Raises:
        ValueError: the server answered with something we did not offer, or invalid
            parameters (the client must fail the connection, RFC 6455 §4.1).
    """
    if not extensions:
        return None
    if len(extensions) > 1 or extensions[0][0] != "permessage-deflate":
        raise ValueError(f"the server accepted extensions we did not offer: {extensions}")
    p = _read_params(extensions[0][1], client_offer=False)
    client_bits = p.get("client_max_window_bits", 15)
    server_bits = p.get("server_max_window_bits", 15)
    assert isinstance(client_bits, int) and isinstance(server_bits, int)
    if client_bits < 9:
        raise ValueError("client_max_window_bits=8 cannot be honoured (zlib)")
    return DeflateParams(
        server_no_context_takeover=bool(p.get("server_no_context_takeover", False)),
        client_no_context_takeover=bool(p.get("client_no_context_takeover", False)),
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
    )


_TAIL = b"\x00\x00\xff\xff"


class Deflate:
    """The compressor for our messages and the decompressor for the peer's, per the
    negotiated ``params`` and our role."""

    def __init__(self, params: DeflateParams, client: bool, level: int = 6) -> None:
        self.params = params
        if client:
            self._out_bits, self._out_reset = params.client_max_window_bits, params.client_no_context_takeover
            self._in_reset = params.server_no_context_takeover
        else:
            self._out_bits, self._out_reset = params.server_max_window_bits, params.server_no_context_takeover
            self._in_reset = params.client_no_context_takeover
        self._level = level
        # Inflating with a 32 KiB window accepts every window the peer may use.
        self._inflate = zlib.decompressobj(-15)
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, -self._out_bits)

    def decompress(self, data: bytes, limit: int) -> bytes:
        """Inflate a piece of a compressed message: at most ``limit`` bytes of output.

        Raises:
            MessageTooBig: the piece inflates past ``limit``.
            zlib.error: the data is not valid DEFLATE.
        """
        out = self._inflate.decompress(data, limit + 1)
        if len(out) > limit or self._inflate.unconsumed_tail:
            raise MessageTooBig
        return out

    def end_message(self, limit: int) -> bytes:
        """The output of the message's end (the removed tail put back); at most ``limit``
        bytes. Resets the decompressor without context takeover."""
        out = self.decompress(_TAIL, limit)
        if self._in_reset:
            self._inflate = zlib.decompressobj(-15)
        return out

    def compress(self, data: bytes, final: bool = True) -> bytes:
        """A message, or a fragment of one: ``final`` ends the message (a sync flush, its
        tail removed); an earlier fragment carries what the compressor produced so far."""
        if not final:
            return self._deflate.compress(data)
        out = self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        if out.endswith(_TAIL):
            out = out[:-4]
        if self._out_reset:
            self._deflate = zlib.compressobj(self._level, zlib.DEFLATED, -self._out_bits)
        return out
