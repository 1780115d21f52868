"""RESP2 and RESP3 replies, parsed with wirekit.combinators.

The grammar follows the RESP3 specification (https://github.com/redis/redis-specifications,
``protocol/RESP3.md``), which is a superset of RESP2; each type is quoted above its rule.
Every reply starts with a type byte, so the top-level choice dispatches on one byte. The
line-shaped types (simple strings, errors, integers, doubles …) are regular: the library
compiles each into one regular expression. Length-prefixed types read their length with
such a pattern and then ``bind`` it to ``take(n)``; aggregates bind their count to
``count(n, reply)``, and ``fix`` ties the recursion.

Values come out typed:

=====================  ====================================================
RESP type              Python value
=====================  ====================================================
simple string ``+``    `str`
simple error ``-``     `RespError` (a value; the client raises it)
integer ``:``          `int`
bulk string ``$``      `bytes` (``$-1``: `None`)
array ``*``            `list` (``*-1``: `None`)
null ``_``             `None`
boolean ``#``          `bool`
double ``,``           `float` (``inf``, ``-inf``, ``nan`` included)
big number ``(``       `int`
bulk error ``!``       `RespError`
verbatim string ``=``  `Verbatim` (format and text)
map ``%``              `dict` (aggregate keys frozen: lists become tuples)
set ``~``              `frozenset` (a `list` if an element is unhashable)
attribute ``|``        skipped: the value it annotates is returned
push ``>``             `Push`
=====================  ====================================================

A map whose key is an aggregate nested more than `MAX_KEY_DEPTH` levels deep stays a list
of ``(key, value)`` pairs. Streamed (``$?``, ``*?``) aggregates of RESP3 are not
supported (Redis never sends them).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeAlias

from wirekit.combinators import (
    Parser,
    both,
    char,
    choice,
    consumed,
    count,
    fail,
    fix,
    generate,
    lift2,
    option,
    parse,
    pure,
    satisfy,
    string,
    take,
    take_till,
    take_while1,
)

__all__ = [
    "MAX_KEY_DEPTH",
    "MAX_LENGTH_DIGITS",
    "Push",
    "RespError",
    "RespValue",
    "Verbatim",
    "parse_reply",
    "reply",
]


# --------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------
class RespError(Exception):
    """An error reply (``-ERR message`` or a RESP3 bulk error).

    The parser returns it as a value; `RespClient` raises it. Two errors with the same
    message are equal.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def kind(self) -> str:
        """The error code: the first word of the message (``ERR``, ``WRONGTYPE`` …)."""
        return self.message.split(" ", 1)[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RespError) and type(other) is type(self) and other.message == self.message

    def __hash__(self) -> int:
        return hash((RespError, self.message))

    def __repr__(self) -> str:
        return f"RespError({self.message!r})"


@dataclass(frozen=True)
class Verbatim:
    """A RESP3 verbatim string: text with a three-letter format (``txt``, ``mkd``)."""

    format: str
    text: str


@dataclass(frozen=True)
class Push:
    """A RESP3 push message (out-of-band data such as ``invalidate`` or pub/sub)."""

    data: list[Any]

    @property
    def kind(self) -> Any:
        """The first element, which names the kind of push (e.g. ``b"invalidate"``)."""
        return self.data[0] if self.data else None


RespValue: TypeAlias = (
    bytes
    | str
    | int
    | float
    | bool
    | RespError
    | Verbatim
    | Push
    | list[Any]
    | dict[Any, Any]
    | frozenset[Any]
    | None
)


# --------------------------------------------------------------------------------
# Conversions (applied to text the grammar has already matched)
# --------------------------------------------------------------------------------
def _text(b: bytes) -> str:
    # Simple strings are meant to be ASCII; surrogateescape keeps any other byte, so
    # encoding with the same error handler gives the original bytes back.
    return b.decode("utf-8", "surrogateescape")


def _error(b: bytes) -> RespError:
    return RespError(_text(b))


def _int(b: bytes) -> int:
    # int() refuses more than 4300 digits (CVE-2020-10735); a big number may be longer.
    return int(b) if len(b) <= 4000 else int(Decimal(b.decode("ascii")))


MAX_LENGTH_DIGITS = 18
"""Lengths and counts have at most this many digits (below 10**18)."""
_TOO_LONG = -2


def _length(b: bytes) -> int:
    return int(b) if len(b) <= MAX_LENGTH_DIGITS else _TOO_LONG


MAX_KEY_DEPTH = 32
"""How deeply an aggregate used as a map key may nest (see `_to_dict`)."""


class _TooDeep(Exception):
    pass


def _freeze(v: Any, depth: int = 0) -> Hashable:
    """A hashable stand-in for an aggregate used as a map key: lists (and pushes)
    become tuples, maps tuples of pairs."""
    if isinstance(v, list | Push | dict):
        if depth >= MAX_KEY_DEPTH:
            raise _TooDeep
        if isinstance(v, dict):
            return tuple((_freeze(k, depth + 1), _freeze(x, depth + 1)) for k, x in v.items())
        return tuple(_freeze(x, depth + 1) for x in (v.data if isinstance(v, Push) else v))
    return v  # type: ignore[no-any-return]


def _to_dict(pairs: list[tuple[Any, Any]]) -> dict[Any, Any] | list[tuple[Any, Any]]:
    """The pairs of a map as a `dict`. Aggregate keys are frozen (see `_freeze`); a key
    nested deeper than `MAX_KEY_DEPTH` leaves the map as its list of pairs (hashing a
    deeply nested tuple would overflow the C stack)."""
    try:
        return dict(pairs)
    except TypeError:  # an aggregate as a key
        try:
            return {_freeze(k): v for k, v in pairs}
        except _TooDeep:
            return pairs


def _to_set(items: list[Any]) -> frozenset[Any] | list[Any]:
    try:
        return frozenset(items)
    except TypeError:  # an unhashable member: keep the elements, in order
        return items


def _verbatim(fmt: bytes, text: bytes) -> Verbatim:
    return Verbatim(_text(fmt), _text(text))


class _PerLength(dict[int, Parser[Any]]):
    """``make(n)`` cached per length. `bind` builds the next parser from the length it
    read, and a parser is compiled on first use, so each common length is built once;
    ``cache[n]`` is a C-level lookup. The cache is bounded (cleared when full). The
    lengths -1 (null) and -2 (too many digits, see `_length`) have fixed parsers."""

    __slots__ = ("fixed", "make")

    def __init__(
        self, make: Callable[[int], Parser[Any]], what: str, null: Parser[Any] | None = None
    ) -> None:
        super().__init__()
        self.make = make
        self.fixed = {
            -1: fail(f"{what} other than -1") if null is None else null,
            _TOO_LONG: fail(f"{what} of at most {MAX_LENGTH_DIGITS} digits"),
        }
        self.update(self.fixed)

    def __missing__(self, n: int) -> Parser[Any]:
        if len(self) >= 4096:
            self.clear()
            self.update(self.fixed)
        p = self[n] = self.make(n)
        return p


def per_length(
    make: Callable[[int], Parser[Any]], what: str, null: Parser[Any] | None = None
) -> Callable[[int], Parser[Any]]:
    """The function to `bind` a length to: ``make(n)``, built once per length."""
    return _PerLength(make, what, null).__getitem__


# --------------------------------------------------------------------------------
# The grammar
# --------------------------------------------------------------------------------
CRLF = string(b"\r\n")
DIGITS = b"0123456789"

# A line's content: anything up to CR LF (CR and LF themselves are not allowed inside).
line: Parser[bytes] = take_till(b"\r\n") << CRLF

# <number> = [ "+" / "-" ] 1*DIGIT
signed: Parser[bytes] = consumed(option(None, satisfy(b"+-")) >> take_while1(DIGITS))

# <length> = 1*DIGIT                   (the number of bytes or elements that follow)
length: Parser[int] = take_while1(DIGITS).map(_length)

# Null bulk strings and null arrays of RESP2 have the length -1.
null_or_length: Parser[int] = consumed(string(b"-1") | take_while1(DIGITS)).map(_length)

# Simple string:  "+" <text> CRLF                        +OK\r\n
simple_string: Parser[str] = char(b"+") >> line.map(_text)

# Simple error:   "-" <text> CRLF                        -ERR unknown command\r\n
simple_error: Parser[RespError] = char(b"-") >> line.map(_error)

# Integer:        ":" <number> CRLF                      :1000\r\n
integer: Parser[int] = char(b":") >> signed.map(_int) << CRLF

# Null:           "_" CRLF                               _\r\n
null: Parser[None] = string(b"_\r\n").result(None)

# Boolean:        "#" ( "t" / "f" ) CRLF                 #t\r\n
boolean: Parser[bool] = (
    char(b"#") >> (char(b"t").result(True) | char(b"f").result(False)) << CRLF
)

# Double:         "," <double> CRLF                      ,3.14\r\n  ,-inf\r\n  ,nan\r\n
# <double> = [ "+" / "-" ] ( "inf" / "nan" / 1*DIGIT [ "." 1*DIGIT ] [ ("e"/"E") <number> ] )
_decimal = (
    take_while1(DIGITS)
    >> option(None, char(b".") >> take_while1(DIGITS))
    >> option(None, satisfy(b"eE") >> signed)
)
_double_text = consumed(
    option(None, satisfy(b"+-")) >> (string(b"inf") | string(b"nan") | _decimal)
)
double: Parser[float] = char(b",") >> _double_text.map(float) << CRLF

# Big number:     "(" <number> CRLF                      (3492890328409238509324850943850943825024385\r\n
big_number: Parser[int] = char(b"(") >> signed.map(_int) << CRLF


SMALL_BODY: Final = 1024
"""Bodies shorter than this get a parser of their own per length (see `bulk_body`)."""


def _large_body(n: int) -> Parser[bytes]:
    data_parser = take(n)

    @generate
    def body() -> Generator[Parser[Any], Any, bytes]:
        data: bytes = yield data_parser
        yield CRLF
        return data

    return body


def bulk_body(n: int) -> Parser[bytes]:
    """The body of a bulk string of ``n`` bytes and its CRLF.

    ``take(n) << CRLF`` is regular, so the library compiles it into one pattern: the
    fastest way to run it, but compiling costs far more than one run. Short lengths
    repeat (and `per_length` keeps their parsers), so they get it; long bodies, whose
    lengths rarely repeat and whose copying dwarfs the rest, are read by a small
    ``generate`` parser that is cheap to build.
    """
    if n < SMALL_BODY:
        return take(n) << CRLF
    return _large_body(n)


def verbatim_body(n: int) -> Parser[Verbatim]:
    """``<3 bytes> ":" <n-4 bytes> CRLF``: the body of a verbatim string."""
    if n < 4:
        return fail("a verbatim string of at least 4 bytes")
    return lift2(_verbatim, take(3) << char(b":"), bulk_body(n - 4))


def _reply(reply: Parser[RespValue]) -> Parser[RespValue]:
    """The reply grammar; ``reply`` is the recursion point made by `fix`."""
    # Bulk string:   "$" <length> CRLF <length bytes> CRLF     $5\r\nhello\r\n
    # Null bulk:     "$-1" CRLF                                $-1\r\n        (RESP2)
    bulk_string = (char(b"$") >> null_or_length << CRLF).bind(
        per_length(bulk_body, "a bulk string length", pure(None))
    )

    # Bulk error:    "!" <length> CRLF <length bytes> CRLF     !21\r\nSYNTAX invalid syntax\r\n
    bulk_error = (char(b"!") >> length << CRLF).bind(
        per_length(bulk_body, "a bulk error length")
    ).map(_error)

    # Verbatim:      "=" <length> CRLF <3 bytes> ":" <length-4 bytes> CRLF
    #                                                           =15\r\ntxt:Some string\r\n
    verbatim = (char(b"=") >> length << CRLF).bind(
        per_length(verbatim_body, "a verbatim string length")
    )

    # Array:         "*" <length> CRLF <length replies>        *2\r\n:1\r\n:2\r\n
    # Null array:    "*-1" CRLF                                *-1\r\n        (RESP2)
    array = (char(b"*") >> null_or_length << CRLF).bind(
        per_length(lambda n: count(n, reply), "an array length", pure(None))
    )

    # Map:           "%" <length> CRLF <length key-value pairs>  %1\r\n+key\r\n:1\r\n
    pair = both(reply, reply)
    map_ = (char(b"%") >> length << CRLF).bind(
        per_length(lambda n: count(n, pair).map(_to_dict), "a map length")
    )

    # Set:           "~" <length> CRLF <length replies>        ~2\r\n+a\r\n+b\r\n
    set_ = (char(b"~") >> length << CRLF).bind(
        per_length(lambda n: count(n, reply).map(_to_set), "a set length")
    )

    # Push:          ">" <length> CRLF <length replies>        >2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n
    push = (char(b">") >> length << CRLF).bind(
        per_length(lambda n: count(n, reply).map(Push), "a push length")
    )

    # Attribute:     "|" <length> CRLF <length key-value pairs> <reply>
    # Metadata about the reply that follows; this parser drops it and returns the reply.
    attribute = (char(b"|") >> length << CRLF).bind(
        per_length(lambda n: count(n, pair) >> reply, "an attribute length")
    )

    # Ordered by how often servers send them; the choice dispatches on the first byte
    # anyway, so the order only matters for the error message.
    return choice(
        [
            bulk_string,
            simple_string,
            integer,
            array,
            simple_error,
            null,
            map_,
            set_,
            double,
            boolean,
            big_number,
            verbatim,
            bulk_error,
            push,
            attribute,
        ],
        failure_msg="a RESP type byte (one of + - : $ * _ # , ( ! = % ~ | >)",
    )


reply: Parser[RespValue] = fix(_reply)
"""One reply of any RESP2 or RESP3 type."""


def parse_reply(data: bytes) -> RespValue:
    """Parse exactly one complete reply (raises `ParseError`)."""
    return parse(reply, data)
