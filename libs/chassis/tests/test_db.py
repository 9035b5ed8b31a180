"""Database layer: units of work, migrations, and the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from achats.chassis.db import MODEL_TYPES, Database, normalize_url
from achats.chassis.migrations import migrate

from sample_service.models import Item

MIGRATIONS = Path(__file__).parent / "sample_service" / "migrations"


@pytest.fixture
def db(database_url):
    migrate(database_url, MIGRATIONS)
    database = Database(database_url)
    yield database
    database.dispose()


def count(db: Database) -> int:
    with db.session() as session:
        return session.execute(select(func.count()).select_from(Item)).scalar_one()


def test_migrate_creates_bus_and_service_tables_with_separate_versions(db):
    tables = set(inspect(db.engine).get_table_names())
    assert {"bus_outbox", "bus_inbox", "items", "alembic_version", "achats_bus_version"} <= tables
    with db.session() as session:
        assert session.execute(text("SELECT version_num FROM achats_bus_version")).scalar_one() == "bus0001"
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "sample0001"


def test_migrate_twice_changes_nothing(db, database_url):
    migrate(database_url, MIGRATIONS)
    assert {"items", "bus_outbox"} <= set(inspect(db.engine).get_table_names())


def test_nothing_is_written_without_commit(db):
    with db.unit_of_work() as uow:
        uow.session.add(Item(name="kept?"))
        uow.session.flush()
    assert count(db) == 0
    with db.unit_of_work() as uow:
        uow.session.add(Item(name="kept"))
        uow.commit()
    assert count(db) == 1


def test_an_exception_rolls_back_the_whole_unit(db):
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        uow.session.add(Item(name="a"))
        uow.session.flush()
        raise RuntimeError("boom")
    assert count(db) == 0


def add_item(uow, *, name: str, fail: bool = False) -> str:
    """A use case in the services' form: it takes a unit of work and plain values, and commits."""
    with uow:
        uow.session.add(Item(name=name))
        uow.session.flush()
        if fail:
            raise ValueError("refused")
        uow.commit()
    return name


def test_a_use_case_enters_the_unit_of_work_it_is_given_and_owns_its_commit(db):
    assert add_item(db.unit_of_work(), name="kept") == "kept"
    with pytest.raises(ValueError):
        add_item(db.unit_of_work(), name="refused", fail=True)
    assert count(db) == 1
    waiting = db.unit_of_work()
    with pytest.raises(RuntimeError, match="not entered"):
        waiting.session  # noqa: B018 - the property refuses before ``with``
    with waiting, pytest.raises(RuntimeError, match="already entered"), waiting:
        pass
    with waiting:  # once out of its block, a unit of work serves again (a use case's next transaction)
        assert waiting.session.execute(select(func.count()).select_from(Item)).scalar_one() == 1


def test_constraints_hold_on_both_databases(db):
    with db.unit_of_work() as uow:
        uow.session.add(Item(name="dup"))
        uow.commit()
    with pytest.raises(IntegrityError), db.unit_of_work() as uow:
        uow.session.add(Item(name="dup"))
        uow.commit()
    assert count(db) == 1


def test_concurrent_writers_wait_for_each_other_instead_of_failing(db):
    errors: list[Exception] = []

    def writer(prefix: str) -> None:
        try:
            for n in range(25):
                with db.unit_of_work() as uow:
                    # Read then write: the pattern that fails at once on SQLite's deferred transactions.
                    uow.session.execute(select(func.count()).select_from(Item)).scalar_one()
                    uow.session.add(Item(name=f"{prefix}{n}"))
                    uow.commit()
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(db) == 100


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_url):
    database = Database(sqlite_url)
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgres://u:p@h:5433/db", "postgresql+psycopg://u:p@h:5433/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///var/x.db", "sqlite:///var/x.db"),
])
def test_urls_are_normalised_to_psycopg3(url, expected):
    assert normalize_url(url) == expected


def test_ping_raises_when_the_database_is_unreachable():
    database = Database("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(Exception):
        database.ping()


def test_model_datetimes_read_back_aware_utc_on_both_databases(database_url):
    class Base(DeclarativeBase):
        type_annotation_map = MODEL_TYPES

    class Stamp(Base):
        __tablename__ = "stamps"
        id: Mapped[int] = mapped_column(primary_key=True)
        at: Mapped[datetime]
        data: Mapped[dict]

    database = Database(database_url)
    try:
        Base.metadata.create_all(database.engine)
        paris = timezone(timedelta(hours=1))
        with database.unit_of_work() as uow:
            uow.session.add(Stamp(id=1, at=datetime(2026, 11, 28, 10, 30, tzinfo=paris), data={"é": [1]}))
            uow.commit()
        with database.session() as session:
            stamp = session.get(Stamp, 1)
            assert stamp.at == datetime(2026, 11, 28, 9, 30, tzinfo=UTC) and stamp.at.tzinfo == UTC
            assert stamp.data == {"é": [1]}
            # Compared in SQL against an aware bound value, on both databases.
            later = select(func.count()).where(Stamp.at > datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
            assert session.execute(later).scalar_one() == 1
        with pytest.raises(StatementError, match="naive datetime"), database.unit_of_work() as uow:
            uow.session.add(Stamp(id=2, at=datetime(2026, 11, 28, 10, 30), data={}))
            uow.commit()
    finally:
        database.dispose()
