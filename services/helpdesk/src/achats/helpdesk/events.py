"""Events the helpdesk publishes (contract: asyncapi.yaml); the one it consumes is in consumers.py.

The six mail events (created, answered, information_requested, resolved, closed, follow_link_sent) carry exactly what
the notifier's contract asks for, with a new follow link each; the others say what changed, without
personal data. Internal notes are never published, not even their existence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from achats.chassis.bus import publish
from achats.chassis.clock import iso

from . import follow
from .models import Ticket
from .settings import HelpdeskSettings

SOURCE = "/helpdesk"
TICKET_CREATED = "helpdesk.ticket.created"
TICKET_ANSWERED = "helpdesk.ticket.answered"
TICKET_INFORMATION_REQUESTED = "helpdesk.ticket.information_requested"
TICKET_RESOLVED = "helpdesk.ticket.resolved"
TICKET_CLOSED = "helpdesk.ticket.closed"
TICKET_FOLLOW_LINK_SENT = "helpdesk.ticket.follow_link_sent"
TICKET_STATUS_CHANGED = "helpdesk.ticket.status_changed"
TICKET_REQUESTER_REPLIED = "helpdesk.ticket.requester_replied"
TICKET_ASSIGNED = "helpdesk.ticket.assigned"

EXCERPT_LENGTH = 500


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length - 1].rstrip() + "…"


def mail(session: Session, settings: HelpdeskSettings, ticket: Ticket, event_type: str, *,
         message: str | None = None, token: str | None = None, now: datetime | None = None) -> bool:
    """Publish one of the requester's mail events; False when there is nobody to mail (anonymised)."""
    if not ticket.email or ticket.anonymised_at is not None:
        return False
    token = token or follow.issue(session, ticket, days=settings.follow_link_days, now=now)
    requester = {"email": ticket.email, "first_name": ticket.first_name or "", "last_name": ticket.last_name or ""}
    if ticket.requester_user_id:
        requester["user_id"] = ticket.requester_user_id
    data = {"ticket_id": str(ticket.id), "reference": ticket.reference, "subject": ticket.subject,
            "requester": requester, "follow_url": settings.follow_url(ticket.reference, token)}
    if message is not None:
        data["message_excerpt"] = excerpt(message)
    publish(session, event_type, data, source=SOURCE, subject=str(ticket.id))
    return True


def status_changed(session: Session, ticket: Ticket, previous: str, by: str, at: datetime) -> None:
    publish(session, TICKET_STATUS_CHANGED, {
        "ticket_id": str(ticket.id), "reference": ticket.reference, "from_status": previous, "to_status": ticket.status,
        "changed_by": by, "changed_at": iso(at), "severity": ticket.severity,
        "category": ticket.category.slug}, source=SOURCE, subject=str(ticket.id))


def requester_replied(session: Session, ticket: Ticket, attachments: int) -> None:
    publish(session, TICKET_REQUESTER_REPLIED, {
        "ticket_id": str(ticket.id), "reference": ticket.reference, "status": ticket.status,
        "assignee_id": ticket.assignee_id, "attachment_count": attachments}, source=SOURCE, subject=str(ticket.id))


def assigned(session: Session, ticket: Ticket) -> None:
    publish(session, TICKET_ASSIGNED, {
        "ticket_id": str(ticket.id), "reference": ticket.reference, "status": ticket.status,
        "assignee_id": ticket.assignee_id, "assignee_name": ticket.assignee_name}, source=SOURCE,
        subject=str(ticket.id))
