"""Run one fuzz target under atheris (libFuzzer, coverage-guided).

    uv run python -m tests.fuzz.run TARGET [CORPUS_DIR ...] [-runs=N] [-max_total_time=S] ...

TARGET is one of `tests.fuzz.targets.TARGETS`; the other arguments are libFuzzer's. The
wirekit packages are instrumented for coverage (imported inside
``atheris.instrument_imports``). The corpus starts from `SEEDS` (valid messages) when no
corpus directory is given. A crash (any exception the target does not allow) stops the
run with exit status 1 and writes the input to ``crash-<sha1>`` in the current directory
(``-artifact_prefix=DIR/`` to put it elsewhere); add it to ``tests/fuzz/crashes/`` as a
regression test.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
from atheris.import_hook import instrument_imports

# Imported here first, so that their code is instrumented for coverage.
with instrument_imports(include=["wirekit"]):
    import wirekit.combinators
    import wirekit.http  # noqa: F401

from tests.fuzz.targets import TARGETS

__all__ = ["SEEDS", "main"]

_REQUEST = b"POST /a?b=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n"
SEEDS: dict[str, list[bytes]] = {
    "server_connection": [
        b"\x00" + b"\x00" * 17 + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\x03" + b"\x02\x00\x10\x00\x20" + b"\x00" * 12 + _REQUEST + b"GET / HTTP/1.0\r\n\r\n",
        b"\x02" + b"\x00" * 17 + b"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
        b"\x01" + b"\x00" * 17 + b"GET http://h/p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    ],
    "chunked_decoder": [
        b"\x00" + b"\x00" * 6 + b"3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
        b"\x61\x03\x05\x01" + b"\x02\x00\x05\x00\x09\x00" + b"a\r\n0123456789\r\n1\r\nz\r\n0\r\n\r\n",
    ],
    "response_validation": [
        b"\x00\xc8\x01\x02OK\x02\x0ccontent-type\x0atext/plain" + b"\x04\x04dateabcd" + b"body",
        b"\x01\x94\x00\x01\x0econtent-length\x011" + b"x",
    ],
}


def main(argv: list[str] | None = None) -> None:
    """``TARGET`` then libFuzzer's arguments (see the module docstring)."""
    args = list(sys.argv if argv is None else argv)
    if len(args) < 2 or args[1] not in TARGETS:
        raise SystemExit(f"usage: python -m tests.fuzz.run {{{','.join(TARGETS)}}} [libFuzzer args]")
    name = args.pop(1)
    if not any(not a.startswith("-") for a in args[1:]):
        corpus = Path(tempfile.mkdtemp(prefix=f"wirekit-fuzz-{name}-"))
        for i, seed in enumerate(SEEDS[name]):
            (corpus / f"seed-{i}").write_bytes(seed)
        args.append(str(corpus))
    atheris.Setup(args, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
