"""The request form's rules: required fields, anonymous e-mail, retries with Idempotency-Key, references."""

from __future__ import annotations

import re

from helpdesk_support import category_id


def test_anonymous_requests_need_an_e_mail(helpdesk):
    response = helpdesk.create()
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "email", "message": "Indiquez votre adresse électronique pour recevoir la réponse."}]
    malformed = helpdesk.create(email="marie curie@example.fr")
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "email"
    assert helpdesk.create(email="a.b@example.fr").status_code == 201


def test_the_form_is_validated_in_french(helpdesk):
    response = helpdesk.client.post("/helpdesk/tickets", data={"severity": "grave", "message": ""},
                                    files=[("attachments", ("", b"", "application/octet-stream"))])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert fields["category_id"] == "Ce champ est obligatoire."
    assert fields["severity"].startswith("Valeur non autorisée. Valeurs possibles : minor, major, blocking")
    blank = helpdesk.create(message="   ", email="a@example.fr")
    assert blank.json()["errors"] == [{"field": "message", "message": "Ce champ est obligatoire."}]
    often = helpdesk.create(frequency=None, email="a@example.fr")
    assert often.json()["errors"][0]["field"] == "frequency"
    # A suggestion has no frequency.
    assert helpdesk.create(severity="suggestion", frequency=None, email="a@example.fr").status_code == 201
    unknown = helpdesk.create(category_id="4f1f3a52-1d0e-4c1b-9a57-3c2b8f0e7d41", email="a@example.fr")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "category_unknown")


def test_a_retried_request_opens_one_ticket(helpdesk):
    key = {"Idempotency-Key": "form-7f3c"}
    first = helpdesk.create(headers=key, email="a@example.fr")
    again = helpdesk.create(headers=key, email="a@example.fr")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["follow_url"] is None  # the link went by mail, it is not handed out twice
    assert len(helpdesk.events("helpdesk.ticket.created")) == 1
    # The same key from someone else is someone else's request.
    assert helpdesk.create(headers=key, email="b@example.fr").status_code == 201


def test_references_are_eight_digits_and_distinct(helpdesk):
    references = {helpdesk.created(email=f"p{n}@example.fr", category_id=category_id("autre"))["reference"]
                  for n in range(20)}
    assert len(references) == 20
    assert all(re.fullmatch(r"[1-9][0-9]{7}", r) for r in references)


def test_a_reference_already_taken_is_drawn_again(helpdesk, monkeypatch):
    from achats.helpdesk import tickets

    first = helpdesk.created(email="a@example.fr")
    drawn = iter([first["reference"], first["reference"], "87654321"])
    monkeypatch.setattr(tickets, "new_reference", lambda: next(drawn))
    second = helpdesk.created(email="b@example.fr")
    assert second["reference"] == "87654321"
    assert len(helpdesk.events("helpdesk.ticket.created")) == 2


def test_what_the_pages_script_tells_of_the_browser_is_kept(helpdesk):
    # « Contexte technique »: the screen, languages and cookies the form's script read, when it ran.
    ticket = helpdesk.created(email="a@example.fr", screen="1920 × 1080", language="fr-FR, fr", cookies="enabled")
    technical = ticket["context"]["technical"]
    assert (technical["operating_system"], technical["browser"]) == ("Windows 10", "Mozilla Firefox 83.0")
    assert (technical["screen"], technical["language"], technical["cookies"]) == ("1920 × 1080", "fr-FR, fr", "enabled")
    # Without a script nothing is sent, and nothing is made up.
    assert "screen" not in helpdesk.created(email="b@example.fr")["context"]["technical"]
    refused = helpdesk.create(email="c@example.fr", cookies="peut-être")
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (400, "cookies")
