"""Benchmark of the notifier: events on RabbitMQ -> consumer (PostgreSQL) -> sender -> SMTP server.

Deployed like production: the notifier's worker (consumer and sender, ``achats-notifier worker``)
runs in its own process on its own PostgreSQL database; the events are published to RabbitMQ by
this process, as the producers' relays would, and the mails are received by an SMTP server
(aiosmtpd) in this process. Prints one JSON line: mails/s delivered to the SMTP server for a burst
of events, and the latency from an event's publication to the SMTP server's receipt of its mail
(p50/p99) at a steady 50 events/s. Target: p99 < 500 ms.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
import sys
import threading
import time
import uuid
from email import policy
from email.parser import BytesParser

import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from achats.chassis.bus import CloudEvent
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.bus.transport import OutgoingMessage
from achats.chassis.logging import configure_logging

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import AMQP_URL, SERVER_URL, percentile

BURST = int(os.environ.get("BENCH_MAILS", "2000"))
STEADY_RATE = 50
STEADY_SECONDS = int(os.environ.get("BENCH_STEADY_SECONDS", "20"))
TARGET_P99_MS = 500.0
EVENT = "helpdesk.ticket.created"


class Receipts:
    """aiosmtpd handler: when each ticket's mail arrived (the reference is in the subject)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.count = 0
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        now = time.time()
        headers = BytesParser(policy=policy.default).parsebytes(envelope.original_content, headersonly=True)
        reference = str(headers["Subject"]).rsplit("Réf. ", 1)[-1]
        with self.cond:
            self.at.setdefault(reference, now)
            self.count += 1
            self.cond.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.count < count:
                if not self.cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() > deadline:
                    raise TimeoutError(f"{self.count} of {count} mails received")


def run_worker(environ: dict[str, str], ready, stop) -> None:
    """The notifier's worker process, built like ``achats-notifier worker`` builds it."""
    os.environ.update(environ)
    from achats.notifier.app import SERVICE

    configure_logging("WARNING", json=True)
    settings = SERVICE.load_settings()
    SERVICE.migrate(settings)
    runtime = SERVICE.runtime(settings)
    halt = threading.Event()
    threads = SERVICE.start_worker(runtime, halt)
    ready.set()
    stop.wait()
    halt.set()
    for thread in threads:
        thread.join(timeout=30)
    runtime.transport.delete(SERVICE.consumer(runtime).spec)
    runtime.db.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ticket(reference: str) -> OutgoingMessage:
    event = CloudEvent(type=EVENT, source="/helpdesk", data={
        "ticket_id": str(uuid.uuid4()), "reference": reference, "subject": "Dépôt impossible d'une pièce",
        "requester": {"email": f"fournisseur.{reference.lower()}@exemple.fr", "first_name": "Hélène",
                      "last_name": "Lefèvre"},
        "follow_url": f"https://achats.example/assistance/demande/{reference}"})
    return OutgoingMessage(routing_key=EVENT, body=event.to_json(), message_id=event.id)


def main() -> None:
    configure_logging("WARNING", json=True)
    tag = uuid.uuid4().hex[:8]
    database = f"achats_bench_{tag}_notifier"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    database_url = make_url(SERVER_URL).set(database=database).render_as_string(hide_password=False)
    exchange = f"bench.{tag}.events"
    receipts = Receipts()
    smtp = Controller(receipts, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    smtp.start()
    transport = AmqpTransport(AMQP_URL, exchange=exchange)
    publisher = transport.publisher()
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    environ = {"NOTIFIER_DATABASE_URL": database_url, "NOTIFIER_AMQP_URL": AMQP_URL,
               "NOTIFIER_EVENTS_EXCHANGE": exchange, "NOTIFIER_QUEUE_PREFIX": f"bench.{tag}.",
               "NOTIFIER_MAIL_URL": f"smtp://127.0.0.1:{smtp.port}", "NOTIFIER_MAIL_DOMAIN": "achats.example",
               "NOTIFIER_PUBLIC_BASE_URL": "https://achats.example"}
    worker = ctx.Process(target=run_worker, args=(environ, ready, stop))
    try:
        worker.start()
        if not ready.wait(timeout=60):
            raise RuntimeError("the notifier worker did not start")

        # Burst: every event published at once; mails/s until the last one is received.
        references = [f"B{n:07d}" for n in range(BURST)]
        started = time.time()
        for offset in range(0, BURST, 200):
            publisher.publish_batch([ticket(r) for r in references[offset:offset + 200]])
        receipts.wait_for(BURST, timeout=600)
        burst_rate = BURST / (max(receipts.at[r] for r in references) - started)

        # Steady: one event every 20 ms, each published alone; latency to the SMTP server's receipt.
        total = STEADY_RATE * STEADY_SECONDS
        published: dict[str, float] = {}
        begin = time.perf_counter()
        for n in range(total):
            delay = begin + n / STEADY_RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            reference = f"S{n:07d}"
            published[reference] = time.time()
            publisher.publish_batch([ticket(reference)])
        receipts.wait_for(BURST + total, timeout=120)
        latencies = [(receipts.at[r] - at) * 1000 for r, at in published.items()]
    finally:
        stop.set()
        worker.join(timeout=60)
        if worker.is_alive():
            worker.kill()
        publisher.close()
        transport.delete_exchange()
        smtp.stop()
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(json.dumps({
        "bench": "notifier",
        "database": "postgresql",
        "burst_mails": BURST,
        "mails_per_s": round(burst_rate, 1),
        "steady_rate_events_per_s": STEADY_RATE,
        "steady_samples": len(latencies),
        "latency_p50_ms": round(p50, 1),
        "latency_p99_ms": round(p99, 1),
        "latency_max_ms": round(max(latencies), 1),
        "target_p99_ms": TARGET_P99_MS,
        "target_met": p99 < TARGET_P99_MS,
        "duplicates": receipts.count - len(receipts.at),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
