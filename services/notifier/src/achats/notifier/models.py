"""The notifier's one table: a delivery per mail, holding the rendered message and where its sending stands."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from achats.chassis.db import MODEL_TYPES, UTCDateTime

QUEUED, SENT, FAILED = "queued", "sent", "failed"
STATUSES = (QUEUED, SENT, FAILED)


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class Delivery(Base):
    """One mail: one template rendered for one recipient because of one event."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # Redelivered events, replayed dead letters and concurrent consumers all meet here.
        UniqueConstraint("event_id", "template", "recipient", name="uq_deliveries_event_template_recipient"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_created", "created_at", "id"),
        Index("ix_deliveries_recipient", "recipient"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Generated once: a mail sent again after a crash carries the same Message-ID.
    message_id: Mapped[str] = mapped_column(String(255))
    # Single-use links in the mail (verification, reset), hidden by the API unless REVEAL_LINKS.
    secret_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the sender may (next) take it; while a sender holds it, the end of that sender's lease.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After this, transient failures stop being retried: 24 h after queueing (or after a manual retry).
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The helpdesk ticket a mail is about (``ticket_id`` of a helpdesk.ticket.* event), for the back office's
    # « Envois de courriels » of a ticket; None for every other mail.
    ticket_id: Mapped[str | None] = mapped_column(String(64), index=True)
