"""« Aide » (issue 16 item 4): the « Guide d'utilisation » PDF built from guide/guide-utilisation.md, downloaded
from the Aide page by its link, and always matching the current pages (every label it quotes exists)."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests
from playwright.sync_api import expect
from test_catalog import english, extracted

from achats.web import user_guide

from web_support import assert_accessible, dsfr_live

CHAPTERS = ("Accueil", "Inscription", "Se connecter / Mot de passe oublié", "Mon compte", "Mon entreprise",
            "Demande d’assistance et suivi", "Outils de signature", "Se préparer à répondre")


def pdf_text(path) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return " ".join(text.replace("\u00a0", " ").split())


def test_every_label_the_guide_quotes_is_on_the_pages():
    """A renamed button, link or field breaks this test: the guide's « … » must be a text of the pages
    (a msgid of the templates or sources, or a « … » inside one)."""
    texts = [m for m in extracted() if isinstance(m, str)]
    quoted_inside = {q for t in texts for q in re.findall(r"«\s*(.+?)\s*»", t)}
    labels = user_guide.quoted_labels()
    assert len(labels) > 60
    missing = [label for label in labels if label not in texts and label not in quoted_inside]
    assert missing == [], f"labels of the guide no page shows: {missing}"


def test_the_check_catches_a_renamed_label():
    texts = set(extracted())
    assert "Déposer le document" in texts
    assert "Déposer un document" not in texts
    assert user_guide.quoted_labels("cliquez sur « Déposer un document ».") == ["Déposer un document"]


def test_the_guide_is_built_once_per_content(tmp_path, monkeypatch):
    first = user_guide.ensure_built(tmp_path)
    assert user_guide.ensure_built(tmp_path) == first and first.read_bytes().startswith(b"%PDF-")
    changed = tmp_path / "guide.md"
    changed.write_text(user_guide.SOURCE.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    monkeypatch.setattr(user_guide, "SOURCE", changed)
    second = user_guide.ensure_built(tmp_path)
    assert second != first and not first.exists() and "Une phrase de plus." in pdf_text(second)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_guide_pdf_is_downloaded_from_the_aide_page(browser, web_alone, tmp_path, javascript):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()
    page.goto(web_alone + "/")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Aide").click()
    expect(page.get_by_role("heading", level=1, name="Aide")).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"^Guide d’utilisation \(PDF, \d+ Ko\)$"))
    expect(link).to_be_visible()
    assert_accessible(page, javascript)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "guide-utilisation.pdf"
    saved = tmp_path / "guide.pdf"
    download.save_as(saved)
    size_ko = int(re.search(r"(\d+) Ko", link.inner_text()).group(1))
    assert size_ko == (saved.stat().st_size + 1023) // 1024
    text = pdf_text(saved)
    assert "Guide d’utilisation de la Plateforme des achats" in text
    for number, chapter in enumerate(CHAPTERS, 1):
        assert f"{number}. {chapter}" in text
    for label in ("Nouvel utilisateur", "SIREN/SIRET", "Mot de passe oublié", "Mes informations personnelles",
                  "Ajouter l’établissement", "Nommer administrateur", "Déposer le document",
                  "Voir les questions fréquentes", "Vérifier la signature électronique", "Signer le document",
                  "Tester la configuration"):
        assert f"« {label} »" in text, label
    context.close()


def test_the_guide_pdf_is_served_as_a_pdf(web_alone):
    answer = requests.get(web_alone + "/aide/guide-utilisation.pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF-")
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"].startswith("attachment") and "guide-utilisation.pdf" in \
        answer.headers["Content-Disposition"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    # Cached by its content: the same ETag, and a 304 for a browser that has it.
    again = requests.get(web_alone + "/aide/guide-utilisation.pdf", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_the_guide_link_in_english(browser, web_alone):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(web_alone + "/aide")
    page.get_by_role("link", name="EN – English").click()
    expect(page.get_by_role("link", name=re.compile(r"^User guide \(PDF, in French, \d+ KB\)$"))).to_be_visible()
    assert english().get("Guide d’utilisation (PDF, %(size)s Ko)") is not None
    context.close()


FAQ_CATEGORY = "Mon compte entreprise"
FAQ_QUESTION = "Est-il possible d'avoir plusieurs comptes pour une même entreprise ?"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_helpdesks_faq_on_aide_without_an_account(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(platform["web"] + "/")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Aide").click()
    expect(page.get_by_role("heading", level=2, name="Questions fréquentes")).to_be_visible()
    # Every category of the helpdesk that has questions, under its own heading, its questions in accordions.
    categories = requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"]
    shown = [c["label"] for c in categories if c.get("faq_count")]
    assert FAQ_CATEGORY in shown
    for label in shown:
        expect(page.get_by_role("heading", level=3, name=label)).to_be_visible()
    faq = requests.get(f"{platform['helpdesk']}/helpdesk/faq", params={"limit": 100}, timeout=30).json()["items"]
    entry = next(e for e in faq if e["question"] == FAQ_QUESTION)
    question = page.get_by_role("region", name=FAQ_CATEGORY).get_by_role("button", name=FAQ_QUESTION)
    answer = page.locator(f"#faq-{entry['id']}")
    if javascript:
        expect(answer).to_be_hidden()
        dsfr_live(question)
        question.click()
        expect(question).to_have_attribute("aria-expanded", "true")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text(entry["answer"][:40])
    expect(page.get_by_text("momentanément indisponible")).to_have_count(0)
    # The guide's link is there too.
    expect(page.get_by_role("link", name=re.compile(r"^Guide d’utilisation \(PDF"))).to_be_visible()
    assert_accessible(page, javascript)
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_aide_says_so_when_the_helpdesk_is_down(browser, tmp_path, javascript):
    from web_support import running_web

    with running_web(f"sqlite:///{tmp_path}/web.db", tmp_path, helpdesk_url="http://127.0.0.1:1") as url:
        context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
        page = context.new_page()
        answer = page.goto(url + "/aide")
        assert answer.status == 200
        expect(page.get_by_text("La foire aux questions de l’équipe support est momentanément indisponible.",
                                exact=False)).to_be_visible()
        # What the page held before stays: the most common questions, and the guide.
        expect(page.get_by_role("heading", level=3, name="J’ai oublié mon mot de passe")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(r"^Guide d’utilisation \(PDF"))).to_be_visible()
        assert_accessible(page, javascript)
        context.close()


def test_the_asset_build_makes_the_guide_and_an_image_without_screenshots_serves_it(tmp_path, monkeypatch):
    """The image builds the guide with the source tree's screenshots (python -m achats.web.assets); at run time its
    package has none and its assets folder is read-only: the guide built then is the one served."""
    folder = tmp_path / "assets" / "guide"
    built = user_guide.ensure_built(folder, user_guide.SCREENSHOTS)
    assert built.stat().st_size > 200_000  # the screenshots are in it
    assert user_guide.ensure_built(folder, tmp_path / "no-screenshots") == built

    def read_only(target, make):
        raise PermissionError(13, "Read-only file system", str(target))

    monkeypatch.setattr(user_guide, "_write", read_only)
    monkeypatch.setattr(user_guide, "SOURCE", tmp_path / "guide.md")
    user_guide.SOURCE.write_text("# Autre texte\n", encoding="utf-8")
    assert user_guide.ensure_built(folder) == built


def test_the_asset_script_builds_the_guide(tmp_path):
    import sys

    from achats.web import assets

    out = subprocess.run([sys.executable, "-m", "achats.web.assets", str(tmp_path / "assets"),
                          str(assets.DEFAULT_NODE_MODULES)], check=True, capture_output=True, text=True).stdout
    guides = list((tmp_path / "assets" / "guide").glob("guide-*.pdf"))
    assert len(guides) == 1 and str(guides[0]) in out
    assert guides[0].name == f"guide-{user_guide.content_hash()[:16]}.pdf"
