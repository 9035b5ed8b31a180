"""identity.user.deleted: the account's tickets lose the requester's contact data; the history stays."""

from __future__ import annotations

import json
import uuid

import pytest

from achats.chassis.bus import CloudEvent, Outcome
from achats.chassis.bus.transport import Delivery
from achats.helpdesk.app import SERVICE

from helpdesk_support import PEOPLE

MARIE = PEOPLE["marie"]


def deleted(user_id: str | None, email: str | None = MARIE["email"]) -> Delivery:
    data = {"email": email, "first_name": "Marie", "last_name": "Curie", "company_id": None}
    if user_id is not None:
        data["user_id"] = user_id
    event = CloudEvent(type="identity.user.deleted", source="/identity", data=data)
    return Delivery(body=event.to_json(), routing_key=event.type, message_id=event.id, attempt=1)


def test_a_deleted_account_leaves_anonymous_tickets(any_helpdesk):
    desk = any_helpdesk
    marie, agent = desk.auth("marie"), desk.auth("agent")
    logged = desk.created(headers=marie, phone="01 02 03 04 05", company="Curie SARL")
    anonymous = desk.created(email="Marie.Curie@example.fr", first_name="Marie", last_name="Curie")
    other = desk.created(headers=desk.auth("pierre"))
    desk.post_form(f"/helpdesk/agent/tickets/{logged['id']}/replies", headers=agent, message="Réponse du support")
    reference, token = desk.follow_token(logged["id"], "helpdesk.ticket.answered")
    published = len(desk.events())

    consumer = SERVICE.consumer(desk.runtime)
    delivery = deleted(MARIE["sub"])
    assert consumer.handle(delivery) == Outcome.ACK
    assert consumer.handle(delivery) == Outcome.ACK  # delivered twice: applied once

    for ticket in (logged, anonymous):
        view = desk.client.get(f"/helpdesk/agent/tickets/{ticket['id']}", headers=agent).json()
        assert view["contact"] == {"email": None, "first_name": None, "last_name": None, "phone": None,
                                   "company": None}
        assert (view["requester_user_id"], view["requester_company_id"]) == (None, None)
        assert view["anonymised_at"]
        assert view["context"]["applicative"] | {"platform": "", "version": ""} == {
            "platform": "", "version": "", "user_name": "Non connu", "user_email": "Non connu", "company": "Non connu"}
        assert view["context"]["technical"]["user_agent"] is None
        assert view["context"]["technical"]["browser"] == "Mozilla Firefox 83.0"  # not personal, kept
        assert view["history"][0]["message"] == logged["history"][0]["message"]  # the history is kept
        assert view["history"][0]["author"] == {"kind": "requester", "id": None, "name": None}
        assert [e["kind"] for e in view["history"]].count("anonymised") == 1
        assert "curie" not in json.dumps({k: v for k, v in view.items() if k != "history"}).lower()
    assert desk.client.get(f"/helpdesk/agent/tickets/{other['id']}", headers=agent).json()["contact"]["email"] == (
        PEOPLE["pierre"]["email"])
    # The links stop working, the account's list is empty, and nobody is mailed any more.
    assert desk.follow(reference, token).status_code == 404
    assert desk.client.get("/helpdesk/tickets", headers=marie).json()["count"] == 0
    desk.post_form(f"/helpdesk/agent/tickets/{logged['id']}/replies", headers=agent, message="Encore",
                   status="resolved")
    later = [e["type"] for e in desk.events()[published:]]
    assert later == ["helpdesk.ticket.status_changed"]


@pytest.mark.parametrize("user_id", [None, "", "x" * 65])
def test_an_event_without_a_user_is_dead_lettered(helpdesk, user_id):
    consumer = SERVICE.consumer(helpdesk.runtime)
    assert consumer.handle(deleted(user_id)) == Outcome.DEAD


def test_an_unknown_user_changes_nothing(helpdesk):
    ticket = helpdesk.created(headers=helpdesk.auth("marie"))
    consumer = SERVICE.consumer(helpdesk.runtime)
    assert consumer.handle(deleted(str(uuid.uuid4()), email="personne@example.fr")) == Outcome.ACK
    view = helpdesk.client.get(f"/helpdesk/agent/tickets/{ticket['id']}", headers=helpdesk.auth("agent")).json()
    assert view["contact"]["email"] == MARIE["email"]
