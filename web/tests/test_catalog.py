"""The English catalog is complete: every text the sources and templates send through gettext has an English
translation (read with Babel's own extraction, from babel.cfg), the compiled .mo is the .po's, and the header's
FR/EN switch turns the pages to English."""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from achats.web import assets

HERE = assets.HERE
PO = HERE / "translations" / "en" / "LC_MESSAGES" / "messages.po"
FIX = ("add the English msgstr to web/src/achats/web/translations/en/LC_MESSAGES/messages.po "
       "(`pybabel extract -F babel.cfg` then `pybabel update`, or by hand), then recompile (web/README.md)")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extracted() -> dict[str | tuple[str, ...], str]:
    """Each msgid the sources and templates hold (a tuple for plural forms), with its first place, as
    `pybabel extract -F babel.cfg` finds them."""
    with (HERE / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(HERE / "babel.cfg"))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(HERE), method_map, options_map):
        if message and (message if isinstance(message, str) else message[0]):
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def english():
    with PO.open("rb") as source:
        return read_po(source)


def test_the_extraction_finds_the_pages_texts():
    found = extracted()
    # Guards the test itself: Python (forms.py) and Jinja2 templates are both read.
    assert "La demande n’a pas pu aboutir. Veuillez réessayer." in found
    assert "Nouvel utilisateur" in found and len(found) > 200


def test_every_msgid_has_a_non_fuzzy_english_translation_with_the_same_placeholders():
    catalog = english()
    missing, fuzzy, placeholders = [], [], []
    for msgid, where in sorted(extracted().items(), key=lambda item: item[1]):
        forms = (msgid,) if isinstance(msgid, str) else msgid
        message = catalog.get(forms[0])
        strings = () if message is None else (
            tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,))
        wanted = {p for form in forms for p in PLACEHOLDER.findall(form)}
        if not strings or not all(s and s.strip() for s in strings):
            missing.append(f"  {where}: {msgid!r}")
        elif message.fuzzy:
            fuzzy.append(f"  {where}: {msgid!r}")
        elif {p for s in strings for p in PLACEHOLDER.findall(s)} != wanted or any(
                not set(PLACEHOLDER.findall(s)) <= wanted for s in strings):
            placeholders.append(f"  {where}: {msgid!r} -> {strings!r}")
    report = []
    if missing:
        report += [f"{len(missing)} msgid without an English msgstr:", *missing]
    if fuzzy:
        report += [f"{len(fuzzy)} msgid whose English msgstr is marked fuzzy:", *fuzzy]
    if placeholders:
        report += [f"{len(placeholders)} msgid whose English msgstr has other %(name)s placeholders:", *placeholders]
    if report:
        pytest.fail("\n".join([*report, FIX]), pytrace=False)


def test_the_compiled_catalog_is_the_one_of_the_po():
    # The .mo the app reads is built (not in git): compiled again here, it must be the same, message for message.
    mo = PO.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run `.venv/bin/python -m achats.web.assets` (or start the app)"
    compiled = io.BytesIO()
    write_mo(compiled, english())
    if mo.read_bytes() != compiled.getvalue():
        on_disk = {repr(m.id): repr(m.string) for m in read_mo(io.BytesIO(mo.read_bytes())) if m.id}
        fresh = {repr(m.id): repr(m.string) for m in read_mo(io.BytesIO(compiled.getvalue())) if m.id}
        stale = sorted(k for k in fresh.keys() | on_disk.keys() if fresh.get(k) != on_disk.get(k))
        pytest.fail(f"{mo} is older than its .po ({len(stale)} messages differ, e.g. {stale[:5]!r}): run "
                    "`.venv/bin/python -m achats.web.assets` (or start the app) to compile it", pytrace=False)


PAGES = ("/", "/connexion", "/mot-de-passe-oublie", "/inscription", "/aide", "/se-preparer-a-repondre",
         "/outils-de-signature", "/mentions-legales", "/conditions-d-utilisation", "/pre-requis-techniques",
         "/accessibilite", "/page-qui-n-existe-pas")


def test_the_header_switch_turns_the_pages_to_english(context, web_alone):
    # The French sentences that have an English translation of their own must be gone from every page.
    catalog = english()
    french = [m.id for m in catalog if isinstance(m.id, str) and m.id and len(m.id) >= 12
              and not PLACEHOLDER.search(m.id) and m.string and m.string != m.id]
    page = context.new_page()
    page.goto(web_alone + "/")
    expect(page.get_by_role("heading", name="Nouvel utilisateur")).to_be_visible()
    page.get_by_role("banner").get_by_role("link", name="EN – English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="New user")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="FR – Français")).to_be_visible()
    for path in PAGES:
        page.goto(web_alone + path)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        text = " ".join(page.locator("body").inner_text().split())
        left = [f for f in french if " ".join(f.split()) in text]
        assert not left, f"{path} still shows French in English: {left}"
    page.get_by_role("banner").get_by_role("link", name="FR – Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

