"""Smoke test of the ``natural`` benchmark suite (``benchmarks/bench_natural.py``).

Nothing here is timed: the suite runs once on small inputs (``--quick``), and the grammars
it races are checked for what they parse, so a benchmark never times a wrong parser.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from wirekit.combinators import ParseError, parse

from tests.combinators.helpers import check

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    module_name = f"wirekit_bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("bench_natural")
natural = _load("natural_json")


def test_the_suite_runs_quickly_without_failures(capsys: pytest.CaptureFixture[str]) -> None:
    failures = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert failures == 0, out
    assert "FAILED" not in out
    for row in ("PostgreSQL messages", "read_messages", "JSON natural", "JSON tuned", "take(n)", "pure(n)"):
        assert row in out


def test_run_py_knows_the_suite() -> None:
    run = _load("run")
    assert run.SUITES["natural"] == "bench_natural"


def test_the_suite_reports_a_failing_grammar(capsys: pytest.CaptureFixture[str]) -> None:
    timing = bench.timed(lambda: parse(natural.json_text, b"[1,"), lambda v: True, 1, 0.0)
    assert timing.seconds is None and timing.error is not None and "ParseError" in timing.error
    wrong = bench.timed(lambda: 1, lambda v: v == 2, 1, 0.0)
    assert wrong.seconds is None and wrong.error == "wrong result"


@pytest.mark.parametrize("grammar", ["json_text", "json_text_inline"])
def test_natural_json_grammars(grammar: str) -> None:
    p = getattr(natural, grammar)
    doc = '{"a": [1, -2.5e3, "x\\n\\u00e9\\ud83d\\ude00"], "b": {"c": null, "d": [true, false]}, "e": []}'
    check(p, doc.encode(), json.loads(doc), exhaustive=False)
    check(p, b' ["\\"", {}] ', ['"', {}])
    with pytest.raises(ParseError):
        parse(p, b'["\\x"]')
    with pytest.raises(ParseError):
        parse(p, b'"\\ud83d\\u0041"')  # a high surrogate without its low half


def test_natural_json_on_the_benchmark_document() -> None:
    combinators = _load("bench_combinators")
    doc = combinators.make_document(20_000)
    assert parse(natural.json_text, doc) == json.loads(doc)


def test_the_parsy_postgres_grammar_reads_what_the_example_writes() -> None:
    pg = bench.load(BENCHMARKS.parent / "examples" / "pgwire.py", "wirekit_example_pgwire")
    messages = bench.make_pg_messages(pg, 5_000)
    wire = pg.encode(messages)
    assert bench.parsy_pg(pg).parse(wire) == messages
    assert parse(pg.stream, wire) == messages
