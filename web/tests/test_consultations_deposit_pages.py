"""« Répondre » and « Mes réponses » (issue 19 items 3 and 4): a logged-in supplier deposits a candidature and an
offer on a practice consultation's lot through the web app (the consultations service seals and timestamps it),
reads the confirmation with each file's SHA-256, finds the deposit in « Mes réponses », replaces it; the service's
French refusals beside the fields; the same rendering of the form sent twice is one deposit — with JavaScript on
and off, axe-core 0 violations."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from web_support import assert_accessible, fill_login, register

WORKS = "TEST-2026-TRX-001"


@pytest.fixture
def platform(fresh_postgres_url, create_postgres_database, tmp_path, standin):
    """identity, the registry and the web app, with the consultations service (and its test TSA)."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin,
                          consultations=create_postgres_database("achats_consultations")) as urls:
        yield urls


def pdf(path: Path, text: str) -> Path:
    """A small PDF-looking file (the service judges it by its magic)."""
    path.write_bytes(b"%PDF-1.7\n% " + text.encode() + b"\n" + text.encode() * 200 + b"\n%%EOF\n")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_in(page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    fill_login(page)


def my_answers(page, web: str) -> None:
    """« Mes réponses », from the account's menu (where « Mes demandes d’assistance » is)."""
    page.goto(web + "/compte")
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mes réponses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes réponses")


def rows(page) -> list[str]:
    """Each row's text as read (textContent: the badges are upper case by their style only)."""
    return [" ".join(t.split()) for t in page.locator("#mes-reponses tbody tr").all_text_contents()]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_deposit_confirmation_my_answers_and_replacing(browser, platform, tmp_path, javascript):
    register(platform["identity"])
    web = platform["web"]
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()

    # Anonymous: « Répondre » leads to the login page, then back to the form.
    page.goto(f"{web}/consultations/{WORKS}")
    page.get_by_role("link", name="Répondre au lot 1").click()
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre au lot 1")
    assert page.url.endswith(f"/consultations/{WORKS}/lots/1/repondre")
    assert_accessible(page, javascript)

    # Nothing chosen: the service's French message beside « Offre », nothing deposited.
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator("#champ-offre-erreur")).to_have_text("Ajoutez au moins un fichier (candidature ou offre).")
    expect(page.get_by_role("alert")).to_contain_text("Ajoutez au moins un fichier à votre réponse.")
    expect(page.get_by_label("Offre")).to_have_attribute("aria-describedby", "champ-offre-erreur")
    assert_accessible(page, javascript)

    # A file that is not what its name says: refused by its content, beside « Candidature ».
    fake = tmp_path / "dc1.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf at all")
    page.get_by_label("Candidature").set_input_files(fake)
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator("#champ-candidature-erreur")).to_contain_text(
        "« dc1.pdf » : ce type de fichier n'est pas accepté")
    assert_accessible(page, javascript)

    # The candidature (one file) and the offer (two files).
    candidature = pdf(tmp_path / "dc1-dc2.pdf", "candidature")
    offer = [pdf(tmp_path / "acte-engagement.pdf", "acte"), pdf(tmp_path / "memoire-technique.pdf", "memoire")]
    page.get_by_label("Candidature").set_input_files(candidature)
    page.get_by_label("Offre").set_input_files(offer)
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dépôt pour le lot 1")
    expect(page.get_by_role("status")).to_contain_text("Votre réponse a été déposée")
    if javascript:  # sent by the script (its progress bar), the answer shown in place: no page loaded since
        assert page.evaluate("() => performance.getEntriesByType('navigation')[0].name").endswith("/repondre")
    first = re.search(r"/consultations/mes-reponses/([0-9a-f-]{36})", page.url).group(1)
    digests = page.locator("code.achats-empreinte").all_inner_texts()
    assert sorted(digests) == sorted(sha256(p) for p in (candidature, *offer))
    assert page.locator("td.achats-fichier").all_inner_texts() == ["dc1-dc2.pdf", "acte-engagement.pdf",
                                                                   "memoire-technique.pdf"]
    expect(page.locator("#statut-depot")).to_have_text("En vigueur")
    expect(page.locator("#heure-depot")).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    assert_accessible(page, javascript)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l’accusé de réception (PDF)").click()
    receipt = Path(download.value.path()).read_bytes()
    assert receipt.startswith(b"%PDF")

    # « Mes réponses »: the deposit, current, its files.
    my_answers(page, web)
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    [row] = rows(page)
    assert WORKS in row and "En vigueur" in row and "memoire-technique.pdf" in row
    assert_accessible(page, javascript)

    # Replacing it: the same « Répondre » page, which says a deposit counts already.
    page.get_by_role("link", name=f"Remplacer ma réponse {WORKS} lot 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre au lot 1")
    expect(page.locator("#reponse-en-vigueur")).to_contain_text("Un nouveau dépôt remplace cette réponse")
    new_offer = pdf(tmp_path / "offre-v2.pdf", "offre corrigee")
    page.get_by_label("Offre").set_input_files(new_offer)
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dépôt pour le lot 1")
    assert page.locator("code.achats-empreinte").all_inner_texts() == [sha256(new_offer)]

    my_answers(page, web)
    expect(page.get_by_text("Nombre de résultats : 2")).to_be_visible()
    expect(page.locator(f"#depot-{first}")).to_contain_text("Remplacée")
    assert [("En vigueur" in r, "Remplacée" in r) for r in rows(page)] == [(True, False), (False, True)]
    assert_accessible(page, javascript)
    page.locator(f"#depot-{first}").get_by_role("link", name="Voir le dépôt").click()
    expect(page.locator("#statut-depot")).to_have_text("Remplacée")
    expect(page.get_by_role("link", name="Remplacer ma réponse")).to_have_count(0)
    context.close()


def test_the_same_form_sent_twice_is_one_deposit(browser, platform, tmp_path):
    """The Idempotency-Key is the form's (a hidden field, fresh at each rendering): a double submit is stored
    once; a new rendering is a new deposit."""
    register(platform["identity"])
    web = platform["web"]
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{web}/consultations/{WORKS}/lots/2/repondre")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre au lot 2")
    form = page.locator("#formulaire-depot")
    fields = {"csrf_token": form.locator("input[name=csrf_token]").get_attribute("value"),
              "cle": form.locator("input[name=cle]").get_attribute("value")}
    offer = pdf(tmp_path / "offre.pdf", "offre")
    upload = {"name": "offre.pdf", "mimeType": "application/pdf", "buffer": offer.read_bytes()}
    answers = [page.request.post(f"{web}/consultations/{WORKS}/lots/2/repondre", max_redirects=0,
                                 multipart={**fields, "offre": upload}) for _ in range(2)]
    assert [a.status for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    page.reload()
    assert form.locator("input[name=cle]").get_attribute("value") != fields["cle"]
    my_answers(page, web)
    expect(page.get_by_text("Nombre de résultats : 1")).to_be_visible()
    context.close()


def test_anonymous_is_sent_to_login(browser, platform):
    page = browser.new_context(locale="fr-FR").new_page()
    for path in (f"/consultations/{WORKS}/lots/1/repondre", "/consultations/mes-reponses"):
        page.goto(platform["web"] + path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    page.context.close()


def closing(database_url: str, seconds: float, reference: str = "TEST-2026-CLO-009") -> str:
    """A consultation that is not a practice one (its deadline does not roll), closing in ``seconds``."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy
    from sqlalchemy.orm import Session

    from achats.consultations.models import Consultation, Lot

    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    engine = sqlalchemy.create_engine(database_url)
    try:
        with Session(engine) as session:
            session.add(Consultation(
                reference=reference, title="Marché à date limite fixe", buyer="Acheteur test", procedure="open",
                contract_type="services", summary="", cpv_codes=["79000000"], practice=False,
                deadline_anchor=deadline - timedelta(days=1), deadline_days=1, search_text=reference.lower(),
                lots=[Lot(number=1, title="Lot unique", cpv_codes=["79000000"])]))
            session.commit()
    finally:
        engine.dispose()
    return reference


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_deposit_after_the_deadline_is_refused_in_french(browser, platform, tmp_path, javascript):
    """The form opened before the deadline, « Déposer » clicked after it: the service's refusal (its clock, then the
    timestamp's) in the alert, nothing deposited; the form is then no longer offered."""
    import time

    register(platform["identity"])
    web = platform["web"]
    reference = closing(platform["consultations_database"], 8)
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{web}/consultations/{reference}/lots/1/repondre")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre au lot 1")
    page.get_by_label("Offre").set_input_files(pdf(tmp_path / "offre.pdf", "offre"))
    time.sleep(9)
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_role("alert")).to_contain_text("après la date limite de remise des plis")
    expect(page.get_by_role("alert")).to_contain_text("il n'a pas été enregistré")
    expect(page.locator("#date-limite-passee")).to_contain_text("ne reçoit plus de réponse")
    expect(page.get_by_role("button", name="Déposer")).to_have_count(0)
    assert_accessible(page, javascript)
    my_answers(page, web)
    expect(page.get_by_text("Votre entreprise n’a encore déposé aucune réponse.")).to_be_visible()
    context.close()
