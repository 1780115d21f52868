"""The one spelling of "unbounded" in the combinators: counts, lengths and depths that
have no upper limit are this number (larger than any input), so that they compare and
add like numbers."""

from __future__ import annotations

from typing import Final

__all__ = ["INF"]

INF: Final = 1 << 62
