"""Helpers of the consultations tests: the service built on a database, tokens, published events."""

from __future__ import annotations

import base64
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
    "admin": {"sub": "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e", "email": "paul.admin@plateforme.example",
              "roles": ["platform_admin"]},
}


def consultation_id(reference: str) -> str:
    return str(uuid.uuid5(NAMESPACE, reference))


@dataclass
class Consultations:
    client: object
    runtime: object
    keys: TestKeys

    @property
    def depot(self):
        return self.runtime.deps.depot

    def unit_of_work(self):
        return self.runtime.db.unit_of_work()

    def auth(self, who: str = "marie") -> dict:
        claims = {"roles": ["supplier"], "name": who.capitalize(), **PEOPLE[who]}
        return {"Authorization": f"Bearer {self.keys.token(claims)}"}

    def events(self, event_type: str | None = None) -> list[dict]:
        with self.runtime.db.session() as session:
            bodies = session.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()
            found = [json.loads(body) for body in bodies]
        return [e for e in found if event_type is None or e["type"] == event_type]


MASTER_KEYS = "k1:" + base64.b64encode(bytes(range(32))).decode()


def make_consultations(database_url: str, keys: TestKeys, *, tsa=None, storage=None, **settings) -> Consultations:
    extra = {"tsa_url": tsa.url, "tsa_certificate": tsa.certificate} if tsa is not None else {}
    if storage is not None:
        extra["deposit_storage"] = str(storage)
    config = SERVICE.load_settings({}, **{"database_url": database_url, "amqp_url": "memory://consultations-tests",
                                          "log_json": True, "master_keys": MASTER_KEYS, "jwks_url": keys.jwks_url,
                                          **extra, **settings})
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    app = SERVICE.create_app(config, runtime, validate_responses=True)
    return Consultations(client=app.test_client(), runtime=runtime, keys=keys)


def pdf(text: str = "offre", size: int = 0) -> bytes:
    """A small PDF-looking file (the content check reads its magic), padded to ``size`` bytes if asked."""
    body = b"%PDF-1.7\n% " + text.encode() + b"\n"
    return body + b"0" * max(0, size - len(body) - 6) + b"\n%%EOF"


def closing_consultation(consultations: Consultations, deadline, reference: str = "TEST-2026-CLO-009") -> str:
    """A consultation that is not a practice one, whose deadline is ``deadline`` (it does not roll)."""
    from datetime import timedelta

    from achats.consultations.models import Consultation, Lot

    with consultations.runtime.db.session() as session:
        consultation = Consultation(reference=reference, title="Marché à date limite fixe", buyer="Acheteur test",
                                    procedure="open", contract_type="services", summary="", cpv_codes=["79000000"],
                                    practice=False, deadline_anchor=deadline - timedelta(days=1), deadline_days=1,
                                    search_text=reference.lower(),
                                    lots=[Lot(number=1, title="Lot unique", cpv_codes=["79000000"])])
        session.add(consultation)
        session.commit()
        return str(consultation.id)


def deposit(consultations: Consultations, consultation: str, lot: int = 1, *, who: str = "marie",
            files: list[tuple[str, str, bytes]] | None = None, key: str | None = None, data: dict | None = None):
    """POST a deposit: ``files`` as (kind, filename, content)."""
    files = files if files is not None else [("candidature", "dc1.pdf", pdf("dc1")), ("offre", "offre.pdf", pdf())]
    headers = consultations.auth(who) if who else {}
    if key:
        headers["Idempotency-Key"] = key
    return consultations.client.post(f"/consultations/consultations/{consultation}/lots/{lot}/deposits",
                                     headers=headers, files=[(kind, (name, content)) for kind, name, content in files],
                                     data=data or {})


def stored(consultations: Consultations) -> tuple[int, int, list]:
    """(deposit rows, file rows, every file on the storage): what a refused deposit must leave untouched."""
    from sqlalchemy import func

    from achats.consultations.models import Deposit, DepositFile

    with consultations.runtime.db.session() as session:
        rows = session.scalar(select(func.count()).select_from(Deposit))
        file_rows = session.scalar(select(func.count()).select_from(DepositFile))
    root = consultations.depot.storage.root
    return rows, file_rows, sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
