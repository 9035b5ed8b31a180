"""Every event the registry publishes matches its asyncapi.yaml contract."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import select

import achats.company_registry
from achats.chassis.bus import outbox
from achats.company_registry import jobs

from registry_support import MANUAL

CONTRACT = yaml.safe_load((Path(achats.company_registry.__file__).parent / "asyncapi.yaml").read_text())


def validator_for(event_type: str) -> Draft202012Validator:
    message = CONTRACT["channels"][event_type]["subscribe"]["message"]["$ref"]
    return Draft202012Validator({"$ref": f"{message}/payload", "components": CONTRACT["components"]})


def test_published_events_match_the_contract(offline_registry):
    client, registry = offline_registry.client, offline_registry
    created = registry.register(MANUAL)
    company_id, establishment_id = created["company"]["id"], created["establishment"]["id"]
    admin = registry.token("supplier_admin", company_id=company_id)
    client.patch(f"/registry/companies/{company_id}", json={"phone": "0102030405"}, headers=admin)
    client.post(f"/registry/companies/{company_id}/establishments/{establishment_id}/replace", headers=admin,
                json={"source": "manual", "siret": "26570134200155", "street": "1 RUE", "postal_code": "57000",
                      "city": "METZ"})
    client.post(f"/registry/companies/{company_id}/documents", headers=admin,
                data={"type": "kbis", "valid_until": (date.today() + timedelta(days=3)).isoformat()},
                files={"file": ("k.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")})
    jobs.notify_expiring(registry.runtime)
    client.delete(f"/registry/companies/{company_id}", headers=admin)
    with registry.runtime.db.session() as session:
        published = session.execute(select(outbox.c.type, outbox.c.body)).all()
    types = {row.type for row in published}
    assert types == set(CONTRACT["channels"])
    for row in published:
        envelope = json.loads(row.body)
        assert envelope["specversion"] == "1.0"
        assert envelope["source"] == "/company-registry"
        errors = list(validator_for(row.type).iter_errors(envelope["data"]))
        assert errors == [], (row.type, [e.message for e in errors])
