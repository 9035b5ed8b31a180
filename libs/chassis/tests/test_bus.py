"""The event bus end to end, on both transports and both databases: outbox, relay, consumer, inbox."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from achats.chassis.bus import EventConsumer, OutboxRelay, PermanentError, outbox, publish
from achats.chassis.bus.transport import Delivery, Outcome, OutgoingMessage
from achats.chassis.db import Database
from achats.chassis.testing import wait_until

from bus_support import EVENT, Running, effect_counts, effects, prepare, publish_many, record_effect

FAST_RETRIES = (0.05, 0.1)


@pytest.fixture(params=["memory", "amqp"])
def transport(request):
    return request.getfixturevalue(f"{request.param}_transport")


@pytest.fixture
def db(database_url):
    database = prepare(database_url)
    yield database
    database.dispose()


def consumer_for(db, transport, bus_namespace, handlers, name="sample", retries=FAST_RETRIES):
    consumer = EventConsumer(name=name, db=db, transport=transport, handlers=handlers, queue_prefix=bus_namespace,
                             retry_delays=retries)
    transport.declare(consumer.spec)
    return consumer


@pytest.fixture
def cleanup(transport):
    specs = []
    yield specs.append
    for spec in specs:
        transport.delete(spec)


def test_committed_events_are_delivered_once_and_rolled_back_ones_never(db, transport, bus_namespace, cleanup):
    consumer = consumer_for(db, transport, bus_namespace, {EVENT: record_effect})
    cleanup(consumer.spec)
    with db.unit_of_work() as uow:
        publish(uow.session, EVENT, {"n": -1}, source="/sample")
        uow.rollback()
    ids = publish_many(db, 50)
    with Running() as running:
        running.relay(OutboxRelay(db, transport, poll_interval=0.2))
        running.consumer(consumer)
        assert wait_until(lambda: len(effect_counts(db)) >= 50)
    counts = effect_counts(db)
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}
    with db.session() as session:
        statuses = session.execute(select(outbox.c.status)).scalars().all()
    assert statuses == ["published"] * 50


def test_relay_wakes_on_commit_without_waiting_for_the_poll(db, transport, bus_namespace, cleanup):
    consumer = consumer_for(db, transport, bus_namespace, {EVENT: record_effect})
    cleanup(consumer.spec)
    with Running() as running:
        # A poll every 10 minutes: only the commit signal can make the event leave in time.
        running.relay(OutboxRelay(db, transport, poll_interval=600))
        running.consumer(consumer)
        wait_until(lambda: False, timeout=0.3)  # let the relay reach its idle wait
        (event_id,) = publish_many(db, 1)
        assert wait_until(lambda: event_id in effect_counts(db), timeout=20)


def test_same_event_delivered_twice_is_applied_once(db, transport, bus_namespace, cleanup):
    consumer = consumer_for(db, transport, bus_namespace, {EVENT: record_effect})
    cleanup(consumer.spec)
    (event_id,) = publish_many(db, 1)
    with db.session() as session:
        body = session.execute(select(outbox.c.body)).scalar_one()
    publisher = transport.publisher()
    copies = [OutgoingMessage(routing_key=EVENT, body=body.encode(), message_id=event_id)] * 2
    assert publisher.publish_batch(copies) == [True, True]
    publisher.close()
    (marker,) = publish_many(db, 1, start=99)
    with Running() as running:
        running.relay(OutboxRelay(db, transport, poll_interval=0.2))
        running.consumer(consumer)
        # Events are consumed in order, so once the marker is applied both copies were handled.
        assert wait_until(lambda: marker in effect_counts(db))
    counts = effect_counts(db)
    assert counts[event_id] == 1


def test_failing_handler_dead_letters_after_the_attempts_while_others_flow(db, transport, bus_namespace, cleanup):
    attempts: list[int] = []
    lock = threading.Lock()

    def fragile(session, event):
        if event.data["n"] == 13:
            raise RuntimeError("this event always fails")
        record_effect(session, event)

    consumer = consumer_for(db, transport, bus_namespace, {EVENT: fragile})
    cleanup(consumer.spec)
    handle_batch = consumer.handle_batch

    def counting(deliveries):
        with lock:
            attempts.extend(d.attempt for d in deliveries if json.loads(d.body)["data"]["n"] == 13)
        return handle_batch(deliveries)

    consumer.handle_batch = counting
    ids = publish_many(db, 30)
    with Running() as running:
        running.relay(OutboxRelay(db, transport, poll_interval=0.2))
        running.consumer(consumer)
        assert wait_until(lambda: len(transport.dead_letters(consumer.spec)) == 1)
        assert wait_until(lambda: len(effect_counts(db)) == 29)
    assert attempts == [1, 2, 3]
    assert consumer.spec.max_attempts == 3
    (dead,) = transport.dead_letters(consumer.spec)
    assert json.loads(dead)["data"] == {"n": 13}
    assert set(effect_counts(db)) == set(ids) - {ids[13]}
    # The failed attempts left nothing behind: the handler's transaction was rolled back each time.
    with db.session() as session:
        assert session.execute(select(effects).where(effects.c.value == 13)).first() is None


def test_replayed_dead_letters_get_a_fresh_set_of_attempts(db, transport, bus_namespace, cleanup):
    broken = threading.Event()
    broken.set()

    def flaky(session, event):
        if broken.is_set():
            raise RuntimeError("dependency down")
        record_effect(session, event)

    consumer = consumer_for(db, transport, bus_namespace, {EVENT: flaky})
    cleanup(consumer.spec)
    (event_id,) = publish_many(db, 1)
    with Running() as running:
        running.relay(OutboxRelay(db, transport, poll_interval=0.2))
        running.consumer(consumer)
        assert wait_until(lambda: len(transport.dead_letters(consumer.spec)) == 1)
        broken.clear()
        assert transport.replay_dead_letters(consumer.spec) == 1
        assert wait_until(lambda: event_id in effect_counts(db))
    assert transport.dead_letters(consumer.spec) == []


def test_malformed_and_permanently_rejected_messages_go_straight_to_the_dlq(db, transport, bus_namespace, cleanup):
    def refuse(session, event):
        raise PermanentError("unknown company")

    consumer = consumer_for(db, transport, bus_namespace, {EVENT: refuse}, retries=(60.0,))
    cleanup(consumer.spec)
    publisher = transport.publisher()
    publisher.publish_batch([OutgoingMessage(routing_key=EVENT, body=b"{garbage", message_id="m1")])
    publisher.close()
    publish_many(db, 1)
    with Running() as running:
        running.relay(OutboxRelay(db, transport, poll_interval=0.2))
        running.consumer(consumer)
        # With a 60 s retry delay, reaching the DLQ now means no retry was scheduled.
        assert wait_until(lambda: len(transport.dead_letters(consumer.spec)) == 2, timeout=20)


def test_events_nobody_subscribes_to_are_marked_unroutable(db, transport):
    publish_many(db, 2, type="sample.nobody.listens")
    relay = OutboxRelay(db, transport)
    try:
        assert relay.run_once() == 2
    finally:
        relay._publisher.close()
    with db.session() as session:
        assert session.execute(select(outbox.c.status)).scalars().all() == ["unroutable", "unroutable"]


def test_unknown_event_types_are_acknowledged_and_ignored(db, memory_transport):
    consumer = EventConsumer(name="sample", db=db, transport=memory_transport, handlers={EVENT: record_effect})
    other = publish_many(db, 1, type="sample.other.happened")
    with db.session() as session:
        body = session.execute(select(outbox.c.body)).scalar_one()
    delivery = Delivery(body=body.encode(), routing_key="sample.other.happened", message_id=other[0], attempt=1)
    assert consumer.handle(delivery) is Outcome.ACK
    assert effect_counts(db) == {}


def test_database_down_during_handling_means_retry_not_loss(sqlite_url, tmp_path, memory_transport):
    db = prepare(sqlite_url)
    consumer = EventConsumer(name="sample", db=db, transport=memory_transport, handlers={EVENT: record_effect})
    (event_id,) = publish_many(db, 1)
    with db.session() as session:
        body = session.execute(select(outbox.c.body)).scalar_one()
    broken = Database(f"sqlite:///{tmp_path}/missing-dir/none.db")
    consumer.db = broken
    delivery = Delivery(body=body.encode(), routing_key=EVENT, message_id=event_id, attempt=1)
    assert consumer.handle(delivery) is Outcome.RETRY
    consumer.db = db
    assert consumer.handle(delivery) is Outcome.ACK
    assert effect_counts(db) == {event_id: 1}


def test_postgres_relays_share_the_outbox_without_publishing_twice(fresh_postgres_url, amqp_transport, bus_namespace):
    db = prepare(fresh_postgres_url)
    consumer = consumer_for(db, amqp_transport, bus_namespace, {EVENT: record_effect})
    ids = publish_many(db, 600)
    relays = [OutboxRelay(db, amqp_transport, batch_size=20, poll_interval=0.1) for _ in range(3)]
    try:
        with Running() as running:
            for relay in relays:
                running.relay(relay)
            running.consumer(consumer)
            assert wait_until(lambda: len(effect_counts(db)) == 600, timeout=60)
        # SKIP LOCKED: every row was claimed by exactly one relay.
        assert sum(r.published for r in relays) == 600
        assert all(r.published > 0 for r in relays)
        assert set(effect_counts(db)) == set(ids)
    finally:
        amqp_transport.delete(consumer.spec)
        db.dispose()


def test_postgres_notify_wakes_a_relay_in_another_process(fresh_postgres_url, memory_transport, bus_namespace):
    db = prepare(fresh_postgres_url)
    # Another engine on another spelling of the same server: the in-process signal cannot reach the
    # relay, only PostgreSQL's NOTIFY can.
    other = Database(fresh_postgres_url.replace("127.0.0.1", "localhost"))
    consumer = consumer_for(db, memory_transport, bus_namespace, {EVENT: record_effect})
    try:
        with Running() as running:
            running.relay(OutboxRelay(db, memory_transport, poll_interval=600))
            running.consumer(consumer)
            wait_until(lambda: False, timeout=0.5)
            (event_id,) = publish_many(other, 1)
            assert wait_until(lambda: event_id in effect_counts(db), timeout=20)
    finally:
        other.dispose()
        db.dispose()
