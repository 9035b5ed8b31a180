"""The gateway over real HTTP: routing, edge security, streaming, limits, resilience, cookies, CORS."""

from __future__ import annotations

import os

import pytest
import requests

from achats.gateway.app import gateway_view
from achats.gateway.routes import RULES, match

from gateway_support import running_gateway


@pytest.fixture(scope="module")
def edge():
    with running_gateway(cors_origins=("https://marches.example.fr",)) as running:
        yield running


def test_the_routing_table_sends_each_prefix_to_its_service():
    cases = {
        ("POST", "/api/identity/sessions"): ("identity", "/identity/sessions", "none"),
        ("GET", "/api/identity/me"): ("identity", "/identity/me", "required"),
        ("GET", "/api/companies/lookup/26570134200148"): ("company-registry", "/registry/lookup/26570134200148",
                                                          "none"),
        ("GET", "/api/companies/1234/documents"): ("company-registry", "/registry/companies/1234/documents",
                                                   "required"),
        ("GET", "/api/companies/search"): ("company-registry", "/registry/search", "none"),
        ("GET", "/api/companies/reference/legal-forms"): ("company-registry", "/registry/reference/legal-forms",
                                                          "none"),
        ("GET", "/api/companies/reference/naf-codes"): ("company-registry", "/registry/reference/naf-codes", "none"),
        ("POST", "/api/helpdesk/tickets"): ("helpdesk", "/helpdesk/tickets", "optional"),
        ("POST", "/api/signature/verifications"): ("signature", "/signature/verifications", "optional"),
        ("GET", "/api/notifier/deliveries"): ("notifier", "/notifier/deliveries", "required"),
        ("GET", "/api/consultations/consultations"): ("consultations", "/consultations/consultations", "optional"),
        ("GET", "/api/consultations/consultations/x/dce.zip"): (
            "consultations", "/consultations/consultations/x/dce.zip", "optional"),
    }
    for (method, path), (upstream, target, auth) in cases.items():
        rule = match(method, path)
        assert (rule.upstream, rule.upstream_path(path), rule.auth) == (upstream, target, auth), path
    # Public for reading only: anything else there is a company resource, behind a token.
    assert match("POST", "/api/companies/search").auth == "required"
    assert match("GET", "/api/identityx") is None
    assert match("GET", "/elsewhere") is None


def test_documentation_paths_are_rewritten_to_the_gateway_ones():
    spec = {"servers": [{"url": "/registry"}], "paths": {"/lookup/{number}": {}, "/companies/{company_id}": {},
                                                         "/admin/insee": {}, "/search": {},
                                                         "/reference/legal-forms": {}}}
    view = gateway_view(spec, "company-registry", RULES)
    assert set(view["paths"]) == {"/api/companies/lookup/{number}", "/api/companies/{company_id}",
                                  "/api/companies/admin/insee", "/api/companies/search",
                                  "/api/companies/reference/legal-forms"}


def test_authenticated_routes_need_a_valid_token_before_anything_is_forwarded(edge):
    before = len(edge.echo.seen)
    missing = requests.get(f"{edge.url}/api/echo/x")
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthenticated")
    assert missing.headers["content-type"] == "application/problem+json"
    forged = requests.get(f"{edge.url}/api/echo/x", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401
    assert len(edge.echo.seen) == before
    ok = requests.get(f"{edge.url}/api/echo/x?y=1", headers=edge.bearer())
    assert ok.status_code == 200
    seen = ok.json()
    assert (seen["path"], seen["query"]) == ("/svc/x", "y=1")
    assert seen["headers"]["authorization"].startswith("Bearer ")


def test_client_identity_headers_are_stripped_and_forwarding_headers_set(edge):
    response = requests.get(f"{edge.url}/api/echo/public", headers={
        "X-User-Id": "admin", "X-Forwarded-For": "6.6.6.6", "Forwarded": "for=6.6.6.6", "X-Roles": "platform_admin",
        "Connection": "X-Secret", "X-Secret": "hop", "X-Request-ID": "req-42",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    headers = response.json()["headers"]
    for name in ("x-user-id", "x-roles", "x-secret"):
        assert name not in headers
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["forwarded"].startswith('for="127.0.0.1"')
    assert headers["x-request-id"] == "req-42" == response.headers["x-request-id"]
    trace = headers["traceparent"].split("-")
    assert trace[1] == "0af7651916cd43dd8448eb211c80319c" and trace[2] != "b7ad6b7169203331"
    # Hop-by-hop headers of the answer stay on the upstream's side.
    assert "x-internal" not in {k.lower() for k in response.headers}
    assert "keep-alive" not in {k.lower() for k in response.headers}


def test_every_answer_carries_the_security_headers(edge):
    for response in (requests.get(f"{edge.url}/api/echo/public"), requests.get(f"{edge.url}/healthz"),
                     requests.get(f"{edge.url}/api/echo/x")):
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"


def test_optional_routes_accept_anonymous_calls_but_not_bad_tokens(edge):
    assert requests.get(f"{edge.url}/api/echo/optional").status_code == 200
    assert requests.get(f"{edge.url}/api/echo/optional", headers=edge.bearer()).status_code == 200
    assert requests.get(f"{edge.url}/api/echo/optional", headers={"Authorization": "Bearer x"}).status_code == 401


def test_bodies_over_the_route_limit_are_refused_without_reaching_the_service(edge):
    before = len(edge.echo.seen)
    declared = requests.post(f"{edge.url}/api/echo/x", data=b"x" * 2000, headers=edge.bearer())
    assert (declared.status_code, declared.json()["code"]) == (413, "payload_too_large")

    def chunks():
        for _ in range(4):
            yield b"y" * 1000

    streamed = requests.post(f"{edge.url}/api/echo/x", data=chunks(), headers=edge.bearer())
    assert streamed.status_code in (413, 502)  # refused while streaming: the service may have started reading
    assert len(edge.echo.seen) == before or edge.echo.seen[-1]["size"] < 4000


def test_large_uploads_and_downloads_are_streamed(edge):
    def chunks():
        for _ in range(30):
            yield b"z" * (1024 * 1024)

    upload = requests.post(f"{edge.url}/api/echo/upload", data=chunks())
    assert upload.status_code == 200
    assert upload.json()["size"] == 30 * 1024 * 1024
    download = requests.get(f"{edge.url}/api/echo/big", stream=True)
    assert sum(len(c) for c in download.iter_content(65536)) == 64 * 65536


def test_upstream_failures_are_french_problems_without_internals(edge):
    down = requests.get(f"{edge.url}/api/down/x")
    assert (down.status_code, down.json()["code"]) == (503, "service_unavailable")
    assert "127.0.0.1" not in down.text
    slow = requests.get(f"{edge.url}/api/echo/slow")
    assert (slow.status_code, slow.json()["code"]) == (504, "upstream_timeout")
    boom = requests.get(f"{edge.url}/api/echo/boom")
    assert (boom.status_code, boom.json()["code"]) == (502, "bad_gateway")
    assert "Traceback" not in boom.text and "secret" not in boom.text
    assert requests.get(f"{edge.url}/api/nowhere").json()["code"] == "not_found"


def test_circuit_breaker_opens_after_repeated_failures():
    with running_gateway() as gateway:
        codes = [requests.get(f"{gateway.url}/api/down/x").status_code for _ in range(7)]
        assert codes == [503] * 7
        upstream = requests.get(f"{gateway.url}/readyz").json()
        assert upstream["checks"]["down"] == "indisponible"


def test_sensitive_routes_are_rate_limited():
    with running_gateway(rate_sensitive_per_minute=5) as gateway:
        codes = [requests.post(f"{gateway.url}/api/echo/public", json={}).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5
        assert codes[5:] == [429, 429]
        limited = requests.post(f"{gateway.url}/api/echo/public", json={})
        assert limited.json()["code"] == "too_many_requests"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        # Routes that are not sensitive keep to the (higher) general limit.
        assert requests.get(f"{gateway.url}/api/echo/optional").status_code == 200


def test_rate_limits_are_shared_through_redis():
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is required for this test and does not answer at {url}: run scripts/ensure-services.sh "
                    "or set TEST_REDIS_URL.")
    with running_gateway(redis_url=url, rate_sensitive_per_minute=3) as first, \
            running_gateway(redis_url=url, rate_sensitive_per_minute=3) as second:
        # Two gateways (two workers) share the count: 2 + 2 requests cross the limit of 3.
        codes = [requests.post(f"{g.url}/api/echo/public", json={}).status_code for g in (first, second, first,
                                                                                            second)]
        assert codes.count(429) >= 1


def test_the_gateway_has_no_cookie_session_and_cookies_reach_only_the_pages(edge):
    """One browser session in the platform: the web front end's (issue 15). The gateway's own cookie
    session is gone, a cookie is never turned into a token, and only the pages get the cookies."""
    assert requests.post(f"{edge.url}/api/session/login", json={"login": "m", "password": "x"}).status_code == 404
    cookie = {"Cookie": "achats_session=opaque; achats_access=" + edge.keys.token({"sub": "user-1"})}
    assert requests.get(f"{edge.url}/api/echo/x", headers=cookie).status_code == 401
    api = requests.get(f"{edge.url}/api/echo/optional/x", headers=cookie)
    assert "cookie" not in api.json()["headers"]
    page = requests.get(f"{edge.url}/compte", headers=cookie)
    assert page.json()["headers"]["cookie"].startswith("achats_session=opaque")


def test_cors_allow_list(edge):
    allowed = requests.options(f"{edge.url}/api/echo/x", headers={
        "Origin": "https://marches.example.fr", "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://marches.example.fr"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    denied = requests.options(f"{edge.url}/api/echo/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert denied.status_code == 403
    simple = requests.get(f"{edge.url}/api/echo/public", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_headers_on_every_kind_of_answer(edge):
    origin = {"Origin": "https://marches.example.fr"}
    preflight = requests.options(f"{edge.url}/api/echo/x", headers={**origin, "Access-Control-Request-Method": "PUT",
                                                                    "Access-Control-Request-Headers": "Authorization"})
    assert preflight.status_code == 204 and preflight.content == b""
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["x-content-type-options"] == "nosniff"
    nameless = requests.options(f"{edge.url}/api/echo/x", headers={"Access-Control-Request-Method": "POST"})
    assert nameless.status_code == 403 and nameless.json()["code"] == "cors_denied"
    for answer in (requests.get(f"{edge.url}/api/echo/public", headers=origin),  # proxied
                   requests.get(f"{edge.url}/api/echo/x", headers=origin),  # the gateway's own 401 problem
                   requests.get(f"{edge.url}/healthz", headers=origin)):  # its own endpoint
        assert answer.headers["access-control-allow-origin"] == "https://marches.example.fr"
        assert "X-Request-ID" in answer.headers["access-control-expose-headers"]
        assert "Origin" in answer.headers["vary"]


def test_docs_and_probes(edge):
    docs = requests.get(f"{edge.url}/api/docs")
    assert docs.status_code == 200
    assert "swagger-ui-bundle.js" in docs.text
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert requests.get(f"{edge.url}/api/docs/static/swagger-ui.css").status_code == 200
    assert requests.get(f"{edge.url}/healthz").json() == {"status": "ok", "service": "gateway"}
    ready = requests.get(f"{edge.url}/readyz")
    assert ready.status_code == 503  # "down" is down
    assert ready.json()["checks"]["echo"] == "ok"
    assert 'route="echo"' in requests.get(f"{edge.url}/metrics").text


def test_pages_go_to_the_web_front_end_and_the_api_stays_the_api(edge):
    """Every path outside /api and the gateway's probes is a page of the web upstream (issue 15)."""
    for method, path in (("GET", "/"), ("GET", "/inscription?siret=1"), ("POST", "/connexion")):
        before = len(edge.echo.seen)
        answer = requests.request(method, f"{edge.url}{path}", data={"login": "x"} if method == "POST" else None)
        assert answer.status_code == 200, path
        seen = edge.echo.seen[before:]
        assert len(seen) == 1 and seen[0]["path"] == path.partition("?")[0] and seen[0]["method"] == method
        # No token is needed, none is invented, and the edge headers are there.
        assert "authorization" not in seen[0]["headers"]
        assert answer.headers["X-Frame-Options"] == "DENY"
    before = len(edge.echo.seen)
    unknown_api = requests.get(f"{edge.url}/api/nothing-here")
    assert (unknown_api.status_code, unknown_api.headers["Content-Type"]) == (404, "application/problem+json")
    assert requests.get(f"{edge.url}/healthz").json()["service"] == "gateway"
    assert len(edge.echo.seen) == before


def test_problems_through_the_gateway_name_the_public_path(edge):
    """Issue 13 item 16: a service's problem says ``instance: /svc/problem/...``; the client asked for
    ``/api/echo/problems/...`` and reads that, as it reads the gateway's paths in ``Location``."""
    answer = requests.get(f"{edge.url}/api/echo/problems/26570134200148?source=insee")
    assert (answer.status_code, answer.headers["content-type"]) == (404, "application/problem+json")
    problem = answer.json()
    assert problem["instance"] == "/api/echo/problems/26570134200148"
    assert problem["detail"] == "Cet établissement est introuvable."  # the rest untouched, accents kept
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert answer.headers["location"] == "/api/echo/public/1?x=y"
    # Another of the service's paths: by the route map; a path the gateway does not publish: dropped.
    other = requests.get(f"{edge.url}/api/echo/problems/x", params={"instance": "/svc/public/7"}).json()
    assert other["instance"] == "/api/echo/public/7"
    hidden = requests.get(f"{edge.url}/api/echo/problems/x", params={"instance": "/internal/admin",
                                                                     "location": "/internal/admin"})
    assert "instance" not in hidden.json() and "/internal" not in hidden.text
    assert hidden.headers["location"] == "/internal/admin"


def test_one_body_counter_streams_within_the_limit_and_stops_past_it():
    import asyncio

    from achats.gateway.proxy import BodyTooLarge, body_chunks

    def receiver(*parts: bytes):
        messages = [{"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
                    for index, part in enumerate(parts)]

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}
        return receive

    async def read(receive, limit: int) -> list[bytes]:
        return [chunk async for chunk in body_chunks(receive, limit)]

    assert asyncio.run(read(receiver(b"ab", b"", b"cd"), 4)) == [b"ab", b"cd"]  # exactly the limit
    with pytest.raises(BodyTooLarge):
        asyncio.run(read(receiver(b"ab", b"cde"), 4))
    assert asyncio.run(read(receiver(), 4)) == []
