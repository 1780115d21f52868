"""TLS (`wirekit.http.aio._tls`): ``wirekit serve --ssl-*`` with a CA made at test time
(trustme), reached by curl, httpx, the ssl module and Chromium over https; ALPN
http/1.1; client certificates; a key with a password; plain HTTP to the TLS port."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from tests.http.aio.support import ServerProcess, require_tool, wirekit


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path
    client: Path  # client certificate and key, one PEM
    locked_key: Path  # the server key encrypted with PASSWORD


PASSWORD = "s3cret"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("client.example")
    pki = Pki(d / "ca.pem", d / "cert.pem", d / "key.pem", d / "client.pem", d / "locked.pem")
    ca.cert_pem.write_to_path(str(pki.ca))
    pki.cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(pki.key))
    client.private_key_and_cert_chain_pem.write_to_path(str(pki.client))
    key = serialization.load_pem_private_key(server.private_key_pem.bytes(), password=None)
    pki.locked_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    return pki


def tls_args(pki: Pki, *more: str) -> list[str]:
    return ["--ssl-certfile", str(pki.cert), "--ssl-keyfile", str(pki.key), *more]


@pytest.fixture
def demo(pki: Pki) -> Iterator[ServerProcess]:
    with ServerProcess(*tls_args(pki)) as server:
        assert server.scheme == "https" and server.stdout.startswith("wirekit listening on https://"), server.stdout
        yield server
        assert server.stop() == 0


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([require_tool("curl"), "-sS", "--max-time", "10", *args], capture_output=True, timeout=30)


def test_curl_over_https(pki: Pki, demo: ServerProcess) -> None:
    result = curl("--cacert", str(pki.ca), "-w", "\n%{http_version} %{response_code}", demo.url + "/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello, world!\n1.1 200"
    # Without the CA the certificate is not trusted: TLS is real, not a plain socket.
    untrusted = curl(demo.url + "/")
    assert untrusted.returncode == 60, untrusted


def test_alpn_offers_http_1_1(pki: Pki, demo: ServerProcess) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(demo.address, timeout=5) as raw, ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"
        tls.sendall(b"GET /bytes/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := tls.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 5" in head.lower() and len(body) == 5


def test_httpx_sees_the_https_scheme(pki: Pki) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    with ServerProcess("tests.http.aio.apps_ops:scope_app", *tls_args(pki)) as server:
        with httpx.Client(verify=ctx, timeout=10) as client:
            first = client.get(server.url + "/where").json()
            second = client.get(server.url + "/again").json()
        assert server.stop() == 0
    assert first["scheme"] == "https" and first["path"] == "/where"
    assert second["scheme"] == "https"


def test_a_key_with_a_password(pki: Pki) -> None:
    args = ["--ssl-certfile", str(pki.cert), "--ssl-keyfile", str(pki.locked_key)]
    with ServerProcess(*args, "--ssl-keyfile-password", PASSWORD) as server:
        result = curl("--cacert", str(pki.ca), server.url + "/")
        assert result.stdout == b"Hello, world!"
        assert server.stop() == 0
    wrong = wirekit("serve", *args, "--ssl-keyfile-password", "nope", "--port", "0")
    assert wrong.returncode == 2 and wrong.stderr.startswith("wirekit: --ssl-certfile/--ssl-keyfile: "), wrong.stderr
    assert wrong.stderr.count("\n") == 1
    missing = wirekit("serve", "--ssl-certfile", "/nonexistent.pem", "--port", "0")
    assert missing.returncode == 2 and "/nonexistent.pem" in missing.stderr and missing.stderr.count("\n") == 1


def test_a_required_client_certificate(pki: Pki) -> None:
    with ServerProcess(*tls_args(pki, "--ssl-cert-reqs", "2", "--ssl-ca-certs", str(pki.ca))) as server:
        refused = curl("--cacert", str(pki.ca), server.url + "/")
        assert refused.returncode != 0 and refused.stdout == b"", refused
        accepted = curl("--cacert", str(pki.ca), "--cert", str(pki.client), server.url + "/")
        assert accepted.returncode == 0 and accepted.stdout == b"Hello, world!", accepted
        ctx = ssl.create_default_context(cafile=str(pki.ca))
        ctx.load_cert_chain(str(pki.client))
        with httpx.Client(verify=ctx, timeout=10) as client:
            assert client.get(server.url + "/").text == "Hello, world!"
        assert server.stop() == 0
    bad = wirekit("serve", *tls_args(pki, "--ssl-cert-reqs", "2"), "--port", "0")
    assert bad.returncode == 2 and "--ssl-ca-certs" in bad.stderr


def test_plain_http_to_the_tls_port_is_closed_cleanly(pki: Pki, demo: ServerProcess) -> None:
    with socket.create_connection(demo.address, timeout=5) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = plain.recv(4096)
            rest = plain.recv(4096) if data else b""
        except ConnectionResetError:
            data = rest = b""
    # No HTTP answer in clear text (a TLS alert at most), and the connection ends.
    assert b"HTTP/1.1" not in data and rest == b"", data
    result = curl("--cacert", str(pki.ca), demo.url + "/")
    assert result.stdout == b"Hello, world!"
    assert "Traceback" not in demo.stderr, demo.stderr


def test_chromium_over_https(pki: Pki) -> None:
    chromium = require_tool("chromium")
    profile = tempfile.mkdtemp(prefix="wirekit-chromium-")
    try:
        with ServerProcess("tests.http.aio.apps:page_app", *tls_args(pki)) as server:
            result = subprocess.run(
                [
                    chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--ignore-certificate-errors", f"--user-data-dir={profile}", "--dump-dom", server.url + "/",
                ],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert server.stop() == 0
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert "<li>item:alpha</li><li>item:beta</li><li>item:gamma</li>" in result.stdout, result.stdout
    assert 'data-state="loaded"' in result.stdout
    paths = {line.split()[2] for line in server.stderr.splitlines() if line.startswith("page: ")}
    assert {"/", "/style.css", "/data.js", "/app.js", "/pixel.gif"} <= paths, server.stderr
