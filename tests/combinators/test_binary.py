"""Binary readers (`_binary.py`): `any_uint8`, `any_int8`, `int8` and the `BE` / `LE`
fixed-width readers and constant matchers, at zero, the minimum and the maximum, and with
a trailing extra byte (Angstrom's endian tests); and `varint`, against known encodings
and round trips with `wirekit.serializer`'s ``write_varint``."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import pytest
import wirekit.combinators as wc
from hypothesis import given, settings
from hypothesis import strategies as st
from wirekit.combinators import (
    BE,
    LE,
    Consume,
    ParseError,
    Parser,
    any_int8,
    any_uint8,
    count,
    explain,
    int8,
    many,
    parse,
    take,
    varint,
)
from wirekit.serializer import Serializer, serialize_to_bytes

from tests.combinators.helpers import Err, check

PREFIX = Consume.PREFIX

# (reader name, struct code, minimum, maximum)
INTEGERS = [
    ("any_int16", "h", -(1 << 15), (1 << 15) - 1),
    ("any_uint16", "H", 0, (1 << 16) - 1),
    ("any_int32", "i", -(1 << 31), (1 << 31) - 1),
    ("any_uint32", "I", 0, (1 << 32) - 1),
    ("any_int64", "q", -(1 << 63), (1 << 63) - 1),
    ("any_uint64", "Q", 0, (1 << 64) - 1),
]
ORDERS: list[tuple[type[BE] | type[LE], str]] = [(BE, ">"), (LE, "<")]


def test_any_uint8() -> None:
    check(any_uint8, b"\x00", 0)
    check(any_uint8, b"\x7f", 127)
    check(any_uint8, b"\x81", 129)
    check(any_uint8, b"\xff", 255)
    check(any_uint8, b"\xff\x01", 255, consume=PREFIX, rest=b"\x01")
    check(any_uint8, b"", expect_error=Err(0))
    check(count(3, any_uint8), b"\x01\x02\x03", [1, 2, 3])


def test_any_int8() -> None:
    check(any_int8, b"\x00", 0)
    check(any_int8, b"\x7f", 127)
    check(any_int8, b"\x81", -127)
    check(any_int8, b"\x80", -128)
    check(any_int8, b"\xff", -1)
    check(any_int8, b"\xff\x00", -1, consume=PREFIX, rest=b"\x00")
    check(any_int8, b"", expect_error=Err(0))


def test_int8() -> None:
    check(int8(0x61), b"a", 0x61)
    check(int8(0), b"\x00", 0)
    check(int8(255), b"\xff", 255)
    check(int8(-1), b"\xff", -1)
    check(int8(-128), b"\x80", -128)
    check(int8(0x61), b"ab", 0x61, consume=PREFIX, rest=b"b")
    check(int8(0x61), b"b", expect_error=Err(0))
    check(int8(0x61), b"", expect_error=Err(0))


@pytest.mark.parametrize("v", [256, -129, 0xFF61])
def test_int8_rejects_values_out_of_range(v: int) -> None:
    with pytest.raises(ValueError):
        int8(v)


@pytest.mark.parametrize(("name", "code", "lo", "hi"), INTEGERS)
@pytest.mark.parametrize(("ns", "order"), ORDERS)
def test_integer_readers(
    ns: type[BE] | type[LE], order: str, name: str, code: str, lo: int, hi: int
) -> None:
    reader: Parser[int] = getattr(ns, name)
    size = struct.calcsize(code)
    for v in (0, lo, hi, 1, hi // 3):
        raw = struct.pack(order + code, v)
        check(reader, raw, v)
        # A trailing extra byte: left over with PREFIX, an error with ALL.
        check(reader, raw + b"\x01", v, consume=PREFIX, rest=b"\x01")
        check(reader, raw + b"\x01", expect_error=Err(size, ["end of input"]))
    check(reader, b"\x00" * (size - 1), expect_error=Err(0))
    check(reader, b"", expect_error=Err(0))
    check(many(reader), struct.pack(order + code * 3, lo, 0, hi), [lo, 0, hi])


def test_byte_order_differs() -> None:
    check(BE.any_uint16, b"\x01\x02", 0x0102)
    check(LE.any_uint16, b"\x01\x02", 0x0201)
    check(BE.any_int32, b"\xff\xff\xff\xfe", -2)
    check(LE.any_int32, b"\xfe\xff\xff\xff", -2)
    check(BE.any_uint64, bytes(range(1, 9)), 0x0102030405060708)
    check(LE.any_uint64, bytes(range(1, 9)), 0x0807060504030201)


FLOATS = [0.0, -0.0, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45, math.inf, -math.inf]


@pytest.mark.parametrize(("ns", "order"), ORDERS)
def test_float_readers(ns: type[BE] | type[LE], order: str) -> None:
    for v in FLOATS:
        raw = struct.pack(order + "f", v)
        check(ns.any_float, raw, v)
        check(ns.any_float, raw + b"\x00", v, consume=PREFIX, rest=b"\x00")
        check(ns.any_float, raw + b"\x00", expect_error=Err(4))
    check(ns.any_float, struct.pack(order + "f", math.nan), math.nan)
    check(ns.any_float, b"\x00\x00\x00", expect_error=Err(0))


@pytest.mark.parametrize(("ns", "order"), ORDERS)
def test_double_readers(ns: type[BE] | type[LE], order: str) -> None:
    for v in [*FLOATS, 1.7976931348623157e308, 5e-324, 0.1]:
        raw = struct.pack(order + "d", v)
        check(ns.any_double, raw, v)
        check(ns.any_double, raw + b"\x00", v, consume=PREFIX, rest=b"\x00")
        check(ns.any_double, raw + b"\x00", expect_error=Err(8))
    check(ns.any_double, struct.pack(order + "d", math.nan), math.nan)
    check(ns.any_double, b"\x00" * 7, expect_error=Err(0))


def test_reader_values_are_python_numbers() -> None:
    assert type(parse(BE.any_uint32, b"\x00\x00\x00\x01")) is int
    assert type(parse(LE.any_double, struct.pack("<d", 2.0))) is float
    assert type(parse(BE.any_float, struct.pack(">f", 2.0))) is float


# (matcher name, size, minimum, maximum)
MATCHERS = [
    ("int16", 2, -(1 << 15), (1 << 15) - 1),
    ("int32", 4, -(1 << 31), (1 << 31) - 1),
    ("int64", 8, -(1 << 63), (1 << 63) - 1),
]


@pytest.mark.parametrize(("name", "size", "lo", "hi"), MATCHERS)
@pytest.mark.parametrize(("ns", "order"), ORDERS)
def test_constant_matchers(
    ns: type[BE] | type[LE], order: str, name: str, size: int, lo: int, hi: int
) -> None:
    matcher: Callable[[int], Parser[int]] = getattr(ns, name)
    byteorder: Any = "big" if order == ">" else "little"
    for v in (0, lo, hi, 0x0D0A):
        raw = v.to_bytes(size, byteorder, signed=True)
        check(matcher(v), raw, v)
        check(matcher(v), raw + b"\x01", v, consume=PREFIX, rest=b"\x01")
        check(matcher(v), raw + b"\x01", expect_error=Err(size, ["end of input"]))
        # Any other value of the same width is rejected at the matcher's start.
        other = (v + 1 if v != hi else v - 1).to_bytes(size, byteorder, signed=True)
        check(matcher(v), other, expect_error=Err(0))
        check(matcher(v), raw[:-1], expect_error=Err(0))
    # The unsigned spelling of a negative value matches the same bytes.
    unsigned = (1 << (8 * size)) - 1
    check(matcher(unsigned), b"\xff" * size, unsigned)
    check(matcher(-1), b"\xff" * size, -1)


@pytest.mark.parametrize(("name", "size", "lo", "hi"), MATCHERS)
def test_constant_matchers_reject_values_out_of_range(
    name: str, size: int, lo: int, hi: int
) -> None:
    for ns in (BE, LE):
        matcher: Callable[[int], Parser[int]] = getattr(ns, name)
        with pytest.raises(ValueError):
            matcher(lo - 1)
        with pytest.raises(ValueError):
            matcher(1 << (8 * size))


def test_crlf_as_int16() -> None:
    # Angstrom's short-strings benchmark: BE.int16 0x0d0a and LE.int16 0x0a0d match "\r\n".
    check(BE.int16(0x0D0A), b"\r\n", 0x0D0A)
    check(LE.int16(0x0A0D), b"\r\n", 0x0A0D)
    check(BE.int32(0x48545450) >> int8(ord("/")), b"HTTP/", ord("/"))


# --------------------------------------------------------------------------------
# varint
# --------------------------------------------------------------------------------
def encode_varint(n: int) -> bytes:
    """The serializer's encoding of ``n`` (the other half of every round trip)."""
    s = Serializer()
    s.write_varint(n)
    return serialize_to_bytes(s)


# Encodings spelled out in the protobuf encoding guide and by hand, not computed.
VARINTS = [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (150, b"\x96\x01"),
    (300, b"\xac\x02"),
    (16383, b"\xff\x7f"),
    (16384, b"\x80\x80\x01"),
    (2**21 - 1, b"\xff\xff\x7f"),
    (2**28, b"\x80\x80\x80\x80\x01"),
    (2**63, b"\x80" * 9 + b"\x01"),
    (2**64 - 1, b"\xff" * 9 + b"\x01"),
]


@pytest.mark.parametrize(("value", "raw"), VARINTS)
def test_varint_known_encodings(value: int, raw: bytes) -> None:
    check(varint, raw, value)
    check(varint, raw + b"\x05", value, consume=PREFIX, rest=b"\x05")
    check(varint, raw + b"\x05", expect_error=Err(len(raw), ["end of input"]))
    assert encode_varint(value) == raw


def test_varint_accepts_non_minimal_encodings() -> None:
    # Trailing zero groups (protobuf parsers accept them too).
    check(varint, b"\x80\x00", 0)
    check(varint, b"\x81\x80\x00", 1)
    check(varint, b"\x80" * 9 + b"\x00", 0)
    check(varint, b"\xff" * 9 + b"\x00", 2**63 - 1)


def test_varint_in_sequences() -> None:
    values = [0, 300, 2**64 - 1, 127, 128]
    check(many(varint), b"".join(encode_varint(v) for v in values), values)
    # A length-prefixed field: the varint's value drives the next parser.
    check(varint.bind(take), b"\x03abcz", b"abc", consume=PREFIX, rest=b"z")
    check(count(2, varint), b"\xac\x02\x96\x01", [300, 150])


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\xff\xff", b"\x80" * 8])
def test_varint_truncated_at_end_of_input(raw: bytes) -> None:
    # The input ends where another byte must follow: a ParseError there, never an exception.
    err = check(varint, raw, expect_error=Err(len(raw), marks=["varint"])).error
    assert err is not None and "varint" in err.message


def test_varint_truncated_after_nine_bytes() -> None:
    check(varint, b"\x80" * 9, expect_error=Err(9, marks=["varint"], message="10 bytes"))


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80" * 10 + b"\x01",  # 11 bytes
        b"\xff" * 10 + b"\x00",
        b"\x80" * 10,  # an 11th byte would have to follow
        b"\x80" * 40,
        b"\x80" * 16 + b"\x01" + b"more",
    ],
)
def test_varint_longer_than_ten_bytes(raw: bytes) -> None:
    # Rejected at the 10th byte, wherever the input is split: the bound is 10 bytes.
    expect = Err(9, marks=["varint"], message="at most 10 bytes")
    check(varint, raw, expect_error=expect)
    check(varint, raw, expect_error=expect, consume=PREFIX)


@pytest.mark.parametrize("last", [0x02, 0x7F])
def test_varint_above_64_bits(last: int) -> None:
    # The 10th byte holds bits 63 to 69: anything but 0 or 1 there exceeds 64 bits.
    raw = b"\xff" * 9 + bytes([last])
    check(varint, raw, expect_error=Err(9, marks=["varint"], message="64 bits"))


def test_varint_errors_inside_a_larger_grammar() -> None:
    frame = BE.any_uint16 >> varint
    check(frame, b"\x00\x01\x80", expect_error=Err(3, marks=["varint"]))
    with pytest.raises(ParseError) as info:
        parse(frame, b"\x00\x01" + b"\xff" * 12)
    assert info.value.position == 11


def test_varint_compiles_to_one_pattern() -> None:
    # Fused: matched by one regular expression, decoded from the match.
    assert explain(varint).fused


@given(st.integers(0, 2**64 - 1))
def test_varint_round_trip(n: int) -> None:
    assert parse(varint, encode_varint(n)) == n


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=4))
def test_varint_round_trip_at_every_split(values: list[int]) -> None:
    check(many(varint), b"".join(encode_varint(v) for v in values), values)


@given(st.integers(2**64, 2**140))
def test_varint_refuses_what_does_not_fit_64_bits(n: int) -> None:
    raw = encode_varint(n)
    with pytest.raises(ParseError) as info:
        parse(varint, raw)
    assert info.value.position == 9


# The fixed-width readers run alone with one struct call (a fast path); inside a larger
# regular grammar they fuse like ``take(n).map(convert)``. Both must agree with that
# general form on every input, at every split.
READERS_AND_FORMATS = [
    (wc.any_uint8, "B"),
    (wc.any_int8, "b"),
    (wc.BE.any_int16, ">h"),
    (wc.LE.any_uint32, "<I"),
    (wc.BE.any_int64, ">q"),
    (wc.LE.any_double, "<d"),
]


@pytest.mark.parametrize(("reader", "fmt"), READERS_AND_FORMATS)
@given(data=st.binary(min_size=0, max_size=10))
@settings(max_examples=25, deadline=None)
def test_fixed_width_fast_path_agrees_with_the_general_form(reader: Parser[Any], fmt: str, data: bytes) -> None:
    unpack = struct.Struct(fmt).unpack
    general = wc.take(struct.calcsize(fmt)).map(lambda b: unpack(b)[0])
    for p, q in ((reader, general), (wc.char(b"x") >> reader, wc.char(b"x") >> general)):
        for prefix in (b"", b"x"):
            try:
                want: Any = wc.parse(q, prefix + data, wc.Consume.PREFIX)
            except wc.ParseError as e:
                check(p, prefix + data, expect_error=Err(e.position, e.expected), consume=wc.Consume.PREFIX)
            else:
                if want == want:  # NaN is checked by the helper's own comparison
                    check(p, prefix + data, want, consume=wc.Consume.PREFIX, exhaustive=len(data) < 6)
