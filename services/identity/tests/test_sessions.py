"""Logins, access tokens, refresh-token rotation, logout, client credentials, key rotation."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest

from achats.chassis import security
from achats.chassis.problems import Problem
from achats.chassis.testing.keys import TestKeys
from achats.identity.sessions import create_client

from identity_support import build_stack


def verifier(stack, **kwargs):
    settings = stack.runtime.settings
    return security.TokenVerifier(security.JWKSCache("jwks", fetch=lambda _url: stack.client.get(
        "/identity/.well-known/jwks.json").json()), issuer=settings.issuer, audience=settings.audience, **kwargs)


def test_login_gives_a_short_lived_signed_token_with_the_claims(stack):
    stack.register()
    tokens = stack.login()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "ES256"
    assert header["kid"] in {k["kid"] for k in stack.client.get("/identity/.well-known/jwks.json").json()["keys"]}
    claims = verifier(stack).verify(tokens["access_token"])
    assert claims["roles"] == ["supplier", "supplier_admin"]
    assert claims["email"] == "marie.curie@example.fr"
    assert (claims["given_name"], claims["family_name"], claims["name"]) == ("Marie", "Curie", "Marie Curie")
    assert claims["company_id"] and claims["establishment_id"]
    assert claims["exp"] - claims["iat"] == 300


def test_unknown_login_and_wrong_password_answer_the_same(stack):
    stack.register()
    wrong = stack.client.post("/identity/sessions", json={"login": "mcurie", "password": "pas le bon mot"})
    unknown = stack.client.post("/identity/sessions", json={"login": "personne", "password": "pas le bon mot"})
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731
    assert strip(wrong.json()) == strip(unknown.json())
    assert wrong.json()["detail"] == "Identifiant ou mot de passe incorrect."


@pytest.mark.parametrize("forge", ["expired", "tampered", "alg_none", "hs256", "other_key", "audience", "issuer"])
def test_forged_or_stale_tokens_are_rejected(stack, forge):
    stack.register()
    good = stack.login()["access_token"]
    claims = jwt.decode(good, options={"verify_signature": False})
    header = jwt.get_unverified_header(good)
    other = TestKeys("EC", kid=header["kid"])
    if forge == "expired":
        token = _resign(stack, {**claims, "iat": int(time.time()) - 900, "exp": int(time.time()) - 600})
    elif forge == "tampered":
        head, payload, signature = good.split(".")
        changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
        changed["roles"] = ["platform_admin"]
        payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).decode().rstrip("=")
        token = f"{head}.{payload}.{signature}"
    elif forge == "alg_none":
        token = jwt.encode({**claims, "roles": ["platform_admin"]}, None, algorithm="none",
                           headers={"kid": header["kid"]})
    elif forge == "hs256":
        # The classic confusion attack: HMAC keyed with the public key (PyJWT refuses to do it, so by hand).
        jwk = json.dumps(stack.client.get("/identity/.well-known/jwks.json").json()["keys"][0]).encode()
        token = _hs256({"alg": "HS256", "kid": header["kid"], "typ": "JWT"}, claims, jwk)
    elif forge == "other_key":
        token = other.token(claims)
    elif forge == "audience":
        token = _resign(stack, {**claims, "aud": "another-platform"})
    else:
        token = _resign(stack, {**claims, "iss": "https://evil.example"})
    response = stack.client.get("/identity/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, forge
    assert response.json()["code"] in ("token_invalid", "token_expired", "token_unknown_key")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _hs256(header: dict, claims: dict, key: bytes) -> str:
    import hashlib
    import hmac

    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def _resign(stack, claims):
    kid, private = stack.identity.keys.active()
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid})


def test_refresh_tokens_rotate_and_reuse_ends_the_session(stack):
    stack.register()
    first = stack.login()
    second = stack.client.post("/identity/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert verifier(stack).verify(second["access_token"])["sid"] == verifier(stack).verify(first["access_token"])["sid"]
    # The first token again: stolen or replayed. The whole session ends, the thief's and the user's.
    replay = stack.client.post("/identity/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    assert (replay.status_code, replay.json()["code"]) == (401, "refresh_token_reused")
    after = stack.client.post("/identity/sessions/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    # Another session of the same user is untouched.
    other = stack.login()
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": other["refresh_token"]}).status_code == 200


def test_logout_ends_the_session_and_always_answers_204(stack):
    stack.register()
    tokens = stack.login()
    assert stack.client.post("/identity/sessions/logout",
                             json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert stack.client.post("/identity/sessions/logout", json={"refresh_token": "nonsense"}).status_code == 204


def test_refresh_grant_on_the_oauth_endpoint(stack):
    stack.register()
    tokens = stack.login()
    response = stack.client.post("/identity/oauth/token", data={"grant_type": "refresh_token",
                                                                "refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["refresh_token"] != tokens["refresh_token"]


def test_client_credentials_for_services(stack):
    create_client(stack.runtime.db.unit_of_work(), stack.identity, "helpdesk", "a long random client secret")
    basic = base64.b64encode(b"helpdesk:a long random client secret").decode()
    response = stack.client.post("/identity/oauth/token", data={"grant_type": "client_credentials"},
                                 headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text
    claims = verifier(stack).verify(response.json()["access_token"])
    assert (claims["sub"], claims["roles"]) == ("helpdesk", ["service"])
    in_body = stack.client.post("/identity/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "helpdesk", "client_secret": "a long random client secret"})
    assert in_body.status_code == 200
    for data in ({"client_id": "helpdesk", "client_secret": "wrong"}, {"client_id": "nobody", "client_secret": "x"}):
        refused = stack.client.post("/identity/oauth/token", data={"grant_type": "client_credentials", **data})
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    incomplete = stack.client.post("/identity/oauth/token", data={"grant_type": "client_credentials"})
    assert (incomplete.status_code, incomplete.json()["error"]) == (400, "invalid_request")
    unknown_grant = stack.client.post("/identity/oauth/token", data={"grant_type": "password"})
    assert unknown_grant.status_code == 400


def test_key_rotation_keeps_old_tokens_valid_until_they_expire(database_url, tmp_path, standin):
    with build_stack(database_url, tmp_path, standin) as stack:
        stack.register()
        before = stack.login()["access_token"]
        old_kid = jwt.get_unverified_header(before)["kid"]
        new = stack.identity.keys.rotate()
        after = stack.login()["access_token"]
        assert jwt.get_unverified_header(after)["kid"] == new.kid != old_kid
        kids = {k["kid"] for k in stack.client.get("/identity/.well-known/jwks.json").json()["keys"]}
        assert kids == {old_kid, new.kid}
        for token in (before, after):
            assert stack.client.get("/identity/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        # Once every token of the old key has expired, the key is no longer published.
        stack.identity.keys.keep_retired = timedelta(seconds=0)
        kids = {k["kid"] for k in stack.client.get("/identity/.well-known/jwks.json").json()["keys"]}
        assert kids == {new.kid}
        with pytest.raises(Problem):
            verifier(stack).verify(before)


def test_password_hashes_are_upgraded_at_login(database_url, tmp_path, standin):
    with build_stack(database_url, tmp_path, standin, argon2_time_cost=3, argon2_memory_kib=4096) as weak:
        weak.register()
    with build_stack(database_url, tmp_path, standin) as strong:
        from sqlalchemy import select

        from achats.identity.models import User

        with strong.runtime.db.session() as session:
            before = session.execute(select(User.password_hash)).scalar_one()
        assert "m=4096,t=3" in before
        strong.login()
        with strong.runtime.db.session() as session:
            after = session.execute(select(User.password_hash)).scalar_one()
        assert "m=7168,t=5,p=1" in after
        strong.login()  # the new hash verifies the same password
