"""The soak benchmark's smoke run: a few thousand requests through `wirekit serve` on
loopback, bounded to a few seconds. It checks the script runs and reports; the memory
goal is the full run's (docs/benchmarks.md), not this one's."""

from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
_SPEC = importlib.util.spec_from_file_location("wirekit_bench_soak", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
soak = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = soak  # dataclasses look their module up there
_SPEC.loader.exec_module(soak)


def test_soak_smoke_run_reports_requests_errors_and_rss() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        soak.main(["--requests", "2000", "--round", "1", "--warmup", "1", "--connections", "8"])
    text = out.getvalue()
    assert "errors: 0" in text, text
    assert "RSS: baseline" in text and "growth" in text, text
    requests = int(text.split("requests: ")[1].split(" in ")[0].replace(",", ""))
    assert requests >= 2000
