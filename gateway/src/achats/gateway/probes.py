"""The gateway's probes: alive, ready (every service's readiness), metrics, and the platform's services."""

from __future__ import annotations

import asyncio

import aiohttp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from achats.chassis.observability import metrics_payload

from . import proxy


class Probes:
    def __init__(self, upstreams: dict[str, proxy.Upstream]):
        self.upstreams = upstreams

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "gateway"})

    async def upstream_status(self) -> dict[str, str]:
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
        statuses = await self.upstream_status()
        ok = all(s == "ok" for s in statuses.values())
        return JSONResponse({"status": "ok" if ok else "indisponible", "checks": statuses},
                            status_code=200 if ok else 503)

    async def metrics(self, _request: Request) -> Response:
        payload, content_type = metrics_payload()
        return Response(payload, media_type=content_type)

    async def platform(self, _request: Request) -> Response:
        statuses = await self.upstream_status()
        services = [{"name": name, "url": self.upstreams[name].base_url, "status": status}
                    for name, status in statuses.items()]
        return JSONResponse({"name": "Plateforme des achats", "services": services})
