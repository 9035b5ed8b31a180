"""Registration from INSEE data, « Mettre à jour depuis l'INSEE », and re-verification of manual entries."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import select

from achats.chassis.bus import outbox
from achats.company_registry import jobs
from achats.company_registry.standin.dataset import (
    CLOSED_SIRET,
    CLOSED_UNIT_SIREN,
    PARTIAL_SIRET,
    TEST_SARL_SECONDARY_SIRET,
    TEST_SARL_SIREN,
    TEST_SARL_SIRET,
)

from registry_support import MANUAL, make_registry

CCAS = "26570134200148"


def test_registration_from_insee_is_verified_and_idempotent(registry, insee):
    body = {"company": {"source": "insee", "siren": CCAS[:9]}, "establishment": {"siret": CCAS}}
    created = registry.client.post("/registry/companies", json=body, headers=registry.service)
    assert created.status_code == 201, created.text
    company = created.json()["company"]
    assert (company["source"], company["verified"], company["name"]) == ("insee", True,
                                                                         "CENTRE COMMUNAL D'ACTION SOCIALE")
    assert created.json()["establishment"]["editable"] is False
    calls = insee.calls()["total"]
    again = registry.client.post("/registry/companies", json=body, headers=registry.service)
    assert again.status_code == 200
    assert again.json()["company"]["id"] == company["id"]
    assert insee.calls()["total"] == calls  # nothing to create: INSEE is not asked again


def test_siret_alone_is_enough_to_register(registry):
    body = {"company": {"source": "insee"}, "establishment": {"siret": TEST_SARL_SIRET}}
    created = registry.client.post("/registry/companies", json=body, headers=registry.service)
    assert created.status_code == 201, created.text
    assert created.json()["company"]["siren"] == TEST_SARL_SIREN


def test_hidden_fields_must_be_typed_by_the_user(registry):
    body = {"company": {"source": "insee"}, "establishment": {"siret": PARTIAL_SIRET}}
    missing = registry.client.post("/registry/companies", json=body, headers=registry.service)
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"field": "company.name", "message": "Ce champ est obligatoire."}]
    typed = {"company": {"source": "insee", "name": "MME X"},
             "establishment": {"siret": PARTIAL_SIRET, "street": "3 RUE DES LILAS"}}
    created = registry.client.post("/registry/companies", json=typed, headers=registry.service)
    assert created.status_code == 201, created.text
    assert created.json()["company"]["name"] == "MME X"
    assert created.json()["establishment"]["street"] == "3 RUE DES LILAS"


def test_adding_an_establishment_by_siret_and_seeing_closed_ones(registry):
    company = registry.register({"company": {"source": "insee"}, "establishment": {"siret": TEST_SARL_SIRET}})
    user = registry.token("supplier", company_id=company["company"]["id"])
    base = f"/registry/companies/{company['company']['id']}/establishments"
    added = registry.client.post(base, json={"siret": CLOSED_SIRET}, headers=user)
    assert added.status_code == 201, added.text
    assert added.json()["active"] is False
    # Added to the company's list (its history), not without a word.
    assert added.json()["warnings"] == [{
        "code": "establishment_closed", "siret": CLOSED_SIRET,
        "message": f"L'établissement {CLOSED_SIRET} est fermé selon l'INSEE depuis le 30/06/2021. "
                   "Il ne peut pas être choisi comme établissement de rattachement."}]
    listing = registry.client.get(base, headers=user).json()
    assert listing["count"] == 2
    other = registry.client.post(base, json={"siret": CCAS}, headers=user)
    assert other.status_code == 422
    assert other.json()["code"] == "siret_mismatch"


def test_refresh_from_insee_updates_names_and_reports_changes(registry):
    company = registry.register({"company": {"source": "insee"}, "establishment": {"siret": CCAS}})["company"]
    with registry.runtime.db.unit_of_work() as uow:
        from achats.company_registry.models import Company

        uow.session.get(Company, uuid.UUID(company["id"])).name = "ANCIEN NOM"
        uow.commit()
    admin = registry.token("supplier_admin", company_id=company["id"])
    refreshed = registry.client.post(f"/registry/companies/{company['id']}/refresh", headers=admin)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["company"]["name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert "name" in refreshed.json()["changes"]
    user = registry.token("supplier", company_id=company["id"])
    assert registry.client.post(f"/registry/companies/{company['id']}/refresh", headers=user).status_code == 403


def test_manual_entries_are_reverified_once_insee_answers(database_url, keys, insee):
    registry = make_registry(database_url, keys, insee.base_url, insee_breaker_reset=0.2)
    insee.set_mode("503")
    down = registry.client.post("/registry/companies", json={
        "company": {"source": "insee", "siren": CCAS[:9]}, "establishment": {"siret": CCAS}},
        headers=registry.service)
    assert down.status_code == 503
    manual = registry.register(MANUAL)
    assert manual["company"]["verified"] is False
    assert jobs.reverify(registry.runtime) == 0  # INSEE still down: nothing verified, nothing broken
    insee.set_mode("normal")
    time.sleep(0.3)  # the circuit breaker, open after the failures, lets a call try again
    assert jobs.reverify(registry.runtime) == 1
    admin = registry.token("supplier_admin", company_id=manual["company"]["id"])
    company = registry.client.get(f"/registry/companies/{manual['company']['id']}", headers=admin).json()
    assert (company["source"], company["verified"]) == ("insee", True)
    assert company["name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    establishment = registry.client.get(f"/registry/companies/{manual['company']['id']}/establishments",
                                        headers=admin).json()["items"][0]
    assert (establishment["verified"], establishment["editable"]) == (True, False)
    with registry.runtime.db.session() as session:
        updates = [json.loads(b)["data"] for b in session.execute(
            select(outbox.c.body).where(outbox.c.type == "company.updated")).scalars()]
    assert "verified" in updates[-1]["changes"]
    registry.runtime.db.dispose()


def events_of(registry, type_: str) -> list[dict]:
    with registry.runtime.db.session() as session:
        return [json.loads(b)["data"] for b in session.execute(
            select(outbox.c.body).where(outbox.c.type == type_)).scalars()]


def test_lookup_warns_of_closed_establishments_and_ceased_companies(registry):
    closed = registry.client.get(f"/registry/lookup/{CLOSED_SIRET}").json()
    assert closed["establishments"][0]["closed_since"] == "2021-06-30"
    assert closed["warnings"] == [{
        "code": "establishment_closed", "siret": CLOSED_SIRET,
        "message": f"L'établissement {CLOSED_SIRET} est fermé selon l'INSEE depuis le 30/06/2021. "
                   "Il ne peut pas être choisi comme établissement de rattachement."}]
    company = registry.client.get(f"/registry/lookup/{TEST_SARL_SIREN}").json()
    assert [w["siret"] for w in company["warnings"]] == [CLOSED_SIRET]
    assert registry.client.get(f"/registry/lookup/{TEST_SARL_SIRET}").json()["warnings"] == []
    ceased = registry.client.get(f"/registry/lookup/{CLOSED_UNIT_SIREN}").json()
    assert [w["code"] for w in ceased["warnings"]] == ["company_ceased", "establishment_closed",
                                                        "establishment_closed"]


def test_a_closed_establishment_is_refused_as_the_users_own(registry):
    body = {"company": {"source": "insee"}, "establishment": {"siret": CLOSED_SIRET}}
    refused = registry.client.post("/registry/companies", json=body, headers=registry.service)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "establishment_closed"
    assert problem["detail"].startswith(f"L'établissement {CLOSED_SIRET} est fermé selon l'INSEE depuis le "
                                        "30/06/2021. Il ne peut pas être votre établissement de rattachement")
    assert problem["errors"] == [{"field": "establishment.siret", "message": "Établissement fermé."}]
    assert events_of(registry, "company.created") == []  # nothing half-made
    # Nor a ceased company registered without an establishment.
    ceased = registry.client.post("/registry/companies", json={"company": {"source": "insee",
                                                                           "siren": CLOSED_UNIT_SIREN}},
                                  headers=registry.service)
    assert (ceased.status_code, ceased.json()["code"]) == (422, "company_ceased")
    assert ceased.json()["errors"][0]["field"] == "company.siren"


def test_a_closed_establishment_already_listed_is_refused_as_a_new_users_own(registry):
    company = registry.register({"company": {"source": "insee"}, "establishment": {"siret": TEST_SARL_SIRET}})
    user = registry.token("supplier", company_id=company["company"]["id"])
    base = f"/registry/companies/{company['company']['id']}/establishments"
    assert registry.client.post(base, json={"siret": CLOSED_SIRET}, headers=user).status_code == 201
    body = {"company": {"source": "insee"}, "establishment": {"siret": CLOSED_SIRET}}
    refused = registry.client.post("/registry/companies", json=body, headers=registry.service)
    assert (refused.status_code, refused.json()["code"]) == (422, "establishment_closed")
    # An open establishment of the same company is still a colleague's to join.
    joined = registry.client.post("/registry/companies", headers=registry.service,
                                  json={"company": {"source": "insee"},
                                        "establishment": {"siret": TEST_SARL_SECONDARY_SIRET}})
    assert joined.status_code == 201, joined.text


def test_a_closed_establishment_cannot_replace_one(registry):
    company = registry.register({"company": {"source": "insee"}, "establishment": {"siret": TEST_SARL_SIRET}})
    user = registry.token("supplier", company_id=company["company"]["id"])
    url = (f"/registry/companies/{company['company']['id']}/establishments/"
           f"{company['establishment']['id']}/replace")
    refused = registry.client.post(url, json={"siret": CLOSED_SIRET}, headers=user)
    assert (refused.status_code, refused.json()["code"]) == (422, "establishment_closed")
    assert refused.json()["errors"][0]["field"] == "siret"
    assert events_of(registry, "company.establishment.replaced") == []
