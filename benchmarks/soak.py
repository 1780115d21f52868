"""Soak: millions of keep-alive requests through `wirekit serve`, server RSS sampled every
second (issue 17). Not run in CI: the default 10 million requests take about ten minutes.

    uv run python benchmarks/soak.py                       # the native demo, 10 M requests
    uv run python benchmarks/soak.py --app apps:asgi_app   # an ASGI app
    uv run python benchmarks/soak.py --requests 200000     # a short run

wrk (64 keep-alive connections, one thread) runs in rounds of ``--round`` seconds until
the requests reach the goal. The server's RSS is sampled every second; the baseline is
taken after a warm-up round. Reported: requests, errors (socket errors and non-2xx), RSS
at the baseline, the highest and the last sample, and the growth over the baseline (goal:
under 5 %, 0 errors). A run that did not reach its goal or had errors says so.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_server import PY, ServerSpec, rss_kib, running


@dataclass
class Soak:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    samples: list[int] = field(default_factory=list)  # KiB, one a second


def wrk_round(port: int, seconds: float, connections: int) -> tuple[int, int]:
    """One wrk round: (requests, errors)."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", f"http://127.0.0.1:{port}/"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"(\d+) requests in", out)
    if m is None:
        raise RuntimeError(f"wrk gave no request count:\n{out}")
    errors = 0
    if e := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in e.groups())
    if e := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(e.group(1))
    return int(m.group(1)), errors


def soak(app: str | None, goal: int, round_seconds: float, connections: int, warmup: float = 5.0) -> tuple[Soak, int]:
    argv = [PY, "-m", "wirekit.http", "serve", *([app] if app else []), "--no-access-log", "--loop", "asyncio", "--port", "{port}"]
    result = Soak()
    with running(ServerSpec("wirekit serve", argv)) as (port, proc):
        wrk_round(port, warmup, connections)  # warm up: caches, buffers, the allocator's pools
        baseline = rss_kib(proc.pid)
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(1.0):
                result.samples.append(rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.monotonic()
        try:
            while result.requests < goal:
                n, errors = wrk_round(port, round_seconds, connections)
                result.requests += n
                result.errors += errors
                print(f"  {result.requests:>12,} requests, {result.errors} errors, RSS {rss_kib(proc.pid) / 1024:.1f} MiB", flush=True)
        finally:
            result.seconds = time.monotonic() - start
            stop.set()
            sampler.join()
        result.samples.append(rss_kib(proc.pid))
    return result, baseline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", default=None, help="APP for wirekit serve (default: the built-in demo)")
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--round", type=int, default=60, help="seconds per wrk round (whole seconds, as wrk takes)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk before the baseline")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    result, baseline = soak(args.app, args.requests, args.round, args.connections, args.warmup)
    peak, last = max(result.samples), result.samples[-1]
    growth = (last - baseline) / baseline * 100
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python {sys.version.split()[0]}")
    print(f"server: wirekit serve {args.app or '(demo)'} --loop asyncio; wrk -t1 -c{args.connections}")
    print(f"requests: {result.requests:,} in {result.seconds:.0f} s ({result.requests / result.seconds:,.0f}/s); errors: {result.errors}")
    print(
        f"RSS: baseline {baseline / 1024:.1f} MiB, highest {peak / 1024:.1f} MiB, last {last / 1024:.1f} MiB; "
        f"growth {growth:+.2f} % (goal < 5 %); {len(result.samples)} samples"
    )
    ok = result.requests >= args.requests and result.errors == 0 and growth < 5.0
    print("result:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
