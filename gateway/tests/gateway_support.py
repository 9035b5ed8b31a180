"""Upstreams for the gateway tests: an echo service and an identity speaking identity's HTTP contract."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from achats.chassis.testing.keys import TestKeys
from achats.chassis.testing.server import serving
from achats.gateway.app import SERVICE, build_app
from achats.gateway.routes import NONE, OPTIONAL, REQUIRED, Rule

ISSUER, AUDIENCE = "http://localhost:8080/identity", "achats"


@dataclass
class Echo:
    """Records what reached it; answers with what it received."""

    seen: list[dict] = field(default_factory=list)
    error_pages: list[str] = field(default_factory=list)  # the web app's /erreur/<status> pages fetched

    def app(self) -> Starlette:
        async def echo(request: Request) -> Response:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
            record = {"method": request.method, "path": request.url.path, "query": request.url.query,
                      "headers": dict(request.headers), "size": size}
            self.seen.append(record)
            return JSONResponse(record, headers={"Connection": "close, X-Internal", "X-Internal": "secret",
                                                 "Keep-Alive": "timeout=5"})

        async def slow(_request: Request) -> Response:
            await asyncio.sleep(3)
            return JSONResponse({})

        async def boom(_request: Request) -> Response:
            return Response("Traceback (most recent call last): secret", status_code=500)

        async def readyz(_request: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def problem(request: Request) -> Response:
            # A service's problem document: its own path as instance (or the one asked for), and a
            # Location in its own paths too.
            body = {"type": "https://achats.example/problems/not-found", "title": "Ressource introuvable",
                    "status": 404, "detail": "Cet établissement est introuvable.", "code": "not_found",
                    "instance": request.query_params.get("instance", request.url.path)}
            return JSONResponse(body, status_code=404, media_type="application/problem+json",
                                headers={"Location": request.query_params.get("location", "/svc/public/1?x=y")})

        async def error_page(request: Request) -> Response:
            # The web front end's page of an error the gateway answers (web/errors.py): 200, the gateway
            # fills in the status.
            status, query = request.path_params["status"], request.url.query
            self.error_pages.append(f"{request.url.path}?{query}")
            page = (f'<!doctype html><html lang="fr"><head><title>Page du web {status}</title></head><body>'
                    f'<main><h1>Page DSFR {status}</h1><p>{query}</p><a href="/">Page d’accueil</a></main></body>'
                    "</html>")
            return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'self'"})

        async def web_page_down(_request: Request) -> Response:
            # The web front end's own 503 page (a service behind it down): a DSFR page, no internals.
            return HTMLResponse("<h1>Service indisponible</h1><p>Page du web</p>", status_code=503)

        async def big(_request: Request) -> Response:
            async def chunks():
                for _ in range(64):
                    yield b"x" * 65536

            return StreamingResponse(chunks(), media_type="application/octet-stream")

        return Starlette(routes=[Route("/readyz", readyz), Route("/svc/slow", slow), Route("/svc/boom", boom),
                                 Route("/svc/big", big), Route("/svc/problem/{rest:path}", problem),
                                 Route("/svc/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
                                 Route("/erreur/{status:int}", error_page), Route("/en-panne", web_page_down),
                                 Route("/plantage", boom), Route("/lent/{rest:path}", slow),
                                 # The web front end's pages: any other path.
                                 Route("/{rest:path}", echo, methods=["GET", "POST"])])


class Identity:
    """Identity's HTTP contract for sessions: tokens signed with test keys, refresh tokens single use."""

    def __init__(self, keys: TestKeys):
        self.keys = keys
        self.refresh_tokens: dict[str, int] = {}
        self.counter = 0
        self.access_ttl = 300

    def tokens(self) -> dict:
        self.counter += 1
        refresh = f"refresh-{self.counter}"
        self.refresh_tokens[refresh] = self.counter
        access = self.keys.token({"sub": "user-1", "roles": ["supplier"], "company_id": "c-1",
                                  "name": "Marie Curie", "email": "m@example.fr"}, exp_in=self.access_ttl)
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.access_ttl,
                "refresh_token": refresh, "refresh_expires_in": 1800}

    def app(self) -> Starlette:
        async def login(request: Request) -> Response:
            body = await request.json()
            if body.get("password") != "le bon mot de passe":
                return JSONResponse({"status": 401, "code": "invalid_credentials",
                                     "detail": "Identifiant ou mot de passe incorrect."}, status_code=401,
                                    media_type="application/problem+json")
            return JSONResponse(self.tokens())

        async def refresh(request: Request) -> Response:
            token = (await request.json()).get("refresh_token")
            if self.refresh_tokens.pop(token, None) is None:
                return JSONResponse({"status": 401, "code": "refresh_token_invalid", "detail": "Session expirée."},
                                    status_code=401, media_type="application/problem+json")
            return JSONResponse(self.tokens())

        async def logout(request: Request) -> Response:
            self.refresh_tokens.pop((await request.json()).get("refresh_token"), None)
            return Response(status_code=204)

        async def jwks(_request: Request) -> Response:
            return JSONResponse(self.keys.jwks())

        async def readyz(_request: Request) -> Response:
            return JSONResponse({"status": "ok"})

        return Starlette(routes=[Route("/identity/sessions", login, methods=["POST"]),
                                 Route("/identity/sessions/refresh", refresh, methods=["POST"]),
                                 Route("/identity/sessions/logout", logout, methods=["POST"]),
                                 Route("/identity/.well-known/jwks.json", jwks), Route("/readyz", readyz)])


RULES = [
    Rule("public", "/api/echo/public", "echo", "/svc/public", auth=NONE, sensitive=True),
    Rule("optional", "/api/echo/optional", "echo", "/svc/optional", auth=OPTIONAL),
    Rule("slow", "/api/echo/slow", "echo", "/svc/slow", auth=NONE, timeout=0.5),
    Rule("boom", "/api/echo/boom", "echo", "/svc/boom", auth=NONE),
    Rule("big", "/api/echo/big", "echo", "/svc/big", auth=NONE),
    Rule("problem", "/api/echo/problems", "echo", "/svc/problem", auth=NONE),
    Rule("upload", "/api/echo/upload", "echo", "/svc/upload", auth=NONE, max_body=40 * 1024 * 1024),
    Rule("echo", "/api/echo", "echo", "/svc", auth=REQUIRED, max_body=1024),
    Rule("down", "/api/down", "down", "/svc", auth=NONE),
]


@dataclass
class Edge:
    url: str
    echo: Echo
    identity: Identity
    keys: TestKeys

    def bearer(self, **claims) -> dict:
        token = self.keys.token({"sub": "user-1", "roles": ["supplier"], **claims})
        return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def running_gateway(web: str | None = None, page_rules: list | None = None, **settings) -> Iterator[Edge]:
    keys = TestKeys("EC", issuer=ISSUER, audience=AUDIENCE)
    echo, identity = Echo(), Identity(keys)
    with serving(echo.app()) as echo_url, serving(identity.app()) as identity_url:
        config = SERVICE.load_settings({}, **{
            "upstreams": (f"echo={echo_url}", f"identity={identity_url}", "down=http://127.0.0.1:1",
                          f"web={web or echo_url}"),
            "jwks_url": f"{identity_url}/identity/.well-known/jwks.json", "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE, "log_json": True, **settings})
        app = build_app(config, SERVICE.runtime(config), rules=RULES, page_rules=page_rules)
        with serving(app) as gateway_url:
            yield Edge(gateway_url, echo, identity, keys)
