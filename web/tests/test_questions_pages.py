"""Questions to the buyer (issue 19): « Poser une question » on a consultation's page (French messages beside the
field), the back office's « Questions » where a support agent answers, the answer published on the page without the
asker's name and mailed through the notifier's template; a supplier gets 403 from the back office's page. JavaScript
on and off, axe-core 0 violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from web_support import assert_accessible, create_staff, events, fill_login, mail_of, register

WORKS = "TEST-2026-TRX-001"


@pytest.fixture
def platform(fresh_postgres_url, create_postgres_database, tmp_path, standin):
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin,
                          consultations=create_postgres_database("achats_consultations")) as urls:
        yield urls


def log_in(page, web: str, login: str, start: str) -> None:
    page.goto(web + start)
    if page.get_by_role("heading", level=1).inner_text() != "Connexion":
        page.get_by_role("link", name="Se connecter", exact=True).click()
    fill_login(page, login)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_supplier_asks_an_agent_answers_and_the_answer_is_published_and_mailed(browser, platform, javascript):
    register(platform["identity"])
    create_staff(platform["identity"])
    web = platform["web"]
    supplier = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = supplier.new_page()
    log_in(page, web, "mcurie", "/connexion?next=/consultations/" + WORKS)
    expect(page.locator("#reference")).to_have_text(WORKS)
    with page.expect_download():
        page.get_by_role("link", name="Télécharger tout le DCE (zip)").click()
    page.goto(f"{web}/consultations/{WORKS}")
    expect(page.get_by_text("Aucune réponse n’a encore été publiée.")).to_be_visible()

    # Empty, then too long: the service's French message beside the field, what was typed kept.
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.locator("#champ-question-erreur")).to_have_text("Saisissez votre question.")
    expect(page.get_by_label("Votre question")).to_have_attribute("aria-describedby", "champ-question-erreur")
    assert_accessible(page, javascript)
    page.get_by_label("Votre question").fill("x" * 2001)
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.locator("#champ-question-erreur")).to_have_text("Ne doit pas dépasser 2000 caractères.")
    expect(page.get_by_label("Votre question")).to_have_value("x" * 2001)
    expect(page.locator("#questions-en-attente")).to_have_count(0)

    page.get_by_label("Votre question").fill("Le lot 1 comprend-il le désamiantage du sous-sol ? Marie Curie")
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.get_by_role("status")).to_contain_text("Votre question a été transmise à l’acheteur.")
    expect(page.locator("#questions-en-attente")).to_contain_text("Le lot 1 comprend-il le désamiantage")
    assert_accessible(page, javascript)

    # The agent: « Questions » in the back office's menu, the answer form.
    agent = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    desk = agent.new_page()
    log_in(desk, web, "agent.dupont", "/back-office/questions")  # (« Demandes », the first page, needs the helpdesk)
    desk.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Questions").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Questions")
    expect(desk.get_by_text("Questions sans réponse : 1")).to_be_visible()
    expect(desk.get_by_role("cell", name="marie.curie@example.fr")).to_be_visible()
    assert_accessible(desk, javascript)
    desk.get_by_role("link", name="Répondre").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Répondre à une question")
    expect(desk.get_by_label("Question publiée")).to_have_value(
        "Le lot 1 comprend-il le désamiantage du sous-sol ? Marie Curie")
    desk.get_by_role("button", name="Publier la réponse").click()
    expect(desk.locator("#champ-answer-erreur")).to_have_text("Saisissez la réponse.")
    assert_accessible(desk, javascript)
    desk.get_by_label("Question publiée").fill("Le lot 1 comprend-il le désamiantage du sous-sol ?")
    desk.get_by_label(re.compile(r"^Réponse")).fill("Oui : le désamiantage du sous-sol relève du lot 1.")
    desk.get_by_role("button", name="Publier la réponse").click()
    expect(desk.get_by_role("status")).to_contain_text("La réponse a été publiée")
    expect(desk.get_by_text("Aucune question n’attend de réponse.")).to_be_visible()
    assert_accessible(desk, javascript)
    agent.close()

    # Published on the consultation's page in the agent's wording, without the asker's name.
    page.goto(f"{web}/consultations/{WORKS}")
    published = page.locator("#reponses-publiees")
    expect(published).to_contain_text("Le lot 1 comprend-il le désamiantage du sous-sol ?")
    expect(published).to_contain_text("Oui : le désamiantage du sous-sol relève du lot 1.")
    expect(published).not_to_contain_text("Curie")
    expect(page.locator("#questions-en-attente")).to_have_count(0)
    assert_accessible(page, javascript)
    supplier.close()

    # Mailed through the notifier: its template for the event the service published, to the asker (who downloaded).
    (data,) = events(platform["consultations_database"], "consultations.question.answered")
    assert data["recipients"] == [{"email": "marie.curie@example.fr"}]
    mail = mail_of("consultations.question.answered", data)
    assert mail.subject == f"Consultation {WORKS} - Réponse à une question"
    assert "Oui : le désamiantage du sous-sol relève du lot 1." in mail.text and "Curie" not in mail.text
    assert f"/consultations/{WORKS}" in mail.text


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_supplier_gets_403_from_the_back_offices_questions(browser, platform, javascript):
    register(platform["identity"])
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "mcurie", "/connexion")
    answer = page.goto(platform["web"] + "/back-office/questions")
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert_accessible(page, javascript)
    # The service refuses too (the page's check only chooses what to show).
    assert page.goto(platform["web"] + "/back-office/questions/00000000-0000-4000-8000-000000000000").status == 403
    context.close()


def test_an_anonymous_visitor_is_asked_to_log_in_to_ask(context, platform):
    page = context.new_page()
    page.goto(f"{platform['web']}/consultations/{WORKS}")
    expect(page.get_by_text("Connectez-vous pour poser une question à l’acheteur et lire les réponses publiées.")) \
        .to_be_visible()
    expect(page.get_by_label("Votre question")).to_have_count(0)



def test_the_language_switch_on_a_refused_form_comes_back_to_the_forms_page(browser, platform):
    """A refused question is answered at the form's POST address; « EN » there goes back to the consultation's
    page in English, not to a GET of that address (405)."""
    register(platform["identity"])
    supplier = browser.new_context(locale="fr-FR")
    page = supplier.new_page()
    log_in(page, platform["web"], "mcurie", "/connexion?next=/consultations/" + WORKS)
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.get_by_text("Saisissez votre question.")).to_be_visible()
    assert page.url.endswith("/questions")
    page.get_by_role("link", name="EN – English").click()
    expect(page.locator("#reference")).to_have_text(WORKS)
    assert page.url.endswith("/consultations/" + WORKS)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    supplier.close()
