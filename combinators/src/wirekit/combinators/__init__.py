"""wirekit.combinators: incremental parser combinators over bytes.

Angstrom's semantics (incremental input, ``commit`` as both buffer release and cut, greedy
loops that wait for more input at a chunk end) with parsy's ergonomics (operators,
``@generate`` do-notation, furthest-failure errors). Regular sub-grammars are compiled
into one regular expression, so most of a grammar runs in C.

    >>> from wirekit.combinators import char, parse, take_while1
    >>> pair = take_while1(b"abc") << char(b"=")
    >>> parse(pair, b"ab=")
    b'ab'
"""

# First: `_unary` registers `Parser.map`, `.bind` and `.desc` with the node layer
# (`_parser.ABOVE`), which the modules below use while they load.
from . import _unary  # noqa: F401
from ._binary import BE, LE, any_int8, any_uint8, int8, varint
from ._checked import isolate
from ._combinators import (
    both,
    choice,
    consumed,
    count,
    fail,
    fix,
    generate,
    lift2,
    lift3,
    lift4,
    lookahead,
    many,
    many1,
    many_till,
    not_followed_by,
    option,
    pure,
    sep_by,
    sep_by1,
    seq,
    skip_many,
    skip_many1,
)
from ._compile import FastPrefix, fast_prefix
from ._describe import describe, railroad
from ._errors import ParseError
from ._explain import DispatchRoute, ExplainedNode, Explanation, NodeKind, explain
from ._parser import Parser, leaves_go_by_enter
from ._primitives import (
    BytePredicate,
    advance,
    any_char,
    at_end_of_input,
    available,
    char,
    commit,
    end_of_input,
    end_of_line,
    not_char,
    peek_char,
    peek_char_fail,
    peek_string,
    pos,
    satisfy,
    scan,
    skip,
    skip_while,
    string,
    string_ci,
    take,
    take_till,
    take_while,
    take_while1,
)
from ._running import (
    Buffered,
    Consume,
    Done,
    Fail,
    Partial,
    State,
    Unbuffered,
    parse,
    parse_prefix,
)
from ._streams import parse_many, parse_many_async
from ._trace import TraceEvent, Tracer, print_trace

__all__ = [
    "BE",
    "LE",
    "Buffered",
    "BytePredicate",
    "Consume",
    "DispatchRoute", "ExplainedNode", "Explanation", "NodeKind", "explain",
    "Done",
    "Fail",
    "ParseError",
    "TraceEvent",
    "Tracer",
    "Parser",
    "Partial",
    "State",
    "Unbuffered",
    "advance",
    "any_char",
    "any_int8",
    "any_uint8",
    "at_end_of_input",
    "available",
    "both",
    "char",
    "choice",
    "commit",
    "consumed",
    "count",
    "describe", "railroad",
    "end_of_input",
    "end_of_line",
    "fail",
    "fix",
    "generate",
    "int8",
    "isolate",
    "lift2",
    "lift3",
    "lift4",
    "lookahead",
    "many",
    "many1",
    "many_till",
    "not_char",
    "not_followed_by",
    "option",
    "parse",
    "parse_many",
    "parse_many_async",
    "FastPrefix",
    "fast_prefix",
    "parse_prefix",
    "peek_char",
    "peek_char_fail",
    "peek_string",
    "pos",
    "print_trace",
    "pure",
    "satisfy",
    "scan",
    "sep_by",
    "sep_by1",
    "seq",
    "skip",
    "skip_many",
    "skip_many1",
    "skip_while",
    "string",
    "string_ci",
    "take",
    "take_till",
    "take_while",
    "take_while1",
    "varint",
]

leaves_go_by_enter()  # (every leaf class is loaded by now)
