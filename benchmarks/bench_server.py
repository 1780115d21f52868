"""Servers side by side under wrk on loopback: wirekit vs uvicorn (h11, httptools) vs a
bare asyncio protocol (the limit), plus memory per idle keep-alive connection.

Each server runs in turn, pinned to CPU 0 (wrk on CPU 1 when there are two), is warmed
up, loaded by each scenario, and stopped. The table reports requests/s, p50/p99/max
latency and errors, with ratios to uvicorn+httptools and to the bare protocol; the
1 000-connection run's latency percentiles are plotted (``--plot``).

    uv run python benchmarks/run.py server            # full run (several minutes)
    uv run python benchmarks/bench_server.py --smoke  # a few seconds per server
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


@dataclass
class ServerSpec:
    name: str
    argv: list[str]
    echo: bool = True  # can answer POST /echo


def servers(loop: str) -> list[ServerSpec]:
    """The servers, for one event loop (``asyncio`` or ``uvloop``)."""
    uvicorn = [PY, "-m", "uvicorn", "apps:asgi_app", "--no-access-log", "--log-level", "warning", "--loop", loop, "--port", "{port}"]
    return [
        ServerSpec(f"bare asyncio protocol ({loop})", [PY, str(HERE / "bare_server.py"), "--loop", loop, "--port", "{port}"], echo=False),
        ServerSpec(f"wirekit native demo ({loop})", [PY, "-m", "wirekit.http", "serve", "--no-access-log", "--loop", loop, "--port", "{port}"]),
        ServerSpec(f"wirekit + ASGI app ({loop})", [PY, "-m", "wirekit.http", "serve", "apps:asgi_app", "--no-access-log", "--loop", loop, "--port", "{port}"]),
        ServerSpec(f"uvicorn + h11 ({loop})", [*uvicorn, "--http", "h11"]),
        ServerSpec(f"uvicorn + httptools ({loop})", [*uvicorn, "--http", "httptools"]),
    ]


@dataclass
class Scenario:
    name: str
    path: str
    connections: int
    script: str | None = None
    needs_echo: bool = False
    latency: bool = True  # wrk measures no per-request latency when it pipelines


SCENARIOS = [
    Scenario("keep-alive GET, 64 conns", "/", 64),
    Scenario("16-deep pipelining, 16 conns", "/", 16, "pipeline.lua", latency=False),
    Scenario("POST echo 16 KiB, 64 conns", "/echo", 64, "post16k.lua", needs_echo=True),
    Scenario("2053-byte response, 64 conns", "/bytes/2053", 64),
    Scenario("1000 conns latency", "/", 1000, "percentiles.lua"),
]


@dataclass
class Result:
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    errors: int = 0
    percentiles: dict[float, float] = field(default_factory=dict)
    failed: str | None = None  # why the run produced no measurement
    listen_drops: int = 0  # SYNs/connections the kernel dropped at a full accept queue
    # The listening socket's accept queue, sampled every 50 ms during the run: its
    # largest length, and when it was last seen non-empty (seconds into the run). A
    # connection waiting there has its first request sent (the kernel completed the
    # handshake) but not read: that wait is in wrk's latency.
    queue_max: int = 0
    queued_until: float = 0.0
    requests: int = 0
    # The server process's CPU time per request during the run (microseconds), in user
    # space (the interpreter: parsing, the app, the event loop) and in the kernel (the
    # socket calls), from /proc/PID/stat; None where not measured.
    cpu_user_us: float | None = None
    cpu_sys_us: float | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


@contextlib.contextmanager
def running(spec: ServerSpec) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Start a server, wait until it answers, stop it afterwards."""
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in spec.argv]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([*_pin(0), *argv], cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{spec.name} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{spec.name} did not start")
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(port: int, scenario: Scenario, seconds: float, pid: int | None = None) -> Result:
    """One wrk run; parses requests/s, latency and errors (and, given the server's
    ``pid``, its CPU time per request)."""
    argv = [*_pin(1), "wrk", "-t1", f"-c{scenario.connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    if scenario.script:
        argv += ["-s", str(HERE / "wrk" / scenario.script)]
    argv.append(f"http://127.0.0.1:{port}{scenario.path}")
    drops = listen_drops()
    sampler = AcceptQueue(port)
    cpu_before = cpu_times(pid) if pid is not None else None
    sampler.start()
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        sampler.stop()
    cpu_after = cpu_times(pid) if pid is not None else None
    out = run.stdout
    r = Result(listen_drops=listen_drops() - drops, queue_max=sampler.max, queued_until=sampler.until)
    if m := re.search(r"(\d+) requests in", out):
        r.requests = int(m.group(1))
    if cpu_before is not None and cpu_after is not None and r.requests:
        r.cpu_user_us = (cpu_after[0] - cpu_before[0]) * CLOCK_TICK_US / r.requests
        r.cpu_sys_us = (cpu_after[1] - cpu_before[1]) * CLOCK_TICK_US / r.requests
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        r.rps = float(m.group(1))
    if not r.rps:
        tail = (run.stderr or out).strip().splitlines()[-1:] or [f"exit {run.returncode}"]
        r.failed = f"wrk measured nothing ({tail[0]})"
    if m := re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out):
        r.max = _ms(m.group(1))
    if m := re.search(r"\n\s+50%\s+(\S+)", out):
        r.p50 = _ms(m.group(1))
    if m := re.search(r"\n\s+99%\s+(\S+)", out):
        r.p99 = _ms(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        r.errors += sum(int(x) for x in m.groups())
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        r.errors += int(m.group(1))
    for p, us in re.findall(r"PCT ([\d.]+) (\d+)", out):
        r.percentiles[float(p)] = int(us) / 1000
    return r


CLOCK_TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def cpu_times(pid: int) -> tuple[int, int]:
    """User and system CPU time of process ``pid`` so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


class AcceptQueue(threading.Thread):
    """Samples the accept queue of the socket listening on ``port`` (Linux's
    /proc/net/tcp: a listening socket's rx_queue is its accept queue)."""

    def __init__(self, port: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.key = f":{port:04X} "
        self.every = every
        self.max = 0
        self.until = 0.0
        self._done = threading.Event()

    def length(self) -> int:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                f = line.split()
                if f[3] == "0A" and f[1].endswith(self.key.strip()):  # state LISTEN
                    return int(f[4].split(":")[1], 16)
        return 0

    def run(self) -> None:
        start = time.monotonic()
        while not self._done.wait(self.every):
            n = self.length()
            if n:
                self.max = max(self.max, n)
                self.until = time.monotonic() - start

    def stop(self) -> None:
        self._done.set()
        self.join()


def listen_drops() -> int:
    """The kernel's count of connections dropped because a listen queue was full
    (TcpExtListenDrops, which includes ListenOverflows); 0 where unknown."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            fields = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(fields.get("ListenDrops", 0))
    return 0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory_per_connection(port: int, pid: int, n: int) -> float:
    """KiB of server RSS per idle keep-alive connection (n connections, one request each)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * n + 256)), hard))
    time.sleep(0.3)
    before = rss_kib(pid)
    socks = []
    sel = selectors.DefaultSelector()
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
        pending = set(socks)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock.recv(65536):
                    pending.discard(sock)
                    sel.unregister(sock)
        time.sleep(0.5)
        after = rss_kib(pid)
    finally:
        for s in socks:
            s.close()
        sel.close()
    return (after - before) / n


def plot(latencies: dict[str, dict[float, float]], path: Path, title: str) -> None:
    """Latency by percentile, log-scaled like HdrHistogram plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    for name, pcts in latencies.items():
        if not pcts:
            continue
        ps = sorted(p for p in pcts if p < 100)
        xs = [1 / (1 - p / 100) for p in ps]
        ax.plot(xs, [pcts[p] for p in ps], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [50, 90, 99, 99.9, 99.99, 99.999]
    ax.set_xticks([1 / (1 - t / 100) for t in ticks])
    ax.set_xticklabels([f"{t}%" for t in ticks])
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def main(argv: list[str] | None = None) -> None:
    """Run the suite and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per server (CI)")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each wrk run")
    parser.add_argument("--connections-memory", type=int, default=2000)
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "latency-1000.png")
    parser.add_argument("--latency-only", action="store_true", help="only the 1 000-connection run and its plot")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    seconds = 1.0 if args.smoke else args.seconds
    scenarios = SCENARIOS[:1] + SCENARIOS[-1:] if args.smoke else SCENARIOS
    if args.latency_only:
        scenarios = SCENARIOS[-1:]
    memory_n = 200 if args.smoke else args.connections_memory
    loops = ["asyncio"]
    with contextlib.suppress(ImportError):
        import uvloop  # type: ignore[import-not-found, unused-ignore]  # noqa: F401

        loops.append("uvloop")
    results: dict[tuple[str, str], Result] = {}
    memory: dict[str, float] = {}
    specs = [s for loop in loops for s in servers(loop)]
    failures: dict[str, str] = {}
    for spec in specs:
        print(f"running {spec.name} ...", file=sys.stderr, flush=True)
        try:
            with running(spec) as (port, proc):
                wrk(port, SCENARIOS[0], 1.0)  # warm up
                for sc in scenarios:
                    if sc.needs_echo and not spec.echo:
                        continue
                    results[(spec.name, sc.name)] = wrk(port, sc, seconds, proc.pid)
                if not args.latency_only:
                    memory[spec.name] = memory_per_connection(port, proc.pid, memory_n)
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            failures[spec.name] = f"{type(e).__name__}: {e}"
    print(f"wrk -t1, {seconds:g} s per run; server on CPU 0, wrk on CPU 1; loops: {', '.join(loops)}")
    for loop in loops:
        # One table per loop: both sides of every comparison run on the same event loop.
        print(f"\n## event loop: {loop} (every server pinned to --loop {loop})")
        loop_specs = [spec for spec in specs if spec.name.endswith(f"({loop})")]
        for sc in scenarios:
            print(f"\n### {sc.name}, {loop}\n")
            print(
                "| server | req/s | p50 ms | p99 ms | max ms | errors | listen drops | accept queue max, until s"
                " | CPU us/req user + sys | vs uvicorn+httptools | vs bare |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            ref = results.get((f"uvicorn + httptools ({loop})", sc.name))
            bare = results.get((f"bare asyncio protocol ({loop})", sc.name))
            for spec in loop_specs:
                name = spec.name.rsplit(" (", 1)[0]
                r = results.get((spec.name, sc.name))
                if r is None or r.failed:
                    why = r.failed if r is not None else failures.get(spec.name, "not run (no /echo)" if sc.needs_echo and not spec.echo else "not run")
                    print(f"| {name} | FAILED: {why} | | | | | | | | | |")
                    continue
                vs_ref = f"{r.rps / ref.rps:.2f}x" if ref and not ref.failed else "-"
                vs_bare = f"{r.rps / bare.rps:.2f}x" if bare and not bare.failed else "-"
                lat = f"{r.p50:.2f} | {r.p99:.2f} | {r.max:.1f}" if sc.latency else "n/a | n/a | n/a"
                queue = f"{r.queue_max}, {r.queued_until:.2f}" if r.queue_max else "0"
                cpu = "n/a" if r.cpu_user_us is None else f"{r.cpu_user_us:.1f} + {r.cpu_sys_us:.1f}"
                print(
                    f"| {name} | {r.rps:,.0f} | {lat} | {r.errors} | {r.listen_drops} | {queue} | {cpu}"
                    f" | {vs_ref} | {vs_bare} |"
                )
        if args.latency_only:
            continue  # (memory is not measured in this mode)
        print(f"\n### memory, {loop}: server RSS per idle keep-alive connection ({memory_n} connections)\n")
        print("| server | KiB per connection |")
        print("|---|---:|")
        for spec in loop_specs:
            value = f"{memory[spec.name]:.2f}" if spec.name in memory else f"FAILED: {failures.get(spec.name, 'not measured')}"
            print(f"| {spec.name.rsplit(' (', 1)[0]} | {value} |")
    for name, why in failures.items():
        print(f"\n{name}: failed: {why}")
    latency = {spec.name: results[(spec.name, SCENARIOS[-1].name)].percentiles for spec in specs if (spec.name, SCENARIOS[-1].name) in results}
    if args.plot and not args.smoke:
        plot(latency, args.plot, "latency by percentile, 1 000 keep-alive connections (wrk)")
        print(f"\nplot: {args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot}")


if __name__ == "__main__":
    main()
