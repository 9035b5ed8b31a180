"""The platform administrators' API: search, unlock, disable and enable, staff accounts, the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from achats.identity import administration, cli
from achats.identity.models import User

from identity_support import PASSWORD, TEST_SIRET, build_stack

ADMIN_PASSWORD = "la plateforme tourne sans accroc"
AGENT_PASSWORD = "le support répond toujours vite"


@pytest.fixture
def guarded(database_url, tmp_path, standin):
    """Identity where the third failed login locks the login name (no delays before it)."""
    with build_stack(database_url, tmp_path, standin, login_delay_after=10, login_lock_after=3,
                     login_lock_seconds=900) as stack:
        stack.register()  # Marie, of the CCAS
        yield stack


def staff(stack, role: str, login: str, password: str) -> dict:
    """A staff account made as the first administrator is: by the command line (audited as « cli »)."""
    administration.create_staff(stack.runtime.db.unit_of_work(), stack.identity, None, {
        "role": role, "login": login, "password": password, "email": f"{login}@achats.example",
        "first_name": login.title(), "last_name": "Staff"})
    return stack.auth(login, password)


def fail_logins(stack, login: str = "mcurie", times: int = 3) -> None:
    for _ in range(times):
        response = stack.client.post("/identity/sessions", json={"login": login, "password": "pas le bon mot"})
        assert response.status_code == 401


def test_an_administrator_unlocks_an_account_the_brute_force_protection_locked(guarded):
    admin = staff(guarded, "platform_admin", "root.admin", ADMIN_PASSWORD)
    fail_logins(guarded)
    refused = guarded.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD})
    assert refused.status_code == 429

    found = guarded.client.get("/identity/admin/users", params={"q": "MCUR"}, headers=admin)
    assert found.status_code == 200, found.text
    (marie,) = found.json()["items"]
    assert (marie["login"], marie["locked"]) == ("mcurie", True)
    assert marie["locked_until"] and marie["company_name"]
    only_locked = guarded.client.get("/identity/admin/users", params={"locked": "true"}, headers=admin)
    assert [u["login"] for u in only_locked.json()["items"]] == ["mcurie"]

    unlocked = guarded.client.post(f"/identity/admin/users/{marie['id']}/unlock", headers=admin)
    assert unlocked.status_code == 200, unlocked.text
    assert (unlocked.json()["locked"], unlocked.json()["failed_logins"]) == (False, 0)
    assert guarded.login()["access_token"]  # Marie logs in again

    again = guarded.client.post(f"/identity/admin/users/{marie['id']}/unlock", headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "account_not_locked")
    assert "verrouillé" in again.json()["detail"]

    log = guarded.client.get("/identity/admin/audit", headers=admin).json()["items"]
    assert [(e["action"], e["actor_login"], e["target_login"]) for e in log] == [
        ("account.unlocked", "root.admin", "mcurie"), ("account.created", "cli", "root.admin")]
    assert log[0]["detail"]["locked_until"] == marie["locked_until"] and log[0]["at"]


def test_search_by_email_or_company(stack):
    stack.register()
    stack.register(login="ljoliot", email="irene@example.fr", first_name="Irène", last_name="Joliot",
                   siret=TEST_SIRET)
    admin = staff(stack, "platform_admin", "root.admin", ADMIN_PASSWORD)
    by_email = stack.client.get("/identity/admin/users", params={"q": "irene@"}, headers=admin).json()
    assert [u["login"] for u in by_email["items"]] == ["ljoliot"]
    company = stack.me(stack.auth())["company_id"]
    name = stack.client.get("/identity/admin/users", params={"q": "mcurie"}, headers=admin).json()[
        "items"][0]["company_name"]
    by_company = stack.client.get("/identity/admin/users", params={"q": name[:6].lower()}, headers=admin)
    assert company in {u["company_id"] for u in by_company.json()["items"]}
    wildcard = stack.client.get("/identity/admin/users", params={"q": "%"}, headers=admin).json()
    assert wildcard["items"] == []  # « % » is a character to find, not a pattern
    first = stack.client.get("/identity/admin/users", params={"limit": 1}, headers=admin).json()
    following = stack.client.get("/identity/admin/users", params={"limit": 1, "cursor": first["next_cursor"]},
                                 headers=admin).json()
    assert first["items"][0]["login"] != following["items"][0]["login"]


def test_disable_ends_the_sessions_and_enable_lets_the_user_back(stack):
    stack.register()
    session = stack.login()
    admin = staff(stack, "platform_admin", "root.admin", ADMIN_PASSWORD)
    marie = stack.me(stack.auth())["id"]
    disabled = stack.client.post(f"/identity/admin/users/{marie}/disable", headers=admin)
    assert (disabled.status_code, disabled.json()["active"]) == (200, False)
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": session["refresh_token"]}).status_code == 401
    assert stack.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD}).status_code == 401
    twice = stack.client.post(f"/identity/admin/users/{marie}/disable", headers=admin)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_disabled")
    assert stack.events("identity.user.updated")[-1]["active"] is False

    enabled = stack.client.post(f"/identity/admin/users/{marie}/enable", headers=admin)
    assert (enabled.status_code, enabled.json()["active"]) == (200, True)
    assert stack.login()["access_token"]
    actions = [e["action"] for e in stack.client.get("/identity/admin/audit", params={"target_id": marie},
                                                     headers=admin).json()["items"]]
    assert actions == ["account.enabled", "account.disabled"]

    own = stack.me(admin)["id"]
    refused = stack.client.post(f"/identity/admin/users/{own}/disable", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "own_account")


def test_an_administrator_creates_agents_and_administrators_with_the_registration_rules(stack):
    admin = staff(stack, "platform_admin", "root.admin", ADMIN_PASSWORD)
    body = {"role": "support_agent", "login": "Agent.Smith", "password": AGENT_PASSWORD,
            "email": "Agent.Smith@achats.example", "first_name": "Agent", "last_name": "Smith"}
    created = stack.client.post("/identity/admin/staff", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert (created.json()["login"], created.json()["roles"], created.json()["activated"]) == (
        "agent.smith", ["support_agent"], True)
    agent = stack.auth("agent.smith", AGENT_PASSWORD)  # no confirmation mail: the administrator vouches
    assert stack.me(agent)["roles"] == ["support_agent"]

    taken = stack.client.post("/identity/admin/staff", json=body, headers=admin)
    assert (taken.status_code, taken.json()["code"]) == (409, "account_exists")
    assert {e["field"] for e in taken.json()["errors"]} == {"login", "email"}
    short = stack.client.post("/identity/admin/staff", json={**body, "login": "other", "email": "o@achats.example",
                                                              "password": "court"}, headers=admin)
    assert (short.status_code, short.json()["code"]) == (422, "password_rejected")
    assert short.json()["errors"][0]["field"] == "password" and "caractères" in short.json()["detail"]
    bad_login = stack.client.post("/identity/admin/staff", json={**body, "login": "a b", "email": "o@achats.example"},
                                  headers=admin)
    assert (bad_login.status_code, bad_login.json()["errors"][0]["field"]) == (422, "login")
    blank = stack.client.post("/identity/admin/staff", json={**body, "login": "x.y", "email": "x@achats.example",
                                                              "first_name": "  "}, headers=admin)
    assert (blank.status_code, blank.json()["errors"][0]["field"]) == (400, "first_name")
    bad_role = stack.client.post("/identity/admin/staff", json={**body, "role": "supplier_admin"}, headers=admin)
    assert bad_role.status_code == 400
    second_admin = stack.client.post("/identity/admin/staff", headers=admin, json={
        **body, "role": "platform_admin", "login": "second.admin", "email": "second@achats.example"})
    assert second_admin.json()["roles"] == ["platform_admin"]
    with stack.runtime.db.session() as session:
        assert session.execute(select(func.count()).select_from(User)).scalar_one() == 3  # nothing else made
    log = stack.client.get("/identity/admin/audit", headers=admin).json()["items"]
    assert [(e["action"], e["target_login"], e["detail"].get("role")) for e in log[:2]] == [
        ("account.created", "second.admin", "platform_admin"), ("account.created", "agent.smith", "support_agent")]


def test_only_platform_administrators_reach_the_admin_api(stack):
    stack.register()
    supplier = stack.auth()
    agent = staff(stack, "support_agent", "agent.smith", AGENT_PASSWORD)
    marie = stack.me(supplier)["id"]
    requests = [("get", "/identity/admin/users", None), ("get", f"/identity/admin/users/{marie}", None),
                ("post", f"/identity/admin/users/{marie}/unlock", None),
                ("post", f"/identity/admin/users/{marie}/disable", None),
                ("post", f"/identity/admin/users/{marie}/enable", None),
                ("post", "/identity/admin/staff", {"role": "platform_admin", "login": "me.admin",
                                                   "password": ADMIN_PASSWORD, "email": "me@example.fr",
                                                   "first_name": "Me", "last_name": "Admin"}),
                ("get", "/identity/admin/audit", None)]
    for method, url, body in requests:
        extra = {"json": body} if body else {}
        assert stack.client.request(method, url, **extra).status_code == 401
        for who in (supplier, agent):
            refused = stack.client.request(method, url, headers=who, **extra)
            assert (refused.status_code, refused.json()["code"]) == (403, "platform_admin_required"), url
            assert refused.json()["detail"] == administration.ADMIN_ONLY
    assert stack.me(supplier)["active"] is True


def test_the_cli_keeps_creating_the_first_administrator_and_it_is_audited(stack, monkeypatch):
    settings = stack.runtime.settings
    monkeypatch.setenv("IDENTITY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IDENTITY_AMQP_URL", settings.amqp_url)
    assert cli.main(["create-admin", "--login", "first.admin", "--email", "first@achats.example", "--first-name",
                     "First", "--last-name", "Admin", "--password", ADMIN_PASSWORD]) == 0
    admin = stack.auth("first.admin", ADMIN_PASSWORD)
    (entry,) = stack.client.get("/identity/admin/audit", headers=admin).json()["items"]
    assert (entry["actor_login"], entry["action"], entry["target_login"]) == ("cli", "account.created", "first.admin")
