"""Follow links: unguessable, expiring, revocable capabilities to one ticket, kept only as SHA-256.

Each mail about a ticket carries a new link (the raw token exists only in that mail and in the
answer to the creation); every link works until its own expiry, or until the links of the ticket
are revoked. Whatever is wrong with a link — unknown, expired, revoked, another ticket's — the
answer is the one of a ticket that does not exist.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.problems import Problem

from .models import FollowLink, Ticket

TOKEN_BYTES = 32  # 256 bits, base64url: 43 characters


def ticket_not_found() -> Problem:
    return Problem(status=404, code="ticket_not_found",
                   detail="Cette demande d'assistance n'existe pas ou ce lien de suivi n'est plus valide.")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, ticket: Ticket, *, days: int, now: datetime | None = None) -> str:
    """A new link to ``ticket``; returns the raw token (never stored)."""
    now = now or clock.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(FollowLink(ticket_id=ticket.id, token_hash=digest(token), created_at=now,
                           expires_at=now + timedelta(days=days)))
    return token


def resolve(session: Session, reference: str, token: str | None, *, now: datetime | None = None,
            lock: bool = False) -> Ticket:
    """The ticket a valid link opens, or 404 ``ticket_not_found``."""
    if not token or len(token) > 200:
        raise ticket_not_found()
    link = session.execute(select(FollowLink).where(FollowLink.token_hash == digest(token))).scalar_one_or_none()
    now = now or clock.now()
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        raise ticket_not_found()
    statement = select(Ticket).where(Ticket.id == link.ticket_id)
    if lock:
        statement = statement.with_for_update()
    ticket = session.execute(statement).scalar_one_or_none()
    if ticket is None or ticket.reference != reference or ticket.anonymised_at is not None:
        raise ticket_not_found()
    return ticket


def revoke_all(session: Session, ticket: Ticket, *, now: datetime | None = None) -> int:
    """Every link of the ticket stops working; returns how many were still usable."""
    now = now or clock.now()
    result = session.execute(update(FollowLink).where(FollowLink.ticket_id == ticket.id,
                                                      FollowLink.revoked_at.is_(None),
                                                      FollowLink.expires_at > now)
                             .values(revoked_at=now))
    return result.rowcount or 0
