"""Tables of the helpdesk: categories and FAQ, tickets with their history, attachments, follow links."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from achats.chassis.db import MODEL_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class Category(Base):
    """An entry of « Ma demande »."""

    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(150))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FaqEntry(Base):
    """A question of a category's FAQ and its answer.

    ``search_question`` and ``search_answer`` hold the text without accents, in lower case: the
    full-text index is built on them (a tsvector column on PostgreSQL, an FTS5 table on SQLite, both
    created by the migration), so that « reponse » finds « réponse » on either database.
    """

    __tablename__ = "faq_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    search_question: Mapped[str] = mapped_column(Text, default="")
    search_answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FaqOutcome(Base):
    """« La FAQ m'a permis de résoudre mon problème » (resolved) or « je poursuis ma demande » (continued)."""

    __tablename__ = "faq_outcomes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"),
                                                          index=True)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("faq_entries.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(10))  # resolved | continued
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The showing of the FAQ this outcome followed (``FaqImpression.view_id``): each question shown then is
    # credited with it.
    view_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FaqImpression(Base):
    """A question listed to a requester (« Préciser ma demande / voir FAQ »): one row per question of one
    showing (``view_id``), the outcome recorded afterwards naming that showing."""

    __tablename__ = "faq_impressions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    view_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("idempotency_scope", "idempotency_key", name="ux_tickets_idempotency"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("categories.id"), index=True)
    severity: Mapped[str] = mapped_column(String(20))
    # 0 for the most severe: the queue sorts on it.
    severity_rank: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    # The requester: the account when logged in (sub of the token), the contact data of the form.
    requester_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    requester_company_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    company: Mapped[str | None] = mapped_column(String(200))
    # Applicative, business and technical context, as the form showed it.
    context: Mapped[dict] = mapped_column(default=dict)
    assignee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    # Number of history entries: the position of the next one (the ticket row is locked to append).
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_scope: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]

    category: Mapped[Category] = relationship(lazy="selectin")


Index("ix_tickets_queue", Ticket.status, Ticket.severity_rank, Ticket.created_at)
Index("ix_tickets_resolved", Ticket.status, Ticket.resolved_at)


class TicketEntry(Base):
    """One line of a ticket's history: a message, a reply, an internal note, a status change..."""

    __tablename__ = "ticket_entries"
    __table_args__ = (UniqueConstraint("ticket_id", "position", name="ux_ticket_entries_position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    # public: the requester sees it; internal: support only (notes, assignments...).
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author_kind: Mapped[str] = mapped_column(String(10))  # requester | agent | system
    author_id: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Declared so that a flush writes the ticket before its entries (the rows are built with ids).
    ticket: Mapped[Ticket] = relationship()


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_entries.id", ondelete="CASCADE"), index=True)
    # Copied from the entry: an attachment of an internal note is never served to the requester.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Declared so that a flush writes the entry before its attachments.
    entry: Mapped[TicketEntry] = relationship()


class AttachmentContent(Base):
    """The bytes, apart, so that reading a ticket never loads them."""

    __tablename__ = "attachment_contents"

    attachment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"),
                                                     primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    attachment: Mapped[Attachment] = relationship()


class FollowLink(Base):
    """A capability to follow one ticket without logging in; only its SHA-256 is kept."""

    __tablename__ = "follow_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship()



class AuditEntry(Base):
    """An agent's or administrator's change that is no ticket's history entry (the FAQ's): who, what, when.

    Written in the transaction of the change; the actions on tickets are read from their history instead."""

    __tablename__ = "audit_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str] = mapped_column(String(64), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(default=dict)
