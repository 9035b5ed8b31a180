"""The gateway: one ASGI app in front of every service — the edge pipeline (routing, authentication, limits,
proxying, refusals as problems or pages) here; CORS in cors.py, its own endpoints in own.py (probes.py,
docs.py), the upstreams' client in proxy.py."""

from __future__ import annotations

import contextlib
from pathlib import Path

from achats.chassis import security
from achats.chassis.app import Runtime
from achats.chassis.logging import configure_logging
from achats.chassis.negotiation import prefers_html
from achats.chassis.observability import RequestContextMiddleware, _route
from achats.chassis.problems import Problem
from achats.chassis.service import ServiceDefinition

from . import auth, edge, pages, proxy, targets
from .cors import EdgeCORS
from .docs import Docs, gateway_view
from .own import own_app
from .probes import Probes
from .ratelimit import MemoryCounter, RateLimiter, RedisCounter, announced_wait, spoken_wait
from .routes import NONE, PAGE_RULES, REQUIRED, RULES, is_page, match, page_rule
from .settings import GatewaySettings

HERE = Path(__file__).parent


class Gateway:
    def __init__(self, settings: GatewaySettings, rules: list | None = None, page_rules: list | None = None,
                 verifier: security.TokenVerifier | None = None):
        self.settings = settings
        self.rules = rules if rules is not None else RULES
        self.page_rules = page_rules if page_rules is not None else PAGE_RULES
        self.upstreams: dict[str, proxy.Upstream] = {}
        for pair in settings.upstreams:
            name, _, url = pair.partition("=")
            self.upstreams[name.strip()] = proxy.Upstream(name.strip(), url.strip(),
                                                          pool_size=settings.upstream_pool_size,
                                                          connect_timeout=settings.upstream_connect_timeout)
        self.verified = auth.Verified(verifier) if verifier else None
        self.error_pages = pages.ErrorPages(self.upstreams.get("web"))
        counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
        self.limiter = RateLimiter(counter, per_ip=settings.rate_ip_per_minute,
                                   per_user=settings.rate_user_per_minute,
                                   sensitive_per_target=settings.rate_sensitive_per_minute,
                                   sensitive_per_address=settings.rate_sensitive_address_per_minute)
        self.probes = Probes(self.upstreams)
        self.docs = Docs(self.upstreams, self.rules)
        self.own = own_app(self.probes, self.docs, self.lifespan)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app):
        yield
        for upstream in self.upstreams.values():
            await upstream.close()

    # --- the proxy ------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.own(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rule = None
        try:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
                # The largest body anywhere, checked here (not by the chassis' middleware) so that a page
                # gets its HTML refusal too.
                raise proxy.too_large_bytes(self.settings.max_body_bytes)
            rule = match(scope["method"], scope["path"], self.rules)
            if rule is None and "web" in self.upstreams and is_page(scope["path"]):
                rule = page_rule(scope["path"], self.page_rules)
            if rule is None:
                await self.own(scope, receive, self._decorate(send, docs=scope["path"].startswith("/api/docs")))
                return
            scope.setdefault("extensions", {})["achats_route"] = rule.name
            await self._proxy(rule, scope, receive, send, headers)
        except Problem as problem:
            if is_page(scope["path"]) and prefers_html(headers.get("accept")):
                await self._send_page(send, problem, rule)
                return
            await edge.send_problem(send, problem, scope["path"])

    async def _send_page(self, send, problem: Problem, rule) -> None:
        """A refusal on a page for a browser: the web app's DSFR page (or the built-in one), the real status
        and the problem's headers (``Retry-After``); the API keeps problem+json."""
        limit = min(rule.max_body, self.settings.max_body_bytes) if rule is not None else self.settings.max_body_bytes
        retry = problem.headers.get("Retry-After", "")
        wait = int(retry) if problem.status == 429 and retry.isdigit() else None
        body, csp = await self.error_pages.page(problem.status, web_down=problem.code == "service_unavailable",
                                                limit=limit, wait=wait, spoken=spoken_wait(wait) if wait else None)
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store"),
                   *[(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]]
        await send({"type": "http.response.start", "status": problem.status,
                    "headers": edge.with_security_headers(headers, csp=csp)})
        await send({"type": "http.response.body", "body": body})

    def _decorate(self, send, docs: bool):
        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = edge.with_security_headers(list(message.get("headers", [])),
                                                                csp=edge.DOCS_CSP if docs else None)
            await send(message)

        return wrapped

    def _client(self, scope: dict, headers: dict) -> str:
        if self.settings.trust_forwarded_for and headers.get("x-forwarded-for"):
            return headers["x-forwarded-for"].split(",")[-1].strip()
        return (scope.get("client") or ("unknown", 0))[0]

    async def _proxy(self, rule, scope, receive, send, headers: dict) -> None:
        upstream = self.upstreams.get(rule.upstream)
        if upstream is None:
            raise Problem(status=503, code="service_unavailable",
                          detail="Ce service n'est pas disponible sur cette plateforme.")
        address = self._client(scope, headers)
        token = auth.bearer_of(headers)
        claims = None
        if rule.auth != NONE and token:
            claims = await self._verify(token)
        elif rule.auth == REQUIRED:
            raise Problem(status=401, code="unauthenticated",
                          detail="Vous devez être connecté pour accéder à cette ressource.",
                          headers={"WWW-Authenticate": "Bearer"})
        declared = headers.get("content-length")
        length = int(declared) if declared and declared.isdigit() else None
        named: tuple[str, ...] = ()
        if rule.sensitive and targets.wants_body(headers.get("content-type", "")):
            # The body names the account, e-mail or SIRET the request acts on: read it (it is small:
            # the route's limit holds while reading) and hand the same bytes on.
            body = await _read_body(receive, rule, length)
            named = targets.of_body(body, headers.get("content-type", ""))
            receive, length = _replay(body, receive), len(body)
        decision = await self.limiter.check(address=address, user=(claims or {}).get("sub"),
                                            sensitive=rule.sensitive, route=rule.name, targets=named)
        if not decision.allowed:
            raise _too_many(decision.retry_after)
        forwarded = proxy.upstream_headers(
            scope["headers"], client=address, proto=headers.get("x-forwarded-proto", scope.get("scheme", "http"))
            if self.settings.trust_forwarded_for else scope.get("scheme", "http"),
            host=headers.get("host", ""), authorization=f"Bearer {token}" if token else None,
            keep_cookies=rule.upstream == "web")
        await proxy.forward(upstream, rule, scope, receive, send, headers=forwarded, declared_length=length,
                            rules=self.rules)

    async def _verify(self, token: str) -> dict:
        if self.verified is None:
            raise Problem(status=503, code="authentication_unavailable",
                          detail="Le service d'authentification est momentanément indisponible.")
        return await self.verified.claims(token)

def _too_many(retry_after: int) -> Problem:
    wait = announced_wait(retry_after)
    return Problem(status=429, code="too_many_requests",
                   detail=f"Trop de demandes : réessayez dans {spoken_wait(wait)}.",
                   headers={"Retry-After": str(wait)})


async def _read_body(receive, rule, declared: int | None) -> bytes:
    proxy.check_declared(rule, declared)
    try:
        return b"".join([chunk async for chunk in proxy.body_chunks(receive, rule.max_body)])
    except proxy.BodyTooLarge:
        raise proxy.too_large(rule) from None


def _replay(body: bytes, receive):
    """An ASGI ``receive`` giving the body already read, then whatever the client sends next."""
    given = False

    async def again() -> dict:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def build_app(settings: GatewaySettings, runtime: Runtime, rules: list | None = None,
              page_rules: list | None = None):
    configure_logging(settings.log_level, settings.log_json)
    gateway = Gateway(settings, rules, page_rules, verifier=runtime.verifier)
    # MAX_BODY_BYTES is checked by the gateway itself (a page gets an HTML refusal): none here.
    return RequestContextMiddleware(
        EdgeCORS(gateway, settings.cors_origins), service="gateway", max_body_bytes=1 << 62, buffer_chunked=False,
        route_of=lambda scope: scope.get("extensions", {}).get("achats_route") or _route(scope))


SERVICE = ServiceDefinition(
    name="gateway",
    port=8080,
    settings_class=GatewaySettings,
    uses_database=False,
    build_app=build_app,
)

__all__ = ["SERVICE", "Gateway", "build_app", "gateway_view"]  # gateway_view: docs.py, named here too
