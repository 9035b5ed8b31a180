"""Consuming: apply each event once, in the handler's transaction, with retries and a dead-letter queue."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..context import request_id_var
from ..db import Database
from .envelope import CloudEvent, InvalidEvent
from .schema import inbox
from .transport import Delivery, Outcome, QueueSpec, Transport

log = structlog.get_logger(__name__)

EventHandler = Callable[[Session, CloudEvent], None]


class PermanentError(Exception):
    """Raised by a handler for an event that can never be applied: dead-letter it at once."""


class EventConsumer:
    """Binds a service's handlers (by event type) to its queue, with an idempotent inbox."""

    def __init__(self, *, name: str, db: Database, transport: Transport, handlers: dict[str, EventHandler],
                 queue_prefix: str = "", retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0),
                 prefetch: int = 50):
        self.name = name
        self.db = db
        self.transport = transport
        self.handlers = dict(handlers)
        self.spec = QueueSpec(name=f"{queue_prefix}{name}.events", bindings=tuple(sorted(self.handlers)),
                              retry_delays=tuple(retry_delays), prefetch=prefetch)

    def handle(self, delivery: Delivery) -> Outcome:
        try:
            event = CloudEvent.from_json(delivery.body)
        except InvalidEvent as exc:
            log.error("bus.event_invalid", queue=self.spec.name, error=str(exc), message_id=delivery.message_id)
            return Outcome.DEAD
        handler = self.handlers.get(event.type)
        if handler is None:
            log.warning("bus.event_unhandled", queue=self.spec.name, type=event.type, event_id=event.id)
            return Outcome.ACK
        token = request_id_var.set(event.extensions.get("requestid"))
        try:
            return self._apply(handler, event, delivery.attempt)
        finally:
            request_id_var.reset(token)

    def _apply(self, handler: EventHandler, event: CloudEvent, attempt: int) -> Outcome:
        bound = log.bind(queue=self.spec.name, type=event.type, event_id=event.id, attempt=attempt)
        with self.db.unit_of_work() as uow:
            try:
                # The inbox row first: a second copy of the event blocks here, then fails, and is skipped.
                uow.session.execute(insert(inbox).values(
                    consumer=self.name, event_id=event.id, type=event.type, processed_at=datetime.now(UTC)))
            except IntegrityError:
                bound.info("bus.event_duplicate")
                return Outcome.ACK
            except Exception as exc:  # database down: try again later
                bound.warning("bus.event_failed", error=repr(exc))
                return Outcome.RETRY
            try:
                handler(uow.session, event)
                uow.commit()
            except PermanentError as exc:
                bound.error("bus.event_rejected", error=str(exc))
                return Outcome.DEAD
            except IntegrityError as exc:
                # Two copies raced past the inbox insert on a database without row locks (SQLite):
                # the loser sees the winner's row on commit.
                if _is_inbox_conflict(exc):
                    bound.info("bus.event_duplicate")
                    return Outcome.ACK
                bound.warning("bus.event_failed", error=repr(exc))
                return Outcome.RETRY
            except Exception as exc:
                bound.warning("bus.event_failed", error=repr(exc), exc_info=True)
                return Outcome.RETRY
        bound.debug("bus.event_applied")
        return Outcome.ACK

    def run(self, stop: threading.Event) -> None:
        self.transport.consume(self.spec, self.handle, stop)


def _is_inbox_conflict(exc: IntegrityError) -> bool:
    return "bus_inbox" in str(exc.orig)
