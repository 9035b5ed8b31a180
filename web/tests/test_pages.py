"""The layout and the public pages, as a visitor sees them in Chromium, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from web_support import assert_accessible, screenshot

FOOTER = ("Mentions légales", "Conditions d’utilisation", "Pré-requis techniques", "Accessibilité")
MENU = ("Aide", "Se préparer à répondre", "Outils de signature")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_home_shows_the_new_user_block_and_the_login_box(browser, web_alone, javascript):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(web_alone + "/")
    expect(page).to_have_title(re.compile("Accueil — Plateforme des achats"))
    header = page.get_by_role("banner")
    expect(header.get_by_text("Plateforme des achats", exact=True)).to_be_visible()
    expect(header.get_by_role("link", name="Se connecter")).to_be_visible()
    for name in MENU:
        expect(page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("heading", name="Nouvel utilisateur")).to_be_visible()
    expect(page.get_by_label("Identifiant")).to_be_editable()
    expect(page.get_by_label("Mot de passe")).to_be_editable()
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    expect(page.get_by_role("link", name="Mot de passe oublié")).to_be_visible()
    expect(page.get_by_role("link", name="M’inscrire").first).to_be_visible()
    expect(page.get_by_role("link", name="Assistance")).to_be_visible()
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "accueil")
    # Every footer link is a real page, in the layout, accessible.
    for name in FOOTER:
        page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.get_by_role("banner").is_visible()
        assert_accessible(page, javascript)
    for name in MENU:
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
        assert_accessible(page, javascript)
    # The Assistance button opens « Demande d'assistance », told the page it was on (issue 16;
    # tests/test_assistance_request.py follows it to the helpdesk).
    expect(page.get_by_role("link", name="Assistance")).to_have_attribute(
        "href", re.compile(r"^/assistance\?page=/"))
    context.close()


def test_the_language_switch_gives_the_english_catalog_and_back(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/mentions-legales")
    page.get_by_role("link", name="EN – English").click()
    expect(page).to_have_url(web_alone + "/mentions-legales")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1, name="Legal notice")).to_be_visible()
    expect(page.get_by_role("contentinfo").get_by_role("link", name="Accessibility")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="FR – Français").click()
    expect(page.get_by_role("heading", level=1, name="Mentions légales")).to_be_visible()


def test_the_language_switch_never_sends_elsewhere(web_alone):
    for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
        answer = requests.get(f"{web_alone}/langue/en", params={"next": target}, allow_redirects=False)
        assert (answer.status_code, answer.headers["Location"]) == (303, "/")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_unknown_page_is_a_french_404_page_in_the_layout(browser, web_alone, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    answer = page.goto(web_alone + "/cette-page-n-existe-pas")
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1, name="Page non trouvée")).to_be_visible()
    expect(page.get_by_role("link", name="Page d’accueil")).to_be_visible()
    assert_accessible(page, javascript)
    context.close()


def test_a_post_without_the_form_token_is_refused_and_changes_nothing(web_alone):
    answer = requests.post(f"{web_alone}/connexion", data={"login": "mcurie", "password": "x"})
    assert answer.status_code == 403
    assert "Le formulaire a expiré" in answer.text
    assert "Traceback" not in answer.text


def test_assets_are_fingerprinted_compressed_and_cached_for_a_year(web_alone):
    home = requests.get(web_alone + "/", headers={"Accept-Encoding": "br"})
    assert home.headers["Content-Encoding"] == "br"
    assert "script-src 'self'" in home.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in home.headers["Content-Security-Policy"]
    assert "<style" not in home.text and " style=" not in home.text
    stylesheets = re.findall(r'href="(/assets/[^"]+\.css)"', home.text)
    assert stylesheets and all(re.search(r"\.[0-9a-f]{12}\.css$", s) for s in stylesheets)
    total = len(home.content)
    for path in stylesheets + re.findall(r'src="(/assets/[^"]+\.js)"', home.text):
        asset = requests.get(web_alone + path, headers={"Accept-Encoding": "br, gzip"}, stream=True)
        assert asset.status_code == 200
        sent = len(asset.raw.read(decode_content=False))  # the bytes on the wire
        if sent >= 500:  # the smallest files are not worth compressing
            assert asset.headers["Content-Encoding"] == "br", path
        assert "immutable" in asset.headers["Cache-Control"] and "max-age=31536000" in asset.headers["Cache-Control"]
        # The same bytes for every visitor, never revalidated: nothing that splits a shared cache or weighs on
        # each of the page's requests.
        assert "cookie" not in asset.headers.get("Vary", "").lower(), path
        for header in ("Expires", "Last-Modified", "ETag", "Content-Disposition", "Content-Security-Policy"):
            assert header not in asset.headers, (path, header)
        total += sent
    # Page, CSS and JS compressed: 87 KB measured (the budget is 250 KB with the fonts).
    assert total < 120_000, total
