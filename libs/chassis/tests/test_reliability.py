"""What the bus promises when things break, against the real RabbitMQ and PostgreSQL (DESIGN §4).

(c) duplicate delivery and (d) a handler that always fails are proven for both transports and both
databases in test_bus.py; this file holds the outages: a broker cut off, a consumer killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from achats.chassis.bus import EventConsumer, OutboxRelay
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.testing import wait_until
from achats.chassis_testing.tcpproxy import TcpProxy

from bus_support import EVENT, Running, effect_counts, prepare, publish_many, record_effect

HERE = Path(__file__).parent


@pytest.fixture
def db(fresh_postgres_url):
    database = prepare(fresh_postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def broker_proxy(amqp_url):
    import pika

    params = pika.URLParameters(amqp_url)
    with TcpProxy(params.host, params.port) as proxy:
        yield proxy


def proxied(amqp_url: str, proxy: TcpProxy) -> str:
    import pika

    params = pika.URLParameters(amqp_url)
    return amqp_url.replace(f"{params.host}:{params.port}", f"127.0.0.1:{proxy.port}")


def test_a_events_published_while_the_broker_is_unreachable_are_all_delivered_once(
        db, amqp_url, amqp_transport, broker_proxy, bus_namespace):
    through_proxy = AmqpTransport(proxied(amqp_url, broker_proxy), exchange=amqp_transport.exchange,
                                  reconnect_delay_max=0.5)
    consumer = EventConsumer(name="sample", db=db, transport=through_proxy, handlers={EVENT: record_effect},
                             queue_prefix=bus_namespace, retry_delays=(0.05, 0.1))
    amqp_transport.declare(consumer.spec)
    relay = OutboxRelay(db, through_proxy, batch_size=100, poll_interval=0.2, max_backoff=0.5)
    try:
        with Running() as running:
            running.relay(relay)
            running.consumer(consumer)
            broker_proxy.cut()
            ids = publish_many(db, 1000)
            # Nothing can leave while the broker is cut off, and nothing is lost either.
            assert not wait_until(lambda: len(effect_counts(db)) > 0, timeout=1.5)
            broker_proxy.restore()
            assert wait_until(lambda: len(effect_counts(db)) >= 300, timeout=60)
            # A second cut in the middle of the flow: in-flight publishes and unacked deliveries.
            broker_proxy.cut()
            wait_until(lambda: False, timeout=0.5)
            broker_proxy.restore()
            assert wait_until(lambda: len(effect_counts(db)) == 1000, timeout=90)
        counts = effect_counts(db)
        assert set(counts) == set(ids)
        assert max(counts.values()) == 1, "an event was applied twice"
    finally:
        amqp_transport.delete(consumer.spec)


def start_consumer(mode: str, signal_file: Path, db_url: str, amqp_url: str, exchange: str, prefix: str):
    env = {**os.environ, "MODE": mode, "SIGNAL_FILE": str(signal_file), "DATABASE_URL": db_url,
           "AMQP_URL": amqp_url, "EXCHANGE": exchange, "PREFIX": prefix}
    return subprocess.Popen([sys.executable, str(HERE / "consumer_process.py")], env=env,
                            stdout=open(signal_file.with_suffix(".log"), "ab"), stderr=subprocess.STDOUT)


@pytest.mark.parametrize("mode", ["hang", "die-after-commit"])
def test_b_consumer_killed_while_handling_an_event_applies_it_exactly_once(
        mode, db, fresh_postgres_url, amqp_url, amqp_transport, bus_namespace, tmp_path):
    signal_file = tmp_path / "handling"
    consumer = EventConsumer(name="sample", db=db, transport=amqp_transport, handlers={EVENT: record_effect},
                             queue_prefix=bus_namespace, retry_delays=(0.05, 0.1))
    amqp_transport.declare(consumer.spec)
    ids = publish_many(db, 5)
    relay = OutboxRelay(db, amqp_transport)
    victim = start_consumer(mode, signal_file, fresh_postgres_url, amqp_url, amqp_transport.exchange, bus_namespace)
    try:
        assert relay.run_once() == 5
        assert wait_until(signal_file.exists, timeout=30), "the consumer never started handling"
        if mode == "hang":
            victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        killed_on = signal_file.read_text()
        survivor = start_consumer("normal", tmp_path / "unused", fresh_postgres_url, amqp_url,
                                  amqp_transport.exchange, bus_namespace)
        try:
            assert wait_until(lambda: len(effect_counts(db)) == 5, timeout=60)
        finally:
            survivor.terminate()
            survivor.wait(timeout=30)
        counts = effect_counts(db)
        assert set(counts) == set(ids)
        assert counts[killed_on] == 1
        assert max(counts.values()) == 1
    finally:
        if victim.poll() is None:
            victim.kill()
        relay._publisher.close()
        amqp_transport.delete(consumer.spec)
