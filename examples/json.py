"""A JSON (RFC 8259) parser written with wirekit.combinators.

Run it: ``uv run python examples/json.py '{"a": [1, 2.5, "x\\n"]}'``.

The grammar is the RFC's, rule by rule. Regular pieces (numbers, whole strings,
punctuation with the whitespace after it) are compiled into regular expressions by the
library; ``fix`` ties the recursion of arrays and objects, and the choice between value
kinds is dispatched on the first byte. A string is checked by the grammar and decoded by
one function after its match (`decode_string`): a function on each piece inside the loop
would make the library re-match the pieces one by one to call it.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from wirekit.combinators import (
    Parser,
    both,
    char,
    choice,
    consumed,
    count,
    fix,
    many,
    parse,
    satisfy,
    sep_by,
    skip_while,
    string,
    take_while1,
)

# ws = *( %x20 / %x09 / %x0A / %x0D )
ws = skip_while(b" \t\n\r")


def lexeme(p: Parser[Any]) -> Parser[Any]:
    """``p`` followed by optional whitespace."""
    return p << ws


def token(c: bytes) -> Parser[None]:
    """A structural character and the whitespace after it."""
    return lexeme(char(c)).result(None)


DIGITS = b"0123456789"
HEX = b"0123456789abcdefABCDEF"

# number = [ minus ] int [ frac ] [ exp ]
# int = zero / ( digit1-9 *DIGIT ); frac = decimal-point 1*DIGIT; exp = e [ minus / plus ] 1*DIGIT
integer = char(b"0") | (satisfy(b"123456789") >> take_while1(DIGITS).optional())
frac = char(b".") >> take_while1(DIGITS)
exp = satisfy(b"eE") >> satisfy(b"+-").optional() >> take_while1(DIGITS)


def to_number(text: bytes) -> int | float:
    """JSON numbers without a fraction or exponent are ints, like `json.loads`."""
    return float(text) if (b"." in text or b"e" in text or b"E" in text) else int(text)


number = consumed(char(b"-").optional() >> integer >> frac.optional() >> exp.optional()).map(
    to_number
)

# char = unescaped / escape ( %x22 / %x5C / %x2F / %x62 / %x66 / %x6E / %x72 / %x74 / %x75 4HEXDIG )
# unescaped = %x20-21 / %x23-5B / %x5D-10FFFF   (here: its UTF-8 bytes)
unescaped = take_while1(lambda c: c >= 0x20 and c not in b'"\\')
escape = char(b"\\") >> (satisfy(b'"\\/bfnrt') | (char(b"u") >> count(4, satisfy(HEX))))
SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unescape(m: re.Match[str]) -> str:
    return chr(int(m[1], 16)) if m[1] else SIMPLE_ESCAPES[m[2]]


def decode_string(raw: bytes) -> str:
    """A string's body (its bytes between the quotes, already checked by the grammar)."""
    text = raw.decode("utf-8", "replace")
    if "\\" not in text:
        return text
    text = _ESCAPE.sub(_unescape, text)
    if _SURROGATE.search(text):
        # Only a \u escape gives a surrogate: pair them as JSON's UTF-16 requires (a lone
        # one stays, as json.loads keeps it).
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return text


# string = quotation-mark *char quotation-mark
json_string = (char(b'"') >> consumed(many(unescaped | escape)) << char(b'"')).map(decode_string)


def _value(value: Parser[Any]) -> Parser[Any]:
    # member = string name-separator value ; object = begin-object [ member *( value-separator member ) ] end-object
    member = lexeme(json_string) << token(b":") << ws
    obj = token(b"{") >> sep_by(token(b","), both(member, value)).map(dict) << char(b"}")
    # array = begin-array [ value *( value-separator value ) ] end-array
    arr = token(b"[") >> sep_by(token(b","), value) << char(b"]")
    literal = choice(
        [string(b"true").result(True), string(b"false").result(False), string(b"null").result(None)]
    )
    # Each alternative carries its own trailing whitespace, so the scalar ones compile
    # into a single regular expression each.
    return choice(
        [lexeme(obj), lexeme(arr), lexeme(json_string), lexeme(number), lexeme(literal)],
        failure_msg="a JSON value",
    )


value: Parser[Any] = fix(_value)

# JSON-text = ws value ws
json_text: Parser[Any] = ws >> value


def loads(data: bytes) -> Any:
    """Parse a complete JSON document (raises `ParseError` with the byte offset)."""
    return parse(json_text, data)


def main(argv: list[str] | None = None) -> None:
    """Parse the JSON given as the first argument (or a small sample) and print it."""
    args = sys.argv[1:] if argv is None else argv
    text = args[0].encode() if args else b'{"name": "wirekit", "tags": ["fast", "strict"], "n": 3}'
    print(loads(text))


if __name__ == "__main__":
    main()
