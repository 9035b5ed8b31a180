"""Tests for JWT bearer verification, the JWKS cache and the connexion glue."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from achats.chassis import security
from achats.chassis.problems import Problem
from achats.chassis.security import JWKSCache, Principal, TokenVerifier, bearer_info, require_roles
from achats.chassis.testing.keys import JWKSServer, TestKeys

ISSUER = "https://identity.test"
AUDIENCE = "achats"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rsa_keys() -> TestKeys:
    return TestKeys("RSA", kid="k1", issuer=ISSUER)


@pytest.fixture(scope="module")
def ec_keys() -> TestKeys:
    return TestKeys("EC", kid="k2", issuer=ISSUER)


@pytest.fixture
def server(rsa_keys: TestKeys) -> Iterator[JWKSServer]:
    srv = JWKSServer(rsa_keys.jwks())
    yield srv
    srv.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(server: JWKSServer, clock: FakeClock) -> JWKSCache:
    return JWKSCache(server.url, ttl=300, min_refetch_interval=10, clock=clock)


@pytest.fixture
def verifier(cache: JWKSCache) -> TokenVerifier:
    return TokenVerifier(cache)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], sign=lambda signing_input: b"") -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _problem(verifier: TokenVerifier, token: str) -> Problem:
    with pytest.raises(Problem) as info:
        verifier.verify(token)
    return info.value


# --- verification ---------------------------------------------------------------------------


def test_valid_token_returns_claims(verifier: TokenVerifier, rsa_keys: TestKeys, server: JWKSServer) -> None:
    token = rsa_keys.token(sub="u-42", roles=["supplier_admin"], company_id="c-1")
    claims = verifier.verify(token)
    assert claims["sub"] == "u-42"
    assert claims["roles"] == ["supplier_admin"]
    assert claims["company_id"] == "c-1"
    assert server.fetches == 1
    verifier.verify(rsa_keys.token())
    assert server.fetches == 1  # cached


def test_ec_key_accepted(ec_keys: TestKeys, clock: FakeClock) -> None:
    verifier = TokenVerifier(JWKSCache("unused", clock=clock, fetch=lambda url: ec_keys.jwks()))
    assert verifier.verify(ec_keys.token(sub="u-ec"))["sub"] == "u-ec"


def test_expired_token(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    problem = _problem(verifier, rsa_keys.token(exp_in=-120))
    assert (problem.status, problem.code) == (401, "token_expired")
    assert problem.detail == "Votre session a expiré. Veuillez vous reconnecter."
    assert problem.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_expiry_within_leeway_is_accepted(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    assert verifier.verify(rsa_keys.token(exp_in=-10))["sub"] == "user-1"


def test_missing_token(verifier: TokenVerifier) -> None:
    for token in ("", "   "):
        problem = _problem(verifier, token)
        assert (problem.status, problem.code) == (401, "token_missing")
        assert "WWW-Authenticate" in problem.headers


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "e30.e30.", "x" * 50])
def test_malformed_token(verifier: TokenVerifier, token: str) -> None:
    problem = _problem(verifier, token)
    assert (problem.status, problem.code) == (401, "token_invalid")
    assert problem.detail == "Jeton d'authentification invalide."


def test_wrong_signature_same_kid(verifier: TokenVerifier) -> None:
    impostor = TestKeys("RSA", kid="k1", issuer=ISSUER)
    assert _problem(verifier, impostor.token()).code == "token_invalid"


@pytest.mark.parametrize("missing", ["exp", "sub"])
def test_required_claims(verifier: TokenVerifier, rsa_keys: TestKeys, missing: str) -> None:
    assert _problem(verifier, rsa_keys.token(**{missing: None})).code == "token_invalid"


def test_kid_header_required(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    import jwt

    token = jwt.encode(rsa_keys.claims(), rsa_keys.private_key, algorithm="RS256")
    assert _problem(verifier, token).code == "token_invalid"


def test_alg_none_rejected(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    token = _forge({"alg": "none", "typ": "JWT", "kid": "k1"}, rsa_keys.claims())
    assert _problem(verifier, token).code == "token_invalid"


def test_hs256_with_public_key_as_secret_rejected(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    secret = rsa_keys.public_pem()
    token = _forge({"alg": "HS256", "typ": "JWT", "kid": "k1"}, rsa_keys.claims(),
                   lambda data: hmac.new(secret, data, hashlib.sha256).digest())
    assert _problem(verifier, token).code == "token_invalid"


def test_alg_mismatch_with_key_rejected(ec_keys: TestKeys, rsa_keys: TestKeys, clock: FakeClock) -> None:
    # An ES256 token whose kid names an RSA key.
    verifier = TokenVerifier(JWKSCache("unused", clock=clock, fetch=lambda url: rsa_keys.jwks()))
    assert _problem(verifier, ec_keys.token(kid="k1")).code == "token_invalid"


def test_symmetric_keys_in_jwks_are_ignored(clock: FakeClock) -> None:
    jwks = {"keys": [{"kty": "oct", "kid": "sym", "k": _b64(b"secret" * 6)}]}
    verifier = TokenVerifier(JWKSCache("unused", clock=clock, fetch=lambda url: jwks))
    token = _forge({"alg": "HS256", "kid": "sym"}, {"sub": "x", "exp": 9999999999},
                   lambda data: hmac.new(b"secret" * 6, data, hashlib.sha256).digest())
    assert _problem(verifier, token).code == "token_invalid"


def test_symmetric_algorithms_cannot_be_allowed(cache: JWKSCache) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(cache, algorithms=("RS256", "HS256"))


def test_issuer_and_audience(cache: JWKSCache, rsa_keys: TestKeys) -> None:
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(rsa_keys.token(aud=AUDIENCE))["aud"] == AUDIENCE
    assert _problem(verifier, rsa_keys.token(aud=AUDIENCE, iss="https://evil.test")).code == "token_invalid"
    assert _problem(verifier, rsa_keys.token(aud="other")).code == "token_invalid"
    assert _problem(verifier, rsa_keys.token(aud=AUDIENCE, iss=None)).code == "token_invalid"
    assert _problem(verifier, rsa_keys.token()).code == "token_invalid"  # no aud at all


def test_audience_not_checked_when_not_configured(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    assert verifier.verify(rsa_keys.token(aud="whatever"))["aud"] == "whatever"


# --- JWKS cache: rotation, throttling, outages -----------------------------------------------------


def test_key_rotation_refetches_once(verifier: TokenVerifier, server: JWKSServer, rsa_keys: TestKeys,
                                     clock: FakeClock) -> None:
    verifier.verify(rsa_keys.token())
    assert server.fetches == 1
    new_keys = TestKeys("RSA", kid="k-new")
    server.jwks = {"keys": [rsa_keys.jwk(), new_keys.jwk()]}
    clock.now += 11
    assert verifier.verify(new_keys.token(sub="rotated"))["sub"] == "rotated"
    assert server.fetches == 2
    verifier.verify(new_keys.token())
    verifier.verify(rsa_keys.token())
    assert server.fetches == 2


def test_unknown_kid_flood_is_throttled(verifier: TokenVerifier, server: JWKSServer, rsa_keys: TestKeys,
                                        clock: FakeClock) -> None:
    verifier.verify(rsa_keys.token())
    assert server.fetches == 1
    clock.now += 11
    for i in range(50):
        problem = _problem(verifier, rsa_keys.token(kid=f"bogus-{i}"))
        assert (problem.status, problem.code) == (401, "token_unknown_key")
        clock.now += 0.1  # 5 s in all: still within one min_refetch_interval
    assert server.fetches == 2
    clock.now += 10
    _problem(verifier, rsa_keys.token(kid="bogus-again"))
    assert server.fetches == 3
    verifier.verify(rsa_keys.token())  # known keys keep working meanwhile
    assert server.fetches == 3


def test_ttl_expiry_refetches(verifier: TokenVerifier, server: JWKSServer, rsa_keys: TestKeys,
                              clock: FakeClock) -> None:
    verifier.verify(rsa_keys.token())
    clock.now += 299
    verifier.verify(rsa_keys.token())
    assert server.fetches == 1
    clock.now += 2
    verifier.verify(rsa_keys.token())
    assert server.fetches == 2


def test_server_down_with_cache_keeps_serving(verifier: TokenVerifier, server: JWKSServer,
                                              rsa_keys: TestKeys, clock: FakeClock) -> None:
    verifier.verify(rsa_keys.token())
    server.stop()
    clock.now += 301  # ttl expired: refetch attempted, fails, cached keys still used
    assert verifier.verify(rsa_keys.token(sub="still"))["sub"] == "still"
    assert _problem(verifier, rsa_keys.token(kid="unknown")).code == "token_unknown_key"


def test_server_error_with_cache_keeps_serving(verifier: TokenVerifier, server: JWKSServer,
                                               rsa_keys: TestKeys, clock: FakeClock) -> None:
    verifier.verify(rsa_keys.token())
    server.status = 500
    clock.now += 301
    assert verifier.verify(rsa_keys.token())["sub"] == "user-1"
    assert server.fetches == 2
    server.status = 200
    server.jwks = {"keys": []}  # an empty set is a failure too, not "forget all keys"
    clock.now += 301
    assert verifier.verify(rsa_keys.token())["sub"] == "user-1"
    assert server.fetches == 3


def test_server_down_without_cache(server: JWKSServer, rsa_keys: TestKeys, clock: FakeClock) -> None:
    url = server.url
    server.stop()
    verifier = TokenVerifier(JWKSCache(url, clock=clock))
    problem = _problem(verifier, rsa_keys.token())
    assert (problem.status, problem.code) == (503, "jwks_unavailable")
    assert problem.detail and "indisponible" in problem.detail


def test_outage_without_cache_is_throttled_then_recovers(rsa_keys: TestKeys, clock: FakeClock) -> None:
    calls: list[str] = []
    state = {"up": False}

    def fetch(url: str) -> dict[str, Any]:
        calls.append(url)
        if not state["up"]:
            raise ConnectionError("down")
        return rsa_keys.jwks()

    verifier = TokenVerifier(JWKSCache("http://identity/jwks", clock=clock, fetch=fetch))
    for _ in range(5):
        assert _problem(verifier, rsa_keys.token()).code == "jwks_unavailable"
    assert len(calls) == 1
    state["up"] = True
    clock.now += 10
    assert verifier.verify(rsa_keys.token())["sub"] == "user-1"
    assert len(calls) == 2


def test_cache_is_thread_safe(server: JWKSServer, rsa_keys: TestKeys) -> None:
    verifier = TokenVerifier(JWKSCache(server.url))
    errors: list[BaseException] = []
    token = rsa_keys.token()

    def work() -> None:
        try:
            for _ in range(20):
                verifier.verify(token)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert server.fetches == 1


# --- roles, principal, registry ------------------------------------------------------------------


def test_require_roles() -> None:
    require_roles({"roles": ["supplier", "supplier_admin"]}, "supplier_admin", "platform_admin")
    for claims in ({"roles": ["supplier"]}, {}, {"roles": None}):
        with pytest.raises(Problem) as info:
            require_roles(claims, "platform_admin")
        assert (info.value.status, info.value.code) == (403, "forbidden")
        assert info.value.detail == "Vous n'avez pas les droits nécessaires pour cette action."


def test_principal_from_claims() -> None:
    principal = Principal.from_claims({
        "sub": "u-1", "roles": ["supplier", "supplier_admin"], "company_id": "c-1",
        "establishment_id": "e-1", "email": "a@b.fr", "name": "Alice", "exp": 1,
    })
    assert principal == Principal("u-1", ("supplier", "supplier_admin"), "c-1", "e-1", "a@b.fr", "Alice")
    assert principal.has_role("platform_admin", "supplier_admin")
    assert not principal.has_role("support_agent")
    minimal = Principal.from_claims({"sub": "svc"})
    assert minimal.roles == () and minimal.company_id is None
    with pytest.raises(AttributeError):
        minimal.sub = "other"  # type: ignore[misc]


def _verifying(verifier: TokenVerifier | None, token: str) -> dict[str, Any]:
    """bearer_info as the chassis middleware calls it: with the app's verifier as the request's."""
    async def call() -> dict[str, Any]:
        context = security.request_verifier.set(verifier)
        try:
            return await bearer_info(token)
        finally:
            security.request_verifier.reset(context)

    return asyncio.run(call())


def test_bearer_info_uses_the_request_verifier(verifier: TokenVerifier, rsa_keys: TestKeys) -> None:
    assert _verifying(verifier, rsa_keys.token(sub="u-9"))["sub"] == "u-9"
    with pytest.raises(Problem) as info:
        _verifying(verifier, rsa_keys.token(exp_in=-100))
    assert info.value.code == "token_expired"


def test_bearer_info_without_a_verifier() -> None:
    with pytest.raises(Problem) as info:
        _verifying(None, "x")
    assert (info.value.status, info.value.code) == (503, "authentication_unavailable")


def test_test_keys_defaults() -> None:
    keys = TestKeys("EC", issuer=ISSUER, audience=AUDIENCE)
    claims = keys.claims({"sub": "a"}, roles=["service"])
    assert claims["sub"] == "a" and claims["roles"] == ["service"]
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and claims["exp"] > claims["iat"]
    assert keys.jwks()["keys"][0]["kid"] == keys.kid


# --- connexion 3 integration -------------------------------------------------------------------

SPEC = """
openapi: 3.0.3
info: {title: security test, version: "1"}
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
      bearerFormat: JWT
      x-bearerInfoFunc: achats.chassis.security.bearer_info
security:
  - bearer: []
paths:
  /whoami:
    get:
      operationId: %s.whoami
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object}
"""

seen: dict[str, Any] = {}


def whoami(user: str, token_info: dict[str, Any]) -> dict[str, Any]:
    seen.update(user=user, token_info=token_info)
    return {"sub": user, "roles": token_info.get("roles", [])}


def test_connexion_flask_app(tmp_path: Path, verifier: TokenVerifier, rsa_keys: TestKeys,
                             server: JWKSServer, clock: FakeClock) -> None:
    from connexion import FlaskApp
    from connexion.lifecycle import ConnexionResponse
    from connexion.middleware import MiddlewarePosition

    from achats.chassis.observability import RequestContextMiddleware

    (tmp_path / "openapi.yaml").write_text(SPEC % __name__)
    app = FlaskApp(__name__, specification_dir=str(tmp_path))
    app.add_api("openapi.yaml")
    # The chassis middleware makes the app's verifier the request's, as create_app installs it.
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, service="t",
                       max_body_bytes=10_000, verifier=verifier)

    def problem_handler(request: Any, exc: Problem) -> ConnexionResponse:
        return ConnexionResponse(status_code=exc.status, mimetype="application/problem+json",
                                 body=json.dumps(exc.to_dict()), headers=exc.headers)

    app.add_error_handler(Problem, problem_handler)  # stand-in for the chassis app factory's
    client = app.test_client()

    assert client.get("/whoami").status_code == 401
    assert client.get("/whoami", headers={"Authorization": "Basic dTpw"}).status_code == 401

    seen.clear()
    response = client.get("/whoami", headers={"Authorization": f"Bearer {rsa_keys.token(sub='u-7')}"})
    assert response.status_code == 200
    assert response.json()["sub"] == "u-7"
    assert seen["user"] == "u-7" and seen["token_info"]["roles"] == ["supplier"]

    expired = client.get("/whoami", headers={"Authorization": f"Bearer {rsa_keys.token(exp_in=-100)}"})
    assert expired.status_code == 401
    assert expired.json()["code"] == "token_expired"
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    server.stop()
    verifier.jwks = JWKSCache(server.url, clock=clock)  # a new key set to fetch, from a JWKS now down
    down = client.get("/whoami", headers={"Authorization": f"Bearer {rsa_keys.token()}"})
    assert down.status_code == 503
