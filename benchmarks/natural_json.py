"""A JSON grammar written the way a new user writes it after the tutorial (benchmark input).

Unlike the tuned ``examples/json.py`` it leans on the run-time parts of the library:
strings and object members are ``@generate`` functions (key, colon, value), escapes are
decided with ``bind`` on the byte after the backslash (building a ``pure`` for each
one), ``\\u`` escapes read their hex digits with ``take(4)`` and, for a surrogate pair,
a second escape inside a generator; ``fix`` ties the recursion. ``json_text_inline`` is
the same grammar with the parsers written inside the generators that use them.

``benchmarks/bench_natural.py`` races both against parsy's documented JSON grammar and
checks them against `json.loads` (there and in the benchmark's smoke test).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from wirekit.combinators import (
    Parser,
    char,
    choice,
    consumed,
    fail,
    fix,
    generate,
    many,
    option,
    pure,
    satisfy,
    sep_by,
    skip_while,
    string,
    take,
    take_while1,
)

ws = skip_while(b" \t\r\n")


def lexeme(p: Parser[Any]) -> Parser[Any]:
    """``p`` and the whitespace after it."""
    return p << ws


lbrace, rbrace = lexeme(char(b"{")), lexeme(char(b"}"))
lbrack, rbrack = lexeme(char(b"[")), lexeme(char(b"]"))
colon, comma = lexeme(char(b":")), lexeme(char(b","))

digits = take_while1(b"0123456789")
number_text = consumed(
    option(None, char(b"-"))
    >> digits
    >> option(None, char(b".") >> digits)
    >> option(None, satisfy(b"eE") >> option(None, satisfy(b"+-")) >> digits)
)


def to_number(text: bytes) -> int | float:
    """An int without fraction or exponent, else a float (as `json.loads`)."""
    return float(text) if any(c in text for c in b".eE") else int(text)


number = lexeme(number_text.map(to_number))

ESCAPES = {b'"': '"', b"\\": "\\", b"/": "/", b"b": "\b", b"f": "\f", b"n": "\n", b"r": "\r", b"t": "\t"}
hex4 = take(4).map(lambda h: int(h, 16))


@generate
def unicode_escape() -> Generator[Parser[Any], Any, str]:
    """The four hex digits after ``\\u``; a high surrogate must be followed by its low half."""
    code: int = yield hex4
    if 0xD800 <= code < 0xDC00:
        yield string(b"\\u")
        low: int = yield hex4
        if not 0xDC00 <= low < 0xE000:
            yield fail("a low surrogate")
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
    return chr(code)


def escaped(c: bytes) -> Parser[str]:
    """What follows a backslash, given the byte after it."""
    if c == b"u":
        return unicode_escape
    if c in ESCAPES:
        return pure(ESCAPES[c])
    return fail("an escape character")


escape = char(b"\\") >> satisfy(b'"\\/bfnrtu').bind(escaped)
plain = take_while1(lambda c: c >= 0x20 and c not in b'"\\').map(bytes.decode)
characters = many(plain | escape)


@generate
def json_string() -> Generator[Parser[Any], Any, str]:
    """A quoted string with its escapes."""
    yield char(b'"')
    parts: list[str] = yield characters
    yield char(b'"')
    return "".join(parts)


key = lexeme(json_string)
literal = choice(
    [
        lexeme(string(b"true")).result(True),
        lexeme(string(b"false")).result(False),
        lexeme(string(b"null")).result(None),
    ]
)


def _value(value: Parser[Any]) -> Parser[Any]:
    @generate
    def member() -> Generator[Parser[Any], Any, tuple[str, Any]]:
        """``"key": value``."""
        name: str = yield key
        yield colon
        val: Any = yield value
        return name, val

    json_object = (lbrace >> sep_by(comma, member) << rbrace).map(dict)
    array = lbrack >> sep_by(comma, value) << rbrack
    return choice([json_object, array, key, number, literal])


value: Parser[Any] = fix(_value)
json_text: Parser[Any] = ws >> value


# The same grammar with every parser written where it is used, inside the generators
# (``yield many(...)``, ``yield sep_by(comma, value)``): each string and each array
# builds its parsers again while the input is parsed.
@generate
def inline_string() -> Generator[Parser[Any], Any, str]:
    """A quoted string, its loop built inside the generator."""
    yield char(b'"')
    parts: list[str] = yield many(plain | escape)
    yield char(b'"')
    return "".join(parts)


@generate
def inline_member() -> Generator[Parser[Any], Any, tuple[str, Any]]:
    """``"key": value``, the key's lexeme built inside the generator."""
    name: str = yield lexeme(inline_string)
    yield colon
    val: Any = yield inline_value
    return name, val


@generate
def inline_array() -> Generator[Parser[Any], Any, list[Any]]:
    """``[value, ...]``, the list built inside the generator."""
    yield lbrack
    items: list[Any] = yield sep_by(comma, inline_value)
    yield rbrack
    return items


inline_object = (lbrace >> sep_by(comma, inline_member) << rbrace).map(dict)
inline_value: Parser[Any] = choice(
    [inline_object, inline_array, lexeme(inline_string), number, literal]
)
json_text_inline: Parser[Any] = ws >> inline_value
