"""The platform's clock: the one ``now()`` every service reads, and the one way an API writes a time.

A test sets the time with ``clock.frozen(moment)`` (or ``clock.use(source)`` for a clock that moves)
instead of patching a module's own ``now``: the code under test reads ``clock.now()`` at call time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

__all__ = ["frozen", "iso", "now", "use"]


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    """The current time, aware, in UTC."""
    return _source()


def iso(moment: datetime | None) -> str | None:
    """A time as the APIs write it: ISO 8601 in UTC with ``Z`` (RFC 3339), None kept."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


@contextmanager
def use(source: Callable[[], datetime]) -> Iterator[None]:
    """Read the time from ``source`` within the block (a test's clock)."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous


def frozen(moment: datetime):
    """The time stands still at ``moment`` within the block."""
    return use(lambda: moment)
