"""Questions to the buyer: a company's user asks, a support agent answers, the answer is published anonymised.

Published means: every company that downloaded the consultation's DCE reads the question (in the agent's wording)
and its answer, with no company or user name, and the asker and every downloader are mailed (the notifier, on the
event ``consultations.question.answered``, one mail per address). No Flask and no HTTP here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.bus import publish
from achats.chassis.clock import iso
from achats.chassis.db import UnitOfWork
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import DETAIL_FORBIDDEN, Principal

from . import catalogue
from .models import Consultation, DceDownload, Question

QUESTION_ANSWERED = "consultations.question.answered"
MAX_QUESTION = 2000
MAX_ANSWER = 5000
# The notifier's contract accepts only such addresses; a token's e-mail that is not one is left out of the mail.
EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")


STAFF = ("support_agent", "platform_admin")


def company_user(who: Principal) -> str:
    """The company of a user attached to one; 403 for anyone else (an agent, a user without a company)."""
    if not who.company_id:
        raise Problem(status=403, code="company_required",
                      detail="Les questions à l'acheteur sont réservées aux comptes rattachés à une entreprise.")
    return who.company_id


def agent(who: Principal) -> None:
    if not who.has_role(*STAFF):
        raise Problem(status=403, code="forbidden", detail=DETAIL_FORBIDDEN)


# -- the use cases: the unit of work, the caller and plain values; each commits ----------------------------------

def ask(uow: UnitOfWork, who: Principal, consultation_id: uuid.UUID, text: str | None) -> Question:
    """A company's user asks the buyer, until the deadline."""
    company_id = company_user(who)
    with uow:
        row = _ask(uow.session, catalogue.get(uow.session, consultation_id), company_id=company_id, user_id=who.sub,
                   email=who.email, text=text)
        uow.commit()
    return row


def answer(uow: UnitOfWork, who: Principal, question_id: uuid.UUID, *, text: str | None, wording: str | None,
           consultation_url: Callable[[str], str]) -> Question:
    """A support agent answers, and the answer is published (``consultation_url``: the page of a reference)."""
    agent(who)
    with uow:
        row = get(uow.session, question_id)
        _answer(uow.session, row, agent_id=who.sub, text=text, wording=wording,
                consultation_url=consultation_url(row.consultation.reference))
        row.consultation  # noqa: B018 - loaded now, for the answer
        uow.commit()
    return row


def _text(value: str | None, field: str, empty: str, limit: int, too_long: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Problem(status=422, code=f"{field}_required", detail=empty, errors=[FieldError(field, empty)])
    if len(text) > limit:
        raise Problem(status=422, code=f"{field}_too_long", detail=too_long, errors=[FieldError(field, too_long)])
    return text


def _ask(session: Session, consultation: Consultation, *, company_id: str, user_id: str, email: str | None,
         text: str | None, now: datetime | None = None) -> Question:
    now = now or clock.now()
    question = _text(text, "question", "Saisissez votre question.", MAX_QUESTION,
                     f"Votre question ne doit pas dépasser {MAX_QUESTION} caractères.")
    if catalogue.deadline(consultation, now) <= now:
        raise Problem(status=409, code="consultation_closed",
                      detail="La date limite de remise des plis est passée : plus aucune question n'est reçue.")
    row = Question(consultation_id=consultation.id, company_id=company_id, user_id=user_id,
                   email=email if email and EMAIL.match(email) else None, question=question, asked_at=now)
    session.add(row)
    session.flush()
    return row


def get(session: Session, question_id: uuid.UUID) -> Question:
    found = session.get(Question, question_id)
    if found is None:
        raise Problem(status=404, code="question_not_found", detail="Cette question n'existe pas.")
    return found


def downloaded(session: Session, consultation_id: uuid.UUID, company_id: str) -> bool:
    return session.execute(select(DceDownload.id).where(DceDownload.consultation_id == consultation_id,
                                                        DceDownload.company_id == company_id).limit(1)).first() \
        is not None


def visible(session: Session, consultation_id: uuid.UUID, company_id: str) -> tuple[bool, list[Question]]:
    """What a company's user sees of a consultation's questions: the published ones if the company downloaded the
    DCE, and the company's own (answered or not); oldest first."""
    has_dce = downloaded(session, consultation_id, company_id)
    query = select(Question).where(Question.consultation_id == consultation_id)
    if has_dce:
        query = query.where((Question.answered_at.is_not(None)) | (Question.company_id == company_id))
    else:
        query = query.where(Question.company_id == company_id)
    return has_dce, list(session.execute(query.order_by(Question.asked_at, Question.id)).scalars())


def queue(session: Session, status: str | None, consultation_id: uuid.UUID | None) -> list[Question]:
    """The agents' list: unanswered questions oldest first (the default), or answered ones latest first."""
    query = select(Question)
    if consultation_id is not None:
        query = query.where(Question.consultation_id == consultation_id)
    if status == "answered":
        query = query.where(Question.answered_at.is_not(None)).order_by(Question.answered_at.desc(), Question.id)
    elif status == "all":
        query = query.order_by(Question.asked_at, Question.id)
    else:
        query = query.where(Question.answered_at.is_(None)).order_by(Question.asked_at, Question.id)
    return list(session.execute(query).scalars())


def recipients(session: Session, question: Question) -> list[str]:
    """The asker, then everyone who downloaded the consultation's DCE: each address once (case-insensitively)."""
    rows = session.execute(select(DceDownload.email).where(DceDownload.consultation_id == question.consultation_id)
                           .order_by(DceDownload.downloaded_at, DceDownload.id)).scalars()
    seen, out = set(), []
    for email in [question.email, *rows]:
        if email and EMAIL.match(email) and email.casefold() not in seen:
            seen.add(email.casefold())
            out.append(email)
    return out


def _answer(session: Session, question: Question, *, agent_id: str, text: str | None, wording: str | None,
            consultation_url: str, now: datetime | None = None) -> Question:
    """Answer and publish: the answer and the question's published wording (the agent's, to take out a name the
    asker typed; the question as asked by default), and the event the notifier mails from."""
    if question.answered_at is not None:
        raise Problem(status=409, code="question_already_answered", detail="Cette question a déjà reçu une réponse.")
    reply = _text(text, "answer", "Saisissez la réponse.", MAX_ANSWER,
                  f"La réponse ne doit pas dépasser {MAX_ANSWER} caractères.")
    published = question.question if wording is None or not wording.strip() else _text(
        wording, "question", "Saisissez la question publiée.", MAX_QUESTION,
        f"La question publiée ne doit pas dépasser {MAX_QUESTION} caractères.")
    question.answer, question.published_question = reply, published
    question.answered_at, question.answered_by = now or clock.now(), agent_id
    session.flush()
    consultation = question.consultation
    publish(session, QUESTION_ANSWERED, {
        "question_id": str(question.id), "consultation_id": str(consultation.id), "reference": consultation.reference,
        "title": consultation.title, "question": published, "answer": reply,
        "answered_at": iso(question.answered_at), "consultation_url": consultation_url,
        "recipients": [{"email": email} for email in recipients(session, question)]},
        source=catalogue.SOURCE, subject=str(consultation.id))
    return question
