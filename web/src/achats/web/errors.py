"""Error pages in French, in the design system, without internals (no trace, no exception text).

Also the pages of the errors the gateway answers for a page (issue 15 item 8): ``/erreur/<status>``, which the
gateway fetches (without cookies, so anonymous), caches a little while and serves with the status filled in;
and the chassis' own body limit, which refuses before Flask with problem+json, turned into this page for a
browser's navigation (``HtmlRefusals``)."""

from __future__ import annotations

import flask
import structlog
from flask_babel import ngettext
from werkzeug.exceptions import HTTPException

from achats.chassis.http import ServiceUnavailable
from achats.chassis.negotiation import prefers_html
from achats.chassis.observability import human_size

log = structlog.get_logger(__name__)

PAGES = {403, 404, 413, 429, 500, 502, 503, 504}
MB = 1024 * 1024
# What a page may receive, by address (the gateway's routes.PAGE_RULES say the same at the edge): the signature
# tools take the documents the signature service takes (50 MiB, with the form around them), the assistance its
# attachments (the helpdesk's 25 MB), every other page 12 MB (the vault's 10 Mo files). The app's body limit
# (``max_body_bytes``, the chassis' check of a declared length) is the largest of them.
PAGE_BODY_LIMITS = (("/outils-de-signature", 55 * MB), ("/assistance", 25 * MB))
DEFAULT_PAGE_BODY = 12 * MB


def body_limit(path: str) -> int:
    # « Répondre » to a consultation's lot: a deposit, the gateway's 60 MB cap of the consultations API (the
    # service takes more: its own limits answer in French beside the field).
    if path.startswith("/consultations/") and path.endswith("/repondre"):
        return 55 * MB
    for prefix, limit in PAGE_BODY_LIMITS:
        if path == prefix or path.startswith(prefix + "/"):
            return limit
    return DEFAULT_PAGE_BODY
# The errors the gateway answers for pages with this app's page (issue 15 item 8).
GATEWAY_PAGES = {413, 429, 502, 503, 504}

blueprint = flask.Blueprint("errors", __name__)


def render(status: int, limit: int | None = None, wait: int | None = None):
    template = f"errors/{status if status in PAGES else 'other'}.html"
    return flask.render_template(template, status=status, size=human_size(limit) if limit else None,
                                 wait=spoken_wait(wait) if wait else None), status


def spoken_wait(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d seconde", "%(num)d secondes", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)


@blueprint.get("/erreur/<int:status>")
def gateway_page(status: int):
    """The page of an error the gateway answers (its status filled in there): 200 here, never indexed.
    ``limite`` (bytes, 413) and ``attente`` (seconds, 429) are what the gateway knows of the refusal."""
    if status not in GATEWAY_PAGES:
        flask.abort(404)
    limit = flask.request.args.get("limite", type=int)
    wait = flask.request.args.get("attente", type=int)
    limit = limit if limit and 0 < limit <= 1 << 40 else None
    wait = wait if wait and 0 < wait <= 24 * 3600 else None
    response = flask.make_response(render(status, limit=limit, wait=wait)[0], 200)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def register(app: flask.Flask) -> None:
    app.register_blueprint(blueprint)
    for status in (400, 403, 404, 405, 500):
        app.register_error_handler(status, lambda exc: render(exc.code if isinstance(exc, HTTPException) else 500))
    app.request_class = type("PageRequest", (PageBodyLimit, app.request_class), {})
    app.register_error_handler(413, _too_large)

    @app.errorhandler(ServiceUnavailable)
    def service_down(exc: ServiceUnavailable):
        log.warning("web.service_unavailable", error=str(exc))
        return render(503)


class PageBodyLimit:
    """Of the app's request class: the body limit is the page's (Werkzeug applies it when the form is parsed,
    whoever parses it first: the CSRF check does, before any view)."""

    @property
    def max_content_length(self) -> int:
        return body_limit(self.path)


def _too_large(_exc):
    """Over the page's own limit (``body_limit``, read by Werkzeug when the form is parsed): the DSFR page for a
    browser's navigation; the problem, its French detail, for a script asking JSON (the vault's progress bar)."""
    limit = flask.request.max_content_length or DEFAULT_PAGE_BODY
    if prefers_html(flask.request.headers.get("Accept", "")):
        return render(413, limit=limit)
    detail = f"Le contenu envoyé dépasse la taille maximale autorisée ({human_size(limit)})."
    response = flask.jsonify({"type": "about:blank", "title": "Contenu trop volumineux", "status": 413,
                              "code": "payload_too_large", "detail": detail})
    response.status_code, response.mimetype = 413, "application/problem+json"
    response.headers["Connection"] = "close"
    return response


class HtmlRefusals:
    """ASGI, outside the chassis' body limit: that limit answers problem+json (413) before Flask sees the
    request; for a browser's navigation (a form posted without JavaScript) the answer becomes the DSFR page of
    ``/erreur/413``, rendered by Flask with the person's cookies, status 413. A script asking JSON (the vault's
    upload with a progress bar) keeps the problem and its French ``detail``."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"accept"), "")
        if not prefers_html(accept):
            await self.app(scope, receive, send)
            return
        refused = False

        async def watch(message: dict) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                kind = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
                if message["status"] == 413 and kind.startswith(b"application/problem+json"):
                    refused = True
                    return
            if not refused:
                await send(message)

        await self.app(scope, receive, watch)
        if refused:
            await self._page(scope, send)

    async def _page(self, scope: dict, send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", [])
                   if k.lower() not in (b"content-length", b"content-type", b"transfer-encoding")]
        page = {**scope, "method": "GET", "path": "/erreur/413", "raw_path": b"/erreur/413",
                "query_string": f"limite={self.limit}".encode(), "headers": headers, "extensions": {}}

        async def nothing() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def as_413(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": 413, "headers": [*message.get("headers", []),
                                                                   (b"connection", b"close")]}
            await send(message)

        await self.app(page, nothing, as_413)
