"""Producers against their consumers' contracts: every event the notifier consumes, as identity and the
company registry really publish it, matches the notifier's asyncapi.yaml; and every event identity
publishes matches its own asyncapi.yaml."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import select

import achats.identity
from achats.chassis.bus import outbox
from achats.chassis.testing.server import serving
from achats.notifier import contract

from identity_support import PASSWORD, build_stack, registration

IDENTITY_ASYNCAPI = Path(achats.identity.__file__).parent / "asyncapi.yaml"


class RealRegistry:
    """The real company registry (with the INSEE stand-in) where identity's own tests use a stand-in of it:
    the events it publishes are part of what is checked here."""

    def __init__(self, insee):
        self.insee, self.runtime = insee, None

    @contextlib.contextmanager
    def serving(self, verifier, tmp_path) -> Iterator[str]:
        from achats.company_registry.app import SERVICE as REGISTRY

        config = REGISTRY.load_settings({}, database_url=f"sqlite:///{tmp_path}/registry.db",
                                        amqp_url=f"memory://registry-{uuid.uuid4().hex[:8]}",
                                        insee_base_url=self.insee.base_url, insee_api_key=self.insee.api_key)
        REGISTRY.migrate(config)
        self.runtime = REGISTRY.runtime(config)
        self.runtime.verifier = verifier
        try:
            with serving(REGISTRY.create_app(config, self.runtime)) as url:
                yield url
        finally:
            self.runtime.db.dispose()


@pytest.fixture(scope="module")
def standin():
    from achats.company_registry.standin.testing import running_standin

    with running_standin() as server:
        yield RealRegistry(server)


def published(runtime) -> list[dict]:
    with runtime.db.session() as session:
        return [json.loads(body) for body in session.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()]


def test_identity_and_registry_events_match_the_notifier_contract(sqlite_url, tmp_path, standin):
    settings = {"login_delay_after": 2, "login_lock_after": 2, "login_lock_seconds": 60}
    with build_stack(sqlite_url, tmp_path, standin, **settings) as stack:
        stack.register()
        # Someone tries Marie's e-mail, then Pierre's login: each owner is told.
        assert stack.client.post("/identity/registrations", json=registration(login="autre.login")).status_code == 202
        stack.register(login="pcurie", email="pierre.curie@example.fr", first_name="Pierre")
        assert stack.client.post("/identity/registrations",
                                 json=registration(login="pcurie", email="autre@example.fr")).status_code == 202
        # Pierre gives a new e-mail address in « Mon compte ».
        assert stack.client.patch("/identity/me", headers=stack.auth("pcurie"),
                                  json={"email": "p.curie@example.fr"}).status_code == 200
        stack.client.post("/identity/password-resets", json={"login_or_email": "mcurie"})
        token = stack.link_token("identity.password_reset.requested", "reset_url")
        stack.client.post("/identity/password-resets/confirm",
                          json={"token": token, "password": "une phrase de passe toute neuve"})
        stack.register(login="jdoe", email="jean.doe@example.fr", first_name="Jean", last_name="Doe")
        for _ in range(2):
            stack.client.post("/identity/sessions", json={"login": "jdoe", "password": "mauvais mot"})
        assert stack.client.delete("/identity/me", headers=stack.auth("pcurie")).status_code == 204
        pierre = stack.auth("mcurie", "une phrase de passe toute neuve")
        company_id = stack.me(pierre)["company_id"]
        # The registry: a document about to expire, then the company account deleted by its administrator.
        admin = {"Authorization": pierre["Authorization"]}
        registry_client = stack.runtime.deps.registry.http
        registry_client.post(f"/registry/companies/{company_id}/documents", headers=admin,
                             data={"type": "kbis", "valid_until": (date.today() + timedelta(days=5)).isoformat()},
                             files={"file": ("k.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")})
        from achats.company_registry import jobs

        jobs.notify_expiring(stack.registry_runtime)
        registry_client.delete(f"/registry/companies/{company_id}", headers=admin)
        events = published(stack.runtime) + published(stack.registry_runtime)

    consumed = set(contract.consumed_types())
    relevant = [e for e in events if e["type"] in consumed]
    seen = {e["type"] for e in relevant}
    assert {"identity.user.registered", "identity.registration.rejected", "identity.user.email_change_requested",
            "identity.password_reset.requested", "identity.password.changed", "identity.user.locked",
            "identity.user.deleted", "company.deleted", "company.document.expiring"} <= seen
    for envelope in relevant:
        contract.check_envelope(envelope)  # raises ContractViolation with the mismatches
    assert PASSWORD not in json.dumps(events)  # no password ever travels in an event
    rejected = [e["data"] for e in relevant if e["type"] == "identity.registration.rejected"]
    assert [(r["email"], r["login"], r["reason"]) for r in rejected] == [
        ("marie.curie@example.fr", "mcurie", "email_taken"), ("pierre.curie@example.fr", "pcurie", "login_taken")]
    (change,) = [e["data"] for e in relevant if e["type"] == "identity.user.email_change_requested"]
    assert (change["email"], change["previous_email"]) == ("p.curie@example.fr", "pierre.curie@example.fr")
    # What identity publishes is what its own contract documents.
    documented = identity_validators()
    for envelope in (e for e in events if e["source"] == "/identity"):
        assert envelope["type"] in documented, f"{envelope['type']} is missing from identity's asyncapi.yaml"
        documented[envelope["type"]].validate(envelope["data"])


def identity_validators() -> dict[str, Draft202012Validator]:
    """The payload schema of each event identity publishes, from its asyncapi.yaml (examples checked too)."""
    document = yaml.safe_load(IDENTITY_ASYNCAPI.read_text(encoding="utf-8"))
    validators = {}
    for event_type, channel in document["channels"].items():
        if "subscribe" not in channel:  # "publish": the events identity consumes
            continue
        message = channel["subscribe"]["message"]
        validator = Draft202012Validator({**message["payload"], "components": document["components"]})
        for example in message.get("examples", []):
            validator.validate(example["payload"])
        validators[event_type] = validator
    return validators


def test_the_answer_to_a_question_as_consultations_publishes_it_matches_the_notifier_contract(sqlite_url, keys):
    """consultations.question.answered, published by the consultations service, is what the notifier accepts, and
    it mails the asker and each downloader once."""
    from achats.notifier.mails import mails_for

    from consultations_support import WORKS, consultation_id, make_consultations

    service = make_consultations(sqlite_url, keys)
    try:
        base = f"/consultations/consultations/{consultation_id(WORKS)}"
        assert service.client.get(f"{base}/dce.zip", headers=service.auth("pierre")).status_code == 200
        assert service.client.post(f"{base}/questions", headers=service.auth("marie"),
                                   json={"question": "Le lot 1 comprend-il le désamiantage ?"}).status_code == 201
        queue = service.client.get("/consultations/questions", headers=service.auth("agent")).json()
        assert service.client.post(f"/consultations/questions/{queue['items'][0]['id']}/answer",
                                   headers=service.auth("agent"), json={"answer": "Oui."}).status_code == 200
        (envelope,) = service.events("consultations.question.answered")
    finally:
        service.runtime.db.dispose()
    assert "consultations.question.answered" in contract.consumed_types()
    contract.check_envelope(envelope)
    assert [m.recipient.email for m in mails_for(envelope["type"], envelope["data"])] == [
        "marie.curie@example.fr", "pierre.curie@example.fr"]
