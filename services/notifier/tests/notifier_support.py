"""Test support: settings, a notifier worker on a real database and bus, events built from the contract."""

from __future__ import annotations

import copy
import threading
from typing import Any

from sqlalchemy import select

from achats.chassis.bus import CloudEvent
from achats.chassis.bus.transport import OutgoingMessage
from achats.notifier import consumers, contract
from achats.notifier.app import SERVICE
from achats.notifier.models import Delivery
from achats.notifier.sender import MailSender
from achats.notifier.settings import NotifierSettings

PLATFORM = "La plateforme des marchés publics"
DOMAIN = "achats.test"
SENDER = f"nepasrepondre@{DOMAIN}"


def make_settings(database_url: str, mail_url: str, *, amqp_url: str = "memory://notifier-tests",
                  **overrides: Any) -> NotifierSettings:
    values: dict[str, Any] = {
        "database_url": database_url, "amqp_url": amqp_url, "mail_url": mail_url, "mail_domain": DOMAIN,
        "public_base_url": "https://achats.test", "log_json": False,
        # Fast retries, so that outages of a fraction of a second show every path.
        "mail_retry_initial": 0.05, "mail_retry_max": 0.2, "mail_poll_interval": 0.2, "mail_timeout": 5.0,
        "retry_delays": (0.1, 0.2),
    }
    values.update(overrides)
    return SERVICE.load_settings({}, **values)


def event(event_type: str, *, id: str | None = None, **data_changes: Any) -> CloudEvent:
    """The contract's example of ``event_type``, with a fresh id and ``data_changes`` applied."""
    example = copy.deepcopy(contract.examples()[event_type])
    data = {**example["data"], **data_changes}
    kwargs = {"id": id} if id else {}
    return CloudEvent(type=event_type, source=example["source"], data=data, **kwargs)


class Notifier:
    """The notifier's worker (consumer and sender) in threads, as ``achats-notifier worker`` runs it."""

    def __init__(self, settings: NotifierSettings):
        self.settings = settings
        SERVICE.migrate(settings)
        self.runtime = SERVICE.runtime(settings)
        self.db = self.runtime.db
        self.consumer = SERVICE.consumer(self.runtime)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # One publisher for the test (tests publish from one thread): opening one costs about a second,
        # the chassis waiting for the broker's Confirm.SelectOk in one-second slices.
        self._publisher = None

    def start(self) -> Notifier:
        self._threads = SERVICE.start_worker(self.runtime, self._stop)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        assert not any(t.is_alive() for t in self._threads), "a worker thread did not stop"
        self._threads = []

    def close(self) -> None:
        self.stop()
        if self._publisher is not None:
            self._publisher.close()
        try:
            self.runtime.transport.delete(self.consumer.spec)
        except Exception:  # a test may have left the broker unreachable on purpose
            pass
        self.db.dispose()

    def publish(self, *events: CloudEvent) -> None:
        """Straight to the exchange, as the producers' relays do."""
        if self._publisher is None:
            self._publisher = self.runtime.transport.publisher()
        routed = self._publisher.publish_batch([OutgoingMessage(routing_key=e.type, body=e.to_json(),
                                                                message_id=e.id) for e in events])
        assert all(routed), "an event found no queue: is the consumer declared?"

    def deliveries(self, **where: Any) -> list[Delivery]:
        with self.db.session() as session:
            statement = select(Delivery).order_by(Delivery.created_at, Delivery.recipient)
            for name, value in where.items():
                statement = statement.where(getattr(Delivery, name) == value)
            rows = list(session.execute(statement).scalars())
            session.expunge_all()  # usable after the session ends
            return rows

    def apply(self, *cloud_events: CloudEvent) -> None:
        """What the consumer does with each event, minus the broker and the inbox: its handler, committed."""
        handlers = consumers.handlers(self.runtime)
        for cloud_event in cloud_events:
            with self.db.unit_of_work() as uow:
                handlers[cloud_event.type](uow.session, cloud_event)
                uow.commit()

    def sender(self, name: str = "sender") -> MailSender:
        needs = self.runtime.deps
        return MailSender(db=self.db, transport=needs.mail_transport, settings=self.settings,
                          wake=needs.mail_wake, name=name)

    def dead_letters(self) -> list[bytes]:
        return self.runtime.transport.dead_letters(self.consumer.spec)

    def __enter__(self) -> Notifier:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
