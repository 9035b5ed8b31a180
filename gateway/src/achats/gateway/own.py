"""The endpoints the gateway answers itself (probes, docs) as one Starlette app, and how it refuses there:
problem+json, or the built-in page for a browser on a page path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
import swagger_ui_bundle
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from achats.chassis.negotiation import prefers_html
from achats.chassis.problems import PROBLEM_JSON, Problem

from . import pages
from .routes import is_page

if TYPE_CHECKING:
    from .docs import Docs
    from .probes import Probes

log = structlog.get_logger(__name__)


def own_app(probes: Probes, docs: Docs, lifespan) -> Starlette:
    return Starlette(routes=[
        Route("/healthz", probes.healthz),
        Route("/readyz", probes.readyz),
        Route("/metrics", probes.metrics),
        Route("/api/platform", probes.platform),
        Route("/api/docs", docs.page),
        Route("/api/docs/specs/{name}.json", docs.spec),
        Route("/api/docs/achats-docs.js", docs.script),
        Route("/api/docs/swagger-config.json", docs.config),
        Mount("/api/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
    ], lifespan=lifespan, exception_handlers={StarletteHTTPException: _http_problem, Exception: _crash})


async def _http_problem(request: Request, exc: StarletteHTTPException) -> Response:
    return problem_response(Problem(status=exc.status_code), request)


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("gateway.unhandled_exception", path=request.url.path, exc_info=exc)
    return problem_response(Problem(status=500), request)


def problem_response(problem: Problem, request: Request) -> Response:
    if is_page(request.url.path) and prefers_html(request.headers.get("accept")):
        # A page path the gateway answers itself (no web front end behind it): the built-in page.
        return HTMLResponse(pages.builtin(problem.status), status_code=problem.status,
                            headers={**problem.headers, "Content-Security-Policy": pages.BUILTIN_CSP.decode()})
    return JSONResponse(problem.to_dict(instance=request.url.path), status_code=problem.status,
                        media_type=PROBLEM_JSON, headers=problem.headers)
