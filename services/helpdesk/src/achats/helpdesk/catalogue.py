"""The categories of « Ma demande », their FAQ, and whether the FAQ answered (deflection).

The use cases (``create_category``… ``record_outcome``) take the unit of work, the staff member acting and plain
values: each runs in one transaction, records its audit entry there, commits, and returns what the API shows.
The reads take a session. The steps a use case is made of (``_create_category``…) work in the caller's
transaction."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import case, exc, func, select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.problems import FieldError, Problem
from achats.chassis.validation import validation_problem

from . import audit
from .models import Category, FaqEntry, FaqImpression, FaqOutcome, Ticket
from .search import index_fields, normalise
from .tickets import Actor

OUTCOMES = ("resolved", "continued")
MOVES = ("up", "down")


def category_not_found() -> Problem:
    return Problem(status=404, code="category_not_found", detail="Cette catégorie n'existe pas.")


def entry_not_found() -> Problem:
    return Problem(status=404, code="faq_entry_not_found", detail="Cette question n'existe pas.")


def list_categories(session: Session, *, include_inactive: bool = False) -> list[tuple[Category, int]]:
    """Categories in their display order, each with its number of (active) questions."""
    counts = (select(FaqEntry.category_id, func.count().label("n")).where(FaqEntry.active.is_(True))
              .group_by(FaqEntry.category_id).subquery())
    statement = (select(Category, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.category_id == Category.id)
                 .order_by(Category.position, Category.label))
    if not include_inactive:
        statement = statement.where(Category.active.is_(True))
    return [(category, count) for category, count in session.execute(statement).all()]


def faq_count(session: Session, category_id: uuid.UUID) -> int:
    """The number of active questions of one category (``list_categories``' count, for one)."""
    return session.execute(select(func.count()).select_from(FaqEntry).where(
        FaqEntry.category_id == category_id, FaqEntry.active.is_(True))).scalar_one()


def get_category(session: Session, category_id: uuid.UUID, *, include_inactive: bool = False) -> Category:
    category = session.get(Category, category_id)
    if category is None or not (category.active or include_inactive):
        raise category_not_found()
    return category


def slugify(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalise(label)).strip("-")[:60] or "categorie"


def _create_category(session: Session, *, label: str, slug: str | None, description: str | None,
                     position: int | None, active: bool = True) -> Category:
    category = Category(id=uuid.uuid4(), label=_required(label, "label"), slug=slug or slugify(label),
                        description=description, active=active,
                        position=position if position is not None else _next_position(session))
    session.add(category)
    _flush_unique(session, "slug", "Une catégorie porte déjà cet identifiant (slug).")
    return category


def _update_category(session: Session, category: Category, changes: dict) -> Category:
    for name in ("label", "slug", "description", "position", "active"):
        if name in changes:
            value = changes[name]
            setattr(category, name, _required(value, name) if name in ("label", "slug") else value)
    category.updated_at = clock.now()
    _flush_unique(session, "slug", "Une catégorie porte déjà cet identifiant (slug).")
    return category


def _delete_category(session: Session, category: Category) -> None:
    """Only a category no ticket refers to; otherwise deactivate it (``active: false``)."""
    used = session.execute(select(Ticket.id).where(Ticket.category_id == category.id).limit(1)).first()
    if used is not None:
        raise Problem(status=409, code="category_in_use",
                      detail="Des demandes utilisent cette catégorie : désactivez-la plutôt que de la supprimer.")
    session.delete(category)
    session.flush()


def _next_position(session: Session) -> int:
    return (session.execute(select(func.max(Category.position))).scalar_one() or 0) + 10


def list_entries(session: Session, *, category_id: uuid.UUID | None,
                 include_inactive: bool = False) -> list[FaqEntry]:
    statement = (select(FaqEntry).join(Category, Category.id == FaqEntry.category_id)
                 .order_by(Category.position, FaqEntry.position, FaqEntry.question))
    if category_id is not None:
        statement = statement.where(FaqEntry.category_id == category_id)
    if not include_inactive:
        statement = statement.where(FaqEntry.active.is_(True), Category.active.is_(True))
    return list(session.execute(statement).scalars())


def get_entry(session: Session, entry_id: uuid.UUID, *, include_inactive: bool = False) -> FaqEntry:
    entry = session.get(FaqEntry, entry_id)
    if entry is None:
        raise entry_not_found()
    if not include_inactive and not (entry.active and get_category(session, entry.category_id,
                                                                    include_inactive=True).active):
        raise entry_not_found()
    return entry


def _create_entry(session: Session, *, category_id: uuid.UUID, question: str, answer: str, keywords: str = "",
                  position: int | None = None, active: bool = True) -> FaqEntry:
    get_category(session, category_id, include_inactive=True)
    question, answer = _required(question, "question"), _required(answer, "answer")
    if position is None:
        position = (session.execute(select(func.max(FaqEntry.position))
                                    .where(FaqEntry.category_id == category_id)).scalar_one() or 0) + 10
    entry = FaqEntry(id=uuid.uuid4(), category_id=category_id, question=question, answer=answer,
                     keywords=keywords or "", position=position, active=active,
                     **index_fields(question, keywords or "", answer))
    session.add(entry)
    session.flush()
    return entry


def _update_entry(session: Session, entry: FaqEntry, changes: dict) -> FaqEntry:
    if "category_id" in changes:
        entry.category_id = get_category(session, changes["category_id"], include_inactive=True).id
    for name in ("question", "answer"):
        if name in changes:
            setattr(entry, name, _required(changes[name], name))
    for name in ("keywords", "position", "active"):
        if name in changes:
            setattr(entry, name, changes[name] if name != "keywords" else changes[name] or "")
    fields = index_fields(entry.question, entry.keywords, entry.answer)
    entry.search_question, entry.search_answer = fields["search_question"], fields["search_answer"]
    entry.updated_at = clock.now()
    session.flush()
    return entry


def _delete_entry(session: Session, entry: FaqEntry) -> None:
    session.delete(entry)
    session.flush()


def _move(items: list, item, direction: str) -> None:
    """``item`` one place up or down in ``items`` (already in display order), then every position renumbered
    10, 20, 30… (equal positions become distinct). At the top (or bottom) already: nothing changes."""
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for number, each in enumerate(items, start=1):
        each.position = number * 10
        each.updated_at = clock.now()


def _move_entry(session: Session, entry: FaqEntry, direction: str) -> FaqEntry:
    """« Monter » / « Descendre »: the question swaps places with its neighbour in its category (published or
    not: the agents' order is the one the requesters see, less the unpublished)."""
    siblings = list(session.execute(select(FaqEntry).where(FaqEntry.category_id == entry.category_id)
                                    .order_by(FaqEntry.position, FaqEntry.question)).scalars())
    _move(siblings, entry, direction)
    session.flush()
    return entry


def _move_category(session: Session, category: Category, direction: str) -> Category:
    categories = [c for c, _n in list_categories(session, include_inactive=True)]
    _move(categories, category, direction)
    session.flush()
    return category


def _record_view(session: Session, *, entry_ids: list[uuid.UUID], now: datetime | None = None) -> uuid.UUID:
    """The questions listed to a requester at once (« Préciser ma demande / voir FAQ »): one showing."""
    unique = list(dict.fromkeys(entry_ids))
    found = set(session.execute(select(FaqEntry.id).where(FaqEntry.id.in_(unique))).scalars())
    missing = [str(i) for i in unique if i not in found]
    if missing:
        raise validation_problem([FieldError("entry_ids", "Question inconnue : " + ", ".join(missing) + ".")])
    view_id, moment = uuid.uuid4(), now or clock.now()
    session.add_all(FaqImpression(id=uuid.uuid4(), view_id=view_id, entry_id=i, created_at=moment) for i in unique)
    session.flush()
    return view_id


def _record_outcome(session: Session, *, outcome: str, category_id: uuid.UUID | None,
                    entry_id: uuid.UUID | None, view_id: uuid.UUID | None = None,
                    now: datetime | None = None) -> None:
    """« La FAQ m'a permis de résoudre mon problème » — the request ends there (deflection). With ``view_id``
    (the showing it followed), once per showing: a second one changes nothing."""
    if view_id is not None:
        if session.execute(select(FaqImpression.id).where(FaqImpression.view_id == view_id).limit(1)).first() is None:
            raise validation_problem([FieldError("view_id", "Cet affichage de la FAQ est inconnu.")])
        if session.execute(select(FaqOutcome.id).where(FaqOutcome.view_id == view_id).limit(1)).first():
            return
    if entry_id is not None:
        entry = get_entry(session, entry_id, include_inactive=True)
        if category_id is not None and entry.category_id != category_id:
            raise Problem(status=422, code="faq_entry_mismatch",
                          detail="Cette question n'appartient pas à la catégorie indiquée.",
                          errors=[FieldError("entry_id", "Question d'une autre catégorie.")])
        category_id = entry.category_id
    if category_id is None:
        raise validation_problem([FieldError("category_id", "Indiquez la catégorie ou la question.")])
    get_category(session, category_id, include_inactive=True)
    session.add(FaqOutcome(category_id=category_id, entry_id=entry_id, outcome=outcome, view_id=view_id,
                           created_at=now or clock.now()))
    session.flush()


def stats(session: Session, *, since: datetime | None = None) -> list[dict]:
    """Per category: requests the FAQ resolved, requests that went on to a ticket, deflection rate."""
    resolved = func.sum(case((FaqOutcome.outcome == "resolved", 1), else_=0))
    continued = func.sum(case((FaqOutcome.outcome == "continued", 1), else_=0))
    statement = (select(FaqOutcome.category_id, resolved, continued)
                 .where(FaqOutcome.category_id.is_not(None)).group_by(FaqOutcome.category_id))
    if since is not None:
        statement = statement.where(FaqOutcome.created_at >= since)
    totals = {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in session.execute(statement).all()}
    helpful = dict(session.execute(
        select(FaqOutcome.entry_id, func.count()).where(FaqOutcome.outcome == "resolved",
                                                        FaqOutcome.entry_id.is_not(None))
        .where(*([FaqOutcome.created_at >= since] if since is not None else []))
        .group_by(FaqOutcome.entry_id)).all())
    window = [FaqImpression.created_at >= since] if since is not None else []
    shown = dict(session.execute(select(FaqImpression.entry_id, func.count()).where(*window)
                                 .group_by(FaqImpression.entry_id)).all())
    resolved_after = dict(session.execute(
        select(FaqImpression.entry_id, func.count(func.distinct(FaqOutcome.id)))
        .join(FaqOutcome, FaqOutcome.view_id == FaqImpression.view_id)
        .where(FaqOutcome.outcome == "resolved", *window).group_by(FaqImpression.entry_id)).all())
    entries_by_category: dict[uuid.UUID, list[FaqEntry]] = {}
    for entry in list_entries(session, category_id=None, include_inactive=True):
        entries_by_category.setdefault(entry.category_id, []).append(entry)
    report = []
    for category, _count in list_categories(session, include_inactive=True):
        solved, went_on = totals.get(category.id, (0, 0))
        report.append({
            "category": category, "resolved": solved, "continued": went_on,
            "deflection_rate": round(solved / (solved + went_on), 4) if solved + went_on else None,
            "helpful_entries": sorted(
                ({"entry": e, "resolved": helpful[e.id]} for e in entries_by_category.get(category.id, [])
                 if helpful.get(e.id)), key=lambda item: -item["resolved"]),
            "entries": [{"entry": e, "shown": shown.get(e.id, 0), "resolved_after_shown": resolved_after.get(e.id, 0),
                         "rate": round(resolved_after.get(e.id, 0) / shown[e.id], 4) if shown.get(e.id) else None}
                        for e in entries_by_category.get(category.id, [])],
        })
    return report


# The use cases of the catalogue's management (staff) and of the requesters' FAQ outcome.

def create_category(uow: UnitOfWork, actor: Actor, *, label: str, slug: str | None = None,
                    description: str | None = None, position: int | None = None,
                    active: bool = True) -> tuple[Category, int]:
    with uow:
        category = _create_category(uow.session, label=label, slug=slug, description=description,
                                    position=position, active=active)
        audit.record(uow.session, actor, "faq_category.created", category.id, {"label": category.label})
        uow.commit()
    return category, 0


def update_category(uow: UnitOfWork, actor: Actor, category_id: uuid.UUID, changes: dict) -> tuple[Category, int]:
    with uow:
        category = _update_category(uow.session, get_category(uow.session, category_id, include_inactive=True),
                                    changes)
        audit.record(uow.session, actor, "faq_category.edited", category.id, {"fields": sorted(changes)})
        count = faq_count(uow.session, category.id)
        uow.commit()
    return category, count


def delete_category(uow: UnitOfWork, actor: Actor, category_id: uuid.UUID) -> None:
    with uow:
        audit.record(uow.session, actor, "faq_category.deleted", category_id)
        _delete_category(uow.session, get_category(uow.session, category_id, include_inactive=True))
        uow.commit()


def move_category(uow: UnitOfWork, actor: Actor, category_id: uuid.UUID, direction: str) -> tuple[Category, int]:
    with uow:
        category = _move_category(uow.session, get_category(uow.session, category_id, include_inactive=True),
                                  direction)
        audit.record(uow.session, actor, "faq_category.moved", category.id, {"direction": direction})
        count = faq_count(uow.session, category.id)
        uow.commit()
    return category, count


def create_entry(uow: UnitOfWork, actor: Actor, *, category_id: uuid.UUID, question: str, answer: str,
                 keywords: str = "", position: int | None = None, active: bool = True) -> FaqEntry:
    with uow:
        entry = _create_entry(uow.session, category_id=category_id, question=question, answer=answer,
                              keywords=keywords, position=position, active=active)
        audit.record_faq_change(uow.session, actor, entry, None)
        uow.commit()
    return entry


def update_entry(uow: UnitOfWork, actor: Actor, entry_id: uuid.UUID, changes: dict) -> FaqEntry:
    """``changes``: the fields given (``category_id`` a UUID); the audit says which ones really changed."""
    with uow:
        entry = get_entry(uow.session, entry_id, include_inactive=True)
        before = audit.faq_fields(entry)
        entry = _update_entry(uow.session, entry, changes)
        audit.record_faq_change(uow.session, actor, entry, before)
        uow.commit()
    return entry


def delete_entry(uow: UnitOfWork, actor: Actor, entry_id: uuid.UUID) -> None:
    with uow:
        audit.record(uow.session, actor, "faq.deleted", entry_id)
        _delete_entry(uow.session, get_entry(uow.session, entry_id, include_inactive=True))
        uow.commit()


def move_entry(uow: UnitOfWork, actor: Actor, entry_id: uuid.UUID, direction: str) -> FaqEntry:
    with uow:
        entry = _move_entry(uow.session, get_entry(uow.session, entry_id, include_inactive=True), direction)
        audit.record(uow.session, actor, "faq.moved", entry.id, {"direction": direction})
        uow.commit()
    return entry


def record_view(uow: UnitOfWork, *, entry_ids: list[uuid.UUID]) -> uuid.UUID:
    """The questions listed to a requester at once (« Préciser ma demande / voir FAQ »): one showing."""
    with uow:
        view_id = _record_view(uow.session, entry_ids=entry_ids)
        uow.commit()
    return view_id


def record_outcome(uow: UnitOfWork, *, outcome: str, category_id: uuid.UUID | None = None,
                   entry_id: uuid.UUID | None = None, view_id: uuid.UUID | None = None) -> None:
    with uow:
        _record_outcome(uow.session, outcome=outcome, category_id=category_id, entry_id=entry_id, view_id=view_id)
        uow.commit()


def _required(value, name: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise validation_problem([FieldError(name, "Ce champ est obligatoire.")])
    return text


def _flush_unique(session: Session, field: str, detail: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except exc.IntegrityError:
        raise Problem(status=409, code="category_slug_taken", detail=detail,
                      errors=[FieldError(field, "Déjà utilisé.")]) from None
