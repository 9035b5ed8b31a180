"""Tickets: the request form's rules, the requester's side, and the lifecycle every change goes through.

Lifecycle: new → in_progress ↔ waiting_customer → resolved → closed. A requester's message brings a
ticket waiting for them (or resolved) back to in_progress; resolved tickets are closed automatically
after ``AUTO_CLOSE_DAYS``; a closed ticket takes no more messages (a new request is needed).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.pagination import keyset_page
from achats.chassis.problems import FieldError, Problem
from achats.chassis.validation import validation_problem

from . import attachments, events, follow, history
from .attachments import Upload
from .context import Requester, build
from .models import Attachment, Category, FaqOutcome, FollowLink, Ticket, TicketEntry
from .settings import HelpdeskSettings

# API code -> (French label, rank in the queue: 0 first).
SEVERITIES = {"blocking": ("Bloquant", 0), "major": ("Majeur", 1), "minor": ("Mineur", 2),
              "suggestion": ("Une suggestion d'amélioration", 3)}
FREQUENCIES = {"once": "Une fois seulement", "random": "Plusieurs fois (aléatoirement)",
               "systematic": "De façon systématique"}
STATUSES = {"new": "Nouvelle", "in_progress": "En cours de traitement",
            "waiting_customer": "En attente de votre réponse", "resolved": "Résolue", "closed": "Fermée"}
OPEN = ("new", "in_progress", "waiting_customer")
TRANSITIONS = {
    "new": {"in_progress", "waiting_customer", "resolved", "closed"},
    "in_progress": {"waiting_customer", "resolved", "closed"},
    "waiting_customer": {"in_progress", "resolved", "closed"},
    "resolved": {"in_progress", "waiting_customer", "closed"},
    "closed": set(),
}


@dataclass(frozen=True)
class RequestForm:
    """What the form sends, besides the contact data and the files."""

    category_id: uuid.UUID
    severity: str
    message: str
    frequency: str | None = None
    subject: str | None = None
    page: str | None = None
    resource: str | None = None
    assistant_version: str | None = None
    user_agent: str | None = None
    # What the page's script told of the browser (screen, language, cookies), when it did.
    browser_facts: dict | None = None


@dataclass(frozen=True)
class Actor:
    """Who changes a ticket: the requester, an agent, or the platform itself."""

    kind: str  # requester | agent | system
    id: str | None = None
    name: str | None = None


SYSTEM = Actor(kind="system")


@dataclass(frozen=True)
class Opened:
    """A ticket just opened: the raw token of its first follow link (None for a replay), and its first
    history entry and attachments, already at hand for the answer."""

    ticket: Ticket
    token: str | None
    entries: list[TicketEntry] | None = None
    attachments: dict[uuid.UUID, list[Attachment]] | None = None


@dataclass(frozen=True)
class TicketView:
    """A ticket as one reader may see it: its history and files, for a requester without the internal entries
    and their files (left out by the queries themselves, not filtered afterwards), for an agent with them and
    the number of follow links still active. Everything the answer shows is loaded: it is shaped after the
    unit of work has closed."""

    ticket: Ticket
    entries: list[TicketEntry]
    files: dict[uuid.UUID, list[Attachment]]
    for_agent: bool = False
    active_follow_links: int = 0


def view(session: Session, ticket: Ticket, *, for_agent: bool = False, entries: list[TicketEntry] | None = None,
         files: dict[uuid.UUID, list[Attachment]] | None = None) -> TicketView:
    """The reader's view of ``ticket`` (a ticket just opened brings its own entries and files)."""
    if entries is None or files is None:
        files = attachments.of_ticket(session, ticket, include_internal=for_agent)
        entries = history.entries(session, ticket, include_internal=for_agent)
    active = 0
    if for_agent:
        active = session.execute(select(func.count()).select_from(FollowLink).where(
            FollowLink.ticket_id == ticket.id, FollowLink.revoked_at.is_(None),
            FollowLink.expires_at > clock.now())).scalar_one()
    ticket.category  # noqa: B018 - loaded now, for the answer
    return TicketView(ticket=ticket, entries=entries, files=files, for_agent=for_agent, active_follow_links=active)


def worked_on(uow: UnitOfWork, locate: Callable[[Session], Ticket], work: Callable[[Session, Ticket], object], *,
              for_agent: bool = False) -> TicketView:
    """One change to one ticket, in one transaction: ``locate`` finds and locks it (or raises the 404), ``work``
    changes it, and the ticket is answered as its reader now sees it. The runner of every use case below and of
    the desk's."""
    with uow:
        ticket = locate(uow.session)
        work(uow.session, ticket)
        seen = view(uow.session, ticket, for_agent=for_agent)
        uow.commit()
    return seen


def reply_own(uow: UnitOfWork, ticket_id: uuid.UUID, user_id: str, *, settings: HelpdeskSettings, message: str,
              uploads: list[Upload]) -> TicketView:
    """The logged-in requester answers in « Mes demandes d'assistance »."""
    return worked_on(uow, lambda session: get_own(session, ticket_id, user_id, lock=True),
                     lambda session, ticket: add_requester_message(session, ticket, settings=settings,
                                                                   message=message, uploads=uploads))


def reply_by_link(uow: UnitOfWork, reference: str, token: str | None, *, settings: HelpdeskSettings, message: str,
                  uploads: list[Upload]) -> TicketView:
    """The requester answers through the follow link of a mail (no login)."""
    return worked_on(uow, lambda session: follow.resolve(session, reference, token, lock=True),
                     lambda session, ticket: add_requester_message(session, ticket, settings=settings,
                                                                   message=message, uploads=uploads))


def revoke_links(uow: UnitOfWork, ticket_id: uuid.UUID, *, actor: Actor) -> int:
    """Every follow link of the ticket stops working (a mail forwarded by mistake...): an agent's for any ticket,
    a requester's (``actor.kind == "requester"``, ``actor.id`` their user id) for their own only."""
    with uow:
        ticket = (get(uow.session, ticket_id, lock=True) if actor.kind == "agent"
                  else get_own(uow.session, ticket_id, actor.id or "", lock=True))
        count = follow.revoke_all(uow.session, ticket)
        history.append(uow.session, ticket, kind="links_revoked", author_kind=actor.kind, author_id=actor.id,
                       author_name=actor.name, data={"revoked": count})
        uow.commit()
    return count


CREATE_ATTEMPTS = 5


def open_request(uow: UnitOfWork, *, settings: HelpdeskSettings, requester: Requester, form: RequestForm,
                 uploads: list[Upload], idempotency_key: str | None = None) -> tuple[TicketView, str | None]:
    """« Demande d'assistance » sent: the ticket opened (or, for a replay of the same Idempotency-Key, the one
    opened the first time) as its requester sees it, and the raw token of its first follow link (None for a
    replay). A reference drawn that is already taken (or the same key racing) is drawn again, in a new
    transaction, up to CREATE_ATTEMPTS times."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        with uow:
            try:
                opened = create(uow.session, settings=settings, requester=requester, form=form, uploads=uploads,
                                idempotency_key=idempotency_key)
            except IntegrityError:
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue
            answer = view(uow.session, opened.ticket, entries=opened.entries, files=opened.attachments)
            uow.commit()
            return answer, opened.token
    raise AssertionError("unreachable")  # the last attempt returns or raises


def ticket_not_found() -> Problem:
    return follow.ticket_not_found()


def create(session: Session, *, settings: HelpdeskSettings, requester: Requester, form: RequestForm,
           uploads: list[Upload], idempotency_key: str | None = None, now: datetime | None = None) -> Opened:
    """Open a ticket. A replay of the same Idempotency-Key (same requester) gives the ticket created the
    first time, without token. Raises IntegrityError in the rare case the reference drawn is taken:
    the caller runs it again in a new transaction."""
    now = now or clock.now()
    scope = (requester.user_id or (requester.email or "").lower()) if idempotency_key else None
    if idempotency_key:
        existing = session.execute(select(Ticket).where(Ticket.idempotency_scope == scope,
                                                        Ticket.idempotency_key == idempotency_key)).scalar_one_or_none()
        if existing is not None:
            return Opened(existing, None)
    category = session.get(Category, form.category_id)
    if category is None or not category.active:
        raise Problem(status=422, code="category_unknown", detail="Choisissez l'objet de votre demande dans la liste.",
                      errors=[FieldError("category_id", "Catégorie inconnue.")])
    errors = []
    if not requester.email:
        errors.append(FieldError("email", "Indiquez votre adresse électronique pour recevoir la réponse."))
    if form.severity != "suggestion" and not form.frequency:
        errors.append(FieldError("frequency", "Indiquez à quelle fréquence le problème apparaît."))
    message = (form.message or "").strip()
    if not message:
        errors.append(FieldError("message", "Ce champ est obligatoire."))
    if errors:
        raise validation_problem(errors)
    checked = check_uploads(settings, uploads)
    ticket = Ticket(
        id=uuid.uuid4(), status="new", category_id=category.id, category=category, severity=form.severity,
        severity_rank=SEVERITIES[form.severity][1],
        frequency=form.frequency or None,
        subject=((form.subject or "").strip() or category.label)[:200],
        requester_user_id=requester.user_id, requester_company_id=requester.company_id, email=requester.email,
        first_name=requester.first_name, last_name=requester.last_name, phone=requester.phone,
        company=requester.company,
        context=build(platform=settings.platform_name, version=settings.platform_version, requester=requester,
                      page=form.page, resource=form.resource, user_agent=form.user_agent,
                      assistant_version=form.assistant_version, browser_facts=form.browser_facts),
        reference=new_reference(), entry_count=0, attachment_count=0, idempotency_scope=scope,
        idempotency_key=idempotency_key, created_at=now, updated_at=now)
    session.add(ticket)
    entry = history.append(session, ticket, kind="created", author_kind="requester", author_id=requester.user_id,
                           author_name=requester.display_name, body=message, now=now)
    stored = attachments.store(session, ticket, entry, checked)
    # Sending the form is « je poursuis ma demande »: the FAQ of the category did not answer.
    session.add(FaqOutcome(category_id=category.id, outcome="continued", ticket_id=ticket.id, created_at=now))
    token = follow.issue(session, ticket, days=settings.follow_link_days, now=now)
    events.mail(session, settings, ticket, events.TICKET_CREATED, token=token, now=now)
    session.flush()
    return Opened(ticket, token, [entry], {entry.id: stored})


def new_reference() -> str:
    """A random 8-digit reference. Drawn among 90 million; the unique index refuses one already
    taken, and the caller then tries again with another (see ``Opened``)."""
    return str(10_000_000 + secrets.randbelow(90_000_000))


def get(session: Session, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket:
    statement = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        statement = statement.with_for_update()
    ticket = session.execute(statement).scalar_one_or_none()
    if ticket is None:
        raise ticket_not_found()
    return ticket


def get_own(session: Session, ticket_id: uuid.UUID, user_id: str, *, lock: bool = False) -> Ticket:
    """A ticket of the logged-in requester; someone else's answers like one that does not exist."""
    ticket = get(session, ticket_id, lock=lock)
    if ticket.requester_user_id is None or ticket.requester_user_id != user_id:
        raise ticket_not_found()
    return ticket


def list_own(session: Session, user_id: str, *, limit: int, cursor: str | None,
             status: list[str] | None = None) -> tuple[list[Ticket], str | None, int]:
    """The requester's tickets, newest first."""
    conditions = [Ticket.requester_user_id == user_id]
    if status:
        conditions.append(Ticket.status.in_(status))
    total = session.execute(select(func.count()).select_from(Ticket).where(*conditions)).scalar_one()
    rows, following = keyset_page(session, select(Ticket).where(*conditions), keys=(Ticket.created_at, Ticket.id),
                                  limit=limit, cursor=cursor, descending=True)
    return rows, following, total


def add_requester_message(session: Session, ticket: Ticket, *, settings: HelpdeskSettings, message: str,
                          uploads: list[Upload], now: datetime | None = None) -> None:
    """The requester answers (by link or logged in): waiting or resolved tickets go back to the support."""
    now = now or clock.now()
    if ticket.status == "closed":
        raise Problem(status=409, code="ticket_closed",
                      detail="Cette demande est fermée : pour un nouveau problème, créez une nouvelle demande.")
    text = required_message(message)
    checked = check_uploads(settings, uploads, already=ticket.attachment_count)
    entry = history.append(session, ticket, kind="message", author_kind="requester",
                           author_id=ticket.requester_user_id,
                           author_name=Requester(email=ticket.email, first_name=ticket.first_name,
                                                 last_name=ticket.last_name).display_name, body=text, now=now)
    attachments.store(session, ticket, entry, checked)
    if ticket.status in ("waiting_customer", "resolved"):
        transition(session, ticket, "in_progress", actor=Actor(kind="requester", id=ticket.requester_user_id),
                   settings=settings, now=now)
    events.requester_replied(session, ticket, len(checked))
    session.flush()


def required_message(message: str | None) -> str:
    text = (message or "").strip()
    if not text:
        raise validation_problem([FieldError("message", "Ce champ est obligatoire.")])
    return text


def check_uploads(settings: HelpdeskSettings, uploads: list[Upload], *, already: int = 0):
    return attachments.check(uploads, max_bytes=settings.attachment_max_bytes,
                             per_message=settings.attachments_per_message,
                             per_ticket=settings.attachments_per_ticket, already=already)


def transition(session: Session, ticket: Ticket, to: str, *, actor: Actor, settings: HelpdeskSettings,
               comment: str | None = None, now: datetime | None = None) -> bool:
    """Move the ticket to ``to`` (appending the change to the history and publishing it); False when it
    is there already. The resolved and closed states also mail the requester."""
    now = now or clock.now()
    previous = ticket.status
    if to == previous:
        return False
    if to not in TRANSITIONS[previous]:
        raise Problem(status=409, code="transition_not_allowed",
                      detail=f"Une demande « {STATUSES[previous]} » ne peut pas passer à l'état "
                             f"« {STATUSES[to]} ».")
    ticket.status = to
    if to == "resolved":
        ticket.resolved_at = now
    elif to == "closed":
        ticket.closed_at = now
    elif previous == "resolved":
        ticket.resolved_at = None
    history.append(session, ticket, kind="status_changed", author_kind=actor.kind, author_id=actor.id,
                   author_name=actor.name, body=(comment or "").strip() or None,
                   data={"from": previous, "to": to}, now=now)
    events.status_changed(session, ticket, previous, actor.kind, now)
    if to == "resolved":
        events.mail(session, settings, ticket, events.TICKET_RESOLVED, now=now)
    elif to == "closed":
        events.mail(session, settings, ticket, events.TICKET_CLOSED, now=now)
    return True
