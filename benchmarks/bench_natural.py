"""Grammars written the natural way (lengths from the wire, ``bind``, ``@generate``) vs parsy.

Everything runs side by side in one process on the same input, timed in CPU time
(`time.process_time`, best of several rounds):

1. PostgreSQL backend messages: ``examples/pgwire.py`` (``@generate``, ``isolate``,
   ``take(n)`` and ``count(n, p)`` built from lengths read off the wire, ``commit`` per
   message) against the same messages in parsy, written as a parsy user would (a small
   ``take(n)`` parser function, ``@parsy.generate``, each body parsed from its slice).
   Also the example's streaming reader (``parse_many``) fed 4 KiB chunks.
2. JSON written naturally (``benchmarks/natural_json.py``: strings and members as
   ``@generate``, escapes through ``bind``) against parsy's documented JSON grammar; also
   the same grammar with its parsers written inside the generators that use them.
3. The tuned ``examples/json.py`` against the same parsy grammar.
4. What building a parser inside ``bind`` costs: ``take(n)``, ``count(n, p)``, ``pure(x)``,
   ``fail(msg)``, ``string(s)``, ``satisfy(...)`` built fresh for every use vs the same
   parser built once, in microseconds per use.

Every result is checked (against the messages written, or `json.loads`) before it is
timed; a grammar that fails is reported as FAILED, and `main` returns the number of
failures. ``--quick`` runs everything on small inputs once (the smoke test uses it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import wirekit.combinators as wc
from wirekit.combinators import (
    Parser,
    any_uint8,
    count,
    fail,
    many,
    parse,
    pure,
    satisfy,
    string,
    take,
    take_while,
)

HERE = Path(__file__).resolve().parent


def load(path: Path, name: str) -> ModuleType:
    """Load a module by path (examples/json.py must not be imported as ``json``)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def cpu_best_of(fn: Callable[[], Any], repeat: int, min_time: float) -> float:
    """Best CPU time per call of ``fn`` over ``repeat`` rounds of at least ``min_time`` each."""
    best = float("inf")
    for _ in range(repeat):
        n = 0
        t0 = time.process_time()
        while True:
            fn()
            n += 1
            elapsed = time.process_time() - t0
            if elapsed >= min_time:
                break
        best = min(best, elapsed / n)
    return best


@dataclass
class Timing:
    """One side of a comparison: seconds per run, or why it failed."""

    seconds: float | None = None
    error: str | None = None


def timed(
    fn: Callable[[], Any], check: Callable[[Any], bool], repeat: int, min_time: float
) -> Timing:
    """Check ``fn``'s result, then time it; any exception or a wrong result is a failure."""
    try:
        if not check(fn()):
            return Timing(error="wrong result")
        return Timing(cpu_best_of(fn, repeat, min_time))
    except Exception as e:
        return Timing(error=f"{type(e).__name__}: {e}"[:120])


# --------------------------------------------------------------------------------
# PostgreSQL backend messages
# --------------------------------------------------------------------------------
WORDS = ["alpha", "beta", "gamma", "delta", "épsilon", "zeta", "eta", "theta", "Zoë", "kappa"]


def make_pg_messages(pg: ModuleType, target_bytes: int, seed: int = 11) -> list[Any]:
    """A deterministic conversation of about ``target_bytes``: query results (a row
    description, rows with text, numbers and NULLs, a command tag, ready-for-query) with
    parameter statuses, notices and errors in between."""
    rng = random.Random(seed)
    msgs: list[Any] = [pg.Authentication(0), pg.BackendKeyData(rng.randint(1, 99999), rng.randint(-(2**31), 2**31 - 1))]
    size = 0
    while size < target_bytes:
        before = len(msgs)
        r = rng.random()
        if r < 0.1:
            msgs.append(pg.ParameterStatus(rng.choice(WORDS), " ".join(rng.sample(WORDS, 3))))
        elif r < 0.15:
            fields = {"S": "NOTICE", "C": "00000", "M": " ".join(rng.sample(WORDS, 5))}
            msgs.append(pg.NoticeResponse(fields))
        elif r < 0.2:
            fields = {"S": "ERROR", "C": "42P01", "M": "relation does not exist", "P": "15"}
            msgs += [pg.ErrorResponse(fields), pg.ReadyForQuery("E")]
        else:
            columns = rng.randint(2, 6)
            msgs.append(
                pg.RowDescription(
                    [pg.FieldDescription(f"{rng.choice(WORDS)}_{i}", 16384, i + 1, 25, -1, -1, 0) for i in range(columns)]
                )
            )
            rows = rng.randint(1, 30)
            for _ in range(rows):
                values: list[bytes | None] = []
                for _ in range(columns):
                    c = rng.random()
                    if c < 0.1:
                        values.append(None)
                    elif c < 0.5:
                        values.append(str(rng.randint(-(10**9), 10**9)).encode())
                    else:
                        values.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).encode())
                msgs.append(pg.DataRow(values))
            msgs += [pg.CommandComplete(f"SELECT {rows}"), pg.ReadyForQuery("I")]
        size += len(pg.encode(msgs[before:]))
    return msgs


def parsy_pg(pg: ModuleType) -> Any:
    """The same messages in parsy, as a parsy user writes them: parsy has no ``take(n)``,
    so it is a small parser function (parsy's documented way to add a primitive); each
    body is parsed from its slice with the body's parser."""
    import parsy

    def take_n(n: int) -> Any:
        def take_parser(stream: bytes, index: int) -> Any:
            end = index + n
            if n >= 0 and end <= len(stream):
                return parsy.Result.success(end, stream[index:end])
            return parsy.Result.failure(index, f"{n} bytes")

        return parsy.Parser(take_parser)

    def signed(b: bytes) -> int:
        return int.from_bytes(b, "big", signed=True)

    int16, int32 = take_n(2).map(signed), take_n(4).map(signed)
    cstring = parsy.regex(rb"[^\x00]*").map(bytes.decode) << parsy.string(b"\x00")
    rest = parsy.regex(rb".*", re.S)

    authentication = parsy.seq(int32, rest).combine(pg.Authentication)
    parameter_status = parsy.seq(cstring, cstring).combine(pg.ParameterStatus)
    backend_key_data = parsy.seq(int32, int32).combine(pg.BackendKeyData)
    ready_for_query = parsy.regex(rb"[ITE]").map(bytes.decode).map(pg.ReadyForQuery)
    field = parsy.seq(cstring, int32, int16, int32, int16, int32, int16).combine(pg.FieldDescription)
    row_description = int16.bind(lambda n: field.times(n)).map(pg.RowDescription)
    value = int32.bind(lambda n: parsy.success(None) if n == -1 else take_n(n))
    data_row = int16.bind(lambda n: value.times(n)).map(pg.DataRow)
    command_complete = cstring.map(pg.CommandComplete)
    empty = parsy.success(pg.EmptyQueryResponse())
    notice_field = parsy.seq(parsy.regex(rb"[^\x00]").map(bytes.decode), cstring)
    notice_fields = (notice_field.many() << parsy.string(b"\x00")).map(dict)
    bodies = {
        b"R": authentication,
        b"S": parameter_status,
        b"K": backend_key_data,
        b"Z": ready_for_query,
        b"T": row_description,
        b"D": data_row,
        b"C": command_complete,
        b"I": empty,
        b"E": notice_fields.map(pg.ErrorResponse),
        b"N": notice_fields.map(pg.NoticeResponse),
    }

    def message() -> Any:
        kind = yield parsy.regex(rb"[RSKZTDCIEN]")
        length = yield int32
        body = yield take_n(length - 4)
        return bodies[kind].parse(body)

    return parsy.generate(message).many()


def read_in_chunks(pg: ModuleType, data: bytes, chunk: int = 4096) -> list[Any]:
    """The example's streaming reader fed ``chunk``-byte pieces."""
    return list(pg.read_messages(data[i : i + chunk] for i in range(0, len(data), chunk)))


# --------------------------------------------------------------------------------
# Construction costs
# --------------------------------------------------------------------------------
ANY = bytes(range(256))


def construction_cases() -> list[tuple[str, bytes, Parser[Any], Parser[Any]]]:
    """(name, one item's bytes, item built fresh in bind, item with a prebuilt parser).

    Each item is a length byte (5) and what the parser built from it reads."""
    take5, count5, pure5 = take(5), count(5, any_uint8), pure(5)
    fail5, string5, satisfy5 = fail("an odd number"), string(b"abcde"), satisfy(b"abc")
    cases: list[tuple[str, bytes, Parser[Any], Parser[Any]]] = [
        ("take(n)", b"\x05abcde", any_uint8.bind(lambda n: take(n)), any_uint8.bind(lambda n: take5)),
        (
            "count(n, any_uint8)",
            b"\x05abcde",
            any_uint8.bind(lambda n: count(n, any_uint8)),
            any_uint8.bind(lambda n: count5),
        ),
        ("pure(n)", b"\x05", any_uint8.bind(lambda n: pure(n)), any_uint8.bind(lambda n: pure5)),
        (
            "fail(msg) | any_uint8",
            b"\x05",
            any_uint8.bind(lambda n: fail("an odd number")) | any_uint8,
            any_uint8.bind(lambda n: fail5) | any_uint8,
        ),
        (
            'string(b"abcde")',
            b"\x05abcde",
            any_uint8.bind(lambda n: string(b"abcde")),
            any_uint8.bind(lambda n: string5),
        ),
        (
            'satisfy(b"abc")',
            b"\x05a",
            any_uint8.bind(lambda n: satisfy(b"abc")),
            any_uint8.bind(lambda n: satisfy5),
        ),
    ]
    isolate = getattr(wc, "isolate", None)
    if isolate is not None:
        inner = take_while(ANY)
        isolated = isolate(5, inner)
        cases.append(
            (
                "isolate(n, body)",  # the body built once, as in examples/pgwire.py
                b"\x05abcde",
                any_uint8.bind(lambda n: isolate(n, inner)),
                any_uint8.bind(lambda n: isolated),
            )
        )
    return cases


def time_many(p: Parser[Any], reference: Parser[Any], data: bytes, repeat: int, min_time: float) -> Timing:
    """Time ``many(p)`` over ``data``, checked against ``many(reference)``."""
    whole = many(p)
    try:
        expected = parse(many(reference), data)
    except Exception as e:
        return Timing(error=f"the reference failed: {type(e).__name__}: {e}"[:120])
    return timed(lambda: parse(whole, data), lambda v: bool(v == expected), repeat, min_time)


# --------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------
def _ratio(wk: Timing, other: Timing) -> str:
    if wk.seconds is None or other.seconds is None:
        return "-"
    return f"{other.seconds / wk.seconds:.1f}x"


def _rate(t: Timing, amount: float, fmt: str) -> str:
    return "FAILED" if t.seconds is None else format(amount / t.seconds, fmt)


def main(argv: list[str] | None = None) -> int:
    """Run every comparison, print the tables; returns the number of failed runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small inputs, one round (smoke test)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per measurement (best counts)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    repeat = 1 if args.quick else args.repeat
    min_time = 0.0 if args.quick else 0.2
    pg_bytes, json_bytes, items = (3_000, 3_000, 20) if args.quick else (150_000, 130_000, 2_000)

    pg = load(HERE.parent / "examples" / "pgwire.py", "wirekit_example_pgwire")
    combinators = load(HERE / "bench_combinators.py", "wirekit_bench_combinators")
    natural = load(HERE / "natural_json.py", "wirekit_bench_natural_json")

    messages = make_pg_messages(pg, pg_bytes)
    wire = pg.encode(messages)
    parsy_stream = parsy_pg(pg)
    doc = combinators.make_document(json_bytes)
    text = doc.decode()
    expected_doc = json.loads(doc)
    parsy_doc = combinators.parsy_json()

    def same_messages(v: Any) -> bool:
        return bool(v == messages)

    def same_doc(v: Any) -> bool:
        return bool(v == expected_doc)

    # parsy gets as many rounds as wirekit: the best of fewer rounds would be slower on
    # average, and the ratio would favour wirekit.
    rows: list[tuple[str, int, int, Timing, Timing, str]] = []
    pg_parsy = timed(lambda: parsy_stream.parse(wire), same_messages, repeat, min_time)
    rows.append(
        (
            "PostgreSQL messages (examples/pgwire.py)",
            len(wire),
            len(messages),
            timed(lambda: parse(pg.stream, wire), same_messages, repeat, min_time),
            pg_parsy,
            ">= 3x, goal 5x",
        )
    )
    rows.append(
        (
            "  same, read_messages, 4 KiB chunks",
            len(wire),
            len(messages),
            timed(lambda: read_in_chunks(pg, wire), same_messages, repeat, min_time),
            pg_parsy,
            ">= 3x, goal 5x",
        )
    )
    json_parsy = timed(lambda: parsy_doc.parse(text), same_doc, repeat, min_time)
    rows.append(
        (
            "JSON natural (benchmarks/natural_json.py)",
            len(doc),
            0,
            timed(lambda: parse(natural.json_text, doc), same_doc, repeat, min_time),
            json_parsy,
            ">= 10x, goal 20x",
        )
    )
    rows.append(
        (
            "  same, parsers built inside generators",
            len(doc),
            0,
            timed(lambda: parse(natural.json_text_inline, doc), same_doc, repeat, min_time),
            json_parsy,
            "(no target)",
        )
    )
    rows.append(
        (
            "JSON tuned (examples/json.py)",
            len(doc),
            0,
            timed(lambda: parse(combinators.json_text, doc), same_doc, repeat, min_time),
            json_parsy,
            ">= 20x",
        )
    )

    failures = 0
    print("Natural grammars vs parsy: same input, same process, CPU time, best of rounds")
    print(
        f"{'grammar':<42} {'bytes':>8} {'wirekit MB/s':>13} {'parsy MB/s':>11} "
        f"{'wirekit msg/s':>14} {'parsy msg/s':>12} {'vs parsy':>9}  target"
    )
    for name, size, n_items, wk, ps, target in rows:
        mb = size / 1e6
        wk_items = _rate(wk, n_items, ",.0f") if n_items else "-"
        ps_items = _rate(ps, n_items, ",.0f") if n_items else "-"
        print(
            f"{name:<42} {size:>8,} {_rate(wk, mb, '.2f'):>13} {_rate(ps, mb, '.2f'):>11} "
            f"{wk_items:>14} {ps_items:>12} {_ratio(wk, ps):>9}  {target}"
        )
    for name, _, _, wk, ps, _ in rows:
        for who, t in (("wirekit", wk), ("parsy", ps)):
            if t.error is not None:
                failures += 1
                print(f"FAILED: {name.strip()} ({who}): {t.error}")

    print(f"\nBuilding a parser inside bind vs using one built once ({items:,} uses per run)")
    print(f"{'parser built in bind':<26} {'fresh us/use':>13} {'prebuilt us/use':>16} {'cost of building':>17}")
    for name, item, fresh, prebuilt in construction_cases():
        data = item * items
        results = [time_many(p, prebuilt, data, repeat, min_time) for p in (fresh, prebuilt)]
        us = [None if t.seconds is None else t.seconds / items * 1e6 for t in results]
        cells = ["FAILED" if u is None else f"{u:.2f}" for u in us]
        extra = "-" if us[0] is None or us[1] is None else f"{us[0] - us[1]:+.2f}"
        print(f"{name:<26} {cells[0]:>13} {cells[1]:>16} {extra:>17}")
        for who, t in zip(("fresh", "prebuilt"), results, strict=True):
            if t.error is not None:
                failures += 1
                print(f"FAILED: {name} ({who}): {t.error}")
    if getattr(wc, "isolate", None) is None:
        print("(isolate is not available in this wirekit: no isolate row)")
    return failures


if __name__ == "__main__":
    sys.exit(1 if main() else 0)

