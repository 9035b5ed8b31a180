"""« Recevoir un nouveau lien » from the login page: identity refuses the right password of an account whose
e-mail was never confirmed (403 email_not_verified); the page links to the resend form with the identifiant
already typed, the new mail arrives, its link confirms the address, and the login then works."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, events, mail_of, on_web, register


def confirmation_links(platform, email: str) -> list[str]:
    """The confirmation link of each « Création de votre compte » mail sent to ``email``, oldest first."""
    links = []
    for data in events(platform["identity_database"], "identity.user.registered"):
        if data["email"] == email:
            text = mail_of("identity.user.registered", data, "account_created").text
            links += [u for u in re.findall(r"https?://\S+", text) if urlsplit(u).path == "/compte/confirmation"]
    return links


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_unconfirmed_account_gets_a_new_link_from_the_login_page(browser, platform, javascript):
    register(platform["identity"], "jdupont", "jeanne.dupont@example.fr", confirmed=False)
    assert len(confirmation_links(platform, "jeanne.dupont@example.fr")) == 1
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("n'est pas encore confirmée")
    assert_accessible(page, javascript)
    alert.get_by_role("link", name="Recevoir un nouveau lien de confirmation").click()
    expect(page).to_have_url(platform["web"] + "/compte/confirmation/nouveau-lien?identifiant=jdupont")
    expect(page.get_by_role("heading", level=1, name="Recevoir un nouveau lien")).to_be_visible()
    expect(page.get_by_label("Identifiant ou adresse électronique")).to_have_value("jdupont")
    assert_accessible(page, javascript)
    page.get_by_role("button", name="Recevoir un nouveau lien").click()
    expect(page.get_by_role("status")).to_contain_text("Demande enregistrée")
    assert_accessible(page, javascript)
    # The new mail, as the notifier renders it; its link confirms the address.
    links = confirmation_links(platform, "jeanne.dupont@example.fr")
    assert len(links) == 2 and links[1] != links[0], links
    page.goto(on_web(links[1], platform["web"]))
    expect(page.get_by_role("heading", name="Adresse électronique confirmée")).to_be_visible()
    page.get_by_role("link", name="Se connecter").first.click()
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    context.close()


def test_other_refusals_carry_no_resend_link(context, platform):
    register(platform["identity"], "mcurie", "marie.curie@example.fr")
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("link", name="Recevoir un nouveau lien de confirmation")).to_have_count(0)
