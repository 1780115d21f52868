"""The fuzz targets (`tests.fuzz.targets`) in CI: a short coverage-guided run of each under
atheris (a subprocess: libFuzzer exits the process when done; about 40 s in all), and
the seeds through each target directly.

A long run is documented in docs/http/guide.md ("Fuzzing"). An input that crashes a
target becomes a test here (its bytes, through `TARGETS[name]`) once fixed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.run import SEEDS
from tests.fuzz.targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 12  # per target: about 40 s in all
RUNS = 200_000  # an upper bound (a fast machine stops here)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_bounded_fuzzing_run_finds_nothing(target: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(SEEDS[target]):
        (corpus / f"seed-{i}").write_bytes(seed)
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run", target, str(corpus), f"-runs={RUNS}",
         f"-max_total_time={SECONDS}", f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 60, stdin=subprocess.DEVNULL,
    )
    crashes = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert result.returncode == 0 and not crashes, f"{crashes}\n{result.stderr[-4000:]}"
    runs = [line for line in result.stderr.splitlines() if line.startswith("stat::number_of_executed_units:")]
    assert runs and int(runs[0].split(":")[-1]) > 1000, result.stderr[-2000:]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_seeds_pass(target: str) -> None:
    for seed in SEEDS[target]:
        TARGETS[target](seed)
