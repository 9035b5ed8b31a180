"""« Inscription », every path of the guide, in Chromium against the real identity and registry (INSEE stand-in)."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect

from achats.company_registry.standin.dataset import (
    CCAS_METZ_SIREN,
    CCAS_METZ_SIRET,
    CLOSED_SIRET,
    PARTIAL_SIRET,
    TEST_SARL_SECONDARY_SIRET,
    TEST_SARL_SIREN,
    TEST_SARL_SIRET,
)

from web_support import PASSWORD, assert_accessible, register, screenshot

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


def rows(database_url: str, sql: str) -> list[dict]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [dict(row) for row in connection.execute(sqlalchemy.text(sql)).mappings().all()]
    finally:
        engine.dispose()


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
    # The registration page loaded (the click only starts the navigation), as a person waits for it.
    expect(page.get_by_label("SIREN/SIRET")).to_be_visible()
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
    if javascript:
        screenshot(page, "inscription-insee")
    fill_personal(page, fax="+33 3 87 00 00 01")
    submit(page)
    expect_sent(page, javascript)
    [user] = users(fresh_postgres_url)
    assert (user["login"], user["email"], user["last_name"], user["fax"]) == (
        "mcurie", "marie.curie@example.fr", "Curie", "+33 3 87 00 00 01")
    assert user["establishment_id"] is not None and "supplier_admin" in user["roles"]


def choose(page, kind: str, words: str, code: str, javascript: bool):
    """Find an entry of a nomenclature by words (code, label, abbreviation) and choose it in the list."""
    search = page.get_by_label(f"Rechercher {kind}")
    search.fill(words)
    select = page.get_by_label({"une forme juridique": "Forme juridique *",
                                "un code APE / NAF": "Code APE / NAF / NACE *"}[kind])
    if javascript:
        # The list follows what is typed, through the registry's search: no reload.
        for _ in range(100):
            if select.locator("option").count() <= 51:
                break
            page.wait_for_timeout(50)
        expect(select.locator(f"option[value='{code}']")).to_be_attached()
    else:
        search.locator("xpath=..").get_by_role("button", name="Rechercher").click()
        page.wait_for_load_state()
        expect(page.get_by_label(f"Rechercher {kind}")).to_have_value(words)
    assert select.locator("option").count() <= 51  # the matches, not the whole nomenclature
    select.select_option(code)


@JS
def test_insee_down_gives_the_guides_message_then_the_manual_entreprise_form(new_page, platform, standin, tmp_path,
                                                                            fresh_postgres_url, javascript):
    standin.set_mode("503")
    page = new_page(javascript)
    start_with(page, platform["web"], TEST_SARL_SIRET, javascript)
    expect(page.get_by_role("alert")).to_have_text(INSEE_DOWN)
    expect(page.get_by_text("Le symbole * indique les champs obligatoires")).to_be_visible()
    expect(page.get_by_role("heading", name="Entreprise", exact=True)).to_be_visible()
    # What was typed is kept: the SIREN, and the SIRET as the establishment's.
    expect(page.get_by_label("SIREN *")).to_have_value(TEST_SARL_SIREN)
    expect(page.get_by_label("SIRET de l’établissement")).to_have_value(TEST_SARL_SIRET)
    expect(page.get_by_text("Nombre de résultats : 0")).to_be_visible()
    assert_accessible(page, javascript)
    page.get_by_label("Raison sociale *").fill("Test")
    choose(page, "un code APE / NAF", "8299", "82.99Z", javascript)
    choose(page, "une forme juridique", "SARL", "5499", javascript)
    expect(page.get_by_label("Raison sociale *")).to_have_value("Test")
    page.get_by_text("Oui", exact=True).click()  # the DSFR radio: its label is what a person clicks
    expect(page.get_by_role("radio", name="Oui")).to_be_checked()
    page.get_by_label("Adresse", exact=True).fill("8 rue de la Paix")
    page.get_by_label("Code postal").fill("75008")
    page.get_by_label("Ville").fill("Paris")
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "inscription-insee-indisponible")
    fill_personal(page)
    submit(page)
    expect_sent(page, javascript)
    [company] = rows(f"sqlite:///{tmp_path}/registry.db",
                     "SELECT source, siren, name, naf_code, legal_form_code, is_pme FROM companies")
    assert company == {"source": "manual", "siren": TEST_SARL_SIREN, "name": "Test", "naf_code": "82.99Z",
                       "legal_form_code": "5499", "is_pme": 1}
    [establishment] = rows(f"sqlite:///{tmp_path}/registry.db", "SELECT siret, city FROM establishments")
    assert establishment == {"siret": TEST_SARL_SIRET, "city": "Paris"}
    assert [u["login"] for u in users(fresh_postgres_url)] == ["mcurie"]


@JS
def test_a_refusal_of_a_service_is_shown_beside_its_field_with_what_was_typed_kept(new_page, platform,
                                                                                   fresh_postgres_url, javascript):
    page = new_page(javascript)
    # The registry's check of the number, beside the SIREN/SIRET field.
    start_with(page, platform["web"], "26570134200149", javascript)
    field = page.get_by_label("SIREN/SIRET")
    expect(field).to_have_value("26570134200149")
    expect(field).to_have_attribute("aria-describedby", "champ-siret-erreur")
    expect(page.locator("#champ-siret-erreur")).to_contain_text("clé de contrôle")
    assert_accessible(page, javascript)
    field.fill(CCAS_METZ_SIRET)
    page.get_by_role("button", name="OK").click()
    # identity's password policy, beside the password field; everything else typed is kept.
    fill_personal(page, password="trop court")
    submit(page)
    expect(page.locator("#champ-password-erreur")).to_contain_text("au moins 15 caractères")
    expect(page.get_by_label("Mot de passe *")).to_have_attribute(
        "aria-describedby", "champ-password-aide champ-password-regles champ-password-erreur")
    expect(page.get_by_label("Nom *", exact=True)).to_have_value("Curie")
    expect(page.get_by_label("Identifiant *")).to_have_value("mcurie")
    expect(page.get_by_role("radio", name=f"SIRET {CCAS_METZ_SIRET}")).to_be_checked()
    assert_accessible(page, javascript)
    # A password holding the user's name: identity's other message, then accepted.
    page.get_by_label("Mot de passe *").fill("marie curie aime le radium et le polonium")
    submit(page)
    expect(page.locator("#champ-password-erreur")).to_contain_text("ni votre nom")
    page.get_by_label("Mot de passe *").fill(PASSWORD)
    submit(page)
    expect_sent(page, javascript)
    assert len(users(fresh_postgres_url)) == 1


@JS
def test_a_siren_lists_its_establishments_and_one_can_be_added(new_page, platform, fresh_postgres_url, javascript):
    page = new_page(javascript)
    start_with(page, platform["web"], TEST_SARL_SIREN, javascript)
    expect(page.get_by_text("Veuillez sélectionner l’établissement auquel vous êtes rattaché")).to_be_visible()
    expect(page.get_by_text("Nombre de résultats : 3")).to_be_visible()
    expect(page.get_by_role("radio", name=f"SIRET {TEST_SARL_SIRET}")).to_be_enabled()
    expect(page.get_by_role("radio", name=f"SIRET {CLOSED_SIRET}")).to_be_disabled()  # closed: not one's own
    expect(page.get_by_label("SIRET de l’établissement")).to_be_hidden()
    assert_accessible(page, javascript)
    fill_personal(page, login="jdupont", email="jean.dupont@example.fr", last="Dupont", first="Jean")
    page.get_by_role("button", name="+ Ajouter un établissement").click()
    new_siret = page.get_by_label("SIRET de l’établissement")
    expect(new_siret).to_be_visible()
    expect(page.get_by_role("radio", name="Nouvel établissement")).to_be_checked()
    expect(page.get_by_label("Identifiant *")).to_have_value("jdupont")  # kept when the page came back
    assert_accessible(page, javascript)
    # The registry's answer for a SIRET of another company, beside the field.
    new_siret.fill(CCAS_METZ_SIRET)
    page.get_by_label("Mot de passe *").fill(PASSWORD)
    submit(page)
    expect(page.locator("#champ-establishment-siret-erreur")).to_contain_text("SIRET d'une autre entreprise")
    expect(page.get_by_label("SIRET de l’établissement")).to_have_value(CCAS_METZ_SIRET)
    assert_accessible(page, javascript)
    page.get_by_text(f"SIRET {TEST_SARL_SECONDARY_SIRET}").click()
    page.get_by_label("Mot de passe *").fill(PASSWORD)
    submit(page)
    expect_sent(page, javascript, "jean.dupont@example.fr")
    [user] = users(fresh_postgres_url)
    assert user["login"] == "jdupont" and user["establishment_id"] is not None


@JS
def test_a_second_user_joins_a_company_that_already_has_accounts(new_page, platform, fresh_postgres_url,
                                                                 javascript):
    register(platform["identity"])  # the company's first user, its administrator
    page = new_page(javascript)
    start_with(page, platform["web"], CCAS_METZ_SIRET, javascript)
    fill_personal(page, last="Joliot", first="Irène", email="irene.joliot@example.fr", login="ijoliot")
    submit(page)
    expect_sent(page, javascript, "irene.joliot@example.fr")
    first, second = users(fresh_postgres_url)
    assert second["login"] == "ijoliot" and second["company_id"] == first["company_id"]
    assert second["establishment_id"] == first["establishment_id"]
    assert "supplier_admin" in first["roles"] and "supplier_admin" not in second["roles"]


@JS
def test_a_foreign_company_registers_with_its_country_and_national_identifier(new_page, platform, tmp_path,
                                                                             fresh_postgres_url, javascript):
    page = new_page(javascript)
    page.goto(platform["web"] + "/inscription")
    page.get_by_role("link", name="Entreprise étrangère (sans SIRET)").click()
    expect(page.get_by_text("Le symbole * indique les champs obligatoires")).to_be_visible()
    assert_accessible(page, javascript)
    page.get_by_label("Raison sociale *").fill("Beispiel GmbH")
    page.get_by_label("Lieu d’établissement (pays) *").select_option(label="Allemagne")
    page.get_by_label("Identifiant national *").fill("HRB 12345")
    page.get_by_label("Numéro de TVA intracommunautaire").fill("DE136695976")
    fill_personal(page, last="Müller", first="Anna", email="anna.mueller@example.de", login="amueller")
    page.get_by_role("button", name="+ Ajouter un établissement").click()
    page.get_by_label("Adresse", exact=True).fill("Hauptstraße 1")
    page.get_by_label("Code postal").fill("10115")
    page.get_by_label("Ville").fill("Berlin")
    expect(page.get_by_label("Lieu d’établissement (pays) *")).to_have_value("DE")
    page.get_by_label("Mot de passe *").fill(PASSWORD)
    assert_accessible(page, javascript)
    submit(page)
    expect_sent(page, javascript, "anna.mueller@example.de")
    [company] = rows(f"sqlite:///{tmp_path}/registry.db",
                     "SELECT source, country_code, national_id, vat_number, name FROM companies")
    assert company == {"source": "foreign", "country_code": "DE", "national_id": "HRB 12345",
                       "vat_number": "DE136695976", "name": "Beispiel GmbH"}
    [establishment] = rows(f"sqlite:///{tmp_path}/registry.db", "SELECT city, country_code FROM establishments")
    assert establishment == {"city": "Berlin", "country_code": "DE"}
    assert [u["login"] for u in users(fresh_postgres_url)] == ["amueller"]


@JS
def test_a_company_is_found_by_its_name_for_a_user_without_the_siret(new_page, platform, javascript):
    page = new_page(javascript)
    page.goto(platform["web"] + "/inscription")
    page.get_by_role("link", name="Vous ne connaissez pas le SIRET ? Rechercher l’entreprise par son nom").click()
    assert_accessible(page, javascript)
    page.get_by_label("Nom de l’entreprise").fill("Centre communal d'actoin sociâle")
    page.get_by_label("Code postal").fill("57000")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("CENTRE COMMUNAL D'ACTION SOCIALE")
    assert_accessible(page, javascript)
    page.get_by_role("link", name=f"Choisir CENTRE COMMUNAL D'ACTION SOCIALE (SIRET {CCAS_METZ_SIRET})").click()
    expect(page.locator("#donnees-insee")).to_contain_text(CCAS_METZ_SIREN)
    expect(page.get_by_role("radio", name=f"SIRET {CCAS_METZ_SIRET}")).to_be_checked()


def test_the_search_by_name_when_insee_is_down_leads_to_the_manual_form(new_page, platform, standin):
    standin.set_mode("503")
    page = new_page(False)
    page.goto(platform["web"] + "/inscription/recherche")
    page.get_by_label("Nom de l’entreprise").fill("test")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("alert")).to_have_text(INSEE_DOWN)
    assert_accessible(page, False)
    page.get_by_role("link", name="Renseigner les informations de l’entreprise").click()
    expect(page.get_by_label("Raison sociale *")).to_be_visible()
    expect(page.get_by_label("Forme juridique *")).to_be_visible()
    assert_accessible(page, False)


def test_the_registration_pages_are_in_english_with_the_switch(new_page, platform):
    page = new_page(True)
    page.goto(platform["web"] + "/inscription")
    page.get_by_role("link", name="EN – English").click()
    expect(page.get_by_role("heading", name="Registration")).to_be_visible()
    page.get_by_label("SIREN/SIRET").fill(CCAS_METZ_SIRET)
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="MY PERSONAL ACCOUNT")).to_be_visible()
    expect(page.get_by_text("Please select the establishment you belong to")).to_be_visible()
    expect(page.get_by_label("Last name *")).to_be_visible()
    assert_accessible(page)


def test_an_altered_state_field_is_not_trusted(new_page, platform):
    page = new_page(False)
    start_with(page, platform["web"], CCAS_METZ_SIRET, False)
    response = page.request.post(platform["web"] + "/inscription", form={
        "csrf_token": page.locator("input[name=csrf_token]").get_attribute("value"),
        "etat": page.locator("input[name=etat]").get_attribute("value")[:-3] + "abc", "action": "register"},
        max_redirects=0)
    assert response.status == 303 and response.headers["location"].endswith("/inscription")


def test_the_password_policy_identity_publishes_is_explained_as_the_user_types(new_page, platform):
    policy = requests.get(platform["identity"] + "/identity/password-policy", timeout=10).json()
    page = new_page(True)
    start_with(page, platform["web"], CCAS_METZ_SIRET, True)
    rules = page.locator("#champ-password-regles")
    expect(rules).to_be_visible()
    for rule in policy["rules"]:
        expect(rules).to_contain_text(rule["message"])  # identity's words, not the web app's
    length_rule = rules.locator("li[data-rule=length]")
    page.get_by_label("Mot de passe *").press_sequentially("court")
    expect(length_rule).to_have_class("achats-policy--unmet")
    expect(rules).to_contain_text("5 / 15")
    page.get_by_label("Mot de passe *").fill(PASSWORD)
    expect(length_rule).to_have_class("achats-policy--met")
    expect(page.locator("#champ-password-etat")).to_contain_text("✓")
    assert_accessible(page)


def test_without_javascript_the_policy_is_identitys_message_beside_the_field(new_page, platform):
    page = new_page(False)
    start_with(page, platform["web"], CCAS_METZ_SIRET, False)
    expect(page.locator("#champ-password-regles")).to_be_hidden()
    fill_personal(page, password="court")
    submit(page)
    expect(page.locator("#champ-password-erreur")).to_contain_text(
        "Le mot de passe doit contenir au moins 15 caractères")


def tab_to(page, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element has the focus, as a keyboard user does."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} never got the focus with Tab")


def test_registration_with_the_keyboard_only(new_page, platform, fresh_postgres_url):
    page = new_page(True)
    page.goto(platform["web"] + "/inscription")
    tab_to(page, "champ-siret")
    page.keyboard.type(CCAS_METZ_SIRET)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="MON COMPTE PERSONNEL")).to_be_visible()
    for element_id, text in (("champ-last-name", "Curie"), ("champ-first-name", "Marie"),
                             ("champ-email", "marie.curie@example.fr"), ("champ-phone", "+33 3 87 00 00 00"),
                             ("champ-login", "mcurie"), ("champ-password", PASSWORD)):
        tab_to(page, element_id)
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    # The next stop after the password is the form's button.
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Valider mon inscription"
    page.keyboard.press("Enter")
    expect_sent(page, True)
    assert [u["login"] for u in users(fresh_postgres_url)] == ["mcurie"]


def test_a_name_insee_does_not_publish_is_typed_by_the_user(new_page, platform, tmp_path):
    page = new_page(False)
    start_with(page, platform["web"], PARTIAL_SIRET, False)
    expect(page.locator("#donnees-insee")).to_contain_text("Non diffusée par l’INSEE")
    page.get_by_label("Raison sociale *").fill("Jeanne Martin")
    fill_personal(page, last="Martin", first="Jeanne", email="jeanne.martin@example.fr", login="jmartin")
    assert_accessible(page, False)
    submit(page)
    expect_sent(page, False, "jeanne.martin@example.fr")
    [company] = rows(f"sqlite:///{tmp_path}/registry.db", "SELECT source, name FROM companies")
    assert company == {"source": "insee", "name": "Jeanne Martin"}
