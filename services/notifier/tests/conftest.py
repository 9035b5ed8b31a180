"""Fixtures of the notifier's tests; the platform-wide ones come from achats.chassis.testing.plugin."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from notifier_smtp import MailServer, TestCertificate
from notifier_support import Notifier


@pytest.fixture
def on_rabbitmq(amqp_url, amqp_transport, bus_namespace) -> dict:
    """Settings that put the notifier on the real broker, on this test's private exchange and queues."""
    return {"amqp_url": amqp_url, "events_exchange": amqp_transport.exchange, "queue_prefix": bus_namespace}


@pytest.fixture
def notifiers():
    """``notifiers(settings)``: a notifier worker (not started), closed after the test."""
    made: list[Notifier] = []

    def make(settings) -> Notifier:
        made.append(Notifier(settings))
        return made[-1]

    yield make
    for notifier in made:
        notifier.close()


@pytest.fixture
def mail_server():
    with MailServer() as server:
        yield server


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> TestCertificate:
    return TestCertificate(tmp_path_factory.mktemp("tls"))
