"""Companies typed by hand while INSEE was down (issue 17 item 6): the re-verification's outcome kept for the
platform administrators (matches / disagrees / still unavailable), their decision (accept / reject with a reason),
audited, and the role checked by the registry itself. On SQLite and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import select

from achats.chassis.bus import outbox
from achats.company_registry import jobs
from achats.company_registry.standin.dataset import UNKNOWN_SIREN

from registry_support import MANUAL, make_registry

UNKNOWN_SIRET = UNKNOWN_SIREN + "00104"  # valid (Luhn), its SIREN unknown to INSEE (the stand-in's 404)
UNKNOWN = {
    "company": {"source": "manual", "siren": UNKNOWN_SIREN, "name": "ATELIER FANTOME", "naf_code": "62.01Z",
                "legal_form_code": "SARL", "is_pme": True},
    "establishment": {"source": "manual", "siret": UNKNOWN_SIRET, "street": "1 RUE DE NULLE PART",
                      "postal_code": "75011", "city": "PARIS"},
}


@pytest.fixture
def reviewing(database_url, keys, insee):
    """The registry with a breaker that lets INSEE be tried again quickly, and two manual entries made while
    INSEE answered 503: the CCAS de Metz (INSEE knows it) and a SIREN INSEE does not know."""
    registry = make_registry(database_url, keys, insee.base_url, insee_breaker_reset=0.2, reverify_batch=5)
    insee.set_mode("503")
    ccas = registry.register(MANUAL)["company"]
    unknown = registry.register(UNKNOWN)["company"]
    yield registry, ccas, unknown
    registry.runtime.db.dispose()


def admin(registry, sub: str | None = None) -> dict:
    return registry.token("platform_admin", sub=sub or str(uuid.uuid4()))


def listed(registry, status: str = "pending") -> dict:
    answer = registry.client.get(f"/registry/admin/manual-companies?status={status}", headers=admin(registry))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_reverification_outcome_is_listed_for_administrators(reviewing, insee):
    registry, ccas, unknown = reviewing
    waiting = listed(registry)
    assert [c["id"] for c in waiting["items"]] == [ccas["id"], unknown["id"]]  # oldest entry first
    assert waiting["counts"] == {"pending": 2, "insee": 0, "accepted": 0, "rejected": 0}
    first = waiting["items"][0]
    assert (first["siren"], first["name"], first["reverification"]) == ("265701342", "CCAS DE METZ", None)
    assert first["establishments"][0]["siret"] == "26570134200148"

    # INSEE still down: the attempt is recorded as such on the company tried, the others wait.
    assert jobs.reverify(registry.runtime) == 0
    tried = listed(registry)["items"][0]["reverification"]
    assert tried["outcome"] == "unavailable"
    assert "toujours indisponible" in tried["detail"]

    insee.set_mode("normal")
    time.sleep(0.3)  # the breaker, open after the failures, lets a call try again
    assert jobs.reverify(registry.runtime) == 1
    waiting = listed(registry)
    assert [c["id"] for c in waiting["items"]] == [unknown["id"]]  # INSEE confirmed the CCAS: no decision needed
    left = waiting["items"][0]
    assert left["reverification"]["outcome"] == "disagrees"
    assert left["reverification"]["detail"] == "L'INSEE ne connaît pas ce numéro SIREN."
    assert waiting["counts"]["insee"] == 1
    confirmed = listed(registry, "insee")["items"][0]
    assert confirmed["reverification"]["outcome"] == "matches"
    assert (confirmed["name"], confirmed["verified"]) == ("CENTRE COMMUNAL D'ACTION SOCIALE", True)
    refused = registry.client.post(f"/registry/admin/manual-companies/{ccas['id']}/decision",
                                   json={"decision": "accept"}, headers=admin(registry))
    assert (refused.status_code, refused.json()["code"]) == (409, "review_not_pending")


def test_a_rejection_needs_a_reason_and_is_audited(reviewing):
    registry, _ccas, unknown = reviewing
    someone = str(uuid.uuid4())
    url = f"/registry/admin/manual-companies/{unknown['id']}/decision"
    for reason in (None, "   "):
        body = {"decision": "reject", **({"reason": reason} if reason is not None else {})}
        refused = registry.client.post(url, json=body, headers=admin(registry, someone))
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "reason_required"
        assert problem["errors"][0]["field"] == "reason"
        assert "motif" in problem["errors"][0]["message"]
    assert listed(registry)["counts"]["pending"] == 2  # nothing changed
    assert registry.client.get("/registry/admin/audit", headers=admin(registry)).json()["items"] == []
    too_long = registry.client.post(url, json={"decision": "reject", "reason": "x" * 501}, headers=admin(registry))
    assert too_long.status_code == 400

    done = registry.client.post(url, json={"decision": "reject", "reason": "SIREN inconnu, Kbis non fourni."},
                                headers=admin(registry, someone))
    assert done.status_code == 200, done.text
    review = done.json()["review"]
    assert (review["status"], review["reason"], review["decided_by"]["id"]) == (
        "rejected", "SIREN inconnu, Kbis non fourni.", someone)
    assert done.json()["verified"] is False
    assert [c["id"] for c in listed(registry, "rejected")["items"]] == [unknown["id"]]
    entry = registry.client.get("/registry/admin/audit", headers=admin(registry)).json()["items"][0]
    assert (entry["action"], entry["actor"]["id"], entry["siren"], entry["company_name"]) == (
        "company.rejected", someone, UNKNOWN_SIREN, "ATELIER FANTOME")
    assert entry["actor"]["email"] == "marie.curie@example.fr"  # the token's, as it was
    assert entry["detail"]["reason"] == "SIREN inconnu, Kbis non fourni."
    assert entry["at"]
    again = registry.client.post(url, json={"decision": "accept"}, headers=admin(registry))
    assert (again.status_code, again.json()["code"]) == (409, "review_not_pending")
    # A rejected entry is no longer re-verified.
    with registry.runtime.db.session() as session:
        from achats.company_registry.companies import unverified

        assert unknown["id"] not in {str(c.id) for c in unverified(session, 10)}


def test_an_accepted_company_becomes_verified(reviewing):
    registry, _ccas, unknown = reviewing
    done = registry.client.post(f"/registry/admin/manual-companies/{unknown['id']}/decision",
                                json={"decision": "accept", "reason": "Kbis vérifié au greffe."},
                                headers=admin(registry))
    assert done.status_code == 200, done.text
    assert (done.json()["review"]["status"], done.json()["verified"]) == ("accepted", True)
    supplier_admin = registry.token("supplier_admin", company_id=unknown["id"])
    company = registry.client.get(f"/registry/companies/{unknown['id']}", headers=supplier_admin).json()
    assert company["verified"] is True
    renamed = registry.client.patch(f"/registry/companies/{unknown['id']}", json={"name": "AUTRE NOM"},
                                    headers=supplier_admin)
    assert renamed.status_code == 409  # verified: its name is no longer the supplier's to change
    with registry.runtime.db.session() as session:
        updates = [json.loads(b)["data"] for b in session.execute(
            select(outbox.c.body).where(outbox.c.type == "company.updated")).scalars()]
    assert updates[-1]["changes"] == ["verified"] and updates[-1]["company_id"] == unknown["id"]
    audit = registry.client.get(f"/registry/admin/audit?company_id={unknown['id']}", headers=admin(registry))
    assert [e["action"] for e in audit.json()["items"]] == ["company.accepted"]


def test_only_platform_administrators_review(reviewing):
    registry, _ccas, unknown = reviewing
    decision = f"/registry/admin/manual-companies/{unknown['id']}/decision"
    for roles in (("supplier",), ("supplier_admin",), ("support_agent",), ("service",)):
        headers = registry.token(*roles, company_id=unknown["id"])
        for path, body in (("/registry/admin/manual-companies", None), (decision, {"decision": "accept"}),
                           ("/registry/admin/audit", None)):
            answer = (registry.client.post(path, json=body, headers=headers) if body
                      else registry.client.get(path, headers=headers))
            assert (answer.status_code, answer.json()["code"]) == (403, "platform_admin_required"), (roles, path)
    assert registry.client.get("/registry/admin/manual-companies").status_code == 401
    assert listed(registry)["counts"]["pending"] == 2


def test_unknown_and_non_manual_companies_have_no_decision(reviewing, insee):
    registry, _ccas, _unknown = reviewing
    missing = registry.client.post(f"/registry/admin/manual-companies/{uuid.uuid4()}/decision",
                                   json={"decision": "accept"}, headers=admin(registry))
    assert (missing.status_code, missing.json()["code"]) == (404, "manual_company_not_found")
    insee.set_mode("normal")
    time.sleep(0.3)
    from_insee = registry.register({"company": {"source": "insee", "siren": "390702009"},
                                    "establishment": {"siret": "39070200900015"}})["company"]
    answer = registry.client.post(f"/registry/admin/manual-companies/{from_insee['id']}/decision",
                                  json={"decision": "accept"}, headers=admin(registry))
    assert answer.status_code == 404
    bad = registry.client.post(f"/registry/admin/manual-companies/{from_insee['id']}/decision",
                               json={"decision": "peut-être"}, headers=admin(registry))
    assert bad.status_code == 400
    assert registry.client.get("/registry/admin/manual-companies?status=autre",
                               headers=admin(registry)).status_code == 400
