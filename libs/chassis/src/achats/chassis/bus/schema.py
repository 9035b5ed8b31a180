"""The outbox and inbox tables, migrated by the chassis' own Alembic chain in every service database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text

bus_metadata = MetaData()

_Id = BigInteger().with_variant(Integer, "sqlite")

outbox = Table(
    "bus_outbox",
    bus_metadata,
    # A sequence number keeps publication in commit order per relay batch.
    Column("seq", _Id, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("type", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # pending | published | unroutable
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
)
Index("ix_bus_outbox_pending", outbox.c.seq, postgresql_where=outbox.c.published_at.is_(None),
      sqlite_where=outbox.c.published_at.is_(None))
Index("ix_bus_outbox_published_at", outbox.c.published_at)

inbox = Table(
    "bus_inbox",
    bus_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("type", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
)

BUS_TABLES = {"bus_outbox", "bus_inbox"}
