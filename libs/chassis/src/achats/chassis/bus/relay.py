"""The outbox relay: publishes committed outbox rows with confirms, once woken or on a poll."""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog
from sqlalchemy import delete, select, update

from .. import clock
from ..db import Database
from ..drain import DrainLoop
from .outbox import NOTIFY_CHANNEL, wakeup_key, wakeups
from .schema import inbox, outbox
from .transport import OutgoingMessage, Transport, TransportError

log = structlog.get_logger(__name__)


class OutboxRelay:
    """Moves outbox rows to the broker. Several relays may share a database (SKIP LOCKED)."""

    def __init__(self, db: Database, transport: Transport, *, batch_size: int = 200,
                 poll_interval: float = 1.0, retention: timedelta = timedelta(days=7),
                 max_backoff: float = 5.0, listen: bool = True):
        self.db = db
        self.transport = transport
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.max_backoff = max_backoff
        self.listen = listen and db.dialect == "postgresql"
        self.wake = threading.Event()
        self.published = 0
        self._publisher = None

    def run_once(self) -> int:
        """Publish one batch of pending rows; return how many left the outbox."""
        if self._publisher is None:
            self._publisher = self.transport.publisher()
        with self.db.unit_of_work() as uow:
            rows = uow.session.execute(
                select(outbox.c.seq, outbox.c.event_id, outbox.c.type, outbox.c.body)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            messages = [OutgoingMessage(routing_key=r.type, body=r.body.encode(), message_id=r.event_id)
                        for r in rows]
            try:
                routed = self._publisher.publish_batch(messages)
            except TransportError as exc:
                uow.rollback()
                self._record_failure([r.seq for r in rows], str(exc))
                raise
            now = clock.now()
            sent = [r.seq for r, ok in zip(rows, routed, strict=True) if ok]
            unroutable = [r for r, ok in zip(rows, routed, strict=True) if not ok]
            if sent:
                uow.session.execute(update(outbox).where(outbox.c.seq.in_(sent))
                                    .values(published_at=now, status="published"))
            if unroutable:
                # No queue is bound to this type: nobody subscribes, nothing is lost by not retrying.
                for row in unroutable:
                    log.warning("bus.event_unroutable", type=row.type, event_id=row.event_id)
                uow.session.execute(update(outbox).where(outbox.c.seq.in_([r.seq for r in unroutable]))
                                    .values(published_at=now, status="unroutable"))
            uow.commit()
        self.published += len(rows)
        return len(rows)

    def _record_failure(self, seqs: list[int], error: str) -> None:
        try:
            with self.db.unit_of_work() as uow:
                uow.session.execute(update(outbox).where(outbox.c.seq.in_(seqs))
                                    .values(attempts=outbox.c.attempts + 1, last_error=error[:1000]))
                uow.commit()
        except Exception:  # the database may be the thing that is down
            log.warning("bus.relay_record_failure_failed", exc_info=True)

    def prune(self) -> None:
        """Forget published rows and inbox entries older than the retention period."""
        cutoff = clock.now() - self.retention
        with self.db.unit_of_work() as uow:
            uow.session.execute(delete(outbox).where(outbox.c.published_at < cutoff))
            uow.session.execute(delete(inbox).where(inbox.c.processed_at < cutoff))
            uow.commit()

    def run(self, stop: threading.Event) -> None:
        key = wakeup_key(self.db.engine.url)
        wakeups.subscribe(key, self.wake)
        listener = None
        if self.listen:
            listener = threading.Thread(target=self._listen, args=(stop,), daemon=True,
                                        name="outbox-listen")
            listener.start()
        loop = DrainLoop(step=self.run_once, batch_size=self.batch_size, wake=self.wake,
                         poll_interval=self.poll_interval, event="bus.relay", expected=(TransportError,),
                         max_backoff=self.max_backoff, housekeeping=self.prune, idle=self._keepalive)
        try:
            loop.run(stop)
        finally:
            wakeups.unsubscribe(key, self.wake)
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None
            if listener is not None:
                listener.join(timeout=5)

    def _keepalive(self) -> None:
        # An idle AMQP connection must still answer the broker's heartbeats.
        if self._publisher is not None:
            self._publisher.keepalive()

    def _listen(self, stop: threading.Event) -> None:
        """Wake on PostgreSQL NOTIFY, so relays in other processes hear every commit."""
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.wake.set()
            except psycopg.Error as exc:
                log.warning("bus.relay_listen_failed", error=str(exc))
                stop.wait(1.0)

