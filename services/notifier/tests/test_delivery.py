"""End to end on the real broker and both databases: event published -> consumer -> sender -> SMTP sink."""

from __future__ import annotations

import json

import pytest

from achats.chassis.testing import wait_until
from achats.notifier import contract
from achats.notifier.mails import TEMPLATES, mails_for
from achats.notifier.models import QUEUED, SENT

from notifier_support import PLATFORM, SENDER, event, make_settings


@pytest.fixture
def notifier(notifiers, database_url, on_rabbitmq, smtp_sink):
    return notifiers(make_settings(database_url, f"smtp://127.0.0.1:{smtp_sink.port}", **on_rabbitmq)).start()


def all_events():
    return [event(event_type) for event_type in contract.consumed_types()]


def expected_mails() -> list[str]:
    """The template of every mail the examples give (an example may have several recipients)."""
    return sorted(m.template.name for e in all_events() for m in mails_for(e.type, e.data))


def test_every_template_is_delivered_with_correct_headers_and_accents(notifier, smtp_sink):
    notifier.publish(*all_events())
    messages = smtp_sink.wait_for(len(expected_mails()), timeout=20)
    assert wait_until(lambda: {d.status for d in notifier.deliveries()} == {SENT})
    deliveries = {d.message_id: d for d in notifier.deliveries()}
    assert sorted(d.template for d in deliveries.values()) == expected_mails()
    assert set(expected_mails()) == set(TEMPLATES)
    assert len(messages) == len(expected_mails())
    for envelope in smtp_sink.envelopes:
        message = envelope.message
        delivery = deliveries[message["Message-ID"]]
        assert envelope.mail_from == SENDER and envelope.rcpt_tos == [delivery.recipient]
        assert message["From"].addresses[0].display_name == PLATFORM
        assert message["From"].addresses[0].addr_spec == SENDER
        assert message["To"].addresses[0].addr_spec == delivery.recipient
        assert message["To"].addresses[0].display_name == (delivery.recipient_name or "")
        assert message["Subject"] == delivery.subject
        assert message["Date"].datetime == delivery.created_at.replace(microsecond=0)
        raw_headers = dict(message.raw_items())
        assert all(value.isascii() for value in raw_headers.values())
        assert "=?utf-8?" in raw_headers["From"]  # « marchés », encoded
        assert message.get_content_type() == "multipart/alternative"
        text, html = message.iter_parts()
        assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
        assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
        assert text.get_content() == delivery.text_body and html.get_content() == delivery.html_body
        assert "é" in text.get_content() and PLATFORM in html.get_content()
    created = next(d for d in deliveries.values() if d.template == "ticket_created")
    assert created.subject == "Assistance - Création d'une demande - Réf. 25031842"


def test_mail_server_down_then_up_delivers_every_mail_once(notifier, smtp_sink):
    smtp_sink.stop()
    notifier.publish(*all_events())
    # Every mail is tried and put off at least twice while the server is down.
    assert wait_until(lambda: len(ds := notifier.deliveries()) == len(expected_mails())
                      and all(d.status == QUEUED and d.attempts >= 2 for d in ds))
    assert all(d.last_error.startswith("ConnectionRefusedError") for d in notifier.deliveries())
    smtp_sink.start()
    smtp_sink.wait_for(len(expected_mails()), timeout=20)
    assert wait_until(lambda: {d.status for d in notifier.deliveries()} == {SENT})
    # One more event through the same queue and sender: once its mail is in, nothing else is on its way.
    notifier.publish(event("identity.password.changed"))
    smtp_sink.wait_for(len(expected_mails()) + 1)
    message_ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(message_ids) == len(set(message_ids)) == len(expected_mails()) + 1
    assert sorted(message_ids) == sorted(d.message_id for d in notifier.deliveries())


def test_the_same_event_delivered_twice_sends_one_mail(notifier, smtp_sink):
    reset = event("identity.password_reset.requested")
    notifier.publish(reset)
    notifier.publish(reset)
    marker = event("identity.password.changed")
    notifier.publish(marker)  # queued behind the duplicate: once its mail is in, the duplicate was handled
    smtp_sink.wait_for(2)
    assert wait_until(lambda: len(notifier.deliveries(event_id=marker.id, status=SENT)) == 1)
    assert [m["Subject"] for m in smtp_sink.messages].count("Réinitialisation de votre mot de passe") == 1
    assert len(smtp_sink.messages) == 2
    assert len(notifier.deliveries(event_id=reset.id)) == 1


def parts(message) -> tuple[str, str]:
    text, html = message.iter_parts()
    return text.get_content(), html.get_content()


def test_an_email_change_mails_the_new_and_the_previous_address_once_each(notifier, smtp_sink):
    change = event("identity.user.email_change_requested", email="marie.sklodowska@exemple.fr",
                   previous_email="Marie.Curie@exemple.fr", first_name="Marie", last_name="Skłodowska-Curie",
                   verification_url="https://achats.test/compte/confirmation?token=Kx7-Lm2",
                   verification_expires_at="2025-03-15T09:50:00+00:00")
    notifier.publish(change)
    notifier.publish(change)  # delivered twice
    marker = event("identity.password.changed")
    notifier.publish(marker)  # queued behind the duplicate: once its mail is in, the duplicate was handled
    smtp_sink.wait_for(3)
    assert wait_until(lambda: len(notifier.deliveries(event_id=marker.id, status=SENT)) == 1)
    assert wait_until(lambda: len(notifier.deliveries(event_id=change.id, status=SENT)) == 2)
    assert len(smtp_sink.messages) == 3
    by_recipient = {e.rcpt_tos[0]: e.message for e in smtp_sink.envelopes if len(e.rcpt_tos) == 1}
    assert [len(e.rcpt_tos) for e in smtp_sink.envelopes] == [1, 1, 1]

    verification = by_recipient["marie.sklodowska@exemple.fr"]
    assert verification["Subject"] == "Confirmez votre nouvelle adresse e-mail"
    assert verification["To"].addresses[0].display_name == "Marie Skłodowska-Curie"
    text, html = parts(verification)
    assert "https://achats.test/compte/confirmation?token=Kx7-Lm2" in text
    assert 'href="https://achats.test/compte/confirmation?token=Kx7-Lm2"' in html
    assert "valable jusqu'au 15 mars 2025 à 10 h 50" in text and "Marie.Curie" not in text + html

    notice = by_recipient["Marie.Curie@exemple.fr"]
    assert notice["Subject"] == "L'adresse e-mail de votre compte a été modifiée"
    assert notice["To"].addresses[0].addr_spec == "Marie.Curie@exemple.fr"
    text, html = parts(notice)
    assert "remplacée par ma***@exemple.fr" in text and "sklodowska" not in text + html
    assert "token=" not in text + html and "08 20 20 77 43" in text
    assert sorted(d.template for d in notifier.deliveries(event_id=change.id)) == [
        "email_changed_notice", "email_verification"]


def test_a_registration_attempt_mails_the_account_owner_once(notifier, smtp_sink):
    script = "<script>alert('vol de session')</script>"
    attempt = event("identity.registration.rejected", reason="login_taken", login=f"h.lefevre{script}")
    notifier.publish(attempt)
    notifier.publish(attempt)
    marker = event("identity.password.changed")
    notifier.publish(marker)
    smtp_sink.wait_for(2)
    assert wait_until(lambda: len(notifier.deliveries(event_id=marker.id, status=SENT)) == 1)
    assert wait_until(lambda: len(notifier.deliveries(event_id=attempt.id, status=SENT)) == 1)
    assert len(smtp_sink.messages) == 2
    (envelope,) = [e for e in smtp_sink.envelopes if e.message["Subject"].startswith("Tentative")]
    assert envelope.rcpt_tos == ["helene.lefevre@etudes-spatiales.example"]
    message = envelope.message
    assert message["Subject"] == "Tentative de création d'un compte avec votre identifiant de connexion"
    text, html = parts(message)
    assert f"dont l'identifiant de connexion est h.lefevre{script}." in text
    assert "<script>" not in html
    assert "h.lefevre&lt;script&gt;alert(&#39;vol de session&#39;)&lt;/script&gt;" in html
    assert "« Mot de passe oublié »" in text and "« Mot de passe oublié »" in html


def test_html_written_by_users_is_escaped_in_the_html_part(notifier, smtp_sink):
    script = "<script>alert('vol de session')</script>"
    notifier.publish(event("helpdesk.ticket.answered", subject=f"Bug {script}", message_excerpt=script))
    (message,) = smtp_sink.wait_for(1)
    text, html = message.iter_parts()
    assert "<script>" not in html.get_content()
    assert "&lt;script&gt;alert(&#39;vol de session&#39;)&lt;/script&gt;" in html.get_content()
    assert script in text.get_content()
    assert message["Subject"] == "Assistance - Réponse à votre demande - Réf. 25031842"


def test_an_event_missing_what_its_mail_needs_is_dead_lettered_at_once(notifier, smtp_sink):
    broken = event("helpdesk.ticket.created")
    del broken.data["requester"]
    notifier.publish(broken)
    assert wait_until(lambda: len(notifier.dead_letters()) == 1)
    assert json.loads(notifier.dead_letters()[0])["id"] == broken.id
    notifier.publish(event("helpdesk.ticket.closed"))  # and the queue keeps flowing
    smtp_sink.wait_for(1)
    assert [d.event_type for d in notifier.deliveries()] == ["helpdesk.ticket.closed"]
