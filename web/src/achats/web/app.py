"""The composition root of the web front end: a Flask app of pages inside the chassis' app.

The chassis builds a connexion FlaskApp (Flask behind a2wsgi in its ASGI stack: request ids, JSON
logs, metrics, body limit, /healthz, /readyz, /metrics); its contract is empty and the pages are
plain Flask routes on that same Flask app, with HTML error pages instead of problem+json.
"""

from __future__ import annotations

import functools
from pathlib import Path

import flask
from flask_babel import Babel
from flask_compress import Compress

from achats.chassis.app import Runtime, create_app
from achats.chassis.observability import RequestContextMiddleware
from achats.chassis.service import ServiceDefinition

from . import (
    account,
    assets,
    assistance,
    assistance_request,
    backoffice,
    backoffice_admin,
    company,
    configuration,
    consultations,
    deps,
    errors,
    i18n,
    me,
    pages,
    registration,
    sessions,
    signature_tools,
    vault,
)
from .settings import WebSettings

HERE = Path(__file__).parent

# Our pages: scripts and styles only from our own files (no inline code anywhere in the templates).
CSP = ("default-src 'self'; img-src 'self' data:; font-src 'self'; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'none'; object-src 'none'")


def build_app(settings: WebSettings, runtime: Runtime):
    app = create_app(settings, spec=HERE / "openapi.yaml", runtime=runtime, api_module="achats.web.api")
    setup_flask(app.app, settings)
    # Outside the chassis' body limit (the first middleware after Starlette's error one): its problem+json 413
    # becomes the DSFR page for a browser's navigation (errors.HtmlRefusals).
    stack = app.middleware.middlewares
    chassis = next(i for i, m in enumerate(stack) if getattr(m, "func", m) is RequestContextMiddleware)
    stack.insert(chassis, functools.partial(errors.HtmlRefusals, limit=settings.max_body_bytes))
    if settings.trust_forwarded_proto:
        stack.insert(0, ForwardedProto)
    return app


class ForwardedProto:
    """ASGI: the scheme the gateway saw (its X-Forwarded-Proto: https or http), for the request's scheme."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            proto = next((v for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-proto"), None)
            if proto in (b"https", b"http"):
                scope = {**scope, "scheme": proto.decode()}
        await self.app(scope, receive, send)


def setup_flask(flask_app: flask.Flask, settings: WebSettings) -> None:
    dest = Path(settings.assets_dir) if settings.assets_dir else assets.DEFAULT_DEST
    node_modules = Path(settings.node_modules) if settings.node_modules else assets.DEFAULT_NODE_MODULES
    manifest = assets.ensure_built(dest, node_modules)
    flask_app.static_folder = None
    flask_app.config.update(
        SECRET_KEY=settings.secret_key,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        # Text, styles and scripts compressed (brotli first); fingerprinted files once, then from the cache.
        COMPRESS_MIMETYPES=["text/html", "text/css", "application/javascript", "text/javascript",
                            "image/svg+xml", "application/json"],
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_MIN_SIZE=500,
    )
    flask_app.jinja_env.autoescape = True
    flask_app.extensions["achats_assets"] = {"manifest": manifest, "dest": dest}
    Babel(flask_app, locale_selector=i18n.select_locale)
    Compress(flask_app)
    for blueprint in (pages.blueprint, account.blueprint, registration.blueprint, assistance.blueprint,
                      assistance_request.blueprint,
                      me.blueprint, company.blueprint, vault.blueprint, signature_tools.blueprint,
                      configuration.blueprint, consultations.blueprint, backoffice.blueprint,
                      backoffice_admin.blueprint):
        flask_app.register_blueprint(blueprint)
    errors.register(flask_app)

    @flask_app.before_request
    def check_csrf():
        if flask.request.method == "POST" and not sessions.csrf_valid():
            return flask.render_template("errors/csrf.html", status=403), 403
        return None

    flask_app.after_request(sessions.after_request)

    @flask_app.context_processor
    def layout_context() -> dict:
        return {"asset": lambda name: flask.url_for("pages.asset", name=manifest[name]),
                "current_locale": i18n.current_locale(), "other_locale": i18n.other_locale(),
                "faq_url": settings.faq_url, "csrf_token": sessions.csrf_token, "return_path": pages.return_path,
                "user": (sessions.current() or (None, None))[1]}

    # The pages' script may also reach « Mon Assistant Marchés Publics » on the loopback (issue 18), nothing else.
    csp = CSP.replace("connect-src 'self'", f"connect-src 'self' http://127.0.0.1:{settings.assistant_port}")

    @flask_app.after_request
    def page_headers(response: flask.Response) -> flask.Response:
        if flask.request.endpoint == "pages.asset":
            # The same bytes for everyone: no Vary: Cookie (a shared cache keeps one copy); a policy only for
            # what a browser may open as a document (an SVG can hold scripts).
            if response.mimetype == "image/svg+xml":
                response.headers.setdefault("Content-Security-Policy", csp)
            return response
        response.headers.setdefault("Content-Security-Policy", csp)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        response.vary.add("Cookie")
        return response


SERVICE = ServiceDefinition(
    name="web",
    port=8106,
    spec=HERE / "openapi.yaml",
    settings_class=WebSettings,
    migrations=HERE / "migrations",
    dependencies=deps.build,
    build_app=build_app,
    embedded={
        # A fixed key is fine on a developer's machine only; every other deployment sets its own.
        "SECRET_KEY": "embedded-mode-only-secret-key-for-make-run-000",
        "COOKIE_SECURE": "false",
        "ASSETS_DIR": "{var}/web-assets",
    },
)
