"""The sender loop: claims due mails, hands them to the mail server, records each outcome, retries with backoff.

A mail is claimed by pushing its ``next_attempt_at`` past a lease in a short transaction (with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several senders never take the same mail and no
transaction stays open while the mail server talks. If a sender dies after the server accepted a
mail but before recording it, the lease expires and the mail goes again with the same Message-ID:
that window (one mail, after a crash) is the only way a mail can arrive twice.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import structlog
from sqlalchemy import delete, select, update

from achats.chassis import clock
from achats.chassis.db import Database
from achats.chassis.drain import DrainLoop

from .mailer import (
    Connection,
    MailTransport,
    PermanentFailure,
    TemporaryFailure,
    Unavailable,
    build_message,
)
from .models import FAILED, QUEUED, SENT, Delivery
from .settings import NotifierSettings

log = structlog.get_logger(__name__)

# An idle SMTP connection is closed after this long; servers drop idle clients anyway.
IDLE_CLOSE_SECONDS = 5.0


def backoff_delay(attempts: int, *, initial: float, maximum: float, rng: random.Random | None = None) -> float:
    """Seconds before the next try after ``attempts`` tries: doubling from ``initial``, capped, half jittered."""
    base = min(maximum, initial * 2 ** max(0, attempts - 1))
    return base / 2 + (rng or random).uniform(0, base / 2)


class MailSender:
    def __init__(self, *, db: Database, transport: MailTransport, settings: NotifierSettings,
                 wake: threading.Event, name: str = "sender"):
        self.db = db
        self.transport = transport
        self.settings = settings
        self.wake = wake
        self.name = name
        self.batch_size = settings.mail_batch_size
        # Long enough for a whole batch of slow-but-alive exchanges; a dead sender's mails wait that long.
        self.lease = timedelta(seconds=60 + settings.mail_batch_size * settings.mail_timeout)
        self._connection: Connection | None = None
        self._last_used = 0.0
        self.sent = 0

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        log.info("notifier.sender_started", sender=self.name, transport=self.transport.describe())
        loop = DrainLoop(step=self.run_once, batch_size=self.batch_size, wake=self.wake,
                         poll_interval=self.settings.mail_poll_interval, event="notifier.sender",
                         on_failure=self._close, housekeeping=self._prune, idle=self._close_if_idle,
                         log_fields={"sender": self.name})
        try:
            loop.run(stop)
        finally:
            self._close()

    def run_once(self) -> int:
        """Send the mails due now (one batch at most); how many were claimed."""
        claimed = self._claim()
        for index, delivery in enumerate(claimed):
            try:
                self._send(delivery)
            except Unavailable as exc:
                # Nothing gets through now: this mail and the rest of the batch wait their turn.
                log.warning("notifier.mail_server_unavailable", sender=self.name, error=str(exc),
                            waiting=len(claimed) - index)
                self._close()
                self._record_temporary(claimed[index:], str(exc))
                break
            except TemporaryFailure as exc:
                log.warning("notifier.mail_deferred", delivery_id=str(delivery.id), error=str(exc))
                self._record_temporary([delivery], str(exc))
            except PermanentFailure as exc:
                log.warning("notifier.mail_rejected", delivery_id=str(delivery.id), error=str(exc))
                self._finish(delivery, FAILED, str(exc))
            else:
                self._finish(delivery, SENT, None)
                self.sent += 1
        return len(claimed)

    # --- steps ----------------------------------------------------------------------------

    def _claim(self) -> list[Delivery]:
        now = clock.now()
        with self.db.unit_of_work() as uow:
            rows = list(uow.session.execute(
                select(Delivery)
                .where(Delivery.status == QUEUED, Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).scalars())
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + self.lease
                row.updated_at = now
            uow.commit()
        return rows

    def _send(self, delivery: Delivery) -> None:
        try:
            message = build_message(sender=self.settings.sender, sender_name=self.settings.platform_name,
                                    recipient=delivery.recipient, recipient_name=delivery.recipient_name,
                                    subject=delivery.subject, text=delivery.text_body, html=delivery.html_body,
                                    message_id=delivery.message_id, date=delivery.created_at)
        except (ValueError, TypeError) as exc:  # an address or header the mail format cannot carry
            raise PermanentFailure(f"message: {exc}") from None
        reused = self._connection is not None
        try:
            self._connect().send(message, sender=self.settings.sender, recipient=delivery.recipient)
        except Unavailable:
            self._close()
            if not reused:
                raise
            # The connection kept from an earlier batch may have been dropped by the server meanwhile.
            self._connect().send(message, sender=self.settings.sender, recipient=delivery.recipient)
        self._last_used = time.monotonic()

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self.transport.connect()
        return self._connection

    def _close_if_idle(self) -> None:
        # Mail servers drop idle clients anyway; a closed connection costs one handshake on the next mail.
        if self._connection is not None and time.monotonic() - self._last_used > IDLE_CLOSE_SECONDS:
            self._close()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _finish(self, delivery: Delivery, status: str, error: str | None) -> None:
        now = clock.now()
        table = Delivery.__table__
        with self.db.engine.begin() as connection:  # Core: this runs once per mail, keep it lean
            connection.execute(update(table).where(table.c.id == delivery.id, table.c.status == QUEUED).values(
                status=status, last_error=error[:2000] if error else None, next_attempt_at=None,
                updated_at=now, sent_at=now if status == SENT else None))

    def _record_temporary(self, deliveries: list[Delivery], error: str) -> None:
        """Schedule the next try, or give up when it would come after the delivery's deadline."""
        now = clock.now()
        s = self.settings
        with self.db.unit_of_work() as uow:
            for delivery in deliveries:
                row = uow.session.get(Delivery, delivery.id)
                if row is None or row.status != QUEUED:
                    continue
                delay = backoff_delay(row.attempts, initial=s.mail_retry_initial, maximum=s.mail_retry_max)
                row.updated_at = now
                row.last_error = error[:2000]
                if now + timedelta(seconds=delay) > row.give_up_at:
                    row.status = FAILED
                    row.next_attempt_at = None
                    row.last_error = f"given up after {row.attempts} attempt(s): {error}"[:2000]
                    log.error("notifier.mail_given_up", delivery_id=str(row.id), attempts=row.attempts)
                else:
                    row.next_attempt_at = now + timedelta(seconds=delay)
            uow.commit()

    def _prune(self) -> None:
        cutoff = clock.now() - timedelta(days=self.settings.mail_retention_days)
        with self.db.unit_of_work() as uow:
            uow.session.execute(delete(Delivery).where(Delivery.status.in_((SENT, FAILED)),
                                                       Delivery.updated_at < cutoff))
            uow.commit()
