"""JSON with wirekit.combinators vs parsy's documented JSON grammar, side by side.

Both parse the same generated document (~130 KB: nested objects and arrays, strings with
escapes, numbers) in the same process; the table shows MB/s, the ratio to parsy, the same
grammar fed through `Buffered` in 4 KiB chunks, and stdlib `json` for reference.
"""

from __future__ import annotations

import importlib.util
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wirekit.combinators import Buffered, Done, Parser, parse


def _load_example_grammar() -> Parser[Any]:
    # examples/json.py is loaded by path: a module named "json" must not shadow the stdlib.
    path = Path(__file__).resolve().parent.parent / "examples" / "json.py"
    spec = importlib.util.spec_from_file_location("wirekit_example_json", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.json_text  # type: ignore[no-any-return]


json_text = _load_example_grammar()

WORDS = ["alpha", "beta", "gamma", "delta", "épsilon", "zeta", "eta", "theta", "iota", "kappa"]


def make_document(target_bytes: int = 130_000, seed: int = 7) -> bytes:
    """A deterministic JSON document of about ``target_bytes``."""
    rng = random.Random(seed)

    def text() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 6))]
        s = " ".join(words)
        if rng.random() < 0.3:
            s += rng.choice(['\n', '\t', '"quoted"', "back\\slash", "\u00e9\u4e2d", "\U0001f600"])
        return s

    def scalar() -> Any:
        r = rng.random()
        if r < 0.35:
            return text()
        if r < 0.55:
            return rng.randint(-(10**9), 10**9)
        if r < 0.75:
            return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
        return rng.choice([True, False, None])

    def node(depth: int) -> Any:
        if depth > 5 or rng.random() < 0.3:
            return scalar()
        if rng.random() < 0.5:
            return [node(depth + 1) for _ in range(rng.randint(0, 8))]
        return {f"{rng.choice(WORDS)}_{i}": node(depth + 1) for i in range(rng.randint(0, 8))}

    items: list[Any] = []
    while len(json.dumps(items, ensure_ascii=False, indent=1).encode()) < target_bytes:
        items.append(node(0))
    return json.dumps(items, ensure_ascii=False, indent=1).encode()


def parsy_json() -> Any:
    """parsy's JSON example grammar (from its documentation), on str input."""
    from parsy import forward_declaration, regex, seq, string

    whitespace = regex(r"\s*")

    def lexeme(p: Any) -> Any:
        return p << whitespace

    lbrace, rbrace = lexeme(string("{")), lexeme(string("}"))
    lbrack, rbrack = lexeme(string("[")), lexeme(string("]"))
    colon, comma = lexeme(string(":")), lexeme(string(","))
    true = lexeme(string("true")).result(True)
    false = lexeme(string("false")).result(False)
    null = lexeme(string("null")).result(None)
    number = lexeme(regex(r"-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?")).map(float)
    string_part = regex(r'[^"\\]+')
    string_esc = string("\\") >> (
        string("\\")
        | string("/")
        | string('"')
        | string("b").result("\b")
        | string("f").result("\f")
        | string("n").result("\n")
        | string("r").result("\r")
        | string("t").result("\t")
        | regex(r"u[0-9a-fA-F]{4}").map(lambda s: chr(int(s[1:], 16)))
    )
    quoted = lexeme(string('"') >> (string_part | string_esc).many().concat() << string('"'))
    value = forward_declaration()
    object_pair = seq(quoted << colon, value).map(tuple)
    json_object = lbrace >> object_pair.sep_by(comma).map(dict) << rbrace
    array = lbrack >> value.sep_by(comma) << rbrack
    value.become(quoted | number | json_object | array | true | false | null)
    return whitespace >> value


def best_of(fn: Callable[[], Any], repeat: int, min_time: float = 0.2) -> float:
    """Best wall time of ``fn`` over ``repeat`` rounds (each at least ``min_time``)."""
    best = float("inf")
    for _ in range(repeat):
        n = 0
        t0 = time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time:
                break
        best = min(best, elapsed / n)
    return best


def buffered_parse(data: bytes, chunk: int = 4096) -> Any:
    """Feed ``data`` to `Buffered` in ``chunk``-byte pieces."""
    state = Buffered.parse(json_text)
    for i in range(0, len(data), chunk):
        state = state.feed(data[i : i + chunk])
    state = state.feed_eof()
    assert isinstance(state, Done), state
    return state.value


STREAM_CHILD = r"""
import resource, sys, time
from wirekit.combinators import char, parse_many, take_while1
record = take_while1(b"abcdefghijklmnopqrstuvwxyz0123456789 ") << char(b"\n")
line = b"record 0123456789 with a payload of letters and digits abcdefghijklmnopqrstuvwxyz\n"
block = line * 800  # ~70 KB per chunk, generated on the fly
total = int(sys.argv[1])
def chunks():
    sent = 0
    while sent < total:
        yield block
        sent += len(block)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
count = sum(1 for _ in parse_many(record, chunks()))
elapsed = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, elapsed, (after - before) / 1024, after / 1024)
"""


def stream_memory(total: int = 200_000_000) -> tuple[int, float, float, float]:
    """parse_many over ``total`` bytes of small records, in a fresh process:
    (records, seconds, peak RSS growth in MiB, peak RSS in MiB)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", STREAM_CHILD, str(total)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), float(out[3])


def main(repeat: int = 5) -> None:
    """Run the comparison and print the table."""
    doc = make_document()
    text = doc.decode()
    expected = json.loads(doc)
    parsy_doc = parsy_json()
    assert parse(json_text, doc) == expected
    assert buffered_parse(doc) == expected
    parsy_doc.parse(text)  # warm up, and check it parses
    size_mb = len(doc) / 1e6
    rows = [
        ("wirekit (one shot)", best_of(lambda: parse(json_text, doc), repeat)),
        ("wirekit Buffered, 4 KiB chunks", best_of(lambda: buffered_parse(doc), repeat)),
        ("parsy 2 (documented JSON grammar)", best_of(lambda: parsy_doc.parse(text), max(2, repeat // 2))),
        ("stdlib json (C, reference)", best_of(lambda: json.loads(doc), repeat)),
    ]
    wk, parsy_t = rows[0][1], rows[2][1]
    print(f"JSON document: {len(doc):,} bytes")
    print(f"{'parser':<36} {'MB/s':>8} {'ms':>9} {'vs parsy':>9} {'vs one-shot':>11}")
    for name, t in rows:
        print(f"{name:<36} {size_mb / t:8.2f} {t * 1e3:9.2f} {parsy_t / t:8.1f}x {wk / t:10.2f}x")
    records, seconds, growth, peak = stream_memory()
    print(
        f"parse_many over a 200 MB stream: {records:,} records in {seconds:.1f} s "
        f"({200 / seconds:.0f} MB/s); peak RSS {peak:.1f} MiB, growth while streaming "
        f"{growth:.1f} MiB (goal: under 20 MiB)"
    )


if __name__ == "__main__":
    main()
