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
    """A time as the APIs write it: ISO 8601 in UTC with ``Z`` (RFC 3339), None kept. A naive time is taken
    as UTC, as the X.509 and ASN.1 libraries (cryptography, asn1crypto through pyHanko) give them, never as
    the machine's local time."""
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


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
