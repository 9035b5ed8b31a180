"""Database access: one engine per service, units of work, identical on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from . import clock


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever the URL spells (postgres://, postgresql://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def is_postgres(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "postgresql"


def utcnow() -> datetime:
    """The platform's clock (``chassis.clock``): model defaults and services read the same time a test sets."""
    return clock.now()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on PostgreSQL and on SQLite (which stores them naive).

    Services declare their models with ``type_annotation_map = MODEL_TYPES``, so every ``datetime``
    column reads back aware on both databases and code compares and formats it without special cases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times are stored in UTC and must say so")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The declarative type map every service's models use: aware UTC datetimes, JSON documents.
MODEL_TYPES: dict[Any, Any] = {datetime: UTCDateTime(), dict: JSON, list: JSON}


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's implicit BEGIN is deferred: a reader that later writes can fail at once with
    # "database is locked" instead of waiting. Take the write lock when the transaction starts,
    # so busy_timeout applies and concurrent writers queue up like they would on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class UnitOfWork:
    """One transaction of a use case: entered with ``with uow:``, worked through ``uow.session``; nothing is
    written unless ``commit()`` is called (leaving the block rolls back whatever was not committed).

    A use case receives one not yet entered (``db.unit_of_work()``) with plain values, and owns it::

        def close_ticket(uow: UnitOfWork, *, ticket_id: UUID, actor: Actor) -> Ticket:
            with uow:
                ticket = tickets.get(uow.session, ticket_id, lock=True)
                ...
                uow.commit()
            return ticket
    """

    def __init__(self, factory: sessionmaker) -> None:
        self._factory = factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not entered: use it as `with uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("the unit of work is already entered (one block at a time)")
        self._session = self._factory()
        return self

    def __exit__(self, *exc_info: object) -> None:
        session, self._session = self._session, None
        # close() rolls back without expiring what was loaded, so objects read here stay usable.
        session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class Database:
    """The engine and session factory of one service's database."""

    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        from .bus.outbox import watch  # here, not at the top: the bus's modules import this one

        watch(self.sessionmaker)  # a commit that published events wakes the relays of this process at once

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work of this database, to enter (``with db.unit_of_work() as uow:``) or to hand to a
        use case that enters it."""
        return UnitOfWork(self.sessionmaker)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.unit_of_work() as uow:
            yield uow.session

    def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
