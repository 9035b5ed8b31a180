"""Back office « Journal » (issue 17, « every action is audited (who, what, when) and visible to administrators »),
in Chromium with JavaScript on and off against the real identity, registry and helpdesk: an agent's reply to a
ticket and an administrator's company decision are both in the one journal, newest first, with who and when; the
« Service » filter; a service that does not answer is named and the others are still shown; an agent gets 403."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import expect

from web_support import PASSWORD, assert_accessible, create_staff, logged_in_page

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
UNKNOWN = ("123456790", "12345679000104", "ATELIER FANTOME")  # a SIREN the INSEE stand-in does not know


@pytest.fixture
def platform_without_helpdesk_answer(fresh_postgres_url, tmp_path, standin):
    """The platform whose web app calls a helpdesk that is not there (a closed port)."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin,
                          web_settings={"helpdesk_url": "http://127.0.0.1:1"}) as urls:
        yield urls


def token(platform, login: str) -> str:
    answer = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": PASSWORD},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def company_rejected_by_hand(platform, admin: dict) -> None:
    """A company typed by hand at registration, refused by the administrator through the registry's API."""
    siren, siret, name = UNKNOWN
    answer = requests.post(f"{platform['identity']}/identity/registrations", json={
        "company": {"source": "manual", "siren": siren, "name": name, "naf_code": "62.01Z", "legal_form_code": "SARL",
                    "is_pme": True},
        "establishment": {"source": "manual", "siret": siret, "street": "1 rue de la Paix", "postal_code": "75002",
                          "city": "Paris"},
        "user": {"last_name": "Martin", "first_name": "Paul", "email": "paul.fantome@example.fr",
                 "phone": "+33 1 00 00 00 00"},
        "credentials": {"login": "paul.fantome", "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text
    pending = requests.get(f"{platform['registry']}/registry/admin/manual-companies", headers=admin, timeout=30)
    assert pending.status_code == 200, pending.text
    company = next(item for item in pending.json()["items"] if item["siren"] == siren)
    decided = requests.post(f"{platform['registry']}/registry/admin/manual-companies/{company['id']}/decision",
                            json={"decision": "reject", "reason": "Aucune entreprise de ce nom."}, headers=admin,
                            timeout=30)
    assert decided.status_code == 200, decided.text


def ticket_answered_by_agent(platform, agent: dict) -> str:
    """A request sent anonymously, answered by the agent through the helpdesk's API; its reference."""
    helpdesk = platform["helpdesk"] + "/helpdesk"
    category = requests.get(f"{helpdesk}/categories", timeout=30).json()["items"][0]["id"]
    created = requests.post(f"{helpdesk}/tickets", data={
        "category_id": category, "severity": "minor", "frequency": "once", "message": "Je ne peux pas déposer.",
        "email": "demandeur@example.fr"}, files=[("attachments", ("", b"", "application/octet-stream"))], timeout=30)
    assert created.status_code == 201, created.text
    ticket = created.json()
    replied = requests.post(f"{helpdesk}/agent/tickets/{ticket['id']}/replies",
                            data={"message": "Voici comment faire, personnellement."},
                            files=[("attachments", ("", b"", "application/octet-stream"))], headers=agent, timeout=30)
    assert replied.status_code == 201, replied.text
    return ticket["reference"]


@JS
def test_the_journal_shows_an_agents_reply_and_an_administrators_decision(browser, platform_with_helpdesk,
                                                                         javascript):
    platform = platform_with_helpdesk
    create_staff(platform["identity"], "agent.dupont", "agent.dupont@achats.example")
    create_staff(platform["identity"], "root.admin", "root.admin@achats.example", role="platform_admin",
                 first_name="Alex", last_name="Root")
    before = datetime.now(UTC).replace(microsecond=0)
    reference = ticket_answered_by_agent(platform, {"Authorization": f"Bearer {token(platform, 'agent.dupont')}"})
    company_rejected_by_hand(platform, {"Authorization": f"Bearer {token(platform, 'root.admin')}"})

    page = logged_in_page(browser, platform, javascript, "root.admin")
    page.goto(platform["web"] + "/back-office/journal")
    expect(page.get_by_role("heading", name="Journal des actions")).to_be_visible()
    rows = page.locator("tbody tr")
    decision = rows.filter(has_text="Entreprise refusée")
    expect(decision).to_have_count(1)
    expect(decision.locator("td").nth(1)).to_have_text("Entreprises")
    expect(decision.locator("td").nth(2)).to_have_text("Alex Root")
    expect(decision.locator("td").nth(4)).to_contain_text("ATELIER FANTOME")
    reply = rows.filter(has_text="Réponse au demandeur")
    expect(reply).to_have_count(1)
    expect(reply.locator("td").nth(1)).to_have_text("Assistance")
    expect(reply.locator("td").nth(2)).to_have_text("Camille Dupont")
    expect(reply.locator("td").nth(4)).to_have_text(f"Demande n° {reference}")
    # When: each row's time, newest first; the decision came after the reply.
    times = [datetime.fromisoformat(t.get_attribute("datetime")) for t in rows.locator("time").all()]
    assert times == sorted(times, reverse=True)
    assert all(moment >= before for moment in times[:2])
    texts = rows.all_inner_texts()
    assert texts.index(next(t for t in texts if "Entreprise refusée" in t)) < \
        texts.index(next(t for t in texts if "Réponse au demandeur" in t))
    # The creation of the agent accounts is there too (identity), and no message text.
    expect(rows.filter(has_text="Compte créé").first).to_be_visible()
    expect(page.get_by_text("personnellement")).to_have_count(0)
    assert_accessible(page, javascript)

    page.get_by_label("Service").select_option(label="Assistance")
    page.get_by_role("button", name="Filtrer").click()
    expect(rows.filter(has_text="Réponse au demandeur")).to_have_count(1)
    expect(rows.filter(has_text="Entreprise refusée")).to_have_count(0)
    expect(rows.filter(has_text="Compte créé")).to_have_count(0)
    assert {text.split("\t")[1] for text in rows.all_inner_texts()} == {"Assistance"}
    assert_accessible(page, javascript)
    page.context.close()

    agent = logged_in_page(browser, platform, javascript, "agent.dupont")
    response = agent.goto(platform["web"] + "/back-office/journal?service=assistance")
    assert response.status == 403
    expect(agent.get_by_role("heading", name="Accès refusé")).to_be_visible()
    agent.context.close()


@JS
def test_a_service_that_does_not_answer_is_named_and_the_others_are_shown(browser, platform_without_helpdesk_answer,
                                                                         javascript):
    platform = platform_without_helpdesk_answer
    create_staff(platform["identity"], "root.admin", "root.admin@achats.example", role="platform_admin",
                 first_name="Alex", last_name="Root")
    company_rejected_by_hand(platform, {"Authorization": f"Bearer {token(platform, 'root.admin')}"})
    page = logged_in_page(browser, platform, javascript, "root.admin")
    response = page.goto(platform["web"] + "/back-office/journal")
    assert response.status == 200
    expect(page.get_by_text("Le service « Assistance » ne répond pas : ses actions ne sont pas affichées "
                            "ci-dessous.")).to_be_visible()
    expect(page.locator("tbody tr").filter(has_text="Entreprise refusée")).to_have_count(1)
    expect(page.locator("tbody tr").filter(has_text="Compte créé")).to_have_count(1)
    assert_accessible(page, javascript)
    page.context.close()
