"""« Mon entreprise » against the real registry (INSEE stand-in) and identity, in Chromium with JavaScript on and
off: the company's information taken again from INSEE (and INSEE down), its establishments, its users for its
administrator, the deletion of the company account; a user who is not the administrator gets the services'
refusal."""

from __future__ import annotations

import pytest
import sqlalchemy
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, register, screenshot

INSEE_DOWN = ("Le service est actuellement indisponible. Veuillez vérifier la validité du n° SIRET fourni par "
              "l'entreprise, et renouveler cette opération dans quelques minutes. Si le problème persiste, "
              "veuillez contacter notre service support.")
ADMIN_ONLY = "Seul l'administrateur du compte de l'entreprise peut faire cette action."
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def logged_in(browser, platform, javascript: bool, login: str = "mcurie"):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    return page


def registry_sql(tmp_path, statement: str, **params) -> None:
    """A change made behind the pages' back in the registry's own database (what INSEE would not know)."""
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/registry.db")
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(statement), params)
    finally:
        engine.dispose()


def two_users(platform) -> None:
    """Marie, the company's first user (its administrator), and Bronia, a second user of the same company."""
    register(platform["identity"])
    register(platform["identity"], login="bsklodowska", email="bronia@example.fr")


def test_mon_entreprise_needs_a_login(context, platform):
    page = context.new_page()
    page.goto(platform["web"] + "/entreprise")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()


@JS
def test_company_information_taken_again_from_insee(browser, platform, standin, tmp_path, javascript):
    two_users(platform)
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/compte")
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mon entreprise").click()
    expect(page.get_by_role("heading", name="Informations de l’entreprise")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    expect(main).to_contain_text("265701342")
    expect(main).to_contain_text("Vérifiée par l’INSEE")
    assert_accessible(page, javascript)

    # The name in the registry is no longer INSEE's: « Mettre à jour depuis l’INSEE » takes it again.
    registry_sql(tmp_path, "UPDATE companies SET name = 'ANCIEN NOM' WHERE siren = '265701342'")
    page.reload()
    expect(main).to_contain_text("ANCIEN NOM")
    page.get_by_role("button", name="Mettre à jour depuis l’INSEE").click()
    expect(page.get_by_role("status")).to_have_text(
        "Les informations de l’entreprise ont été reprises du répertoire de l’INSEE.")
    expect(main).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    expect(main).not_to_contain_text("ANCIEN NOM")
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "mon-entreprise")
    page.get_by_role("button", name="Mettre à jour depuis l’INSEE").click()
    expect(page.get_by_role("status")).to_have_text(
        "Les informations de l’entreprise étaient déjà celles du répertoire de l’INSEE.")

    # INSEE down: the registry's message, the company's information still shown.
    standin.set_mode("503")
    page.get_by_role("button", name="Mettre à jour depuis l’INSEE").click()
    expect(page.get_by_role("alert")).to_have_text(INSEE_DOWN)
    expect(main).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    assert_accessible(page, javascript)
    standin.set_mode("normal")

    # A user who is not the company's administrator: the registry's refusal.
    bronia = logged_in(browser, platform, javascript, "bsklodowska")
    bronia.goto(platform["web"] + "/entreprise")
    expect(bronia.get_by_role("main")).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    bronia.get_by_role("button", name="Mettre à jour depuis l’INSEE").click()
    expect(bronia.get_by_role("alert")).to_have_text(ADMIN_ONLY)
    assert_accessible(bronia, javascript)
    page.context.close()
    bronia.context.close()


def test_mon_entreprise_in_english(browser, platform):
    register(platform["identity"])
    page = logged_in(browser, platform, True)
    page.goto(platform["web"] + "/langue/en?next=/entreprise")
    expect(page.get_by_role("heading", name="Company information")).to_be_visible()
    expect(page.get_by_role("button", name="Update from INSEE")).to_be_visible()
    expect(page.get_by_role("navigation", name="My company")).to_be_visible()
    page.context.close()
