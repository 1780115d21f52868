"""Behind a proxy (`wirekit.http.aio._proxy` and ``--root-path``): X-Forwarded-For/-Proto
believed only from peers in ``--forwarded-allow-ips``; nginx in front, proxying to a
unix socket; a Starlette ``Mount`` behind nginx stripping a prefix."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from wirekit.http.aio._proxy import TrustedPeers

from tests.http.aio import apps_ops
from tests.http.aio.support import Nginx, RawConnection, ServerProcess, arun, get, running

FORWARDED = ("X-Forwarded-For: 198.51.100.7", "X-Forwarded-Proto: https")


async def scope_of(address: tuple[str, int] | None, *headers: str) -> dict[str, Any]:
    import json

    conn = await RawConnection.open(address)
    response = await conn.request(get("/where", *headers))
    conn.close()
    data: dict[str, Any] = json.loads(response.body)
    return data


@pytest.mark.parametrize(
    ("options", "trusted"),
    [
        ({}, True),  # default: 127.0.0.1 is trusted
        ({"forwarded_allow_ips": "10.0.0.1, 192.168.0.0/16"}, False),
        ({"forwarded_allow_ips": "127.0.0.0/8"}, True),
        ({"forwarded_allow_ips": "*"}, True),
        ({"proxy_headers": False}, False),
    ],
)
def test_forwarded_headers_only_from_trusted_peers(options: dict[str, Any], trusted: bool) -> None:
    async def main() -> None:
        async with running(apps_ops.scope_app, **options) as server:
            scope = await scope_of(server.address, *FORWARDED)
            plain = await scope_of(server.address)
        if trusted:
            assert scope["client"] == ["198.51.100.7", 0] and scope["scheme"] == "https", scope
        else:
            assert scope["client"][0] == "127.0.0.1" and scope["scheme"] == "http", scope
        assert plain["client"][0] == "127.0.0.1" and plain["scheme"] == "http"

    arun(main())


def test_the_client_is_the_nearest_untrusted_hop() -> None:
    peers = TrustedPeers("127.0.0.1, 10.0.0.0/8")
    # Each proxy appends the address it saw: what a client wrote itself comes first.
    assert peers.client("1.1.1.1, 203.0.113.9, 10.2.3.4") == ("203.0.113.9", 0)
    assert peers.client("10.0.0.5, 127.0.0.1") == ("10.0.0.5", 0)  # all trusted: the first
    assert peers.client("[2001:db8::1]:4711") == ("2001:db8::1", 4711)
    assert peers.client("203.0.113.9:8080") == ("203.0.113.9", 8080)
    assert peers.client(" , ") is None
    assert not peers.trusts(None) and TrustedPeers("unix:").trusts(None) and TrustedPeers("*").trusts("8.8.8.8")


def test_forwarded_allow_ips_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from wirekit.http.aio._cli import build_parser, config_from_args

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.9.9.9")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = config_from_args(build_parser().parse_args(["serve"]))
    assert config.forwarded_allow_ips == "10.9.9.9" and config.workers == 3
    args = build_parser().parse_args(["serve", "--forwarded-allow-ips", "*", "--workers", "2"])
    assert config_from_args(args).forwarded_allow_ips == "*" and config_from_args(args).workers == 2


NGINX_TO_UDS = """
server {
    listen 127.0.0.1:{port};
    location / {
        proxy_pass http://unix:{sock}:;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto https;
    }
    location /api/ {
        proxy_pass http://unix:{sock}:/;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
    }
}
"""


@contextmanager
def behind_nginx(app: str, *args: str) -> Iterator[tuple[ServerProcess, Nginx]]:
    sock = os.path.join(tempfile.mkdtemp(prefix="wk-"), "app.sock")
    with ServerProcess(app, "--uds", sock, *args) as upstream, Nginx(NGINX_TO_UDS.replace("{sock}", sock)) as nginx:
        yield upstream, nginx
        assert upstream.stop() == 0


@pytest.mark.parametrize(
    ("allow", "expected_client", "expected_scheme"),
    [
        (None, None, "http"),  # default 127.0.0.1: a unix socket peer is not trusted
        ("unix:", "127.0.0.1", "https"),  # nginx is trusted; the client's own claim is not
        ("unix:,127.0.0.1", "198.51.100.7", "https"),  # ... unless 127.0.0.1 is a trusted proxy too
        ("*", "198.51.100.7", "https"),
    ],
)
def test_nginx_to_a_unix_socket(allow: str | None, expected_client: str | None, expected_scheme: str) -> None:
    args = ["--forwarded-allow-ips", allow] if allow is not None else []
    with behind_nginx("tests.http.aio.apps_ops:scope_app", *args) as (_upstream, nginx), httpx.Client(base_url=nginx.url, timeout=10) as client:
        scope = client.get("/where", headers={"X-Forwarded-For": "198.51.100.7"}).json()
    client_host = scope["client"][0] if scope["client"] else None
    assert (client_host, scope["scheme"]) == (expected_client, expected_scheme), scope


def test_root_path_with_a_starlette_mount_behind_nginx_stripping_a_prefix() -> None:
    app = "tests.http.aio.apps_ops:starlette_mounted"
    with behind_nginx(app, "--root-path", "/api") as (_upstream, nginx), httpx.Client(base_url=nginx.url, timeout=10) as client:
        response = client.get("/api/sub/items/teapot")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["url"] == f"{nginx.url}/api/sub/items/teapot", data
    assert data["root_path"] == "/api/sub"


def test_root_path_scope() -> None:
    async def main() -> None:
        async with running(apps_ops.scope_app, root_path="/api/") as server:
            scope = await scope_of(server.address)
        assert scope["path"] == "/api/where" and scope["root_path"] == "/api" and scope["raw_path"] == "/api/where"

    arun(main())
