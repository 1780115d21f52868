"""``--proxy-headers``: the client's address and scheme from a trusted proxy's
``X-Forwarded-For`` and ``X-Forwarded-Proto``, as an ASGI middleware.

Only a peer in ``--forwarded-allow-ips`` is believed: anyone else could send these fields
and claim any address. The list holds addresses, networks (``10.0.0.0/8``), ``*`` (every
peer) and ``unix:`` (peers on a unix domain socket, which have no address).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from ._asgi import ASGIApp, Receive, Scope, Send

__all__ = ["ProxyHeaders", "TrustedPeers"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedPeers:
    """The peers trusted with proxy headers, from ``--forwarded-allow-ips``."""

    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.unix = "unix:" in items
        self.addresses: set[Address] = set()
        self.networks: list[Network] = []
        self.literals: set[str] = set()
        for item in items:
            try:
                if "/" in item:
                    self.networks.append(ipaddress.ip_network(item, strict=False))
                else:
                    self.addresses.add(ipaddress.ip_address(item))
            except ValueError:
                self.literals.add(item)
        self.trusts = functools.lru_cache(maxsize=1024)(self._trusts)

    def _trusts(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if host is None:  # a unix socket peer
            return self.unix
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return host in self.literals
        return ip in self.addresses or any(ip in net for net in self.networks)

    def client(self, forwarded_for: str) -> tuple[str, int] | None:
        """The client named by an ``X-Forwarded-For`` list: the nearest address that is
        not a trusted proxy (each proxy appends the peer it saw), else the first."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if not hops:
            return None
        for hop in reversed(hops):
            host, port = _host_port(hop)
            if not self.trusts(host):
                return host, port
        return _host_port(hops[0])


def _host_port(value: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80`` or ``::1`` -> (host, port or 0)."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else 0
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, int(port) if port.isdigit() else 0
    return value, 0


class ProxyHeaders:
    """ASGI middleware: for a trusted peer, ``scope["client"]`` from ``X-Forwarded-For``
    and ``scope["scheme"]`` from ``X-Forwarded-Proto`` (``http``/``https``, or
    ``ws``/``wss`` for WebSocket); for anyone else the scope is left as it is."""

    def __init__(self, app: ASGIApp, trusted: str | TrustedPeers = "127.0.0.1") -> None:
        self.app = app
        self.trusted = trusted if isinstance(trusted, TrustedPeers) else TrustedPeers(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind in ("http", "websocket"):
            peer: Any = scope.get("client")
            if self.trusted.trusts(peer[0] if peer else None):
                proto: bytes | None = None
                forwarded: list[bytes] = []
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-proto":
                        proto = value
                    elif name == b"x-forwarded-for":
                        forwarded.append(value)
                if proto is not None:
                    scheme = proto.decode("latin-1").strip().lower()
                    if scheme in ("http", "https", "ws", "wss"):
                        if kind == "websocket":
                            scheme = scheme.replace("http", "ws")
                        scope["scheme"] = scheme
                if forwarded:
                    client = self.trusted.client(b",".join(forwarded).decode("latin-1"))
                    if client is not None:
                        scope["client"] = client
        await self.app(scope, receive, send)
