"""PostgreSQL backend messages, read with wirekit.combinators and written with wirekit.serializer.

Run it: ``uv run python examples/pgwire.py``.

The protocol
------------
Once a connection is set up, everything a PostgreSQL server sends is a stream of
back-to-back *messages* (protocol 3.0). Each one is a type byte, a length, and a body::

    message = type:byte length:int32 body    ; length counts itself and the body (>= 4)

Integers are big-endian and signed; a *string* is UTF-8 text ended by a NUL byte. The
bodies this example knows::

    'R' Authentication      code:int32 data          ; data: the rest of the body
    'S' ParameterStatus     name:string value:string
    'K' BackendKeyData      process_id:int32 secret_key:int32
    'Z' ReadyForQuery       status:byte              ; 'I' idle, 'T' in a transaction, 'E' failed one
    'T' RowDescription      n:int16 field{n}
        field = name:string table_oid:int32 column:int16 type_oid:int32
                type_size:int16 type_modifier:int32 format:int16
    'D' DataRow             n:int16 value{n}
        value = len:int32 byte{len}                  ; len = -1: NULL (no bytes follow)
    'C' CommandComplete     tag:string               ; e.g. "SELECT 2"
    'I' EmptyQueryResponse                           ; empty body
    'E' ErrorResponse       (code:byte value:string)* 0x00   ; code is never 0
    'N' NoticeResponse      as ErrorResponse

The design
----------
The grammar is written the way the tutorial teaches, one small parser per rule:

* ``message`` is an ``@generate`` function: it reads the type byte and the length from
  the wire, then runs the body's parser with ``isolate(n, body)`` (``n`` is the length
  less its own four bytes), which gives the body exactly its bytes. A body parser therefore never reads into the next message,
  sees the end of input where its bytes end (so "the rest of the body" is simply
  ``take_while`` of anything), and a body with bytes left over is an error, as the
  protocol requires.
* An unknown type byte fails at its own offset (``satisfy`` over the known types); a
  length below 4 fails at the length's offset (``try_map`` on the integer).
* Text fields are decoded with ``try_map(bytes.decode)``: bad UTF-8 is a `ParseError` at the
  string's offset, never a stray ``UnicodeDecodeError``.
* ``commit`` after each message: nothing in a finished message is ever re-read, so a
  stream parser keeps only the current message in memory, and an error inside a message
  is reported there instead of as "expected a message" at its start.
* Counts and lengths come from the wire and build parsers at run time (``count(n, p)``,
  ``take(n)``) inside ``bind``: that is the natural style, and what the library is
  meant to make cheap.

`write_message` is the inverse, on a `Serializer`: it reserves the four length bytes,
writes the body and fills the length in. `read_messages` parses a stream that arrives
in chunks of any size (``parse_many``); ``parse(stream, data)`` parses a whole buffer.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wirekit.combinators import (
    BE,
    Buffered,
    Done,
    Parser,
    State,
    both,
    char,
    commit,
    count,
    generate,
    isolate,
    lift2,
    many,
    not_char,
    parse,
    parse_many,
    pure,
    satisfy,
    seq,
    take,
    take_till,
    take_while,
)
from wirekit.serializer import Serializer, serialize_to_bytes


# --------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------
class Message:
    """A backend message (the base class of the message types below)."""

    __slots__ = ()


@dataclass(frozen=True)
class Authentication(Message):
    """'R': an authentication request (``code`` 0 means "authentication succeeded")."""

    code: int
    data: bytes = b""


@dataclass(frozen=True)
class ParameterStatus(Message):
    """'S': the current value of a run-time parameter, e.g. ``server_version``."""

    name: str
    value: str


@dataclass(frozen=True)
class BackendKeyData(Message):
    """'K': the key a client needs to cancel a query later."""

    process_id: int
    secret_key: int


@dataclass(frozen=True)
class ReadyForQuery(Message):
    """'Z': the server awaits a query; ``status`` is ``"I"``, ``"T"`` or ``"E"``."""

    status: str


@dataclass(frozen=True)
class FieldDescription:
    """One column of a `RowDescription`."""

    name: str
    table_oid: int
    column: int
    type_oid: int
    type_size: int
    type_modifier: int
    format: int


@dataclass(frozen=True)
class RowDescription(Message):
    """'T': the columns of the rows that follow."""

    fields: list[FieldDescription]


@dataclass(frozen=True)
class DataRow(Message):
    """'D': one row; each value is the column's bytes, or `None` for NULL."""

    values: list[bytes | None]


@dataclass(frozen=True)
class CommandComplete(Message):
    """'C': a command finished; ``tag`` is e.g. ``"SELECT 2"``."""

    tag: str


@dataclass(frozen=True)
class EmptyQueryResponse(Message):
    """'I': the query string was empty."""


@dataclass(frozen=True)
class ErrorResponse(Message):
    """'E': an error; ``fields`` maps one-letter codes (``"S"`` severity, ``"C"`` SQLSTATE,
    ``"M"`` message ...) to their text."""

    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeResponse(Message):
    """'N': a warning or notice; fields as in `ErrorResponse`."""

    fields: dict[str, str] = field(default_factory=dict)




# --------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------
def _utf8(raw: bytes) -> str:
    # A UnicodeDecodeError is a ValueError: try_map turns it into a parse failure.
    return raw.decode("utf-8")


def _message_length(n: int) -> int:
    """The body's length from the message's length field (which counts itself)."""
    if n < 4:
        raise ValueError(f"a message length of at least 4, not {n}")
    return n - 4


def _non_negative(n: int) -> int:
    if n < 0:
        raise ValueError(f"a count of at least 0, not {n}")
    return n


def _value_length(n: int) -> int:
    if n < -1:
        raise ValueError(f"a value length of at least -1, not {n}")
    return n


# string = text NUL
string: Parser[str] = (take_till(b"\x00") << char(b"\x00")).try_map(_utf8).desc("string")
int16 = BE.any_int16
int32 = BE.any_int32
# A count read from the wire (int16 on the wire; never negative).
field_count: Parser[int] = int16.try_map(_non_negative).desc("count")
# The rest of an isolated body: `isolate` puts the end of input where the body ends.
rest: Parser[bytes] = take_while(bytes(range(256)))

authentication: Parser[Message] = lift2(Authentication, int32, rest)
parameter_status: Parser[Message] = lift2(ParameterStatus, string, string)
backend_key_data: Parser[Message] = lift2(BackendKeyData, int32, int32)
transaction_status: Parser[str] = satisfy(b"ITE").desc("transaction status").map(bytes.decode)
ready_for_query: Parser[Message] = transaction_status.map(ReadyForQuery)

# field = name table_oid column type_oid type_size type_modifier format
field_description: Parser[FieldDescription] = seq(
    string, int32, int16, int32, int16, int32, int16
).map(lambda t: FieldDescription(*t))
row_description: Parser[Message] = (
    field_count.bind(lambda n: count(n, field_description)).map(RowDescription)
)

# value = len:int32 byte{len}, or len = -1 for NULL
NULL: Parser[bytes | None] = pure(None)
value: Parser[bytes | None] = (
    int32.try_map(_value_length).desc("value length").bind(lambda n: NULL if n == -1 else take(n))
)
data_row: Parser[Message] = field_count.bind(lambda n: count(n, value)).map(DataRow)

command_complete: Parser[Message] = string.map(CommandComplete)
empty_query_response: Parser[Message] = pure(EmptyQueryResponse())

# fields = (code string)* NUL
notice_field: Parser[tuple[str, str]] = both(not_char(b"\x00").try_map(_utf8), string)
notice_fields: Parser[dict[str, str]] = (many(notice_field) << char(b"\x00")).map(dict)
error_response: Parser[Message] = notice_fields.map(ErrorResponse)
notice_response: Parser[Message] = notice_fields.map(NoticeResponse)

# The body parser of each message type, labelled with the message's name for the errors.
BODIES: dict[bytes, Parser[Message]] = {
    b"R": authentication.desc("Authentication"),
    b"S": parameter_status.desc("ParameterStatus"),
    b"K": backend_key_data.desc("BackendKeyData"),
    b"Z": ready_for_query.desc("ReadyForQuery"),
    b"T": row_description.desc("RowDescription"),
    b"D": data_row.desc("DataRow"),
    b"C": command_complete.desc("CommandComplete"),
    b"I": empty_query_response.desc("EmptyQueryResponse"),
    b"E": error_response.desc("ErrorResponse"),
    b"N": notice_response.desc("NoticeResponse"),
}

message_type: Parser[bytes] = satisfy(b"".join(BODIES)).desc("message type")
body_length: Parser[int] = int32.try_map(_message_length).desc("message length")


@generate
def message() -> Generator[Parser[Any], Any, Message]:
    """One backend message: type byte, length, and the body run on exactly its bytes.

    Fails (a `ParseError`) on an unknown type, a length below 4, a body its parser does
    not consume exactly, or bad UTF-8 in a text field; suspends for more input until the
    whole message is there, then commits it."""
    kind: bytes = yield message_type
    length: int = yield body_length
    result: Message = yield isolate(length, BODIES[kind])
    yield commit  # this message is final: drop its bytes, and no backtracking into it
    return result


# A whole buffer of messages: parse(stream, data).
stream: Parser[list[Message]] = many(message)


def read_messages(chunks: Iterable[bytes]) -> Iterator[Message]:
    """Parse messages from input arriving in chunks of any size (a socket, a file).

    Yields each message as soon as its last byte has arrived; memory holds at most the
    message being read. Raises `ParseError` (with the stream offset) on a malformed
    message, including one cut short by the end of the input.
    """
    return parse_many(message, chunks)


# --------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------
TYPE_BYTES: dict[type[Any], bytes] = {
    Authentication: b"R",
    ParameterStatus: b"S",
    BackendKeyData: b"K",
    ReadyForQuery: b"Z",
    RowDescription: b"T",
    DataRow: b"D",
    CommandComplete: b"C",
    EmptyQueryResponse: b"I",
    ErrorResponse: b"E",
    NoticeResponse: b"N",
}


def write_string(out: Serializer, text: str) -> None:
    """A NUL-terminated UTF-8 string (the text itself must not contain NUL)."""
    data = text.encode()
    if b"\x00" in data:
        raise ValueError(f"a protocol string cannot contain NUL: {text!r}")
    out.write_bytes(data)
    out.write_uint8(0)


def _write_fields(out: Serializer, fields: dict[str, str]) -> None:
    for code, text in fields.items():
        raw = code.encode()
        if len(raw) != 1 or raw == b"\x00":
            raise ValueError(f"a field code is one byte other than NUL, not {code!r}")
        out.write_bytes(raw)
        write_string(out, text)
    out.write_uint8(0)


def write_message(out: Serializer, msg: Message) -> None:
    """Write one message: its type byte, its length (backfilled) and its body.

    Raises `ValueError` for a message the protocol cannot carry: a NUL in a string, a
    bad field code or status, an integer out of its field's range (the serializer's
    writers check).
    """
    out.write_bytes(TYPE_BYTES[type(msg)])
    length = out.reserve(4)
    match msg:
        case Authentication(code, data):
            out.write_int32_be(code)
            out.write_bytes(data)
        case ParameterStatus(name, value):
            write_string(out, name)
            write_string(out, value)
        case BackendKeyData(process_id, secret_key):
            out.write_int32_be(process_id)
            out.write_int32_be(secret_key)
        case ReadyForQuery(status):
            if status not in ("I", "T", "E"):
                raise ValueError(f"a transaction status is 'I', 'T' or 'E', not {status!r}")
            out.write_bytes(status.encode())
        case RowDescription(fields):
            out.write_int16_be(len(fields))
            for f in fields:
                write_string(out, f.name)
                out.write_int32_be(f.table_oid)
                out.write_int16_be(f.column)
                out.write_int32_be(f.type_oid)
                out.write_int16_be(f.type_size)
                out.write_int32_be(f.type_modifier)
                out.write_int16_be(f.format)
        case DataRow(values):
            out.write_int16_be(len(values))
            for v in values:
                if v is None:
                    out.write_int32_be(-1)
                else:
                    out.write_int32_be(len(v))
                    out.write_bytes(v)
        case CommandComplete(tag):
            write_string(out, tag)
        case EmptyQueryResponse():
            pass
        case ErrorResponse(fields) | NoticeResponse(fields):
            _write_fields(out, fields)
    length.fill_uint32_be(out.position - length.offset)


def encode(messages: Iterable[Message]) -> bytes:
    """The wire bytes of ``messages``, back to back."""
    out = Serializer()
    for msg in messages:
        write_message(out, msg)
    return serialize_to_bytes(out)


# --------------------------------------------------------------------------------
# A sample conversation
# --------------------------------------------------------------------------------
def _text_column(name: str, column: int, type_oid: int, size: int) -> FieldDescription:
    return FieldDescription(name, 16384, column, type_oid, size, -1, 0)


SAMPLE: list[Message] = [
    Authentication(0),
    ParameterStatus("server_version", "16.2"),
    ParameterStatus("client_encoding", "UTF8"),
    BackendKeyData(4242, -123456789),
    ReadyForQuery("I"),
    RowDescription([_text_column("id", 1, 23, 4), _text_column("name", 2, 25, -1)]),
    DataRow([b"1", "Zoë".encode()]),
    DataRow([b"2", None]),
    CommandComplete("SELECT 2"),
    ReadyForQuery("I"),
    ErrorResponse({"S": "ERROR", "C": "42P01", "M": 'relation "nope" does not exist'}),
    ReadyForQuery("E"),
]


def _show(msg: Message) -> str:
    return f"{TYPE_BYTES[type(msg)].decode()} {msg}"


def main() -> None:
    """Write a sample conversation, read it back whole and in 5-byte pieces, and show an error."""
    data = encode(SAMPLE)
    print(f"{len(SAMPLE)} messages, {len(data)} bytes on the wire")
    messages = parse(stream, data)
    assert messages == SAMPLE
    for msg in messages:
        print(" ", _show(msg))

    pieces = (data[i : i + 5] for i in range(0, len(data), 5))
    assert list(read_messages(pieces)) == SAMPLE
    print("read back in 5-byte pieces: the same messages")

    # One message at a time with Buffered, as a socket callback would feed it.
    state: State[Message] = Buffered.parse(message)
    for byte in range(len(data)):
        state = state.feed(data[byte : byte + 1])
        if isinstance(state, Done):
            break
    assert isinstance(state, Done)
    print(f"fed a byte at a time, the first message is done after byte {byte}: {state.value}")

    bad = data[:1] + (2).to_bytes(4, "big") + data[5:]  # a first length below 4
    try:
        parse(stream, bad)
    except Exception as e:  # a ParseError
        print(f"a corrupted length: {type(e).__name__}: {e}")
    bad_text = encode([CommandComplete("SELECT 1")]).replace(b"SELECT", b"SEL\xffCT")
    try:
        parse(stream, bad_text)
    except Exception as e:
        print(f"bad UTF-8: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
