"""Rebuilding a fused tree's value from its match (see `_compile`).

An extractor is built as the source of one Python expression of the match ``r`` and
compiled into a single function per fused node, so a value costs one Python call however
many sequences, maps and choices it is made of (closures would cost one call per node).
Only names are ever put in the source; the values behind them (user functions,
constants, compiled item patterns) live in the function's namespace, never in its text.
"""

from __future__ import annotations

import itertools
import linecache
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._limits import INF

__all__ = ["Code", "Extract", "Fn", "Gen"]

Fn = Callable[[re.Match[bytes]], Any]

# Deeper expressions are moved into a function of their own: the Python compiler limits
# nesting (parentheses, recursion), and grammars may nest arbitrarily.
MAX_DEPTH = 24
# Choices with more alternatives than this test them in a loop: a chain of conditional
# expressions nests one level per alternative.
MAX_CHAIN = 6


def _define(source: str, name: str, env: dict[str, Any]) -> None:
    """Run generated ``source`` (only names and numbers: see the module docstring) in
    ``env``, registered with `linecache` under a file name of its own, so a traceback
    through it (a user's function raising inside an extractor) shows the generated line."""
    filename = f"<wirekit extractor {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), env)


class Code:
    """An extractor as source: one expression of the match ``r``, nested ``depth`` deep."""

    __slots__ = ("depth", "src")

    def __init__(self, src: str, depth: int) -> None:
        self.src = src
        self.depth = depth


# How a fused tree's value is rebuilt from a match: nothing (None), a group's text (int),
# a tuple of groups' texts (tuple of ints), or an expression (`Code`).
Extract = Code | int | tuple[int, ...] | None


class Gen:
    """Builds the extractors of one fused tree; they share one namespace."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {}
        self.names = itertools.count()

    def name(self, value: object) -> str:
        """A fresh name for ``value`` in the namespace."""
        n = f"_v{next(self.names)}"
        self.env[n] = value
        return n

    def src(self, ex: Extract, limit: int = MAX_DEPTH) -> tuple[str, int]:
        """The expression for ``ex`` and its depth, made a call if deeper than ``limit``."""
        if ex is None:
            return "None", 0
        if isinstance(ex, int):
            return f"r.group({ex})", 1
        if isinstance(ex, tuple):
            if len(ex) == 1:
                return f"(r.group({ex[0]}),)", 2
            return f"r.group({', '.join(map(str, ex))})", 1
        if ex.depth > limit:
            return f"{self.name(self.function(ex))}(r)", 1
        return ex.src, ex.depth

    def const(self, value: object) -> Code:
        """The value ``value`` itself."""
        return Code(self.name(value), 0)

    def is_const(self, ex: Code) -> bool:
        """Whether ``ex`` is a value made by `const` (the same whatever the match)."""
        return ex.depth == 0 and ex.src in self.env

    def call(self, f: Callable[..., Any], ex: Extract, star: bool = False) -> Code:
        """``f`` of the value of ``ex`` (``star``: of its items)."""
        s, d = self.src(ex)
        return Code(f"{self.name(f)}({'*' if star else ''}{s})", d + 1)

    def fn(self, f: Fn) -> Code:
        """The value ``f(match)``."""
        return Code(f"{self.name(f)}(r)", 1)

    def seq(self, exs: Sequence[Extract], fn: Callable[..., Any] | None) -> Code:
        """The tuple of the values of ``exs``, or ``fn`` of them (in order)."""
        srcs = [self.src(ex) for ex in exs]
        args = ", ".join(s for s, _ in srcs)
        depth = 1 + max((d for _, d in srcs), default=0)
        if fn is not None:
            return Code(f"{self.name(fn)}({args})", depth)
        return Code(f"({args},)" if len(srcs) == 1 else f"({args})", depth)

    def choice(self, branches: Sequence[tuple[int, Extract]]) -> Code:
        """The value of the alternative whose group took part in the match (None if none
        did)."""
        if len(branches) > MAX_CHAIN:
            fns = [(g, self.function(ex)) for g, ex in branches]

            def extract(r: re.Match[bytes]) -> Any:
                for g, f in fns:
                    if r.start(g) >= 0:
                        return f(r)
                return None

            return self.fn(extract)
        out, depth = "None", 0
        for g, ex in reversed(branches):
            s, d = self.src(ex)
            out = f"{s} if r.start({g}) >= 0 else {out}"
            depth = max(depth, d) + 1
        return Code(f"({out})", depth + 1)

    def function(self, ex: Extract) -> Fn:
        """The extractor as a function of the match."""
        if isinstance(ex, int) or (isinstance(ex, tuple) and len(ex) > 1):
            # A group's text (or a tuple of them): ``r[g]`` is ``r.group(g)``, and
            # `itemgetter` is called without a Python frame.
            return operator.itemgetter(*ex) if isinstance(ex, tuple) else operator.itemgetter(ex)
        s, _ = self.src(ex, limit=INF)
        n = f"_f{next(self.names)}"
        _define(f"def {n}(r):\n    return {s}\n", n, self.env)
        f: Fn = self.env[n]
        return f

    def prefix_function(
        self, ex: Extract, match: Callable[..., re.Match[bytes] | None], k: int, decided: Callable[..., bool]
    ) -> Callable[..., tuple[Any, int] | None]:
        """`fast_prefix`'s function, with the value's expression written into it (one
        Python call per match, not two)."""
        s, _ = self.src(ex, limit=MAX_DEPTH)
        n = f"_p{next(self.names)}"
        source = (
            f"def {n}(buffer, off, end, complete=False):\n"
            f"    r = {self.name(match)}(buffer, off, end)\n"
            "    if r is None:\n"
            "        return None\n"
            "    stop = r.end()\n"
            f"    if complete or stop + {int(k)} <= end or {self.name(decided)}(buffer, off, end, r):\n"
            f"        return {s}, stop\n"
            "    return None\n"
        )
        _define(source, n, self.env)
        f: Callable[..., tuple[Any, int] | None] = self.env[n]
        return f
