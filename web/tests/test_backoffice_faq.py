"""« FAQ » in the back office (issue 17 item 3) against the real helpdesk and identity, in Chromium with
JavaScript on and off, axe 0 on every page reached: the categories and their questions in order, published or
not, the deflection figures of each question after a supplier was shown it, categories created and edited
(refusals beside the field, nothing changed), and the helpdesk's own role check."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from test_backoffice import log_in

from web_support import assert_accessible, create_staff, register

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
CATEGORY = "Mon compte entreprise"


def new_page(browser, javascript: bool):
    return browser.new_context(locale="fr-FR", java_script_enabled=javascript).new_page()


def agent_on_faq(browser, platform, javascript: bool):
    create_staff(platform["identity"])
    page = new_page(browser, javascript)
    log_in(page, platform["web"], "agent.dupont")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="FAQ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("FAQ")
    return page


def category_section(page, label: str):
    return page.get_by_role("region", name=label)


def public_faq(platform, label: str) -> list[dict]:
    """The questions of a category as any requester gets them from the helpdesk."""
    categories = requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"]
    found = next(c for c in categories if c["label"] == label)
    return requests.get(f"{platform['helpdesk']}/helpdesk/faq", params={"category_id": found["id"]},
                        timeout=30).json()["items"]


def tick(page, label: str) -> None:
    """A DSFR checkbox, ticked as a person does: by its label (the box itself is drawn by the label)."""
    box = page.get_by_label(label)
    page.locator(f'label[for="{box.get_attribute("id")}"]').click()
    expect(box).to_be_checked()


def figures(page, label: str, question: str) -> list[str]:
    row = category_section(page, label).get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=question, exact=True))
    return [text.strip() for text in row.get_by_role("cell").all_text_contents()]


@JS
def test_the_list_with_the_deflection_of_each_question(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    questions = [e["question"] for e in public_faq(platform, CATEGORY)]
    # A requester is shown the category's FAQ twice, and the FAQ solved the problem once.
    requester = new_page(browser, javascript)
    for solved in (True, False):
        requester.goto(platform["web"] + "/assistance")
        requester.get_by_label("Ma demande").select_option(label=CATEGORY)
        requester.get_by_role("button", name="Voir les questions fréquentes").click()
        if solved:
            requester.get_by_role("button", name="La FAQ m'a permis de résoudre mon problème").click()
            expect(requester.get_by_role("heading", name="Merci")).to_be_visible()
    requester.context.close()

    page = agent_on_faq(browser, platform, javascript)
    section = category_section(page, CATEGORY)
    expect(section.get_by_role("heading", level=2)).to_contain_text("Publiée")
    expect(section.get_by_text("Demandes résolues par la FAQ : 1 ; poursuivies : 0 ; taux : 100 %")).to_be_visible()
    # Every question in the helpdesk's order, each shown twice and followed by one resolution: 50 %.
    assert section.get_by_role("rowheader").all_inner_texts() == questions
    assert figures(page, CATEGORY, questions[0])[:4] == ["Publiée", "2", "1", "50 %"]
    # A category nobody opened: its questions were never shown.
    other = page.get_by_role("region", name="Autre demande")
    expect(other.get_by_role("row").nth(1).get_by_role("cell").nth(3)).to_have_text("–")
    assert_accessible(page, javascript)
    page.context.close()


@JS
def test_a_category_created_then_edited(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    page = agent_on_faq(browser, platform, javascript)
    before = requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"]
    page.get_by_role("link", name="Ajouter une catégorie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter une catégorie")
    assert_accessible(page, javascript)
    # Only spaces: the helpdesk's message beside « Libellé », nothing created, what was typed kept.
    page.get_by_label("Libellé").fill("   ")
    page.get_by_label("Description").fill("Factures et paiements")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#champ-label-erreur")).to_have_text("Ce champ est obligatoire.")
    expect(page.get_by_label("Description")).to_have_value("Factures et paiements")
    assert_accessible(page, javascript)
    assert requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"] == before
    page.get_by_label("Libellé").fill("Facturation")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La catégorie a été créée.")).to_be_visible()
    section = category_section(page, "Facturation")
    expect(section.get_by_role("heading", level=2)).to_contain_text("Non publiée")
    expect(section.get_by_text("Aucune question dans cette catégorie.")).to_be_visible()
    # Not published: not offered to the suppliers.
    labels = [c["label"] for c in requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30)
              .json()["items"]]
    assert "Facturation" not in labels

    section.get_by_role("link", name="Modifier la catégorie « Facturation »").click()
    expect(page.get_by_label("Libellé")).to_have_value("Facturation")
    page.get_by_label("Libellé").fill("Facturation et paiement")
    tick(page, "Publiée")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La catégorie a été modifiée.")).to_be_visible()
    expect(category_section(page, "Facturation et paiement").get_by_role("heading", level=2)) \
        .to_contain_text("Publiée")
    assert_accessible(page, javascript)
    labels = [c["label"] for c in requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30)
              .json()["items"]]
    assert labels[-1] == "Facturation et paiement"
    # « Monter »: one place up, as the suppliers' list shows it.
    category_section(page, "Facturation et paiement").get_by_role(
        "button", name="Monter la catégorie « Facturation et paiement »").click()
    expect(page.get_by_text("L’ordre des catégories a été modifié.")).to_be_visible()
    moved = [c["label"] for c in requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30)
             .json()["items"]]
    assert moved == [*labels[:-2], labels[-1], labels[-2]]
    page.context.close()


@JS
def test_a_supplier_gets_403_on_the_faq_pages(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    register(platform["identity"])
    page = new_page(browser, javascript)
    log_in(page, platform["web"], "mcurie", start="/back-office/faq")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert_accessible(page, javascript)
    entry = requests.get(f"{platform['helpdesk']}/helpdesk/faq", params={"limit": 1}, timeout=30).json()["items"][0]
    for path in ("/back-office/faq", "/back-office/faq/categories/nouvelle", "/back-office/faq/questions/nouvelle",
                 f"/back-office/faq/questions/{entry['id']}", f"/back-office/faq/categories/{entry['category_id']}"):
        answer = page.goto(platform["web"] + path)
        assert answer.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    page.context.close()


def supplier_questions(browser, platform, javascript: bool, label: str = CATEGORY) -> list[str]:
    """The questions a supplier (Marie Curie, logged in) is shown on « Demande d'assistance » once « Ma demande »
    is chosen, in order."""
    page = new_page(browser, javascript)
    log_in(page, platform["web"], "mcurie", start="/compte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes informations personnelles")
    page.goto(platform["web"] + "/assistance")
    page.get_by_label("Ma demande").select_option(label=label)
    page.get_by_role("button", name="Voir les questions fréquentes").click()
    expect(page.get_by_role("heading", name="Préciser ma demande / voir FAQ")).to_be_visible()
    found = page.locator("#questions-frequentes .fr-accordion__btn").all_inner_texts()
    page.context.close()
    return found


NEW_QUESTION = "Comment joindre le support pendant un dépôt ?"
NEW_ANSWER = "Appelez le 08 20 20 77 43.\nGardez la référence de votre demande sous la main."


@JS
def test_an_agent_creates_previews_publishes_moves_and_withdraws_a_question(browser, platform_with_helpdesk,
                                                                              javascript):
    platform = platform_with_helpdesk
    register(platform["identity"])
    before = supplier_questions(browser, platform, javascript)
    count = len(requests.get(f"{platform['helpdesk']}/helpdesk/faq", timeout=30).json()["items"])
    page = agent_on_faq(browser, platform, javascript)
    category_section(page, CATEGORY).get_by_role(
        "link", name=f"Ajouter une question à la catégorie « {CATEGORY} »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter une question")
    expect(page.get_by_label("Catégorie")).to_have_value(
        next(c["id"] for c in requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"]
             if c["label"] == CATEGORY))
    preview = page.get_by_role("region", name="Aperçu : la question telle que les fournisseurs la verront")
    page.get_by_label("Question *", exact=True).fill(NEW_QUESTION)
    page.get_by_label("Réponse").fill(NEW_ANSWER)
    if javascript:
        # The preview follows the typing, no request.
        expect(preview.get_by_role("button", name=NEW_QUESTION)).to_be_visible()
        expect(preview.locator("[data-apercu=answer]")).to_have_text(NEW_ANSWER)
        page.get_by_label("Réponse").fill(NEW_ANSWER + " Merci.")
        expect(preview.locator("[data-apercu=answer]")).to_have_text(NEW_ANSWER + " Merci.")
        page.get_by_label("Réponse").fill(NEW_ANSWER)
    else:
        expect(preview).to_have_count(0)
    page.get_by_role("button", name="Prévisualiser").click()
    expect(preview.get_by_role("button", name=NEW_QUESTION)).to_be_visible()
    expect(preview.locator("[data-apercu=answer]")).to_have_text(NEW_ANSWER)
    expect(page.get_by_label("Réponse")).to_have_value(NEW_ANSWER)  # what was typed kept, nothing saved
    assert_accessible(page, javascript)
    assert len(requests.get(f"{platform['helpdesk']}/helpdesk/faq", timeout=30).json()["items"]) == count
    # An empty question: the helpdesk's message beside it, nothing created.
    page.get_by_label("Question *", exact=True).fill(" ")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#champ-question-erreur")).to_have_text("Ce champ est obligatoire.")
    expect(page.get_by_label("Réponse")).to_have_value(NEW_ANSWER)
    assert_accessible(page, javascript)
    assert len(requests.get(f"{platform['helpdesk']}/helpdesk/faq", params={"include_inactive": "false"},
                            timeout=30).json()["items"]) == count
    assert NEW_QUESTION not in [e["question"] for e in public_faq(platform, CATEGORY)]
    page.get_by_label("Question *", exact=True).fill(NEW_QUESTION)
    page.get_by_label("Mots-clés").fill("téléphone appel")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La question a été créée (non publiée).")).to_be_visible()
    assert figures(page, CATEGORY, NEW_QUESTION)[:4] == ["Non publiée", "0", "0", "–"]
    assert supplier_questions(browser, platform, javascript) == before  # not published yet

    row = category_section(page, CATEGORY).get_by_role("row").filter(has_text=NEW_QUESTION)
    row.get_by_role("button", name=f"Publier la question « {NEW_QUESTION} »").click()
    expect(page.get_by_text("La question a été publiée.")).to_be_visible()
    assert_accessible(page, javascript)
    assert supplier_questions(browser, platform, javascript) == [*before, NEW_QUESTION]
    # « Monter » twice: two places up in what the suppliers see.
    for _ in range(2):
        category_section(page, CATEGORY).get_by_role(
            "button", name=f"Monter la question « {NEW_QUESTION} »").click()
        expect(page.get_by_text("L’ordre des questions a été modifié.")).to_be_visible()
    assert supplier_questions(browser, platform, javascript) == [*before[:-2], NEW_QUESTION, *before[-2:]]
    assert category_section(page, CATEGORY).get_by_role("rowheader").all_inner_texts() == [
        *before[:-2], NEW_QUESTION, *before[-2:]]
    # Edited: the preview shows what is saved, then the new answer.
    category_section(page, CATEGORY).get_by_role("link", name=f"Modifier la question « {NEW_QUESTION} »").click()
    expect(page.get_by_label("Mots-clés")).to_have_value("téléphone appel")
    expect(preview.locator("[data-apercu=answer]")).to_have_text(NEW_ANSWER)
    page.get_by_label("Réponse").fill("Appelez le 08 20 20 77 43, de 9 h à 19 h.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La question a été modifiée.")).to_be_visible()
    entry = next(e for e in requests.get(f"{platform['helpdesk']}/helpdesk/faq", params={"limit": 100},
                                         timeout=30).json()["items"] if e["question"] == NEW_QUESTION)
    assert (entry["answer"], entry["keywords"]) == ("Appelez le 08 20 20 77 43, de 9 h à 19 h.", "téléphone appel")
    # « Retirer »: the suppliers no longer see it.
    category_section(page, CATEGORY).get_by_role("button", name=f"Retirer la question « {NEW_QUESTION} »").click()
    expect(page.get_by_text("La question a été retirée : les fournisseurs ne la voient plus.")).to_be_visible()
    assert supplier_questions(browser, platform, javascript) == before
    assert_accessible(page, javascript)
    page.context.close()
