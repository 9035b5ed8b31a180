"""Back office, platform administrators (issue 17 item 5), in Chromium with JavaScript on and off against the real
identity: an account locked by the brute-force protection through the real login page, unlocked by an
administrator, and its user logs in; staff accounts created with identity's rules; the audit log; a supplier and
a support agent refused (403) by the pages and by identity itself."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, logged_in_page, register

ADMIN_PASSWORD = "la plateforme tourne sans accroc"
AGENT_PASSWORD = "le support répond toujours vite"
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
ADMIN_PAGES = ("/back-office/comptes", "/back-office/comptes/nouveau", "/back-office/journal")


def staff(platform, monkeypatch, role: str, login: str, password: str) -> None:
    """A staff account as the operator makes the first administrator: identity's command line."""
    from achats.identity import cli

    monkeypatch.setenv("IDENTITY_DATABASE_URL", platform["identity_database"])
    monkeypatch.setenv("IDENTITY_AMQP_URL", "memory://identity-cli")
    command = "create-admin" if role == "platform_admin" else "create-agent"
    assert cli.main([command, "--login", login, "--email", f"{login}@achats.example", "--first-name", "Prénom",
                     "--last-name", "Staff", "--password", password]) == 0


def try_login(page, platform, password: str) -> None:
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def token(platform, login: str, password: str) -> str:
    answer = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": password},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@JS
def test_an_administrator_unlocks_an_account_the_brute_force_protection_locked(browser, platform, monkeypatch,
                                                                               javascript):
    register(platform["identity"])
    staff(platform, monkeypatch, "platform_admin", "root.admin", ADMIN_PASSWORD)
    # Marie (or someone in her name) fails at the real login page until the protection locks the login.
    marie = browser.new_context(locale="fr-FR", java_script_enabled=javascript).new_page()
    for _ in range(8):
        try_login(marie, platform, "pas le bon mot de passe du tout")
        message = marie.get_by_text("Trop de tentatives de connexion")
        if message.count() and "minute" in message.first.inner_text():
            break
        marie.wait_for_timeout(1100)  # the protection's growing delay, then try again
    expect(marie.get_by_text("Trop de tentatives de connexion")).to_contain_text("minutes")
    try_login(marie, platform, PASSWORD)  # even the right password is held back now
    expect(marie.get_by_text("Trop de tentatives de connexion")).to_be_visible()

    admin = logged_in_page(browser, platform, javascript, "root.admin", ADMIN_PASSWORD)
    admin.goto(platform["web"] + "/back-office/comptes")
    expect(admin.get_by_role("heading", name="Comptes", exact=True)).to_be_visible()
    assert_accessible(admin, javascript)
    admin.get_by_label("Rechercher un compte").fill("curie")
    admin.get_by_text("Seulement les comptes verrouillés").click()  # the label, as a person clicks it
    admin.get_by_role("button", name="Rechercher").click()
    row = admin.get_by_role("row").filter(has_text="mcurie")
    expect(row).to_contain_text("Verrouillé")
    expect(row).to_contain_text("marie.curie@example.fr")
    assert_accessible(admin, javascript)
    row.get_by_role("button", name="Déverrouiller mcurie").click()
    expect(admin.get_by_role("status")).to_have_text(
        "Le compte mcurie est déverrouillé : son titulaire peut se connecter.")
    expect(admin.get_by_label("Rechercher un compte")).to_have_value("curie")  # the search is kept
    assert_accessible(admin, javascript)

    try_login(marie, platform, PASSWORD)
    expect(marie.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()

    admin.get_by_role("link", name="Journal des actions").click()
    first = admin.get_by_role("row").nth(1)
    expect(first).to_contain_text("Compte déverrouillé")
    expect(first).to_contain_text("root.admin")
    expect(first).to_contain_text("mcurie")
    expect(admin.get_by_role("row").filter(has_text="ligne de commande")).to_contain_text("Compte créé")
    assert_accessible(admin, javascript)
    admin.context.close()
    marie.context.close()


@JS
def test_an_administrator_creates_a_support_agent_with_identitys_rules(browser, platform, monkeypatch, javascript):
    staff(platform, monkeypatch, "platform_admin", "root.admin", ADMIN_PASSWORD)
    admin = logged_in_page(browser, platform, javascript, "root.admin", ADMIN_PASSWORD)
    admin.goto(platform["web"] + "/back-office/comptes")
    admin.get_by_role("link", name="Créer un agent ou un administrateur").click()
    admin.get_by_text("Agent du support").click()
    admin.get_by_label("Nom *", exact=True).fill("Smith")
    admin.get_by_label("Prénom").fill("Agent")
    admin.get_by_label("Adresse électronique").fill("agent.smith@achats.example")
    admin.get_by_label("Identifiant").fill("agent.smith")
    admin.get_by_label("Mot de passe").fill("trop court")
    admin.get_by_role("button", name="Créer le compte").click()
    expect(admin.locator("#champ-password-erreur")).to_contain_text("au moins 15 caractères")
    expect(admin.get_by_label("Identifiant")).to_have_value("agent.smith")  # what was typed is kept
    assert_accessible(admin, javascript)
    admin.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    admin.get_by_role("button", name="Créer le compte").click()
    expect(admin.get_by_role("status")).to_contain_text("Le compte agent.smith")
    assert_accessible(admin, javascript)
    me = requests.get(f"{platform['identity']}/identity/me", timeout=30,
                      headers={"Authorization": f"Bearer {token(platform, 'agent.smith', AGENT_PASSWORD)}"})
    assert me.json()["roles"] == ["support_agent"]
    admin.context.close()


@JS
def test_a_supplier_and_an_agent_get_403_on_the_administrators_pages(browser, platform, monkeypatch, javascript):
    register(platform["identity"])
    staff(platform, monkeypatch, "support_agent", "agent.smith", AGENT_PASSWORD)
    for login, password in (("mcurie", PASSWORD), ("agent.smith", AGENT_PASSWORD)):
        page = logged_in_page(browser, platform, javascript, login, password)
        for path in ADMIN_PAGES:
            response = page.goto(platform["web"] + path)
            assert response.status == 403, (login, path)
            expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
        assert_accessible(page, javascript)
        page.context.close()
        # Not only the pages: identity itself refuses the same caller.
        headers = {"Authorization": f"Bearer {token(platform, login, password)}"}
        for method, path in (("GET", "/identity/admin/users"), ("GET", "/identity/admin/audit")):
            refused = requests.request(method, platform["identity"] + path, headers=headers, timeout=30)
            assert (refused.status_code, refused.json()["code"]) == (403, "platform_admin_required")
