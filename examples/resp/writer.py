"""Writing RESP with wirekit.serializer: commands (client side) and values (server side).

A command is an array of bulk strings::

    *3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n

`CommandWriter` writes commands into a `Serializer`. Small pieces of many commands are
joined and copied once; an argument of ``schedule_threshold`` bytes or more is
*scheduled*: the caller's object itself goes out in the iovecs, without a copy. A driver
(`TransportWriter` in the client, `serialize_to_bytes` in tests) moves the output.

`write_value` writes any RESP3 value (what a server sends), `encode_value` returns it as
bytes; tests use them to build replies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeAlias

from wirekit.serializer import Serializer, serialize_to_bytes

from .grammar import Push, RespError, Verbatim

__all__ = [
    "SCHEDULE_THRESHOLD",
    "Arg",
    "CommandWriter",
    "encode_arg",
    "encode_command",
    "encode_value",
    "write_value",
]

Arg: TypeAlias = bytes | bytearray | memoryview | str | int | float
"""A command argument: bytes as they are, `str` as UTF-8, numbers in decimal."""

SCHEDULE_THRESHOLD: Final = 16 * 1024
"""Arguments at least this long are scheduled (zero-copy) rather than copied."""

CRLF: Final = b"\r\n"
# Headers for the common sizes, formatted once.
_BULK: Final = [b"$%d\r\n" % n for n in range(1024)]
_ARRAY: Final = [b"*%d\r\n" % n for n in range(64)]


def encode_arg(arg: Arg) -> bytes | bytearray | memoryview:
    """An argument's bytes.

    Raises:
        TypeError: for other types (``None`` and `bool` included, as redis-py does:
            their encoding would be a guess).
    """
    if isinstance(arg, bytes | bytearray | memoryview):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, bool) or arg is None:
        raise TypeError(f"a command argument cannot be {arg!r}: encode it explicitly")
    if isinstance(arg, int):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(float(arg)).encode()
    raise TypeError(f"a command argument must be bytes, str, int or float, not {type(arg).__name__}")


class CommandWriter:
    """Writes commands as arrays of bulk strings into a `Serializer`.

    Args:
        serializer: Where to write (a new one with 64 KiB buffers by default).
        schedule_threshold: Arguments at least this long are scheduled, not copied.
            The caller must then leave them unchanged until they have been written
            (a `bytes` object never changes).
    """

    __slots__ = ("schedule_threshold", "serializer")

    def __init__(
        self, serializer: Serializer | None = None, *, schedule_threshold: int = SCHEDULE_THRESHOLD
    ) -> None:
        self.serializer = Serializer(65536) if serializer is None else serializer
        self.schedule_threshold = schedule_threshold

    def command(self, *args: Arg) -> None:
        """Write one command: ``w.command("SET", "key", b"value")``."""
        self.commands((args,))

    def commands(self, commands: Iterable[Sequence[Arg]]) -> None:
        """Write many commands at once (a pipeline): their small pieces are joined and
        copied in one go.

        Raises:
            TypeError: an argument has an unsupported type (nothing is written then,
                unless a large argument before it was already scheduled).
            ValueError: a command has no arguments.
        """
        parts: list[bytes | bytearray | memoryview] = []
        append = parts.append
        threshold = self.schedule_threshold
        bulk, array = _BULK, _ARRAY
        out = self.serializer
        for args in commands:
            n = len(args)
            if not n:
                raise ValueError("a command needs at least one argument")
            append(array[n] if n < 64 else b"*%d\r\n" % n)
            for arg in args:
                data: bytes | bytearray | memoryview
                if type(arg) is bytes:
                    data = arg
                elif type(arg) is str:
                    data = arg.encode()
                else:
                    data = encode_arg(arg)
                size = data.nbytes if type(data) is memoryview else len(data)
                if size >= threshold:
                    append(b"$%d\r\n" % size)
                    out.writelines(parts)
                    parts.clear()
                    out.schedule(data)
                    append(CRLF)
                    continue
                append(bulk[size] if size < 1024 else b"$%d\r\n" % size)
                append(data)
                append(CRLF)
        if parts:
            out.writelines(parts)


def encode_command(*args: Arg) -> bytes:
    """One command as bytes: ``encode_command("GET", "k") == b"*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n"``."""
    w = CommandWriter()
    w.command(*args)
    return serialize_to_bytes(w.serializer)


# --------------------------------------------------------------------------------
# Values (the server's side)
# --------------------------------------------------------------------------------
_INT64: Final = range(-(2**63), 2**63)


def _line(kind: bytes, text: str) -> bytes:
    data = text.encode("utf-8", "surrogateescape")
    if b"\r" in data or b"\n" in data:
        raise ValueError(f"a {kind!r} line cannot contain CR or LF: {text!r}")
    return kind + data + CRLF


def write_value(out: Serializer, value: Any, *, resp3: bool = True) -> None:
    """Write ``value`` as a RESP reply (the inverse of the `reply` parser).

    `bytes` become bulk strings, `str` simple strings (no CR or LF allowed), `int`
    integers (big numbers beyond 64 bits), `float` doubles, `bool` booleans, `None` null,
    `RespError` errors, `list`/`tuple` arrays, `dict` maps, `set`/`frozenset` sets,
    `Push` and `Verbatim` their own types. With ``resp3=False`` only RESP2 types are
    allowed, and `None` is the null bulk string.

    Nesting costs no Python stack: pending elements are kept on a list.

    Raises:
        TypeError: a value has no RESP form (or no RESP2 form, with ``resp3=False``).
        ValueError: a simple string or error holds CR or LF.
    """
    todo: list[Any] = [value]
    pop, push = todo.pop, todo.append
    write = out.write_bytes

    def need3(what: str) -> None:
        if not resp3:
            raise TypeError(f"{what} has no RESP2 form")

    while todo:
        v = pop()
        t = type(v)
        if t is bytes or t is bytearray or t is memoryview:
            write(b"$%d\r\n" % (v.nbytes if t is memoryview else len(v)))
            write(v)
            write(CRLF)
        elif t is str:
            write(_line(b"+", v))
        elif t is bool:
            need3("a boolean")
            write(b"#t\r\n" if v else b"#f\r\n")
        elif t is int:
            if v in _INT64:
                write(b":%d\r\n" % v)
            else:
                need3("an integer beyond 64 bits")
                write(b"(%d\r\n" % v)
        elif t is float:
            need3("a double")
            text = "nan" if math.isnan(v) else repr(v)  # repr gives inf, -inf, 1e+300 …
            write(b",%s\r\n" % text.encode())
        elif v is None:
            write(b"_\r\n" if resp3 else b"$-1\r\n")
        elif isinstance(v, RespError):
            data = v.message.encode("utf-8", "surrogateescape")
            if b"\r" in data or b"\n" in data:
                need3("an error with CR or LF")
                write(b"!%d\r\n%b\r\n" % (len(data), data))
            else:
                write(b"-%b\r\n" % data)
        elif t is list or t is tuple:
            write(b"*%d\r\n" % len(v))
            todo.extend(reversed(v))
        elif t is dict:
            need3("a map")
            write(b"%%%d\r\n" % len(v))
            for k, x in reversed(v.items()):
                push(x)
                push(k)
        elif t is set or t is frozenset:
            need3("a set")
            write(b"~%d\r\n" % len(v))
            todo.extend(v)
        elif t is Push:
            need3("a push")
            write(b">%d\r\n" % len(v.data))
            todo.extend(reversed(v.data))
        elif t is Verbatim:
            need3("a verbatim string")
            fmt = v.format.encode("utf-8", "surrogateescape")
            if len(fmt) != 3:
                raise ValueError(f"a verbatim format has 3 bytes, not {v.format!r}")
            text_b = v.text.encode("utf-8", "surrogateescape")
            write(b"=%d\r\n%b:%b\r\n" % (len(text_b) + 4, fmt, text_b))
        else:
            raise TypeError(f"no RESP form for {t.__name__}")


def encode_value(value: Any, *, resp3: bool = True) -> bytes:
    """``value`` as the bytes of a RESP reply (see `write_value`)."""
    out = Serializer()
    write_value(out, value, resp3=resp3)
    return serialize_to_bytes(out)
