"""The FAQ: French full-text suggestions (PostgreSQL and SQLite), managed by agents and administrators."""

from __future__ import annotations

import pytest

from achats.helpdesk.search import normalise, prefix_of, terms

from helpdesk_support import category_id


def suggest(helpdesk, q: str, **params) -> list[str]:
    response = helpdesk.client.get("/helpdesk/faq/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [e["question"] for e in response.json()["items"]]


def test_words_are_normalised_like_the_index():
    assert normalise("Réinitialiser l'accès — Œuvre ÉTÉ") == "reinitialiser l acces oeuvre ete"
    assert terms("J'ai oublié mon mot de passe !") == ["oublie", "mot", "passe"]
    assert terms("de la, le, les") == []
    assert prefix_of("oublies") == "oubl"  # also finds « oublie », « oublier »
    assert prefix_of("mots") == "mot"
    assert prefix_of("de") == "de"


def test_french_search_on_both_databases(any_helpdesk):
    forgot = "J'ai oublié mon mot de passe, comment le réinitialiser ?"
    rules = "Quelles sont les règles des mots de passe ?"
    found = suggest(any_helpdesk, "mot de passe oublié")
    assert found[0] == forgot
    assert rules in found  # « mot de passe oublié » finds « Mots de passe »
    assert set(suggest(any_helpdesk, "Mots de passe")[:2]) == {rules, forgot}
    # Accents, case and plurals do not matter; the last word may be unfinished.
    assert suggest(any_helpdesk, "MOT DE PASSE OUBLIE")[0] == forgot
    assert suggest(any_helpdesk, "reinitialis")[0] == forgot
    assert suggest(any_helpdesk, "coffre-f")[0] == "Comment accéder au coffre-fort de mon compte entreprise ?"
    assert suggest(any_helpdesk, "mon numéro siret a changé")[0] == (
        "Mon numéro SIRET n'est plus le même, comment puis-je le modifier ?")
    assert suggest(any_helpdesk, "certificat qualifié eidas")[0] == (
        "Quel certificat faut-il pour signer électroniquement ?")
    # Keywords find a question in other words; stop words alone find nothing.
    assert suggest(any_helpdesk, "capture")[0] == "Quelles pièces jointes puis-je ajouter à ma demande ?"
    assert suggest(any_helpdesk, "de la le") == []
    assert suggest(any_helpdesk, "xylophone") == []
    # Within a category only.
    within = suggest(any_helpdesk, "mot de passe", category_id=category_id("compte-entreprise"), limit=20)
    assert forgot not in within


def test_managed_entries_are_searchable_at_once(any_helpdesk):
    agent = any_helpdesk.auth("agent")
    created = any_helpdesk.client.post("/helpdesk/faq", headers=agent, json={
        "category_id": category_id("depot-reponse"), "question": "Que faire si le dépôt échoue à cause du proxy ?",
        "answer": "Demandez à votre service informatique d'autoriser la plateforme.", "keywords": "pare-feu"})
    assert created.status_code == 201, created.text
    entry = created.json()
    assert suggest(any_helpdesk, "proxy")[0] == entry["question"]
    assert suggest(any_helpdesk, "pare feu")[0] == entry["question"]
    changed = any_helpdesk.client.patch(f"/helpdesk/faq/{entry['id']}", headers=agent,
                                        json={"question": "Que faire si le dépôt échoue derrière un filtrage ?",
                                              "keywords": ""})
    assert changed.status_code == 200
    assert suggest(any_helpdesk, "proxy") == []
    assert suggest(any_helpdesk, "filtrage")[0] == changed.json()["question"]
    hidden = any_helpdesk.client.patch(f"/helpdesk/faq/{entry['id']}", headers=agent, json={"active": False})
    assert hidden.json()["active"] is False
    assert suggest(any_helpdesk, "filtrage") == []
    assert any_helpdesk.client.get(f"/helpdesk/faq/{entry['id']}").status_code == 404
    assert any_helpdesk.client.get(f"/helpdesk/faq/{entry['id']}", headers=agent).status_code == 200
    assert any_helpdesk.client.delete(f"/helpdesk/faq/{entry['id']}", headers=agent).status_code == 204
    assert any_helpdesk.client.get(f"/helpdesk/faq/{entry['id']}", headers=agent).status_code == 404


def test_categories_are_managed_by_agents_and_administrators(helpdesk):
    admin, agent = helpdesk.auth("admin"), helpdesk.auth("agent")
    created = helpdesk.client.post("/helpdesk/categories", headers=admin,
                                   json={"label": "Facturation et paiement", "description": "Factures"})
    assert created.status_code == 201, created.text
    category = created.json()
    assert (category["slug"], category["faq_count"]) == ("facturation-et-paiement", 0)
    assert helpdesk.client.post("/helpdesk/categories", headers=agent,
                                json={"label": "Autre facturation", "slug": "facturation-et-paiement"}
                                ).json()["code"] == "category_slug_taken"
    entry = helpdesk.client.post("/helpdesk/faq", headers=agent, json={
        "category_id": category["id"], "question": "Quand suis-je payé ?", "answer": "Sous 30 jours."}).json()
    listed = helpdesk.client.get("/helpdesk/faq", params={"category_id": category["id"]}).json()
    assert [e["id"] for e in listed["items"]] == [entry["id"]]
    # Hidden from the form once deactivated, but kept for the agents.
    helpdesk.client.patch(f"/helpdesk/categories/{category['id']}", headers=agent, json={"active": False})
    assert category["id"] not in [c["id"] for c in helpdesk.client.get("/helpdesk/categories").json()["items"]]
    assert helpdesk.client.get(f"/helpdesk/categories/{category['id']}").status_code == 404
    assert suggest(helpdesk, "payé") == []
    everything = helpdesk.client.get("/helpdesk/categories", params={"include_inactive": "true"}, headers=agent)
    assert category["id"] in [c["id"] for c in everything.json()["items"]]
    refused = helpdesk.create(category_id=category["id"], email="a@example.fr")
    assert refused.status_code == 422
    assert refused.json()["code"] == "category_unknown"
    # A category some ticket uses cannot be deleted, only deactivated.
    used = category_id("autre")
    helpdesk.created(category_id=used, email="a@example.fr")
    conflict = helpdesk.client.delete(f"/helpdesk/categories/{used}", headers=agent)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "category_in_use"
    assert helpdesk.client.delete(f"/helpdesk/categories/{category['id']}", headers=agent).status_code == 204
    assert helpdesk.client.get(f"/helpdesk/faq/{entry['id']}", headers=agent).status_code == 404


def test_faq_pages(helpdesk):
    first = helpdesk.client.get("/helpdesk/faq", params={"limit": 20}).json()
    assert first["count"] == 33 and len(first["items"]) == 20
    second = helpdesk.client.get("/helpdesk/faq", params={"limit": 20, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 13 and second["next_cursor"] is None
    assert not {e["id"] for e in first["items"]} & {e["id"] for e in second["items"]}


@pytest.mark.parametrize("body", [{"outcome": "resolved"}, {"outcome": "continued",
                                                             "category_id": category_id("autre")}])
def test_deflection_needs_a_category_and_is_only_resolved(helpdesk, body):
    response = helpdesk.client.post("/helpdesk/faq/outcomes", json=body)
    assert response.status_code == 400
