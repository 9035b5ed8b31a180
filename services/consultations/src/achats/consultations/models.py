"""Tables of the consultations service: the consultations, their lots, the DCE downloads per company, the
deposits (« Déposer ») with their sealed files and each consultation's wrapped data key."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
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


class ConsultationKey(Base):
    """A consultation's data key, wrapped (AES-GCM) by the master key ``master_key_id`` of the configuration.
    The clear key never reaches the database; the files' rows hold no key material."""

    __tablename__ = "consultation_keys"

    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                       primary_key=True)
    master_key_id: Mapped[str] = mapped_column(String(40))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deposit(Base):
    """One answer to one lot by one company (« Déposer »), dated by its RFC 3161 timestamp.

    ``deadline`` is the deadline the deposit answered (a practice consultation's rolls on: each period is
    a round of its own). Within a round the last deposit counts: ``status`` ``current``, the older ones
    ``replaced``. Before ``deadline`` the files are sealed.
    """

    __tablename__ = "deposits"
    __table_args__ = (
        UniqueConstraint("company_id", "idempotency_key", name="uq_deposits_idempotency"),
        Index("ix_deposits_round", "consultation_id", "lot_number", "company_id", "deadline"),
        Index("ix_deposits_company", "company_id", "deposited_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    lot_number: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    user_name: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of what was sent (lot, files, confirmation): the same key with other content is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="current")  # current | replaced
    deadline: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The deposit time: the timestamp's genTime, never the client's or our clock.
    deposited_at: Mapped[datetime] = mapped_column()
    # SHA-256 of the deposit's manifest (consultation, lot, company, each file's kind, name and SHA-256):
    # the imprint the TSA stamped.
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    timestamp_token: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_serial: Mapped[str] = mapped_column(String(64))
    tsa_name: Mapped[str] = mapped_column(String(500))
    invalid_signatures_confirmed: Mapped[bool] = mapped_column(default=False)
    replaced_at: Mapped[datetime | None] = mapped_column()
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    files: Mapped[list[DepositFile]] = relationship(back_populates="deposit", order_by="DepositFile.position",
                                                    cascade="all, delete-orphan", lazy="selectin")


class DepositFile(Base):
    """One file of a deposit: its description and digest. The content is on the storage, sealed."""

    __tablename__ = "deposit_files"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    deposit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deposits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # candidature | offre
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # The signature, as the signature service judged it: compliant | to_verify | non_compliant |
    # not_signed | not_verified (no signature service to ask).
    signature_status: Mapped[str] = mapped_column(String(20))
    signature_report_id: Mapped[str | None] = mapped_column(String(64))
    signature_indication: Mapped[str | None] = mapped_column(String(40))
    signers: Mapped[list] = mapped_column(default=list)

    deposit: Mapped[Deposit] = relationship(back_populates="files")


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
