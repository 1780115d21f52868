"""The page that describes running the server lists every option of ``wirekit serve``
(generated from `ServeConfig` and `Config`), so a new field cannot go undocumented."""

from __future__ import annotations

import re
from pathlib import Path

from wirekit.http.aio._cli import build_parser, option_flags

RUNNING = Path(__file__).resolve().parent.parent / "docs" / "server" / "running.md"


def test_every_flag_is_in_the_running_page() -> None:
    text = RUNNING.read_text()
    documented = set(re.findall(r"`(--[a-z0-9-]+)", text))
    flags = option_flags()
    assert len(flags) > 40
    missing = [flag for flag in flags if flag not in documented]
    assert not missing, f"not in {RUNNING.name}: {missing}"


def test_the_flags_are_the_parsers() -> None:
    import argparse

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    parsed = {s for action in serve._actions for s in action.option_strings if not s.startswith("--no-")}
    assert set(option_flags()) == parsed - {"-h", "--help", "--version"}
