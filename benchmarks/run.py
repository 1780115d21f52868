"""The one benchmark entry point: ``uv run python benchmarks/run.py [SUITE ...]``.

Suites: ``combinators`` (JSON vs parsy), ``natural`` (grammars written the natural way:
PostgreSQL messages and JSON with ``bind``/``@generate``, vs parsy), ``serializer`` (vs ``b"".join``), ``http``
(sans-IO parse + respond vs h11 and httptools), ``resp`` (the RESP client vs redis-py
against a local redis-server), ``server`` (wrk against wirekit, uvicorn
and a bare asyncio protocol; several minutes), ``runtimes`` (wrk against wirekit's blocking
and trio runtimes and the same servers on h11; about two minutes), ``websocket`` (sans-IO
frame parsing vs wsproto and websockets; echo round trips vs uvicorn). With no argument every suite runs. Each prints a table of figures measured side by side in one
process; only ratios within one run are meaningful on a noisy machine.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
from pathlib import Path

SUITES = {
    "combinators": "bench_combinators",
    "natural": "bench_natural",
    "serializer": "bench_serializer",
    "http": "bench_http",
    "resp": "bench_resp",
    "server": "bench_server",
    "runtimes": "bench_runtimes",
    "websocket": "bench_websocket",
}


def machine() -> str:
    """A one-line description of this machine and interpreter."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the named suites (all by default) and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="suites to run")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    for name in args.suites or list(SUITES):
        print(f"\n## {name}\n")
        module = importlib.import_module(SUITES[name])
        sys.argv = [f"{SUITES[name]}.py"]  # each suite's own options keep their defaults
        module.main()


if __name__ == "__main__":
    main()
