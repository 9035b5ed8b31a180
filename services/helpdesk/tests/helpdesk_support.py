"""Helpers of the helpdesk tests: the service built on a database, tokens, the form, published events."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from achats.chassis.bus import outbox
from achats.chassis.testing.keys import TestKeys
from achats.helpdesk.app import SERVICE

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:83.0) Gecko/20100101 Firefox/83.0"
NAMESPACE = uuid.UUID("6f1f3a52-1d0e-4c1b-9a57-3c2b8f0e7d41")  # the seed migration's
PEOPLE = {
    "marie": {"sub": "7c4f7f0e-3a51-4f43-8f7e-0b8f3f1d2a11", "email": "marie.curie@example.fr",
              "given_name": "Marie", "family_name": "Curie", "company_id": "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"},
    "pierre": {"sub": "8d5a6b7c-1e2f-4a3b-9c4d-5e6f7a8b9c0d", "email": "pierre.curie@example.fr",
               "given_name": "Pierre", "family_name": "Curie", "company_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"},
    "agent": {"sub": "a9b8c7d6-e5f4-4321-8765-43210fedcba9", "email": "alice.martin@support.example",
              "given_name": "Alice", "family_name": "Martin", "roles": ["support_agent"]},
    "admin": {"sub": "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e", "email": "admin@support.example",
              "given_name": "Paul", "family_name": "Admin", "roles": ["platform_admin"]},
}


def category_id(slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, slug))


# What a browser sends for a file input left empty: multipart all the same.
NO_FILE = [("attachments", ("", b"", "application/octet-stream"))]


@dataclass
class Helpdesk:
    client: object
    runtime: object
    keys: TestKeys

    def auth(self, who: str = "marie", **overrides) -> dict:
        person = {**PEOPLE[who], **overrides}
        claims = {"roles": ["supplier"], "name": f"{person.get('given_name', '')} {person.get('family_name', '')}",
                  **person}
        return {"Authorization": f"Bearer {self.keys.token(claims)}"}

    def form(self, **fields) -> dict:
        """The form's fields; a field given as None is left out."""
        values = {"category_id": category_id("compte-entreprise"), "severity": "major", "frequency": "systematic",
                  "message": "Je ne parviens pas à modifier les données de mon nouvel établissement.", **fields}
        return {key: value for key, value in values.items() if value is not None}

    def create(self, *, headers: dict | None = None, files: list | None = None, **fields):
        return self.client.post("/helpdesk/tickets", data=self.form(**fields), files=files or NO_FILE,
                                headers={"User-Agent": FIREFOX, **(headers or {})})

    def post_form(self, path: str, *, headers: dict | None = None, files: list | None = None, **fields):
        """A multipart form as a browser sends it (an empty file part when no file was chosen)."""
        return self.client.post(path, data=fields, files=files or NO_FILE, headers=headers or {})

    def created(self, **kwargs) -> dict:
        response = self.create(**kwargs)
        assert response.status_code == 201, response.text
        return response.json()

    def events(self, event_type: str | None = None) -> list[dict]:
        with self.runtime.db.session() as session:
            bodies = session.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()
            found = [json.loads(body) for body in bodies]
        return [e for e in found if event_type is None or e["type"] == event_type]

    def follow_token(self, ticket_id: str, event_type: str = "helpdesk.ticket.created") -> tuple[str, str]:
        """(reference, token) of the latest mail of that type about the ticket, as the requester got it."""
        event = [e for e in self.events(event_type) if e["data"]["ticket_id"] == ticket_id][-1]
        url = urlsplit(event["data"]["follow_url"])
        return url.path.rsplit("/", 1)[-1], url.fragment

    def follow(self, reference: str, token: str | None, suffix: str = "", method: str = "get", **kwargs):
        headers = {"X-Follow-Token": token} if token is not None else {}
        return getattr(self.client, method)(f"/helpdesk/follow/{reference}{suffix}", headers=headers, **kwargs)


def make_helpdesk(database_url: str, keys: TestKeys, **settings) -> Helpdesk:
    config = SERVICE.load_settings({}, **{
        "database_url": database_url, "amqp_url": "memory://helpdesk-tests", "log_json": True,
        # No registry unless a test brings one (a port nothing listens on: refused at once).
        "public_base_url": "https://achats.example", "registry_url": "http://127.0.0.1:1", "jwks_url": keys.jwks_url,
        **settings})
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    app = SERVICE.create_app(config, runtime, validate_responses=True)
    return Helpdesk(client=app.test_client(), runtime=runtime, keys=keys)


def now() -> datetime:
    return datetime.now(UTC)
