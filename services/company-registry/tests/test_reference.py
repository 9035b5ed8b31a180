"""The INSEE nomenclatures the registry ships, searchable for the web form's choosers (issue 13, A)."""

from __future__ import annotations

import pytest

from achats.company_registry import reference


def codes(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


@pytest.mark.parametrize("q", ["sarl", "SARL", "S.A.R.L.", "société à responsabilité limitée",
                               "SOCIETE A RESPONSABILITE LIMITEE", "eurl", "5499"])
def test_legal_forms_are_found_by_abbreviation_label_or_code(offline_registry, q):
    response = offline_registry.client.get("/registry/reference/legal-forms", params={"q": q})
    assert codes(response)[0] == "5499"
    assert response.json()["items"][0] == {"code": "5499",
                                           "label": "Société à responsabilité limitée (sans autre indication)",
                                           "abbreviations": ["SARL", "EURL", "SARLU"]}


@pytest.mark.parametrize("q", ["8299", "82.99z", "82.99Z", "8299Z", "82 99 z"])
def test_naf_codes_are_found_with_or_without_dot_letter_or_case(offline_registry, q):
    found = codes(offline_registry.client.get("/registry/reference/naf-codes", params={"q": q}))
    assert found == ["82.99Z"]


def test_naf_codes_are_found_by_words_of_their_label(offline_registry):
    found = codes(offline_registry.client.get("/registry/reference/naf-codes", params={"q": "conseil affaires"}))
    assert found == ["70.22Z"]
    accents = codes(offline_registry.client.get("/registry/reference/naf-codes", params={"q": "pâtisserie"}))
    assert {"10.71C", "10.71D"} <= set(accents)
    assert codes(offline_registry.client.get("/registry/reference/naf-codes", params={"q": "zzzz"})) == []


def test_whole_lists_for_a_page_without_javascript(offline_registry):
    legal = offline_registry.client.get("/registry/reference/legal-forms").json()
    naf = offline_registry.client.get("/registry/reference/naf-codes").json()
    assert legal["count"] == len(legal["items"]) == 260
    assert naf["count"] == len(naf["items"]) == 732
    assert [i["code"] for i in legal["items"]] == sorted(i["code"] for i in legal["items"])
    limited = offline_registry.client.get("/registry/reference/legal-forms", params={"q": "sarl", "limit": 2}).json()
    assert len(limited["items"]) == 2
    assert limited["count"] > 2
    assert len(offline_registry.client.get("/registry/reference/legal-forms",
                                           params={"q": "sa"}).json()["items"]) == 20


def test_lists_are_cacheable(offline_registry):
    first = offline_registry.client.get("/registry/reference/naf-codes", params={"q": "8299"})
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    again = offline_registry.client.get("/registry/reference/naf-codes", params={"q": "8299"},
                                        headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    other = offline_registry.client.get("/registry/reference/naf-codes", params={"q": "8298"},
                                        headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_bad_parameters_are_refused_in_french(offline_registry):
    response = offline_registry.client.get("/registry/reference/legal-forms", params={"limit": 0})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "limit", "message": "Doit être supérieur ou égal à 1."}]
    long = offline_registry.client.get("/registry/reference/naf-codes", params={"q": "x" * 101})
    assert long.json()["errors"] == [{"field": "q", "message": "Ne doit pas dépasser 100 caractères."}]


def test_one_table_the_lists_and_the_manual_form_agree():
    table = reference.legal_forms()
    seen: dict[str, str] = {}
    for entry in table.entries:
        assert reference.legal_form_code(entry.code) == entry.code
        assert reference.legal_form_code(entry.label) == entry.code or table.search(entry.label)
        for word in (*entry.abbreviations, *entry.names):
            assert reference.legal_form_code(word) == entry.code
            assert table.search(word)[0].code == entry.code
            assert reference.fold(word) not in seen, f"{word} names {seen.get(reference.fold(word))} and {entry.code}"
            seen[reference.fold(word)] = entry.code
    assert set(reference.USUAL_LEGAL_FORMS) <= set(table.by_code)
    for entry in reference.naf_codes().entries:
        assert reference.naf_code(entry.code) == entry.code
        assert reference.naf_code(entry.code.replace(".", "").lower()) == entry.code
