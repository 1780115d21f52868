"""TLS for `wirekit serve`, with the standard library's `ssl` module."""

from __future__ import annotations

import os
import ssl

from ._config import ServeConfig

__all__ = ["TLSConfigError", "ssl_context"]


class TLSConfigError(ValueError):
    """A TLS option that cannot be used (a missing file, a wrong password, bad ciphers)."""


def ssl_context(config: ServeConfig) -> ssl.SSLContext | None:
    """The server's TLS context from the ``ssl_*`` options, or None without a certificate.

    TLS 1.2 at least; ALPN offers ``http/1.1`` (the only protocol served); client
    certificates are asked for as ``ssl_cert_reqs`` says (`ssl.CERT_NONE`, ``OPTIONAL``,
    ``REQUIRED``) and verified against ``ssl_ca_certs``.

    Raises:
        TLSConfigError: with a one-line message naming the option that failed.
    """
    if config.ssl_certfile is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    for option, path in (("--ssl-certfile", config.ssl_certfile), ("--ssl-keyfile", config.ssl_keyfile)):
        if path is not None and not os.path.isfile(path):
            raise TLSConfigError(f"{option} {path}: no such file")
    try:
        ctx.load_cert_chain(config.ssl_certfile, config.ssl_keyfile, config.ssl_keyfile_password)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"--ssl-certfile/--ssl-keyfile: cannot load the certificate and key: {e}") from None
    if config.ssl_ca_certs is not None:
        try:
            ctx.load_verify_locations(config.ssl_ca_certs)
        except (ssl.SSLError, OSError) as e:
            raise TLSConfigError(f"--ssl-ca-certs {config.ssl_ca_certs}: {e}") from None
    ctx.verify_mode = ssl.VerifyMode(config.ssl_cert_reqs)
    if config.ssl_ciphers:
        try:
            ctx.set_ciphers(config.ssl_ciphers)
        except ssl.SSLError as e:
            raise TLSConfigError(f"--ssl-ciphers {config.ssl_ciphers!r}: {e}") from None
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx
