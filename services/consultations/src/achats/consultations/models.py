"""Tables of the consultations service: the consultations, their lots, the DCE downloads per company."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from achats.chassis.db import MODEL_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class Consultation(Base):
    """A call for tenders. A practice one (``practice``) has a rolling deadline: ``deadline_anchor`` plus
    a whole number of ``deadline_days`` periods, the first such time still in the future (deadlines.py).

    ``search_text`` holds reference, title, buyer, summary and lot titles without accents, in lower case:
    the word search matches it the same way on SQLite and PostgreSQL.
    """

    __tablename__ = "consultations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    buyer: Mapped[str] = mapped_column(String(300))
    procedure: Mapped[str] = mapped_column(String(20))  # open | restricted | adapted | negotiated
    contract_type: Mapped[str] = mapped_column(String(20))  # works | supplies | services
    summary: Mapped[str] = mapped_column(Text, default="")
    cpv_codes: Mapped[list] = mapped_column(default=list)
    practice: Mapped[bool] = mapped_column(default=True)
    deadline_anchor: Mapped[datetime] = mapped_column()
    deadline_days: Mapped[int] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lots: Mapped[list[Lot]] = relationship(back_populates="consultation", order_by="Lot.number",
                                           cascade="all, delete-orphan", lazy="selectin")


class Lot(Base):
    __tablename__ = "lots"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                       index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    cpv_codes: Mapped[list] = mapped_column(default=list)

    consultation: Mapped[Consultation] = relationship(back_populates="lots")


class DceDownload(Base):
    """One download of a DCE document (or of the whole DCE as a zip) by a company's user."""

    __tablename__ = "dce_downloads"
    __table_args__ = (Index("ix_dce_downloads_company", "company_id", "consultation_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    company_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    document: Mapped[str] = mapped_column(String(40))  # a document's slug, or "dce.zip"
    downloaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Question(Base):
    """A question of a company's user to the buyer about a consultation, and its answer by a support agent.

    Who asked (company, user, e-mail) is kept for the agents and for the mail to the asker; what is published to
    the companies that downloaded the DCE is only ``published_question`` (the agent's wording, by default the
    question as asked) and ``answer``.
    """

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_consultation", "consultation_id", "answered_at"),
                      Index("ix_questions_pending", "answered_at", "asked_at"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    company_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_by: Mapped[str | None] = mapped_column(String(64))

    consultation: Mapped[Consultation] = relationship(lazy="joined")
