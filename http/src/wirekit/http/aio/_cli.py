"""The ``wirekit`` command. Its options are generated from the fields of `ServeConfig` (how
to run) and of `wirekit.http.Config` (the HTTP layer's limits), so each is described once
(in its dataclass)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Sequence
from typing import Any

from .. import Config
from ._config import ServeConfig
from ._server import AppError, run

__all__ = ["build_parser", "config_from_args", "http_config_from_args", "main"]


def _base_type(annotation: Any) -> Any:
    """``int | None`` -> int; ``float`` -> float."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: ``wirekit serve [APP] --option ...`` from `ServeConfig`."""
    parser = argparse.ArgumentParser(prog="wirekit", description="wirekit: http/af for Python")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve an ASGI app (or a native handler); the built-in demo without APP",
        description="Serve APP (module:attribute: an ASGI 3 app or a native Reqd handler); "
        "with no APP, the built-in demo (/, /echo, /bytes/N, /stream/N).",
    )
    serve.add_argument("app", nargs="?", default=None, metavar="APP", help="module:attribute")
    _add_options(serve, ServeConfig)
    _add_options(serve.add_argument_group("HTTP limits (wirekit.http.Config, sizes in bytes)"), Config)
    return parser


def _add_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type) -> None:
    """One ``--name`` option per field of the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        kind = _base_type(hints[f.name])
        help_text = f.metadata.get("help", "")
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text)
            continue
        kwargs: dict[str, Any] = {"type": kind, "default": f.default, "help": f"{help_text} (default: {f.default})"}
        if "choices" in f.metadata:
            kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag, **kwargs)


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """A `ServeConfig` from parsed arguments."""
    return ServeConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ServeConfig)})


def http_config_from_args(args: argparse.Namespace) -> Config:
    """The `wirekit.http.Config` (limits of each connection) from parsed arguments.

    Raises:
        ValueError: a value the dataclass refuses.
    """
    return Config(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Config)})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wirekit`` and ``python -m wirekit.http``."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        http_config = http_config_from_args(args)
    except ValueError as e:
        print(f"wirekit: {e}", file=sys.stderr)
        return 2
    try:
        return run(args.app, config, http_config)
    except AppError as e:
        print(f"wirekit: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"wirekit: cannot listen on {config.host}:{config.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
