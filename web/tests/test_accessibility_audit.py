"""The project's own RGAA audit (achats/web/data/rgaa-audit.toml) and the declaration built from it: each
proof the audit gives is a test that exists, the criteria those tests carry are checked here on the audit's
sample of pages, and /accessibilite shows the audit's figures."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from achats.web import audit

from web_support import assert_accessible, screenshot

TESTS = Path(__file__).parent
AUDIT = audit.load()


def test_every_proof_names_a_test_that_exists():
    defined: dict[str, set[str]] = {}
    for source in TESTS.glob("test_*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        defined[source.name] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    missing = []
    for criterion in AUDIT.criteria:
        proofs = criterion.get("preuves", [])
        if criterion["statut"] == "conforme" and not proofs:
            missing.append(f"{criterion['numero']}: conforme without a proof")
        for proof in proofs:
            file, _, name = proof.partition("::")
            if name not in defined.get(file, set()):
                missing.append(f"{criterion['numero']}: {proof}")
    assert missing == []


def test_the_audit_names_the_axe_core_the_tests_run():
    installed = json.loads((TESTS.parent / "node_modules" / "axe-core" / "package.json").read_text())["version"]
    assert AUDIT.axe_core == installed


def test_a_malformed_audit_is_refused():
    head = '[audit]\ndate = 2026-12-07\nreferentiel = "RGAA 4.1"\ncriteres_total = 106\naxe_core = "4"\npages = []\n'
    with pytest.raises(ValueError, match="statut"):
        audit.parse(head + '[[criteres]]\nnumero = "1.1"\nstatut = "presque"\n')
    with pytest.raises(ValueError, match="twice"):
        audit.parse(head + '[[criteres]]\nnumero = "1.1"\nstatut = "conforme"\n' * 2)
    figures = audit.parse(head + "".join(f'[[criteres]]\nnumero = "{n}"\nstatut = "{s}"\n' for n, s in
                                         [("1", "conforme"), ("2", "conforme"), ("3", "non conforme"),
                                          ("4", "non applicable")]))
    assert (figures.evaluated, figures.rate) == (4, 66.7)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_sample_pages_pass_axe(browser, web_alone, javascript):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    for path in AUDIT.pages:
        page.goto(web_alone + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page, javascript)
    context.close()


def test_each_page_has_a_doctype_a_language_and_a_relevant_title(context, web_alone):
    page = context.new_page()
    for path in AUDIT.pages:
        page.goto(web_alone + path)
        assert page.evaluate("() => document.doctype && document.doctype.name") == "html", path
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        heading = page.get_by_role("heading", level=1).first.inner_text().strip()
        # The title is the page's own heading (the home page's is « Accueil »), then the platform's name.
        expect(page).to_have_title(re.compile(r".+ — Plateforme des achats$"))
        if path != "/":
            assert page.title() == f"{heading} — Plateforme des achats", path
        switch = page.get_by_role("link", name="EN – English")
        expect(switch).to_have_attribute("lang", "en")


def test_the_keyboard_focus_is_visible_and_the_skip_link_leads_to_the_content(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/aide")
    page.keyboard.press("Tab")
    skip = page.get_by_role("navigation", name="Accès rapide").get_by_role("link", name="Contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    for _ in range(12):  # each stop of the tab order shows where the focus is
        # DSFR draws it on the element, or for a link that enlarges its block (fr-enlarge-link) on the
        # link's ::before, which covers the block.
        shown = page.evaluate("""() => [null, '::before'].some(pseudo => {
            const s = getComputedStyle(document.activeElement, pseudo);
            return s.outlineStyle !== 'none' && s.outlineWidth !== '0px'; })""")
        assert shown, page.evaluate("() => document.activeElement.outerHTML")
        page.keyboard.press("Tab")
    page.goto(web_alone + "/connexion")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#contenu$"))
    assert page.evaluate("() => document.getElementById('contenu').tagName") == "MAIN"
    # The next Tab goes on from the content, past the header's links: the login form's first field.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Identifiant")).to_be_focused()


def test_no_page_scrolls_sideways_at_320_px(browser, web_alone):
    context = browser.new_context(locale="fr-FR", viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in AUDIT.pages:
        page.goto(web_alone + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, f"{path}: {width} px wide"
    context.close()


def test_data_tables_have_a_caption_and_column_headers(context, web_alone):
    page = context.new_page()
    tables = 0
    for path in AUDIT.pages:
        page.goto(web_alone + path)
        for table in page.locator("main table").all():
            tables += 1
            assert table.locator("caption").inner_text().strip(), path
            headers = table.locator("thead th")
            assert headers.count() > 0, path
            for header in headers.all():
                assert header.get_attribute("scope") == "col", path
    assert tables >= 2  # the prerequisites' browsers, the declaration's criteria


def test_fields_about_the_user_carry_their_autocomplete_purpose(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/connexion")
    expect(page.get_by_label("Identifiant")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Mot de passe")).to_have_attribute("autocomplete", "current-password")
    page.goto(web_alone + "/compte/mot-de-passe-oublie")
    expect(page.get_by_label("Identifiant ou adresse électronique")).to_have_attribute("autocomplete", "username")
    # Every field of the templates whose name says a personal datum gives its purpose (WCAG 1.3.5's list).
    purposes = {"last_name": "family-name", "first_name": "given-name", "email": "email", "phone": "tel",
                "street": "address-line1", "postal_code": "postal-code", "city": "address-level2",
                "company_name": "organization"}
    templates = TESTS.parent / "src" / "achats" / "web" / "templates"
    seen = 0
    # The search by name's filters describe the company sought, not the user: not WCAG 1.3.5's input purposes.
    for template in (t for t in templates.rglob("*.html") if t.name != "search.html"):
        for call in re.finditer(r"input\('(\w+)'[^\n]*", template.read_text(encoding="utf-8")):
            name = call.group(1)
            if name in purposes:
                seen += 1
                assert f"autocomplete='{purposes[name]}'" in call.group(0), f"{template.name}: {call.group(0)}"
    assert seen >= 10


def test_the_declaration_shows_the_audits_figures(context, web_alone):
    page = context.new_page()
    page.goto(web_alone + "/accessibilite")
    met = sum(1 for c in AUDIT.criteria if c["statut"] == "conforme")
    not_met = sum(1 for c in AUDIT.criteria if c["statut"] == "non conforme")
    na = len(AUDIT.criteria) - met - not_met
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"n’évalue encore que {len(AUDIT.criteria)} des 106 critères")
    expect(main).to_contain_text(f"{met} conformes, {not_met} non conformes, {na} non applicables")
    rate = f"{100 * met / (met + not_met):.1f}".replace(".", ",")
    expect(page.locator("#taux")).to_have_text(re.compile(rf"évalués : {rate}\s%$"))
    expect(main).to_contain_text(f"version {AUDIT.axe_core}")
    table = page.get_by_role("table", name="Critères évalués par l’audit interne")
    expect(table.locator("tbody tr")).to_have_count(len(AUDIT.criteria))
    expect(table.get_by_role("row", name=re.compile(r"^12\.1 ")).get_by_text("Non conforme")).to_be_visible()
    # Each failing criterion is listed with what is missing.
    for criterion in AUDIT.failing():
        expect(main.get_by_role("listitem").filter(has_text=f"Critère {criterion['numero']}")).to_contain_text(
            criterion["note"])
    screenshot(page, "accessibilite", full_page=False)
    page.get_by_role("link", name="EN – English").click()
    expect(page.get_by_role("heading", level=1, name="Accessibility statement")).to_be_visible()
    expect(page.locator("#taux")).to_have_text(re.compile(rf"evaluated: {rate.replace(',', '.')}%$"))
    expect(page.get_by_role("table", name="Criteria evaluated by the internal audit")).to_contain_text(
        "Does each form field have a label?")
    assert_accessible(page)
