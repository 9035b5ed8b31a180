"""Alembic runner: the chassis' bus tables first, then the service's own chain, one command."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text

from .db import create_db_engine, is_postgres, is_sqlite, normalize_url

BUS_MIGRATIONS = Path(__file__).parent / "bus" / "migrations"
MIGRATION_LOCK = 0x61636861  # "acha": one advisory lock for the migrations of a database


def alembic_config(url: str, script_location: str | Path, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    config.attributes["version_table"] = version_table
    return config


def migrate(url: str, script_location: str | Path | None = None, *, revision: str = "head") -> None:
    """Bring a database to ``revision``: bus tables (own version table), then the service chain."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as lock:
            if is_postgres(url):
                # Two migrations at once (two pods' init containers) take turns instead of colliding.
                lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                with engine.begin() as connection:
                    config = alembic_config(url, BUS_MIGRATIONS, "achats_bus_version")
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                if script_location is not None:
                    with engine.begin() as connection:
                        config = alembic_config(url, script_location, "alembic_version")
                        config.attributes["connection"] = connection
                        command.upgrade(config, revision)
            finally:
                if is_postgres(url):
                    lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                    lock.commit()
    finally:
        engine.dispose()


def run_env(target_metadata: MetaData | None, *, exclude_tables: frozenset[str] = frozenset()) -> None:
    """Body of every ``migrations/env.py``: online mode on the given or configured connection."""
    from alembic import context

    from .bus.schema import BUS_TABLES

    config = context.config
    excluded = set(exclude_tables)
    if config.attributes.get("version_table", "alembic_version") != "achats_bus_version":
        excluded |= BUS_TABLES | {"achats_bus_version"}

    def include_object(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name in excluded)

    options = dict(
        target_metadata=target_metadata,
        version_table=config.attributes.get("version_table", "alembic_version"),
        include_object=include_object,
        compare_type=True,
    )
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, render_as_batch=is_sqlite(url), **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_db_engine(url)
        with engine.begin() as connection:
            context.configure(connection=connection, render_as_batch=is_sqlite(url), **options)
            context.run_migrations()
        engine.dispose()
        return
    context.configure(connection=connection, render_as_batch=is_sqlite(url), **options)
    context.run_migrations()
