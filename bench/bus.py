"""Benchmark of the event bus: outbox -> relay -> RabbitMQ -> consumer with inbox, on PostgreSQL.

Deployed like production: the producing service (publisher + relay) and the consuming service
(consumer + inbox) are separate processes with separate databases. Prints one JSON line:
end-to-end events/s, latency p50/p99 at a steady 200 events/s (from the producer's commit to the
consumer's commit), and the raw pika rate on the same broker (persistent messages, confirms awaited
per batch of the relay's size, acked consumption), as the ceiling.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import threading
import time
import uuid

import pika
import psycopg
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url

from achats.chassis.bus import EventConsumer, OutboxRelay, publish
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.bus.transport import OutgoingMessage
from achats.chassis.db import Database
from achats.chassis.logging import configure_logging
from achats.chassis.migrations import migrate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import AMQP_URL, SERVER_URL, percentile

EVENTS = int(os.environ.get("BENCH_EVENTS", "10000"))
STEADY_RATE = 200
STEADY_SECONDS = int(os.environ.get("BENCH_STEADY_SECONDS", "10"))
BATCH = 200
EVENT = "bench.thing.happened"

metadata = MetaData()
effects = Table("bench_effects", metadata, Column("id", Integer, primary_key=True),
                Column("event_id", String(64), nullable=False), Column("latency", Float, nullable=False))


def consume(url: str, exchange: str, prefix: str, ready, stop) -> None:
    """The consuming service: its own process, its own database."""
    configure_logging("WARNING", json=True)
    db = Database(url)

    def handle(session, event) -> None:
        row = session.execute(insert(effects).values(event_id=event.id, latency=0.0).returning(effects.c.id))
        effect_id, sent_at = row.scalar_one(), event.data["sent_at"]

        # Latency ends at the consumer's commit: record it then, in a second tiny statement.
        @sa_event.listens_for(session, "after_commit", once=True)
        def _done(_session) -> None:
            done.append((effect_id, time.time() - sent_at))

    done: list[tuple[int, float]] = []
    transport = AmqpTransport(AMQP_URL, exchange=exchange)
    consumer = EventConsumer(name="bench", db=db, transport=transport, handlers={EVENT: handle},
                             queue_prefix=prefix, retry_delays=(1.0,), prefetch=200)
    transport.declare(consumer.spec)
    ready.set()
    halt = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(halt,))
    thread.start()
    while not stop.is_set():
        time.sleep(0.05)
        flush_latencies(db, done)
    halt.set()
    thread.join()
    flush_latencies(db, done)
    transport.delete(consumer.spec)
    db.dispose()


def flush_latencies(db: Database, done: list[tuple[int, float]]) -> None:
    batch, done[:] = list(done), []
    if batch:
        with db.engine.begin() as conn:
            for effect_id, latency in batch:
                conn.execute(effects.update().where(effects.c.id == effect_id).values(latency=latency))


def applied(db: Database) -> int:
    with db.session() as session:
        return session.execute(select(func.count()).select_from(effects)).scalar_one()


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the pipeline did not deliver everything in time")
        time.sleep(0.01)


def measure_throughput(producer: Database, consumer_db: Database) -> float:
    started = time.perf_counter()
    for offset in range(0, EVENTS, 100):
        with producer.unit_of_work() as uow:
            for _ in range(min(100, EVENTS - offset)):
                publish(uow.session, EVENT, {"sent_at": time.time()}, source="/bench")
            uow.commit()
    wait_for(lambda: applied(consumer_db) >= EVENTS, timeout=300)
    return EVENTS / (time.perf_counter() - started)


def measure_latency(producer: Database, consumer_db: Database) -> tuple[float, float, int]:
    total = STEADY_RATE * STEADY_SECONDS
    started = time.perf_counter()
    for n in range(total):
        # One event per business transaction, at a steady pace.
        delay = started + n / STEADY_RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with producer.unit_of_work() as uow:
            publish(uow.session, EVENT, {"sent_at": time.time()}, source="/bench")
            uow.commit()
    wait_for(lambda: applied(consumer_db) >= EVENTS + total, timeout=120)
    time.sleep(0.3)  # the consumer records latencies after its commits
    with consumer_db.session() as session:
        values = list(session.execute(select(effects.c.latency).order_by(effects.c.id.desc()).limit(total)).scalars())
    return percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000, len(values)


def raw_pika_rate(exchange: str, count: int) -> float:
    """Ceiling: the same persistent, confirmed publishing (per batch) and acked consuming, nothing else."""
    queue = f"{exchange}.raw"
    params = pika.URLParameters(AMQP_URL)
    setup = pika.BlockingConnection(params)
    channel = setup.channel()
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, EVENT)
    body = json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "data": {"sent_at": 0.0}}).encode()
    consumed = threading.Event()

    def consume_raw() -> None:
        connection = pika.BlockingConnection(params)
        ch = connection.channel()
        ch.basic_qos(prefetch_count=200)
        for seen, (method, _props, _body) in enumerate(ch.consume(queue, inactivity_timeout=10), start=1):
            if method is None:
                break
            ch.basic_ack(method.delivery_tag)
            if seen == count:
                break
        ch.cancel()
        connection.close()
        consumed.set()

    consumer = threading.Thread(target=consume_raw, daemon=True)
    consumer.start()
    transport = AmqpTransport(AMQP_URL, exchange=exchange)
    publisher = transport.publisher()
    message = OutgoingMessage(routing_key=EVENT, body=body, message_id="raw")
    started = time.perf_counter()
    for offset in range(0, count, BATCH):
        publisher.publish_batch([message] * min(BATCH, count - offset))
    consumed.wait(timeout=300)
    elapsed = time.perf_counter() - started
    publisher.close()
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    setup.close()
    return count / elapsed


def create_database(name: str) -> str:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    configure_logging("WARNING", json=True)
    tag = uuid.uuid4().hex[:8]
    names = [f"achats_bench_{tag}_producer", f"achats_bench_{tag}_consumer"]
    producer_url, consumer_url = (create_database(name) for name in names)
    exchange = f"bench.{tag}.events"
    transport = AmqpTransport(AMQP_URL, exchange=exchange)
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    child = None
    producer = consumer_db = None
    try:
        migrate(producer_url)
        migrate(consumer_url)
        producer, consumer_db = Database(producer_url), Database(consumer_url)
        metadata.create_all(consumer_db.engine)
        child = ctx.Process(target=consume, args=(consumer_url, exchange, f"bench.{tag}.", ready, stop))
        child.start()
        ready.wait(timeout=60)
        halt = threading.Event()
        relay = OutboxRelay(producer, transport, batch_size=BATCH, poll_interval=1.0)
        relay_thread = threading.Thread(target=relay.run, args=(halt,))
        relay_thread.start()
        try:
            throughput = measure_throughput(producer, consumer_db)
            p50, p99, samples = measure_latency(producer, consumer_db)
        finally:
            halt.set()
            relay_thread.join()
        stop.set()
        child.join(timeout=60)
        transport.delete_exchange()
        ceiling = raw_pika_rate(f"bench.{tag}.raw", EVENTS)
    finally:
        if child is not None and child.is_alive():
            child.kill()
        for db in (producer, consumer_db):
            if db is not None:
                db.dispose()
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps({
        "bench": "bus",
        "events": EVENTS,
        "end_to_end_events_per_s": round(throughput, 1),
        "steady_rate_events_per_s": STEADY_RATE,
        "steady_samples": samples,
        "latency_p50_ms": round(p50, 2),
        "latency_p99_ms": round(p99, 2),
        "raw_pika_events_per_s": round(ceiling, 1),
        "ratio_to_raw": round(throughput / ceiling, 3),
    }))


if __name__ == "__main__":
    main()
