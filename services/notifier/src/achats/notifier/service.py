"""Use cases of the notifier: queue the mails of an event, find deliveries, retry one, preview a template."""

from __future__ import annotations

import html
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.pagination import keyset_page
from achats.chassis.problems import Problem

from . import contract
from .mailer import new_message_id
from .mails import TEMPLATES, Mail, mails_for
from .models import FAILED, QUEUED, Delivery
from .rendering import RenderedMail, Renderer

HIDDEN_LINK = "[lien masqué]"


def queue(session: Session, *, event_id: str, event_type: str, mails: list[Mail], renderer: Renderer,
          mail_domain: str, give_up_after: float, now: datetime | None = None) -> int:
    """Render and store the mails of one event, ready to send; how many were new.

    A (event, template, recipient) already stored is left alone, so an event applied again, by
    whatever path, never queues a second mail. Only the session is touched: this runs in the
    consumer's transaction.
    """
    if not mails:
        return 0
    now = now or clock.now()
    rows = []
    for mail in mails:
        rendered = renderer.render(mail)
        rows.append({
            "id": uuid.uuid4(), "event_id": event_id, "event_type": event_type, "template": mail.template.name,
            "recipient": mail.recipient.email, "recipient_name": mail.recipient.name or None,
            "subject": rendered.subject, "text_body": rendered.text, "html_body": rendered.html,
            "message_id": new_message_id(mail_domain), "secret_links": mail.secret_links, "status": QUEUED,
            "attempts": 0, "last_error": None, "created_at": now, "updated_at": now, "next_attempt_at": now,
            "give_up_at": now + timedelta(seconds=give_up_after), "sent_at": None,
            "ticket_id": _ticket_of(event_type, mail.context),
        })
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = Delivery.__table__
    statement = (insert(table).values(rows)
                 .on_conflict_do_nothing(index_elements=["event_id", "template", "recipient"])
                 .returning(table.c.id))  # only the rows inserted: a reliable count on both databases
    return len(session.execute(statement).all())


def _ticket_of(event_type: str, data: dict) -> str | None:
    """The helpdesk ticket a mail is about (its contract's ``ticket_id``), else None."""
    value = data.get("ticket_id") if event_type.startswith("helpdesk.") else None
    return str(value)[:64] if value else None


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    template: str | None = None
    recipient: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    ticket_id: str | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def search(uow: UnitOfWork, *, filters: Filters, limit: int, cursor: str | None = None
           ) -> tuple[list[Delivery], str | None]:
    """Newest first; ``cursor`` continues after the last item of the previous page."""
    statement = select(Delivery)
    f = filters
    for column, value in ((Delivery.status, f.status), (Delivery.template, f.template),
                          (Delivery.event_id, f.event_id), (Delivery.event_type, f.event_type),
                          (Delivery.ticket_id, f.ticket_id)):
        if value is not None:
            statement = statement.where(column == value)
    if f.recipient:
        statement = statement.where(func.lower(Delivery.recipient) == f.recipient.strip().lower())
    if f.q:
        needle = f.q.strip().lower()
        statement = statement.where(or_(func.lower(Delivery.recipient).contains(needle, autoescape=True),
                                        func.lower(Delivery.subject).contains(needle, autoescape=True)))
    if f.created_after is not None:
        statement = statement.where(Delivery.created_at >= f.created_after)
    if f.created_before is not None:
        statement = statement.where(Delivery.created_at < f.created_before)
    with uow:
        return keyset_page(uow.session, statement, keys=(Delivery.created_at, Delivery.id), limit=limit,
                           cursor=cursor, descending=True)


def delivery(uow: UnitOfWork, *, delivery_id: str | uuid.UUID) -> Delivery:
    """One mail, read whole (kept once the unit of work has ended)."""
    with uow:
        found = get(uow.session, delivery_id)
        uow.session.expunge(found)
    return found


def get(session: Session, delivery_id: str | uuid.UUID) -> Delivery:
    delivery = session.get(Delivery, uuid.UUID(str(delivery_id)))
    if delivery is None:
        raise Problem(status=404, code="delivery_not_found", detail="Ce message n'existe pas.")
    return delivery


def retry(uow: UnitOfWork, *, delivery_id: str | uuid.UUID, give_up_after: float, wake: threading.Event,
          now: datetime | None = None) -> Delivery:
    """Queue a failed mail again, with a fresh 24 h of attempts; the same message, Message-ID included. The
    senders are woken once it is committed (they do not wait for their next poll)."""
    with uow:
        delivery = get(uow.session, delivery_id)
        if delivery.status != FAILED:
            raise Problem(status=409, code="delivery_not_failed",
                          detail="Seul un message en échec peut être renvoyé.")
        now = now or clock.now()
        uow.session.execute(update(Delivery).where(Delivery.id == delivery.id, Delivery.status == FAILED).values(
            status=QUEUED, next_attempt_at=now, give_up_at=now + timedelta(seconds=give_up_after), updated_at=now))
        uow.session.refresh(delivery)
        uow.commit()
    wake.set()
    return delivery


def shown(delivery: Delivery, *, reveal_links: bool) -> RenderedMail:
    """The mail as the API shows it: single-use links hidden unless ``reveal_links``."""
    mail = RenderedMail(subject=delivery.subject, text=delivery.text_body, html=delivery.html_body)
    if reveal_links or not delivery.secret_links:
        return mail
    text, html_body = mail.text, mail.html
    for link in delivery.secret_links:
        text = text.replace(link, HIDDEN_LINK)
        html_body = html_body.replace(html.escape(link), HIDDEN_LINK).replace(link, HIDDEN_LINK)
    return RenderedMail(subject=mail.subject, text=text, html=html_body)


def preview(*, renderer: Renderer, template: str) -> tuple[RenderedMail, dict]:
    """``template`` rendered with the sample payload of the contract; and that payload."""
    if template not in TEMPLATES:
        raise Problem(status=404, code="template_not_found", detail="Ce modèle de message n'existe pas.")
    event_type = TEMPLATES[template].events[0]
    data = contract.examples()[event_type]["data"]
    mail = next(m for m in mails_for(event_type, data) if m.template.name == template)
    return renderer.render(mail), data
