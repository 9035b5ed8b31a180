"""Issue 17's security test: a supplier, a support agent and a platform administrator each log in through the
real login page and try the pages of the two others, and get the French 403 page; the services behind refuse
the same callers (the pages are not the only lock). An administrator supervises the agents' work, so the agents'
pages are his too; nobody of the staff opens a company's pages or its vault on the site, downloads included."""

from __future__ import annotations

import requests
from playwright.sync_api import expect
from test_backoffice import log_in
from test_backoffice_ticket import new_ticket

from web_support import PASSWORD, api_session, assert_accessible, create_staff, put_document, register

AGENT_PAGES = ("/back-office/demandes", "/back-office/demandes/{ticket}", "/back-office/faq",
               "/back-office/faq/questions/nouvelle", "/back-office/questions")
ADMIN_PAGES = ("/back-office/comptes", "/back-office/comptes/nouveau", "/back-office/entreprises",
               "/back-office/sante", "/back-office/journal")
SUPPLIER_PAGES = ("/entreprise", "/entreprise/etablissements", "/entreprise/utilisateurs", "/entreprise/coffre-fort",
                  "/consultations/mes-reponses")
# Routes that answer a file, not a page: fetched with the session's cookies, not opened in a tab.
SUPPLIER_FILES = ("/entreprise/coffre-fort/{document}/telechargement",)
AGENT_FILES = ("/back-office/demandes/{ticket}/pieces-jointes/00000000-0000-4000-8000-000000000000",)

REFUSED = {
    "mcurie": AGENT_PAGES + ADMIN_PAGES,
    "agent.dupont": ADMIN_PAGES + SUPPLIER_PAGES,
    "admin.martin": SUPPLIER_PAGES,
}
REFUSED_FILES = {"mcurie": AGENT_FILES, "agent.dupont": SUPPLIER_FILES, "admin.martin": SUPPLIER_FILES}
# What each may open, so that a 403 everywhere (a broken role check) fails the test too.
ALLOWED = {
    "mcurie": ("/entreprise", "/entreprise/coffre-fort"),
    "agent.dupont": ("/back-office/demandes", "/back-office/demandes/{ticket}", "/back-office/faq"),
    "admin.martin": ("/back-office/demandes/{ticket}", "/back-office/comptes", "/back-office/entreprises",
                     "/back-office/journal"),
}


def test_each_role_gets_403_on_the_others_pages(browser, platform_with_helpdesk):
    platform = platform_with_helpdesk
    register(platform["identity"])
    create_staff(platform["identity"])
    create_staff(platform["identity"], "admin.martin", "admin.martin@example.fr", role="platform_admin",
                 first_name="Louis", last_name="Martin")
    ticket = new_ticket(platform, "Je ne trouve pas le bouton de dépôt.")["id"]
    document = put_document(platform, "mcurie", "kbis", None)["id"]
    values = {"ticket": ticket, "document": document}

    for login, refused in REFUSED.items():
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        log_in(page, platform["web"], login)
        for path in ALLOWED[login]:
            answer = page.goto(platform["web"] + path.format(**values))
            assert answer.status == 200, (login, path)
        for path in refused:
            answer = page.goto(platform["web"] + path.format(**values))
            assert answer.status == 403, (login, path)
            expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
        assert_accessible(page)
        for path in REFUSED_FILES[login]:
            answer = context.request.get(platform["web"] + path.format(**values), max_redirects=0)
            assert answer.status == 403, (login, path)
            assert "Accès refusé" in answer.text()
        context.close()

    # The services refuse the same callers: an agent's token reaches no company's vault (the administrator's
    # does, through the API: a manual company's decision may rest on its Kbis), a supplier's no agent's view of
    # a ticket.
    _, company = api_session(platform)
    for login, status in (("agent.dupont", 403), ("admin.martin", 200)):
        token = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": PASSWORD},
                              timeout=30).json()["access_token"]
        for path in (f"/registry/companies/{company}/documents",
                     f"/registry/companies/{company}/documents/{document}/content"):
            answer = requests.get(platform["registry"] + path, headers={"Authorization": f"Bearer {token}"},
                                  timeout=30)
            assert answer.status_code == status, (login, path, answer.status_code)
    token, _ = api_session(platform)
    answer = requests.get(f"{platform['helpdesk']}/helpdesk/agent/tickets/{ticket}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 403, answer.text
