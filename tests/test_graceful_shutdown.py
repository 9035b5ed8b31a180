"""SIGTERM stops every kind of process cleanly: HTTP drained, the message in hand finished and acked, relay stopped.

Each test starts the real console script (`achats-<service> serve | worker`) as a container would, against a
fresh PostgreSQL database and a private RabbitMQ exchange, sends SIGTERM while work is in flight, and checks
the work completes and the process exits 0 well within the grace period Kubernetes and compose give it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pika
import psycopg
import pytest
import requests
from sqlalchemy import func, select

from achats.chassis.bus import CloudEvent, publish
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.bus.schema import inbox, outbox
from achats.chassis.bus.transport import QueueSpec
from achats.chassis.db import Database
from achats.chassis.testing import wait_until
from achats.chassis.testing.server import serving

BIN = Path(sys.executable).parent
# Within what compose (stop_grace_period) and Kubernetes (terminationGracePeriodSeconds - preStop) allow.
GRACE_SECONDS = 30.0
# How long a process may take to exit once its last piece of work is done: well below any join timeout
# of the worker (30 s per thread), so a thread that ignores the stop request fails the test.
EXIT_AFTER_WORK_SECONDS = 8.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, process: subprocess.Popen | None = None,
             log: Path | None = None) -> None:
    """``wait_until``, failing with ``what`` and the log's tail, at once if ``process`` exits meanwhile."""
    exited = (lambda: process.poll() is not None) if process is not None else None
    if wait_until(predicate, timeout, give_up=exited):
        return
    if process is not None and process.poll() is not None:
        pytest.fail(f"the process exited ({process.returncode}) while waiting for {what}:\n{tail(log)}")
    pytest.fail(f"timed out waiting for {what}:\n{tail(log)}")


def tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def base_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment of a container: only what the manifests set, no setting leaking from the test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_URL", "_EXCHANGE", "_PREFIX")) and k not in ("PORT", "WEB_CONCURRENCY")}
    metrics = tmp_path / "metrics"
    metrics.mkdir(exist_ok=True)
    env.update({"LOG_JSON": "true", "LOG_LEVEL": "INFO", "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                "GUNICORN_CMD_ARGS": "--no-control-socket", "PYTHONUNBUFFERED": "1"})
    env.update(values)
    return env


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run a console script in its own process group; whatever is left of it is killed at the end."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


class InFlight(threading.Thread):
    """One HTTP request sent from a thread, so that the test can signal the server while it waits."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.response: requests.Response | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.response = requests.get(self.url, timeout=60, headers={"Connection": "close"})
        except Exception as exc:  # reported by the assertion below, with the server's log
            self.error = exc


def stop_and_wait(process: subprocess.Popen, log: Path, timeout: float = GRACE_SECONDS) -> float:
    """SIGTERM, as the kubelet or `docker stop` sends it; the seconds the process took to exit 0."""
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {timeout} s after SIGTERM (it would be SIGKILLed):\n{tail(log)}")
    assert code == 0, f"exit status {code} after SIGTERM:\n{tail(log)}"
    return time.monotonic() - signalled


def assert_clean_log(log: Path) -> None:
    text = log.read_text(errors="replace")
    for marker in ("Traceback", '"level": "error"', '"level": "critical"', "relay_failed", "handler_crashed",
                   "Worker was sent SIGKILL", "WORKER TIMEOUT"):
        assert marker not in text, f"{marker!r} in the log:\n{tail(log, 80)}"


# --- HTTP: the in-flight request is answered, then the process exits 0 ---------------------------------------

@pytest.mark.parametrize("workers", [1, 2], ids=["uvicorn", "gunicorn-2-workers"])
def test_api_answers_the_request_in_flight_then_exits(workers, tmp_path, create_postgres_database, amqp_url,
                                                      bus_namespace):
    from achats.company_registry.standin.testing import running_standin

    database_url = create_postgres_database("achats_shutdown")
    port = free_port()
    log = tmp_path / "api.log"
    with running_standin() as insee:
        env = base_env(tmp_path, DATABASE_URL=database_url, AMQP_URL=amqp_url,
                       EVENTS_EXCHANGE=f"{bus_namespace}events", QUEUE_PREFIX=bus_namespace,
                       INSEE_BASE_URL=insee.base_url, PORT=str(port))
        subprocess.run([str(BIN / "achats-company-registry"), "migrate"], env=env, check=True, timeout=120,
                       capture_output=True)
        command = [str(BIN / "achats-company-registry"), "serve", "--workers", str(workers), "--host", "127.0.0.1"]
        with started(command, env, log) as api:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: answers(f"{base}/healthz"), 60, "the api to answer /healthz", api, log)
            # INSEE answers in 2 s: the lookup is in the service, waiting, when SIGTERM arrives.
            insee.set_mode("slow", delay=2.0, count=1)
            request = InFlight(f"{base}/registry/lookup/26570134200148")
            request.start()
            wait_for(lambda: insee.app.state.standin.calls_view()["total"] >= 1, 20,
                       "the lookup to reach INSEE", api, log)
            took = stop_and_wait(api, log)
            request.join(timeout=30)
            assert request.error is None, f"the in-flight request failed: {request.error!r}\n{tail(log)}"
            assert request.response is not None and request.response.status_code == 200, tail(log)
            assert request.response.json()["company"]["siren"] == "265701342"
            assert took < 2.0 + EXIT_AFTER_WORK_SECONDS, f"took {took:.1f} s to stop:\n{tail(log)}"
            assert not answers(f"{base}/healthz"), "still answering after exit"
    assert_clean_log(log)


def test_gateway_answers_the_proxied_request_in_flight_then_exits(tmp_path):
    arrived = threading.Event()

    async def slow_upstream(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        arrived.set()
        await asyncio.sleep(2.0)
        body = json.dumps({"path": scope["path"]}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    port = free_port()
    log = tmp_path / "gateway.log"
    with serving(slow_upstream) as upstream:
        env = base_env(tmp_path, UPSTREAMS=f"company-registry={upstream}", PORT=str(port))
        command = [str(BIN / "achats-gateway"), "serve", "--workers", "2", "--host", "127.0.0.1"]
        with started(command, env, log) as gateway:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: answers(f"{base}/healthz"), 60, "the gateway to answer /healthz", gateway, log)
            request = InFlight(f"{base}/api/companies/lookup/26570134200148")
            request.start()
            wait_for(arrived.is_set, 20, "the request to reach the upstream", gateway, log)
            took = stop_and_wait(gateway, log)
            request.join(timeout=30)
            assert request.error is None, f"the in-flight request failed: {request.error!r}\n{tail(log)}"
            assert request.response is not None and request.response.status_code == 200, tail(log)
            assert request.response.json() == {"path": "/registry/lookup/26570134200148"}
            assert took < 2.0 + EXIT_AFTER_WORK_SECONDS, f"took {took:.1f} s to stop:\n{tail(log)}"
    assert_clean_log(log)


# --- worker: the message in hand is applied once and acknowledged, the relay stops -------------------------

def queue_depth(amqp_url: str, queue: str) -> int:
    """Messages waiting in a queue (ready ones; unacknowledged ones come back when their channel closes)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def consumers(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:  # not declared yet
        return 0
    finally:
        if connection.is_open:
            connection.close()


def waiting_insert(database_url: str) -> bool:
    """True when a session of the worker waits for a lock while inserting a delivery: a message in hand."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO deliveries%'").fetchone()
    return bool(row and row[0])


def test_worker_finishes_the_message_in_hand_acks_it_once_and_stops_the_relay(tmp_path, create_postgres_database,
                                                                               amqp_url, bus_namespace, smtp_sink):
    from achats.notifier import contract
    from achats.notifier.models import Delivery

    database_url = create_postgres_database("achats_shutdown")
    db = Database(database_url)
    exchange = f"{bus_namespace}events"
    queue = f"{bus_namespace}notifier.events"
    log = tmp_path / "worker.log"
    env = base_env(tmp_path, DATABASE_URL=database_url, AMQP_URL=amqp_url, EVENTS_EXCHANGE=exchange,
                   QUEUE_PREFIX=bus_namespace, MAIL_URL=f"smtp://127.0.0.1:{smtp_sink.port}",
                   MAIL_DOMAIN="achats.test", PUBLIC_BASE_URL="https://achats.test", RELAY_POLL_INTERVAL="0.2",
                   MAIL_POLL_INTERVAL="0.2")
    subprocess.run([str(BIN / "achats-notifier"), "migrate"], env=env, check=True, timeout=120, capture_output=True)

    # A queue of our own on the exchange, to see what the relay publishes while the worker runs.
    observer = pika.BlockingConnection(pika.URLParameters(amqp_url))
    observed = f"{bus_namespace}observer"
    channel = observer.channel()
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(observed, exclusive=True)
    channel.queue_bind(observed, exchange, "shutdown.probe.sent")

    example = contract.examples()["helpdesk.ticket.created"]
    event = CloudEvent(type="helpdesk.ticket.created", source=example["source"], data=example["data"])
    try:
        with started([str(BIN / "achats-notifier"), "worker"], env, log) as worker:
            wait_for(lambda: consumers(amqp_url, queue) >= 1, 60, "the consumer", worker, log)

            # The relay is alive and publishes: an outbox row committed now reaches the observer queue.
            with db.unit_of_work() as uow:
                probe = publish(uow.session, "shutdown.probe.sent", {"n": 1}, source="/tests")
                uow.commit()
            wait_for(lambda: channel.queue_declare(observed, passive=True).method.message_count == 1, 20,
                       "the relay to publish the probe", worker, log)

            # Hold the deliveries table so that the handler blocks inside its transaction: the message is in hand.
            with psycopg.connect(database_url) as blocker:
                blocker.execute("LOCK TABLE deliveries IN SHARE MODE")
                with pika.BlockingConnection(pika.URLParameters(amqp_url)) as publisher:
                    publisher.channel().basic_publish(
                        exchange, event.type, event.to_json(),
                        pika.BasicProperties(delivery_mode=2, message_id=event.id, content_type="application/json"))
                wait_for(lambda: waiting_insert(database_url), 20, "the handler to hold the message", worker, log)
                worker.send_signal(signal.SIGTERM)
                time.sleep(1.5)
                assert worker.poll() is None, f"exited with the message in hand:\n{tail(log)}"
                blocker.commit()  # the handler goes on: its transaction commits, then the message is acked
            took = stop_and_wait(worker, log, timeout=GRACE_SECONDS)
            assert took < EXIT_AFTER_WORK_SECONDS, f"took {took:.1f} s to stop after the message:\n{tail(log)}"
    finally:
        observer.close()
        db.engine.dispose()

    with db.unit_of_work() as uow:
        deliveries = uow.session.scalar(select(func.count()).where(Delivery.event_id == event.id))
        inboxed = uow.session.scalar(select(func.count()).where(inbox.c.event_id == event.id))
        relayed = uow.session.scalar(select(outbox.c.status).where(outbox.c.event_id == probe.id))
    db.engine.dispose()
    assert deliveries == 1, "the event's effect must be applied exactly once"
    assert inboxed == 1
    assert relayed == "published"
    # Acknowledged: nothing went back to the queue when the worker's channel closed, nothing to retry or dead-letter.
    assert queue_depth(amqp_url, queue) == 0, "the message was not acknowledged: it will be redelivered"
    assert queue_depth(amqp_url, f"{queue}.dlq") == 0
    assert_clean_log(log)
    broker = AmqpTransport(amqp_url, exchange=exchange)
    broker.delete(QueueSpec(name=queue, bindings=()))
    broker.delete_exchange()
