"""Tables of the company registry: companies, establishments, vault documents, INSEE state."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from achats.chassis.db import MODEL_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # French companies: SIREN (unique); foreign ones: country + national identifier / VAT number.
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    country_code: Mapped[str] = mapped_column(String(2), default="FR")
    national_id: Mapped[str | None] = mapped_column(String(50))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))  # insee | manual | foreign
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200))
    sigle: Mapped[str | None] = mapped_column(String(50))
    naf_code: Mapped[str | None] = mapped_column(String(10))
    naf_label: Mapped[str | None] = mapped_column(String(300))
    legal_form_code: Mapped[str | None] = mapped_column(String(4))
    legal_form_label: Mapped[str | None] = mapped_column(String(300))
    is_pme: Mapped[bool | None] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(3))  # PME / ETI / GE as INSEE says
    workforce_range: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hidden_fields: Mapped[list] = mapped_column(default=list)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    insee_checked_at: Mapped[datetime | None]
    # A French company typed by hand (INSEE down): pending until the re-verification finds it at INSEE ("insee")
    # or a platform administrator accepts or rejects it (reviews.py); None for the others.
    review_status: Mapped[str | None] = mapped_column(String(10), index=True)
    # The last automatic re-verification: when, INSEE's answer (matches | disagrees | unavailable), in French.
    reverified_at: Mapped[datetime | None]
    reverify_outcome: Mapped[str | None] = mapped_column(String(12))
    reverify_detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    establishments: Mapped[list[Establishment]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="Establishment.created_at")


Index("ux_companies_foreign", Company.country_code, Company.national_id, unique=True,
      postgresql_where=Company.national_id.is_not(None), sqlite_where=Company.national_id.is_not(None))


class Establishment(Base):
    __tablename__ = "establishments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # insee | manual | foreign
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_head_office: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(300))
    complement: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(200))
    country_code: Mapped[str] = mapped_column(String(2), default="FR")
    country: Mapped[str | None] = mapped_column(String(100))
    naf_code: Mapped[str | None] = mapped_column(String(10))
    workforce_range: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hidden_fields: Mapped[list] = mapped_column(default=list)
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    insee_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship(back_populates="establishments")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(30))  # kbis | attestation_fiscale | attestation_urssaf | other
    label: Mapped[str] = mapped_column(String(200))
    valid_until: Mapped[date | None] = mapped_column(Date, index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[dict] = mapped_column(default=dict)  # {user_id, email, first_name, last_name}
    expiry_notified_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One decision of a platform administrator on a company (who, what, when), for the administrators to read.
    No foreign key: the line outlives the company."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str] = mapped_column(String(100))  # the token's sub
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(50))  # company.accepted | company.rejected
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    company_name: Mapped[str | None] = mapped_column(String(200))
    siren: Mapped[str | None] = mapped_column(String(9))
    detail: Mapped[dict] = mapped_column(default=dict)


class DocumentContent(Base):
    """The bytes, apart, so that listing documents never loads them."""

    __tablename__ = "document_contents"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                                   primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class InseeCache(Base):
    __tablename__ = "insee_cache"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class InseeLimiter(Base):
    __tablename__ = "insee_limiter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)


class InseeCall(Base):
    __tablename__ = "insee_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))
    at: Mapped[float] = mapped_column(Float)


Index("ix_insee_calls_name_at", InseeCall.name, InseeCall.at)


class Switch(Base):
    __tablename__ = "switches"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
