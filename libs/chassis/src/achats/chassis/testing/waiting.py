"""Waiting in tests for something that happens in another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05, *,
               give_up: Callable[[], object] | None = None) -> bool:
    """True as soon as ``predicate()`` is true, checked every ``interval`` seconds; after ``timeout`` seconds
    (or as soon as ``give_up()`` is true: the process that should do it has exited...) the last answer of
    ``predicate()``. Callers assert on it, or fail with their own message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if give_up is not None and give_up():
            break
        time.sleep(interval)
    return bool(predicate())
