"""The loop of a background worker that drains a table in batches: the outbox relay, the notifier's sender.

It takes batches while they come full, then waits for a wake-up (a commit that queued work) or the poll
interval. A failed batch is logged and tried again after a pause that doubles up to ``max_backoff``, so a
database or broker outage costs retries, never the worker. Once an hour it runs the worker's
housekeeping (forgetting old rows); while it waits, it calls ``idle`` at least every half second (answer
heartbeats, close an idle connection).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger(__name__)

FIRST_PAUSE = 0.1
HOUSEKEEPING_EVERY = 3600.0


def _nothing() -> None:
    return None


@dataclass
class DrainLoop:
    """``step`` takes one batch and says how many items it took; a full batch means more may wait."""

    step: Callable[[], int]
    batch_size: int
    wake: threading.Event
    poll_interval: float
    # Log event names: ``{event}_failed`` with the traceback for an unexpected failure, ``{event}_retrying``
    # without one for the ``expected`` failures (an outage the worker is built to wait out).
    event: str
    expected: tuple[type[BaseException], ...] = ()
    max_backoff: float = 5.0
    on_failure: Callable[[], None] = _nothing
    housekeeping: Callable[[], None] = _nothing
    idle: Callable[[], None] = _nothing
    log_fields: dict[str, Any] = field(default_factory=dict)
    monotonic: Callable[[], float] = time.monotonic

    def run(self, stop: threading.Event) -> None:
        pause = FIRST_PAUSE
        last_housekeeping = None
        while not stop.is_set():
            self.wake.clear()
            try:
                while not stop.is_set() and self.step() == self.batch_size:
                    pass
                pause = FIRST_PAUSE
            except Exception as exc:  # the database or the broker may be down: keep the worker alive
                self._failed(exc, pause)
                stop.wait(pause)
                pause = min(pause * 2, self.max_backoff)
                continue
            if last_housekeeping is None or self.monotonic() - last_housekeeping > HOUSEKEEPING_EVERY:
                last_housekeeping = self.monotonic()
                self._housekeep()
            self._wait(stop)

    def _failed(self, exc: Exception, pause: float) -> None:
        if isinstance(exc, self.expected):
            log.warning(f"{self.event}_retrying", error=str(exc), retry_in=pause, **self.log_fields)
        else:
            log.exception(f"{self.event}_failed", retry_in=pause, **self.log_fields)
        try:
            self.on_failure()
        except Exception:
            log.warning(f"{self.event}_cleanup_failed", exc_info=True, **self.log_fields)

    def _housekeep(self) -> None:
        try:
            self.housekeeping()
        except Exception:
            log.warning(f"{self.event}_housekeeping_failed", exc_info=True, **self.log_fields)

    def _wait(self, stop: threading.Event) -> None:
        deadline = self.monotonic() + self.poll_interval
        while not stop.is_set() and not self.wake.is_set():
            left = deadline - self.monotonic()
            if left <= 0:
                return
            self.wake.wait(min(0.5, left))
            try:
                self.idle()
            except Exception as exc:  # a dead connection: the next batch opens another
                self._failed(exc, 0.0)
