"""`/api/docs`: one Swagger UI listing every service's contract as seen through the gateway (paths rewritten
to the public ones); the list names only the contracts their service publishes now."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from achats.chassis.problems import Problem

from . import proxy
from .own import problem_response
from .routes import DOCS, RULES, public_path

HERE = Path(__file__).parent


class Docs:
    def __init__(self, upstreams: dict[str, proxy.Upstream], rules: list):
        self.upstreams, self.rules = upstreams, rules

    async def page(self, _request: Request) -> Response:
        return HTMLResponse((HERE / "docs.html").read_text(encoding="utf-8"))

    async def script(self, _request: Request) -> Response:
        script = ("window.ui = SwaggerUIBundle({configUrl: '/api/docs/swagger-config.json', dom_id: '#swagger-ui', "
                  "presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'});")
        return Response(script, media_type="application/javascript")

    async def config(self, _request: Request) -> Response:
        """The contracts the page lists: those their service publishes now (a service may not publish
        its contract, ``EXPOSE_DOCS=false``; a service may be down): every entry opens."""
        names = [name for name, service, _ in DOCS if service in self.upstreams]
        fetched = await asyncio.gather(*(self._contract(name) for name in names))
        urls = [{"url": f"/api/docs/specs/{name}.json", "name": name}
                for name, (spec, _) in zip(names, fetched, strict=True) if spec is not None]
        return JSONResponse({"urls": urls})

    async def spec(self, request: Request) -> Response:
        spec, problem = await self._contract(request.path_params["name"])
        if problem is not None:
            return problem_response(problem, request)
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
