"""« Suivi d'une demande » (issue 16 item 2): the page the helpdesk's mailed link opens without login — the
history without the internal notes, the attachments to download, a reply with attachments, the status —, the
page of an expired or revoked link, and « Mes demandes d'assistance » of a logged-in user. Tickets, internal
notes and the support's answers go through the helpdesk's API; the links are read from the mails the
notifier renders for the events the helpdesk published; each flow with JavaScript on and off, axe 0."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect

from achats.chassis.testing.samples import PDF

from web_support import PASSWORD, assert_accessible, events, log_in, mail_of, on_web, register, screenshot

SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" \
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
AGENT_PASSWORD = "le support répond toujours vite"


def link_in(text: str, path: str = "/assistance/demande/") -> str:
    found = [u for u in re.findall(r"https?://\S+", text) if urlsplit(u).path.startswith(path)]
    assert found, f"no link to {path} in:\n{text}"
    return found[0]


def mailed_link(platform, event_type: str, ticket_id: str) -> str:
    """The follow link of the latest mail of that kind about the ticket, as the notifier renders it."""
    data = [d for d in events(platform["helpdesk_database"], event_type) if d["ticket_id"] == ticket_id][-1]
    return on_web(link_in(mail_of(event_type, data).text), platform["web"])


def category(helpdesk: str) -> str:
    answer = requests.get(f"{helpdesk}/helpdesk/categories", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"][0]["id"]


def create_ticket(helpdesk: str, message: str, bearer: dict | None = None, with_file: bool = False) -> dict:
    data = {"category_id": category(helpdesk), "severity": "major", "frequency": "systematic", "message": message}
    if bearer is None:
        data.update(email="a.durand@example.fr", first_name="Anne", last_name="Durand")
    files = [("attachments", ("ecran.png", SCREENSHOT, "image/png"))] if with_file \
        else [("attachments", ("", b"", "application/octet-stream"))]
    answer = requests.post(f"{helpdesk}/helpdesk/tickets", data=data, files=files, headers=bearer or {}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def agent(platform, monkeypatch) -> dict:
    """A support agent made with identity's own command, logged in through identity's API."""
    from achats.identity import cli

    monkeypatch.setenv("IDENTITY_DATABASE_URL", platform["identity_database"])
    monkeypatch.setenv("IDENTITY_AMQP_URL", "memory://identity-cli")
    assert cli.main(["create-agent", "--login", "alice.support", "--email", "alice@support.example",
                     "--first-name", "Alice", "--last-name", "Martin", "--password", AGENT_PASSWORD]) == 0
    return bearer_of(platform, "alice.support", AGENT_PASSWORD)


def bearer_of(platform, login: str, password: str = PASSWORD) -> dict:
    answer = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": password},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def as_agent(method: str, platform, bearer: dict, path: str, **kwargs) -> dict:
    if "data" in kwargs:  # the helpdesk's forms are multipart
        kwargs["files"] = [("attachments", ("", b"", "application/octet-stream"))]
    answer = requests.request(method, f"{platform['helpdesk']}/helpdesk/agent/tickets/{path}", headers=bearer,
                              timeout=30, **kwargs)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def open_link(browser, link: str, javascript: bool):
    """The mailed link in a fresh browser (nobody logged in); without JavaScript, the code pasted."""
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    answer = page.goto(link)
    assert answer.headers["referrer-policy"] == "no-referrer"
    if not javascript:
        page.get_by_label("Code de suivi").fill(link)
        page.get_by_role("button", name="Afficher la demande").click()
    return context, page


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_follow_page_of_the_mail_without_login(browser, platform_with_helpdesk, monkeypatch, tmp_path,
                                                    javascript):
    platform = platform_with_helpdesk
    support = agent(platform, monkeypatch)
    ticket = create_ticket(platform["helpdesk"], "Le dépôt de mon attestation échoue.", with_file=True)
    as_agent("POST", platform, support, f"{ticket['id']}/notes",
             data={"message": "Note interne : même symptôme que la demande 25031842."})
    link = mailed_link(platform, "helpdesk.ticket.created", ticket["id"])
    token = urlsplit(link).fragment
    context, page = open_link(browser, link, javascript)
    expect(page.get_by_role("heading", name="Historique")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande d’assistance n° {ticket['reference']}")
    expect(page.get_by_text("Le dépôt de mon attestation échoue.")).to_be_visible()
    expect(page.get_by_text("Nouvelle", exact=True)).to_be_visible()  # the status
    # The agent's internal note is never on the requester's page.
    assert "Note interne" not in page.content()
    assert token not in page.content() and token not in page.url
    assert_accessible(page, javascript)

    # The attachment sent with the request, downloaded with its name and type.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Télécharger ecran.png")).click()
    assert download.value.suggested_filename == "ecran.png"
    assert (download.value.path().read_bytes()) == SCREENSHOT
    response = context.request.get(page.url + "/pieces-jointes/" + ticket["history"][0]["attachments"][0]["id"])
    assert response.status == 200 and response.headers["content-type"] == "image/png"

    # A reply with an attachment: stored by the helpdesk, shown in the history.
    document = tmp_path / "attestation.pdf"
    document.write_bytes(PDF)
    page.get_by_label("Message").fill("Voici l'attestation qui est refusée.")
    page.get_by_label("Pièces jointes").set_input_files(str(document))
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_role("status")).to_have_text("Votre réponse a été envoyée à l’équipe support.")
    expect(page.get_by_text("Voici l'attestation qui est refusée.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Télécharger attestation.pdf"))).to_be_visible()
    assert_accessible(page, javascript)
    stored = as_agent("GET", platform, support, ticket["id"])
    reply = next(e for e in stored["history"] if e["message"] == "Voici l'attestation qui est refusée.")
    assert [a["filename"] for a in reply["attachments"]] == ["attestation.pdf"]
    content = requests.get(f"{platform['helpdesk']}/helpdesk/agent/tickets/{ticket['id']}/attachments/"
                           f"{reply['attachments'][0]['id']}", headers=support, timeout=30)
    assert content.content == PDF

    # An empty reply: the helpdesk's message beside « Message » (the browser's own check taken away).
    if javascript:
        page.get_by_label("Message").evaluate("e => e.removeAttribute('required')")
        page.get_by_role("button", name="Envoyer la réponse").click()
        expect(page.locator("#champ-message-erreur")).to_have_text("Ce champ est obligatoire.")
        assert_accessible(page, javascript)

    # The support answers through its API and resolves: the update mail's link shows the new message.
    as_agent("POST", platform, support, f"{ticket['id']}/replies",
             data={"message": "Le fichier est trop ancien : déposez l'attestation de ce trimestre.",
                   "status": "resolved"})
    page.goto(mailed_link(platform, "helpdesk.ticket.answered", ticket["id"]))
    if not javascript:  # the code this browser holds still works: no need to paste the new one
        assert "#" in page.url
    expect(page.get_by_text("Le fichier est trop ancien : déposez l'attestation de ce trimestre.")).to_be_visible()
    expect(page.get_by_text("Résolue", exact=True).first).to_be_visible()
    assert "Note interne" not in page.content()
    assert_accessible(page, javascript)
    if javascript:
        assert "#" not in page.url
        screenshot(page, "suivi-demande-reponse")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_refused_file_then_a_closed_ticket_on_the_follow_page(browser, platform_with_helpdesk, monkeypatch,
                                                                  tmp_path, javascript):
    platform = platform_with_helpdesk
    support = agent(platform, monkeypatch)
    ticket = create_ticket(platform["helpdesk"], "Mon mémoire technique ne s'envoie pas.")
    context, page = open_link(browser, mailed_link(platform, "helpdesk.ticket.created", ticket["id"]), javascript)
    program = tmp_path / "outil.exe"
    program.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200)
    page.get_by_label("Message").fill("Voici l'outil que j'utilise.")
    page.get_by_label("Pièces jointes").set_input_files(str(program))
    page.get_by_role("button", name="Envoyer la réponse").click()
    # The helpdesk's refusal beside « Pièces jointes », what was typed kept, nothing stored.
    expect(page.locator("#champ-attachments-erreur")).to_contain_text(
        "Le type du fichier « outil.exe » n'est pas accepté")
    expect(page.get_by_label("Message")).to_have_value("Voici l'outil que j'utilise.")
    assert_accessible(page, javascript)
    stored = as_agent("GET", platform, support, ticket["id"])
    assert not any(e["message"] == "Voici l'outil que j'utilise." for e in stored["history"])
    # Closed by the support: the page says so and offers no reply any more.
    answer = requests.put(f"{platform['helpdesk']}/helpdesk/agent/tickets/{ticket['id']}/status", headers=support,
                          json={"status": "closed", "comment": "Demande close après notre appel."}, timeout=30)
    assert answer.status_code == 200, answer.text
    page.goto(f"{platform['web']}/assistance/demande/{ticket['reference']}")
    expect(page.get_by_text("Fermée", exact=True).first).to_be_visible()
    expect(page.get_by_text("Cette demande est fermée : vous ne pouvez plus y répondre.")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer la réponse")).to_have_count(0)
    assert_accessible(page, javascript)
    # In English, the same page.
    page.get_by_role("link", name="EN – English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Support request no. {ticket['reference']}")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_text("This request is closed: you can no longer reply to it.")).to_be_visible()
    context.close()


def expire_links(platform, ticket_id: str) -> None:
    """Every follow link of the ticket past its expiry, in the helpdesk's database."""
    engine = sqlalchemy.create_engine(platform["helpdesk_database"])
    now = datetime.now(UTC).replace(tzinfo=None)
    key = ticket_id.replace("-", "")
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("UPDATE follow_links SET expires_at = :past WHERE ticket_id = :id"),
                               {"past": now - timedelta(days=1), "id": key})
            left = connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM follow_links WHERE expires_at > :now AND ticket_id = :id"),
                {"now": now, "id": key}).scalar()
    finally:
        engine.dispose()
    assert left == 0


def assert_invalid_link_page(page, reference: str, javascript: bool) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Lien de suivi expiré ou désactivé")
    expect(page.get_by_role("alert")).to_contain_text("ce lien de suivi n'est plus valide")
    expect(page.get_by_role("heading", name="Obtenir un nouveau lien")).to_be_visible()
    expect(page.get_by_text("Chaque courriel de l’équipe support au sujet de cette demande contient un nouveau "
                            "lien de suivi")).to_be_visible()
    expect(page.get_by_text(f"en rappelant la référence {reference}")).to_be_visible()
    expect(page.get_by_role("link", name="se connecter pour voir mes demandes")).to_be_visible()
    expect(page.get_by_label("Code de suivi")).to_be_visible()
    assert_accessible(page, javascript)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_expired_or_revoked_link_says_so_and_how_to_get_a_new_one(browser, platform_with_helpdesk, monkeypatch,
                                                                     javascript):
    platform = platform_with_helpdesk
    support = agent(platform, monkeypatch)
    # Revoked (a mail forwarded by mistake) while the page is open: the next view says so.
    ticket = create_ticket(platform["helpdesk"], "Mon certificat n'est pas reconnu.")
    link = mailed_link(platform, "helpdesk.ticket.created", ticket["id"])
    context, page = open_link(browser, link, javascript)
    expect(page.get_by_role("heading", name="Historique")).to_be_visible()
    answer = requests.delete(f"{platform['helpdesk']}/helpdesk/tickets/{ticket['id']}/follow-links", headers=support,
                             timeout=30)
    assert answer.status_code == 204, answer.text
    assert page.reload().status == 404
    assert_invalid_link_page(page, ticket["reference"], javascript)
    # The link itself, opened again (the cookie was forgotten), is refused the same way.
    page.goto("about:blank")  # a link from the mail opens as a new page, not a jump within this one
    assert page.goto(link).status == 200
    if not javascript:
        page.get_by_label("Code de suivi").fill(link)
        page.get_by_role("button", name="Afficher la demande").click()
    assert_invalid_link_page(page, ticket["reference"], javascript)
    # The new link of the support's next mail opens the ticket again.
    as_agent("POST", platform, support, f"{ticket['id']}/replies", data={"message": "Voici un nouveau lien."})
    fresh = mailed_link(platform, "helpdesk.ticket.answered", ticket["id"])
    page.goto("about:blank")
    page.goto(fresh)
    if not javascript:
        page.get_by_label("Code de suivi").fill(fresh)
        page.get_by_role("button", name="Afficher la demande").click()
    expect(page.get_by_text("Voici un nouveau lien.")).to_be_visible()
    context.close()

    # Expired: the same page.
    other = create_ticket(platform["helpdesk"], "La page de dépôt reste blanche.")
    expire_links(platform, other["id"])
    context, page = open_link(browser, mailed_link(platform, "helpdesk.ticket.created", other["id"]), javascript)
    assert_invalid_link_page(page, other["reference"], javascript)
    if javascript:
        screenshot(page, "suivi-lien-expire")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_my_assistance_requests_when_logged_in(browser, platform_with_helpdesk, monkeypatch, tmp_path, javascript):
    platform = platform_with_helpdesk
    support = agent(platform, monkeypatch)
    register(platform["identity"])
    marie = bearer_of(platform, "mcurie")
    first = create_ticket(platform["helpdesk"], "Je ne trouve pas la consultation.", bearer=marie, with_file=True)
    second = create_ticket(platform["helpdesk"], "Le coffre-fort refuse mon Kbis.", bearer=marie)
    create_ticket(platform["helpdesk"], "La demande d'une autre personne.")  # anonymous: not Marie's
    as_agent("POST", platform, support, f"{second['id']}/notes", data={"message": "Note interne sur le Kbis."})
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"])
    page.goto(platform["web"] + "/compte")
    page.get_by_role("link", name="Mes demandes d’assistance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes demandes d’assistance")
    rows = page.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and Marie's two, newest first
    expect(rows.nth(1)).to_contain_text(second["reference"])
    expect(rows.nth(1)).to_contain_text(second["subject"])
    expect(rows.nth(1)).to_contain_text("Nouvelle")
    expect(rows.nth(2)).to_contain_text(first["reference"])
    expect(page.get_by_role("columnheader", name="Date")).to_be_visible()
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "mes-demandes-assistance")

    page.get_by_role("link", name=f"Demande n° {second['reference']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande d’assistance n° {second['reference']}")
    expect(page.get_by_text("Le coffre-fort refuse mon Kbis.")).to_be_visible()
    assert "Note interne" not in page.content()
    assert_accessible(page, javascript)
    document = tmp_path / "kbis.pdf"
    document.write_bytes(PDF)
    page.get_by_label("Message").fill("Le Kbis daté de ce mois-ci.")
    page.get_by_label("Pièces jointes").set_input_files(str(document))
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_role("status")).to_have_text("Votre réponse a été envoyée à l’équipe support.")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Télécharger kbis.pdf")).click()
    assert download.value.suggested_filename == "kbis.pdf" and download.value.path().read_bytes() == PDF
    stored = as_agent("GET", platform, support, second["id"])
    assert any(e["message"] == "Le Kbis daté de ce mois-ci." and e["attachments"] for e in stored["history"])

    # The first one, and its attachment; then its follow links switched off from here.
    page.get_by_role("link", name="Retour à mes demandes d’assistance").click()
    page.get_by_role("link", name=f"Demande n° {first['reference']}").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Télécharger ecran.png")).click()
    assert download.value.suggested_filename == "ecran.png"
    link = mailed_link(platform, "helpdesk.ticket.created", first["id"])
    page.get_by_role("button", name="Désactiver les liens de suivi").click()
    expect(page.get_by_role("status")).to_contain_text("Les liens de suivi de cette demande ne fonctionnent plus.")
    assert_accessible(page, javascript)
    stranger, other_page = open_link(browser, link, javascript)
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Lien de suivi expiré ou désactivé")
    stranger.close()
    # Another user's ticket is not reachable by its id.
    assert page.goto(f"{platform['web']}/assistance/mes-demandes/{create_ticket(platform['helpdesk'], 'Autre.')['id']}"
                     ).status == 404
    context.close()


def test_my_assistance_requests_need_a_login(context, platform_with_helpdesk):
    page = context.new_page()
    page.goto(platform_with_helpdesk["web"] + "/assistance/mes-demandes")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    assert "next=/assistance/mes-demandes" in page.url


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_guides_assistance_scenario_end_to_end(browser, platform_with_helpdesk, monkeypatch, javascript):
    """The issue's scenario: the « Demande d'assistance » page (item 1) sent with a screenshot, the creation mail
    received with its link, the follow page opened in another browser without login, a reply, the support's
    answer through its API, the update mail, and the new message on the follow page."""
    from test_assistance_request import PNG, choose, choose_category, go_on, open_assistance_from

    platform = platform_with_helpdesk
    support = agent(platform, monkeypatch)
    requester = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = requester.new_page()
    open_assistance_from(page, platform["web"] + "/se-preparer-a-repondre")
    choose_category(page, javascript)
    go_on(page)
    choose(page, "Bloquant")
    choose(page, "Une fois seulement")
    page.get_by_label("Message").fill("Le bouton de dépôt reste grisé.")
    page.get_by_label("Pièce jointe (ex. : copie d'écran)").set_input_files(
        {"name": "bouton-grise.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_label("Adresse électronique").fill("helene.lefevre@example.fr")
    page.get_by_label("Prénom").fill("Hélène")
    page.get_by_label("Nom", exact=True).fill("Lefèvre")
    page.get_by_role("button", name="Envoyer").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Référence de votre demande :")
    reference = re.search(r"\d{8}", status.inner_text()).group(0)
    requester.close()

    # The mail « Assistance - Création d'une demande - Réf. … » and its link, in another browser, no login.
    data = next(d for d in events(platform["helpdesk_database"], "helpdesk.ticket.created")
                if d["reference"] == reference)
    created = mail_of("helpdesk.ticket.created", data)
    assert created.subject == f"Assistance - Création d'une demande - Réf. {reference}"
    context, follow = open_link(browser, on_web(link_in(created.text), platform["web"]), javascript)
    expect(follow.get_by_role("heading", level=1)).to_have_text(f"Demande d’assistance n° {reference}")
    expect(follow.get_by_text("Le bouton de dépôt reste grisé.")).to_be_visible()
    expect(follow.get_by_role("link", name=re.compile("Télécharger bouton-grise.png"))).to_be_visible()
    follow.get_by_label("Message").fill("Cela se produit aussi avec un autre navigateur.")
    follow.get_by_role("button", name="Envoyer la réponse").click()
    expect(follow.get_by_role("status")).to_be_visible()
    assert_accessible(follow, javascript)

    # The support answers through its API: the update mail, then its message on the follow page.
    as_agent("POST", platform, support, f"{data['ticket_id']}/replies",
             data={"message": "Videz le cache du navigateur puis réessayez."})
    answered = [d for d in events(platform["helpdesk_database"], "helpdesk.ticket.answered")
                if d["ticket_id"] == data["ticket_id"]][-1]
    update = mail_of("helpdesk.ticket.answered", answered)
    assert update.subject == f"Assistance - Réponse à votre demande - Réf. {reference}"
    follow.goto(on_web(link_in(update.text), platform["web"]))
    expect(follow.get_by_text("Cela se produit aussi avec un autre navigateur.")).to_be_visible()
    expect(follow.get_by_text("Videz le cache du navigateur puis réessayez.")).to_be_visible()
    assert_accessible(follow, javascript)
    context.close()
