"""The worker's periodic job: resolved tickets are closed automatically after AUTO_CLOSE_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from achats.chassis import clock
from achats.chassis.app import Runtime

from . import tickets
from .models import Ticket

log = structlog.get_logger(__name__)
BATCH = 200


def auto_close(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Close the tickets resolved more than AUTO_CLOSE_DAYS ago, a batch per transaction."""
    settings = runtime.settings
    now = now or clock.now()
    deadline = now - timedelta(days=settings.auto_close_days)
    comment = (f"Demande fermée automatiquement {settings.auto_close_days} jours après sa résolution. "
               "Pour un nouveau problème, créez une nouvelle demande.")
    closed = 0
    while True:
        with runtime.db.unit_of_work() as uow:
            due = uow.session.execute(
                select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= deadline)
                .order_by(Ticket.resolved_at, Ticket.id).limit(BATCH)
                .with_for_update(skip_locked=True)).scalars().all()
            for ticket in due:
                tickets.transition(uow.session, ticket, "closed", actor=tickets.SYSTEM, settings=settings,
                                   comment=comment, now=now)
            uow.commit()
        closed += len(due)
        if len(due) < BATCH:
            break
    if closed:
        log.info("helpdesk.auto_closed", count=closed)
    return closed
