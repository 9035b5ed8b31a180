"""Consuming: apply each event once, in the handler's transaction, with retries and a dead-letter queue."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
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
                              retry_delays=tuple(retry_delays), prefetch=prefetch, batch_size=prefetch)

    def handle(self, delivery: Delivery) -> Outcome:
        return self.handle_batch([delivery])[0]

    def handle_batch(self, deliveries: list[Delivery]) -> list[Outcome]:
        """Apply the events that arrived together in one transaction, each in its own savepoint.

        One commit for the batch is what makes the consumer fast on a database that syncs every
        commit to disk; the savepoints keep each event's effect all-or-nothing, so one failing
        event is retried alone while the others of the batch are applied.
        """
        outcomes: list[Outcome | None] = [None] * len(deliveries)
        work: list[tuple[int, CloudEvent, EventHandler]] = []
        for index, delivery in enumerate(deliveries):
            try:
                event = CloudEvent.from_json(delivery.body)
            except InvalidEvent as exc:
                log.error("bus.event_invalid", queue=self.spec.name, error=str(exc), message_id=delivery.message_id)
                outcomes[index] = Outcome.DEAD
                continue
            handler = self.handlers.get(event.type)
            if handler is None:
                log.warning("bus.event_unhandled", queue=self.spec.name, type=event.type, event_id=event.id)
                outcomes[index] = Outcome.ACK
                continue
            work.append((index, event, handler))
        if work:
            applied = self._apply_fast(work)
            if applied is None:
                applied = self._apply(work, deliveries)
            if applied is None:
                # The batch could not be committed: apply each event alone so one cannot sink the others.
                applied = {}
                for item in work:
                    applied.update(self._apply([item], deliveries) or {item[0]: Outcome.RETRY})
            for index, outcome in applied.items():
                outcomes[index] = outcome
        return [o if o is not None else Outcome.RETRY for o in outcomes]

    def _apply_fast(self, work: list[tuple[int, CloudEvent, EventHandler]]) -> dict[int, Outcome] | None:
        """The common case in few round trips: no duplicate, no failure. None sends the batch to the
        careful path (a savepoint per event), which sorts out whatever went wrong here."""
        outcomes: dict[int, Outcome] = {}
        fresh: dict[str, tuple[int, CloudEvent, EventHandler]] = {}
        try:
            with self.db.unit_of_work() as uow:
                ids = [event.id for _, event, _ in work]
                seen = set(uow.session.execute(select(inbox.c.event_id).where(
                    inbox.c.consumer == self.name, inbox.c.event_id.in_(ids))).scalars())
                for index, event, handler in work:
                    if event.id in seen or event.id in fresh:
                        log.info("bus.event_duplicate", queue=self.spec.name, event_id=event.id)
                        outcomes[index] = Outcome.ACK
                    else:
                        fresh[event.id] = (index, event, handler)
                if fresh:
                    now = clock.now()
                    uow.session.execute(insert(inbox), [
                        {"consumer": self.name, "event_id": e.id, "type": e.type, "processed_at": now}
                        for _, e, _ in fresh.values()])
                for index, event, handler in fresh.values():
                    token = request_id_var.set(event.extensions.get("requestid"))
                    try:
                        handler(uow.session, event)
                    finally:
                        request_id_var.reset(token)
                    outcomes[index] = Outcome.ACK
                uow.commit()
        except Exception:
            return None
        return outcomes

    def _apply(self, work: list[tuple[int, CloudEvent, EventHandler]],
               deliveries: list[Delivery]) -> dict[int, Outcome] | None:
        """Outcomes by index, or None when the commit itself failed."""
        outcomes: dict[int, Outcome] = {}
        try:
            with self.db.unit_of_work() as uow:
                for index, event, handler in work:
                    outcomes[index] = self._apply_one(uow.session, handler, event, deliveries[index].attempt)
                uow.commit()
        except Exception as exc:  # database down, or the commit refused
            log.warning("bus.batch_failed", queue=self.spec.name, size=len(work), error=repr(exc))
            return None if len(work) > 1 else {work[0][0]: Outcome.RETRY}
        return outcomes

    def _apply_one(self, session: Session, handler: EventHandler, event: CloudEvent, attempt: int) -> Outcome:
        bound = log.bind(queue=self.spec.name, type=event.type, event_id=event.id, attempt=attempt)
        token = request_id_var.set(event.extensions.get("requestid"))
        savepoint = session.begin_nested()
        try:
            # The inbox row first: a second copy of the event (another consumer, or the same batch)
            # waits on it, then fails, and is skipped.
            session.execute(insert(inbox).values(
                consumer=self.name, event_id=event.id, type=event.type, processed_at=clock.now()))
        except IntegrityError:
            savepoint.rollback()
            request_id_var.reset(token)
            bound.info("bus.event_duplicate")
            return Outcome.ACK
        try:
            handler(session, event)
            savepoint.commit()
            outcome = Outcome.ACK
        except PermanentError as exc:
            savepoint.rollback()
            bound.error("bus.event_rejected", error=str(exc))
            outcome = Outcome.DEAD
        except Exception as exc:
            savepoint.rollback()
            bound.warning("bus.event_failed", error=repr(exc), exc_info=True)
            outcome = Outcome.RETRY
        request_id_var.reset(token)
        return outcome

    def run(self, stop: threading.Event) -> None:
        self.transport.consume(self.spec, self.handle_batch, stop)

