"""The support's desk: the queue of tickets and what agents do to them (assign, reply, ask, note, status)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.pagination import keyset_page
from achats.chassis.problems import FieldError, Problem
from achats.chassis.validation import validation_problem

from . import attachments, events, history, tickets
from .attachments import Upload
from .models import Ticket, TicketEntry
from .settings import HelpdeskSettings
from .tickets import OPEN, Actor, TicketView

SORTS = ("oldest", "newest", "severity")
# Statuses an agent may set directly; waiting_customer comes with a question (information request).
SETTABLE = ("in_progress", "resolved", "closed")


@dataclass(frozen=True)
class QueueFilter:
    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    category_id: uuid.UUID | None = None
    assignee: str | None = None  # an agent id, "me" (resolved by the caller) or "none"
    min_age_hours: int | None = None
    max_age_hours: int | None = None
    reference: str | None = None
    email: str | None = None
    words: tuple[str, ...] = ()  # each found, in any case, in the subject, name, e-mail, company or reference


# Where the agents' text search looks.
_SEARCHED = (Ticket.subject, Ticket.first_name, Ticket.last_name, Ticket.email, Ticket.company, Ticket.reference)


def queue(session: Session, query: QueueFilter, *, sort: str, limit: int, cursor: str | None,
          now: datetime | None = None) -> tuple[list[Ticket], str | None, int]:
    """Tickets matching the filters (the open ones by default), a page at a time."""
    now = now or clock.now()
    conditions = []
    if query.status:
        conditions.append(Ticket.status.in_(query.status))
    elif not query.reference:
        conditions.append(Ticket.status.in_(OPEN))
    if query.severity:
        conditions.append(Ticket.severity.in_(query.severity))
    if query.category_id:
        conditions.append(Ticket.category_id == query.category_id)
    if query.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif query.assignee:
        conditions.append(Ticket.assignee_id == query.assignee)
    if query.min_age_hours is not None:
        conditions.append(Ticket.created_at <= now - timedelta(hours=query.min_age_hours))
    if query.max_age_hours is not None:
        conditions.append(Ticket.created_at >= now - timedelta(hours=query.max_age_hours))
    if query.reference:
        conditions.append(Ticket.reference == query.reference)
    if query.email:
        conditions.append(func.lower(Ticket.email) == query.email.strip().lower())
    for word in query.words:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in _SEARCHED)))
    total = session.execute(select(func.count()).select_from(Ticket).where(*conditions)).scalar_one()
    rows, following = keyset_page(session, select(Ticket).where(*conditions), keys=_sort_keys(sort), limit=limit,
                                  cursor=cursor, descending=sort == "newest", scope=sort)
    return rows, following, total


def _sort_keys(sort: str) -> tuple:
    if sort == "severity":
        return Ticket.severity_rank, Ticket.created_at, Ticket.id
    return Ticket.created_at, Ticket.id


def _assign(session: Session, ticket: Ticket, *, agent_id: str | None, agent_name: str | None, actor: Actor,
            settings: HelpdeskSettings, now: datetime | None = None) -> None:
    """Give the ticket to an agent (None: to nobody). Taking a new ticket puts it in progress."""
    now = now or clock.now()
    _not_closed(ticket)
    if (ticket.assignee_id, ticket.assignee_name) == (agent_id, agent_name if agent_id else None):
        return
    ticket.assignee_id = agent_id
    ticket.assignee_name = agent_name if agent_id else None
    history.append(session, ticket, kind="assigned", author_kind="agent", author_id=actor.id, author_name=actor.name,
                   data={"assignee_id": agent_id, "assignee_name": ticket.assignee_name}, now=now)
    if agent_id and ticket.status == "new":
        tickets.transition(session, ticket, "in_progress", actor=actor, settings=settings, now=now)
    events.assigned(session, ticket)
    session.flush()


def _reply(session: Session, ticket: Ticket, *, actor: Actor, message: str, uploads: list[Upload],
           settings: HelpdeskSettings, then_status: str | None = None, now: datetime | None = None) -> None:
    """Answer the requester (mailed); optionally move the ticket on at the same time (e.g. resolved)."""
    now = now or clock.now()
    _not_closed(ticket)
    if then_status is not None and then_status not in SETTABLE:
        raise Problem(status=422, code="status_not_settable", detail=_NOT_SETTABLE,
                      errors=[FieldError("status", "Valeurs possibles : " + ", ".join(SETTABLE) + ".")])
    _public_entry(session, ticket, kind="reply", actor=actor, message=message, uploads=uploads, settings=settings,
                  now=now)
    if ticket.status == "new":
        tickets.transition(session, ticket, "in_progress", actor=actor, settings=settings, now=now)
    events.mail(session, settings, ticket, events.TICKET_ANSWERED, message=message.strip(), now=now)
    if then_status is not None:
        tickets.transition(session, ticket, then_status, actor=actor, settings=settings, now=now)
    session.flush()


def _request_information(session: Session, ticket: Ticket, *, actor: Actor, message: str, uploads: list[Upload],
                         settings: HelpdeskSettings, now: datetime | None = None) -> None:
    """Ask the requester for more (mailed); the ticket waits for them."""
    now = now or clock.now()
    _not_closed(ticket)
    _public_entry(session, ticket, kind="information_request", actor=actor, message=message, uploads=uploads,
                  settings=settings, now=now)
    tickets.transition(session, ticket, "waiting_customer", actor=actor, settings=settings, now=now)
    events.mail(session, settings, ticket, events.TICKET_INFORMATION_REQUESTED, message=message.strip(), now=now)
    session.flush()


def _note(session: Session, ticket: Ticket, *, actor: Actor, message: str, uploads: list[Upload],
          settings: HelpdeskSettings, now: datetime | None = None) -> None:
    """An internal note: support only, never shown to the requester, never in an event."""
    now = now or clock.now()
    text = tickets.required_message(message)
    checked = tickets.check_uploads(settings, uploads, already=ticket.attachment_count)
    entry = history.append(session, ticket, kind="note", author_kind="agent", author_id=actor.id,
                           author_name=actor.name, body=text, now=now)
    attachments.store(session, ticket, entry, checked)
    session.flush()


def _change_status(session: Session, ticket: Ticket, *, status: str, comment: str | None, actor: Actor,
                   settings: HelpdeskSettings, now: datetime | None = None) -> None:
    if status not in SETTABLE:
        raise Problem(status=422, code="status_not_settable", detail=_NOT_SETTABLE,
                      errors=[FieldError("status", "Valeurs possibles : " + ", ".join(SETTABLE) + ".")])
    tickets.transition(session, ticket, status, actor=actor, settings=settings, comment=comment, now=now)
    session.flush()


def _merge(session: Session, ticket: Ticket, *, reference: str, actor: Actor, settings: HelpdeskSettings,
           now: datetime | None = None) -> Ticket:
    """``ticket`` duplicates the request numbered ``reference``: it is closed (its requester is told, without the
    other request's number, which may be someone else's), both histories say so (internal entries), the other
    goes on. Returns the ticket kept."""
    now = now or clock.now()
    _not_closed(ticket)
    number = (reference or "").strip()
    if not number:
        raise validation_problem([FieldError("reference", "Indiquez le numéro de la demande à conserver.")])
    target = session.execute(select(Ticket).where(Ticket.reference == number).with_for_update()).scalar_one_or_none()
    if target is None:
        unknown = f"Aucune demande ne porte le numéro « {number} »."
        raise Problem(status=422, code="merge_target_unknown", detail=unknown,
                      errors=[FieldError("reference", unknown)])
    if target.id == ticket.id:
        raise Problem(status=422, code="merge_same_ticket",
                      detail="Une demande ne peut pas être fusionnée avec elle-même.",
                      errors=[FieldError("reference", "Indiquez le numéro d'une autre demande.")])
    if target.status == "closed":
        raise Problem(status=422, code="merge_target_closed",
                      detail=f"La demande n° {target.reference} est fermée : fusionnez avec une demande ouverte.",
                      errors=[FieldError("reference", f"La demande n° {target.reference} est fermée.")])
    history.append(session, target, kind="merged", author_kind="agent", author_id=actor.id, author_name=actor.name,
                   data={"ticket_id": str(ticket.id), "reference": ticket.reference}, now=now)
    history.append(session, ticket, kind="merged_into", author_kind="agent", author_id=actor.id,
                   author_name=actor.name, data={"ticket_id": str(target.id), "reference": target.reference}, now=now)
    tickets.transition(session, ticket, "closed", actor=actor, settings=settings, comment=MERGED_COMMENT, now=now)
    session.flush()
    return target


MERGED_COMMENT = ("Cette demande a été regroupée avec une autre demande portant sur le même sujet : l'équipe support "
                  "poursuit son traitement.")


def _send_link(session: Session, ticket: Ticket, *, actor: Actor, settings: HelpdeskSettings,
               now: datetime | None = None) -> None:
    """A new follow link mailed to the requester (« Envoyer un nouveau lien »), e.g. after the old ones were revoked."""
    now = now or clock.now()
    if not events.mail(session, settings, ticket, events.TICKET_FOLLOW_LINK_SENT, now=now):
        raise Problem(status=409, code="no_requester_email",
                      detail="Cette demande n'a plus d'adresse électronique : aucun lien de suivi ne peut être envoyé.")
    history.append(session, ticket, kind="link_sent", author_kind="agent", author_id=actor.id, author_name=actor.name,
                   data={"email": ticket.email}, now=now)
    session.flush()


# The agents' use cases: each locks the ticket, changes it, and answers it as the support sees it, in one
# transaction (``tickets.worked_on``).

def _on(uow: UnitOfWork, ticket_id: uuid.UUID, work) -> TicketView:
    return tickets.worked_on(uow, lambda session: tickets.get(session, ticket_id, lock=True), work, for_agent=True)


def assign(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings,
           agent: tuple[str | None, str | None] | None = None) -> TicketView:
    """Give the ticket to ``agent`` (its id and name; ``(None, None)``: to nobody), or, without ``agent``, to the
    agent acting (« Me l'attribuer »)."""
    agent_id, agent_name = agent if agent is not None else (actor.id, actor.name)
    return _on(uow, ticket_id, lambda session, ticket: _assign(session, ticket, agent_id=agent_id,
                                                               agent_name=agent_name, actor=actor, settings=settings))


def reply(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings, message: str,
          uploads: list[Upload], then_status: str | None = None) -> TicketView:
    return _on(uow, ticket_id, lambda session, ticket: _reply(session, ticket, actor=actor, message=message,
                                                              uploads=uploads, settings=settings,
                                                              then_status=then_status))


def request_information(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings,
                        message: str, uploads: list[Upload]) -> TicketView:
    return _on(uow, ticket_id, lambda session, ticket: _request_information(
        session, ticket, actor=actor, message=message, uploads=uploads, settings=settings))


def note(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings, message: str,
         uploads: list[Upload]) -> TicketView:
    return _on(uow, ticket_id, lambda session, ticket: _note(session, ticket, actor=actor, message=message,
                                                             uploads=uploads, settings=settings))


def change_status(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings, status: str,
                  comment: str | None = None) -> TicketView:
    return _on(uow, ticket_id, lambda session, ticket: _change_status(session, ticket, status=status, comment=comment,
                                                                      actor=actor, settings=settings))


def merge(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings,
          reference: str) -> TicketView:
    """« Fusionner avec »: the ticket duplicates the one numbered ``reference``; the answer is the closed one."""
    return _on(uow, ticket_id, lambda session, ticket: _merge(session, ticket, reference=reference, actor=actor,
                                                              settings=settings))


def send_link(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor, settings: HelpdeskSettings) -> TicketView:
    return _on(uow, ticket_id, lambda session, ticket: _send_link(session, ticket, actor=actor, settings=settings))


def agents(session: Session) -> list[tuple[str, str | None]]:
    """The agents the helpdesk knows (who has been assigned a ticket or written in one), by name: whom a ticket can
    be given to. The helpdesk has no list of staff of its own; identity's is the administrators'."""
    found: dict[str, str | None] = {}
    entry = aliased(TicketEntry)
    for agent_id, name in session.execute(select(entry.author_id, entry.author_name).where(
            entry.author_kind == "agent", entry.author_id.is_not(None)).distinct()):
        found[agent_id] = found.get(agent_id) or name
    for agent_id, name in session.execute(select(Ticket.assignee_id, Ticket.assignee_name).where(
            Ticket.assignee_id.is_not(None)).distinct()):
        found[agent_id] = found.get(agent_id) or name
    return sorted(found.items(), key=lambda item: ((item[1] or "").lower(), item[0]))


_NOT_SETTABLE = ("Cet état ne peut pas être choisi directement : pour attendre une réponse du demandeur, "
                 "envoyez-lui une demande de complément d'information.")


def _not_closed(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise Problem(status=409, code="ticket_closed", detail="Cette demande est fermée.")


def _public_entry(session: Session, ticket: Ticket, *, kind: str, actor: Actor, message: str, uploads: list[Upload],
                  settings: HelpdeskSettings, now: datetime) -> None:
    text = tickets.required_message(message)
    checked = tickets.check_uploads(settings, uploads, already=ticket.attachment_count)
    entry = history.append(session, ticket, kind=kind, author_kind="agent", author_id=actor.id,
                           author_name=actor.name, body=text, now=now)
    attachments.store(session, ticket, entry, checked)
