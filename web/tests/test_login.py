"""« Se connecter » / « Se déconnecter » against the real identity service, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, register, tab_to


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_login_then_logout_with_the_session_kept_server_side(browser, platform, javascript):
    register(platform["identity"])
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page, javascript)
    cookie = next(c for c in context.cookies() if c["name"] == "achats_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # The cookie is an opaque id: no token in it, none in the page.
    assert cookie["value"].count(".") == 0 and "eyJ" not in page.content()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible()
    assert_accessible(page, javascript)
    page.goto(platform["web"] + "/")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    context.close()


def test_a_wrong_password_shows_identitys_message_and_keeps_the_identifiant(context, platform):
    register(platform["identity"])
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("incorrect")
    expect(page.get_by_label("Identifiant")).to_have_value("mcurie")
    assert_accessible(page)
    # Too many tries: identity's lockout message, word for word.
    for _ in range(6):
        page.get_by_label("Mot de passe").fill("pas le bon")
        # Each try waits for its answer page: a click during the previous navigation would cancel it.
        with page.expect_navigation():
            page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Trop de tentatives de connexion")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_password_forgotten_gives_the_same_answer_for_every_identifiant(browser, platform, javascript):
    register(platform["identity"])
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    answers = []
    for identifiant in ("mcurie", "personne-de-ce-nom"):
        page.goto(platform["web"] + "/")
        page.get_by_role("link", name="Mot de passe oublié").click()
        assert_accessible(page, javascript)
        page.get_by_label("Identifiant ou adresse électronique").fill(identifiant)
        page.get_by_role("button", name="Envoyer le lien").click()
        expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
        assert_accessible(page, javascript)
        answers.append(page.get_by_role("main").inner_text())
    assert answers[0] == answers[1]
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_account_not_yet_confirmed_is_told_why_beside_the_form(browser, platform, javascript):
    register(platform["identity"], confirmed=False)
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # identity's message, then the way to a new mail (tests/test_resend_link.py follows it).
    expect(page.get_by_role("alert").locator("p").first).to_have_text(
        "Votre adresse électronique n'est pas encore confirmée : ouvrez le lien du courriel de confirmation, "
        "ou demandez un nouveau courriel.")
    expect(page.get_by_label("Identifiant")).to_have_value("mcurie")
    assert not any(c["name"] == "achats_session" for c in context.cookies())
    assert_accessible(page, javascript)
    context.close()


def tab_to_text(page, text: str, limit: int = 80) -> None:
    """Tab (the keyboard alone) until the focused link or button reads ``text``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => (document.activeElement.textContent || '').trim()") == text:
            return
    raise AssertionError(f"« {text} » is never reached with Tab")


def test_login_logout_and_password_forgotten_with_the_keyboard_only(context, platform):
    register(platform["identity"])
    page = context.new_page()
    page.goto(platform["web"] + "/")
    tab_to(page, "identifiant")
    page.keyboard.type("mcurie")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    tab_to_text(page, "Se déconnecter")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible()
    page.goto(platform["web"] + "/")
    tab_to_text(page, "Mot de passe oublié")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Mot de passe oublié")).to_be_visible()
    tab_to(page, "champ-login-or-email")
    page.keyboard.type("mcurie")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    assert_accessible(page)
