"""Test support for the bus: a table of effects, and a relay plus a consumer running in threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from achats.chassis.bus import CloudEvent, EventConsumer, OutboxRelay, publish
from achats.chassis.db import Database
from achats.chassis.migrations import migrate

test_metadata = MetaData()
# No unique constraint on purpose: an event applied twice would show as two rows.
effects = Table("effects", test_metadata,
                Column("id", Integer, primary_key=True, autoincrement=True),
                Column("event_id", String(64), nullable=False),
                Column("value", Integer, nullable=False))

EVENT = "sample.thing.happened"


def prepare(url: str) -> Database:
    migrate(url)
    db = Database(url)
    test_metadata.create_all(db.engine)
    return db


def record_effect(session, event: CloudEvent) -> None:
    session.execute(insert(effects).values(event_id=event.id, value=event.data["n"]))


def publish_many(db: Database, count: int, *, batch: int = 100, type: str = EVENT, start: int = 0) -> list[str]:
    ids: list[str] = []
    for offset in range(0, count, batch):
        with db.unit_of_work() as uow:
            for n in range(start + offset, start + min(offset + batch, count)):
                ids.append(publish(uow.session, type, {"n": n}, source="/sample").id)
            uow.commit()
    return ids


def effect_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(effects.c.event_id, func.count()).group_by(effects.c.event_id)).all()
    return {event_id: count for event_id, count in rows}


class Running:
    """Threads for a relay and/or consumers, stopped and joined on exit."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, target: Callable[[threading.Event], None], name: str) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def relay(self, relay: OutboxRelay) -> OutboxRelay:
        self.start(relay.run, "relay")
        return relay

    def consumer(self, consumer: EventConsumer) -> EventConsumer:
        self.start(consumer.run, "consumer")
        return consumer

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
        assert not any(t.is_alive() for t in self.threads), "a bus thread did not stop"
