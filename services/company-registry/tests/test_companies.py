"""Companies and establishments without INSEE: manual and foreign entries, rights, changes, events."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from achats.chassis.bus import outbox

from registry_support import MANUAL


def events_of(registry, type_: str) -> list[dict]:
    with registry.runtime.db.session() as session:
        bodies = session.execute(select(outbox.c.body).where(outbox.c.type == type_).order_by(outbox.c.seq))
        return [json.loads(body)["data"] for body in bodies.scalars()]


def test_manual_registration_is_unverified_and_idempotent(offline_registry):
    first = offline_registry.register(MANUAL)
    assert first["company_created"] and first["establishment_created"]
    company = first["company"]
    assert (company["source"], company["verified"], company["siren"]) == ("manual", False, "265701342")
    assert company["naf_label"] == "Action sociale sans hébergement n.c.a."
    assert company["vat_number"] == "FR39265701342"
    again = offline_registry.client.post("/registry/companies", json=MANUAL, headers=offline_registry.service)
    assert again.status_code == 200
    assert again.json()["company"]["id"] == company["id"]
    assert again.json()["establishment"]["id"] == first["establishment"]["id"]
    assert len(events_of(offline_registry, "company.created")) == 1
    assert len(events_of(offline_registry, "company.establishment.added")) == 1


def test_insee_registration_while_insee_is_down_says_so_and_creates_nothing(offline_registry):
    body = {"company": {"source": "insee", "siren": "265701342"}, "establishment": {"siret": "26570134200148"}}
    response = offline_registry.client.post("/registry/companies", json=body, headers=offline_registry.service)
    assert response.status_code == 503
    assert response.json()["fallback"] == "manual"
    assert response.json()["detail"].startswith("Le service est actuellement indisponible.")
    assert events_of(offline_registry, "company.created") == []


def test_foreign_company(offline_registry):
    body = {"company": {"source": "foreign", "country_code": "DE", "national_id": "HRB 12345",
                        "vat_number": "DE136695976", "name": "Beispiel GmbH"},
            "establishment": {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
                              "country_code": "DE", "country": "Allemagne"}}
    created = offline_registry.register(body)
    assert created["company"]["source"] == "foreign"
    assert created["company"]["siren"] is None
    assert created["establishment"]["country_code"] == "DE"
    assert offline_registry.register(body)["company"]["id"] == created["company"]["id"]
    bad_vat = {**body, "company": {**body["company"], "national_id": "HRB 9", "vat_number": "DE000000000"}}
    response = offline_registry.client.post("/registry/companies", json=bad_vat, headers=offline_registry.service)
    assert response.status_code == 422
    assert response.json()["code"] == "vat_invalid"


def test_bad_registrations_are_refused_with_field_errors(offline_registry):
    cases = [
        ({"company": {"source": "manual", "siren": "265701343", "name": "X"}}, 422, "siren_invalid"),
        ({"company": {"source": "manual", "siren": "265701342"}}, 400, "validation_failed"),
        ({"company": {"source": "martian"}}, 400, "validation_failed"),
        ({"company": {**MANUAL["company"]}, "establishment": {"source": "manual", "siret": "55203253400646",
                                                              "street": "x", "postal_code": "1", "city": "y"}},
         422, "siret_mismatch"),
    ]
    for body, status, code in cases:
        response = offline_registry.client.post("/registry/companies", json=body, headers=offline_registry.service)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert events_of(offline_registry, "company.created") == []


def test_only_the_platform_registers_companies(offline_registry):
    for roles in (("supplier",), ("supplier_admin",), ("support_agent",)):
        response = offline_registry.client.post("/registry/companies", json=MANUAL,
                                                headers=offline_registry.token(*roles))
        assert response.status_code == 403
    assert offline_registry.client.post("/registry/companies", json=MANUAL).status_code == 401


def test_authorisation_matrix(offline_registry):
    a = offline_registry.register(MANUAL)
    b = offline_registry.register({
        "company": {"source": "manual", "siren": "552032534", "name": "DANONE"},
        "establishment": {"source": "manual", "siret": "55203253400646", "street": "17 BD HAUSSMANN",
                          "postal_code": "75009", "city": "PARIS"}})
    company_a, company_b = a["company"]["id"], b["company"]["id"]
    user_a = offline_registry.token("supplier", company_id=company_a)
    admin_a = offline_registry.token("supplier_admin", company_id=company_a)
    agent = offline_registry.token("support_agent")
    client = offline_registry.client
    # Company A's people see A, never B (404: B's existence is not disclosed).
    assert client.get(f"/registry/companies/{company_a}", headers=user_a).status_code == 200
    for headers in (user_a, admin_a):
        assert client.get(f"/registry/companies/{company_b}", headers=headers).status_code == 404
        assert client.get(f"/registry/companies/{company_b}/establishments", headers=headers).status_code == 404
        assert client.patch(f"/registry/companies/{company_b}", json={"is_pme": False},
                            headers=headers).status_code == 404
        assert client.delete(f"/registry/companies/{company_b}", headers=headers).status_code == 404
    # Only the administrator changes or deletes the company.
    assert client.patch(f"/registry/companies/{company_a}", json={"is_pme": False}, headers=user_a).status_code == 403
    assert client.delete(f"/registry/companies/{company_a}", headers=user_a).status_code == 403
    # Support agents read every company but change none.
    assert client.get(f"/registry/companies/{company_b}", headers=agent).status_code == 200
    assert client.patch(f"/registry/companies/{company_b}", json={"is_pme": False}, headers=agent).status_code == 403
    assert client.post(f"/registry/companies/{company_b}/establishments", headers=agent,
                       json={"source": "manual", "siret": "55203253400653", "street": "a", "postal_code": "1",
                             "city": "b"}).status_code == 403
    # Nothing changed on B.
    assert client.get(f"/registry/companies/{company_b}", headers=agent).json()["is_pme"] is None


def test_administrator_updates_editable_fields_only(offline_registry):
    company = offline_registry.register(MANUAL)["company"]
    admin = offline_registry.token("supplier_admin", company_id=company["id"])
    response = offline_registry.client.patch(f"/registry/companies/{company['id']}", headers=admin,
                                             json={"is_pme": False, "phone": "+33 3 87 00 00 00",
                                                   "name": "CCAS METZ"})
    assert response.status_code == 200, response.text
    assert (response.json()["is_pme"], response.json()["name"]) == (False, "CCAS METZ")
    assert events_of(offline_registry, "company.updated")[0]["changes"] == ["is_pme", "name", "phone"]
    unknown = offline_registry.client.patch(f"/registry/companies/{company['id']}", headers=admin,
                                            json={"siren": "552032534"})
    assert unknown.status_code == 400


def test_manual_establishment_is_editable_until_verified(offline_registry):
    created = offline_registry.register(MANUAL)
    company, establishment = created["company"], created["establishment"]
    user = offline_registry.token("supplier", company_id=company["id"])
    url = f"/registry/companies/{company['id']}/establishments/{establishment['id']}"
    changed = offline_registry.client.patch(url, json={"street": "24 RUE DU WAD BILLY"}, headers=user)
    assert changed.status_code == 200
    assert changed.json()["street"] == "24 RUE DU WAD BILLY"
    with offline_registry.runtime.db.unit_of_work() as uow:
        from achats.company_registry.models import Establishment

        uow.session.get(Establishment, uuid.UUID(establishment["id"])).verified = True
        uow.commit()
    refused = offline_registry.client.patch(url, json={"street": "1 RUE X"}, headers=user)
    assert refused.status_code == 409
    assert refused.json()["code"] == "establishment_read_only"
    assert "Mettre à jour depuis l'INSEE" in refused.json()["detail"]


def test_establishments_list_with_count_and_replacement(offline_registry):
    created = offline_registry.register(MANUAL)
    company, old = created["company"], created["establishment"]
    user = offline_registry.token("supplier", company_id=company["id"])
    base = f"/registry/companies/{company['id']}/establishments"
    replaced = offline_registry.client.post(f"{base}/{old['id']}/replace", headers=user, json={
        "source": "manual", "siret": "26570134200155", "street": "1 PLACE D'ARMES", "postal_code": "57000",
        "city": "METZ"})
    assert replaced.status_code == 201, replaced.text
    listing = offline_registry.client.get(base, headers=user).json()
    assert listing["count"] == 2
    states = {e["siret"]: (e["active"], e["replaced_by_id"]) for e in listing["items"]}
    assert states == {"26570134200148": (False, replaced.json()["id"]), "26570134200155": (True, None)}
    (event,) = events_of(offline_registry, "company.establishment.replaced")
    assert (event["old_establishment_id"], event["new_establishment_id"]) == (old["id"], replaced.json()["id"])
    again = offline_registry.client.post(f"{base}/{old['id']}/replace", headers=user, json={
        "source": "manual", "siret": "26570134200163", "street": "a", "postal_code": "1", "city": "b"})
    assert again.status_code == 409


def test_deleting_the_company_account(offline_registry):
    company = offline_registry.register(MANUAL)["company"]
    admin = offline_registry.token("supplier_admin", company_id=company["id"])
    assert offline_registry.client.delete(f"/registry/companies/{company['id']}", headers=admin).status_code == 204
    assert offline_registry.client.get(f"/registry/companies/{company['id']}", headers=admin).status_code == 404
    (event,) = events_of(offline_registry, "company.deleted")
    assert event["company_id"] == company["id"]
    assert event["deleted_by"]["email"] == "marie.curie@example.fr"
    # The SIREN can register again afterwards.
    assert offline_registry.register(MANUAL)["company_created"] is True


def test_establishment_lists_are_paginated(offline_registry):
    created = offline_registry.register(MANUAL)
    company = created["company"]
    user = offline_registry.token("supplier", company_id=company["id"])
    base = f"/registry/companies/{company['id']}/establishments"
    for siret in ("26570134200155", "26570134200163", "26570134200171"):
        added = offline_registry.client.post(base, headers=user, json={
            "source": "manual", "siret": siret, "street": "1 RUE", "postal_code": "57000", "city": "METZ"})
        assert added.status_code == 201
    total = offline_registry.client.get(base, headers=user).json()["count"]
    assert total == 4
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = offline_registry.client.get(base, headers=user, params=params).json()
        assert body["count"] == total
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == total
    bad = offline_registry.client.get(base, headers=user, params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "cursor_invalid"


# --- the manual form as people fill it in (issue 13, item 10) ------------------------------------------------

# The guide's own example (« Raison sociale : Test, Code APE : 8299, SIREN : 390702008, Forme juridique : SARL »);
# its SIREN fails the Luhn check, 390702009 is the valid one.
GUIDE = {"company": {"source": "manual", "siren": "390702009", "name": "Test", "naf_code": "8299",
                     "legal_form_code": "SARL", "is_pme": True},
         "establishment": {"source": "manual", "siret": "39070200900015", "street": "8 RUE DE L'ELYSEE",
                           "postal_code": "75008", "city": "PARIS"}}


def test_the_guides_manual_example_is_accepted_as_typed(offline_registry):
    company = offline_registry.register(GUIDE)["company"]
    assert (company["legal_form_code"], company["legal_form_label"]) == (
        "5499", "Société à responsabilité limitée (sans autre indication)")
    assert (company["naf_code"], company["naf_label"]) == ("82.99Z",
                                                           "Autres activités de soutien aux entreprises n.c.a.")


@pytest.mark.parametrize(("typed", "code"), [
    ("SARL", "5499"), ("s.a.r.l.", "5499"), ("EURL", "5499"), ("Société à responsabilité limitée", "5499"),
    ("SAS", "5710"), ("SASU", "5710"), ("SAS, société par actions simplifiée", "5710"), ("SA", "5599"),
    ("société anonyme", "5599"), ("EI", "1000"), ("micro-entrepreneur", "1000"), ("SCI", "6540"),
    ("SELARL", "5485"), ("Centre communal d'action sociale", "7361"), ("5499", "5499"),
])
def test_legal_forms_are_accepted_by_abbreviation_usual_name_label_or_code(offline_registry, typed, code):
    body = {"company": {**MANUAL["company"], "legal_form_code": typed}, "establishment": MANUAL["establishment"]}
    assert offline_registry.register(body)["company"]["legal_form_code"] == code


def test_an_unknown_or_ambiguous_legal_form_is_refused_saying_what_is_expected(offline_registry):
    client, headers = offline_registry.client, offline_registry.service
    for typed, status_hint in (("XYZ", "Forme juridique inconnue."), ("9999", "Forme juridique inconnue.")):
        body = {"company": {**MANUAL["company"], "legal_form_code": typed}}
        response = client.post("/registry/companies", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (422, "legal_form_unknown")
        (error,) = response.json()["errors"]
        assert error["field"] == "company.legal_form_code"
        assert error["message"].startswith(status_hint)
        assert "SARL, SAS, SA, EURL, EI" in error["message"] and "5499" in error["message"]
    ambiguous = client.post("/registry/companies", headers=headers,
                            json={"company": {**MANUAL["company"], "legal_form_code": "SCOP"}})
    message = ambiguous.json()["errors"][0]["message"]
    assert message.startswith("Plusieurs formes juridiques correspondent : "
                              "5458 (SARL coopérative de production (SCOP))")
    assert events_of(offline_registry, "company.created") == []


def test_an_ambiguous_or_unknown_naf_code_is_refused_saying_what_is_expected(offline_registry):
    client, headers = offline_registry.client, offline_registry.service
    ambiguous = client.post("/registry/companies", headers=headers,
                            json={"company": {**MANUAL["company"], "naf_code": "1071"}})
    assert (ambiguous.status_code, ambiguous.json()["code"]) == (422, "naf_unknown")
    assert ambiguous.json()["errors"] == [{"field": "company.naf_code", "message": (
        "Plusieurs sous-classes correspondent : 10.71A (Fabrication industrielle de pain et de pâtisserie fraîche)"
        " ; 10.71B (Cuisson de produits de boulangerie) ; 10.71C (Boulangerie et boulangerie-pâtisserie) ; "
        "10.71D (Pâtisserie). Précisez la lettre.")}]
    unknown = client.post("/registry/companies", headers=headers,
                          json={"company": {**MANUAL["company"], "naf_code": "99.99X"}})
    assert unknown.json()["errors"][0]["message"].startswith("Code APE / NAF inconnu. Saisissez le code")


def test_field_errors_name_the_users_field(offline_registry):
    client, headers = offline_registry.client, offline_registry.service
    guide_siren = client.post("/registry/companies", headers=headers,
                              json={"company": {**GUIDE["company"], "siren": "390702008"}})
    assert (guide_siren.status_code, guide_siren.json()["code"]) == (422, "siren_invalid")
    assert guide_siren.json()["errors"] == [{"field": "company.siren",
                                             "message": "Numéro SIREN invalide (clé de contrôle)."}]
    short = client.post("/registry/companies", headers=headers, json={"company": {**GUIDE["company"], "siren": "3907"}})
    assert short.json()["errors"] == [{"field": "company.siren",
                                       "message": "9 chiffres (SIREN) ou 14 chiffres (SIRET) attendus."}]
    bad_siret = client.post("/registry/companies", headers=headers, json={
        "company": GUIDE["company"], "establishment": {**GUIDE["establishment"], "siret": "39070200900016"}})
    assert bad_siret.json()["errors"][0]["field"] == "establishment.siret"
    company = offline_registry.register(GUIDE)["company"]
    user = offline_registry.token("supplier", company_id=company["id"])
    added = client.post(f"/registry/companies/{company['id']}/establishments", headers=user,
                        json={"source": "manual", "siret": "39070200900016", "street": "a", "postal_code": "1",
                              "city": "b"})
    # The body of « Ajouter un établissement » is the establishment itself.
    assert added.json()["errors"][0]["field"] == "siret"


def test_an_unverified_company_changes_its_legal_form_and_code_as_typed(offline_registry):
    company = offline_registry.register(MANUAL)["company"]
    admin = offline_registry.token("supplier_admin", company_id=company["id"])
    url = f"/registry/companies/{company['id']}"
    changed = offline_registry.client.patch(url, headers=admin, json={"legal_form_code": "SAS", "naf_code": "8299"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["legal_form_code"], changed.json()["naf_code"]) == ("5710", "82.99Z")
    refused = offline_registry.client.patch(url, headers=admin, json={"legal_form_code": "SARLX"})
    assert refused.json()["errors"][0]["field"] == "legal_form_code"


def test_a_foreign_company_may_declare_a_nace_class(offline_registry):
    body = {"company": {"source": "foreign", "country_code": "BE", "national_id": "0403.170.701",
                        "name": "Boulangerie Bruxelloise", "naf_code": "10.71"},
            "establishment": {"street": "Rue Haute 1", "postal_code": "1000", "city": "Bruxelles",
                              "country_code": "BE"}}
    assert offline_registry.register(body)["company"]["naf_code"] == "10.71"
