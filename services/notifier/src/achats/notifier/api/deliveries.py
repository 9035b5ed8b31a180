"""/deliveries: find mails, read one as sent, send a failed one again."""

from __future__ import annotations

from datetime import UTC, datetime

from achats.chassis.app import current_runtime
from achats.chassis.clock import iso
from achats.chassis.problems import FieldError
from achats.chassis.validation import validation_problem

from .. import service
from ..mailer import build_message, decoded_headers
from ..models import Delivery
from . import authorize


def _moments(**values: str | None) -> dict[str, datetime | None]:
    """Query times, parsed here: the spec's ``date-time`` format is not enforced by the validator."""
    moments: dict[str, datetime | None] = {}
    errors = []
    for name, value in values.items():
        moment = None
        if value is not None and "T" in value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                pass
        if value is not None and moment is None:
            errors.append(FieldError(field=name, message="Date et heure invalides (format ISO 8601 attendu)."))
        elif moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moments[name] = moment
    if errors:
        raise validation_problem(errors)
    return moments


def summary(delivery: Delivery) -> dict:
    return {
        "id": str(delivery.id), "event_id": delivery.event_id, "event_type": delivery.event_type,
        "template": delivery.template, "recipient": delivery.recipient, "recipient_name": delivery.recipient_name,
        "subject": delivery.subject, "status": delivery.status, "attempts": delivery.attempts,
        "last_error": delivery.last_error, "created_at": iso(delivery.created_at),
        "updated_at": iso(delivery.updated_at), "next_attempt_at": iso(delivery.next_attempt_at),
        "give_up_at": iso(delivery.give_up_at), "sent_at": iso(delivery.sent_at),
        "ticket_id": delivery.ticket_id,
    }


def search(token_info, limit=20, cursor=None, status=None, template=None, recipient=None, event_id=None,
           event_type=None, ticket_id=None, q=None, created_after=None, created_before=None):
    authorize(token_info)
    runtime = current_runtime()
    filters = service.Filters(status=status, template=template, recipient=recipient, event_id=event_id,
                              event_type=event_type, ticket_id=ticket_id, q=q,
                              **_moments(created_after=created_after, created_before=created_before))
    items, next_cursor = service.search(runtime.db.unit_of_work(), filters=filters,
                                        limit=min(limit, runtime.settings.max_page_size), cursor=cursor)
    return {"items": [summary(d) for d in items], "next_cursor": next_cursor}, 200


def get(token_info, delivery_id):
    authorize(token_info)
    runtime = current_runtime()
    settings = runtime.settings
    delivery = service.delivery(runtime.db.unit_of_work(), delivery_id=delivery_id)
    mail = service.shown(delivery, reveal_links=settings.reveal_links)
    message = build_message(sender=settings.sender, sender_name=settings.platform_name,
                            recipient=delivery.recipient, recipient_name=delivery.recipient_name,
                            subject=mail.subject, text=mail.text, html=mail.html, message_id=delivery.message_id,
                            date=delivery.created_at)
    headers = decoded_headers(message)
    return {**summary(delivery), "message_id": delivery.message_id, "headers": headers, "text": mail.text,
            "html": mail.html}, 200


def retry(token_info, delivery_id):
    authorize(token_info)
    runtime = current_runtime()
    delivery = service.retry(runtime.db.unit_of_work(), delivery_id=delivery_id,
                             give_up_after=runtime.settings.mail_give_up_after, wake=runtime.deps.mail_wake)
    return summary(delivery), 202
