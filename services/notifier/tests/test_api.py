"""The HTTP API: support agents and administrators only; search, read, retry, preview; French problems."""

from __future__ import annotations

import pytest

from achats.chassis.testing import wait_until
from achats.notifier.app import SERVICE
from achats.notifier.models import FAILED, QUEUED, SENT
from achats.notifier.service import HIDDEN_LINK

from notifier_support import PLATFORM, SENDER, event, make_settings

OPERATIONS = [("get", "/notifier/deliveries"), ("get", "/notifier/deliveries/1f0a3c34-5f7e-4f8e-9d3b-0c1d2e3f4a5b"),
              ("post", "/notifier/deliveries/1f0a3c34-5f7e-4f8e-9d3b-0c1d2e3f4a5b/retry"),
              ("get", "/notifier/templates"), ("get", "/notifier/templates/ticket_created/preview")]


@pytest.fixture
def setup(notifiers, sqlite_url, mail_server, keys):
    def make(database_url=sqlite_url, **overrides):
        notifier = notifiers(make_settings(database_url, mail_server.url(), jwks_url=keys.jwks_url, **overrides))
        app = SERVICE.create_app(notifier.settings, notifier.runtime, validate_responses=True, configure_logs=False)
        return notifier, app.test_client()

    return make


def auth(keys, *roles: str) -> dict:
    return {"Authorization": f"Bearer {keys.token(roles=list(roles))}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_needs_a_token(setup, method, path):
    _, client = setup()
    body = assert_problem(getattr(client, method)(path), 401, "unauthenticated")
    assert body["detail"] == "Vous devez être connecté pour accéder à cette ressource."


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("role", ["supplier", "supplier_admin", "service"])
def test_suppliers_and_services_are_refused_in_french(setup, keys, method, path, role):
    _, client = setup()
    body = assert_problem(getattr(client, method)(path, headers=auth(keys, role)), 403, "forbidden")
    assert body["detail"] == "Vous n'avez pas les droits nécessaires pour cette action."


def test_search_filters_and_pages_newest_first(setup, keys, database_url):
    notifier, client = setup(database_url)
    headers = auth(keys, "support_agent")
    recipients = [{"email": f"Fournisseur{n}@Exemple.fr", "first_name": "Léa", "last_name": f"N{n}"}
                  for n in range(25)]
    expiring = event("company.document.expiring", recipients=recipients)
    ticket = event("helpdesk.ticket.created")
    reset = event("identity.password_reset.requested")
    notifier.apply(expiring, ticket, reset)

    seen, cursor = [], None
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = client.get("/notifier/deliveries", params=params, headers=headers).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 27 and len({d["id"] for d in seen}) == 27
    assert [d["created_at"] for d in seen] == sorted((d["created_at"] for d in seen), reverse=True)
    assert seen[0]["template"] == "password_reset" and seen[-1]["template"] == "document_expiring"
    assert all(d["created_at"].endswith("Z") and d["status"] == QUEUED for d in seen)

    def search(**params) -> list[dict]:
        response = client.get("/notifier/deliveries", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    assert [d["event_id"] for d in search(template="ticket_created")] == [ticket.id]
    assert [d["recipient"] for d in search(recipient="fournisseur7@exemple.FR")] == ["Fournisseur7@Exemple.fr"]
    assert {d["template"] for d in search(q="RÉF. 25031842")} == {"ticket_created"}
    assert len(search(q="exemple.fr", limit=100)) == 25
    assert len(search(event_id=expiring.id, limit=100)) == 25
    assert len(search(event_type="identity.password_reset.requested")) == 1
    assert search(status=SENT) == []
    assert search(created_after="2999-01-01T00:00:00Z") == []
    assert len(search(created_before="2999-01-01T00:00:00Z", limit=100)) == 27
    assert search(q="100%_") == []  # LIKE wildcards are plain characters here
    assert_problem(client.get("/notifier/deliveries", params={"cursor": "pas-un-curseur"}, headers=headers), 400,
                   "cursor_invalid")
    body = assert_problem(client.get("/notifier/deliveries", params={"limit": 0, "status": "perdu"}, headers=headers),
                          400, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"limit", "status"}
    body = assert_problem(client.get("/notifier/deliveries", params={"created_after": "hier",
                                                                      "created_before": "2025-13-01T00:00:00Z"},
                                     headers=headers), 400, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"created_after", "created_before"}


def test_a_mail_reads_as_it_was_sent(setup, keys):
    notifier, client = setup()
    notifier.apply(event("helpdesk.ticket.created"))
    (delivery,) = notifier.deliveries()
    body = client.get(f"/notifier/deliveries/{delivery.id}", headers=auth(keys, "platform_admin")).json()
    assert body["headers"]["From"] == f"{PLATFORM} <{SENDER}>"
    assert body["headers"]["To"] == "Hélène Lefèvre <helene.lefevre@etudes-spatiales.example>"
    assert body["headers"]["Subject"] == "Assistance - Création d'une demande - Réf. 25031842"
    assert body["headers"]["Message-ID"] == body["message_id"] == delivery.message_id
    assert body["text"] == delivery.text_body and body["html"] == delivery.html_body
    assert "https://achats.example/assistance/demande/Hk3-pQ9zW1" in body["text"]  # not single-use: shown
    assert_problem(client.get("/notifier/deliveries/1f0a3c34-5f7e-4f8e-9d3b-0c1d2e3f4a5b",
                              headers=auth(keys, "support_agent")), 404, "delivery_not_found")
    assert_problem(client.get("/notifier/deliveries/42", headers=auth(keys, "support_agent")), 400,
                   "validation_failed")


@pytest.mark.parametrize("reveal", [False, True])
def test_single_use_links_are_hidden_unless_revealed(setup, keys, reveal):
    notifier, client = setup(reveal_links=reveal)
    reset_url = "https://achats.test/mot-de-passe?jeton=secret&amp=1"
    notifier.apply(event("identity.password_reset.requested", reset_url=reset_url))
    (delivery,) = notifier.deliveries()
    body = client.get(f"/notifier/deliveries/{delivery.id}", headers=auth(keys, "support_agent")).json()
    for part in (body["text"], body["html"]):
        assert ("jeton=secret" in part) is reveal
        assert (HIDDEN_LINK in part) is not reveal


@pytest.mark.parametrize("reveal", [False, True])
def test_the_link_confirming_a_new_address_is_hidden_unless_revealed(setup, keys, reveal):
    notifier, client = setup(reveal_links=reveal)
    change = event("identity.user.email_change_requested",
                   verification_url="https://achats.test/compte/confirmation?token=secret&x=1")
    notifier.apply(change)
    (delivery,) = notifier.deliveries(template="email_verification")
    body = client.get(f"/notifier/deliveries/{delivery.id}", headers=auth(keys, "support_agent")).json()
    for part in (body["text"], body["html"]):
        assert ("token=secret" in part) is reveal
        assert (HIDDEN_LINK in part) is not reveal


def test_a_failed_mail_is_sent_again_with_the_same_message_id(setup, keys, mail_server):
    notifier, client = setup()
    mail_server.replies["helene.lefevre@etudes-spatiales.example"] = "550 5.7.1 Boîte pleine"
    notifier.apply(event("identity.password.changed"))
    notifier.sender().run_once()
    (failed,) = notifier.deliveries()
    assert failed.status == FAILED
    headers = auth(keys, "support_agent")
    mail_server.replies.clear()  # the recipient's mailbox was fixed
    response = client.post(f"/notifier/deliveries/{failed.id}/retry", headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == QUEUED
    assert notifier.runtime.deps.mail_wake.is_set()  # the sender does not wait for its next poll
    sender = notifier.sender()
    assert wait_until(lambda: sender.run_once() >= 0 and notifier.deliveries()[0].status == SENT)
    (sent,) = notifier.deliveries()
    assert sent.attempts == 2
    assert [r.message["Message-ID"] for r in mail_server.received] == [failed.message_id]
    assert_problem(client.post(f"/notifier/deliveries/{failed.id}/retry", headers=headers), 409,
                   "delivery_not_failed")


def test_templates_are_listed_and_previewed(setup, keys):
    _, client = setup()
    headers = auth(keys, "support_agent")
    templates = client.get("/notifier/templates", headers=headers).json()["items"]
    assert len(templates) == 19  # 16 + ticket_follow_link, question_answered, deposit_received
    assert {"name": "email_changed_notice", "events": ["identity.user.email_change_requested"]}.items() <= next(
        t for t in templates if t["name"] == "email_changed_notice").items()
    assert {"name": "company_user_joined", "events": ["identity.user.registered"]}.items() <= templates[1].items()
    preview = client.get("/notifier/templates/ticket_created/preview", headers=headers).json()
    assert preview["subject"] == "Assistance - Création d'une demande - Réf. 25031842"
    assert "08 20 20 77 43" in preview["text"] and preview["html"].startswith("<!DOCTYPE html>")
    assert preview["data"]["reference"] == "25031842"
    joined = client.get("/notifier/templates/company_user_joined/preview", headers=headers).json()
    assert joined["subject"] == "Compte entreprise - Nouvel utilisateur : Hélène Lefèvre"
    assert_problem(client.get("/notifier/templates/inconnu/preview", headers=headers), 404, "template_not_found")


def test_the_mails_of_a_ticket(setup, keys):
    """The back office's « Envois de courriels »: a ticket's mails, by the ticket_id of the helpdesk's events."""
    notifier, client = setup()
    ticket, other = "b2c3d4e5-f6a7-4890-9bcd-ef0123456789", "c3d4e5f6-a7b8-4901-8cde-f01234567890"
    notifier.apply(event("helpdesk.ticket.created", ticket_id=ticket),
                   event("helpdesk.ticket.answered", ticket_id=ticket),
                   event("helpdesk.ticket.created", ticket_id=other, reference="25031843"),
                   event("identity.password_reset.requested"))
    response = client.get("/notifier/deliveries", params={"ticket_id": ticket}, headers=auth(keys, "support_agent"))
    assert response.status_code == 200, response.text
    found = response.json()["items"]
    assert [(d["template"], d["ticket_id"]) for d in found] == [("ticket_answered", ticket), ("ticket_created", ticket)]
    every = client.get("/notifier/deliveries", headers=auth(keys, "support_agent")).json()["items"]
    assert {d["ticket_id"] for d in every} == {ticket, other, None}
    refused = client.get("/notifier/deliveries", params={"ticket_id": ticket}, headers=auth(keys, "supplier"))
    assert_problem(refused, 403, "forbidden")
