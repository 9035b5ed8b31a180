"""« Consultations de test » (issue 19): the list and its search from « Se préparer à répondre », a consultation's
page, and the DCE downloaded through the web app by a logged-in supplier, recorded for the supplier's company by the
consultations service (its table and its event) — each with JavaScript on and off, axe-core 0 violations."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import sqlalchemy
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, events, register

WORKS, SUPPLIES, SERVICES = "TEST-2026-TRX-001", "TEST-2026-FRN-002", "TEST-2026-SRV-003"


@pytest.fixture
def platform(fresh_postgres_url, create_postgres_database, tmp_path, standin):
    """identity, the registry and the web app, with the consultations service on its own PostgreSQL database."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin,
                          consultations=create_postgres_database("achats_consultations")) as urls:
        yield urls


def new_page(browser, javascript: bool):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    return context, context.new_page()


def references(page) -> list[str]:
    return page.get_by_role("table").get_by_role("link").all_inner_texts()


def search(page, **fields) -> None:
    for label, value in fields.items():
        field = page.get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Rechercher").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_list_and_its_search_from_se_preparer_a_repondre(browser, platform, javascript):
    context, page = new_page(browser, javascript)
    page.goto(platform["web"] + "/")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Se préparer à répondre").click()
    page.get_by_role("link", name="consultations de test").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultations de test")
    expect(page.get_by_text("Nombre de résultats : 3")).to_be_visible()
    # Soonest deadline first (the services contract rolls every 14 days, the supplies one 21, the works one 30).
    assert references(page) == [SERVICES, SUPPLIES, WORKS]
    assert_accessible(page, javascript)

    search(page, **{"Mots-clés": "desamiantage"})  # accents ignored, a lot's title
    assert references(page) == [WORKS]
    assert "q=desamiantage" in page.url, "a GET form: the search is the address"
    expect(page.get_by_label("Mots-clés")).to_have_value("desamiantage")

    page.get_by_role("link", name="Effacer la recherche").click()
    search(page, **{"Code CPV": "90000000"})  # the division 90 holds the cleaning services
    assert references(page) == [SERVICES]
    page.get_by_label("Code CPV").fill("")
    search(page, **{"Procédure": "Appel d’offres ouvert"})
    assert references(page) == [SUPPLIES, WORKS]
    search(page, **{"Type de marché": "Fournitures"})
    assert references(page) == [SUPPLIES]
    search(page, **{"Mots-clés": "nettoyage"})
    expect(page.get_by_text("Aucune consultation ne correspond à votre recherche.")).to_be_visible()
    assert_accessible(page, javascript)

    # A CPV code that is not one: the service's French message beside the field, what was typed kept.
    page.get_by_role("link", name="Effacer la recherche").click()
    search(page, **{"Code CPV": "45A"})
    expect(page.locator("#champ-cpv-erreur")).to_have_text(
        "Saisissez un code CPV de 2 à 8 chiffres, par exemple 45000000.")
    expect(page.get_by_label("Code CPV")).to_have_value("45A")
    expect(page.get_by_label("Code CPV")).to_have_attribute("aria-describedby", "champ-cpv-erreur")
    assert_accessible(page, javascript)
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_consultations_page_and_its_dce_downloaded_and_recorded_for_the_company(browser, platform, javascript):
    register(platform["identity"])
    context, page = new_page(browser, javascript)
    page.goto(platform["web"] + "/consultations")
    page.get_by_role("link", name=WORKS).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Réhabilitation du bâtiment d'essais thermiques du centre technique de Vernon")
    expect(page.locator("#reference")).to_have_text(WORKS)
    expect(page.get_by_text("Agence nationale d'études spatiales (fictive) — Direction des achats")).to_be_visible()
    expect(page.get_by_text("Appel d’offres ouvert")).to_be_visible()
    expect(page.get_by_text("45000000, 45262000, 45331000, 45310000")).to_be_visible()
    expect(page.get_by_role("cell", name="Gros œuvre et désamiantage")).to_be_visible()
    expect(page.get_by_role("cell", name="Électricité courants forts et faibles")).to_be_visible()
    expect(page.locator("#date-limite")).to_contain_text("(heure de Paris)")
    # Anonymous: the documents are named, downloading asks to log in first.
    expect(page.get_by_role("link", name="Télécharger tout le DCE (zip)")).to_have_count(0)
    assert_accessible(page, javascript)
    page.get_by_role("link", name="Se connecter pour télécharger").click()
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#reference")).to_have_text(WORKS)
    expect(page.locator("#telechargements")).to_have_text("Votre entreprise n’a pas encore téléchargé ce DCE.")
    assert_accessible(page, javascript)

    with page.expect_download() as got:
        page.get_by_role("link", name="Télécharger tout le DCE (zip)").click()
    download = got.value
    assert download.suggested_filename == f"DCE_{WORKS}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert sorted(archive.namelist()) == sorted(f"{WORKS}_{k}.pdf" for k in ("AE", "CCAP", "RC"))
    assert all(archive.read(name).startswith(b"%PDF-") for name in archive.namelist())
    with page.expect_download() as got:
        page.get_by_role("link", name="Télécharger Acte d’engagement").click()
    assert got.value.suggested_filename == f"{WORKS}_AE.pdf"
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF-")

    # Recorded by the service for the supplier's company, and shown on the page.
    company_id = user_company(platform["identity_database"], "mcurie")
    rows = recorded(platform["consultations_database"])
    assert rows == [(WORKS, company_id, "dce.zip"), (WORKS, company_id, "acte-engagement")]
    assert [(e["reference"], e["company_id"], e["document"]) for e in
            events(platform["consultations_database"], "consultations.dce.downloaded")] == rows
    page.reload()
    expect(page.locator("#telechargements li")).to_have_count(2)
    expect(page.locator("#telechargements li").first).to_contain_text("Acte d’engagement")
    context.close()


def test_an_anonymous_download_address_leads_to_the_login_page_and_nothing_is_recorded(context, platform):
    page = context.new_page()
    page.goto(platform["web"] + f"/consultations/{WORKS}/dce.zip")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    assert recorded(platform["consultations_database"]) == []


def test_an_unknown_reference_is_the_404_page(context, platform):
    page = context.new_page()
    answer = page.goto(platform["web"] + "/consultations/TEST-2026-XXX-999")
    assert answer.status == 404
    assert page.goto(platform["web"] + "/consultations/TEST-2026-TRX-001/dce/inconnu").status == 404


def user_company(database_url: str, login: str) -> str:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sqlalchemy.text("SELECT company_id FROM users WHERE login = :login"),
                                          {"login": login}).scalar_one())
    finally:
        engine.dispose()


def recorded(database_url: str) -> list[tuple[str, str, str]]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sqlalchemy.text(
                "SELECT c.reference, d.company_id, d.document FROM dce_downloads d "
                "JOIN consultations c ON c.id = d.consultation_id ORDER BY d.downloaded_at"))]
    finally:
        engine.dispose()
