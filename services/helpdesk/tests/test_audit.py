"""The administrators' audit of the agents' actions (issue 17, « every action is audited (who, what, when) and
visible to administrators »): the ticket actions read from the histories, the FAQ's changes from audit_entries;
no message text; platform administrators only. On SQLite and on PostgreSQL."""

from __future__ import annotations

from helpdesk_support import NO_FILE, PEOPLE, category_id

AUDIT = "/helpdesk/admin/audit"
AGENT = PEOPLE["agent"]["sub"]


def _audit(desk, **params) -> dict:
    response = desk.client.get(AUDIT, params=params, headers=desk.auth("admin"))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_agents_ticket_actions_and_faq_changes_are_listed_newest_first(any_helpdesk):
    desk, agent = any_helpdesk, any_helpdesk.auth("agent")
    ticket = desk.created(subject="Dépôt impossible", email="a@example.fr")
    url = f"/helpdesk/agent/tickets/{ticket['id']}"
    assert desk.client.put(url + "/assignee", json={}, headers=agent).status_code == 200
    assert desk.client.post(url + "/notes", data={"message": "Secret interne du support"},
                            files=NO_FILE, headers=agent).status_code == 201
    assert desk.client.post(url + "/replies", data={"message": "Voici la réponse personnelle"},
                            files=NO_FILE, headers=agent).status_code == 201
    created = desk.client.post("/helpdesk/faq", headers=agent, json={
        "category_id": category_id("depot-reponse"), "question": "Question d'essai ?",
        "answer": "Réponse d'essai."})
    assert created.status_code == 201, created.text
    entry = created.json()["id"]
    assert desk.client.patch(f"/helpdesk/faq/{entry}", headers=agent,
                             json={"answer": "Autre réponse.", "active": False}).status_code == 200
    assert desk.client.post(f"/helpdesk/faq/{entry}/move", headers=agent,
                            json={"direction": "up"}).status_code == 200

    page = _audit(desk)
    actions = [item["action"] for item in page["items"]]
    assert actions[:4] == ["faq.moved", "faq.unpublished", "faq.edited", "faq.created"] or \
        actions[:4] == ["faq.moved", "faq.edited", "faq.unpublished", "faq.created"]
    assert actions[4:6] == ["ticket.replied", "ticket.note_added"]
    # Taking a new ticket assigns it and puts it in progress at the same moment: either order.
    assert sorted(actions[6:]) == ["ticket.assigned", "ticket.status_changed"]
    assert all(item["actor"] == {"id": AGENT, "name": "Alice Martin"} for item in page["items"])
    times = [item["at"] for item in page["items"]]
    assert times == sorted(times, reverse=True)
    reply = page["items"][4]
    assert reply["target"] == {"kind": "ticket", "id": ticket["id"], "reference": ticket["reference"]}
    status = next(item for item in page["items"] if item["action"] == "ticket.status_changed")
    assert status["detail"] == {"from": "new", "to": "in_progress"}
    edited = next(item for item in page["items"] if item["action"] == "faq.edited")
    assert edited["target"]["id"] == entry and edited["detail"] == {"fields": ["answer"]}
    # The requester's own message is no agent's action; no message text is in the audit.
    assert "ticket.created" not in actions
    text = str(page)
    assert "Secret interne" not in text and "réponse personnelle" not in text and "a@example.fr" not in text
    assert "Réponse d'essai" not in text


def test_the_faq_categories_changes_are_audited(any_helpdesk):
    desk, agent = any_helpdesk, any_helpdesk.auth("agent")
    created = desk.client.post("/helpdesk/categories", headers=agent, json={"label": "Facturation"})
    assert created.status_code == 201, created.text
    category = created.json()["id"]
    assert desk.client.patch(f"/helpdesk/categories/{category}", headers=agent,
                             json={"description": "Vos factures"}).status_code == 200
    assert desk.client.post(f"/helpdesk/categories/{category}/move", headers=agent,
                            json={"direction": "up"}).status_code == 200
    assert desk.client.delete(f"/helpdesk/categories/{category}", headers=agent).status_code == 204
    items = _audit(desk)["items"][:4]
    assert [item["action"] for item in items] == ["faq_category.deleted", "faq_category.moved",
                                                  "faq_category.edited", "faq_category.created"]
    assert all(item["target"] == {"kind": "faq_category", "id": category, "reference": None} for item in items)
    assert items[2]["detail"] == {"fields": ["description"]} and items[3]["detail"] == {"label": "Facturation"}
    # A refused change (an empty label) is not audited.
    before = len(_audit(desk, limit=100)["items"])
    refused = desk.client.post("/helpdesk/categories", headers=agent, json={"label": ""})
    assert refused.status_code in (400, 422)
    after = len(_audit(desk, limit=100)["items"])
    assert after == before


def test_pages_and_filters(any_helpdesk):
    desk, agent = any_helpdesk, any_helpdesk.auth("agent")
    ticket = desk.created(email="a@example.fr")
    url = f"/helpdesk/agent/tickets/{ticket['id']}"
    for number in range(3):
        desk.client.post(url + "/notes", data={"message": f"note {number}"}, files=NO_FILE, headers=agent)
    desk.client.put(url + "/status", json={"status": "resolved"}, headers=desk.auth("admin"))
    everything = _audit(desk)["items"]
    assert len(everything) == 4
    first = _audit(desk, limit=3)
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = _audit(desk, limit=3, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in everything]
    mine = _audit(desk, actor=PEOPLE["admin"]["sub"])["items"]
    assert [(i["action"], i["actor"]["name"]) for i in mine] == [("ticket.status_changed", "Paul Admin")]
    later = _audit(desk, since=everything[1]["at"])["items"]
    assert [i["id"] for i in later] == [i["id"] for i in everything[:2]]


def test_only_platform_administrators_read_it(helpdesk):
    for who in ("agent", "marie"):
        response = helpdesk.client.get(AUDIT, headers=helpdesk.auth(who))
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert helpdesk.client.get(AUDIT).status_code == 401
    bad = helpdesk.client.get(AUDIT, params={"cursor": "nonsense"}, headers=helpdesk.auth("admin"))
    assert bad.status_code == 400 and bad.json()["code"] == "cursor_invalid"
