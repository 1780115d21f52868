"""wirekit's blocking and trio runtimes vs the same servers written on h11, under wrk.

The four servers of ``runtime_servers.py`` (the same app: ``GET /`` -> ``Hello,
world!``) run in turn, pinned to CPU 0 (wrk on CPU 1 when there are two), are warmed up
and loaded by each scenario, interleaved: every round runs every server once, and the
table gives each server's median over the rounds with the ratio wirekit / h11 for the
same runtime. A run with socket errors or non-2xx responses is reported as failed.

Requests/s on a machine shared with other work drift by 2x between runs; the server's
CPU time per request (user + system, from ``/proc``) drifts much less, so the table gives
both, each with its ratio.

    uv run python benchmarks/run.py runtimes                 # the full run
    uv run python benchmarks/bench_runtimes.py --seconds 1 --rounds 1   # a quick look
    uv run python benchmarks/bench_runtimes.py --no-pin      # server and wrk not pinned
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, or from run.py
from benchmarks import bench_server
from benchmarks.bench_server import HERE, PY, Result, Scenario, ServerSpec, running, wrk

SERVERS = [
    ServerSpec(kind, [PY, str(HERE / "runtime_servers.py"), kind, "--port", "{port}"])
    for kind in ("wirekit-sync", "h11-sync", "wirekit-trio", "h11-trio")
]
SCENARIOS = [
    Scenario("keep-alive GET, 16 conns", "/", 16),
    Scenario("keep-alive GET, 64 conns", "/", 64),
    Scenario("16-deep pipelining, 16 conns", "/", 16, "pipeline.lua", latency=False),
]
CLOCK_TICK = 1e6 / os.sysconf("SC_CLK_TCK")  # microseconds
FLOOR = 1.5  # wirekit's requests/s over h11's, keep-alive GET (issue 18)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table; returns the number of failed runs plus
    the keep-alive GET ratios under `FLOOR`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every server per scenario")
    parser.add_argument(
        "--no-pin", action="store_true",
        help="let the scheduler place server and wrk (pinned, a server shares CPU 0 with whatever else runs there)",
    )
    args = parser.parse_args(argv)
    if args.no_pin:
        bench_server._pin = lambda cpu: []
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    runs: dict[tuple[str, str], list[Result]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for sc in SCENARIOS:
        for _ in range(args.rounds):
            for spec in SERVERS:
                with running(spec) as (port, proc):
                    wrk(port, SCENARIOS[0], 0.5)  # warm up
                    before = cpu_ticks(proc.pid)
                    result = wrk(port, sc, args.seconds)
                    used = (cpu_ticks(proc.pid) - before) * CLOCK_TICK
                    runs.setdefault((spec.name, sc.name), []).append(result)
                    requests = result.rps * args.seconds
                    cpu.setdefault((spec.name, sc.name), []).append(used / requests if requests else float("nan"))
    placement = "not pinned" if args.no_pin else "server on CPU 0, wrk on CPU 1"
    print(f"wrk -t1, {args.seconds:g} s per run, {args.rounds} interleaved rounds, median; {placement}")
    print(f"{'scenario':30} {'server':13} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'vs h11':>7} {'CPU us/req':>10} {'vs h11':>7}")
    problems = 0
    for sc in SCENARIOS:
        medians: dict[str, float] = {}
        for spec in SERVERS:
            results = runs[(spec.name, sc.name)]
            failed = [r for r in results if r.errors or not r.rps]
            medians[spec.name] = statistics.median(r.rps for r in results)
            mid = sorted(results, key=lambda r: r.rps)[len(results) // 2]
            runtime = spec.name.split("-")[1]
            ratio = ""
            if spec.name.startswith("wirekit"):
                h11 = statistics.median(r.rps for r in runs[(f"h11-{runtime}", sc.name)])
                value = medians[spec.name] / h11 if h11 else float("nan")
                ratio = f"{value:.2f}x"
                if sc.name.startswith("keep-alive") and not value >= FLOOR:
                    ratio += " (under the floor)"
                    problems += 1
            status = f"FAILED ({len(failed)} of {len(results)} runs)" if failed else f"{sum(r.errors for r in results)}"
            problems += len(failed)
            per_request = statistics.median(cpu[(spec.name, sc.name)])
            cpu_ratio = ""
            if spec.name.startswith("wirekit"):
                cpu_ratio = f"{statistics.median(cpu[(f'h11-{runtime}', sc.name)]) / per_request:.2f}x"
            # wrk measures no per-request latency when it pipelines: n/a, not 0.
            lat = f"{mid.p50:7.2f} {mid.p99:7.2f}" if sc.latency else f"{'n/a':>7} {'n/a':>7}"
            print(
                f"{sc.name:30} {spec.name:13} {medians[spec.name]:8.0f} {lat} {status:>7} "
                f"{ratio:>7} {per_request:10.1f} {cpu_ratio:>7}"
            )
    return problems


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of process ``pid`` so far, in clock ticks."""
    return sum(bench_server.cpu_times(pid))


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
