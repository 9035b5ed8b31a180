"""« Mon compte » against the real identity, in Chromium with JavaScript on and off: personal information,
e-mail change confirmed by the mailed link, password change, deletion (the last administrator told why not)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from web_support import (
    PASSWORD,
    assert_accessible,
    events,
    log_in_with_the_keyboard,
    mail_of,
    on_web,
    register,
    screenshot,
    tab_to,
)

NEW_PASSWORD = "la mer est calme ce soir sur la jetée"
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def logged_in(browser, platform, javascript: bool, login: str = "mcurie", password: str = PASSWORD):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    return page


def me(platform, login: str = "mcurie", password: str = PASSWORD) -> dict:
    tokens = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": password},
                           timeout=30)
    assert tokens.status_code == 200, tokens.text
    answer = requests.get(f"{platform['identity']}/identity/me", timeout=30,
                          headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    return answer.json()


def test_mon_compte_needs_a_login(context, platform):
    page = context.new_page()
    page.goto(platform["web"] + "/compte/mot-de-passe")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    register(platform["identity"])
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Changer de mot de passe")).to_be_visible()


@JS
def test_personal_information_viewed_and_changed(browser, platform, javascript):
    register(platform["identity"])
    page = logged_in(browser, platform, javascript)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", name="Mes informations personnelles")).to_be_visible()
    expect(page.get_by_label("Nom *", exact=True)).to_have_value("Curie")
    expect(page.get_by_label("Prénom")).to_have_value("Marie")
    expect(page.get_by_label("Téléphone")).to_have_value("+33 3 87 00 00 00")
    expect(page.get_by_label("Fax")).to_have_value("")
    expect(page.get_by_text("marie.curie@example.fr")).to_be_visible()
    assert_accessible(page, javascript)
    # Blanks only: the browser lets them through, identity refuses; its message beside the field, the rest kept.
    page.get_by_label("Prénom").fill("   ")
    page.get_by_label("Fax").fill("+33 3 87 00 00 09")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#champ-first-name-erreur")).not_to_be_empty()
    expect(page.get_by_label("Fax")).to_have_value("+33 3 87 00 00 09")
    assert_accessible(page, javascript)
    page.get_by_label("Prénom").fill("Maria")
    page.get_by_label("Téléphone").fill("+33 1 44 27 00 00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Vos informations personnelles ont été enregistrées.")
    expect(page.get_by_label("Prénom")).to_have_value("Maria")
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "mon-compte")
    found = me(platform)
    assert (found["first_name"], found["phone"], found["fax"]) == ("Maria", "+33 1 44 27 00 00", "+33 3 87 00 00 09")
    page.context.close()


@JS
def test_email_change_confirmed_by_the_mailed_link(browser, platform, javascript):
    register(platform["identity"])
    register(platform["identity"], login="bsklodowska", email="bronia@example.fr")
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/compte")
    page.get_by_role("link", name="Changer d’adresse électronique").first.click()
    # An address another account has: identity's message beside the field.
    page.get_by_label("Nouvelle adresse électronique").fill("bronia@example.fr")
    page.get_by_role("button", name="Changer d’adresse électronique").click()
    expect(page.locator("#champ-email-erreur")).to_have_text("Adresse déjà utilisée.")
    expect(page.get_by_label("Nouvelle adresse électronique")).to_have_value("bronia@example.fr")
    assert_accessible(page, javascript)
    page.get_by_label("Nouvelle adresse électronique").fill("marie.sklodowska@example.fr")
    page.get_by_role("button", name="Changer d’adresse électronique").click()
    expect(page.get_by_role("heading", name="Courriel de confirmation envoyé")).to_be_visible()
    assert_accessible(page, javascript)
    page.goto(platform["web"] + "/compte")
    expect(page.get_by_text("marie.sklodowska@example.fr")).to_be_visible()
    expect(page.get_by_text("à confirmer")).to_be_visible()
    data = events(platform["identity_database"], "identity.user.email_change_requested")[-1]
    mail = mail_of("identity.user.email_change_requested", data, "email_verification")
    link = next(word for word in mail.text.split() if "/compte/confirmation?token=" in word)
    page.goto(on_web(link, platform["web"]))
    expect(page.get_by_role("heading", name="Adresse électronique confirmée")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Mon compte").click()
    expect(page.get_by_text("confirmée", exact=True)).to_be_visible()
    assert me(platform)["email"] == "marie.sklodowska@example.fr"
    page.context.close()


@JS
def test_password_change_with_identitys_messages_by_field(browser, platform, javascript):
    register(platform["identity"])
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/compte")
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mot de passe").click()
    expect(page.get_by_role("heading", name="Changer de mot de passe")).to_be_visible()
    assert_accessible(page, javascript)

    def send(current: str, new: str, again: str) -> None:
        page.get_by_label("Mot de passe actuel").fill(current)
        page.get_by_label("Nouveau mot de passe").fill(new)
        page.get_by_label("Confirmation").fill(again)
        page.get_by_role("button", name="Changer de mot de passe").click()

    send("pas le bon", NEW_PASSWORD, NEW_PASSWORD)
    expect(page.locator("#champ-current-password-erreur")).to_have_text("Mot de passe incorrect.")
    assert_accessible(page, javascript)
    send(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    expect(page.locator("#champ-confirmation-erreur")).to_have_text(
        "Les deux mots de passe saisis ne sont pas identiques.")
    send(PASSWORD, "court", "court")
    expect(page.locator("#champ-password-erreur")).to_contain_text("caractères")
    assert_accessible(page, javascript)
    send(PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Mot de passe modifié")).to_be_visible()
    assert_accessible(page, javascript)
    # This session goes on; the new password is the one that logs in.
    page.goto(platform["web"] + "/compte")
    expect(page.get_by_role("heading", name="Mes informations personnelles")).to_be_visible()
    me(platform, password=NEW_PASSWORD)
    page.context.close()


@JS
def test_account_deletion_and_the_last_administrator(browser, platform, javascript):
    register(platform["identity"])  # Marie: the company's first user, its administrator
    register(platform["identity"], login="bsklodowska", email="bronia@example.fr")
    marie = logged_in(browser, platform, javascript)
    marie.goto(platform["web"] + "/compte")
    marie.get_by_role("link", name="Supprimer mon compte").click()
    expect(marie.get_by_role("heading", name="Supprimer mon compte")).to_be_visible()
    assert_accessible(marie, javascript)
    marie.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(marie.get_by_role("alert")).to_contain_text("dernier administrateur du compte de votre entreprise")
    assert_accessible(marie, javascript)

    bronia = logged_in(browser, platform, javascript, "bsklodowska")
    bronia.goto(platform["web"] + "/compte/suppression")
    bronia.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(bronia.get_by_role("heading", name="Compte supprimé")).to_be_visible()
    expect(bronia.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    assert_accessible(bronia, javascript)
    assert not [c for c in bronia.context.cookies() if c["name"] == "achats_session"]
    gone = requests.post(f"{platform['identity']}/identity/sessions",
                         json={"login": "bsklodowska", "password": PASSWORD}, timeout=30)
    assert gone.status_code == 401

    # Alone in the company now, Marie can go.
    marie.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(marie.get_by_role("heading", name="Compte supprimé")).to_be_visible()
    marie.context.close()
    bronia.context.close()


def test_mon_compte_in_english(browser, platform):
    register(platform["identity"])
    page = logged_in(browser, platform, True)
    page.goto(platform["web"] + "/langue/en?next=/compte/mot-de-passe")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.get_by_label("Current password")).to_be_visible()
    menu = page.get_by_role("navigation", name="My account")
    expect(menu.get_by_role("link", name="Delete my account")).to_be_visible()
    page.context.close()


def test_personal_information_with_the_keyboard_only(context, platform):
    register(platform["identity"])
    page = context.new_page()
    log_in_with_the_keyboard(page, platform["web"])
    page.goto(platform["web"] + "/compte")
    tab_to(page, "champ-fax")
    page.keyboard.type("+33 3 87 00 00 09")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Vos informations personnelles ont été enregistrées.")
    assert me(platform)["fax"] == "+33 3 87 00 00 09"
