"""The back office's ticket page needs (issue 17): merge a duplicate, mail a new follow link, the agents a ticket
can be given to; every action an entry of the ticket's history (who, what, when), the role checked here."""

from __future__ import annotations

import pytest

from helpdesk_support import PEOPLE


def _url(ticket: dict, suffix: str = "") -> str:
    return f"/helpdesk/agent/tickets/{ticket['id']}{suffix}"


def _agent_view(desk, ticket: dict) -> dict:
    response = desk.client.get(_url(ticket), headers=desk.auth("agent"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_duplicate_is_merged_into_the_ticket_kept(helpdesk):
    desk, agent = helpdesk, helpdesk.auth("agent")
    kept = desk.created(subject="Dépôt impossible", email="a@example.fr")
    duplicate = desk.created(subject="Dépôt impossible (bis)", email="a@example.fr")
    response = desk.client.post(_url(duplicate, "/merge"), json={"reference": kept["reference"]}, headers=agent)
    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "closed"
    merged_into = next(e for e in closed["history"] if e["kind"] == "merged_into")
    assert merged_into["internal"] and merged_into["data"]["reference"] == kept["reference"]
    assert merged_into["author"] == {"kind": "agent", "name": "Alice Martin", "id": PEOPLE["agent"]["sub"]}
    assert closed["history"][-1]["status_change"]["to"] == "closed"
    other = _agent_view(desk, kept)
    assert other["status"] == "new"
    merged = next(e for e in other["history"] if e["kind"] == "merged")
    assert merged["internal"] and merged["data"] == {"ticket_id": duplicate["id"],
                                                     "reference": duplicate["reference"]}
    # The duplicate's requester is told it was closed, without the other request's number.
    reference, token = desk.follow_token(duplicate["id"], "helpdesk.ticket.closed")
    seen = desk.follow(reference, token).json()
    assert [e["kind"] for e in seen["history"]] == ["created", "status_changed"]
    assert kept["reference"] not in str(seen)
    assert "regroupée avec une autre demande" in seen["history"][-1]["message"]


@pytest.mark.parametrize(("reference", "status", "code", "message"), [
    ("", 400, "validation_failed", "Indiquez le numéro de la demande à conserver."),
    ("99999999", 422, "merge_target_unknown", "Aucune demande ne porte le numéro « 99999999 »."),
    ("self", 422, "merge_same_ticket", "Indiquez le numéro d'une autre demande."),
    ("closed", 422, "merge_target_closed", None),
])
def test_a_bad_merge_changes_nothing(helpdesk, reference, status, code, message):
    desk, agent = helpdesk, helpdesk.auth("agent")
    duplicate = desk.created(email="a@example.fr")
    closed = desk.created(email="b@example.fr")
    desk.client.put(_url(closed, "/status"), json={"status": "closed"}, headers=agent)
    number = {"self": duplicate["reference"], "closed": closed["reference"]}.get(reference, reference)
    before = _agent_view(desk, duplicate)
    response = desk.client.post(_url(duplicate, "/merge"), json={"reference": number}, headers=agent)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code and problem["errors"][0]["field"] == "reference"
    if message:
        assert problem["errors"][0]["message"] == message
    assert _agent_view(desk, duplicate) == before


def test_a_new_follow_link_is_mailed_after_the_old_ones_were_revoked(helpdesk):
    desk, agent = helpdesk, helpdesk.auth("agent")
    ticket = desk.created(email="a@example.fr")
    reference, first = desk.follow_token(ticket["id"])
    assert desk.client.delete(f"/helpdesk/tickets/{ticket['id']}/follow-links", headers=agent).status_code == 204
    assert desk.follow(reference, first).status_code == 404
    response = desk.client.post(_url(ticket, "/follow-links"), headers=agent)
    assert response.status_code == 201, response.text
    assert response.json()["active_follow_links"] == 1
    [mailed] = desk.events("helpdesk.ticket.follow_link_sent")
    assert mailed["data"]["requester"]["email"] == "a@example.fr"
    _, second = desk.follow_token(ticket["id"], "helpdesk.ticket.follow_link_sent")
    assert desk.follow(reference, second).status_code == 200
    kinds = [(e["kind"], e["internal"], e["author"]["name"]) for e in response.json()["history"]]
    assert kinds[-2:] == [("links_revoked", True, "Alice Martin"), ("link_sent", True, "Alice Martin")]


def test_the_agents_a_ticket_can_be_given_to(helpdesk):
    desk = helpdesk
    ticket = desk.created(email="a@example.fr")
    admin = desk.auth("admin")
    desk.client.put(_url(ticket, "/assignee"), json={}, headers=admin)
    response = desk.client.get("/helpdesk/agent/agents", headers=desk.auth("agent"))
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{"id": PEOPLE["agent"]["sub"], "name": "Alice Martin"},
                                        {"id": PEOPLE["admin"]["sub"], "name": "Paul Admin"}]
    given = desk.client.put(_url(ticket, "/assignee"), json={"agent_id": PEOPLE["agent"]["sub"],
                                                             "agent_name": "Alice Martin"}, headers=admin)
    assert given.json()["assignee"] == {"id": PEOPLE["agent"]["sub"], "name": "Alice Martin"}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/merge", {"reference": "12345678"}), ("post", "/follow-links", None), ("get", "", None)])
def test_a_supplier_is_refused(helpdesk, method, path, body):
    desk = helpdesk
    ticket = desk.created(headers=desk.auth("marie"))
    kwargs = {"json": body} if body is not None else {}
    response = getattr(desk.client, method)(_url(ticket, path), headers=desk.auth("marie"), **kwargs)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert desk.client.get("/helpdesk/agent/agents", headers=desk.auth("marie")).status_code == 403
