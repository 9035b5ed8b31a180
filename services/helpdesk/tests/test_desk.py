"""The support's desk: queue filters and pages, assignment, the lifecycle's rules, automatic closing."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from sqlalchemy import update

from achats.helpdesk import jobs
from achats.helpdesk.models import Ticket

from helpdesk_support import category_id, make_helpdesk, now


def _age(helpdesk, ticket_id: str, hours: int) -> None:
    with helpdesk.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(Ticket).where(Ticket.id == uuid.UUID(ticket_id))
                            .values(created_at=now() - timedelta(hours=hours)))
        uow.commit()


def _queue(helpdesk, **params) -> list[str]:
    response = helpdesk.client.get("/helpdesk/agent/tickets", params=params, headers=helpdesk.auth("agent"))
    assert response.status_code == 200, response.text
    return [t["subject"] for t in response.json()["items"]]


def test_queue_filters_and_sorts(any_helpdesk):
    desk = any_helpdesk
    agent = desk.auth("agent")
    old = desk.created(subject="ancienne", severity="minor", frequency="once", email="a@example.fr")
    blocking = desk.created(subject="bloquante", severity="blocking", email="b@example.fr",
                            category_id=category_id("signature-electronique"))
    idea = desk.created(subject="idée", severity="suggestion", frequency=None, email="c@example.fr")
    _age(desk, old["id"], 72)
    _age(desk, blocking["id"], 5)
    desk.client.put(f"/helpdesk/agent/tickets/{blocking['id']}/assignee", json={}, headers=agent)

    assert _queue(desk) == ["ancienne", "bloquante", "idée"]
    assert _queue(desk, sort="newest") == ["idée", "bloquante", "ancienne"]
    assert _queue(desk, sort="severity") == ["bloquante", "ancienne", "idée"]
    assert _queue(desk, status="in_progress") == ["bloquante"]
    assert _queue(desk, status=["new", "in_progress"], severity=["minor", "blocking"]) == ["ancienne", "bloquante"]
    assert _queue(desk, category_id=category_id("signature-electronique")) == ["bloquante"]
    assert _queue(desk, assignee="me") == ["bloquante"]
    assert _queue(desk, assignee="none") == ["ancienne", "idée"]
    assert _queue(desk, min_age_hours=24) == ["ancienne"]
    assert _queue(desk, max_age_hours=24) == ["bloquante", "idée"]
    assert _queue(desk, min_age_hours=1, max_age_hours=24) == ["bloquante"]
    assert _queue(desk, email="B@EXAMPLE.FR") == ["bloquante"]
    # The agents' text search: every word, in any case, in the subject, name, e-mail, company or reference.
    assert _queue(desk, q="BLOQ") == ["bloquante"]
    assert _queue(desk, q="c@example") == ["idée"]
    assert _queue(desk, q="ancienne a@example") == ["ancienne"]
    assert _queue(desk, q="ancienne b@example") == []
    assert _queue(desk, q=blocking["reference"]) == ["bloquante"]
    assert _queue(desk, q="100%") == []
    # Closed tickets leave the default queue; the reference (given on the phone) finds them anyway.
    desk.client.put(f"/helpdesk/agent/tickets/{idea['id']}/status", json={"status": "closed"}, headers=agent)
    assert _queue(desk) == ["ancienne", "bloquante"]
    assert _queue(desk, reference=idea["reference"]) == ["idée"]
    assert _queue(desk, status="closed") == ["idée"]


def test_queue_pages_do_not_skip_or_repeat(any_helpdesk):
    desk = any_helpdesk
    for n in range(7):
        desk.created(subject=f"t{n}", severity=("blocking", "minor")[n % 2], email=f"p{n}@example.fr")
    for sort in ("oldest", "newest", "severity"):
        seen, cursor = [], None
        while True:
            params = {"limit": 3, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = desk.client.get("/helpdesk/agent/tickets", params=params, headers=desk.auth("agent")).json()
            assert page["count"] == 7
            seen += [t["subject"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == [f"t{n}" for n in range(7)], sort
        assert seen == _queue(desk, sort=sort, limit=50)
    bad = desk.client.get("/helpdesk/agent/tickets", params={"cursor": "pas-un-curseur"}, headers=desk.auth("agent"))
    assert bad.status_code == 400
    assert bad.json()["code"] == "cursor_invalid"
    mixed = desk.client.get("/helpdesk/agent/tickets", params={"limit": 3, "sort": "oldest"},
                            headers=desk.auth("agent")).json()["next_cursor"]
    assert desk.client.get("/helpdesk/agent/tickets", params={"cursor": mixed, "sort": "severity"},
                           headers=desk.auth("agent")).status_code == 400


def test_my_tickets_are_paginated(helpdesk):
    marie = helpdesk.auth("marie")
    for n in range(3):
        helpdesk.created(headers=marie, subject=f"m{n}")
    first = helpdesk.client.get("/helpdesk/tickets", params={"limit": 2}, headers=marie).json()
    second = helpdesk.client.get("/helpdesk/tickets", params={"limit": 2, "cursor": first["next_cursor"]},
                                 headers=marie).json()
    assert [t["subject"] for t in first["items"] + second["items"]] == ["m2", "m1", "m0"]
    assert second["next_cursor"] is None


def test_assignment_and_statuses(helpdesk):
    agent = helpdesk.auth("agent")
    ticket = helpdesk.created(email="a@example.fr")
    url = f"/helpdesk/agent/tickets/{ticket['id']}"
    to_bob = helpdesk.client.put(f"{url}/assignee", json={"agent_id": "bob", "agent_name": "Bob"}, headers=agent)
    assert (to_bob.json()["assignee"], to_bob.json()["status"]) == ({"id": "bob", "name": "Bob"}, "in_progress")
    nobody = helpdesk.client.put(f"{url}/assignee", json={"agent_id": None}, headers=agent).json()
    assert (nobody["assignee"], nobody["status"]) == (None, "in_progress")
    assigned = [e for e in nobody["history"] if e["kind"] == "assigned"]
    assert [e["data"]["assignee_id"] for e in assigned] == ["bob", None]
    # waiting_customer comes with a question, never directly.
    direct = helpdesk.client.put(f"{url}/status", json={"status": "waiting_customer"}, headers=agent)
    assert direct.status_code == 422
    assert direct.json()["code"] == "status_not_settable"
    resolved = helpdesk.client.put(f"{url}/status", json={"status": "resolved", "comment": "Corrigé."},
                                   headers=agent).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert resolved["history"][-1]["message"] == "Corrigé."  # the comment is public
    again = helpdesk.client.put(f"{url}/status", json={"status": "resolved"}, headers=agent)
    assert again.status_code == 200 and len(again.json()["history"]) == len(resolved["history"])
    # The requester answers a resolved ticket: it goes back to the support.
    reference, token = helpdesk.follow_token(ticket["id"], "helpdesk.ticket.resolved")
    reopened = helpdesk.follow(reference, token, "/messages", method="post", data={"message": "Pas corrigé"},
                               files=[("attachments", ("", b"", "application/octet-stream"))])
    assert (reopened.json()["status"], reopened.json()["resolved_at"]) == ("in_progress", None)
    closed = helpdesk.client.put(f"{url}/status", json={"status": "closed"}, headers=agent).json()
    assert closed["closed_at"]
    for response in (helpdesk.client.put(f"{url}/status", json={"status": "in_progress"}, headers=agent),
                     helpdesk.post_form(f"{url}/replies", headers=agent, message="Trop tard"),
                     helpdesk.client.put(f"{url}/assignee", json={}, headers=agent)):
        assert response.status_code == 409
        assert response.json()["code"] in ("transition_not_allowed", "ticket_closed")
    # The history says who did what, in order.
    kinds = [(e["kind"], (e["status_change"] or {}).get("to")) for e in closed["history"]]
    assert kinds == [("created", None), ("assigned", None), ("status_changed", "in_progress"), ("assigned", None),
                     ("status_changed", "resolved"), ("message", None), ("status_changed", "in_progress"),
                     ("status_changed", "closed")]


def test_empty_messages_are_refused(helpdesk):
    ticket = helpdesk.created(email="a@example.fr")
    response = helpdesk.post_form(f"/helpdesk/agent/tickets/{ticket['id']}/replies", headers=helpdesk.auth("agent"),
                                  message="   ")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "message", "message": "Ce champ est obligatoire."}]


def test_resolved_tickets_close_after_the_configured_days(sqlite_url, keys):
    desk = make_helpdesk(sqlite_url, keys, auto_close_days=2)
    try:
        agent = desk.auth("agent")
        tickets = [desk.created(email=f"p{n}@example.fr") for n in range(3)]
        for ticket in tickets[:2]:
            desk.client.put(f"/helpdesk/agent/tickets/{ticket['id']}/status", json={"status": "resolved"},
                            headers=agent)
        assert jobs.auto_close(desk.runtime, now=now() + timedelta(days=1)) == 0
        assert jobs.auto_close(desk.runtime, now=now() + timedelta(days=2, seconds=5)) == 2
        assert jobs.auto_close(desk.runtime, now=now() + timedelta(days=3)) == 0
        statuses = [desk.client.get(f"/helpdesk/agent/tickets/{t['id']}", headers=agent).json()["status"]
                    for t in tickets]
        assert statuses == ["closed", "closed", "new"]
        closing = desk.client.get(f"/helpdesk/agent/tickets/{tickets[0]['id']}", headers=agent).json()["history"][-1]
        assert closing["author"]["kind"] == "system"
        assert closing["message"].startswith("Demande fermée automatiquement 2 jours après sa résolution.")
        changes = [e["data"] for e in desk.events("helpdesk.ticket.status_changed")]
        assert [c["changed_by"] for c in changes if c["to_status"] == "closed"] == ["system", "system"]
    finally:
        desk.runtime.db.dispose()


def test_the_worker_runs_the_auto_close_job(helpdesk):
    from achats.helpdesk.app import SERVICE

    loops = SERVICE.background(helpdesk.runtime)
    assert len(loops) == 1
    stop = threading.Event()
    stop.set()
    loops[0](stop)  # runs the job once, then sees the stop
