"""Finding a company by its name through INSEE's multi-criteria search, for a user without the SIRET (issue 13, B)."""

from __future__ import annotations

import pytest

from achats.company_registry.search import sirene_query
from achats.company_registry.standin.dataset import CCAS_METZ_SIREN, CCAS_METZ_SIRET, TEST_SARL_SIREN, TEST_SARL_SIRET


def search(registry, **params):
    return registry.client.get("/registry/search", params=params)


def test_the_query_is_sirenes_own_syntax():
    assert sirene_query("Centre communal d'action sociale", postal_code="57000") == (
        "raisonSociale:CENTRE~1 AND raisonSociale:COMMUNAL~1 AND raisonSociale:ACTION~1 AND "
        "raisonSociale:SOCIALE~1 AND etablissementSiege:true AND periode(etatAdministratifEtablissement:A) AND "
        "codePostalEtablissement:57000")
    assert sirene_query("SNC des Lilas", city="Saint-Denis") == (
        "raisonSociale:SNC AND raisonSociale:LILAS~1 AND etablissementSiege:true AND "
        'periode(etatAdministratifEtablissement:A) AND libelleCommuneEtablissement:"SAINT DENIS"')


def test_a_company_is_found_by_its_name_head_office_only(registry, insee):
    response = search(registry, q="test")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == body["total"] == 1
    assert body["items"] == [{
        "siren": TEST_SARL_SIREN, "name": "TEST", "sigle": None, "head_office_siret": TEST_SARL_SIRET,
        "postal_code": "75008", "city": "PARIS 8", "active": True, "legal_form_code": "5499",
        "legal_form_label": "Société à responsabilité limitée (sans autre indication)", "naf_code": "62.01Z",
        "naf_label": "Programmation informatique"}]
    assert insee.calls()["by_path"] == {"/siret": 1}


def test_a_typing_error_is_forgiven_and_accents_and_case_do_not_count(registry):
    found = search(registry, q="Centre communal d'actoin sociâle").json()
    assert [(i["siren"], i["head_office_siret"]) for i in found["items"]] == [(CCAS_METZ_SIREN, CCAS_METZ_SIRET)]


def test_the_postal_code_or_the_commune_narrows_the_search(registry):
    assert search(registry, q="test", postal_code="75008").json()["count"] == 1
    assert search(registry, q="test", postal_code="69003").json() == {"count": 0, "total": 0, "items": []}
    assert search(registry, q="test", city="Paris").json()["count"] == 1
    assert search(registry, q="test", city="Lyon").json()["count"] == 0


def test_a_search_is_cached_like_a_lookup(registry, insee):
    assert search(registry, q="test").status_code == 200
    assert search(registry, q="TEST").status_code == 200  # the same query for Sirene
    assert search(registry, q="nothing like it").json()["count"] == 0
    assert search(registry, q="nothing like it").json()["count"] == 0
    assert insee.calls()["total"] == 2


@pytest.mark.parametrize(("params", "status", "errors"), [
    ({"q": "a"}, 400, [{"field": "q", "message": "Doit contenir au moins 2 caractères."}]),
    ({"q": "x" * 101}, 400, [{"field": "q", "message": "Ne doit pas dépasser 100 caractères."}]),
    ({"q": "a b"}, 422,
     [{"field": "q", "message": "Saisissez au moins 2 lettres ou chiffres du nom de l'entreprise."}]),
    ({"q": "test", "postal_code": "7500"}, 422,
     [{"field": "postal_code", "message": "Code postal : 5 chiffres attendus (ex. 75008)."}]),
    ({"q": "test", "city": "-"}, 422,
     [{"field": "city", "message": "Saisissez au moins 2 lettres du nom de la commune."}]),
    ({"q": "test", "limit": 51}, 400, [{"field": "limit", "message": "Doit être inférieur ou égal à 50."}]),
    ({}, 400, [{"field": "q", "message": "Ce paramètre est obligatoire."}]),
])
def test_bad_searches_are_refused_in_french_without_asking_insee(registry, insee, params, status, errors):
    response = search(registry, **params)
    assert (response.status_code, response.json()["errors"]) == (status, errors)
    assert insee.calls()["total"] == 0


def test_insee_down_gives_the_guides_message_and_the_manual_fallback(registry, insee):
    insee.set_mode("503")
    response = search(registry, q="test")
    assert response.status_code == 503
    body = response.json()
    assert (body["code"], body["fallback"]) == ("insee_unavailable", "manual")
    assert body["detail"].startswith("Le service est actuellement indisponible.")
    assert insee.calls()["total"] == 2


def test_the_search_is_public_and_counted_by_the_limiter(registry):
    assert search(registry, q="test", limit=5).status_code == 200  # no token: registration comes before login
    assert registry.runtime.deps.insee.limiter.calls_in_window() == 1
