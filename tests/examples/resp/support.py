"""Shared pieces of the RESP example's tests: the package, canned replies, a runner.

``examples/resp`` is loaded by path (examples are not an installed package); for the
type checker it is the module ``examples.resp``.

Import as ``from tests.examples.resp.support import resp`` (pytest's importlib mode
registers the ``tests.examples.resp`` package when it collects the tests).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from tests.combinators.helpers import load_example

if TYPE_CHECKING:
    import examples.resp as resp
else:
    resp = load_example("resp")

__all__ = ["CANNED", "T", "resp", "run", "same"]

T = TypeVar("T")

Push = resp.Push
RespError = resp.RespError
Verbatim = resp.Verbatim

# Every reply type, in the bytes a server sends, with the value the parser must give.
CANNED: list[tuple[str, bytes, Any]] = [
    ("simple string", b"+OK\r\n", "OK"),
    ("empty simple string", b"+\r\n", ""),
    ("simple error", b"-ERR unknown command 'FOO'\r\n", RespError("ERR unknown command 'FOO'")),
    ("integer", b":1000\r\n", 1000),
    ("negative integer", b":-42\r\n", -42),
    ("plus integer", b":+7\r\n", 7),
    ("bulk string", b"$5\r\nhello\r\n", b"hello"),
    ("empty bulk string", b"$0\r\n\r\n", b""),
    ("binary bulk string", b"$6\r\n\r\n\x00\xff\r\n\r\n", b"\r\n\x00\xff\r\n"),
    ("null bulk string", b"$-1\r\n", None),
    ("array", b"*2\r\n$3\r\nfoo\r\n:1\r\n", [b"foo", 1]),
    ("empty array", b"*0\r\n", []),
    ("null array", b"*-1\r\n", None),
    (
        "nested arrays with nulls",
        b"*3\r\n*2\r\n:1\r\n$-1\r\n*0\r\n*1\r\n*1\r\n_\r\n",
        [[1, None], [], [[None]]],
    ),
    ("null", b"_\r\n", None),
    ("true", b"#t\r\n", True),
    ("false", b"#f\r\n", False),
    ("double", b",3.14\r\n", 3.14),
    ("integral double", b",10\r\n", 10.0),
    ("double with exponent", b",-1.5e-3\r\n", -1.5e-3),
    ("double with big exponent", b",1E+300\r\n", 1e300),
    ("inf", b",inf\r\n", math.inf),
    ("-inf", b",-inf\r\n", -math.inf),
    ("nan", b",nan\r\n", math.nan),
    (
        "big number",
        b"(3492890328409238509324850943850943825024385\r\n",
        3492890328409238509324850943850943825024385,
    ),
    ("negative big number", b"(-12345678901234567890\r\n", -12345678901234567890),
    ("bulk error", b"!21\r\nSYNTAX invalid syntax\r\n", RespError("SYNTAX invalid syntax")),
    ("bulk error with CRLF", b"!8\r\nERR a\r\nb\r\n", RespError("ERR a\r\nb")),
    ("verbatim", b"=15\r\ntxt:Some string\r\n", Verbatim("txt", "Some string")),
    ("empty verbatim", b"=4\r\nmkd:\r\n", Verbatim("mkd", "")),
    ("map", b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", {"first": 1, "second": 2}),
    ("empty map", b"%0\r\n", {}),
    (
        "map of aggregates",
        b"%1\r\n$1\r\nk\r\n%1\r\n$1\r\nj\r\n*2\r\n:1\r\n_\r\n",
        {b"k": {b"j": [1, None]}},
    ),
    ("map with an array key", b"%1\r\n*2\r\n:1\r\n:2\r\n+v\r\n", {(1, 2): "v"}),
    ("set", b"~3\r\n+a\r\n+b\r\n+a\r\n", frozenset({"a", "b"})),
    ("set of unhashables", b"~2\r\n*0\r\n*1\r\n:1\r\n", [[], [1]]),
    ("push", b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n", Push([b"invalidate", [b"key"]])),
    ("attribute", b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n", [2]),
]


def same(a: Any, b: Any) -> bool:
    """Equality that also requires the same types (``1`` is not ``True`` or ``1.0``)
    and takes NaN as equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Push):
        return same(a.data, b.data)
    return bool(a == b)


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a coroutine in a fresh event loop, failing after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
