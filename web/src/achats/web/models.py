"""The web front end's one table: the browser sessions, with the user's identity tokens kept server side."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from achats.chassis.db import MODEL_TYPES, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class BrowserSession(Base):
    """One logged-in browser: its cookie holds a random id, this row (found by the id's SHA-256) the tokens."""

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("ix_browser_sessions_last_seen", "last_seen_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claims: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
