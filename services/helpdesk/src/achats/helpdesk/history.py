"""A ticket's history: every change appended as an entry, public (the requester sees it) or internal."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from achats.chassis import clock

from .models import Ticket, TicketEntry

# Kind of entry -> French label; the internal kinds are never shown to the requester.
KINDS = {
    "created": "Demande créée",
    "message": "Message du demandeur",
    "reply": "Réponse du support",
    "information_request": "Demande de complément d'information",
    "status_changed": "Changement d'état",
    "note": "Note interne",
    "assigned": "Attribution",
    "links_revoked": "Liens de suivi révoqués",
    "anonymised": "Coordonnées du demandeur effacées",
    "merged": "Doublon fusionné dans cette demande",
    "merged_into": "Fusionnée avec une autre demande",
    "link_sent": "Nouveau lien de suivi envoyé",
}
INTERNAL_KINDS = frozenset({"note", "assigned", "links_revoked", "anonymised", "merged", "merged_into", "link_sent"})


def append(session: Session, ticket: Ticket, *, kind: str, author_kind: str, author_id: str | None = None,
           author_name: str | None = None, body: str | None = None, data: dict | None = None,
           now: datetime | None = None) -> TicketEntry:
    """Add an entry at the end of the history (the caller holds the ticket's row lock)."""
    now = now or clock.now()
    ticket.entry_count += 1
    ticket.updated_at = now
    entry = TicketEntry(id=uuid.uuid4(), ticket_id=ticket.id, position=ticket.entry_count, kind=kind,
                        internal=kind in INTERNAL_KINDS, author_kind=author_kind, author_id=author_id,
                        author_name=author_name, body=body, data=data or {}, created_at=now)
    session.add(entry)
    return entry


def entries(session: Session, ticket: Ticket, *, include_internal: bool) -> list[TicketEntry]:
    statement = select(TicketEntry).where(TicketEntry.ticket_id == ticket.id).order_by(TicketEntry.position)
    if not include_internal:
        statement = statement.where(TicketEntry.internal.is_(False))
    return list(session.execute(statement).scalars())
