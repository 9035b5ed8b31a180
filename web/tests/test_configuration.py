"""« Se préparer à répondre » → « Tester la configuration »: the report of what the browser can check by itself,
in Chromium with JavaScript on and off, and the server's checks (user agent, cookies, upload) over HTTP."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from achats.web import configuration

from web_support import assert_accessible, screenshot

PAGE = "/se-preparer-a-repondre/tester-la-configuration"


def row(page, check: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=check, exact=True))


def badge(page, check: str):
    return row(page, check).locator(".fr-badge")


def open_report(page, web_url: str) -> None:
    page.goto(web_url + "/se-preparer-a-repondre")
    page.get_by_role("link", name="Tester la configuration").click()
    expect(page.get_by_role("heading", level=1, name="Tester la configuration")).to_be_visible()


def test_with_javascript_every_check_shows_its_result(context, web_alone):
    page = context.new_page()
    open_report(page, web_alone)
    expect(badge(page, "Navigateur et version")).to_have_text("Pris en charge")
    expect(badge(page, "Navigateur et version")).to_have_class(re.compile("fr-badge--success"))
    expect(row(page, "Navigateur et version")).to_contain_text("Chromium 156")
    expect(badge(page, "Cookies")).to_have_text("Activés")
    expect(badge(page, "JavaScript")).to_have_text("Activé")
    expect(badge(page, "JavaScript")).to_have_class(re.compile("fr-badge--success"))
    # The tests' server is plain HTTP: the server says so.
    expect(badge(page, "Connexion chiffrée (TLS)")).to_have_text("Non chiffrée")
    expect(badge(page, "Horloge de l’ordinateur")).to_have_text("À l’heure")
    expect(badge(page, "Horloge de l’ordinateur")).to_have_class(re.compile("fr-badge--success"))
    expect(badge(page, "Envoi d’un fichier d’essai")).to_have_text("Réussi")
    expect(row(page, "Envoi d’un fichier d’essai")).to_contain_text(
        re.compile(r"1,5 Mo envoyés en [\d,]+ s : débit d’envoi [\d  ,]+ Mo/s"))
    expect(page.get_by_role("heading", name="Mon Assistant Marchés Publics")).to_be_visible()
    expect(page.get_by_text("La configuration se teste aussi avec l’outil « Mon Assistant")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "tester-la-configuration")


def test_a_clock_far_from_the_servers_is_reported(browser, web_alone):
    context = browser.new_context(locale="fr-FR")
    # The computer's clock ten minutes ahead (Date.now() in the page).
    context.add_init_script("{ const real = Date.now; Date.now = () => real() + 600000; }")
    page = context.new_page()
    page.goto(web_alone + PAGE)
    expect(badge(page, "Horloge de l’ordinateur")).to_have_text("Décalée")
    expect(row(page, "Horloge de l’ordinateur")).to_contain_text("réglez la date et l’heure")
    assert_accessible(page)
    context.close()


def test_without_javascript_the_server_checks_and_the_upload_form(no_js_context, web_alone, tmp_path):
    page = no_js_context.new_page()
    open_report(page, web_alone)
    expect(badge(page, "Navigateur et version")).to_have_text("Pris en charge")
    expect(badge(page, "Cookies")).to_have_text("Activés")
    expect(badge(page, "JavaScript")).to_have_text("Désactivé")
    expect(badge(page, "JavaScript")).to_have_class(re.compile("fr-badge--warning"))
    expect(badge(page, "Connexion chiffrée (TLS)")).to_have_text("Non chiffrée")
    expect(badge(page, "Horloge de l’ordinateur")).to_have_text("Non vérifiable")
    expect(row(page, "Horloge de l’ordinateur")).to_contain_text("ne peut pas être comparée")
    expect(badge(page, "Envoi d’un fichier d’essai")).to_have_text("À faire")
    assert_accessible(page, javascript=False)
    # Sending nothing: the message beside the field.
    page.get_by_role("button", name="Envoyer le fichier d’essai").click()
    expect(page.get_by_label("Fichier d’essai")).to_have_accessible_description(
        re.compile("Choisissez un fichier à envoyer."))
    assert_accessible(page, javascript=False)
    test_file = tmp_path / "essai.bin"
    test_file.write_bytes(b"x" * (300 * 1024))
    page.get_by_label("Fichier d’essai").set_input_files(test_file)
    page.get_by_role("button", name="Envoyer le fichier d’essai").click()
    expect(badge(page, "Envoi d’un fichier d’essai")).to_have_text("Réussi")
    expect(row(page, "Envoi d’un fichier d’essai")).to_contain_text(
        re.compile(r"300 ko reçus en [\d,]+ s par le serveur \([\d  ,]+ (Mo|ko)/s\)"))
    expect(badge(page, "JavaScript")).to_have_text("Désactivé")
    assert_accessible(page, javascript=False)


@pytest.mark.parametrize(("user_agent", "result", "detail"), [
    ("Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)", "Non pris en charge",
     "Internet Explorer 10"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.60 Safari/537.36",
     "Version ancienne", "Chromium 100 est antérieur à la version minimale prise en charge (156)"),
], ids=["internet-explorer", "old-chrome"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_unsupported_browser_gets_the_warning(browser, web_alone, user_agent, result, detail, javascript):
    context = browser.new_context(locale="fr-FR", user_agent=user_agent, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(web_alone + PAGE)
    expect(badge(page, "Navigateur et version")).to_have_text(result)
    expect(badge(page, "Navigateur et version")).to_have_class(re.compile("fr-badge--warning"))
    expect(row(page, "Navigateur et version")).to_contain_text(detail)
    assert_accessible(page, javascript)
    context.close()


def test_cookies_refused_are_reported(web_alone):
    # The set-then-read redirect: a client that keeps no cookie comes back without it.
    first = requests.get(web_alone + PAGE, allow_redirects=False)
    assert first.status_code == 303 and configuration.COOKIE in first.cookies
    without = requests.get(web_alone + first.headers["Location"], allow_redirects=False)
    assert without.status_code == 200
    assert "Désactivés" in without.text and "Votre navigateur refuse les cookies" in without.text
    with requests.Session() as keeping:
        kept = keeping.get(web_alone + PAGE)
        assert kept.history[0].status_code == 303
        assert "Activés" in kept.text and "Votre navigateur accepte les cookies" in kept.text


def test_the_upload_endpoint_reads_and_answers_size_and_time(web_alone):
    with requests.Session() as browser_like:
        page = browser_like.get(web_alone + PAGE)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = browser_like.post(web_alone + PAGE + "/envoi", data={"csrf_token": token},
                                   files={"fichier": ("essai.bin", b"a" * 123_456)},
                                   headers={"Accept": "application/json"})
        assert answer.status_code == 200
        assert answer.json()["bytes"] == 123_456 and answer.json()["seconds"] >= 0
        refused = browser_like.post(web_alone + PAGE + "/envoi", files={"fichier": ("essai.bin", b"a")})
        assert refused.status_code == 403


@pytest.mark.parametrize(("user_agent", "expected"), [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 "
     "Safari/537.36", ("Chromium", 156)),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 "
     "Safari/537.36 Edg/141.0.0.0", ("Edge", 141)),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", ("Firefox", 140)),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", ("Safari", 18)),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 "
     "Safari/537.36 OPR/124.0.0.0", ("Opera", None)),
    ("curl/8.5.0", ("", None)),
])
def test_the_user_agent_is_read_against_the_supported_list(user_agent, expected):
    name, version, browser = configuration.identify(user_agent)
    assert (name, version if browser else None) == expected


def test_the_prerequisites_page_states_the_same_list(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/pre-requis-techniques")
    tested = [b for b in configuration.SUPPORTED_BROWSERS if b.tested]
    for browser in tested:
        expect(page.get_by_role("row", name=re.compile(f"{browser.name} {browser.minimum}"))).to_be_visible()
    others = ", ".join(f"{b.name} {b.minimum}" for b in configuration.SUPPORTED_BROWSERS if not b.tested)
    expect(page.get_by_text(f"à partir de {others}")).to_be_visible()
    page.get_by_role("link", name="Tester la configuration").click()
    expect(page.get_by_role("heading", level=1, name="Tester la configuration")).to_be_visible()


def test_with_javascript_the_forms_upload_keeps_the_servers_figures(context, web_alone, tmp_path):
    page = context.new_page()
    page.goto(web_alone + PAGE)
    expect(row(page, "Envoi d’un fichier d’essai")).to_contain_text("Mo/s")
    expect(page.get_by_label("Fichier d’essai")).to_have_accessible_name(re.compile("de 12 Mo au plus"))
    test_file = tmp_path / "essai.bin"
    test_file.write_bytes(b"y" * 2048)
    page.get_by_label("Fichier d’essai").set_input_files(test_file)
    page.get_by_role("button", name="Envoyer le fichier d’essai").click()
    expect(row(page, "Envoi d’un fichier d’essai")).to_contain_text(
        re.compile(r"2 ko reçus en [\d,]+ s par le serveur"))
    # The script ran (JavaScript « Activé ») and left the person's file's figures in place.
    expect(badge(page, "JavaScript")).to_have_text("Activé")
    page.wait_for_timeout(500)
    expect(row(page, "Envoi d’un fichier d’essai")).to_contain_text("2 ko reçus")
    assert_accessible(page)


def test_the_report_in_english(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/langue/en?next=" + PAGE)
    expect(page.get_by_role("heading", level=1, name="Test the configuration")).to_be_visible()
    expect(badge(page, "Browser and version")).to_have_text("Supported")
    expect(badge(page, "JavaScript")).to_have_text("Enabled")
    expect(badge(page, "Computer’s clock")).to_have_text("On time")
    expect(row(page, "Upload of a test file")).to_contain_text(
        re.compile(r"1\.5 MB sent in [\d.]+ s: upload speed .* MB/s"))
    expect(page.get_by_label("Test file")).to_have_accessible_name(re.compile("12 MB at most"))
    assert_accessible(page)


def test_with_javascript_an_https_address_is_reported_encrypted(browser, web_alone):
    # The page at an https:// address (served by the tests' plain HTTP server behind Playwright's routing, as
    # behind a TLS proxy): the server saw HTTP, the browser's own connection is encrypted.
    context = browser.new_context(locale="fr-FR")
    context.route("https://plateforme.test/**", lambda route: route.fulfill(
        response=route.fetch(url=route.request.url.replace("https://plateforme.test", web_alone))))
    page = context.new_page()
    page.goto("https://plateforme.test" + PAGE)
    expect(badge(page, "Connexion chiffrée (TLS)")).to_have_text("Chiffrée")
    expect(row(page, "Connexion chiffrée (TLS)")).to_contain_text("connexion chiffrée (HTTPS)")
    expect(badge(page, "Cookies")).to_have_text("Activés")
    expect(badge(page, "Envoi d’un fichier d’essai")).to_have_text("Réussi")
    context.close()


def test_the_report_has_no_french_left_in_english(context, web_alone):
    from test_catalog import PLACEHOLDER, english

    french = [m.id for m in english() if isinstance(m.id, str) and len(m.id) >= 12 and not PLACEHOLDER.search(m.id)
              and m.string and m.string != m.id]
    page = context.new_page()
    page.goto(web_alone + "/langue/en?next=" + PAGE)
    expect(badge(page, "Upload of a test file")).to_have_text("Succeeded")
    text = " ".join(page.locator("body").inner_text().split())
    assert not [f for f in french if " ".join(f.split()) in text]


def test_behind_the_gateway_its_https_is_reported_without_javascript(browser, web_alone):
    # The gateway sets X-Forwarded-Proto (the client's own is dropped there): the web app, reached only through
    # it, trusts that one hop, so the server-side check tells the truth without JavaScript too.
    context = browser.new_context(locale="fr-FR", java_script_enabled=False,
                                  extra_http_headers={"X-Forwarded-Proto": "https"})
    page = context.new_page()
    open_report(page, web_alone)
    expect(badge(page, "Connexion chiffrée (TLS)")).to_have_text("Chiffrée")
    context.close()
