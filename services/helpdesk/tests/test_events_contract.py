"""Every event the helpdesk publishes matches its asyncapi.yaml, and the mail events the notifier's."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import achats.helpdesk
from achats.chassis.testing.samples import PDF
from achats.helpdesk import jobs

from helpdesk_support import now

OWN = yaml.safe_load((Path(achats.helpdesk.__file__).parent / "asyncapi.yaml").read_text(encoding="utf-8"))
# The consumer's contract, read as a file: the helpdesk never imports the notifier's code.
NOTIFIER_FILE = Path(__file__).resolve().parents[2] / "notifier" / "src" / "achats" / "notifier" / "asyncapi.yaml"
MAIL_EVENTS = {"helpdesk.ticket.created", "helpdesk.ticket.answered", "helpdesk.ticket.information_requested",
               "helpdesk.ticket.resolved", "helpdesk.ticket.closed", "helpdesk.ticket.follow_link_sent"}
NOTE = "Note interne jamais publiée"

formats = FormatChecker(["email", "uuid"])


@formats.checks("date-time", raises=ValueError)
def _datetime(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@formats.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    return not isinstance(value, str) or date.fromisoformat(value) is not None


def own_validator(event_type: str) -> Draft202012Validator:
    message = OWN["channels"][event_type]["subscribe"]["message"]["$ref"]
    return Draft202012Validator({"$ref": f"{message}/payload", "components": OWN["components"]},
                                format_checker=formats)


def notifier_validators() -> dict[str, Draft202012Validator]:
    """The notifier's schema of each helpdesk message (the whole CloudEvent envelope), by event type."""
    assert NOTIFIER_FILE.exists(), f"the notifier's contract is missing: {NOTIFIER_FILE}"
    document = yaml.safe_load(NOTIFIER_FILE.read_text(encoding="utf-8"))
    base = "urn:notifier:asyncapi"
    registry = Registry().with_resource(base, Resource.from_contents(document, default_specification=DRAFT202012))
    return {message["name"]: Draft202012Validator({"$ref": f"{base}#/components/messages/{key}/payload"},
                                                  registry=registry, format_checker=formats)
            for key, message in document["components"]["messages"].items()
            if message["name"].startswith("helpdesk.")}


def produce_every_event(desk) -> None:
    agent, marie = desk.auth("agent"), desk.auth("marie")
    ticket = desk.created(headers=marie, files=[("attachments", ("a.pdf", PDF, "application/pdf"))])
    anonymous = desk.created(email="jean.dupont@example.fr")  # no names given: empty strings in the mails
    url = f"/helpdesk/agent/tickets/{ticket['id']}"
    desk.client.put(f"{url}/assignee", json={}, headers=agent)
    desk.post_form(f"{url}/notes", headers=agent, message=NOTE)
    desk.post_form(f"{url}/information-requests", headers=agent, message="Quel navigateur ?\n\nMerci. " * 100)
    desk.post_form(f"/helpdesk/tickets/{ticket['id']}/messages", headers=marie, message="Firefox",
                   files=[("attachments", ("b.pdf", PDF, "application/pdf"))])
    desk.post_form(f"{url}/replies", headers=agent, message="Corrigé", status="resolved")
    desk.client.post(f"{url}/follow-links", headers=agent)
    desk.post_form(f"/helpdesk/agent/tickets/{anonymous['id']}/replies", headers=agent, message="Réponse")
    jobs.auto_close(desk.runtime, now=now() + timedelta(days=8))


def test_published_events_match_both_contracts(helpdesk):
    produce_every_event(helpdesk)
    events = helpdesk.events()
    assert {e["type"] for e in events} == {t for t, c in OWN["channels"].items() if "subscribe" in c}
    notifier = notifier_validators()
    assert set(notifier) == MAIL_EVENTS  # the notifier consumes exactly our six mail events
    for envelope in events:
        assert envelope["specversion"] == "1.0"
        assert envelope["source"] == "/helpdesk"
        errors = [e.message for e in own_validator(envelope["type"]).iter_errors(envelope["data"])]
        assert errors == [], (envelope["type"], errors)
        if envelope["type"] in MAIL_EVENTS:
            errors = [e.message for e in notifier[envelope["type"]].iter_errors(envelope)]
            assert errors == [], (envelope["type"], errors)
    assert NOTE not in json.dumps(events, ensure_ascii=False)
    question = next(e for e in events if e["type"] == "helpdesk.ticket.information_requested")
    assert len(question["data"]["message_excerpt"]) <= 500
    assert question["data"]["message_excerpt"].startswith("Quel navigateur ? Merci. Quel navigateur ?")


def test_mail_events_carry_exactly_the_notifiers_fields(helpdesk):
    """Field for field what the notifier's examples show: nothing missing, nothing more."""
    document = yaml.safe_load(NOTIFIER_FILE.read_text(encoding="utf-8"))
    examples = {m["name"]: m["examples"][0]["payload"]["data"] for m in document["components"]["messages"].values()
                if m["name"] in MAIL_EVENTS}
    produce_every_event(helpdesk)
    seen = set()
    for envelope in helpdesk.events():
        if envelope["type"] in MAIL_EVENTS:
            seen.add(envelope["type"])
            assert set(envelope["data"]) == set(examples[envelope["type"]]), envelope["type"]
            assert set(envelope["data"]["requester"]) <= {"email", "first_name", "last_name", "user_id"}
    assert seen == MAIL_EVENTS
