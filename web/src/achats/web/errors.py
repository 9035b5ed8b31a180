"""Error pages in French, in the design system, without internals (no trace, no exception text)."""

from __future__ import annotations

import flask
import structlog
from werkzeug.exceptions import HTTPException

from achats.chassis.http import ServiceUnavailable

log = structlog.get_logger(__name__)

PAGES = {403, 404, 500, 503}


def render(status: int):
    template = f"errors/{status if status in PAGES else 'other'}.html"
    return flask.render_template(template, status=status), status


def register(app: flask.Flask) -> None:
    for status in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(status, lambda exc: render(exc.code if isinstance(exc, HTTPException) else 500))

    @app.errorhandler(ServiceUnavailable)
    def service_down(exc: ServiceUnavailable):
        log.warning("web.service_unavailable", error=str(exc))
        return render(503)
