"""« Signer un document » and « Tester la configuration » with « Mon Assistant Marchés Publics » (issue 18): Chromium
against the real web app, the real signature service (its test PKI) and the real assistant's local server, started
here on a free port with a SoftHSM2 token holding Marie Curie's qualified key and a PIN provider standing for the
person at the assistant. Its allowed origin is the web app's: the page pairs (the code shown on the page is the one
the « person » accepts), lists the certificates, signs a PDF on the token, and the signed PDF downloaded is valid for
``pdfsig``. A page of another origin in the same browser gets nothing from the assistant and cannot make it sign.
JavaScript off: the French explanation and the PKCS#12 form."""

from __future__ import annotations

import http.server
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from achats.signature.testpki.samples import make_pdf

from web_support import PASSWORD, assert_accessible, register

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "assistant" / "tests"))

from assistant_support import PIN, SOFTHSM_MODULE, SoftHsm


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Person:
    """The person at the assistant: accepts the pairing whose code the page shows, types the PINs given."""

    def __init__(self) -> None:
        self.codes_seen_on_page: set[str] = set()
        self.page_code_read = threading.Event()
        self.pairings: list[tuple[str, str]] = []
        self.pins: list[str] = []
        self.asked: list = []

    def confirm(self, origin: str, code: str) -> bool:
        self.pairings.append((origin, code))
        self.page_code_read.wait(30)
        self.page_code_read.clear()
        return code in self.codes_seen_on_page

    def pin(self, info) -> str:
        self.asked.append(info)
        return self.pins.pop(0) if self.pins else PIN


@pytest.fixture
def assistant_port():
    return free_port()


@pytest.fixture
def platform(fresh_postgres_url, tmp_path, standin, assistant_port):
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, signature=True, helpdesk=True,
                          web_settings={"assistant_port": assistant_port}) as urls:
        yield urls


@pytest.fixture
def assistant(platform, assistant_port, tmp_path, monkeypatch):
    """The assistant's local server for the web app's origin, with a SoftHSM2 token (Marie Curie, id 01)."""
    from achats.assistant.server import Assistant, AssistantServer
    from achats.assistant.service import SignatureService
    from achats.assistant.tokens import Keystore

    pki = platform["pki"]
    hsm = SoftHsm(tmp_path / "softhsm")
    monkeypatch.setenv("SOFTHSM2_CONF", str(hsm.conf))
    hsm.import_key(pki.pki.folder / "qesig.key.pem", pki.pki.cert("qesig"), cka_id="01", label="qesig",
                   chain=pki.pki.chain("qesig"))
    keystore = Keystore(modules=[SOFTHSM_MODULE])
    keystore.refresh()
    person = Person()
    server = Assistant(keystore=keystore, origin=platform["web"], pin_provider=person.pin, confirm=person.confirm,
                       platform=platform["web"], signature=SignatureService(platform["signature"] + "/signature",
                                                                            None), tsa_url=pki.tsa_url)
    with AssistantServer(server, port=assistant_port) as running:
        yield running.url, person


@pytest.fixture
def elsewhere():
    """A page of another origin (another port of 127.0.0.1): nothing but an empty page."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><html lang=fr><title>Autre site</title><h1>Autre site</h1></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def logged_in(browser, platform, javascript: bool = True):
    register(platform["identity"])
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    return page


def pair(page, person: Person) -> None:
    page.get_by_role("button", name="Associer l’assistant").click()
    shown = page.locator("#assistant-code")
    expect(shown).to_contain_text("Code d’association")
    person.codes_seen_on_page.add(re.search(r"\b(\d{6})\b", shown.inner_text()).group(1))
    person.page_code_read.set()
    expect(page.locator("#assistant-statut")).to_contain_text("Cette page est associée à l’assistant.")


def test_a_pdf_is_signed_on_the_token_through_the_page(browser, platform, assistant, tmp_path):
    _url, person = assistant
    page = logged_in(browser, platform)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    expect(page.locator("#assistant-statut")).to_contain_text("« Mon Assistant Marchés Publics »")
    expect(page.get_by_role("button", name="Associer l’assistant")).to_be_visible()
    # The install instructions, behind « Afficher plus d'informations ».
    page.get_by_text("Afficher plus d’informations").click()
    expect(page.get_by_role("main")).to_contain_text("pipx install achats-assistant")
    expect(page.get_by_role("main")).to_contain_text("make assistant-zipapp")
    expect(page.locator("#assistant-sans-javascript")).to_be_hidden()
    assert_accessible(page)
    pair(page, person)
    assert person.pairings[-1][0] == platform["web"]
    certificate = page.get_by_role("radio", name=re.compile("Marie Curie"))
    expect(certificate).to_be_checked()
    expect(page.locator("#assistant-certificats")).to_contain_text("Émis par")
    page.get_by_label("Fichier à signer avec la carte ou la clé").set_input_files(
        {"name": "memoire.pdf", "mimeType": "application/pdf", "buffer": make_pdf()})
    assert_accessible(page)
    # A wrong PIN first: the assistant's message, in the alert near the form, which takes the focus.
    person.pins = ["9999"]
    page.get_by_role("button", name="Signer avec l’assistant").click()
    alert = page.get_by_role("alert").filter(has_text="Code PIN incorrect")
    expect(alert).to_be_visible(timeout=60_000)
    expect(alert).to_be_focused()
    assert [a.purpose for a in person.asked] == [{"origin": platform["web"], "documents": ["memoire.pdf"]}]
    assert_accessible(page)
    # Then the right one: the signed PDF is offered for download.
    page.get_by_role("button", name="Signer avec l’assistant").click()
    link = page.get_by_role("link", name=re.compile("Télécharger le document signé"))
    expect(link).to_be_visible(timeout=60_000)
    expect(page.get_by_role("alert")).to_be_hidden()
    with page.expect_download() as info:
        link.click()
    signed = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename.endswith(".pdf")
    path = tmp_path / info.value.suggested_filename
    path.write_bytes(signed)
    assert shutil.which("pdfsig"), "poppler-utils' pdfsig is missing"
    checked = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid." in checked.stdout, checked.stdout + checked.stderr
    assert "Marie Curie" in checked.stdout
    assert_accessible(page)


def test_a_refused_pairing_is_said_and_nothing_is_listed(browser, platform, assistant):
    _url, person = assistant
    page = logged_in(browser, platform)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    page.get_by_role("button", name="Associer l’assistant").click()
    expect(page.locator("#assistant-code")).to_be_visible()
    person.page_code_read.set()  # the person did not find the page's code in the assistant: refused
    alert = page.get_by_role("alert").filter(has_text="L’association a été refusée")
    expect(alert).to_be_visible()
    expect(alert).to_be_focused()
    expect(page.get_by_role("radio", name=re.compile("Marie Curie"))).to_have_count(0)
    assert_accessible(page)


def test_without_the_assistant_the_page_says_so(browser, platform):
    page = logged_in(browser, platform)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    alert = page.get_by_role("alert").filter(has_text="n’a pas été trouvé sur ce poste")
    expect(alert).to_be_visible()
    expect(page.get_by_role("button", name="Rechercher l’assistant")).to_be_visible()
    assert_accessible(page)


def test_a_page_of_another_origin_gets_nothing_and_cannot_sign(browser, platform, assistant, elsewhere):
    url, person = assistant
    page = logged_in(browser, platform)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    pair(page, person)
    expect(page.get_by_role("radio", name=re.compile("Marie Curie"))).to_be_checked()
    key = page.evaluate("() => sessionStorage.getItem('achats-assistant-cle')")
    assert key
    other = page.context.new_page()  # the same browser, another site
    other.goto(elsewhere)
    tried = other.evaluate("""async ([base, key]) => {
        const out = {};
        const attempt = async (name, path, init) => {
          try { const r = await fetch(base + path, init); out[name] = `status ${r.status}`; }
          catch (e) { out[name] = "rejected"; }
        };
        await attempt("status", "/v1/status", {});
        await attempt("certificates", "/v1/certificates", {headers: {Authorization: `Bearer ${key}`}});
        await attempt("pairing", "/v1/pairings", {method: "POST", headers: {"Content-Type": "application/json"},
                                                    body: JSON.stringify({code: "123456"})});
        await attempt("signature", "/v1/signatures", {method: "POST", headers: {"Content-Type": "application/json",
          Authorization: `Bearer ${key}`}, body: JSON.stringify({certificate: "x", data_to_be_signed: "eA=="})});
        // A simple request (no preflight), its answer unreadable anyway: still refused by the gate.
        await attempt("simple", "/v1/signatures", {method: "POST", mode: "no-cors",
          headers: {"Content-Type": "text/plain"},
          body: JSON.stringify({certificate: "x", data_to_be_signed: "eA=="})});
        return out;
      }""", [url, key])
    assert tried == {"status": "rejected", "certificates": "rejected", "pairing": "rejected",
                     "signature": "rejected", "simple": "status 0"}, tried
    assert person.asked == []  # no PIN was asked: nothing was signed
    assert [origin for origin, _ in person.pairings] == [platform["web"]]  # no pairing question for the other site


def test_without_javascript_the_page_explains_and_keeps_the_pkcs12_form(browser, platform):
    page = logged_in(browser, platform, javascript=False)
    page.goto(platform["web"] + "/outils-de-signature/signature")
    main = page.get_by_role("main")
    expect(main).to_contain_text("se fait depuis cette page avec JavaScript et « Mon Assistant Marchés Publics »")
    expect(page.get_by_label("Certificat (fichier PKCS#12)")).to_be_visible()
    expect(page.get_by_role("button", name="Signer le document")).to_be_visible()
    expect(page.get_by_role("button", name="Signer avec l’assistant")).to_be_hidden()
    expect(page.get_by_role("button", name="Associer l’assistant")).to_be_hidden()
    assert_accessible(page, javascript=False)


def test_the_configuration_test_shows_the_assistants_report_and_the_helpdesk_context_carries_it(
        browser, platform, assistant):
    _url, person = assistant
    page = logged_in(browser, platform)
    page.goto(platform["web"] + "/se-preparer-a-repondre/tester-la-configuration")
    expect(page.get_by_role("heading", name="Mon Assistant Marchés Publics")).to_be_visible()
    expect(page.locator("#assistant-sans-javascript")).to_be_hidden()
    assert_accessible(page)
    pair(page, person)
    page.locator("label").filter(has_text="Faire une signature de test").click()  # a DSFR checkbox: its label
    expect(page.get_by_label("Faire une signature de test")).to_be_checked()
    page.get_by_role("button", name="Lancer le test de l’assistant").click()
    report = page.get_by_role("table", name="Rapport de « Mon Assistant Marchés Publics »")
    expect(report).to_be_visible(timeout=90_000)
    # Beside the browser's own checks (the table above stays).
    expect(page.get_by_role("table", name="Résultat des vérifications")).to_be_visible()
    import platform as host

    from achats.assistant import __version__
    expect(report.get_by_role("row").filter(has_text="Version de l’assistant")).to_contain_text(__version__)
    expect(report.get_by_role("row").filter(has_text="Système d’exploitation")).to_contain_text(host.system())
    expect(report.get_by_role("row").filter(has_text="Cartes et clés")).to_contain_text("t")
    expect(report.get_by_role("row").filter(has_text="Certificats")).to_contain_text("Marie Curie")
    expect(report.get_by_role("row").filter(has_text="Signature de test")).to_contain_text(
        "La signature de test a été vérifiée par la plateforme.")
    expect(report.get_by_role("row").filter(has_text="Horloge (assistant)")).to_contain_text("à l'heure")
    expect(report.get_by_role("row").filter(has_text="Accès au service (platform)")).to_contain_text("répond")
    assert len(person.asked) == 1  # the test signature's PIN, asked in the assistant
    assert_accessible(page)
    # Then help is asked: « Contexte technique » carries the report's summary.
    page.goto(platform["web"] + "/assistance")
    context = page.locator("#contexte-technique")
    expect(context).to_contain_text(f"{__version__}; {host.system()}; 1 cert.; test passed")
    assert_accessible(page)


def test_the_configuration_test_without_javascript_says_what_is_needed(browser, platform):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(platform["web"] + "/se-preparer-a-repondre/tester-la-configuration")
    expect(page.get_by_role("main")).to_contain_text("Le test de « Mon Assistant Marchés Publics » depuis cette page "
                                                     "demande JavaScript")
    expect(page.get_by_role("button", name="Lancer le test de l’assistant")).to_be_hidden()
    assert_accessible(page, javascript=False)
    context.close()
