"""Tables keyed on a node's class, for the walks that do one thing per kind of node
(analysis, compiling, describing, explaining) instead of a chain of ``isinstance``."""

from __future__ import annotations

from typing import TypeVar

from ._compiled import python_class

__all__ = ["ByClass"]

H = TypeVar("H")


@python_class  # (a native class cannot subclass dict)
class ByClass(dict[type, H | None]):
    """A table of entries per node class: ``table[type(node)]`` is the entry for the
    node's class or, failing that, for the nearest of its base classes that has one (as
    an ``isinstance`` test would find it), None if none has. The answer for a class not
    listed is worked out on its first lookup and kept (a plain dict lookup afterwards)."""

    def __missing__(self, cls: type) -> H | None:
        found = None
        for base in cls.__mro__[1:]:
            found = dict.get(self, base)  # (None: not listed, or a class worked out to have none)
            if found is not None:
                break
        self[cls] = found  # (threads racing here store the same answer)
        return found
