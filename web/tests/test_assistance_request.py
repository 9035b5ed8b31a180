"""« Demande d'assistance » (issue 16 item 1) against the real helpdesk, identity and registry, in Chromium with
JavaScript on and off: the guide's scenario (the « Assistance » button, « Ma demande », the FAQ, the deflection
recorded, the form with a screenshot attached, the reference and the support's phone), anonymous and logged in,
the helpdesk's refusals beside the field, the FAQ suggested while typing, and the helpdesk down."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, dsfr_live, events, register, running_web, screenshot, tab_to

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
# A 1×1 PNG: a screenshot as far as the helpdesk's check by content goes.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
PHONE = "08 20 20 77 43"
CATEGORY = "Mon compte entreprise"
QUESTION = "Est-il possible d'avoir plusieurs comptes pour une même entreprise ?"
ANSWER_START = "Oui."


def new_page(browser, javascript: bool):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    return context.new_page()


def helpdesk_rows(platform, sql: str, **params) -> list[dict]:
    engine = sqlalchemy.create_engine(platform["helpdesk_database"])
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(sqlalchemy.text(sql), params)]
    finally:
        engine.dispose()


def followed(platform, reference: str) -> dict:
    """The ticket as the helpdesk stored it, read through its follow API with the mailed link's token."""
    data = next(d for d in events(platform["helpdesk_database"], "helpdesk.ticket.created")
                if d["reference"] == reference)
    token = data["follow_url"].rpartition("#")[2]
    answer = requests.get(f"{platform['helpdesk']}/helpdesk/follow/{reference}", headers={"X-Follow-Token": token},
                          timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def fact(page, name: str):
    """The value of a line of the contexts (a <dt>, its <dd>)."""
    return page.locator(f'dt:text-is("{name}") + dd')


def open_assistance_from(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("complementary", name="Assistance").get_by_role("link", name="Assistance").click()
    expect(page.get_by_role("heading", name="Demande d’assistance", exact=True)).to_be_visible()


def choose_category(page, javascript: bool) -> None:
    page.get_by_label("Ma demande").select_option(label=CATEGORY)
    page.get_by_role("button", name="Voir les questions fréquentes").click()
    expect(page.get_by_role("heading", name="Préciser ma demande / voir FAQ")).to_be_visible()
    question = page.get_by_role("button", name=QUESTION)
    expect(question).to_be_visible()
    answer = page.locator("#" + question.get_attribute("aria-controls"))
    if javascript:
        # A DSFR accordion: the answer opens in place.
        expect(answer).to_be_hidden()
        dsfr_live(question)
        question.click()
        expect(question).to_have_attribute("aria-expanded", "true")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text(ANSWER_START)


def choose(page, label: str) -> None:
    """A DSFR radio: its label is what a person clicks."""
    radio = page.get_by_role("radio", name=label)
    page.locator(f"label[for='{radio.get_attribute('id')}']").click()
    expect(radio).to_be_checked()


def go_on(page) -> None:
    page.get_by_role("button", name="Je n'ai pas trouvé de réponse satisfaisante, je poursuis ma demande").click()
    expect(page.get_by_label("Message")).to_be_visible()


@JS
def test_the_guides_scenario_anonymous_with_a_screenshot(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    page = new_page(browser, javascript)
    open_assistance_from(page, platform["web"] + "/se-preparer-a-repondre")
    # The three contexts, filled automatically; anonymous: « Non connu ».
    facts = page.locator("dl.achats-facts").first
    expect(facts).to_contain_text("Plateforme des achats")
    for name in ("Nom de l'utilisateur", "Courriel de l'utilisateur", "Entreprise"):
        expect(fact(page, name)).to_have_text("Non connu")
    expect(fact(page, "Page")).to_have_text("/se-preparer-a-repondre")
    expect(fact(page, "Sujet")).to_have_text("Se préparer à répondre")
    expect(fact(page, "Système d'exploitation")).to_have_text("Linux")
    expect(fact(page, "Navigateur")).to_contain_text("Chrom")
    cookies = fact(page, "Cookies")
    expect(cookies).to_have_text("Activés" if javascript else "Non connu")
    assert_accessible(page, javascript)
    choose_category(page, javascript)
    assert_accessible(page, javascript)
    go_on(page)
    choose(page, "Majeur")
    choose(page, "De façon systématique")
    page.get_by_label("Message").fill("Je ne parviens pas à modifier l'adresse de l'établissement ajouté.")
    page.get_by_label("Pièce jointe (ex. : copie d'écran)").set_input_files(
        {"name": "copie-ecran.png", "mimeType": "image/png", "buffer": PNG})
    # No message line under the files until a check has something to say.
    expect(page.locator("#champ-attachments-erreur")).to_be_hidden()
    page.get_by_label("Adresse électronique").fill("helene.lefevre@example.fr")
    page.get_by_label("Prénom").fill("Hélène")
    page.get_by_label("Nom", exact=True).fill("Lefèvre")
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "assistance-demande")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", name="Demande d’assistance enregistrée")).to_be_visible()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Référence de votre demande :")
    reference = re.search(r"\d{8}", status.inner_text()).group(0)
    expect(page.get_by_role("link", name=PHONE)).to_be_visible()
    expect(status).to_contain_text(PHONE)
    assert_accessible(page, javascript)
    if javascript:
        screenshot(page, "assistance-demande-envoyee")
    ticket = followed(platform, reference)
    assert ticket["category"]["label"] == CATEGORY
    assert (ticket["severity"], ticket["frequency"]) == ("major", "systematic")
    assert ticket["contact"]["email"] == "helene.lefevre@example.fr"
    assert ticket["contact"]["first_name"] == "Hélène"
    context = ticket["context"]
    assert context["applicative"]["user_name"] == "Non connu"
    assert context["business"]["page"] == "/se-preparer-a-repondre"
    assert context["business"]["resource"] == "Se préparer à répondre"
    assert context["technical"]["operating_system"] == "Linux"
    assert "Chrom" in context["technical"]["browser"]
    # What the page's script told (screen, language, cookies): kept with JavaScript, absent without it.
    if javascript:
        assert re.fullmatch(r"\d+ × \d+", context["technical"]["screen"])
        assert context["technical"]["language"].startswith("fr")
        assert context["technical"]["cookies"] == "enabled"
    else:
        assert not {"screen", "language", "cookies"} & context["technical"].keys()
    created = ticket["history"][0]
    assert created["message"].startswith("Je ne parviens pas")
    assert [(a["filename"], a["content_type"], a["size"]) for a in created["attachments"]] == [
        ("copie-ecran.png", "image/png", len(PNG))]
    # Sending the form is « je poursuis ma demande », recorded by the helpdesk.
    assert helpdesk_rows(platform, "SELECT outcome FROM faq_outcomes") == [{"outcome": "continued"}]
    page.context.close()


@JS
def test_the_faq_resolved_the_problem(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    page = new_page(browser, javascript)
    open_assistance_from(page, platform["web"] + "/aide")
    choose_category(page, javascript)
    page.get_by_role("button", name="La FAQ m'a permis de résoudre mon problème").click()
    expect(page.get_by_role("heading", name="Merci")).to_be_visible()
    expect(page.get_by_role("link", name="Revenir à la page précédente")).to_have_attribute("href", "/aide")
    assert_accessible(page, javascript)
    categories = requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"]
    category_id = next(c["id"] for c in categories if c["label"] == CATEGORY)
    rows = helpdesk_rows(platform, "SELECT outcome, category_id FROM faq_outcomes")
    assert [(r["outcome"], str(r["category_id"]).replace("-", "")) for r in rows] == [
        ("resolved", category_id.replace("-", ""))]
    # Every question the page listed is credited with it (the helpdesk's deflection per question).
    shown = next(c["faq_count"] for c in categories if c["label"] == CATEGORY)
    assert shown > 0
    assert helpdesk_rows(platform, "SELECT count(*) AS n FROM faq_impressions i JOIN faq_outcomes o "
                                   "ON o.view_id = i.view_id WHERE o.outcome = 'resolved'") == [{"n": shown}]
    assert helpdesk_rows(platform, "SELECT count(*) AS n FROM tickets") == [{"n": 0}]
    page.context.close()


@JS
def test_logged_in_the_contact_is_prefilled(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    register(platform["identity"])
    page = new_page(browser, javascript)
    page.goto(platform["web"] + "/connexion")
    page.get_by_label("Identifiant").fill("mcurie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()
    open_assistance_from(page, platform["web"] + "/compte")
    expect(fact(page, "Nom de l'utilisateur")).to_have_text("Marie Curie")
    expect(fact(page, "Courriel de l'utilisateur")).to_have_text("marie.curie@example.fr")
    expect(fact(page, "Entreprise")).not_to_have_text("Non connu")
    expect(fact(page, "Page")).to_have_text("/compte")
    choose_category(page, javascript)
    go_on(page)
    expect(page.get_by_label("Adresse électronique")).to_have_value("marie.curie@example.fr")
    expect(page.get_by_label("Prénom")).to_have_value("Marie")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Curie")
    choose(page, "Une suggestion d'amélioration")
    page.get_by_label("Message").fill("Pouvoir trier les établissements par ville.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", name="Demande d’assistance enregistrée")).to_be_visible()
    assert_accessible(page, javascript)
    reference = re.search(r"\d{8}", page.get_by_role("status").inner_text()).group(0)
    # Listed in « Mes demandes » of the account at the helpdesk.
    tokens = requests.post(f"{platform['identity']}/identity/sessions",
                           json={"login": "mcurie", "password": PASSWORD}, timeout=30).json()
    mine = requests.get(f"{platform['helpdesk']}/helpdesk/tickets", timeout=30,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert [t["reference"] for t in mine["items"]] == [reference]
    ticket = followed(platform, reference)
    assert ticket["context"]["applicative"]["user_name"] == "Marie Curie"
    assert ticket["severity"] == "suggestion"
    page.context.close()


@JS
def test_refusals_beside_the_field_with_what_was_typed_kept(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    page = new_page(browser, javascript)
    open_assistance_from(page, platform["web"] + "/")
    choose_category(page, javascript)
    go_on(page)
    choose(page, "Bloquant")
    choose(page, "Une fois seulement")
    message = "Le dépôt de mon attestation échoue."
    page.get_by_label("Message").fill(message)
    page.get_by_label("Adresse électronique").fill("paul.brun@example.fr")
    files = page.get_by_label("Pièce jointe (ex. : copie d'écran)")
    error = page.locator("#champ-attachments-erreur")
    # Too large (the helpdesk's 5 Mo).
    files.set_input_files({"name": "grande-copie.png", "mimeType": "image/png",
                           "buffer": PNG + b"\0" * (5 * 1024 * 1024)})
    if javascript:
        expect(error).to_have_text("Le fichier « grande-copie.png » dépasse la taille maximale autorisée (5 Mo).")
        page.get_by_role("button", name="Envoyer").click()
        expect(files).to_be_focused()
        expect(page.get_by_role("heading", name="Demande d’assistance enregistrée")).to_have_count(0)
    else:
        page.get_by_role("button", name="Envoyer").click()
        expect(error).to_have_text("Le fichier « grande-copie.png » dépasse la taille maximale autorisée (5 Mo).")
        expect(files).to_have_attribute("aria-describedby", re.compile("champ-attachments-erreur"))
        expect(page.get_by_label("Message")).to_have_value(message)
        expect(page.get_by_role("radio", name="Bloquant")).to_be_checked()
        expect(page.get_by_label("Adresse électronique")).to_have_value("paul.brun@example.fr")
    assert_accessible(page, javascript)
    # A type the helpdesk refuses (judged by content: a program, whatever its name).
    if javascript:
        files.set_input_files({"name": "outil.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\0" * 64})
        expect(error).to_have_text("Le type du fichier « outil.exe » n’est pas accepté.")
        # Named like a screenshot, it passes JavaScript's check: the helpdesk's own refusal is then shown.
    files.set_input_files({"name": "copie.png", "mimeType": "image/png", "buffer": b"MZ\x90\0" * 64})
    page.get_by_role("button", name="Envoyer").click()
    expect(error).to_contain_text("Le type du fichier « copie.png » n'est pas accepté. Formats acceptés :")
    expect(page.get_by_label("Message")).to_have_value(message)
    expect(page.get_by_role("radio", name="Une fois seulement")).to_be_checked()
    assert_accessible(page, javascript)
    assert helpdesk_rows(platform, "SELECT count(*) AS n FROM tickets") == [{"n": 0}]
    # Then a good screenshot: sent.
    files.set_input_files({"name": "copie.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", name="Demande d’assistance enregistrée")).to_be_visible()
    page.context.close()


@JS
def test_the_helpdesks_refusals_of_the_fields_beside_them(browser, platform_with_helpdesk, javascript):
    # What the browser lets through and the helpdesk refuses: no frequency for a problem, an address without a
    # domain the helpdesk takes.
    platform = platform_with_helpdesk
    page = new_page(browser, javascript)
    page.goto(platform["web"] + "/assistance")
    choose_category(page, javascript)
    go_on(page)
    choose(page, "Mineur")
    page.get_by_label("Message").fill("Une question.")
    page.get_by_label("Adresse électronique").fill("paul@exemple")
    page.get_by_role("button", name="Envoyer").click()
    # The helpdesk's contract refuses the address (one recipient, a domain with a dot): its message beside it.
    email = page.get_by_label("Adresse électronique")
    expect(email).to_have_attribute("aria-describedby", "champ-email-erreur")
    expect(page.locator("#champ-email-erreur")).to_be_visible()
    expect(email).to_have_value("paul@exemple")
    expect(page.get_by_label("Message")).to_have_value("Une question.")
    expect(page.get_by_role("radio", name="Mineur")).to_be_checked()
    assert_accessible(page, javascript)
    email.fill("paul.brun@example.fr")
    page.get_by_role("button", name="Envoyer").click()
    # No frequency for a problem (only a suggestion goes without): the helpdesk's rule and message.
    frequency = page.get_by_role("group", name="Mon problème est apparu")
    expect(frequency).to_have_attribute("aria-describedby", "champ-frequency-erreur")
    expect(page.locator("#champ-frequency-erreur")).to_have_text("Indiquez à quelle fréquence le problème apparaît.")
    expect(page.locator("#champ-email-erreur")).to_have_count(0)
    expect(email).to_have_value("paul.brun@example.fr")
    assert_accessible(page, javascript)
    page.context.close()


def test_faq_suggested_while_typing_without_stealing_the_focus(browser, platform_with_helpdesk):
    platform = platform_with_helpdesk
    page = new_page(browser, True)
    page.goto(platform["web"] + "/assistance")
    page.get_by_label("Ma demande").select_option(label="Connexion et mot de passe")
    page.get_by_role("button", name="Voir les questions fréquentes").click()
    go_on(page)
    message = page.get_by_label("Message")
    message.click()
    message.press_sequentially("mot de passe oubli", delay=20)
    status = page.locator("#suggestions-etat")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("peuvent répondre à votre demande")
    suggestion = page.locator("#suggestions").get_by_role(
        "button", name="J'ai oublié mon mot de passe, comment le réinitialiser ?")
    expect(suggestion).to_be_visible()
    dsfr_live(suggestion)
    expect(message).to_be_focused()
    expect(message).to_have_value("mot de passe oubli")
    suggestion.click()
    expect(suggestion).to_have_attribute("aria-expanded", "true")
    assert_accessible(page)
    page.context.close()


@pytest.fixture
def helpdesk_down(tmp_path):
    """The web app alone, its WEB_HELPDESK_URL where nothing answers."""
    with running_web(f"sqlite:///{tmp_path}/web.db", tmp_path,
                     helpdesk_url="http://127.0.0.1:1") as url:
        yield url


@JS
def test_the_helpdesk_down_gives_the_french_503_page(browser, helpdesk_down, javascript):
    page = new_page(browser, javascript)
    page.goto(helpdesk_down + "/aide")
    page.get_by_role("complementary", name="Assistance").get_by_role("link", name="Assistance").click()
    expect(page.get_by_role("heading", name="Service indisponible")).to_be_visible()
    expect(page.get_by_text("Le service est momentanément indisponible.")).to_be_visible()
    assert_accessible(page, javascript)
    page.context.close()


def test_the_assistance_button_of_every_page_opens_the_request_page(browser, web_alone):
    page = new_page(browser, False)
    page.goto(web_alone + "/mentions-legales")
    link = page.get_by_role("complementary", name="Assistance").get_by_role("link", name="Assistance")
    # The page's path and what it is about (its title): « Contexte métier ».
    expect(link).to_have_attribute("href", "/assistance?page=/mentions-legales&objet=Mentions+l%C3%A9gales")
    # The suggestions' fragment, with nothing typed: nothing, and no page.
    empty = requests.get(web_alone + "/assistance/suggestions", timeout=30)
    assert (empty.status_code, empty.content) == (204, b"")
    page.context.close()


def test_the_request_page_in_english(browser, platform_with_helpdesk):
    platform = platform_with_helpdesk
    page = new_page(browser, True)
    page.goto(platform["web"] + "/aide")
    page.get_by_role("banner").get_by_role("link", name="EN – English").click()
    page.get_by_role("complementary", name="Support").get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Assistance request", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Technical context")).to_be_visible()
    page.get_by_label("My request").select_option(label=CATEGORY)
    page.get_by_role("button", name="See the frequently asked questions").click()
    expect(page.get_by_role("button", name="The FAQ solved my problem")).to_be_visible()
    page.get_by_role("button", name="I found no satisfying answer, I go on with my request").click()
    expect(page.get_by_role("group", name="My problem is *")).to_be_visible()
    expect(page.get_by_label("Attachment (e.g. a screenshot)")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    assert_accessible(page)
    page.context.close()


def tab_until(page, predicate_js: str, what: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!e && ({predicate_js}); }}"):
            return
    raise AssertionError(f"{what} is never reached with Tab")


def test_the_request_with_the_keyboard_only(browser, platform_with_helpdesk):
    """The guide's scenario by keyboard alone: Tab, typing, arrows for a list and a radio group, Enter."""
    platform = platform_with_helpdesk
    page = new_page(browser, javascript=True)
    page.goto(platform["web"] + "/aide")
    tab_until(page, "e.textContent.trim() === 'Assistance'", "« Assistance »")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Demande d’assistance", exact=True)).to_be_visible()
    tab_to(page, "champ-categorie")
    page.keyboard.type(CATEGORY)  # a list takes the option whose label is typed
    expect(page.get_by_label("Ma demande")).to_have_value(re.compile(".+"))
    assert page.get_by_label("Ma demande").evaluate("(s) => s.selectedOptions[0].label") == CATEGORY
    tab_until(page, "e.textContent.trim() === 'Voir les questions fréquentes'", "« Voir les questions fréquentes »")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Préciser ma demande / voir FAQ")).to_be_visible()
    tab_until(page, f"e.textContent.trim() === {QUESTION!r}", "the question")
    dsfr_live(page.get_by_role("button", name=QUESTION))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=QUESTION)).to_have_attribute("aria-expanded", "true")
    tab_until(page, "e.textContent.includes('je poursuis ma demande')", "« je poursuis ma demande »")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message")).to_be_visible()
    tab_until(page, "e.name === 'severity'", "« Mon problème est »")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # Mineur, then Majeur
    expect(page.get_by_role("radio", name="Majeur")).to_be_checked()
    tab_until(page, "e.name === 'frequency'", "« Mon problème est apparu »")
    page.keyboard.press("Space")
    tab_to(page, "champ-message")
    page.keyboard.type("Le bouton Modifier ne répond pas sur la page des établissements.")
    tab_to(page, "champ-email")
    page.keyboard.type("helene.lefevre@example.fr")
    tab_until(page, "e.textContent.trim() === 'Envoyer'", "« Envoyer »")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Demande d’assistance enregistrée")).to_be_visible()
    reference = re.search(r"\d{8}", page.get_by_role("status").inner_text()).group(0)
    ticket = followed(platform, reference)
    assert ticket["severity"] == "major" and ticket["contact"]["email"] == "helene.lefevre@example.fr"
    assert ticket["history"][0]["message"].startswith("Le bouton Modifier")
    assert_accessible(page)
    page.context.close()
