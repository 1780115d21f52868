"""Logging for `wirekit serve`: wirekit's own loggers, an operator's config file, and the
access log line.

Only the ``wirekit`` loggers are configured (``wirekit.error``, ``wirekit.access``), never
the root logger: an app that calls `logging.basicConfig` when it is imported keeps its
format and level (basicConfig does nothing once the root logger has a handler, so the
server must not give it one first). ``--log-config`` hands the whole setup to
`logging.config`: JSON or YAML (if PyYAML is installed) to ``dictConfig``, anything else
to ``fileConfig`` (ini), both keeping loggers that exist already.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
import time
from pathlib import Path
from typing import Any

from .. import Reqd

__all__ = ["BODY_SIZES", "TRACE", "access_line", "configure_logging", "load_log_config"]

TRACE = 5  # uvicorn's extra level, below DEBUG
logging.addLevelName(TRACE, "TRACE")
FORMAT = "%(levelname)s:%(name)s:%(message)s"
# The size of each whole body a native handler sent (`respond_with_bytes` may add the
# Content-Length itself): put by the stamping `Reqd`, taken out when the line is logged.
BODY_SIZES: dict[Reqd, int] = {}


class LogConfigError(ValueError):
    """A ``--log-config`` file that cannot be read or applied (the message says why)."""


def load_log_config(path: str) -> None:
    """Apply the logging configuration in ``path`` (by its suffix: ``.json``, ``.yaml`` /
    ``.yml``, else ini).

    Raises:
        LogConfigError: the file is missing or malformed, YAML without PyYAML, or
            `logging.config` refused it.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        if suffix in (".json", ".yaml", ".yml"):
            text = file.read_text()
            if suffix == ".json":
                config: Any = json.loads(text)
            else:
                try:
                    import yaml
                except ImportError:
                    raise LogConfigError(f"--log-config {path}: YAML needs PyYAML (pip install pyyaml)") from None
                config = yaml.safe_load(text)
            if not isinstance(config, dict):
                raise LogConfigError(f"--log-config {path}: expected a mapping (logging.config.dictConfig)")
            config.setdefault("disable_existing_loggers", False)
            logging.config.dictConfig(config)
        else:
            if not file.is_file():
                raise LogConfigError(f"--log-config {path}: no such file")
            logging.config.fileConfig(path, disable_existing_loggers=False)
    except LogConfigError:
        raise
    except (OSError, ValueError, TypeError, KeyError, AttributeError, ImportError) as e:
        raise LogConfigError(f"--log-config {path}: {type(e).__name__}: {e}") from None


def configure_logging(log_level: str = "info", log_config: str | None = None, access_log: bool = True) -> None:
    """Set up wirekit's loggers (before the app is imported, which may set up its own).

    With ``log_config`` that file decides everything (then ``log_level`` still sets the
    level of the ``wirekit`` loggers, as uvicorn's ``--log-level`` does). Without it,
    ``wirekit`` gets one stderr handler (``LEVEL:logger:message``) and does not propagate
    to the root logger, so an app's own root handlers do not print wirekit's lines twice.

    Raises:
        LogConfigError: see `load_log_config`.
    """
    level = TRACE if log_level == "trace" else logging.getLevelName(log_level.upper())
    wirekit = logging.getLogger("wirekit")
    if log_config is not None:
        load_log_config(log_config)
    else:
        # Idempotent (a worker process configures again what it inherited).
        for handler in list(wirekit.handlers):
            if getattr(handler, "_wirekit", False):
                wirekit.removeHandler(handler)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._wirekit = True  # type: ignore[attr-defined]
        wirekit.addHandler(handler)
        wirekit.propagate = False
    wirekit.setLevel(level)
    # --no-access-log silences the access logger whatever the level.
    logging.getLogger("wirekit.access").disabled = not access_log


_stamps: list[tuple[int, str]] = [(-1, "")]


def _stamp() -> str:
    """The log time (local, common log format), formatted once a second."""
    now = int(time.time())
    second, text = _stamps[0]
    if now != second:
        text = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(now))
        _stamps[0] = (now, text)
    return text


def access_line(reqd: Reqd, client: tuple[str, int] | None, started: float, now: float) -> str | None:
    """The access log line of a request whose response is complete (or was cut), or None
    when there is no response to log: ``client - - [time] "request line" status size
    duration``, the size being the body's bytes (``-`` when the server does not know it)
    and the duration from the complete request head to the complete response."""
    known = BODY_SIZES.pop(reqd, None)
    request, response = reqd.request, reqd.response
    if request is None or response is None:
        return None
    method = request.method if isinstance(request.method, bytes) else b"-"
    host = client[0] if client else "-"
    stamp = _stamp()
    line = f"{bytes(method).decode('latin-1')} {request.target.decode('latin-1')} {request.version}"
    status = int(response.status)
    writer = reqd._writer
    size: int | str
    if method == b"HEAD" or status in (204, 304):
        size = 0
    elif known is not None:
        size = known
    elif writer is not None:
        size = writer.written
    else:
        length = response.headers.get(b"content-length")
        size = int(length) if length is not None and length.isdigit() else "-"
    return f'{host} - - [{stamp}] "{line}" {status} {size} {(now - started) * 1000:.3f}ms'
