"""The sender on both databases: 5xx fail at once, 4xx and outages retry with backoff, never twice."""

from __future__ import annotations

import random
import socket
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from achats.chassis.testing import wait_until
from achats.notifier.models import FAILED, QUEUED, SENT, Delivery
from achats.notifier.sender import backoff_delay

from notifier_support import event, make_settings


@pytest.fixture
def make_notifier(notifiers, database_url):
    def make(mail_url: str, **overrides):
        return notifiers(make_settings(database_url, mail_url, **overrides))

    return make


def send_until(sender, notifier, predicate, timeout: float = 10.0) -> bool:
    def step() -> bool:
        sender.run_once()
        return predicate(notifier.deliveries())

    return wait_until(step, timeout=timeout, interval=0.02)


def expiring_for(*emails: str):
    return event("company.document.expiring", recipients=[
        {"email": e, "first_name": "Léa", "last_name": "Fournier"} for e in emails])


def test_a_permanent_refusal_fails_at_once_and_is_never_retried(make_notifier, mail_server):
    mail_server.replies["inconnu@exemple.fr"] = "550 5.1.1 Utilisateur inconnu"
    notifier = make_notifier(mail_server.url())
    notifier.apply(expiring_for("inconnu@exemple.fr", "lea@exemple.fr"))
    sender = notifier.sender()
    assert sender.run_once() == 2
    by_recipient = {d.recipient: d for d in notifier.deliveries()}
    refused = by_recipient["inconnu@exemple.fr"]
    assert (refused.status, refused.attempts, refused.next_attempt_at) == (FAILED, 1, None)
    assert refused.last_error.startswith("550 5.1.1")
    assert by_recipient["lea@exemple.fr"].status == SENT
    # Well past several retry delays: nothing is tried again.
    threading.Event().wait(3 * notifier.settings.mail_retry_max)
    assert sender.run_once() == 0
    assert mail_server.rcpt_attempts["inconnu@exemple.fr"] == 1
    assert [r.rcpt_tos for r in mail_server.received] == [["lea@exemple.fr"]]


def test_a_deferred_mail_is_retried_then_delivered_once(make_notifier, mail_server):
    mail_server.defer["lea@exemple.fr"] = 2  # 451 twice
    notifier = make_notifier(mail_server.url())
    notifier.apply(expiring_for("lea@exemple.fr"))
    sender = notifier.sender()
    sender.run_once()
    (deferred,) = notifier.deliveries()
    assert (deferred.status, deferred.attempts) == (QUEUED, 1)
    assert deferred.last_error.startswith("451") and deferred.next_attempt_at > deferred.created_at
    assert send_until(sender, notifier, lambda ds: ds[0].status == SENT)
    (sent,) = notifier.deliveries()
    assert (sent.attempts, sent.last_error) == (3, None)
    assert len(mail_server.received) == 1
    assert mail_server.received[0].message["Message-ID"] == sent.message_id


def test_a_mail_server_down_past_the_deadline_means_failed(make_notifier):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = make_notifier(f"smtp://127.0.0.1:{port}", mail_give_up_after=0.3)
    notifier.apply(expiring_for("lea@exemple.fr"))
    assert send_until(notifier.sender(), notifier, lambda ds: ds[0].status == FAILED)
    (failed,) = notifier.deliveries()
    assert failed.attempts >= 2
    assert failed.last_error.startswith(f"given up after {failed.attempts} attempt(s): ConnectionRefusedError")


def test_a_mail_sent_again_after_a_crash_keeps_its_message_id(make_notifier, mail_server):
    notifier = make_notifier(mail_server.url())
    notifier.apply(event("identity.password_reset.requested"))
    crashed = notifier.sender("crashed")
    assert len(crashed._claim()) == 1  # claimed, then the process dies before sending or recording
    (claimed,) = notifier.deliveries()
    assert claimed.status == QUEUED and claimed.next_attempt_at > datetime.now(UTC)
    assert notifier.sender().run_once() == 0  # leased: nobody else takes it
    with notifier.db.unit_of_work() as uow:  # the lease runs out
        uow.session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
        uow.commit()
    assert notifier.sender("successor").run_once() == 1
    (sent,) = notifier.deliveries()
    assert (sent.status, sent.attempts) == (SENT, 2)
    assert [r.message["Message-ID"] for r in mail_server.received] == [claimed.message_id]


def test_the_same_event_applied_twice_queues_each_mail_once(make_notifier, mail_server):
    notifier = make_notifier(mail_server.url())
    registered = event("identity.user.registered")
    notifier.apply(registered)
    notifier.apply(registered)  # e.g. redelivered after its inbox entry was pruned
    assert sorted(d.template for d in notifier.deliveries()) == ["account_created", "company_user_joined"]


def test_two_senders_share_the_work_without_sending_a_mail_twice(make_notifier, mail_server):
    notifier = make_notifier(mail_server.url(), mail_batch_size=7)
    emails = [f"fournisseur{n}@exemple.fr" for n in range(60)]
    notifier.apply(expiring_for(*emails))
    stop = threading.Event()
    threads = [threading.Thread(target=notifier.sender(f"s{n}").run, args=(stop,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        mail_server.wait_for(60)
        assert wait_until(lambda: all(d.status == SENT for d in notifier.deliveries()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    received = mail_server.received
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(emails)
    assert len({r.message["Message-ID"] for r in received}) == 60
    assert {d.attempts for d in notifier.deliveries()} == {1}


def test_backoff_doubles_up_to_the_cap_with_jitter():
    rng = random.Random(7)
    for attempts, base in [(1, 30), (2, 60), (3, 120), (8, 3600), (30, 3600)]:
        delay = backoff_delay(attempts, initial=30, maximum=3600, rng=rng)
        assert base / 2 <= delay <= base
