"""The ``wirekit`` command. Its options are generated from the fields of `ServeConfig` (how
to run) and of `wirekit.http.Config` (the HTTP layer's limits and timeouts), so each is
described once (in its dataclass): a field added to either class is an option at once.

Field metadata read here: ``help``; ``choices``; ``flag`` (the option's spelling when it
is not the field name's, e.g. ``--header`` for ``headers``); ``aliases`` (more spellings,
e.g. uvicorn's ``--h11-max-incomplete-event-size``); ``env`` (an environment variable
that gives the default, e.g. ``WEB_CONCURRENCY``). A ``bool`` field is a
``--name/--no-name`` pair; a ``tuple[str, ...]`` field a repeatable option.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .. import Config
from ._config import ServeConfig, env_default
from ._server import AppError, StartupError, run

__all__ = ["build_parser", "config_from_args", "http_config_from_args", "main", "option_flags"]


def _base_type(annotation: Any) -> Any:
    """``int | None`` -> int; ``float`` -> float; ``tuple[str, ...]`` -> tuple."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return typing.get_origin(annotation) or annotation


def _version() -> str:
    try:
        return version("wirekit-http")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: ``wirekit serve [APP] --option ...`` from `ServeConfig` and `Config`.

    Defaults that come from the environment (``WEB_CONCURRENCY``, ``FORWARDED_ALLOW_IPS``)
    are read when this is called.
    """
    parser = argparse.ArgumentParser(prog="wirekit", description="wirekit: http/af for Python")
    version_text = f"wirekit {_version()} (Python {sys.version.split()[0]})"
    parser.add_argument("--version", action="version", version=version_text)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve an ASGI app (or a native handler, or a WSGI app); the built-in demo without APP",
        description="Serve APP (module:attribute: an ASGI 3 or 2 app, a WSGI app, a native Reqd handler, "
        "or a factory of one with --factory); with no APP, the built-in demo (/, /echo, /bytes/N, /stream/N).",
    )
    serve.add_argument("app", nargs="?", default=None, metavar="APP", help="module:attribute")
    serve.add_argument("--version", action="version", version=version_text)
    _add_options(serve, ServeConfig)
    # Options the HTTP Config has and ServeConfig has not (a field in both is an error here
    # at once: argparse refuses a flag added twice).
    _add_options(serve.add_argument_group("HTTP layer (wirekit.http.Config; sizes in bytes, times in seconds)"), Config)
    return parser


def option_flags() -> list[str]:
    """Every option's flag as ``wirekit serve --help`` shows it (``--no-`` forms apart)."""
    flags = []
    for cls in (ServeConfig, Config):
        for f in dataclasses.fields(cls):
            flags.append(_flag(f))
            flags.extend(f.metadata.get("aliases", ()))
    return flags


def _flag(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("flag", "--" + f.name.replace("_", "-")))


def _add_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type) -> None:
    """One ``--name`` option per field of the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flags = [_flag(f), *f.metadata.get("aliases", ())]
        kind = _base_type(hints[f.name])
        help_text = f.metadata.get("help", "")
        default: Any = f.default
        env = f.metadata.get("env")
        if env is not None:
            default = kind(env_default(env, str(default)))
            help_text = f"{help_text}; environment: {env}"
        if kind is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help_text)
            continue
        metavar = f.metadata.get("metavar", flags[0].lstrip("-").replace("-", "_").upper())
        if kind is tuple:
            parser.add_argument(*flags, dest=f.name, action="append", default=None, metavar=metavar, help=help_text)
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "type": kind, "default": default, "help": f"{help_text} (default: {default})"}
        if "choices" not in f.metadata:
            kwargs["metavar"] = metavar
        if "choices" in f.metadata:
            kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(*flags, **kwargs)


def _values(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    values = {}
    for f in dataclasses.fields(cls):
        value = getattr(args, f.name)
        if isinstance(f.default, tuple):
            value = tuple(value or ())
        values[f.name] = value
    return values


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """A `ServeConfig` from parsed arguments.

    Raises:
        ValueError: a value (or combination) the dataclass refuses.
    """
    return ServeConfig(**_values(args, ServeConfig))


def http_config_from_args(args: argparse.Namespace) -> Config:
    """The `wirekit.http.Config` (limits of each connection) from parsed arguments.

    Raises:
        ValueError: a value the dataclass refuses.
    """
    return Config(**_values(args, Config))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wirekit`` and ``python -m wirekit.http``; returns the exit code:
    0 stopped normally, 1 cannot listen, 2 bad command line or APP, 3 the app's startup
    (lifespan) failed or did not finish in time."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        http_config = http_config_from_args(args)
    except ValueError as e:
        print(f"wirekit: {e}", file=sys.stderr)
        return 2
    if config.reload:
        from ._reload import run_with_reload

        return run_with_reload(argv, config)
    where = config.uds or (f"fd {config.fd}" if config.fd is not None else f"{config.host}:{config.port}")
    try:
        return run(args.app, config, http_config)
    except AppError as e:
        print(f"wirekit: {e}", file=sys.stderr)
        return 2
    except StartupError as e:
        print(f"wirekit: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"wirekit: cannot listen on {where}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
