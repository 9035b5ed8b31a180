"""Issue 19, a practice answer from the download to the receipt as a supplier makes it, in Chromium, with the real
signature service behind the consultations service: the acte d'engagement downloaded from the DCE, signed one
shot with a PKCS#12 on « Signer un document », deposited with an unsigned memoir; the service refuses until the
user confirms the invalid signature (the box beside the refusal), then the deposit shows each file's verdict —
JavaScript on and off, axe-core 0 violations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_signature_tools import choose

from web_support import PASSWORD, assert_accessible, register

WORKS = "TEST-2026-TRX-001"


@pytest.fixture
def platform(fresh_postgres_url, create_postgres_database, tmp_path, standin):
    """identity, the registry, the signature service (its test PKI and stand-ins), the consultations service
    verifying every file with it, and the web app."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, signature=True,
                          consultations=create_postgres_database("achats_consultations")) as urls:
        yield urls


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_signed_acte_d_engagement_and_an_unsigned_file_confirmed(browser, platform, tmp_path, javascript):
    register(platform["identity"])
    web, pki = platform["web"], platform["pki"].pki
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()
    page.goto(web + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()

    # The acte d'engagement, from the consultation's DCE.
    page.goto(f"{web}/consultations/{WORKS}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger Acte d’engagement").click()
    acte = tmp_path / download.value.suggested_filename
    download.value.save_as(acte)
    assert acte.read_bytes().startswith(b"%PDF")

    # Signed one shot with the supplier's PKCS#12 (PAdES): the signed copy comes back as a download.
    page.goto(web + "/outils-de-signature/signature")
    page.get_by_label("Document à signer").set_input_files(acte)
    choose(page, "PAdES (signature intégrée au PDF)")
    page.get_by_label("Certificat (fichier PKCS#12)").set_input_files(
        {"name": "marie-curie.p12", "mimeType": "application/x-pkcs12", "buffer": pki.p12("qesig")})
    page.get_by_label("Mot de passe du certificat").fill(pki.password)
    with page.expect_download() as download:
        page.get_by_role("button", name="Signer le document").click()
    signed = tmp_path / download.value.suggested_filename
    download.value.save_as(signed)
    assert signed.name.endswith("-signe.pdf")

    # « Répondre »: the signed acte and an unsigned memoir in the offer.
    memoir = tmp_path / "memoire-technique.pdf"
    memoir.write_bytes(b"%PDF-1.7\n% memoire\n" + b"memoire technique " * 200 + b"\n%%EOF\n")
    page.goto(f"{web}/consultations/{WORKS}/lots/1/repondre")
    page.get_by_label("Offre").set_input_files([signed, memoir])
    page.get_by_role("button", name="Déposer").click()
    # Refused until confirmed: the service's French reason beside « Offre », the box to confirm, nothing stored.
    expect(page.locator("#champ-offre-erreur")).to_contain_text(
        "« memoire-technique.pdf » : aucune signature électronique.")
    expect(page.locator("#champ-offre-erreur")).not_to_contain_text(signed.name)
    confirm = page.get_by_label("J’ai pris connaissance que la signature de certains fichiers n’est pas valide et "
                                "je dépose tout de même ma réponse")
    expect(confirm).not_to_be_checked()
    assert_accessible(page, javascript)
    page.goto(web + "/consultations/mes-reponses")
    expect(page.get_by_text("Nombre de résultats : 0")).to_be_visible()

    # The user confirms (the files chosen again, as a person does after a refusal without JavaScript).
    page.goto(f"{web}/consultations/{WORKS}/lots/1/repondre")
    page.get_by_label("Offre").set_input_files([signed, memoir])
    page.get_by_role("button", name="Déposer").click()
    page.locator("label[for=champ-confirmation]").click()  # a DSFR checkbox: its label is what one clicks
    expect(confirm).to_be_checked()
    page.get_by_label("Offre").set_input_files([signed, memoir])
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dépôt pour le lot 1")
    expect(page.get_by_role("status")).to_contain_text("Votre réponse a été déposée")
    verdicts = dict(zip(page.locator("td.achats-fichier").all_inner_texts(),
                        page.locator("td.achats-signature").all_inner_texts(), strict=True))
    assert verdicts == {signed.name: "Conforme", memoir.name: "Aucune signature électronique"}
    assert_accessible(page, javascript)
    # The receipt says the same, and that the user confirmed.
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l’accusé de réception (PDF)").click()
    receipt = tmp_path / "accuse.pdf"
    download.value.save_as(receipt)
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(receipt), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert f"{signed.name} (" in text and "signature conforme" in text
    assert f"{memoir.name} (" in text and "aucune signature électronique" in text
    assert "Le déposant a confirmé déposer des fichiers dont la signature n'est pas valide." in text
    context.close()
    assert Path(signed).stat().st_size > Path(acte).stat().st_size
