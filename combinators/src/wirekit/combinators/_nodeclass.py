"""Tables keyed on a node's class, for the walks that do one thing per kind of node
(analysis, compiling, describing, explaining) instead of a chain of ``isinstance``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = ["for_class"]

H = TypeVar("H")


def for_class(table: Mapping[type, H], node: object) -> H | None:
    """The entry of ``table`` for ``node``'s class, or for the nearest of its base
    classes that has one (as an ``isinstance`` test would find it); None if none has."""
    found = table.get(type(node))
    if found is not None:
        return found
    for cls in type(node).__mro__[1:]:
        found = table.get(cls)
        if found is not None:
            return found
    return None
