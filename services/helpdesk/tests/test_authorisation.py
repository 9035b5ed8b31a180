"""Who sees what: a requester sees only their tickets; internal notes reach no requester, by API or event."""

from __future__ import annotations

import json

import pytest

from achats.chassis.testing.samples import PDF

NOTE = "Note interne : client déjà signalé pour abus, ne pas rembourser."


@pytest.fixture
def tickets(helpdesk):
    marie, pierre = helpdesk.auth("marie"), helpdesk.auth("pierre")
    return helpdesk.created(headers=marie), helpdesk.created(headers=pierre)


def test_a_user_never_sees_another_users_tickets(helpdesk, tickets):
    marie_ticket, pierre_ticket = tickets
    marie = helpdesk.auth("marie")
    assert [t["id"] for t in helpdesk.client.get("/helpdesk/tickets", headers=marie).json()["items"]] == [
        marie_ticket["id"]]
    attachment = helpdesk.post_form(f"/helpdesk/tickets/{pierre_ticket['id']}/messages",
                                    headers=helpdesk.auth("pierre"), message="Pièce",
                                    files=[("attachments", ("p.pdf", PDF, "application/pdf"))]).json()[
        "history"][-1]["attachments"][0]
    requests = [
        helpdesk.client.get(f"/helpdesk/tickets/{pierre_ticket['id']}", headers=marie),
        helpdesk.post_form(f"/helpdesk/tickets/{pierre_ticket['id']}/messages", headers=marie, message="Coucou"),
        helpdesk.client.get(f"/helpdesk/tickets/{pierre_ticket['id']}/attachments/{attachment['id']}",
                            headers=marie),
        helpdesk.client.delete(f"/helpdesk/tickets/{pierre_ticket['id']}/follow-links", headers=marie),
    ]
    for response in requests:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "ticket_not_found"
    # Marie's link opens Marie's ticket only.
    _, token = helpdesk.follow_token(marie_ticket["id"])
    assert helpdesk.follow(pierre_ticket["reference"], token).status_code == 404


def test_anonymous_tickets_are_not_listed_and_lists_need_a_login(helpdesk):
    helpdesk.created(email="anonyme@example.fr")
    assert helpdesk.client.get("/helpdesk/tickets").status_code == 401
    assert helpdesk.client.get("/helpdesk/tickets", headers=helpdesk.auth("marie")).json()["count"] == 0


def test_the_desk_is_for_agents_and_administrators(helpdesk, tickets):
    ticket_id = tickets[0]["id"]
    marie = helpdesk.auth("marie")
    for response in (
        helpdesk.client.get("/helpdesk/agent/tickets", headers=marie),
        helpdesk.client.get(f"/helpdesk/agent/tickets/{ticket_id}", headers=marie),
        helpdesk.client.put(f"/helpdesk/agent/tickets/{ticket_id}/status", json={"status": "closed"}, headers=marie),
        helpdesk.post_form(f"/helpdesk/agent/tickets/{ticket_id}/notes", headers=marie, message="x"),
        helpdesk.client.post("/helpdesk/categories", json={"label": "Pirate"}, headers=marie),
        helpdesk.client.get("/helpdesk/faq/stats", headers=marie),
        helpdesk.client.get("/helpdesk/categories", params={"include_inactive": "true"}, headers=marie),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert helpdesk.client.get("/helpdesk/agent/tickets").status_code == 401
    for who in ("agent", "admin"):
        assert helpdesk.client.get("/helpdesk/agent/tickets", headers=helpdesk.auth(who)).json()["count"] == 2


def test_internal_notes_never_reach_the_requester(helpdesk, tickets):
    ticket = tickets[0]
    agent, marie = helpdesk.auth("agent"), helpdesk.auth("marie")
    noted = helpdesk.post_form(f"/helpdesk/agent/tickets/{ticket['id']}/notes", headers=agent, message=NOTE,
                               files=[("attachments", ("interne.pdf", PDF, "application/pdf"))])
    assert noted.status_code == 201
    note = noted.json()["history"][-1]
    assert (note["kind"], note["internal"], note["message"]) == ("note", True, NOTE)
    [internal_file] = note["attachments"]
    # The support then answers and resolves: mails go out, the note stays inside.
    helpdesk.post_form(f"/helpdesk/agent/tickets/{ticket['id']}/replies", headers=agent, message="Réponse publique",
                       status="resolved")
    reference, token = helpdesk.follow_token(ticket["id"], "helpdesk.ticket.answered")
    for view in (helpdesk.client.get(f"/helpdesk/tickets/{ticket['id']}", headers=marie),
                 helpdesk.follow(reference, token)):
        assert view.status_code == 200
        assert NOTE not in view.text and "interne.pdf" not in view.text
        assert all(e["kind"] not in ("note", "assigned") for e in view.json()["history"])
    assert helpdesk.client.get(f"/helpdesk/tickets/{ticket['id']}/attachments/{internal_file['id']}",
                               headers=marie).status_code == 404
    assert helpdesk.follow(reference, token, f"/attachments/{internal_file['id']}").status_code == 404
    assert helpdesk.client.get(f"/helpdesk/agent/tickets/{ticket['id']}/attachments/{internal_file['id']}",
                               headers=agent).content == PDF
    # No event mentions the note, its file, or even that a note exists.
    events = helpdesk.events()
    assert events
    dumped = json.dumps(events, ensure_ascii=False)
    assert NOTE not in dumped and "interne.pdf" not in dumped and '"note"' not in dumped


def test_an_invalid_token_is_refused_even_where_anonymous_is_welcome(helpdesk):
    expired = {"Authorization": f"Bearer {helpdesk.keys.token({'sub': 'x', 'roles': ['supplier']}, exp_in=-120)}"}
    response = helpdesk.create(headers=expired, email="a@example.fr")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    garbage = helpdesk.client.get("/helpdesk/context", headers={"Authorization": "Bearer abc.def.ghi"})
    assert garbage.status_code == 401
    assert garbage.json()["code"] == "token_invalid"
    assert helpdesk.client.get("/helpdesk/context", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401
