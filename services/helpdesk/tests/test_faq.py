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


def _stats_of(helpdesk, category: str) -> dict:
    response = helpdesk.client.get("/helpdesk/faq/stats", headers=helpdesk.auth("agent"))
    assert response.status_code == 200, response.text
    return next(row for row in response.json()["categories"] if row["category"]["id"] == category)


def test_the_deflection_of_each_question_shown(helpdesk):
    category = category_id("compte-entreprise")
    listed = helpdesk.client.get("/helpdesk/faq", params={"category_id": category}).json()["items"]
    first, second = listed[0]["id"], listed[1]["id"]
    # Two showings of the category's FAQ, one of them followed by « La FAQ m'a permis… », twice (counted once).
    shown = [helpdesk.client.post("/helpdesk/faq/views", json={"entry_ids": [first, second, first]})
             for _ in range(2)]
    assert [r.status_code for r in shown] == [201, 201], shown[0].text
    view = shown[0].json()["view_id"]
    for _ in range(2):
        resolved = helpdesk.client.post("/helpdesk/faq/outcomes",
                                        json={"outcome": "resolved", "category_id": category, "view_id": view})
        assert resolved.status_code == 204, resolved.text
    # A showing of the first question only, left without an outcome.
    helpdesk.client.post("/helpdesk/faq/views", json={"entry_ids": [first]})
    row = _stats_of(helpdesk, category)
    assert row["resolved"] == 1
    entries = {e["entry_id"]: e for e in row["entries"]}
    assert [e["entry_id"] for e in row["entries"]] == [e["id"] for e in listed]  # every question, in order
    assert (entries[first]["shown"], entries[first]["resolved_after_shown"], entries[first]["rate"]) == (3, 1, 0.3333)
    assert (entries[second]["shown"], entries[second]["resolved_after_shown"], entries[second]["rate"]) == (2, 1, 0.5)
    never = listed[2]["id"]
    assert (entries[never]["shown"], entries[never]["resolved_after_shown"], entries[never]["rate"]) == (0, 0, None)


def test_a_view_of_unknown_questions_or_an_unknown_view_is_refused(helpdesk):
    unknown = "00000000-0000-4000-8000-000000000000"
    refused = helpdesk.client.post("/helpdesk/faq/views", json={"entry_ids": [unknown]})
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["field"] == "entry_ids"
    assert helpdesk.client.post("/helpdesk/faq/views", json={"entry_ids": []}).status_code == 400
    outcome = helpdesk.client.post("/helpdesk/faq/outcomes", json={
        "outcome": "resolved", "category_id": category_id("autre"), "view_id": unknown})
    assert outcome.status_code == 400
    assert outcome.json()["errors"][0]["field"] == "view_id"
    assert _stats_of(helpdesk, category_id("autre"))["resolved"] == 0


def test_questions_and_categories_move_up_and_down(helpdesk):
    agent = helpdesk.auth("agent")
    category = category_id("compte-entreprise")

    def order() -> list[str]:
        return [e["id"] for e in helpdesk.client.get("/helpdesk/faq", headers=agent, params={
            "category_id": category, "include_inactive": "true"}).json()["items"]]

    before = order()
    moved = helpdesk.client.post(f"/helpdesk/faq/{before[2]}/move", headers=agent, json={"direction": "up"})
    assert moved.status_code == 200, moved.text
    assert order() == [before[0], before[2], before[1], *before[3:]]
    helpdesk.client.post(f"/helpdesk/faq/{before[2]}/move", headers=agent, json={"direction": "down"})
    assert order() == before
    # At the top already: nothing changes. An unpublished question keeps its place among the others.
    assert helpdesk.client.post(f"/helpdesk/faq/{before[0]}/move", headers=agent,
                                json={"direction": "up"}).status_code == 200
    assert order() == before
    helpdesk.client.patch(f"/helpdesk/faq/{before[1]}", headers=agent, json={"active": False})
    helpdesk.client.post(f"/helpdesk/faq/{before[1]}/move", headers=agent, json={"direction": "down"})
    assert order() == [before[0], before[2], before[1], *before[3:]]
    public = [e["id"] for e in helpdesk.client.get("/helpdesk/faq", params={"category_id": category}).json()["items"]]
    assert public == [before[0], before[2], *before[3:]]
    assert helpdesk.client.post(f"/helpdesk/faq/{before[0]}/move", headers=agent,
                                json={"direction": "sideways"}).status_code == 400

    labels = [c["id"] for c in helpdesk.client.get("/helpdesk/categories").json()["items"]]
    answer = helpdesk.client.post(f"/helpdesk/categories/{labels[1]}/move", headers=agent, json={"direction": "up"})
    assert answer.status_code == 200, answer.text
    assert [c["id"] for c in helpdesk.client.get("/helpdesk/categories").json()["items"]] == [
        labels[1], labels[0], *labels[2:]]


@pytest.mark.parametrize("who", [None, "marie"])
def test_only_the_staff_move_questions_and_categories(helpdesk, who):
    headers = helpdesk.auth(who) if who else {}
    entry = helpdesk.client.get("/helpdesk/faq", params={"limit": 1}).json()["items"][0]
    answers = [helpdesk.client.post(f"/helpdesk/faq/{entry['id']}/move", headers=headers, json={"direction": "down"}),
               helpdesk.client.post(f"/helpdesk/categories/{entry['category_id']}/move", headers=headers,
                                    json={"direction": "down"})]
    assert [a.status_code for a in answers] == ([401, 401] if who is None else [403, 403])
