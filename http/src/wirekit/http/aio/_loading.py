"""Finding the app: ``module:attribute``, ``--app-dir``, ``--env-file``, ``--factory`` and
``--interface``.

Every failure is an `AppError` with a one-line message, raised before the server
listens: an app the server cannot call is refused at startup, never served as 500s.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
from typing import Any

from .. import RequestHandler
from ._asgi import ASGIApp, Receive, Scope, Send

__all__ = ["App", "AppError", "is_asgi", "load_app", "load_env_file"]

App = ASGIApp | RequestHandler
logger = logging.getLogger("wirekit.error")


class AppError(Exception):
    """An APP string that does not name an app (the message says what failed)."""


def load_env_file(path: str) -> int:
    """Set the environment variables in ``path`` (``NAME=VALUE`` lines, as in a ``.env``
    file: ``#`` comments, an optional ``export``, values optionally quoted); variables
    already set are kept. Returns how many were set.

    Raises:
        AppError: the file cannot be read, or a line is not ``NAME=VALUE``.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise AppError(f"--env-file {path}: {e.strerror or e}") from None
    count = 0
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "a").isalnum():
            raise AppError(f"--env-file {path}, line {number}: expected NAME=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"')
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if name not in os.environ:
            os.environ[name] = value
            count += 1
    return count


def is_asgi(app: Any) -> bool:
    """ASGI 3 apps are coroutine functions (or objects with one as ``__call__``)."""
    if inspect.isclass(app):
        return False
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the attribute itself is inspected
    return call is not None and inspect.iscoroutinefunction(call)


def _import(spec: str, app_dir: str | None) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise AppError(f"APP must look like 'module:attribute', got {spec!r}")
    directory = os.path.abspath(app_dir) if app_dir else os.getcwd()
    if app_dir:
        if not os.path.isdir(directory):
            raise AppError(f"--app-dir {app_dir}: no such directory")
        if sys.path[:1] != [directory]:
            sys.path.insert(0, directory)
    elif "" not in sys.path and directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        if e.name is not None and module_name.startswith(e.name):
            raise AppError(f"could not import module {module_name!r}: {e}") from None
        raise AppError(f"importing module {module_name!r} failed: {type(e).__name__}: {e}") from None
    except Exception as e:
        raise AppError(f"importing module {module_name!r} failed: {type(e).__name__}: {e}") from None
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AppError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(target):
        raise AppError(f"{spec!r} is not callable")
    return target


def _required_positional(func: Any) -> int | None:
    """How many positional parameters calling ``func`` needs (None: no signature)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in signature.parameters.values() if p.kind in kinds and p.default is p.empty)


def _asgi2(app: Any) -> ASGIApp:
    """An ASGI 3 app around an ASGI 2 app (``app(scope)`` returns ``instance(receive, send)``)."""

    async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
        instance = app(scope)
        await instance(receive, send)

    return asgi3


def _asgi3(app: Any) -> ASGIApp:
    """An ASGI 3 app around a callable that returns an awaitable without being a
    coroutine function (``--interface asgi3`` said so)."""

    async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return asgi3


def load_app(spec: str, factory: bool = False, interface: str = "auto", app_dir: str | None = None) -> App:
    """Import ``module:attribute`` (the attribute may be dotted) and make it an app the
    server can call: an ASGI 3 app or a native `Reqd` handler.

    ``factory``: the attribute is called (with no arguments) for the app; with
    ``interface="auto"`` a callable that takes no argument is taken as a factory anyway
    (with a warning). ``interface``: ``asgi3``, ``asgi2`` (adapted), ``wsgi`` (run in
    threads, see `wirekit.http.aio.WSGIAdapter`) or ``auto``: a coroutine function (or an
    object with an async ``__call__``) is ASGI 3, a class ASGI 2, another callable taking
    one argument a native handler, one taking two a WSGI app.

    Raises:
        AppError: with a one-line message naming what failed (import, attribute, the
            factory's own error, an app of no known kind).
    """
    target = _made(_import(spec, app_dir), spec, factory, interface)
    if interface == "auto":
        interface = _interface_of(target, spec)
        if interface == "native":
            return target  # type: ignore[no-any-return]
    if interface == "asgi3":
        return target if is_asgi(target) else _asgi3(target)
    if interface == "asgi2":
        return _asgi2(target)
    if interface == "wsgi":
        from ._wsgi import WSGIAdapter

        if is_asgi(target):
            raise AppError(f"{spec!r} is an ASGI app (async), not a WSGI app: drop --interface wsgi")
        return WSGIAdapter(target)
    raise AppError(f"unknown interface {interface!r}")


def _made(target: Any, spec: str, factory: bool, interface: str) -> Any:
    """The app: ``target``, or what it returns when it is a factory (said, or taken as
    one: with ``interface="auto"``, a callable that takes no argument)."""
    if not factory and interface == "auto" and not inspect.isclass(target) and _required_positional(target) == 0:
        logger.warning("%s takes no arguments: calling it as an app factory (say --factory to be explicit)", spec)
        factory = True
    if not factory:
        return target
    try:
        app = target()
    except Exception as e:
        raise AppError(f"the app factory {spec!r} failed: {type(e).__name__}: {e}") from None
    if not callable(app):
        raise AppError(f"the app factory {spec!r} returned {type(app).__name__}, not an app")
    return app


def _interface_of(target: Any, spec: str) -> str:
    """The kind of app ``target`` is (``interface="auto"``): ``asgi3`` (a coroutine
    function, or an async ``__call__``), ``asgi2`` (a class), ``native`` (a callable of
    one argument), ``wsgi`` (of two)."""
    if is_asgi(target):
        return "asgi3"
    if inspect.isclass(target):
        return "asgi2"
    needed = _required_positional(target)
    if needed == 2:
        return "wsgi"
    if needed == 1 or needed is None:
        return "native"
    raise AppError(
        f"{spec!r} takes {needed} arguments: not an ASGI, WSGI or native app "
        "(say --interface, or --factory for a factory)"
    )
