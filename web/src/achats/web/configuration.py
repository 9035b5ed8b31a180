"""« Se préparer à répondre » → « Tester la configuration »: what the browser can check by itself.

The server checks what it sees without any script: the browser and its version from the user agent against
``SUPPORTED_BROWSERS`` (the list the « Pré-requis techniques » page states, kept here only), the request's scheme
(TLS, as the app sees it: it does not read X-Forwarded-Proto), the cookies (a cookie set, then read back after a
redirect) and a test file uploaded by a plain form (its size and the time the server took to receive it).
``configuration.js`` adds, without a reload, what only a script can tell: that JavaScript runs, the computer's
clock against the server's time written in the page, and the upload speed of a generated blob. The check of
« Mon Assistant Marchés Publics » (issue 18) is ``assistant.js``'s: with JavaScript it pairs with the assistant's
local server and shows its report (``POST /v1/report``) beside these checks.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import flask
from flask_babel import format_decimal
from flask_babel import gettext as _

from . import errors

blueprint = flask.Blueprint("configuration", __name__)

PAGE = "se-preparer-a-repondre"
COOKIE = "achats_essai_cookie"
# The computer's clock may differ from the server's by this much (seconds) before the page warns.
CLOCK_TOLERANCE_SECONDS = 60
# The blob configuration.js sends to measure the upload speed.
TEST_BLOB_BYTES = 1536 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Browser:
    name: str
    minimum: int
    # Tried by the automated tests at each version (web/tests, Debian's Chromium).
    tested: bool
    # The user agent's product tokens that name it (the first that matches wins, in SUPPORTED_BROWSERS' order).
    tokens: tuple[str, ...]


# The browsers the platform supports: the « Pré-requis techniques » page and the configuration test both read
# this list. Edge and Opera also write « Chrome/ »: Edge is listed before Chromium; Opera (« OPR/ ») is not listed.
SUPPORTED_BROWSERS = (
    Browser("Edge", 140, False, ("Edg",)),
    Browser("Chromium", 156, True, ("HeadlessChrome", "Chromium", "Chrome")),
    Browser("Firefox", 140, False, ("Firefox",)),
    Browser("Safari", 18, False, ("Version",)),
)
_NOT_LISTED = ("OPR", "SamsungBrowser", "YaBrowser", "MSIE", "Trident")


@dataclass(frozen=True)
class Check:
    status: str  # a DSFR badge: success, warning, error, info
    badge: str
    detail: str


def identify(user_agent: str) -> tuple[str, int | None, Browser | None]:
    """(name, major version, the supported browser it is) read from a user agent; an unknown one is
    ('', None, None)."""
    for token in _NOT_LISTED:
        found = re.search(rf"\b{token}[/ ]?(\d+)?", user_agent)
        if found:
            name = {"OPR": "Opera", "MSIE": "Internet Explorer", "Trident": "Internet Explorer"}.get(token, token)
            return name, int(found.group(1)) if found.group(1) else None, None
    for browser in SUPPORTED_BROWSERS:
        for product in browser.tokens:
            if product == "Version" and ("Safari/" not in user_agent or "Chrome/" in user_agent):
                continue
            found = re.search(rf"\b{product}/(\d+)", user_agent)
            if found:
                return browser.name, int(found.group(1)), browser
    return "", None, None


def browser_check(user_agent: str) -> Check:
    name, version, browser = identify(user_agent)
    if browser is None:
        seen = f"{name} {version or ''}".strip() if name else _("non reconnu")
        return Check("warning", _("Non pris en charge"),
                     _("Votre navigateur (%(navigateur)s) ne fait pas partie des navigateurs pris en charge "
                       "(voir les pré-requis techniques).", navigateur=seen))
    if version is None or version < browser.minimum:
        return Check("warning", _("Version ancienne"),
                     _("%(navigateur)s %(version)s est antérieur à la version minimale prise en charge "
                       "(%(minimum)s) : mettez votre navigateur à jour.",
                       navigateur=name, version=version or "?", minimum=browser.minimum))
    if browser.tested:
        return Check("success", _("Pris en charge"),
                     _("%(navigateur)s %(version)s : les pages sont essayées automatiquement avec ce navigateur.",
                       navigateur=name, version=version))
    return Check("success", _("Pris en charge"),
                 _("%(navigateur)s %(version)s : navigateur pris en charge, qui n’est pas essayé à chaque version.",
                   navigateur=name, version=version))


def tls_check(scheme: str) -> Check:
    if scheme == "https":
        return Check("success", _("Chiffrée"), _("La connexion à la plateforme est chiffrée (HTTPS)."))
    return Check("warning", _("Non chiffrée"),
                 _("Le serveur a reçu cette page sans chiffrement (HTTP) : utilisez l’adresse en https://."))


def cookies_check(enabled: bool) -> Check:
    if enabled:
        return Check("success", _("Activés"), _("Votre navigateur accepte les cookies de la plateforme."))
    return Check("error", _("Désactivés"),
                 _("Votre navigateur refuse les cookies de la plateforme : la connexion et les formulaires ne "
                   "fonctionnent pas sans eux. Autorisez les cookies pour ce site."))


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return _("%(n)s Mo", n=format_decimal(round(count / (1024 * 1024), 2)))
    if count >= 1024:
        return _("%(n)s ko", n=format_decimal(round(count / 1024, 1)))
    return _("%(n)s octets", n=format_decimal(count))


def upload_check(count: int, seconds: float) -> Check:
    speed = count / seconds if seconds > 0 else 0
    detail = _("%(taille)s reçus en %(duree)s s par le serveur (%(debit)s/s).", taille=_size(count),
               duree=format_decimal(round(seconds, 3)), debit=_size(int(speed)))
    return Check("success", _("Réussi"), detail)


@blueprint.before_app_request
def _start_clock() -> None:
    # Registered before the app's CSRF check, which reads the whole form: the upload's time starts here.
    if flask.request.endpoint == "configuration.upload":
        flask.g.upload_started = time.perf_counter()


def _render(upload: Check | None = None, upload_error: str | None = None, status: int = 200):
    from .signature_tools import assistant_texts  # here: signature_tools imports account, which imports this

    cookie_seen = COOKIE in flask.request.cookies
    user_agent = flask.request.headers.get("User-Agent", "")
    response = flask.make_response(flask.render_template(
        "configuration/index.html", page=PAGE, browser=browser_check(user_agent),
        tls=tls_check(flask.request.scheme), cookies=cookies_check(cookie_seen), upload=upload,
        upload_error=upload_error, server_time_ms=int(time.time() * 1000),
        clock_tolerance=CLOCK_TOLERANCE_SECONDS, blob_bytes=TEST_BLOB_BYTES, assistant=assistant_texts(),
        max_size=_size(errors.body_limit(flask.request.path))), status)
    return response


@blueprint.get("/se-preparer-a-repondre/tester-la-configuration")
def index():
    if COOKIE not in flask.request.cookies and "essai" not in flask.request.args:
        # Set, then read back on the next request: a browser that refuses cookies comes back without it.
        response = flask.redirect(flask.url_for("configuration.index", essai="cookies"), code=303)
        response.set_cookie(COOKIE, "1", httponly=True, samesite="Lax", path="/",
                            secure=flask.current_app.extensions["achats"].settings.cookie_secure)
        return response
    return _render()


@blueprint.post("/se-preparer-a-repondre/tester-la-configuration/envoi")
def upload():
    """Reads the test file and discards it; answers its size and the time it took to receive."""
    sent = flask.request.files.get("fichier")
    count = 0
    if sent is not None:
        while chunk := sent.stream.read(CHUNK):
            count += len(chunk)
    seconds = time.perf_counter() - flask.g.get("upload_started", time.perf_counter())
    wants_json = flask.request.accept_mimetypes.best == "application/json"
    if wants_json:
        return flask.jsonify(bytes=count, seconds=seconds)
    if not count:
        return _render(upload_error=_("Choisissez un fichier à envoyer."), status=422)
    return _render(upload=upload_check(count, seconds))
