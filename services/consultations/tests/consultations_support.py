"""Helpers of the consultations tests: the service built on a database, tokens, published events."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from achats.chassis.bus import outbox
from achats.chassis.testing.keys import TestKeys
from achats.consultations.app import SERVICE

NAMESPACE = uuid.UUID("3d0b8f52-6c1e-4f7a-9b2d-8e5a7c41f019")  # the seed migration's
WORKS, SUPPLIES, SERVICES = "TEST-2026-TRX-001", "TEST-2026-FRN-002", "TEST-2026-SRV-003"
PEOPLE = {
    "marie": {"sub": "7c4f7f0e-3a51-4f43-8f7e-0b8f3f1d2a11", "email": "marie.curie@example.fr",
              "company_id": "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"},
    "pierre": {"sub": "8d5a6b7c-1e2f-4a3b-9c4d-5e6f7a8b9c0d", "email": "pierre.curie@example.fr",
               "company_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"},
    "agent": {"sub": "a9b8c7d6-e5f4-4321-8765-43210fedcba9", "email": "alice.martin@support.example",
              "roles": ["support_agent"]},
}


def consultation_id(reference: str) -> str:
    return str(uuid.uuid5(NAMESPACE, reference))


@dataclass
class Consultations:
    client: object
    runtime: object
    keys: TestKeys

    def auth(self, who: str = "marie") -> dict:
        claims = {"roles": ["supplier"], **PEOPLE[who]}
        return {"Authorization": f"Bearer {self.keys.token(claims)}"}

    def events(self, event_type: str | None = None) -> list[dict]:
        with self.runtime.db.session() as session:
            bodies = session.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()
            found = [json.loads(body) for body in bodies]
        return [e for e in found if event_type is None or e["type"] == event_type]


def make_consultations(database_url: str, keys: TestKeys, **settings) -> Consultations:
    config = SERVICE.load_settings({}, **{"database_url": database_url, "amqp_url": "memory://consultations-tests",
                                          "log_json": True, **settings})
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    app = SERVICE.create_app(config, runtime, validate_responses=True)
    return Consultations(client=app.test_client(), runtime=runtime, keys=keys)
