"""Questions to the buyer: a company's user asks, a support agent lists and answers, the answer is published without
the asker's name to every company that downloaded the DCE and mailed (by the event) to the asker and the downloaders;
on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from achats.consultations.models import Consultation, Question

from consultations_support import PEOPLE, SERVICES, WORKS, consultation_id

PAUL = {"sub": "9e6b7c8d-2f3a-4b4c-8d5e-6f7a8b9c0d1e", "email": "paul.langevin@example.fr",
        "company_id": "2a3b4c5d-6e7f-4809-9b8c-7d6e5f4a3b2c"}
MARIE_COLLEAGUE = {"sub": "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", "email": "Marie.Curie@example.fr",
                   "company_id": PEOPLE["marie"]["company_id"]}


@pytest.fixture(autouse=True)
def more_people(monkeypatch):
    monkeypatch.setitem(PEOPLE, "paul", PAUL)
    monkeypatch.setitem(PEOPLE, "colleague", MARIE_COLLEAGUE)


def path(reference: str, suffix: str = "questions") -> str:
    return f"/consultations/consultations/{consultation_id(reference)}/{suffix}"


def ask(consultations, who: str, text, reference: str = WORKS):
    return consultations.client.post(path(reference), json={"question": text}, headers=consultations.auth(who))


def read(consultations, who: str, reference: str = WORKS) -> dict:
    response = consultations.client.get(path(reference), headers=consultations.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def download(consultations, who: str, reference: str = WORKS) -> None:
    assert consultations.client.get(path(reference, "dce/ccap"), headers=consultations.auth(who)).status_code == 200


def pending(consultations) -> dict:
    response = consultations.client.get("/consultations/questions", headers=consultations.auth("agent"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_question_is_answered_and_published_anonymised_to_the_downloaders(consultations):
    download(consultations, "marie")
    download(consultations, "pierre")
    download(consultations, "colleague")  # Marie's address again, in other case: mailed once
    asked = ask(consultations, "marie", "  Le lot 1 comprend-il le désamiantage ? Marie, SARL Curie  ")
    assert asked.status_code == 201, asked.text
    question = asked.json()
    assert question["status"] == "pending" and question["mine"] is True and question["answer"] is None
    assert question["question"] == "Le lot 1 comprend-il le désamiantage ? Marie, SARL Curie"

    # Before the answer: the asker's company sees its own question, another company nothing.
    assert [q["status"] for q in read(consultations, "colleague")["items"]] == ["pending"]
    assert read(consultations, "pierre")["items"] == []
    # The agents' list: unanswered first, with who asked.
    queue = pending(consultations)
    assert queue["count"] == 1
    item = queue["items"][0]
    assert (item["reference"], item["asker"]["email"], item["asker"]["company_id"]) == (
        WORKS, PEOPLE["marie"]["email"], PEOPLE["marie"]["company_id"])

    answered = consultations.client.post(f"/consultations/questions/{item['id']}/answer", headers=consultations.auth(
        "agent"), json={"answer": "Oui, il relève du lot 1.", "question": "Le lot 1 comprend-il le désamiantage ?"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert answered.json()["answered_by"] == PEOPLE["agent"]["sub"]
    assert pending(consultations)["count"] == 0

    # Published to every company that downloaded the DCE, in the agent's wording, with nobody's name.
    seen = read(consultations, "pierre")
    assert seen["dce_downloaded"] is True
    assert [(q["question"], q["answer"], q["mine"]) for q in seen["items"]] == [
        ("Le lot 1 comprend-il le désamiantage ?", "Oui, il relève du lot 1.", False)]
    assert set(seen["items"][0]) == {"id", "status", "question", "answer", "asked_at", "answered_at", "mine"}
    assert "Curie" not in str(seen) and PEOPLE["marie"]["company_id"] not in str(seen)
    assert read(consultations, "marie")["items"][0]["mine"] is True
    # A company that has not downloaded the DCE reads nothing, until it does.
    assert read(consultations, "paul") == {"dce_downloaded": False, "count": 0, "items": []}
    download(consultations, "paul")
    assert read(consultations, "paul")["count"] == 1
    # Another consultation's questions are its own.
    assert read(consultations, "pierre", SERVICES)["items"] == []

    events = consultations.events("consultations.question.answered")
    assert len(events) == 1
    data = events[0]["data"]
    assert (data["reference"], data["question"], data["answer"]) == (
        WORKS, "Le lot 1 comprend-il le désamiantage ?", "Oui, il relève du lot 1.")
    assert data["consultation_url"] == f"http://localhost:8080/consultations/{WORKS}"
    assert data["recipients"] == [{"email": PEOPLE["marie"]["email"]}, {"email": PEOPLE["pierre"]["email"]}]


def test_the_asker_is_mailed_even_without_downloading_and_the_wording_defaults_to_the_question(consultations):
    ask(consultations, "paul", "Quelle est la durée du marché ?", SERVICES)
    item = pending(consultations)["items"][0]
    answered = consultations.client.post(f"/consultations/questions/{item['id']}/answer",
                                         headers=consultations.auth("agent"), json={"answer": "Trois ans."})
    assert answered.json()["published_question"] == "Quelle est la durée du marché ?"
    data = consultations.events("consultations.question.answered")[0]["data"]
    assert data["recipients"] == [{"email": PAUL["email"]}]
    # The asker's own question, answered, even without the DCE.
    assert [(q["status"], q["answer"]) for q in read(consultations, "paul", SERVICES)["items"]] == [
        ("answered", "Trois ans.")]


@pytest.mark.parametrize(("text", "status", "message"), [
    ("", 422, "Saisissez votre question."),
    ("   \n ", 422, "Saisissez votre question."),
    ("x" * 2001, 400, "Ne doit pas dépasser 2000 caractères."),
    (None, 400, "Type invalide : texte attendu."),
])
def test_a_question_empty_or_too_long_is_refused_in_french_and_nothing_is_stored(consultations, text, status, message):
    response = ask(consultations, "marie", text)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"field": "question", "message": message} in response.json()["errors"]
    assert pending(consultations)["count"] == 0


def test_an_answer_empty_twice_or_too_long_is_refused(consultations):
    ask(consultations, "marie", "Une question ?")
    question_id = pending(consultations)["items"][0]["id"]
    url = f"/consultations/questions/{question_id}/answer"
    agent = consultations.auth("agent")
    empty = consultations.client.post(url, headers=agent, json={"answer": " "})
    assert empty.status_code == 422 and empty.json()["errors"] == [
        {"field": "answer", "message": "Saisissez la réponse."}]
    long = consultations.client.post(url, headers=agent, json={"answer": "x" * 5001})
    assert long.status_code == 400 and long.json()["errors"][0]["field"] == "answer"
    assert pending(consultations)["count"] == 1 and consultations.events("consultations.question.answered") == []
    assert consultations.client.post(url, headers=agent, json={"answer": "Oui."}).status_code == 200
    again = consultations.client.post(url, headers=agent, json={"answer": "Non."})
    assert again.status_code == 409 and again.json()["detail"] == "Cette question a déjà reçu une réponse."
    assert len(consultations.events("consultations.question.answered")) == 1
    assert consultations.client.get(f"/consultations/questions/{question_id}", headers=agent).json()["answer"] == "Oui."


def test_who_may_do_what(consultations):
    assert consultations.client.post(path(WORKS), json={"question": "?"}).status_code == 401
    assert consultations.client.get(path(WORKS)).status_code == 401
    # An agent has no company: asking is a company's user's.
    refused = ask(consultations, "agent", "Une question ?")
    assert refused.status_code == 403 and "entreprise" in refused.json()["detail"]
    ask(consultations, "marie", "Une question ?")
    question_id = pending(consultations)["items"][0]["id"]
    # A supplier neither lists nor answers.
    marie = consultations.auth("marie")
    assert consultations.client.get("/consultations/questions", headers=marie).status_code == 403
    assert consultations.client.get(f"/consultations/questions/{question_id}", headers=marie).status_code == 403
    assert consultations.client.post(f"/consultations/questions/{question_id}/answer", headers=marie,
                                     json={"answer": "Oui."}).status_code == 403
    assert consultations.client.post(path("TEST-2026-XXX-999"), json={"question": "?"},
                                     headers=marie).status_code == 404
    assert consultations.client.get("/consultations/questions/00000000-0000-4000-8000-000000000000",
                                    headers=consultations.auth("agent")).status_code == 404


def test_no_question_after_the_deadline_of_a_consultation_that_does_not_roll(consultations):
    with consultations.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(Consultation).where(Consultation.reference == WORKS).values(
            practice=False, deadline_anchor=datetime.now(UTC) - timedelta(days=40)))
        uow.commit()
    response = ask(consultations, "marie", "Trop tard ?")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "La date limite de remise des plis est passée : plus aucune question n'est reçue.")
    with consultations.runtime.db.session() as session:
        assert session.query(Question).count() == 0


def test_the_agents_list_by_status(consultations):
    for text in ("Première ?", "Deuxième ?"):
        ask(consultations, "marie", text)
    first = pending(consultations)["items"]
    assert [q["question"] for q in first] == ["Première ?", "Deuxième ?"]  # oldest first
    consultations.client.post(f"/consultations/questions/{first[0]['id']}/answer",
                              headers=consultations.auth("agent"), json={"answer": "Oui."})
    agent = consultations.auth("agent")
    done = consultations.client.get("/consultations/questions", params={"status": "answered"}, headers=agent).json()
    assert [q["question"] for q in done["items"]] == ["Première ?"]
    every = consultations.client.get("/consultations/questions", params={"status": "all"}, headers=agent).json()
    assert every["count"] == 2
