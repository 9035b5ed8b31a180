"""Benchmark of the event bus: outbox -> relay -> RabbitMQ -> consumer with inbox, on PostgreSQL.

Prints one JSON line: end-to-end events/s, latency p50/p99 at a steady 200 events/s, and the raw
pika publish-with-confirms + consume rate on the same broker as the ceiling.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

import pika
import psycopg
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import make_url

from achats.chassis.bus import EventConsumer, OutboxRelay, publish
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.db import Database
from achats.chassis.logging import configure_logging
from achats.chassis.migrations import migrate

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
THROUGHPUT_EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
STEADY_RATE = 200
STEADY_SECONDS = int(os.environ.get("BENCH_STEADY_SECONDS", "10"))
EVENT = "bench.thing.happened"

metadata = MetaData()
effects = Table("bench_effects", metadata, Column("id", Integer, primary_key=True),
                Column("event_id", String(64), nullable=False), Column("sent_at", Float, nullable=False))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Pipeline:
    def __init__(self, db: Database, transport: AmqpTransport, prefix: str):
        self.db = db
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.consumer = EventConsumer(name="bench", db=db, transport=transport, handlers={EVENT: self.handle},
                                      queue_prefix=prefix, retry_delays=(1.0,), prefetch=100)
        transport.declare(self.consumer.spec)
        self.relay = OutboxRelay(db, transport, batch_size=200, poll_interval=1.0)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.relay.run, args=(self.stop,), daemon=True),
                        threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True)]

    def handle(self, session, event) -> None:  # noqa: ANN001
        session.execute(insert(effects).values(event_id=event.id, sent_at=event.data["sent_at"]))
        sent_at = event.data["sent_at"]

        @_after_commit(session)
        def _applied() -> None:
            with self.lock:
                self.latencies.append(time.time() - sent_at)

    def applied(self) -> int:
        with self.db.session() as session:
            return session.execute(select(func.count()).select_from(effects)).scalar_one()

    def __enter__(self) -> Pipeline:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _after_commit(session):  # noqa: ANN001, ANN202
    from sqlalchemy import event as sa_event

    def register(fn):  # noqa: ANN001, ANN202
        sa_event.listen(session, "after_commit", lambda _s: fn(), once=True)
        return fn

    return register


def wait_for(predicate, timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the pipeline did not deliver everything in time")
        time.sleep(0.01)


def measure_throughput(pipeline: Pipeline) -> float:
    started = time.perf_counter()
    for offset in range(0, THROUGHPUT_EVENTS, 100):
        with pipeline.db.unit_of_work() as uow:
            for _ in range(min(100, THROUGHPUT_EVENTS - offset)):
                publish(uow.session, EVENT, {"sent_at": time.time()}, source="/bench")
            uow.commit()
    wait_for(lambda: pipeline.applied() >= THROUGHPUT_EVENTS, timeout=300)
    return THROUGHPUT_EVENTS / (time.perf_counter() - started)


def measure_latency(pipeline: Pipeline) -> tuple[float, float, int]:
    with pipeline.lock:
        pipeline.latencies.clear()
    total = STEADY_RATE * STEADY_SECONDS
    before = pipeline.applied()
    started = time.perf_counter()
    for n in range(total):
        # One event per business transaction, paced at a steady rate.
        delay = started + n / STEADY_RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with pipeline.db.unit_of_work() as uow:
            publish(uow.session, EVENT, {"sent_at": time.time()}, source="/bench")
            uow.commit()
    wait_for(lambda: pipeline.applied() >= before + total, timeout=120)
    with pipeline.lock:
        values = list(pipeline.latencies)
    return percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000, len(values)


def raw_pika_rate(exchange: str, count: int) -> float:
    """Ceiling: the same persistent, confirmed publishing and acked consuming, with nothing else."""
    queue = f"{exchange}.raw"
    params = pika.URLParameters(AMQP_URL)
    setup = pika.BlockingConnection(params)
    channel = setup.channel()
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, EVENT)
    body = json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "data": {"sent_at": 0.0}}).encode()
    consumed = threading.Event()

    def consume() -> None:
        connection = pika.BlockingConnection(params)
        ch = connection.channel()
        ch.basic_qos(prefetch_count=100)
        seen = 0
        for method, _props, _body in ch.consume(queue, inactivity_timeout=10):
            if method is None:
                break
            ch.basic_ack(method.delivery_tag)
            seen += 1
            if seen == count:
                break
        ch.cancel()
        connection.close()
        consumed.set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    publisher = pika.BlockingConnection(params)
    pub = publisher.channel()
    pub.confirm_delivery()
    started = time.perf_counter()
    for _ in range(count):
        pub.basic_publish(exchange, EVENT, body, pika.BasicProperties(delivery_mode=2), mandatory=True)
    consumed.wait(timeout=300)
    elapsed = time.perf_counter() - started
    publisher.close()
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    setup.close()
    return count / elapsed


def main() -> None:
    configure_logging("WARNING", json=True)
    name = f"achats_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    exchange = f"bench.{uuid.uuid4().hex[:8]}"
    transport = AmqpTransport(AMQP_URL, exchange=f"{exchange}.events")
    db = None
    try:
        migrate(url)
        db = Database(url)
        metadata.create_all(db.engine)
        with Pipeline(db, transport, prefix=f"{exchange}.") as pipeline:
            throughput = measure_throughput(pipeline)
            p50, p99, samples = measure_latency(pipeline)
        transport.delete(pipeline.consumer.spec)
        transport.delete_exchange()
        ceiling = raw_pika_rate(exchange, THROUGHPUT_EVENTS)
    finally:
        if db is not None:
            db.dispose()
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps({
        "bench": "bus",
        "events": THROUGHPUT_EVENTS,
        "end_to_end_events_per_s": round(throughput, 1),
        "steady_rate_events_per_s": STEADY_RATE,
        "steady_samples": samples,
        "latency_p50_ms": round(p50, 2),
        "latency_p99_ms": round(p99, 2),
        "raw_pika_confirm_consume_per_s": round(ceiling, 1),
        "ratio_to_raw": round(throughput / ceiling, 3),
    }))


if __name__ == "__main__":
    main()
