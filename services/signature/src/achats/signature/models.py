"""Tables of the signature service: the verification audit trail, reports kept for a while, signing sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column

from achats.chassis.db import MODEL_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class Verification(Base):
    """The audit record of one verification: the document's hash, the verdict, the time. Never the document."""

    __tablename__ = "verifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    document_sha256: Mapped[str] = mapped_column(String(64), index=True)
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(10))
    signature_count: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20))
    indications: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_verifications_created", Verification.created_at, Verification.id)


class VerificationReport(Base):
    """The full report, downloadable (JSON, PDF, ETSI XML) for REPORT_RETENTION, then deleted."""

    __tablename__ = "verification_reports"

    verification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("verifications.id", ondelete="CASCADE"),
                                                       primary_key=True)
    report: Mapped[dict] = mapped_column(default=dict)
    # What an enveloping signature (.p7m, enveloping XAdES) signs, for its download; deleted with the report.
    signed_content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SigningSession(Base):
    """A two-step signing waiting for the signature value made on the user's device."""

    __tablename__ = "signing_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    format: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    options: Mapped[dict] = mapped_column(default=dict)
    state: Mapped[dict] = mapped_column(default=dict)
    # The document with its signature placeholder (PAdES) or the unsigned XML (XAdES).
    prepared: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
