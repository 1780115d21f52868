"""``--reload``: serve in a child process and start a fresh one when a watched file changes.

The reloader (this process) holds the listening socket and hands it to each child as
``--fd N``: the address stays the same across restarts and connections made while a new
child starts wait in the accept queue instead of being refused. Files are watched with
`watchfiles` (an optional dependency: ``pip install 'wirekit-http[reload]'``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from ._config import ServeConfig

__all__ = ["run_with_reload"]

logger = logging.getLogger("wirekit.error")
DEFAULT_INCLUDES = ("*.py",)
DEFAULT_EXCLUDES = (".*", ".py[cod]", ".sw.*", "~*", "__pycache__")


def _child_argv(argv: Sequence[str], fd: int) -> list[str]:
    """``argv`` without ``--reload`` and ``--uds`` (the child serves the inherited ``fd``)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--uds", "--fd"):
            skip = True
            continue
        if arg.startswith(("--uds=", "--fd=")) or arg == "--reload":
            continue
        out.append(arg)
    return [*out, "--no-reload", "--fd", str(fd)]


class _Filter:
    """Which changed paths restart the server: ``includes`` globs, minus ``excludes``."""

    def __init__(self, includes: Sequence[str], excludes: Sequence[str]) -> None:
        self.includes = tuple(includes) or DEFAULT_INCLUDES
        self.excludes = (*DEFAULT_EXCLUDES, *excludes)

    def __call__(self, _change: object, path: str) -> bool:
        parts = Path(path).parts
        name = parts[-1] if parts else path
        if any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in self.excludes):
            return False
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.includes)


def run_with_reload(argv: Sequence[str], config: ServeConfig) -> int:
    """Run ``wirekit <argv>`` in a child, restarted on changes; returns the exit code.

    Stops (and stops the child) on SIGINT/SIGTERM. A child that exits on its own (an app
    with a syntax error) is started again at the next change.
    """
    try:
        import watchfiles
    except ImportError:
        print("wirekit: --reload needs watchfiles (pip install 'wirekit-http[reload]')", file=sys.stderr)
        return 2
    from ._server import _listening_socket, _url

    try:
        listener = _listening_socket(config) if config.fd is None else None
    except OSError as e:
        print(f"wirekit: cannot listen on {config.uds or f'{config.host}:{config.port}'}: {e.strerror or e}", file=sys.stderr)
        return 1
    fd = listener.fileno() if listener is not None else config.fd
    assert fd is not None
    os.set_inheritable(fd, True)
    dirs = [os.path.abspath(d) for d in (config.reload_dirs or (config.app_dir,))]
    where = f"unix:{config.uds}" if config.uds else (
        _url(listener.getsockname()[:2], "https" if config.is_ssl else "http") if listener is not None else f"fd {fd}"
    )
    print(f"wirekit reloader watching {', '.join(dirs)} for {where}", flush=True)
    command = [sys.executable, "-m", "wirekit.http", *_child_argv(argv, fd)]
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, pass_fds=(fd,))

    def halt(child: subprocess.Popen[bytes]) -> None:
        _halt(child, config.timeout_graceful + 5)

    child = start()
    try:
        for changes in watchfiles.watch(
            *dirs, watch_filter=_Filter(config.reload_includes, config.reload_excludes), stop_event=stop,
            rust_timeout=500, yield_on_timeout=True, raise_interrupt=False,
        ):
            if stop.is_set():
                break
            if not changes:
                continue
            changed = sorted({os.path.relpath(path) for _, path in changes})
            print(f"wirekit: {', '.join(changed)} changed; restarting", file=sys.stderr, flush=True)
            halt(child)
            child = start()
    finally:
        halt(child)
        if listener is not None:
            listener.close()
            if config.uds is not None:
                with contextlib.suppress(OSError):
                    os.unlink(config.uds)
    return 0


def _halt(child: subprocess.Popen[bytes], grace: float) -> None:
    """Stop ``child`` if it runs: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
