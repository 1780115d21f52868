"""RESP: the example client (examples/resp) vs redis-py, pipelined, against a real redis-server.

One run starts its own ``redis-server`` on a free port and, round after round, times the
same workloads with each client in turn:

* ``examples/resp``'s `RespClient` (asyncio; grammar on wirekit.combinators, commands
  on wirekit.serializer);
* redis-py's synchronous client, ``redis.Redis(...).pipeline(transaction=False)``;
* redis-py's asyncio client, the same pipeline on ``redis.asyncio.Redis``.

All speak RESP2. redis-py uses its pure-Python parser unless hiredis is installed (the
script says which). The figure is the best of the rounds, in commands per second; the
ratios are wirekit over redis-py. Run it: ``uv run python benchmarks/bench_resp.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio
import redis.utils

ROOT = Path(__file__).resolve().parent.parent


def _load_resp() -> ModuleType:
    # examples/ is not an installed package: load examples/resp by path (as the tests do).
    name = "wirekit_example_resp"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "examples" / "resp"
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py", submodule_search_locations=[str(path)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import examples.resp as resp
else:
    resp = _load_resp()

Command = tuple[Any, ...]
TIMEOUT = 120.0  # seconds for one client to finish one workload


@dataclass(frozen=True)
class Workload:
    name: str
    count: int
    size: int
    batch: int

    def keys(self) -> list[bytes]:
        return [b"bench:%d:%d" % (self.size, i) for i in range(self.count)]

    def value(self, i: int) -> bytes:
        # Distinct values (so a mix-up shows), all of the same size.
        head = b"%d:" % i
        return head + b"v" * (self.size - len(head))


WORKLOADS = [
    Workload("small", 100_000, 32, 10_000),
    Workload("large", 1_000, 100 * 1024, 100),
]


def batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --------------------------------------------------------------------------------
# The clients, each timing a SET phase and a GET phase of one workload
# --------------------------------------------------------------------------------
async def run_wirekit(port: int, w: Workload) -> tuple[float, float, list[Any]]:
    keys = w.keys()
    sets = [("SET", k, w.value(i)) for i, k in enumerate(keys)]
    gets = [("GET", k) for k in keys]
    async with resp.RespClient("127.0.0.1", port) as r:
        await r.execute("FLUSHALL")
        t0 = time.perf_counter()
        for batch in batches(sets, w.batch):
            await r.pipeline(batch)
        t1 = time.perf_counter()
        got: list[Any] = []
        for batch in batches(gets, w.batch):
            got += await r.pipeline(batch)
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, got


def run_redis_py(port: int, w: Workload) -> tuple[float, float, list[Any]]:
    keys = w.keys()
    values = [w.value(i) for i in range(w.count)]
    r = redis.Redis(host="127.0.0.1", port=port, protocol=2)
    try:
        r.flushall()
        t0 = time.perf_counter()
        for ks, vs in zip(batches(keys, w.batch), batches(values, w.batch), strict=True):
            pipe = r.pipeline(transaction=False)
            for k, v in zip(ks, vs, strict=True):
                pipe.set(k, v)
            pipe.execute()
        t1 = time.perf_counter()
        got: list[Any] = []
        for ks in batches(keys, w.batch):
            pipe = r.pipeline(transaction=False)
            for k in ks:
                pipe.get(k)
            got += pipe.execute()
        t2 = time.perf_counter()
    finally:
        r.close()
    return t1 - t0, t2 - t1, got


async def run_redis_py_async(port: int, w: Workload) -> tuple[float, float, list[Any]]:
    keys = w.keys()
    values = [w.value(i) for i in range(w.count)]
    r = redis.asyncio.Redis(host="127.0.0.1", port=port, protocol=2)
    try:
        await r.flushall()
        t0 = time.perf_counter()
        for ks, vs in zip(batches(keys, w.batch), batches(values, w.batch), strict=True):
            async with r.pipeline(transaction=False) as pipe:
                for k, v in zip(ks, vs, strict=True):
                    pipe.set(k, v)
                await pipe.execute()
        t1 = time.perf_counter()
        got: list[Any] = []
        for ks in batches(keys, w.batch):
            async with r.pipeline(transaction=False) as pipe:
                for k in ks:
                    pipe.get(k)
                got += await pipe.execute()
        t2 = time.perf_counter()
    finally:
        await r.aclose()
    return t1 - t0, t2 - t1, got


def _in_loop(
    f: Callable[[int, Workload], Awaitable[tuple[float, float, list[Any]]]],
) -> Callable[[int, Workload], tuple[float, float, list[Any]]]:
    def run(port: int, w: Workload) -> tuple[float, float, list[Any]]:
        async def bounded() -> tuple[float, float, list[Any]]:
            return await asyncio.wait_for(f(port, w), TIMEOUT)

        return asyncio.run(bounded())

    return run


CLIENTS: dict[str, Callable[[int, Workload], tuple[float, float, list[Any]]]] = {
    "wirekit": _in_loop(run_wirekit),
    "redis-py": run_redis_py,
    "redis-py asyncio": _in_loop(run_redis_py_async),
}


# --------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------
def parser_in_use(port: int) -> str:
    """The class name of the parser redis-py's connections use."""
    r = redis.Redis(host="127.0.0.1", port=port, protocol=2)
    try:
        conn = r.connection_pool.get_connection()
        name = type(conn._parser).__name__
        r.connection_pool.release(conn)
        return name
    finally:
        r.close()


def server_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split()[2].removeprefix("v=") if out.stdout else "?"


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f}"


def main(argv: list[str] | None = None) -> None:
    """Run the workloads (``--rounds`` times each, interleaving the clients) and print
    commands per second for each client and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per workload (best is kept)")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the command counts")
    args = parser.parse_args([] if argv is None else argv)

    workloads = [
        Workload(w.name, max(1, int(w.count * args.scale)), w.size, max(1, int(w.batch * args.scale)))
        for w in WORKLOADS
    ]
    with resp.redis_server() as port:
        parser_name = parser_in_use(port)
        hiredis = redis.utils.HIREDIS_AVAILABLE
        kind = "hiredis (C)" if hiredis else "pure Python"
        print(f"redis-server {server_version()} on 127.0.0.1, RESP2, Python {sys.version.split()[0]}")
        print(
            f"redis-py {redis.__version__}: parser {parser_name} ({kind}); "
            f"redis.utils.HIREDIS_AVAILABLE = {hiredis}"
        )
        print(f"best of {args.rounds} rounds, in commands per second (higher is better)\n")
        names = list(CLIENTS)
        header = f"{'workload':<42}" + "".join(f"{n:>18}" for n in names)
        header += "".join(f"{'wirekit ÷ ' + n:>27}" for n in names[1:])
        print(header)
        print("-" * len(header))
        for w in workloads:
            best: dict[str, list[float]] = {n: [float("inf"), float("inf")] for n in names}
            expected = [w.value(i) for i in range(w.count)]
            for _ in range(args.rounds):
                for n in names:
                    t_set, t_get, got = CLIENTS[n](port, w)
                    if got != expected:
                        raise AssertionError(f"{n}: GET returned wrong values")
                    best[n][0] = min(best[n][0], t_set)
                    best[n][1] = min(best[n][1], t_get)
            size = f"{w.size} B" if w.size < 1024 else f"{w.size // 1024} KiB"
            for phase, label in enumerate(("SET", "GET")):
                name = f"{label} {w.count:,} x {size} (batches of {w.batch:,})"
                row = f"{name:<42}" + "".join(f"{_rate(w.count, best[n][phase]):>18}" for n in names)
                ours = best["wirekit"][phase]
                row += "".join(f"{best[n][phase] / ours:>26.2f}x" for n in names[1:])
                print(row)


if __name__ == "__main__":
    main(sys.argv[1:])
