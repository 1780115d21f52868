"""Markers for the opt-in compiled build (mypyc, see docs/compiled.md); no-ops in Python.

mypyc compiles a class to a native class unless told otherwise. Two kinds of class here
cannot be native: a subclass of most built-in exceptions, and a class whose instances
are made with ``object.__new__`` (a native instance cannot skip ``__init__``). A class
with a decorator mypyc does not know stays an ordinary Python class: `python_class`.
The mixins of the connections must be mypyc traits, since a native class has one base
class: `trait` is `mypy_extensions.trait` where that is installed (mypy brings it), else
an identity function (mypyc reads the decorator at compile time only).
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["python_class", "trait"]

_C = TypeVar("_C", bound=type)
_T = TypeVar("_T")


def python_class(cls: _C) -> _C:
    """Return ``cls`` unchanged: under mypyc, it stays an ordinary Python class."""
    return cls


try:
    from mypy_extensions import trait
except ImportError:  # plain Python without mypy: nothing to do

    def trait(cls: _T) -> _T:
        """Return ``cls`` unchanged."""
        return cls
