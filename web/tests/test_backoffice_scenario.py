"""The issue 17 scenario end to end (Chromium, JavaScript on and off, axe 0 on each page reached): a request
arrives, an agent takes it in the back office and asks for information; the notifier mails the question, and
the requester answers through the mail's link, without an account; the agent replies and closes the request,
the notifier mails both; every action is in the ticket's history with the agent's name; a supplier gets 403
on the ticket's page. The mails are read from the notifier's Maildir, as the requester would get them."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from test_backoffice import log_in
from test_backoffice_ticket import agent_view, new_ticket

from web_support import assert_accessible, create_staff, deliver_mails, on_web, register, screenshot


def mailbox(tmp_path: Path, recipient: str) -> list[tuple[str, str]]:
    """(subject, text) of each mail the notifier delivered to ``recipient``, in its Maildir, oldest first."""
    found = []
    for path in sorted((tmp_path / "mail" / "new").iterdir(), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if recipient in str(message["To"]):
            found.append((str(message["Subject"]), message.get_body(("plain",)).get_content()))
    return found


def link_in(text: str) -> str:
    [link] = {u for u in re.findall(r"https?://\S+", text) if urlsplit(u).path.startswith("/assistance/demande/")}
    return link


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_agent_takes_asks_the_requester_answers_the_agent_replies_and_closes(
        browser, platform_with_notifier, tmp_path, javascript):
    platform = platform_with_notifier
    create_staff(platform["identity"])
    ticket = new_ticket(platform, "Le dépôt de mon attestation échoue avec un message d'erreur.")
    reference = ticket["reference"]

    # The agent: the new request in the queue, taken, a question asked.
    agent_context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    agent = agent_context.new_page()
    log_in(agent, platform["web"], "agent.dupont")
    expect(agent.get_by_role("navigation", name="Nombre de demandes par statut")
           .get_by_role("link", name="Nouvelle : 1")).to_be_visible()
    agent.get_by_role("link", name=reference).click()
    expect(agent.get_by_role("heading", level=1)).to_have_text(f"Demande n° {reference}")
    assert_accessible(agent, javascript)
    agent.get_by_role("button", name="Prendre en charge").click()
    expect(agent.locator("#statut-actuel")).to_have_text("En cours de traitement")
    agent.get_by_label("Message au demandeur").fill("Quel est le message d'erreur affiché ?")
    agent.get_by_role("button", name="Demander des informations").click()
    expect(agent.get_by_text("Votre demande d’informations a été envoyée au demandeur par courriel.")).to_be_visible()
    expect(agent.locator("#statut-actuel")).to_have_text("En attente du demandeur")
    assert_accessible(agent, javascript)

    # The notifier mails it; the requester opens the mail's link, no account.
    deliver_mails(platform)
    subject, text = mailbox(tmp_path, "a.durand@example.fr")[-1]
    assert subject == f"Assistance - Demande de complément d'information - Réf. {reference}"
    assert "Quel est le message d'erreur affiché ?" in text
    link = on_web(link_in(text), platform["web"])
    requester_context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    requester = requester_context.new_page()
    requester.goto(link)
    if not javascript:  # the code pasted, as the page says
        requester.get_by_label("Code de suivi").fill(link)
        requester.get_by_role("button", name="Afficher la demande").click()
    expect(requester.get_by_text("Quel est le message d'erreur affiché ?")).to_be_visible()
    expect(requester.get_by_text("En attente de votre réponse", exact=True)).to_be_visible()
    requester.get_by_label("Message").fill("« Le fichier dépasse la taille autorisée ».")
    requester.get_by_role("button", name="Envoyer la réponse").click()
    expect(requester.get_by_text("Votre réponse a été envoyée à l’équipe support.")).to_be_visible()
    assert_accessible(requester, javascript)

    # The agent sees the answer, replies and closes in one go (the reply form works without JavaScript too).
    agent.goto(platform["web"] + f"/back-office/demandes/{ticket['id']}")
    expect(agent.get_by_text("« Le fichier dépasse la taille autorisée ».")).to_be_visible()
    expect(agent.locator("#statut-actuel")).to_have_text("En cours de traitement")
    agent.get_by_label("Message au demandeur").fill("Compressez le fichier sous 5 Mo puis déposez-le à nouveau.")
    agent.get_by_label("Après la réponse").select_option(label="Fermer la demande")
    agent.get_by_role("button", name="Répondre", exact=True).click()
    expect(agent.get_by_text("Votre réponse a été envoyée au demandeur par courriel.")).to_be_visible()
    expect(agent.locator("#statut-actuel")).to_have_text("Fermée")
    deliver_mails(platform)
    agent.reload()
    mails = agent.get_by_role("table", name="Envois de courriels").locator("tbody tr")
    expect(mails).to_have_count(4)  # created, information requested, answered, closed
    for row in range(4):
        expect(mails.nth(row)).to_contain_text("Envoyé le ")
    screenshot(agent, "back-office-demande-fermee")
    assert_accessible(agent, javascript)
    subjects = [s for s, _ in mailbox(tmp_path, "a.durand@example.fr")]
    assert subjects[-2:] == [f"Assistance - Réponse à votre demande - Réf. {reference}",
                             f"Assistance - Demande clôturée - Réf. {reference}"]

    # The requester reads the answer; the request is closed for them too.
    requester.reload()
    expect(requester.get_by_text("Compressez le fichier sous 5 Mo puis déposez-le à nouveau.")).to_be_visible()
    expect(requester.get_by_role("button", name="Envoyer la réponse")).to_have_count(0)

    # The audit: each action in the ticket's history, who and when.
    history = agent_view(platform, agent, ticket["id"])["history"]
    assert [(e["kind"], e["author"]["kind"], e["author"]["name"]) for e in history] == [
        ("created", "requester", "Anne Durand"),
        ("assigned", "agent", "Camille Dupont"),
        ("status_changed", "agent", "Camille Dupont"),  # new → in progress, by taking it
        ("information_request", "agent", "Camille Dupont"),
        ("status_changed", "agent", "Camille Dupont"),  # → waiting for the requester
        ("message", "requester", "Anne Durand"),
        ("status_changed", "requester", None),  # → in progress, by the answer
        ("reply", "agent", "Camille Dupont"),
        ("status_changed", "agent", "Camille Dupont"),  # → closed
    ]
    assert all(e["created_at"] for e in history)
    agent_context.close()
    requester_context.close()

    # A supplier: 403 on the ticket's page.
    register(platform["identity"])
    supplier_context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    supplier = supplier_context.new_page()
    log_in(supplier, platform["web"], "mcurie", start=f"/back-office/demandes/{ticket['id']}")
    expect(supplier.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert supplier.goto(platform["web"] + f"/back-office/demandes/{ticket['id']}").status == 403
    assert_accessible(supplier, javascript)
    supplier_context.close()
