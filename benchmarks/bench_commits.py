"""Before and after a change, side by side in one run: the packages at a base commit
against the working tree.

The three packages are pure Python, so the base needs no build: their sources at
``--base`` (``git archive``) are put first on ``PYTHONPATH``, which the suites' server
subprocesses inherit too. The suites, rounds alternating base and working tree, come
from ``bench_compiled.SUITES``; each run prints its own table under a header saying
which sources it loaded, and a run that fails is reported as failed.

    uv run python benchmarks/bench_commits.py --base dbf30c0 --rounds 2 http combinators
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
_compiled = importlib.import_module("bench_compiled")
SUITES: dict[str, list[str]] = _compiled.SUITES
run_suite = _compiled.run_suite

PACKAGES = ("combinators/src", "serializer/src", "http/src")
PROBE = "import wirekit.combinators._machine as m, wirekit.http._server as s; print(m.__file__); print(s.__file__)"


def export(rev: str, into: Path) -> str:
    """The packages' sources at ``rev`` under ``into``; returns the full commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = into / "src.tar"
    subprocess.run(["git", "archive", "-o", str(archive), commit, *PACKAGES], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return commit


def loaded_from(env: dict[str, str]) -> str:
    """Where an interpreter with ``env`` loads the engine and the HTTP core from."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if out.returncode:
        return f"cannot import wirekit: {out.stderr.strip().splitlines()[-1:]}"
    return ", ".join(out.stdout.split())


def main(argv: list[str] | None = None) -> int:
    """Run the suites for both trees, alternately; exit 1 if any run failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", required=True, help="the commit to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=1, help="base/working-tree pairs per suite")
    parser.add_argument("suites", nargs="+", choices=list(SUITES))
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        commit = export(args.base, Path(tmp))
        base_path = os.pathsep.join(str(Path(tmp) / p) for p in PACKAGES)
        inherited = os.environ.get("PYTHONPATH", "")
        trees = {
            f"base {commit[:7]}": dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [base_path, inherited]))),
            "working tree": dict(os.environ),
        }
        for name, env in trees.items():
            print(f"# {name}: {loaded_from(env)}", flush=True)
        for suite in args.suites:
            for round_ in range(1, args.rounds + 1):
                for name, env in trees.items():
                    failed |= not run_suite(sys.executable, suite, f"{suite}, {name}, round {round_}", env=env)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
