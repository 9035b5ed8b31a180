"""My account, the company's users, the authorisation matrix, events from the registry, the CLI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from achats.chassis.bus import CloudEvent, EventConsumer
from achats.chassis.bus.transport import Delivery, Outcome
from achats.identity import cli
from achats.identity.consumers import HANDLERS
from achats.identity.models import OneTimeLink

from identity_support import PASSWORD, TEST_SIRET


def two_companies(stack):
    stack.register()  # Marie, admin of the CCAS
    stack.register(login="pcurie", email="pierre.curie@example.fr", first_name="Pierre")  # CCAS user
    stack.register(login="ljolliot", email="irene@example.fr", first_name="Irène", last_name="Joliot",
                   siret=TEST_SIRET)  # admin of another company
    return stack.auth(), stack.auth("pcurie"), stack.auth("ljolliot")


def test_my_account(stack):
    stack.register()
    headers = stack.auth()
    me = stack.me(headers)
    assert (me["login"], me["email"], me["phone"], me["fax"]) == ("mcurie", "marie.curie@example.fr",
                                                                  "+33 3 87 00 00 00", None)
    changed = stack.client.patch("/identity/me", headers=headers, json={"phone": "0102030405", "fax": "0102030406",
                                                                        "email": "Marie@Example.fr"})
    assert changed.status_code == 200
    assert (changed.json()["phone"], changed.json()["email"], changed.json()["email_verified"]) == (
        "0102030405", "marie@example.fr", False)
    empty = stack.client.patch("/identity/me", headers=headers, json={"last_name": ""})
    assert empty.status_code == 400


def verify(stack, url: str):
    """What the confirmation page does with the link of a mail: post its token."""
    (token,) = parse_qs(urlparse(url).query)["token"]
    return stack.client.post("/identity/email-verifications", json={"token": token})


def test_a_new_email_is_confirmed_by_the_link_of_the_event(stack):
    stack.register()
    headers = stack.auth()
    me = stack.me(headers)
    registration_link = stack.events("identity.user.registered")[-1]["verification_url"]
    before = datetime.now(UTC)
    changed = stack.client.patch("/identity/me", headers=headers,
                                 json={"email": "  Marie.Sklodowska@Example.FR ", "phone": "0102030405"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["email"], changed.json()["email_verified"]) == ("marie.sklodowska@example.fr", False)

    (requested,) = stack.events("identity.user.email_change_requested")
    assert {k: requested[k] for k in ("user_id", "email", "previous_email", "first_name", "last_name")} == {
        "user_id": me["id"], "email": "marie.sklodowska@example.fr", "previous_email": "marie.curie@example.fr",
        "first_name": "Marie", "last_name": "Curie"}
    base = stack.runtime.settings.public_base_url
    assert requested["verification_url"].startswith(f"{base}/compte/confirmation?token=")
    expires_at = datetime.fromisoformat(requested["verification_expires_at"])
    ttl = timedelta(seconds=stack.runtime.settings.verification_link_ttl)
    assert before + ttl <= expires_at <= datetime.now(UTC) + ttl
    # identity.user.updated is still published, with every field changed.
    assert stack.events("identity.user.updated")[-1]["changes"] == ["email", "phone"]
    assert stack.events("identity.user.updated")[-1]["email"] == "marie.sklodowska@example.fr"

    # The link mailed to the previous address at registration cannot confirm the new one.
    stale = verify(stack, registration_link)
    assert (stale.status_code, stale.json()["code"]) == (400, "link_invalid")
    assert stack.me(headers)["email_verified"] is False
    # The event's link confirms the new address, once.
    assert verify(stack, requested["verification_url"]).status_code == 204
    me = stack.me(stack.auth())
    assert (me["email"], me["email_verified"]) == ("marie.sklodowska@example.fr", True)
    assert verify(stack, requested["verification_url"]).status_code == 400


def test_a_confirmed_email_changed_again_must_be_confirmed_again(stack):
    stack.register()
    headers = stack.auth()
    for address in ("marie@example.fr", "curie@example.fr"):
        response = stack.client.patch("/identity/me", headers=headers, json={"email": address})
        assert response.json()["email_verified"] is False
    first, second = stack.events("identity.user.email_change_requested")
    assert (first["previous_email"], first["email"]) == ("marie.curie@example.fr", "marie@example.fr")
    assert (second["previous_email"], second["email"]) == ("marie@example.fr", "curie@example.fr")
    # Only the link of the latest address works: the one sent to marie@ would otherwise confirm curie@.
    assert verify(stack, first["verification_url"]).status_code == 400
    assert verify(stack, second["verification_url"]).status_code == 204
    assert stack.me(headers)["email_verified"] is True


def test_changes_that_keep_the_email_publish_no_email_change(stack):
    stack.register()
    headers = stack.auth()
    same = stack.client.patch("/identity/me", headers=headers,
                              json={"email": " Marie.Curie@EXAMPLE.fr", "phone": "0102030405"})
    assert same.status_code == 200
    assert (same.json()["email"], same.json()["email_verified"]) == ("marie.curie@example.fr", True)
    nothing = stack.client.patch("/identity/me", headers=headers, json={"first_name": "Marie"})
    assert nothing.status_code == 200
    assert stack.events("identity.user.email_change_requested") == []
    assert [u["changes"] for u in stack.events("identity.user.updated")] == [["phone"]]


def test_email_taken_by_someone_else(stack):
    stack.register()
    stack.register(login="pcurie", email="pierre.curie@example.fr")
    pierre = stack.auth("pcurie")
    response = stack.client.patch("/identity/me", headers=pierre,
                                  json={"email": "Marie.Curie@example.fr", "phone": "0102030405"})
    assert (response.status_code, response.json()["code"]) == (409, "email_taken")
    assert stack.events("identity.user.email_change_requested") == []
    assert stack.events("identity.user.updated") == []
    me = stack.me(pierre)
    assert (me["email"], me["phone"], me["email_verified"]) == ("pierre.curie@example.fr", "+33 3 87 00 00 00", True)
    # Nothing was replaced: no new link was made (one would have cancelled the earlier ones).
    with stack.runtime.db.session() as session:
        links = session.scalars(select(OneTimeLink).where(OneTimeLink.user_id == uuid.UUID(me["id"]))).all()
    assert [link.used_at is not None for link in links] == [True]  # the registration link, followed


def test_change_password_needs_the_current_one_and_ends_other_sessions(stack):
    stack.register()
    other = stack.login()
    current = stack.login()
    headers = {"Authorization": f"Bearer {current['access_token']}"}
    wrong = stack.client.post("/identity/me/password", headers=headers,
                              json={"current_password": "pas le bon", "new_password": "x" * 20})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "current_password_invalid")
    new = "une phrase de passe toute neuve"
    assert stack.client.post("/identity/me/password", headers=headers,
                             json={"current_password": PASSWORD, "new_password": new}).status_code == 204
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": other["refresh_token"]}).status_code == 401
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": current["refresh_token"]}).status_code == 200
    assert stack.login(password=new)


def test_last_administrator_must_hand_over_before_leaving(stack):
    marie, pierre, _ = two_companies(stack)
    refused = stack.client.delete("/identity/me", headers=marie)
    assert (refused.status_code, refused.json()["code"]) == (409, "last_administrator")
    assert "désignez d'abord un autre administrateur" in refused.json()["detail"]
    company = stack.me(marie)["company_id"]
    pierre_id = stack.me(pierre)["id"]
    granted = stack.client.put(f"/identity/companies/{company}/users/{pierre_id}/administrator", headers=marie)
    assert (granted.status_code, granted.json()["is_company_admin"]) == (200, True)
    assert stack.client.delete("/identity/me", headers=marie).status_code == 204
    assert stack.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD}).status_code == 401
    (deleted,) = stack.events("identity.user.deleted")
    assert deleted["email"] == "marie.curie@example.fr"
    # Pierre, now the last administrator, cannot give the role up.
    pierre = stack.auth("pcurie")
    revoked = stack.client.delete(f"/identity/companies/{company}/users/{pierre_id}/administrator", headers=pierre)
    assert (revoked.status_code, revoked.json()["code"]) == (409, "last_administrator")


def test_company_administrator_manages_its_users(stack):
    marie, pierre, _ = two_companies(stack)
    company = stack.me(marie)["company_id"]
    listing = stack.client.get(f"/identity/companies/{company}/users", headers=marie).json()
    assert listing["count"] == 2
    assert sorted(u["login"] for u in listing["items"]) == ["mcurie", "pcurie"]
    pierre_id = stack.me(pierre)["id"]
    assert stack.client.delete(f"/identity/companies/{company}/users/{pierre_id}", headers=marie).status_code == 204
    assert stack.client.post("/identity/sessions", json={"login": "pcurie", "password": PASSWORD}).status_code == 401


def test_authorisation_matrix(stack):
    marie, pierre, irene = two_companies(stack)
    company_a = stack.me(marie)["company_id"]
    pierre_id = stack.me(pierre)["id"]
    marie_id = stack.me(marie)["id"]
    base = f"/identity/companies/{company_a}/users"
    # Another company's administrator sees nothing and changes nothing of company A (404).
    assert stack.client.get(base, headers=irene).status_code == 404
    assert stack.client.put(f"{base}/{pierre_id}/administrator", headers=irene).status_code == 404
    assert stack.client.delete(f"{base}/{pierre_id}", headers=irene).status_code == 404
    # A plain user of company A cannot administer it (403).
    assert stack.client.get(base, headers=pierre).status_code == 403
    assert stack.client.put(f"{base}/{pierre_id}/administrator", headers=pierre).status_code == 403
    assert stack.client.delete(f"{base}/{marie_id}", headers=pierre).status_code == 403
    # A user id of another company is not found through company A.
    irene_id = stack.me(irene)["id"]
    assert stack.client.delete(f"{base}/{irene_id}", headers=marie).status_code == 404
    # Without a token: 401. Nothing changed.
    assert stack.client.get(base).status_code == 401
    assert stack.client.get(base, headers=marie).json()["count"] == 2
    assert stack.me(stack.auth("pcurie"))["is_company_admin"] is False


def test_support_agents_from_the_cli(stack, monkeypatch, capsys):
    settings = stack.runtime.settings
    monkeypatch.setenv("IDENTITY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IDENTITY_AMQP_URL", settings.amqp_url)
    args = ["create-agent", "--login", "agent.smith", "--email", "agent@achats.example", "--first-name", "Agent",
            "--last-name", "Smith", "--password", "le support répond toujours"]
    assert cli.main(args) == 0
    assert cli.main(args) == 1  # already exists
    assert cli.main([*args[:-1], "court"]) == 2  # password policy
    agent = stack.auth("agent.smith", "le support répond toujours")
    assert stack.me(agent)["roles"] == ["support_agent"]
    marie, _, _ = two_companies(stack)
    company = stack.me(marie)["company_id"]
    assert stack.client.get(f"/identity/companies/{company}/users", headers=agent).status_code == 200
    assert stack.client.delete(f"/identity/companies/{company}/users/{stack.me(marie)['id']}",
                               headers=agent).status_code == 404


def deliver(stack, type_: str, data: dict) -> Outcome:
    consumer = EventConsumer(name="identity", db=stack.runtime.db, transport=stack.runtime.transport,
                             handlers=HANDLERS)
    event = CloudEvent(type=type_, source="/company-registry", data=data)
    return consumer.handle(Delivery(body=event.to_json(), routing_key=type_, message_id=event.id, attempt=1))


def test_company_deleted_deactivates_its_users(stack):
    marie, _, irene = two_companies(stack)
    session = stack.login("pcurie")
    company = stack.me(marie)["company_id"]
    assert deliver(stack, "company.deleted", {"company_id": company, "name": "CCAS"}) is Outcome.ACK
    for login in ("mcurie", "pcurie"):
        assert stack.client.post("/identity/sessions", json={"login": login, "password": PASSWORD}).status_code == 401
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": session["refresh_token"]}).status_code == 401
    assert stack.me(irene)["active"] is True
    assert deliver(stack, "company.deleted", {"name": "no id"}) is Outcome.DEAD


def test_replaced_establishment_moves_its_users(stack):
    marie, _, _ = two_companies(stack)
    old = stack.me(marie)["establishment_id"]
    new = str(uuid.uuid4())
    assert deliver(stack, "company.establishment.replaced", {
        "company_id": stack.me(marie)["company_id"], "old_establishment_id": old,
        "new_establishment_id": new}) is Outcome.ACK
    assert stack.me(stack.auth())["establishment_id"] == new
    assert stack.me(stack.auth("pcurie"))["establishment_id"] == new


def test_the_access_token_names_the_company_and_follows_its_new_name(stack):
    """Issue 13 item 14: company_name in the token, the registry's name copied at registration, kept by
    company.updated (services show it instead of the company's UUID)."""
    import jwt

    marie, _, _ = two_companies(stack)

    def claims(login: str) -> dict:
        return jwt.decode(stack.login(login)["access_token"], options={"verify_signature": False})

    assert claims("mcurie")["company_name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert claims("pcurie")["company_name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    other = claims("ljolliot")["company_name"]
    assert other and other != "CENTRE COMMUNAL D'ACTION SOCIALE"
    company = stack.me(marie)["company_id"]
    renamed = {"company_id": company, "siren": None, "name": "CCAS DE METZ", "source": "insee", "verified": True,
               "country_code": "FR", "changes": ["name"]}
    assert deliver(stack, "company.updated", renamed) is Outcome.ACK
    assert claims("mcurie")["company_name"] == claims("pcurie")["company_name"] == "CCAS DE METZ"
    assert claims("ljolliot")["company_name"] == other
    assert deliver(stack, "company.updated", {"company_id": company}) is Outcome.DEAD
