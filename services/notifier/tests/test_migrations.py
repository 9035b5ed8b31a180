"""The Alembic chain builds exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from achats.chassis.db import create_db_engine
from achats.notifier.app import SERVICE
from achats.notifier.models import Base

from notifier_support import make_settings


def test_migrations_match_the_models(database_url):
    SERVICE.migrate(make_settings(database_url, "maildir:///tmp/unused"))
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            # The bus tables belong to the chassis' chain; only the notifier's own are compared.
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_name": lambda name, type_, _parents: type_ != "table" or name in Base.metadata.tables})
            assert compare_metadata(context, Base.metadata) == []
            assert {"deliveries", "bus_inbox", "bus_outbox"} <= set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
