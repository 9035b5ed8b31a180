"""The back office's skeleton (issue 17): an agent's pages under /back-office in the same app, their menu by
role, a supplier refused with the French 403 page, and the shorter idle timeout of the staff's sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect

from web_support import assert_accessible, create_staff, fill_login, register


def log_in(page, web: str, login: str, start: str = "/back-office") -> None:
    """Open ``start``; the login page comes first (and leads back to it)."""
    page.goto(web + start)
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    fill_login(page, login)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_agent_reaches_the_back_office_and_a_supplier_gets_403(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    create_staff(platform["identity"])
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes")
    assert page.url.endswith("/back-office/demandes")
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("link", name="Demandes")).to_have_attribute("aria-current", "page")
    # The administrators' sections are not an agent's; the suppliers' menu is not here.
    for absent in ("Comptes", "Entreprises", "Santé", "Mon entreprise", "Outils de signature"):
        expect(menu.get_by_role("link", name=absent)).to_have_count(0)
    expect(page.get_by_role("link", name="Assistance")).to_have_count(0)
    expect(page.get_by_text("Nombre de demandes : 0", exact=True)).to_be_visible()
    assert_accessible(page, javascript)
    # From the platform's own pages, the way back in.
    page.goto(platform["web"] + "/")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Back office").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes")
    context.close()

    register(platform["identity"])
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "mcurie")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    answer = page.goto(platform["web"] + "/back-office/demandes")
    assert answer.status == 403
    expect(page.get_by_text("Vous n’avez pas les droits nécessaires pour accéder à cette page.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Back office")) \
        .to_have_count(0)
    assert_accessible(page, javascript)
    context.close()


def test_a_logged_out_visitor_is_sent_to_the_login_page(context, platform_with_helpdesk):
    page = context.new_page()
    page.goto(platform_with_helpdesk["web"] + "/back-office/demandes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


@pytest.fixture
def platform_short_staff_sessions(fresh_postgres_url, tmp_path, standin):
    """The platform with the staff's idle timeout at 10 minutes (everyone else's stays at 30)."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, helpdesk=True,
                          web_settings={"staff_session_idle_seconds": 600}) as urls:
        yield urls


def unused_for(tmp_path, minutes: int) -> None:
    """Every browser session of the web app last used ``minutes`` ago."""
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/web.db")
    try:
        with engine.begin() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT id_hash, last_seen_at FROM browser_sessions")).all()
            assert rows
            for id_hash, _seen in rows:
                connection.execute(sqlalchemy.text("UPDATE browser_sessions SET last_seen_at = "
                                                   "datetime('now', :ago) WHERE id_hash = :id"),
                                   {"ago": f"-{minutes} minutes", "id": id_hash})
    finally:
        engine.dispose()


def test_the_staffs_sessions_end_sooner_when_unused(browser, platform_short_staff_sessions, tmp_path):
    platform = platform_short_staff_sessions
    create_staff(platform["identity"])
    register(platform["identity"])
    agent_context = browser.new_context(locale="fr-FR")
    agent_page = agent_context.new_page()
    log_in(agent_page, platform["web"], "agent.dupont")
    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Demandes")
    supplier_context = browser.new_context(locale="fr-FR")
    supplier_page = supplier_context.new_page()
    log_in(supplier_page, platform["web"], "mcurie", start="/compte")
    expect(supplier_page.get_by_role("heading", level=1)).to_have_text("Mes informations personnelles")

    unused_for(tmp_path, 11)
    agent_page.goto(platform["web"] + "/back-office/demandes")
    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Connexion")
    supplier_page.goto(platform["web"] + "/compte")
    expect(supplier_page.get_by_role("heading", level=1)).to_have_text("Mes informations personnelles")
    agent_context.close()
    supplier_context.close()


def test_the_idle_limit_of_each_role():
    from achats.web.sessions import idle_limit

    class Settings:
        session_idle_seconds = 1800
        staff_session_idle_seconds = 600

    assert idle_limit(Settings, {"roles": ["support_agent"]}) == 600
    assert idle_limit(Settings, {"roles": ["platform_admin"]}) == 600
    assert idle_limit(Settings, {"roles": ["company_admin"]}) == 1800
    assert idle_limit(Settings, {}) == 1800
    Settings.staff_session_idle_seconds = 3600
    assert idle_limit(Settings, {"roles": ["support_agent"]}) == 1800
    assert timedelta(seconds=idle_limit(Settings, {})) == timedelta(minutes=30)


def _ticket(platform, message: str, *, severity: str = "major", email: str = "a.durand@example.fr",
            last_name: str = "Durand") -> dict:
    """A request through the helpdesk's public API, as the « Demande d'assistance » page sends it."""
    category = requests.get(f"{platform['helpdesk']}/helpdesk/categories", timeout=30).json()["items"][0]["id"]
    answer = requests.post(f"{platform['helpdesk']}/helpdesk/tickets", data={
        "category_id": category, "severity": severity, "frequency": "systematic", "message": message,
        "email": email, "first_name": "Anne", "last_name": last_name},
        files=[("attachments", ("", b"", "application/octet-stream"))], timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _age(platform, ticket_id: str, hours: int) -> None:
    engine = sqlalchemy.create_engine(platform["helpdesk_database"])
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("UPDATE tickets SET created_at = datetime('now', :ago) "
                                               "WHERE id = :id"), {"ago": f"-{hours} hours",
                                                                   "id": ticket_id.replace("-", "")})
    finally:
        engine.dispose()


def _references(page) -> list[str]:
    return page.locator("table tbody tr td:nth-child(1)").all_inner_texts()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_queue_filters_sorts_counts_and_pages(browser, platform_with_helpdesk, javascript):
    platform = platform_with_helpdesk
    create_staff(platform["identity"])
    old = _ticket(platform, "Le dépôt de mon attestation fiscale échoue.", severity="minor")
    blocking = _ticket(platform, "Impossible de signer ma réponse.", severity="blocking",
                       email="j.martin@example.fr", last_name="Martin")
    idea = _ticket(platform, "Une idée pour la page d'accueil.", severity="suggestion")
    _age(platform, old["id"], 72)
    _age(platform, blocking["id"], 5)
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont")
    expect(page.get_by_text("Nombre de demandes : 3", exact=True)).to_be_visible()
    # The oldest first by default, the requester beside each.
    assert _references(page) == [old["reference"], blocking["reference"], idea["reference"]]
    expect(page.get_by_role("cell", name="j.martin@example.fr", exact=False)).to_be_visible()
    counts = page.get_by_role("navigation", name="Nombre de demandes par statut")
    expect(counts.get_by_role("link", name="Nouvelle : 3")).to_be_visible()
    expect(counts.get_by_role("link", name="Fermée : 0")).to_be_visible()
    assert_accessible(page, javascript)

    page.get_by_label("Tri", exact=True).select_option(label="Les plus graves d’abord")
    page.get_by_role("button", name="Filtrer").click()
    assert _references(page) == [blocking["reference"], old["reference"], idea["reference"]]
    page.get_by_label("Rechercher").fill("MARTIN")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Nombre de demandes : 1", exact=True)).to_be_visible()
    assert _references(page) == [blocking["reference"]]
    expect(page.get_by_label("Rechercher")).to_have_value("MARTIN")  # the filters kept
    page.get_by_label("Rechercher").fill("")
    page.get_by_label("Gravité", exact=True).select_option(label="Mineur")
    page.get_by_role("button", name="Filtrer").click()
    assert _references(page) == [old["reference"]]
    page.get_by_label("Gravité", exact=True).select_option(label="Toutes")
    page.get_by_label("Attribution").select_option(label="Attribuées à moi")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Aucune demande ne correspond.")).to_be_visible()
    page.get_by_label("Attribution").select_option(label="Non attribuées")
    page.get_by_label("Statut", exact=True).select_option(label="En attente du demandeur")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Aucune demande ne correspond.")).to_be_visible()
    assert_accessible(page, javascript)
    context.close()


def test_the_queue_pages(context, platform_with_helpdesk):
    platform = platform_with_helpdesk
    create_staff(platform["identity"])
    for number in range(27):
        _ticket(platform, f"Demande numéro {number:02d} sur le coffre-fort.")
    page = context.new_page()
    log_in(page, platform["web"], "agent.dupont")
    expect(page.get_by_text("Nombre de demandes : 27", exact=True)).to_be_visible()
    first = _references(page)
    assert len(first) == 25
    page.get_by_role("link", name="Demandes suivantes").click()
    second = _references(page)
    assert len(second) == 2 and not set(first) & set(second)
    expect(page.get_by_role("link", name="Demandes suivantes")).to_have_count(0)
