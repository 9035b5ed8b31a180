"""Issue 15 item 8: a refusal of the gateway on a page, asked for by a browser, is a French HTML page — the web
app's DSFR page (fetched, cached, the status filled in), or a built-in one when the web app is down; the API
keeps problem+json; the pages' body limits depend on the page."""

from __future__ import annotations

import re

import pytest
import requests

from achats.gateway.routes import MB, NONE, PAGE_RULES, Rule, page_rule

from gateway_support import running_gateway

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def edge():
    slow_page = Rule("web.slow", "/lent", "web", "/lent", auth=NONE, timeout=0.5)
    with running_gateway(page_rules=[*PAGE_RULES, slow_page]) as running:
        yield running


def html_of(answer) -> str:
    assert answer.headers["content-type"] == "text/html; charset=utf-8", answer.headers["content-type"]
    return answer.text


def test_the_pages_body_limit_depends_on_the_page():
    assert page_rule("/entreprise/coffre-fort").max_body == 12 * MB
    assert page_rule("/outils-de-signature").max_body == 55 * MB
    assert page_rule("/outils-de-signature/verifier").max_body == 55 * MB
    assert page_rule("/outils-de-signature/verifier").timeout >= 60
    # « Répondre » posts a deposit (the web app's own limit for /…/repondre is 55 MB too).
    assert page_rule("/consultations/TEST-2026-TRX-001/lots/1/repondre").max_body == 55 * MB
    assert page_rule("/assistance").max_body == 25 * MB
    assert page_rule("/assistance/suivi/x").max_body == 25 * MB
    assert page_rule("/assistances").max_body == 12 * MB  # a prefix is a whole segment
    assert {r.upstream for r in PAGE_RULES} == {"web"}


def test_a_page_over_its_limit_gets_the_web_apps_413_page_and_the_api_its_problem(edge):
    before = len(edge.echo.seen)
    page = requests.post(f"{edge.url}/entreprise/coffre-fort/documents", data=b"x" * (13 * MB), headers=BROWSER)
    assert page.status_code == 413
    text = html_of(page)
    assert "Page DSFR 413" in text and f"limite={12 * MB}" in text
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert page.headers["content-security-policy"] == "default-src 'self'"  # the web app's, for its page
    assert len(edge.echo.seen) == before  # nothing reached the web app's page route
    # Each page's own limit: the signature tools take 55 MB, the assistance 25 MB (declared lengths).
    big = requests.post(f"{edge.url}/outils-de-signature/verifier", data=b"x" * (56 * MB), headers=BROWSER)
    assert big.status_code == 413 and f"limite={55 * MB}" in html_of(big)
    assert requests.post(f"{edge.url}/outils-de-signature/verifier", data=b"x" * (30 * MB),
                         headers=BROWSER).json()["size"] == 30 * MB
    assistance = requests.post(f"{edge.url}/assistance", data=b"x" * (26 * MB), headers=BROWSER)
    assert assistance.status_code == 413 and f"limite={25 * MB}" in html_of(assistance)
    assert requests.post(f"{edge.url}/assistance", data=b"x" * (20 * MB), headers=BROWSER).status_code == 200
    # Streamed without a length: refused while streaming, the same page.
    def chunks():
        for _ in range(14):
            yield b"y" * MB

    streamed = requests.post(f"{edge.url}/entreprise/coffre-fort/documents", data=chunks(), headers=BROWSER)
    assert streamed.status_code in (413, 502)
    assert "Page DSFR" in html_of(streamed)
    # The API, and a script asking no HTML (the vault's upload), keep problem+json, unchanged.
    api = requests.post(f"{edge.url}/api/echo/upload", data=b"x" * (41 * MB), headers=BROWSER)
    assert (api.status_code, api.headers["content-type"]) == (413, "application/problem+json")
    assert api.json()["detail"] == "Le contenu envoyé dépasse la taille maximale autorisée (40 Mo)."
    for accept in ("*/*", "application/problem+json, text/html;q=0.9"):
        script = requests.post(f"{edge.url}/entreprise/coffre-fort/documents", data=b"x" * (13 * MB),
                               headers={"Accept": accept})
        assert (script.status_code, script.headers["content-type"]) == (413, "application/problem+json")
        assert script.json()["detail"] == "Le contenu envoyé dépasse la taille maximale autorisée (12 Mo)."
    # Over the gateway's largest body (MAX_BODY_BYTES, 60 MB): an HTML page too, not the chassis' JSON.
    huge = requests.post(f"{edge.url}/outils-de-signature/verifier", data=b"x" * (61 * MB), headers=BROWSER)
    assert huge.status_code == 413 and "Page DSFR 413" in html_of(huge)


def test_the_web_apps_pages_are_fetched_once_then_kept():
    with running_gateway() as gateway:
        for _ in range(3):
            answer = requests.post(f"{gateway.url}/entreprise/coffre-fort", data=b"x" * (13 * MB), headers=BROWSER)
            assert answer.status_code == 413 and "Page DSFR 413" in answer.text
        assert gateway.echo.error_pages == [f"/erreur/413?limite={12 * MB}"]


def test_a_failing_or_slow_web_app_gives_its_502_and_504_pages_without_internals(edge):
    crash = requests.get(f"{edge.url}/plantage", headers=BROWSER)
    assert crash.status_code == 502
    assert "Page DSFR 502" in html_of(crash) and "Traceback" not in crash.text and "secret" not in crash.text
    slow = requests.get(f"{edge.url}/lent/x", headers=BROWSER)
    assert slow.status_code == 504 and "Page DSFR 504" in html_of(slow)
    # The web app's own error page (a service behind it down) reaches the browser as it is.
    own = requests.get(f"{edge.url}/en-panne", headers=BROWSER)
    assert (own.status_code, own.text) == (503, "<h1>Service indisponible</h1><p>Page du web</p>")
    # The API keeps its problems.
    assert requests.get(f"{edge.url}/api/echo/boom", headers=BROWSER).json()["code"] == "bad_gateway"


def test_the_web_app_down_gives_a_built_in_french_page():
    with running_gateway(web="http://127.0.0.1:1") as gateway:
        for path in ("/", "/entreprise/coffre-fort"):
            answer = requests.get(f"{gateway.url}{path}", headers=BROWSER)
            assert answer.status_code == 503
            text = html_of(answer)
            assert '<html lang="fr">' in text
            assert re.search(r"<title>Service indisponible — Plateforme des achats</title>", text)
            assert "<h1>Service indisponible</h1>" in text and '<a href="/">Page d’accueil</a>' in text
            assert "Le service est momentanément indisponible" in text
            assert "127.0.0.1" not in text and "web" not in text.lower().replace("viewport", "")
            assert answer.headers["retry-after"] == "15"
            assert "default-src 'none'" in answer.headers["content-security-policy"]
        # Too big for the page while the web app is down: the built-in 413 page.
        big = requests.post(f"{gateway.url}/entreprise/coffre-fort", data=b"x" * (13 * MB), headers=BROWSER)
        assert big.status_code == 413 and "<h1>Fichier trop volumineux</h1>" in html_of(big)
        api = requests.get(f"{gateway.url}/api/down/x", headers=BROWSER)
        assert (api.status_code, api.headers["content-type"]) == (503, "application/problem+json")


def test_too_many_requests_on_a_page_is_a_page_with_retry_after():
    with running_gateway(rate_ip_per_minute=3) as gateway:
        codes = [requests.get(f"{gateway.url}/aide", headers=BROWSER).status_code for _ in range(3)]
        assert codes == [200] * 3
        limited = requests.get(f"{gateway.url}/aide", headers=BROWSER)
        assert limited.status_code == 429
        wait = int(limited.headers["retry-after"])
        assert 0 < wait <= 60
        assert "Page DSFR 429" in html_of(limited) and f"attente={wait}" in limited.text
        api = requests.get(f"{gateway.url}/api/echo/public", headers=BROWSER)
        assert (api.status_code, api.headers["content-type"]) == (429, "application/problem+json")
        assert api.json()["code"] == "too_many_requests" and api.headers["retry-after"]
    # Without the web app's page: the built-in one says the wait in words.
    with running_gateway(web="http://127.0.0.1:1", rate_ip_per_minute=1) as gateway:
        requests.get(f"{gateway.url}/aide", headers=BROWSER)
        limited = requests.get(f"{gateway.url}/aide", headers=BROWSER)
        assert limited.status_code == 429 and limited.headers["retry-after"]
        assert re.search(r"Réessayez dans \d+\s+secondes?\.", html_of(limited))
