"""The public names of `wirekit.combinators` (its ``__all__``) exist and are all
exercised by this test suite."""

from __future__ import annotations

import re
from pathlib import Path

import wirekit.combinators as wc

HERE = Path(__file__).resolve().parent


def test_all_names_exist() -> None:
    missing = [name for name in wc.__all__ if not hasattr(wc, name)]
    assert not missing


def test_contract_names_are_public() -> None:
    # The names DESIGN.md promises to code outside the package.
    contract = [
        "Parser",
        "char",
        "not_char",
        "any_char",
        "satisfy",
        "skip",
        "peek_char",
        "peek_char_fail",
        "peek_string",
        "string",
        "string_ci",
        "take",
        "take_while",
        "take_while1",
        "take_till",
        "skip_while",
        "advance",
        "scan",
        "end_of_line",
        "end_of_input",
        "at_end_of_input",
        "available",
        "pos",
        "commit",
        "any_uint8",
        "any_int8",
        "BE",
        "LE",
        "pure",
        "fail",
        "option",
        "both",
        "seq",
        "count",
        "many",
        "many1",
        "many_till",
        "sep_by",
        "sep_by1",
        "skip_many",
        "skip_many1",
        "choice",
        "fix",
        "lookahead",
        "not_followed_by",
        "consumed",
        "generate",
        "lift2",
        "lift3",
        "lift4",
        "parse",
        "ParseError",
        "Consume",
        "Buffered",
        "Unbuffered",
        "Partial",
        "Done",
        "Fail",
        "parse_many",
        "parse_many_async",
        "int8",
        "varint",
    ]
    assert sorted(set(contract) - set(wc.__all__)) == []
    for ns in (wc.BE, wc.LE):
        for name in [
            "any_int16",
            "any_uint16",
            "any_int32",
            "any_uint32",
            "any_int64",
            "any_uint64",
            "any_float",
            "any_double",
            "int16",
            "int32",
            "int64",
        ]:
            assert hasattr(ns, name), f"{ns.__name__}.{name}"
    for method in [
        "map",
        "bind",
        "desc",
        "result",
        "then",
        "skip",
        "many",
        "many1",
        "times",
        "sep_by",
        "optional",
        "parse",
    ]:
        assert callable(getattr(wc.Parser, method)), method


def test_every_public_name_is_exercised_by_the_tests() -> None:
    sources = "\n".join(
        path.read_text() for path in HERE.glob("test_*.py") if path.name != Path(__file__).name
    )
    untested = [name for name in wc.__all__ if not re.search(rf"\b{name}\b", sources)]
    assert not untested, f"no test uses {untested}"
