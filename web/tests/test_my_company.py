"""« Mon entreprise » against the real registry (INSEE stand-in) and identity, in Chromium with JavaScript on and
off: the company's information taken again from INSEE (and INSEE down), its establishments, its users for its
administrator, the deletion of the company account; a user who is not the administrator gets the services'
refusal."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect

from achats.company_registry.standin.dataset import (
    CLOSED_SIRET,
    TEST_SARL_SECONDARY_SIRET,
    TEST_SARL_SIRET,
)

from web_support import (
    PASSWORD,
    assert_accessible,
    confirm_email,
    log_in_with_the_keyboard,
    register,
    screenshot,
    tab_to,
)

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
    """Marie, the CCAS's first user (its administrator), and Bronia Dluska, a second user of the same company."""
    register(platform["identity"])
    answer = requests.post(f"{platform['identity']}/identity/registrations", json={
        "company": {"source": "insee"}, "establishment": {"siret": "26570134200148"},
        "user": {"last_name": "Dluska", "first_name": "Bronia", "email": "bronia@example.fr",
                 "phone": "+33 3 87 00 00 01"},
        "credentials": {"login": "bsklodowska", "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text
    confirm_email(platform["identity"], "bronia@example.fr")


def register_test_sarl(platform) -> None:
    """Marie, administrator of the TEST SARL (head office, an active and a closed secondary establishment at INSEE)."""
    answer = requests.post(f"{platform['identity']}/identity/registrations", json={
        "company": {"source": "insee"}, "establishment": {"siret": TEST_SARL_SIRET},
        "user": {"last_name": "Curie", "first_name": "Marie", "email": "marie.curie@example.fr",
                 "phone": "+33 3 87 00 00 00"},
        "credentials": {"login": "mcurie", "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text
    confirm_email(platform["identity"], "marie.curie@example.fr")


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


@JS
def test_establishments_listed_added_and_replaced(browser, platform, javascript):
    register_test_sarl(platform)
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mon entreprise").click()
    page.get_by_role("navigation", name="Mon entreprise").get_by_role("link", name="Établissements").click()
    expect(page.get_by_role("heading", name="Établissements", exact=True)).to_be_visible()
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    expect(page.get_by_role("row", name=TEST_SARL_SIRET)).to_contain_text("Siège")
    # INSEE's establishment: not to be changed here (the registry says so).
    expect(page.get_by_role("link", name=f"Modifier l’établissement {TEST_SARL_SIRET}")).to_have_count(0)
    assert_accessible(page, javascript)

    siret = page.get_by_label("SIRET de l’établissement")
    add = page.get_by_role("button", name="Ajouter l’établissement")
    # Refused: the registry's messages beside the field, the number typed kept.
    siret.fill("39070200900024")
    add.click()
    expect(page.locator("#champ-siret-erreur")).to_contain_text("Ce numéro SIRET n'est pas valide")
    expect(page.get_by_label("SIRET de l’établissement")).to_have_value("39070200900024")
    assert_accessible(page, javascript)
    page.get_by_label("SIRET de l’établissement").fill("26570134200148")
    page.get_by_role("button", name="Ajouter l’établissement").click()
    expect(page.locator("#champ-siret-erreur")).to_have_text("SIRET d'une autre entreprise.")
    expect(page.get_by_label("SIRET de l’établissement")).to_have_value("26570134200148")

    for number in (TEST_SARL_SECONDARY_SIRET, CLOSED_SIRET):
        page.get_by_label("SIRET de l’établissement").fill(number)
        page.get_by_role("button", name="Ajouter l’établissement").click()
        expect(page.get_by_role("status")).to_have_text(f"L’établissement {number} a été ajouté.")
    expect(page.get_by_text("Nombre de résultats : 3")).to_be_visible()
    expect(page.get_by_role("row", name=CLOSED_SIRET)).to_contain_text("Fermé")
    expect(page.get_by_role("row", name=TEST_SARL_SECONDARY_SIRET)).to_contain_text("En activité")
    assert_accessible(page, javascript)

    # The head office's SIRET changed: the registry's refusals first, then the replacement.
    page.get_by_role("link", name=f"Nouveau SIRET pour l’établissement {TEST_SARL_SIRET}").click()
    expect(page.get_by_role("heading", name=f"Nouveau SIRET de l’établissement {TEST_SARL_SIRET}")).to_be_visible()
    assert_accessible(page, javascript)
    replace = page.get_by_role("button", name="Remplacer l’établissement")
    page.get_by_label("Nouveau SIRET").fill(CLOSED_SIRET)
    replace.click()
    expect(page.locator("#champ-siret-erreur")).to_have_text("Établissement fermé.")
    expect(page.get_by_role("alert")).to_contain_text(f"L'établissement {CLOSED_SIRET} est fermé.")
    expect(page.get_by_label("Nouveau SIRET")).to_have_value(CLOSED_SIRET)
    assert_accessible(page, javascript)
    page.get_by_label("Nouveau SIRET").fill(TEST_SARL_SIRET)
    page.get_by_role("button", name="Remplacer l’établissement").click()
    expect(page.locator("#champ-siret-erreur")).to_have_text("SIRET identique.")
    page.get_by_label("Nouveau SIRET").fill("39070200900049")
    page.get_by_role("button", name="Remplacer l’établissement").click()
    expect(page.locator("#champ-siret-erreur")).to_contain_text("ne correspond à ce numéro dans le répertoire")
    expect(page.get_by_label("Nouveau SIRET")).to_have_value("39070200900049")
    page.get_by_label("Nouveau SIRET").fill(TEST_SARL_SECONDARY_SIRET)
    page.get_by_role("button", name="Remplacer l’établissement").click()
    expect(page.get_by_role("status")).to_have_text(
        f"L’établissement {TEST_SARL_SECONDARY_SIRET} remplace désormais l’ancien.")
    expect(page.get_by_role("row", name=TEST_SARL_SIRET)).to_contain_text(f"Remplacé par {TEST_SARL_SECONDARY_SIRET}")
    expect(page.get_by_role("link", name=f"Nouveau SIRET pour l’établissement {TEST_SARL_SIRET}")).to_have_count(0)
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "mon-entreprise-etablissements")
    page.context.close()


@JS
def test_establishment_typed_by_hand_when_insee_is_down_then_changed(browser, platform, standin, javascript):
    register_test_sarl(platform)
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/entreprise/etablissements")
    standin.set_mode("503")
    page.get_by_label("SIRET de l’établissement").fill("39070200900049")
    page.get_by_role("button", name="Ajouter l’établissement").click()
    # INSEE down: the registry's message, then the establishment typed by hand, the SIRET kept.
    expect(page.get_by_role("alert")).to_have_text(INSEE_DOWN)
    expect(page.get_by_label("SIRET de l’établissement")).to_have_value("39070200900049")
    assert_accessible(page, javascript)
    page.get_by_label("Adresse *").fill("12 RUE DE LA PAIX")
    page.get_by_label("Code postal").fill("75002")
    page.get_by_label("Ville").fill("PARIS")
    page.get_by_role("button", name="Ajouter l’établissement").click()
    expect(page.get_by_role("status")).to_have_text("L’établissement 39070200900049 a été ajouté.")
    row = page.get_by_role("row", name="39070200900049")
    expect(row).to_contain_text("Non vérifié")
    expect(row).to_contain_text("12 RUE DE LA PAIX")
    assert_accessible(page, javascript)

    # Not verified yet: it may be changed; the registry's refusal beside the field, the rest kept.
    page.get_by_role("link", name="Modifier l’établissement 39070200900049").click()
    expect(page.get_by_role("heading", name="Modifier l’établissement 39070200900049")).to_be_visible()
    expect(page.get_by_label("Adresse *")).to_have_value("12 RUE DE LA PAIX")
    assert_accessible(page, javascript)
    page.get_by_label("Adresse *").fill("   ")
    page.get_by_label("Ville").fill("PARIS 2E")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#champ-street-erreur")).not_to_be_empty()
    expect(page.get_by_label("Ville")).to_have_value("PARIS 2E")
    assert_accessible(page, javascript)
    page.get_by_label("Adresse *").fill("14 RUE DE LA PAIX")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("L’établissement a été modifié.")
    expect(page.get_by_role("row", name="39070200900049")).to_contain_text("14 RUE DE LA PAIX, 75002 PARIS 2E")
    assert_accessible(page, javascript)
    page.context.close()


@JS
def test_company_users_for_its_administrator(browser, platform, javascript):
    two_users(platform)
    # A user who is not the company's administrator: identity's refusal, no list.
    bronia = logged_in(browser, platform, javascript, "bsklodowska")
    bronia.goto(platform["web"] + "/entreprise")
    bronia.get_by_role("navigation", name="Mon entreprise").get_by_role("link", name="Utilisateurs").click()
    expect(bronia.get_by_role("alert")).to_have_text(
        "Seul l'administrateur du compte de l'entreprise peut gérer ses utilisateurs.")
    expect(bronia.get_by_role("table")).to_have_count(0)
    assert_accessible(bronia, javascript)
    bronia.context.close()

    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/entreprise/utilisateurs")
    expect(page.get_by_role("heading", name="Utilisateurs de l’entreprise")).to_be_visible()
    expect(page.get_by_text("Nombre de résultats : 2")).to_be_visible()
    expect(page.get_by_role("row", name="Marie Curie")).to_contain_text("Administrateur")
    expect(page.get_by_role("row", name="Bronia Dluska")).to_contain_text("bronia@example.fr")
    assert_accessible(page, javascript)
    # The last administrator cannot give the role up: identity's message.
    page.get_by_role("button", name="Retirer le rôle d’administrateur à Marie Curie").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Le compte de l'entreprise doit garder au moins un administrateur : désignez-en un autre avant de retirer "
        "ce rôle.")
    assert_accessible(page, javascript)

    page.get_by_role("button", name="Nommer administrateur Bronia Dluska").click()
    expect(page.get_by_role("status")).to_contain_text("Le rôle d’administrateur a été donné")
    expect(page.get_by_role("row", name="Bronia Dluska")).to_contain_text("Administrateur")
    assert_accessible(page, javascript)
    page.get_by_role("button", name="Retirer le rôle d’administrateur à Bronia Dluska").click()
    expect(page.get_by_role("status")).to_have_text("Le rôle d’administrateur a été retiré.")
    expect(page.get_by_role("button", name="Nommer administrateur Bronia Dluska")).to_be_visible()
    if javascript:
        screenshot(page, "mon-entreprise-utilisateurs")

    page.get_by_role("link", name="Retirer de l’entreprise Bronia Dluska").click()
    expect(page.get_by_role("heading", name="Retirer Bronia Dluska de l’entreprise")).to_be_visible()
    assert_accessible(page, javascript)
    page.get_by_role("button", name="Retirer définitivement de l’entreprise").click()
    expect(page.get_by_role("status")).to_have_text("L’utilisateur a été retiré de l’entreprise.")
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    expect(page.get_by_role("row", name="Bronia Dluska")).to_have_count(0)
    assert_accessible(page, javascript)
    gone = requests.post(f"{platform['identity']}/identity/sessions",
                         json={"login": "bsklodowska", "password": PASSWORD}, timeout=30)
    assert gone.status_code == 401
    page.context.close()


@JS
def test_company_account_deletion(browser, platform, javascript):
    two_users(platform)
    # Not the company's administrator: the registry's refusal, nothing deleted.
    bronia = logged_in(browser, platform, javascript, "bsklodowska")
    bronia.goto(platform["web"] + "/entreprise")
    bronia.get_by_role("navigation", name="Mon entreprise").get_by_role(
        "link", name="Supprimer le compte de l’entreprise").click()
    expect(bronia.get_by_role("heading", name="Supprimer le compte de l’entreprise")).to_be_visible()
    assert_accessible(bronia, javascript)
    bronia.get_by_role("button", name="Supprimer définitivement le compte de l’entreprise").click()
    expect(bronia.get_by_role("alert")).to_have_text(ADMIN_ONLY)
    assert_accessible(bronia, javascript)
    bronia.goto(platform["web"] + "/entreprise")
    expect(bronia.get_by_role("main")).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    bronia.context.close()

    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/entreprise/suppression")
    expect(page.get_by_role("main")).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    page.get_by_role("button", name="Supprimer définitivement le compte de l’entreprise").click()
    expect(page.get_by_role("heading", name="Compte de l’entreprise supprimé")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    assert_accessible(page, javascript)
    assert not [c for c in page.context.cookies() if c["name"] == "achats_session"]
    # The registry no longer has it (the same answer as for any unknown company).
    tokens = requests.post(f"{platform['identity']}/identity/sessions",
                           json={"login": "bsklodowska", "password": PASSWORD}, timeout=30).json()
    company_id = requests.get(f"{platform['identity']}/identity/me", timeout=30, headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).json()["company_id"]
    gone = requests.get(f"{platform['registry']}/registry/companies/{company_id}", timeout=30,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert gone.status_code == 404
    page.context.close()


def test_mon_entreprise_in_english(browser, platform):
    register(platform["identity"])
    page = logged_in(browser, platform, True)
    page.goto(platform["web"] + "/langue/en?next=/entreprise")
    expect(page.get_by_role("heading", name="Company information")).to_be_visible()
    expect(page.get_by_role("button", name="Update from INSEE")).to_be_visible()
    expect(page.get_by_role("navigation", name="My company")).to_be_visible()
    page.context.close()


def test_establishment_added_with_the_keyboard_only(context, platform):
    register_test_sarl(platform)
    page = context.new_page()
    log_in_with_the_keyboard(page, platform["web"])
    page.goto(platform["web"] + "/entreprise/etablissements")
    tab_to(page, "champ-siret")
    page.keyboard.type(TEST_SARL_SECONDARY_SIRET)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"L’établissement {TEST_SARL_SECONDARY_SIRET} a été ajouté.")
    expect(page.get_by_text("Nombre de résultats : 2")).to_be_visible()
