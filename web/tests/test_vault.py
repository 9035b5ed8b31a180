"""« Coffre-fort » of « Mon entreprise » against the real identity and registry, in Chromium with JavaScript on
and off: the list (« Nombre de résultats »), upload, download, the registry's refusals beside the field, and
company B never reaching company A's documents."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import requests
from playwright.sync_api import expect

from achats.company_registry.standin.dataset import TEST_SARL_SIRET

from web_support import (
    PASSWORD,
    PDF,
    assert_accessible,
    confirm_email,
    put_document,
    register,
    screenshot,
    stored,
    tab_to,
)

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def register_company_b(identity_url: str, login: str = "pbrun", email: str = "paul.brun@example.fr") -> None:
    """An account of another company (the stand-in's test SARL), its e-mail confirmed."""
    answer = requests.post(f"{identity_url}/identity/registrations", json={
        "company": {"source": "insee"}, "establishment": {"siret": TEST_SARL_SIRET},
        "user": {"last_name": "Brun", "first_name": "Paul", "email": email, "phone": "+33 1 40 00 00 00"},
        "credentials": {"login": login, "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text
    confirm_email(identity_url, email)


def logged_in(browser, platform, javascript: bool, login: str = "mcurie"):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    return page


def to_vault(page, platform) -> None:
    page.goto(platform["web"] + "/compte")
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mon entreprise").click()
    page.get_by_role("navigation", name="Mon entreprise").get_by_role("link", name="Coffre-fort").click()
    expect(page.get_by_role("heading", name="Coffre-fort", exact=True)).to_be_visible()


def fill_upload(page, kind: str, label: str, valid_until: str, name: str, content: bytes, mime: str) -> None:
    page.get_by_label("Type de document").select_option(label=kind)
    page.get_by_label("Intitulé").fill(label)
    page.get_by_label("Date de fin de validité").fill(valid_until)
    page.get_by_label("Fichier").set_input_files({"name": name, "mimeType": mime, "buffer": content})


def test_the_vault_needs_a_login(context, platform):
    register(platform["identity"])
    page = context.new_page()
    page.goto(platform["web"] + "/entreprise/coffre-fort")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Coffre-fort", exact=True)).to_be_visible()
    expect(page.get_by_text("Nombre de résultats : 0")).to_be_visible()


@JS
def test_a_document_is_uploaded_listed_and_downloaded(browser, platform, javascript):
    register(platform["identity"])
    page = logged_in(browser, platform, javascript)
    to_vault(page, platform)
    expect(page.get_by_text("Nombre de résultats : 0")).to_be_visible()
    expect(page.get_by_text("Aucun document dans le coffre-fort.")).to_be_visible()
    assert_accessible(page, javascript)
    later = (date.today() + timedelta(days=200)).isoformat()
    fill_upload(page, "Extrait Kbis", "Kbis de décembre", later, "kbis-decembre.pdf", PDF, "application/pdf")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("status")).to_have_text("Le document a été ajouté au coffre-fort.")
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Kbis de décembre")
    expect(row.get_by_role("cell", name="Extrait Kbis")).to_be_visible()
    expect(row).to_contain_text("kbis-decembre.pdf")
    expect(row).to_contain_text(str(date.fromisoformat(later).year))
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "coffre-fort")
    [document] = stored(platform)
    assert (document["type"], document["label"], document["valid_until"]) == ("kbis", "Kbis de décembre", later)

    with page.expect_download() as download_info:
        row.get_by_role("link", name="Télécharger").click()
    download = download_info.value
    assert download.suggested_filename == "kbis-decembre.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == PDF
    answer = page.request.get(platform["web"] + f"/entreprise/coffre-fort/{document['id']}/telechargement")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert "kbis-decembre.pdf" in answer.headers["content-disposition"]
    assert answer.body() == PDF
    page.context.close()


@JS
def test_the_registrys_refusals_are_shown_beside_the_file_keeping_what_was_typed(browser, platform, javascript):
    register(platform["identity"])
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/entreprise/coffre-fort")
    # A text file: refused by its content, whatever its name says.
    fill_upload(page, "Attestation de vigilance URSSAF", "URSSAF 2026", "2026-12-31", "attestation.pdf",
                b"ceci n'est pas un PDF\n", "application/pdf")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator("#champ-file-erreur")).to_contain_text("Ce type de fichier n'est pas accepté.")
    expect(page.get_by_label("Fichier")).to_have_attribute("aria-describedby", "champ-file-erreur")
    expect(page.get_by_label("Type de document")).to_have_value("attestation_urssaf")
    expect(page.get_by_label("Intitulé")).to_have_value("URSSAF 2026")
    expect(page.get_by_label("Date de fin de validité")).to_have_value("2026-12-31")
    expect(page.get_by_text("Nombre de résultats : 0")).to_be_visible()
    assert_accessible(page, javascript)
    # Over the registry's size limit (10 Mo): its message, beside the field too.
    page.get_by_label("Fichier").set_input_files({"name": "gros.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF + b"0" * (10 * 1024 * 1024)})
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator("#champ-file-erreur")).to_contain_text("Le document dépasse la taille maximale autorisée")
    expect(page.get_by_label("Intitulé")).to_have_value("URSSAF 2026")
    assert_accessible(page, javascript)
    assert stored(platform) == []
    page.context.close()


@JS
def test_a_user_of_company_b_never_reaches_company_as_documents(browser, platform, javascript):
    register(platform["identity"])
    register_company_b(platform["identity"])
    secret = put_document(platform, "mcurie", "kbis", None, "kbis-de-a.pdf")
    page = logged_in(browser, platform, javascript, "pbrun")
    to_vault(page, platform)
    expect(page.get_by_text("Nombre de résultats : 0")).to_be_visible()
    expect(page.get_by_text("kbis-de-a.pdf")).to_have_count(0)
    for address in (f"/entreprise/coffre-fort/{secret['id']}/telechargement",
                    f"/entreprise/coffre-fort/{secret['id']}/suppression"):
        answer = page.goto(platform["web"] + address)
        assert answer.status == 404
        expect(page.get_by_role("heading", name="Page non trouvée")).to_be_visible()
        assert "kbis-de-a" not in page.content()
        assert_accessible(page, javascript)
    answer = page.request.get(platform["web"] + f"/entreprise/coffre-fort/{secret['id']}/telechargement")
    assert answer.status == 404 and PDF not in answer.body()
    # Nor delete it, even with a valid form of its own session.
    page.goto(platform["web"] + "/entreprise/coffre-fort")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(platform["web"] + f"/entreprise/coffre-fort/{secret['id']}/suppression",
                               form={"csrf_token": csrf})
    assert answer.status == 404
    assert [d["id"] for d in stored(platform, "mcurie")] == [secret["id"]]
    page.context.close()


@JS
def test_a_document_is_deleted_after_its_confirmation(browser, platform, javascript):
    register(platform["identity"])
    kept = put_document(platform, "mcurie", "attestation_fiscale", None, "fiscale.pdf")
    gone = put_document(platform, "mcurie", "kbis", None, "ancien-kbis.pdf")
    page = logged_in(browser, platform, javascript)
    to_vault(page, platform)
    expect(page.get_by_text("Nombre de résultats : 2")).to_be_visible()
    page.get_by_role("row").filter(has_text="ancien-kbis.pdf").get_by_role("link", name="Supprimer").click()
    expect(page.get_by_role("heading", name="Supprimer ce document")).to_be_visible()
    expect(page.get_by_text("ancien-kbis.pdf")).to_be_visible()
    assert_accessible(page, javascript)
    # « Annuler » changes nothing.
    page.get_by_role("link", name="Annuler").click()
    expect(page.get_by_text("Nombre de résultats : 2")).to_be_visible()
    page.get_by_role("row").filter(has_text="ancien-kbis.pdf").get_by_role("link", name="Supprimer").click()
    page.get_by_role("button", name="Supprimer définitivement ce document").click()
    expect(page.get_by_role("status")).to_have_text("Le document a été supprimé du coffre-fort.")
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    expect(page.get_by_text("ancien-kbis.pdf")).to_have_count(0)
    assert_accessible(page, javascript)
    assert [d["id"] for d in stored(platform)] == [kept["id"]]
    # Its address now answers the 404 page.
    answer = page.goto(platform["web"] + f"/entreprise/coffre-fort/{gone['id']}/suppression")
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Page non trouvée")).to_be_visible()
    page.context.close()


def test_badges_show_the_registrys_expired_and_expires_soon_status(browser, platform):
    register(platform["identity"])
    today = date.today()
    put_document(platform, "mcurie", "attestation_urssaf", (today - timedelta(days=1)).isoformat(), "perime.pdf")
    put_document(platform, "mcurie", "attestation_fiscale", (today + timedelta(days=5)).isoformat(), "bientot.pdf")
    put_document(platform, "mcurie", "kbis", (today + timedelta(days=200)).isoformat(), "valide.pdf")
    put_document(platform, "mcurie", "other", None, "sans-date.pdf")
    for javascript in (True, False):
        page = logged_in(browser, platform, javascript)
        page.goto(platform["web"] + "/entreprise/coffre-fort")
        expect(page.get_by_text("Nombre de résultats : 4")).to_be_visible()

        def row(name: str, page=page):
            return page.get_by_role("row").filter(has_text=name)

        expect(row("perime.pdf").locator(".fr-badge")).to_have_text("Expiré")
        expect(row("perime.pdf").locator(".fr-badge")).to_have_class(re.compile("fr-badge--error"))
        expect(row("bientot.pdf").locator(".fr-badge")).to_have_text("Expire bientôt")
        expect(row("bientot.pdf").locator(".fr-badge")).to_have_class(re.compile("fr-badge--warning"))
        expect(row("valide.pdf").locator(".fr-badge")).to_have_count(0)
        expect(row("sans-date.pdf")).to_contain_text("Sans date de fin")
        expect(row("sans-date.pdf").locator(".fr-badge")).to_have_count(0)
        assert_accessible(page, javascript)
        if javascript:
            screenshot(page, "coffre-fort-badges")
        page.context.close()
    # The same status as the registry's.
    assert {d["filename"]: (d["expired"], d["expires_soon"]) for d in stored(platform)} == {
        "perime.pdf": (True, False), "bientot.pdf": (False, True), "valide.pdf": (False, False),
        "sans-date.pdf": (False, False)}


def test_with_javascript_a_large_file_shows_its_progress_then_the_list_in_place(browser, platform):
    register(platform["identity"])
    page = logged_in(browser, platform, True)
    page.goto(platform["web"] + "/entreprise/coffre-fort")
    expect(page.get_by_role("progressbar")).to_be_hidden()
    # A slow line (1 MB/s up), so that the 6 MB take a few seconds, as on a real connection.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 1024 * 1024})
    page.evaluate("() => { window.sameDocument = true; }")
    big = PDF + b"0" * (6 * 1024 * 1024)
    fill_upload(page, "Attestation de régularité fiscale", "Attestation fiscale", "", "fiscale.pdf", big,
                "application/pdf")
    page.get_by_role("button", name="Déposer le document").click()
    bar = page.get_by_role("progressbar", name="Envoi du document")
    expect(bar).to_be_visible()
    # Part of the file sent, not all of it (polled from here: the page's CSP allows no eval for wait_for_function).
    seen = []
    for _ in range(200):
        seen.append(bar.evaluate("bar => bar.value"))
        if 0 < seen[-1] < 100:
            break
        page.wait_for_timeout(25)
    assert 0 < seen[-1] < 100, seen
    expect(page.locator("#progression-envoi-texte")).to_contain_text("% envoyés")
    assert_accessible(page)
    expect(page.get_by_role("status")).to_have_text("Le document a été ajouté au coffre-fort.", timeout=30_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    # The page updated in place (no reload), its address the list's.
    assert page.evaluate("() => window.sameDocument") is True
    assert page.url.endswith("/entreprise/coffre-fort?ajoute=1")
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="fiscale.pdf")).to_contain_text("6 Mo")
    expect(page.get_by_role("progressbar")).to_be_hidden()
    assert_accessible(page)
    [document] = stored(platform)
    assert document["size"] == len(big)
    # The form came back with the new page: a refusal is shown in place too, beside « Fichier ».
    fill_upload(page, "Extrait Kbis", "Kbis", "", "kbis.pdf", b"du texte\n", "application/pdf")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator("#champ-file-erreur")).to_contain_text("Ce type de fichier n'est pas accepté.")
    expect(page.get_by_label("Intitulé")).to_have_value("Kbis")
    assert page.evaluate("() => window.sameDocument") is True
    # Over the web app's own body limit (12 MB): its problem+json's French detail, beside « Fichier » too.
    page.get_by_label("Fichier").set_input_files({"name": "enorme.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF + b"0" * (13 * 1024 * 1024)})
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator("#champ-file-erreur")).to_contain_text("dépasse la taille maximale autorisée")
    expect(page.get_by_role("button", name="Déposer le document")).to_be_enabled()
    assert_accessible(page)
    assert len(stored(platform)) == 1
    page.context.close()


@JS
def test_upload_and_deletion_with_the_keyboard_only(browser, platform, javascript):
    register(platform["identity"])
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/entreprise/coffre-fort")
    tab_to(page, "champ-type")
    page.keyboard.press("ArrowDown")  # « Extrait Kbis », the first type
    page.keyboard.press("Tab")
    page.keyboard.type("Kbis au clavier")
    page.keyboard.press("Tab")
    tab_to(page, "champ-file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files({"name": "clavier.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Le document a été ajouté au coffre-fort.")
    [document] = stored(platform)
    assert (document["type"], document["label"], document["filename"]) == ("kbis", "Kbis au clavier", "clavier.pdf")
    tab_to(page, "supprimer-" + document["id"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Supprimer ce document")).to_be_visible()
    tab_to(page, "confirmer-suppression")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Le document a été supprimé du coffre-fort.")
    assert stored(platform) == []
    page.context.close()


def test_the_vault_in_english(browser, platform):
    register(platform["identity"])
    put_document(platform, "mcurie", "kbis", (date.today() - timedelta(days=3)).isoformat(), "old.pdf")
    page = logged_in(browser, platform, True)
    page.goto(platform["web"] + "/langue/en?next=/entreprise/coffre-fort")
    expect(page.get_by_role("heading", name="Document vault")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="old.pdf")
    expect(row.get_by_role("cell", name="Kbis extract")).to_be_visible()
    expect(row.locator(".fr-badge")).to_have_text("Expired")
    expect(page.get_by_label("Document type")).to_be_visible()
    expect(page.get_by_role("button", name="Upload the document")).to_be_visible()
    assert_accessible(page)
    page.context.close()


def test_an_account_without_a_company_gets_the_403_page(browser, platform, monkeypatch):
    """A support agent (identity's create-agent: no company in its token) has no vault of its own here."""
    from achats.identity.cli import main as identity_cli

    monkeypatch.setenv("DATABASE_URL", platform["identity_database"])
    monkeypatch.setenv("AMQP_URL", "memory://vault-agent")
    assert identity_cli(["create-agent", "--login", "agent.vault", "--email", "agent.vault@example.fr",
                         "--first-name", "Alice", "--last-name", "Martin", "--password", PASSWORD]) == 0
    page = logged_in(browser, platform, True, "agent.vault")
    answer = page.goto(platform["web"] + "/entreprise/coffre-fort")
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    assert_accessible(page)
    page.context.close()
