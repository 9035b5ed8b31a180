"""A 375 px wide screen (a phone): the header's « Menu » opens DSFR's menu modal with the top menu, by mouse and by
keyboard alone (Tab, Enter, Escape), and without JavaScript the same links are still reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from web_support import assert_accessible, dsfr_live, screenshot

PHONE = {"width": 375, "height": 740}
MENU = ("Se connecter", "Aide", "Se préparer à répondre", "Outils de signature")


@pytest.fixture
def phone(browser):
    made = browser.new_context(locale="fr-FR", viewport=PHONE)
    yield made
    made.close()


@pytest.fixture
def phone_no_js(browser):
    made = browser.new_context(locale="fr-FR", viewport=PHONE, java_script_enabled=False)
    yield made
    made.close()



def test_the_menu_button_opens_the_menu_modal_with_the_top_menu(phone, web_alone):
    page = phone.new_page()
    page.goto(web_alone + "/")
    page.wait_for_load_state("networkidle")
    menu = page.locator("#menu-principal")
    for name in MENU:  # The wide screen's header links are folded away.
        expect(page.get_by_role("link", name=name, exact=True).first).to_be_hidden()
    assert_accessible(page)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("dialog")).to_have_attribute("aria-modal", "true")
    for name in MENU:
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert_accessible(page)
    page.wait_for_timeout(400)  # DSFR's opening transition, for the screenshot
    screenshot(page, "menu-375px", full_page=False)
    menu.get_by_role("link", name="Aide").click()
    expect(page.get_by_role("heading", level=1, name="Aide")).to_be_visible()
    dsfr_live(page.get_by_role("button", name="Menu"), "modal-button")  # a new page: DSFR starts again
    page.get_by_role("button", name="Menu").click()
    menu.get_by_role("button", name="Fermer").click()
    expect(menu.get_by_role("link", name="Aide")).to_be_hidden()


def test_the_menu_with_the_keyboard_alone(phone, web_alone):
    page = phone.new_page()
    page.goto(web_alone + "/connexion")
    page.wait_for_load_state("networkidle")
    menu = page.locator("#menu-principal")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "bouton-menu":
            break
    else:
        raise AssertionError("« Menu » is never reached with Tab")
    page.keyboard.press("Enter")
    expect(menu.get_by_role("link", name="Aide")).to_be_visible()
    # The focus is in the modal; Tab goes through its links.
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.textContent.trim()"))
        if reached[-1] == "Se préparer à répondre":
            break
    assert "Se préparer à répondre" in reached, reached
    assert page.evaluate("() => document.getElementById('menu-principal').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(menu.get_by_role("link", name="Aide")).to_be_hidden()
    expect(page.locator("#bouton-menu")).to_be_focused()
    # Enter on a link of the menu follows it.
    page.keyboard.press("Enter")
    expect(menu.get_by_role("link", name="Outils de signature")).to_be_visible()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Outils de signature":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Outils de signature")).to_be_visible()


def test_without_javascript_the_menu_links_are_still_reachable(phone_no_js, web_alone):
    page = phone_no_js.new_page()
    page.goto(web_alone + "/")
    for name in MENU:
        link = page.get_by_role("link", name=name, exact=True).locator("visible=true")
        expect(link.first).to_be_visible()
    assert_accessible(page, javascript=False)
    screenshot(page, "menu-375px-sans-javascript", full_page=False)
    page.get_by_role("link", name="Se préparer à répondre", exact=True).locator("visible=true").first.click()
    expect(page.get_by_role("heading", level=1, name="Se préparer à répondre")).to_be_visible()
    page.get_by_role("link", name="Se connecter", exact=True).locator("visible=true").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Connexion")


def test_the_no_javascript_stylesheet_changes_nothing_with_javascript(phone, web_alone):
    # Inside <noscript>: with JavaScript the menu stays folded behind « Menu ».
    page = phone.new_page()
    page.goto(web_alone + "/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#bouton-menu")).to_be_visible()
    expect(page.locator("#menu-principal").get_by_role("link", name="Aide")).to_be_hidden()
