"""The wakeup callbacks a runtime registers when a connection says `Yield`."""

from __future__ import annotations

from collections.abc import Callable

from wirekit.serializer import Serializer

from ._compiled import trait

__all__ = ["Wakeups"]


@trait  # a mixin: mypyc's native classes have one base class and traits
class Wakeups:
    """One pending callback per direction (the runtime's ``yield_reader``/``yield_writer``),
    called once when that direction may make progress again."""

    _out: Serializer
    _wake_read: Callable[[], None] | None
    _wake_write: Callable[[], None] | None

    def yield_reader(self, k: Callable[[], None]) -> None:
        """Register ``k`` to be called when reading may make progress again."""
        self._wake_read = k

    def _wake_reader(self) -> None:
        k, self._wake_read = self._wake_read, None
        if k is not None:
            k()

    def yield_writer(self, k: Callable[[], None]) -> None:
        """Register ``k`` to be called when there may be something to write (at once if
        the output is closed and drained)."""
        if self._out.is_closed and not self._out.has_pending_output:
            k()
            return
        self._wake_write = k

    def _wake_writer(self) -> None:
        k, self._wake_write = self._wake_write, None
        if k is not None:
            k()
