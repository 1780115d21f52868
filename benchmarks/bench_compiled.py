"""Pure Python vs the compiled build (mypyc), side by side in one run.

Runs benchmark suites twice, alternately, in two interpreters: this one (the source tree,
pure Python) and ``--compiled PYTHON``, a virtual environment where the compiled wheels
are installed (``bash .ci/compiled venv DIR`` makes one). Each run prints its own table,
under a header saying which build it measured and whether the compiled modules were
really loaded; a run that fails is reported as failed, with its exit status.

    uv run python benchmarks/bench_compiled.py --compiled /tmp/wk-compiled/bin/python http natural
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SUITES = {
    "http": [str(HERE / "run.py"), "http"],
    "natural": [str(HERE / "run.py"), "natural"],
    "combinators": [str(HERE / "run.py"), "combinators"],
    "serializer": [str(HERE / "run.py"), "serializer"],
    # The servers, both loops pinned (wrk; about four minutes per build).
    "server": [str(HERE / "bench_server.py"), "--plot", str(Path(tempfile.gettempdir()) / "latency-1000.png")],
    "server-smoke": [str(HERE / "bench_server.py"), "--smoke"],
}
PROBE = "import wirekit.combinators._machine as m, wirekit.http._server as s; print(m.__file__, s.__file__)"


def which_build(python: str) -> str:
    """Where this interpreter loads the engine and the HTTP core from."""
    out = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode:
        return f"cannot import wirekit: {out.stderr.strip().splitlines()[-1:]}"
    files = out.stdout.split()
    kind = "compiled" if all(f.endswith(".so") for f in files) else "pure" if all(f.endswith(".py") for f in files) else "mixed"
    return f"{kind} ({', '.join(Path(f).name for f in files)})"


def run_suite(python: str, suite: str, label: str, detail: str = "", env: dict[str, str] | None = None) -> bool:
    """Run one suite in ``python`` under a ``## label`` header; print and return whether it
    succeeded (a failed run is reported with its exit status)."""
    print(f"\n## {label}{detail}\n", flush=True)
    start = time.monotonic()
    rc = subprocess.run([python, *SUITES[suite]], cwd=ROOT, env=env, check=False).returncode
    status = "ok" if rc == 0 else f"FAILED (exit status {rc})"
    print(f"\n({label}: {status}, {time.monotonic() - start:.0f} s)", flush=True)
    return rc == 0


def main(argv: list[str] | None = None) -> int:
    """Run the suites for both builds; exit 1 if any run failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--compiled", required=True, help="the python of a venv with the compiled wheels")
    parser.add_argument("suites", nargs="+", choices=list(SUITES))
    args = parser.parse_args(argv)
    builds = {"pure": sys.executable, "compiled": args.compiled}
    failed = False
    for suite in args.suites:
        for name, python in builds.items():
            failed |= not run_suite(python, suite, f"{suite}, {name} build", f": {which_build(python)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
