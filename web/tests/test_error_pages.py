"""The pages of the errors the gateway answers for pages (issue 15 item 8) and the web app's own body limit:
French, in the layout, accessible, never indexed; a script asking JSON keeps the problem."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from web_support import assert_accessible

HEADINGS = {413: "Fichier trop volumineux", 429: "Trop de demandes",
            502: "Le service n’a pas répondu correctement", 503: "Service indisponible",
            504: "Le service n’a pas répondu à temps"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_gateways_error_pages_are_french_dsfr_pages(browser, web_alone, javascript):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    for status, heading in HEADINGS.items():
        answer = page.goto(f"{web_alone}/erreur/{status}")
        # 200 here: the gateway fills in the status when it serves the page.
        assert answer.status == 200 and "noindex" in answer.headers["x-robots-tag"]
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(page.get_by_text(f"Erreur {status}")).to_be_visible()
        expect(page.get_by_role("banner")).to_be_visible()
        expect(page.get_by_role("main").get_by_role("link", name="Page d’accueil")).to_have_attribute("href", "/")
        assert "Traceback" not in page.content()
        assert_accessible(page, javascript)
    # What the gateway knows of the refusal, in words.
    page.goto(f"{web_alone}/erreur/413?limite={55 * 1024 * 1024}")
    expect(page.get_by_text("Le contenu envoyé dépasse la taille maximale autorisée (55 Mo).")).to_be_visible()
    page.goto(f"{web_alone}/erreur/429?attente=40")
    expect(page.get_by_text("Réessayez dans 40 secondes.")).to_be_visible()
    page.goto(f"{web_alone}/erreur/429?attente=120")
    expect(page.get_by_text("Réessayez dans 2 minutes.")).to_be_visible()
    context.close()


def test_only_the_known_statuses_have_a_page(web_alone):
    for status in (200, 400, 401, 418, 500, 999):
        assert requests.get(f"{web_alone}/erreur/{status}").status_code == 404, status


def test_a_form_over_the_body_limit_without_javascript_gets_the_413_page(browser, web_alone):
    """A body over its page's limit (12 MB for /connexion, errors.body_limit) is refused when the form is read:
    a form posted by the browser gets the DSFR page, with the limit; a script asking JSON keeps the
    problem+json and its French detail."""
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{web_alone}/erreur/413")
    page.set_content('<html lang="fr"><head><title>Envoi</title></head><body><main><form method="post" '
                     'action="/connexion" enctype="multipart/form-data"><label for="f">Fichier</label>'
                     '<input id="f" type="file" name="file"><button type="submit">Envoyer</button></form></main>'
                     '</body></html>')
    page.get_by_label("Fichier").set_input_files({"name": "enorme.pdf", "mimeType": "application/pdf",
                                                  "buffer": b"%PDF-1.7\n" + b"0" * (13 * 1024 * 1024)})
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Envoyer").click()
    answer = navigation.value
    assert answer.status == 413 and answer.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1, name="Fichier trop volumineux")).to_be_visible()
    expect(page.get_by_text("Le contenu envoyé dépasse la taille maximale autorisée (12 Mo).")).to_be_visible()
    expect(page.get_by_role("link", name="Page d’accueil").first).to_be_visible()
    assert_accessible(page, javascript=False)
    context.close()
    big = b"x" * (13 * 1024 * 1024)
    html = requests.post(f"{web_alone}/connexion", data=big, headers={"Accept": BROWSER_ACCEPT})
    assert (html.status_code, html.headers["content-type"]) == (413, "text/html; charset=utf-8")
    assert "Fichier trop volumineux" in html.text
    for accept in ("*/*", "application/json", "application/problem+json, text/html;q=0.9"):
        problem = requests.post(f"{web_alone}/connexion", data=big, headers={"Accept": accept})
        assert (problem.status_code, problem.headers["content-type"]) == (413, "application/problem+json"), accept
        assert problem.json()["detail"] == "Le contenu envoyé dépasse la taille maximale autorisée (12 Mo)."


@pytest.fixture(scope="module")
def through_gateway(web_alone):
    """The real gateway in front of the web app: it fetches the web app's /erreur/<status> pages."""
    from achats.chassis.testing.server import serving
    from achats.gateway.app import SERVICE as GATEWAY
    from achats.gateway.app import build_app

    config = GATEWAY.load_settings({}, upstreams=(f"web={web_alone}",), log_json=True)
    with serving(build_app(config, GATEWAY.runtime(config))) as url:
        yield url


def post_a_big_file(page, origin: str, action: str, size: int):
    page.goto(f"{origin}/erreur/413")
    page.set_content('<html lang="fr"><head><title>Envoi</title></head><body><main><form method="post" '
                     f'action="{action}" enctype="multipart/form-data"><label for="f">Fichier</label>'
                     '<input id="f" type="file" name="file"><button type="submit">Envoyer</button></form></main>'
                     '</body></html>')
    page.get_by_label("Fichier").set_input_files({"name": "enorme.pdf", "mimeType": "application/pdf",
                                                  "buffer": b"%PDF-1.7\n" + b"0" * size})
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Envoyer").click()
    return navigation.value


def test_through_the_gateway_a_refused_page_is_the_web_apps_dsfr_page(browser, through_gateway):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    # Over the vault pages' 12 MB: the gateway's refusal, with the web app's page (its stylesheets load).
    answer = post_a_big_file(page, through_gateway, "/entreprise/coffre-fort", 13 * 1024 * 1024)
    assert answer.status == 413 and answer.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1, name="Fichier trop volumineux")).to_be_visible()
    expect(page.get_by_text("Le contenu envoyé dépasse la taille maximale autorisée (12 Mo).")).to_be_visible()
    expect(page.get_by_role("banner")).to_be_visible()
    assert page.evaluate("() => document.styleSheets.length") >= 2
    assert_accessible(page, javascript=False)
    # The signature tools' pages take 55 MB, at the gateway and in the web app (errors.PAGE_BODY_LIMITS): 13 MB
    # is not refused for its size — this form without its token is then refused as any such form is.
    answer = post_a_big_file(page, through_gateway, "/outils-de-signature/verifier", 13 * 1024 * 1024)
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1, name="Fichier trop volumineux")).not_to_be_visible()
    context.close()
    # A script asking no HTML keeps the problem.
    problem = requests.post(f"{through_gateway}/entreprise/coffre-fort", data=b"x" * (13 * 1024 * 1024))
    assert (problem.status_code, problem.headers["content-type"]) == (413, "application/problem+json")


def test_each_page_has_its_body_limit(web_alone):
    """The signature tools take the signature service's documents (55 MB), the assistance the helpdesk's
    attachments (25 MB), every other page 12 MB; over the limit nothing reaches the page's code (its form
    token is not even read), under it the page's own checks answer."""
    from achats.web import errors

    assert errors.body_limit("/outils-de-signature/verification") == 55 * errors.MB
    assert errors.body_limit("/outils-de-signature-bis") == 12 * errors.MB
    assert errors.body_limit("/assistance") == 25 * errors.MB
    assert errors.body_limit("/entreprise/coffre-fort") == 12 * errors.MB
    for path, size, status in (("/outils-de-signature/verification", 30 * errors.MB, 403),
                               ("/assistance", 30 * errors.MB, 413), ("/assistance", 20 * errors.MB, 403),
                               ("/entreprise/coffre-fort", 13 * errors.MB, 413)):
        answer = requests.post(web_alone + path, data=b"x" * size, timeout=60,
                               headers={"Accept": "application/json",
                                        "Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == status, (path, size, answer.text[:200])
        if status == 413:
            limit = "25 Mo" if path == "/assistance" else "12 Mo"
            assert answer.json()["detail"] == f"Le contenu envoyé dépasse la taille maximale autorisée ({limit}).", path
