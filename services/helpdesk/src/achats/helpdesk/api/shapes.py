"""JSON shapes of categories, FAQ entries and tickets — the requester's view never holds internal entries."""

from __future__ import annotations

from achats.chassis.clock import iso

from .. import history
from ..models import Attachment, Category, FaqEntry, Ticket, TicketEntry
from ..settings import HelpdeskSettings
from ..tickets import FREQUENCIES, SEVERITIES, STATUSES, TicketView

SUPPORT_NAME = "Équipe support"


def category(item: Category, faq_count: int) -> dict:
    return {"id": str(item.id), "slug": item.slug, "label": item.label, "description": item.description,
            "position": item.position, "active": item.active, "faq_count": faq_count}


def category_ref(item: Category) -> dict:
    return {"id": str(item.id), "slug": item.slug, "label": item.label}


def faq_entry(item: FaqEntry) -> dict:
    return {"id": str(item.id), "category_id": str(item.category_id), "question": item.question,
            "answer": item.answer, "keywords": item.keywords, "position": item.position, "active": item.active}


def contact(ticket: Ticket) -> dict:
    return {"email": ticket.email, "first_name": ticket.first_name, "last_name": ticket.last_name,
            "phone": ticket.phone, "company": ticket.company}


def summary(ticket: Ticket, *, for_agent: bool) -> dict:
    shape = {"id": str(ticket.id), "reference": ticket.reference, "subject": ticket.subject,
             "status": ticket.status, "status_label": STATUSES[ticket.status], "severity": ticket.severity,
             "severity_label": SEVERITIES[ticket.severity][0], "category": category_ref(ticket.category),
             "created_at": iso(ticket.created_at), "updated_at": iso(ticket.updated_at)}
    if for_agent:
        shape["requester"] = contact(ticket)
        shape["assignee"] = _assignee(ticket)
    return shape


def _assignee(ticket: Ticket) -> dict | None:
    return {"id": ticket.assignee_id, "name": ticket.assignee_name} if ticket.assignee_id else None


def attachment(item: Attachment) -> dict:
    return {"id": str(item.id), "filename": item.filename, "content_type": item.content_type, "size": item.size,
            "created_at": iso(item.created_at)}


def entry(item: TicketEntry, files: list[Attachment], *, for_agent: bool) -> dict:
    change = None
    if item.kind == "status_changed":
        before, after = item.data.get("from"), item.data.get("to")
        change = {"from": before, "to": after, "from_label": STATUSES.get(before, before),
                  "to_label": STATUSES.get(after, after)}
    name = item.author_name
    if item.author_kind == "agent" and not for_agent:
        name = SUPPORT_NAME  # requesters see the team, not which agent
    shape = {"id": str(item.id), "kind": item.kind, "kind_label": history.KINDS.get(item.kind, item.kind),
             "author": {"kind": item.author_kind, "name": name}, "message": item.body, "status_change": change,
             "attachments": [attachment(a) for a in files], "created_at": iso(item.created_at)}
    if for_agent:
        shape["internal"] = item.internal
        shape["author"]["id"] = item.author_id
        shape["data"] = item.data or {}
    return shape


def ticket(seen: TicketView, settings: HelpdeskSettings) -> dict:
    """The ticket and its history, as the view lets its reader see them (tickets.view)."""
    item, for_agent = seen.ticket, seen.for_agent
    shape = {
        "id": str(item.id), "reference": item.reference, "subject": item.subject, "status": item.status,
        "status_label": STATUSES[item.status], "category": category_ref(item.category), "severity": item.severity,
        "severity_label": SEVERITIES[item.severity][0], "frequency": item.frequency,
        "frequency_label": FREQUENCIES.get(item.frequency) if item.frequency else None,
        "contact": contact(item), "context": item.context, "support_phone": settings.support_phone,
        "support_hours": settings.support_hours, "can_reply": item.status != "closed",
        "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
        "resolved_at": iso(item.resolved_at), "closed_at": iso(item.closed_at),
        "history": [entry(e, seen.files.get(e.id, []), for_agent=for_agent) for e in seen.entries],
    }
    if for_agent:
        shape.update(requester_user_id=item.requester_user_id, requester_company_id=item.requester_company_id,
                     assignee=_assignee(item), attachment_count=item.attachment_count,
                     active_follow_links=seen.active_follow_links, anonymised_at=iso(item.anonymised_at))
    return shape


def confirmation(item: Ticket, settings: HelpdeskSettings) -> str:
    """What the page shows once the form is sent: the reference, and now the phone number."""
    return (f"Votre demande d'assistance n° {item.reference} - \"{item.subject}\" a bien été enregistrée. "
            f"Un courriel vous a été envoyé avec un lien pour la suivre. L'assistance téléphonique est "
            f"joignable {settings.support_hours} au {settings.support_phone} : indiquez la référence "
            f"{item.reference} à l'opérateur.")
