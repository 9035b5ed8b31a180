"""The back office's ticket page (issue 17 item 2): opened from the queue, the requester's three contexts, the
history with the internal note apart, attachments downloaded through the web app (an image shown only as the
helpdesk's content check says), and each action as a form — take, assign, reply, ask for information, internal
note, status, merge, revoke and send the follow link —, refusals beside their field with nothing changed;
JavaScript on and off, axe 0."""

from __future__ import annotations

import uuid

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect
from test_backoffice import log_in

from web_support import assert_accessible, create_staff, events, register, screenshot

SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" \
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:83.0) Gecko/20100101 Firefox/83.0"


def new_ticket(platform, message: str, *, files=None, email: str = "a.durand@example.fr", **extra) -> dict:
    """A request through the helpdesk's public API, as the « Demande d'assistance » page sends it."""
    category = requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"][0]["id"]
    answer = requests.post(f"{platform['helpdesk']}/helpdesk/tickets", data={
        "category_id": category, "severity": "major", "frequency": "systematic", "message": message,
        "email": email, "first_name": "Anne", "last_name": "Durand", "company": "Durand SARL", **extra},
        files=files or [("attachments", ("", b"", "application/octet-stream"))],
        headers={"User-Agent": FIREFOX}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def agent_view(platform, page, ticket_id: str) -> dict:
    """The ticket as the helpdesk holds it, read with the agent's own session (the web app's download route
    is not used: the helpdesk's API with a fresh token of identity)."""
    token = requests.post(f"{platform['identity']}/identity/sessions",
                          json={"login": "agent.dupont", "password": "un cheval blanc galope dans la plaine"},
                          timeout=30).json()["access_token"]
    answer = requests.get(f"{platform['helpdesk']}/helpdesk/agent/tickets/{ticket_id}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def history(platform, page, ticket_id: str) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["message"]) for e in agent_view(platform, page, ticket_id)["history"]]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_ticket_page_and_its_actions(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    create_staff(platform["identity"])
    create_staff(platform["identity"], "agent.martin", "agent.martin@example.fr", first_name="Louis",
                 last_name="Martin")
    kept = new_ticket(platform, "Le dépôt échoue aussi pour moi.", email="b.leroy@example.fr")
    ticket = new_ticket(platform, "Le dépôt de mon attestation échoue.\nDeuxième ligne.",
                        page="/mon-entreprise/coffre-fort", resource="Attestation URSSAF", files=[
                            ("attachments", ("ecran.png", SCREENSHOT, "image/png")),
                            ("attachments", ("faux.png", b"Bonjour, ceci est du texte.\n", "image/png"))])
    # Louis Martin has worked in the helpdesk once: he is among the agents a ticket can be given to.
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "agent.martin")
    page.get_by_role("link", name=kept["reference"]).click()
    page.get_by_role("button", name="Prendre en charge").click()
    context.close()

    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont")
    page.get_by_role("link", name=ticket["reference"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande n° {ticket['reference']}")
    # The three contexts.
    applicative = page.get_by_role("region", name="Contexte applicatif")
    expect(applicative).to_contain_text("Non connu")
    business = page.get_by_role("region", name="Contexte métier")
    expect(business).to_contain_text("/mon-entreprise/coffre-fort")
    expect(business).to_contain_text("Attestation URSSAF")
    technical = page.get_by_role("region", name="Contexte technique")
    expect(technical).to_contain_text("Windows 10")
    expect(technical).to_contain_text("Firefox 83")
    expect(page.get_by_text("Deuxième ligne.", exact=False)).to_be_visible()
    # The PNG is shown (the helpdesk found a PNG in it); the text named .png is only a download.
    expect(page.get_by_role("img", name="Aperçu de ecran.png")).to_be_visible()
    expect(page.get_by_role("img", name="Aperçu de faux.png")).to_have_count(0)
    expect(page.get_by_role("link", name="Télécharger faux.png")).to_contain_text("text/plain")
    assert_accessible(page, javascript)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger ecran.png").click()
    assert download.value.suggested_filename == "ecran.png"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == SCREENSHOT
    href = page.get_by_role("link", name="Télécharger faux.png").get_attribute("href")
    for address in (href, href + "?apercu=1"):  # the preview of a non-image is a download all the same
        answer = context.request.get(platform["web"] + address)
        assert answer.status == 200 and answer.body() == b"Bonjour, ceci est du texte.\n"
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.headers["x-content-type-options"] == "nosniff"
    image = context.request.get(platform["web"] + page.get_by_role("img", name="Aperçu de ecran.png")
                                .get_attribute("src"))
    assert image.headers["content-type"] == "image/png" and image.headers["content-disposition"].startswith("inline")

    # Take it, then give it to Louis Martin.
    page.get_by_role("button", name="Prendre en charge").click()
    expect(page.get_by_text("Vous avez pris la demande en charge.")).to_be_visible()
    expect(page.locator("#attribuee-a")).to_have_text("Camille Dupont")
    expect(page.locator("#statut-actuel")).to_have_text("En cours de traitement")
    page.get_by_label("Attribuer à").select_option(label="Louis Martin")
    page.get_by_role("button", name="Attribuer", exact=True).click()
    expect(page.locator("#attribuee-a")).to_have_text("Louis Martin")

    # An empty reply: the helpdesk's message beside the field, nothing sent.
    before = history(platform, page, ticket["id"])
    if javascript:  # the browser's own check stops it first: take it away, as someone could
        page.locator("#champ-reponse").evaluate("e => e.removeAttribute('required')")
    page.get_by_label("Message au demandeur").fill("   ")
    page.get_by_role("button", name="Répondre", exact=True).click()
    expect(page.locator("#champ-reponse-erreur")).to_have_text("Ce champ est obligatoire.")
    assert history(platform, page, ticket["id"]) == before
    assert_accessible(page, javascript)

    # An internal note: visibly apart, never in an event.
    page.get_by_label("Texte de la note interne").fill("Même symptôme que la demande de B. Leroy.")
    page.get_by_role("button", name="Ajouter une note interne").click()
    note = page.locator(".fr-callout", has_text="Même symptôme que la demande de B. Leroy.")
    expect(note.get_by_text("Note interne, jamais envoyée")).to_be_visible()
    assert "Même symptôme" not in str(events(platform["helpdesk_database"], "helpdesk.ticket.answered"))

    # A reply, mailed through the helpdesk's event.
    page.get_by_label("Message au demandeur").fill("Pouvez-vous réessayer avec un fichier de moins de 5 Mo ?")
    page.get_by_role("button", name="Répondre", exact=True).click()
    expect(page.get_by_text("Votre réponse a été envoyée au demandeur par courriel.")).to_be_visible()
    [answered] = [d for d in events(platform["helpdesk_database"], "helpdesk.ticket.answered")
                  if d["ticket_id"] == ticket["id"]]
    assert answered["message_excerpt"] == "Pouvez-vous réessayer avec un fichier de moins de 5 Mo ?"

    # Status: a comment for the requester.
    page.get_by_label("Nouveau statut").select_option(label="Résolue")
    page.get_by_label("Commentaire au demandeur").fill("Corrigé en production.")
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.locator("#statut-actuel")).to_have_text("Résolue")

    # The follow links: revoked, then a new one mailed.
    expect(page.locator("#liens-actifs")).not_to_have_text("0")
    page.get_by_role("button", name="Révoquer le lien de suivi").click()
    expect(page.locator("#liens-actifs")).to_have_text("0")
    page.get_by_role("button", name="Envoyer un nouveau lien").click()
    expect(page.get_by_text("Un nouveau lien de suivi a été envoyé au demandeur par courriel.")).to_be_visible()
    expect(page.locator("#liens-actifs")).to_have_text("1")
    assert [d["requester"]["email"] for d in events(platform["helpdesk_database"],
                                                   "helpdesk.ticket.follow_link_sent")] == ["a.durand@example.fr"]

    # Merge: an unknown number beside the field, nothing changed; then the right one.
    before = agent_view(platform, page, ticket["id"])
    page.get_by_label("Numéro de la demande à conserver").fill("99999999")
    page.get_by_role("button", name="Fusionner avec").click()
    expect(page.locator("#champ-reference-erreur")).to_have_text("Aucune demande ne porte le numéro « 99999999 ».")
    expect(page.get_by_label("Numéro de la demande à conserver")).to_have_value("99999999")
    assert agent_view(platform, page, ticket["id"]) == before
    assert_accessible(page, javascript)
    page.get_by_label("Numéro de la demande à conserver").fill(kept["reference"])
    page.get_by_role("button", name="Fusionner avec").click()
    expect(page.get_by_text("La demande a été fusionnée et fermée.")).to_be_visible()
    expect(page.locator("#statut-actuel")).to_have_text("Fermée")
    expect(page.get_by_role("button", name="Répondre", exact=True)).to_have_count(0)
    screenshot(page, "back-office-demande")
    assert_accessible(page, javascript)
    # Every action is in the ticket's history, with who did it.
    done = [(e["kind"], e["author"]["name"]) for e in agent_view(platform, page, ticket["id"])["history"]]
    assert [k for k, _ in done] == ["created", "assigned", "status_changed", "assigned", "note", "reply",
                                    "status_changed", "links_revoked", "link_sent", "merged_into", "status_changed"]
    assert {name for kind, name in done if kind != "created"} == {"Camille Dupont"}
    page.get_by_role("link", name=f"ouvrir la demande n° {kept['reference']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande n° {kept['reference']}")
    expect(page.get_by_text(f"Demande n° {ticket['reference']}", exact=False).first).to_be_visible()
    context.close()


def test_a_supplier_gets_403_on_a_ticket_page(context, platform_with_helpdesk):
    platform = platform_with_helpdesk
    ticket = new_ticket(platform, "Une demande.")
    register(platform["identity"])
    page = context.new_page()
    log_in(page, platform["web"], "mcurie", start=f"/back-office/demandes/{ticket['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert page.goto(platform["web"] + f"/back-office/demandes/{ticket['id']}").status == 403
    assert context.request.get(platform["web"] + f"/back-office/demandes/{ticket['id']}/pieces-jointes/"
                               "00000000-0000-4000-8000-000000000000").status == 403


def _mark(platform, template: str, **values) -> None:
    """A delivery of that template put in the state the notifier's sender records (a 5xx: failed; a 4xx: a new
    try later), without an SMTP server to refuse it."""
    engine = sqlalchemy.create_engine(platform["notifier_database"])
    try:
        with engine.begin() as connection:
            assert connection.execute(sqlalchemy.text(
                "UPDATE deliveries SET " + ", ".join(f"{k} = :{k}" for k in values) + " WHERE template = :template"),
                {**values, "template": template}).rowcount == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_mails_of_a_ticket_and_renvoyer(browser, platform_with_notifier, javascript):
    from web_support import deliver_mails

    platform = platform_with_notifier
    create_staff(platform["identity"])
    ticket = new_ticket(platform, "Le dépôt échoue.")
    other = new_ticket(platform, "Une autre demande.", email="c.autre@example.fr")
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont", start=f"/back-office/demandes/{ticket['id']}")
    mails = page.get_by_role("region", name="Envois de courriels")
    expect(mails.get_by_text("Aucun courriel n’a été envoyé pour cette demande.")).to_be_visible()
    page.get_by_label("Message au demandeur").fill("Quel navigateur utilisez-vous ?")
    page.get_by_role("button", name="Demander des informations").click()
    page.get_by_label("Message au demandeur").fill("Merci, c'est corrigé.")
    page.get_by_role("button", name="Répondre", exact=True).click()
    deliver_mails(platform, send=False)
    deliver_mails(platform)  # the three mails of the ticket and the other's, sent to the Maildir
    _mark(platform, "ticket_answered", status="failed", sent_at=None, last_error="550 5.1.1 Utilisateur inconnu",
          attempts=1)
    _mark(platform, "ticket_information_requested", status="queued", sent_at=None, attempts=2,
          last_error="451 4.3.0 Réessayez plus tard", next_attempt_at="2999-01-01 00:00:00.000000")
    page.reload()
    table = page.get_by_role("table", name="Envois de courriels")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)  # not the other ticket's
    reference = ticket["reference"]
    answered = rows.filter(has_text=f"Assistance - Réponse à votre demande - Réf. {reference}")
    expect(answered).to_contain_text("a.durand@example.fr")
    expect(answered).to_contain_text("Échec")
    expect(answered).to_contain_text("550 5.1.1 Utilisateur inconnu")
    asked = rows.filter(has_text=f"Assistance - Demande de complément d'information - Réf. {reference}")
    expect(asked).to_contain_text("Nouvel essai prévu")
    expect(asked).to_contain_text("2 essais")
    created = rows.filter(has_text=f"Assistance - Création d'une demande - Réf. {reference}")
    expect(created).to_contain_text("Envoyé")
    expect(created).to_contain_text("Envoyé le ")
    expect(table.get_by_role("button", name="Renvoyer")).to_have_count(1)  # the failed one only
    assert other["reference"] not in table.inner_text()
    assert_accessible(page, javascript)
    screenshot(page, "back-office-envois-de-courriels")

    answered.get_by_role("button", name="Renvoyer").click()
    expect(page.get_by_text("Le courriel sera envoyé à nouveau.")).to_be_visible()
    expect(answered).to_contain_text("Nouvel essai prévu")
    deliver_mails(platform)
    page.goto(page.url.split("#")[0])  # (a reload of an address with a fragment, JavaScript off, loses the page)
    expect(answered).to_contain_text("Envoyé le ")
    expect(table.get_by_role("button", name="Renvoyer")).to_have_count(0)
    assert_accessible(page, javascript)
    context.close()


def test_the_ticket_page_says_so_when_the_notifier_is_down(context, platform_with_helpdesk):
    platform = platform_with_helpdesk  # no notifier: its address is a closed port
    create_staff(platform["identity"])
    ticket = new_ticket(platform, "Le dépôt échoue.")
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont", start=f"/back-office/demandes/{ticket['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande n° {ticket['reference']}")
    expect(page.get_by_text("Les envois de courriels sont momentanément indisponibles.")).to_be_visible()


def test_renvoyer_refuses_a_mail_of_another_ticket(browser, platform_with_notifier):
    from web_support import deliver_mails

    platform = platform_with_notifier
    create_staff(platform["identity"])
    ticket = new_ticket(platform, "Le dépôt échoue.")
    other = new_ticket(platform, "Une autre demande.", email="c.autre@example.fr")
    deliver_mails(platform)
    engine = sqlalchemy.create_engine(platform["notifier_database"])
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE deliveries SET status = 'failed'"))
        theirs = connection.execute(sqlalchemy.text("SELECT id FROM deliveries WHERE recipient = 'c.autre@example.fr'")
                                    ).scalar_one()
    engine.dispose()
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont", start=f"/back-office/demandes/{other['id']}")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    delivery = str(uuid.UUID(str(theirs)))
    answer = context.request.post(f"{platform['web']}/back-office/demandes/{ticket['id']}/courriels/{delivery}/renvoi",
                                  form={"csrf_token": token}, max_redirects=0)
    assert answer.status == 404
    context.close()
