"""The gateway: one ASGI app in front of every service (edge security, limits, resilience, docs)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import structlog
import swagger_ui_bundle
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from achats.chassis import security
from achats.chassis.app import Runtime
from achats.chassis.logging import configure_logging
from achats.chassis.negotiation import prefers_html
from achats.chassis.observability import RequestContextMiddleware, _route, metrics_payload
from achats.chassis.problems import PROBLEM_JSON, Problem
from achats.chassis.service import ServiceDefinition

from . import auth, edge, pages, proxy, targets
from .cors import EdgeCORS
from .ratelimit import MemoryCounter, RateLimiter, RedisCounter, announced_wait, spoken_wait
from .routes import DOCS, NONE, PAGE_RULES, REQUIRED, RULES, is_page, match, page_rule, public_path
from .settings import GatewaySettings

log = structlog.get_logger(__name__)
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
        self.own = Starlette(routes=[
            Route("/healthz", self.healthz),
            Route("/readyz", self.readyz),
            Route("/metrics", self.metrics),
            Route("/api/platform", self.platform),
            Route("/api/docs", self.docs),
            Route("/api/docs/specs/{name}.json", self.docs_spec),
            Route("/api/docs/achats-docs.js", self.docs_script),
            Route("/api/docs/swagger-config.json", self.docs_config),
            Mount("/api/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
        ], lifespan=self.lifespan, exception_handlers={StarletteHTTPException: _http_problem, Exception: _crash})

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

    # --- own endpoints ------------------------------------------------------------------------------

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "gateway"})

    async def _upstream_status(self) -> dict[str, str]:
        async def one(upstream: proxy.Upstream) -> str:
            try:
                async with upstream.session.get(upstream.base_url + "/readyz",
                                                timeout=aiohttp.ClientTimeout(total=2)) as response:
                    return "ok" if response.status == 200 else "indisponible"
            except (TimeoutError, aiohttp.ClientError):
                return "indisponible"

        names = list(self.upstreams)
        statuses = await asyncio.gather(*(one(self.upstreams[n]) for n in names))
        return dict(zip(names, statuses, strict=True))

    async def readyz(self, _request: Request) -> Response:
        statuses = await self._upstream_status()
        ok = all(s == "ok" for s in statuses.values())
        return JSONResponse({"status": "ok" if ok else "indisponible", "checks": statuses},
                            status_code=200 if ok else 503)

    async def metrics(self, _request: Request) -> Response:
        payload, content_type = metrics_payload()
        return Response(payload, media_type=content_type)

    async def platform(self, _request: Request) -> Response:
        statuses = await self._upstream_status()
        services = [{"name": name, "url": self.upstreams[name].base_url, "status": status}
                    for name, status in statuses.items()]
        return JSONResponse({"name": "Plateforme des achats", "services": services})

    async def docs(self, _request: Request) -> Response:
        return HTMLResponse((HERE / "docs.html").read_text(encoding="utf-8"))

    async def docs_script(self, _request: Request) -> Response:
        script = ("window.ui = SwaggerUIBundle({configUrl: '/api/docs/swagger-config.json', dom_id: '#swagger-ui', "
                  "presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'});")
        return Response(script, media_type="application/javascript")

    async def docs_config(self, _request: Request) -> Response:
        """The contracts the page lists: those their service publishes now (a service may not publish
        its contract, ``EXPOSE_DOCS=false``; a service may be down): every entry opens."""
        names = [name for name, service, _ in DOCS if service in self.upstreams]
        fetched = await asyncio.gather(*(self._contract(name) for name in names))
        urls = [{"url": f"/api/docs/specs/{name}.json", "name": name}
                for name, (spec, _) in zip(names, fetched, strict=True) if spec is not None]
        return JSONResponse({"urls": urls})

    async def docs_spec(self, request: Request) -> Response:
        spec, problem = await self._contract(request.path_params["name"])
        if problem is not None:
            return _problem(problem, request)
        return JSONResponse(spec)

    async def _contract(self, name: str) -> tuple[dict | None, Problem | None]:
        """A service's contract as seen through the gateway, or the problem why it cannot be shown."""
        found = next(((service, path) for n, service, path in DOCS if n == name), None)
        if found is None or found[0] not in self.upstreams:
            return None, Problem(status=404, code="not_found", detail="Cette documentation n'existe pas.")
        service, path = found
        upstream = self.upstreams[service]
        try:
            async with upstream.session.get(upstream.base_url + path,
                                            timeout=aiohttp.ClientTimeout(total=5)) as response:
                if response.status == 404:
                    return None, Problem(status=404, code="not_found",
                                         detail=f"Le service {service} ne publie pas sa documentation sur cette "
                                                "plateforme.")
                if response.status != 200:
                    raise ValueError(response.status)
                spec = await response.json(content_type=None)
                if not isinstance(spec, dict):
                    raise ValueError("not a contract")
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None, Problem(status=503, code="service_unavailable",
                                 detail=f"Le service {service} est momentanément indisponible.")
        return gateway_view(spec, service, self.rules), None


def gateway_view(spec: dict, service: str, rules: list = RULES) -> dict:
    """A service's contract as seen through the gateway: paths rewritten to the public ones."""
    base = (spec.get("servers") or [{"url": ""}])[0].get("url", "").rstrip("/")
    paths = {}
    for path, operations in (spec.get("paths") or {}).items():
        public = public_path(base + path, service, rules)
        if public is not None:
            paths[public] = operations
    return {**spec, "servers": [{"url": "/"}], "paths": paths}


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


async def _http_problem(request: Request, exc: StarletteHTTPException) -> Response:
    return _problem(Problem(status=exc.status_code), request)


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("gateway.unhandled_exception", path=request.url.path, exc_info=exc)
    return _problem(Problem(status=500), request)


def _problem(problem: Problem, request: Request) -> Response:
    if is_page(request.url.path) and prefers_html(request.headers.get("accept")):
        # A page path the gateway answers itself (no web front end behind it): the built-in page.
        return HTMLResponse(pages.builtin(problem.status), status_code=problem.status,
                            headers={**problem.headers, "Content-Security-Policy": pages.BUILTIN_CSP.decode()})
    return JSONResponse(problem.to_dict(instance=request.url.path), status_code=problem.status,
                        media_type=PROBLEM_JSON, headers=problem.headers)


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
