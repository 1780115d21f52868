"""`ServeConfig`: everything `wirekit serve` can be told, in one frozen dataclass.

The command line is generated from these fields (name, type, default and the metadata:
``help``, ``choices``, ``flag`` when the option is spelled otherwise, ``aliases``,
``env`` for an environment variable that gives the default, ``group``), so an option is
described once, here. The flags are uvicorn's where uvicorn has the option.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["ServeConfig", "env_default"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def env_default(name: str, default: str) -> str:
    """The value of environment variable ``name``, or ``default`` when it is unset or empty."""
    return os.environ.get(name) or default


@dataclass(frozen=True)
class ServeConfig:
    """How to run a server. Times are in seconds. The connections' timeouts and limits
    are the HTTP layer's `wirekit.http.Config` (``--timeout-keep-alive`` and the others).

    Raises:
        ValueError: from the constructor, for a value that cannot work (no worker, a port
            out of range, a unix socket and an inherited fd both, a half TLS setup).
    """

    # -- where to listen -----------------------------------------------------------------
    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on"})
    port: int = field(default=8080, metadata={"help": "port to listen on (0: any free port)"})
    uds: str | None = field(
        default=None, metadata={"help": "listen on this unix domain socket path instead", "metavar": "PATH"}
    )
    fd: int | None = field(
        default=None,
        metadata={"help": "serve the listening socket inherited as this file descriptor (socket activation)", "metavar": "N"},
    )
    backlog: int = field(default=2048, metadata={"help": "listen backlog"})
    # -- processes and loop ----------------------------------------------------------------
    workers: int = field(
        default=1,
        metadata={"help": "worker processes accepting from one listening socket", "env": "WEB_CONCURRENCY"},
    )
    loop: str = field(
        default="auto",
        metadata={"help": "event loop", "choices": ("auto", "asyncio", "uvloop")},
    )
    # -- the app -------------------------------------------------------------------------
    factory: bool = field(
        default=False, metadata={"help": "APP names a function that returns the app: call it (no arguments)"}
    )
    interface: str = field(
        default="auto",
        metadata={
            "help": "how to call the app (auto: an async callable is ASGI 3, a class ASGI 2, "
            "a callable of two arguments WSGI, of one a native handler)",
            "choices": ("auto", "asgi3", "asgi2", "wsgi"),
        },
    )
    app_dir: str = field(default=".", metadata={"help": "import APP from this directory (put first on sys.path)"})
    env_file: str | None = field(
        default=None, metadata={"help": "read NAME=VALUE lines from this file into the environment first"}
    )
    lifespan: str = field(
        default="auto",
        metadata={
            "help": "ASGI lifespan events (auto: run them if the app supports them)",
            "choices": ("auto", "on", "off"),
        },
    )
    timeout_lifespan: float = field(
        default=60.0, metadata={"help": "a lifespan startup that takes longer fails (exit code 3)"}
    )
    root_path: str = field(
        default="",
        metadata={"help": "ASGI root_path: the app is mounted under this prefix (paths include it)"},
    )
    reload: bool = field(
        default=False, metadata={"help": "restart the server when a file changes (needs watchfiles)"}
    )
    reload_dirs: tuple[str, ...] = field(
        default=(),
        metadata={"help": "directory to watch with --reload (repeatable; default: the app dir)", "flag": "--reload-dir"},
    )
    reload_includes: tuple[str, ...] = field(
        default=(),
        metadata={"help": "glob of files to watch with --reload (repeatable; default: *.py)", "flag": "--reload-include"},
    )
    reload_excludes: tuple[str, ...] = field(
        default=(),
        metadata={"help": "glob of files to ignore with --reload (repeatable)", "flag": "--reload-exclude"},
    )
    # -- connections -----------------------------------------------------------------------
    timeout_graceful: float = field(
        default=10.0,
        metadata={
            "help": "on SIGINT/SIGTERM, wait this long for in-flight responses",
            "aliases": ("--timeout-graceful-shutdown",),
        },
    )
    limit_concurrency: int | None = field(
        default=None, metadata={"help": "most open connections; beyond it new ones get 503"}
    )
    limit_max_requests: int | None = field(
        default=None,
        metadata={
            "help": "a worker stops accepting after this many requests, finishes them and is replaced "
            "(with --workers 1 the server then exits)"
        },
    )
    # -- what goes out -----------------------------------------------------------------------
    date_header: bool = field(default=True, metadata={"help": "send a Date header (unless the app sends one)"})
    server_header: bool = field(
        default=True, metadata={"help": "send 'Server: wirekit' (unless the app sends a Server header)"}
    )
    headers: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "add 'NAME:VALUE' to every response (repeatable; the app's own field wins)",
            "flag": "--header",
            "metavar": "NAME:VALUE",
        },
    )
    # -- behind a proxy --------------------------------------------------------------------
    proxy_headers: bool = field(
        default=True,
        metadata={"help": "take the client address and scheme from X-Forwarded-For/-Proto of trusted peers"},
    )
    forwarded_allow_ips: str = field(
        default="127.0.0.1",
        metadata={
            "help": "comma-separated addresses and networks trusted with proxy headers "
            "('*': all; 'unix:': peers on a unix socket)",
            "env": "FORWARDED_ALLOW_IPS",
        },
    )
    # -- TLS -------------------------------------------------------------------------------
    ssl_keyfile: str | None = field(default=None, metadata={"help": "TLS private key file (PEM)"})
    ssl_certfile: str | None = field(default=None, metadata={"help": "TLS certificate chain file (PEM)"})
    ssl_keyfile_password: str | None = field(default=None, metadata={"help": "password of the TLS key file"})
    ssl_ca_certs: str | None = field(default=None, metadata={"help": "CA certificates to verify clients with (PEM)"})
    ssl_cert_reqs: int = field(
        default=0,
        metadata={"help": "client certificates: 0 none, 1 optional, 2 required (ssl.CERT_*)", "choices": (0, 1, 2)},
    )
    ssl_ciphers: str | None = field(
        default=None, metadata={"help": "OpenSSL cipher list (TLS 1.2 and older; default: Python's)"}
    )
    # -- logging ---------------------------------------------------------------------------
    log_level: str = field(
        default="info", metadata={"help": "level of wirekit's loggers", "choices": LOG_LEVELS}
    )
    log_config: str | None = field(
        default=None,
        metadata={"help": "logging configuration file: .json or .yaml (dictConfig), else .ini (fileConfig)"},
    )
    access_log: bool = field(
        default=True,
        metadata={"help": "log each request: client, request line, status, body size, duration"},
    )
    # -- WebSocket (ASGI websocket scopes) --
    ws_max_size: int = field(
        default=16 * 1024 * 1024, metadata={"help": "WebSocket: largest message received, bytes (larger: close 1009)"}
    )
    ws_max_queue: int = field(
        default=32, metadata={"help": "WebSocket: messages received and not yet taken by the app before reading pauses"}
    )
    ws_ping_interval: float = field(
        default=20.0, metadata={"help": "WebSocket: send a ping after this long (0: never)"}
    )
    ws_ping_timeout: float = field(
        default=20.0, metadata={"help": "WebSocket: close (1011) when a ping is not answered this long (0: never)"}
    )
    ws_per_message_deflate: bool = field(
        default=True, metadata={"help": "WebSocket: accept permessage-deflate compression"}
    )

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in 0..65535")
        if self.ws_max_size < 1 or self.ws_max_queue < 1:
            raise ValueError("ws_max_size and ws_max_queue must be at least 1")
        if self.uds is not None and self.fd is not None:
            raise ValueError("--uds and --fd cannot both be given")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("--ssl-keyfile needs --ssl-certfile")
        if self.ssl_cert_reqs and self.ssl_ca_certs is None:
            raise ValueError("--ssl-cert-reqs needs --ssl-ca-certs (the CAs clients' certificates must chain to)")
        for header in self.headers:
            name, sep, _ = header.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"--header must look like NAME:VALUE, got {header!r}")

    @property
    def is_ssl(self) -> bool:
        """Whether the server speaks TLS (a certificate is configured)."""
        return self.ssl_certfile is not None
