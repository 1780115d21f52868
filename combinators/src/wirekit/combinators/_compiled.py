"""A marker for the opt-in compiled build (mypyc, see docs/compiled.md); a no-op in Python."""

from __future__ import annotations

from typing import TypeVar

__all__ = ["python_class"]

_C = TypeVar("_C", bound=type)


def python_class(cls: _C) -> _C:
    """Return ``cls`` unchanged. mypyc leaves a class with a decorator it does not know an
    ordinary Python class: for a namespace of parsers and static methods, which a native
    class cannot hold as class attributes."""
    return cls
