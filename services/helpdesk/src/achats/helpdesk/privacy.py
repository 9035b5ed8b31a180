"""Privacy: when an account is deleted, its tickets lose the requester's contact data; the history stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from achats.chassis import clock

from . import follow, history
from .context import UNKNOWN
from .models import Ticket, TicketEntry


def anonymise_user(session: Session, *, user_id: str, email: str | None = None,
                   now: datetime | None = None) -> int:
    """Anonymise the tickets of an account: those it created, and those sent anonymously with its
    e-mail address (an address belongs to one account only). Returns how many changed."""
    conditions = [Ticket.requester_user_id == user_id]
    if email and email.strip():
        conditions.append(func.lower(Ticket.email) == email.strip().lower())
    tickets = session.execute(select(Ticket).where(or_(*conditions), Ticket.anonymised_at.is_(None))
                              .order_by(Ticket.id).with_for_update()).scalars().all()
    for ticket in tickets:
        anonymise(session, ticket, now=now)
    session.flush()
    return len(tickets)


def anonymise(session: Session, ticket: Ticket, *, now: datetime | None = None) -> None:
    now = now or clock.now()
    ticket.email = ticket.first_name = ticket.last_name = ticket.phone = ticket.company = None
    ticket.requester_user_id = ticket.requester_company_id = None
    ticket.idempotency_scope = ticket.idempotency_key = None
    context = {block: dict(values) for block, values in (ticket.context or {}).items()}
    applicative = context.setdefault("applicative", {})
    applicative.update(user_name=UNKNOWN, user_email=UNKNOWN, company=UNKNOWN)
    context.setdefault("technical", {})["user_agent"] = None
    ticket.context = context
    session.execute(update(TicketEntry).where(TicketEntry.ticket_id == ticket.id,
                                              TicketEntry.author_kind == "requester")
                    .values(author_id=None, author_name=None))
    follow.revoke_all(session, ticket, now=now)
    history.append(session, ticket, kind="anonymised", author_kind="system", now=now)
    ticket.anonymised_at = now
