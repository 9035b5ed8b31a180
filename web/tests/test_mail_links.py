"""The links the mails carry open their page: e-mail confirmation, new password, the helpdesk's follow link —
each read from the mail the notifier renders for the event the service really published, opened in
Chromium with JavaScript on and off; and every link of our origin in every notifier template."""

from __future__ import annotations

import copy
import re
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from web_support import (
    CCAS_SIRET,
    PASSWORD,
    PUBLIC,
    assert_accessible,
    events,
    mail_of,
    on_web,
    register,
    screenshot,
    tab_to,
)

ERROR_PAGE = re.compile("non trouvée|introuvable|erreur|indisponible", re.I)
NEW_PASSWORD = "la mer est calme ce soir sur la jetée"


def register_unconfirmed(identity_url: str, login: str, email: str) -> None:
    """A registration whose confirmation link is left unused (web_support.register follows it)."""
    answer = requests.post(f"{identity_url}/identity/registrations", json={
        "company": {"source": "insee"}, "establishment": {"siret": CCAS_SIRET},
        "user": {"last_name": "Sklodowska", "first_name": "Bronia", "email": email, "phone": "+33 3 87 00 00 01"},
        "credentials": {"login": login, "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text


def link_in(text: str, path: str) -> str:
    found = [u for u in re.findall(r"https?://\S+", text) if urlsplit(u).path.startswith(path)]
    assert found, f"no link to {path} in:\n{text}"
    return found[0]


def registered_mail(platform, email: str) -> str:
    data = next(d for d in reversed(events(platform["identity_database"], "identity.user.registered"))
                if d["email"] == email)
    return mail_of("identity.user.registered", data, "account_created").text


def new_context(browser, javascript: bool):
    return browser.new_context(locale="fr-FR", java_script_enabled=javascript)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_confirmation_link_of_the_mail_confirms_the_address_once(browser, platform, javascript):
    register_unconfirmed(platform["identity"], "bsklodowska", "bronia@example.fr")
    link = link_in(registered_mail(platform, "bronia@example.fr"), "/compte/confirmation")
    context = new_context(browser, javascript)
    page = context.new_page()
    answer = page.goto(on_web(link, platform["web"]))
    assert answer.status == 200 and answer.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", name="Adresse électronique confirmée")).to_be_visible()
    assert_accessible(page, javascript)
    page.get_by_role("link", name="Se connecter").first.click()
    page.get_by_label("Identifiant").fill("bsklodowska")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    # The same link again: identity's message, and how to get a new mail.
    again = page.goto(on_web(link, platform["web"]))
    assert again.status == 400
    expect(page.get_by_role("heading", name="Lien de confirmation invalide")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("n'est plus valide")
    expect(page.get_by_label("Identifiant ou adresse électronique")).to_be_visible()
    expect(page.get_by_role("button", name="Recevoir un nouveau lien")).to_be_visible()
    assert_accessible(page, javascript)
    # A link cut short in the mail client (no token) says so.
    assert page.goto(platform["web"] + "/compte/confirmation").status == 400
    expect(page.get_by_role("alert")).to_contain_text("incomplet")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_new_password_from_the_link_of_the_reset_mail(browser, platform, javascript):
    register(platform["identity"])
    context = new_context(browser, javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/compte/mot-de-passe-oublie")
    page.get_by_label("Identifiant ou adresse électronique").fill("mcurie")
    page.get_by_role("button", name="Envoyer le lien").click()
    expect(page.get_by_role("heading", name="Mot de passe oublié")).to_be_visible()
    data = events(platform["identity_database"], "identity.password_reset.requested")[-1]
    mail = mail_of("identity.password_reset.requested", data)
    link = link_in(mail.text, "/compte/mot-de-passe/nouveau")
    assert f'href="{link}"' in mail.html
    answer = page.goto(on_web(link, platform["web"]))
    assert answer.status == 200 and answer.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", name="Choisir un nouveau mot de passe")).to_be_visible()
    assert_accessible(page, javascript)
    if javascript:  # identity's published policy, explained as the user types
        page.get_by_label("Nouveau mot de passe").fill("court")
        expect(page.locator("#champ-password-regles li").first).to_be_visible()
        screenshot(page, "nouveau-mot-de-passe")
    # Typed twice differently: said beside « Confirmation ».
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Confirmation").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.locator("#champ-confirmation-erreur")).to_have_text(
        "Les deux mots de passe saisis ne sont pas identiques.")
    assert_accessible(page, javascript)
    # A password identity refuses: its message beside the field, the link still good.
    page.get_by_label("Nouveau mot de passe").fill("court")
    page.get_by_label("Confirmation").fill("court")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.locator("#champ-password-erreur")).to_contain_text("caractères")
    assert_accessible(page, javascript)
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", name="Mot de passe modifié")).to_be_visible()
    assert_accessible(page, javascript)
    page.get_by_role("main").get_by_role("link", name="Se connecter").click()
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    # The link is used up: identity's message, and the way to a new one.
    page.goto(on_web(link, platform["web"]))
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", name="Lien de réinitialisation invalide")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Mot de passe oublié")
    expect(page.get_by_role("main").get_by_role("link", name="Mot de passe oublié")).to_be_visible()
    assert_accessible(page, javascript)
    context.close()


def create_ticket(helpdesk_url: str, subject_message: str = "Je ne parviens pas à déposer mon attestation.") -> dict:
    categories = requests.get(f"{helpdesk_url}/helpdesk/categories", timeout=30)
    assert categories.status_code == 200, categories.text
    body = categories.json()
    items = body["items"] if isinstance(body, dict) else body
    leaf = next(c for c in items if not c.get("children")) if items else None
    answer = requests.post(f"{helpdesk_url}/helpdesk/tickets", data={
        "category_id": leaf["id"], "severity": "major", "frequency": "systematic", "message": subject_message,
        "email": "a.durand@example.fr", "first_name": "Anne", "last_name": "Durand"},
        files=[("attachments", ("", b"", "application/octet-stream"))], timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_follow_link_of_a_ticket_mail_shows_the_ticket(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    ticket = create_ticket(platform["helpdesk"])
    data = next(d for d in events(platform["helpdesk_database"], "helpdesk.ticket.created")
                if d["ticket_id"] == ticket["id"])
    link = link_in(mail_of("helpdesk.ticket.created", data).text, "/assistance/demande/")
    token = urlsplit(link).fragment
    assert token
    context = new_context(browser, javascript)
    page = context.new_page()
    answer = page.goto(on_web(link, platform["web"]))
    assert answer.status == 200 and answer.headers["referrer-policy"] == "no-referrer"
    heading = page.get_by_role("heading", name=f"Demande d’assistance n° {ticket['reference']}")
    expect(heading).to_be_visible()
    if not javascript:
        # The fragment never reaches the server: the page asks for it, in a labelled field.
        assert_accessible(page, javascript)
        page.get_by_label("Code de suivi").fill("pas-le-bon")
        page.get_by_role("button", name="Afficher la demande").click()
        expect(page.get_by_role("alert")).to_contain_text("n'existe pas ou ce lien de suivi n'est plus valide")
        assert_accessible(page, javascript)
        page.get_by_label("Code de suivi").fill(link)  # the whole link pasted works too
        page.get_by_role("button", name="Afficher la demande").click()
    expect(page.get_by_role("heading", name="Historique")).to_be_visible()
    expect(page.get_by_text(ticket["subject"]).first).to_be_visible()
    expect(page.get_by_text("Je ne parviens pas à déposer mon attestation.")).to_be_visible()
    assert token not in page.url and "#" not in page.url
    assert token not in page.content()
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "suivi-demande")
    context.close()


def test_every_link_of_our_origin_in_every_mail_opens_a_page(browser, platform_with_helpdesk):
    """Each notifier template rendered with realistic values — the examples of its contract, with the links
    the services really made (fresh tokens) — and each link of our origin, in its text and its HTML, opened in
    Chromium: a page of the site, never a 404 nor a JSON answer."""
    from achats.notifier import contract
    from achats.notifier.mails import TEMPLATES

    platform = platform_with_helpdesk
    identity, db = platform["identity"], platform["identity_database"]
    register(identity)  # Marie: she changes her address below
    login = requests.post(f"{identity}/identity/sessions", json={"login": "mcurie", "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text  # register() confirmed the address with the mail's link
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert requests.patch(f"{identity}/identity/me", json={"email": "marie.sklodowska@example.fr"}, headers=bearer,
                          timeout=30).status_code == 200
    assert requests.post(f"{identity}/identity/password-resets", json={"login_or_email": "mcurie"},
                         timeout=30).status_code == 202
    register_unconfirmed(identity, "bsklodowska", "bronia@example.fr")
    create_ticket(platform["helpdesk"])
    real = {
        "identity.user.registered": events(db, "identity.user.registered")[-1],
        "identity.user.email_change_requested": events(db, "identity.user.email_change_requested")[-1],
        "identity.password_reset.requested": events(db, "identity.password_reset.requested")[-1],
    }
    follow_url = events(platform["helpdesk_database"], "helpdesk.ticket.created")[-1]["follow_url"]

    page = browser.new_context(locale="fr-FR").new_page()
    opened: dict[str, int] = {}  # the kinds of pages opened
    for name, template in sorted(TEMPLATES.items()):
        event_type = template.events[0]
        data = copy.deepcopy(contract.examples()[event_type]["data"])
        for key in ("verification_url", "reset_url"):
            if key in data:
                data[key] = real[event_type][key]
        if "follow_url" in data:
            data["follow_url"] = follow_url
        mail = mail_of(event_type, data, name)
        links = re.findall(r"https?://[^\s)\"'<>]+", mail.text) + re.findall(r'href="([^"]+)"', mail.html)
        ours = list(dict.fromkeys(u.replace("&amp;", "&") for u in links if u == PUBLIC or u.startswith(PUBLIC + "/")))
        assert ours, f"{name}: no link to the platform"
        for url in ours:
            answer = page.goto(on_web(url, platform["web"]))
            assert answer is not None and answer.status == 200, f"{name}: {url} -> {answer and answer.status}"
            assert answer.headers["content-type"].startswith("text/html"), f"{name}: {url}"
            page.wait_for_load_state()
            expect(page.get_by_role("heading", level=1)).not_to_have_text(ERROR_PAGE)
            assert_accessible(page)
            path = urlsplit(url).path
            opened[path.rsplit("/", 1)[0] if "/demande/" in path else path.rstrip("/")] = 1
    # Every kind of link the mails carry was opened: home, e-mail confirmation, new password, ticket follow.
    assert set(opened) >= {"", "/compte/confirmation", "/compte/mot-de-passe/nouveau", "/assistance/demande"}
    page.context.close()


def test_the_mail_link_pages_are_translated(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/langue/en?next=/compte/mot-de-passe/nouveau?token=abc")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.get_by_label("New password")).to_be_visible()
    expect(page.get_by_role("button", name="Save the password")).to_be_visible()
    page.goto(web_alone + "/assistance/demande/25031842")
    expect(page.get_by_role("heading", name="Support request no. 25031842")).to_be_visible()
    expect(page.get_by_label("Follow-up code")).to_be_visible()
    # Not a reference the helpdesk makes: the site's 404 page.
    assert page.goto(web_alone + "/assistance/demande/pas-une-reference").status == 404



def test_a_new_password_with_the_keyboard_only(context, platform):
    register(platform["identity"])
    assert requests.post(f"{platform['identity']}/identity/password-resets", json={"login_or_email": "mcurie"},
                         timeout=30).status_code == 202
    data = events(platform["identity_database"], "identity.password_reset.requested")[-1]
    link = link_in(mail_of("identity.password_reset.requested", data).text, "/compte/mot-de-passe/nouveau")
    page = context.new_page()
    page.goto(on_web(link, platform["web"]))
    tab_to(page, "champ-password")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "champ-confirmation"
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Enregistrer le mot de passe"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Mot de passe modifié")).to_be_visible()
