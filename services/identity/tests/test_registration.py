"""« Nouvel utilisateur »: accounts attached to their company, first user administrator, no enumeration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from achats.identity.models import RefreshToken, Throttle, User

from identity_support import PASSWORD, TEST_SIRET, registration


def test_first_user_administers_the_company_later_users_join_it(stack):
    stack.register()
    (first,) = stack.events("identity.user.registered")
    assert first["roles"] == ["supplier", "supplier_admin"]
    assert first["company_administrators"] == []
    assert first["company_name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert first["verification_url"].startswith("https://marches.example.fr/compte/confirmation?token=")
    stack.register(login="pcurie", email="pierre.curie@example.fr", first_name="Pierre")
    second = stack.events("identity.user.registered")[1]
    assert second["roles"] == ["supplier"]
    assert second["company_id"] == first["company_id"]
    assert second["establishment_id"] == first["establishment_id"]
    assert second["company_administrators"] == [{"email": "marie.curie@example.fr", "first_name": "Marie",
                                                 "last_name": "Curie"}]
    me = stack.me(stack.auth("pcurie"))
    assert (me["company_id"], me["is_company_admin"]) == (first["company_id"], False)
    assert stack.me(stack.auth())["is_company_admin"] is True


def test_email_verification_link_is_single_use_and_opens_the_account_to_login(stack):
    stack.register(confirmed=False)
    token = stack.link_token("identity.user.registered", "verification_url")
    refused = stack.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD})
    assert (refused.status_code, refused.json()["code"]) == (403, "email_not_verified")
    assert stack.client.post("/identity/email-verifications", json={"token": token}).status_code == 204
    again = stack.client.post("/identity/email-verifications", json={"token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "link_invalid"
    assert stack.me(stack.auth())["email_verified"] is True


def test_no_login_before_the_email_is_confirmed_and_the_refusal_changes_nothing(stack):
    stack.register(confirmed=False)
    for _ in range(12):  # more than the lockout threshold: a right password is not a failure
        refused = stack.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == (
            "Votre adresse électronique n'est pas encore confirmée : ouvrez le lien du courriel de confirmation, "
            "ou demandez un nouveau courriel.")
    with stack.runtime.db.session() as session:
        assert session.scalars(select(Throttle)).all() == []
        assert session.scalars(select(RefreshToken)).all() == []
    # A wrong password is still the plain 401, counted like any other (nothing tells the account exists).
    wrong = stack.client.post("/identity/sessions", json={"login": "mcurie", "password": "pas le bon"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    stack.confirm_email("marie.curie@example.fr")
    assert stack.login()["access_token"]


def resend(stack, value: str):
    return stack.client.post("/identity/email-verifications/resend", json={"login_or_email": value})


def test_a_new_confirmation_mail_on_request_with_the_same_answer_for_everyone(stack):
    stack.register(confirmed=False)
    stack.register(login="pcurie", email="pierre.curie@example.fr", first_name="Pierre", confirmed=False)
    stack.register(login="jcurie", email="jacques.curie@example.fr", first_name="Jacques")  # confirmed
    old_pierre = stack.verification_token("pierre.curie@example.fr")
    answers = [resend(stack, value) for value in ("pierre.curie@example.fr", "personne", "jcurie", "MCURIE")]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    again = stack.events("identity.user.registered")[3:]
    assert [(e["email"], e["company_administrators"], e["company_name"]) for e in again] == [
        ("pierre.curie@example.fr", [], "CENTRE COMMUNAL D'ACTION SOCIALE"),
        ("marie.curie@example.fr", [], "CENTRE COMMUNAL D'ACTION SOCIALE")]
    # The previous link stops working; the new one confirms.
    assert stack.client.post("/identity/email-verifications", json={"token": old_pierre}).status_code == 400
    stack.confirm_email("pierre.curie@example.fr")
    assert stack.login("pcurie")["access_token"]
    # At most one mail every 5 minutes per account, the same answer.
    assert resend(stack, "mcurie").text == answers[0].text
    assert len(stack.events("identity.user.registered")) == 5


def test_a_new_confirmation_mail_again_after_five_minutes(stack):
    stack.register(confirmed=False)
    assert resend(stack, "mcurie").status_code == 202
    with stack.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(Throttle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1),
                                                    next_allowed_at=None))
        uow.commit()
    assert resend(stack, "mcurie").status_code == 202
    assert len(stack.events("identity.user.registered")) == 3


def test_existing_accounts_stay_usable_after_the_migration(database_url):
    """Accounts made while login came before the confirmation count as confirmed (migration 0002)."""
    from achats.chassis.db import Database
    from achats.chassis.migrations import migrate
    from achats.identity.app import SERVICE

    migrate(database_url, SERVICE.migrations, revision="identity0001")
    db = Database(database_url)
    try:
        created = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        with db.engine.begin() as connection:
            for login, verified in (("ancien", None), ("verifie", created + timedelta(hours=1))):
                connection.execute(text(
                    "INSERT INTO users (id, login, email, first_name, last_name, password_hash, roles, active,"
                    " email_verified_at, password_changed_at, created_at, updated_at) VALUES (:id, :login, :email,"
                    " 'A', 'B', 'x', '[]', :active, :verified, :created, :created, :created)"),
                    {"id": uuid.uuid4().hex if db.engine.dialect.name == "sqlite" else str(uuid.uuid4()),
                     "login": login, "email": f"{login}@example.fr", "active": True, "verified": verified,
                     "created": created})
        migrate(database_url, SERVICE.migrations)
        with db.session() as session:
            users = {u.login: u for u in session.scalars(select(User))}
        assert users["ancien"].activated_at == created
        assert users["ancien"].email_verified_at is None  # the claim stays true to what was confirmed
        assert users["verifie"].activated_at == created + timedelta(hours=1)
    finally:
        db.dispose()


def test_taken_email_or_login_answers_exactly_like_a_new_account(stack):
    fresh = stack.client.post("/identity/registrations", json=registration())
    same_email = stack.client.post("/identity/registrations", json=registration(login="autre.login"))
    same_login = stack.client.post("/identity/registrations", json=registration(email="autre@example.fr"))
    for response in (same_email, same_login):
        assert response.status_code == fresh.status_code == 202
        assert response.json() == fresh.json()
    assert len(stack.events("identity.user.registered")) == 1
    # The owner is told once (further attempts within the hour are not mailed: see the next test).
    rejected = stack.events("identity.registration.rejected")
    assert [(r["email"], r["login"], r["reason"]) for r in rejected] == [
        ("marie.curie@example.fr", "mcurie", "email_taken")]
    # Logins and e-mails are compared without case.
    upper = stack.client.post("/identity/registrations", json=registration(login="MCURIE", email="x@example.fr"))
    assert upper.json() == fresh.json()
    assert len(stack.events("identity.user.registered")) == 1


def test_owner_is_told_of_attempts_at_most_once_an_hour_and_only_while_active(stack):
    stack.register()
    stack.register(login="pcurie", email="pierre.curie@example.fr", first_name="Pierre")
    for _ in range(5):  # someone insists on Marie's address
        assert stack.client.post("/identity/registrations", json=registration(login="autre")).status_code == 202
    assert [r["reason"] for r in stack.events("identity.registration.rejected")] == ["email_taken"]

    # An hour later the next attempt is mailed again.
    with stack.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(Throttle).where(Throttle.key.startswith("registration-notice:"))
                            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        uow.commit()
    stack.client.post("/identity/registrations", json=registration(email="autre@example.fr"))
    assert [r["reason"] for r in stack.events("identity.registration.rejected")] == ["email_taken", "login_taken"]

    # Each account has its own allowance; a deactivated account is never mailed.
    with stack.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.login == "pcurie").values(active=False))
        uow.commit()
    stack.client.post("/identity/registrations", json=registration(login="pcurie", email="p@example.fr"))
    assert [r["login"] for r in stack.events("identity.registration.rejected")] == ["mcurie", "mcurie"]


def test_password_policy_is_checked_before_the_registry_is_asked(stack, standin):
    cases = {
        "trop court": "au moins 15 caractères",
        "password1234567": "trop courant",
        "azerazerazerazerazer": "trop courant",
        "mcurie est la meilleure": "ni votre identifiant",
        "marie.curie@example.fr pour toujours": "ni votre identifiant",
        "x" * 300: "ne doit pas dépasser",
    }
    for password, expected in cases.items():
        response = stack.client.post("/identity/registrations", json=registration(password=password))
        assert response.status_code == 422, password
        body = response.json()
        assert body["code"] == "password_rejected"
        assert any(expected in e["message"] for e in body["errors"]), (password, body)
        assert body["errors"][0]["field"] == "credentials.password"
    assert standin.calls()["total"] == 0
    assert stack.events("identity.user.registered") == []
    long_passphrase = "une phrase de passe très longue " * 4  # > 64 characters are accepted
    assert stack.client.post("/identity/registrations",
                             json=registration(password=long_passphrase)).status_code == 202


def test_invalid_login_and_fields(stack):
    response = stack.client.post("/identity/registrations", json=registration(login="a b"))
    assert (response.status_code, response.json()["code"]) == (422, "login_invalid")
    body = registration()
    del body["user"]["phone"]
    response = stack.client.post("/identity/registrations", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "user.phone", "message": "Ce champ est obligatoire."}]


def test_registry_problems_reach_the_user(stack, standin):
    bad_siret = stack.client.post("/identity/registrations", json=registration(siret="26570134200149"))
    assert (bad_siret.status_code, bad_siret.json()["code"]) == (422, "siret_invalid")
    standin.set_mode("503")
    down = stack.client.post("/identity/registrations", json=registration(siret=TEST_SIRET))
    assert down.status_code == 503
    assert down.json()["fallback"] == "manual"
    assert down.json()["detail"].startswith("Le service est actuellement indisponible.")
    assert stack.events("identity.user.registered") == []
    # Typed by hand, as the form then asks.
    manual = registration()
    manual["company"] = {"source": "manual", "siren": "390702009", "name": "TEST", "naf_code": "82.99Z",
                         "legal_form_code": "5499"}
    manual["establishment"] = {"source": "manual", "siret": TEST_SIRET, "street": "1 RUE X",
                               "postal_code": "75008", "city": "PARIS"}
    assert stack.client.post("/identity/registrations", json=manual).status_code == 202
    assert stack.events("identity.user.registered")[0]["company_name"] == "TEST"


def test_registry_down_is_a_clear_503(stack):
    stack.runtime.deps.registry.http.base_url = "http://127.0.0.1:1"
    response = stack.client.post("/identity/registrations", json=registration())
    assert response.status_code == 503
    assert response.json()["code"] == "registry_unavailable"
    assert stack.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD}).status_code == 401


def test_the_password_policy_is_published_with_the_bounds_the_check_applies(stack):
    response = stack.client.get("/identity/password-policy")
    assert response.status_code == 200
    policy = response.json()
    assert (policy["min_length"], policy["max_length"]) == (15, 256)
    assert [rule["code"] for rule in policy["rules"]] == ["length", "not_common", "not_personal"]
    assert policy["rules"][0]["message"].startswith("De 15 à 256 caractères")
    # The bound published is the one applied: one character short is refused, the bound itself accepted.
    short = stack.client.post("/identity/registrations", json=registration(password="x y z a b c d e"[:14]))
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "credentials.password"
    assert "au moins 15 caractères" in short.json()["errors"][0]["message"]
