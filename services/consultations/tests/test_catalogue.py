"""The practice consultations: created by migration, searched, always open; deadlines that roll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from achats.consultations import catalogue
from achats.consultations.models import Consultation

from consultations_support import SERVICES, SUPPLIES, WORKS, consultation_id


def references(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


def test_the_migration_creates_three_practice_consultations_with_lots_and_a_future_deadline(consultations):
    response = consultations.client.get("/consultations/consultations")
    body = response.json()
    assert body["count"] == 3 and sorted(references(response)) == sorted([WORKS, SUPPLIES, SERVICES])
    by_reference = {item["reference"]: item for item in body["items"]}
    works, supplies, services = by_reference[WORKS], by_reference[SUPPLIES], by_reference[SERVICES]
    assert (works["contract_type"], works["procedure"], len(works["lots"])) == ("works", "open", 3)
    assert works["contract_type_label"] == "Travaux" and works["procedure_label"] == "Appel d'offres ouvert"
    assert supplies["contract_type"] == "supplies"
    assert (services["contract_type"], services["procedure"]) == ("services", "adapted")
    assert services["procedure_label"] == "Procédure adaptée"
    now = datetime.now(UTC)
    for item in body["items"]:
        assert item["practice"] and item["buyer"] and item["title"] and item["cpv_codes"]
        assert datetime.fromisoformat(item["deadline"]) > now
        assert all(lot["cpv_codes"] for lot in item["lots"])
    # Soonest deadline first: the services contract is due in 14 days, the supplies in 21, the works in 30.
    assert references(response) == [SERVICES, SUPPLIES, WORKS]


def test_a_practice_deadline_rolls_forward_once_passed():
    anchor = datetime(2026, 1, 1, 11, tzinfo=UTC)
    consultation = Consultation(reference="X", deadline_anchor=anchor, deadline_days=14, practice=True)
    assert catalogue.deadline(consultation, anchor) == anchor + timedelta(days=14)
    just_after = anchor + timedelta(days=14, seconds=1)
    assert catalogue.deadline(consultation, just_after) == anchor + timedelta(days=28)
    much_later = anchor + timedelta(days=100)
    rolled = catalogue.deadline(consultation, much_later)
    assert much_later < rolled <= much_later + timedelta(days=14) and (rolled - anchor).days % 14 == 0
    consultation.practice = False  # a real one keeps its deadline
    assert catalogue.deadline(consultation, much_later) == anchor + timedelta(days=14)


def test_search_by_words_ignores_case_accents_and_order(consultations):
    get = consultations.client.get
    assert references(get("/consultations/consultations", params={"q": "THERMIQUES réhabilitation"})) == [WORKS]
    assert references(get("/consultations/consultations", params={"q": "electricite"})) == [WORKS]  # a lot's title
    assert references(get("/consultations/consultations", params={"q": "nettoyage toulouse"})) == [SERVICES]
    assert references(get("/consultations/consultations", params={"q": "TEST-2026-FRN"})) == [SUPPLIES]
    assert references(get("/consultations/consultations", params={"q": "nettoyage écrans"})) == []
    assert references(get("/consultations/consultations", params={"q": "100%_"})) == []  # LIKE wildcards are text


def test_search_by_cpv_code_follows_its_hierarchy(consultations):
    get = consultations.client.get
    assert references(get("/consultations/consultations", params={"cpv": "45000000"})) == [WORKS]
    assert references(get("/consultations/consultations", params={"cpv": "45262660"})) == [WORKS]  # a lot's code
    assert references(get("/consultations/consultations", params={"cpv": "30213000-5"})) == [SUPPLIES]
    assert references(get("/consultations/consultations", params={"cpv": "909"})) == [SERVICES]
    bad = get("/consultations/consultations", params={"cpv": "abc"})
    assert bad.status_code == 400 and bad.json()["code"] == "cpv_invalid"
    assert bad.json()["errors"][0]["message"].startswith("Saisissez un code CPV")


def test_filters_by_procedure_and_contract_type(consultations):
    get = consultations.client.get
    assert references(get("/consultations/consultations", params={"procedure": "adapted"})) == [SERVICES]
    assert references(get("/consultations/consultations", params={"procedure": "open"})) == [SUPPLIES, WORKS]
    assert references(get("/consultations/consultations", params={"contract_type": "supplies"})) == [SUPPLIES]
    assert references(get("/consultations/consultations",
                          params={"procedure": "adapted", "contract_type": "works"})) == []
    assert get("/consultations/consultations", params={"procedure": "gré à gré"}).status_code == 400


def test_the_list_paginates(consultations):
    first = consultations.client.get("/consultations/consultations", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = consultations.client.get("/consultations/consultations",
                                      params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["reference"] for i in second["items"]] == [WORKS] and second["next_cursor"] is None


def test_one_consultation_lists_its_dce(consultations):
    response = consultations.client.get(f"/consultations/consultations/{consultation_id(WORKS)}")
    assert response.status_code == 200
    body = response.json()
    assert [d["slug"] for d in body["documents"]] == ["reglement-consultation", "ccap", "acte-engagement"]
    assert body["documents"][2]["filename"] == f"{WORKS}_AE.pdf"
    missing = consultations.client.get("/consultations/consultations/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["detail"] == "Cette consultation n'existe pas."
