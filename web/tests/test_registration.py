"""« Inscription », every path of the guide, in Chromium against the real identity and registry (INSEE stand-in)."""

from __future__ import annotations

import pytest
import sqlalchemy
from playwright.sync_api import expect

from achats.company_registry.standin.dataset import CCAS_METZ_SIREN, CCAS_METZ_SIRET

from web_support import PASSWORD, assert_accessible

INSEE_DOWN = ("Le service est actuellement indisponible. Veuillez vérifier la validité du n° SIRET fourni par "
              "l'entreprise, et renouveler cette opération dans quelques minutes. Si le problème persiste, "
              "veuillez contacter notre service support.")
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(javascript: bool = True):
        context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def users(database_url: str) -> list[dict]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text(
                "SELECT login, email, last_name, first_name, phone, fax, roles, company_id, establishment_id "
                "FROM users ORDER BY created_at")).mappings().all()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def fill_personal(page, *, last="Curie", first="Marie", email="marie.curie@example.fr", phone="+33 3 87 00 00 00",
                  login="mcurie", password=PASSWORD, fax=None):
    page.get_by_label("Nom *", exact=True).fill(last)
    page.get_by_label("Prénom *", exact=True).fill(first)
    page.get_by_label("Adresse électronique *").fill(email)
    page.get_by_label("Téléphone *").fill(phone)
    if fax:
        page.get_by_label("Fax").fill(fax)
    page.get_by_label("Identifiant *").fill(login)
    page.get_by_label("Mot de passe *").fill(password)


def submit(page):
    page.get_by_role("button", name="Valider mon inscription").click()
    page.wait_for_load_state()


def expect_sent(page, javascript, email="marie.curie@example.fr"):
    expect(page.get_by_role("heading", name="Demande d’inscription enregistrée")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Un courriel vous a été envoyé")
    expect(page.get_by_role("main")).to_contain_text(email)
    assert_accessible(page, javascript)


def start_with(page, web_url, number, javascript):
    page.goto(web_url + "/")
    page.get_by_role("link", name="M’inscrire").first.click()
    assert_accessible(page, javascript)
    page.get_by_label("SIREN/SIRET").fill(number)
    page.get_by_role("button", name="OK").click()
    page.wait_for_load_state()


@JS
def test_a_siret_shows_the_insee_data_then_the_account_is_created(new_page, platform, fresh_postgres_url,
                                                                   javascript):
    page = new_page(javascript)
    start_with(page, platform["web"], CCAS_METZ_SIRET, javascript)
    data = page.locator("#donnees-insee")
    for text in ("Raison sociale", "CENTRE COMMUNAL D'ACTION SOCIALE", "Code APE / NAF / NACE",
                 "88.99B — Action sociale sans hébergement n.c.a.", "SIREN", CCAS_METZ_SIREN,
                 "Forme juridique", "Lieu d’établissement", "France", "PME"):
        expect(data).to_contain_text(text)
    expect(page.get_by_text("Veuillez sélectionner l’établissement auquel vous êtes rattaché")).to_be_visible()
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    expect(page.get_by_role("radio", name=f"SIRET {CCAS_METZ_SIRET}")).to_be_checked()
    expect(page.get_by_role("heading", name="MON COMPTE PERSONNEL")).to_be_visible()
    expect(page.get_by_text("Le symbole * indique les champs obligatoires")).to_be_visible()
    assert_accessible(page, javascript)
    fill_personal(page, fax="+33 3 87 00 00 01")
    submit(page)
    expect_sent(page, javascript)
    [user] = users(fresh_postgres_url)
    assert (user["login"], user["email"], user["last_name"], user["fax"]) == (
        "mcurie", "marie.curie@example.fr", "Curie", "+33 3 87 00 00 01")
    assert user["establishment_id"] is not None and "supplier_admin" in user["roles"]
