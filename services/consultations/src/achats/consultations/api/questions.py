"""Handlers of the questions to the buyer: a company's user asks and reads, a support agent lists and answers."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.clock import iso
from achats.chassis.pagination import page
from achats.chassis.security import Principal

from .. import catalogue, questions
from ..models import Question


def _company_user(token_info: dict) -> Principal:
    who = Principal.from_claims(token_info)
    questions.company_user(who)
    return who


def _published(row: Question, company_id: str) -> dict:
    """A question as a company sees it: no company, no user, no e-mail — whoever asked it."""
    answered = row.answered_at is not None
    return {"id": str(row.id), "status": "answered" if answered else "pending",
            "question": row.published_question if answered else row.question, "answer": row.answer,
            "asked_at": iso(row.asked_at), "answered_at": iso(row.answered_at) if answered else None,
            "mine": row.company_id == company_id}


def _for_agent(row: Question) -> dict:
    answered = row.answered_at is not None
    return {"id": str(row.id), "consultation_id": str(row.consultation_id), "reference": row.consultation.reference,
            "title": row.consultation.title, "status": "answered" if answered else "pending",
            "question": row.question, "published_question": row.published_question, "answer": row.answer,
            "asked_at": iso(row.asked_at), "answered_at": iso(row.answered_at) if answered else None,
            "answered_by": row.answered_by,
            "asker": {"company_id": row.company_id, "user_id": row.user_id, "email": row.email}}


def ask(consultation_id: uuid.UUID, body: dict, token_info: dict):
    who = Principal.from_claims(token_info)
    row = questions.ask(current_runtime().db.unit_of_work(), who, consultation_id, body.get("question"))
    return _published(row, who.company_id), 201


def consultation_questions(consultation_id: uuid.UUID, token_info: dict):
    who = _company_user(token_info)
    with current_runtime().db.session() as session:
        catalogue.get(session, consultation_id)
        has_dce, rows = questions.visible(session, consultation_id, who.company_id)
        return {"dce_downloaded": has_dce, "count": len(rows),
                "items": [_published(r, who.company_id) for r in rows]}, 200


def queue(token_info: dict, status: str = "pending", consultation_id: str | None = None, limit: int = 20,
          cursor: str | None = None):
    questions.agent(Principal.from_claims(token_info))
    wanted = uuid.UUID(consultation_id) if consultation_id else None
    with current_runtime().db.session() as session:
        rows = questions.queue(session, status, wanted)
        chunk, following = page(rows, limit=min(limit, current_runtime().settings.max_page_size), cursor=cursor)
        return {"count": len(rows), "items": [_for_agent(r) for r in chunk], "next_cursor": following}, 200


def get(question_id: uuid.UUID, token_info: dict):
    questions.agent(Principal.from_claims(token_info))
    with current_runtime().db.session() as session:
        return _for_agent(questions.get(session, question_id)), 200


def answer(question_id: uuid.UUID, body: dict, token_info: dict):
    row = questions.answer(current_runtime().db.unit_of_work(), Principal.from_claims(token_info), question_id,
                           text=body.get("answer"), wording=body.get("question"),
                           consultation_url=current_runtime().settings.consultation_url)
    return _for_agent(row), 200
