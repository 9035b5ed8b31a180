"""The guide's « Contacter le support en cas de problème », end to end through the API, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

from achats.chassis.testing.samples import PDF, png
from achats.helpdesk import jobs

from helpdesk_support import FIREFOX, category_id, now

GUIDE_QUESTIONS = [
    "Comment accéder au coffre-fort de mon compte entreprise ?",
    "Comment modifier les informations de mon entreprise ?",
    "Comment supprimer le compte de mon entreprise ?",
    "Comment supprimer mon compte personnel ?",
    "Est-il possible d'avoir plusieurs comptes pour une même entreprise ?",
    "Je change d'entreprise, puis-je garder le même compte ?",
    "Je viens d'ajouter un établissement et je ne parviens pas à modifier les données",
    "Mon entreprise a changé de nom. Comment puis-je mettre à jour le nom de mon entreprise ?",
    "Mon numéro SIRET n'est plus le même, comment puis-je le modifier ?",
]
GUIDE_ANSWER = ("Oui. Il faut créer un nouveau compte depuis la page d'accueil de la plateforme. L'adresse mail "
                "renseignée devra être différente de celles des autres comptes déjà existants.")


def test_the_guides_scenario(any_helpdesk):
    desk = any_helpdesk
    client = desk.client
    agent = desk.auth("agent")

    # « Une nouvelle page de demande d'assistance s'ouvre » : the automatic context, nobody logged in.
    context = client.get("/helpdesk/context", headers={"User-Agent": FIREFOX}).json()
    assert context["logged_in"] is False
    assert context["context"]["applicative"] | {"platform": None, "version": None} == {
        "platform": None, "version": None, "user_name": "Non connu", "user_email": "Non connu", "company": "Non connu"}
    assert context["context"]["business"]["summary"] == "Aucune information de contexte n'est disponible."
    assert context["context"]["technical"]["operating_system"] == "Windows 10"
    assert context["context"]["technical"]["browser"] == "Mozilla Firefox 83.0"
    assert context["context"]["technical"]["assistant_version"] == "Non connu"

    # « Ma demande » and its FAQ: the nine questions of the company account.
    categories = {c["slug"]: c for c in client.get("/helpdesk/categories").json()["items"]}
    assert {"compte-entreprise", "connexion-mot-de-passe", "signature-electronique", "configuration-poste",
            "depot-reponse", "autre"} == set(categories)
    account = categories["compte-entreprise"]
    assert (account["label"], account["faq_count"]) == ("Mon compte entreprise", 9)
    faq = client.get("/helpdesk/faq", params={"category_id": account["id"]}).json()
    assert [e["question"] for e in faq["items"]] == GUIDE_QUESTIONS
    several = next(e for e in faq["items"] if e["question"].startswith("Est-il possible"))
    assert several["answer"].startswith(GUIDE_ANSWER)
    suggestions = client.get("/helpdesk/faq/search", params={"q": "plusieurs comptes"}).json()["items"]
    assert suggestions[0]["id"] == several["id"]

    # Someone else found the answer in the FAQ: « La FAQ m'a permis de résoudre mon problème ».
    assert client.post("/helpdesk/faq/outcomes", json={"outcome": "resolved", "entry_id": several["id"]}
                       ).status_code == 204

    # « Je n'ai pas trouvé de réponse satisfaisante, je poursuis ma demande »: Majeur, systématique, a screenshot.
    screenshot = png(20_000)
    response = desk.create(files=[("attachments", ("erreur.png", screenshot, "image/png"))],
                           category_id=account["id"], severity="major", frequency="systematic",
                           message="Je ne parviens pas à modifier l'adresse de l'établissement ajouté hier.",
                           email="helene.lefevre@etudes-spatiales.example", first_name="Hélène", last_name="Lefèvre",
                           company="Société d'Études Spatiales", page="/entreprise/etablissements")
    assert response.status_code == 201, response.text
    created = response.json()
    reference = created["reference"]
    assert re.fullmatch(r"[0-9]{8}", reference)
    assert created["status"] == "new"
    assert created["support_phone"] == "08 20 20 77 43"  # « affiché après validation de ce formulaire »
    assert reference in created["confirmation"] and "08 20 20 77 43" in created["confirmation"]
    assert created["severity_label"] == "Majeur"
    assert created["frequency_label"] == "De façon systématique"
    assert created["context"]["business"]["page"] == "/entreprise/etablissements"
    assert created["context"]["applicative"]["user_name"] == "Non connu"
    assert created["context"]["technical"]["browser"] == "Mozilla Firefox 83.0"
    assert created["follow_url"].startswith(f"https://achats.example/assistance/demande/{reference}#")

    # « vous recevez par email une notification » with the reference and the follow link.
    [mail] = desk.events("helpdesk.ticket.created")
    assert mail["data"]["reference"] == reference
    assert mail["data"]["subject"] == "Mon compte entreprise"
    assert mail["data"]["requester"] == {"email": "helene.lefevre@etudes-spatiales.example",
                                         "first_name": "Hélène", "last_name": "Lefèvre"}
    assert mail["data"]["follow_url"] == created["follow_url"]

    # The requester follows the ticket with the link, without logging in.
    ref, token = desk.follow_token(created["id"])
    followed = desk.follow(ref, token)
    assert followed.status_code == 200
    [first] = followed.json()["history"]
    assert first["kind"] == "created"
    [attachment] = first["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("erreur.png", "image/png")
    download = desk.follow(ref, token, f"/attachments/{attachment['id']}")
    assert download.content == screenshot
    assert download.headers["x-content-type-options"] == "nosniff"

    # The support takes it: queue, assignment, an internal note, then a question for the requester.
    queue = client.get("/helpdesk/agent/tickets", headers=agent).json()
    assert [t["reference"] for t in queue["items"]] == [reference]
    assigned = client.put(f"/helpdesk/agent/tickets/{created['id']}/assignee", json={}, headers=agent).json()
    assert assigned["status"] == "in_progress"
    assert assigned["assignee"]["name"] == "Alice Martin"
    note = desk.post_form(f"/helpdesk/agent/tickets/{created['id']}/notes", headers=agent,
                          message="Établissement vérifié par l'INSEE : non modifiable (note interne).")
    assert note.status_code == 201
    asked = desk.post_form(f"/helpdesk/agent/tickets/{created['id']}/information-requests", headers=agent,
                           message="Pouvez-vous nous indiquer le SIRET de l'établissement ?")
    assert asked.json()["status"] == "waiting_customer"
    [question] = desk.events("helpdesk.ticket.information_requested")
    assert question["data"]["message_excerpt"] == "Pouvez-vous nous indiquer le SIRET de l'établissement ?"

    # The requester answers through the link of that mail, with a document.
    ref, token = desk.follow_token(created["id"], "helpdesk.ticket.information_requested")
    answered = desk.follow(ref, token, "/messages", method="post", data={"message": "SIRET 39070200900023."},
                           files=[("attachments", ("kbis.pdf", PDF, "application/pdf"))])
    assert answered.status_code == 201, answered.text
    assert answered.json()["status"] == "in_progress"
    kinds = [entry["kind"] for entry in answered.json()["history"]]
    assert "note" not in kinds and "assigned" not in kinds

    # The support answers and resolves in one go; the requester gets both mails.
    reply = desk.post_form(f"/helpdesk/agent/tickets/{created['id']}/replies", headers=agent, status="resolved",
                           message="Cet établissement vient de l'INSEE : la correction se fait auprès de l'INSEE.",
                           files=[("attachments", ("procedure.pdf", PDF, "application/pdf"))])
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "resolved"
    assert len(desk.events("helpdesk.ticket.answered")) == 1
    assert len(desk.events("helpdesk.ticket.resolved")) == 1
    history = desk.follow(ref, token).json()["history"]
    assert [e["kind"] for e in history] == ["created", "status_changed", "information_request", "status_changed",
                                            "message", "status_changed", "reply", "status_changed"]
    assert history[6]["author"]["name"] == "Équipe support"

    # Seven days later the resolved ticket closes by itself; the link still shows it, answers are refused.
    assert jobs.auto_close(desk.runtime, now=now() + timedelta(days=6)) == 0
    assert jobs.auto_close(desk.runtime, now=now() + timedelta(days=7, minutes=1)) == 1
    closed = desk.follow(ref, token).json()
    assert (closed["status"], closed["can_reply"]) == ("closed", False)
    refused = desk.follow(ref, token, "/messages", method="post", data={"message": "Encore une question"},
                          files=[("attachments", ("", b"", "application/octet-stream"))])
    assert refused.status_code == 409
    assert refused.json()["code"] == "ticket_closed"
    [closing] = desk.events("helpdesk.ticket.closed")
    assert closing["data"]["reference"] == reference

    # Every mail about the ticket carries its reference (the notifier puts it in the subject).
    mails = [e for e in desk.events() if e["type"] in (
        "helpdesk.ticket.created", "helpdesk.ticket.answered", "helpdesk.ticket.information_requested",
        "helpdesk.ticket.resolved", "helpdesk.ticket.closed")]
    assert len(mails) == 5
    assert {m["data"]["reference"] for m in mails} == {reference}

    # The FAQ answered one person, the other went on with a request.
    stats = client.get("/helpdesk/faq/stats", headers=agent).json()
    row = next(r for r in stats["categories"] if r["category"]["slug"] == "compte-entreprise")
    assert (row["resolved"], row["continued"], row["deflection_rate"]) == (1, 1, 0.5)
    assert row["helpful_entries"] == [{"entry_id": several["id"], "question": several["question"], "resolved": 1}]


def test_a_logged_in_request_is_prefilled_and_listed(helpdesk):
    marie = helpdesk.auth("marie")
    context = helpdesk.client.get("/helpdesk/context", headers={**marie, "User-Agent": FIREFOX},
                                  params={"page": "/consultations/2026-042", "assistant_version": "3.2.1"}).json()
    assert context["logged_in"] is True
    assert context["contact"] | {"company": None} == {"email": "marie.curie@example.fr", "first_name": "Marie",
                                                     "last_name": "Curie", "company": None}
    assert context["context"]["applicative"]["user_name"] == "Marie Curie"
    assert context["context"]["applicative"]["user_email"] == "marie.curie@example.fr"
    assert context["context"]["business"] == {"page": "/consultations/2026-042", "resource": None, "summary": None}
    assert context["context"]["technical"]["assistant_version"] == "3.2.1"

    created = helpdesk.created(headers=marie, category_id=category_id("signature-electronique"),
                               severity="blocking", company="Curie SARL", subject="Signature refusée")
    assert created["contact"]["email"] == "marie.curie@example.fr"
    assert created["context"]["applicative"]["company"] == "Curie SARL"
    assert created["subject"] == "Signature refusée"
    [mail] = helpdesk.events("helpdesk.ticket.created")
    assert mail["data"]["requester"]["user_id"] == "7c4f7f0e-3a51-4f43-8f7e-0b8f3f1d2a11"
    mine = helpdesk.client.get("/helpdesk/tickets", headers=marie).json()
    assert [t["reference"] for t in mine["items"]] == [created["reference"]]
    detail = helpdesk.client.get(f"/helpdesk/tickets/{created['id']}", headers=marie).json()
    assert detail["severity_label"] == "Bloquant"
    # Logged in, the requester answers without the link too.
    answered = helpdesk.post_form(f"/helpdesk/tickets/{created['id']}/messages", headers=marie,
                                  message="J'ajoute une précision.")
    assert answered.status_code == 201
    assert [e["kind"] for e in answered.json()["history"]] == ["created", "message"]
