"""Answers that must not tell whether an account exists also take the same time.

The path that finds an account does real work (database writes, a call to the registry); the path
that finds none waits, instead, about as long as the real path usually takes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable


class Equalizer:
    def __init__(self, initial: float = 0.05, *, sleep: Callable[[float], None] = time.sleep):
        self.typical = initial
        self.sleep = sleep
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        """Learn from a real run (an exponential moving average)."""
        with self._lock:
            self.typical = 0.8 * self.typical + 0.2 * min(seconds, 5.0)

    def pad(self, started: float) -> None:
        """Wait until a decoy run has lasted about as long as a real one."""
        elapsed = time.perf_counter() - started
        remaining = self.typical * random.uniform(0.9, 1.1) - elapsed  # noqa: S311 (not for secrecy)
        if remaining > 0:
            self.sleep(remaining)
