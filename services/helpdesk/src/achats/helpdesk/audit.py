"""The agents' and administrators' actions, for the platform administrators (issue 17: who, what, when).

Two sources, read together newest first: the ticket history entries written by an agent (assignment, reply,
information request, internal note, status change, merge, follow links) and ``audit_entries`` (the FAQ's
changes, recorded in the transaction of the change). Entries carry no message text: a reply's or a note's
body, a status comment and the requester's e-mail of a ``link_sent`` entry stay in the ticket."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from achats.chassis.clock import iso
from achats.chassis.pagination import after, decode_position, encode_position

from .models import AuditEntry, FaqEntry, Ticket, TicketEntry
from .tickets import Actor

# Kind of a ticket history entry -> action code; the entry's data kept in the audit (no message, no e-mail).
TICKET_ACTIONS = {
    "assigned": ("ticket.assigned", ("assignee_id", "assignee_name")),
    "reply": ("ticket.replied", ()),
    "information_request": ("ticket.information_requested", ()),
    "note": ("ticket.note_added", ()),
    "status_changed": ("ticket.status_changed", ("from", "to")),
    "merged_into": ("ticket.merged", ("reference",)),
    "links_revoked": ("ticket.links_revoked", ("revoked",)),
    "link_sent": ("ticket.link_sent", ()),
}
FAQ_ACTIONS = ("faq.created", "faq.edited", "faq.published", "faq.unpublished", "faq.moved", "faq.deleted")
CATEGORY_ACTIONS = ("faq_category.created", "faq_category.edited", "faq_category.moved", "faq_category.deleted")


def record(session: Session, actor: Actor, action: str, target_id: str | uuid.UUID | None,
           detail: dict | None = None) -> None:
    """Append an audit entry in the caller's transaction."""
    session.add(AuditEntry(id=uuid.uuid4(), actor_id=actor.id, actor_name=actor.name, action=action,
                           target_id=str(target_id) if target_id is not None else None, detail=detail or {}))


def record_faq_change(session: Session, actor: Actor, entry: FaqEntry, before: dict | None) -> None:
    """The audit entries of a question created (``before`` None) or changed (``before``: its fields before)."""
    if before is None:
        record(session, actor, "faq.created", entry.id, {"published": entry.active})
        return
    edited = [name for name in ("question", "answer", "keywords", "category_id")
              if before.get(name) != getattr(entry, name)]
    if edited:
        record(session, actor, "faq.edited", entry.id, {"fields": edited})
    if before.get("active") != entry.active:
        record(session, actor, "faq.published" if entry.active else "faq.unpublished", entry.id)


def faq_fields(entry: FaqEntry) -> dict:
    return {name: getattr(entry, name) for name in ("question", "answer", "keywords", "category_id", "active")}


def listing(session: Session, *, since: datetime | None = None, actor: str | None = None, limit: int = 50,
            cursor: str | None = None) -> dict:
    """One page of actions, newest first; keyset on (time, id) across both sources."""
    position = decode_position(cursor, (datetime, uuid.UUID))

    def conditions(at_column, id_column, actor_column) -> list:
        found = []
        if since is not None:
            found.append(at_column >= since)
        if actor:
            found.append(actor_column == actor)
        if position is not None:
            found.append(after((at_column, id_column), position, descending=True))
        return found

    rows: list[tuple[datetime, uuid.UUID, dict]] = []
    statement = (select(TicketEntry, Ticket.reference).join(Ticket, Ticket.id == TicketEntry.ticket_id)
                 .where(TicketEntry.author_kind == "agent", TicketEntry.author_id.is_not(None),
                        TicketEntry.kind.in_(TICKET_ACTIONS),
                        *conditions(TicketEntry.created_at, TicketEntry.id, TicketEntry.author_id))
                 .order_by(TicketEntry.created_at.desc(), TicketEntry.id.desc()).limit(limit + 1))
    for entry, reference in session.execute(statement):
        action, kept = TICKET_ACTIONS[entry.kind]
        rows.append((entry.created_at, entry.id, {
            "id": str(entry.id), "at": iso(entry.created_at),
            "actor": {"id": entry.author_id, "name": entry.author_name}, "action": action,
            "target": {"kind": "ticket", "id": str(entry.ticket_id), "reference": reference},
            "detail": {name: (entry.data or {}).get(name) for name in kept}}))
    statement = (select(AuditEntry).where(*conditions(AuditEntry.at, AuditEntry.id, AuditEntry.actor_id))
                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1))
    for item in session.execute(statement).scalars():
        rows.append((item.at, item.id, {
            "id": str(item.id), "at": iso(item.at), "actor": {"id": item.actor_id, "name": item.actor_name},
            "action": item.action,
            "target": {"kind": "faq_category" if item.action in CATEGORY_ACTIONS else "faq_entry",
                       "id": item.target_id, "reference": None},
            "detail": item.detail or {}}))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    page, more = rows[:limit], len(rows) > limit
    following = encode_position(page[-1][:2]) if more else None
    return {"items": [row[2] for row in page], "next_cursor": following}
