"""« Outils de signature » against the real signature service (its test PKI, OCSP/CRL, TSA and trusted-list
stand-ins), in Chromium with JavaScript on and off: « Vérifier la signature électronique » (a signed PDF, a
detached CAdES, a tampered PDF, an enveloping .p7m; the PDF and ETSI XML reports downloaded) and « Signer un
document » (one shot with a PKCS#12, the result downloaded and verified again through the page; a wrong
password beside the field)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from achats.signature.testpki import samples
from achats.signature.testpki.samples import make_pdf

from web_support import PASSWORD, assert_accessible, register, screenshot

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
TEXT = "Mémoire technique — lot 2 : délais et moyens.\n".encode() * 40


@pytest.fixture
def platform(fresh_postgres_url, tmp_path, standin):
    """The platform with the signature service (its own PKI and stand-ins)."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, signature=True) as urls:
        yield urls


def off_loop(function, *args, **kwargs):
    """Run asyncio code (pyHanko's) in a thread: Playwright's sync API holds this thread's event loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def sign(*args, **kwargs) -> bytes:
    """A signature made with the service's own signing code (as services/signature's tests make them); the
    timestamp authority's stand-in may miss its 5 s on a loaded machine: tried again then."""
    from achats.signature.validation.common import DocumentRejected

    for attempt in range(3):
        try:
            return off_loop(samples.sign, *args, **kwargs)
        except DocumentRejected:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def new_page(browser, javascript: bool):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    return context.new_page()


def logged_in(browser, platform, javascript: bool):
    register(platform["identity"])
    page = new_page(browser, javascript)
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    return page


def to_verification(page, platform) -> None:
    page.goto(platform["web"] + "/outils-de-signature")
    expect(page.get_by_role("heading", name="Outils de signature", exact=True)).to_be_visible()
    page.get_by_role("link", name="Vérifier la signature électronique").click()
    expect(page.get_by_role("heading", name="Vérifier la signature électronique")).to_be_visible()


def verify(page, javascript: bool, document: tuple[str, bytes], signature: tuple[str, bytes] | None = None,
           heading: str = "Rapport de vérification de signature") -> None:
    """Send the form; then wait for the answer (a loaded machine makes the service's verification slow)."""
    page.get_by_label("Document signé").set_input_files(
        {"name": document[0], "mimeType": "application/octet-stream", "buffer": document[1]})
    if signature:
        page.get_by_label("Signature détachée").set_input_files(
            {"name": signature[0], "mimeType": "application/octet-stream", "buffer": signature[1]})
    if javascript:
        # With JavaScript the files go by XMLHttpRequest (the upload's progress), the answer shown in place.
        with page.expect_request(lambda r: r.method == "POST" and "/outils-de-signature/verification" in r.url) as sent:
            page.get_by_role("button", name="Vérifier la signature").click()
        assert sent.value.resource_type == "xhr"
        # The answer replaces the page's content once the service has verified (the first waits for the lists).
        expect(page.locator("main button[type=submit][disabled]")).to_have_count(0, timeout=90_000)
    else:
        with page.expect_navigation(timeout=90_000):
            page.get_by_role("button", name="Vérifier la signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading, timeout=30_000)


def choose(page, name: str) -> None:
    """A DSFR radio: its label is what a person clicks."""
    page.locator("label:visible").filter(has_text=name).click()
    expect(page.get_by_role("radio", name=name)).to_be_checked()


def fill_signing(page, platform, name: str, media_type: str, content: bytes, *, format_label: str | None = None,
                 password: str | None = None) -> None:
    """« Signer un document » filled as a person does: the document, the format (when ``format_label``), Marie
    Curie's PKCS#12 file and its password (``password`` another one)."""
    pki = platform["pki"]
    page.get_by_label("Document à signer").set_input_files({"name": name, "mimeType": media_type, "buffer": content})
    if format_label:
        choose(page, format_label)
    page.get_by_label("Certificat (fichier PKCS#12)").set_input_files(
        {"name": "marie-curie.p12", "mimeType": "application/x-pkcs12", "buffer": pki.pki.p12("qesig")})
    page.get_by_label("Mot de passe du certificat").fill(pki.pki.password if password is None else password)


def row(page, index: int, header: str):
    table = page.locator(f"#signature-{index}")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=header, exact=True))


def downloaded(page, link_name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def p7m(pki, content: bytes) -> bytes:
    """An enveloping CAdES made by pyHanko (as services/signature's tests make one)."""
    from pyhanko.sign import signers

    async def run() -> bytes:
        signer = signers.SimpleSigner.load_pkcs12_data(pki.pki.p12("qesig"), other_certs=[],
                                                       passphrase=pki.pki.password.encode())
        return (await signer.async_sign_general_data(content, "sha256", detached=False, use_cades=True)).dump()
    return off_loop(asyncio.run, run())


@JS
def test_a_signed_pdf_is_verified_and_its_reports_downloaded(browser, platform, javascript):
    signed = sign(platform["pki"], "qesig", make_pdf(), level="B-T")
    page = new_page(browser, javascript)
    to_verification(page, platform)
    assert_accessible(page, javascript)
    verify(page, javascript, ("offre-signee.pdf", signed))
    expect(page.get_by_role("heading", name="Rapport de vérification de signature")).to_be_visible()
    expect(page.locator("#verdict-document")).to_contain_text("Signature conforme à l'arrêté du 22 mars 2019")
    expect(page.locator("#verdict-document")).to_contain_text("Validation réussie (TOTAL_PASSED)")
    # What a person must still check: the signer's identity and power (never automated, art. 5).
    expect(page.locator("#verdict-document")).to_contain_text("Vérifier l'identité du signataire (Marie Curie)")
    expect(page.get_by_role("table", name="Signature 1 : Marie Curie")).to_be_visible()
    expect(row(page, 1, "Signataire")).to_contain_text("Marie Curie")
    expect(row(page, 1, "Émetteur du certificat")).to_contain_text("Nom commun : ")
    expect(row(page, 1, "Qualification")).to_contain_text("QESig")
    expect(row(page, 1, "Liste de confiance")).to_contain_text("Pays : FR")
    expect(row(page, 1, "Format")).to_contain_text("PAdES-BASELINE-T")
    expect(row(page, 1, "Horodatage")).to_contain_text("Horodatage valide")
    expect(row(page, 1, "Intégrité")).to_contain_text("Document intact")
    expect(row(page, 1, "Révocation")).to_contain_text("Certificat non révoqué")
    expect(row(page, 1, "Date de signature déclarée")).to_contain_text(re.compile(r"\d{4} \d\d:\d\d:\d\d"))
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "verification-signature")
    name, pdf = downloaded(page, "Rapport de vérification (PDF)")
    assert pdf.startswith(b"%PDF-") and name.endswith(".pdf")
    name, xml = downloaded(page, "Rapport de validation ETSI (XML)")
    assert xml.lstrip().startswith(b"<?xml") and b"ValidationReport" in xml and name.endswith(".xml")
    # The types sent with them are the service's.
    verification = page.url.rsplit("/", 1)[1]
    base = f"{platform['web']}/outils-de-signature/verification/{verification}"
    answer = page.context.request.get(f"{base}/rapport.pdf")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert page.context.request.get(f"{base}/rapport.xml").headers["content-type"].startswith("application/xml")
    # No signed content for a PDF: the signed file is the one sent.
    expect(page.get_by_role("link", name=re.compile("Contenu signé"))).to_have_count(0)
    assert page.context.request.get(f"{base}/contenu-signe").status == 404


@JS
def test_a_file_with_its_detached_cades_is_verified(browser, platform, javascript):
    p7s = sign(platform["pki"], "qesig", TEXT, format="cades", filename="memoire.txt")
    page = new_page(browser, javascript)
    to_verification(page, platform)
    verify(page, javascript, ("memoire.txt", TEXT), ("memoire.txt.p7s", p7s))
    expect(page.locator("#verdict-document")).to_contain_text("Signature conforme à l'arrêté du 22 mars 2019")
    expect(page.get_by_role("main")).to_contain_text("Signature détachée : memoire.txt.p7s")
    expect(row(page, 1, "Format")).to_contain_text("CAdES-BASELINE-B, détachée")
    expect(row(page, 1, "Intégrité")).to_contain_text("Document intact")
    assert_accessible(page, javascript)


@JS
def test_a_tampered_pdf_is_reported_non_compliant(browser, platform, javascript):
    signed = bytearray(sign(platform["pki"], "qesig", make_pdf()))
    signed[300] ^= 0x01  # one byte, inside the signed range
    page = new_page(browser, javascript)
    to_verification(page, platform)
    verify(page, javascript, ("offre.pdf", bytes(signed)))
    expect(page.locator("#verdict-document")).to_contain_text("Signature non conforme")
    expect(page.locator("#verdict-document")).to_contain_text("Validation en échec (TOTAL_FAILED)")
    expect(row(page, 1, "Intégrité")).to_contain_text("Document modifié depuis la signature")
    expect(row(page, 1, "Validation ETSI")).to_contain_text("HASH_FAILURE")
    assert_accessible(page, javascript)


@JS
def test_an_enveloping_p7m_gives_its_signed_content(browser, platform, javascript):
    pdf = make_pdf("Acte d'engagement")
    page = new_page(browser, javascript)
    to_verification(page, platform)
    verify(page, javascript, ("offre.pdf.p7m", p7m(platform["pki"], pdf)))
    expect(row(page, 1, "Format")).to_contain_text("enveloppante")
    name, content = downloaded(page, "Contenu signé : offre.pdf")
    assert (name, content) == ("offre.pdf", pdf)
    assert_accessible(page, javascript)


@JS
def test_a_file_that_is_no_signature_is_refused_beside_the_field(browser, platform, javascript):
    page = new_page(browser, javascript)
    to_verification(page, platform)
    verify(page, javascript, ("notes.pdf", b"juste du texte, ni PDF ni signature\n" * 10),
           heading="Vérifier la signature électronique")
    field = page.get_by_label("Document signé")
    expect(field).to_have_accessible_description(re.compile("ni un PDF ni une signature électronique reconnue"),
                                                 timeout=30_000)
    expect(page.get_by_role("heading", name="Vérifier la signature électronique")).to_be_visible()
    assert_accessible(page, javascript)


@JS
def test_a_one_shot_signature_is_downloaded_and_verified_again(browser, platform, javascript):
    pdf = make_pdf("Offre de Curie SAS — lot 1")
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/outils-de-signature")
    page.get_by_role("link", name="Signer un document").click()
    expect(page.get_by_role("heading", name="Signer un document")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("ils ne sont jamais enregistrés")
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "signer-un-document")
    fill_signing(page, platform, "offre.pdf", "application/pdf", pdf, format_label="PAdES (signature intégrée au PDF)")
    with page.expect_download() as info:
        page.get_by_role("button", name="Signer le document").click()
    assert info.value.suggested_filename == "offre-signe.pdf"
    signed = Path(info.value.path()).read_bytes()
    assert signed.startswith(b"%PDF-") and len(signed) > len(pdf)
    # Verified again through the page.
    to_verification(page, platform)
    verify(page, javascript, ("offre-signe.pdf", signed))
    expect(page.locator("#verdict-document")).to_contain_text("Signature conforme à l'arrêté du 22 mars 2019")
    expect(row(page, 1, "Signataire")).to_contain_text("Marie Curie")
    expect(row(page, 1, "Format")).to_contain_text("PAdES-BASELINE-B")


@JS
def test_a_detached_xades_one_shot_is_verified_with_its_file(browser, platform, javascript):
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    fill_signing(page, platform, "memoire.txt", "text/plain", TEXT, format_label="XAdES détachée (.xml)")
    with page.expect_download() as info:
        page.get_by_role("button", name="Signer le document").click()
    assert info.value.suggested_filename == "memoire.txt.xades.xml"
    token = Path(info.value.path()).read_bytes()
    to_verification(page, platform)
    verify(page, javascript, ("memoire.txt", TEXT), ("memoire.txt.xades.xml", token))
    expect(page.locator("#verdict-document")).to_contain_text("Signature conforme à l'arrêté du 22 mars 2019")
    expect(row(page, 1, "Format")).to_contain_text("XAdES-BASELINE-B, détachée")


@JS
def test_a_wrong_pkcs12_password_is_shown_beside_the_field(browser, platform, javascript):
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    fill_signing(page, platform, "offre.pdf", "application/pdf", make_pdf(), password="pas le bon mot de passe")
    page.get_by_role("button", name="Signer le document").click()
    expect(page.get_by_label("Certificat (fichier PKCS#12)")).to_have_accessible_description(
        re.compile("mot de passe est incorrect"), timeout=30_000)
    # The password is never sent back in the page.
    expect(page.get_by_label("Mot de passe du certificat")).to_have_value("")
    assert "pas le bon mot de passe" not in page.content()
    assert_accessible(page, javascript)


@JS
def test_pades_for_a_file_that_is_no_pdf_is_refused_beside_the_field(browser, platform, javascript):
    page = logged_in(browser, platform, javascript)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    fill_signing(page, platform, "memoire.txt", "text/plain", TEXT, format_label="PAdES (signature intégrée au PDF)")
    page.get_by_role("button", name="Signer le document").click()
    expect(page.get_by_label("Document à signer")).to_have_accessible_description(
        re.compile("Un fichier PDF est attendu"), timeout=30_000)
    expect(page.get_by_role("main")).to_contain_text("choisissez CAdES ou XAdES")
    expect(page.get_by_role("radio", name="PAdES (signature intégrée au PDF)")).to_be_checked()
    assert_accessible(page, javascript)


@JS
def test_signing_needs_a_login_and_explains_the_assistant(browser, platform, javascript):
    page = new_page(browser, javascript)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    expect(page.get_by_role("heading", name="Signer un document")).to_be_visible()
    expect(page.get_by_label("Certificat (fichier PKCS#12)")).to_have_count(0)
    details = page.get_by_text("Une fois l’application « Mon Assistant Marchés Publics » installée")
    expect(details).to_be_hidden()
    page.get_by_text("Afficher plus d’informations").click()
    expect(details).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("QCert for ESig")
    assert_accessible(page, javascript)
    page.get_by_role("link", name="Se connecter pour signer").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()


@JS
def test_a_detached_signature_over_the_services_limit_is_refused_beside_its_field(browser, platform, javascript):
    page = new_page(browser, javascript)
    to_verification(page, platform)
    # A CMS of 6 MB: under the web app's 12 MB body limit, over the service's 5 MiB for a detached signature.
    big = p7m(platform["pki"], b"A" * (6 * 1024 * 1024))
    verify(page, javascript, ("memoire.txt", TEXT), ("memoire.txt.p7s", big),
           heading="Vérifier la signature électronique")
    expect(page.get_by_label("Signature détachée")).to_have_accessible_description(
        re.compile("Taille maximale : 5 Mo"), timeout=30_000)
    expect(page.get_by_role("alert")).to_contain_text("dépasse la taille maximale autorisée")
    assert_accessible(page, javascript)


def test_the_signature_tools_in_english(browser, platform):
    from test_catalog import PLACEHOLDER, english

    catalog = english()
    french = [m.id for m in catalog if isinstance(m.id, str) and m.id and len(m.id) >= 12
              and not PLACEHOLDER.search(m.id) and m.string and m.string != m.id]
    page = new_page(browser, True)
    page.goto(platform["web"] + "/outils-de-signature")
    page.get_by_role("banner").get_by_role("link", name="EN – English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Verify the electronic signature").click()
    page.get_by_label("Signed document").set_input_files(
        {"name": "offre.pdf", "mimeType": "application/pdf", "buffer": sign(platform["pki"], "qesig", make_pdf())})
    page.get_by_role("button", name="Verify the signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signature verification report", timeout=90_000)
    expect(row(page, 1, "Signer")).to_contain_text("Marie Curie")
    expect(row(page, 1, "Revocation")).to_contain_text("Certificate not revoked")
    for path in (page.url, platform["web"] + "/outils-de-signature/signature"):
        page.goto(path)
        text = " ".join(page.locator("body").inner_text().split())
        left = [f for f in french if " ".join(f.split()) in text]
        assert not left, f"{path} still shows French in English: {left}"
    expect(page.get_by_role("link", name="Log in to sign")).to_be_visible()
    assert_accessible(page)


@JS
def test_a_report_past_the_services_retention_says_so(browser, platform, javascript):
    import sqlalchemy

    page = new_page(browser, javascript)
    to_verification(page, platform)
    verify(page, javascript, ("offre.pdf", sign(platform["pki"], "qesig", make_pdf())))
    address = page.url
    # What the service's purge does after REPORT_RETENTION: the report goes, the audit record stays.
    engine = sqlalchemy.create_engine(platform["signature_database"])
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DELETE FROM verification_reports"))
    engine.dispose()
    page.goto(address)
    expect(page.get_by_role("main")).to_contain_text("Ce rapport n’est plus disponible (il est conservé 24 heures)")
    expect(page.get_by_role("main")).to_contain_text("verdict « conforme »")
    expect(page.get_by_role("link", name="Rapport de vérification (PDF)")).to_have_count(0)
    # An old download link leads to that page.
    page.goto(address + "/rapport.pdf")
    expect(page.get_by_role("heading", name="Rapport de vérification de signature")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Ce rapport n’est plus disponible")
    assert_accessible(page, javascript)


@JS
def test_a_document_over_12_mb_is_the_services_to_judge(browser, platform, javascript):
    """The signature tools' pages take 55 MB (errors.PAGE_BODY_LIMITS, the gateway's PAGE_RULES): a 13 MB file,
    over the other pages' 12 MB, reaches the service, whose own judgement is shown beside « Document signé »."""
    page = new_page(browser, javascript)
    to_verification(page, platform)
    verify(page, javascript, ("gros.pdf", b"juste du texte, ni PDF ni signature\n" * (13 * 1024 * 1024 // 36)),
           heading="Vérifier la signature électronique")
    field = page.get_by_label("Document signé")
    expect(field).to_have_accessible_description(re.compile("ni un PDF ni une signature électronique reconnue"),
                                                 timeout=90_000)
    expect(page.get_by_role("heading", name="Fichier trop volumineux")).not_to_be_visible()
    assert_accessible(page, javascript)
